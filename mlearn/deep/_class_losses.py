"""Metric-learning losses with learned class weights, proxies or centres, as
small ``torch.nn.Module``s; conventions as in :mod:`mlearn.deep._losses`."""

import math

import torch
import torch.nn.functional as F
from torch import nn

from mlearn.deep._losses import _SQ_EPS, MetricLoss, _cosine_matrix, _log1p_sum_exp

__all__ = [
    "ArcFaceLoss",
    "CenterLoss",
    "CosFaceLoss",
    "CrossEntropyLoss",
    "NormalizedSoftmaxLoss",
    "ProxyAnchorLoss",
    "ProxyNCALoss",
    "SoftTripleLoss",
    "SphereFaceLoss",
]


class _ClassLoss(MetricLoss):
    """A loss with learnable per-class vectors (proxies, weights or centers)."""

    needs_classes = True

    def __init__(self, n_classes, embedding_dim):
        super().__init__()
        self.n_classes = int(n_classes)
        self.embedding_dim = int(embedding_dim)


class ProxyNCALoss(_ClassLoss):
    r"""ProxyNCA (Movshovitz-Attias et al., 2017).

    .. math::
        L = \operatorname{mean}_i -\log \frac{e^{-s\,\|\hat x_i - \hat p_{y_i}\|^2}}
            {\sum_c e^{-s\,\|\hat x_i - \hat p_c\|^2}}

    one proxy per class, hats denoting L2 normalisation. As in
    pytorch-metric-learning the positive proxy is in the denominator (the paper
    leaves it out). With ``softmax_scale=1`` the logits span only [-4, 0];
    ProxyNCA++ (Teh et al., 2020) uses a scale of about 9.

    Parameters
    ----------
    n_classes, embedding_dim : int
    softmax_scale : float, default=1.0
    """

    def __init__(self, n_classes, embedding_dim, softmax_scale=1.0):
        super().__init__(n_classes, embedding_dim)
        self.softmax_scale = softmax_scale
        self.proxies = nn.Parameter(torch.empty(n_classes, embedding_dim))
        nn.init.normal_(self.proxies)

    def forward(self, embeddings, labels, indices_tuple=None):
        d2 = torch.clamp(2.0 - 2.0 * _cosine_matrix(embeddings, self.proxies),
                         min=0.0)
        return F.cross_entropy(-self.softmax_scale * d2, labels)


class ProxyAnchorLoss(_ClassLoss):
    r"""Proxy-Anchor loss (Kim et al., 2020).

    .. math::
        L = \frac{1}{|P^+|}\sum_{c \in P^+}\log\Big(1 + \sum_{x \in X_c^+}
            e^{-\alpha (s(x, p_c) - \delta)}\Big)
          + \frac{1}{C}\sum_{c}\log\Big(1 + \sum_{x \in X_c^-}
            e^{\alpha (s(x, p_c) + \delta)}\Big)

    :math:`s` the cosine similarity, :math:`P^+` the proxies with a positive in
    the batch. The paper trains the proxies with a 100× larger learning rate;
    :class:`~mlearn.deep.DeepMetricEmbedding` applies ``loss_lr_multiplier``.

    Parameters
    ----------
    n_classes, embedding_dim : int
    margin : float, default=0.1
        :math:`\delta`.
    alpha : float, default=32.0
    """

    def __init__(self, n_classes, embedding_dim, margin=0.1, alpha=32.0):
        super().__init__(n_classes, embedding_dim)
        self.margin = margin
        self.alpha = alpha
        self.proxies = nn.Parameter(torch.empty(n_classes, embedding_dim))
        nn.init.kaiming_normal_(self.proxies, mode="fan_out")

    def forward(self, embeddings, labels, indices_tuple=None):
        S = _cosine_matrix(embeddings, self.proxies)  # (B, C)
        onehot = F.one_hot(labels, self.n_classes).bool()
        pos_term = _log1p_sum_exp((-self.alpha * (S - self.margin)).T, onehot.T)
        neg_term = _log1p_sum_exp((self.alpha * (S + self.margin)).T, ~onehot.T)
        with_pos = onehot.any(dim=0)
        n_pos = with_pos.sum().clamp(min=1)
        return pos_term[with_pos].sum() / n_pos + neg_term.sum() / self.n_classes


class SoftTripleLoss(_ClassLoss):
    r"""SoftTriple loss (Qian et al., 2019).

    ``K = centers_per_class`` centres per class; the relaxed similarity
    :math:`S_c(x) = \sum_k \operatorname{softmax}_k(s(x, w_{ck})/\gamma)\,
    s(x, w_{ck})` enters a softmax cross-entropy with logits
    :math:`\lambda\,(S_c - \delta\,[c = y])`. The paper's centre-merging
    regulariser is not included (as in pytorch-metric-learning).

    Parameters
    ----------
    n_classes, embedding_dim : int
    centers_per_class : int, default=10
    la : float, default=20.0
        :math:`\lambda`.
    gamma : float, default=0.1
    margin : float, default=0.01
        :math:`\delta`.

    Attributes
    ----------
    fc : Parameter of shape (embedding_dim, n_classes * centers_per_class)
        Centre ``k`` of class ``c`` is column ``c * K + k``.
    """

    def __init__(self, n_classes, embedding_dim, centers_per_class=10, la=20.0,
                 gamma=0.1, margin=0.01):
        super().__init__(n_classes, embedding_dim)
        self.centers_per_class = int(centers_per_class)
        self.la = la
        self.gamma = gamma
        self.margin = margin
        self.fc = nn.Parameter(
            torch.empty(embedding_dim, n_classes * self.centers_per_class))
        nn.init.kaiming_uniform_(self.fc, a=math.sqrt(5))

    def forward(self, embeddings, labels, indices_tuple=None):
        s = _cosine_matrix(embeddings, self.fc.T)
        s = s.view(-1, self.n_classes, self.centers_per_class)
        S = (F.softmax(s / self.gamma, dim=2) * s).sum(dim=2)
        delta = self.margin * F.one_hot(labels, self.n_classes).to(S.dtype)
        return F.cross_entropy(self.la * (S - delta), labels)


class CenterLoss(_ClassLoss):
    r"""Softmax plus center loss (Wen et al., 2016).

    .. math::
        L = L_{\mathrm{softmax}} + \lambda\,\tfrac12 \sum_i \|x_i - c_{y_i}\|^2

    on the unnormalised embeddings (the sum runs over the mini-batch, as in the
    paper), with a linear softmax classifier ``W x + b`` trained alongside.
    The centres are not trained by the optimiser: in training mode each call
    moves them by the paper's rule
    :math:`c_j \leftarrow c_j - \alpha \frac{\sum_i [y_i = j](c_j - x_i)}
    {1 + \sum_i [y_i = j]}` after computing the loss.
    (Not in pytorch-metric-learning; KaiyangZhou's port instead averages over
    the batch and learns the centres by SGD.)

    Parameters
    ----------
    n_classes, embedding_dim : int
    lambda_c : float, default=0.01
    alpha : float, default=0.5
        Learning rate of the centres.
    """

    def __init__(self, n_classes, embedding_dim, lambda_c=0.01, alpha=0.5):
        super().__init__(n_classes, embedding_dim)
        self.lambda_c = lambda_c
        self.alpha = alpha
        self.classifier = nn.Linear(embedding_dim, n_classes)
        self.register_buffer("centers", torch.zeros(n_classes, embedding_dim))

    def center_term(self, embeddings, labels):
        """:math:`\\tfrac12 \\sum_i \\|x_i - c_{y_i}\\|^2` (centres held fixed)."""
        diff = embeddings - self.centers.to(embeddings.dtype)[labels]
        return 0.5 * (diff**2).sum()

    def forward(self, embeddings, labels, indices_tuple=None):
        loss = (F.cross_entropy(self.classifier(embeddings), labels)
                + self.lambda_c * self.center_term(embeddings, labels))
        if self.training:
            with torch.no_grad():
                x = embeddings.detach().to(self.centers.dtype)
                diff = self.centers[labels] - x
                delta = torch.zeros_like(self.centers).index_add_(0, labels, diff)
                counts = torch.bincount(labels, minlength=self.n_classes)
                self.centers -= self.alpha * delta / (1.0 + counts[:, None])
        return loss


class _MarginSoftmax(_ClassLoss):
    """Softmax on cosines to L2-normalised class weights ``W`` (D×C)."""

    def __init__(self, n_classes, embedding_dim, margin, scale):
        super().__init__(n_classes, embedding_dim)
        self.margin = margin
        self.scale = scale
        self.W = nn.Parameter(torch.empty(embedding_dim, n_classes))
        nn.init.normal_(self.W)

    def _target_logit(self, cos, embeddings):  # pragma: no cover
        raise NotImplementedError

    def _scale(self, logits, embeddings):
        return self.scale * logits

    def forward(self, embeddings, labels, indices_tuple=None):
        cos = _cosine_matrix(embeddings, self.W.T)
        target = cos.gather(1, labels[:, None])
        onehot = F.one_hot(labels, self.n_classes).to(cos.dtype)
        logits = cos + onehot * (self._target_logit(target, embeddings) - target)
        return F.cross_entropy(self._scale(logits, embeddings), labels)


class NormalizedSoftmaxLoss(_MarginSoftmax):
    r"""Normalized softmax (Zhai & Wu, 2019): softmax cross-entropy on the
    cosines to L2-normalised class weights, divided by a temperature,

    .. math::
        L = \operatorname{mean}_i -\log \frac{e^{\cos\theta_{i y_i} / T}}
            {\sum_c e^{\cos\theta_{i c} / T}}

    — a classification baseline that metric-learning losses are measured
    against (e.g. Musgrave et al., 2020, "A metric learning reality check").
    It is :class:`CosFaceLoss` with ``margin=0`` and ``scale=1/T``;
    ``temperature`` follows pytorch-metric-learning's
    ``NormalizedSoftmaxLoss`` (default 0.05).

    Parameters
    ----------
    n_classes, embedding_dim : int
    temperature : float, default=0.05

    Attributes
    ----------
    W : Parameter of shape (embedding_dim, n_classes)
    """

    def __init__(self, n_classes, embedding_dim, temperature=0.05):
        super().__init__(n_classes, embedding_dim, 0.0, 1.0 / temperature)
        self.temperature = temperature

    def _target_logit(self, cos, embeddings):
        return cos


class CrossEntropyLoss(_ClassLoss):
    r"""Plain softmax cross-entropy through a linear classifier trained
    alongside the network: ``W x + b`` on the *unnormalised* embeddings,

    .. math::
        L = \operatorname{mean}_i -\log \frac{e^{w_{y_i}^\top x_i + b_{y_i}}}
            {\sum_c e^{w_c^\top x_i + b_c}}

    — the plainest classification baseline for metric learning; the
    embeddings (the classifier's input) are what ``transform`` returns.
    Unlike ``torch.nn.CrossEntropyLoss`` it owns the classifier, so it takes
    embeddings, not logits.

    Parameters
    ----------
    n_classes, embedding_dim : int

    Attributes
    ----------
    classifier : nn.Linear
    """

    def __init__(self, n_classes, embedding_dim):
        super().__init__(n_classes, embedding_dim)
        self.classifier = nn.Linear(embedding_dim, n_classes)

    def forward(self, embeddings, labels, indices_tuple=None):
        return F.cross_entropy(self.classifier(embeddings), labels)


class CosFaceLoss(_MarginSoftmax):
    r"""CosFace / AM-Softmax (Wang et al., 2018): logits
    :math:`s\,(\cos\theta_c - m\,[c = y])`.

    CosFace's defaults are ``scale=64, margin=0.35``; AM-Softmax uses the same
    formula with ``scale=30`` (``loss="am_softmax"`` in the estimator).

    Parameters
    ----------
    n_classes, embedding_dim : int
    margin : float, default=0.35
    scale : float, default=64.0
    """

    def __init__(self, n_classes, embedding_dim, margin=0.35, scale=64.0):
        super().__init__(n_classes, embedding_dim, margin, scale)

    def _target_logit(self, cos, embeddings):
        return cos - self.margin


class ArcFaceLoss(_MarginSoftmax):
    r"""ArcFace (Deng et al., 2019): target logit :math:`\cos(\theta_y + m)`.

    Where :math:`\theta_y > \pi - m` the target logit is
    :math:`\cos\theta_y - m \sin m` (insightface's convention, keeps it
    monotonic). ``margin`` is in **radians** as in the paper;
    pytorch-metric-learning takes degrees (28.6° ≈ 0.5 rad). The cosine of the
    sum is expanded (:math:`\cos\theta\cos m - \sin\theta\sin m`) so the
    gradient stays finite at :math:`\theta = 0`.

    Parameters
    ----------
    n_classes, embedding_dim : int
    margin : float, default=0.5
    scale : float, default=64.0
    """

    def __init__(self, n_classes, embedding_dim, margin=0.5, scale=64.0):
        super().__init__(n_classes, embedding_dim, margin, scale)

    def _target_logit(self, cos, embeddings):
        m = self.margin
        cos = torch.clamp(cos, -1.0, 1.0)
        sin = torch.sqrt(torch.clamp(1.0 - cos**2, min=_SQ_EPS))
        plus = cos * math.cos(m) - sin * math.sin(m)
        return torch.where(cos >= math.cos(math.pi - m), plus, cos - m * math.sin(m))


class SphereFaceLoss(_MarginSoftmax):
    r"""SphereFace / A-Softmax (Liu et al., 2017).

    Target logit :math:`\psi(\theta) = (-1)^k \cos(m\theta) - 2k`,
    :math:`k = \lfloor m\theta/\pi \rfloor`, with :math:`\cos(m\theta)` from
    its polynomial in :math:`\cos\theta`; all logits are multiplied by
    :math:`\|x\|` and ``scale``, ``W`` is normalised. The paper's annealing
    with the plain softmax (λ) is not implemented.

    Parameters
    ----------
    n_classes, embedding_dim : int
    margin : int, default=4
    scale : float, default=1.0
    """

    def __init__(self, n_classes, embedding_dim, margin=4, scale=1.0):
        super().__init__(n_classes, embedding_dim, int(margin), scale)

    def _target_logit(self, cos, embeddings):
        m = self.margin
        cos = torch.clamp(cos, -1.0, 1.0)
        # cos(m θ) = sum_n (-1)^n C(m, 2n) cos^{m-2n} θ (1 - cos² θ)^n
        cos_m = sum((-1) ** n * math.comb(m, 2 * n) * cos ** (m - 2 * n)
                    * (1.0 - cos**2) ** n for n in range(m // 2 + 1))
        with torch.no_grad():
            k = torch.floor(torch.acos(cos) * m / math.pi)
        return (-1.0) ** k * cos_m - 2.0 * k

    def _scale(self, logits, embeddings):
        return self.scale * logits * embeddings.norm(dim=1, keepdim=True)


def _am_softmax(n_classes, embedding_dim, margin=0.35, scale=30.0):
    """AM-Softmax (Wang et al., 2018): :class:`CosFaceLoss` with ``scale=30``."""
    return CosFaceLoss(n_classes, embedding_dim, margin=margin, scale=scale)


_am_softmax.needs_classes = True
_am_softmax.accepts_miner = False
