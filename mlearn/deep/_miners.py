"""Triplet miners: batch-all, batch-hard and semi-hard.

A miner is called as ``miner(embeddings, labels)`` and returns ``(a, p, n)``
index tensors for :class:`~mlearn.deep.TripletMarginLoss` (or any pair-based
loss, which uses the pairs the triplets contain). Mining runs without gradient,
chunked over anchors, so its working memory is O(B²); its output holds one
entry per mined triplet.
"""

import torch

from mlearn.deep._losses import (
    _TRIPLET_CHUNK,
    _cosine_matrix,
    _distance_from_cosine,
    _label_masks,
)

__all__ = ["BatchAllMiner", "BatchHardMiner", "SemiHardMiner", "TripletMiner"]


class TripletMiner:
    """Base class: distances on L2-normalised embeddings, as in the losses."""

    def __call__(self, embeddings, labels):
        with torch.no_grad():
            D = _distance_from_cosine(_cosine_matrix(embeddings.detach()))
            pos, neg = _label_masks(labels)
            return self._mine(D, pos, neg)

    def _mine(self, D, pos, neg):  # pragma: no cover
        raise NotImplementedError

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


def _triplets_where(D, pos, neg, keep):
    """All valid ``(a, p, n)`` with ``keep(d_ap - d_an)``, chunked over anchors."""
    B = D.shape[0]
    chunk = max(1, _TRIPLET_CHUNK // max(B * B, 1))
    found = []
    for start in range(0, B, chunk):
        stop = min(start + chunk, B)
        Dc = D[start:stop]
        valid = pos[start:stop, :, None] & neg[start:stop, None, :]
        valid &= keep(Dc[:, :, None] - Dc[:, None, :])
        a, p, n = torch.nonzero(valid, as_tuple=True)
        found.append((a + start, p, n))
    return tuple(torch.cat(parts) for parts in zip(*found))


class BatchAllMiner(TripletMiner):
    """Every triplet that violates the margin: :math:`d_{ap} - d_{an} + m > 0`.

    Parameters
    ----------
    margin : float, default=0.2
    """

    def __init__(self, margin=0.2):
        self.margin = margin

    def _mine(self, D, pos, neg):
        return _triplets_where(D, pos, neg, lambda z: z + self.margin > 0)


class SemiHardMiner(TripletMiner):
    """Semi-hard triplets (Schroff et al., 2015): :math:`d_{ap} < d_{an} \\le
    d_{ap} + m` — negatives farther than the positive but inside the margin.

    Returns all of them, as pytorch-metric-learning's
    ``TripletMarginMiner(type_of_triplets="semihard")`` does.

    Parameters
    ----------
    margin : float, default=0.2
    """

    def __init__(self, margin=0.2):
        self.margin = margin

    def _mine(self, D, pos, neg):
        return _triplets_where(D, pos, neg,
                               lambda z: (z < 0) & (z >= -self.margin))


class BatchHardMiner(TripletMiner):
    """One triplet per anchor: its farthest positive and nearest negative
    (Hermans et al., 2017). Anchors without a positive or a negative are skipped.
    """

    def _mine(self, D, pos, neg):
        inf = torch.finfo(D.dtype).max
        d_pos = torch.where(pos, D, torch.full_like(D, -inf))
        d_neg = torch.where(neg, D, torch.full_like(D, inf))
        p = d_pos.argmax(dim=1)
        n = d_neg.argmin(dim=1)
        a = torch.nonzero(pos.any(dim=1) & neg.any(dim=1)).flatten()
        return a, p[a], n[a]


#: Miner names accepted by ``DeepMetricEmbedding(miner=...)``.
MINERS = {
    "batch_all": BatchAllMiner,
    "batch_hard": BatchHardMiner,
    "semi_hard": SemiHardMiner,
}
