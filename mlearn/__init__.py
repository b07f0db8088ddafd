"""mlearn: fast, scikit-learn compatible Mahalanobis metric learning.

Learners end with ``components_ = L`` (``M = LᵀL``) and share
:class:`~mlearn.base.MahalanobisMixin`: ``transform``, ``pair_distance``,
``get_metric`` and ``get_mahalanobis_matrix``.
"""

from mlearn._constraints import Constraints
from mlearn._covariance import Covariance
from mlearn._itml import ITML, ITMLPairs
from mlearn._kissme import KISSME, KISSMEPairs
from mlearn._lfda import LFDA
from mlearn._lmnn import LMNN
from mlearn._lsml import LSML, LSMLQuadruplets
from mlearn._mlkr import MLKR
from mlearn._mmc import MMC, MMCPairs
from mlearn._nca import NCA
from mlearn._rca import RCA, RCA_Supervised
from mlearn._scml import SCML, SCMLTriplets
from mlearn._sdml import SDML, SDMLPairs
from mlearn.pairwise import paired_mahalanobis, pairwise_mahalanobis

__version__ = "0.1.0"

__all__ = [
    "Constraints",
    "Covariance",
    "ITML",
    "ITMLPairs",
    "KISSME",
    "KISSMEPairs",
    "LFDA",
    "LMNN",
    "LSML",
    "LSMLQuadruplets",
    "MMC",
    "MMCPairs",
    "SDML",
    "SDMLPairs",
    "RCA",
    "RCA_Supervised",
    "SCML",
    "SCMLTriplets",
    "NCA",
    "MLKR",
    "paired_mahalanobis",
    "pairwise_mahalanobis",
]
