"""Exercises of notebook 02 (gradient descent): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on a few cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a hint about what is wrong. It
never raises, so a notebook with unfinished exercises still runs top to
bottom. The ``solution_*`` functions are worked answers; print one with
``show_solution("gradient_step")``.

1. :func:`check_gradient_step`: one step ``θ ← θ - η ∇L``.
2. :func:`check_largest_stable_lr`: the divergence threshold ``2 / a`` of a
   quadratic with curvature ``a``.
3. :func:`check_velocity_update`: momentum's velocity ``v ← β v + g``.
4. :func:`check_fast_learning_rate`: a learning rate that makes plain gradient
   descent fast on the ill-conditioned quadratic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..optim import momentum, sgd
from ..surfaces import SURFACES, descend, ill_conditioned_quadratic
from ._checks import (
    CORRECT,
    as_float_array,
    call_learner,
    first_hint,
    print_solution,
    same_values,
)

# --- worked solutions --------------------------------------------------------------------


def solution_gradient_step(theta: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
    """One gradient-descent step: ``θ_new = θ - η ∇L(θ)``, a new array of ``theta``'s shape."""
    return theta - lr * grad


def solution_largest_stable_lr(a: float) -> float:
    """The divergence threshold of ``L(θ) = (a/2) θ²``.

    One step multiplies ``θ`` by ``(1 - η a)``. The iterates shrink exactly when
    ``|1 - η a| < 1``, i.e. ``0 < η < 2 / a``.
    """
    return 2.0 / a


def solution_velocity_update(v: np.ndarray, grad: np.ndarray, beta: float) -> np.ndarray:
    """Heavy-ball momentum's velocity: ``v_new = β v + g`` (then ``θ ← θ - η v_new``)."""
    return beta * v + grad


def solution_fast_learning_rate() -> float:
    """The fastest constant learning rate for gradient descent on ``½ (a x² + b y²)``.

    Per step, x shrinks by the factor ``|1 - η a|`` and y by ``|1 - η b|``. The
    slower of the two sets the pace, so choose ``η`` to make the larger factor
    as small as possible. Raising ``η`` helps x and, past ``1/b``, hurts y
    (it overshoots more and more); the best balance is where the two factors
    are equal: ``1 - η a = η b - 1``, so ``η = 2 / (a + b)``, and then both
    shrink by ``(b - a) / (b + a) = (κ - 1) / (κ + 1)`` per step.
    """
    a, b = 1.0, 20.0  # the curvatures of the course's ill-conditioned quadratic
    return 2.0 / (a + b)


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "gradient_step": solution_gradient_step,
    "largest_stable_lr": solution_largest_stable_lr,
    "velocity_update": solution_velocity_update,
    "fast_learning_rate": solution_fast_learning_rate,
}


def show_solution(name: str) -> None:
    """Print the worked solution ``name``: one of :data:`SOLUTIONS`, e.g. ``"gradient_step"``."""
    print_solution(SOLUTIONS, name)


# --- exercise 1: one gradient-descent step ---------------------------------------------


def _gradient_step_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    rng = np.random.default_rng(2)
    return [
        (np.array([2.0]), np.array([4.0]), 0.1),
        (np.array([1.0, -2.0]), np.array([0.5, 3.0]), 0.25),
        (rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), 0.05),
    ]


def check_gradient_step(gradient_step: Callable[..., Any]) -> None:
    """Check ``gradient_step(theta, grad, lr) -> new theta`` on arrays of several shapes."""
    for theta, grad, lr in _gradient_step_cases():
        theta_before = theta.copy()
        result, problem = call_learner(
            gradient_step,
            theta,
            grad,
            lr,
            if_none=(
                "Not yet: gradient_step returned None. Replace `return None` with the update "
                "θ - η ∇L, written with theta, lr and grad."
            ),
        )
        if problem:
            print(problem)
            return
        got = as_float_array(result)
        if got is None or got.shape != theta.shape:
            shape = None if got is None else got.shape
            print(
                f"Not yet: for theta of shape {theta.shape} your function returned shape "
                f"{shape}. The new parameters must have the shape of theta."
            )
            return
        if not np.array_equal(theta, theta_before):
            print(
                "Not yet: your function changed theta in place (e.g. with -=). Return a new "
                "array instead (theta - ...), so the caller's parameters stay as they were."
            )
            return
        if same_values(got, solution_gradient_step(theta, grad, lr)):
            continue
        uphill = "the step went uphill: it must go against the gradient, θ - η ∇L (minus)."
        no_theta = "your function returns the step η ∇L alone; subtract it from theta."
        hint = first_hint(
            got,
            [
                (theta + lr * grad, uphill),
                (theta - grad, "the learning rate is missing: the step is η times the gradient."),
                (-lr * grad, no_theta),
                (lr * grad, no_theta),
                (theta - lr, "the gradient is missing: subtract lr * grad, not lr."),
                (theta - grad / lr, "multiply the gradient by the learning rate; do not divide."),
            ],
        )
        if hint is None:
            expected = np.round(solution_gradient_step(theta, grad, lr), 4).tolist()
            hint = (
                f"for theta={np.round(theta, 3).tolist()}, grad={np.round(grad, 3).tolist()}, "
                f"lr={lr} expected θ - η ∇L = {expected}, got {np.round(got, 4).tolist()}."
            )
        print(f"Not yet: {hint}")
        return
    print(CORRECT)


# --- exercise 2: the largest stable learning rate ---------------------------------------


def _converges(lr: float, a: float, steps: int = 2000) -> bool:
    """Run ``θ ← (1 - η a) θ`` from ``θ = 1`` with nnlib's SGD; did ``|θ|`` shrink below 1e-3?"""
    opt = sgd(lr)
    params = {"theta": np.array([1.0])}
    state = opt.init(params)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            params, state = opt.update(params, {"theta": a * params["theta"]}, state)
    return bool(abs(params["theta"][0]) < 1e-3)


def check_largest_stable_lr(largest_stable_lr: Callable[[float], Any]) -> None:
    """Check ``largest_stable_lr(a)``: the threshold above which GD on ``(a/2) θ²`` diverges."""
    for a in (0.5, 4.0, 20.0):
        result, problem = call_learner(
            largest_stable_lr,
            a,
            if_none=(
                "Not yet: largest_stable_lr returned None. Write one step as θ ← (factor) · θ, "
                "and ask for which η the factor's size stays below 1."
            ),
        )
        if problem:
            print(problem)
            return
        try:
            eta = float(result)
        except (TypeError, ValueError):
            print(f"Not yet: return one number (a float), got {type(result).__name__}.")
            return
        expected = solution_largest_stable_lr(a)
        if np.isclose(eta, expected, rtol=1e-6):
            continue
        grows = (
            "your answer grows with the curvature, but a steeper bowl needs smaller steps: "
            "the threshold is proportional to 1/a."
        )
        hint = first_hint(
            np.asarray(eta),
            [
                (
                    1.0 / a,
                    "1/a is the learning rate that lands exactly on the minimum in one step "
                    "(factor 1 - η a = 0). Larger steps overshoot, but they still converge as "
                    "long as the overshoot shrinks: |1 - η a| < 1.",
                ),
                (2.0 * a, grows),
                (a / 2.0, grows),
            ],
        )
        if hint is None and np.isfinite(eta) and eta > 0:
            below, above = _converges(0.99 * eta, a), _converges(1.01 * eta, a)
            hint = (
                f"for a = {a:g}, gradient descent at 0.99 × your η = {eta:.4g} "
                f"{'converges' if below else 'does not converge'}, and at 1.01 × it "
                f"{'converges' if above else 'does not'}. At the threshold, just below "
                "converges and just above does not: find the η where |1 - η a| = 1."
            )
        print(f"Not yet: {hint or 'the threshold is a positive number: look at |1 - η a| < 1.'}")
        return
    print(CORRECT)


# --- exercise 3: momentum's velocity -------------------------------------------------------


def _momentum_run_matches(velocity_update: Callable[..., Any], beta: float = 0.9) -> bool:
    """Does ``θ ← θ - η v`` with the learner's velocity reproduce ``nnlib.optim.momentum``?"""
    surface = SURFACES["ill-conditioned quadratic"]
    lr, steps = 0.02, 30
    reference = descend(surface, momentum(lr, beta=beta), steps).points
    theta, v = np.array(surface.start), np.zeros(2)
    for t in range(steps):
        _, grad = ill_conditioned_quadratic(theta)
        new_v, problem = call_learner(velocity_update, v, grad, beta)
        if problem:
            return False
        v = as_float_array(new_v)
        if v is None or v.shape != theta.shape:
            return False
        theta = theta - lr * v
        if not np.allclose(theta, reference[t + 1], rtol=1e-6, atol=1e-9):
            return False
    return True


def check_velocity_update(velocity_update: Callable[..., Any]) -> None:
    """Check ``velocity_update(v, grad, beta) -> new v`` against ``nnlib.optim.momentum``."""
    rng = np.random.default_rng(3)
    v, grad, beta = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.7
    v_before = v.copy()
    result, problem = call_learner(
        velocity_update,
        v,
        grad,
        beta,
        if_none=(
            "Not yet: velocity_update returned None. The new velocity keeps a fraction β of "
            "the old one and adds the new gradient."
        ),
    )
    if problem:
        print(problem)
        return
    got = as_float_array(result)
    if got is None or got.shape != v.shape:
        print(f"Not yet: the velocity must keep the shape of v {v.shape}.")
        return
    if not np.array_equal(v, v_before):
        print("Not yet: your function changed v in place; return a new array instead.")
        return
    if not same_values(got, solution_velocity_update(v, grad, beta)):
        hint = first_hint(
            got,
            [
                (
                    beta * v + (1 - beta) * grad,
                    "that is the moving-average form β v + (1 - β) g (Adam's first moment). "
                    "nnlib's momentum adds the whole gradient, v ← β v + g; the two differ only "
                    "by a factor (1 - β) that the learning rate absorbs.",
                ),
                (v + grad, "β is missing: without it the velocity never forgets old gradients."),
                (v + beta * grad, "β multiplies the old velocity, not the new gradient."),
                (beta * (v + grad), "only the old velocity is scaled by β, not the gradient."),
                (
                    beta * v - grad,
                    "the gradient is added, not subtracted: the minus sign comes later, "
                    "in θ ← θ - η v.",
                ),
            ],
        )
        print(f"Not yet: {hint or 'expected v_new = β v + g.'}")
        return
    if not _momentum_run_matches(velocity_update, beta=0.9):
        print(
            "Not yet: one update looks right, but 30 steps of θ ← θ - η v with your velocity "
            "do not follow nnlib.optim.momentum. Does your function use its arguments only?"
        )
        return
    print(CORRECT + " 30 steps with your velocity follow nnlib.optim.momentum exactly.")


# --- exercise 4: a fast learning rate for the ill-conditioned quadratic ----------------


def check_fast_learning_rate(lr: Any, tolerance: float = 1e-6) -> None:
    """Check that SGD at ``lr`` settles below ``tolerance`` nearly as fast as the best rate.

    "Nearly" means in at most 10 % more steps than at ``η = 2 / (a + b)``.
    """
    if lr is None:
        print(
            "Not yet: set my_learning_rate to a number. Start from the widget, then use the "
            "factors |1 - η a| and |1 - η b| to find the best one."
        )
        return
    try:
        eta = float(lr)
    except (TypeError, ValueError):
        print(f"Not yet: my_learning_rate must be a number, got {type(lr).__name__}.")
        return
    if not (np.isfinite(eta) and eta > 0):
        print(f"Not yet: a learning rate must be positive and finite, got {eta!r}.")
        return
    surface = SURFACES["ill-conditioned quadratic"]
    a, b = 1.0, 20.0
    steps = 1000
    best = descend(surface, sgd(solution_fast_learning_rate()), steps).steps_to(tolerance)
    run = descend(surface, sgd(eta), steps)
    got = run.steps_to(tolerance)
    if run.diverged or eta >= 2.0 / b:
        print(
            f"Not yet: η = {eta:.4g} is too large: the steep direction (curvature b = {b:g}) "
            f"multiplies y by |1 - η b| = {abs(1 - eta * b):.3g} ≥ 1 per step, so it never settles."
        )
        return
    if got is not None and got <= 1.1 * best:
        print(f"{CORRECT} η = {eta:.4g} settles below {tolerance:g} after {got} steps.")
        return
    x_factor, y_factor = abs(1 - eta * a), abs(1 - eta * b)
    slow = "x (the flat direction)" if x_factor > y_factor else "y (the steep direction)"
    print(
        f"Not yet: η = {eta:.4g} needs {got if got is not None else f'more than {steps}'} steps. "
        f"Per step x shrinks by |1 - η a| = {x_factor:.3g} and y by |1 - η b| = {y_factor:.3g}; "
        f"{slow} is the slow one. Move η to make the larger factor smaller."
    )


__all__ = [
    "CORRECT",
    "SOLUTIONS",
    "check_fast_learning_rate",
    "check_gradient_step",
    "check_largest_stable_lr",
    "check_velocity_update",
    "show_solution",
    "solution_fast_learning_rate",
    "solution_gradient_step",
    "solution_largest_stable_lr",
    "solution_velocity_update",
]
