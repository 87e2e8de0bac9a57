"""Mixed precision inside fit: float16/bfloat16 passes with float32 master weights, loss
scaling (static and dynamic) with skipped steps in the history, on NumPy and JAX."""

from __future__ import annotations

import functools
import sys

import numpy as np
import pytest

import nnlib
from nnlib import precision as P
from nnlib.mixed_precision import (
    HeldDtype,
    PrecisionPolicy,
    gradient_underflow,
    initial_loss_scale,
    make_mixed_precision_step,
    mixed_loss_and_grads,
    precision_policy,
)
from nnlib.model import mlp
from nnlib.optim import get_optimizer
from nnlib.step import TrainState, correct_counter
from nnlib.train import fit
from nnlib.tree import tree_leaves
from nnlib.widgets.precision import train_digits_in
from nnlib.widgets.speed import digits_train_test

SIZES = [64, 32, 10]


@pytest.fixture(scope="module")
def digits():
    return digits_train_test(0, dtype=np.float32)


def needs_jax(backend_name: str) -> None:
    if backend_name == "jax":
        pytest.importorskip("jax", reason="JAX not installed: pip install -r requirements-jax.txt")


def train(digits, backend_name: str = "numpy", n: int | None = None, **options):
    """The digits network, 10 epochs of SGD (lr 0.1, batches of 32) with ``options``."""
    model = mlp(SIZES)
    n = n or len(digits.X_train)
    extra = {"steps_per_call": 40} if backend_name == "jax" else {}
    with nnlib.use_backend(backend_name):
        return fit(
            model,
            model.init(0),
            digits.X_train[:n],
            digits.y_train[:n],
            loss="cross_entropy",
            lr=0.1,
            epochs=options.pop("epochs", 10),
            batch_size=32,
            X_val=digits.X_test,
            y_val=digits.y_test,
            **extra,
            **options,
        )


# --- the goal: float16 with dynamic scaling trains digits as well as float32 ------------------


@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_float16_with_dynamic_scaling_matches_float32_on_digits(digits, backend_name) -> None:
    needs_jax(backend_name)
    reference = train(digits, backend_name)
    mixed = train(digits, backend_name, compute_dtype="float16", loss_scale="dynamic")
    f32, f16 = reference.history.val_accuracy[-1], mixed.history.val_accuracy[-1]
    assert f32 > 0.9
    assert abs(f16 - f32) <= 0.01, (f16, f32)
    assert not mixed.history.diverged
    assert len(mixed.history.loss_scale) == mixed.history.steps == 400
    assert all(np.asarray(p).dtype == np.float32 for p in tree_leaves(mixed.params))  # master


def test_bfloat16_trains_without_scaling(digits) -> None:
    reference = train(digits)
    bf16 = train(digits, compute_dtype="bfloat16")
    assert abs(bf16.history.val_accuracy[-1] - reference.history.val_accuracy[-1]) <= 0.01
    assert bf16.history.loss_scale == [] and bf16.history.skipped_steps == []


def test_without_scaling_float16_loses_small_gradients_and_scaling_saves_them() -> None:
    """The digits net with its loss a mean over 2**18 times more numbers (small gradients)."""
    small = 2.0**-18
    f32 = train_digits_in("float32", None, 0.1, small)
    plain = train_digits_in("float16", None, 0.1, small)
    dynamic = train_digits_in("float16", "dynamic", 0.1, small)
    bf16 = train_digits_in("bfloat16", None, 0.1, small)
    assert plain.underflow[-1] > 0.2  # the share is measured during the run, and large
    assert dynamic.underflow[-1] == 0.0 and bf16.underflow[-1] < 0.01
    assert plain.train_loss[-1] > 2 * f32.train_loss[-1]  # training stalls without scaling
    assert abs(dynamic.val_accuracy - f32.val_accuracy) <= 0.01
    assert abs(bf16.val_accuracy - f32.val_accuracy) <= 0.01
    assert plain.val_accuracy < f32.val_accuracy - 0.03


# --- the scaling rule inside fit ----------------------------------------------------------------


def replay(state, skipped: list[int], steps: int) -> list[float]:
    """The scale of every step, from loss_scale_update and the recorded skipped steps."""
    scales = []
    for step in range(steps):
        scales.append(float(state["scale"]))
        state = P.loss_scale_update(state, step not in skipped)
    return scales


@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_dynamic_scale_halves_and_skips_on_overflow_and_grows_after_n_good_steps(
    digits, backend_name
) -> None:
    needs_jax(backend_name)
    start = P.loss_scale_init("dynamic", initial_scale=2.0**32, growth_interval=5)
    run = train(digits, backend_name, n=256, epochs=4, compute_dtype="float16", loss_scale=start)
    h = run.history
    scales, skipped = h.loss_scale, h.skipped_steps
    assert len(scales) == h.steps == 32 and not h.diverged
    assert skipped[:8] == list(range(8))  # 2**32 overflows: halve until the gradients fit
    assert scales[:9] == [2.0 ** (32 - k) for k in range(9)]
    with nnlib.use_backend("numpy"):
        assert scales == replay(start, skipped, h.steps)  # every step follows the rule
    grown = [k for k in range(1, h.steps) if scales[k] == 2 * scales[k - 1]]
    assert grown, "the scale never grew"
    for k in grown:  # growth comes after exactly 5 finite steps in a row
        assert not set(range(k - 5, k)) & set(skipped)
    assert int(run.loss_scale["overflows"]) == len(skipped)


def test_a_scale_that_always_overflows_skips_every_step_and_is_not_divergence(digits) -> None:
    model = mlp(SIZES)
    params = model.init(0)
    X, y = digits.X_train[:128], digits.y_train[:128]
    run = fit(model, params, X, y, loss="cross_entropy", lr=0.1, epochs=2, batch_size=32,
              compute_dtype="float16", loss_scale=2.0**40)  # fmt: skip
    h = run.history
    assert h.skipped_steps == list(range(8)) and h.loss_scale == [2.0**40] * 8
    assert not h.diverged and all(np.isfinite(h.step_loss))
    for before, after in zip(tree_leaves(params), tree_leaves(run.params), strict=True):
        np.testing.assert_array_equal(before, after)  # nothing was applied


def step_setup(loss_scale, optimizer="momentum"):
    model = mlp([4, 8, 3], "tanh")
    params = model.init(0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 4)).astype(np.float32), rng.integers(0, 3, 16)
    opt = get_optimizer(optimizer, 0.1)
    policy = PrecisionPolicy("float16", "float32", loss_scale is not None)
    step = make_mixed_precision_step(
        model, nnlib.losses.softmax_cross_entropy, opt, policy,
        count_correct=correct_counter(nnlib.losses.softmax_cross_entropy),
    )  # fmt: skip
    state = initial_loss_scale(loss_scale)
    ts = TrainState(params, model.init_state(), opt.init(params), nnlib.backend.make_key(0), state)
    return step, ts, X, y


def test_an_overflowing_step_keeps_params_and_optimizer_state_and_halves_the_scale() -> None:
    step, ts, X, y = step_setup(P.loss_scale_init("dynamic", initial_scale=2.0**40))
    with np.errstate(all="ignore"):
        new, loss, _, grads = step(ts, X, y, None)
    assert np.isfinite(float(loss)) and not bool(P.all_finite(grads))
    assert new.params is ts.params and new.opt_state is ts.opt_state
    assert float(new.loss_scale["scale"]) == 2.0**39 and int(new.loss_scale["overflows"]) == 1
    step, ts, X, y = step_setup(2.0**8)
    new, loss, _, grads = step(ts, X, y, None)
    assert bool(P.all_finite(grads)) and new.opt_state["step"] == 1
    assert not np.array_equal(new.params[0]["W"], ts.params[0]["W"])
    assert float(new.loss_scale["scale"]) == 2.0**8 and int(new.loss_scale["overflows"]) == 0


def test_scaling_changes_only_what_float16_rounds() -> None:
    """A scale divides out: the update with S = 2**10 is the float32 one, to float16 precision."""
    model = mlp([4, 8, 3], "tanh")
    params = model.init(0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 4)).astype(np.float32), rng.integers(0, 3, 16)
    ce = nnlib.losses.softmax_cross_entropy
    f32 = PrecisionPolicy("float32", "float32", False)
    f16 = PrecisionPolicy("float16", "float32", True)
    loss32, g32, _, _ = mixed_loss_and_grads(model, params, X, y, ce, f32, None)
    loss16, g16, _, out = mixed_loss_and_grads(
        model, params, X, y, ce, f16, P.loss_scale_init(2**10)
    )
    assert out.dtype == np.float16 and loss16.dtype == np.float32
    assert abs(float(loss16) - float(loss32)) < 1e-3
    for a, b in zip(tree_leaves(g32), tree_leaves(g16), strict=True):
        assert b.dtype == np.float32
        np.testing.assert_allclose(b, a, atol=3e-3 * np.max(np.abs(a)))


# --- the compute dtype holds through the pass -------------------------------------------------


def test_bfloat16_holds_through_every_layer_on_numpy() -> None:
    bf16 = P.numpy_dtype("bfloat16")
    model = mlp([6, 8, 8, 3], "relu", batchnorm=True)
    params = P.cast_tree(model.init(0), bf16)
    x = np.ones((5, 6), bf16)
    drifted, _ = model.layers[0].forward(params[0], x)
    assert drifted.dtype == np.float32  # ml_dtypes' matrix product returns float32 ...
    seen = []
    for layer, p in zip(model.layers, params, strict=True):
        held = HeldDtype(layer, bf16)
        x, cache = held.forward(p, x, True, state=layer.init_state())
        seen.append(x.dtype)
        dx, grads = held.backward(p, cache, np.ones(x.shape, bf16))
        assert dx.dtype == bf16 and all(g.dtype == bf16 for g in grads.values())
    assert seen == [bf16] * len(model.layers)  # ... and the wrapper casts it back, every layer


def test_a_float32_compute_dtype_is_the_plain_step_exactly(digits) -> None:
    plain = train(digits, n=256, epochs=2)
    policy = train(digits, n=256, epochs=2, compute_dtype="float32")
    assert policy.history.step_loss == plain.history.step_loss
    for a, b in zip(tree_leaves(plain.params), tree_leaves(policy.params), strict=True):
        np.testing.assert_array_equal(a, b)


def test_pure_float16_keeps_its_weights_in_float16_and_rounds_updates_away(digits) -> None:
    model = mlp(SIZES)
    params = P.cast_tree(model.init(0), "float16")
    run = fit(model, params, digits.X_train, digits.y_train, loss="cross_entropy", lr=0.1,
              epochs=3, batch_size=32)  # fmt: skip
    assert precision_policy(None, None, params) == PrecisionPolicy("float16", "float16", False)
    assert all(np.asarray(p).dtype == np.float16 for p in tree_leaves(run.params))
    assert not run.history.diverged and run.history.train_loss[-1] < run.history.train_loss[0]
    X16 = digits.X_train[:32].astype(np.float16)
    _, grads, _, _ = model.loss_and_grads(run.params, X16, digits.y_train[:32], "cross_entropy")
    updates = [{k: 0.1 * g for k, g in layer.items()} for layer in grads]
    assert P.rounded_away_fraction(run.params, updates, "float16") > 0.05
    assert P.rounded_away_fraction(run.params, updates, "float32") < 0.01


def test_pure_float16_adam_divides_by_zero_and_the_message_says_so(digits) -> None:
    model = mlp(SIZES)
    params = P.cast_tree(model.init(0), "float16")
    run = fit(model, params, digits.X_train, digits.y_train, loss="cross_entropy",
              optimizer="adam", lr=1e-3, epochs=1, batch_size=32)  # fmt: skip
    assert run.history.diverged and run.history.diverged_at_step == 1
    assert "Adam's eps = 1e-8 is 0" in run.history.message
    X, y = digits.X_train[:64], digits.y_train[:64]
    plain = fit(model, model.init(0), X, y, loss="cross_entropy", lr=1e9, epochs=10)
    assert plain.history.diverged and "float16" not in plain.history.message


def test_no_policy_for_plain_float32_and_float64() -> None:
    for dtype in ("float32", "float64"):
        params = mlp([2, 3], dtype=dtype).init(0)
        assert precision_policy(None, None, params) is None
    params = mlp([2, 3]).init(0)
    assert precision_policy("bfloat16", 8.0, params) == PrecisionPolicy("bfloat16", "float32", True)


# --- backend parity -------------------------------------------------------------------------


def test_backend_parity_of_mixed_precision_runs(digits) -> None:
    """NumPy and JAX: same skipped steps and scales; losses and weights to 16-bit precision.

    Measured on this machine: float16 losses within 3e-5 (relative) and weights
    within 1e-5; bfloat16 5e-4 and 1.3e-3. The tolerances leave a factor 10.
    """
    pytest.importorskip("jax", reason="JAX not installed")
    start = functools.partial(
        P.loss_scale_init, "dynamic", initial_scale=2.0**24, growth_interval=5
    )
    tolerances = {"float16": (3e-4, 1e-4), "bfloat16": (5e-3, 1e-2)}
    for compute, (loss_tol, param_tol) in tolerances.items():
        runs = {}
        for backend_name, steps_per_call in (("numpy", 1), ("jax", 8), ("jax", 1)):
            with nnlib.use_backend(backend_name):
                model = mlp(SIZES)
                runs[backend_name, steps_per_call] = fit(
                    model, model.init(0), digits.X_train[:256], digits.y_train[:256],
                    loss="cross_entropy", lr=0.1, epochs=3, batch_size=32, compute_dtype=compute,
                    loss_scale=start(), steps_per_call=steps_per_call,
                )  # fmt: skip
        a = runs["numpy", 1].history
        assert compute == "bfloat16" or a.skipped_steps  # the float16 run did overflow
        for key in (("jax", 8), ("jax", 1)):
            b = runs[key].history
            assert b.skipped_steps == a.skipped_steps and b.loss_scale == a.loss_scale
            losses = np.array(a.step_loss)
            assert np.max(np.abs(np.array(b.step_loss) - losses) / losses) < loss_tol
            leaves = tree_leaves(runs["numpy", 1].params), tree_leaves(runs[key].params)
            for p, q in zip(*leaves, strict=True):
                assert np.max(np.abs(np.asarray(p) - np.asarray(q))) < param_tol
        assert runs["jax", 8].history.step_loss == runs["jax", 1].history.step_loss


def test_a_run_continues_from_its_loss_scale_state(digits) -> None:
    first = train(digits, n=128, epochs=2, compute_dtype="float16",
                  loss_scale=P.loss_scale_init("dynamic", initial_scale=2.0**30))  # fmt: skip
    assert first.loss_scale["scale"] < 2.0**30  # it came down
    model = mlp(SIZES)
    second = fit(model, first.params, digits.X_train[:128], digits.y_train[:128],
                 loss="cross_entropy", lr=0.1, epochs=1, batch_size=32, compute_dtype="float16",
                 loss_scale=first.loss_scale, opt_state=first.opt_state)  # fmt: skip
    assert second.history.loss_scale[0] == float(first.loss_scale["scale"])


# --- what the 16-bit pass loses ----------------------------------------------------------------


def test_gradient_underflow_compares_with_a_float32_pass() -> None:
    model = mlp([4, 8, 3], "tanh")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 4)).astype(np.float32), rng.integers(0, 3, 16)

    def tiny(out, labels, check=True):  # a loss whose gradients float16 cannot hold
        value, grad = nnlib.losses.softmax_cross_entropy(out, labels, check)
        return value * 2.0**-30, grad * 2.0**-30

    params = model.init(0)
    assert gradient_underflow(model, params, X, y, tiny, "float16") == 1.0
    assert gradient_underflow(model, params, X, y, tiny, "float16", loss_scale=2.0**30) == 0.0
    assert gradient_underflow(model, params, X, y, tiny, "bfloat16") < 0.05
    assert gradient_underflow(model, params, X, y, tiny, "float32") == 0.0
    pure = P.cast_tree(params, "float16")  # the reference is cast up to float32
    assert gradient_underflow(model, pure, X, y, tiny, "float16") == 1.0


def test_rounded_away_fraction() -> None:
    w, u = np.array([1.0, 1.0, 1.0, 100.0]), np.array([1e-4, 1e-2, 0.0, 1e-2])
    assert P.rounded_away_fraction(w, u, "float16") == pytest.approx(2 / 3)  # 1e-4 and at 100
    assert P.rounded_away_fraction(w, u, "float32") == 0.0
    with pytest.raises(ValueError, match="same entries"):
        P.rounded_away_fraction(w, u[:2], "float16")


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"compute_dtype": "float8"}, ValueError, r"Unknown compute dtype 'float8'.*'bfloat16'"),
        ({"compute_dtype": "half"}, ValueError, "Unknown compute dtype 'half'"),
        ({"compute_dtype": "float16", "loss_scale": 0.0}, ValueError, "positive finite.*got 0.0"),
        ({"compute_dtype": "float16", "loss_scale": -4}, ValueError, "positive finite.*got -4"),
        ({"compute_dtype": "float16", "loss_scale": float("nan")}, ValueError, "got nan"),
        ({"compute_dtype": "float16", "loss_scale": "auto"}, ValueError, "'dynamic' or None"),
        ({"loss_scale": {"scale": 2.0}}, ValueError, "loss_scale_init"),
    ],
)
def test_bad_precision_settings_are_clear_errors(options, error, message) -> None:
    model = mlp([2, 3])
    X, y = np.zeros((4, 2), np.float32), np.zeros(4, int)
    with pytest.raises(error, match=message):
        fit(model, model.init(0), X, y, loss="cross_entropy", **options)


def test_16_bit_weights_with_a_loss_scale_are_refused_with_the_reason() -> None:
    model = mlp([2, 3])
    params = P.cast_tree(model.init(0), "float16")
    X, y = np.zeros((4, 2), np.float32), np.zeros(4, int)
    with pytest.raises(ValueError, match=r"master weights stay float32.*compute_dtype='float16'"):
        fit(model, params, X, y, loss="cross_entropy", loss_scale="dynamic")


def test_bfloat16_on_numpy_without_ml_dtypes_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # import ml_dtypes now fails
    model = mlp([2, 3])
    X, y = np.zeros((4, 2), np.float32), np.zeros(4, int)
    with pytest.raises(ImportError, match=r"pip install ml_dtypes"):
        fit(model, model.init(0), X, y, loss="cross_entropy", compute_dtype="bfloat16")
