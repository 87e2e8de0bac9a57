"""Exercises of notebook 02 (gradient descent): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on a few cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a graded hint about what is
wrong (see :mod:`nnlib.exercises._checks`: the first hint points at the
mistake; the same mistake again, or ``hint=2``, narrows it down). It never
raises, so a notebook with unfinished exercises still runs top to bottom. The
``solution_*`` functions are worked answers; print one with
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
    Hint,
    as_array,
    as_number,
    call_learner,
    first_hint,
    print_solution,
    report,
    same_values,
    type_hint,
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


# --- shared hints -----------------------------------------------------------------------


def _shape_hint(got: np.ndarray, like: np.ndarray, name: str) -> Hint:
    return Hint(
        "shape",
        f"for {name} of shape {like.shape} your function returned shape {got.shape}.",
        f"The result has the shape of {name}: the update works entry by entry (no @, no sum).",
    )


def _in_place_hint(name: str) -> Hint:
    return Hint(
        "in place",
        f"your function changed {name} in place.",
        f"Return a new array ({name} - ..., {name} * ...) instead of using -= or += on {name}, "
        "so that the caller's array stays as it was.",
    )


# --- exercise 1: one gradient-descent step ---------------------------------------------


def _gradient_step_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    rng = np.random.default_rng(2)
    return [
        (np.array([2.0]), np.array([4.0]), 0.1),
        (np.array([1.0, -2.0]), np.array([0.5, 3.0]), 0.25),
        (rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), 0.05),
    ]


def diagnose_gradient_step(gradient_step: Callable[..., Any]) -> Hint | None:
    """``None`` if ``gradient_step(theta, grad, lr)`` returns ``theta - lr * grad``, else a hint."""
    for theta, grad, lr in _gradient_step_cases():
        theta_before = theta.copy()
        result, problem = call_learner(
            gradient_step,
            theta,
            grad,
            lr,
            if_none=Hint(
                "None",
                "gradient_step returned None. Replace `return None` with the new parameters, "
                "written with theta, lr and grad.",
            ),
        )
        if problem:
            return problem
        got = as_array(result)
        if got is None:
            return type_hint(result, f"a NumPy array of shape {theta.shape}")
        if got.shape != theta.shape:
            return _shape_hint(got, theta, "theta")
        if not np.array_equal(theta, theta_before):
            return _in_place_hint("theta")
        if same_values(got, solution_gradient_step(theta, grad, lr)):
            continue
        step_only = Hint(
            "step only",
            "your function returns the step alone, not the new parameters.",
            "Subtract the step from theta.",
        )
        hint = first_hint(
            got,
            [
                (
                    theta + lr * grad,
                    Hint(
                        "uphill",
                        "the step goes uphill.",
                        "The gradient points uphill; to lower the loss, step against it.",
                    ),
                ),
                (
                    theta - grad,
                    Hint(
                        "no lr",
                        "the step does not use the learning rate.",
                        "The step is the learning rate times the gradient.",
                    ),
                ),
                (-lr * grad, step_only),
                (lr * grad, step_only),
                (
                    theta - lr,
                    Hint(
                        "no grad",
                        "the step does not use the gradient.",
                        "Subtract the learning rate times the gradient, not the learning rate.",
                    ),
                ),
                (
                    theta - grad / lr,
                    Hint(
                        "divide",
                        "the learning rate is used the wrong way round.",
                        "Multiply the gradient by the learning rate; do not divide.",
                    ),
                ),
            ],
        )
        return hint or Hint(
            "other",
            f"for theta = {np.round(theta, 3).tolist()}, grad = {np.round(grad, 3).tolist()}, "
            f"lr = {lr} your result {np.round(got, 4).tolist()} is not one gradient-descent "
            "step.",
            "One step moves theta against the gradient, by the learning rate times the gradient.",
        )
    return None


def check_gradient_step(gradient_step: Callable[..., Any], hint: int | None = None) -> None:
    """Check ``gradient_step(theta, grad, lr) -> new theta`` on arrays of several shapes."""
    report("gradient_step", diagnose_gradient_step(gradient_step), grade=hint)


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


def diagnose_largest_stable_lr(largest_stable_lr: Callable[[float], Any]) -> Hint | None:
    """``None`` if ``largest_stable_lr(a)`` is the divergence threshold ``2 / a``, else a hint."""
    for a in (0.5, 4.0, 20.0):
        result, problem = call_learner(
            largest_stable_lr,
            a,
            if_none=Hint(
                "None",
                "largest_stable_lr returned None. Write one step as θ ← (factor) · θ, and ask "
                "for which η the size of the factor stays below 1.",
            ),
        )
        if problem:
            return problem
        eta = as_number(result)
        if eta is None:
            return type_hint(result, "one number")
        if np.isclose(eta, solution_largest_stable_lr(a), rtol=1e-6):
            continue
        grows = Hint(
            "grows with a",
            "your answer grows with the curvature a, but a steeper bowl needs smaller steps.",
            "The threshold is proportional to 1/a.",
        )
        hint = first_hint(
            np.asarray(eta),
            [
                (
                    1.0 / a,
                    Hint(
                        "1/a",
                        "that learning rate lands on the minimum in one step, but it is not the "
                        "largest one that converges.",
                        "Larger steps overshoot; they still converge as long as the overshoot "
                        "shrinks: |1 - η a| < 1.",
                    ),
                ),
                (2.0 * a, grows),
                (a / 2.0, grows),
            ],
        )
        if hint is not None:
            return hint
        if not (np.isfinite(eta) and eta > 0):
            return Hint(
                "not positive",
                f"the threshold is a positive, finite learning rate; got {eta!r}.",
                "Look at the factor 1 - η a by which one step multiplies θ.",
            )
        below, above = _converges(0.99 * eta, a), _converges(1.01 * eta, a)
        return Hint(
            "other",
            f"for a = {a:g}, gradient descent at 0.99 × your η = {eta:.4g} "
            f"{'converges' if below else 'does not converge'}, and at 1.01 × it "
            f"{'converges' if above else 'does not'}.",
            "At the threshold, just below converges and just above does not: find the η where "
            "the factor 1 - η a reaches -1.",
        )
    return None


def check_largest_stable_lr(
    largest_stable_lr: Callable[[float], Any], hint: int | None = None
) -> None:
    """Check ``largest_stable_lr(a)``: the threshold above which GD on ``(a/2) θ²`` diverges."""
    report(
        "largest_stable_lr",
        diagnose_largest_stable_lr(largest_stable_lr),
        "η < 2/a: the steeper the bowl, the smaller the step.",
        grade=hint,
    )


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
        v = as_array(new_v)
        if v is None or v.shape != theta.shape:
            return False
        theta = theta - lr * v
        if not np.allclose(theta, reference[t + 1], rtol=1e-6, atol=1e-9):
            return False
    return True


def diagnose_velocity_update(velocity_update: Callable[..., Any]) -> Hint | None:
    """``None`` if ``velocity_update(v, grad, beta)`` is nnlib's ``β v + g``, else a hint."""
    rng = np.random.default_rng(3)
    v, grad, beta = rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), 0.7
    v_before = v.copy()
    result, problem = call_learner(
        velocity_update,
        v,
        grad,
        beta,
        if_none=Hint(
            "None",
            "velocity_update returned None. The new velocity keeps a fraction β of the old one "
            "and adds the new gradient.",
        ),
    )
    if problem:
        return problem
    got = as_array(result)
    if got is None:
        return type_hint(result, f"a NumPy array of shape {v.shape}")
    if got.shape != v.shape:
        return _shape_hint(got, v, "v")
    if not np.array_equal(v, v_before):
        return _in_place_hint("v")
    if not same_values(got, solution_velocity_update(v, grad, beta)):
        beta_wrong = "β scales the wrong part."
        hint = first_hint(
            got,
            [
                (
                    beta * v + (1 - beta) * grad,
                    Hint(
                        "moving average",
                        "that is the moving-average form of a velocity (Adam's first moment), "
                        "not the one of nnlib's momentum.",
                        "nnlib adds the whole gradient and scales only the old velocity; the "
                        "two forms differ by a factor (1 - β) that the learning rate absorbs.",
                    ),
                ),
                (
                    v + grad,
                    Hint(
                        "no beta",
                        "β is not used.",
                        "Without it the velocity never forgets old gradients: scale the old "
                        "velocity by β.",
                    ),
                ),
                (
                    v + beta * grad,
                    Hint("beta on grad", beta_wrong, "β multiplies the old velocity only."),
                ),
                (
                    beta * (v + grad),
                    Hint("beta on both", beta_wrong, "β multiplies the old velocity only."),
                ),
                (
                    beta * v - grad,
                    Hint(
                        "minus",
                        "the gradient enters with the wrong sign.",
                        "The velocity adds up gradients; the minus sign comes later, in "
                        "θ ← θ - η v.",
                    ),
                ),
            ],
        )
        return hint or Hint(
            "other",
            "your new velocity is not the one of nnlib's momentum.",
            "Keep a fraction β of the old velocity and add the new gradient.",
        )
    if not _momentum_run_matches(velocity_update, beta=0.9):
        return Hint(
            "run differs",
            "one update looks right, but 30 steps of θ ← θ - η v with your velocity do not "
            "follow nnlib.optim.momentum.",
            "Does your function use only its arguments (v, grad and beta), and no numbers of "
            "its own?",
        )
    return None


def check_velocity_update(velocity_update: Callable[..., Any], hint: int | None = None) -> None:
    """Check ``velocity_update(v, grad, beta) -> new v`` against ``nnlib.optim.momentum``."""
    report(
        "velocity_update",
        diagnose_velocity_update(velocity_update),
        "30 steps with your velocity follow nnlib.optim.momentum exactly.",
        grade=hint,
    )


# --- exercise 4: a fast learning rate for the ill-conditioned quadratic ----------------


def diagnose_fast_learning_rate(lr: Any, tolerance: float = 1e-6) -> Hint | None:
    """``None`` if SGD at ``lr`` settles below ``tolerance`` nearly as fast as the best rate.

    "Nearly" means in at most 10 % more steps than at ``η = 2 / (a + b)``.
    """
    if lr is None:
        return Hint(
            "None",
            "set my_learning_rate to a number. Start from the widget, then use the factors "
            "|1 - η a| and |1 - η b| to find the best one.",
        )
    eta = as_number(lr)
    if eta is None:
        return type_hint(lr, "one number")
    if not (np.isfinite(eta) and eta > 0):
        return Hint("not positive", f"a learning rate is positive and finite, got {eta!r}.")
    surface = SURFACES["ill-conditioned quadratic"]
    a, b = 1.0, 20.0
    steps = 1000
    best = descend(surface, sgd(solution_fast_learning_rate()), steps).steps_to(tolerance)
    run = descend(surface, sgd(eta), steps)
    got = run.steps_to(tolerance)
    if run.diverged or eta >= 2.0 / b:
        return Hint(
            "too large",
            f"η = {eta:.4g} is too large: gradient descent does not settle at all.",
            f"The steep direction (curvature b = {b:g}) multiplies y by |1 - η b| = "
            f"{abs(1 - eta * b):.3g} ≥ 1 per step.",
        )
    if got is not None and got <= 1.1 * best:
        return None
    x_factor, y_factor = abs(1 - eta * a), abs(1 - eta * b)
    slow = "x (the flat direction)" if x_factor > y_factor else "y (the steep direction)"
    needs = f"{got} steps" if got is not None else f"more than {steps} steps"
    return Hint(
        "slow",
        f"η = {eta:.4g} needs {needs} to settle below {tolerance:g}; the best constant "
        f"learning rate needs {best}.",
        f"Per step x shrinks by |1 - η a| = {x_factor:.3g} and y by |1 - η b| = {y_factor:.3g}: "
        f"{slow} is the slow one. Move η to make the larger factor smaller.",
    )


def check_fast_learning_rate(lr: Any, tolerance: float = 1e-6, hint: int | None = None) -> None:
    """Check that SGD at ``lr`` settles below ``tolerance`` nearly as fast as the best rate."""
    verdict = diagnose_fast_learning_rate(lr, tolerance)
    success = ""
    if verdict is None:
        settled = descend(SURFACES["ill-conditioned quadratic"], sgd(float(lr)), 1000)
        success = f"η = {float(lr):.4g} settles below {tolerance:g} after "
        success += f"{settled.steps_to(tolerance)} steps."
    report("fast_learning_rate", verdict, success, grade=hint)


__all__ = [
    "CORRECT",
    "SOLUTIONS",
    "check_fast_learning_rate",
    "check_gradient_step",
    "check_largest_stable_lr",
    "check_velocity_update",
    "diagnose_fast_learning_rate",
    "diagnose_gradient_step",
    "diagnose_largest_stable_lr",
    "diagnose_velocity_update",
    "show_solution",
    "solution_fast_learning_rate",
    "solution_gradient_step",
    "solution_largest_stable_lr",
    "solution_velocity_update",
]
