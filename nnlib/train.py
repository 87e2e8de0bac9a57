"""Training: the loop that turns gradients into learning.

``fit`` repeats, for every mini-batch of every epoch, one *training step*::

    loss, grads = forward and backward pass on the batch
    params      = optimizer update(params, grads)

and records what happened in a :class:`History`. Mini-batches are drawn by a
seeded shuffle, so the same seed gives the same run. A loss that becomes NaN
or infinite does not crash anything: training stops, the history says at which
step and why, and the last finite parameters are returned.

How ``fit`` does it, one named helper per part:

1. :func:`_check_fit_arguments`, :func:`_training_arrays`: clear errors for
   bad input; the data as arrays in the parameters' dtype. With
   ``compute_dtype`` or ``loss_scale``, the precision policy of
   :mod:`nnlib.mixed_precision` (16-bit passes, float32 master weights,
   loss scaling) and the loss scale's starting state.
2. :func:`_runner`: the current backend's *runner* for the training step of
   :mod:`nnlib.step`, looked up by backend name in ``_RUNNERS``. NumPy calls
   the step in Python; JAX (:mod:`nnlib.jax_backend`, imported only then)
   compiles the same step, also for several devices (:mod:`nnlib.parallel`).
   Neither knows ``fit``.
3. :func:`_train_blocks`: the loop. The seeded schedule of mini-batches is cut
   into *blocks*; the runner runs a block, and a
   :class:`~nnlib.history.Recorder` writes the history and says when to stop
   (divergence, the callback, early stopping).
4. :func:`_finish`: the parameters to return and the closing message.

The loop is a generator: :func:`fit_steps` yields a :class:`FitResult` after every block and
``fit`` runs it to the end. Code that trains a little at a time (a widget that redraws as it
trains, and can be cancelled) iterates ``fit_steps`` itself, and stops iterating to cancel.

**The learning rate, from a slider to the update:** ``fit(lr=...)`` puts it in a
:class:`~nnlib.step.StepSpec`; the backend's runner calls :meth:`StepSpec.make_step
<nnlib.step.StepSpec.make_step>`, which builds ``get_optimizer(optimizer, lr)`` and the step
with it; each step calls ``optimizer.update``. On JAX, ``make_step`` runs inside the compiled
function with ``lr`` as an argument: a new learning rate reuses the compiled step.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from . import backend
from .diagnostics import grad_norms as weight_grad_norms
from .history import DIVERGENCE_HINT, History, Recorder
from .losses import get_loss, softmax_cross_entropy
from .mixed_precision import PrecisionPolicy, initial_loss_scale, precision_policy
from .model import Sequential
from .optim import Optimizer, get_optimizer
from .step import (
    STEPS_PER_PYTHON_BLOCK,
    BlockResult,
    BlockRunner,
    Runner,
    ScheduledStep,
    StepSpec,
    TrainState,
    TrainStep,
    correct_counter,
    evaluate,
    group_into_blocks,
    make_train_step,
    numpy_runner,
    run_steps,
    schedule_steps,
)
from .tree import param_dtype

Array = Any


@dataclass
class FitResult:
    """The trained ``params``, the model ``state`` (BatchNorm statistics) and the ``history``.

    ``opt_state``: the optimiser's state; ``loss_scale``: the loss-scale
    state at the end (``None`` without loss scaling). Pass either back to
    ``fit`` to continue training where it stopped.
    """

    params: Any
    state: Any
    history: History
    opt_state: Any = None
    loss_scale: Any = None


@dataclass(frozen=True)
class FitOptions:
    """The keyword arguments of :func:`fit` and :func:`fit_steps`, with their defaults.

    :func:`fit`'s docstring says what each one means.
    """

    loss: Any = "mse"
    optimizer: str | Optimizer = "sgd"
    lr: Any = 0.1
    epochs: int = 10
    batch_size: int | None = None
    seed: int = 0
    X_val: Array = None
    y_val: Array = None
    state: Any = None
    l2: float = 0.0
    clip_norm: float | None = None
    record_grad_norms: bool = False
    early_stopping: int | None = None
    restore_best: bool = True
    progress: bool = False
    opt_state: Any = None
    callback: Callable[[int, Any, History], bool | None] | None = None
    steps_per_call: int = 1
    compute_dtype: Any = None
    loss_scale: float | str | dict | None = None
    devices: Any = None  # JAX: data-parallel over n devices, a list of devices or a Mesh

    @classmethod
    def from_keywords(cls, options: dict[str, Any]) -> FitOptions:
        """``FitOptions(**options)``, with an error that lists the valid names for a typo."""
        valid = [f.name for f in fields(cls)]
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise TypeError(
                f"fit() got unexpected keyword argument(s) {unknown}. "
                f"Valid keyword arguments are {valid}."
            )
        return cls(**options)


def _with_options_signature(func: Callable) -> Callable:
    """Show every :class:`FitOptions` field, with its default, in ``func``'s signature.

    ``fit`` and ``fit_steps`` take ``**options``; with this, ``help(fit)`` and
    Jupyter's Shift+Tab list each option as a keyword argument with its default.
    """
    signature = inspect.signature(func)
    positional = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    keywords = [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type
        )
        for f in fields(FitOptions)
    ]
    func.__signature__ = signature.replace(parameters=positional + keywords)
    return func


# --- input checks ------------------------------------------------------------------


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


def _check_fit_arguments(X: Array, y: Array, opts: FitOptions) -> tuple[Callable, Optimizer, int]:
    """Clear errors for bad arguments; returns the loss function, optimiser and batch size."""
    if not isinstance(opts.epochs, (int, np.integer)) or opts.epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {opts.epochs!r}.")
    _check_inputs(X, y, "fit")
    batch_size = int(np.shape(X)[0]) if opts.batch_size is None else opts.batch_size
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(
            f"batch_size must be a positive integer (or None for full batch), got {batch_size!r}."
        )
    steps_per_call = opts.steps_per_call
    if not isinstance(steps_per_call, (int, np.integer)) or steps_per_call < 1:
        raise ValueError(f"steps_per_call must be a positive integer, got {steps_per_call!r}.")
    has_val = opts.X_val is not None and opts.y_val is not None
    if has_val:
        _check_inputs(opts.X_val, opts.y_val, "fit (validation set)")
    if opts.early_stopping is not None and not has_val:
        raise ValueError("early_stopping needs a validation set: pass X_val and y_val.")
    loss_fn = get_loss(opts.loss)
    return loss_fn, get_optimizer(opts.optimizer, opts.lr), batch_size  # also checks lr


def _training_arrays(
    model: Sequential, params: Any, X: Array, y: Array, loss_fn: Callable, opts: FitOptions
) -> tuple[Array, Array, Array | None]:
    """``X``, ``y`` and ``X_val`` as backend arrays in the parameters' dtype; targets checked.

    Class labels for softmax cross-entropy stay integers. The targets are
    validated once, with the loss's own checks, instead of at every step.
    """
    dtype = param_dtype(params)
    X_all = backend.asarray(X, dtype)
    y_all = backend.asarray(
        np.asarray(y, dtype=dtype)
        if loss_fn is not softmax_cross_entropy or np.ndim(y) > 1
        else np.asarray(y)
    )
    n = int(np.shape(X)[0])
    out0 = model.predict(params, X_all[:1], opts.state)
    loss_fn(backend.xp().broadcast_to(out0, (n,) + tuple(out0.shape[1:])), y_all, check=True)
    has_val = opts.X_val is not None and opts.y_val is not None
    return X_all, y_all, backend.asarray(opts.X_val, dtype) if has_val else None


# --- the runner of each backend ----------------------------------------------------


def _jax_runner(spec: StepSpec) -> Runner:
    """The JAX backend's runner (over ``spec.devices``: data-parallel). JAX is imported here."""
    from . import jax_backend, parallel

    return jax_backend.block_runner(spec) if spec.devices is None else parallel.runner(spec)


# Each backend's runner factory, by backend name (``nnlib.get_backend()``).
_RUNNERS: dict[str, Callable[[StepSpec], Runner]] = {"numpy": numpy_runner, "jax": _jax_runner}


def _runner(
    model: Sequential, loss_fn: Callable, opts: FitOptions, policy: PrecisionPolicy | None
) -> Runner:
    """The current backend's runner for the step that ``opts`` and ``policy`` describe."""
    spec = StepSpec(
        model,
        loss_fn,
        opts.optimizer,
        opts.lr,
        l2=opts.l2,
        clip_norm=opts.clip_norm,
        keep_grads=opts.record_grad_norms,
        steps_per_call=int(opts.steps_per_call),
        precision=policy,
        devices=opts.devices,
    )
    return _RUNNERS[backend.get_backend()](spec)


# --- the loop ----------------------------------------------------------------------


def _train_blocks(
    ts: TrainState,
    run_block: BlockRunner,
    blocks: Iterator[list[ScheduledStep]],
    X: Array,
    y: Array,
    recorder: Recorder,
    opts: FitOptions,
) -> Iterator[FitResult]:
    """Run each block, record it and yield the result so far; last, the result to return."""
    last_finite = ts.params  # parameters whose loss was finite, returned if training diverges
    recorder.start()
    try:
        for block in blocks:
            with np.errstate(all="ignore"):  # overflow ends in divergence, reported as a result
                result = run_block(ts, X, y, [step.indices for step in block])
                stop = recorder.record(block, result)
            ts = result.ts
            if result.previous_params is not None:
                last_finite = result.previous_params
            if stop:
                break
            yield FitResult(ts.params, ts.state, recorder.history, ts.opt_state, ts.loss_scale)
    finally:
        recorder.close()
    yield _finish(ts, last_finite, recorder, opts)


def _finish(ts: TrainState, last_finite: Any, recorder: Recorder, opts: FitOptions) -> FitResult:
    """What ``fit`` returns, and the closing message.

    After divergence: the last parameters whose loss was finite. With early
    stopping and ``restore_best``: the best epoch's parameters and state.
    """
    history, best = recorder.history, recorder.early_stopping.best
    params, state = (last_finite if history.diverged else ts.params), ts.state
    if best is not None:
        history.best_epoch = best[2]
        if opts.restore_best and opts.early_stopping is not None:
            params, state = best[0], best[1]
    if not history.message:
        history.message = f"trained {len(history.epoch)} epochs ({history.steps} steps)"
    return FitResult(params, state, history, ts.opt_state, ts.loss_scale)


@_with_options_signature
def fit_steps(
    model: Sequential, params: Any, X: Array, y: Array, **options: Any
) -> Iterator[FitResult]:
    """:func:`fit`, one block of steps at a time: yields a :class:`FitResult` after each block.

    Takes :func:`fit`'s arguments, and checks them when called. Each result
    holds the parameters, model state and optimiser state after the block,
    and the history so far (one :class:`History` that grows). After the last
    block comes the final result, the one ``fit`` returns (best epoch's
    parameters restored, closing message). To cancel, stop iterating
    (``break``, or ``close()`` the iterator)::

        for result in fit_steps(model, params, X, y, lr=0.1, epochs=100, X_val=Xv, y_val=yv):
            redraw(result.history)      # one epoch more each time
            if cancelled():
                break

    A block ends at each epoch's end when something happens there
    (validation, gradient norms, a callback or a progress bar), and after at
    most ``STEPS_PER_PYTHON_BLOCK`` steps (on JAX with ``steps_per_call > 1``:
    that many steps).
    """
    opts = FitOptions.from_keywords(options)
    loss_fn, optimizer, batch_size = _check_fit_arguments(X, y, opts)
    loss_scale = initial_loss_scale(opts.loss_scale)  # checks the value
    policy = precision_policy(opts.compute_dtype, opts.loss_scale, params)
    X_all, y_all, X_val = _training_arrays(model, params, X, y, loss_fn, opts)
    backend.keep_freed_memory()  # every step frees and re-creates the same arrays: reuse them
    state = opts.state if opts.state is not None else model.init_state()
    opt_state = opts.opt_state if opts.opt_state is not None else optimizer.init(params)
    key = backend.make_key(opts.seed + 1)
    ts = TrainState(params, state, opt_state, key, loss_scale)
    runner = _runner(model, loss_fn, opts, policy)

    def validate(params: Any, state: Any) -> dict[str, float]:
        return evaluate(model, params, X_val, opts.y_val, loss_fn, state)

    recorder = Recorder(
        validate=None if X_val is None else validate,
        counts_correct=correct_counter(loss_fn) is not None,
        record_grad_norms=opts.record_grad_norms,
        callback=opts.callback,
        early_stopping=opts.early_stopping,
        progress_epochs=int(opts.epochs) if opts.progress else None,
        divergence_hint=(policy and policy.divergence_hint()) or DIVERGENCE_HINT,
    )
    rng = np.random.default_rng(opts.seed)
    steps = schedule_steps(int(np.shape(X)[0]), batch_size, int(opts.epochs), rng)
    epoch_end_work = (X_val is not None, opts.record_grad_norms, opts.callback is not None)
    blocks = group_into_blocks(steps, runner.block_steps, any(epoch_end_work) or opts.progress)
    return _train_blocks(ts, runner.run, blocks, X_all, y_all, recorder, opts)


@_with_options_signature
def fit(model: Sequential, params: Any, X: Array, y: Array, **options: Any) -> FitResult:
    """Train ``model`` from ``params`` on ``(X, y)``; returns a :class:`FitResult`.

    Arguments (all keyword-only; the signature shows their defaults):
        loss: ``"mse"``, ``"bce"`` (binary, from logits), ``"cross_entropy"``
            (softmax, from logits) or a loss function.
        optimizer: a name (``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"rmsprop"``,
            ``"adam"``) used with ``lr``, or an :class:`~nnlib.optim.Optimizer`.
        lr: the learning rate: a number, or a schedule ``lr(t)`` of the step ``t``.
        epochs: passes over the training set.
        batch_size: mini-batch size; ``None`` means full batch (one step per epoch).
        seed: seeds the shuffling and dropout masks: same seed, same run.
        X_val, y_val: optional validation set, evaluated after every epoch.
        l2: weight-decay strength λ; the loss gets ``(λ/2) Σ ||W||²``.
        clip_norm: clip the gradient's global norm to this value.
        record_grad_norms: store per-layer ``||∂L/∂W||`` every epoch.
        early_stopping: stop when the validation loss has not improved for this
            many epochs (needs a validation set); with ``restore_best`` the
            best epoch's parameters are returned.
        state, opt_state: start from this model state (BatchNorm) and
            optimiser state, e.g. a previous :class:`FitResult`'s.
        progress: show a progress bar over the epochs.
        callback: ``callback(epoch, params, history)`` after each epoch;
            returning ``True`` stops training.
        steps_per_call: on JAX, how many steps one compiled call runs (a
            ``lax.scan`` over them): large values remove Python's overhead
            per step, which dominates for small models. ``1`` (default)
            compiles a single step. Any value gives the same history. NumPy
            runs one step at a time whatever the value.
        compute_dtype: mixed precision: ``"float16"`` or ``"bfloat16"`` runs
            the forward and backward passes in that dtype while the
            parameters (the master weights) and the update stay in their
            own dtype, float32. ``None`` (default): everything in the
            parameters' dtype. bfloat16 on NumPy needs ``ml_dtypes``.
        loss_scale: ``None`` (default, no scaling), a positive number (a
            static scale ``S``: the backward pass starts from ``S · ∂L/∂out``
            and the gradients are divided by ``S`` in float32), ``"dynamic"``
            (start at 2**15, halve on an overflow, double after 2000 finite
            steps in a row) or a state from
            :func:`nnlib.precision.loss_scale_init` for other settings, e.g.
            ``loss_scale_init("dynamic", growth_interval=100)``. With any
            loss scale, a step whose gradients overflow (inf/NaN) is
            skipped. ``history.loss_scale`` records the scale of every step
            and ``history.skipped_steps`` the skipped ones.

    Mixed precision, step by step (the order of operations is in
    :mod:`nnlib.mixed_precision`): cast the float32 weights and the batch
    down to ``compute_dtype``; forward pass; the loss in float32 from the
    outputs cast up; backward pass from the scaled gradient seed; gradients
    cast up to float32 and divided by the scale; skip the update if any is
    not finite; update the float32 weights; adjust a dynamic scale.
    Parameters that are float16 or bfloat16 themselves are trained all in
    16 bits ("pure" 16-bit training, where small updates are rounded away);
    a loss scale is refused with them. Validation runs with the master
    weights, in their dtype.
        devices: JAX only: data-parallel over ``n`` devices, a list of devices or a
            one-axis ``jax.sharding.Mesh``; same history as one device (:mod:`nnlib.parallel`).

    Divergence: if a mini-batch loss is NaN or infinite, training stops,
    ``history.diverged`` is set with the step in ``history.diverged_at_step``,
    and the last parameters whose loss was finite are returned. A step that
    loss scaling skips is not divergence: its loss is finite (it is computed
    before the scale is applied); only its gradients overflowed.

    ``fit`` runs :func:`fit_steps` to its end.
    """
    for result in fit_steps(model, params, X, y, **options):  # block after block
        last = result
    return last


__all__ = [
    "STEPS_PER_PYTHON_BLOCK",
    "BlockResult",
    "BlockRunner",
    "FitOptions",
    "FitResult",
    "History",
    "TrainState",
    "TrainStep",
    "correct_counter",
    "evaluate",
    "fit",
    "fit_steps",
    "make_train_step",
    "run_steps",
    "weight_grad_norms",
]
