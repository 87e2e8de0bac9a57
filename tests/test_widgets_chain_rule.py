"""Widgets of notebook 01 (chain rule and autodiff), driven from Python."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from nnlib.widgets.chain_rule import (  # noqa: E402
    FUNCTIONS,
    DerivativeWidget,
    NeuronGraphWidget,
    curve_and_derivative,
    neuron_graph,
    value_and_derivative,
)

NEURON_SLIDERS = ("w1", "w2", "b", "x1", "x2", "y")


def by_hand(x1: float, x2: float, w1: float, w2: float, b: float, y: float) -> dict[str, float]:
    """o, L and dL/d(each leaf) from the closed-form chain rule, independent of autodiff."""
    o = math.tanh(w1 * x1 + w2 * x2 + b)
    dL_dn = 2 * (o - y) * (1 - o**2)
    return {
        "o": o,
        "L": (o - y) ** 2,
        "w1": dL_dn * x1,
        "w2": dL_dn * x2,
        "b": dL_dn,
        "x1": dL_dn * w1,
        "x2": dL_dn * w2,
        "y": -2 * (o - y),
    }


def graph_texts(ax) -> list[str]:
    """The text of every box and circle the graph drawing put into ``ax``."""
    return [t.get_text() for t in ax.texts if t.get_text()]


# --- NeuronGraphWidget ------------------------------------------------------------------


def test_neuron_widget_default_matches_the_chain_rule_by_hand() -> None:
    w = NeuronGraphWidget()
    assert w.error is None
    v = w.values
    expected = by_hand(v["x1"], v["x2"], v["w1"], v["w2"], v["b"], v["y"])
    assert w.result.o.data == pytest.approx(expected["o"], rel=1e-12)
    assert w.result.loss.data == pytest.approx(expected["L"], rel=1e-12)
    for name, grad in w.result.grads.items():
        assert grad == pytest.approx(expected[name], rel=1e-12, abs=1e-15), name
    assert f"∂L/∂w1 = {expected['w1']:.4g}" in w.status.value
    assert f"L = {expected['L']:.4g}" in w.status.value
    assert w.last_update_seconds > 0


def test_first_neuron_slider_is_a_weight() -> None:
    """The browser test moves the first slider; a weight changes the whole drawing."""
    w = NeuronGraphWidget()
    first = next(iter(w.controls.values()))
    assert first.description == "w1"


@pytest.mark.parametrize("name", NEURON_SLIDERS)
def test_each_neuron_slider_redraws_with_new_values_and_grads(name: str) -> None:
    w = NeuronGraphWidget()
    before = graph_texts(w.ax)
    control = w.controls[name]
    control.value = control.value + 0.5 if control.value + 0.5 <= control.max else control.min
    after = graph_texts(w.ax)
    assert w.error is None
    assert after != before
    v = w.values
    expected = by_hand(v["x1"], v["x2"], v["w1"], v["w2"], v["b"], v["y"])
    for leaf, grad in w.result.grads.items():
        assert grad == pytest.approx(expected[leaf], rel=1e-12, abs=1e-15), leaf
    # the graph is redrawn into the one Axes, not into new ones
    assert w.fig.axes == [w.ax]


def test_hiding_the_loss_draws_the_neuron_alone() -> None:
    w = NeuronGraphWidget()
    assert any(text.startswith("L\n") for text in graph_texts(w.ax))
    w.controls["show_loss"].value = False
    texts = graph_texts(w.ax)
    assert w.error is None
    assert w.result.loss is None
    assert not any(text.startswith(("L\n", "y\n")) for text in texts)
    assert w.controls["y"].disabled
    o = w.result.o.data
    x1 = w.values["x1"]
    assert w.result.grads["w1"] == pytest.approx((1 - o**2) * x1, rel=1e-12)
    assert "∂o/∂w1" in w.status.value and "L =" not in w.status.value
    w.controls["show_loss"].value = True
    assert not w.controls["y"].disabled
    assert any(text.startswith("L\n") for text in graph_texts(w.ax))


@pytest.mark.parametrize("end", ["max", "min"])
def test_extreme_sliders_show_saturation_instead_of_raising(end: str) -> None:
    w = NeuronGraphWidget()
    for name in ("w1", "w2", "b", "x1", "x2"):
        control = w.controls[name]
        control.value = getattr(control, end)
    assert w.error is None
    assert "saturated" in w.status.value
    assert all(abs(w.result.grads[p]) < 1e-12 for p in ("w1", "w2", "b"))


def test_output_equal_to_target_reports_the_minimum() -> None:
    w = NeuronGraphWidget(w1=0.0, w2=0.0, b=0.0, y=0.0)
    assert w.error is None
    assert w.result.loss.data == 0.0
    assert "minimum" in w.status.value
    assert all(grad == 0.0 for grad in w.result.grads.values())


def test_neuron_graph_without_target_differentiates_o() -> None:
    graph = neuron_graph(x1=2.0, x2=-1.0, w1=0.6, w2=0.9, b=0.1)
    assert graph.loss is None and graph.root is graph.o
    assert set(graph.leaves) == {"x1", "x2", "w1", "w2", "b"}
    o = math.tanh(0.4)
    assert graph.o.data == pytest.approx(o)
    assert graph.grads["b"] == pytest.approx(1 - o**2)
    assert graph.grads["x2"] == pytest.approx((1 - o**2) * 0.9)


# --- DerivativeWidget -------------------------------------------------------------------


def tangent_slope(w: DerivativeWidget) -> float:
    xs, ys = w._tangent.get_data()
    return float((ys[1] - ys[0]) / (xs[1] - xs[0]))


def test_derivative_widget_x_moves_the_tangent_with_the_true_slope() -> None:
    w = DerivativeWidget(x=0.5, function="tanh(x)")
    before = np.array(w._tangent.get_ydata(), copy=True)
    w.controls["x"].value = 1.25
    assert w.error is None
    assert not np.allclose(w._tangent.get_ydata(), before)
    assert tangent_slope(w) == pytest.approx(1 - math.tanh(1.25) ** 2, rel=1e-9)
    assert np.allclose(w._point.get_data(), [[1.25], [math.tanh(1.25)]])


def test_derivative_widget_small_nudge_approaches_the_derivative() -> None:
    w = DerivativeWidget(x=0.7, h=1.0, function="x³ − 2x")
    big = w.result.difference_quotient
    before = np.array(w._secant.get_ydata(), copy=True)
    w.controls["h"].value = 1e-4
    small = w.result.difference_quotient
    slope = 3 * 0.7**2 - 2
    assert not np.allclose(w._secant.get_ydata(), before)
    assert abs(small - slope) < 1e-3 < abs(big - slope)
    assert f"{slope:.4g}" in w.status.value


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n != "tanh(x)"])
def test_derivative_widget_function_choice_redraws_the_curves(name: str) -> None:
    w = DerivativeWidget(function="tanh(x)")
    curve = np.array(w._curve.get_ydata(), copy=True)
    slope_curve = np.array(w._slope_curve.get_ydata(), copy=True)
    w.controls["function"].value = name
    assert w.error is None
    assert not np.allclose(w._curve.get_ydata(), curve)
    assert not np.allclose(w._slope_curve.get_ydata(), slope_curve)
    assert name in w.ax_f.get_title()


def test_derivative_curves_agree_with_calculus() -> None:
    xs = np.linspace(-2.5, 2.5, 11)
    _, square_slope = curve_and_derivative(FUNCTIONS["x²"], xs)
    np.testing.assert_allclose(square_slope, 2 * xs, rtol=1e-12)
    sig, sig_slope = curve_and_derivative(FUNCTIONS["sigmoid(x)"], xs)
    np.testing.assert_allclose(sig, 1 / (1 + np.exp(-xs)), rtol=1e-12)
    np.testing.assert_allclose(sig_slope, sig * (1 - sig), rtol=1e-12)
    assert value_and_derivative(FUNCTIONS["x³ − 2x"], 2.0) == pytest.approx((4.0, 10.0))


@pytest.mark.parametrize("x", [-3.0, 3.0])
def test_derivative_widget_extremes_do_not_raise(x: float) -> None:
    w = DerivativeWidget(function="x³ − 2x")
    w.controls["x"].value = x
    w.controls["h"].value = w.controls["h"].max
    assert w.error is None
    w.controls["h"].value = w.controls["h"].min
    assert w.error is None
    assert w.result.difference_quotient == pytest.approx(3 * x**2 - 2, rel=1e-3)


def test_derivative_widget_rejects_an_unknown_function() -> None:
    with pytest.raises(ValueError, match="Choose one of"):
        DerivativeWidget(function="cosh(x)")
