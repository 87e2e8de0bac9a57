"""The training step, and blocks of steps: what every backend runs (and :func:`evaluate`).

One *training step* is::

    loss, grads = forward and backward pass on a mini-batch
    params      = optimizer update(params, grads)

:func:`make_train_step` builds it as a pure function of a :class:`TrainState`
(parameters, model state, optimiser state, random key) and a mini-batch. It
uses only nnlib code and the backend's array operations, so the same function
runs on NumPy and, compiled, on JAX.

``fit`` (:mod:`nnlib.train`) hands steps to a *block runner* a block at a
time: a function ``run(ts, X, y, batches) -> BlockResult`` that runs one step
per mini-batch and stops at the first NaN/inf loss. A :class:`StepSpec` says
which step to run (model, loss, optimiser, learning rate, L2, clipping);
a *runner factory* turns it into a :class:`Runner`:

* :func:`numpy_runner` (here): :func:`run_steps` calls the step in Python;
* :func:`nnlib.jax_backend.block_runner`: the same step, compiled.

This module knows neither ``fit`` nor JAX: both import it, never the other
way round.

Where the next features attach:

* :meth:`StepSpec.make_step` is the one place a step is built, on every
  backend. With a precision policy (compute dtype, loss scaling) it builds
  :func:`nnlib.mixed_precision.make_mixed_precision_step`'s step instead,
  which carries the loss-scale state in ``TrainState.loss_scale``.
* The data-parallel runner (batches sharded over ``spec.devices``) is one
  more runner factory with the same signature: ``nnlib.parallel.runner``.
* :func:`loss_diverged` is the divergence rule applied to every recorded
  loss; a rule that also catches an *exploding* (finite but huge) loss
  would replace it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from . import backend
from .losses import binary_cross_entropy_with_logits, get_loss, softmax_cross_entropy
from .mixed_precision import PrecisionPolicy, make_mixed_precision_step
from .model import Sequential
from .optim import Optimizer, clip_by_global_norm, get_optimizer
from .tree import param_dtype

Array = Any


class TrainState(NamedTuple):
    """Everything a training step changes: the values that flow from one step to the next.

    ``params`` (trainable), ``state`` (BatchNorm running statistics),
    ``opt_state`` (the optimiser's, e.g. Adam's moments), ``key`` (the
    source of dropout masks, split once per step) and ``loss_scale`` (the
    loss-scale state of mixed precision, :func:`nnlib.precision.loss_scale_init`;
    ``None`` when the loss is not scaled).
    """

    params: Any
    state: Any
    opt_state: Any
    key: Any
    loss_scale: Any = None


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


def correct_counter(loss_fn: Callable) -> Callable[[Array, Array], Array] | None:
    """``count(outputs, targets)``: how many rows are classified right, for classification losses.

    Softmax cross-entropy: the predicted class is ``argmax_k z_k`` (targets are
    class indices, or one-hot rows); binary cross-entropy: class 1 when the
    logit ``z > 0`` (i.e. ``σ(z) > ½``), the target is class 1 when ``y > ½``.
    Returns ``None`` for other losses (regression: no accuracy). A loss made
    from one of the two with ``functools.wraps`` (e.g. a weighted
    cross-entropy) counts like it. The count is an array scalar of the
    current backend, so it can be computed inside a compiled step.
    """
    loss_fn = inspect.unwrap(loss_fn)
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


def loss_diverged(loss: float) -> bool:
    """The divergence rule: ``True`` when a mini-batch loss is NaN or ±inf.

    :func:`run_steps` stops at such a loss, and ``fit`` records divergence
    there. (Compiled blocks on JAX apply the same test, ``~jnp.isfinite``,
    inside the compiled loop.)
    """
    return not math.isfinite(loss)


# --- blocks of steps -----------------------------------------------------------------


class BlockResult(NamedTuple):
    """What running a block of consecutive training steps gave.

    ``losses`` and ``correct`` have one entry per step that was run; when the
    last loss is NaN/inf, training diverged there and ``ts`` is the state
    after the last step whose loss was finite. ``previous_params`` are the
    parameters *before* that last finite step (the ones its finite loss was
    measured at; ``None`` when no step of the block was finite) and ``grads``
    its gradients. With loss scaling, ``loss_scales`` and ``skipped`` have
    one entry per step too: the scale the step used, and whether it skipped
    its update because its gradients overflowed (see :func:`scaling_record`).
    """

    ts: TrainState
    losses: list[float]
    correct: list[float]
    previous_params: Any
    grads: Any
    loss_scales: list[float] | None = None
    skipped: list[bool] | None = None


BlockRunner = Callable[[TrainState, Array, Array, Sequence[Any]], BlockResult]

# Steps that a Python loop runs between two looks of ``fit`` at the results (a
# block also ends at every epoch's end when the epoch's end needs the parameters).
STEPS_PER_PYTHON_BLOCK = 64


def run_steps(
    train_step: TrainStep, ts: TrainState, X: Array, y: Array, batches: Sequence[Any]
) -> BlockResult:
    """Run ``train_step`` once per mini-batch (index array, or ``None`` for all rows), in Python.

    Stops at the first loss that is NaN or infinite, discarding that step's update.
    With loss scaling, the loss-scale state before the first step and after
    each step give the scale each step used and the steps it skipped.
    """
    losses: list[float] = []
    correct: list[float] = []
    scale_states = [ts.loss_scale]
    previous = grads = None
    for idx in batches:
        new_ts, loss, n_correct, step_grads = train_step(ts, X, y, idx)
        losses.append(float(loss))
        correct.append(float(n_correct))
        scale_states.append(new_ts.loss_scale)
        if loss_diverged(losses[-1]):
            break
        previous, grads, ts = ts.params, step_grads, new_ts
    if scale_states[0] is None:
        return BlockResult(ts, losses, correct, previous, grads)
    xp = backend.xp()  # one array (and on JAX one transfer) per quantity, not per step
    scales = backend.to_numpy(xp.stack([s["scale"] for s in scale_states]))
    overflows = backend.to_numpy(xp.stack([s["overflows"] for s in scale_states]))
    return BlockResult(ts, losses, correct, previous, grads, *scaling_record(scales, overflows))


def scaling_record(scales: Any, overflows: Any) -> tuple[list[float], list[bool]]:
    """Per step: the loss scale it used and whether it skipped its update.

    ``scales`` and ``overflows`` are the loss-scale state's ``scale`` and
    ``overflows`` (steps that overflowed so far) before the first step and
    after each of ``n`` steps: ``n + 1`` values each. Step ``k`` used the
    scale it found, ``scales[k]``, and was skipped when it overflowed,
    i.e. when ``overflows`` grew: ``overflows[k + 1] > overflows[k]``.
    """
    scales, overflows = np.asarray(scales, np.float64), np.asarray(overflows)
    return scales[:-1].tolist(), (np.diff(overflows) > 0).tolist()


# --- the schedule of steps -----------------------------------------------------------


class ScheduledStep(NamedTuple):
    """A scheduled step: its epoch, its mini-batch's rows and size, and if it ends the epoch."""

    epoch: int
    indices: np.ndarray | None  # rows of the mini-batch; None: all rows, in order
    size: int
    last_in_epoch: bool


def schedule_steps(
    n: int, batch_size: int, epochs: int, rng: np.random.Generator
) -> Iterator[ScheduledStep]:
    """Every step of the run in order: each epoch a fresh shuffle, cut into mini-batches."""
    for epoch in range(epochs):
        if batch_size >= n:
            yield ScheduledStep(epoch, None, n, True)
            continue
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yield ScheduledStep(epoch, idx, len(idx), start + batch_size >= n)


def group_into_blocks(
    steps: Iterator[ScheduledStep], block_steps: int, end_at_epochs: bool
) -> Iterator[list]:
    """Group consecutive steps into blocks that one call of the block runner runs.

    A block holds at most ``block_steps`` steps, all with the same batch
    size (the last, smaller mini-batch of an epoch starts a new block). With
    ``end_at_epochs`` a block also ends with each epoch, so that the
    parameters at every epoch's end are seen (for validation, callbacks,
    early stopping and gradient norms) and a progress bar moves every epoch.
    """
    block: list[ScheduledStep] = []
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


@dataclass(frozen=True)
class StepSpec:
    """Which training step to run: everything a runner needs to build (and compile) it.

    ``lr`` is a number or a schedule ``lr(t)``; ``keep_grads``: each block
    returns its last gradients (for ``record_grad_norms``);
    ``steps_per_call``: on JAX, steps per compiled call (NumPy ignores it);
    ``precision``: the dtypes of the passes and whether the loss is scaled
    (:func:`nnlib.mixed_precision.precision_policy`; ``None``: the plain step).
    ``devices``: on JAX, the devices to train data-parallel on
    (:func:`nnlib.parallel.data_mesh`), ``None`` for one device.
    """

    model: Sequential
    loss_fn: Callable
    optimizer: str | Optimizer
    lr: Any
    l2: float = 0.0
    clip_norm: float | None = None
    keep_grads: bool = False
    steps_per_call: int = 1
    precision: PrecisionPolicy | None = None
    devices: Any = None

    def make_step(self, lr: Any, l2: Any) -> TrainStep:
        """:func:`make_train_step` for this spec with learning rate ``lr`` and L2 strength ``l2``.

        The optimiser is built here, ``get_optimizer(optimizer, lr)``: this is
        where the learning rate enters the update. ``lr`` and ``l2`` are plain
        numbers on NumPy; inside a compiled JAX step they are traced values.
        With a precision policy the step is
        :func:`~nnlib.mixed_precision.make_mixed_precision_step`'s: the same
        step with its passes in the compute dtype and the loss scaled.
        """
        optimizer = get_optimizer(self.optimizer, lr)
        settings = {
            "l2": l2,
            "clip_norm": self.clip_norm,
            "count_correct": correct_counter(self.loss_fn),
        }
        if self.precision is not None:
            return make_mixed_precision_step(
                self.model, self.loss_fn, optimizer, self.precision, **settings
            )
        return make_train_step(self.model, self.loss_fn, optimizer, **settings)


class Runner(NamedTuple):
    """A block runner and the most steps ``fit`` should hand it in one call."""

    run: BlockRunner
    block_steps: int


def numpy_runner(spec: StepSpec) -> Runner:
    """The NumPy runner: :func:`run_steps` calls the step once per mini-batch, in Python."""
    if spec.devices is not None:
        raise ValueError(
            f"devices={spec.devices!r}: data-parallel training needs the JAX backend, but "
            "this runs on NumPy. Call nnlib.set_backend('jax') first (or train inside "
            "`with nnlib.use_backend('jax'):`), or leave devices out to train on NumPy."
        )
    step = spec.make_step(spec.lr, spec.l2)

    def run(ts: TrainState, X: Array, y: Array, batches: Sequence[Any]) -> BlockResult:
        return run_steps(step, ts, X, y, batches)

    return Runner(run, STEPS_PER_PYTHON_BLOCK)


__all__ = [
    "BlockResult",
    "BlockRunner",
    "Runner",
    "STEPS_PER_PYTHON_BLOCK",
    "ScheduledStep",
    "StepSpec",
    "TrainState",
    "TrainStep",
    "correct_counter",
    "evaluate",
    "group_into_blocks",
    "loss_diverged",
    "make_train_step",
    "numpy_runner",
    "run_steps",
    "schedule_steps",
    "scaling_record",
]
