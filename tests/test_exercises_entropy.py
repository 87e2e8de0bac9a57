"""Exercise checks of notebook 07: solutions pass, typical mistakes get graded hints."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib.exercises import entropy as ex


def entropy_nats(p):
    nz = p[p > 0]
    return -np.sum(nz * np.log(nz))


def test_entropy_bits(say) -> None:
    check = ex.check_entropy_bits
    assert say(check, ex.solution_entropy_bits).startswith("Correct!")
    assert "returned None" in say(check, lambda p: None)
    naive = lambda p: -np.sum(p * np.log2(p))  # noqa: E731
    first = say(check, naive)
    assert "you returned nan" in first and "0 * log(0)" not in first
    assert "0 * log(0)" in say(check, naive)
    assert "nats" in say(check, entropy_nats)
    assert "sign" in say(check, lambda p: -ex.solution_entropy_bits(p))
    assert "without weighting" in say(check, lambda p: -np.sum(np.log2(p[p > 0])))
    assert "array of shape (2,)" in say(check, lambda p: p)
    assert "remove the quotes" in say(check, lambda p: str(ex.solution_entropy_bits(p)))
    assert "raised ZeroDivisionError" in say(check, lambda p: 1 / 0)
    # Right for the coin, wrong elsewhere: must not pass.
    assert not say(check, lambda p: 1.0).startswith("Correct!")


def test_kl_divergence(say) -> None:
    check = ex.check_kl_divergence
    assert say(check, ex.solution_kl_divergence).startswith("Correct!")

    def filtered(p, q):
        m = p > 0
        return np.sum(p[m] * np.log(p[m] / q[m]))

    assert say(check, filtered).startswith("Correct!")
    assert "returned None" in say(check, lambda p, q: None)
    assert "swapped" in say(check, lambda p, q: filtered(q, p))
    assert "cross-entropy" in say(check, lambda p, q: -np.sum(p * np.log(q)))
    assert "nan" in say(check, lambda p, q: np.sum(p * np.log(p / q)))
    assert "bits" in say(check, lambda p, q: filtered(p, q) / np.log(2))

    def finite_only(p, q):
        m = (p > 0) & (q > 0)
        return np.sum(p[m] * np.log(p[m] / q[m]))

    first = say(check, finite_only)
    assert "infinite" in first and "np.inf" not in first
    assert "np.inf" in say(check, finite_only)


def test_ce_gradient(say) -> None:
    check = ex.check_ce_gradient
    assert say(check, ex.solution_ce_gradient).startswith("Correct!")
    assert "returned None" in say(check, lambda z, k: None)

    def naive(z, k):
        e = np.exp(z)
        g = e / e.sum()
        g[k] -= 1
        return g

    assert "nan or inf" in say(check, naive)
    assert "overflows" in say(check, naive)
    assert "flipped" in say(check, lambda z, k: -ex.solution_ce_gradient(z, k))
    q_only = lambda z, k: ex.solution_ce_gradient(z, k) + np.eye(len(z))[k]  # noqa: E731
    assert "softmax(z) alone" in say(check, q_only)
    assert "from the logits" in say(check, lambda z, k: z - np.eye(len(z))[k])
    assert "one entry per logit" in say(check, lambda z, k: np.zeros(2), hint=2)
    assert "a float" in say(check, lambda z, k: 0.0)
    assert "a list" in say(check, lambda z, k: ex.solution_ce_gradient(z, k).tolist())


def test_checks_do_not_change_the_learners_view_of_inputs(say) -> None:
    seen = []

    def spy(z, k):
        seen.append(z.copy())
        z[:] = 0.0  # an in-place change must not leak into later cases
        return ex.solution_ce_gradient(seen[-1], k)

    assert say(ex.check_ce_gradient, spy).startswith("Correct!")
    assert not np.allclose(seen[0], 0.0)


def test_show_solution_prints_source(capsys) -> None:
    ex.show_solution("ce_gradient")
    assert "np.exp(z - z.max())" in capsys.readouterr().out
    with pytest.raises(ValueError, match="Valid names"):
        ex.show_solution("nope")
