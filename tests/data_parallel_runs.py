"""Training runs on one and on four simulated CPU devices, for tests/test_parallel.py.

JAX fixes the number of CPU devices when it starts, and other test files start
it with one device in the pytest process. So tests/test_parallel.py runs this
script in a fresh Python process: it asks JAX for 4 CPU devices *before* JAX
computes anything, trains each configuration on one device and
data-parallel on four, and prints one JSON object of plain numbers and strings
(histories, parameters, shardings, compile counters, error messages). The
assertions are in tests/test_parallel.py.

Run it by hand with ``PYTHONPATH=. python tests/data_parallel_runs.py``.
"""

from __future__ import annotations

import json
import sys
import time

import jax

jax.config.update("jax_num_cpu_devices", 4)  # before anything uses JAX
jax.config.update("jax_enable_x64", True)

import numpy as np  # noqa: E402
from jax.sharding import Mesh  # noqa: E402

import nnlib  # noqa: E402
from nnlib import backend, jax_backend, parallel  # noqa: E402
from nnlib.losses import get_loss  # noqa: E402
from nnlib.model import mlp  # noqa: E402
from nnlib.optim import get_optimizer  # noqa: E402
from nnlib.step import TrainState, correct_counter, make_train_step  # noqa: E402
from nnlib.tree import flatten_params  # noqa: E402


def arrays(tree) -> dict[str, list]:
    """Every array of a parameter (or state) nest, as nested lists of floats."""
    return {
        name: np.asarray(value, np.float64).tolist() for name, value in flatten_params(tree).items()
    }


def sharding_facts(sharding, shape=None) -> dict:
    """What a sharding says, in plain values."""
    facts = {
        "spec": str(getattr(sharding, "spec", None)),  # one device: no spec
        "replicated": bool(sharding.is_fully_replicated),
        "n_devices": len(sharding.device_set),
    }
    if shape is not None and shape[0] % len(sharding.device_set) == 0:
        facts["shard_shape"] = list(sharding.shard_shape(tuple(shape)))
    return facts


def run(model, X, y, **options) -> dict:
    """``fit`` once; the history, parameters, model state and the parameters' shardings."""
    result = nnlib.fit(model, model.init(0), X, y, **options)
    leaves = jax.tree_util.tree_leaves(result.params)
    return {
        "history": result.history.to_dict(),
        "params": arrays(result.params),
        "state": arrays(result.state),
        "param_shardings": [sharding_facts(leaf.sharding) for leaf in leaves],
        # Every device's copy of every parameter array, compared with the first copy.
        "copies_equal": all(
            np.array_equal(np.asarray(shard.data), np.asarray(leaf.addressable_shards[0].data))
            for leaf in leaves
            for shard in leaf.addressable_shards
        ),
    }


def compiled() -> dict:
    """:func:`nnlib.parallel.compiled_shardings`, in plain values."""
    return {
        name: [
            {"shape": list(layout.shape), **sharding_facts(layout.sharding, layout.shape)}
            for layout in layouts
        ]
        for name, layouts in parallel.compiled_shardings().items()
    }


def moons(n: int):
    return nnlib.data.make_moons(n, noise=0.2, seed=0)


def main_runs(out: dict) -> None:
    """Dropout, batch norm, momentum, validation, gradient norms; 4 batches of 64 per epoch."""
    X, y = moons(256)
    model = mlp([2, 12, 12, 1], "relu", dropout=0.2, batchnorm=True, dtype="float64")
    options = {
        "loss": "bce",
        "optimizer": "momentum",
        "lr": 0.01,
        "epochs": 6,
        "batch_size": 64,
        "seed": 2,
        "record_grad_norms": True,
        "X_val": X[:50],
        "y_val": y[:50],
    }
    out["one"] = run(model, X, y, **options)
    out["four"] = run(model, X, y, devices=4, **options)
    out["four_compiled"] = compiled()
    out["four_blocks_of_8"] = run(model, X, y, devices=4, steps_per_call=8, **options)
    out["four_blocks_of_8_compiled"] = compiled()

    # The same devices, named as a list and as a mesh: the same compiled step.
    traces = jax_backend.compile_count()
    out["four_as_list"] = run(model, X, y, devices=jax.devices()[:4], **options)
    mesh = Mesh(np.array(jax.devices()), ("data",))
    out["four_as_mesh"] = run(model, X, y, devices=mesh, **options)
    out["list_and_mesh_compiles"] = jax_backend.compile_count() - traces

    # Another learning rate: a traced argument, no new compilation.
    before = jax_backend.cache_info()._asdict()
    moved = {**options, "lr": 0.05}
    out["slider_four"] = run(model, X, y, devices=4, **moved)
    out["slider_cache_before"], out["slider_cache_after"] = (
        before,
        jax_backend.cache_info()._asdict(),
    )
    out["slider_one"] = run(model, X, y, **moved)

    # Early stopping, with the best epoch's weights restored.
    stopping = {**options, "lr": 0.3, "epochs": 40, "early_stopping": 3}
    out["stop_one"] = run(model, X, y, **stopping)
    out["stop_four"] = run(model, X, y, devices=4, **stopping)


def uneven_runs(out: dict) -> None:
    """Batches of 7, 7, 7 and 3 rows on 4 devices; softmax cross-entropy, Adam."""
    data = nnlib.data.make_blobs(24, n_classes=3, seed=1)
    model = mlp([2, 10, 3], "tanh", dtype="float64")
    options = {
        "loss": "cross_entropy",
        "optimizer": "adam",
        "lr": 0.02,
        "epochs": 5,
        "batch_size": 7,
    }
    out["uneven_one"] = run(model, *data, **options)
    traces = jax_backend.compile_count()
    out["uneven_four"] = run(model, *data, devices=4, **options)
    out["uneven_four_compiles"] = jax_backend.compile_count() - traces
    out["uneven_compiled"] = compiled()  # the last compiled step: the batch of 3 rows


def float32_runs(out: dict) -> None:
    X, y = moons(200)
    model = mlp([2, 16, 16, 1], "tanh")  # float32
    options = {"loss": "bce", "optimizer": "sgd", "lr": 0.5, "epochs": 30, "batch_size": 40}
    out["float32_one"] = run(model, X, y, **options)
    out["float32_four"] = run(model, X, y, devices=4, **options)


def divergence_runs(out: dict) -> None:
    X, _ = moons(200)
    y = 100 * X[:, :1]
    model = mlp([2, 8, 1], "relu", dtype="float64")
    options = {"loss": "mse", "lr": 3.0, "epochs": 40}
    out["diverge_one"] = run(model, X, y, **options)
    out["diverge_four"] = run(model, X, y, devices=4, steps_per_call=8, **options)


def allreduce_runs(out: dict) -> None:
    """The all-reduces in the compiled step, on four devices and on one."""
    X, y = moons(64)
    model = mlp([2, 16, 16, 1], "tanh")
    params = model.init(0)
    loss_fn, optimizer = get_loss("bce"), get_optimizer("sgd", 0.1)
    step = make_train_step(model, loss_fn, optimizer, count_correct=correct_counter(loss_fn))
    ts = TrainState(params, model.init_state(), optimizer.init(params), backend.make_key(1))
    data = (ts, backend.asarray(X, "float32"), backend.asarray(y, "float32"))
    idx = np.arange(32, dtype=np.int32)
    mesh = parallel.data_mesh(4)
    programs = {
        "four": jax.jit(parallel.DataParallel(mesh)(step)).lower(
            *parallel.replicate(data, mesh), idx
        ),
        "one": jax.jit(step).lower(*data, idx),
    }
    out["allreduced"] = {
        name: parallel.allreduced_arrays(lowered.compile().as_text())
        for name, lowered in programs.items()
    }
    out["param_shapes"] = [list(np.shape(p)) for p in jax.tree_util.tree_leaves(params)]


def picture_runs(out: dict) -> None:
    """:func:`nnlib.parallel.plot_sharding` and :func:`~nnlib.parallel.shard_rows`."""
    import matplotlib

    matplotlib.use("Agg")
    mesh = parallel.data_mesh(4)
    batch = parallel.shard_rows(np.zeros((8, 3)), mesh)
    weights = parallel.replicate(np.zeros((3, 5)), mesh)
    out["pictures"] = {
        name: [text.get_text() for text in parallel.plot_sharding(a.shape, a.sharding).texts]
        for name, a in (("batch", batch), ("weights", weights), ("vector", batch[:, 0]))
    }
    try:
        parallel.shard_rows(np.zeros((6, 3)), mesh)
    except ValueError as err:
        out["shard_rows_error"] = str(err)


def error_runs(out: dict) -> None:
    X, y = moons(40)
    model = mlp([2, 4, 1], "tanh", dtype="float64")
    devices = jax.devices()
    cases = {
        "five": 5,
        "zero": 0,
        "true": True,
        "text": "gpu",
        "empty list": [],
        "repeated device": [devices[0], devices[0]],
        "two-axis mesh": Mesh(np.array(devices).reshape(2, 2), ("a", "b")),
    }
    out["errors"] = {}
    for name, value in cases.items():
        try:
            nnlib.fit(model, model.init(0), X, y, loss="bce", epochs=1, devices=value)
        except (TypeError, ValueError) as err:
            out["errors"][name] = [type(err).__name__, str(err)]
        else:
            out["errors"][name] = None


def main() -> None:
    out: dict = {"jax_devices": [str(d) for d in jax.devices()], "cpu_seconds": {}}
    runs = (
        main_runs,
        uneven_runs,
        float32_runs,
        divergence_runs,
        allreduce_runs,
        picture_runs,
        error_runs,
    )
    with nnlib.use_backend("jax"):
        for runs_of_a_kind in runs:
            started = time.process_time()
            runs_of_a_kind(out)
            out["cpu_seconds"][runs_of_a_kind.__name__] = time.process_time() - started
    json.dump(out, sys.stdout, default=float)
    print()


if __name__ == "__main__":
    main()
