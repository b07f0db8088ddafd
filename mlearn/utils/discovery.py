"""The registry of mlearn's learners, read from their declared kind.

Each learner declares its kind of supervision in ``_kind`` (see
:mod:`mlearn.base`); the tests, the CLI and :mod:`mlearn.compat.metric_learn`
iterate this one list, so a learner joins them by being exported from
:mod:`mlearn`.
"""

import inspect

from mlearn.base import KINDS

__all__ = ["KINDS", "all_estimators"]


def all_estimators(kind=None):
    """The learner classes exported by :mod:`mlearn`, optionally of one kind.

    Parameters
    ----------
    kind : str or tuple of str, default=None
        One or more of ``KINDS``: 'supervised', 'regression', 'pairs',
        'triplets', 'quadruplets', 'chunks'. ``None`` lists every learner.

    Returns
    -------
    estimators : list of (name, class)
        In ``mlearn.__all__`` order.

    Examples
    --------
    >>> from mlearn.utils.discovery import all_estimators
    >>> [name for name, _ in all_estimators(kind="pairs")][:2]
    ['ITMLPairs', 'KISSMEPairs']
    """
    import mlearn

    kinds = (kind,) if isinstance(kind, str) else kind
    for k in kinds or ():
        if k not in KINDS:
            raise ValueError(f"unknown kind {k!r}; expected one of {KINDS}.")
    out = []
    for name in mlearn.__all__:
        obj = getattr(mlearn, name)
        if not inspect.isclass(obj) or getattr(obj, "_kind", None) is None:
            continue
        if kinds is None or obj._kind in kinds:
            out.append((name, obj))
    return out
