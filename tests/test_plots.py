"""Tests for nnlib.plots: each figure draws the expected artists with the expected data.

Matplotlib draws off-screen here: tests/conftest.py selects the Agg backend.
"""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle

import nnlib
from nnlib import diagnostics, plots
from nnlib.layers import Dense
from nnlib.model import Sequential
from nnlib.train import History


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture
def ax() -> plt.Axes:
    return plt.subplots()[1]


def _history(diverged: bool = False) -> History:
    return History(
        epoch=[0, 1, 2, 3],
        train_loss=[1.0, 0.5, 0.25, 0.123456],
        val_loss=[1.1, 0.6, 0.4, 0.345678],
        train_accuracy=[0.5, 0.7, 0.8, 0.9],
        val_accuracy=[0.5, 0.6, 0.7, 0.75],
        step_loss=[1.0, 0.8, 0.5, 0.3, 0.25, 0.2, 0.15, 0.12],
        diverged=diverged,
        diverged_at_step=8 if diverged else None,
    )


def _line_data(ax: plt.Axes) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.asarray(ln.get_xdata()), np.asarray(ln.get_ydata())) for ln in ax.get_lines()]


def _linear_binary_model() -> tuple[Sequential, list]:
    """A classifier whose logit is ``x₁``: the boundary is the line x₁ = 0."""
    model = Sequential([Dense(2, 1, dtype="float64")])
    params = [{"W": np.array([[1.0], [0.0]]), "b": np.zeros(1)}]
    return model, params


def _linear_three_class_model() -> tuple[Sequential, list]:
    """Logits ``(x₁, x₂, 0)``: class 0 where x₁ is largest, 1 where x₂ is, 2 where both < 0."""
    model = Sequential([Dense(2, 3, dtype="float64")])
    params = [{"W": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "b": np.zeros(3)}]
    return model, params


# --- plot_history ------------------------------------------------------------------------


def test_plot_history_draws_train_and_validation_loss(ax: plt.Axes) -> None:
    history = _history()
    assert plots.plot_history(history, ax=ax) is ax
    (train_x, train_y), (val_x, val_y) = _line_data(ax)
    np.testing.assert_array_equal(train_x, history.epoch)
    np.testing.assert_array_equal(train_y, history.train_loss)
    np.testing.assert_array_equal(val_y, history.val_loss)
    assert ax.get_title() == "final loss: train 0.1235, validation 0.3457"
    assert ax.get_yscale() == "linear"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train loss", "validation loss"]


def test_plot_history_accuracy_and_log_scale(ax: plt.Axes) -> None:
    history = _history()
    plots.plot_history(history, ax=ax, metric="accuracy", log=True, title="mine")
    (_, train_y), (_, val_y) = _line_data(ax)
    np.testing.assert_array_equal(train_y, history.train_accuracy)
    np.testing.assert_array_equal(val_y, history.val_accuracy)
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "mine"
    assert ax.get_ylabel() == "accuracy"


def test_plot_history_without_validation_and_marks_divergence(ax: plt.Axes) -> None:
    history = _history(diverged=True)
    history.val_loss = []
    plots.plot_history(history, ax=ax)
    assert len(ax.get_lines()) == 1
    assert ax.get_title() == "diverged at step 8"


def test_plot_history_with_no_epoch_says_so(ax: plt.Axes) -> None:
    history = History(diverged=True, diverged_at_step=0)
    plots.plot_history(history, ax=ax)
    assert len(ax.get_lines()) == 0
    assert "no completed epoch" in [t.get_text() for t in ax.texts]
    assert ax.get_title() == "diverged at step 0"


def test_plot_history_rejects_an_unknown_metric() -> None:
    with pytest.raises(ValueError, match="metric must be one of"):
        plots.plot_history(_history(), metric="f1")


def test_plot_history_creates_its_own_axes_when_none_is_given() -> None:
    ax = plots.plot_history(_history())
    assert isinstance(ax, plt.Axes)
    assert len(ax.get_lines()) == 2


def test_drawing_twice_after_clear_gives_the_same_artists(ax: plt.Axes) -> None:
    plots.plot_history(_history(), ax=ax, log=True)
    first = _line_data(ax)
    ax.clear()
    plots.plot_history(_history(), ax=ax)
    second = _line_data(ax)
    assert len(first) == len(second) == 2
    for (x1, y1), (x2, y2) in zip(first, second, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    assert ax.get_yscale() == "linear"


# --- plot_step_loss ----------------------------------------------------------------------


def test_plot_step_loss_cuts_off_at_the_first_non_finite_value(ax: plt.Axes) -> None:
    losses = [1.0, 0.5, 4.0, 1e6, np.inf, np.nan, 2.0]
    plots.plot_step_loss(losses, ax=ax)
    loss_line, marker = ax.get_lines()
    np.testing.assert_array_equal(loss_line.get_ydata(), losses[:4])
    np.testing.assert_array_equal(loss_line.get_xdata(), np.arange(4))
    np.testing.assert_array_equal(marker.get_xdata(), [4, 4])  # vertical line at the step
    assert ax.get_title() == "diverged at step 4"
    assert [t.get_text() for t in ax.texts] == ["diverged at step 4"]
    assert ax.get_yscale() == "log"


def test_plot_step_loss_of_a_finite_run(ax: plt.Axes) -> None:
    plots.plot_step_loss(np.array([2.0, 1.0, 0.0]), ax=ax, log=True)
    assert len(ax.get_lines()) == 1
    assert ax.get_yscale() == "linear"  # a zero loss cannot go on a log scale
    assert ax.get_title() == "loss after 3 steps: 0"


def test_plot_step_loss_compares_labelled_runs(ax: plt.Axes) -> None:
    plots.plot_step_loss([1.0, 0.5, 0.25], ax=ax, label="lr=0.1")
    plots.plot_step_loss([1.0, 3.0, np.nan], ax=ax, label="lr=10")
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == ["lr=0.1", "lr=10 (diverged at step 2)"]
    assert len(ax.texts) == 0  # the legend says it; no extra words on the plot
    assert [ln.get_xdata()[0] for ln in ax.get_lines()[2:]] == [2]  # the divergence line
    assert ax.get_title() == ""
    assert ax.get_yscale() == "log"


def test_plot_step_loss_takes_a_history(ax: plt.Axes) -> None:
    history = _history(diverged=True)
    plots.plot_step_loss(history, ax=ax)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), history.step_loss)
    assert ax.get_title() == "diverged at step 8"


# --- decision boundaries -------------------------------------------------------------------


def test_decision_grid_binary_is_the_sigmoid_of_the_logit() -> None:
    model, params = _linear_binary_model()
    xx, yy, zz = plots.decision_grid(model, params, (-3, 3), (-1, 2), n=7)
    assert xx.shape == yy.shape == zz.shape == (7, 7)
    np.testing.assert_allclose(xx[0], np.linspace(-3, 3, 7))
    np.testing.assert_allclose(yy[:, 0], np.linspace(-1, 2, 7))
    np.testing.assert_allclose(zz, 1 / (1 + np.exp(-xx)), rtol=1e-12)


def test_decision_grid_multiclass_is_the_argmax() -> None:
    model, params = _linear_three_class_model()
    xx, yy, zz = plots.decision_grid(model, params, (-2, 2), (-2, 2), n=9)
    expected = np.argmax(np.stack([xx, yy, np.zeros_like(xx)], axis=-1), axis=-1)
    np.testing.assert_array_equal(zz, expected)
    assert zz.dtype.kind == "i"
    assert set(np.unique(zz)) == {0, 1, 2}


@pytest.mark.parametrize(
    ("xlim", "n", "message"),
    [((1, -1), 10, "xlim"), ((0, np.nan), 10, "xlim"), ((0, 1), 1, "n")],
)
def test_decision_grid_rejects_bad_arguments(xlim: tuple, n: int, message: str) -> None:
    model, params = _linear_binary_model()
    with pytest.raises(ValueError, match=message):
        plots.decision_grid(model, params, xlim, (0, 1), n=n)


def _points() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[-2.0, 0.0], [-1.0, 1.0], [1.0, -1.0], [2.0, 0.5], [0.5, 0.0]])
    y = np.array([0, 0, 1, 1, 0])  # the last point is on the wrong side of x₁ = 0
    return X, y


def test_plot_decision_boundary_binary(ax: plt.Axes) -> None:
    model, params = _linear_binary_model()
    X, y = _points()
    assert plots.plot_decision_boundary(model, params, X, y, ax=ax, n=50, margin=1.0) is ax
    contours = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert len(contours) == 2  # filled probabilities + the P = 0.5 line
    filled, boundary = contours
    assert filled.filled and not boundary.filled
    np.testing.assert_allclose(boundary.levels, [0.5])
    # the boundary line is x₁ = 0
    vertices = np.concatenate([p.vertices for p in boundary.get_paths()])
    np.testing.assert_allclose(vertices[:, 0], 0.0, atol=0.1)
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_array_equal(scatters[0].get_offsets(), X[y == 0])
    np.testing.assert_array_equal(scatters[1].get_offsets(), X[y == 1])
    assert ax.get_title() == "accuracy 0.8 on 5 points"
    assert ax.get_xlim() == (-3.0, 3.0)
    assert len(ax.figure.axes) == 1  # no colour bar unless asked


def test_plot_decision_boundary_multiclass(ax: plt.Axes) -> None:
    model, params = _linear_three_class_model()
    X = np.array([[2.0, 0.0], [0.0, 2.0], [-1.0, -1.0], [-1.0, -2.0]])
    y = np.array([0, 1, 2, 0])
    plots.plot_decision_boundary(model, params, X, y, ax=ax)
    (regions,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    np.testing.assert_array_equal(regions.levels, [-0.5, 0.5, 1.5, 2.5])
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 3
    assert ax.get_title() == "accuracy 0.75 on 4 points"


def test_plot_decision_boundary_accepts_one_hot_labels_and_no_labels(ax: plt.Axes) -> None:
    model, params = _linear_three_class_model()
    X = np.array([[2.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    plots.plot_decision_boundary(model, params, X, np.eye(3), ax=ax)
    assert ax.get_title() == "accuracy 1 on 3 points"
    ax.clear()
    plots.plot_decision_boundary(model, params, X, None, ax=ax)
    (scatter,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_array_equal(scatter.get_offsets(), X)


def test_plot_decision_boundary_redraws_in_place_and_colorbar_is_optional(ax: plt.Axes) -> None:
    model, params = _linear_binary_model()
    X, y = _points()
    plots.plot_decision_boundary(model, params, X, y, ax=ax)
    count = len(ax.collections)
    ax.clear()
    plots.plot_decision_boundary(model, params, X, y, ax=ax)
    assert len(ax.collections) == count
    plots.plot_decision_boundary(model, params, X, y, ax=plt.subplots()[1], colorbar=True)
    assert len(plt.gcf().axes) == 2


def test_plot_decision_boundary_rejects_bad_data() -> None:
    model, params = _linear_binary_model()
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.plot_decision_boundary(model, params, np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="5 points but y has 4"):
        plots.plot_decision_boundary(model, params, np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="class labels"):
        plots.plot_decision_boundary(model, params, np.zeros((2, 2)), np.array([0.5, 1.0]))


def test_plot_decision_boundary_of_a_trained_mlp() -> None:
    X, y = nnlib.data.make_moons(100, noise=0.1, seed=0)
    model = nnlib.mlp([2, 16, 1], activation="tanh")
    result = nnlib.fit(model, model.init(0), X, y, loss="bce", optimizer="adam", lr=0.05, epochs=50)
    ax = plots.plot_decision_boundary(model, result.params, X, y)
    accuracy = nnlib.evaluate(model, result.params, X, y, loss="bce")["accuracy"]
    assert ax.get_title() == f"accuracy {accuracy:.4g} on 100 points"


# --- loss surfaces -----------------------------------------------------------------------


def _bowl(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 + 4 * y**2


def test_plot_loss_surface_draws_contours_path_and_minimum(ax: plt.Axes) -> None:
    path = np.array([[2.0, 1.0], [1.0, 0.5], [0.5, 0.1], [0.25, 0.05]])
    plots.plot_loss_surface(_bowl, (-3, 3), (-2, 2), ax=ax, levels=12, path=path, minimum=(0, 0))
    (contours,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    assert len(contours.levels) == 12
    assert np.all(np.diff(contours.levels) > 0)
    # log levels: dense near the minimum
    assert contours.levels[1] - contours.levels[0] < contours.levels[-1] - contours.levels[-2]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_array_equal(np.c_[lines["path"].get_xdata(), lines["path"].get_ydata()], path)
    np.testing.assert_array_equal(lines["start"].get_xydata(), path[:1])
    np.testing.assert_array_equal(lines["end"].get_xydata(), path[-1:])
    np.testing.assert_array_equal(lines["minimum"].get_xydata(), [[0, 0]])
    assert ax.get_title() == f"after 3 steps: f = {_bowl(0.25, 0.05):.4g}"


def test_plot_loss_surface_linear_levels_and_limits_kept(ax: plt.Axes) -> None:
    path = np.array([[0.0, 0.0], [10.0, 10.0]])  # leaves the plotted square
    plots.plot_loss_surface(_bowl, (-1, 1), (-1, 1), ax=ax, levels=5, log_levels=False, path=path)
    assert ax.get_xlim() == (-1.0, 1.0) and ax.get_ylim() == (-1.0, 1.0)
    (contours,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    steps = np.diff(contours.levels)
    np.testing.assert_allclose(steps, steps[0])


def test_plot_loss_surface_marks_a_diverging_path(ax: plt.Axes) -> None:
    path = np.array([[1.0, 1.0], [-3.0, 3.0], [50.0, -40.0], [np.inf, np.nan]])
    plots.plot_loss_surface(_bowl, (-2, 2), (-2, 2), ax=ax, path=path)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert len(lines["path"].get_xdata()) == 3
    assert ax.get_title() == "diverged at step 3"


def test_plot_loss_surface_rejects_a_function_that_is_not_elementwise() -> None:
    with pytest.raises(ValueError, match="element-wise"):
        plots.plot_loss_surface(lambda x, y: float(np.sum(x)), (-1, 1), (-1, 1), n=5)
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        plots.plot_loss_surface(_bowl, (-1, 1), (-1, 1), n=5, path=np.zeros((3, 3)))


# --- diagnostics figures -----------------------------------------------------------------


def test_plot_grad_norms_bar_heights_are_the_norms(ax: plt.Axes) -> None:
    norms = {"0.W": 1e-4, "2.W": 1e-2, "4.W": 0.5}
    plots.plot_grad_norms(norms, ax=ax)
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    np.testing.assert_allclose([b.get_height() for b in bars], list(norms.values()))
    assert [t.get_text() for t in ax.get_xticklabels()] == list(norms)
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "gradient norm per layer: first/last = 0.0002"


def test_plot_grad_norms_from_a_list_and_from_a_real_network(ax: plt.Axes) -> None:
    plots.plot_grad_norms([3.0, 0.0, 1.0], ax=ax, log=True, title="t")
    assert ax.get_yscale() == "linear"  # zero cannot be drawn on a log scale
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layer 0", "layer 1", "layer 2"]
    assert ax.get_title() == "t"
    X = np.random.default_rng(0).standard_normal((32, 2)).astype(np.float32)
    model = nnlib.mlp([2, 8, 8, 1], activation="sigmoid")
    _, grads, _, _ = model.loss_and_grads(model.init(0), X, (X[:, 0] > 0) * 1.0, "bce")
    norms = diagnostics.grad_norms(grads)
    ax2 = plots.plot_grad_norms(norms)
    np.testing.assert_allclose([b.get_height() for b in ax2.patches], list(norms.values()))
    with pytest.raises(ValueError, match="empty"):
        plots.plot_grad_norms({})


def test_plot_activation_histograms_share_bins_and_show_fractions(ax: plt.Axes) -> None:
    rng = np.random.default_rng(0)
    layers = [rng.standard_normal((100, 4)), np.tanh(3 * rng.standard_normal((100, 8)))]
    plots.plot_activation_histograms(layers, ax=ax, bins=20)
    steps = ax.patches
    assert len(steps) == 2
    edges = np.linspace(min(a.min() for a in layers), max(a.max() for a in layers), 21)
    for stairs, values in zip(steps, layers, strict=True):
        data = stairs.get_data()
        np.testing.assert_allclose(data.edges, edges)
        np.testing.assert_allclose(data.values, np.histogram(values, edges)[0] / values.size)
        assert data.values.sum() == pytest.approx(1.0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [f"layer {i}: std {a.std():.4g}" for i, a in enumerate(layers)]


def test_plot_activation_histograms_from_activation_stats(ax: plt.Axes) -> None:
    X = np.random.default_rng(0).standard_normal((50, 2)).astype(np.float32)
    model = nnlib.mlp([2, 8, 8, 1], activation="tanh")
    stats = diagnostics.activation_stats(model, model.init(0), X, return_values=True)
    plots.plot_activation_histograms(stats, ax=ax, log=True)
    assert len(ax.patches) == 2
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [f"{s['name']}: std {s['std']:.4g}" for s in stats]
    with pytest.raises(ValueError, match="return_values=True"):
        plots.plot_activation_histograms(diagnostics.activation_stats(model, model.init(0), X))
    with pytest.raises(ValueError, match="2 labels for 1 layers"):
        plots.plot_activation_histograms([np.ones(3)], labels=["a", "b"])


# --- classification results ----------------------------------------------------------------


def test_plot_confusion_matrix_writes_the_counts(ax: plt.Axes) -> None:
    cm = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]])
    plots.plot_confusion_matrix(cm, ["cat", "dog", "fox"], ax=ax)
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t for t in ax.texts}
    for i in range(3):
        for j in range(3):
            assert cells[(i, j)].get_text() == str(cm[i, j])
    (image,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    np.testing.assert_array_equal(image.get_array(), cm)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "fox"]
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert ax.get_title() == "accuracy 0.8 (20 examples)"


def test_plot_confusion_matrix_normalized_rows(ax: plt.Axes) -> None:
    cm = np.array([[3, 1], [0, 0]])
    plots.plot_confusion_matrix(cm, ax=ax, normalize=True)
    (image,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    np.testing.assert_allclose(image.get_array(), [[0.75, 0.25], [0.0, 0.0]])
    assert sorted(t.get_text() for t in ax.texts) == ["0.00", "0.00", "0.25", "0.75"]


def test_plot_confusion_matrix_of_real_predictions(ax: plt.Axes) -> None:
    y_true = np.array([0, 1, 2, 2, 1, 0, 2])
    y_pred = np.array([0, 2, 2, 2, 1, 1, 0])
    cm = nnlib.metrics.confusion_matrix(y_true, y_pred)
    plots.plot_confusion_matrix(cm, ax=ax)
    assert sum(int(t.get_text()) for t in ax.texts) == len(y_true)
    assert ax.get_title() == f"accuracy {np.mean(y_true == y_pred):.4g} (7 examples)"


@pytest.mark.parametrize(
    ("cm", "names", "message"),
    [
        (np.ones((2, 3)), None, "square"),
        (np.array([[1, -1], [0, 1]]), None, "non-negative"),
        (np.eye(2), ["a"], "1 class names"),
    ],
)
def test_plot_confusion_matrix_rejects_bad_input(cm: np.ndarray, names: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plots.plot_confusion_matrix(cm, names)


def test_plot_roc_curve_chance_line_and_point(ax: plt.Axes) -> None:
    fpr, tpr, _ = nnlib.metrics.roc_curve([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    plots.plot_roc(fpr, tpr, ax=ax, auc=nnlib.metrics.auc(fpr, tpr), point=(fpr[2], tpr[2]))
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_array_equal(lines["chance"].get_xydata(), [[0, 0], [1, 1]])
    np.testing.assert_array_equal(lines["ROC"].get_xdata(), fpr)
    np.testing.assert_array_equal(lines["ROC"].get_ydata(), tpr)
    np.testing.assert_array_equal(lines["threshold"].get_xydata(), [[fpr[2], tpr[2]]])
    assert ax.get_title() == f"ROC curve, AUC = {nnlib.metrics.auc(fpr, tpr):.4g}"
    with pytest.raises(ValueError, match="equal length"):
        plots.plot_roc([0, 1], [0, 0.5, 1])


# --- images ------------------------------------------------------------------------------


def test_plot_digits_tiles_the_images(ax: plt.Axes) -> None:
    X = np.arange(5 * 64, dtype=float).reshape(5, 64)
    plots.plot_digits(X, n=4, ax=ax)
    (image,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    mosaic = np.ma.filled(image.get_array(), np.nan)
    assert mosaic.shape == (17, 17)  # 2 x 2 tiles of 8 pixels, 1-pixel gaps
    for k in range(4):
        r, c = divmod(k, 2)
        tile = mosaic[9 * r : 9 * r + 8, 9 * c : 9 * c + 8]
        np.testing.assert_array_equal(tile, X[k].reshape(8, 8))
    assert np.all(np.isnan(mosaic[8, :])) and np.all(np.isnan(mosaic[:, 8]))
    assert ax.get_title() == "4 images of 8x8 pixels"


def test_plot_digits_labels_and_mistakes(ax: plt.Axes) -> None:
    X = np.zeros((3, 8, 8))
    plots.plot_digits(X, y=[3, 1, 4], predicted=[3, 7, 4], ax=ax)
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["3→3", "1→7", "4→4"]
    colors = [t.get_color() for t in ax.texts]
    assert colors[0] == colors[2] != colors[1]


def test_plot_digits_rejects_non_square_images() -> None:
    with pytest.raises(ValueError, match="square images"):
        plots.plot_digits(np.zeros((2, 10)))


def test_plot_weights_shows_each_column_as_an_image(ax: plt.Axes) -> None:
    W = np.random.default_rng(0).standard_normal((16, 5))
    plots.plot_weights(W, n=4, ax=ax)
    (image,) = [a for a in ax.get_children() if isinstance(a, AxesImage)]
    mosaic = np.ma.filled(image.get_array(), np.nan)
    np.testing.assert_array_equal(mosaic[0:4, 5:9], W[:, 1].reshape(4, 4))
    limit = np.abs(W[:, :4]).max()
    assert image.get_clim() == pytest.approx((-limit, limit))
    with pytest.raises(ValueError, match="square images"):
        plots.plot_weights(np.zeros((10, 3)))
