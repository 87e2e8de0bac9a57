"""Exercise checks of notebook 08: solutions pass, typical mistakes get graded hints."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib import pruning
from nnlib.exercises import speed as ex


def _triple_loop(X, dZ):
    dW = np.zeros((X.shape[1], dZ.shape[1]))
    for n in range(X.shape[0]):
        for i in range(X.shape[1]):
            for j in range(dZ.shape[1]):
                dW[i, j] += X[n, i] * dZ[n, j]
    return dW


def _per_row(X, dZ):
    """One loop left: a sum of outer products, row by row."""
    dW = np.zeros((X.shape[1], dZ.shape[1]))
    for n in range(X.shape[0]):
        dW += np.outer(X[n], dZ[n])
    return dW


def _zipped_rows(X, dZ):
    return sum(np.outer(x, dz) for x, dz in zip(X, dZ, strict=True))


@pytest.mark.parametrize(
    "vectorised",
    [
        ex.solution_weight_gradient,
        lambda X, dZ: np.dot(X.T, dZ),
        lambda X, dZ: X.T.dot(dZ),
        lambda X, dZ: np.matmul(X.T, dZ),
        lambda X, dZ: np.einsum("ni,nj->ij", X, dZ),
        lambda X, dZ: np.tensordot(X, dZ, axes=(0, 0)),
        lambda X, dZ: (X[:, :, None] * dZ[:, None, :]).sum(axis=0),  # broadcasting, no loop
    ],
)
def test_weight_gradient_accepts_every_loop_free_answer(say, vectorised) -> None:
    assert say(ex.check_weight_gradient, vectorised).startswith("Correct!")


@pytest.mark.parametrize("loop", [_triple_loop, _per_row, _zipped_rows])
def test_weight_gradient_rejects_any_loop_left(say, loop) -> None:
    out = say(ex.check_weight_gradient, loop)
    assert out.startswith("Not yet: the numbers are right, but your function read X and dZ")
    assert "still a loop" in out
    assert "rows included" in say(ex.check_weight_gradient, loop)  # grade 2
    assert "Correct" not in out


def test_python_reads_counts_indexing_and_iteration() -> None:
    X, dZ = np.ones((10, 3)), np.ones((10, 2))
    assert ex.python_reads(ex.solution_weight_gradient, X, dZ)[1] == 0
    assert ex.python_reads(_per_row, X, dZ)[1] == 20
    assert ex.python_reads(_zipped_rows, X, dZ)[1] >= 20
    result, _, problem = ex.python_reads(_per_row, X, dZ)
    assert problem is None and type(result) is np.ndarray


def test_weight_gradient_other_mistakes(say) -> None:
    check = ex.check_weight_gradient
    assert "returned None" in say(check, lambda X, dZ: None)
    assert "the transpose" in say(check, lambda X, dZ: dZ.T @ X)
    assert "X or dZ" in say(check, lambda X, dZ: dZ.T @ X, hint=2)
    assert "divided by N" in say(check, lambda X, dZ: X.T @ dZ / len(X))
    assert "raised" in say(check, lambda X, dZ: X.T * dZ)
    assert "a list" in say(check, lambda X, dZ: (X.T @ dZ).tolist())


def _times(f):
    return lambda s: f * sum(a * b for a, b in zip(s[:-1], s[1:], strict=False))


def test_flops_per_example(say) -> None:
    check = ex.check_flops_per_example
    assert say(check, ex.solution_flops_per_example).startswith("Correct!")
    assert ex.solution_flops_per_example([64, 32, 10]) == 6 * (64 * 32 + 32 * 10)
    assert "returned None" in say(check, lambda s: None)
    first = say(check, _times(1))
    assert "number of weights" in first and "twice the forward" not in first
    assert "twice the forward" in say(check, _times(1))
    assert "forward pass alone" in say(check, _times(2))
    assert "a multiply and an add" in say(check, _times(3), hint=2)
    assert "not the estimate" in say(check, lambda s: 7)
    assert "remove the quotes" in say(check, lambda s: str(ex.solution_flops_per_example(s)))


def test_mask_sparsity(say) -> None:
    check = ex.check_mask_sparsity
    assert say(check, ex.solution_mask_sparsity).startswith("Correct!")
    assert say(check, lambda m: pruning.mask_sparsity(m, False)).startswith("Correct!")
    assert "returned None" in say(check, lambda m: None)
    assert "kept (True)" in say(check, lambda m: 1 - ex.solution_mask_sparsity(m))
    averaged = say(check, lambda m: float(np.mean([(~np.asarray(x)).mean() for x in m])))
    assert "averaged the layers" in averaged
    assert "remove the quotes" in say(check, lambda m: "0.75")


def _by(order, count=round):
    def prune_fn(W, s):
        out = W.copy()
        out.flat[np.argsort(order(W), axis=None)[: count(s * W.size)]] = 0
        return out

    return prune_fn


def test_prune_smallest(say) -> None:
    check = ex.check_prune_smallest
    assert say(check, ex.solution_prune_smallest).startswith("Correct!")
    assert say(check, _by(np.abs)).startswith("Correct!")
    assert "returned None" in say(check, lambda W, s: None)
    assert "largest" in say(check, _by(lambda W: -np.abs(W)))
    assert "most negative" in say(check, _by(lambda W: W))
    assert "loses k" in say(check, lambda W, s: np.where(abs(W) < s, 0, W))

    def in_place(W, s):
        W.flat[np.argsort(np.abs(W), axis=None)[: round(s * W.size)]] = 0
        return W

    assert "changed W itself" in say(check, in_place)
    assert "a list" in say(check, lambda W, s: ex.solution_prune_smallest(W, s).tolist())


def test_prune_smallest_rejects_cutting_off_a_fractional_k(say) -> None:
    assert any(s * np.prod(shape) % 1 for shape, s in ex.PRUNE_CASES)  # a non-integer k is tested
    truncated = _by(np.abs, count=int)
    out = say(ex.check_prune_smallest, truncated)
    assert out.startswith(
        "Not yet: with sparsity 0.3 a 3x4 matrix loses k = 4 weights; you zeroed 3"
    )
    assert "round it to the nearest" in say(ex.check_prune_smallest, truncated)


def test_show_solution_prints_source(capsys) -> None:
    ex.show_solution("weight_gradient")
    assert "return X.T @ dZ" in capsys.readouterr().out
    with pytest.raises(ValueError, match="Valid names"):
        ex.show_solution("nope")
