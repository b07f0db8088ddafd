"""``DeepMetricEmbedding``: a torch module trained with a metric-learning loss,
behind scikit-learn's transformer API."""

import copy
import inspect
import time
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from mlearn.deep._miners import MINERS
from mlearn.deep._registry import LOSSES
from mlearn.deep._sampler import MPerClassSampler
from mlearn.deep._training import (
    _OPTIMIZERS,
    _accepts_miner,
    _check_prefixed,
    _make_optimizer,
    _make_scheduler,
    _new_rng_states,
    _own_rng,
    _require_y,
    _resolve_device,
    _tensor,
    _torch_threads,
)
from mlearn.metrics import (
    mean_average_precision_at_r,
    precision_at_1,
    r_precision,
)
from mlearn.utils._progress import progress_bar
from mlearn.utils._repr import DocLinkMixin
from mlearn.utils._sklearn_compat import (
    Interval,
    StrOptions,
    _fit_context,
    validate_data,
)
from mlearn.utils._validation import check_classes

__all__ = ["MLP", "DeepMetricEmbedding"]

_SCORES = {
    "precision_at_1": precision_at_1,
    "r_precision": r_precision,
    "map_at_r": mean_average_precision_at_r,
}


class MLP(torch.nn.Module):
    """A plain multilayer perceptron, the default ``module``.

    Inputs of any shape are flattened per sample. ``in_features`` is filled in
    by :class:`DeepMetricEmbedding` from the data when not given.

    Parameters
    ----------
    in_features : int
    hidden : tuple of int, default=(256,)
        Widths of the hidden layers (ReLU after each).
    out_features : int, default=32
        Embedding dimension.
    """

    def __init__(self, in_features, hidden=(256,), out_features=32):
        super().__init__()
        layers, width = [torch.nn.Flatten()], int(in_features)
        for h in hidden:
            layers += [torch.nn.Linear(width, int(h)), torch.nn.ReLU()]
            width = int(h)
        layers.append(torch.nn.Linear(width, int(out_features)))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


# torch's thread count is process-wide: concurrent fits (threads) share one
# saved value, restored when the last of them leaves.
class DeepMetricEmbedding(DocLinkMixin, TransformerMixin, BaseEstimator):
    """A torch ``nn.Module`` trained with a metric-learning loss, as a
    scikit-learn transformer.

    ``fit(X, y)`` trains the module on mini-batches (by default each holding at
    least ``m_per_class`` samples of every class it draws) to minimise
    ``loss``; ``transform(X)`` returns the embeddings as a numpy array, so the
    estimator drops into a ``Pipeline`` before ``KNeighborsClassifier`` like
    any linear learner. Parameters of the module, loss, miner, optimizer and
    learning-rate scheduler are given with the prefixes ``module__``,
    ``loss__``, ``miner__``, ``optimizer__`` and ``lr_scheduler__`` (skorch's
    convention), so ``clone``, ``GridSearchCV`` and pickling work.

    Needs torch (``pip install "mlearn-metric[torch]"``).

    Parameters
    ----------
    module : nn.Module class or instance, default=None
        The network. A class is instantiated at ``fit`` with the ``module__*``
        parameters; its ``in_features`` argument, when it has one and it is not
        given, is set to the number of features of ``X`` (``prod(X.shape[1:])``).
        An instance is deep-copied at each ``fit`` (the one passed in is never
        trained). ``None`` means :class:`MLP`.
    loss : str or nn.Module instance, default='multi_similarity'
        One of ``mlearn.deep.LOSSES`` — 'contrastive', 'triplet', 'npair',
        'lifted_structure', 'multi_similarity', 'proxy_nca', 'proxy_anchor',
        'soft_triple', 'center', 'cross_entropy', 'normalized_softmax',
        'cosface', 'am_softmax', 'sphereface', 'arcface' — built with the
        ``loss__*`` parameters (losses with class vectors get ``n_classes`` and
        ``embedding_dim`` from the data and the module), or a loss module
        called as ``loss(embeddings, labels)`` (a pytorch-metric-learning loss
        works), deep-copied at ``fit``.
    miner : str, callable or None, default=None
        'batch_all', 'batch_hard' or 'semi_hard' (with ``miner__*``), or a
        callable ``miner(embeddings, labels) -> indices_tuple``; only for losses
        that take mined tuples: mlearn's pair and triplet losses, and any loss
        whose ``forward`` has an ``indices_tuple`` parameter (as
        pytorch-metric-learning's have), called as
        ``loss(embeddings, labels, indices_tuple)``.
    optimizer : {'adam', 'adamw', 'sgd'} or torch optimizer class, default='adam'
        Built with ``lr``, ``weight_decay`` and the ``optimizer__*`` parameters.
    lr : float, default=1e-3
    lr_scheduler : {'cosine', 'step'}, torch scheduler class or None, default=None
        Learning-rate schedule, stepped after every epoch: 'cosine' is
        ``CosineAnnealingLR`` (``T_max=max_epochs``), 'step' is ``StepLR``
        (``step_size=max_epochs // 3``, ``gamma=0.1``); a class (e.g.
        ``torch.optim.lr_scheduler.OneCycleLR``) is built as
        ``cls(optimizer, **lr_scheduler__*)``. ``lr_scheduler__*`` parameters
        override the defaults. ``ReduceLROnPlateau`` watches the validation
        score (``mode='max'``) when there is one, else the epoch loss.
    weight_decay : float, default=0.0
    loss_lr_multiplier : float, default=1.0
        Learning-rate factor for the loss's own parameters (proxies, class
        weights); ProxyAnchor's paper uses 100.
    batch_size : int, default=128
    max_epochs : int, default=20
    sampler : {'m_per_class', 'random'}, default='m_per_class'
        'm_per_class' (:class:`MPerClassSampler`) draws
        ``min(n_classes, batch_size // m_per_class)`` classes per batch and
        shares the ``batch_size`` slots evenly among them, so every batch holds
        positive pairs; 'random' shuffles.
    m_per_class : int, default=4
        The *least* number of samples of each drawn class in a batch. With
        fewer than ``batch_size // m_per_class`` classes every class is drawn
        and gets more: on digits (10 classes) the defaults give 12 or 13
        samples per class and batch.
    normalize : bool, default=True
        L2-normalise the embeddings returned by ``transform`` (the losses
        compare normalised embeddings).
    validation_fraction : float or None, default=None
        Hold out this stratified fraction of the training data and record its
        ``scoring`` after every epoch (``history_``, and the progress bar).
        ``None`` holds nothing out, unless ``early_stopping`` is on (then 0.1,
        as in scikit-learn's MLP).
    early_stopping : bool, default=False
        Stop once the validation score has failed to improve on the best so
        far by at least ``tol`` for more than ``n_iter_no_change`` consecutive
        epochs, and keep the module (and loss) weights of the best epoch —
        scikit-learn ``MLPClassifier``'s rule. Off in ``partial_fit``.
    n_iter_no_change : int, default=10
        Epochs without improvement tolerated before early stopping.
    tol : float, default=1e-4
        The least improvement of the validation score that counts.
    scoring : {'precision_at_1', 'r_precision', 'map_at_r'}, default='precision_at_1'
        What ``score`` and the validation report.
    device : str, default='auto'
        'auto' uses CUDA when available, else the CPU; otherwise a torch
        device name ('cpu', 'cuda', 'cuda:1', 'mps'), checked at ``fit``: a
        device torch cannot use here raises a ValueError listing those it can.
    n_threads : int, default=1
        torch CPU threads used during ``fit``/``transform`` (restored after);
        more than the physical cores oversubscribes them.
    warm_start : bool, default=False
        Continue training the fitted module (and loss, optimizer state) on the
        next ``fit`` instead of starting over.
    random_state : int, RandomState instance or None, default=None
        Seeds the module initialisation, the batches, the loss's proxies and
        the module's own randomness (dropout), drawn from random streams of the
        estimator's own: the same seed gives the same embeddings on the CPU,
        also when several fits run in concurrent threads. The global torch RNG
        state is left as it was.
    verbose : int, default=0
        1 shows one progress bar, updated per epoch with the epoch loss and
        the validation score: a widget in Jupyter (with ipywidgets), else one
        line of text on stderr redrawn in place (in a notebook, one cell output
        replaced in place). 0 prints nothing and draws no bar.
    **kwargs
        ``module__*``, ``loss__*``, ``miner__*``, ``optimizer__*`` and
        ``lr_scheduler__*`` parameters.

    Attributes
    ----------
    module_ : nn.Module
        The trained network (in eval mode).
    device_ : torch.device
        Where the module lives (the CPU after unpickling).
    loss_ : nn.Module
        The loss with its trained parameters (proxies, ...).
    classes_ : ndarray
    n_features_in_ : int
    embedding_dim_ : int
    n_iter_ : int
        Epochs run (over all ``fit``/``partial_fit`` calls of a warm start).
    history_ : list of dict
        Per epoch: ``epoch``, ``loss`` (mean over batches), ``lr`` (the
        learning rate of the epoch), ``time`` and, with a validation set,
        ``val_score``.
    best_validation_score_ : float or None
        With ``early_stopping``, the best validation score of the last
        ``fit``, whose weights the module holds; else None.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from mlearn.deep import DeepMetricEmbedding
    >>> X, y = load_iris(return_X_y=True)
    >>> est = DeepMetricEmbedding(module__hidden=(16,), module__out_features=4,
    ...                           max_epochs=2, random_state=0).fit(X, y)
    >>> est.transform(X[:2]).shape
    (2, 4)
    """

    _parameter_constraints = {
        "module": [None, type, torch.nn.Module],
        "loss": [StrOptions(set(LOSSES)), torch.nn.Module],
        "miner": [None, StrOptions(set(MINERS)), callable],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_scheduler": [None, StrOptions({"cosine", "step"}), type],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "loss_lr_multiplier": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "sampler": [StrOptions({"m_per_class", "random"})],
        "m_per_class": [Interval(Integral, 1, None, closed="left")],
        "normalize": ["boolean"],
        "validation_fraction": [None, Interval(Real, 0, 1, closed="neither")],
        "early_stopping": ["boolean"],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "scoring": [StrOptions(set(_SCORES))],
        "device": [str],
        "n_threads": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, module=None, *, loss="multi_similarity", miner=None,
                 optimizer="adam", lr=1e-3, lr_scheduler=None, weight_decay=0.0,
                 loss_lr_multiplier=1.0, batch_size=128, max_epochs=20,
                 sampler="m_per_class", m_per_class=4, normalize=True,
                 validation_fraction=None, early_stopping=False,
                 n_iter_no_change=10, tol=1e-4, scoring="precision_at_1",
                 device="auto", n_threads=1, warm_start=False,
                 random_state=None, verbose=0, **kwargs):
        self.module = module
        self.loss = loss
        self.miner = miner
        self.optimizer = optimizer
        self.lr = lr
        self.lr_scheduler = lr_scheduler
        self.weight_decay = weight_decay
        self.loss_lr_multiplier = loss_lr_multiplier
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.sampler = sampler
        self.m_per_class = m_per_class
        self.normalize = normalize
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.scoring = scoring
        self.device = device
        self.n_threads = n_threads
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        # extra parameters are checked at fit, like every other parameter
        self._extra_keys = set(kwargs)
        for key, value in kwargs.items():
            setattr(self, key, value)

    # -- parameters ---------------------------------------------------------

    def _extra_params(self):
        return {k: getattr(self, k) for k in sorted(getattr(self, "_extra_keys", ()))}

    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        params.update(self._extra_params())
        return params

    def set_params(self, **params):
        own = set(self._get_param_names())
        extra = {k: v for k, v in params.items() if k not in own}
        for key, value in extra.items():
            setattr(self, key, value)
        self._extra_keys = set(getattr(self, "_extra_keys", ())) | set(extra)
        rest = {k: v for k, v in params.items() if k in own}
        if rest:
            super().set_params(**rest)
        return self

    def _validate_params(self):
        super()._validate_params()
        _check_prefixed(self._extra_params())

    def _sub_params(self, prefix):
        n = len(prefix)
        return {k[n:]: v for k, v in self._extra_params().items()
                if k.startswith(prefix)}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.three_d_array = True
        return tags

    # -- data ---------------------------------------------------------------

    def _validate_X(self, X, reset, y=None):
        kwargs = dict(dtype=[np.float32, np.float64], allow_nd=True,
                      ensure_min_samples=2 if reset else 1)
        if y is None:
            X = validate_data(self, X, reset=reset, **kwargs)
        else:
            X, y = validate_data(self, X, y, reset=reset, **kwargs)
        if reset:
            self._input_shape = X.shape[1:]
        elif X.shape[1:] != self._input_shape:
            raise ValueError(
                f"X has sample shape {X.shape[1:]}, but {type(self).__name__} was "
                f"fitted on samples of shape {self._input_shape}.")
        return (X, y) if y is not None else X

    # -- building -----------------------------------------------------------

    def _build(self, X, n_classes):
        """Fresh module, loss, miner and optimizer, drawn from the estimator's
        own random streams."""
        params = self._sub_params("module__")
        if self.module is None or isinstance(self.module, type):
            cls = MLP if self.module is None else self.module
            if not issubclass(cls, torch.nn.Module):
                raise TypeError(
                    f"module must be an nn.Module class or instance, got {cls!r}.")
            sig = inspect.signature(cls)
            if "in_features" in sig.parameters and "in_features" not in params:
                params["in_features"] = int(np.prod(X.shape[1:]))
            module = cls(**params)
        else:
            if params:
                raise ValueError(
                    "module__* parameters are given but module is an instance; "
                    f"pass the class instead ({sorted(params)}).")
            module = copy.deepcopy(self.module)
        module = module.to(self.device_)
        module.train()
        with torch.no_grad():
            module.eval()
            probe = module(_tensor(X[:2], self.device_))
            module.train()
        if probe.ndim != 2:
            raise ValueError(
                "the module must return embeddings of shape (batch, dim); it "
                f"returned shape {tuple(probe.shape)}.")
        self.embedding_dim_ = int(probe.shape[1])

        loss_params = self._sub_params("loss__")
        if isinstance(self.loss, str):
            factory = LOSSES[self.loss]
            if factory.needs_classes:
                loss = factory(n_classes, self.embedding_dim_, **loss_params)
            else:
                loss = factory(**loss_params)
        else:
            if loss_params:
                raise ValueError(
                    "loss__* parameters are given but loss is an instance.")
            loss = copy.deepcopy(self.loss)
            if getattr(loss, "n_classes", n_classes) < n_classes:
                raise ValueError(
                    f"the loss has {loss.n_classes} class vectors but y has "
                    f"{n_classes} classes.")
        loss = loss.to(self.device_)

        miner_params = self._sub_params("miner__")
        if self.miner is None:
            if miner_params:
                raise ValueError("miner__* parameters are given but miner is None.")
            miner = None
        else:
            if not _accepts_miner(loss):
                why = ("" if hasattr(loss, "accepts_miner")
                       else " (its forward takes no indices_tuple argument)")
                raise ValueError(
                    f"loss {type(loss).__name__} does not use mined tuples{why}; "
                    "set miner=None.")
            miner = (MINERS[self.miner](**miner_params)
                     if isinstance(self.miner, str) else self.miner)

        self.module_, self.loss_, self._miner = module, loss, miner
        self._optimizer = _make_optimizer(self)
        self._scheduler = _make_scheduler(self)

    # -- training -----------------------------------------------------------

    def _batches(self, codes, rng):
        if self.sampler == "m_per_class":
            m = min(self.m_per_class, self.batch_size)
            return list(MPerClassSampler(codes, m=m, batch_size=self.batch_size,
                                         random_state=rng))
        order = rng.permutation(codes.shape[0])
        return [order[i:i + self.batch_size]
                for i in range(0, codes.shape[0], self.batch_size)]

    def _run_epoch(self, X, codes, rng):
        device = self.device_
        self.module_.train()
        self.loss_.train()
        total, n_batches = 0.0, 0
        for idx in self._batches(codes, rng):
            xb = _tensor(X[idx], device)
            yb = _tensor(codes[idx], device, torch.long)
            with _own_rng(self):
                emb = self.module_(xb)
                if self._miner is None:
                    value = self.loss_(emb, yb)
                else:
                    value = self.loss_(emb, yb, self._miner(emb, yb))
            if not torch.isfinite(value):
                raise FloatingPointError(
                    f"the loss became {value.item()} at epoch {self.n_iter_ + 1}; "
                    "lower lr or check the input scaling.")
            self._optimizer.zero_grad()
            value.backward()
            self._optimizer.step()
            total += float(value.detach())
            n_batches += 1
        self.module_.eval()
        self.loss_.eval()
        return total / max(n_batches, 1)

    def _encode(self, y, classes=None):
        if classes is None:
            classes, codes, _ = check_classes(y)
            return classes, codes
        pos = np.searchsorted(classes, y)
        pos = np.clip(pos, 0, classes.shape[0] - 1)
        unknown = classes[pos] != y
        if unknown.any():
            raise ValueError(
                f"y has labels not in classes: {np.unique(y[unknown])[:5]!r}; "
                "pass every class to the first partial_fit with classes=.")
        return classes, pos

    def _train(self, X, y, epochs, first, classes=None, incremental=False):
        rs = check_random_state(self.random_state)
        if first:
            self.device_ = _resolve_device(self.device)
            self.classes_, codes = self._encode(y, classes)
            self._seed = int(rs.randint(np.iinfo(np.int32).max))
            self._rng = np.random.RandomState(self._seed)
            self._rng_states = _new_rng_states(self._seed, self.device_)
            self.n_iter_ = 0
            self.history_ = []
        else:
            _, codes = self._encode(y, self.classes_)
        # as in scikit-learn's MLP, partial_fit does not stop early
        early_stopping = self.early_stopping and not incremental
        fraction = self.validation_fraction
        if fraction is None and early_stopping:
            fraction = 0.1
        X_val = y_val = None
        if fraction is not None:
            X, X_val, codes, y_val = train_test_split(
                X, codes, test_size=fraction, stratify=codes,
                random_state=self._rng)
            if np.bincount(y_val).max() < 2:
                raise ValueError(
                    f"validation_fraction={fraction} holds out {y_val.shape[0]} "
                    "samples, none of whose classes appears twice: the retrieval "
                    f"score ({self.scoring}) needs two samples of a class. Hold "
                    "out a larger fraction.")
        self.best_validation_score_ = None
        with _torch_threads(self.n_threads):
            if first:
                with _own_rng(self):
                    self._build(X, self.classes_.shape[0])
            bar = (progress_bar(epochs, type(self).__name__, True) if self.verbose
                   else None)
            best_state, best_score, no_improvement = None, -np.inf, 0
            for _ in range(epochs):
                t0 = time.perf_counter()
                lr = self._optimizer.param_groups[0]["lr"]
                mean_loss = self._run_epoch(X, codes, self._rng)
                self.n_iter_ += 1
                record = {"epoch": self.n_iter_, "loss": mean_loss, "lr": lr}
                if X_val is not None:
                    record["val_score"] = _SCORES[self.scoring](
                        self._embed(X_val), y_val)
                record["time"] = time.perf_counter() - t0
                self.history_.append(record)
                self._step_scheduler(record)
                if bar is not None:
                    bar.set_postfix({k: f"{v:.4g}" for k, v in record.items()
                                     if k in ("loss", "val_score")}, refresh=False)
                    bar.update(1)
                if early_stopping:
                    # scikit-learn MLP's rule, to the comparison
                    score = record["val_score"]
                    no_improvement = (no_improvement + 1
                                      if score < best_score + self.tol else 0)
                    if score > best_score:
                        best_score, best_state = score, self._snapshot()
                        self.best_validation_score_ = score
                    if no_improvement > self.n_iter_no_change:
                        break
            if bar is not None:
                bar.close()
            if best_state is not None:
                self._restore(best_state)
        return self

    def _step_scheduler(self, record):
        if self._scheduler is None:
            return
        if isinstance(self._scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self._scheduler.step(record.get("val_score", record["loss"]))
        else:
            self._scheduler.step()

    def _snapshot(self):
        return {key: copy.deepcopy(getattr(self, key).state_dict())
                for key in ("module_", "loss_")}

    def _restore(self, state):
        for key, value in state.items():
            getattr(self, key).load_state_dict(value)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the module on ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Any per-sample shape the module takes (images ``(n, c, h, w)``).
        y : array-like of shape (n_samples,)
            Class labels; at least two classes.

        Returns
        -------
        self
        """
        X, y = self._validate_X(X, reset=not self._continuing(), y=_require_y(y))
        return self._train(X, y, self.max_epochs, first=not self._continuing())

    def partial_fit(self, X, y, classes=None):
        """One epoch over ``X``, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,)
        classes : array-like, optional
            Every label that will ever be seen; needed on the first call when
            later batches bring new classes (losses with class vectors are
            sized from it).

        Returns
        -------
        self
        """
        first = not hasattr(self, "module_")
        if first:
            self._validate_params()
        X, y = self._validate_X(X, reset=first, y=_require_y(y))
        if classes is not None:
            classes = np.unique(np.asarray(classes))
        return self._train(X, y, 1, first=first, classes=classes,
                           incremental=True)

    def _continuing(self):
        return self.warm_start and hasattr(self, "module_")

    # -- inference ----------------------------------------------------------

    def _embed(self, X, batch_size=1024):
        device = self.device_
        out = []
        with torch.no_grad():
            for start in range(0, X.shape[0], batch_size):
                xb = _tensor(X[start:start + batch_size], device)
                emb = self.module_(xb)
                if self.normalize:
                    emb = torch.nn.functional.normalize(emb, dim=1)
                out.append(emb.cpu().numpy())
        return np.concatenate(out).astype(np.float64 if X.dtype == np.float64
                                          else np.float32, copy=False)

    def transform(self, X):
        """Embeddings of ``X``, shape ``(n_samples, embedding_dim_)``.

        Float64 input gives float64 output (computed in float32).
        """
        check_is_fitted(self, "module_")
        X = self._validate_X(X, reset=False)
        self.module_.eval()
        with _torch_threads(self.n_threads):
            return self._embed(X)

    def pair_distance(self, pairs):
        """Euclidean distance between the embeddings of each pair.

        Parameters
        ----------
        pairs : array-like of shape (n_pairs, 2, ...)

        Returns
        -------
        ndarray of shape (n_pairs,)
        """
        pairs = np.asarray(pairs)
        if pairs.ndim < 3 or pairs.shape[1] != 2:
            raise ValueError(
                "pairs must have shape (n_pairs, 2, ...), got shape "
                f"{pairs.shape}.")
        a = self.transform(pairs[:, 0])
        b = self.transform(pairs[:, 1])
        return np.sqrt(((a - b) ** 2).sum(axis=1))

    def get_metric(self):
        """A callable ``metric(u, v)``: the distance between the embeddings of
        two samples, for ``KNeighborsClassifier(metric=...)`` and the like.

        Each call runs the network on both points; transforming once and
        using the Euclidean metric is much faster for search.
        """
        check_is_fitted(self, "module_")

        def metric(u, v):
            pair = np.stack([np.asarray(u), np.asarray(v)])[None]
            return float(self.pair_distance(pair)[0])

        return metric

    def score(self, X, y):
        """Retrieval quality of the embeddings of ``(X, y)``: ``scoring``
        (precision@1 by default) with ``X`` as its own reference set.

        Returns
        -------
        float
        """
        return _SCORES[self.scoring](self.transform(X), np.asarray(y))

    def get_feature_names_out(self, input_features=None):
        """``deepmetricembedding0``, ``deepmetricembedding1``, ..."""
        check_is_fitted(self, "module_")
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.embedding_dim_)],
                          dtype=object)

    def __getstate__(self):
        state = dict(super().__getstate__())
        # tensors go to the CPU so a model trained on a GPU unpickles anywhere;
        # the optimizer state is not kept (a warm start after unpickling starts
        # a fresh optimizer)
        for key in ("module_", "loss_"):
            if key in state:
                state[key] = copy.deepcopy(state[key]).cpu()
        if "device_" in state:
            state["device_"] = torch.device("cpu")
            state["_rng_states"] = {"cpu": state["_rng_states"]["cpu"]}
        state.pop("_optimizer", None)
        state.pop("_scheduler", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if hasattr(self, "module_"):
            self._optimizer = _make_optimizer(self)
            self._scheduler = _make_scheduler(self)
