"""The m-per-class batch sampler."""

import numpy as np

__all__ = ["MPerClassSampler"]


class MPerClassSampler:
    """Batches of at least ``m`` samples from each of several classes.

    Each batch draws ``k = min(n_classes, batch_size // m)`` distinct classes
    and fills ``batch_size`` slots evenly over them (so every class in a batch
    has at least ``m`` samples and positives always exist); samples of a class
    are drawn without replacement while it has enough, else with replacement.
    One epoch is ``ceil(n_samples / batch_size)`` batches. Iterating yields
    index arrays; randomness comes only from ``random_state``.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
    m : int, default=4
    batch_size : int, default=128
    random_state : int, RandomState or None, default=None
    """

    def __init__(self, labels, m=4, batch_size=128, random_state=None):
        labels = np.asarray(labels)
        if m < 1:
            raise ValueError(f"m must be at least 1, got {m}.")
        if batch_size < m:
            raise ValueError(
                f"batch_size ({batch_size}) must be at least m ({m}).")
        self.m = int(m)
        self.batch_size = int(batch_size)
        self.rng = np.random.default_rng(
            random_state.randint(2**31) if isinstance(random_state,
                                                      np.random.RandomState)
            else random_state)
        _, inverse = np.unique(labels, return_inverse=True)
        self._by_class = [np.flatnonzero(inverse == c)
                          for c in range(inverse.max() + 1)]
        self.n_samples = labels.shape[0]

    def __len__(self):
        return -(-self.n_samples // self.batch_size)

    def __iter__(self):
        n_classes = len(self._by_class)
        k = min(n_classes, max(1, self.batch_size // self.m))
        for _ in range(len(self)):
            classes = self.rng.choice(n_classes, size=k, replace=False)
            sizes = np.full(k, self.batch_size // k)
            sizes[: self.batch_size - sizes.sum()] += 1
            parts = []
            for c, size in zip(classes, sizes):
                members = self._by_class[c]
                replace = members.shape[0] < size
                parts.append(self.rng.choice(members, size=size, replace=replace))
            yield np.concatenate(parts)
