"""Compiled training on JAX: the same training step, compiled once and reused.

nnlib's layers, losses and optimisers are written against ``backend.xp()``, so
after ``nnlib.set_backend("jax")`` they already run on ``jax.numpy``, one
operation at a time. This module makes training *fast* there by compiling the
training step of :func:`nnlib.step.make_train_step` (forward, loss, our
hand-written backward pass, optional clipping and the optimiser update) with
``jax.jit``::

    nnlib.set_backend("jax")
    result = nnlib.fit(model, params, X, y, loss="bce", lr=0.1, epochs=500)
    result = nnlib.fit(..., steps_per_call=100)   # 100 steps per compiled call

Nothing here computes a gradient with ``jax.grad``: JAX only compiles our own
code (the tests use ``jax.grad`` to check our backward passes).

**Compile once, reuse.** Compiling takes a fraction of a second to seconds, so
compiled functions are kept in a cache. The cache key is everything that is
baked into the compiled code: the model's structure (its layers and their
settings), the loss, the optimiser's name (or the optimiser object), the
gradient-clipping norm, whether there is an L2 penalty and how many steps one
call runs. The learning rate and the L2 strength are *not* in the key: they are
passed to the compiled function as (traced) arguments, so moving a
learning-rate slider re-uses the compiled step. Array shapes are handled by
``jax.jit`` itself: a new batch size compiles once more. :func:`cache_info`
counts all of this, so tests can check that nothing was recompiled.

**Mixed precision** (``fit(compute_dtype=..., loss_scale=...)``) compiles
:mod:`nnlib.mixed_precision`'s step the same way: the precision policy is
part of the cache key, the loss-scale state travels in the
:class:`~nnlib.step.TrainState` (and through the scan) like the optimiser's.

**Many steps per call.** A small network does a few microseconds of arithmetic
per step, less than the cost of calling a compiled function from Python.
``fit(..., steps_per_call=k)`` therefore compiles ``k`` steps into one call
with ``jax.lax.scan``. Inside the scan a step whose loss is NaN or infinite
freezes everything (parameters, optimiser and model state), and the remaining
steps of the block are skipped, so divergence is reported exactly as on NumPy.

**Devices.** JAX places arrays on its default device (a GPU when the CUDA
build of JAX is installed, else the CPU); :func:`device_description` says
which one that is. ``fit(..., devices=...)`` trains on several devices at once
(:mod:`nnlib.parallel` wraps the step here through ``block_runner``'s
``wrap_step``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import backend
from .layers import Layer
from .optim import Optimizer
from .step import (
    STEPS_PER_PYTHON_BLOCK,
    BlockResult,
    Runner,
    StepSpec,
    TrainState,
    TrainStep,
    run_steps,
    scaling_record,
)

try:
    import jax
    import jax.numpy as jnp
    from jax import lax
except ImportError as err:  # pragma: no cover - depends on the install
    raise ImportError(backend._JAX_INSTALL_HINT) from err

Array = Any

_MAX_CACHED = 64
_cache: OrderedDict[tuple, Callable] = OrderedDict()
_counts = {"hits": 0, "misses": 0, "traces": 0}


class CacheInfo(NamedTuple):
    """Counters of the compiled-function cache.

    ``hits``/``misses``: lookups that found / did not find a compiled function
    for a configuration; ``traces``: how many times JAX traced (and so
    compiled) a training function, including once more per new array shape;
    ``size``: configurations currently kept.
    """

    hits: int
    misses: int
    traces: int
    size: int


def cache_info() -> CacheInfo:
    """The cache's counters (see :class:`CacheInfo`)."""
    return CacheInfo(_counts["hits"], _counts["misses"], _counts["traces"], len(_cache))


def compile_count() -> int:
    """How many times a training function has been traced and compiled so far."""
    return _counts["traces"]


def clear_cache() -> None:
    """Forget every compiled function and reset the counters."""
    _cache.clear()
    _counts.update(hits=0, misses=0, traces=0)


def device_description() -> str:
    """The device JAX computes on: ``"cpu"``, or e.g. ``"NVIDIA H100 80GB HBM3 (gpu)"``."""
    device = jax.devices()[0]
    if device.platform == "cpu":
        return "cpu"
    return f"{device.device_kind} ({device.platform})"


# --- the cache key -----------------------------------------------------------------


def structure_key(obj: Any) -> Any:
    """A hashable summary of a layer's (or model's) configuration.

    Two models with equal keys compute the same function of ``(params, x)``,
    so they can share compiled code. It is built from every attribute of every
    layer (sizes, activation functions, dropout rate, batch-norm momentum,
    dtype, ...), recursively for nested layers.
    """
    if isinstance(obj, Layer):
        attributes = sorted(vars(obj).items())
        return (type(obj), tuple((name, structure_key(value)) for name, value in attributes))
    if isinstance(obj, (list, tuple)):
        return tuple(structure_key(v) for v in obj)
    if isinstance(obj, dict):
        return tuple(sorted((k, structure_key(v)) for k, v in obj.items()))
    if isinstance(obj, np.dtype):
        return str(obj)
    try:
        hash(obj)
    except TypeError:
        return repr(obj)
    return obj


def _optimizer_spec(optimizer: str | Optimizer, lr: Any) -> tuple[Any, bool]:
    """``(key, lr_is_traced)``: what of the optimiser is compiled in, and whether lr is an input.

    A name with a numeric learning rate: the optimiser is rebuilt inside the
    compiled function from the name and a traced ``lr`` (one compilation for
    every learning rate). A schedule (a function of the step) or a ready-made
    :class:`~nnlib.optim.Optimizer` is compiled in as it is.
    """
    if isinstance(optimizer, Optimizer):
        return ("optimizer", optimizer), False
    if callable(lr):
        return ("schedule", optimizer.lower(), lr), False
    return ("name", optimizer.lower()), True


def _cached(key: tuple, build: Callable[[], Callable]) -> Callable:
    """The compiled function for ``key``, built (and remembered) on the first request."""
    if key in _cache:
        _counts["hits"] += 1
        _cache.move_to_end(key)
        return _cache[key]
    _counts["misses"] += 1
    _cache[key] = build()
    if len(_cache) > _MAX_CACHED:
        _cache.popitem(last=False)
    return _cache[key]


# --- compiled training ---------------------------------------------------------------


def block_runner(
    spec: StepSpec, wrap_step: Callable[[TrainStep], TrainStep] | None = None
) -> Runner:
    """The JAX runner: ``run(ts, X, y, batches) -> BlockResult`` with compiled steps.

    ``spec.steps_per_call == 1``: :func:`nnlib.step.run_steps` calls a
    jit-compiled step once per mini-batch, with the parameters packed into
    one vector while the block runs (see :func:`_compile_step`). Otherwise
    one compiled call runs a whole block of up to ``steps_per_call`` steps
    (see :func:`_compile_block`). The step is built by
    :meth:`~nnlib.step.StepSpec.make_step`, inside the compiled function,
    with the learning rate and L2 strength as traced arguments.

    ``wrap_step``, if given, turns that step into the one that is compiled
    (:class:`nnlib.parallel.DataParallel` splits its batch over devices). It
    is part of the cache key, so it must be hashable, and equal wrappers
    must wrap equally.
    """
    spec_key, lr_traced = _optimizer_spec(spec.optimizer, spec.lr)
    use_l2 = bool(spec.l2)
    steps_per_call, keep_grads = spec.steps_per_call, spec.keep_grads
    key = (
        structure_key(spec.model),
        spec.loss_fn,
        spec_key,
        spec.clip_norm,
        use_l2,
        keep_grads,
        steps_per_call,
        spec.precision,
        wrap_step,
    )
    # Python floats are "weakly typed" in JAX: they take the dtype of the
    # parameters (float32 stays float32) and a new value does not recompile.
    hyper = {"lr": float(spec.lr) if lr_traced else 0.0, "l2": float(spec.l2)}

    def make_step(lr_value: Any, l2_value: Any) -> TrainStep:
        step = spec.make_step(lr_value if lr_traced else spec.lr, l2_value if use_l2 else 0.0)
        return step if wrap_step is None else wrap_step(step)

    if steps_per_call == 1:
        step = _cached(key, lambda: _compile_step(make_step, keep_grads))

        def run(ts: TrainState, X: Array, y: Array, batches: Sequence[Any]) -> BlockResult:
            ts = _as_jax(ts)
            layout = _params_layout(ts.params)

            def train_step(packed: TrainState, X: Array, y: Array, idx: Any) -> tuple:
                idx = None if idx is None else np.asarray(idx, np.int32)
                packed, stats, grads = step(packed, X, y, idx, hyper, layout)
                loss, n_correct = np.asarray(stats)  # one transfer for both numbers
                return packed, loss, n_correct, grads

            packed = ts._replace(params=_ravel_jit(ts.params))
            result = run_steps(train_step, packed, X, y, batches)
            previous = result.previous_params
            return result._replace(
                ts=result.ts._replace(params=_unravel_jit(result.ts.params, layout)),
                previous_params=None if previous is None else _unravel_jit(previous, layout),
            )

        return Runner(run, STEPS_PER_PYTHON_BLOCK)

    block = _cached(key, lambda: _compile_block(make_step, steps_per_call, keep_grads))

    def run_block(ts: TrainState, X: Array, y: Array, batches: Sequence[Any]) -> BlockResult:
        n = len(batches)
        active = np.zeros(steps_per_call, bool)
        active[:n] = True
        if batches[0] is None:
            indices = None
        else:  # pad to the compiled block length; padded steps are skipped
            indices = np.zeros((steps_per_call, len(batches[0])), np.int32)
            indices[:n] = np.stack(batches)
        start = _as_jax(ts)
        ts, previous, _, grads, losses, correct, scaling = block(
            start, X, y, indices, active, hyper
        )
        losses = np.asarray(losses)[:n].tolist()
        correct = np.asarray(correct)[:n].tolist()
        finite = np.isfinite(losses)
        n_run = n if finite.all() else int(np.argmin(finite)) + 1
        scales = skipped = None
        if scaling is not None:  # the loss-scale state before the block and after each step
            first = start.loss_scale
            scales, skipped = scaling_record(
                np.concatenate([[first["scale"]], np.asarray(scaling[0])[:n_run]]),
                np.concatenate([[first["overflows"]], np.asarray(scaling[1])[:n_run]]),
            )
        return BlockResult(
            ts,
            losses[:n_run],
            correct[:n_run],
            previous if finite[0] else None,
            grads if keep_grads else None,
            scales,
            skipped,
        )

    return Runner(run_block, steps_per_call)


def _as_jax(ts: TrainState) -> TrainState:
    """Every leaf as a JAX array, so that the first call and later calls see the same types.

    (The optimiser's step counter starts as the Python int 0, parameters may
    come as NumPy arrays.) Leaves that already are JAX arrays are kept as they
    are: converting them again would cost more than a small step.
    """
    return jax.tree_util.tree_map(lambda a: a if isinstance(a, jax.Array) else jnp.asarray(a), ts)


# Every array a compiled function returns costs a few microseconds to hand back
# to Python, and a model of 20 layers has 42 parameter arrays: that alone would
# add a sixth to the time of its step. So between steps the parameters travel
# as one flat vector ("packed"), and are unpacked inside the compiled step,
# where slicing and reshaping cost nothing.


def _params_layout(params: Any) -> tuple:
    """The structure, shapes and dtypes of ``params``: what it takes to unpack the flat vector."""
    leaves, treedef = jax.tree_util.tree_flatten(params)
    return treedef, tuple((tuple(leaf.shape), str(leaf.dtype)) for leaf in leaves)


def _ravel(params: Any) -> Array:
    """All parameter arrays, flattened and concatenated into one vector."""
    leaves = jax.tree_util.tree_leaves(params)
    return jnp.concatenate([jnp.ravel(leaf) for leaf in leaves]) if leaves else jnp.zeros(0)


def _unravel(flat: Array, layout: tuple) -> Any:
    """Inverse of :func:`_ravel`: consecutive slices of ``flat``, reshaped."""
    treedef, shapes = layout
    leaves, start = [], 0
    for shape, dtype in shapes:
        size = int(np.prod(shape))
        leaves.append(flat[start : start + size].reshape(shape).astype(dtype))
        start += size
    return jax.tree_util.tree_unflatten(treedef, leaves)


_ravel_jit = jax.jit(_ravel)
_unravel_jit = jax.jit(_unravel, static_argnums=1)


def _compile_step(make_step: Callable, keep_grads: bool) -> Callable:
    """``jax.jit`` of one training step on packed parameters (see :func:`_ravel`).

    ``hyper`` holds the traced learning rate and L2 strength; ``layout`` is a
    static argument. Returns the packed new state, ``[loss, n_correct]`` as
    one array, and the gradients only when they are wanted.
    """

    def step(packed: TrainState, X: Array, y: Array, idx: Any, hyper: dict, layout: tuple):
        _counts["traces"] += 1  # runs only while JAX traces, i.e. once per compilation
        ts = packed._replace(params=_unravel(packed.params, layout))
        ts, loss, correct, grads = make_step(hyper["lr"], hyper["l2"])(ts, X, y, idx)
        stats = jnp.stack([loss, jnp.asarray(correct, loss.dtype)])
        return ts._replace(params=_ravel(ts.params)), stats, grads if keep_grads else None

    return jax.jit(step, static_argnums=5)


def _compile_block(make_step: Callable, length: int, keep_grads: bool) -> Callable:
    """``jax.jit`` of ``length`` training steps run by ``lax.scan``.

    The scan carries ``(ts, previous, diverged, grads)``: the training state,
    the parameters before the last finite step, whether a loss has been
    NaN/inf, and the last finite step's gradients. Each step runs only if it
    is ``active`` (a real step, not padding) and nothing has diverged; the
    step's update is kept only if its loss is finite. That reproduces the
    NumPy loop: stop at the first non-finite loss, keep the last finite state.
    Per step the scan outputs the loss, the number classified right and,
    with loss scaling, the loss-scale state's ``scale`` and ``overflows``
    after the step (``None`` without).
    """

    def block(ts: TrainState, X: Array, y: Array, indices: Any, active: Array, hyper: dict):
        _counts["traces"] += 1  # runs only while JAX traces, i.e. once per compilation
        train_step = make_step(hyper["lr"], hyper["l2"])
        first_idx = None if indices is None else indices[0]
        # Shapes and dtypes of one step's outputs, for the "skipped step" branch.
        _, loss_like, correct_like, grads_like = jax.eval_shape(train_step, ts, X, y, first_idx)
        no_grads = jax.tree_util.tree_map(lambda g: jnp.zeros(g.shape, g.dtype), grads_like)

        def scaling(ts: TrainState) -> Any:  # what the history needs of the loss-scale state
            ls = ts.loss_scale
            return None if ls is None else (ls["scale"], ls["overflows"])

        def run_one(carry: tuple, idx: Any) -> tuple:
            ts, previous, _, grads = carry
            new_ts, loss, correct, new_grads = train_step(ts, X, y, idx)
            finite = jnp.isfinite(loss)

            def keep(new: Any, old: Any) -> Any:  # new where the loss is finite, else old
                return jax.tree_util.tree_map(lambda a, b: jnp.where(finite, a, b), new, old)

            carry = (
                keep(new_ts, ts),
                keep(ts.params, previous),
                ~finite,
                keep(new_grads, grads) if keep_grads else grads,
            )
            return carry, (loss, correct, scaling(new_ts))

        def skip(carry: tuple, idx: Any) -> tuple:
            nan = jnp.full(loss_like.shape, jnp.nan, loss_like.dtype)
            zeros = jnp.zeros(correct_like.shape, correct_like.dtype)
            return carry, (nan, zeros, scaling(carry[0]))

        def body(carry: tuple, inputs: tuple) -> tuple:
            idx, is_active = inputs
            return lax.cond(is_active & ~carry[2], run_one, skip, carry, idx)

        carry = (ts, ts.params, jnp.asarray(False), no_grads if keep_grads else None)
        xs = (indices, active)
        (ts, previous, diverged, grads), (losses, correct, scaled) = lax.scan(body, carry, xs)
        return ts, previous, diverged, grads, losses, correct, scaled

    return jax.jit(block)


__all__ = [
    "CacheInfo",
    "block_runner",
    "cache_info",
    "clear_cache",
    "compile_count",
    "device_description",
    "structure_key",
]
