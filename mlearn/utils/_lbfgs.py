"""What every L-BFGS learner records when its solver returns (LMNN, NCA, MLKR)."""

import warnings

from scipy.optimize import OptimizeResult

from mlearn.utils._sklearn_compat import ConvergenceWarning

__all__ = ["finish_lbfgs"]


def finish_lbfgs(estimator, res, name):
    """Set ``n_iter_`` and ``opt_result_`` from scipy's result ``res``, and warn
    with ``ConvergenceWarning`` when the solver stopped at ``max_iter``.

    ``opt_result_`` keeps the summary only (``fun``, ``nit``, ``nfev``,
    ``status``, ``success``, ``message``): without ``x`` (the components), the
    gradient and the L-BFGS memory, a fitted estimator pickles to little more
    than its components.
    """
    if not res.success and res.nit >= estimator.max_iter:
        warnings.warn(
            f"{name} did not converge in max_iter={estimator.max_iter} iterations "
            f"(tol={estimator.tol}); increase max_iter.", ConvergenceWarning
        )
    estimator.n_iter_ = int(res.nit)
    estimator.opt_result_ = OptimizeResult(
        {k: res[k] for k in ("fun", "nit", "nfev", "status", "success", "message")
         if k in res})
