"""README.md says what is true: its Python blocks run, its commands match CI."""

import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
if not README.is_file():  # .ci/run's scikit-learn 1.6 step copies tests/ alone
    pytest.skip("README.md is not beside tests/", allow_module_level=True)


def _blocks(language):
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```$", text, flags=re.M | re.S)


def test_readme_has_python_blocks():
    assert len(_blocks("python")) >= 2


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_block_runs(index, capsys):
    code = _blocks("python")[index]
    if re.search(r"^\s*(import torch|from mlearn\.deep|from mlearn import deep)",
                 code, flags=re.M) and importlib.util.find_spec("torch") is None:
        pytest.skip("this README block needs torch")
    # each block runs alone, in a fresh namespace, as a reader would paste it
    exec(compile(code, f"README.md python block {index}", "exec"), {})
    assert capsys.readouterr().out.strip()  # every block shows a result


def test_readme_set_up_commands_are_the_ones_ci_runs():
    bash = _blocks("bash")
    assert bash == ['pip install . && python -m mlearn demo\n',
                    'pip install torch==2.13.0 ".[test]" && python -m pytest\n']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert bash[1].strip() in ci.splitlines()


def test_readme_installs_the_distribution_name_of_setup_cfg():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    name = cfg["metadata"]["name"]
    assert name != "mlearn"  # PyPI's mlearn is an unrelated project
    text = README.read_text(encoding="utf-8")
    for doc in (text, (ROOT / "docs" / "install.rst").read_text(encoding="utf-8")):
        installs = re.findall(r"pip install ['\"]?([A-Za-z][\w.-]*)", doc)
        assert installs, "no pip install of the package"
        for dist in installs:
            assert dist in (name, "torch"), dist
