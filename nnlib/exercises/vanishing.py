"""Exercises of notebook 4 (vanishing and exploding gradients): self-checks and solutions.

Three small computations behind the notebook's story:

1. ``max_sigmoid_prime()``: the largest value of ``σ′(z) = σ(z)(1 - σ(z))``,
   found numerically on a grid of ``z`` values. It is the most any sigmoid
   layer can pass on of the gradient per unit.
2. ``shrink_factor(k)``: the typical factor by which the gradient norm
   shrinks after passing back through ``k`` sigmoid layers of a network
   initialised with Xavier weights (``Wᵀ`` keeps a vector's length on average,
   ``σ′`` multiplies it by about ``σ′(0) = 1/4``).
3. ``he_std(fan_in)``: the standard deviation of He-initialised weights for a
   ReLU layer with ``fan_in`` inputs, ``√(2 / fan_in)``.

Each ``check_*`` function calls the learner's function, compares with the
right answer and prints ``"Correct!"`` or ``"Not yet: ..."`` with a graded hint
(see :mod:`nnlib.exercises._checks`: the first hint points at the mistake; the
same mistake again, or ``hint=2``, narrows it down). It never raises, so a
notebook cell with an unfinished exercise still runs. ``show_solution(name)``
prints a worked solution.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._checks import Hint, as_number, call_learner, print_solution, report, type_hint

#: The largest value of σ′, reached at z = 0: σ(0)(1 - σ(0)) = 1/2 · 1/2.
SIGMOID_PRIME_MAX = 0.25


# --- worked solutions ----------------------------------------------------------------------


def solution_max_sigmoid_prime() -> float:
    """The maximum of ``σ′(z) = σ(z)(1 - σ(z))``, found on a fine grid of ``z``.

    ``σ′`` is largest where ``σ = 1/2``, i.e. at ``z = 0``, and the maximum is
    ``1/2 · 1/2 = 1/4``; the grid ``z ∈ [-10, 10]`` (step 0.001) contains 0.
    """
    z = np.linspace(-10.0, 10.0, 20001)
    s = 1.0 / (1.0 + np.exp(-z))
    return float(np.max(s * (1.0 - s)))


def solution_shrink_factor(k: int) -> float:
    """Typical ``||∂L/∂h_1|| / ||∂L/∂h_{k+1}||`` after ``k`` sigmoid layers with Xavier weights.

    Each layer multiplies the backward signal by ``Wᵀ`` (length kept on average,
    since ``Var(W) = 1 / fan_in`` for a square Xavier layer) and by ``σ′(z)``
    (about ``σ′(0) = 1/4`` near ``z = 0``): ``k`` layers give ``(1/4)^k``.
    """
    return 0.25**k


def solution_he_std(fan_in: Any) -> Any:
    """He initialisation: ``std = √(2 / fan_in)``, so that ``Var(z) = fan_in · Var(W) · E[x²]``
    stays the same from layer to layer although ReLU zeroes half of its inputs.

    Works for a number or a NumPy array of fan-ins.
    """
    return np.sqrt(2.0 / np.asarray(fan_in, dtype=np.float64))


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "max_sigmoid_prime": solution_max_sigmoid_prime,
    "shrink_factor": solution_shrink_factor,
    "he_std": solution_he_std,
}


def show_solution(name: str) -> None:
    """Print the worked solution ``name``: one of :data:`SOLUTIONS`, e.g. ``"he_std"``."""
    print_solution(SOLUTIONS, name)


# --- shared helpers ----------------------------------------------------------------------


def _numbers(
    fn: Callable[[Any], Any], name: str, inputs: Sequence[Any], if_none: Hint
) -> tuple[np.ndarray | None, Hint | None]:
    """``fn(x)`` for every ``x`` of ``inputs`` as a float array ``(len(inputs),)``, or a hint.

    The hint is the one for the first call that raises, runs too long, returns
    ``None`` (then ``if_none``) or returns something that is not one finite number.
    """
    values = []
    for x in inputs:
        result, problem = call_learner(fn, x, if_none=if_none)
        if problem:
            return None, problem
        value = as_number(result)
        if value is None:
            return None, type_hint(result, f"one number from {name}({x})")
        if not math.isfinite(value):
            return None, Hint("not finite", f"{name}({x}) returned {value}, not a finite number.")
        values.append(value)
    return np.array(values), None


# --- exercise 1: the largest slope of the sigmoid -------------------------------------------


def diagnose_max_sigmoid_prime(fn: Callable[[], Any]) -> Hint | None:
    """``None`` if ``fn()`` returns the maximum of ``σ′`` (within 1e-3), else a hint."""
    result, problem = call_learner(
        fn,
        if_none=Hint(
            "None",
            "your function returns None. Compute σ′(z) = σ(z)(1 - σ(z)) on a grid of z values "
            "and return its largest value.",
            "np.linspace(-10, 10, 2001) is a grid that contains z = 0; np.max finds the "
            "largest value of an array.",
        ),
    )
    if problem:
        return problem
    value = as_number(result)
    if value is None:
        return type_hint(result, "one number (the largest value of σ′ on the grid)")
    if abs(value - SIGMOID_PRIME_MAX) <= 1e-3:
        return None
    if abs(value - 1.0) <= 1e-2:
        return Hint(
            "max of sigma",
            "that is about the largest value of σ itself.",
            "Take the maximum of the slope σ′ = σ (1 - σ), not of σ.",
        )
    if abs(value - 0.5) <= 1e-3:
        return Hint(
            "sigma(0)",
            "0.5 is σ(0), the value of the sigmoid at z = 0, not its slope.",
            "The slope there is σ(0)(1 - σ(0)).",
        )
    if abs(value) <= 1e-3:
        return Hint(
            "argmax",
            f"{value:.3g} looks like where the maximum is (z = 0), not how large it is.",
            "Return the largest value (np.max), not its position (np.argmax).",
        )
    if value < SIGMOID_PRIME_MAX:
        return Hint(
            "too small",
            f"{value:.4g} is below the true maximum.",
            "Does your grid include z = 0 (or come very close to it)? Is the formula σ (1 - σ), "
            "not σ² or 1 - σ²?",
        )
    return Hint(
        "too large",
        f"{value:.4g} is too large for the slope of the sigmoid.",
        "σ (1 - σ) is a product of two numbers between 0 and 1 that add up to 1. (tanh′ = "
        "1 - tanh² reaches 1; σ′ is a different formula.)",
    )


def check_max_sigmoid_prime(fn: Callable[[], Any], hint: int | None = None) -> None:
    """Print "Correct!" if ``fn()`` returns ``max σ′ = 0.25``, or a hint."""
    report(
        "max_sigmoid_prime",
        diagnose_max_sigmoid_prime(fn),
        "σ′ peaks at 1/4 (at z = 0): every sigmoid layer passes back at most a quarter of "
        "the gradient per unit.",
        grade=hint,
    )


# --- exercise 2: the shrink factor after k sigmoid layers -----------------------------------


def diagnose_shrink_factor(fn: Callable[[int], Any]) -> Hint | None:
    """``None`` if ``fn(k) = (1/4)^k`` for ``k = 0..12``, else a hint."""
    ks = list(range(13))
    got, problem = _numbers(
        fn,
        "shrink_factor",
        ks,
        Hint(
            "None",
            "your function returns None. Each layer multiplies the gradient by about σ′(0); "
            "after k layers that factor has been applied k times.",
        ),
    )
    if got is None:
        return problem
    want = np.array([solution_shrink_factor(k) for k in ks])
    if np.allclose(got, want, rtol=1e-9, atol=0.0):
        return None
    ks_arr = np.array(ks, dtype=np.float64)
    if np.allclose(got, 0.25 * ks_arr, rtol=1e-9):
        return Hint(
            "added",
            "your factor grows in proportion to k.",
            "The factor is multiplied once per layer, not added: use a power.",
        )
    if np.allclose(got, 4.0**ks_arr, rtol=1e-9):
        return Hint(
            "4^k",
            "your factor grows with k, but the gradient shrinks.",
            "Each layer multiplies by σ′(0) = 1/4, not by 4.",
        )
    if np.allclose(got[1:], 0.25 ** (ks_arr[1:] - 1), rtol=1e-9):
        return Hint(
            "off by one",
            "your factor is off by one layer.",
            "After k = 0 layers the factor is 1; after k = 1 layer it is already σ′(0).",
        )
    if np.allclose(got, 0.5**ks_arr, rtol=1e-9):
        return Hint(
            "sigma not slope",
            "0.5 is σ(0), the value of the sigmoid at 0, not its slope.",
            "The gradient is multiplied by the slope σ′(0) = σ(0)(1 - σ(0)).",
        )
    if np.allclose(got, 1.0):
        return Hint(
            "no shrink",
            "a factor of 1 for every k means no shrinking at all.",
            "What is σ′(0)?",
        )
    bad = int(np.flatnonzero(~np.isclose(got, want, rtol=1e-9, atol=0.0))[0])
    return Hint(
        "other",
        f"shrink_factor({bad}) returned {got[bad]:.4g}, not the typical factor.",
        "Multiply by σ′(0) once per layer.",
    )


def check_shrink_factor(fn: Callable[[int], Any], hint: int | None = None) -> None:
    """Print "Correct!" if ``fn(k)`` returns ``(1/4)^k``, or a hint."""
    report(
        "shrink_factor",
        diagnose_shrink_factor(fn),
        "(1/4)^k: after 9 layers the gradient is about 4 millionths of what it was.",
        grade=hint,
    )


# --- exercise 3: the He standard deviation ---------------------------------------------------


def diagnose_he_std(fn: Callable[[Any], Any]) -> Hint | None:
    """``None`` if ``fn(fan_in) = √(2 / fan_in)`` for several fan-ins, else a hint."""
    fan_ins = (1, 2, 8, 32, 100, 784)
    got, problem = _numbers(
        fn,
        "he_std",
        fan_ins,
        Hint(
            "None",
            "your function returns None. He initialisation keeps the variance of z the same "
            "from layer to layer for ReLU: write Var(z) with fan_in and Var(W), then solve for "
            "the standard deviation.",
        ),
    )
    if got is None:
        return problem
    n = np.array(fan_ins, dtype=np.float64)
    if np.allclose(got, np.sqrt(2.0 / n), rtol=1e-6):
        return None
    if np.allclose(got, 2.0 / n, rtol=1e-6):
        return Hint(
            "variance",
            "that is the variance of the weights, not their standard deviation.",
            "Take the square root.",
        )
    if np.allclose(got, np.sqrt(1.0 / n), rtol=1e-6):
        return Hint(
            "LeCun",
            "that is the scale for tanh-like units, not for ReLU.",
            "ReLU zeroes half of its inputs, so He doubles the variance.",
        )
    if np.all(np.diff(got) > 0):
        return Hint(
            "grows",
            "your standard deviation grows with fan_in.",
            "More inputs add more terms to z, so each weight must be smaller: divide by fan_in.",
        )
    return Hint(
        "other",
        f"he_std({fan_ins[3]}) returned {got[3]:.4g}, which does not keep Var(z) constant.",
        "Var(z) = fan_in · Var(W) · E[x²], and for ReLU units E[x²] = Var(z) / 2.",
    )


def check_he_std(fn: Callable[[Any], Any], hint: int | None = None) -> None:
    """Print "Correct!" if ``fn(fan_in)`` returns ``√(2 / fan_in)``, or a hint."""
    report(
        "he_std",
        diagnose_he_std(fn),
        f"std = √(2 / fan_in); for fan_in = 32 that is {math.sqrt(2 / 32):g}.",
        grade=hint,
    )


__all__ = [
    "SIGMOID_PRIME_MAX",
    "SOLUTIONS",
    "check_he_std",
    "check_max_sigmoid_prime",
    "check_shrink_factor",
    "diagnose_he_std",
    "diagnose_max_sigmoid_prime",
    "diagnose_shrink_factor",
    "show_solution",
    "solution_he_std",
    "solution_max_sigmoid_prime",
    "solution_shrink_factor",
]
