"""Input validation for points, pairs, pair labels and metric arguments."""

from numbers import Integral

import numpy as np

FLOAT_DTYPES = (np.float64, np.float32)


def _is_dask(X):
    return type(X).__module__.startswith("dask.")


def check_finite_array(X, name, ndim=2, dtype=FLOAT_DTYPES):
    """Float array of the given ndim with no NaN/inf; names ``name`` in errors."""
    if X is None:
        raise TypeError(f"{name} must be an array, got None.")
    try:
        A = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if A.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {A.dtype}.")
    if A.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D array, got {A.ndim}-D with shape {A.shape}."
        )
    if A.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {A.shape}).")
    if A.dtype not in dtype:
        A = A.astype(dtype[0])
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return A


def check_pairs(pairs, preprocessor=None, n_features=None):
    """Validate pairs and return them as a float array of shape (n_pairs, 2, d).

    ``pairs`` is either an array of shape ``(n_pairs, 2, n_features)`` or an array
    of integer indices of shape ``(n_pairs, 2)`` resolved through ``preprocessor``
    (an array ``X`` whose rows are the points, or a callable mapping a 1-D index
    array to the corresponding 2-D array of points).
    """
    if pairs is None:
        raise TypeError("pairs must be an array, got None.")
    P = np.asarray(pairs)
    if P.ndim == 0 or P.shape[0] == 0:
        raise ValueError(f"pairs is empty (shape {P.shape}).")
    if P.ndim == 2:
        if P.shape[1] != 2:
            raise ValueError(
                f"pairs must be tuples of 2 points; got tuples of size {P.shape[1]} "
                f"(shape {P.shape})."
            )
        if preprocessor is None:
            raise ValueError(
                f"pairs of shape {P.shape} are read as indices, which need a "
                "preprocessor (the array of points, or a callable); pass "
                "preprocessor=X to the estimator, or pass pairs of shape "
                "(n_pairs, 2, n_features)."
            )
        if P.dtype.kind not in "iu":
            integral = np.all(np.isfinite(P)) and np.all(P == np.round(P))
            if P.dtype.kind == "f" and integral:
                P = P.astype(np.intp)
            else:
                raise TypeError(
                    f"index pairs must be integers, got dtype {P.dtype}."
                )
        flat = P.ravel()
        if callable(preprocessor):
            pts = np.asarray(preprocessor(flat))
            if pts.ndim != 2 or pts.shape[0] != flat.shape[0]:
                raise ValueError(
                    "the preprocessor must return a 2-D array with one row per "
                    f"index; got shape {pts.shape} for {flat.shape[0]} indices."
                )
        else:
            X = check_finite_array(preprocessor, "preprocessor")
            if flat.min() < -X.shape[0] or flat.max() >= X.shape[0]:
                raise ValueError(
                    f"index pairs refer to rows outside the preprocessor's "
                    f"{X.shape[0]} points (min {flat.min()}, max {flat.max()})."
                )
            pts = X[flat]
        P = pts.reshape(P.shape[0], 2, pts.shape[1])
    elif P.ndim == 3:
        if P.shape[1] != 2:
            raise ValueError(
                f"pairs must be tuples of 2 points; got tuples of size {P.shape[1]} "
                f"(shape {P.shape})."
            )
    else:
        raise ValueError(
            "pairs must have shape (n_pairs, 2, n_features), or (n_pairs, 2) with "
            f"a preprocessor; got {P.ndim}-D with shape {P.shape}."
        )
    P = check_finite_array(P, "pairs", ndim=3)
    if n_features is not None and P.shape[2] != n_features:
        raise ValueError(
            f"pairs have {P.shape[2]} features, but the estimator was fitted with "
            f"{n_features} features."
        )
    return P


def check_pair_labels(y, n_pairs):
    """Pair labels must be -1 (dissimilar) or +1 (similar), one per pair."""
    if y is None:
        raise ValueError("pair labels y are required (values in {-1, +1}).")
    y = np.asarray(y)
    if y.ndim != 1:
        y = np.ravel(y) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"pair labels must be 1-D, got shape {y.shape}.")
    if y.shape[0] != n_pairs:
        raise ValueError(
            f"got {y.shape[0]} pair labels for {n_pairs} pairs; they must match."
        )
    if y.dtype.kind not in "biuf" or not np.all(np.isin(y, (-1, 1))):
        bad = np.unique(y[~np.isin(y, (-1, 1))]) if y.dtype.kind in "biuf" else y[:3]
        raise ValueError(
            f"pair labels must be -1 (dissimilar) or +1 (similar); found {bad[:5]}."
        )
    return y.astype(np.intp)


def check_classes(y, min_per_class=1, name="y"):
    """At least two classes; each with at least ``min_per_class`` samples."""
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"{name} has a single class ({classes[0]!r}); at least 2 classes are "
            "needed to learn a metric."
        )
    if min_per_class > 1 and counts.min() < min_per_class:
        small = classes[counts < min_per_class]
        sizes = counts[counts < min_per_class]
        listing = ", ".join(f"{c!r} ({s})" for c, s in zip(small[:5], sizes[:5]))
        raise ValueError(
            f"every class needs at least {min_per_class} samples; too small: "
            f"{listing}."
        )
    return classes, inverse.ravel(), counts


def check_metric_args(M, L, n_features=None):
    """Exactly one of ``M`` or ``L``; returns ``L`` as a float64 C-contiguous array."""
    from mlearn.utils._linalg import components_from_metric

    if (M is None) == (L is None):
        raise TypeError("pass exactly one of M (Mahalanobis matrix) or L (linear map).")
    if M is not None:
        M = check_finite_array(M, "M")
        if M.shape[0] != M.shape[1]:
            raise ValueError(f"M must be square, got shape {M.shape}.")
        if n_features is not None and M.shape[0] != n_features:
            raise ValueError(
                f"M has shape {M.shape} but the points have {n_features} features."
            )
        L = components_from_metric(M)
    else:
        L = check_finite_array(L, "L")
        if n_features is not None and L.shape[1] != n_features:
            raise ValueError(
                f"L has shape {L.shape} but the points have {n_features} features; "
                "L must be (n_components, n_features)."
            )
    return np.ascontiguousarray(L, dtype=np.float64)


def check_int(value, name, low=1):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


def _check_finite_block(block, what):
    if not np.all(np.isfinite(block)):
        raise ValueError(f"{what} contains NaN or infinity.")
    return block


def check_finite_dask(X, name):
    """Dask array ``X`` unchanged, but computing any block of it (or of a result
    built on it) raises ``ValueError`` naming ``name`` when the block holds NaN
    or infinity. Stays lazy: the check runs blockwise when the graph runs."""
    return X.map_blocks(_check_finite_block, what=name, token=f"check-finite-{name}",
                        dtype=X.dtype, meta=X._meta)
