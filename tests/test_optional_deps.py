"""torch stays optional: importing mlearn never imports it, and mlearn.deep
without it raises an ImportError that names the extra."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(code, extra_path=None):
    env = dict(os.environ)
    path = [ROOT] + ([extra_path] if extra_path else [])
    env["PYTHONPATH"] = os.pathsep.join(path + [env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=120)


def test_import_mlearn_does_not_import_torch():
    out = _run("import sys, mlearn, mlearn.metrics, mlearn.pairwise\n"
               "assert 'torch' not in sys.modules, 'torch was imported'")
    assert out.returncode == 0, out.stderr


def test_deep_without_torch_names_the_extra(tmp_path):
    (tmp_path / "torch.py").write_text(
        "raise ModuleNotFoundError('No module named torch')\n")
    out = _run("import mlearn.deep", extra_path=str(tmp_path))
    # the shadowing module sits after ROOT but before site-packages
    assert out.returncode != 0
    assert "pip install 'mlearn-metric[torch]'" in out.stderr, out.stderr
