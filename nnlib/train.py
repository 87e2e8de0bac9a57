"""Training: the loop that turns gradients into learning.

``fit`` repeats, for every mini-batch of every epoch::

    loss, grads = forward and backward pass on the batch
    params      = optimizer update(params, grads)

and records what happened in a :class:`History`. Mini-batches are drawn by a
seeded shuffle, so the same seed gives the same run. A loss that becomes NaN
or infinite does not crash anything: training stops, the history says at which
step and why, and the last finite parameters are returned.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import backend
from .losses import binary_cross_entropy_with_logits, get_loss, softmax_cross_entropy
from .model import Sequential
from .optim import Optimizer, clip_by_global_norm, get_optimizer
from .tree import flatten_params

Array = Any


@dataclass
class History:
    """What happened during training, one entry per epoch (``step_loss``: per step).

    ``train_loss``/``train_accuracy`` average the mini-batch values seen during
    the epoch (before each update); ``val_*`` are measured on the validation set
    at the end of the epoch in evaluation mode. ``grad_norms`` holds, per epoch,
    ``{layer name: ||∂L/∂W||}`` of the epoch's last mini-batch when recorded.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    grad_norms: list[dict[str, float]] = field(default_factory=list)
    diverged: bool = False
    diverged_at_step: int | None = None
    stopped_early: bool = False
    best_epoch: int | None = None
    message: str = ""

    @property
    def steps(self) -> int:
        """Number of optimiser steps taken."""
        return len(self.step_loss)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python copy (for printing or JSON)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class FitResult:
    """The trained ``params``, the model ``state`` (BatchNorm statistics) and the ``history``."""

    params: Any
    state: Any
    history: History
    opt_state: Any = None


def _check_inputs(X: Array, y: Array, name: str) -> None:
    Xn = backend.to_numpy(X)
    if Xn.ndim != 2:
        raise ValueError(
            f"{name}: X must be a 2-D array (N examples, D features), got shape {Xn.shape}. "
            "Reshape a single feature with X.reshape(-1, 1)."
        )
    if Xn.shape[0] == 0:
        raise ValueError(f"{name}: the data set is empty (0 examples); nothing to train on.")
    if len(y) != Xn.shape[0]:
        raise ValueError(
            f"{name}: X has {Xn.shape[0]} examples but y has {len(y)}; they must match."
        )
    if Xn.dtype.kind not in "fiub":
        raise ValueError(f"{name}: X must be numeric, got dtype {Xn.dtype}.")
    if not np.all(np.isfinite(Xn)):
        bad = int((~np.isfinite(Xn)).any(axis=1).sum())
        raise ValueError(
            f"{name}: X contains NaN or inf in {bad} rows. Impute or drop them first "
            "(e.g. replace NaN by the training-set column mean)."
        )


def _accuracy_fn(loss_fn: Callable) -> Callable[[Array, Array], float] | None:
    if loss_fn is softmax_cross_entropy:
        return lambda out, y: float((np.argmax(backend.to_numpy(out), 1) == np.asarray(y)).mean())
    if loss_fn is binary_cross_entropy_with_logits:
        return lambda out, y: float(
            ((backend.to_numpy(out).reshape(-1) > 0) == (np.asarray(y).reshape(-1) > 0.5)).mean()
        )
    return None


def evaluate(
    model: Sequential,
    params: Any,
    X: Array,
    y: Array,
    loss: Any = "mse",
    state: Any = None,
) -> dict[str, float]:
    """Loss (and accuracy for classification losses) in evaluation mode."""
    loss_fn = get_loss(loss)
    out = model.predict(params, backend.asarray(X, _param_dtype(params)), state)
    with np.errstate(all="ignore"):
        value = float(loss_fn(out, backend.asarray(y), check=True)[0])
    result = {"loss": value}
    acc = _accuracy_fn(loss_fn)
    if acc is not None:
        result["accuracy"] = acc(out, y)
    return result


def _param_dtype(params: Any) -> Any:
    leaves = [a for a in flatten_params(params).values()]
    return leaves[0].dtype if leaves else np.float32


def weight_grad_norms(grads: Any) -> dict[str, float]:
    """``{"0.W": ||∂L/∂W₀||, ...}``: the gradient norm of every weight matrix, input first."""
    return {
        k: float(np.linalg.norm(backend.to_numpy(g)))
        for k, g in flatten_params(grads).items()
        if k.endswith("W")
    }


def fit(
    model: Sequential,
    params: Any,
    X: Array,
    y: Array,
    *,
    loss: Any = "mse",
    optimizer: str | Optimizer = "sgd",
    lr: Any = 0.1,
    epochs: int = 10,
    batch_size: int | None = None,
    seed: int = 0,
    X_val: Array = None,
    y_val: Array = None,
    state: Any = None,
    l2: float = 0.0,
    clip_norm: float | None = None,
    record_grad_norms: bool = False,
    early_stopping: int | None = None,
    restore_best: bool = True,
    progress: bool = False,
    opt_state: Any = None,
    callback: Callable[[int, Any, History], bool | None] | None = None,
) -> FitResult:
    """Train ``model`` from ``params`` on ``(X, y)``; returns a :class:`FitResult`.

    Arguments:
        loss: ``"mse"``, ``"bce"`` (binary, from logits), ``"cross_entropy"``
            (softmax, from logits) or a loss function.
        optimizer: a name (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"rmsprop"``,
            ``"adam"``) used with ``lr``, or an :class:`~nnlib.optim.Optimizer`.
        batch_size: mini-batch size; ``None`` means full batch (one step per epoch).
        seed: seeds the shuffling and dropout masks: same seed, same run.
        X_val, y_val: optional validation set, evaluated after every epoch.
        l2: weight-decay strength λ; the loss gets ``(λ/2) Σ ||W||²``.
        clip_norm: clip the gradient's global norm to this value.
        record_grad_norms: store per-layer ``||∂L/∂W||`` every epoch.
        early_stopping: stop when the validation loss has not improved for this
            many epochs (needs a validation set); with ``restore_best`` the
            best epoch's parameters are returned.
        callback: ``callback(epoch, params, history)`` after each epoch;
            returning ``True`` stops training.

    Divergence: if a mini-batch loss is NaN or infinite, training stops,
    ``history.diverged`` is set with the step in ``history.diverged_at_step``,
    and the last parameters whose loss was finite are returned.
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    _check_inputs(X, y, "fit")
    n = int(np.shape(X)[0])
    if batch_size is None:
        batch_size = n
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(
            f"batch_size must be a positive integer (or None for full batch), got {batch_size!r}."
        )
    has_val = X_val is not None and y_val is not None
    if has_val:
        _check_inputs(X_val, y_val, "fit (validation set)")
    if early_stopping is not None and not has_val:
        raise ValueError("early_stopping needs a validation set: pass X_val and y_val.")
    loss_fn = get_loss(loss)
    opt = get_optimizer(optimizer, lr) if not isinstance(optimizer, Optimizer) else optimizer

    dtype = _param_dtype(params)
    Xb_all = backend.asarray(X, dtype)
    y_all = backend.asarray(
        np.asarray(y, dtype=dtype)
        if loss_fn is not softmax_cross_entropy or np.ndim(y) > 1
        else np.asarray(y)
    )
    # Validate the targets once, with the loss's own checks, instead of every step.
    out0 = model.predict(params, Xb_all[:1], state)
    loss_fn(backend.xp().broadcast_to(out0, (n,) + tuple(out0.shape[1:])), y_all, check=True)
    Xv = backend.asarray(X_val, dtype) if has_val else None

    state = state if state is not None else model.init_state()
    opt_state = opt_state if opt_state is not None else opt.init(params)
    shuffle_rng = np.random.default_rng(seed)
    key = backend.make_key(seed + 1)
    accuracy = _accuracy_fn(loss_fn)
    history = History()
    best_val, best = math.inf, None
    last_finite = params
    stale = 0
    epochs_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc="epochs")

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in epochs_iter:
            order = shuffle_rng.permutation(n) if batch_size < n else None
            loss_sum, correct_sum, seen = 0.0, 0.0, 0
            grads = None
            for start in range(0, n, batch_size):
                if order is None:
                    xb, yb = Xb_all, y_all
                else:
                    idx = order[start : start + batch_size]
                    xb, yb = Xb_all[idx], y_all[idx]
                key, sub = backend.split_key(key, 2)
                value, grads, new_state, out = model.loss_and_grads(
                    params, xb, yb, loss_fn, l2=l2, state=state, key=sub, check=False
                )
                value = float(value)
                step = len(history.step_loss)
                if not math.isfinite(value):
                    history.diverged, history.diverged_at_step = True, step
                    history.message = (
                        f"diverged at step {step} (epoch {epoch}): the loss became {value}. "
                        "The learning rate is probably too large; try a smaller one."
                    )
                    params = last_finite
                    break
                last_finite = params
                if clip_norm is not None:
                    grads, _ = clip_by_global_norm(grads, clip_norm)
                params, opt_state = opt.update(params, grads, opt_state)
                state = new_state
                history.step_loss.append(value)
                m = int(xb.shape[0])
                loss_sum += value * m
                if accuracy is not None:
                    correct_sum += accuracy(out, yb) * m
                seen += m
            if history.diverged:
                break
            history.epoch.append(epoch)
            history.train_loss.append(loss_sum / seen)
            if accuracy is not None:
                history.train_accuracy.append(correct_sum / seen)
            if record_grad_norms and grads is not None:
                history.grad_norms.append(weight_grad_norms(grads))
            if has_val:
                val = evaluate(model, params, Xv, y_val, loss_fn, state)
                history.val_loss.append(val["loss"])
                if "accuracy" in val:
                    history.val_accuracy.append(val["accuracy"])
                if val["loss"] < best_val:
                    best_val, best, stale = val["loss"], (params, state, epoch), 0
                else:
                    stale += 1
            if callback is not None and callback(epoch, params, history):
                history.message = history.message or f"stopped by callback after epoch {epoch}"
                break
            if early_stopping is not None and stale >= early_stopping:
                history.stopped_early = True
                history.message = (
                    f"stopped early after epoch {epoch}: no validation improvement for "
                    f"{early_stopping} epochs"
                )
                break

    if best is not None:
        history.best_epoch = best[2]
        if restore_best and early_stopping is not None:
            params, state = best[0], best[1]
    if not history.message:
        history.message = f"trained {len(history.epoch)} epochs ({history.steps} steps)"
    return FitResult(params, state, history, opt_state)
