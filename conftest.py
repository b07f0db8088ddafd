"""Collection rules for doctests under mlearn/ (pytest's testpaths include it)."""

import importlib.util

# mlearn.deep needs torch; without it its modules cannot be imported for doctests
collect_ignore_glob = []
if importlib.util.find_spec("torch") is None:
    collect_ignore_glob.append("mlearn/deep/*")
