"""Every exported estimator renders in Jupyter and speaks pandas.

Discovered from ``mlearn.__all__``: scikit-learn's HTML repr (``_repr_html_``),
``set_output(transform='pandas')`` and ``get_feature_names_out``.
"""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

from conftest import all_estimators, fast_instance, make_blobs_data
from mlearn._constraints import (
    Constraints,
    pairs_from_labels,
    positive_negative_pairs,
)

ESTIMATORS = all_estimators()


def _fitted(Estimator, X, y):
    """Fitted on the supervision its kind takes, built from ``(X, y)``."""
    est = fast_instance(Estimator)
    kind = Estimator._kind
    if kind == "pairs":
        idx, pair_y = pairs_from_labels(y, 60, random_state=0)
        X = np.asarray(X)
        return est.fit(np.stack([X[idx[:, 0]], X[idx[:, 1]]], axis=1), pair_y)
    if kind == "triplets":
        X = np.asarray(X)
        return est.fit(X[Constraints(y).generate_knntriplets(X, 2, 3)])
    if kind == "quadruplets":
        X = np.asarray(X)
        quads = np.column_stack(positive_negative_pairs(y, 60, 0, same_length=True))
        return est.fit(X[quads])
    if kind == "regression":
        return est.fit(X, np.asarray(X)[:, 0] + np.asarray(X)[:, 1])
    return est.fit(X, y)


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
def test_html_repr(Estimator):
    est = fast_instance(Estimator)
    html = est._repr_html_()
    assert Estimator.__name__ in html and "<style" in html
    X, y = make_blobs_data(n_features=4)
    fitted = _fitted(Estimator, X, y)
    assert Estimator.__name__ in estimator_html_repr(fitted)
    assert "fitted" in estimator_html_repr(fitted).lower()
    pipe_html = make_pipeline(StandardScaler(), est)._repr_html_()
    assert Estimator.__name__ in pipe_html and "StandardScaler" in pipe_html


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
def test_set_output_pandas_and_feature_names(Estimator):
    pd = pytest.importorskip("pandas")
    X, y = make_blobs_data(n_features=4)
    cols = ["alpha", "beta", "gamma", "delta"]
    Xdf = pd.DataFrame(X, columns=cols, index=np.arange(100, 100 + len(X)))
    pairs = Estimator._kind in ("pairs", "triplets", "quadruplets")
    # Pair learners are fitted on 3-D pairs, so they never see column names.
    Xin = X if pairs else Xdf
    est = _fitted(Estimator, Xin, y)
    expected = est.transform(Xin)
    names = est.get_feature_names_out()
    prefix = Estimator.__name__.lower()
    assert list(names) == [f"{prefix}{i}" for i in range(expected.shape[1])]
    est.set_output(transform="pandas")
    out = est.transform(Xin)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(names)
    np.testing.assert_allclose(out.to_numpy(), expected)
    if not pairs:
        assert list(out.index) == list(Xdf.index)
        np.testing.assert_array_equal(est.feature_names_in_, cols)
        np.testing.assert_array_equal(est.get_feature_names_out(cols), names)
        # Pipeline set_output carries the names through every step.
        pipe = make_pipeline(StandardScaler(), fast_instance(Estimator))
        pipe.set_output(transform="pandas")
        out = pipe.fit(Xdf, y).transform(Xdf)
        assert list(out.columns) == list(pipe.get_feature_names_out())
        assert list(out.columns)[0] == f"{prefix}0"
