"""The vanishing-gradients widget of notebook 4 and the exercise checks of that notebook."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import pytest

from nnlib.train import History
from nnlib.widgets.vanishing import (
    HISTOGRAM_RANGES,
    INITIALIZATIONS,
    VanishingGradientsWidget,
    VanishingResult,
    activation_histograms,
    build_network,
    describe_result,
    make_vanishing_data,
    run_experiment,
)

# --- pure functions ---------------------------------------------------------------------


def test_make_vanishing_data_is_standardised_and_seeded():
    X, y = make_vanishing_data(256, seed=3)
    assert X.shape == (256, 2) and X.dtype == np.float32 and y.shape == (256,)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-4)
    assert set(np.unique(y)) == {0, 1}
    X2, y2 = make_vanishing_data(256, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.allclose(X, make_vanishing_data(256, seed=4)[0])


def test_make_vanishing_data_in_float64_matches_the_float32_default():
    X64, y64 = make_vanishing_data(128, seed=5, dtype="float64")
    X32, y32 = make_vanishing_data(128, seed=5)
    assert X64.dtype == np.float64 and X32.dtype == np.float32
    np.testing.assert_allclose(X64.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X64.std(axis=0), 1.0, rtol=1e-12)
    # the same points: float32 is the float64 result rounded
    np.testing.assert_array_equal(X32, X64.astype(np.float32))
    np.testing.assert_array_equal(y32, y64)


def test_build_network_and_run_experiment_use_the_chosen_dtype():
    for dtype in (np.float32, np.float64):
        params = build_network(3, "tanh", dtype=dtype).init(0)
        weights = [np.asarray(p["W"]) for p in params if "W" in p]
        assert len(weights) == 4 and all(W.dtype == dtype for W in weights)
    r64 = run_experiment(depth=3, activation="tanh", steps=5, dtype="float64")
    r32 = run_experiment(depth=3, activation="tanh", steps=5)
    # same data and weights up to float32 rounding: nearly, not exactly, the same curve
    np.testing.assert_allclose(r64.history.step_loss, r32.history.step_loss, rtol=1e-4)
    assert r64.history.step_loss != r32.history.step_loss


@pytest.mark.parametrize("init", list(INITIALIZATIONS))
def test_build_network_uses_the_chosen_initialisation(init):
    model = build_network(6, "tanh", init, width=64)
    W = np.asarray(model.init(0)[2]["W"])  # a 64 x 64 hidden layer
    std = {"xavier": math.sqrt(2 / 128), "he": math.sqrt(2 / 64), "normal(0.01)": 0.01}
    expected = std.get(init, 1.0)
    assert W.shape == (64, 64)
    assert abs(W.std() / expected - 1) < 0.05


def test_build_network_options_and_bad_input():
    plain = build_network(4, "relu", "he")
    assert len(plain.init(0)) == 2 * 4 + 1  # Dense, act per hidden layer + output
    with_bn = build_network(4, "relu", "he", batchnorm=True)
    assert any(type(layer).__name__ == "BatchNorm" for layer in with_bn.layers)
    res = build_network(4, "relu", "he", residual=True)
    assert sum(type(layer).__name__ == "Residual" for layer in res.layers) == 3
    with pytest.raises(ValueError, match="depth"):
        build_network(0)
    with pytest.raises(ValueError, match="activation"):
        build_network(3, "softplus")
    with pytest.raises(ValueError, match="initialisation"):
        build_network(3, "tanh", "orthogonal")


def test_activation_histograms_rows_are_fractions_and_clip_outliers():
    layers = [np.array([0.1, 0.1, 0.9, 0.9]), np.array([-5.0, 0.5, 7.0, np.nan])]
    rows = activation_histograms(layers, 0.0, 1.0, bins=4)
    assert rows.shape == (2, 4)
    np.testing.assert_allclose(rows.sum(axis=1), 1.0)
    np.testing.assert_allclose(rows[0], [0.5, 0.0, 0.0, 0.5])
    # -5 clipped into the first bin, 7 into the last, NaN left out
    np.testing.assert_allclose(rows[1], [1 / 3, 0.0, 1 / 3, 1 / 3])
    with pytest.raises(ValueError, match="low < high"):
        activation_histograms(layers, 1.0, 1.0)


def test_deep_sigmoid_network_has_vanishing_gradients_and_learns_nothing():
    r = run_experiment(depth=10, activation="sigmoid", init="xavier", steps=30)
    norms = list(r.init_grad_norms.values())
    assert len(norms) == 11
    # each sigmoid layer divides the gradient by about 4: nine hidden layers ≈ 4^-9
    hidden_ratio = norms[0] / norms[-2]
    assert 0.25**9 / 10 < hidden_ratio < 0.25**9 * 10
    assert r.ratio < 1e-4 and "vanishing" in r.problems
    assert r.outcome == "stuck"
    assert len(r.activations) == 10 and all(a.shape == (256, 32) for a in r.activations)


def test_relu_with_he_is_healthy_and_learns():
    r = run_experiment(depth=10, activation="relu", init="he", learning_rate=0.1, steps=60)
    assert r.problems == []
    assert 0.1 < r.ratio < 10
    assert r.outcome == "learned"
    assert r.history.step_loss[-1] < 0.7 * r.history.step_loss[0]


def test_large_weights_saturate_tanh_and_explode_the_gradient():
    r = run_experiment(depth=10, activation="tanh", init="normal(1.0)", steps=5)
    assert r.ratio > 10  # the gradient grows on its way to the input
    assert "exploding" in r.problems and "saturated" in r.problems
    assert r.mean_saturation > 0.3


def test_batchnorm_and_residual_rescue_the_deep_sigmoid_gradient():
    plain = run_experiment(depth=10, activation="sigmoid", steps=1)
    bn = run_experiment(depth=10, activation="sigmoid", batchnorm=True, steps=1)
    res = run_experiment(depth=10, activation="sigmoid", residual=True, steps=1)
    assert bn.ratio > 1e3 * plain.ratio and "vanishing" not in bn.problems
    assert res.ratio > 1e3 * plain.ratio and "vanishing" not in res.problems


def test_run_experiment_is_reproducible_and_checks_the_learning_rate():
    a = run_experiment(depth=4, activation="tanh", steps=10, seed=2)
    b = run_experiment(depth=4, activation="tanh", steps=10, seed=2)
    assert a.history.step_loss == b.history.step_loss
    assert a.init_grad_norms == b.init_grad_norms
    with pytest.raises(ValueError, match="learning_rate"):
        run_experiment(learning_rate=0.0)


def _result(losses, diverged_at=None, norms=(1e-8, 1.0), saturation=(0.0,), activation="tanh"):
    history = History(step_loss=list(losses))
    if diverged_at is not None:
        history.diverged, history.diverged_at_step = True, diverged_at
    return VanishingResult(
        depth=len(norms) - 1,
        activation=activation,
        init="xavier",
        batchnorm=False,
        residual=False,
        learning_rate=0.1,
        init_grad_norms={f"{i}.W": n for i, n in enumerate(norms)},
        final_grad_norms={},
        activations=[np.zeros((2, 2))],
        saturation=list(saturation),
        history=history,
    )


def test_problems_outcome_and_status_line():
    vanishing = _result([0.7, 0.69])
    assert vanishing.problems == ["vanishing"] and vanishing.outcome == "stuck"
    text = describe_result(vanishing)
    assert "vanishing" in text and "1e-08 × the last layer's" in text and "loss stuck" in text
    exploding = _result([2.0, 5.0], norms=(50.0, 1.0))
    assert exploding.problems == ["exploding"] and exploding.outcome == "grew"
    assert "exploding" in describe_result(exploding) and "loss grew" in describe_result(exploding)
    huge = _result([2.0, 1.0], norms=(1e5, 1e5), activation="relu")
    assert huge.problems == ["exploding"]
    saturated = _result([0.7, 0.2], norms=(1.0, 1.0), saturation=(0.8, 0.6))
    assert saturated.problems == ["saturated"] and saturated.outcome == "learned"
    assert "70% of the tanh values" in describe_result(saturated)
    diverged = _result([0.7], diverged_at=1, norms=(1.0, 1.0))
    assert diverged.problems == ["diverged"] and diverged.outcome == "diverged"
    assert "diverged at step 1" in describe_result(diverged)
    tiny = _result([0.7, 0.7], norms=(1e-9, 1e-9))
    assert tiny.problems == ["vanishing"]
    assert "every gradient norm is at most 1e-09" in describe_result(tiny)
    healthy = _result([0.7, 0.1], norms=(0.5, 1.0))
    assert healthy.problems == [] and "healthy" in describe_result(healthy)


# --- the widget ---------------------------------------------------------------------------


def _snapshot(w):
    return {
        "bars": np.array([bar.get_height() for bar in w.bars]),
        "dots": np.array(w.final_dots.get_ydata(), dtype=np.float64),
        "image": np.array(w.image.get_array(), copy=True),
        "loss": np.array(w.loss_line.get_ydata(), dtype=np.float64),
    }


def _changed(before, after, key):
    a, b = before[key], after[key]
    return a.shape != b.shape or not np.allclose(a, b, equal_nan=True)


def test_default_widget_shows_vanishing_gradients():
    w = VanishingGradientsWidget()
    assert w.error is None
    snap = _snapshot(w)
    depth = w.controls["depth"].value
    assert len(snap["bars"]) == depth + 1  # one bar per weight matrix
    assert snap["image"].shape == (depth, 40)
    np.testing.assert_allclose(snap["image"].sum(axis=1), 1.0)
    assert len(snap["loss"]) == w.steps
    # the bars are the measured norms, input layer first, falling towards the input
    np.testing.assert_allclose(snap["bars"], list(w.result.init_grad_norms.values()))
    assert snap["bars"][0] < 1e-4 * snap["bars"][-1]
    assert "vanishing" in w.status.value
    assert w.ax_grads.get_yscale() == "log"
    assert w.last_update_seconds < 2.0  # generous bound: the machine may be busy


def test_controls_are_labelled_for_learners_and_the_browser_test():
    c = VanishingGradientsWidget().controls
    assert isinstance(c["depth"], widgets.IntSlider) and "depth" in c["depth"].description
    assert (c["depth"].min, c["depth"].max) == (2, 20)
    assert isinstance(c["learning_rate"], widgets.FloatLogSlider)
    assert "learning rate" in c["learning_rate"].description
    assert c["learning_rate"].max >= 1  # 10 ** 1: large enough to diverge
    assert set(c["activation"].options) == {"sigmoid", "tanh", "relu"}
    assert set(c["init"].options) == set(INITIALIZATIONS)


@pytest.mark.parametrize(
    ("name", "value", "artist"),
    [
        ("depth", 4, "bars"),
        ("depth", 4, "image"),
        ("activation", "tanh", "bars"),
        ("activation", "relu", "image"),
        ("init", "normal(1.0)", "image"),
        ("batchnorm", True, "bars"),
        ("residual", True, "bars"),
        ("learning_rate", 0.01, "loss"),
        ("learning_rate", 0.01, "dots"),
    ],
)
def test_each_control_changes_the_figure(name, value, artist):
    w = VanishingGradientsWidget()
    before = _snapshot(w)
    w.controls[name].value = value
    assert w.error is None
    after = _snapshot(w)
    assert _changed(before, after, artist), f"{name}={value!r} did not change the {artist}"


def test_histogram_axis_follows_the_activation():
    w = VanishingGradientsWidget()
    for name in ("tanh", "relu", "sigmoid"):
        w.controls["activation"].value = name
        low, high = HISTOGRAM_RANGES[name]
        assert tuple(w.image.get_extent()[:2]) == (low, high)
        assert name in w.ax_hist.get_title()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"depth": 20}, ("vanishing",)),
        ({"depth": 20, "activation": "tanh", "init": "normal(1.0)"}, ("saturated",)),
        ({"depth": 20, "activation": "tanh", "init": "normal(1.0)"}, ("exploding",)),
        ({"depth": 20, "activation": "relu", "init": "normal(1.0)"}, ("diverged at step",)),
        (
            {"depth": 20, "activation": "relu", "learning_rate": 10.0},
            ("diverged at step", "loss grew"),
        ),
        ({"depth": 20, "init": "normal(0.01)", "learning_rate": 10.0}, ("vanishing",)),
        (
            {"depth": 20, "batchnorm": True, "residual": True, "learning_rate": 10.0},
            ("diverged at step", "loss grew", "loss stuck", "loss "),
        ),
        ({"depth": 2, "activation": "relu", "init": "normal(0.01)"}, ("loss ",)),
        ({"depth": 20, "activation": "relu", "init": "normal(0.01)"}, ("every gradient norm",)),
    ],
)
def test_extreme_settings_never_raise_and_say_what_happened(settings, expected):
    w = VanishingGradientsWidget()
    for name, value in settings.items():
        w.controls[name].value = value
        assert w.error is None, (settings, w.error)
    assert any(text in w.status.value for text in expected), w.status.value
    if w.result.history.diverged:
        k = w.result.history.diverged_at_step
        assert w.ax_loss.get_title() == f"diverged at step {k}"
        assert w.diverged_marker.get_visible()
    else:
        assert not w.diverged_marker.get_visible()
    lo, hi = w.ax_grads.get_ylim()
    assert np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi
    w.fig.canvas.draw()  # rendering the extreme state must work too
