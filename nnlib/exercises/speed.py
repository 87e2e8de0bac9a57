"""Exercises of notebook 08 (speed): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on a few cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a graded hint about what is
wrong (see :mod:`nnlib.exercises._checks`: the first hint points at the
mistake; the same mistake again, or ``hint=2``, narrows it down). It never
raises, so a notebook with unfinished exercises still runs top to bottom. The
``solution_*`` functions are worked answers; print one with
``show_solution("weight_gradient")``.

1. :func:`check_weight_gradient`: vectorise the triple loop
   ``dW[i, j] = Σ_n X[n, i] dZ[n, j]`` into one matrix product.
2. :func:`check_flops_per_example`: the floating-point operations one
   training example costs an MLP (forward and backward).
3. :func:`check_mask_sparsity`: the fraction of weights that masks remove.
4. :func:`check_prune_smallest`: magnitude pruning of one weight matrix.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._checks import (
    CORRECT,
    Hint,
    as_array,
    as_number,
    call_learner,
    print_solution,
    report,
    same_values,
    type_hint,
)

#: Rows, inputs and outputs of the arrays on which exercise 1 watches for loops.
LOOP_TEST_SHAPE = (200, 16, 8)
#: More Python-level reads of X and dZ than this (indexing or iterating) count as a loop.
#: Broadcasting without a loop needs two (``X[:, :, None] * dZ[:, None, :]``).
LOOP_READS = 4


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


def _close(got: Any, expected: Any) -> bool:
    """Same shape and values: a matrix product and the loop differ only by float rounding."""
    return same_values(got, expected, rtol=1e-9, atol=1e-12)


def _one_number(result: Any, what: str) -> tuple[float | None, Hint | None]:
    got = as_number(result)
    if got is None:
        return None, type_hint(result, f"one number ({what})")
    if not math.isfinite(got):
        return None, Hint("not finite", f"{what} is a finite number, got {got}.")
    return got, None


class _Watched(np.ndarray):
    """An array that counts how often Python code indexes it or iterates over it.

    Views and results made from it (``X.T``, ``X[0]``) share the same counter,
    so ``for n in range(N): ... X[n] ...`` and ``for x in X`` both show up,
    while ``X.T @ dZ`` or ``np.einsum`` read it from compiled code and count 0.
    """

    _reads: list[int]

    def __array_finalize__(self, obj: Any) -> None:
        self._reads = getattr(obj, "_reads", [0])

    def __getitem__(self, key: Any) -> Any:
        self._reads[0] += 1
        return super().__getitem__(key)

    def __iter__(self) -> Any:
        self._reads[0] += len(self)
        return super().__iter__()


def _watched(a: np.ndarray, reads: list[int]) -> _Watched:
    out = np.array(a, copy=True).view(_Watched)
    out._reads = reads
    return out


def python_reads(fn: Callable[..., Any], *arrays: np.ndarray) -> tuple[Any, int, Hint | None]:
    """Call ``fn`` on watched copies of ``arrays``: ``(result, Python-level reads, problem)``."""
    reads = [0]
    result, problem = call_learner(fn, *(_watched(a, reads) for a in arrays))
    if isinstance(result, _Watched):
        result = np.asarray(result).view(np.ndarray)
    return result, reads[0], problem


# --- exercise 1: vectorise the weight gradient --------------------------------------------


def _gradient_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(8)
    return [
        (rng.normal(size=(n, d)), rng.normal(size=(n, k))) for n, d, k in [(5, 3, 2), (7, 4, 4)]
    ]


def diagnose_weight_gradient(
    weight_gradient: Callable[[np.ndarray, np.ndarray], Any],
) -> Hint | None:
    """``None`` if ``weight_gradient(X, dZ)`` is ``Xᵀ dZ`` computed without a Python loop."""
    for X, dZ in _gradient_cases():
        result, problem = call_learner(
            weight_gradient,
            X.copy(),
            dZ.copy(),
            if_none=Hint(
                "None",
                "weight_gradient returned None. Entry (i, j) of the answer sums "
                "X[n, i] * dZ[n, j] over the rows n: which matrix product does that?",
            ),
        )
        if problem:
            return problem
        got = as_array(result)
        expected = solution_weight_gradient(X, dZ)
        if got is None:
            return type_hint(result, f"a NumPy array of shape {expected.shape}")
        if got.shape != expected.shape:
            if got.shape == expected.T.shape:
                return Hint(
                    "transposed",
                    f"dW must have shape {expected.shape} (D, K), got {got.shape}: the transpose.",
                    "Which factor must be transposed, X or dZ, to give (D, K)?",
                )
            return Hint(
                "shape",
                f"dW must have shape {expected.shape} (D, K), the shape of the weights; got "
                f"{got.shape}.",
                "(D, N) times (N, K) gives (D, K).",
            )
        if _close(got, expected):
            continue
        if _close(got, expected / X.shape[0]):
            return Hint(
                "mean",
                "your answer is the loop's result divided by N.",
                "The loop sums over the rows; it does not average.",
            )
        return Hint(
            "other",
            f"for X of shape {X.shape} and dZ {dZ.shape} the entries differ from the loop's.",
            "Compare one entry by hand: entry (i, j) is Σ_n X[n, i] · dZ[n, j].",
        )
    rng = np.random.default_rng(9)
    n, d, k = LOOP_TEST_SHAPE
    X, dZ = rng.normal(size=(n, d)), rng.normal(size=(n, k))
    result, reads, problem = python_reads(weight_gradient, X, dZ)
    if problem:
        return problem
    if not _close(as_array(result), solution_weight_gradient(X, dZ)):
        return Hint("large", f"correct on small inputs, but wrong for X of shape {X.shape}.")
    if reads > LOOP_READS:
        return Hint(
            "loop",
            f"the numbers are right, but your function read X and dZ {reads} times from Python "
            f"for {n} rows: there is still a loop.",
            "Replace all of it, rows included, by one matrix product.",
        )
    return None


def check_weight_gradient(
    weight_gradient: Callable[[np.ndarray, np.ndarray], Any], hint: int | None = None
) -> None:
    """Check ``weight_gradient(X, dZ) -> dW`` against the loop, and that no loop is left.

    The loop test passes arrays that count how often Python code indexes them
    or iterates over them (a loop over rows reads them once per row or more);
    a matrix product reads them from compiled code and counts nothing.
    """
    report(
        "weight_gradient",
        diagnose_weight_gradient(weight_gradient),
        "One matrix product does the whole triple loop.",
        grade=hint,
    )


# --- exercise 2: flops per example ---------------------------------------------------------


def diagnose_flops_per_example(flops_per_example: Callable[[Sequence[int]], Any]) -> Hint | None:
    """``None`` if ``flops_per_example(sizes)`` is ``6 Σ n_l n_{l+1}``, else a hint."""
    for sizes in ([64, 32, 10], [2, 16, 16, 1], [784, 256, 128, 10]):
        result, problem = call_learner(
            flops_per_example,
            list(sizes),
            if_none=Hint(
                "None",
                "flops_per_example returned None. Start with the forward pass: how many "
                "multiplications and additions does z = x W take for one example?",
            ),
        )
        if problem:
            return problem
        got, problem = _one_number(result, "the number of operations")
        if problem:
            return problem
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
        with_bias = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
        if got == 6 * weights:
            continue
        known = {
            weights: Hint(
                "weights only",
                "that is the number of weights.",
                "Each weight takes part in one multiply-add per example in the forward pass (2 "
                "operations), and the backward pass costs about twice the forward.",
            ),
            2 * weights: Hint(
                "forward only",
                "that is the forward pass alone.",
                "The backward pass computes two products of the same size per layer "
                "(dW = xᵀ dz and dx = dz Wᵀ).",
            ),
            3 * weights: Hint(
                "one op",
                "you counted each multiply-add as one operation.",
                "A multiply-add is two operations: a multiply and an add.",
            ),
            4 * weights: Hint(
                "one backward product",
                "that is the forward pass plus one backward product.",
                "The backward pass needs two per layer: dW = xᵀ dz and dx = dz Wᵀ.",
            ),
            6 * with_bias: Hint(
                "biases",
                "close: your count includes the biases.",
                "The estimate counts only the matrix products; biases cost per unit, not per "
                "weight.",
            ),
        }
        return known.get(
            int(got) if got == int(got) else -1,
            Hint(
                "other",
                f"for sizes {list(sizes)} your {got:g} operations are not the estimate.",
                "Count the weights (the sum of n_l · n_(l+1)), then the operations per weight "
                "and example: 2 in the forward pass, twice as many in the backward pass.",
            ),
        )
    return None


def check_flops_per_example(
    flops_per_example: Callable[[Sequence[int]], Any], hint: int | None = None
) -> None:
    """Check ``flops_per_example(sizes)``: forward and backward, 2 flops per multiply-add."""
    report(
        "flops_per_example",
        diagnose_flops_per_example(flops_per_example),
        "About 6 operations per weight and example.",
        grade=hint,
    )


# --- exercise 3: sparsity of masks -----------------------------------------------------


def _mask_cases() -> list[list[np.ndarray]]:
    rng = np.random.default_rng(3)
    big = rng.random((20, 10)) < 0.9  # keeps ~90 %
    small = np.zeros((10, 2), dtype=bool)  # keeps nothing
    return [[np.array([[True, False], [False, False]])], [big, small]]


def diagnose_mask_sparsity(mask_sparsity: Callable[[list[np.ndarray]], Any]) -> Hint | None:
    """``None`` if ``mask_sparsity(masks)`` is the fraction of all entries that are ``False``."""
    for masks in _mask_cases():
        result, problem = call_learner(
            mask_sparsity,
            [m.copy() for m in masks],
            if_none=Hint(
                "None",
                "mask_sparsity returned None. Count the pruned weights (False) of all masks and "
                "divide by the number of all weights.",
            ),
        )
        if problem:
            return problem
        got, problem = _one_number(result, "a fraction between 0 and 1")
        if problem:
            return problem
        expected = solution_mask_sparsity(masks)
        if np.isclose(got, expected, rtol=1e-9):
            continue
        pruned = sum(int((~m).sum()) for m in masks)
        per_layer = float(np.mean([(~m).mean() for m in masks]))
        if np.isclose(got, 1 - expected):
            return Hint(
                "density",
                "that is the fraction of weights kept (True).",
                "Sparsity counts the pruned ones, False.",
            )
        if np.isclose(got, pruned):
            return Hint(
                "count",
                "that is the number of pruned weights, not a fraction.",
                "Divide by the number of all weights.",
            )
        if len(masks) > 1 and np.isclose(got, per_layer):
            return Hint(
                "per layer",
                "you averaged the layers' sparsities, so a 20-weight layer counts as much as a "
                "200-weight one.",
                "Count over all weights together.",
            )
        return Hint(
            "other",
            f"for masks of shapes {[m.shape for m in masks]} your {got:.4g} is not the fraction "
            "of pruned weights.",
            "Count the False entries over all masks and divide by the number of entries over "
            "all masks.",
        )
    return None


def check_mask_sparsity(
    mask_sparsity: Callable[[list[np.ndarray]], Any], hint: int | None = None
) -> None:
    """Check ``mask_sparsity(masks)``: the fraction of all entries that are ``False``."""
    report("mask_sparsity", diagnose_mask_sparsity(mask_sparsity), grade=hint)


# --- exercise 4: prune one matrix by magnitude ------------------------------------------

#: (shape, sparsity) of exercise 4; 0.3 · 12 = 3.6 is not a whole number: round, not int.
PRUNE_CASES = (((4, 5), 0.5), ((8, 6), 0.25), ((3, 4), 0.3), ((10, 10), 0.9))


def diagnose_prune_smallest(prune_smallest: Callable[[np.ndarray, float], Any]) -> Hint | None:
    """``None`` if ``prune_smallest(W, s)`` zeroes the ``round(s · W.size)`` smallest ``|w|``."""
    rng = np.random.default_rng(4)
    for shape, s in PRUNE_CASES:
        W = rng.normal(size=shape)
        before = W.copy()
        result, problem = call_learner(
            prune_smallest,
            W,
            s,
            if_none=Hint(
                "None",
                "prune_smallest returned None. Return a copy of W in which the weights with the "
                "smallest magnitude are set to 0.",
            ),
        )
        if problem:
            return problem
        got = as_array(result)
        if got is None:
            return type_hint(result, f"a NumPy array of W's shape {W.shape}")
        if got.shape != W.shape:
            return Hint("shape", f"return a matrix of W's shape {W.shape}; got {got.shape}.")
        if not np.array_equal(W, before):
            return Hint(
                "in place",
                "your function changed W itself.",
                "Prune a copy (W.copy()) and return it.",
            )
        expected = solution_prune_smallest(W, s)
        if np.array_equal(got, expected):
            continue
        k = int(round(s * W.size))
        zeros = int(np.sum(got == 0))
        size = f"{shape[0]}x{shape[1]}"
        if np.any((got != 0) & (got != W)):
            return Hint(
                "changed kept",
                "some weights you kept have new values.",
                "Pruning only sets weights to zero; the others stay exactly as they were.",
            )
        if zeros != k:
            if zeros == int(s * W.size) and s * W.size != k:
                return Hint(
                    "int not round",
                    f"with sparsity {s} a {size} matrix loses k = {k} weights; you zeroed {zeros}.",
                    f"s · W.size = {s * W.size:.4g} is not a whole number: round it to the "
                    "nearest (round), do not cut it off (int).",
                )
            return Hint(
                "count",
                f"with sparsity {s} a {size} matrix loses k = {k} weights; you zeroed {zeros}.",
                "k = round(sparsity · W.size).",
            )
        if np.abs(W[got == 0]).min() >= np.abs(W[got != 0]).max():
            return Hint(
                "largest",
                "you removed the largest weights.",
                "Magnitude pruning removes the smallest |w|.",
            )
        if W[got == 0].max() <= W[got != 0].min():
            return Hint(
                "most negative",
                "you removed the most negative weights.",
                "Rank by magnitude |w| (np.abs), not by value.",
            )
        return Hint(
            "other",
            f"the {k} zeroed entries are not the {k} smallest |w|.",
            "np.argsort(np.abs(W), axis=None) lists the entries from the smallest magnitude to "
            "the largest.",
        )
    return None


def check_prune_smallest(
    prune_smallest: Callable[[np.ndarray, float], Any], hint: int | None = None
) -> None:
    """Check ``prune_smallest(W, sparsity)``: the smallest ``|w|`` zeroed, the rest untouched."""
    report("prune_smallest", diagnose_prune_smallest(prune_smallest), grade=hint)


__all__ = [
    "CORRECT",
    "LOOP_READS",
    "LOOP_TEST_SHAPE",
    "PRUNE_CASES",
    "SOLUTIONS",
    "check_flops_per_example",
    "check_mask_sparsity",
    "check_prune_smallest",
    "check_weight_gradient",
    "diagnose_flops_per_example",
    "diagnose_mask_sparsity",
    "diagnose_prune_smallest",
    "diagnose_weight_gradient",
    "python_reads",
    "show_solution",
    "solution_flops_per_example",
    "solution_mask_sparsity",
    "solution_prune_smallest",
    "solution_weight_gradient",
]
