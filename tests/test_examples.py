"""Every example runs as a notebook: jupytext -> nbformat -> nbclient (python3 kernel).

An example names what it needs on a ``# requires:`` line (mlearn learners,
optional packages); when one is missing the example is skipped, never failed.
"""

import importlib
import os
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("[0-9]*.py"))


def _requirements(path):
    match = re.search(r"^# requires:(.*)$", path.read_text(), flags=re.M)
    return match.group(1).split() if match else []


def _missing(requirement):
    """None if ``requirement`` (a module or a dotted module attribute) resolves."""
    parts = requirement.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return requirement
        return None
    return requirement


def test_examples_are_found():
    assert len(EXAMPLES) >= 8


def test_examples_have_title_docstring_and_cells():
    # The title docstring sits in a markdown cell: a notebook renders it as
    # text (not as a string output) and sphinx-gallery reads it as the title.
    for path in EXAMPLES:
        text = path.read_text()
        assert text.startswith('# %% [markdown]\n"""\n'), path.name
        assert "# %%" in text[3:], path.name


def test_example_title_is_the_first_markdown_cell():
    jupytext = pytest.importorskip("jupytext")
    for path in EXAMPLES:
        first = jupytext.read(path).cells[0]
        assert first.cell_type == "markdown", path.name
        title, underline = first.source.splitlines()[:2]
        assert underline == "=" * len(title), path.name


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_as_notebook(path, tmp_path, monkeypatch):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    missing = [r for r in _requirements(path) if _missing(r) is not None]
    if missing:
        pytest.skip(f"{path.name} needs {', '.join(missing)}")
    # The kernel is a fresh process: make it import this checkout, draw headless.
    pythonpath = os.pathsep.join(filter(None, [str(ROOT),
                                               os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", pythonpath)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = jupytext.read(path)
    assert sum(c.cell_type == "code" for c in nb.cells) >= 2
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120,
        resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type == "stream" for o in outputs)
    # Nothing on stderr that the reader did not ask for (a cell asking for
    # progress with verbose=1 may print it).
    noise = [o.text for c in nb.cells if c.cell_type == "code"
             and not re.search(r"verbose=(1|True)", c.source)
             for o in c.outputs
             if o.output_type == "stream" and o.name == "stderr"]
    assert not "".join(noise).strip(), "".join(noise)
    # nor the repr of a matplotlib object left as a cell's last expression
    reprs = [o.data.get("text/plain", "") for o in outputs
             if o.output_type == "execute_result"]
    assert not [r for r in reprs
                if re.match(r"\[?(<matplotlib|<Axes|<Figure|Text\()", r)], reprs

