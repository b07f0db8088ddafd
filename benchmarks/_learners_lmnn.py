"""LMNN rows for bench_estimators.py: mlearn vs metric-learn 0.7.0 vs pyLMNN 1.6.4.

All three with k = 3 target neighbours and equal pull/push weights (0.5), their
own defaults otherwise. pyLMNN 1.6.4 needs shims on a current stack, applied
here and nowhere else: it imports GPyOpt (for its hyper-parameter search) at
import time, so a stub module stands in; it may import ``six``, stubbed the
same way when absent; and it passes a 2-D ``x0`` to ``scipy.optimize.minimize``,
which scipy >= 1.11 rejects, so its module-level ``minimize`` is wrapped to
ravel ``x0``.
"""

import sys
import types


def _mlearn():
    from mlearn import LMNN

    return LMNN(n_neighbors=3, regularization=0.5, random_state=0)


def _metric_learn():
    from metric_learn import LMNN

    return LMNN(n_neighbors=3, regularization=0.5, random_state=0)


def _import_pylmnn():
    for name in ("GPyOpt", "GPyOpt.methods"):
        mod = sys.modules.setdefault(name, types.ModuleType(name))
        mod.BayesianOptimization = None
    sys.modules["GPyOpt"].methods = sys.modules["GPyOpt.methods"]
    try:
        import six  # noqa: F401
    except ImportError:
        six = types.ModuleType("six")
        six.integer_types, six.string_types = (int,), (str,)
        sys.modules["six"] = six
    import pylmnn.lmnn as plmnn

    if not getattr(plmnn.minimize, "_ravels_x0", False):
        minimize = plmnn.minimize

        def minimize_1d(*args, **kwargs):
            if "x0" in kwargs:
                kwargs["x0"] = kwargs["x0"].ravel()
            return minimize(*args, **kwargs)

        minimize_1d._ravels_x0 = True
        plmnn.minimize = minimize_1d
    return plmnn.LargeMarginNearestNeighbor


def _pylmnn():
    LargeMarginNearestNeighbor = _import_pylmnn()
    return LargeMarginNearestNeighbor(n_neighbors=3, weight_push_loss=0.5,
                                      random_state=0)


LEARNERS = {
    "LMNN": {"mlearn": _mlearn, "metric-learn": _metric_learn, "pyLMNN": _pylmnn},
}
