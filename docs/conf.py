"""Sphinx configuration for mlearn (offline: no intersphinx, no downloads).

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.

The API page lists only what this build of mlearn provides: ``api.rst`` holds
placeholders (``@MLEARN_LEARNERS@``, ``@MLEARN_DEEP@``, ``@MLEARN_METRICS@``,
``@MLEARN_COMPAT@``) that are replaced when the page is read, and the stub pages
of the names they list are generated here (autosummary itself only scans the raw
files). So the docs build with ``-W`` before and after each learner, the deep
head and the retrieval metrics are merged, with or without torch installed.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.abspath(".."))
os.environ.setdefault("MPLBACKEND", "Agg")

import mlearn  # noqa: E402

project = "mlearn"
author = "the mlearn developers"
copyright = "the mlearn developers"
release = version = mlearn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
]
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
# MathJax is loaded by the browser; set MLEARN_MATHJAX to a local copy to read
# the built pages without network access. The build itself never downloads.
if os.environ.get("MLEARN_MATHJAX"):
    mathjax_path = os.environ["MLEARN_MATHJAX"]

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


def _examples():
    """A section per ``examples/0*.py``: its docstring, then the script."""
    import ast

    root = Path(__file__).resolve().parent.parent / "examples"
    out = []
    for path in sorted(root.glob("[0-9]*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        lines = (doc or path.stem).splitlines()
        title = lines[0].strip()
        body = [ln for ln in lines[1:] if set(ln.strip()) != {"="}]
        out += [title, "-" * len(title), "", *body, "",
                f"``examples/{path.name}``", "",
                f".. literalinclude:: ../examples/{path.name}",
                "   :language: python", "   :lines: %d-" % _after_docstring(path),
                ""]
    return "\n".join(out) + "\n"


def _after_docstring(path):
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    first = tree.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return first.end_lineno + 1
    return 1


PLACEHOLDERS = {
    "@MLEARN_LEARNERS@": _api_learners,
    "@MLEARN_DEEP@": _deep_api,
    "@MLEARN_METRICS@": _metrics_api,
    "@MLEARN_COMPAT@": _compat_api,
    "@MLEARN_EXAMPLES@": _examples,
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
    return [doc for doc in ("api", "examples") if doc in env.found_docs]


def setup(app):
    app.connect("env-get-outdated", _always_reread)
    app.connect("autodoc-skip-member", _skip_sklearn_plumbing)
    app.connect("builder-inited", _generate_placeholder_stubs)
    app.connect("source-read", _fill_placeholders)
