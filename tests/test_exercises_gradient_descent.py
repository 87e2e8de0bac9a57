"""Exercise checks of notebook 02: solutions pass, typical mistakes get graded hints."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib.exercises import gradient_descent as ex


def test_gradient_step(say) -> None:
    check = ex.check_gradient_step
    assert say(check, ex.solution_gradient_step).startswith("Correct!")
    assert "returned None" in say(check, lambda t, g, lr: None)
    uphill = lambda t, g, lr: t + lr * g  # noqa: E731
    first = say(check, uphill)
    assert first.startswith("Not yet: the step goes uphill.") and "against it" not in first
    assert "step against it" in say(check, uphill)  # the same mistake again: grade 2
    assert "learning rate" in say(check, lambda t, g, lr: t - g)
    assert "step alone" in say(check, lambda t, g, lr: -lr * g)
    assert "do not divide" in say(check, lambda t, g, lr: t - g / lr, hint=2)

    def in_place(theta, grad, lr):
        theta -= lr * grad
        return theta

    assert "in place" in say(check, in_place)
    assert "a list" in say(check, lambda t, g, lr: (t - lr * g).tolist())
    assert "shape" in say(check, lambda t, g, lr: np.sum(t - lr * g))
    assert "raised TypeError" in say(check, lambda t, g: t)


def test_largest_stable_lr(say) -> None:
    check = ex.check_largest_stable_lr
    assert say(check, ex.solution_largest_stable_lr).startswith("Correct!")
    assert "returned None" in say(check, lambda a: None)
    assert "lands on the minimum in one step" in say(check, lambda a: 1 / a)
    assert "proportional to 1/a" in say(check, lambda a: 2 * a, hint=2)
    too_big = say(check, lambda a: 3 / a)
    assert "does not converge" in too_big and "reaches -1" not in too_big
    assert "reaches -1" in say(check, lambda a: 3 / a)
    assert "remove the quotes" in say(check, lambda a: str(2 / a))
    assert "positive, finite" in say(check, lambda a: -2 / a)


def test_velocity_update(say) -> None:
    check = ex.check_velocity_update
    assert say(check, ex.solution_velocity_update).startswith("Correct!")
    assert "returned None" in say(check, lambda v, g, b: None)
    assert "moving-average" in say(check, lambda v, g, b: b * v + (1 - b) * g)
    assert "β is not used" in say(check, lambda v, g, b: v + g)
    assert "old velocity only" in say(check, lambda v, g, b: v + b * g, hint=2)
    assert "wrong sign" in say(check, lambda v, g, b: b * v - g)
    hard_coded = say(check, lambda v, g, b: 0.7 * v + g)  # right for the one beta tested first
    assert "30 steps" in hard_coded
    assert "a list" in say(check, lambda v, g, b: (b * v + g).tolist())


def test_fast_learning_rate(say) -> None:
    check = ex.check_fast_learning_rate
    best = ex.solution_fast_learning_rate()
    assert best == pytest.approx(2 / 21)
    assert say(check, best).startswith("Correct! η = 0.09524 settles below 1e-06 after")
    assert "set my_learning_rate" in say(check, None)
    slow = say(check, 0.02)
    assert "needs 400 steps" in slow and "flat direction" not in slow
    assert "flat direction" in say(check, 0.02, hint=2)
    assert "steep direction" in say(check, 0.0995, hint=2)
    assert "too large" in say(check, 0.2)
    assert "remove the quotes" in say(check, "0.095")
    assert "positive and finite" in say(check, -0.1)
