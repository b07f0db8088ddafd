"""``python -m mlearn demo`` / ``compare``: tables, progress, errors."""

import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

import mlearn
from mlearn import _cli


def test_available_learners_are_the_exported_supervised_estimators():
    from mlearn.base import PairsClassifierMixin

    learners = _cli.available_learners()
    assert "Covariance" in learners
    for name, E in learners.items():
        assert name in mlearn.__all__
        assert not issubclass(E, PairsClassifierMixin)
    for name in mlearn.__all__:
        if name.endswith("Pairs"):
            assert name not in learners


def test_compare_prints_table_and_progress(capsys):
    assert _cli.main(["compare", "--dataset", "iris", "--learners",
                      "covariance"]) == 0
    out, err = capsys.readouterr()
    assert "Euclidean (baseline)" in out and "Covariance" in out
    assert "[1/1] Covariance" in err and "iris" in err
    # The baseline equals an independent 3-NN computation on the same split.
    X, y = load_iris(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=0)
    s = StandardScaler().fit(X_tr)
    acc = KNeighborsClassifier(3).fit(s.transform(X_tr), y_tr).score(
        s.transform(X_te), y_te)
    baseline_line = next(line for line in out.splitlines()
                         if line.startswith("Euclidean"))
    assert f"{acc:.3f}" in baseline_line


def test_compare_quiet_has_no_progress(capsys):
    _cli.main(["compare", "--dataset", "wine", "--learners", "Covariance",
               "--quiet"])
    assert capsys.readouterr().err == ""


def test_run_comparison_reports_errors_in_table():
    class Broken(mlearn.Covariance):
        def fit(self, X, y=None):
            raise RuntimeError("boom")

    X, y = load_iris(return_X_y=True)
    baseline, rows = _cli.run_comparison(X, y, {"Broken": Broken,
                                                "Covariance": mlearn.Covariance})
    assert rows[0]["accuracy"] is None and "RuntimeError: boom" in rows[0]["note"]
    assert rows[1]["accuracy"] is not None and rows[1]["fit_time"] >= 0
    table = _cli.format_table(baseline, rows)
    assert "error: RuntimeError: boom" in table


@pytest.mark.parametrize("argv, message", [
    (["compare", "--dataset", "nope"], "unknown dataset 'nope'"),
    (["compare", "--dataset", "iris", "--learners", "NoSuch"],
     "unknown learner 'NoSuch'; available: "),
    (["compare", "--dataset", "iris", "--learners", "MLKR"],
     "learner 'MLKR' learns from a continuous target, and this dataset has "
     "class labels; learners for it: "),
    (["compare", "--dataset", "diabetes", "--learners", "nca"],
     "learner 'nca' learns from class labels, and this dataset has a "
     "continuous target; learners for it: MLKR."),
    (["compare", "--dataset", "iris", "--target", "y"],
     "--target only applies to CSV files"),
    (["demo", "--n-neighbors", "0"], "--n-neighbors must be at least 1, got 0."),
])
def test_clear_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        _cli.main(argv)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_csv_last_column_and_target(tmp_path, capsys):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(",".join([*map(str, row), lab])
                               for row, lab in zip(X, names)))
    Xc, yc, _ = _cli.load_dataset(str(plain))
    np.testing.assert_array_equal(Xc, X)
    np.testing.assert_array_equal(yc, y)
    headed = tmp_path / "headed.csv"
    headed.write_text("species,a,b,c,d\n" + "\n".join(
        ",".join([lab, *map(str, row)]) for row, lab in zip(X, names)))
    Xh, yh, _ = _cli.load_dataset(str(headed), target="species")
    np.testing.assert_array_equal(Xh, X)
    np.testing.assert_array_equal(yh, y)
    assert _cli.main(["compare", "--dataset", str(headed), "--target", "species",
                      "--learners", "Covariance", "--quiet"]) == 0
    with pytest.raises(ValueError, match=re.escape(
            "--target 'nope' is not a column of")):
        _cli.load_dataset(str(headed), target="nope")


def test_help_and_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "mlearn", "compare", "--help"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "--dataset" in result.stdout and "breast_cancer" in result.stdout


def _tables(stdout):
    """``[(title, baseline, {learner: accuracy or None, ...}), ...]``."""
    tables = []
    for block in stdout.strip().split("\n\n"):
        lines = block.splitlines()
        rows = {}
        for line in lines[4:]:
            name, _, after = re.split(r"\s{2,}", line)[:3]
            rows[name] = None if after == "-" else float(after)
        baseline = float(re.split(r"\s{2,}", lines[3])[1])
        tables.append((lines[0], baseline, rows))
    return tables


def test_demo_runs_every_learner():
    result = subprocess.run([sys.executable, "-m", "mlearn", "demo"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    noise, digits = _tables(result.stdout)
    assert noise[0].startswith("make_clustered_noise(random_state=0)")
    assert digits[0].startswith("digits")
    learners = _cli.available_learners()
    for title, baseline, rows in (noise, digits):
        assert set(rows) == set(learners), result.stdout
    # what metric learning is for: every learner at or above Euclidean
    assert all(acc >= noise[1] for acc in noise[2].values()), result.stdout
    # default parameters converge on the demo's data sets, and the first
    # table (what the user sees first) carries no warning at all; RCA's note
    # on digits (its 100 chunklets leave directions unseen) is information
    assert "ConvergenceWarning" not in result.stdout + result.stderr
    assert "Warning" not in "\n".join(result.stdout.split("\n\n")[0:1])
    assert "digits" in result.stderr


def test_compare_warms_learners_up_before_timing():
    calls = []

    class Counting(mlearn.Covariance):
        def fit(self, X, y=None):
            calls.append(X.shape[0])
            return super().fit(X, y)

    X, y = load_iris(return_X_y=True)
    _cli.run_comparison(X, y, {"Counting": Counting})
    # one untimed fit on a few points per class, then the timed one on all
    assert calls == [18, 105]


@pytest.mark.parametrize("cell, problem", [
    ("", "missing value"), ("  ", "missing value"), ("abc", "'abc' is not a number"),
])
def test_csv_bad_cell_is_named(tmp_path, cell, problem):
    rows = [["a", "b", "label"], ["1", "2", "x"], ["3", "4", "y"], ["5", cell, "x"]]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(",".join(r) for r in rows))
    with pytest.raises(ValueError, match=re.escape(
            f"CSV file {str(path)!r}, row 4, column 'b': {problem}")):
        _cli.load_dataset(str(path))
    path.write_text("\n".join(",".join(r) for r in rows[1:]))
    with pytest.raises(ValueError, match=re.escape(
            f"CSV file {str(path)!r}, row 3, column 2: {problem}")):
        _cli.load_dataset(str(path))


def test_compare_treats_a_continuous_target_as_regression(tmp_path, capsys):
    assert _cli.main(["compare", "--dataset", "diabetes", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "a continuous target" in out and "3-NN R² before" in out
    assert set(_cli.available_learners("regression")) == {"MLKR"}
    assert "MLKR" in out and "NCA" not in out
    from sklearn.datasets import make_friedman1
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsRegressor

    X, y = make_friedman1(n_samples=120, n_features=5, random_state=0)
    baseline, rows = _cli.run_comparison(X, y, {}, scale=False)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    expected = KNeighborsRegressor(3).fit(X_tr, y_tr).score(X_te, y_te)
    assert baseline == pytest.approx(expected)  # R² of kNN regression
    path = tmp_path / "reg.csv"
    path.write_text("a,b,t\n" + "\n".join(f"{i},{i % 7},{i * 0.37:.2f}"
                                          for i in range(60)))
    X, y, _ = _cli.load_dataset(str(path))
    assert y.dtype.kind == "f" and _cli.is_regression(y)
