"""Optimisers converge on a quadratic; schedules and clipping do what they say."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnlib import optim

# An ill-conditioned quadratic L(θ) = ½ θᵀ A θ with minimum at 0.
A = np.diag([1.0, 10.0])


def _grad(params: dict) -> dict:
    return {"theta": A @ params["theta"]}


def _run(opt: optim.Optimizer, steps: int) -> np.ndarray:
    params = {"theta": np.array([3.0, -2.0])}
    state = opt.init(params)
    for _ in range(steps):
        params, state = opt.update(params, _grad(params), state)
    return params["theta"]


@pytest.mark.parametrize(
    "opt",
    [
        optim.sgd(0.15),
        optim.momentum(0.05, beta=0.9),
        optim.momentum(0.05, beta=0.9, nesterov=True),
        optim.rmsprop(0.01),
        optim.adam(0.05),
    ],
    ids=["sgd", "momentum", "nesterov", "rmsprop", "adam"],
)
def test_optimisers_converge_on_a_quadratic(opt: optim.Optimizer) -> None:
    theta = _run(opt, 1000)
    assert np.linalg.norm(theta) < 1e-2, f"{opt.name} ended at {theta}"


def test_sgd_step_is_exactly_theta_minus_lr_grad() -> None:
    params = {"w": np.array([1.0, 2.0])}
    opt = optim.sgd(0.1)
    new, state = opt.update(params, {"w": np.array([10.0, -10.0])}, opt.init(params))
    np.testing.assert_allclose(new["w"], [0.0, 3.0])
    assert state["step"] == 1
    np.testing.assert_allclose(params["w"], [1.0, 2.0])  # pure: input untouched


def test_sgd_diverges_above_two_over_curvature() -> None:
    # On L = ½ a θ², GD multiplies θ by (1 - η a) each step: |1 - η a| > 1 iff η > 2/a.
    a = 10.0
    for lr, expect_converge in [(0.99 * 2 / a, True), (1.01 * 2 / a, False)]:
        params = {"t": np.array([1.0])}
        opt = optim.sgd(lr)
        state = opt.init(params)
        for _ in range(2000):
            params, state = opt.update(params, {"t": a * params["t"]}, state)
        assert (abs(params["t"][0]) < 1e-3) == expect_converge


def test_adam_first_step_has_size_lr() -> None:
    # Bias correction makes the very first Adam step ≈ lr · sign(g).
    params = {"w": np.array([0.0, 0.0])}
    opt = optim.adam(0.1)
    new, _ = opt.update(params, {"w": np.array([5.0, -0.01])}, opt.init(params))
    np.testing.assert_allclose(new["w"], [-0.1, 0.1], rtol=1e-5)


def test_float32_parameters_stay_float32_with_schedules() -> None:
    params = {"w": np.ones(3, np.float32)}
    for opt in [optim.sgd(optim.cosine_decay(0.1, 10)), optim.adam(optim.warmup(0.1, 5))]:
        new, _ = opt.update(params, {"w": np.ones(3, np.float32)}, opt.init(params))
        assert new["w"].dtype == np.float32


def test_schedules() -> None:
    s = optim.step_decay(1.0, drop=0.5, every=10)
    assert [s(0), s(9), s(10), s(25)] == [1.0, 1.0, 0.5, 0.25]
    e = optim.exponential_decay(2.0, 0.5)
    assert e(3) == pytest.approx(0.25)
    c = optim.cosine_decay(1.0, total_steps=100, final=0.1)
    assert float(c(0)) == pytest.approx(1.0)
    assert float(c(50)) == pytest.approx(0.55)
    assert float(c(100)) == pytest.approx(0.1)
    assert float(c(500)) == pytest.approx(0.1)
    w = optim.warmup(1.0, warmup_steps=4)
    assert [float(w(t)) for t in range(6)] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_clip_by_global_norm() -> None:
    grads = [{"W": np.array([3.0, 0.0])}, {"W": np.array([0.0, 4.0])}]
    clipped, norm = optim.clip_by_global_norm(grads, 1.0)
    assert float(norm) == pytest.approx(5.0)
    assert float(optim.global_norm(clipped)) == pytest.approx(1.0)
    np.testing.assert_allclose(clipped[0]["W"], [0.6, 0.0])
    unchanged, _ = optim.clip_by_global_norm(grads, 10.0)
    np.testing.assert_allclose(unchanged[1]["W"], [0.0, 4.0])


@pytest.mark.parametrize("lr", [0, -0.1, math.nan, math.inf, "0.1"])
def test_bad_learning_rate(lr: object) -> None:
    with pytest.raises(ValueError, match="learning rate must be a positive finite number"):
        optim.sgd(lr)  # type: ignore[arg-type]


def test_unknown_optimiser_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="Valid optimisers are .*adam.*sgd"):
        optim.get_optimizer("adagrad", 0.1)
