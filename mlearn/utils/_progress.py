"""One progress bar for every iterative learner, imported only when shown.

``tqdm.auto`` picks the notebook widget in Jupyter and a text bar in a
terminal; importing it costs time and, in a notebook without ipywidgets,
prints a warning, so it is imported only when ``verbose`` asks for a bar.
"""

__all__ = ["progress_bar"]


class _NoBar:
    """The part of tqdm's interface the learners use, doing nothing."""

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def progress_bar(total, desc, verbose):
    """A tqdm bar over ``total`` steps when ``verbose``, else a silent stand-in.

    Examples
    --------
    >>> with progress_bar(10, "fit", verbose=0) as bar:
    ...     bar.update(1)
    """
    if not verbose:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc)
