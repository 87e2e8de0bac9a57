"""Exercises of notebook 01 (chain rule and autodiff): checks that give hints, and solutions.

Every ``check_*`` function looks at the learner's answer and prints either
``"Correct!"`` or ``"Not yet: ..."`` with a hint about what is wrong. It never
raises, so a notebook with unfinished exercises still runs top to bottom. The
``solution_*`` functions are worked answers; print one with
``show_solution("dL_dw1")``.

1. :func:`check_dL_dw1`: ``∂L/∂w1`` of a tanh neuron with a squared loss, by hand.
2. :func:`check_mul_backward`: the local backward rule of a multiplication node.
3. :func:`check_used_twice`: the gradient of a variable that is used three times.
4. :func:`check_centred_difference`: the centred finite difference.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._checks import CORRECT, call_learner, first_hint, print_solution


@dataclass(frozen=True)
class NeuronNumbers:
    """The numbers of exercise 1: ``L = (tanh(w1·x1 + w2·x2 + b) - y)²``."""

    x1: float = 1.5
    x2: float = 2.0
    w1: float = -1.0
    w2: float = 0.5
    b: float = 0.0
    y: float = 0.5


#: The neuron of exercise 1.
EXERCISE_NEURON = NeuronNumbers()

#: The point of exercise 3: ``f(a, b) = a·b + a·a`` at ``a = 3``, ``b = -4``.
USED_TWICE_A, USED_TWICE_B = 3.0, -4.0


# --- worked solutions --------------------------------------------------------------------


def solution_dL_dw1(p: NeuronNumbers = EXERCISE_NEURON) -> float:
    """∂L/∂w1 for ``L = (o - y)²``, ``o = tanh(n)``, ``n = w1·x1 + w2·x2 + b``, by hand.

    Forward pass first (every local derivative needs the values), then one
    local derivative per node on the path from L down to w1, then the chain
    rule multiplies them: ``∂L/∂w1 = ∂L/∂o · ∂o/∂n · ∂n/∂w1``.
    """
    n = p.w1 * p.x1 + p.w2 * p.x2 + p.b  # forward
    o = math.tanh(n)
    dL_do = 2 * (o - p.y)  # L = (o - y)²    ->  dL/do = 2 (o - y)
    do_dn = 1 - o**2  # o = tanh(n)     ->  do/dn = 1 - tanh(n)² = 1 - o²
    dn_dw1 = p.x1  # n = w1·x1 + ... ->  dn/dw1 = x1
    return dL_do * do_dn * dn_dw1


def solution_mul_backward(x: float, y: float, out_grad: float) -> tuple[float, float]:
    """Local backward of ``z = x · y``: return ``(∂L/∂x, ∂L/∂y)`` given ``out_grad = ∂L/∂z``.

    Local derivatives: ``∂z/∂x = y`` and ``∂z/∂y = x`` (each input's derivative
    is the *other* input). The chain rule multiplies each by the gradient that
    arrives from above: ``∂L/∂x = ∂L/∂z · y``, ``∂L/∂y = ∂L/∂z · x``.
    """
    return y * out_grad, x * out_grad


def solution_used_twice() -> float:
    """df/da for ``f = a·b + a·a`` at ``a = 3``, ``b = -4``: the sum over every path.

    ``a`` reaches f along three edges: once through ``a·b`` (local derivative
    b) and twice through ``a·a`` (local derivative a, once per factor). The
    multivariable chain rule adds the paths: ``df/da = b + a + a = -4 + 3 + 3 = 2``.
    """
    a, b = USED_TWICE_A, USED_TWICE_B
    through_ab = b  # ∂(a·b)/∂a
    through_aa = a + a  # ∂(a·a)/∂a: one a per factor
    return through_ab + through_aa


def solution_centred_difference(f: Callable[[float], float], x: float, h: float) -> float:
    """``(f(x + h) - f(x - h)) / (2h)``: the slope of the secant through ``x ± h``.

    Its error is ``O(h²)`` (the ``f''`` terms of the two Taylor expansions
    cancel), against ``O(h)`` for the forward difference ``(f(x + h) - f(x)) / h``.
    """
    return (f(x + h) - f(x - h)) / (2 * h)


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "dL_dw1": solution_dL_dw1,
    "mul_backward": solution_mul_backward,
    "used_twice": solution_used_twice,
    "centred_difference": solution_centred_difference,
}


def show_solution(name: str) -> None:
    """Print the worked solution ``name``: one of :data:`SOLUTIONS`, e.g. ``"dL_dw1"``."""
    print_solution(SOLUTIONS, name)


# --- helpers for the checks ----------------------------------------------------------------


def _number(answer: Any) -> float | None:
    """``answer`` as a float if it is a real number (a Value's ``.data`` too), else None."""
    if hasattr(answer, "data") and isinstance(answer.data, numbers.Real):
        answer = answer.data
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool):
        return float(answer)
    return None


def _close(got: float, expected: float, rel: float = 2e-3, abs_tol: float = 1e-4) -> bool:
    """Equal up to rounding to about 3 significant digits."""
    return math.isclose(got, expected, rel_tol=rel, abs_tol=abs_tol)


def _number_answer(answer: Any, what: str) -> tuple[float | None, str | None]:
    """The answer as a float, or the hint for a missing or non-numeric answer."""
    if answer is None:
        return None, f"Not yet: replace None with your number for {what}."
    got = _number(answer)
    if got is None:
        return None, f"Not yet: {what} should be a number (a float), got {answer!r}."
    if not math.isfinite(got):
        return None, f"Not yet: {what} is a finite number, got {got}."
    return got, None


# --- exercise 1: dL/dw1 by hand -------------------------------------------------------


def check_dL_dw1(answer: Any) -> None:
    """Check a hand-computed ∂L/∂w1 for the neuron :data:`EXERCISE_NEURON`.

    Recognises the usual slips (a missing factor of the chain, the wrong sign,
    the wrong local derivative) and names the one that was made.
    """
    got, problem = _number_answer(answer, "∂L/∂w1")
    if problem:
        print(problem)
        return
    p = EXERCISE_NEURON
    n = p.w1 * p.x1 + p.w2 * p.x2 + p.b
    o = math.tanh(n)
    dL_do, do_dn, dn_dw1 = 2 * (o - p.y), 1 - o**2, p.x1
    expected = dL_do * do_dn * dn_dw1
    if _close(got, expected):
        print(f"{CORRECT} ∂L/∂w1 = ∂L/∂o · ∂o/∂n · ∂n/∂w1 = {expected:.4g}")
        return
    hint = first_hint(
        got,
        [
            (
                -expected,
                "the sign is flipped. ∂L/∂o = 2(o - y) is negative here, because o is below y.",
            ),
            (expected / 2, "the factor 2 of the square is missing: ∂L/∂o = 2(o - y)."),
            (dL_do * do_dn, "that is ∂L/∂n. One link is missing: ∂n/∂w1 = x1."),
            (dL_do * dn_dw1, "the tanh node is missing: multiply by ∂o/∂n = 1 - o²."),
            (do_dn * dn_dw1, "that is ∂o/∂w1. The loss adds one more factor: ∂L/∂o = 2(o - y)."),
            (dL_do * do_dn * p.w1, "∂n/∂w1 is x1, not w1: the derivative of w1·x1 wrt w1."),
            (
                dL_do * (1 - n**2) * dn_dw1,
                "tanh'(n) = 1 - tanh(n)² = 1 - o², with o = tanh(n), not 1 - n².",
            ),
            (
                dL_do * (1 - o) * dn_dw1,
                "tanh'(n) = 1 - o², with o squared.",
            ),
        ],
        same=_close,
    )
    if hint is None:
        hint = (
            f"your {got:.4g} is not ∂L/∂w1. Do the forward pass first (n, then o = tanh(n)), "
            "then multiply the local derivatives along the path w1 → n → o → L: "
            "∂L/∂w1 = 2(o - y) · (1 - o²) · x1. Print each factor to find the slip."
        )
    print(f"Not yet: {hint}")


# --- exercise 2: the local backward of a multiplication ---------------------------------

_MUL_CASES = ((0.5, 4.0, -2.0), (2.0, -3.0, 1.0), (-1.5, 2.5, 0.3))


def check_mul_backward(mul_backward: Callable[[float, float, float], Any]) -> None:
    """Check ``mul_backward(x, y, out_grad) -> (dx, dy)`` for ``z = x · y`` on a few numbers."""
    for x, y, g in _MUL_CASES:
        result, problem = call_learner(
            mul_backward,
            x,
            y,
            g,
            if_none=(
                "Not yet: mul_backward returned None. Return the pair (dx, dy): the gradients "
                "of the loss wrt x and y, written with x, y and out_grad."
            ),
        )
        if problem:
            print(problem)
            return
        pair = _pair(result)
        if pair is None:
            print(f"Not yet: return two numbers (dx, dy) as a tuple, got {result!r}.")
            return
        dx, dy = pair
        want_dx, want_dy = solution_mul_backward(x, y, g)
        if _close_pair(pair, (want_dx, want_dy)):
            continue
        hint = first_hint(
            pair,
            [
                ((x * g, y * g), "dx and dy are swapped: ∂(x·y)/∂x is y, the *other* input."),
                ((y, x), "out_grad is missing: the chain rule multiplies by ∂L/∂z = out_grad."),
                ((g, g), "that is the backward of an addition; for z = x·y, ∂z/∂x = y."),
                ((x, y), "∂(x·y)/∂x is y (not x), and both need the factor out_grad."),
            ],
            same=_close_pair,
        )
        if hint is None:
            hint = (
                f"for x={x}, y={y}, out_grad={g} expected (dx, dy) = ({want_dx:.4g}, "
                f"{want_dy:.4g}), got ({dx:.4g}, {dy:.4g}). For z = x·y: dx = y·out_grad, "
                "dy = x·out_grad."
            )
        print(f"Not yet: {hint}")
        return
    print(CORRECT)


def _pair(result: Any) -> tuple[float, float] | None:
    """``result`` as two floats, or None if it is not a pair of numbers."""
    try:
        first, second = result
    except (TypeError, ValueError):
        return None
    a, b = _number(first), _number(second)
    return None if a is None or b is None else (a, b)


def _close_pair(got: tuple[float, float], expected: tuple[float, float]) -> bool:
    """Both numbers of the pair equal up to rounding (see :func:`_close`)."""
    return _close(got[0], expected[0]) and _close(got[1], expected[1])


# --- exercise 3: a variable used more than once ------------------------------------------


def check_used_twice(answer: Any) -> None:
    """Check the predicted df/da for ``f = a·b + a·a`` at ``a = 3``, ``b = -4``."""
    got, problem = _number_answer(answer, "df/da")
    if problem:
        print(problem)
        return
    a, b = USED_TWICE_A, USED_TWICE_B
    expected = solution_used_twice()
    if _close(got, expected):
        print(f"{CORRECT} df/da = b + a + a = {expected:.4g}: one term per path from a to f.")
        return
    hint = first_hint(
        got,
        [
            (b, "that is only the path through a·b. a also reaches f through a·a."),
            (a + a, "that is only the path through a·a. Add the path through a·b (which gives b)."),
            (b + a, "a·a uses a twice, so it contributes a + a = 2a, not a."),
            (a, "a·a alone contributes a + a; and a·b contributes b. Add all paths."),
            (a * b + a * a, "that is f itself, the forward value; the question is df/da."),
        ],
        same=_close,
    )
    if hint is None:
        hint = (
            f"{got:.4g} is not df/da. Gradients add over paths: a·b contributes ∂(a·b)/∂a = b, "
            "a·a contributes one a per factor."
        )
    print(f"Not yet: {hint}")


# --- exercise 4: the centred difference --------------------------------------------------

_DIFFERENCE_CASES: tuple[tuple[Callable[[float], float], str, float, float], ...] = (
    (lambda t: t**3, "t**3", 1.0, 0.1),
    (math.exp, "exp", 0.5, 0.01),
    (math.sin, "sin", 2.0, 0.2),
)


def check_centred_difference(centred_difference: Callable[..., Any]) -> None:
    """Check ``centred_difference(f, x, h)`` against ``(f(x+h) - f(x-h)) / (2h)``.

    Uses steps ``h`` large enough that the forward and the centred difference
    differ clearly, so each common slip is recognised.
    """
    for f, name, x, h in _DIFFERENCE_CASES:
        result, problem = call_learner(
            centred_difference,
            f,
            x,
            h,
            if_none=(
                "Not yet: centred_difference returned None. Return the slope of the secant "
                "through x - h and x + h, written with f, x and h."
            ),
        )
        if problem:
            print(problem)
            return
        got = _number(result)
        if got is None:
            print(f"Not yet: return one number (a float), got {result!r}.")
            return
        expected = solution_centred_difference(f, x, h)
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        hint = first_hint(
            got,
            [
                (
                    (f(x + h) - f(x)) / h,
                    "that is the forward difference (f(x+h) - f(x)) / h. "
                    "Step to both sides: f(x+h) - f(x-h).",
                ),
                ((f(x) - f(x - h)) / h, "that is the backward difference; use f(x+h) - f(x-h)."),
                ((f(x + h) - f(x - h)) / h, "divide by the distance between x-h and x+h: 2h."),
                ((f(x + h) - f(x - h)) / 2 * h, "divide by (2 * h), with brackets: ... / (2 * h)."),
            ],
            same=_close,
        )
        if hint is None:
            hint = (
                f"for f = {name}, x = {x}, h = {h} expected (f(x+h) - f(x-h)) / (2h) = "
                f"{expected:.6g}, got {got:.6g}."
            )
        print(f"Not yet: {hint}")
        return
    print(CORRECT)


__all__ = [
    "CORRECT",
    "EXERCISE_NEURON",
    "NeuronNumbers",
    "SOLUTIONS",
    "USED_TWICE_A",
    "USED_TWICE_B",
    "check_centred_difference",
    "check_dL_dw1",
    "check_mul_backward",
    "check_used_twice",
    "show_solution",
    "solution_centred_difference",
    "solution_dL_dw1",
    "solution_mul_backward",
    "solution_used_twice",
]
