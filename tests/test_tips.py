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
