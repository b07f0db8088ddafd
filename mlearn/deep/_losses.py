"""Metric-learning losses on pairs and tuples, as small ``torch.nn.Module``s
(the losses with class weights or proxies are in ``_class_losses``).

Every loss is called as ``loss(embeddings, labels, indices_tuple=None)`` and
returns a scalar. ``embeddings`` is the raw output of the network, shape
``(B, D)``; losses that work on the unit sphere normalise inside. Conventions
follow pytorch-metric-learning 2.9 where it implements the same loss, so values
agree for the same parameters; differences from the papers are listed in each
docstring.

Pair-based losses (contrastive, lifted structure, multi-similarity) and the
triplet loss accept mined ``indices_tuple`` values: ``(a, p, n)`` triplets or
``(a1, p, a2, n)`` pairs. A pair-based loss given mined tuples uses the *set*
of pairs they contain, each pair once; pytorch-metric-learning counts a pair
once per triplet containing it, so with mined triplets the contrastive and
lifted-structure values differ from PML's (without a miner they agree).

Every loss here runs in O(B²) memory: nothing builds a ``B×B×B`` tensor (the
all-triplet loss is chunked over anchors inside a custom autograd function,
or, with many positives per anchor, counts and sums the active negatives of
each positive pair from the anchor's sorted negative distances).
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "ContrastiveLoss",
    "LiftedStructureLoss",
    "MetricLoss",
    "MultiSimilarityLoss",
    "NPairsLoss",
    "TripletMarginLoss",
]

# Squared distances below this are clipped so that sqrt has a finite gradient.
_SQ_EPS = 1e-12
# Elements of a chunk of triplets (anchors x positives x B) in the all-triplet
# loss and (anchors x B x B) in the miners.
_TRIPLET_CHUNK = 1 << 22
# Above this many positives per anchor the all-triplet hinge loss sorts each
# anchor's negatives (O(B² log B)) instead of comparing every (p, n) (O(B² P));
# on one CPU thread the two cost the same near P = 9 at B = 128
# (benchmarks/bench_deep.py --triplet-step).
_SORTED_MIN_POSITIVES = 8


def _normalize(x):
    return F.normalize(x, p=2, dim=-1, eps=1e-12)


def _cosine_matrix(x, y=None):
    xn = _normalize(x)
    yn = xn if y is None else _normalize(y)
    return xn @ yn.T


def _distance_from_cosine(s):
    """Euclidean distance between unit vectors: ``sqrt(2 - 2 s)``."""
    return torch.sqrt(torch.clamp(2.0 - 2.0 * s, min=_SQ_EPS))


def _label_masks(labels):
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(labels.shape[0], dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def _pair_masks(labels, indices_tuple):
    """Positive / negative ``B×B`` masks, from all pairs or from mined indices."""
    if indices_tuple is None:
        return _label_masks(labels)
    B = labels.shape[0]
    pos = torch.zeros(B, B, dtype=torch.bool, device=labels.device)
    neg = torch.zeros_like(pos)
    if len(indices_tuple) == 3:
        a, p, n = indices_tuple
        a1, a2 = a, a
    elif len(indices_tuple) == 4:
        a1, p, a2, n = indices_tuple
    else:
        raise ValueError(
            f"indices_tuple must hold 3 (triplets) or 4 (pairs) index tensors, got "
            f"{len(indices_tuple)}."
        )
    pos[a1, p] = True
    neg[a2, n] = True
    return pos, neg


def _mean_nonzero(values):
    nonzero = values > 0
    count = nonzero.sum()
    if count == 0:
        return values.sum() * 0.0
    return values.sum() / count


class MetricLoss(nn.Module):
    """Base class: ``forward(embeddings, labels, indices_tuple=None)`` → scalar.

    ``needs_classes`` marks losses built with ``n_classes`` and
    ``embedding_dim`` as their first arguments (proxies or class weights);
    ``accepts_miner`` those that use mined ``indices_tuple`` values.
    """

    needs_classes = False
    accepts_miner = False

    def forward(self, embeddings, labels, indices_tuple=None):  # pragma: no cover
        raise NotImplementedError


class ContrastiveLoss(MetricLoss):
    r"""Contrastive loss (Hadsell, Chopra & LeCun, 2006).

    .. math::
        L = \operatorname{mean}_{>0}\,[d_{ij} - m_+]_+ \;+\;
            \operatorname{mean}_{>0}\,[m_- - d_{ij}]_+

    over ordered positive pairs (first term) and negative pairs (second), with
    :math:`d` the Euclidean distance of L2-normalised embeddings; each term is
    averaged over its nonzero entries. As in pytorch-metric-learning the hinges
    are linear; Hadsell et al. use :math:`\tfrac12 d^2` and
    :math:`\tfrac12[m - d]_+^2` on unnormalised features (``power=2`` gives the
    squared hinges, without the ½).

    Parameters
    ----------
    pos_margin : float, default=0.0
    neg_margin : float, default=1.0
    power : float, default=1.0
        Exponent applied to both hinges.
    """

    accepts_miner = True

    def __init__(self, pos_margin=0.0, neg_margin=1.0, power=1.0):
        super().__init__()
        self.pos_margin = pos_margin
        self.neg_margin = neg_margin
        self.power = power

    def forward(self, embeddings, labels, indices_tuple=None):
        pos, neg = _pair_masks(labels, indices_tuple)
        d = _distance_from_cosine(_cosine_matrix(embeddings))
        pos_terms = F.relu(d[pos] - self.pos_margin) ** self.power
        neg_terms = F.relu(self.neg_margin - d[neg]) ** self.power
        return _mean_nonzero(pos_terms) + _mean_nonzero(neg_terms)


def _accumulation_dtype(x):
    # float64 where the device has it: the sorted prefix sums below subtract
    # sums of up to B distances, which float32 would round to ~1e-5.
    return x.dtype if x.device.type == "mps" else torch.float64


def _all_triplets_hinge(D, pos, neg, margin):
    r"""Mean over the nonzero ``[D_ap - D_an + m]_+`` of every valid triplet.

    Per anchor, the terms of a positive ``p`` are nonzero for the negatives
    with ``D_an < D_ap + m``: with the anchor's negative distances sorted, their
    number ``k_ap`` is a ``searchsorted`` and their sum a prefix sum, so

    .. math::
        \sum_{n} [D_{ap} - D_{an} + m]_+ = k_{ap} (D_{ap} + m)
        - \sum_{r < k_{ap}} D^{\uparrow}_{a, r}

    in O(B² log B) time and O(B²) memory. Autograd through the sort and the
    gather gives the hinge's gradient: ``k_ap / K`` on ``D_ap`` and minus the
    number of active positives on ``D_an``, with ``K = sum k_ap``.
    """
    B = D.shape[0]
    Dd = D.to(_accumulation_dtype(D))
    inf = torch.full_like(Dd, math.inf)
    neg_sorted = torch.sort(torch.where(neg, Dd, inf), dim=1).values
    threshold = Dd + margin
    k = torch.searchsorted(neg_sorted.detach(), threshold.detach())
    k = torch.where(pos, k, torch.zeros_like(k))
    finite = torch.where(torch.isinf(neg_sorted), torch.zeros_like(neg_sorted),
                         neg_sorted)
    prefix = torch.cat([finite.new_zeros(B, 1), torch.cumsum(finite, dim=1)], dim=1)
    total = (k * threshold).sum() - prefix.gather(1, k).sum()
    count = k.sum()
    return (total / count.clamp(min=1)).to(D.dtype)


class _PackedTripletsFromDistances(torch.autograd.Function):
    """Mean over the nonzero hinge (or softplus) terms of every valid triplet,
    from ``D`` alone, in O(B² P) time for ``P = max_a |P_a|`` positives.

    Each anchor's positives are packed into the leading ``P`` columns (``P`` is
    ``m - 1`` with an m-per-class sampler), so a chunk of ``c`` anchors holds
    ``c×P×B`` temporaries. The loss depends on the ``B×B`` distance matrix
    only: the forward pass accumulates the gradient with respect to ``D`` chunk
    by chunk and the backward pass returns it, so memory stays O(B²) whatever
    ``B``.
    """

    @staticmethod
    def forward(ctx, D, pos, neg, margin, smooth):
        B = D.shape[0]
        P = max(int(pos.sum(dim=1).max()), 1)
        # stable descending sort of the mask: each row's positives come first
        order = torch.argsort(pos.to(torch.int8), dim=1, descending=True,
                              stable=True)[:, :P]
        pos_packed = pos.gather(1, order)
        D_pos = D.gather(1, order)
        chunk = max(1, _TRIPLET_CHUNK // max(P * B, 1))
        total = D.new_zeros(())
        count = D.new_zeros(())
        grad_pos = torch.zeros_like(D_pos)
        grad = torch.zeros_like(D)
        zero = D.new_zeros(())
        for start in range(0, B, chunk):
            stop = min(start + chunk, B)
            valid = pos_packed[start:stop, :, None] & neg[start:stop, None, :]
            z = D_pos[start:stop, :, None] - D[start:stop, None, :] + margin
            if smooth:
                active = valid
                total = total + torch.where(active, F.softplus(z), zero).sum()
                weight = torch.where(active, torch.sigmoid(z), zero)
            else:
                active = valid & (z > 0)
                total = total + torch.where(active, z, zero).sum()
                weight = active.to(D.dtype)
            count = count + active.sum()
            # d/dD[a, p] = sum_n w, d/dD[a, n] = -sum_p w
            grad_pos[start:stop] = weight.sum(dim=2)
            grad[start:stop] -= weight.sum(dim=1)
        grad.scatter_add_(1, order, grad_pos)
        if count > 0:
            grad /= count
            loss = total / count
        else:
            loss = total * 0.0
        ctx.save_for_backward(grad)
        return loss

    @staticmethod
    def backward(ctx, grad_output):
        (grad,) = ctx.saved_tensors
        return grad * grad_output, None, None, None, None


class TripletMarginLoss(MetricLoss):
    r"""Triplet loss with a margin (Hoffer & Ailon 2015; Schroff et al. 2015).

    .. math::
        L = \operatorname{mean}_{>0}\,[d_{ap} - d_{an} + m]_+

    over every triplet in the batch (or the mined ones), :math:`d` Euclidean on
    L2-normalised embeddings, averaged over the nonzero terms (the "batch all"
    strategy of Hermans et al. 2017). FaceNet uses squared distances with
    :math:`m = 0.2`; pytorch-metric-learning 2.9 uses plain distances with
    :math:`m = 0.05` (0.2 since 3.0). ``smooth=True`` replaces the hinge by
    softplus (the soft margin of Hermans et al.) and averages over all triplets.
    Without a miner the loss is computed in O(B²) memory and O(B² P) time for
    at most ``P`` positives per anchor (the hinge, once ``P > 8``, in
    O(B² log B) from each anchor's sorted negative distances).

    Parameters
    ----------
    margin : float, default=0.2
    smooth : bool, default=False
    """

    accepts_miner = True

    def __init__(self, margin=0.2, smooth=False):
        super().__init__()
        self.margin = margin
        self.smooth = smooth

    def forward(self, embeddings, labels, indices_tuple=None):
        if indices_tuple is None:
            pos, neg = _label_masks(labels)
            D = _distance_from_cosine(_cosine_matrix(embeddings))
            if not self.smooth and pos.sum(dim=1).max() > _SORTED_MIN_POSITIVES:
                return _all_triplets_hinge(D, pos, neg, self.margin)
            return _PackedTripletsFromDistances.apply(D, pos, neg, self.margin,
                                                      self.smooth)
        if len(indices_tuple) != 3:
            raise ValueError("TripletMarginLoss needs (anchor, positive, negative) "
                             f"indices, got a tuple of {len(indices_tuple)}.")
        a, p, n = indices_tuple
        if a.numel() == 0:
            return embeddings.sum() * 0.0
        x = _normalize(embeddings)
        d_ap = torch.sqrt(torch.clamp(((x[a] - x[p]) ** 2).sum(1), min=_SQ_EPS))
        d_an = torch.sqrt(torch.clamp(((x[a] - x[n]) ** 2).sum(1), min=_SQ_EPS))
        z = d_ap - d_an + self.margin
        if self.smooth:
            return F.softplus(z).mean()
        return _mean_nonzero(F.relu(z))


class NPairsLoss(MetricLoss):
    r"""Multi-class N-pair loss (Sohn, 2016).

    One (anchor, positive) pair per class present at least twice in the batch:
    the first two samples of that class in batch order. With :math:`s` the
    cosine similarity,

    .. math::
        L = \operatorname{mean}_i\, -\log
            \frac{e^{s(a_i, p_i)}}{\sum_j e^{s(a_i, p_j)}}

    As in pytorch-metric-learning 2.x the similarity is the cosine (the paper
    uses the raw dot product and adds an L2 penalty on embedding norms, which is
    left out here).
    """

    def forward(self, embeddings, labels, indices_tuple=None):
        anchors, positives = [], []
        for c in torch.unique(labels):
            idx = torch.nonzero(labels == c).flatten()
            if idx.numel() >= 2:
                anchors.append(idx[0])
                positives.append(idx[1])
        if len(anchors) < 1:
            return embeddings.sum() * 0.0
        a = torch.stack(anchors)
        p = torch.stack(positives)
        sim = _cosine_matrix(embeddings[a], embeddings[p])
        target = torch.arange(a.numel(), device=embeddings.device)
        return F.cross_entropy(sim, target)


class LiftedStructureLoss(MetricLoss):
    r"""Lifted structured embedding loss (Oh Song et al., 2016).

    For every ordered positive pair :math:`(i, j)`,

    .. math::
        J_{ij} = \log\Big(\sum_{k \in N(i)} e^{m_- - d_{ik}}
                 + \sum_{k \in N(j)} e^{m_- - d_{jk}}\Big) + d_{ij} - m_+,
        \qquad L = \frac{1}{2|P|} \sum_{(i,j) \in P} [J_{ij}]_+^2

    with :math:`d` Euclidean on L2-normalised embeddings. The two
    log-sum-exps are per-sample vectors, so memory is O(B²). With mined pairs,
    a positive pair with no negative at either end has an empty sum
    (:math:`J = -∞`): it adds 0 but counts in :math:`|P|` (pytorch-metric-learning
    takes the log of an empty sum as 0 instead).
    """

    accepts_miner = True

    def __init__(self, neg_margin=1.0, pos_margin=0.0):
        super().__init__()
        self.neg_margin = neg_margin
        self.pos_margin = pos_margin

    def forward(self, embeddings, labels, indices_tuple=None):
        pos, neg = _pair_masks(labels, indices_tuple)
        if not pos.any():
            return embeddings.sum() * 0.0
        d = _distance_from_cosine(_cosine_matrix(embeddings))
        neg_logits = torch.where(neg, self.neg_margin - d,
                                 torch.full_like(d, -math.inf))
        lse = torch.logsumexp(neg_logits, dim=1)
        J = torch.logaddexp(lse[:, None], lse[None, :]) + d - self.pos_margin
        J = torch.where(pos, J, torch.zeros_like(J))
        return (F.relu(J[pos]) ** 2).mean() / 2


class MultiSimilarityLoss(MetricLoss):
    r"""Multi-similarity loss (Wang et al., 2019).

    With :math:`S` the cosine similarity, for each anchor :math:`i`

    .. math::
        L_i = \frac{1}{\alpha}\log\Big(1 + \sum_{p \in P_i}
              e^{-\alpha (S_{ip} - \lambda)}\Big)
            + \frac{1}{\beta}\log\Big(1 + \sum_{n \in N_i}
              e^{\beta (S_{in} - \lambda)}\Big),
        \qquad L = \operatorname{mean}_i L_i

    over all ``B`` anchors (anchors without pairs add 0). The paper combines it
    with its pair miner; pass ``miner=`` for that.

    Parameters
    ----------
    alpha : float, default=2.0
    beta : float, default=50.0
    base : float, default=0.5
        :math:`\lambda` in the paper.
    """

    accepts_miner = True

    def __init__(self, alpha=2.0, beta=50.0, base=0.5):
        super().__init__()
        self.alpha = alpha
        self.beta = beta
        self.base = base

    def forward(self, embeddings, labels, indices_tuple=None):
        pos, neg = _pair_masks(labels, indices_tuple)
        S = _cosine_matrix(embeddings)
        pos_term = _log1p_sum_exp(-self.alpha * (S - self.base), pos) / self.alpha
        neg_term = _log1p_sum_exp(self.beta * (S - self.base), neg) / self.beta
        return (pos_term + neg_term).mean()


def _log1p_sum_exp(logits, mask):
    """Row-wise ``log(1 + sum_{mask} exp(logits))``, stable; 0 for empty rows."""
    logits = torch.where(mask, logits, torch.full_like(logits, -math.inf))
    zeros = logits.new_zeros(logits.shape[0], 1)
    return torch.logsumexp(torch.cat([zeros, logits], dim=1), dim=1)
