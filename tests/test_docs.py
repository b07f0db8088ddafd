"""The Sphinx documentation builds without a warning, offline, and its code runs.

The build (``python -m sphinx -W --keep-going -b html docs <tmp>``) needs sphinx
and numpydoc (the ``docs`` extra); without them the build test is skipped, except
under CI (``CI`` set), where a docs build that never runs is a failure.
"""

import importlib.util
import inspect
import os
import pathlib
import re
import subprocess
import sys

import pytest

import mlearn

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _have(module):
    return importlib.util.find_spec(module) is not None


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    missing = [m for m in ("sphinx", "numpydoc") if not _have(m)]
    if missing:
        msg = f"{' and '.join(missing)} not installed (pip install 'mlearn-metric[docs]')"
        if os.environ.get("CI"):
            pytest.fail(f"CI must build the docs: {msg}")
        pytest.skip(msg)
    out = tmp_path_factory.mktemp("html")
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(
                   filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(DOCS), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return out


def test_sphinx_build_has_no_warnings(html):
    assert (html / "index.html").is_file()


def test_api_page_lists_every_exported_learner(html):
    for name in mlearn.__all__:
        if inspect.isclass(getattr(mlearn, name)):
            assert (html / "generated" / f"mlearn.{name}.html").is_file(), name
    page = (html / "api.html").read_text(encoding="utf-8")
    assert "@MLEARN_" not in page


def test_examples_page_shows_every_example(html):
    page = (html / "examples.html").read_text(encoding="utf-8")
    examples = sorted((ROOT / "examples").glob("[0-9]*.py"))
    assert examples
    for path in examples:
        assert f"examples/{path.name}" in page, path.name


def test_every_user_guide_page_states_objective_and_cost():
    for page in sorted((DOCS / "user_guide").glob("*.rst")):
        text = page.read_text(encoding="utf-8")
        assert ".. math::" in text, page.name
        assert re.search(r"^Cost$", text, flags=re.M), page.name


def _code_blocks(path):
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text,
                        flags=re.M)
    return "\n".join("\n".join(line[4:] for line in b.splitlines()) for b in blocks)


def test_quickstart_code_runs():
    if getattr(mlearn, "ITML", None) is None or getattr(mlearn, "ITMLPairs",
                                                        None) is None:
        pytest.skip("the quickstart uses mlearn.ITML and mlearn.ITMLPairs")
    code = _code_blocks(DOCS / "quickstart.rst")
    assert "ITML(random_state=0).fit" in code
    exec(compile(code, str(DOCS / "quickstart.rst"), "exec"), {})
