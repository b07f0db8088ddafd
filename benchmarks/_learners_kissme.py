"""KISSME rows for bench_estimators.py (mlearn only: metric-learn has no KISSME).

``n_components=None`` uses all features with a small shrinkage, which keeps the
two covariances invertible on the standardised benchmark data (digits has
constant pixels); the PCA variant keeps at most 30 components, as the paper does.
"""


def _mlearn():
    from mlearn import KISSME

    return KISSME(shrinkage=0.01)


class _KISSMEPCA:
    """KISSME with the paper's PCA step to min(30, n_features) components."""

    def fit(self, X, y):
        from mlearn import KISSME

        self.est_ = KISSME(n_components=min(30, X.shape[1])).fit(X, y)
        return self

    def transform(self, X):
        return self.est_.transform(X)


LEARNERS = {
    "KISSME": {"mlearn": _mlearn},
    "KISSME-PCA30": {"mlearn": _KISSMEPCA},
}
