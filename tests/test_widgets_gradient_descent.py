"""Notebook 02's widget (an optimiser's path on a 2-D surface) and its exercise checks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nnlib.optim import OPTIMIZERS
from nnlib.surfaces import SURFACES
from nnlib.widgets.gradient_descent import GradientDescentWidget, describe_run


@pytest.fixture
def widget() -> GradientDescentWidget:
    return GradientDescentWidget()


def path_data(w: GradientDescentWidget) -> np.ndarray:
    x, y = w._path_line.get_data()
    return np.column_stack([x, y])


def loss_data(w: GradientDescentWidget) -> np.ndarray:
    return np.asarray(w._loss_line.get_ydata(), dtype=np.float64)


def contour_segments(w: GradientDescentWidget) -> list[np.ndarray]:
    return [path.vertices for c in w.ax_path.collections for path in c.get_paths()]


# --- the widget ----------------------------------------------------------------------------


def test_default_settings_converge_and_draw(widget: GradientDescentWidget) -> None:
    assert widget.error is None
    run = widget.result.run
    assert not run.diverged
    assert run.final_loss < 1e-5
    np.testing.assert_allclose(path_data(widget), run.points)
    assert len(loss_data(widget)) == widget.controls["steps"].value + 1
    assert "sgd" in widget.status.value and "loss" in widget.status.value
    assert contour_segments(widget), "the contour map is missing"


def test_learning_rate_moves_the_path(widget: GradientDescentWidget) -> None:
    before_path, before_loss = path_data(widget), loss_data(widget)
    widget.controls["learning_rate"].value = 0.02
    assert widget.error is None
    assert widget.result.learning_rate == pytest.approx(0.02)
    assert not np.allclose(path_data(widget), before_path)
    assert not np.allclose(loss_data(widget), before_loss)


def test_optimizer_changes_the_path(widget: GradientDescentWidget) -> None:
    before = path_data(widget)
    widget.controls["optimizer"].value = "adam"
    assert widget.error is None
    assert widget.result.optimizer == "adam"
    after = path_data(widget)
    assert after.shape != before.shape or not np.allclose(after, before)
    assert "adam" in widget.ax_path.get_title()


def test_surface_redraws_the_contours(widget: GradientDescentWidget) -> None:
    before_contours, before_path = contour_segments(widget), path_data(widget)
    widget.controls["surface"].value = "Rosenbrock"
    assert widget.error is None
    after_contours = contour_segments(widget)
    assert after_contours
    assert len(after_contours) != len(before_contours) or not all(
        a.shape == b.shape and np.allclose(a, b)
        for a, b in zip(after_contours, before_contours, strict=True)
    )
    np.testing.assert_allclose(path_data(widget)[0], SURFACES["Rosenbrock"].start)
    assert not np.array_equal(path_data(widget)[0], before_path[0])
    assert widget.ax_path.get_xlim() == SURFACES["Rosenbrock"].xlim


def test_steps_lengthens_the_curves(widget: GradientDescentWidget) -> None:
    widget.controls["steps"].value = 300
    assert widget.error is None
    assert len(loss_data(widget)) == 301
    assert widget.ax_loss.get_xlim() == (0.0, 300.0)


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_extreme_learning_rates_never_raise(
    widget: GradientDescentWidget, surface: str, optimizer: str
) -> None:
    widget.controls["surface"].value = surface
    widget.controls["optimizer"].value = optimizer
    widget.controls["steps"].value = 500
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow warnings must not reach the notebook
        for lr in (10.0, 1e-4):
            widget.controls["learning_rate"].value = lr
            assert widget.error is None, widget.error
            points = path_data(widget)
            assert np.all(np.isfinite(points))
            s = SURFACES[surface]
            width, height = np.diff(s.xlim)[0], np.diff(s.ylim)[0]
            assert np.all(points[:, 0] >= s.xlim[0] - 0.1 * width - 1e-9)
            assert np.all(points[:, 0] <= s.xlim[1] + 0.1 * width + 1e-9)
            assert np.all(points[:, 1] >= s.ylim[0] - 0.1 * height - 1e-9)
            assert np.all(points[:, 1] <= s.ylim[1] + 0.1 * height + 1e-9)


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_divergence_is_reported_not_raised(widget: GradientDescentWidget, surface: str) -> None:
    widget.controls["surface"].value = surface
    widget.controls["learning_rate"].value = 10.0
    run = widget.result.run
    assert widget.error is None
    assert run.diverged
    message = f"diverged at step {run.diverged_at_step}"
    assert message in widget.status.value
    assert message in widget.ax_path.get_title()
    assert message in widget.ax_loss.get_title()
    assert widget._diverged_line.get_visible()
    widget.controls["learning_rate"].value = 1e-3
    assert not widget._diverged_line.get_visible()
    assert "diverged" not in widget.status.value


def test_update_is_fast_on_default_settings(widget: GradientDescentWidget) -> None:
    widget.controls["learning_rate"].value = 0.05
    assert widget.error is None
    assert widget.last_update_seconds < 0.5


def test_figure_renders_after_updates(widget: GradientDescentWidget, tmp_path) -> None:
    widget.controls["surface"].value = "Rosenbrock"
    widget.controls["learning_rate"].value = 10.0
    out = tmp_path / "widget.png"
    widget.fig.savefig(out)
    assert out.stat().st_size > 10_000


def test_describe_run_states_the_facts(widget: GradientDescentWidget) -> None:
    text = describe_run(widget.result)
    assert text.startswith("sgd, η = 0.08: loss ")
    assert f"after {widget.result.steps} steps" in text
    settled = widget.result.run.steps_to(1e-6)
    assert settled is not None and f"from step {settled} on" in text
    assert "from step" not in describe_run(widget.result, short=True)


def test_unknown_settings_raise_clearly() -> None:
    with pytest.raises(ValueError, match="Valid surfaces"):
        GradientDescentWidget(surface="saddle")
    with pytest.raises(ValueError, match="Valid ones"):
        GradientDescentWidget(optimizer="lbfgs")
