"""The vanishing-gradients widget of notebook 4 and the exercise checks of that notebook."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnlib.train import History
from nnlib.widgets.gradient_diagnosis import VERDICTS, diagnose
from nnlib.widgets.gradient_flow import (
    HISTOGRAM_RANGES,
    INITIALIZATIONS,
    VanishingResult,
    activation_histograms,
    build_network,
    describe_result,
    make_vanishing_data,
    run_experiment,
)
from nnlib.widgets.vanishing import VanishingGradientsWidget

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
    assert r.ratio < 1e-4 and r.diagnosis.verdict == "vanishing"
    assert r.outcome == "flat"
    assert len(r.activations) == 10 and all(a.shape == (256, 32) for a in r.activations)


def test_relu_with_he_is_healthy_and_learns():
    r = run_experiment(depth=10, activation="relu", init="he", learning_rate=0.1, steps=60)
    assert r.diagnosis.verdict == "learning"
    assert 0.1 < r.ratio < 10
    assert r.outcome == "learned"
    assert r.history.step_loss[-1] < 0.7 * r.history.step_loss[0]


def test_large_weights_saturate_tanh_and_explode_the_gradient():
    r = run_experiment(depth=10, activation="tanh", init="normal(1.0)", steps=5)
    assert r.ratio > 10  # the gradient grows on its way to the input
    assert r.mean_saturation > 0.3
    # one verdict: the loss has not got below chance, and the first reason in the rule holds
    assert r.outcome in ("fell", "flat") and r.diagnosis.verdict == "exploding"


def test_batchnorm_and_residual_rescue_the_deep_sigmoid_gradient():
    plain = run_experiment(depth=10, activation="sigmoid", steps=1)
    bn = run_experiment(depth=10, activation="sigmoid", batchnorm=True, steps=1)
    res = run_experiment(depth=10, activation="sigmoid", residual=True, steps=1)
    assert bn.ratio > 1e3 * plain.ratio and bn.ratio > 1e-2
    assert res.ratio > 1e3 * plain.ratio and res.ratio > 1e-2
    trained = run_experiment(depth=10, activation="sigmoid", batchnorm=True)
    assert trained.diagnosis.verdict == "learning"  # the recommended fix learns


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


def test_diagnosis_follows_the_ordered_rule():
    vanishing = _result([0.7, 0.69])
    assert vanishing.diagnosis.verdict == "vanishing" and vanishing.outcome == "flat"
    text = describe_result(vanishing)
    assert text.startswith("<b>vanishing</b>") and "1e-08 × the last layer's" in text
    assert "loss flat: 0.7 → 0.69 in 2 steps" in text
    grew = _result([0.7, 1.04], norms=(50.0, 1.0))  # exploding gradient, but the loss grew first
    assert grew.diagnosis.verdict == "loss grew" and "0.7 → 1.04" in describe_result(grew)
    exploding = _result([2.0, 1.9], norms=(50.0, 1.0))
    assert exploding.diagnosis.verdict == "exploding"
    assert (
        "loss fell 2 → 1.9 in 2 steps but not below 0.679 (2% under chance, ln 2)"
        in describe_result(exploding)
    )
    huge = _result([2.0, 2.0], norms=(1e5, 1e5), activation="relu")
    assert huge.diagnosis.verdict == "exploding"
    saturated = _result([0.7, 0.7], norms=(1.0, 1.0), saturation=(0.8, 0.6))
    assert saturated.diagnosis.verdict == "saturated"
    assert "70% of the tanh values" in describe_result(saturated)
    learned = _result([0.7, 0.2], norms=(1.0, 1.0), saturation=(0.8, 0.6))
    assert learned.diagnosis.verdict == "learning" and learned.outcome == "learned"
    diverged = _result([0.7], diverged_at=1, norms=(1.0, 1.0))
    assert diverged.diagnosis.verdict == "diverged" and diverged.outcome == "diverged"
    assert describe_result(diverged).startswith("<b>diverged at step 1</b>")
    tiny = _result([0.7, 0.7], norms=(1e-9, 1e-9))
    assert tiny.diagnosis.verdict == "vanishing"
    assert "every gradient norm is at most 1e-09" in describe_result(tiny)
    slow = _result([0.7, 0.7], norms=(0.5, 1.0))
    assert slow.diagnosis.verdict == "slow" and "raise the learning rate" in describe_result(slow)
    # a falling loss below chance is learning whatever the gradients say
    assert _result([0.7, 0.3], norms=(1e-9, 1e-9)).diagnosis.verdict == "learning"
    assert _result([0.7, 0.3], norms=(np.nan, 1.0)).diagnosis.verdict == "learning"
    assert _result([0.7, 0.7], norms=(np.inf, 1.0)).diagnosis.verdict == "exploding"


def test_diagnose_rejects_bad_input():
    with pytest.raises(ValueError, match="grad_norms is empty"):
        diagnose([], [0.7])
    with pytest.raises(ValueError, match="diverged_at_step"):
        diagnose([1.0], [0.7], diverged_at_step=-1)
    with pytest.raises(ValueError, match="losses must be the finite losses"):
        diagnose([1.0], [0.7, float("nan")])


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
    import ipywidgets as widgets

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
        ({"depth": 20}, "<b>vanishing</b>"),
        ({"depth": 20, "activation": "tanh", "init": "normal(1.0)"}, "<b>exploding</b>"),
        ({"depth": 20, "activation": "relu", "init": "normal(1.0)"}, "<b>diverged at step 1</b>"),
        ({"depth": 20, "activation": "relu", "learning_rate": 10.0}, "<b>loss grew</b>"),
        ({"depth": 20, "init": "normal(0.01)", "learning_rate": 10.0}, "<b>loss grew</b>"),
        (
            {"depth": 20, "batchnorm": True, "residual": True, "learning_rate": 10.0},
            "<b>loss grew</b>",
        ),
        ({"depth": 2, "activation": "relu", "init": "normal(0.01)"}, "<b>slow</b>"),
        ({"depth": 20, "activation": "relu", "init": "normal(0.01)"}, "every gradient norm"),
        ({"depth": 10, "batchnorm": True}, "<b>learning</b>"),
        ({"depth": 10, "residual": True, "init": "normal(1.0)"}, "<b>saturated</b>"),
    ],
)
def test_extreme_settings_never_raise_and_say_what_happened(settings, expected):
    w = VanishingGradientsWidget()
    for name, value in settings.items():
        w.controls[name].value = value
        assert w.error is None, (settings, w.error)
    assert expected in w.status.value, w.status.value
    if w.result.history.diverged:
        k = w.result.history.diverged_at_step
        assert w.ax_loss.get_title() == f"diverged at step {k}"
        assert w.diverged_marker.get_visible()
        # the NaN/inf loss at step k is marked, not silently left out
        assert list(w.loss_nan_mark.get_xdata()) == [k] and "NaN" in w.loss_nan_note.get_text()
    else:
        assert not w.diverged_marker.get_visible()
        assert len(w.loss_nan_mark.get_xdata()) == 0
    lo, hi = w.ax_grads.get_ylim()
    assert np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi
    w.fig.canvas.draw()  # rendering the extreme state must work too


def test_nan_gradient_norms_after_divergence_are_marked_not_dropped():
    w = VanishingGradientsWidget()
    w.controls["depth"].value = 4
    w.controls["activation"].value = "relu"
    w.controls["init"].value = "normal(1.0)"
    w.controls["learning_rate"].value = 10.0
    r = w.result
    assert r.history.diverged, r.history.message
    names = list(r.init_grad_norms)
    trained = np.array([r.final_grad_norms.get(n, np.nan) for n in names], dtype=float)
    bad = np.flatnonzero(~np.isfinite(trained))
    np.testing.assert_array_equal(np.asarray(w.nan_marks.get_xdata()), bad)
    if bad.size:
        assert "×" in w.nan_note.get_text()
    # a hand-made result whose trained norms are NaN: every one gets a ×
    fake = _result([0.7, 0.6], diverged_at=2, norms=(1.0, 2.0, 3.0))
    fake.final_grad_norms = {"0.W": np.nan, "1.W": 1.0, "2.W": np.inf}
    fake.activations = [np.zeros((2, 2))] * 2
    w.redraw(fake)
    assert list(w.nan_marks.get_xdata()) == [0, 2]
    assert w.nan_note.get_text() == "× 2 trained norms NaN/inf"
    w.fig.canvas.draw()


# --- the whole control grid: one verdict, and it agrees with the numbers --------------------


def _widget_grid():
    """Every value of every control the widget offers (read from the controls themselves)."""
    c = VanishingGradientsWidget().controls
    depths = list(range(c["depth"].min, c["depth"].max + 1, c["depth"].step))
    lr = c["learning_rate"]
    n_rates = round((lr.max - lr.min) / lr.step) + 1
    rates = [float(10 ** (lr.min + i * lr.step)) for i in range(n_rates)]
    return {
        "depth": depths,
        "activation": list(c["activation"].options),
        "init": list(c["init"].options),
        "batchnorm": [False, True],
        "residual": [False, True],
        "learning_rate": rates,
    }


def _assert_verdict_agrees_with_numbers(r: VanishingResult) -> None:
    d = r.diagnosis
    status = describe_result(r)
    assert d.verdict in VERDICTS
    assert status.count("<b>") == 1 and status.startswith("<b>"), status
    # no second verdict word in the line
    others = [v for v in VERDICTS if v != d.verdict and f"<b>{v}" in status]
    assert not others, status
    losses, history = r.history.step_loss, r.history
    if history.diverged:
        assert d.verdict == "diverged"
        assert f"diverged at step {history.diverged_at_step}" in status
        return
    assert d.verdict != "diverged" and "diverged" not in status
    first, last = losses[0], losses[-1]
    assert f"{first:.3g} → {last:.3g}" in status  # the numbers the verdict follows from
    if last > 1.02 * first:
        assert d.verdict == "loss grew"
    elif last < 0.98 * min(first, math.log(2)):
        assert d.verdict == "learning"
    else:  # not learned: a reason from the gradients, and never "flat" for a falling loss
        assert d.verdict in ("vanishing", "exploding", "saturated", "slow")
        assert ("loss flat" in status) == (last >= 0.98 * first), status
        norms = np.array(list(r.init_grad_norms.values()))
        ratio = norms[0] / norms[-1]
        vanished = ratio < 1e-2 or norms.max() < 1e-5
        exploded = ratio > 10 or norms.max() > 1e3
        if d.verdict == "vanishing":
            assert vanished or np.isnan(ratio)
        elif d.verdict == "exploding":
            assert not np.all(np.isfinite(norms)) or (exploded and not vanished)
        elif d.verdict == "saturated":
            assert not (vanished or exploded) and r.mean_saturation > 0.3
            assert r.activation != "relu"
        else:
            assert not (vanished or exploded) and 1e-2 <= ratio <= 10


def _sweep(grid, steps, n_samples):
    import itertools

    names = list(grid)
    count = 0
    with np.errstate(all="ignore"):
        for values in itertools.product(*grid.values()):
            settings = dict(zip(names, values, strict=True))
            r = run_experiment(**settings, steps=steps, n_samples=n_samples)
            _assert_verdict_agrees_with_numbers(r)
            count += 1
    return count


def test_verdict_is_single_and_follows_the_numbers_on_a_representative_grid():
    """Every activation, init, batch norm and residual choice; the ends and middle of the
    depth and learning-rate sliders; the widget's real sizes (60 steps, 256 points)."""
    grid = _widget_grid()
    grid["depth"] = [grid["depth"][0], 10, grid["depth"][-1]]
    rates = grid["learning_rate"]
    grid["learning_rate"] = [rates[0], 0.3, rates[-1]]
    assert _sweep(grid, steps=60, n_samples=256) == 3 * 3 * 4 * 2 * 2 * 3


@pytest.mark.exhaustive
@pytest.mark.timeout(1800)
def test_verdict_is_single_and_follows_the_numbers_on_the_whole_control_grid():
    """Every value of every control (19 depths × 3 × 4 × 2 × 2 × 41 learning rates), with
    short runs (8 steps on 64 points): 37 392 runs, several minutes on a 2-core machine."""
    grid = _widget_grid()
    assert len(grid["depth"]) == 19 and len(grid["learning_rate"]) == 41
    assert _sweep(grid, steps=8, n_samples=64) == 19 * 3 * 4 * 2 * 2 * 41
