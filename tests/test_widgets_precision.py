"""Notebook 09's widget: compute dtype, loss scale, learning rate and gradient size drive a
training run whose curve, lost gradients and skipped steps are drawn; and its plain function."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nnlib.losses import softmax_cross_entropy
from nnlib.step import correct_counter
from nnlib.widgets.precision import (
    COMPUTE_OPTIONS,
    PrecisionWidget,
    describe_run,
    factor_options,
    scale_label,
    scale_options,
    scale_value,
    train_digits_in,
    weighted_cross_entropy,
)


@pytest.fixture(scope="module")
def widget() -> PrecisionWidget:
    return PrecisionWidget(epochs=3)


def line_data(line) -> tuple[np.ndarray, np.ndarray]:
    x, y = line.get_data()
    return np.asarray(x, np.float64), np.asarray(y, np.float64)


def set_controls(w: PrecisionWidget, **values) -> None:
    for name, value in values.items():
        w.controls[name].value = value


# --- the plain function -----------------------------------------------------------------------


def test_the_gradient_factor_changes_nothing_in_float32() -> None:
    plain = train_digits_in("float32", None, 0.1, 1.0, epochs=2)
    small = train_digits_in("float32", None, 0.1, 2.0**-18, epochs=2)
    assert small.train_loss == pytest.approx(plain.train_loss, rel=1e-6)
    assert small.val_accuracy == plain.val_accuracy and small.underflow == [0.0, 0.0]


def test_weighted_cross_entropy_scales_the_gradient_and_still_counts_accuracy() -> None:
    loss = weighted_cross_entropy(0.25)
    logits, labels = np.array([[1.0, 2.0], [3.0, 0.0]]), np.array([1, 1])
    value, grad = loss(logits, labels)
    full_value, full_grad = softmax_cross_entropy(logits, labels)
    assert value == pytest.approx(0.25 * full_value)
    np.testing.assert_allclose(grad, 0.25 * full_grad)
    assert int(correct_counter(loss)(logits, labels)) == 1


def test_a_run_records_scales_skips_and_lost_gradients() -> None:
    run = train_digits_in("float16", "dynamic", 0.1, 1.0, epochs=2)
    assert len(run.history.loss_scale) == run.steps == 80
    k = 14  # 2**32 is far too large: halved at each of the first steps, which are skipped
    assert run.history.skipped_steps[:k] == list(range(k))
    assert run.history.loss_scale[: k + 1] == [2.0 ** (32 - i) for i in range(k + 1)]
    assert len(run.underflow) == 2 and run.val_accuracy > 0.7
    assert run.label == "float16, scale dynamic, η=0.1"
    assert f"{run.skipped} of 80 steps skipped" in describe_run(run)


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="compute must be one of"):
        train_digits_in("float8")
    with pytest.raises(ValueError, match="gradient_factor must be a positive number, got 0"):
        train_digits_in("float16", None, 0.1, 0)
    with pytest.raises(ValueError, match="master weights stay float32"):
        train_digits_in("pure float16", 2.0**10)


def test_labels_of_the_sliders() -> None:
    scales = scale_options()
    assert scales[0] == "none" and scales[-1] == "dynamic" and "2^16" in scales
    values = [scale_value(label) for label in scales]
    assert values[0] is None and values[1] == 1.0 and values[-2] == 2.0**40
    assert values[-1] == "dynamic"
    assert [scale_label(v) for v in values] == scales
    assert factor_options()[0] == ("1", 1.0) and factor_options()[-1] == ("2^-24", 2.0**-24)
    assert [scale_label(s) for s in (None, "dynamic", 2.0**10, 3.0)] == ["none", "dynamic",
                                                                          "2^10", "3"]  # fmt: skip


# --- the widget ---------------------------------------------------------------------------------


def test_default_shows_float16_losing_small_gradients(widget: PrecisionWidget) -> None:
    set_controls(widget, compute="float16", loss_scale="none", learning_rate=0.1,
                 gradient_factor=2.0**-18)  # fmt: skip
    r = widget.result
    assert widget.error is None
    assert r.compute == "float16" and r.loss_scale is None and len(r.train_loss) == 3
    assert r.underflow[-1] > 0.2
    assert widget.status.value.startswith("<b>") and "scale the loss up" in widget.status.value
    x, y = line_data(widget._loss_line)
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_allclose(y, r.train_loss)
    np.testing.assert_allclose(line_data(widget._reference_line)[1], widget.reference.train_loss)
    assert r.train_loss[-1] > widget.reference.train_loss[-1]
    np.testing.assert_allclose(line_data(widget._underflow_line)[1], r.underflow)
    assert widget._scale_note.get_text() == "no loss scaling"


def test_the_tips_from_the_default_setting(widget: PrecisionWidget) -> None:
    set_controls(widget, compute="float16", loss_scale="none", learning_rate=0.1,
                 gradient_factor=2.0**-18)  # fmt: skip
    widget.controls["loss_scale"].value = "dynamic"
    r = widget.result
    assert r.underflow[-1] == 0.0
    np.testing.assert_allclose(r.train_loss, widget.reference.train_loss, rtol=0.02)
    widget.controls["loss_scale"].value = "2^40"
    r = widget.result
    assert r.skipped == r.steps and "the loss scale is too large" in widget.status.value
    assert np.ptp(r.train_loss) < 1e-6  # flat: nothing was learned


def test_dynamic_scaling_matches_float32_and_draws_the_scale(widget: PrecisionWidget) -> None:
    set_controls(widget, compute="float16", gradient_factor=1.0, loss_scale="dynamic")
    r = widget.result
    assert widget.error is None and r.skipped >= 10
    steps, scales = line_data(widget._scale_line)
    np.testing.assert_array_equal(scales, r.history.loss_scale)
    skipped_x, skipped_y = line_data(widget._skip_marks)
    np.testing.assert_array_equal(skipped_x, r.history.skipped_steps)
    np.testing.assert_array_equal(skipped_y, scales[r.history.skipped_steps])
    assert widget.ax_scale.get_title() == f"{r.skipped} of {r.steps} steps skipped"
    assert abs(r.val_accuracy - widget.reference.val_accuracy) <= 0.01
    assert not widget.status.value.startswith("<b>")
    assert f"{r.skipped} of 120 steps skipped" in widget.status.value


def test_every_compute_dtype(widget: PrecisionWidget) -> None:
    set_controls(widget, loss_scale="none", gradient_factor=2.0**-18, learning_rate=0.1)
    seen = {}
    for compute in COMPUTE_OPTIONS:
        widget.controls["compute"].value = compute
        assert widget.error is None, widget.error
        seen[compute] = widget.result
        assert widget.result.compute == compute
    assert seen["float32"] is widget.reference and seen["float32"].underflow == [0.0] * 3
    assert seen["bfloat16"].underflow[-1] < 0.01  # float32's range: nothing to scale
    assert seen["pure float16"].underflow[-1] > 0.2
    assert "float16 weights cannot be combined with loss scaling" in widget.status.value


def test_pure_float16_with_a_loss_scale_shows_the_error(widget: PrecisionWidget) -> None:
    set_controls(widget, compute="pure float16", loss_scale="2^10")
    assert "master weights stay float32" in widget.error
    assert widget.status.value.startswith("<b>Could not update:</b> ValueError")
    set_controls(widget, loss_scale="none")
    assert widget.error is None


def test_loss_scale_extremes(widget: PrecisionWidget) -> None:
    set_controls(widget, compute="float16", gradient_factor=1.0, learning_rate=0.1)
    widget.controls["loss_scale"].value = "2^40"  # the largest: every step overflows
    r = widget.result
    assert r.skipped == r.steps and not r.history.diverged
    assert "Every step overflowed: the loss scale is too large." in widget.status.value
    assert widget.status.value.startswith("<b>")
    widget.controls["loss_scale"].value = "2^0"  # the smallest static scale: nothing overflows
    assert widget.result.skipped == 0 and widget.result.history.loss_scale == [1.0] * 120
    assert widget.ax_scale.get_ylim()[0] < 1.0 < widget.ax_scale.get_ylim()[1]


def test_gradient_factor_extremes(widget: PrecisionWidget) -> None:
    set_controls(widget, compute="float16", loss_scale="none", learning_rate=0.1)
    widget.controls["gradient_factor"].value = 2.0**-24
    assert widget.error is None
    lost = widget.result.underflow[-1]
    assert lost > 0.5
    widget.controls["loss_scale"].value = "dynamic"  # dynamic scaling rescues even these
    assert widget.result.underflow[-1] < lost / 10
    widget.controls["gradient_factor"].value = 1.0
    assert widget.error is None and widget.result.gradient_factor == 1.0


def test_learning_rate_extremes_are_reported_not_raised(widget: PrecisionWidget) -> None:
    set_controls(widget, compute="float16", loss_scale="dynamic", gradient_factor=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        widget.controls["learning_rate"].value = 10.0
    assert widget.error is None, widget.error
    r = widget.result
    if r.history.diverged:
        assert "diverged at step" in widget.status.value
        assert "diverged" in widget.ax_loss.get_title()
    assert np.all(np.isfinite(line_data(widget._loss_line)[1]))
    widget.controls["learning_rate"].value = 1e-3
    assert widget.error is None
    assert widget.result.learning_rate == pytest.approx(1e-3)


def test_the_float32_reference_is_cached(widget: PrecisionWidget) -> None:
    set_controls(widget, learning_rate=0.1, gradient_factor=1.0, compute="float16")
    reference = widget.reference
    widget.controls["compute"].value = "bfloat16"
    assert widget.reference is reference
    widget.controls["learning_rate"].value = 0.3
    assert widget.reference is not reference


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="compute must be one of"):
        PrecisionWidget(compute="half")
    with pytest.raises(ValueError, match="loss_scale must be None, 'dynamic' or a power of two"):
        PrecisionWidget(loss_scale=1000.0)
    with pytest.raises(ValueError, match="gradient_factor must be 2"):
        PrecisionWidget(gradient_factor=0.3)
