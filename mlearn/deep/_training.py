"""Training machinery of ``DeepMetricEmbedding``: devices, per-estimator random
state, torch thread counts, optimizer and scheduler, progress display and
argument checks."""

import contextlib
import inspect
import threading

import numpy as np
import torch

_PREFIXES = ("module__", "loss__", "miner__", "optimizer__", "lr_scheduler__")
_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
}


_THREADS_LOCK = threading.Lock()
_THREADS_STATE = {"users": 0, "saved": None}


@contextlib.contextmanager
def _torch_threads(n):
    with _THREADS_LOCK:
        if _THREADS_STATE["users"] == 0:
            _THREADS_STATE["saved"] = torch.get_num_threads()
        _THREADS_STATE["users"] += 1
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS_STATE["users"] -= 1
            if _THREADS_STATE["users"] == 0:
                torch.set_num_threads(_THREADS_STATE["saved"])


# torch draws initialisations and dropout masks from one process-wide generator
# per device. Each estimator keeps its own generator states and swaps them in,
# under this lock, only around the code that draws (building, forward passes),
# so fits in concurrent threads cannot reseed or consume each other's stream.
_RNG_LOCK = threading.RLock()


def _new_rng_states(seed, device):
    states = {"cpu": torch.Generator().manual_seed(seed).get_state()}
    if device.type == "cuda":
        states["cuda"] = torch.Generator(device=device).manual_seed(seed).get_state()
    return states


@contextlib.contextmanager
def _own_rng(est):
    """Run the block on ``est``'s own torch random streams; the global ones
    are left as they were."""
    device = est.device_
    with _RNG_LOCK:
        saved_cpu = torch.get_rng_state()
        torch.set_rng_state(est._rng_states["cpu"])
        if "cuda" in est._rng_states:
            saved_cuda = torch.cuda.get_rng_state(device)
            torch.cuda.set_rng_state(est._rng_states["cuda"], device)
        try:
            yield
        finally:
            est._rng_states["cpu"] = torch.get_rng_state()
            torch.set_rng_state(saved_cpu)
            if "cuda" in est._rng_states:
                est._rng_states["cuda"] = torch.cuda.get_rng_state(device)
                torch.cuda.set_rng_state(saved_cuda, device)


def _available_devices():
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names


def _resolve_device(device):
    """``device`` as a ``torch.device`` that torch can use here, or a ValueError
    naming it and the devices available."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    available = ", ".join(repr(d) for d in ["auto"] + _available_devices())
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(
            f"device={device!r} is not a torch device name; available here: "
            f"{available}.") from None
    if dev.type == "cpu":
        return dev
    backend = getattr(torch, dev.type, None)
    if dev.type == "mps":
        backend = getattr(torch.backends, "mps", None)
    is_available = getattr(backend, "is_available", None)
    if is_available is None or not is_available():
        why = ""
        if dev.type == "cuda":
            why = (" (this torch is built without CUDA)" if torch.version.cuda is None
                   else " (torch sees no CUDA GPU)")
        raise ValueError(
            f"device={device!r} is not available{why}; available here: "
            f"{available}.")
    count = getattr(backend, "device_count", None)
    if dev.index is not None and count is not None and dev.index >= count():
        raise ValueError(
            f"device={device!r} does not exist: torch sees {count()} {dev.type} "
            f"device(s); available here: {available}.")
    return dev


def _make_optimizer(est):
    """The optimizer over the module's and the loss's trainable parameters."""
    opt_cls = (_OPTIMIZERS[est.optimizer] if isinstance(est.optimizer, str)
               else est.optimizer)
    groups = [{"params": list(est.module_.parameters())}]
    extra = [p for p in est.loss_.parameters() if p.requires_grad]
    if extra:
        groups.append({"params": extra, "lr": est.lr * est.loss_lr_multiplier})
    return opt_cls(groups, lr=est.lr, weight_decay=est.weight_decay,
                   **est._sub_params("optimizer__"))


def _make_scheduler(est):
    """The learning-rate scheduler over ``est._optimizer``, stepped per epoch."""
    params = est._sub_params("lr_scheduler__")
    sched = est.lr_scheduler
    if sched is None:
        if params:
            raise ValueError(
                "lr_scheduler__* parameters are given but lr_scheduler is None.")
        return None
    lr_sched = torch.optim.lr_scheduler
    if sched == "cosine":
        params = {"T_max": est.max_epochs, **params}
        return lr_sched.CosineAnnealingLR(est._optimizer, **params)
    if sched == "step":
        params = {"step_size": max(1, est.max_epochs // 3), "gamma": 0.1, **params}
        return lr_sched.StepLR(est._optimizer, **params)
    if not issubclass(sched, (lr_sched.LRScheduler, lr_sched.ReduceLROnPlateau)):
        raise TypeError(
            "lr_scheduler must be 'cosine', 'step', None or a torch learning-rate "
            f"scheduler class, got {sched!r}.")
    if (issubclass(sched, lr_sched.ReduceLROnPlateau) and "mode" not in params
            and (est.validation_fraction is not None or est.early_stopping)):
        params["mode"] = "max"  # it watches the validation score
    return sched(est._optimizer, **params)


def _accepts_miner(loss):
    """Whether ``loss`` takes mined tuples: mlearn's losses say so with
    ``accepts_miner``; any other loss (pytorch-metric-learning's, your own) if
    its ``forward`` has an ``indices_tuple`` parameter or a third positional
    one, as ``forward(embeddings, labels, indices_tuple=None, ...)`` has."""
    flag = getattr(loss, "accepts_miner", None)
    if flag is not None:
        return bool(flag)
    try:
        params = inspect.signature(loss.forward).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = 0
    for p in params:
        if p.name == "indices_tuple" or p.kind is p.VAR_POSITIONAL:
            return True
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional += 1
    return positional >= 3


def _tensor(a, device, dtype=torch.float32):
    """A tensor copy of ``a`` (a copy, so read-only arrays are fine)."""
    np_dtype = np.float32 if dtype == torch.float32 else np.int64
    return torch.from_numpy(np.array(a, dtype=np_dtype)).to(device)


def _require_y(y):
    if y is None:
        raise ValueError(
            "DeepMetricEmbedding requires y to be passed, but the target y is None.")
    return y


def _check_prefixed(params):
    for key in params:
        if not key.startswith(_PREFIXES) or key.split("__", 1)[1] == "":
            raise TypeError(
                f"unexpected parameter {key!r}: parameters beyond the named ones "
                f"must start with one of {', '.join(_PREFIXES)}.")
