"""Input validation for points, tuples, tuple labels and metric arguments."""

from numbers import Integral

import numpy as np

FLOAT_DTYPES = (np.float64, np.float32)


def _is_dask(X):
    return type(X).__module__.startswith("dask.")


def check_finite_array(X, name, ndim=2, dtype=FLOAT_DTYPES):
    """Float array of the given ndim with no NaN/inf; names ``name`` in errors."""
    if X is None:
        raise TypeError(f"{name} must be an array, got None.")
    if _is_sparse(X):
        raise TypeError(
            f"sparse input is not supported for {name}; use .toarray() first."
        )
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


_TUPLE_NAMES = {2: "pairs", 3: "triplets", 4: "quadruplets"}


def _is_sparse(X):
    return hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse")


def check_tuples(tuples, preprocessor=None, tuple_size=2, n_features=None):
    """Validate tuples and return them as a float array ``(n_tuples, k, d)``.

    ``tuples`` is either an array of shape ``(n_tuples, k, n_features)`` or an
    array of shape ``(n_tuples, k)`` resolved through ``preprocessor``: an array
    ``X`` whose rows are the points (the entries are then row indices), or a
    callable mapping a 1-D array of identifiers (indices, file names, ...) to
    the 2-D array of their points.

    Parameters
    ----------
    tuples : array-like
    preprocessor : array-like, callable or None, default=None
    tuple_size : {2, 3, 4}, default=2
        ``k``: 2 for pairs, 3 for triplets, 4 for quadruplets.
    n_features : int, default=None
        Expected number of features (of a fitted estimator).

    Returns
    -------
    T : ndarray of shape (n_tuples, tuple_size, n_features)
        float64 or float32.
    """
    k = int(tuple_size)
    name = _TUPLE_NAMES.get(k, f"{k}-tuples")
    if tuples is None:
        raise TypeError(f"{name} must be an array, got None.")
    if _is_sparse(tuples):
        raise TypeError(
            f"sparse input is not supported for {name}; use .toarray() first."
        )
    T = np.asarray(tuples)
    if T.ndim == 0 or T.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {T.shape}).")
    shape_msg = (f"{name} must have shape (n_{name}, {k}, n_features), or "
                 f"(n_{name}, {k}) with a preprocessor; got {T.ndim}-D with shape "
                 f"{T.shape}.")
    if T.ndim not in (2, 3):
        raise ValueError(shape_msg)
    if T.shape[1] != k:
        raise ValueError(
            f"{name} must be tuples of {k} points; got tuples of size {T.shape[1]} "
            f"(shape {T.shape})."
        )
    if T.ndim == 2:
        T = _resolve_identifiers(T, preprocessor, name)
    T = check_finite_array(T, name, ndim=3)
    if n_features is not None and T.shape[2] != n_features:
        raise ValueError(
            f"{name} have {T.shape[2]} features, but the estimator was fitted with "
            f"{n_features} features."
        )
    return T


def _resolve_identifiers(T, preprocessor, name):
    """``(n, k)`` identifiers → ``(n, k, d)`` points through ``preprocessor``."""
    if preprocessor is None:
        raise ValueError(
            f"{name} of shape {T.shape} are read as indices, which need a "
            "preprocessor (the array of points, or a callable); pass "
            f"preprocessor=X to the estimator, or pass {name} of shape "
            f"(n_{name}, {T.shape[1]}, n_features)."
        )
    flat = T.ravel()
    if callable(preprocessor):
        # identifiers may be anything the callable understands (file names, ...)
        pts = preprocessor(flat)
        if _is_sparse(pts):
            raise TypeError("the preprocessor returned a sparse matrix; sparse "
                            "input is not supported, return a dense array.")
        pts = np.asarray(pts)
        if pts.ndim != 2 or pts.shape[0] != flat.shape[0]:
            raise ValueError(
                "the preprocessor must return a 2-D array with one row per "
                f"identifier; got shape {pts.shape} for {flat.shape[0]} identifiers."
            )
        return pts.reshape(T.shape[0], T.shape[1], pts.shape[1])
    if T.dtype.kind not in "iu":
        integral = (T.dtype.kind == "f" and np.all(np.isfinite(T))
                    and np.all(T == np.round(T)))
        if not integral:
            raise TypeError(
                f"index {name} must be integers when the preprocessor is an array, "
                f"got dtype {T.dtype}; use a callable preprocessor for other "
                "identifiers."
            )
        flat = flat.astype(np.intp)
    if _is_sparse(preprocessor):
        raise TypeError("sparse input is not supported for the preprocessor; use "
                        ".toarray() first.")
    X = check_finite_array(getattr(preprocessor, "values", preprocessor),
                           "preprocessor")
    if flat.min() < -X.shape[0] or flat.max() >= X.shape[0]:
        raise ValueError(
            f"index {name} refer to rows outside the preprocessor's "
            f"{X.shape[0]} points (min {flat.min()}, max {flat.max()})."
        )
    pts = X[flat]
    return pts.reshape(T.shape[0], T.shape[1], pts.shape[1])


def check_n_components(n_components, n_features):
    """``n_components`` (``None`` → ``n_features``) checked against the data."""
    if n_components is None:
        return n_features
    if n_components > n_features:
        raise ValueError(
            f"n_components ({n_components}) cannot be greater than n_features "
            f"({n_features})."
        )
    return int(n_components)


def check_pair_labels(y, n_pairs, name="pair"):
    """Tuple labels must be -1 or +1, one per tuple (``name`` for messages)."""
    if y is None:
        raise ValueError(f"{name} labels y are required (values in {{-1, +1}}).")
    y = np.asarray(y)
    if y.ndim != 1:
        y = np.ravel(y) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ValueError(f"{name} labels must be 1-D, got shape {y.shape}.")
    if y.shape[0] != n_pairs:
        raise ValueError(
            f"got {y.shape[0]} {name} labels for {n_pairs} {name}s; they must match."
        )
    if y.dtype.kind not in "biuf" or not np.all(np.isin(y, (-1, 1))):
        bad = np.unique(y[~np.isin(y, (-1, 1))]) if y.dtype.kind in "biuf" else y[:3]
        raise ValueError(
            f"{name} labels must be -1 or +1; found {bad[:5]}."
        )
    return y.astype(np.intp)


def _plain(value):
    """A numpy scalar as the Python value it holds (``0``, not ``np.int64(0)``)."""
    return value.item() if isinstance(value, np.generic) else value


def check_classes(y, min_per_class=1, name="y"):
    """At least two classes; each with at least ``min_per_class`` samples."""
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    if classes.shape[0] < 2:
        raise ValueError(
            f"{name} has a single class ({_plain(classes[0])!r}); at least 2 "
            "classes are needed to learn a metric."
        )
    if min_per_class > 1 and counts.min() < min_per_class:
        small = classes[counts < min_per_class]
        sizes = counts[counts < min_per_class]
        listing = ", ".join(f"{_plain(c)!r} ({s})" for c, s in zip(small[:5],
                                                                   sizes[:5]))
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
