"""The 2-D test surfaces and `descend`, which runs nnlib's optimisers on them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlib import optim
from nnlib.gradcheck import numerical_gradient
from nnlib.surfaces import (
    SURFACES,
    Descent,
    descend,
    get_surface,
    ill_conditioned_quadratic,
    rosenbrock,
)

coordinate = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)
SURFACE_NAMES = sorted(SURFACES)


# --- values and gradients -----------------------------------------------------------------


@pytest.mark.parametrize("name", SURFACE_NAMES)
@given(x=coordinate, y=coordinate)
def test_gradient_matches_finite_differences(name: str, x: float, y: float) -> None:
    fn = SURFACES[name].fn
    point = np.array([x, y])
    _, grad = fn(point)
    numeric = numerical_gradient(lambda p: float(fn(p)[0]), point)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


def test_quadratic_values_and_curvatures() -> None:
    value, grad = ill_conditioned_quadratic(np.array([2.0, -1.0]), curvatures=(3.0, 10.0))
    assert value == pytest.approx(0.5 * (3.0 * 4.0 + 10.0 * 1.0))
    np.testing.assert_allclose(grad, [6.0, -10.0])


def test_rosenbrock_known_values() -> None:
    value, grad = rosenbrock(np.array([0.0, 0.0]))
    assert value == pytest.approx(1.0)
    np.testing.assert_allclose(grad, [-2.0, 0.0])
    value, _ = rosenbrock(np.array([-1.0, 2.0]), a=1.0, b=100.0)
    assert value == pytest.approx(4.0 + 100.0)


@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_minimum_has_zero_value_and_zero_gradient(name: str) -> None:
    surface = SURFACES[name]
    value, grad = surface.fn(np.array(surface.minimum))
    assert value == pytest.approx(0.0, abs=1e-15)
    np.testing.assert_allclose(grad, 0.0, atol=1e-12)
    _, _, zz = surface.grid(n=41)
    assert np.all(zz >= 0.0)
    assert zz.max() > 1.0


@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_functions_are_vectorised_over_grids(name: str) -> None:
    surface = SURFACES[name]
    rng = np.random.default_rng(0)
    grid = rng.uniform(-2, 2, size=(4, 5, 2))
    values, grads = surface.fn(grid)
    assert values.shape == (4, 5)
    assert grads.shape == (4, 5, 2)
    for i, j in [(0, 0), (3, 4), (2, 1)]:
        value, grad = surface.fn(grid[i, j])
        assert values[i, j] == pytest.approx(float(value))
        np.testing.assert_allclose(grads[i, j], grad)


@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_value_of_meshgrids_matches_the_function(name: str) -> None:
    surface = SURFACES[name]
    xx, yy, zz = surface.grid(n=7)
    assert xx.shape == yy.shape == zz.shape == (7, 7)
    assert xx.min() == surface.xlim[0] and xx.max() == surface.xlim[1]
    assert yy.min() == surface.ylim[0] and yy.max() == surface.ylim[1]
    np.testing.assert_allclose(zz, surface.fn(np.stack([xx, yy], axis=-1))[0])


def test_points_of_the_wrong_shape_raise() -> None:
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        rosenbrock(np.zeros(3))
    with pytest.raises(ValueError, match="np.stack"):
        ill_conditioned_quadratic(np.zeros((4, 3)))


def test_non_positive_curvature_raises() -> None:
    with pytest.raises(ValueError, match="positive"):
        ill_conditioned_quadratic(np.zeros(2), curvatures=(1.0, -2.0))


def test_get_surface_names_the_valid_ones() -> None:
    assert get_surface("Rosenbrock") is SURFACES["Rosenbrock"]
    assert get_surface(SURFACES["Rosenbrock"]) is SURFACES["Rosenbrock"]
    with pytest.raises(ValueError, match="Valid surfaces"):
        get_surface("saddle")


def test_clip_keeps_points_near_the_plot_area() -> None:
    surface = SURFACES["ill-conditioned quadratic"]
    points = np.array([[0.5, 0.5], [1e12, -1e12], [-np.inf, 3.0]])
    clipped = surface.clip(points, margin=0.1)
    np.testing.assert_allclose(clipped[0], [0.5, 0.5])
    np.testing.assert_allclose(clipped[1], [6.0, -2.4])
    np.testing.assert_allclose(clipped[2], [-6.0, 2.4])


# --- descend ------------------------------------------------------------------------------


def test_sgd_on_the_quadratic_follows_the_closed_form() -> None:
    """θ_t = (1 - η a)^t θ_0 per coordinate: the factor derived in the notebook."""
    surface = SURFACES["ill-conditioned quadratic"]
    lr, steps = 0.07, 25
    run = descend(surface, optim.sgd(lr), steps)
    t = np.arange(steps + 1)[:, None]
    expected = np.array(surface.start) * (1 - lr * np.array([1.0, 20.0])) ** t
    np.testing.assert_allclose(run.points, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(run.losses, ill_conditioned_quadratic(expected)[0])
    assert not run.diverged


def test_momentum_path_is_the_heavy_ball_recursion() -> None:
    surface = SURFACES["Rosenbrock"]
    lr, beta, steps = 1e-3, 0.9, 40
    run = descend(surface, optim.momentum(lr, beta=beta), steps, start=(-1.0, 1.5))
    theta, v = np.array([-1.0, 1.5]), np.zeros(2)
    for t in range(steps):
        v = beta * v + rosenbrock(theta)[1]
        theta = theta - lr * v
        np.testing.assert_allclose(run.points[t + 1], theta, rtol=1e-12)


@pytest.mark.parametrize("name", SURFACE_NAMES)
def test_too_large_learning_rate_diverges_quietly(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        run = descend(name, optim.sgd(10.0), 500)
    assert run.diverged
    assert run.diverged_at_step is not None and 1 <= run.diverged_at_step <= 500
    assert len(run.points) == len(run.losses) == run.diverged_at_step
    assert np.all(np.isfinite(run.losses)) and np.all(np.isfinite(run.points))
    assert run.steps_to(1e-6) is None


def test_divergence_threshold_on_the_quadratic() -> None:
    """Stable just below η = 2/b (b = 20), divergent just above."""
    below = descend("ill-conditioned quadratic", optim.sgd(0.99 * 2 / 20), 3000)
    above = descend("ill-conditioned quadratic", optim.sgd(1.01 * 2 / 20), 3000)
    assert not below.diverged and below.final_loss < 1e-6
    assert above.diverged and above.diverged_at_step > 100


def test_adam_reaches_the_rosenbrock_minimum() -> None:
    run = descend("Rosenbrock", optim.adam(0.03), 2500)
    assert not run.diverged
    assert run.final_loss < 1e-6
    np.testing.assert_allclose(run.points[-1], SURFACES["Rosenbrock"].minimum, atol=1e-3)


def test_same_settings_give_the_same_path() -> None:
    a = descend("Rosenbrock", optim.rmsprop(0.01), 100)
    b = descend("Rosenbrock", optim.rmsprop(0.01), 100)
    np.testing.assert_array_equal(a.points, b.points)


def test_steps_to_means_reached_and_stayed() -> None:
    run = Descent(points=np.zeros((6, 2)), losses=np.array([5.0, 0.5, 0.05, 0.5, 0.01, 0.001]))
    assert run.steps_to(0.1) == 4  # step 2 dips below but step 3 bounces out again
    assert run.steps_to(1.0) == 1
    assert run.steps_to(1e-4) is None
    assert run.final_loss == pytest.approx(0.001)


def test_zero_steps_returns_the_start() -> None:
    run = descend("Rosenbrock", optim.sgd(0.1), 0)
    np.testing.assert_array_equal(run.points, [SURFACES["Rosenbrock"].start])
    assert run.losses.shape == (1,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "adam"}, "Optimizer"),
        ({"steps": -1}, "non-negative integer"),
        ({"steps": 2.5}, "non-negative integer"),
        ({"start": (1.0, np.nan)}, "finite"),
        ({"start": (1.0, 2.0, 3.0)}, "two finite numbers"),
    ],
)
def test_descend_rejects_bad_arguments(kwargs: dict, message: str) -> None:
    arguments = {"surface": "Rosenbrock", "optimizer": optim.sgd(0.01), "steps": 10, **kwargs}
    with pytest.raises(ValueError, match=message):
        descend(**arguments)
