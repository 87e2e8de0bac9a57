"""Exercises of notebook 08 (speed): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on a few cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a hint about what is wrong. It
never raises, so a notebook with unfinished exercises still runs top to
bottom. The ``solution_*`` functions are worked answers; print one with
``show_solution("weight_gradient")``.

1. :func:`check_weight_gradient`: vectorise the triple loop
   ``dW[i, j] = Σ_n X[n, i] dZ[n, j]`` into one matrix product.
2. :func:`check_flops_per_example`: the floating-point operations one
   training example costs an MLP (forward and backward).
3. :func:`check_mask_sparsity`: the fraction of weights that masks remove.
4. :func:`check_prune_smallest`: magnitude pruning of one weight matrix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._checks import CORRECT, as_float_array, call_learner, print_solution, same_values

#: A vectorised answer to exercise 1 takes milliseconds on this many rows; loops take seconds.
LOOP_TEST_SHAPE = (2000, 64, 32)
#: Seconds above which a correct answer to exercise 1 counts as "still looping".
SLOW_SECONDS = 0.25


# --- worked solutions --------------------------------------------------------------------


def solution_weight_gradient(X: np.ndarray, dZ: np.ndarray) -> np.ndarray:
    """``dW = Xᵀ dZ``, shape ``(D, K)`` from ``X (N, D)`` and ``dZ (N, K)``.

    Entry ``(i, j)`` of ``Xᵀ dZ`` is ``Σ_n X[n, i] dZ[n, j]``: exactly the sum the
    triple loop accumulates, but computed by one call into BLAS, which runs the
    multiply-adds in compiled, cache-friendly blocks with SIMD instructions.
    """
    return X.T @ dZ


def solution_flops_per_example(sizes: Sequence[int]) -> int:
    """Floating-point operations per example and training step: ``6 Σ_l n_l · n_{l+1}``.

    Forward: each weight takes part in one multiply and one add per example
    (``z = x W``), 2 operations per weight. Backward: two products of the same
    size per layer, ``dW = xᵀ dz`` and ``dx = dz Wᵀ``, so 4 per weight. Biases
    and activations cost ``O(units)``, not ``O(weights)``, and are left out.
    """
    return 6 * sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=False))


def solution_mask_sparsity(masks: Sequence[np.ndarray]) -> float:
    """Fraction of all weights a list of boolean masks removes (``False`` = pruned).

    Count the pruned entries over all masks and divide by the total number of
    entries; every weight counts once, so a big layer weighs more than a small one.
    """
    pruned = sum(int(np.sum(~np.asarray(m, dtype=bool))) for m in masks)
    total = sum(np.size(m) for m in masks)
    return pruned / total


def solution_prune_smallest(W: np.ndarray, sparsity: float) -> np.ndarray:
    """A copy of ``W`` with its ``round(sparsity · W.size)`` smallest ``|w|`` set to 0.

    ``np.argsort`` of the magnitudes lists the entries from smallest to
    largest; the first ``k`` of them are pruned. Working on ``W.copy()``
    leaves the caller's matrix as it was.
    """
    k = int(round(sparsity * W.size))
    pruned = W.copy()
    smallest = np.argsort(np.abs(W), axis=None)[:k]
    pruned.flat[smallest] = 0.0
    return pruned


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "weight_gradient": solution_weight_gradient,
    "flops_per_example": solution_flops_per_example,
    "mask_sparsity": solution_mask_sparsity,
    "prune_smallest": solution_prune_smallest,
}


def show_solution(name: str) -> None:
    """Print the worked solution ``name``: one of :data:`SOLUTIONS`, e.g. ``"weight_gradient"``."""
    print_solution(SOLUTIONS, name)


# --- helpers for the checks ----------------------------------------------------------------


def _as_number(value: Any) -> float | None:
    """``float(value)`` if that works and is finite, else ``None``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _close(got: Any, expected: Any) -> bool:
    """Same shape and values: a matrix product and the loop differ only by float rounding."""
    return same_values(got, expected, rtol=1e-9, atol=1e-12)


# --- exercise 1: vectorise the weight gradient --------------------------------------------


def _gradient_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(8)
    return [
        (rng.normal(size=(n, d)), rng.normal(size=(n, k))) for n, d, k in [(5, 3, 2), (7, 4, 4)]
    ]


def check_weight_gradient(weight_gradient: Callable[[np.ndarray, np.ndarray], Any]) -> None:
    """Check ``weight_gradient(X, dZ) -> dW`` against the loop, and that it is fast."""
    for X, dZ in _gradient_cases():
        result, problem = call_learner(
            weight_gradient,
            X,
            dZ,
            if_none=(
                "Not yet: weight_gradient returned None. Entry (i, j) of the answer sums "
                "X[n, i] * dZ[n, j] over the rows n: which matrix product does that?"
            ),
        )
        if problem:
            print(problem)
            return
        got = as_float_array(result)
        expected = solution_weight_gradient(X, dZ)
        if got is None or got.shape != expected.shape:
            shape = None if got is None else got.shape
            hint = f"dW must have shape {expected.shape} (D, K), got {shape}."
            if shape == expected.T.shape:
                hint += " You computed the transpose: which factor must be transposed, X or dZ?"
            print(f"Not yet: {hint}")
            return
        if _close(got, expected):
            continue
        n = X.shape[0]
        if _close(got, expected / n):
            print("Not yet: your answer is the loop's result divided by N. The loop sums; keep it.")
        else:
            print(
                f"Not yet: for X of shape {X.shape} and dZ {dZ.shape} the entries differ from "
                "the loop's Σ_n X[n, i] dZ[n, j]. Compare one entry by hand."
            )
        return
    rng = np.random.default_rng(9)
    n, d, k = LOOP_TEST_SHAPE
    X, dZ = rng.normal(size=(n, d)), rng.normal(size=(n, k))
    start = time.perf_counter()
    result, problem = call_learner(weight_gradient, X, dZ)
    seconds = time.perf_counter() - start
    if problem or not _close(as_float_array(result), solution_weight_gradient(X, dZ)):
        print(problem or f"Not yet: correct on small inputs, but wrong for shape {X.shape}.")
        return
    if seconds > SLOW_SECONDS:
        print(
            f"Not yet: the numbers are right, but {n}x{d} and {n}x{k} inputs took "
            f"{seconds:.2f} s: there is still a Python loop. Replace all of it by one `@`."
        )
        return
    print(CORRECT + " One matrix product does the whole triple loop.")


# --- exercise 2: flops per example ---------------------------------------------------------


def check_flops_per_example(flops_per_example: Callable[[Sequence[int]], Any]) -> None:
    """Check ``flops_per_example(sizes)``: forward and backward, 2 flops per multiply-add."""
    for sizes in ([64, 32, 10], [2, 16, 16, 1], [784, 256, 128, 10]):
        result, problem = call_learner(
            flops_per_example,
            list(sizes),
            if_none=(
                "Not yet: flops_per_example returned None. Start with the forward pass: how "
                "many multiplications and additions does z = x W take for one example?"
            ),
        )
        if problem:
            print(problem)
            return
        got = _as_number(result)
        if got is None:
            print(f"Not yet: return one number, got {result!r}.")
            return
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
        with_bias = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
        if got == 6 * weights:
            continue
        hints = {
            weights: "that is the number of weights (multiply-adds of the forward pass). Each "
            "multiply-add is 2 operations, and the backward pass costs about twice the forward.",
            2 * weights: "that is the forward pass alone. The backward pass computes two "
            "products of the same size per layer (dW = xᵀ dz and dx = dz Wᵀ).",
            3 * weights: "you counted each multiply-add as one operation: it is two (a multiply "
            "and an add).",
            4 * weights: "that is forward plus one backward product; the backward pass needs "
            "two per layer: dW = xᵀ dz and dx = dz Wᵀ.",
            6 * with_bias: "close: the estimate counts only the matrix products; leave out the "
            "biases (they cost per unit, not per weight).",
        }
        hint = hints.get(
            int(got) if got == int(got) else -1,
            f"for sizes {list(sizes)} ({weights} weights) expected 6 × weights = "
            f"{6 * weights}, got {got:g}.",
        )
        print(f"Not yet: {hint}")
        return
    print(CORRECT + " About 6 operations per weight and example.")


# --- exercise 3: sparsity of masks -----------------------------------------------------


def _mask_cases() -> list[list[np.ndarray]]:
    rng = np.random.default_rng(3)
    big = rng.random((20, 10)) < 0.9  # keeps ~90 %
    small = np.zeros((10, 2), dtype=bool)  # keeps nothing
    return [[np.array([[True, False], [False, False]])], [big, small]]


def check_mask_sparsity(mask_sparsity: Callable[[list[np.ndarray]], Any]) -> None:
    """Check ``mask_sparsity(masks)``: the fraction of all entries that are ``False``."""
    for masks in _mask_cases():
        result, problem = call_learner(
            mask_sparsity,
            masks,
            if_none=(
                "Not yet: mask_sparsity returned None. Count the False entries (pruned "
                "weights) of all masks and divide by the number of entries."
            ),
        )
        if problem:
            print(problem)
            return
        got = _as_number(result)
        if got is None:
            print(f"Not yet: return one number (a fraction between 0 and 1), got {result!r}.")
            return
        expected = solution_mask_sparsity(masks)
        if np.isclose(got, expected, rtol=1e-9):
            continue
        pruned = sum(int((~m).sum()) for m in masks)
        per_layer = float(np.mean([(~m).mean() for m in masks]))
        if np.isclose(got, 1 - expected):
            hint = "that is the density (the fraction kept, True). Sparsity counts the False."
        elif np.isclose(got, pruned):
            hint = "that is the number of pruned weights; divide by the number of all weights."
        elif len(masks) > 1 and np.isclose(got, per_layer):
            hint = (
                "you averaged the layers' sparsities, so a 20-weight layer counts as much as "
                "a 200-weight one. Count over all weights together."
            )
        else:
            hint = f"expected {expected:.4g} for masks of shapes {[m.shape for m in masks]}."
        print(f"Not yet: {hint}")
        return
    print(CORRECT)


# --- exercise 4: prune one matrix by magnitude ------------------------------------------


def check_prune_smallest(prune_smallest: Callable[[np.ndarray, float], Any]) -> None:
    """Check ``prune_smallest(W, sparsity)``: the smallest ``|w|`` zeroed, the rest untouched."""
    rng = np.random.default_rng(4)
    for shape, s in (((4, 5), 0.5), ((8, 6), 0.25), ((10, 10), 0.9)):
        W = rng.normal(size=shape)
        before = W.copy()
        result, problem = call_learner(
            prune_smallest,
            W,
            s,
            if_none=(
                "Not yet: prune_smallest returned None. Sort |W| (np.argsort of np.abs(W)), "
                "zero the first k = round(s · W.size) entries of a copy, and return it."
            ),
        )
        if problem:
            print(problem)
            return
        got = as_float_array(result)
        if got is None or got.shape != W.shape:
            print(f"Not yet: return a matrix of W's shape {W.shape}.")
            return
        if not np.array_equal(W, before):
            print("Not yet: your function changed W itself. Prune a copy (W.copy()) instead.")
            return
        expected = solution_prune_smallest(W, s)
        if np.array_equal(got, expected):
            continue
        k = int(round(s * W.size))
        zeros = int(np.sum(got == 0))
        kept_changed = np.any((got != 0) & (got != W))
        if kept_changed:
            hint = "some weights you kept have new values; pruning only sets weights to zero."
        elif zeros != k:
            hint = f"with sparsity {s} a {shape[0]}x{shape[1]} matrix loses k = {k} weights, "
            hint += f"you zeroed {zeros}."
        elif np.abs(W[got == 0]).min() >= np.abs(W[got != 0]).max():
            hint = "you removed the largest weights; magnitude pruning removes the smallest |w|."
        elif W[got == 0].max() <= W[got != 0].min():
            hint = "you removed the most negative weights: rank by magnitude |w| (np.abs)."
        else:
            hint = f"the {k} zeroed entries are not the {k} smallest |w|."
        print(f"Not yet: {hint}")
        return
    print(CORRECT)


__all__ = [
    "CORRECT",
    "SOLUTIONS",
    "check_flops_per_example",
    "check_mask_sparsity",
    "check_prune_smallest",
    "check_weight_gradient",
    "show_solution",
    "solution_flops_per_example",
    "solution_mask_sparsity",
    "solution_prune_smallest",
    "solution_weight_gradient",
]
