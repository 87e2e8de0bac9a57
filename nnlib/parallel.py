"""Data-parallel training on JAX: one mini-batch split over several devices.

``fit(..., devices=4)`` trains exactly what ``fit`` trains on one device, but
every mini-batch of ``B`` rows is split into 4 slices of ``B/4`` rows, one per
device::

    every device d, in parallel:  grads_d = Σ over its rows of ∂loss/∂params
    all-reduce:                    grads   = (grads_0 + grads_1 + grads_2 + grads_3) / B
    every device d, in parallel:  params  = optimizer update(params, grads)

Each device holds a full copy of the parameters and of the optimiser state
(they are *replicated*). After the all-reduce every device has the same
gradient, so every copy takes the same step and the copies stay equal. The
gradient of a mean over ``B`` rows does not depend on how the rows are split,
so the result is the one-device result, up to the order in which
floating-point numbers are added.

Nothing here writes that parallel program by hand. JAX describes where arrays
live, and the compiler (XLA) writes the program for that layout:

* a :class:`jax.sharding.Mesh` names the devices; here it has one axis, ``"data"``;
* a :class:`~jax.sharding.NamedSharding` lays an array out on the mesh with a
  :class:`~jax.sharding.PartitionSpec`: ``P("data")`` splits the rows over the
  axis (*sharded*), ``P()`` keeps a full copy on every device (*replicated*);
* inside the compiled step (:class:`DataParallel`),
  :func:`jax.lax.with_sharding_constraint` asks for the mini-batch split by
  rows and for the new training state replicated. XLA carries the split
  through the forward and backward pass, and where the backward pass sums over
  rows (``dW = Xᵀ dZ``, the loss's mean, batch norm's batch statistics) each
  device computes its partial sum and an **all-reduce** adds them up, on every
  device.

The training set is copied to every device once (the course's data sets are
small); each step gathers its mini-batch's rows and splits them.

**A batch size that the device count does not divide** is padded by XLA to
the next multiple, and the padding rows are left out of every sum, so the
result still equals one device's. The padding is wasted work: a multiple of
the device count is the efficient choice.

What the step moves between devices, against what it computes, is the subject
of :mod:`nnlib.allreduce` (NumPy only, no JAX needed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from . import jax_backend
from .step import BlockResult, Runner, StepSpec, TrainState, TrainStep

try:
    import jax
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P
except ImportError as err:  # pragma: no cover - depends on the install
    from .backend import _JAX_INSTALL_HINT

    raise ImportError(_JAX_INSTALL_HINT) from err

Array = Any

#: The name of the mesh axis that the rows of a mini-batch are split over.
AXIS = "data"

_SIMULATE_HINT = (
    "To simulate n devices on a CPU, run "
    "jax.config.update('jax_num_cpu_devices', n) (or set the environment variable "
    "XLA_FLAGS=--xla_force_host_platform_device_count=n) before JAX computes anything, "
    "i.e. at the very top of the script or notebook."
)


# --- the mesh and the two layouts ----------------------------------------------------


def data_mesh(devices: int | Sequence[Any] | Mesh) -> Mesh:
    """A one-axis :class:`~jax.sharding.Mesh` named ``"data"``, from ``fit``'s ``devices``.

    ``devices`` is a number ``n`` (the first ``n`` of ``jax.devices()``), a
    list of JAX devices, or a ready-made mesh with one axis (kept as it is).
    """
    if isinstance(devices, Mesh):
        if len(devices.axis_names) != 1:
            raise ValueError(
                f"devices: a mesh for data-parallel training has one axis, got axes "
                f"{devices.axis_names}. Build one with Mesh(np.array(jax.devices()), ('data',))."
            )
        return devices
    available = jax.devices()
    if isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        if not 1 <= devices <= len(available):
            raise ValueError(
                f"devices={devices}: JAX sees {len(available)} device(s) "
                f"({available[0].platform}); pass a number from 1 to {len(available)}. "
                + _SIMULATE_HINT
            )
        chosen = list(available[: int(devices)])
    elif isinstance(devices, (list, tuple)) and devices:
        chosen = list(devices)
        if not all(isinstance(d, jax.Device) for d in chosen) or len(set(chosen)) < len(chosen):
            raise TypeError(
                f"devices: a list of devices must hold distinct JAX devices (from jax.devices()), "
                f"got {chosen!r}."
            )
    else:
        raise TypeError(
            f"devices must be a number of devices, a list of JAX devices or a one-axis "
            f"jax.sharding.Mesh, got {devices!r}."
        )
    return Mesh(np.array(chosen), (AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
    """The layout ``P()``: a full copy of the array on every device of ``mesh``."""
    return NamedSharding(mesh, P())


def row_sharded(mesh: Mesh) -> NamedSharding:
    """The layout ``P(axis)``: the rows (first axis) split into one block per device."""
    return NamedSharding(mesh, P(mesh.axis_names[0]))


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Every array of ``tree`` copied to every device of ``mesh``."""
    return jax.device_put(tree, replicated(mesh))


def shard_rows(x: Array, mesh: Mesh) -> Array:
    """``x`` split by rows over ``mesh``: device ``d`` holds rows ``d·n/D ... (d+1)·n/D``.

    Outside a compiled function the row count must be a multiple of the device
    count (inside, XLA pads; see the module docstring).
    """
    n_devices = mesh.devices.size
    if np.shape(x)[0] % n_devices:
        raise ValueError(
            f"shard_rows: {np.shape(x)[0]} rows cannot be split evenly over {n_devices} "
            f"devices; pass a multiple of {n_devices} rows."
        )
    return jax.device_put(x, row_sharded(mesh))


# --- the data-parallel step ----------------------------------------------------------


class ArrayLayout(NamedTuple):
    """An array's global ``shape`` and the ``sharding`` that lays it out on the devices."""

    shape: tuple[int, ...]
    sharding: Any


# What XLA chose for the arrays of the data-parallel step when it was last compiled.
_compiled: dict[str, list[ArrayLayout | None]] = {}


def compiled_shardings() -> dict[str, list[ArrayLayout]]:
    """The layouts XLA gave the data-parallel step's arrays, the last time it was compiled.

    Keys: ``"batch X"`` and ``"batch y"`` (the mini-batch), ``"gradients"``
    (after the all-reduce) and ``"params"`` (after the update). Each value is
    a list with one :class:`ArrayLayout` per array (in the order of
    ``tree_leaves``): its shape and its :class:`~jax.sharding.NamedSharding`,
    whose ``spec`` says how the array is split. The compiler reports them
    after it has placed every array (:func:`jax.debug.inspect_array_sharding`):
    they are what it chose, not copies of what was asked for.
    """
    return {name: list(slots) for name, slots in _compiled.items()}


def _record(name: str, tree: Any) -> None:
    """When XLA compiles the step: store the sharding it chose for each array of ``tree``."""
    leaves = jax.tree_util.tree_leaves(tree)
    slots = _compiled[name] = [None] * len(leaves)

    def store(i: int, shape: tuple[int, ...], sharding: Any) -> None:
        slots[i] = ArrayLayout(shape, sharding)

    for i, leaf in enumerate(leaves):
        jax.debug.inspect_array_sharding(leaf, callback=partial(store, i, tuple(leaf.shape)))


@dataclass(frozen=True)
class DataParallel:
    """Turns a training step into the data-parallel step on ``mesh``.

    ``DataParallel(mesh)(train_step)`` is a step with the same signature,
    ``(ts, X, y, idx) -> (ts, loss, n_correct, grads)``, meant to run inside
    ``jax.jit`` with ``ts``, ``X`` and ``y`` replicated over ``mesh``::

        xb, yb      = X[idx], y[idx]                 gather the mini-batch
        xb, yb      = split by rows over the mesh    with_sharding_constraint, P("data")
        ts, ...     = train_step(ts, xb, yb)         XLA inserts the all-reduce
        ts          = replicated                     with_sharding_constraint, P()

    It is hashable and equal for equal meshes, so the compiled step is shared
    by every ``fit`` on the same devices (:func:`nnlib.jax_backend.block_runner`).
    """

    mesh: Mesh

    def __call__(self, train_step: TrainStep) -> TrainStep:
        rows, copies = row_sharded(self.mesh), replicated(self.mesh)

        def data_parallel_step(ts: TrainState, X: Array, y: Array, idx: Any) -> tuple:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            xb = jax.lax.with_sharding_constraint(xb, rows)
            yb = jax.lax.with_sharding_constraint(yb, rows)
            new_ts, loss, n_correct, grads = train_step(ts, xb, yb, None)
            new_ts = jax.lax.with_sharding_constraint(new_ts, copies)
            _record("batch X", xb)
            _record("batch y", yb)
            _record("gradients", grads)
            _record("params", new_ts.params)
            return new_ts, loss, n_correct, grads

        return data_parallel_step


def runner(spec: StepSpec) -> Runner:
    """The runner of ``fit(..., devices=...)``: the JAX runner with the data-parallel step.

    The mesh comes from ``spec.devices`` (:func:`data_mesh`). The training
    state and the training set are replicated over it before a block runs (the
    data once per ``fit``: the same arrays come back for every block); the
    compiled step splits each mini-batch.
    """
    mesh = data_mesh(spec.devices)
    inner = jax_backend.block_runner(spec, wrap_step=DataParallel(mesh))
    placed: dict[str, Any] = {}  # the data as fit passed them, and their replicated copies

    def run(ts: TrainState, X: Array, y: Array, batches: Sequence[Any]) -> BlockResult:
        if placed.get("X") is not X or placed.get("y") is not y:
            placed.update(X=X, y=y, copies=replicate((X, y), mesh))
        X_copy, y_copy = placed["copies"]
        return inner.run(replicate(ts, mesh), X_copy, y_copy, batches)

    return Runner(run, inner.block_steps)


# --- looking at the result ------------------------------------------------------------

_ALLREDUCE = re.compile(r"=\s*(.*?)\s+all-reduce(?:-start)?\(")
_ARRAY_TYPE = re.compile(r"\b([a-z]+\d*)\[([\d,]*)\]")


def allreduced_arrays(program: str) -> list[tuple[str, tuple[int, ...]]]:
    """The arrays that the all-reduce operations of a compiled program add up across devices.

    ``program`` is the text of a compiled XLA program,
    ``jax.jit(f).lower(*args).compile().as_text()``. Returns one
    ``(dtype, shape)`` per array, e.g. ``("f32", (2, 16))``, in the
    program's order. (XLA may combine several arrays into one all-reduce.)
    """
    found = []
    for line in program.splitlines():
        match = _ALLREDUCE.search(line)
        if match:
            for dtype, dims in _ARRAY_TYPE.findall(match.group(1)):
                found.append((dtype, tuple(int(d) for d in dims.split(",") if d)))
    return found


def plot_sharding(shape: tuple[int, ...], sharding: Any, ax: Any = None, title: str = "") -> Any:
    """Draw how an array of ``shape`` (1-D or 2-D) lies on the devices of ``sharding``.

    Each block of the array is a rectangle labelled with the devices that
    hold it: one block on every device for a replicated array, one block of
    rows per device for a row-sharded one. Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    shape = tuple(shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"plot_sharding draws 1-D and 2-D arrays, got shape {shape}.")
    rows, cols = shape[0], (shape[1] if len(shape) == 2 else 1)
    blocks: dict[tuple, list[int]] = {}
    for device, index in sharding.devices_indices_map(shape).items():
        bounds = tuple(sl.indices(n)[:2] for sl, n in zip(index, (rows, cols), strict=False))
        blocks.setdefault(bounds, []).append(device.id)
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    colours = plt.get_cmap("tab10")
    for bounds, ids in sorted(blocks.items()):
        (r0, r1), (c0, c1) = bounds[0], bounds[1] if len(bounds) == 2 else (0, cols)
        ax.add_patch(
            plt.Rectangle(
                (c0, r0),
                c1 - c0,
                r1 - r0,
                facecolor=colours(min(ids) % 10),
                alpha=0.35 if len(ids) > 1 else 0.8,
                edgecolor="black",
            )
        )
        label = "devices " + ",".join(map(str, sorted(ids))) if len(ids) > 1 else f"device {ids[0]}"
        size = f"{r1 - r0} × {c1 - c0}" if len(shape) == 2 else f"{r1 - r0} entries"
        ax.text((c0 + c1) / 2, (r0 + r1) / 2, f"{label}\n{size}", ha="center", va="center")
    ax.set(xlim=(0, cols), ylim=(rows, 0), xticks=[], yticks=[])
    ax.set_title(title or f"shape {shape}, {sharding.spec}", fontsize=10)
    return ax


__all__ = [
    "AXIS",
    "ArrayLayout",
    "DataParallel",
    "allreduced_arrays",
    "compiled_shardings",
    "data_mesh",
    "plot_sharding",
    "runner",
    "replicate",
    "replicated",
    "row_sharded",
    "shard_rows",
]
