"""nnlib.precision: the format facts against finfo, underflow and rounding measures, the
precision policy, and the loss-scale rule on NumPy and under jax.jit."""

from __future__ import annotations

import sys

import ml_dtypes
import numpy as np
import pytest

import nnlib
from nnlib import precision as P
from nnlib.model import mlp

BF16 = ml_dtypes.bfloat16


def finfo(name: str):
    return ml_dtypes.finfo(BF16) if name == "bfloat16" else np.finfo(np.dtype(name))


@pytest.fixture
def on_jax():
    """The JAX backend inside the test only (skipped when JAX is not installed)."""
    pytest.importorskip("jax", reason="JAX not installed: pip install -r requirements-jax.txt")
    with nnlib.use_backend("jax"):
        yield
    assert nnlib.get_backend() == "numpy"


# --- the format facts ----------------------------------------------------------------------


@pytest.mark.parametrize("name", P.FORMATS)
def test_facts_derived_from_the_layout_agree_with_finfo(name: str) -> None:
    info = finfo(name)
    facts = P.format_facts(name)
    assert facts.bits == info.bits
    assert facts.exponent_bits == info.nexp
    assert facts.mantissa_bits == info.nmant
    assert facts.eps == float(info.eps) == P.machine_epsilon(name)
    assert facts.largest == float(info.max) == P.largest_finite(name)
    assert facts.smallest_normal == float(info.smallest_normal) == P.smallest_normal(name)
    assert facts.smallest_subnormal == float(info.smallest_subnormal) == P.smallest_subnormal(name)
    assert facts.decimal_digits == info.precision == P.decimal_digits(name)
    assert P.bits_layout(name).bits == facts.bits == 8 * P.numpy_dtype(name).itemsize


@pytest.mark.parametrize("name", P.FORMATS)
def test_the_facts_are_the_edges_of_what_the_format_holds(name: str) -> None:
    dt = P.numpy_dtype(name)
    one, eps = np.asarray(1.0, dt), np.asarray(P.machine_epsilon(name), dt)
    assert one + eps > one  # eps is the gap above 1 ...
    assert one + np.asarray(P.machine_epsilon(name) / 2, dt) == one  # ... half of it rounds away
    with np.errstate(over="ignore"):
        largest = np.asarray(P.largest_finite(name), dt)
        assert np.isfinite(largest) and np.isinf(largest * np.asarray(2.0, dt))
    tiny = np.asarray(P.smallest_subnormal(name), dt)
    assert tiny > 0 and tiny / np.asarray(2.0, dt) == 0  # half the smallest subnormal is 0


def test_famous_values_of_the_two_16_bit_formats() -> None:
    assert P.largest_finite("float16") == 65504.0
    assert P.smallest_normal("float16") == 2.0**-14
    assert P.smallest_subnormal("float16") == 2.0**-24
    assert P.machine_epsilon("bfloat16") == 2.0**-7
    assert P.smallest_normal("bfloat16") == P.smallest_normal("float32")  # same exponent bits
    assert P.bits_layout("bfloat16") == P.Layout(sign=1, exponent=8, mantissa=7)


@pytest.mark.parametrize(
    ("x", "name", "bits"),
    [
        (1.0, "float16", "0 01111 0000000000"),
        (-2.0, "float16", "1 10000 0000000000"),
        (65504.0, "float16", "0 11110 1111111111"),
        (2.0**-24, "float16", "0 00000 0000000001"),
        (2.0**-14, "float16", "0 00001 0000000000"),
        (np.inf, "float16", "0 11111 0000000000"),
        (1.0, "bfloat16", "0 01111111 0000000"),
        (-1.5, "float32", "1 01111111 10000000000000000000000"),
        (0.0, "float64", "0 " + "0" * 11 + " " + "0" * 52),
    ],
)
def test_bit_pattern_shows_sign_exponent_and_mantissa(x: float, name: str, bits: str) -> None:
    assert P.bit_pattern(x, name) == bits


def test_bfloat16_is_the_top_half_of_float32() -> None:
    for x in (1.0, -0.15625, 1.5 * 2.0**127, 2.0**-100):  # exactly representable in bfloat16
        b = P.bit_pattern(x, "bfloat16").replace(" ", "")
        f = P.bit_pattern(x, "float32").replace(" ", "")
        assert f[:16] == b and f[16:] == "0" * 16


def test_format_name_accepts_names_and_dtypes_and_rejects_the_rest() -> None:
    assert P.format_name("Float16") == "float16"
    assert P.format_name(np.float32) == "float32"
    assert P.format_name(np.dtype("float64")) == "float64"
    assert P.format_name(BF16) == "bfloat16"
    for bad in ("float8", np.int32, "int8", object, None):
        with pytest.raises(ValueError, match=r"Unknown number format .*float64.*bfloat16"):
            P.format_name(bad)


# --- underflow, subnormals, overflow ------------------------------------------------------

# Constructed float64 "gradients" and what float16 makes of them.
H = 2.0**-24  # float16's smallest subnormal
CONSTRUCTED = np.array(
    [
        0.0,  # already 0: not counted
        0.3 * H,  # below half the smallest subnormal: 0
        0.5 * H,  # exactly half: ties to even, 0
        -0.51 * H,  # just above half: rounds to -H, subnormal
        H,  # subnormal
        2.0**-15,  # subnormal
        2.0**-14,  # smallest normal
        1.0,
        -70000.0,  # beyond 65504 + half a gap: -inf
    ]
)


def test_underflow_subnormal_and_overflow_shares_on_a_constructed_tensor() -> None:
    assert P.underflow_fraction(CONSTRUCTED, "float16") == pytest.approx(2 / 8)
    assert P.subnormal_fraction(CONSTRUCTED, "float16") == pytest.approx(3 / 8)
    assert P.overflow_fraction(CONSTRUCTED, "float16") == pytest.approx(1 / 8)
    for name in ("bfloat16", "float32"):  # float32's range: nothing lost
        assert P.underflow_fraction(CONSTRUCTED, name) == 0.0
        assert P.subnormal_fraction(CONSTRUCTED, name) == 0.0
        assert P.overflow_fraction(CONSTRUCTED, name) == 0.0


def test_overflow_starts_half_a_gap_above_the_largest_number() -> None:
    values = np.array([65504.0, 65519.0, 65520.0, -65520.0])
    assert P.overflow_fraction(values, "float16") == 0.5


def test_the_shares_read_nests_of_arrays_like_one_long_vector() -> None:
    tree = [{"W": CONSTRUCTED[:4].reshape(2, 2), "b": CONSTRUCTED[4:6]}, {}, {"W": CONSTRUCTED[6:]}]
    for share in (P.underflow_fraction, P.subnormal_fraction, P.overflow_fraction):
        assert share(tree, "float16") == share(CONSTRUCTED, "float16")
    assert P.underflow_fraction([], "float16") == 0.0
    assert P.underflow_fraction(np.zeros(5), "float16") == 0.0


def test_a_loss_scale_moves_gradients_out_of_the_underflow_zone() -> None:
    rng = np.random.default_rng(0)
    grads = rng.choice([-1.0, 1.0], 20_000) * 10.0 ** rng.normal(-7, 1, 20_000)
    shares = [P.underflow_fraction(s * grads, "float16") for s in (1.0, 2.0**8, 2.0**16)]
    assert shares[0] > 0.25 and shares[0] > shares[1] > shares[2]
    assert shares[2] < 1e-3
    assert P.overflow_fraction(2.0**16 * grads, "float16") == 0.0
    assert P.overflow_fraction(2.0**40 * grads, "float16") > 0.1


def test_underflow_fraction_reads_jax_arrays(on_jax) -> None:
    import jax.numpy as jnp

    assert P.underflow_fraction(jnp.asarray(CONSTRUCTED, jnp.float32), "float16") == 0.25
    assert P.underflow_fraction(jnp.asarray(CONSTRUCTED, jnp.bfloat16), "float16") == 0.25


# --- rounding error of a long sum ------------------------------------------------------------


def test_a_running_sum_of_tenths_stalls_in_16_bits() -> None:
    tenths = np.full(10_000, 0.1)
    assert P.running_sum(tenths, "float16")[-1] == 256.0  # gap 0.25 there: + 0.1 rounds away
    assert P.running_sum(tenths, "bfloat16")[-1] == 32.0  # gap 0.25 already at 32
    assert P.running_sum(tenths, "float32")[-1] == pytest.approx(1000.0, rel=1e-3)
    assert P.sum_relative_error(tenths, "float16") > 0.7
    assert P.sum_relative_error(tenths, "float32") < 1e-3
    assert P.sum_relative_error(tenths, "float64") < 1e-12


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32"])
def test_running_sum_is_a_loop_that_rounds_every_partial_sum(name: str) -> None:
    dt = P.numpy_dtype(name)
    x = np.random.default_rng(1).uniform(0, 1, 500)
    s, expected = dt.type(0), []
    for value in x:
        s = dt.type(s + dt.type(value))
        expected.append(float(s))
    np.testing.assert_array_equal(P.running_sum(x, name), expected)


def test_sum_error_measures_accumulation_not_input_rounding() -> None:
    # Integers up to 2048 are exact in float16, and so is each of their partial sums here.
    assert P.sum_relative_error(np.arange(1.0, 60.0), "float16") == 0.0
    with pytest.raises(ValueError, match="non-zero sum"):
        P.sum_relative_error(np.array([1.0, -1.0]), "float32")


# --- the precision policy --------------------------------------------------------------------


def test_compute_dtype_names_and_none() -> None:
    assert P.compute_dtype(None) is None
    assert P.compute_dtype("float16") == np.float16
    assert P.compute_dtype("bfloat16") == np.dtype(BF16)
    assert P.compute_dtype(np.float32) == np.float32


@pytest.mark.parametrize("bad", ["float8", "half", "int16", 16])
def test_unknown_compute_dtype_is_a_clear_error(bad) -> None:
    with pytest.raises(ValueError, match=r"Unknown compute dtype .* or None"):
        P.compute_dtype(bad)


def test_bfloat16_without_ml_dtypes_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # `import ml_dtypes` now fails
    with pytest.raises(ImportError, match=r"pip install ml_dtypes==0\.6\.0"):
        P.compute_dtype("bfloat16")
    with pytest.raises(ImportError, match="ml_dtypes"):
        P.underflow_fraction(np.ones(3), "bfloat16")
    assert P.compute_dtype("float16") == np.float16  # the other formats need nothing


def test_compute_dtype_on_jax_is_jax_s_own_type(on_jax) -> None:
    import jax.numpy as jnp

    assert P.compute_dtype("bfloat16") == jnp.bfloat16
    assert P.compute_dtype("float16") == jnp.float16


def test_cast_tree_casts_floats_only_and_does_not_copy_what_fits() -> None:
    params = mlp([3, 4, 2]).init(seed=0)
    labels = np.arange(3)
    tree = {"params": params, "labels": labels, "step": 7}
    low = P.cast_tree(tree, P.compute_dtype("float16"))
    assert {a.dtype for a in (low["params"][0]["W"], low["params"][2]["b"])} == {
        np.dtype(np.float16)
    }
    assert low["labels"] is labels and low["step"] == 7
    back = P.cast_tree(low, np.float32)
    np.testing.assert_allclose(back["params"][0]["W"], params[0]["W"], rtol=1e-3)
    assert P.cast_tree(params, np.float32)[0]["W"] is params[0]["W"]
    assert P.cast_tree(tree, None) is tree


def test_16_bit_parameters_with_a_loss_scale_are_refused_with_the_reason() -> None:
    for name in ("float16", "bfloat16"):
        with pytest.raises(ValueError, match=r"master weights stay float32.*compute_dtype="):
            P.check_param_dtype(name, "dynamic")
        P.check_param_dtype(name, None)  # plain 16-bit training is the learner's choice
    P.check_param_dtype(np.float32, 1024.0)
    P.check_param_dtype("float64", "dynamic")


# --- loss scaling --------------------------------------------------------------------------

# A scripted run: interval N = 3, start at 1024. (finite?, scale after, good steps after)
SCRIPT = [
    (True, 1024.0, 1),
    (True, 1024.0, 2),
    (True, 2048.0, 0),  # third finite step in a row: grow
    (False, 1024.0, 0),  # overflow: halve (the step is skipped)
    (True, 1024.0, 1),
    (True, 1024.0, 2),
    (False, 512.0, 0),  # an overflow ends the run before it reaches 3
    (False, 256.0, 0),
    (True, 256.0, 1),
    (True, 256.0, 2),
    (True, 512.0, 0),
    (True, 512.0, 1),
    (True, 512.0, 2),
    (True, 1024.0, 0),
]


def run_script(update, state, script=SCRIPT):
    seen = []
    for finite, _, _ in script:
        state = update(state, finite)
        seen.append((float(state["scale"]), int(state["good_steps"])))
    return seen, state


def test_dynamic_scale_halves_on_overflow_and_grows_after_n_good_steps() -> None:
    state = P.loss_scale_init("dynamic", initial_scale=1024.0, growth_interval=3)
    seen, final = run_script(P.loss_scale_update, state)
    assert seen == [(scale, good) for _, scale, good in SCRIPT]
    assert final["scale"].dtype == np.float32 and final["good_steps"].dtype == np.int32
    assert float(state["scale"]) == 1024.0 and int(state["good_steps"]) == 0  # pure


def test_static_scale_never_changes() -> None:
    for loss_scale, expected in ((128.0, 128.0), (3, 3.0), (0.25, 0.25), (None, 1.0)):
        state = P.loss_scale_init(loss_scale)
        seen, _ = run_script(P.loss_scale_update, state)
        assert {scale for scale, _ in seen} == {expected}


def test_dynamic_scale_stays_between_min_scale_and_max_scale() -> None:
    low = P.loss_scale_init("dynamic", initial_scale=4.0, min_scale=1.0)
    for _ in range(5):
        low = P.loss_scale_update(low, False)
    assert float(low["scale"]) == 1.0
    high = P.loss_scale_init("dynamic", initial_scale=2.0**126, growth_interval=1)
    for _ in range(3):
        high = P.loss_scale_update(high, True)
    assert float(high["scale"]) == P.MAX_SCALE and np.isfinite(high["scale"])


def test_loss_scale_update_under_jax_jit_and_scan(on_jax) -> None:
    import jax
    import jax.numpy as jnp

    state = P.loss_scale_init("dynamic", initial_scale=1024.0, growth_interval=3)
    assert isinstance(state["scale"], jax.Array)
    update = jax.jit(P.loss_scale_update)
    seen, final = run_script(lambda s, f: update(s, jnp.asarray(f)), state)
    assert seen == [(scale, good) for _, scale, good in SCRIPT]
    assert final["scale"].dtype == jnp.float32 and final["good_steps"].dtype == jnp.int32

    def body(s, finite):
        s = P.loss_scale_update(s, finite)
        return s, s["scale"]

    flags = jnp.asarray([finite for finite, _, _ in SCRIPT])
    _, scales = jax.jit(lambda s: jax.lax.scan(body, s, flags))(state)
    np.testing.assert_array_equal(np.asarray(scales), [scale for _, scale, _ in SCRIPT])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"loss_scale": 0.0}, ValueError, r"loss_scale must be a positive finite number, got 0\.0"),
        ({"loss_scale": -8}, ValueError, "positive finite number, got -8"),
        ({"loss_scale": float("nan")}, ValueError, "positive finite number, got nan"),
        ({"loss_scale": float("inf")}, ValueError, "positive finite number, got inf"),
        ({"loss_scale": 2.0**200}, ValueError, r"at most 2\*\*127"),
        ({"loss_scale": "auto"}, ValueError, r"'dynamic' or None, got 'auto'"),
        ({"loss_scale": True}, TypeError, "loss_scale must be a number, got True"),
        ({"loss_scale": [1.0]}, TypeError, "loss_scale must be a number"),
        ({"initial_scale": 0.0}, ValueError, "initial_scale must be a positive finite"),
        ({"initial_scale": 0.5}, ValueError, "between min_scale=1.0 and"),
        ({"growth_factor": 0.5}, ValueError, "growth_factor must be at least 1"),
        ({"backoff_factor": 1.0}, ValueError, "backoff_factor must be below 1"),
        ({"backoff_factor": float("nan")}, ValueError, "backoff_factor must be a positive"),
        ({"growth_interval": 0}, ValueError, "growth_interval must be between 1 and"),
        ({"growth_interval": 2.5}, TypeError, "growth_interval must be a whole number"),
    ],
)
def test_bad_loss_scale_settings_are_clear_errors(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        P.loss_scale_init(**kwargs)


def test_scale_loss_multiplies_in_float32_and_rounds_to_the_input_dtype() -> None:
    state = P.loss_scale_init(2.0**16)
    seed = np.array([1e-3, 2.0**-20], np.float16)
    scaled = P.scale_loss(seed, state)
    assert scaled.dtype == np.float16
    np.testing.assert_array_equal(scaled, (seed.astype(np.float32) * 2.0**16).astype(np.float16))
    assert np.isinf(P.scale_loss(np.array([1.0], np.float16), state)).all()  # 65536 > 65504
    assert P.scale_loss(np.array([1.0], np.float32), state)[0] == 65536.0


def test_unscale_casts_up_before_dividing() -> None:
    state = P.loss_scale_init(2.0**16)
    tiny = 2.0**-30  # far below float16's smallest subnormal 2**-24
    assert np.float16(tiny) == 0  # without scaling it is lost
    grads = {"W": P.scale_loss(np.array([tiny], np.float32), state).astype(np.float16)}
    assert grads["W"].dtype == np.float16 and grads["W"][0] == 2.0**-14
    up = P.unscale_grads(grads, state)
    assert up["W"].dtype == np.float32 and up["W"][0] == tiny  # exact: divided in float32
    assert P.unscale_grads(grads, state, "float64")["W"].dtype == np.float64


def test_all_finite_and_select_tree() -> None:
    good = [{"W": np.ones((2, 2), np.float16)}, {}, {"b": np.zeros(3, np.float32)}]
    assert bool(P.all_finite(good)) and bool(P.all_finite([]))
    for bad_value in (np.inf, -np.inf, np.nan):
        bad = [{"W": np.array([[1.0, bad_value]], np.float16)}, {}, {"b": np.zeros(3)}]
        assert not bool(P.all_finite(bad))
    assert bool(P.all_finite({"labels": np.arange(3), "W": np.ones(2)}))
    old, new = {"W": np.zeros(2)}, {"W": np.ones(2)}
    assert P.select_tree(np.bool_(True), new, old) is new
    assert P.select_tree(False, new, old) is old


def test_all_finite_and_select_tree_under_jax_jit(on_jax) -> None:
    import jax
    import jax.numpy as jnp

    @jax.jit
    def skip_if_not_finite(old, grads):
        new = jax.tree_util.tree_map(lambda p, g: p - g, old, grads)
        return P.select_tree(P.all_finite(grads), new, old)

    old = {"W": jnp.ones(3)}
    kept = skip_if_not_finite(old, {"W": jnp.asarray([1.0, jnp.inf, 0.0])})
    moved = skip_if_not_finite(old, {"W": jnp.asarray([1.0, 0.5, 0.0])})
    np.testing.assert_array_equal(kept["W"], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(moved["W"], [0.0, 0.5, 1.0])


# --- the pieces together: one mixed-precision backward pass ------------------------------


def mixed_grads(model, params, X, y, name: str, state, seed_factor: float):
    """The recipe of nnlib.precision's docstring, steps 1 to 7, with a tiny loss seed."""
    from nnlib import losses

    low = P.compute_dtype(name)
    p_low = P.cast_tree(params, low)
    out, cache = model.forward(p_low, P.cast_tree(X, low), True)
    _, dout = losses.softmax_cross_entropy(P.cast_tree(out, np.float32), y)
    dout = dout * seed_factor  # gradients this small are common deep in real networks
    _, g_low = model.backward(p_low, cache, P.cast_tree(P.scale_loss(dout, state), low))
    grads = P.unscale_grads(g_low, state, np.float32)
    return grads, P.all_finite(grads), g_low


@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_loss_scaling_rescues_gradients_that_float16_would_flush_to_zero(backend_name) -> None:
    if backend_name == "jax":
        pytest.importorskip("jax", reason="JAX not installed")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 8)).astype(np.float32), rng.integers(0, 3, 64)
    model = mlp([8, 16, 3], activation="tanh")
    with nnlib.use_backend(backend_name):
        params = model.init(seed=0)
        X = nnlib.backend.asarray(X)
        factor = 2.0**-20
        ref, _, _ = mixed_grads(model, params, X, y, "float32", P.loss_scale_init(None), factor)
        plain, finite, g16 = mixed_grads(
            model, params, X, y, "float16", P.loss_scale_init(None), factor
        )
        scaled, finite_scaled, _ = mixed_grads(
            model, params, X, y, "float16", P.loss_scale_init(2.0**20), factor
        )
    assert bool(finite) and bool(finite_scaled)
    assert P.underflow_fraction(ref, "float16") > 0.5  # what plain float16 loses ...
    lost = np.mean([float(np.mean(np.asarray(g) == 0)) for g in (g16[0]["W"], g16[2]["W"])])
    assert lost > 0.5  # ... and does lose
    for k in (0, 2):
        for name in ("W", "b"):
            r, s = np.asarray(ref[k][name]), np.asarray(scaled[k][name])
            assert s.dtype == np.float32
            assert np.max(np.abs(s - r)) <= 5e-3 * np.max(np.abs(r))  # float16 precision


# --- the histogram against a format's limits ---------------------------------------------------


def test_plot_gradient_magnitudes_titles_the_measured_shares() -> None:
    plots = pytest.importorskip("nnlib.plots")
    import matplotlib.pyplot as plt

    grads = [{"W": CONSTRUCTED.reshape(3, 3)}, {}]
    ax = plots.plot_gradient_magnitudes(grads, "float16")
    assert ax.get_title() == "float16: 25.0% become 0, 37.5% subnormal, 12.5% inf"
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "|gradient|"
    ax = plots.plot_gradient_magnitudes(grads, "bfloat16", scale=2.0**10)
    assert ax.get_title().startswith("bfloat16: 0.0% become 0")
    assert ax.get_xlabel() == "|gradient| × 2^10"
    with pytest.raises(ValueError, match="no non-zero finite numbers"):
        plots.plot_gradient_magnitudes(np.zeros(3))
    with pytest.raises(ValueError, match="scale must be a positive finite number, got 0"):
        plots.plot_gradient_magnitudes(CONSTRUCTED, scale=0)
    with pytest.raises(ValueError, match="Unknown number format 'float8'"):
        plots.plot_gradient_magnitudes(CONSTRUCTED, "float8")
    plt.close("all")
