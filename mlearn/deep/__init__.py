"""Optional deep-embedding head: a torch module trained with metric-learning
losses behind the scikit-learn transformer API.

Needs torch (``pip install "mlearn-metric[torch]"``). ``import mlearn`` never imports
torch; importing this subpackage without it raises an ImportError naming the
extra.
"""

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without torch
    raise ImportError(
        "mlearn.deep needs PyTorch, which is not installed. Install the optional "
        "extra with `pip install 'mlearn-metric[torch]'` (or `pip install torch`)."
    ) from exc

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
)
from mlearn.deep._estimator import MLP, DeepMetricEmbedding
from mlearn.deep._losses import (
    ContrastiveLoss,
    LiftedStructureLoss,
    MetricLoss,
    MultiSimilarityLoss,
    NPairsLoss,
    TripletMarginLoss,
)
from mlearn.deep._miners import (
    MINERS,
    BatchAllMiner,
    BatchHardMiner,
    SemiHardMiner,
    TripletMiner,
)
from mlearn.deep._registry import LOSSES
from mlearn.deep._sampler import MPerClassSampler

__all__ = [
    "LOSSES",
    "MINERS",
    "ArcFaceLoss",
    "BatchAllMiner",
    "BatchHardMiner",
    "CenterLoss",
    "ContrastiveLoss",
    "CosFaceLoss",
    "CrossEntropyLoss",
    "DeepMetricEmbedding",
    "LiftedStructureLoss",
    "MLP",
    "MPerClassSampler",
    "MetricLoss",
    "MultiSimilarityLoss",
    "NPairsLoss",
    "NormalizedSoftmaxLoss",
    "ProxyAnchorLoss",
    "ProxyNCALoss",
    "SemiHardMiner",
    "SoftTripleLoss",
    "SphereFaceLoss",
    "TripletMarginLoss",
    "TripletMiner",
]
