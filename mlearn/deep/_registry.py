"""The loss names ``DeepMetricEmbedding(loss=...)`` accepts."""

from mlearn.deep._class_losses import (
    ArcFaceLoss,
    CenterLoss,
    CosFaceLoss,
    CrossEntropyLoss,
    NormalizedSoftmaxLoss,
    ProxyAnchorLoss,
    ProxyNCALoss,
    SoftTripleLoss,
    SphereFaceLoss,
    _am_softmax,
)
from mlearn.deep._losses import (
    ContrastiveLoss,
    LiftedStructureLoss,
    MultiSimilarityLoss,
    NPairsLoss,
    TripletMarginLoss,
)

__all__ = ["LOSSES"]

#: Loss names accepted by ``DeepMetricEmbedding(loss=...)``.
LOSSES = {
    "contrastive": ContrastiveLoss,
    "triplet": TripletMarginLoss,
    "npair": NPairsLoss,
    "lifted_structure": LiftedStructureLoss,
    "multi_similarity": MultiSimilarityLoss,
    "proxy_nca": ProxyNCALoss,
    "proxy_anchor": ProxyAnchorLoss,
    "soft_triple": SoftTripleLoss,
    "center": CenterLoss,
    "cross_entropy": CrossEntropyLoss,
    "normalized_softmax": NormalizedSoftmaxLoss,
    "cosface": CosFaceLoss,
    "am_softmax": _am_softmax,
    "sphereface": SphereFaceLoss,
    "arcface": ArcFaceLoss,
}
