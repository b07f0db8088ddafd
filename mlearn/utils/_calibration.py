"""Pair classifiers' calibration: the distance threshold that is optimal for a
criterion, and Platt scaling of the distance into a probability."""

import numpy as np

__all__ = ["STRATEGIES", "best_threshold", "check_calibration_params", "fit_sigmoid"]

STRATEGIES = ("accuracy", "f_beta", "max_tpr", "max_tnr")


def check_calibration_params(strategy="accuracy", min_rate=None, beta=1.0):
    """Validate :meth:`PairsClassifierMixin.calibrate_threshold`'s options
    (before any fitting work is done)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}.")
    if strategy in ("max_tpr", "max_tnr"):
        try:
            ok = min_rate is not None and 0.0 <= float(min_rate) <= 1.0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                f"strategy {strategy!r} needs min_rate in [0, 1], got {min_rate!r}."
            )
    if strategy == "f_beta":
        try:
            ok = float(beta) >= 0  # beta = 0: F_0 is the precision
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"beta must be a number >= 0, got {beta!r}.")


def best_threshold(d, y, strategy, min_rate, beta):
    """Threshold maximising a criterion over every distinct cut of ``d``.

    Cut ``k`` predicts the ``k`` smallest distances similar; the returned
    threshold lies midway between the distances on either side of the best cut.
    """
    check_calibration_params(strategy, min_rate, beta)
    order = np.argsort(d, kind="stable")
    ds, ys = d[order], y[order]
    n_pos = int(np.sum(ys == 1))
    n_neg = ys.shape[0] - n_pos
    # Only cuts between distinct distances are realisable by a threshold.
    last_of_run = np.r_[ds[1:] != ds[:-1], True]
    tp = np.r_[0, np.cumsum(ys == 1)[last_of_run]]
    fp = np.r_[0, np.cumsum(ys == -1)[last_of_run]]
    cut_values = np.r_[-np.inf, ds[last_of_run]]
    tn, fn = n_neg - fp, n_pos - tp
    tpr = tp / max(n_pos, 1)
    tnr = tn / max(n_neg, 1)
    if strategy == "accuracy":
        crit = (tp + tn).astype(float)
    elif strategy == "f_beta":
        b2 = beta**2
        denom = (1 + b2) * tp + b2 * fn + fp
        crit = np.where(denom > 0, (1 + b2) * tp / np.maximum(denom, 1), 0.0)
    else:
        rate, other = (tpr, tnr) if strategy == "max_tpr" else (tnr, tpr)
        feasible = other >= float(min_rate)
        if not feasible.any():
            raise ValueError(
                f"no threshold reaches min_rate={min_rate} for strategy {strategy!r}."
            )
        crit = np.where(feasible, rate + 1e-9 * other, -np.inf)
    k = int(np.argmax(crit))
    lo = cut_values[k]
    hi = cut_values[k + 1] if k + 1 < cut_values.shape[0] else np.inf
    if np.isinf(lo):
        return float(ds[0] - 1.0) if ds[0] > 1.0 else float(ds[0] / 2.0 - 1.0)
    if np.isinf(hi):
        return float(lo + 1.0)
    return float((lo + hi) / 2.0)


def fit_sigmoid(d, y):
    """Platt scaling ``P(similar | d) = 1 / (1 + exp(a d + b))`` by logistic
    regression on the distances (with Platt's smoothed targets)."""
    from scipy.optimize import minimize

    n_pos = np.sum(y == 1)
    n_neg = y.shape[0] - n_pos
    t = np.where(y == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    scale = float(np.std(d)) or 1.0
    z = d / scale

    def loss(ab):
        f = ab[0] * z + ab[1]
        # -log p = log(1+e^f), -log(1-p) = log(1+e^-f) with p = 1/(1+e^f)
        ll = t * np.logaddexp(0.0, f) + (1.0 - t) * np.logaddexp(0.0, -f)
        p = 1.0 / (1.0 + np.exp(np.clip(f, -500, 500)))
        g = t - p
        return ll.sum(), np.array([np.dot(g, z), g.sum()])

    res = minimize(loss, np.array([1.0, -float(np.median(z))]), jac=True,
                   method="L-BFGS-B")
    a, b = res.x
    return (float(a / scale), float(b))
