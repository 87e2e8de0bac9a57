"""Every "things to try" tip of the notebooks, driven through the widget it names.

Each test sets the controls a tip names (as a learner would move them) and
asserts the outcome the tip promises, so a tip that stops being true fails
here. The tests are grouped by notebook, in the order the tips appear; the
docstring of each test quotes the tip it checks.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")


def numbers_in(text: str, name: str) -> float:
    """The number printed after ``name = `` in a status line, e.g. ``∂L/∂w1 = -2.122``."""
    match = re.search(re.escape(name) + r" = (-?[0-9.]+(?:e[-+]?[0-9]+)?)", text)
    assert match, f"{name!r} not in {text!r}"
    return float(match.group(1))


# --- 00 · start here ------------------------------------------------------------------------


def test_00_smaller_nudge_turns_the_secant_into_the_tangent() -> None:
    """'make the nudge h smaller and watch the secant turn into the tangent'."""
    from nnlib.widgets.chain_rule import DerivativeWidget

    w = DerivativeWidget()
    gaps = []
    for h in (0.5, 0.05, 0.005):
        w.controls["h"].value = h
        gaps.append(abs(w.result.difference_quotient - w.result.slope))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.01


def test_00_a_status_line_can_say_diverged_at_step_4() -> None:
    """'the line of text under the figure says what happened (... "diverged at step 4")'."""
    from nnlib.widgets.gradient_descent import GradientDescentWidget

    w = GradientDescentWidget(learning_rate=0.003, surface="Rosenbrock")
    assert "diverged at step 4" in w.status.value


# --- 01 · chain rule ------------------------------------------------------------------------


def _neuron(**values):
    from nnlib.widgets.chain_rule import NeuronGraphWidget

    w = NeuronGraphWidget()
    for name, value in values.items():
        w.controls[name].value = value
    return w


def _sweep_w1(w) -> list[tuple[float, float, float]]:
    """(w1, o, ∂L/∂w1) for w1 from -3 to 3 in the slider's steps of 0.5."""
    rows = []
    for w1 in np.arange(-3.0, 3.01, 0.5):
        w.controls["w1"].value = float(w1)
        status = w.status.value
        rows.append((float(w1), numbers_in(status, "o"), numbers_in(status, "∂L/∂w1")))
    return rows


def test_01_dL_dw1_changes_sign_where_o_crosses_y() -> None:
    """'Set y to 0.5, then move w1: ∂L/∂w1 changes sign where o crosses y (between 0.5 and 1.0)'."""
    rows = _sweep_w1(_neuron(y=0.5))
    for w1, o, grad in rows:
        assert np.sign(grad) == np.sign(o - 0.5), w1
    changes = [rows[i][0] for i in range(1, len(rows)) if rows[i][2] * rows[i - 1][2] < 0]
    assert changes == [1.0]  # the sign flips between w1 = 0.5 and w1 = 1.0


def test_01_at_the_default_target_dL_dw1_never_changes_sign() -> None:
    """'At the default y = 1 it never changes sign, because o stays below 1'."""
    rows = _sweep_w1(_neuron())
    assert all(o < 1.0 for _, o, _ in rows)
    assert all(grad <= 0 for _, _, grad in rows)


def test_01_zero_input_gives_its_weight_no_gradient() -> None:
    """'Set x1 to 0. Then ∂L/∂w1 = 0'."""
    w = _neuron(x1=0.0)
    assert w.result.grads["w1"] == 0.0
    assert numbers_in(w.status.value, "∂L/∂w1") == 0.0


def test_01_large_values_saturate_tanh() -> None:
    """'Push w1, x1 and b to large values. tanh saturates ... almost no gradient gets through'."""
    w = _neuron(w1=3.0, x1=3.0, b=3.0)
    assert "saturated" in w.status.value
    assert all(abs(w.result.grads[p]) < 1e-6 for p in ("w1", "w2", "b"))


def test_01_output_on_target_is_the_minimum() -> None:
    """'Set b to −0.3 and y to 0. Then n = 0, o = 0 = y: ... every gradient is 0'."""
    w = _neuron(b=-0.3, y=0.0)
    assert "the loss is at its minimum, so every gradient is 0" in w.status.value
    assert all(abs(g) < 1e-15 for g in w.result.grads.values())


def test_01_without_the_loss_the_gradients_are_those_of_o() -> None:
    """'Untick "show loss". The gradients are now ∂o/∂(·)'."""
    w = _neuron(show_loss=False)
    o, x1 = w.result.o.data, w.values["x1"]
    assert "∂o/∂w1" in w.status.value and "L =" not in w.status.value
    assert w.result.grads["w1"] == pytest.approx((1 - o**2) * x1, rel=1e-12)
    assert math.isclose(numbers_in(w.status.value, "∂o/∂w1"), (1 - o**2) * x1, rel_tol=1e-3)


# --- 02 · gradient descent ------------------------------------------------------------------


def _descent(**values):
    from nnlib.widgets.gradient_descent import GradientDescentWidget

    w = GradientDescentWidget()
    for name, value in values.items():
        w.controls[name].value = value
    return w


def _y_sign_changes(w, steps: int = 20) -> int:
    y = w.result.run.points[:steps, 1]
    return int(np.sum(np.diff(np.sign(y)) != 0))


def test_02_sgd_zig_zags_above_one_over_b_and_stops_converging_above_two_over_b() -> None:
    """'The zig-zag starts once η > 1/b = 0.05; the run still settles at η = 0.095, and above
    η = 2/b = 0.1 it no longer converges (at 0.105 the status line says "diverged")'."""
    w = _descent()
    for lr in (0.01, 0.04):
        w.controls["learning_rate"].value = lr
        assert _y_sign_changes(w) == 0, lr
    for lr in (0.06, 0.095):
        w.controls["learning_rate"].value = lr
        assert _y_sign_changes(w) >= 10, lr
    assert "below 1e-06 from step" in w.status.value  # η = 0.095 settles
    w.controls["learning_rate"].value = 0.101
    losses = w.result.run.losses
    assert losses[-1] > losses[0]  # growing, not converging
    w.controls["learning_rate"].value = 0.105
    assert "diverged at step" in w.status.value


def test_02_momentum_settles_from_about_step_160_where_sgd_is_slower() -> None:
    """'Momentum ... η = 0.01 to 0.02, with 500 steps: ... below 1e-6 from about step 160 on.
    SGD at the same learning rates needs 400 steps at 0.02 and does not settle within 500
    steps at 0.01 or 0.015'."""
    w = _descent(steps=500, optimizer="momentum")
    for lr in (0.01, 0.015, 0.02):
        w.controls["learning_rate"].value = lr
        settled = w.result.run.steps_to(1e-6)
        assert settled is not None and 150 <= settled <= 170, (lr, settled)
        assert f"below 1e-06 from step {settled} on" in w.status.value
    w.controls["optimizer"].value = "sgd"
    assert w.result.run.steps_to(1e-6) == 400  # η = 0.02
    for lr in (0.01, 0.015):
        w.controls["learning_rate"].value = lr
        assert w.result.run.steps_to(1e-6) is None
        assert "below 1e-06" not in w.status.value


def test_02_momentum_at_default_steps_does_not_settle() -> None:
    """Why the tip asks for 500 steps: with the default 100, nothing settles at these rates."""
    w = _descent(optimizer="momentum", learning_rate=0.01)
    assert w.values["steps"] == 100
    assert "below 1e-06" not in w.status.value


def test_02_sgd_on_rosenbrock_is_fastest_at_the_edge_of_divergence() -> None:
    """'SGD on Rosenbrock (500 steps): at η = 0.001 the loss is still about 4; at η = 0.002
    the point gets close to the minimum; at 0.0025 the run diverges within a few steps'."""
    w = _descent(surface="Rosenbrock", steps=500, learning_rate=0.001)
    assert 3 < w.result.run.final_loss < 5
    w.controls["learning_rate"].value = 0.002
    assert w.result.run.final_loss < 1e-3
    assert np.linalg.norm(w.result.run.points[-1] - np.array([1.0, 1.0])) < 0.1
    w.controls["learning_rate"].value = 0.0025
    assert "diverged at step" in w.status.value and w.result.run.diverged_at_step <= 10


def test_02_adam_on_rosenbrock_survives_large_learning_rates() -> None:
    """'Adam on Rosenbrock at η = 0.01, 0.1 and 1 (500 steps): at 0.01 the loss is still above
    1, at 1 it is lowest (below 1e-3) ... it survives learning rates at which SGD diverges'."""
    w = _descent(surface="Rosenbrock", steps=500, optimizer="adam")
    final = {}
    for lr in (0.01, 0.1, 1.0):
        w.controls["learning_rate"].value = lr
        assert not w.result.run.diverged
        final[lr] = w.result.run.final_loss
    assert final[0.01] > 1 and final[1.0] < 1e-3 and final[1.0] == min(final.values())
    w.controls["optimizer"].value = "sgd"
    assert "diverged at step" in w.status.value


# --- 03 · backpropagation: the playground ----------------------------------------------------


def _playground(**values):
    from nnlib.widgets.playground import PlaygroundWidget

    w = PlaygroundWidget()
    for name, value in values.items():
        w.controls[name].value = value
    return w


def _ups(w) -> int:
    """How many steps raised the loss."""
    return int(np.sum(np.diff(np.array(w.result.history.step_loss)) > 0))


def test_03_sgd_learning_rate_smooth_then_jumpy_on_the_moons() -> None:
    """'With sgd on the default moons ... up to about 0.3 the loss falls smoothly; from 1 on,
    the loss curve jumps up and down ..., yet it still ends low'."""
    w = _playground(optimizer="sgd")
    for lr in (0.03, 0.1, 0.3):
        w.controls["learning_rate"].value = lr
        assert _ups(w) == 0 and w.result.outcome == "learned", lr
    for lr in (1.0, 3.0, 10.0):
        w.controls["learning_rate"].value = lr
        assert _ups(w) >= 20, lr
        assert w.result.outcome == "learned", lr
        assert w.result.history.step_loss[-1] < 0.5 * w.result.history.step_loss[0]


def test_03_sgd_at_ten_makes_the_loss_grow_on_circles() -> None:
    """'Switch the data set to circles: at a learning rate of 10 the loss grows'."""
    w = _playground(optimizer="sgd", learning_rate=10.0, dataset="circles")
    assert "loss grew" in w.status.value


def test_03_deep_relu_diverges_with_sgd_and_gets_stuck_with_adam() -> None:
    """'With relu and depth 8, sgd at a learning rate of 10 ... diverged at step k. (With
    adam ... its loss gets stuck at ln 2, with most units dead.)'."""
    w = _playground(activation="relu", depth=8, learning_rate=10.0)
    assert w.values["optimizer"] == "adam"
    assert "loss stuck at 0.6931" in w.status.value
    assert w.result.saturation > 0.5 and "saturated or dead" in w.status.value
    w.controls["optimizer"].value = "sgd"
    assert re.search(r"diverged at step \d+", w.status.value)
    assert w.result.history.diverged_at_step <= 10


def test_03_width_one_draws_a_straight_boundary() -> None:
    """'Width 1: one unit per layer can only draw a straight boundary'."""
    from nnlib.model import mlp
    from nnlib.widgets.playground import grid_points, model_logits

    w = _playground(width=1)
    r = w.result
    model = mlp(r.sizes, activation=r.activation)
    points = grid_points(r.extent, 40)
    positive = model_logits(model, r.params, points)[:, 0] > 0
    direction = np.asarray(r.params[0]["W"])[:, 0]  # the one weighted sum the output depends on
    order = np.argsort(points @ direction)
    changes = int(np.sum(np.diff(positive[order].astype(int)) != 0))
    assert changes <= 1  # one side of a line is one class, the other side the other
    default = _playground()
    assert r.accuracy < default.result.accuracy


def test_03_spirals_need_more_than_one_unit_per_layer() -> None:
    """'On the spirals, how narrow can the layers be?': width 1 fails where the default fits."""
    w = _playground(dataset="spirals")
    assert w.result.accuracy > 0.9
    w.controls["width"].value = 1
    assert w.result.accuracy < 0.8


@pytest.mark.parametrize(("depth", "optimizer"), [(20, "adam"), (10, "sgd")])
def test_03_deep_sigmoid_is_stuck_at_ln2_and_relu_fixes_it(depth, optimizer) -> None:
    """'Sigmoid with depth 20 (or depth 10 with sgd): the loss is stuck at ln 2 ... Switch to
    relu: depth 20 then fits the moons'."""
    w = _playground(activation="sigmoid", depth=depth, optimizer=optimizer)
    assert "loss stuck at 0.6931" in w.status.value
    if depth == 20:
        w.controls["activation"].value = "relu"
        assert w.result.outcome == "learned" and w.result.accuracy > 0.95


def test_03_relu_adam_learning_rate_one_kills_most_units() -> None:
    """'relu with adam and learning rate 1: most hidden units end up ... dead, and the status
    reports the fraction'."""
    w = _playground(activation="relu", learning_rate=1.0)
    assert w.result.saturation > 0.5
    assert f"{w.result.saturation:.0%} of hidden units saturated or dead" in w.status.value


# --- 04 · vanishing gradients -----------------------------------------------------------------
# The widget's own verdicts (its status line) are tested with the widget in
# tests/test_widgets_vanishing.py. Here each tip's claim about the network is
# checked with the library computation the widget shows: the network it builds
# (32 units per hidden layer, float32), its gradient norms and activations at
# initialisation on 256 standardised moons, and 60 full-batch steps of gradient
# descent at the widget's default learning rate 0.3.

INITIALIZATIONS = {
    "xavier": ("xavier", {}),
    "he": ("he", {}),
    "normal(0.01)": ("normal", {"std": 0.01}),
    "normal(1.0)": ("normal", {"std": 1.0}),
}


def _vanishing(depth=10, activation="sigmoid", init="xavier", lr=0.3, train=False, **options):
    from nnlib.data import Standardizer, make_moons
    from nnlib.diagnostics import activation_stats, grad_norms
    from nnlib.model import mlp
    from nnlib.train import fit

    X, y = make_moons(256, noise=0.15, seed=0, dtype=np.float64)
    X = Standardizer().fit_transform(X).astype(np.float32)
    name, kwargs = INITIALIZATIONS[init]
    net = mlp(
        [2] + [32] * depth + [1], activation=activation, init=name, init_kwargs=kwargs, **options
    )
    params = net.init(0)
    with np.errstate(all="ignore"):
        _, grads, _, _ = net.loss_and_grads(params, X, y, "bce", check=False)
        stats = activation_stats(net, params, X, train=True, seed=0)
    norms = list(grad_norms(grads).values())
    hidden = [s for s in stats if s["kind"] == activation]
    out = {
        "first": norms[0],
        "ratio": norms[0] / norms[-1],
        "saturated": float(np.mean([s["saturated"] for s in hidden])),
        "std": [s["std"] for s in hidden],
    }
    if train:
        out["history"] = fit(
            net, params, X, y, loss="bce", optimizer="sgd", lr=lr, epochs=60, seed=0
        ).history
    return out


def test_04_deeper_sigmoid_networks_have_a_steeper_staircase() -> None:
    """'sigmoid, depth 2 → 20: ... from a few hundredths ... at depth 2 to below 1e-12 ...'."""
    ratios = [_vanishing(depth=d)["ratio"] for d in (2, 10, 20)]
    assert 0.01 < ratios[0] < 0.1
    assert ratios[0] > ratios[1] > ratios[2]
    assert ratios[2] < 1e-12


@pytest.mark.parametrize("option", ["batchnorm", "residual"])
def test_04_batch_norm_and_residual_bring_the_first_layers_gradient_back(option) -> None:
    """'the same (depth 20) with batch norm, then with residual: ... more than a billion
    times larger than without'."""
    plain = _vanishing(depth=20)["first"]
    fixed = _vanishing(depth=20, **{option: True})["first"]
    assert fixed > 1e9 * plain


def test_04_large_tanh_weights_saturate_and_the_gradient_grows_downwards() -> None:
    """'tanh with normal(1.0): about half of the values saturated ..., and the first layer's
    gradient about a hundred times the last layer's'."""
    m = _vanishing(activation="tanh", init="normal(1.0)")
    assert 0.4 < m["saturated"] < 0.7
    assert 30 < m["ratio"] < 300


def test_04_relu_signal_dies_out_blows_up_or_stays_with_he() -> None:
    """'relu with normal(0.01): ... about 1e-15 in layer 10; with normal(1.0) they grow to
    about 1e5 and training diverges; he keeps them between about 0.3 and 1'."""
    small = _vanishing(activation="relu", init="normal(0.01)")["std"]
    assert all(b < a for a, b in zip(small, small[1:], strict=False)) and small[-1] < 1e-14
    large = _vanishing(activation="relu", init="normal(1.0)", train=True)
    assert 1e4 < large["std"][-1] < 1e6 and large["history"].diverged
    he = _vanishing(activation="relu", init="he")["std"]
    assert all(0.3 < s < 1.0 for s in he)


def test_04_deep_relu_diverges_at_the_default_learning_rate_and_trains_at_a_smaller_one() -> None:
    """'relu, he, depth 20: at the default learning rate 0.3 the run already diverges within a
    few steps; lower the learning rate to 0.1 and it trains'."""
    fast = _vanishing(depth=20, activation="relu", init="he", train=True)["history"]
    assert fast.diverged and fast.diverged_at_step <= 10
    slow = _vanishing(depth=20, activation="relu", init="he", lr=0.1, train=True)["history"]
    assert not slow.diverged and slow.step_loss[-1] < 0.5 * math.log(2)


# --- 05 · overfitting ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def overfitting():
    from nnlib.widgets.overfitting import OverfittingWidget

    return OverfittingWidget()


def _overfit(widget, **values):
    """Move the controls to ``values`` (the others back to the defaults) and return the result."""
    defaults = {"width": 64, "depth": 2, "l2": 0.0, "dropout": 0.0, "n_train": 300}
    defaults["learning_rate"] = 0.01
    for name, value in {**defaults, **values}.items():
        if widget.controls[name].value != value:
            widget.controls[name].value = value
    return widget.result


def test_05_default_overfits_and_more_data_closes_the_gap(overfitting) -> None:
    """'The default ... overfits: the validation loss turns up after its minimum ... Move
    training examples to 1000: the accuracy gap shrinks from about 7 to about 3 points and the
    validation loss no longer turns up'."""
    r = _overfit(overfitting)
    assert r.outcome == "overfitting" and "overfitting" in overfitting.status.value
    assert f"lowest at epoch {r.best_epoch}" in overfitting.status.value
    assert 0.06 < r.gap < 0.08
    r = _overfit(overfitting, n_train=1000)
    assert r.outcome == "fit" and 0.02 < r.gap < 0.04


def test_05_l2_or_dropout_stop_the_validation_loss_from_climbing(overfitting) -> None:
    """'raise λ to 0.01, or the dropout rate to 0.5 ... the validation loss no longer climbs
    (with λ = 0.01 it stays near 0.24 while the default's rises to about 0.31; with dropout 0.5
    it is still falling at the last epoch), and the accuracy gap narrows'."""
    default = _overfit(overfitting)
    assert 0.29 < default.history.val_loss[-1] < 0.33
    l2 = _overfit(overfitting, l2=0.01)
    assert all(0.22 < v < 0.26 for v in l2.history.val_loss[30:])
    dropout = _overfit(overfitting, dropout=0.5)
    assert dropout.best_epoch == len(dropout.history.val_loss) - 1
    for r in (l2, dropout):
        assert r.outcome != "overfitting" and r.gap < default.gap


@pytest.mark.parametrize(
    ("settings", "cause"),
    [
        ({"width": 1}, "width 1 is a bottleneck"),
        ({"dropout": 0.9}, "dropout 0.9 silences most units"),
        ({"l2": 1.0}, "λ = 1 pulls every weight towards 0"),
    ],
)
def test_05_underfitting_corners_are_named(overfitting, settings, cause) -> None:
    """'Find the underfitting corners: width 1, dropout rate 0.9, λ = 1. The status line names
    the likely cause'."""
    r = _overfit(overfitting, **settings)
    assert r.outcome == "underfitting"
    assert "underfitting" in overfitting.status.value and cause in overfitting.status.value


def test_05_extreme_learning_rates_underfit_for_opposite_reasons(overfitting) -> None:
    """'Set the learning rate to 10, then to 1e-4: both underfit, for opposite reasons'."""
    _overfit(overfitting, learning_rate=10.0)
    assert "underfitting" in overfitting.status.value and "overshoot" in overfitting.status.value
    _overfit(overfitting, learning_rate=1e-4)
    assert "underfitting" in overfitting.status.value and "too small" in overfitting.status.value


def test_05_deeper_network_overfits_earlier_and_more(overfitting) -> None:
    """'increase the depth to 6 ... the validation loss turns up earlier and rises higher'."""
    shallow = _overfit(overfitting)
    deep = _overfit(overfitting, depth=6)
    assert deep.outcome == "overfitting" and deep.best_epoch < shallow.best_epoch

    def rise(r):
        return r.history.val_loss[-1] - r.history.val_loss[r.best_epoch]

    assert rise(deep) > rise(shallow)


# --- 06 · case studies -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def threshold_widget():
    from nnlib.widgets.case_studies import ThresholdWidget

    return ThresholdWidget()  # the out-of-fold probabilities of notebook 06


def test_06_lowering_the_threshold_to_0_1_only_adds_false_alarms(threshold_widget) -> None:
    """'Lower the threshold from 0.5 to 0.1: not one more malignant tumour is caught (5 are still
    missed ...), but the false alarms rise from 8 to 20'."""
    w = threshold_widget
    w.controls["threshold"].value = 0.5
    assert (w.result.fn, w.result.fp) == (5, 8)
    assert "5 of 170 malignant missed" in w.status.value and "(8 false alarms)" in w.status.value
    w.controls["threshold"].value = 0.1
    assert (w.result.fn, w.result.fp) == (5, 20)
    missed = w.probabilities[(w.y_true == 1) & (w.probabilities < 0.5)]
    assert missed.size == 5 and missed.max() < 0.1


def test_06_a_lower_threshold_moves_the_operating_point_up_and_right(threshold_widget) -> None:
    """'The lower the threshold, the further up and to the right the operating point moves'."""
    w = threshold_widget
    points = []
    for t in (0.9, 0.5, 0.2, 0.05, 0.01):
        w.controls["threshold"].value = t
        r = w.result
        points.append((r.fp / (r.fp + r.tn), r.tp / (r.tp + r.fn)))
    fpr, tpr = np.array(points).T
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert fpr[-1] > fpr[0] and tpr[-1] > tpr[0]


def test_06_catching_the_last_malignant_tumour_costs_180_false_alarms(threshold_widget) -> None:
    """'Catching the last of them takes a threshold of 0.001 and costs 180 false alarms'."""
    w = threshold_widget
    w.controls["threshold"].value = 0.01
    assert w.result.fn == 1
    w.controls["threshold"].value = 0.001
    assert w.result.fn == 0 and w.result.fp == 180


@pytest.fixture(scope="module")
def housing_widget():
    from nnlib.widgets.case_studies import HousingWidget

    return HousingWidget()


def test_06_one_hidden_unit_is_worse_than_the_linear_model(housing_widget) -> None:
    """'Width 1: a single hidden unit ends about $60,000 off, worse than the linear model
    ($49,400). Width 64 beats it (about $43,000)'."""
    w = housing_widget
    assert round(w.linear_mae, -2) == 49_400
    w.controls["learning_rate"].value = 3e-3
    w.controls["width"].value = 1
    assert (
        57_000 < w.result.final_mae < 63_000 and "does not beat the linear model" in w.status.value
    )
    w.controls["width"].value = 64
    assert 41_000 < w.result.final_mae < 45_000 and "beats the linear model" in w.status.value


def test_06_learning_rates_slow_good_and_wild(housing_widget) -> None:
    """'the learning rate at 1e-4: ... still above the mean predictor's; at 1e-2 it beats the
    linear model; at 10 the error jumps around in the millions ..., yet training does not
    diverge'."""
    w = housing_widget
    w.controls["width"].value = 16
    w.controls["learning_rate"].value = 1e-4
    assert w.result.final_mae > w.mean_mae
    w.controls["learning_rate"].value = 1e-2
    assert w.result.final_mae < w.linear_mae
    w.controls["learning_rate"].value = 10.0
    r = w.result
    assert not r.history.diverged and np.all(np.isfinite(r.val_mae))
    assert r.val_mae.min() > 5 * w.mean_mae and r.val_mae.max() > 1e6
    assert np.sum(np.diff(r.val_mae) > 0) >= 2  # it jumps up as well as down


# --- 07 · entropy ---------------------------------------------------------------------------------


def _entropy(**values):
    from nnlib.widgets.entropy import EntropyWidget

    w = EntropyWidget()
    for name, value in values.items():
        w.controls[name].value = value
    return w


def _set_logits(w, logits) -> None:
    for k, value in enumerate(logits):
        w.controls[f"logit_{k}"].value = value


@pytest.mark.parametrize("true_class", [0, 1, 2, 3])
def test_07_equal_logits_give_the_largest_entropy_whatever_the_class(true_class) -> None:
    """'set all four logits equal. H(q) = log 4 (1.386 nats, 2 bits), and so is the loss,
    whatever the true class. Now add the same amount to every logit: nothing changes'."""
    w = _entropy(true_class=true_class)
    _set_logits(w, [0.5] * 4)
    r = w.result
    assert r.entropy_q == pytest.approx(math.log(4)) and r.cross_entropy == pytest.approx(
        math.log(4)
    )
    assert "H(q) = 1.39 nats" in w.status.value
    before = (r.entropy_q, r.cross_entropy, r.gradient.copy())
    _set_logits(w, [3.5] * 4)
    assert (w.result.entropy_q, w.result.cross_entropy) == pytest.approx(before[:2])
    np.testing.assert_allclose(w.result.gradient, before[2], atol=1e-15)
    w.controls["units"].value = "bits"
    assert w.result.entropy_q == pytest.approx(2.0) and "H(q) = 2 bits" in w.status.value


def test_07_raising_the_true_logit_shrinks_loss_and_gradient() -> None:
    """'raise the true class's logit (class 1, from 1) step by step. The loss and the whole
    gradient shrink towards 0 at every step. The entropy first rises a little ..., then falls'."""
    w = _entropy()
    assert w.values["true_class"] == 1 and w.values["logit_1"] == 1.0
    rows = []
    for value in np.arange(1.0, 12.01, 1.0):
        w.controls["logit_1"].value = float(value)
        r = w.result
        rows.append((r.cross_entropy, np.linalg.norm(r.gradient), r.entropy_q))
    loss, grad, entropy = np.array(rows).T
    assert np.all(np.diff(loss) < 0) and np.all(np.diff(grad) < 0)
    assert loss[-1] < 1e-3 and grad[-1] < 1e-3
    assert entropy[1] > entropy[0]  # the tie with class 0 at logit 2
    assert np.all(np.diff(entropy[1:]) < 0) and entropy[-1] < 0.01


def test_07_confidently_wrong_has_a_large_loss_and_a_full_gradient() -> None:
    """'true class 1, logit 0 at 20 and the others at -20. The loss is about 40 nats, and the
    gradient is (1, -1, 0, 0) ... Every number stays finite'."""
    w = _entropy(true_class=1)
    _set_logits(w, [20.0, -20.0, -20.0, -20.0])
    r = w.result
    assert 39.5 < r.cross_entropy < 40.5
    np.testing.assert_allclose(r.gradient, [1.0, -1.0, 0.0, 0.0], atol=1e-12)
    assert all(np.isfinite(v) for v in (r.entropy_q, r.cross_entropy, r.kl))
    assert "confidently wrong" in w.status.value


def test_07_label_smoothing_keeps_the_loss_above_the_target_entropy() -> None:
    """'set ε = 0.1 and make the prediction very confident in the true class. The loss no longer
    goes to 0: its minimum is H(y) > 0, reached at q = y, and the gradient now pulls an
    overconfident q back'."""
    w = _entropy(true_class=1, smoothing=0.1)
    _set_logits(w, [0.0, 0.0, 0.0, 0.0])
    losses = []
    for value in np.arange(0.0, 20.01, 0.1):
        w.controls["logit_1"].value = float(value)
        losses.append((w.result.cross_entropy, float(value), w.result.entropy_y))
    best_loss, best_logit, target_entropy = min(losses)
    assert target_entropy > 0.3
    assert best_loss == pytest.approx(target_entropy, abs=1e-3)
    assert best_logit == pytest.approx(math.log(0.925 / 0.025), abs=0.1)  # where q = y
    w.controls["logit_1"].value = 20.0  # very confident
    r = w.result
    assert r.cross_entropy > target_entropy + 1
    assert r.gradient[1] > 0  # descent lowers the true logit: pulls the prediction back


# --- 08 · speed ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def speed():
    from nnlib.widgets.speed import SpeedWidget

    return SpeedWidget()


def _speed_run(widget, batch_size, learning_rate):
    widget.controls["learning_rate"].value = learning_rate
    widget.controls["batch_size"].value = batch_size
    return widget.result


def test_08_per_epoch_small_batches_learn_and_the_full_batch_barely_starts(speed) -> None:
    """'batch size 1, then 16, then full, at learning rate 0.1 (5 epochs): per epoch, batch sizes
    1 and 16 end close together (validation loss about 0.23 and 0.26; batch 1 jumps around more
    on the way), while the full batch has barely started (about 2.2)'."""
    assert speed.values["epochs"] == 5
    one = _speed_run(speed, 1, 0.1)
    sixteen = _speed_run(speed, 16, 0.1)
    full = _speed_run(speed, 1000, 0.1)
    assert 0.2 < one.val_loss[-1] < 0.26 and 0.23 < sixteen.val_loss[-1] < 0.29
    assert np.sum(np.diff(one.val_loss) > 0) > np.sum(np.diff(sixteen.val_loss) > 0)
    assert 2.1 < full.val_loss[-1] < 2.25


def test_08_full_batch_gains_up_to_about_one_and_stops_learning_from_three(speed) -> None:
    """'at the full batch, raise the learning rate: it helps up to about 1 (validation loss about
    1.4 after 5 epochs, still far behind batch 16 at 0.1), and from about 3 on the run no longer
    learns'."""
    sixteen = _speed_run(speed, 16, 0.1).val_loss[-1]
    finals = {lr: _speed_run(speed, 1000, lr).val_loss[-1] for lr in (0.1, 0.3, 1.0)}
    assert finals[0.1] > finals[0.3] > finals[1.0]
    assert 1.3 < finals[1.0] < 1.5 and finals[1.0] > 4 * sixteen
    for lr in (3.0, 5.0, 10.0):
        r = _speed_run(speed, 1000, lr)
        assert r.val_loss[-1] > r.val_loss[0] and "no progress" in speed.status.value


def test_08_learning_rate_ten_does_not_learn(speed) -> None:
    """'learning rate 10: the status line reports a run that does not learn'."""
    _speed_run(speed, 32, 10.0)
    assert "no progress" in speed.status.value
