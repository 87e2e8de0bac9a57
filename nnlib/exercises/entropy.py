"""Exercises of notebook 07 (entropy and cross-entropy): checks that give hints, and solutions.

Every ``check_*`` function runs the learner's function on a few cases and
prints either ``"Correct!"`` or ``"Not yet: ..."`` with a graded hint about
what is wrong (see :mod:`nnlib.exercises._checks`: the first hint points at the
mistake; the same mistake again, or ``hint=2``, narrows it down). It never
raises (and silences the learner's NumPy warnings), so a notebook with
unfinished exercises still runs top to bottom. The
``solution_*`` functions are worked answers; print one with
``show_solution("entropy_bits")``.

1. :func:`check_entropy_bits`: the entropy of a distribution in bits, with
   ``0 · log 0 = 0``.
2. :func:`check_kl_divergence`: ``D(p‖q)`` in nats, including zeros in ``p``
   and in ``q``.
3. :func:`check_ce_gradient`: the gradient ``softmax(z) - onehot(k)`` of the
   cross-entropy with respect to the logits, stable for large logits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..information import cross_entropy, entropy, kl_divergence
from ..losses import softmax, softmax_cross_entropy
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


def solution_entropy_bits(p: np.ndarray) -> float:
    """Entropy in bits: ``H(p) = -Σ_k p_k log₂ p_k``, summing only over ``p_k > 0``.

    Classes with ``p_k = 0`` are left out: their term ``0 · log 0`` is 0 (the
    limit of ``p log p`` as ``p → 0``), while NumPy would compute
    ``0 · (-inf) = nan``.
    """
    p = np.asarray(p, dtype=np.float64)
    nonzero = p[p > 0]
    return float(-np.sum(nonzero * np.log2(nonzero)))


def solution_kl_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """``D(p‖q) = Σ_k p_k ln(p_k / q_k)`` in nats, summing only over ``p_k > 0``.

    A class with ``p_k = 0`` adds nothing, whatever ``q_k`` is. A class with
    ``p_k > 0`` but ``q_k = 0`` makes the divergence infinite: ``q`` says an
    outcome is impossible that does happen.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    keep = p > 0
    if np.any(q[keep] == 0):
        return math.inf
    return float(np.sum(p[keep] * np.log(p[keep] / q[keep])))


def solution_ce_gradient(z: np.ndarray, k: int) -> np.ndarray:
    """Gradient of ``L = -log softmax(z)_k`` with respect to the logits ``z`` ``(C,)``.

    ``∂L/∂z = softmax(z) - onehot(k)``. Subtracting ``max(z)`` before ``exp``
    changes nothing mathematically (it cancels in the ratio) but keeps every
    ``exp`` ≤ 1, so logits like 1000 do not overflow to ``inf``.
    """
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max())
    grad = e / e.sum()
    grad[k] -= 1.0
    return grad


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "entropy_bits": solution_entropy_bits,
    "kl_divergence": solution_kl_divergence,
    "ce_gradient": solution_ce_gradient,
}


def show_solution(name: str) -> None:
    """Print the worked solution ``name``: one of :data:`SOLUTIONS`, e.g. ``"entropy_bits"``."""
    print_solution(SOLUTIONS, name)


# --- helpers for the checks ----------------------------------------------------------------


def _number_answer(
    fn: Callable[..., Any], name: str, *args: Any, if_none: Hint
) -> tuple[float | None, Hint | None]:
    """``fn(*args)`` as one float, or the hint when it raises, returns None or no number.

    ``name`` is what the notebook calls the learner's function, for the hints.
    """
    value, problem = call_learner(fn, *args, quiet=True, if_none=if_none)
    if problem:
        return None, problem
    got = as_number(value)
    if got is not None:
        return got, None
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return None, Hint(
            "not summed",
            f"{name} returned an array of shape {value.shape}; return one number.",
            "Add up the terms over all classes.",
        )
    return None, type_hint(value, "one number")


def _fmt(p: np.ndarray) -> str:
    return str(np.round(np.asarray(p, dtype=np.float64), 4).tolist())


# --- exercise 1: entropy in bits -------------------------------------------------------------

_ENTROPY_CASES = [
    np.array([0.5, 0.5]),
    np.full(6, 1 / 6),
    np.array([0.5, 0.25, 0.125, 0.125]),
    np.array([0.7, 0.2, 0.1]),
    np.array([1.0, 0.0]),
    np.array([0.25, 0.0, 0.75, 0.0]),
]


def diagnose_entropy_bits(entropy_bits: Callable[[np.ndarray], Any]) -> Hint | None:
    """``None`` if ``entropy_bits(p)`` is ``H(p)`` in bits on coins, a die and zeros."""
    for p in _ENTROPY_CASES:
        got, problem = _number_answer(
            entropy_bits,
            "entropy_bits",
            p.copy(),
            if_none=Hint(
                "None",
                "entropy_bits returned None. Replace `return None` with the average surprise: "
                "each class's surprise weighted by its probability.",
            ),
        )
        if problem:
            return problem
        expected = entropy(p, base=2)
        if same_values(got, expected):
            continue
        return _entropy_hint(p, got, expected)
    return None


def _entropy_hint(p: np.ndarray, got: float, expected: float) -> Hint:
    if math.isnan(got):
        return Hint(
            "0 log 0",
            f"for p = {_fmt(p)} you returned nan.",
            "A class with p_k = 0 gives 0 * log(0) = 0 * (-inf) = nan in NumPy, but its term "
            "must count as 0 (the limit of p log p): leave those classes out of the sum.",
        )
    if same_values(got, expected * math.log(2)):
        return Hint(
            "nats",
            "your numbers are in nats: you used the natural logarithm.",
            "Bits use the base-2 logarithm, np.log2.",
        )
    if same_values(got, -expected):
        return Hint("sign", "the sign is flipped.", "log p ≤ 0, so -Σ p log p is ≥ 0.")
    nonzero = p[p > 0]
    if same_values(got, float(-np.sum(np.log2(nonzero)))):
        return Hint(
            "unweighted",
            "you added up the surprises without weighting them.",
            "Entropy is the *average* surprise: weight each -log2 p_k by its probability p_k.",
        )
    return Hint(
        "other",
        f"for p = {_fmt(p)} your {got:.4f} is not the entropy in bits.",
        "H(p) = -Σ_k p_k log2 p_k, summed over the classes with p_k > 0.",
    )


def check_entropy_bits(entropy_bits: Callable[[np.ndarray], Any], hint: int | None = None) -> None:
    """Check ``entropy_bits(p) -> H(p)`` in bits on coins, a die and vectors with zeros."""
    report(
        "entropy_bits",
        diagnose_entropy_bits(entropy_bits),
        f"A fair die has log2(6) = {math.log2(6):.4f} bits.",
        grade=hint,
    )


# --- exercise 2: KL divergence --------------------------------------------------------------

_KL_CASES = [
    (np.array([0.7, 0.2, 0.1]), np.array([0.2, 0.5, 0.3])),
    (np.array([0.5, 0.5]), np.array([0.9, 0.1])),
    (np.array([0.25, 0.25, 0.5]), np.array([0.25, 0.25, 0.5])),
    (np.array([0.0, 0.4, 0.6]), np.array([0.3, 0.3, 0.4])),
    (np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.0, 0.0])),
]


def diagnose_kl_divergence(kl: Callable[[np.ndarray, np.ndarray], Any]) -> Hint | None:
    """``None`` if ``kl(p, q)`` is ``D(p‖q)`` in nats, zeros in ``p`` and ``q`` included."""
    for p, q in _KL_CASES:
        got, problem = _number_answer(
            kl,
            "kl_div",
            p.copy(),
            q.copy(),
            if_none=Hint(
                "None",
                "kl_div returned None. D(p‖q) is the sum over classes of p_k times the log of "
                "the ratio p_k / q_k, with the natural log.",
            ),
        )
        if problem:
            return problem
        expected = kl_divergence(p, q)
        if (math.isinf(expected) and got == math.inf) or same_values(got, expected):
            continue
        return _kl_hint(p, q, got, expected)
    return None


def _kl_hint(p: np.ndarray, q: np.ndarray, got: float, expected: float) -> Hint:
    if math.isinf(expected):
        return Hint(
            "inf",
            f"for p = {_fmt(p)} and q = {_fmt(q)} the divergence is infinite, you returned "
            f"{got:.4g}.",
            "q gives probability 0 to a class that p says does happen: the surprise -log q_k "
            "there is infinite. Return np.inf in that case.",
        )
    if math.isnan(got):
        return Hint(
            "0 log 0",
            f"for p = {_fmt(p)} you returned nan.",
            "Classes with p_k = 0 must add nothing (0 · log 0 = 0): leave them out of the sum.",
        )
    if same_values(got, kl_divergence(q, p)):
        return Hint(
            "swapped",
            "the arguments are swapped: you computed D(q‖p).",
            "KL is not symmetric: in D(p‖q) the weights p_k and the numerator of the ratio "
            "come from p.",
        )
    if same_values(got, cross_entropy(p, q)):
        return Hint(
            "cross-entropy",
            "that is the cross-entropy H(p, q), not the divergence.",
            "D(p‖q) = H(p, q) - H(p): subtract p's entropy.",
        )
    if same_values(got, expected / math.log(2)):
        return Hint("bits", "your numbers are in bits.", "Use the natural log (np.log) for nats.")
    if same_values(got, -expected):
        return Hint(
            "sign", "the sign is flipped.", "D(p‖q) = Σ p log(p/q) is never negative (Gibbs)."
        )
    return Hint(
        "other",
        f"for p = {_fmt(p)}, q = {_fmt(q)} your {got:.4f} is not D(p‖q) in nats.",
        "D(p‖q) = Σ_k p_k ln(p_k / q_k), over the classes with p_k > 0.",
    )


def check_kl_divergence(
    kl: Callable[[np.ndarray, np.ndarray], Any], hint: int | None = None
) -> None:
    """Check ``kl(p, q) -> D(p‖q)`` in nats, including zeros in ``p`` and a zero in ``q``."""
    report(
        "kl_divergence",
        diagnose_kl_divergence(kl),
        f"Note D(p‖q) ≠ D(q‖p): for the first pair they are "
        f"{kl_divergence(*_KL_CASES[0]):.4f} and {kl_divergence(*_KL_CASES[0][::-1]):.4f} nats.",
        grade=hint,
    )


# --- exercise 3: the gradient of softmax + cross-entropy ---------------------------------------


def _ce_cases() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(7)
    return [
        (np.array([1.0, 2.0, 0.5]), 0),
        (np.zeros(4), 3),
        (rng.normal(size=6), 4),
        (np.array([1000.0, 0.0, -1000.0]), 2),
    ]


def diagnose_ce_gradient(ce_gradient: Callable[[np.ndarray, int], Any]) -> Hint | None:
    """``None`` if ``ce_gradient(z, k)`` is ``softmax(z) - onehot(k)``, stable for ±1000."""
    for z, k in _ce_cases():
        result, problem = call_learner(
            ce_gradient,
            z.copy(),
            k,
            quiet=True,
            if_none=Hint(
                "None",
                "ce_gradient returned None. Compute the predicted probabilities q = softmax(z) "
                "first, then compare them with the target.",
            ),
        )
        if problem:
            return problem
        got = as_array(result)
        if got is None:
            return type_hint(result, f"a NumPy array of shape {z.shape}")
        if got.shape != z.shape:
            return Hint(
                "shape",
                f"for z of shape {z.shape} you returned shape {got.shape}.",
                "The gradient has one entry per logit.",
            )
        _, grad = softmax_cross_entropy(z[None, :], np.array([k]))
        expected = grad[0]
        if same_values(got, expected):
            continue
        return _ce_hint(z, k, got, expected)
    return None


def _ce_hint(z: np.ndarray, k: int, got: np.ndarray, expected: np.ndarray) -> Hint:
    if not np.all(np.isfinite(got)):
        return Hint(
            "overflow",
            f"for z = {_fmt(z)} your gradient contains nan or inf.",
            "exp(1000) overflows. Subtract max(z) from the logits before exp: softmax does not "
            "change, since the factor exp(-max) cancels between numerator and denominator.",
        )
    q = softmax(z[None, :])[0]
    onehot = np.eye(len(z))[k]
    candidates = [
        (
            -expected,
            Hint(
                "sign",
                "the sign is flipped.",
                "Gradient descent must lower the logits of the wrong classes: the gradient is "
                "prediction minus target.",
            ),
        ),
        (
            q,
            Hint(
                "no target",
                "that is softmax(z) alone.",
                "Subtract the one-hot target: 1 at the true class k, 0 elsewhere.",
            ),
        ),
        (
            z - onehot,
            Hint(
                "logits",
                "you subtracted the target from the logits.",
                "Subtract it from the probabilities softmax(z).",
            ),
        ),
        (
            q - 1.0,
            Hint(
                "every entry",
                "you subtracted 1 from every entry.",
                "Subtract 1 only at the true class k.",
            ),
        ),
    ]
    return first_hint(got, candidates) or Hint(
        "other",
        f"for z = {_fmt(z)}, k = {k} your gradient {_fmt(got)} is not right.",
        "∂L/∂z = softmax(z) - onehot(k): prediction minus target.",
    )


def check_ce_gradient(
    ce_gradient: Callable[[np.ndarray, int], Any], hint: int | None = None
) -> None:
    """Check ``ce_gradient(z, k) -> ∂(-log softmax(z)_k)/∂z`` against nnlib's loss."""
    report(
        "ce_gradient",
        diagnose_ce_gradient(ce_gradient),
        "Your gradient matches nnlib.losses.softmax_cross_entropy, even for z = ±1000.",
        grade=hint,
    )


__all__ = [
    "CORRECT",
    "SOLUTIONS",
    "check_ce_gradient",
    "check_entropy_bits",
    "check_kl_divergence",
    "diagnose_ce_gradient",
    "diagnose_entropy_bits",
    "diagnose_kl_divergence",
    "show_solution",
    "solution_ce_gradient",
    "solution_entropy_bits",
    "solution_kl_divergence",
]
