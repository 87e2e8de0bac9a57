"""The overfitting widget of notebook 5 and the exercise checks of that notebook."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import pytest

from nnlib.train import History
from nnlib.widgets.overfitting import (
    L2_OPTIONS,
    PROGRESS_EVERY,
    OverfittingResult,
    OverfittingWidget,
    describe_result,
    digits_split,
    train_digits,
)

EPOCHS = 12  # short runs keep the widget tests fast; the notebook uses 60


@pytest.fixture(scope="module")
def data():
    return digits_split(seed=0)


@pytest.fixture(scope="module")
def widget():
    return OverfittingWidget(epochs=EPOCHS)


def _result(
    val_loss, train_accuracy=1.0, val_accuracy=0.9, diverged_at=None, **settings
) -> OverfittingResult:
    """A result with a hand-made history (no training), for the pure description logic."""
    n = len(val_loss)
    history = History(
        epoch=list(range(n)),
        train_loss=[1.0 / (k + 1) for k in range(n)],
        val_loss=list(val_loss),
        train_accuracy=[train_accuracy] * n,
        val_accuracy=[val_accuracy] * n,
    )
    if diverged_at is not None:
        history.diverged, history.diverged_at_step = True, diverged_at
    options = dict(
        sizes=[64, 64, 64, 10], n_train=300, l2=0.0, dropout=0.0, learning_rate=0.01, epochs=n
    )
    options.update(settings)
    return OverfittingResult(
        history=history, train_accuracy=train_accuracy, val_accuracy=val_accuracy, **options
    )


# --- data and training ------------------------------------------------------------------


def test_digits_split_is_stratified_scaled_disjoint_and_seeded(data):
    sizes = [len(data.X_train), len(data.X_val), len(data.X_test)]
    assert sum(sizes) == 1797
    assert sizes[1] == pytest.approx(0.2 * 1797, abs=10)
    for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val)):
        assert X.shape == (len(y), 64)
        assert X.min() >= 0.0 and X.max() <= 1.0 and X.max() > 0.9
        share = np.bincount(y, minlength=10) / len(y)
        np.testing.assert_allclose(share, 0.1, atol=0.02)  # every digit ~10 % in every part
    rows = {r.tobytes() for r in data.X_val}
    assert sum(r.tobytes() in rows for r in data.X_test) < 5  # (a few images are duplicates)
    again = digits_split(seed=0)
    np.testing.assert_array_equal(again.X_train, data.X_train)
    other = digits_split(seed=1)
    assert not np.array_equal(other.y_train, data.y_train)


def test_train_digits_records_every_epoch_and_is_reproducible(data):
    calls = []
    result = train_digits(
        data, width=16, depth=1, n_train=100, epochs=25, progress=lambda e, n: calls.append((e, n))
    )
    h = result.history
    assert len(h.epoch) == len(h.train_loss) == len(h.val_loss) == len(h.val_accuracy) == 25
    assert result.sizes == [64, 16, 10]
    assert 0.0 <= result.val_accuracy <= 1.0 and 0.0 <= result.train_accuracy <= 1.0
    assert h.train_loss[-1] < h.train_loss[0]  # it learns
    assert len(result.train_loss_curve) == len(result.train_accuracy_curve) == 25
    assert result.train_accuracy == pytest.approx(result.train_accuracy_curve[-1])
    assert calls == [(e, 25) for e in range(PROGRESS_EVERY, 26, PROGRESS_EVERY)]
    same = train_digits(data, width=16, depth=1, n_train=100, epochs=25)
    np.testing.assert_array_equal(same.history.val_loss, h.val_loss)


def test_more_training_data_narrows_the_gap(data):
    few = train_digits(data, width=32, depth=1, n_train=50, epochs=30)
    many = train_digits(data, width=32, depth=1, n_train=1000, epochs=30)
    assert many.val_accuracy > few.val_accuracy + 0.05
    assert many.gap < few.gap


def test_training_curve_is_measured_without_penalty_and_dropout(data):
    plain = train_digits(data, width=16, depth=1, n_train=100, epochs=8)
    penalised = train_digits(data, width=16, depth=1, n_train=100, epochs=8, l2=0.3)
    # fit's own training loss includes (λ/2) Σ ||W||²; the widget's curve is the data loss only
    assert penalised.history.train_loss[-1] > penalised.train_loss_curve[-1] + 0.1
    np.testing.assert_allclose(plain.history.train_loss[1:], plain.train_loss_curve[:-1], rtol=1e-5)
    dropped = train_digits(data, width=64, depth=1, n_train=100, epochs=8, dropout=0.5)
    assert np.all(np.asarray(dropped.train_loss_curve) < np.asarray(dropped.history.train_loss))


def test_extreme_l2_underfits(data):
    plain = train_digits(data, n_train=200, epochs=30)
    heavy = train_digits(data, n_train=200, epochs=30, l2=1.0)
    assert heavy.train_accuracy < plain.train_accuracy
    assert heavy.outcome == "underfitting"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("width", 0),
        ("depth", 1.5),
        ("n_train", 10_000),
        ("dropout", 1.0),
        ("l2", -0.1),
        ("learning_rate", 0.0),
        ("learning_rate", math.nan),
    ],
)
def test_train_digits_rejects_bad_settings_with_the_name(data, name, value):
    with pytest.raises(ValueError, match=name):
        train_digits(data, epochs=2, **{name: value})


# --- describing a run -------------------------------------------------------------------


def test_outcome_and_description_of_each_kind_of_run():
    overfit = _result([2.0, 1.0, 0.5, 0.6, 0.8])
    assert overfit.outcome == "overfitting" and overfit.best_epoch == 2
    text = describe_result(overfit)
    assert "overfitting" in text and "epoch 2" in text and "gap 10.0 points" in text

    fine = _result([2.0, 1.0, 0.5, 0.52])
    assert fine.outcome == "fit"
    assert "overfitting" not in describe_result(fine)

    weak = _result([2.3, 2.3], train_accuracy=0.12, val_accuracy=0.1, sizes=[64, 1, 10])
    assert weak.outcome == "underfitting"
    assert "width 1" in describe_result(weak)
    noisy = _result([2.3, 2.3], train_accuracy=0.12, val_accuracy=0.1, dropout=0.9)
    assert "dropout 0.9" in describe_result(noisy)

    diverged = _result([2.0], diverged_at=7, learning_rate=10.0)
    assert diverged.outcome == "diverged"
    assert "diverged at step 7" in describe_result(diverged)


def test_best_epoch_skips_non_finite_losses_and_a_non_finite_end_counts_as_overfitting():
    result = _result([math.nan, 1.0, 0.4, math.inf])
    assert result.best_epoch == 2
    assert result.outcome == "overfitting"
    assert _result([]).best_epoch is None


# --- the widget -------------------------------------------------------------------------


def test_controls_are_the_promised_sliders(widget):
    c = widget.controls
    assert set(c) == {"width", "depth", "l2", "dropout", "n_train", "learning_rate"}
    assert isinstance(c["learning_rate"], widgets.FloatLogSlider)
    assert "learning rate" in c["learning_rate"].description
    assert "depth" in c["depth"].description
    assert isinstance(c["width"], widgets.IntSlider) and isinstance(c["n_train"], widgets.IntSlider)
    assert [value for _, value in c["l2"].options] == list(L2_OPTIONS)
    assert c["l2"].value == 0.0  # weight decay starts switched off
    assert all(control.continuous_update is False for control in c.values())


def test_initial_state_draws_four_curves(widget):
    assert widget.error is None
    assert isinstance(widget.result, OverfittingResult)
    for line in widget.lines.values():
        assert len(line.get_ydata()) == EPOCHS
        assert np.all(np.isfinite(line.get_ydata()))
    assert "validation" in widget.status.value
    assert widget.last_update_seconds > 0


def test_status_says_training_while_a_run_is_under_way(widget):
    seen = []
    widget.status.observe(lambda change: seen.append(change["new"]), names="value")
    widget.controls["n_train"].value = 100
    widget.controls["n_train"].value = 300
    assert any("training…" in text for text in seen)
    assert "training…" not in widget.status.value  # replaced by the result when done


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("width", 16),
        ("depth", 3),
        ("l2", 0.1),
        ("dropout", 0.5),
        ("n_train", 800),
        ("learning_rate", 0.001),
    ],
)
def test_every_control_changes_the_curves(widget, name, value):
    control = widget.controls[name]
    before = {k: line.get_ydata().copy() for k, line in widget.lines.items()}
    old = control.value
    control.value = value
    try:
        assert widget.error is None
        after = {k: line.get_ydata() for k, line in widget.lines.items()}
        assert not np.allclose(before["val_loss"], after["val_loss"])
        assert not np.allclose(before["train_loss"], after["train_loss"])
    finally:
        control.value = old
    np.testing.assert_allclose(widget.lines["val_loss"].get_ydata(), before["val_loss"])


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"learning_rate": 10.0}, ("underfitting", "diverged", "overfitting")),
        ({"width": 1}, ("underfitting",)),
        ({"dropout": 0.9}, ("underfitting",)),
        ({"l2": 1.0}, ("underfitting",)),
        ({"depth": 6}, None),
        ({"learning_rate": 1e-4}, ("underfitting",)),
    ],
)
def test_extreme_settings_never_raise_and_say_what_happened(widget, settings, expected):
    old = {name: widget.controls[name].value for name in settings}
    try:
        for name, value in settings.items():
            widget.controls[name].value = value
        assert widget.error is None
        assert "Could not update" not in widget.status.value
        if expected is not None:
            assert any(word in widget.status.value for word in expected), widget.status.value
        assert widget.result.outcome in ("diverged", "underfitting", "overfitting", "fit")
    finally:
        for name, value in old.items():
            widget.controls[name].value = value


def test_largest_network_on_most_data_does_not_raise():
    w = OverfittingWidget(epochs=3)
    w.controls["width"].value = w.controls["width"].max
    w.controls["depth"].value = w.controls["depth"].max
    w.controls["n_train"].value = w.controls["n_train"].max
    assert w.error is None
    assert w.result.sizes[1:-1] == [256] * 6 and w.result.n_train == 1000


def test_redraw_of_a_diverged_run_says_so(widget):
    result = _result([2.0, 3.0], diverged_at=2, learning_rate=10.0)
    widget.redraw(result)
    assert "diverged at step 2" in widget.ax_loss.get_title()
    widget.update()  # back to the controls' run
    assert "diverged" not in widget.ax_loss.get_title()
