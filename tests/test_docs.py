"""The Sphinx documentation builds without a warning, offline, and its code runs.

The build (``python -m sphinx -W --keep-going -b html docs <tmp>``) needs sphinx,
numpydoc, sphinx-gallery and latex2mathml (the ``docs`` extra); without them the
build test is skipped, except under CI (``CI`` set), where a docs build that
never runs is a failure. The pages must read offline: maths as MathML written
at build time, no script or style sheet from the network.
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
    missing = [m for m in ("sphinx", "numpydoc", "sphinx_gallery", "latex2mathml")
               if not _have(m)]
    if missing:
        msg = (f"{' and '.join(missing)} not installed "
               "(pip install 'mlearn-metric[docs]')")
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


def _built_examples():
    sys.path.insert(0, str(DOCS))
    try:
        import conf
    finally:
        sys.path.remove(str(DOCS))
    skipped = set(conf._examples_to_skip())
    paths = sorted((ROOT / "examples").glob("[0-9]*.py"))
    assert paths
    return [p for p in paths if p.name not in skipped]


def test_gallery_shows_every_example_with_its_output(html):
    index = (html / "auto_examples" / "index.html").read_text(encoding="utf-8")
    for path in _built_examples():
        assert f"{path.stem}.html" in index, path.name
        page = (html / "auto_examples" / f"{path.stem}.html").read_text(
            encoding="utf-8")
        # the title docstring is the page title, the printed output is shown
        title = path.read_text(encoding="utf-8").splitlines()[2]
        assert "<h1>" in page and "sphx-glr-script-out" in page, path.name
        assert title.split()[0] in page, path.name
        if "plt." in path.read_text(encoding="utf-8") or "plot_" in path.read_text(
                encoding="utf-8"):
            assert f"sphx_glr_{path.stem}_001.png" in page, path.name
            assert (html / "_images" / f"sphx_glr_{path.stem}_001.png").is_file()


def test_pages_read_offline_with_rendered_maths(html):
    pages = {p.relative_to(html).as_posix(): p.read_text(encoding="utf-8")
             for p in html.rglob("*.html")}
    for name, page in pages.items():
        # nothing the browser would fetch from the network
        assert not re.search(r"""<(script|link|img)[^>]*(src|href)=["']https?:""",
                             page), name
        assert "mathjax" not in page.lower(), name
        # no maths left as raw LaTeX for a script to typeset (scripts and
        # styles, e.g. of scikit-learn's HTML repr, have their own backslashes)
        text = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
        assert not re.search(r"\\[\[(]", text), name
    index = pages["index.html"]
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' \
        in index
    assert "<msup><mi>L</mi><mo>&#x022A4;</mo></msup>" in index  # L^T


def test_html_repr_links_to_pages_that_exist(html):
    from mlearn.utils._repr import DOC_URL, DocLinkMixin

    template = DocLinkMixin._doc_link_template
    assert template.startswith(DOC_URL)
    for name in mlearn.__all__:
        if inspect.isclass(getattr(mlearn, name)):
            url = template.format(estimator_module="mlearn", estimator_name=name)
            assert (html / url[len(DOC_URL):]).is_file(), url


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


def test_mathml_renderer_flags_what_it_cannot_convert(monkeypatch):
    pytest.importorskip("latex2mathml")
    pytest.importorskip("sphinx")
    monkeypatch.syspath_prepend(str(DOCS / "_ext"))
    import mathml

    warned = []
    monkeypatch.setattr(mathml.logger, "warning",
                        lambda *args, **kwargs: warned.append(args))
    out = mathml._mathml(r"\lVert L x \rVert_2^2", True, None)
    assert out.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" '
                          'display="block">')
    assert "<mi>L</mi>" in out and not warned
    # an unknown command, or an alignment outside an environment, would be
    # printed as raw text: the build warns, so -W fails
    mathml._mathml(r"x \unknowncmd y", False, None)
    mathml._mathml(r"a & b", True, None)
    assert [w[1] for w in warned] == [["\\unknowncmd"], "'&'"]
