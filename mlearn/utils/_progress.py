"""One progress bar for every iterative learner and the deep head, imported
only when shown.

In a Jupyter kernel it is tqdm's widget when ipywidgets is installed, else the
text bar as one cell output updated in place (``tqdm.auto`` would warn
"IProgress not found" and append a stderr output per update); elsewhere one
line on stderr. tqdm is imported only when ``verbose`` asks for a bar.
"""

import importlib.util
import sys

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
    return _tqdm_bar(total, desc)


def _tqdm_bar(total, desc):
    """One progress bar, updated once per epoch.

    In a Jupyter kernel: tqdm's widget when ipywidgets is installed, otherwise
    the text bar shown as one output of the cell that is updated in place (a
    saved notebook keeps only its last state; ``tqdm.auto`` would instead warn
    "IProgress not found" and append a stderr output per update). Elsewhere one
    line of text on stderr, redrawn in place.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    in_kernel = shell is not None and "IPKernelApp" in getattr(shell, "config", {})
    if in_kernel and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm

        return tqdm(total=total, desc=desc, leave=True)
    from tqdm.std import tqdm

    return tqdm(total=total, desc=desc, leave=True, mininterval=0, miniters=1,
                file=_CellLine() if in_kernel else sys.stderr)


class _CellLine:
    """A text stream for tqdm that shows the latest frame it was sent as one
    output of the running Jupyter cell, replaced at every flush."""

    encoding = "utf-8"

    def __init__(self):
        from IPython.display import display

        self._frame = ""
        self._handle = display({"text/plain": ""}, raw=True, display_id=True)

    def write(self, text):
        frame = text.replace("\n", "").split("\r")[-1].rstrip()
        if frame:
            self._frame = frame

    def flush(self):
        self._handle.update({"text/plain": self._frame}, raw=True)
