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
right answer and prints ``"Correct!"`` or a hint about what is wrong (it never
raises, so a notebook cell with an unfinished exercise still runs).
``show_solution(name)`` prints a worked solution.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._checks import as_finite_float, print_solution, report, run_learner_code

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


def _call(fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """``fn(*args)``; ``(result, None)`` or ``(None, hint)`` when it raised."""
    result, err = run_learner_code(fn, *args)
    if err is None:
        return result, None
    return None, f"Your function raised {type(err).__name__}: {err}."


def _numbers(
    fn: Callable[[Any], Any], name: str, inputs: Sequence[Any], if_none: str
) -> tuple[np.ndarray | None, str | None]:
    """``fn(x)`` for every ``x`` of ``inputs`` as a float array ``(len(inputs),)``, or a hint.

    The hint is the one for the first call that raises, returns ``None`` (then
    ``if_none``) or returns something that is not one finite number.
    """
    values = []
    for x in inputs:
        result, error = _call(fn, x)
        if error:
            return None, error
        if result is None:
            return None, if_none
        value = as_finite_float(result)
        if value is None:
            return None, f"{name}({x}) must return one number, got {result!r}."
        values.append(value)
    return np.array(values), None


# --- exercise 1: the largest slope of the sigmoid -------------------------------------------


def diagnose_max_sigmoid_prime(fn: Callable[[], Any]) -> str | None:
    """``None`` if ``fn()`` returns the maximum of ``σ′`` (within 1e-3), else a hint."""
    result, error = _call(fn)
    if error:
        return error
    if result is None:
        return (
            "Not done yet: your function returns None. Make a grid z = np.linspace(-10, 10, "
            "2001), compute s = σ(z) and σ′(z) = s (1 - s), and return the largest value."
        )
    value = as_finite_float(result)
    if value is None:
        shape = np.shape(result)
        return (
            f"Return one number (got something of shape {shape}): the maximum over the grid, "
            "e.g. float(np.max(...))."
        )
    if abs(value - SIGMOID_PRIME_MAX) <= 1e-3:
        return None
    if abs(value - 1.0) <= 1e-2:
        return (
            "That is the maximum of σ itself (it approaches 1). Take the maximum of σ′ = σ(1 - σ)."
        )
    if abs(value - 0.5) <= 1e-3:
        return "0.5 is σ(0), the sigmoid's value at z = 0. Its *slope* there is σ(0)(1 - σ(0))."
    if abs(value) <= 1e-3:
        return (
            f"{value:.3g} looks like the position of the maximum (z = 0), not its value. "
            "Return max σ′, not argmax."
        )
    if value < SIGMOID_PRIME_MAX:
        return (
            f"{value:.4g} is below the true maximum. Does your grid include z = 0, and is it "
            "fine enough? Check that σ′ = σ (1 - σ), not σ² or 1 - σ²."
        )
    return (
        f"{value:.4g} is too large: σ′ = σ (1 - σ) can never exceed 1/4. "
        "Check the formula (tanh′ = 1 - tanh² has maximum 1, σ′ is different)."
    )


def check_max_sigmoid_prime(fn: Callable[[], Any]) -> None:
    """Print "Correct!" if ``fn()`` returns ``max σ′ = 0.25``, or a hint."""
    report(
        diagnose_max_sigmoid_prime(fn),
        "σ′ peaks at 1/4 (at z = 0): every sigmoid layer passes back at most a quarter of "
        "the gradient per unit.",
    )


# --- exercise 2: the shrink factor after k sigmoid layers -----------------------------------


def diagnose_shrink_factor(fn: Callable[[int], Any]) -> str | None:
    """``None`` if ``fn(k) = (1/4)^k`` for ``k = 0..12``, else a hint."""
    ks = list(range(13))
    got, hint = _numbers(
        fn,
        "shrink_factor",
        ks,
        "Not done yet: your function returns None. Each layer multiplies the "
        "gradient by about σ′(0); after k layers that factor is applied k times.",
    )
    if got is None:
        return hint
    want = np.array([solution_shrink_factor(k) for k in ks])
    if np.allclose(got, want, rtol=1e-9, atol=0.0):
        return None
    ks_arr = np.array(ks, dtype=np.float64)
    if np.allclose(got, 0.25 * ks_arr, rtol=1e-9):
        return "The factor is multiplied once per layer, not added: use a power, not k · 1/4."
    if np.allclose(got, 4.0**ks_arr, rtol=1e-9):
        return "The gradient shrinks, so the factor is below 1: (1/4)^k, not 4^k."
    if np.allclose(got[1:], 0.25 ** (ks_arr[1:] - 1), rtol=1e-9):
        return "Off by one layer: after k = 1 layer the factor is already 1/4."
    if np.allclose(got, 0.5**ks_arr, rtol=1e-9):
        return (
            "0.5 is σ(0), the value of the sigmoid at 0. The gradient is multiplied by its "
            "slope σ′(0) = σ(0)(1 - σ(0))."
        )
    if np.allclose(got, 1.0):
        return "A factor of 1 for every k would mean no shrinking at all. What is σ′(0)?"
    bad = int(np.flatnonzero(~np.isclose(got, want, rtol=1e-9, atol=0.0))[0])
    return (
        f"shrink_factor({bad}) returned {got[bad]:.4g} but should be {want[bad]:.4g}. "
        "Multiply σ′(0) once per layer."
    )


def check_shrink_factor(fn: Callable[[int], Any]) -> None:
    """Print "Correct!" if ``fn(k)`` returns ``(1/4)^k``, or a hint."""
    report(
        diagnose_shrink_factor(fn),
        "(1/4)^k: after 9 layers the gradient is about 4 millionths of what it was.",
    )


# --- exercise 3: the He standard deviation ---------------------------------------------------


def diagnose_he_std(fn: Callable[[Any], Any]) -> str | None:
    """``None`` if ``fn(fan_in) = √(2 / fan_in)`` for several fan-ins, else a hint."""
    fan_ins = (1, 2, 8, 32, 100, 784)
    got, hint = _numbers(
        fn,
        "he_std",
        fan_ins,
        "Not done yet: your function returns None. He initialisation keeps "
        "fan_in · Var(W) / 2 = 1; solve for the standard deviation.",
    )
    if got is None:
        return hint
    n = np.array(fan_ins, dtype=np.float64)
    if np.allclose(got, np.sqrt(2.0 / n), rtol=1e-6):
        return None
    if np.allclose(got, 2.0 / n, rtol=1e-6):
        return "That is the variance 2 / fan_in. The standard deviation is its square root."
    if np.allclose(got, np.sqrt(1.0 / n), rtol=1e-6):
        return (
            "√(1 / fan_in) is right for tanh-like units (LeCun). ReLU zeroes half of its "
            "inputs, so He doubles the variance: √(2 / fan_in)."
        )
    if np.allclose(got, np.sqrt(2.0 * n), rtol=1e-6) or np.allclose(got, 2.0 * n):
        return "The standard deviation must shrink as fan_in grows: divide by fan_in."
    return (
        f"he_std({fan_ins[3]}) returned {got[3]:.4g}, expected {math.sqrt(2 / fan_ins[3]):.4g}. "
        "Use std = √(2 / fan_in)."
    )


def check_he_std(fn: Callable[[Any], Any]) -> None:
    """Print "Correct!" if ``fn(fan_in)`` returns ``√(2 / fan_in)``, or a hint."""
    report(
        diagnose_he_std(fn),
        "std = √(2 / fan_in); for fan_in = 32 that is 0.25.",
    )
