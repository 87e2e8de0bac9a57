"""Notebook 08's widgets (batch size vs speed, magnitude pruning) and its exercise checks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from nnlib import pruning
from nnlib.model import mlp
from nnlib.train import evaluate
from nnlib.widgets.speed import (
    SPARSITY_GRID,
    PruningWidget,
    SpeedWidget,
    accuracy_curve,
    all_weights,
    batch_options,
    digits_train_test,
    train_digits_mlp,
)

# --- SpeedWidget -------------------------------------------------------------------------


@pytest.fixture
def speed() -> SpeedWidget:
    return SpeedWidget(n_train=300, epochs=3)


def curve(w: SpeedWidget, axis: str = "epoch", which: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x and y data of the current (``which=0``) or previous (``1``) run's line."""
    line = w._lines["epoch" if axis == "epoch" else "wall-clock time (s)"][which]
    x, y = line.get_data()
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def test_default_run_draws_loss_per_epoch_and_per_second(speed: SpeedWidget) -> None:
    assert speed.error is None
    r = speed.result
    assert not r.history.diverged and r.made_progress
    assert r.steps == 3 * math.ceil(300 / 32)
    x, y = curve(speed)
    np.testing.assert_array_equal(x, np.arange(4))
    np.testing.assert_allclose(y, r.val_loss)
    t, y_time = curve(speed, "time")
    np.testing.assert_allclose(y_time, r.val_loss)
    assert t[0] == 0 and np.all(np.diff(t) > 0)
    assert r.examples_per_second > 0 and math.isfinite(r.examples_per_second)
    assert "examples/s" in speed.status.value and "batch 32" in speed.status.value
    assert curve(speed, which=1)[0].size == 0  # no previous run yet


def test_batch_size_changes_the_run_and_keeps_the_previous_one(speed: SpeedWidget) -> None:
    before = curve(speed)[1]
    speed.controls["batch_size"].value = 4
    assert speed.error is None
    assert speed.result.steps == 3 * math.ceil(300 / 4)
    after = curve(speed)[1]
    assert not np.allclose(after, before)
    np.testing.assert_allclose(curve(speed, which=1)[1], before)
    assert speed._lines["epoch"][1].get_label().startswith("previous: batch 32")


def test_full_batch_is_one_step_per_epoch(speed: SpeedWidget) -> None:
    labels = [label for label, _ in batch_options(300)]
    assert labels[-1] == "full (300)" and "512" not in labels
    speed.controls["batch_size"].value = 300
    assert speed.error is None
    assert speed.result.steps == 3
    assert "batch full" in speed.status.value


def test_learning_rate_optimizer_and_epochs_change_the_curves(speed: SpeedWidget) -> None:
    before = curve(speed)[1]
    speed.controls["learning_rate"].value = 0.02
    assert speed.error is None and speed.result.learning_rate == pytest.approx(0.02)
    lr_changed = curve(speed)[1]
    assert not np.allclose(lr_changed, before)
    speed.controls["optimizer"].value = "adam"
    assert speed.error is None and speed.result.optimizer == "adam"
    assert not np.allclose(curve(speed)[1], lr_changed)
    speed.controls["epochs"].value = 6
    assert len(curve(speed)[1]) == 7
    assert speed.ax_epoch.get_xlim()[1] > 6


def test_same_settings_same_losses(speed: SpeedWidget) -> None:
    first = list(speed.result.val_loss)
    speed.controls["learning_rate"].value = 0.3
    speed.controls["learning_rate"].value = 0.1
    assert speed.result.val_loss == pytest.approx(first, rel=1e-6)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("batch_size", [1, 300])
def test_extreme_learning_rate_is_reported_not_raised(
    speed: SpeedWidget, optimizer: str, batch_size: int
) -> None:
    speed.controls["epochs"].value = 1
    speed.controls["optimizer"].value = optimizer
    speed.controls["batch_size"].value = batch_size
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        speed.controls["learning_rate"].value = 10.0
    assert speed.error is None, speed.error
    r = speed.result
    assert r.history.diverged or not r.made_progress
    assert "diverged at step" in speed.status.value or "no progress" in speed.status.value
    assert speed.status.value.startswith("<b>")
    title = speed.ax_epoch.get_title()
    assert "diverged" in title or "no progress" in title
    y = curve(speed)[1]
    assert np.all(np.isfinite(y))


def test_default_update_is_fast() -> None:
    w = SpeedWidget()
    w.controls["learning_rate"].value = 0.05
    assert w.error is None
    assert w.last_update_seconds < 1.0


@pytest.mark.slow
def test_static_figures_stay_inline_after_a_widget_in_a_notebook() -> None:
    # Only a real kernel shows it: ipympl switches pyplot's backend when a widget is shown.
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "import matplotlib\nimport matplotlib.pyplot as plt",
        "from nnlib.widgets.speed import SpeedWidget\nSpeedWidget(n_train=100, epochs=1)",
        "fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    kinds = [kind for output in nb.cells[2].outputs for kind in output.get("data", {})]
    assert "image/png" in kinds, kinds
    assert "application/vnd.jupyter.widget-view+json" not in kinds, "the figure became a widget"


def test_bad_settings_raise_clearly() -> None:
    with pytest.raises(ValueError, match="batch_size must be one of"):
        SpeedWidget(batch_size=3)
    with pytest.raises(ValueError, match="Valid ones"):
        SpeedWidget(optimizer="lbfgs")
    with pytest.raises(ValueError, match="n_train"):
        SpeedWidget(n_train=5000)


def test_digits_split_is_fixed_and_scaled() -> None:
    a, b = digits_train_test(0), digits_train_test(0)
    assert a.X_train.shape == (1258, 64) and a.X_test.shape == (539, 64)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.X_train.min() == 0 and a.X_train.max() == 1


# --- PruningWidget -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained() -> tuple:
    model, params, split = train_digits_mlp()
    return model, params, split.X_test, split.y_test


@pytest.fixture(scope="module")
def shared_prune(trained: tuple) -> PruningWidget:
    return PruningWidget(*trained)  # precomputes its curves once (68 pruned evaluations)


@pytest.fixture
def prune(shared_prune: PruningWidget) -> PruningWidget:
    """The module's widget, back at its default settings (global ranking, sparsity 0.8)."""
    shared_prune.controls["scope"].value = "global"
    shared_prune.controls["sparsity"].value = 0.8
    return shared_prune


def histogram_counts(w: PruningWidget) -> np.ndarray:
    return np.asarray(w._stairs.get_data().values, dtype=np.float64)


def test_trained_network_is_accurate(trained: tuple) -> None:
    model, params, X, y = trained
    assert evaluate(model, params, X, y, "cross_entropy")["accuracy"] > 0.95


def test_default_pruning_marks_the_measured_accuracy(prune: PruningWidget, trained) -> None:
    model, params, X, y = trained
    assert prune.error is None
    r = prune.result
    expected = evaluate(model, pruning.prune_by_magnitude(params, 0.8)[0], X, y, "cross_entropy")
    assert r.accuracy == pytest.approx(expected["accuracy"])
    mx, my = prune._marker.get_data()
    assert mx[0] == pytest.approx(80) and my[0] == pytest.approx(100 * r.accuracy)
    assert r.kept_weights.size == prune.n_weights - round(0.8 * prune.n_weights)
    assert histogram_counts(prune)[histogram_counts(prune) >= 1].sum() == r.kept_weights.size
    assert f"{r.kept_weights.size} of {prune.n_weights}" in prune.ax_hist.get_title()


def test_sparsity_slider_moves_marker_and_histogram(prune: PruningWidget) -> None:
    before_counts = histogram_counts(prune).copy()
    before_marker = prune._marker.get_data()
    prune.controls["sparsity"].value = 0.3
    assert prune.error is None
    assert not np.array_equal(histogram_counts(prune), before_counts)
    assert prune._marker.get_data()[0][0] != before_marker[0][0]
    t = prune.result.threshold
    assert t > 0 and np.all(np.abs(prune.result.kept_weights) >= t)
    assert prune._cut_lines[1].get_xdata()[0] == pytest.approx(t)


def test_layer_scope_changes_the_result_and_hides_the_global_threshold(
    prune: PruningWidget,
) -> None:
    prune.controls["sparsity"].value = 0.9
    global_result = prune.result
    prune.controls["scope"].value = "layer"
    assert prune.error is None
    r = prune.result
    assert r.scope == "layer" and r.threshold == 0.0
    assert not any(line.get_visible() for line in prune._cut_lines)
    report = pruning.sparsity_report(r.params)
    assert all(layer.sparsity == pytest.approx(0.9, abs=0.01) for layer in report)
    assert not np.array_equal(np.sort(r.kept_weights), np.sort(global_result.kept_weights))


@pytest.mark.parametrize("s", [0.0, 0.99])
def test_extreme_sparsities_do_not_raise(prune: PruningWidget, s: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prune.controls["sparsity"].value = s
    assert prune.error is None
    left = prune.result.kept_weights.size
    assert left == prune.n_weights - round(s * prune.n_weights)


def test_accuracy_curves_start_at_the_unpruned_accuracy(prune: PruningWidget, trained) -> None:
    model, params, X, y = trained
    full = evaluate(model, params, X, y, "cross_entropy")["accuracy"]
    for curve_values in prune.curves.values():
        assert len(curve_values) == len(SPARSITY_GRID)
        assert curve_values[0] == pytest.approx(full)
        assert curve_values[-1] < full - 0.3  # 99 % sparsity breaks the network
    np.testing.assert_allclose(
        accuracy_curve(model, params, X, y, [0.0, SPARSITY_GRID[17]], "global"),
        prune.curves["global"][[0, 17]],
    )


def test_pruning_widget_needs_all_or_none_of_its_inputs(trained: tuple) -> None:
    model, params, _, _ = trained
    with pytest.raises(ValueError, match="Pass all of"):
        PruningWidget(model, params)


def test_all_weights_collects_every_weight_matrix() -> None:
    params = mlp([3, 4, 2]).init(0)
    assert all_weights(params).size == 3 * 4 + 4 * 2
