"""Notebook 07's widget (drag a predicted distribution) and its exercise checks."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

from nnlib import information
from nnlib.losses import softmax, softmax_cross_entropy
from nnlib.widgets.entropy import (
    EntropyWidget,
    compute_entropy_result,
    describe_result,
    smoothed_target,
)


@pytest.fixture
def widget() -> EntropyWidget:
    return EntropyWidget()


def heights(bars) -> np.ndarray:
    return np.array([bar.get_height() for bar in bars])


def q_heights(w: EntropyWidget) -> np.ndarray:
    return heights(w._q_bars)


def y_heights(w: EntropyWidget) -> np.ndarray:
    return heights(w._y_bars)


def grad_heights(w: EntropyWidget) -> np.ndarray:
    return heights(w._grad_bars)


def logits_of(w: EntropyWidget) -> np.ndarray:
    return np.array([w.controls[f"logit_{k}"].value for k in range(w.n_classes)])


# --- what the widget shows ------------------------------------------------------------------


def test_default_draws_softmax_target_and_gradient(widget: EntropyWidget) -> None:
    assert widget.error is None
    z = logits_of(widget)
    q = np.asarray(softmax(z[None, :]))[0]
    y = np.eye(4)[widget.controls["true_class"].value]
    np.testing.assert_allclose(q_heights(widget), q)
    np.testing.assert_allclose(y_heights(widget), y)
    np.testing.assert_allclose(grad_heights(widget), q - y)
    r = widget.result
    assert widget._hq_bar.get_width() == pytest.approx(information.entropy(q))
    assert widget._kl_bar.get_width() == pytest.approx(r.kl)
    assert r.cross_entropy == pytest.approx(-math.log(q[r.true_class]))
    assert f"{r.cross_entropy:.4g}" in widget.ax_info.get_title()
    assert "H(q) = " in widget.status.value and "nats" in widget.status.value


@pytest.mark.parametrize("k", range(4))
def test_each_logit_slider_moves_the_bars(widget: EntropyWidget, k: int) -> None:
    before_q, before_g = q_heights(widget), grad_heights(widget)
    before_status = widget.status.value
    widget.controls[f"logit_{k}"].value = 5.0
    assert widget.error is None
    after_q = q_heights(widget)
    assert not np.allclose(after_q, before_q)
    assert after_q[k] > before_q[k]
    assert after_q.sum() == pytest.approx(1.0)
    assert not np.allclose(grad_heights(widget), before_g)
    assert widget.status.value != before_status


def test_true_class_moves_target_and_gradient(widget: EntropyWidget) -> None:
    before_y, before_g = y_heights(widget), grad_heights(widget)
    widget.controls["true_class"].value = 0
    assert widget.error is None
    np.testing.assert_allclose(y_heights(widget), [1, 0, 0, 0])
    assert not np.allclose(y_heights(widget), before_y)
    assert not np.allclose(grad_heights(widget), before_g)
    assert "(right)" in widget.ax_probs.get_title()


def test_label_smoothing_gives_the_target_entropy(widget: EntropyWidget) -> None:
    assert widget._hy_bar.get_width() == 0.0
    widget.controls["smoothing"].value = 0.2
    assert widget.error is None
    np.testing.assert_allclose(y_heights(widget), [0.05, 0.85, 0.05, 0.05])
    r = widget.result
    assert r.entropy_y == pytest.approx(information.entropy(r.y)) and r.entropy_y > 0
    assert widget._hy_bar.get_width() == pytest.approx(r.entropy_y)
    assert widget._kl_bar.get_x() == pytest.approx(r.entropy_y)
    assert r.cross_entropy == pytest.approx(r.entropy_y + r.kl)
    np.testing.assert_allclose(grad_heights(widget), r.q - r.y)


def test_units_switch_to_bits(widget: EntropyWidget) -> None:
    nats = widget.result
    widget.controls["units"].value = "bits"
    bits = widget.result
    assert widget.error is None
    assert bits.cross_entropy == pytest.approx(nats.cross_entropy / math.log(2))
    assert bits.entropy_q == pytest.approx(nats.entropy_q / math.log(2))
    assert widget._hq_bar.get_width() == pytest.approx(bits.entropy_q)
    assert "bits" in widget.ax_info.get_xlabel() and "bits" in widget.status.value
    assert widget._max_line.get_xdata()[0] == pytest.approx(2.0)  # log2(4)
    np.testing.assert_allclose(bits.gradient, nats.gradient)  # the loss stays in nats


def test_uniform_logits_reach_the_maximum_entropy(widget: EntropyWidget) -> None:
    for k in range(4):
        widget.controls[f"logit_{k}"].value = 0.0
    r = widget.result
    np.testing.assert_allclose(q_heights(widget), 0.25)
    assert r.entropy_q == pytest.approx(math.log(4))
    assert r.cross_entropy == pytest.approx(math.log(4))


@pytest.mark.parametrize("true_class", range(4))
def test_extreme_logits_never_raise_and_stay_finite(widget: EntropyWidget, true_class) -> None:
    widget.controls["true_class"].value = true_class
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for values in itertools.product([-20.0, 20.0], repeat=4):
            for k, v in enumerate(values):
                widget.controls[f"logit_{k}"].value = v
            r = widget.result
            assert widget.error is None, widget.error
            numbers = [r.entropy_q, r.entropy_y, r.cross_entropy, r.kl]
            assert all(math.isfinite(x) for x in numbers)
            assert np.all(np.isfinite(r.q)) and np.all(np.isfinite(r.gradient))
            assert r.cross_entropy <= 40.0 + math.log(4) + 1e-9  # logit range + log C


def test_confidently_wrong_is_reported(widget: EntropyWidget) -> None:
    widget.controls["logit_0"].value = 20.0
    for k in (1, 2, 3):
        widget.controls[f"logit_{k}"].value = -20.0
    r = widget.result
    assert widget.error is None
    assert r.cross_entropy == pytest.approx(40.0, abs=1e-9)  # -log q_1 = 40 + log(1 + 3e-40)
    assert r.gradient[0] == pytest.approx(1.0) and r.gradient[1] == pytest.approx(-1.0)
    assert "confidently wrong" in widget.status.value and "<b>" in widget.status.value
    assert "(wrong)" in widget.ax_probs.get_title()
    assert widget.ax_info.get_xlim()[1] > 40.0  # the loss bar fits
    widget.controls["true_class"].value = 0
    assert "wrong" not in widget.status.value


def test_update_is_fast(widget: EntropyWidget) -> None:
    times = []
    for v in (0.5, 1.0, 1.5, 2.0, 2.5):
        widget.controls["logit_2"].value = v
        times.append(widget.last_update_seconds)
    assert widget.error is None
    assert float(np.median(times)) < 0.1


def test_figure_renders(widget: EntropyWidget, tmp_path) -> None:
    widget.controls["smoothing"].value = 0.1
    widget.controls["logit_3"].value = -20.0
    out = tmp_path / "widget.png"
    widget.fig.savefig(out)
    assert out.stat().st_size > 10_000


# --- the computation and the constructor ----------------------------------------------------


def test_compute_matches_the_library() -> None:
    z = np.array([0.3, -1.2, 2.0])
    r = compute_entropy_result(z, true_class=2, smoothing=0.1)
    y = smoothed_target(2, 3, 0.1)
    np.testing.assert_allclose(r.y, y)
    np.testing.assert_allclose(y, [0.1 / 3, 0.1 / 3, 0.9 + 0.1 / 3])
    loss, grad = softmax_cross_entropy(z[None, :], y[None, :])
    assert r.cross_entropy == pytest.approx(float(loss))
    np.testing.assert_allclose(r.gradient, grad[0])
    assert r.kl == pytest.approx(r.cross_entropy - r.entropy_y)
    assert r.predicted_class == 2 and r.max_entropy == pytest.approx(math.log(3))
    assert describe_result(r).startswith("H(q) = ")


def test_other_numbers_of_classes() -> None:
    w = EntropyWidget(logits=(1.0, -1.0), true_class=0)
    assert w.error is None and len(w._q_bars) == 2
    assert "logit_2" not in w.controls
    w.controls["logit_1"].value = 3.0
    assert w.result.predicted_class == 1


def test_slider_descriptions() -> None:
    w = EntropyWidget()
    assert [w.controls[f"logit_{k}"].description for k in range(4)] == [
        "logit 0",
        "logit 1",
        "logit 2",
        "logit 3",
    ]
    assert w.controls["true_class"].description == "true class"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"logits": (1.0,)}, "between 2 and"),
        ({"logits": (0.0, 30.0)}, r"lie in \[-20, 20\]"),
        ({"true_class": 4}, r"true_class must be in \[0, 3\]"),
        ({"smoothing": 1.5}, "smoothing"),
        ({"units": "dits"}, "Valid ones"),
    ],
)
def test_bad_settings_raise_clearly(kwargs, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        EntropyWidget(**kwargs)
