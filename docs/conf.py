"""Sphinx configuration for mlearn (offline: no intersphinx, no downloads).

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.

The pages read offline: maths is converted to MathML at build time
(``_ext/mathml.py``, latex2mathml) instead of being typeset by MathJax from a
CDN, and the examples gallery (sphinx-gallery) runs ``examples/*.py`` during the
build and shows their outputs and figures.

The API page lists only what this build of mlearn provides: ``api.rst`` holds
placeholders (``@MLEARN_LEARNERS@``, ``@MLEARN_DEEP@``, ``@MLEARN_METRICS@``,
``@MLEARN_COMPAT@``) that are replaced when the page is read, and the stub pages
of the names they list are generated here (autosummary itself only scans the raw
files). So the docs build with ``-W`` before and after each learner, the deep
head and the retrieval metrics are merged, with or without torch installed.
"""

import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import mlearn  # noqa: E402

project = "mlearn"
author = "the mlearn developers"
copyright = "the mlearn developers"
release = version = mlearn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "mathml",
    "sphinx_gallery.gen_gallery",
]
html_math_renderer = "mathml"
try:  # numpydoc renders our docstrings best; napoleon is the fallback
    import numpydoc  # noqa: F401

    extensions.append("numpydoc")
    numpydoc_show_class_members = False
    numpydoc_class_members_toctree = False
    numpydoc_validation_checks = set()
except ImportError:  # pragma: no cover
    extensions.append("sphinx.ext.napoleon")

autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "alabaster"
html_static_path = []
html_title = f"mlearn {release}"
# Learners documented in the API page when (and only when) mlearn exports them.
LEARNERS = ["Covariance", "LMNN", "ITML", "ITMLPairs", "MMC", "MMCPairs",
            "KISSME", "KISSMEPairs"]


def _autosummary(module, names):
    lines = [f".. currentmodule:: {module}", "", ".. autosummary::",
             "   :toctree: generated/", "   :nosignatures:", ""]
    lines += [f"   {n}" for n in names]
    return "\n".join(lines) + "\n\n.. currentmodule:: mlearn\n"


def _api_learners():
    present = [n for n in LEARNERS if getattr(mlearn, n, None) is not None]
    extra = [n for n in mlearn.__all__
             if n not in LEARNERS and isinstance(getattr(mlearn, n), type)
             and n != "Constraints"]
    return _autosummary("mlearn", present + sorted(extra))


def _optional_api(module, missing):
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError:
        return missing
    names = list(getattr(mod, "__all__", []))
    if not names:
        return missing
    return _autosummary(module, names)


def _deep_api():
    return _optional_api(
        "mlearn.deep",
        "*Not available in this build* (``mlearn.deep`` needs torch: "
        "``pip install 'mlearn-metric[torch]'``).\n")


def _metrics_api():
    return _optional_api("mlearn.metrics", "*Not available in this build.*\n")


def _compat_api():
    from mlearn.compat import metric_learn as ml

    names = []
    for n in ml.__all__:
        if n == "Constraints":  # mlearn.Constraints itself, documented above
            continue
        try:
            getattr(ml, n)
        except AttributeError:  # its mlearn target is not in this build
            continue
        names.append(n)
    return _autosummary("mlearn.compat.metric_learn", names)


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _missing_requirement(requirement):
    """True if ``requirement`` (a module or a dotted attribute) does not resolve."""
    import importlib

    parts = requirement.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return True
        return False
    return True


def _examples_to_skip():
    """Examples whose ``# requires:`` line names something this build lacks."""
    import re

    skip = []
    for path in sorted(EXAMPLES.glob("[0-9]*.py")):
        match = re.search(r"^# requires:(.*)$", path.read_text(encoding="utf-8"),
                          flags=re.M)
        if match and any(_missing_requirement(r) for r in match.group(1).split()):
            skip.append(path.name)
    return skip


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/[0-9][0-9]_",  # run every example
    "ignore_pattern": "|".join([r"__init__\.py"] + [
        re.escape(name) for name in _examples_to_skip()]),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "backreferences_dir": None,
    "show_memory": False,
    "show_signature": False,
    "write_computation_times": False,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 3600,
}


PLACEHOLDERS = {
    "@MLEARN_LEARNERS@": _api_learners,
    "@MLEARN_DEEP@": _deep_api,
    "@MLEARN_METRICS@": _metrics_api,
    "@MLEARN_COMPAT@": _compat_api,
}


def _fill_placeholders(app, docname, source):
    text = source[0]
    for marker, make in PLACEHOLDERS.items():
        if marker in text:
            text = text.replace(marker, make())
    source[0] = text


def _generate_placeholder_stubs(app):
    """Write the autosummary stubs of the names the placeholders expand to."""
    from sphinx.ext.autosummary import get_rst_suffix
    from sphinx.ext.autosummary.generate import generate_autosummary_docs

    out = Path(app.srcdir) / "generated"
    out.mkdir(exist_ok=True)
    listing = out / "_placeholders.txt"  # not a source file (.txt)
    listing.write_text("\n".join(make() for make in PLACEHOLDERS.values()),
                       encoding="utf-8")
    generate_autosummary_docs([str(listing)], output_dir=out,
                              suffix=get_rst_suffix(app) or ".rst", app=app,
                              overwrite=False)


def _skip_sklearn_plumbing(app, what, name, obj, skip, options):
    """Document mlearn's own methods, inherited ones included, but not the
    methods every scikit-learn estimator inherits from scikit-learn
    (``get_params``, ``set_output``, metadata routing, ...) or every loss
    inherits from ``torch.nn.Module``: their docstrings cite those projects'
    own documentation."""
    if what == "class":
        module = getattr(obj, "__module__", None) or ""
        if module.startswith(("sklearn", "torch")) or (
                name.startswith("set_") and name.endswith("_request")):
            return True
    return None


def _always_reread(app, env, added, changed, removed):
    """Pages with placeholders depend on the installed mlearn, not on their text."""
    return [doc for doc in ("api",) if doc in env.found_docs]


def setup(app):
    app.connect("env-get-outdated", _always_reread)
    app.connect("autodoc-skip-member", _skip_sklearn_plumbing)
    app.connect("builder-inited", _generate_placeholder_stubs)
    app.connect("source-read", _fill_placeholders)
