"""Exercises of notebook 01 (chain rule and autodiff): checks that give hints, and solutions.

Every ``check_*`` function looks at the learner's answer and prints either
``"Correct!"`` or ``"Not yet: ..."`` with a graded hint about what is wrong
(see :mod:`nnlib.exercises._checks`: the first hint points at the mistake, a
second one, after the same mistake again or with ``hint=2``, narrows it down).
It never raises, so a notebook with unfinished exercises still runs top to
bottom. The ``solution_*`` functions are worked answers; print one with
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

from ._checks import (
    CORRECT,
    Hint,
    as_number,
    as_pair,
    call_learner,
    close,
    first_hint,
    print_solution,
    report,
    type_hint,
)


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
    """``answer`` as a float if it is one real number (a Value counts as its ``.data``)."""
    if hasattr(answer, "data") and isinstance(answer.data, numbers.Real):
        answer = answer.data
    return as_number(answer)


def _close(got: float, expected: float, rel: float = 2e-3, abs_tol: float = 1e-4) -> bool:
    """Equal up to rounding to about 3 significant digits."""
    return math.isclose(got, expected, rel_tol=rel, abs_tol=abs_tol)


def _number_answer(answer: Any, what: str) -> tuple[float | None, Hint | None]:
    """The answer as a float, or the hint for a missing, non-numeric or infinite answer."""
    if answer is None:
        return None, Hint("None", f"replace None with your number for {what}.")
    got = _number(answer)
    if got is None:
        return None, type_hint(answer, f"one number for {what}")
    if not math.isfinite(got):
        return None, Hint("not finite", f"{what} is a finite number, got {got}.")
    return got, None


# --- exercise 1: dL/dw1 by hand -------------------------------------------------------


def diagnose_dL_dw1(answer: Any) -> Hint | None:
    """``None`` if ``answer`` is ∂L/∂w1 of :data:`EXERCISE_NEURON` (3 digits), else a hint.

    Recognises the usual slips (a missing factor of the chain, the wrong sign,
    the wrong local derivative) and names the one that was made.
    """
    got, problem = _number_answer(answer, "∂L/∂w1")
    if problem:
        return problem
    p = EXERCISE_NEURON
    n = p.w1 * p.x1 + p.w2 * p.x2 + p.b
    o = math.tanh(n)
    dL_do, do_dn, dn_dw1 = 2 * (o - p.y), 1 - o**2, p.x1
    expected = dL_do * do_dn * dn_dw1
    if _close(got, expected):
        return None
    tanh_first = "the local derivative of the tanh node is not right."
    missing = "one link of the chain is missing."
    hint = first_hint(
        got,
        [
            (
                -expected,
                Hint(
                    "sign",
                    "the sign is flipped.",
                    "o is below the target y here, so raising o lowers the loss: ∂L/∂o must "
                    "be negative. Check the order in o - y.",
                ),
            ),
            (
                expected / 2,
                Hint(
                    "factor 2",
                    "your number is half the right one.",
                    "Differentiating the square (o - y)² brings down a factor 2.",
                ),
            ),
            (
                dL_do * do_dn,
                Hint(
                    "stopped at n",
                    missing,
                    "You stopped at ∂L/∂n. The last node on the path is n = w1·x1 + w2·x2 + b: "
                    "what is ∂n/∂w1?",
                ),
            ),
            (
                dL_do * dn_dw1,
                Hint(
                    "no tanh",
                    missing,
                    "The tanh node was skipped: multiply by the local derivative of "
                    "o = tanh(n), written with o.",
                ),
            ),
            (
                do_dn * dn_dw1,
                Hint(
                    "no loss node",
                    "that is ∂o/∂w1: the loss node is missing.",
                    "L = (o - y)²: multiply by ∂L/∂o as well.",
                ),
            ),
            (
                dL_do * do_dn * p.w1,
                Hint(
                    "dn/dw1",
                    "the last factor, ∂n/∂w1, is not right.",
                    "Differentiate w1·x1 with respect to w1: the other factor remains.",
                ),
            ),
            (
                dL_do * (1 - n**2) * dn_dw1,
                Hint(
                    "1 - n²",
                    tanh_first,
                    "tanh'(n) = 1 - tanh(n)², and tanh(n) is o, not n.",
                ),
            ),
            (
                dL_do * (1 - o) * dn_dw1,
                Hint("1 - o", tanh_first, "1 - tanh(n)² needs o squared."),
            ),
        ],
        same=_close,
    )
    return hint or Hint(
        "other",
        f"{got:.4g} is not ∂L/∂w1.",
        "Do the forward pass first (n, then o), then write one local derivative per node on "
        "the path w1 → n → o → L and multiply them. Print each factor to find the slip.",
    )


def check_dL_dw1(answer: Any, hint: int | None = None) -> None:
    """Check a hand-computed ∂L/∂w1 for the neuron :data:`EXERCISE_NEURON`.

    ``hint=2`` asks for the more specific hint at once.
    """
    report(
        "dL_dw1",
        diagnose_dL_dw1(answer),
        "∂L/∂w1 = ∂L/∂o · ∂o/∂n · ∂n/∂w1: one local derivative per node on the path.",
        grade=hint,
    )


# --- exercise 2: the local backward of a multiplication ---------------------------------

_MUL_CASES = ((0.5, 4.0, -2.0), (2.0, -3.0, 1.0), (-1.5, 2.5, 0.3))


def _close_pair(got: tuple[float, float], expected: tuple[float, float]) -> bool:
    """Both numbers of the pair equal up to rounding."""
    return close(got[0], expected[0]) and close(got[1], expected[1])


def diagnose_mul_backward(mul_backward: Callable[[float, float, float], Any]) -> Hint | None:
    """``None`` if ``mul_backward(x, y, out_grad)`` returns ``(dx, dy)`` of ``z = x·y``."""
    for x, y, g in _MUL_CASES:
        result, problem = call_learner(
            mul_backward,
            x,
            y,
            g,
            if_none=Hint(
                "None",
                "mul_backward returned None. Return the pair (dx, dy): the gradients of the "
                "loss with respect to x and y, written with x, y and out_grad.",
            ),
        )
        if problem:
            return problem
        pair = as_pair(result)
        if pair is None:
            return type_hint(result, "a pair (dx, dy) of two numbers")
        if _close_pair(pair, solution_mul_backward(x, y, g)):
            continue
        local = "the local derivatives are not right."
        hint = first_hint(
            pair,
            [
                (
                    (x * g, y * g),
                    Hint("swapped", "dx and dy are swapped.", "∂(x·y)/∂x is the *other* input."),
                ),
                (
                    (y, x),
                    Hint(
                        "no out_grad",
                        "the gradient arriving from above is not used.",
                        "The chain rule multiplies each local derivative by out_grad = ∂L/∂z.",
                    ),
                ),
                (
                    (g, g),
                    Hint(
                        "addition",
                        "that is the backward rule of an addition, not of a multiplication.",
                        "For z = x·y, how much does z change per unit change of x?",
                    ),
                ),
                (
                    (x, y),
                    Hint(
                        "own input",
                        local,
                        "∂(x·y)/∂x is the other input, and both need the factor out_grad.",
                    ),
                ),
            ],
            same=_close_pair,
        )
        return hint or Hint(
            "other",
            f"for x = {x}, y = {y}, out_grad = {g} your (dx, dy) = ({pair[0]:.4g}, "
            f"{pair[1]:.4g}) is not right.",
            "Find the local derivatives ∂z/∂x and ∂z/∂y of z = x·y, then multiply each by "
            "out_grad.",
        )
    return None


def check_mul_backward(
    mul_backward: Callable[[float, float, float], Any], hint: int | None = None
) -> None:
    """Check ``mul_backward(x, y, out_grad) -> (dx, dy)`` for ``z = x · y`` on a few numbers."""
    report(
        "mul_backward",
        diagnose_mul_backward(mul_backward),
        "Each input's local derivative is the other input, times out_grad.",
        grade=hint,
    )


# --- exercise 3: a variable used more than once ------------------------------------------


def diagnose_used_twice(answer: Any) -> Hint | None:
    """``None`` if ``answer`` is df/da for ``f = a·b + a·a`` at ``a = 3``, ``b = -4``."""
    got, problem = _number_answer(answer, "df/da")
    if problem:
        return problem
    a, b = USED_TWICE_A, USED_TWICE_B
    if _close(got, solution_used_twice()):
        return None
    some_paths = "you counted only some of the paths from a to f."
    hint = first_hint(
        got,
        [
            (b, Hint("only ab", some_paths, "a also reaches f through a·a.")),
            (a + a, Hint("only aa", some_paths, "a also reaches f through a·b.")),
            (
                b + a,
                Hint(
                    "aa once",
                    "a·a contributes more than you counted.",
                    "a·a uses a twice: one path per factor.",
                ),
            ),
            (a, Hint("a alone", some_paths, "Add the contribution of every edge out of a.")),
            (
                a * b + a * a,
                Hint(
                    "forward value",
                    "that is f itself, the forward value.",
                    "The question is df/da: how much f changes per unit change of a.",
                ),
            ),
        ],
        same=_close,
    )
    return hint or Hint(
        "other",
        f"{got:.4g} is not df/da.",
        "Gradients add over paths: list every edge from a into the graph and the local "
        "derivative along it.",
    )


def check_used_twice(answer: Any, hint: int | None = None) -> None:
    """Check the predicted df/da for ``f = a·b + a·a`` at ``a = 3``, ``b = -4``."""
    a, b = USED_TWICE_A, USED_TWICE_B
    report(
        "used_twice",
        diagnose_used_twice(answer),
        f"df/da = b + a + a = {b:g} + {a:g} + {a:g} = {solution_used_twice():g}: one term per "
        "path from a to f.",
        grade=hint,
    )


# --- exercise 4: the centred difference --------------------------------------------------

_DIFFERENCE_CASES: tuple[tuple[Callable[[float], float], str, float, float], ...] = (
    (lambda t: t**3, "t**3", 1.0, 0.1),
    (math.exp, "exp", 0.5, 0.01),
    (math.sin, "sin", 2.0, 0.2),
)


def diagnose_centred_difference(centred_difference: Callable[..., Any]) -> Hint | None:
    """``None`` if ``centred_difference(f, x, h)`` is ``(f(x+h) - f(x-h)) / (2h)``.

    Uses steps ``h`` large enough that the forward and the centred difference
    differ clearly, so each common slip is recognised.
    """
    for f, name, x, h in _DIFFERENCE_CASES:
        result, problem = call_learner(
            centred_difference,
            f,
            x,
            h,
            if_none=Hint(
                "None",
                "centred_difference returned None. Return the slope of the secant through "
                "x - h and x + h, written with f, x and h.",
            ),
        )
        if problem:
            return problem
        got = as_number(result)
        if got is None:
            return type_hint(result, "one number")
        expected = solution_centred_difference(f, x, h)
        if close(got, expected):
            continue
        one_sided = Hint(
            "one-sided",
            "that is a one-sided difference.",
            "The centred difference steps to both sides of x: use f(x + h) and f(x - h).",
        )
        divisor = "the divisor is not right."
        hint = first_hint(
            got,
            [
                ((f(x + h) - f(x)) / h, one_sided),
                ((f(x) - f(x - h)) / h, one_sided),
                (
                    (f(x + h) - f(x - h)) / h,
                    Hint("over h", divisor, "Divide by the distance between x - h and x + h."),
                ),
                (
                    (f(x + h) - f(x - h)) / 2 * h,
                    Hint(
                        "/2*h",
                        divisor,
                        "/ 2 * h divides by 2 and then multiplies by h: put brackets around "
                        "the divisor.",
                    ),
                ),
            ],
            same=_close,
        )
        return hint or Hint(
            "other",
            f"for f = {name}, x = {x}, h = {h} your {got:.6g} is not the centred difference.",
            "It is the slope of the secant through the points (x - h, f(x - h)) and "
            "(x + h, f(x + h)).",
        )
    return None


def check_centred_difference(
    centred_difference: Callable[..., Any], hint: int | None = None
) -> None:
    """Check ``centred_difference(f, x, h)`` against ``(f(x+h) - f(x-h)) / (2h)``."""
    report(
        "centred_difference",
        diagnose_centred_difference(centred_difference),
        "Its error is O(h²), against O(h) for the one-sided difference.",
        grade=hint,
    )


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
    "diagnose_centred_difference",
    "diagnose_dL_dw1",
    "diagnose_mul_backward",
    "diagnose_used_twice",
    "show_solution",
    "solution_centred_difference",
    "solution_dL_dw1",
    "solution_mul_backward",
    "solution_used_twice",
]
