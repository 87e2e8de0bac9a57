"""Data-parallel training (``fit(..., devices=...)``) on four simulated CPU devices.

JAX decides how many CPU devices it has when it starts, and the other test
files start it in this process with one. So the training runs happen in a
fresh process, ``tests/data_parallel_runs.py``, which asks for four devices
first; it runs each configuration on one device and on four and reports plain
numbers. The tests here assert on them: step by step the same history as on
one device, replicated parameters, sharded batches, an all-reduce of exactly
the gradients, the compiled step reused, uneven batch sizes, divergence and
early stopping as on one device, and clear errors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnlib
from nnlib.model import mlp

ROOT = Path(__file__).resolve().parent.parent
RUNS = Path(__file__).with_name("data_parallel_runs.py")

#: float64: data-parallel and one-device runs differ only in the order of additions.
TOL_64 = 1e-12
#: float32 (measured: 3e-7 on the step losses and 6e-7 on the weights after 150 steps).
TOL_32 = 1e-5


@pytest.fixture(scope="module")
def runs() -> dict:
    pytest.importorskip("jax", reason="JAX not installed: pip install -r requirements-jax.txt")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NNLIB_BACKEND", None)
    env.pop("XLA_FLAGS", None)
    result = subprocess.run(
        [sys.executable, str(RUNS)], capture_output=True, text=True, env=env, timeout=280
    )
    assert result.returncode == 0, f"{RUNS.name} failed:\n{result.stderr[-5000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def max_relative_difference(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300), initial=0.0))


def assert_same_arrays(a: dict, b: dict, tol: float) -> None:
    """Every array within ``tol`` of the reference, on the scale of the largest array.

    (The bias before a batch norm has a zero gradient: its value is rounding
    noise, so it is measured against the other arrays' scale, not its own.)
    """
    assert a.keys() == b.keys()
    scale = max((float(np.max(np.abs(np.asarray(v)), initial=0.0)) for v in b.values()), default=0)
    for name in b:
        difference = np.max(np.abs(np.asarray(a[name]) - np.asarray(b[name])), initial=0.0)
        assert difference <= tol * scale, f"{name}: differs by {difference:.3g}"


def assert_same_run(run: dict, reference: dict, tol: float = TOL_64) -> None:
    """The same history, step by step and epoch by epoch, and the same weights."""
    h, ref = run["history"], reference["history"]
    assert len(h["step_loss"]) == len(ref["step_loss"]) > 0
    assert max_relative_difference(h["step_loss"], ref["step_loss"]) < tol
    for key in ("train_loss", "val_loss", "val_accuracy"):
        assert len(h[key]) == len(ref[key])
        assert max_relative_difference(h[key], ref[key]) < tol, key
    assert h["train_accuracy"] == ref["train_accuracy"]
    assert [sorted(g) for g in h["grad_norms"]] == [sorted(g) for g in ref["grad_norms"]]
    for g, g_ref in zip(h["grad_norms"], ref["grad_norms"], strict=True):
        assert max_relative_difference([g[k] for k in g_ref], list(g_ref.values())) < tol
    for key in ("epoch", "diverged", "diverged_at_step", "stopped_early", "best_epoch", "message"):
        assert h[key] == ref[key], key
    assert_same_arrays(run["params"], reference["params"], tol)
    assert_same_arrays(run["state"], reference["state"], tol)


def test_the_runs_see_four_simulated_cpu_devices(runs) -> None:
    assert len(runs["jax_devices"]) == 4


@pytest.mark.parametrize("name", ["four", "four_blocks_of_8", "four_as_list", "four_as_mesh"])
def test_four_devices_give_the_one_device_run_step_by_step_in_float64(runs, name) -> None:
    """Dropout, batch norm, momentum, validation and gradient norms; 24 steps."""
    assert runs["one"]["history"]["epoch"] == list(range(6))
    assert len(runs[name]["history"]["step_loss"]) == 24
    assert_same_run(runs[name], runs["one"])


def test_devices_as_a_list_or_a_mesh_reuse_the_compiled_step(runs) -> None:
    assert runs["list_and_mesh_compiles"] == 0


def test_parameters_are_replicated_on_every_device(runs) -> None:
    one_device = runs["one"]["param_shardings"]
    assert {s["n_devices"] for s in one_device} == {1}
    for name in ("four", "four_blocks_of_8", "uneven_four", "float32_four"):
        shardings = runs[name]["param_shardings"]
        assert shardings and all(s["spec"] == "P()" and s["replicated"] for s in shardings)
        assert {s["n_devices"] for s in shardings} == {4}
        assert runs[name]["copies_equal"], "the copies of the parameters differ between devices"


@pytest.mark.parametrize("compiled", ["four_compiled", "four_blocks_of_8_compiled"])
def test_the_compiled_step_splits_the_batch_and_replicates_gradients_and_parameters(
    runs, compiled
) -> None:
    layouts = runs[compiled]
    for key in ("batch X", "batch y"):
        (batch,) = layouts[key]
        assert batch["spec"] == "P('data',)" and not batch["replicated"]
        assert batch["n_devices"] == 4
    assert layouts["batch X"][0]["shape"] == [64, 2]
    assert layouts["batch X"][0]["shard_shape"] == [16, 2], "each device: 16 of the 64 rows"
    n_params = len(runs["one"]["params"])
    for key in ("gradients", "params"):
        assert len(layouts[key]) == n_params
        assert all(s["spec"] == "P()" and s["replicated"] for s in layouts[key]), key


def test_the_all_reduce_adds_up_exactly_the_gradients(runs) -> None:
    """One all-reduced array per parameter array (plus the loss and the count of correct
    answers); none on one device."""
    four = [(dtype, tuple(shape)) for dtype, shape in runs["allreduced"]["four"]]
    expected = [("f32", tuple(shape)) for shape in runs["param_shapes"]]
    assert sorted(four) == sorted(expected + [("f32", ()), ("s64", ())])
    assert runs["allreduced"]["one"] == []


def test_a_new_learning_rate_reuses_the_compiled_data_parallel_step(runs) -> None:
    before, after = runs["slider_cache_before"], runs["slider_cache_after"]
    assert after["traces"] == before["traces"], "a new learning rate recompiled"
    assert after["hits"] == before["hits"] + 1 and after["misses"] == before["misses"]
    assert_same_run(runs["slider_four"], runs["slider_one"])
    # The learning rate is really used: another history than at lr=0.01.
    assert runs["slider_four"]["history"]["step_loss"][1] != runs["four"]["history"]["step_loss"][1]


def test_batch_sizes_that_four_does_not_divide_give_the_one_device_run(runs) -> None:
    """Batches of 7, 7, 7 and 3 rows (fewer rows than devices) on four devices."""
    assert len(runs["uneven_four"]["history"]["step_loss"]) == 20
    assert_same_run(runs["uneven_four"], runs["uneven_one"])
    assert runs["uneven_four_compiles"] == 2, "one compilation per batch size (7 and 3 rows)"
    (batch,) = runs["uneven_compiled"]["batch X"]
    assert batch["shape"] == [3, 2] and batch["spec"] == "P('data',)" and batch["n_devices"] == 4


def test_float32_agrees_with_one_device_to_the_stated_tolerance(runs) -> None:
    one, four = runs["float32_one"], runs["float32_four"]
    assert len(four["history"]["step_loss"]) == 150
    assert_same_run(four, one, tol=TOL_32)


def test_divergence_is_reported_at_the_same_step(runs) -> None:
    one, four = runs["diverge_one"]["history"], runs["diverge_four"]["history"]
    assert one["diverged"] and four["diverged"]
    assert four["diverged_at_step"] == one["diverged_at_step"] > 0
    assert_same_run(runs["diverge_four"], runs["diverge_one"], tol=1e-12)


def test_early_stopping_stops_at_the_same_epoch_and_restores_the_same_weights(runs) -> None:
    one, four = runs["stop_one"]["history"], runs["stop_four"]["history"]
    assert one["stopped_early"] and four["stopped_early"]
    assert len(four["epoch"]) < 40
    assert_same_run(runs["stop_four"], runs["stop_one"])


def test_sharding_pictures_label_each_block_with_its_devices(runs) -> None:
    pictures = runs["pictures"]
    assert pictures["batch"] == [f"device {d}\n2 × 3" for d in range(4)]
    assert pictures["weights"] == ["devices 0,1,2,3\n3 × 5"]
    assert pictures["vector"] == [f"device {d}\n2 entries" for d in range(4)]


def test_shard_rows_says_which_row_counts_split_evenly(runs) -> None:
    assert "6 rows cannot be split evenly over 4 devices" in runs["shard_rows_error"]
    assert "multiple of 4" in runs["shard_rows_error"]


@pytest.mark.parametrize(
    "case, error, words",
    [
        ("five", "ValueError", ["devices=5", "4 device(s)", "jax_num_cpu_devices"]),
        ("zero", "ValueError", ["devices=0", "from 1 to 4"]),
        ("true", "TypeError", ["got True"]),
        ("text", "TypeError", ["got 'gpu'", "Mesh"]),
        ("empty list", "TypeError", ["got []"]),
        ("repeated device", "TypeError", ["distinct"]),
        ("two-axis mesh", "ValueError", ["one axis", "('a', 'b')"]),
    ],
)
def test_bad_devices_raise_clear_errors(runs, case, error, words) -> None:
    assert runs["errors"][case] is not None, f"devices={case} was accepted"
    kind, message = runs["errors"][case]
    assert kind == error
    for word in words:
        assert word in message


def test_the_numpy_backend_refuses_devices_and_says_it_needs_jax() -> None:
    assert nnlib.get_backend() == "numpy"
    X, y = nnlib.data.make_moons(20, seed=0)
    model = mlp([2, 3, 1], "tanh")
    with pytest.raises(ValueError) as info:
        nnlib.fit(model, model.init(0), X, y, loss="bce", devices=4)
    message = str(info.value)
    assert "devices=4" in message and "JAX" in message
    assert "nnlib.set_backend('jax')" in message and "use_backend('jax')" in message
