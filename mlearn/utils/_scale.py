"""Working in units where the data's magnitude is near one, exactly.

Squared distances of points near 1e160 overflow and of points near 1e-170
underflow, although the points and their distances are representable. The
learners whose metric is scale-equivariant therefore solve on ``X · 2⁻ᵏ`` and
scale ``components_`` back. A power of two changes no bit of any product or
quotient (short of overflow and underflow), so at ordinary scales the result is
bitwise the one computed without it.
"""

import numpy as np

__all__ = ["scale_exponent", "scaled_differences", "spread", "working_scale"]


# The magnitude and spread that pick the exponent are estimated on at most this
# many rows (evenly strided, so deterministic): any power of two is exact, and
# the estimate only has to be right within a factor of a few.
_SPREAD_ROWS = 4096


def _frexp_spread(A, max_rows=None):
    """``(e, r)`` with the data's spread equal to ``r · 2ᵉ`` (``r = 0`` for
    constant data), computed on ``A · 2⁻ᵉ`` so that nothing overflows; on at
    most ``max_rows`` evenly strided rows when given."""
    A = np.asarray(A)
    if A.size == 0:
        return 0, 0.0
    rows = A.reshape(-1, A.shape[-1])
    if max_rows is not None and rows.shape[0] > max_rows:
        rows = rows[:: -(-rows.shape[0] // max_rows)]
    m = max(abs(float(np.max(rows))), abs(float(np.min(rows))))
    if m == 0.0 or not np.isfinite(m):
        return 0, 0.0
    e = int(np.frexp(m)[1])  # m = f · 2^e, f in [0.5, 1)
    B = np.ldexp(rows.astype(np.float64), -e)  # |B| <= 1
    return e, float(np.sqrt(np.mean(np.var(B, axis=0))))


def spread(A):
    """The root mean square of the per-feature standard deviations of ``A``.

    Computed without overflow or underflow (the result itself must be
    representable); ``0.0`` for constant data.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).normal(size=(1000, 2))
    >>> round(spread(X * 1e200) / 1e200, 1)
    1.0
    """
    e, r = _frexp_spread(A)
    return float(np.ldexp(r, e))


def scale_exponent(A):
    """``k`` such that ``A · 2⁻ᵏ`` has a typical feature spread near 1.

    The spread is the root mean square of the per-feature (last axis) standard
    deviations, computed without overflow or underflow; for constant data (a
    single row, say) the largest magnitude stands in for it. ``0`` for empty or
    all-zero data.

    Parameters
    ----------
    A : ndarray of shape (..., n_features)
        Finite values.

    Returns
    -------
    k : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).normal(size=(100, 3))
    >>> scale_exponent(X), scale_exponent(X * 2.0**300)
    (0, 300)
    """
    e, r = _frexp_spread(A, _SPREAD_ROWS)
    if r == 0.0:
        return e
    return e + int(np.round(np.log2(r)))


def scaled_differences(P):
    """``(k, V, P64)``: the pairs' differences ``(x_a − x_b) · 2⁻ᵏ`` (exact),
    with ``k = scale_exponent(P)`` and ``P64`` the pairs as float64.

    Parameters
    ----------
    P : ndarray of shape (n_pairs, 2, n_features)

    Returns
    -------
    k : int
    V : ndarray of shape (n_pairs, n_features)
    P64 : ndarray of shape (n_pairs, 2, n_features)
    """
    P64 = np.asarray(P, dtype=np.float64)
    k = scale_exponent(P64)
    return k, np.ldexp(P64[:, 0] - P64[:, 1], -k), P64


# Learners tied to the data's units (a margin of 1, a prior in absolute units)
# solve in those units while the spread lies within 2^±UNIT_BAND.
UNIT_BAND = 16


def working_scale(A):
    """1 for data of ordinary spread, else the spread itself.

    For the learners whose objective has an absolute unit (LMNN's margin,
    SCML's hinge, the identity prior of SDML and LSML): far outside ordinary
    units squared distances overflow or underflow and solvers stop at their
    start, so there they solve on ``A / s`` and scale ``components_`` by
    ``1 / s``; for standardised data scaled by any factor that is the problem
    of the unscaled data.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).normal(size=(500, 2))
    >>> working_scale(X), round(working_scale(X * 1e200) / 1e200, 1)
    (1.0, 1.0)
    """
    if abs(scale_exponent(A)) <= UNIT_BAND:
        return 1.0
    return spread(A)
