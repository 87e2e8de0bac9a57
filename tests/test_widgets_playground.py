"""The playground widget of notebook 3 and the exercise checks of that notebook."""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import pytest

from nnlib.model import mlp
from nnlib.train import History
from nnlib.widgets.playground import (
    DATASETS,
    UPSAMPLE,
    PlaygroundResult,
    PlaygroundWidget,
    grid_points,
    hidden_saturation,
    make_dataset,
    model_logits,
    pixel_extent,
    prediction_image,
    probabilities,
    train_playground,
    upsample,
)

# --- pure functions ---------------------------------------------------------------------


@pytest.mark.parametrize("name", DATASETS)
def test_make_dataset_shapes_labels_and_seed(name):
    X, y = make_dataset(name, noise=0.1, n_samples=120, seed=3)
    assert X.shape == (120, 2) and y.shape == (120,)
    assert np.all(np.isfinite(X))
    n_classes = 3 if name == "blobs" else 2
    assert set(np.unique(y)) == set(range(n_classes))
    X2, y2 = make_dataset(name, noise=0.1, n_samples=120, seed=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make_dataset(name, noise=0.1, n_samples=120, seed=4)
    assert not np.allclose(X, X3)


def test_make_dataset_noise_moves_points_and_bad_input_raises():
    X_clean, _ = make_dataset("moons", noise=0.0, seed=0)
    X_noisy, _ = make_dataset("moons", noise=0.3, seed=0)
    assert not np.allclose(X_clean, X_noisy)
    with pytest.raises(ValueError, match="Unknown data set"):
        make_dataset("swiss roll", 0.1)
    with pytest.raises(ValueError, match="noise"):
        make_dataset("moons", -0.1)


def test_grid_points_are_row_major_from_the_bottom_left():
    pts = grid_points((0.0, 1.0, 10.0, 12.0), 3)
    assert pts.shape == (9, 2)
    np.testing.assert_allclose(pts[0], [0.0, 10.0])
    np.testing.assert_allclose(pts[1], [0.5, 10.0])  # x varies fastest: one image row
    np.testing.assert_allclose(pts[3], [0.0, 11.0])
    np.testing.assert_allclose(pts[-1], [1.0, 12.0])


def test_prediction_image_is_white_on_the_boundary_and_coloured_when_sure():
    logits = np.array([[0.0], [-50.0], [50.0], [math.log(3.0)]])  # p(class 1) = 1/2, 0, 1, 3/4
    img = prediction_image(logits, 2)
    assert img.shape == (2, 2, 3)
    flat = img.reshape(4, 3)
    np.testing.assert_allclose(flat[0], [1.0, 1.0, 1.0])
    assert flat[1][0] > flat[1][2]  # class 0 is orange: more red than blue
    assert flat[2][2] > flat[2][0]  # class 1 is blue
    # p = 3/4 is half as confident as p = 1: halfway between white and the full colour
    np.testing.assert_allclose(1.0 - flat[3], 0.5 * (1.0 - flat[2]))
    assert np.all((img >= 0) & (img <= 1))


def test_prediction_image_puts_the_boundary_between_grid_points():
    # logit = x on a 2 x 2 grid over x in [-1, 3]: the boundary x = 0 lies a quarter of the way
    logits = np.array([[-1.0], [3.0], [-1.0], [3.0]])
    img = prediction_image(logits, 2, factor=4)  # pixels at x = -1, 0, 1, 2, 3
    assert img.shape == (5, 5, 3)
    whitest = np.argmax(img[0].sum(axis=1))
    assert whitest == 1
    np.testing.assert_allclose(img[:, 1], 1.0)


def test_upsample_keeps_grid_values_and_interpolates_linearly():
    values = np.arange(8.0).reshape(2, 2, 2)
    up = upsample(values, 2)
    assert up.shape == (3, 3, 2)
    np.testing.assert_allclose(up[::2, ::2], values)
    np.testing.assert_allclose(up[1, 1], values.mean(axis=(0, 1)))
    np.testing.assert_allclose(up[0, 1], (values[0, 0] + values[0, 1]) / 2)
    np.testing.assert_allclose(upsample(values, 1), values)


def test_pixel_extent_centres_pixels_on_the_grid():
    np.testing.assert_allclose(pixel_extent((0.0, 4.0, -1.0, 1.0), 5), (-0.5, 4.5, -1.25, 1.25))


def test_probabilities_rows_sum_to_one_for_binary_and_multiclass():
    X = np.random.default_rng(0).standard_normal((7, 2)).astype(np.float32)
    for out in (1, 3):
        model = mlp([2, 4, out], activation="tanh")
        logits = model_logits(model, model.init(0), X)
        assert logits.shape == (7, out) and logits.dtype == np.float64
        probs = probabilities(logits)
        assert probs.shape == (7, max(out, 2))
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(probabilities(np.array([[0.0, 1000.0]])), [[0.0, 1.0]])


def test_probabilities_keep_grid_shape_and_match_the_formulas():
    z = np.random.default_rng(1).standard_normal((4, 5, 3)) * 5
    probs = probabilities(z)
    assert probs.shape == (4, 5, 3) and probs.dtype == np.float64
    e = np.exp(z)
    np.testing.assert_allclose(probs, e / e.sum(axis=-1, keepdims=True), rtol=1e-12)
    binary = probabilities(z[..., :1])
    assert binary.shape == (4, 5, 2)
    np.testing.assert_allclose(binary[..., 1], 1 / (1 + np.exp(-z[..., 0])), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(probabilities(np.array([[-1000.0], [1000.0]])), [[1, 0], [0, 1]])


def test_hidden_saturation_counts_units_with_no_gradient():
    X = np.random.default_rng(0).standard_normal((50, 2)).astype(np.float32)
    model = mlp([2, 8, 8, 1], activation="tanh")
    params = model.init(0)
    assert hidden_saturation(model, params, X) < 0.2
    huge = [{k: v * 1000 for k, v in p.items()} for p in params]
    assert hidden_saturation(model, huge, X) > 0.8
    relu = mlp([2, 8, 1], activation="relu")
    dead = relu.init(0)
    dead[0] = {"W": np.zeros_like(dead[0]["W"]), "b": -np.ones_like(dead[0]["b"])}
    assert hidden_saturation(relu, dead, X) == 1.0


def _result_with_losses(losses, diverged_at=None):
    history = History(step_loss=list(losses))
    if diverged_at is not None:
        history.diverged, history.diverged_at_step = True, diverged_at
    return PlaygroundResult(
        X=np.zeros((2, 2)),
        y=np.array([0, 1]),
        n_classes=2,
        sizes=[2, 4, 1],
        activation="tanh",
        learning_rate=0.1,
        params=None,
        history=history,
        extent=(0.0, 1.0, 0.0, 1.0),
        image=np.ones((2, 2, 3)),
        accuracy=0.5,
        saturation=0.0,
    )


def test_outcome_classifies_runs():
    assert _result_with_losses([0.7, 0.3, 0.1]).outcome == "learned"
    assert _result_with_losses([0.7, 0.7], diverged_at=2).outcome == "diverged"
    assert _result_with_losses([0.7, 2.0]).outcome == "grew"
    assert _result_with_losses([0.70, 0.695]).outcome == "stuck"
    # falling from a bad start to chance level (ln 2) is no learning either
    assert _result_with_losses([1.2, math.log(2)]).outcome == "stuck"


def test_train_playground_learns_moons_and_is_reproducible():
    a = train_playground(steps=200, seed=1)
    b = train_playground(steps=200, seed=1)
    assert a.outcome == "learned" and a.accuracy > 0.9
    assert len(a.history.step_loss) == 200
    assert a.history.step_loss[-1] < 0.5 * a.history.step_loss[0]
    np.testing.assert_array_equal(a.image, b.image)
    assert a.history.step_loss == b.history.step_loss


def test_train_playground_rejects_bad_sizes():
    with pytest.raises(ValueError, match="depth"):
        train_playground(depth=0)
    with pytest.raises(ValueError, match="width"):
        train_playground(width=1.5)


# --- the widget ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def widget():
    return PlaygroundWidget()


def _snapshot(w):
    return {
        "image": np.array(w.image.get_array(), copy=True),
        "points": np.array(w.points.get_offsets(), copy=True),
        "colors": np.array(w.points.get_facecolors(), copy=True),
        "loss": np.array(w.loss_line.get_ydata(), copy=True),
    }


def _changed(before, after, key):
    a, b = before[key], after[key]
    return a.shape != b.shape or not np.allclose(a, b)


def test_default_widget_trains_and_draws(widget):
    w = PlaygroundWidget()
    assert w.error is None
    assert "training accuracy" in w.status.value
    snap = _snapshot(w)
    assert snap["image"].shape == (59 * UPSAMPLE + 1, 59 * UPSAMPLE + 1, 3)  # 60 x 60 grid
    assert snap["image"].min() < 0.9  # not a blank image
    assert snap["points"].shape == (200, 2)
    assert len(snap["loss"]) == w.controls["steps"].value
    assert w.result.accuracy > 0.9
    assert w.last_update_seconds < 2.0  # generous bound: the machine may be busy


def test_controls_are_labelled_for_learners_and_the_browser_test(widget):
    c = widget.controls
    assert isinstance(c["learning_rate"], widgets.FloatLogSlider)
    assert "learning rate" in c["learning_rate"].description
    assert "depth" in c["depth"].description and c["depth"].max >= 8
    assert c["width"].min == 1 and c["width"].max == 64
    assert set(c["activation"].options) == {"tanh", "relu", "sigmoid", "leaky_relu"}
    assert set(c["dataset"].options) == set(DATASETS)
    assert c["learning_rate"].max >= 1  # 10 ** 1: large enough to diverge


@pytest.mark.parametrize(
    ("name", "value", "artist"),
    [
        ("learning_rate", 0.3, "loss"),
        ("depth", 3, "loss"),
        ("width", 3, "image"),
        ("activation", "relu", "image"),
        ("optimizer", "sgd", "loss"),
        ("steps", 100, "loss"),
        ("noise", 0.3, "points"),
        ("seed", 2, "points"),
        ("dataset", "blobs", "colors"),
        ("dataset", "circles", "image"),
    ],
)
def test_each_control_changes_the_figure(name, value, artist):
    w = PlaygroundWidget()
    before = _snapshot(w)
    w.controls[name].value = value
    assert w.error is None
    after = _snapshot(w)
    assert _changed(before, after, artist), f"{name}={value!r} did not change the {artist}"


def test_steps_sets_the_length_of_the_loss_curve(widget):
    widget.controls["steps"].value = 50
    assert len(widget.loss_line.get_xdata()) == 50
    assert widget.ax_loss.get_xlim()[1] == 50
    widget.controls["steps"].value = 300


def test_divergence_is_shown_not_raised():
    w = PlaygroundWidget()
    # learning rate first: then the wide and deep settings diverge within a few steps
    w.controls["learning_rate"].value = 10.0
    w.controls["activation"].value = "relu"
    w.controls["depth"].value = 20
    w.controls["width"].value = 64
    assert w.error is None
    k = w.result.history.diverged_at_step
    assert w.result.outcome == "diverged" and k is not None
    assert f"diverged at step {k}" in w.status.value
    assert w.ax_loss.get_title() == f"diverged at step {k}"
    assert w.diverged_marker.get_visible()
    assert w.ax_loss.get_xlim()[1] == max(10, math.ceil(1.25 * k))  # zoomed in on the blow-up
    assert np.all(np.isfinite(w.image.get_array()))


def test_saturated_deep_sigmoid_network_reports_stuck_loss():
    w = PlaygroundWidget()
    w.controls["activation"].value = "sigmoid"
    w.controls["depth"].value = 20
    assert w.error is None
    assert w.result.outcome == "stuck"
    assert "loss stuck at" in w.status.value
    assert not w.diverged_marker.get_visible()


@pytest.mark.parametrize(
    "settings",
    [
        {"width": 1},
        {"width": 1, "depth": 20},
        {"learning_rate": 10.0},
        {"learning_rate": 10.0, "optimizer": "sgd", "activation": "leaky_relu"},
        {"learning_rate": 1e-4, "optimizer": "sgd"},
        {"noise": 0.0, "dataset": "blobs"},
        {"noise": 0.5, "dataset": "spirals", "activation": "sigmoid"},
    ],
)
def test_extreme_settings_never_raise(settings):
    w = PlaygroundWidget()
    for name, value in settings.items():
        w.controls[name].value = value
        assert w.error is None, (settings, w.error)
    assert w.status.value
    assert np.all(np.isfinite(w.image.get_array()))
    if w.result.outcome != "learned":
        assert any(
            text in w.status.value for text in ("diverged at step", "loss grew", "loss stuck at")
        )
