"""Training: the loop that turns gradients into learning.

``fit`` repeats, for every mini-batch of every epoch, one *training step*::

    loss, grads = forward and backward pass on the batch
    params      = optimizer update(params, grads)

and records what happened in a :class:`History`. Mini-batches are drawn by a
seeded shuffle, so the same seed gives the same run. A loss that becomes NaN
or infinite does not crash anything: training stops, the history says at which
step and why, and the last finite parameters are returned.

The step itself is one function, made by :func:`make_train_step`. On NumPy,
``fit`` calls it once per mini-batch (:func:`run_steps`). On JAX the very same
function is compiled with ``jax.jit``, either alone or ``steps_per_call``
steps at a time inside ``lax.scan`` (see :mod:`nnlib.jax_backend`); ``fit``
itself, with its history, validation and early stopping, is the same loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import backend
from .diagnostics import grad_norms as weight_grad_norms
from .losses import binary_cross_entropy_with_logits, get_loss, softmax_cross_entropy
from .model import Sequential
from .optim import Optimizer, clip_by_global_norm, get_optimizer
from .tree import param_dtype

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


def correct_counter(loss_fn: Callable) -> Callable[[Array, Array], Array] | None:
    """``count(outputs, targets)``: how many rows are classified right, for classification losses.

    Softmax cross-entropy: the predicted class is ``argmax_k z_k`` (targets are
    class indices, or one-hot rows); binary cross-entropy: class 1 when the
    logit ``z > 0`` (i.e. ``σ(z) > ½``), the target is class 1 when ``y > ½``.
    Returns ``None`` for other losses (regression: no accuracy). The count is
    an array scalar of the current backend, so it can be computed inside a
    compiled step.
    """
    if loss_fn is softmax_cross_entropy:

        def count(out: Array, y: Array) -> Array:
            labels = y if y.ndim == 1 else y.argmax(axis=1)
            return (out.argmax(axis=1) == labels).sum()

        return count
    if loss_fn is binary_cross_entropy_with_logits:

        def count(out: Array, y: Array) -> Array:
            return ((out.reshape(-1) > 0) == (y.reshape(-1) > 0.5)).sum()

        return count
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
    out = model.predict(params, backend.asarray(X, param_dtype(params)), state)
    with np.errstate(all="ignore"):
        value = float(loss_fn(out, backend.asarray(y), check=True)[0])
    result = {"loss": value}
    count = correct_counter(loss_fn)
    if count is not None:
        result["accuracy"] = float(count(backend.to_numpy(out), np.asarray(y))) / len(out)
    return result


# --- one training step -------------------------------------------------------------


class TrainState(NamedTuple):
    """Everything a training step changes: the values that flow from one step to the next.

    ``params`` (trainable), ``state`` (BatchNorm running statistics),
    ``opt_state`` (the optimiser's, e.g. Adam's moments) and ``key`` (the
    source of dropout masks, split once per step).
    """

    params: Any
    state: Any
    opt_state: Any
    key: Any


TrainStep = Callable[[TrainState, Array, Array, Any], tuple[TrainState, Array, Array, Any]]


def make_train_step(
    model: Sequential,
    loss_fn: Callable,
    optimizer: Optimizer,
    *,
    l2: Any = 0.0,
    clip_norm: float | None = None,
    count_correct: Callable[[Array, Array], Array] | None = None,
) -> TrainStep:
    """Build ``train_step(ts, X, y, idx) -> (ts, loss, n_correct, grads)``: one optimiser step.

    ``ts`` is a :class:`TrainState`; the mini-batch is the rows ``idx`` of
    ``X`` and ``y`` (``idx=None``: all of them, i.e. full batch). The step is::

        key, subkey  = split(key)                      this step's dropout masks
        xb, yb       = X[idx], y[idx]
        loss, grads  = model.loss_and_grads(params, xb, yb)   forward, loss, backward
        grads        = clip(grads, clip_norm)          if clip_norm is set
        params       = optimizer.update(params, grads)

    ``loss`` is the mini-batch loss *before* the update, ``n_correct`` the
    number of correctly classified rows (0 without ``count_correct``) and
    ``grads`` the gradients used. The function uses only nnlib code and the
    backend's array operations, so on JAX it can be compiled as it is.
    """

    def train_step(ts: TrainState, X: Array, y: Array, idx: Any) -> tuple:
        key, subkey = backend.split_key(ts.key, 2)
        xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        loss, grads, new_state, out = model.loss_and_grads(
            ts.params, xb, yb, loss_fn, l2=l2, state=ts.state, key=subkey, check=False
        )
        if clip_norm is not None:
            grads, _ = clip_by_global_norm(grads, clip_norm)
        params, opt_state = optimizer.update(ts.params, grads, ts.opt_state)
        n_correct = count_correct(out, yb) if count_correct is not None else 0
        return TrainState(params, new_state, opt_state, key), loss, n_correct, grads

    return train_step


class BlockResult(NamedTuple):
    """What running a block of consecutive training steps gave.

    ``losses`` and ``correct`` have one entry per step that was run; when the
    last loss is NaN/inf, training diverged there and ``ts`` is the state
    after the last step whose loss was finite. ``previous_params`` are the
    parameters *before* that last finite step (the ones its finite loss was
    measured at; ``None`` when no step of the block was finite) and ``grads``
    its gradients.
    """

    ts: TrainState
    losses: list[float]
    correct: list[float]
    previous_params: Any
    grads: Any


BlockRunner = Callable[[TrainState, Array, Array, Sequence[Any]], BlockResult]

# Steps that a Python loop runs between two looks of ``fit`` at the results (a
# block also ends at every epoch's end when the epoch's end needs the parameters).
STEPS_PER_PYTHON_BLOCK = 64


def run_steps(
    train_step: TrainStep, ts: TrainState, X: Array, y: Array, batches: Sequence[Any]
) -> BlockResult:
    """Run ``train_step`` once per mini-batch (index array, or ``None`` for all rows), in Python.

    Stops at the first loss that is NaN or infinite, discarding that step's update.
    """
    losses: list[float] = []
    correct: list[float] = []
    previous = grads = None
    for idx in batches:
        new_ts, loss, n_correct, step_grads = train_step(ts, X, y, idx)
        losses.append(float(loss))
        correct.append(float(n_correct))
        if not math.isfinite(losses[-1]):
            break
        previous, grads, ts = ts.params, step_grads, new_ts
    return BlockResult(ts, losses, correct, previous, grads)


def _block_runner(
    model: Sequential,
    loss_fn: Callable,
    optimizer: str | Optimizer,
    lr: Any,
    *,
    l2: float,
    clip_norm: float | None,
    keep_grads: bool,
    steps_per_call: int,
) -> tuple[BlockRunner, int]:
    """The function that runs blocks of steps on the current backend, and the block length.

    NumPy: :func:`run_steps` with :func:`make_train_step`. JAX: the same step,
    compiled (and cached) by :func:`nnlib.jax_backend.block_runner`.
    """
    count = correct_counter(loss_fn)
    if backend.get_backend() == "jax":
        from . import jax_backend

        runner = jax_backend.block_runner(
            model,
            loss_fn,
            optimizer,
            lr,
            l2=l2,
            clip_norm=clip_norm,
            count_correct=count,
            keep_grads=keep_grads,
            steps_per_call=steps_per_call,
        )
        return runner, steps_per_call if steps_per_call > 1 else STEPS_PER_PYTHON_BLOCK
    opt = get_optimizer(optimizer, lr)
    step = make_train_step(model, loss_fn, opt, l2=l2, clip_norm=clip_norm, count_correct=count)
    return (lambda ts, X, y, batches: run_steps(step, ts, X, y, batches)), STEPS_PER_PYTHON_BLOCK


# --- the schedule of steps ---------------------------------------------------------


class _Step(NamedTuple):
    epoch: int
    indices: np.ndarray | None  # rows of the mini-batch; None: all rows, in order
    size: int
    last_in_epoch: bool


def _steps(n: int, batch_size: int, epochs: int, rng: np.random.Generator) -> Iterator[_Step]:
    """Every step of the run in order: each epoch a fresh shuffle, cut into mini-batches."""
    for epoch in range(epochs):
        if batch_size >= n:
            yield _Step(epoch, None, n, True)
            continue
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yield _Step(epoch, idx, len(idx), start + batch_size >= n)


def _blocks(steps: Iterator[_Step], block_steps: int, end_at_epochs: bool) -> Iterator[list]:
    """Group consecutive steps into blocks that one call of the block runner runs.

    A block holds at most ``block_steps`` steps, all with the same batch
    size (the last, smaller mini-batch of an epoch starts a new block). With
    ``end_at_epochs`` a block also ends with each epoch, so that the
    parameters at every epoch's end are seen (for validation, callbacks,
    early stopping and gradient norms) and a progress bar moves every epoch.
    """
    block: list[_Step] = []
    for step in steps:
        if block and step.size != block[0].size:
            yield block
            block = []
        block.append(step)
        if len(block) == block_steps or (end_at_epochs and step.last_in_epoch):
            yield block
            block = []
    if block:
        yield block


@dataclass
class _EarlyStopping:
    """Remembers the best validation loss, its epoch and parameters, and the epochs since."""

    patience: int | None
    best_loss: float = math.inf
    best: tuple | None = None
    stale: int = 0

    def update(self, val_loss: float, params: Any, state: Any, epoch: int) -> bool:
        """Record this epoch's validation loss; True when training should stop."""
        if val_loss < self.best_loss:
            self.best_loss, self.best, self.stale = val_loss, (params, state, epoch), 0
        else:
            self.stale += 1
        return self.patience is not None and self.stale >= self.patience


# --- fit ---------------------------------------------------------------------------


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
    steps_per_call: int = 1,
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
        steps_per_call: on JAX, how many steps one compiled call runs (a
            ``lax.scan`` over them): large values remove Python's overhead
            per step, which dominates for small models. ``1`` (default)
            compiles a single step. Any value gives the same history. NumPy
            runs one step at a time whatever the value.

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
    if not isinstance(steps_per_call, (int, np.integer)) or steps_per_call < 1:
        raise ValueError(f"steps_per_call must be a positive integer, got {steps_per_call!r}.")
    has_val = X_val is not None and y_val is not None
    if has_val:
        _check_inputs(X_val, y_val, "fit (validation set)")
    if early_stopping is not None and not has_val:
        raise ValueError("early_stopping needs a validation set: pass X_val and y_val.")
    loss_fn = get_loss(loss)
    opt = get_optimizer(optimizer, lr)  # also checks lr

    dtype = param_dtype(params)
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

    backend.keep_freed_memory()  # every step frees and re-creates the same arrays: reuse them
    state = state if state is not None else model.init_state()
    opt_state = opt_state if opt_state is not None else opt.init(params)
    ts = TrainState(params, state, opt_state, backend.make_key(seed + 1))
    run_block, block_steps = _block_runner(
        model,
        loss_fn,
        optimizer,
        lr,
        l2=l2,
        clip_norm=clip_norm,
        keep_grads=record_grad_norms,
        steps_per_call=int(steps_per_call),
    )
    counts_correct = correct_counter(loss_fn) is not None
    epoch_end_work = has_val or record_grad_norms or callback is not None or progress
    steps = _steps(n, batch_size, int(epochs), np.random.default_rng(seed))
    history = History()
    stopper = _EarlyStopping(early_stopping)
    last_finite = params  # parameters whose loss was finite, returned if training diverges
    loss_sum, correct_sum, seen = 0.0, 0.0, 0
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(epochs), desc="epochs")

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for block in _blocks(steps, block_steps, epoch_end_work):
            result = run_block(ts, Xb_all, y_all, [step.indices for step in block])
            ts = result.ts
            if result.previous_params is not None:
                last_finite = result.previous_params
            stop = False
            for step, value, correct in zip(block, result.losses, result.correct, strict=False):
                if not math.isfinite(value):
                    at = len(history.step_loss)
                    history.diverged, history.diverged_at_step = True, at
                    history.message = (
                        f"diverged at step {at} (epoch {step.epoch}): the loss became {value}. "
                        "The learning rate is probably too large; try a smaller one."
                    )
                    stop = True
                    break
                history.step_loss.append(value)
                loss_sum += value * step.size
                correct_sum += correct
                seen += step.size
                if not step.last_in_epoch:
                    continue
                # The end of an epoch: its averages, then validation and the stopping rules.
                history.epoch.append(step.epoch)
                history.train_loss.append(loss_sum / seen)
                if counts_correct:
                    history.train_accuracy.append(correct_sum / seen)
                loss_sum, correct_sum, seen = 0.0, 0.0, 0
                if bar is not None:
                    bar.update(1)
                if record_grad_norms:
                    history.grad_norms.append(weight_grad_norms(result.grads))
                patience_ran_out = False
                if has_val:
                    val = evaluate(model, ts.params, Xv, y_val, loss_fn, ts.state)
                    history.val_loss.append(val["loss"])
                    if "accuracy" in val:
                        history.val_accuracy.append(val["accuracy"])
                    patience_ran_out = stopper.update(val["loss"], ts.params, ts.state, step.epoch)
                if callback is not None and callback(step.epoch, ts.params, history):
                    history.message = (
                        history.message or f"stopped by callback after epoch {step.epoch}"
                    )
                    stop = True
                elif patience_ran_out:
                    history.stopped_early = True
                    history.message = (
                        f"stopped early after epoch {step.epoch}: no validation improvement "
                        f"for {early_stopping} epochs"
                    )
                    stop = True
                if stop:
                    break
            if stop:
                break
    if bar is not None:
        bar.close()

    params, state, opt_state = ts.params, ts.state, ts.opt_state
    if history.diverged:
        params = last_finite
    if stopper.best is not None:
        history.best_epoch = stopper.best[2]
        if restore_best and early_stopping is not None:
            params, state = stopper.best[0], stopper.best[1]
    if not history.message:
        history.message = f"trained {len(history.epoch)} epochs ({history.steps} steps)"
    return FitResult(params, state, history, opt_state)
