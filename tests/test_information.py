"""Entropy, cross-entropy and KL divergence (nnlib.information): values, identities, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnlib import information as info
from nnlib.losses import softmax, softmax_cross_entropy


@pytest.fixture(autouse=True)
def warnings_are_errors():
    """No function here may emit a NumPy warning (e.g. log(0) or 0 * inf)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def distributions(n_classes: int = 5, zeros: bool = True):
    """Probability vectors of length ``n_classes``, some entries exactly 0 when ``zeros``."""
    low = 0.0 if zeros else 1e-3
    weights = arrays(np.float64, n_classes, elements=st.floats(low, 1.0))
    return weights.filter(lambda w: w.sum() > 1e-3).map(lambda w: w / w.sum())


def naive_entropy(p: np.ndarray) -> float:
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


# --- entropy ---------------------------------------------------------------------------------


def test_entropy_of_coins_and_dice() -> None:
    assert info.entropy([0.5, 0.5], base=2) == pytest.approx(1.0)
    assert info.entropy([0.5, 0.5]) == pytest.approx(math.log(2))
    assert info.entropy(np.full(6, 1 / 6), base=2) == pytest.approx(math.log2(6))
    biased = info.entropy([0.9, 0.1], base=2)
    assert biased == pytest.approx(-(0.9 * math.log2(0.9) + 0.1 * math.log2(0.1)))
    assert 0 < biased < 1


def test_certain_outcome_has_zero_entropy_without_nan() -> None:
    assert info.entropy([1.0, 0.0]) == 0.0
    assert info.entropy([0.0, 0.0, 1.0], base=2) == 0.0
    assert info.entropy([0.5, 0.0, 0.5], base=2) == pytest.approx(1.0)


def test_bits_and_nats_differ_by_ln2() -> None:
    p = np.array([0.2, 0.3, 0.5])
    assert info.entropy(p, base=2) == pytest.approx(info.entropy(p) / math.log(2))
    assert info.entropy(p, base=10) == pytest.approx(info.entropy(p) / math.log(10))


def test_vector_gives_float_rows_give_array() -> None:
    rows = np.array([[0.5, 0.5], [1.0, 0.0], [0.9, 0.1]])
    h = info.entropy(rows, base=2)
    assert isinstance(info.entropy(rows[0]), float)
    assert isinstance(h, np.ndarray) and h.shape == (3,)
    np.testing.assert_allclose(h, [info.entropy(r, base=2) for r in rows])
    stacked = info.entropy(np.stack([rows, rows[::-1]]))
    assert stacked.shape == (2, 3)


@given(distributions())
def test_entropy_between_zero_and_log_c(p: np.ndarray) -> None:
    h = info.entropy(p)
    assert h == pytest.approx(naive_entropy(p), abs=1e-12)
    assert 0.0 <= h <= math.log(len(p)) + 1e-12


@pytest.mark.parametrize("c", [2, 3, 10, 100])
def test_uniform_distribution_has_the_largest_entropy(c: int) -> None:
    uniform = np.full(c, 1 / c)
    assert info.entropy(uniform) == pytest.approx(math.log(c))
    rng = np.random.default_rng(c)
    others = rng.dirichlet(np.ones(c), size=200)
    assert np.all(info.entropy(others) < math.log(c))


# --- cross-entropy and KL --------------------------------------------------------------------


def test_cross_entropy_of_one_hot_is_minus_log_q() -> None:
    q = np.array([0.1, 0.6, 0.3])
    assert info.cross_entropy([0, 1, 0], q) == pytest.approx(-math.log(0.6))
    assert info.cross_entropy([0, 0, 1], q, base=2) == pytest.approx(-math.log2(0.3))


def test_kl_asymmetric_with_known_values() -> None:
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    pq = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)
    qp = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)
    assert info.kl_divergence(p, q) == pytest.approx(pq)
    assert info.kl_divergence(q, p) == pytest.approx(qp)
    assert abs(pq - qp) > 0.1


def test_zero_probabilities_follow_the_conventions() -> None:
    # p_k = 0 contributes nothing, even where q_k = 0 too.
    assert info.cross_entropy([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == pytest.approx(math.log(2))
    assert info.kl_divergence([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0
    assert info.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    # q_k = 0 where p_k > 0: infinitely surprising.
    assert info.cross_entropy([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert info.kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    rows = info.kl_divergence([[0.5, 0.5], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]])
    assert rows[0] == math.inf and rows[1] == 0.0


@given(distributions(), distributions(zeros=False))
def test_gibbs_and_the_decomposition(p: np.ndarray, q: np.ndarray) -> None:
    h_pq, h_p, d = info.cross_entropy(p, q), info.entropy(p), info.kl_divergence(p, q)
    assert d >= 0.0
    assert h_pq >= h_p - 1e-12
    assert d == pytest.approx(h_pq - h_p, abs=1e-9)
    assert info.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert info.cross_entropy(p, p) == pytest.approx(h_p, abs=1e-12)


@given(distributions(4, zeros=False), distributions(4, zeros=False))
def test_kl_units(p: np.ndarray, q: np.ndarray) -> None:
    assert info.kl_divergence(p, q, base=2) == pytest.approx(
        info.kl_divergence(p, q) / math.log(2), rel=1e-9, abs=1e-15
    )


def test_kl_is_zero_only_for_equal_distributions() -> None:
    p = np.array([0.2, 0.3, 0.5])
    assert info.kl_divergence(p, p) == 0.0
    assert info.kl_divergence(p, [0.21, 0.29, 0.5]) > 0.0


# --- from logits -------------------------------------------------------------------------------


def test_from_logits_agree_with_probabilities() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 4)) * 3
    q = np.asarray(softmax(z))
    p = rng.dirichlet(np.ones(4), size=6)
    np.testing.assert_allclose(info.entropy_from_logits(z), info.entropy(q), atol=1e-12)
    np.testing.assert_allclose(info.cross_entropy_from_logits(p, z), info.cross_entropy(p, q))
    np.testing.assert_allclose(info.kl_divergence_from_logits(p, z), info.kl_divergence(p, q))
    assert info.entropy_from_logits(z[0], base=2) == pytest.approx(info.entropy(q[0], base=2))


def test_cross_entropy_from_logits_is_the_librarys_loss() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(8, 5))
    labels = rng.integers(0, 5, size=8)
    onehot = np.eye(5)[labels]
    loss, _ = softmax_cross_entropy(z, labels)
    assert info.cross_entropy_from_logits(onehot, z).mean() == pytest.approx(float(loss))
    # For one-hot targets H(y) = 0, so the KL divergence equals the cross-entropy.
    np.testing.assert_allclose(
        info.kl_divergence_from_logits(onehot, z), info.cross_entropy_from_logits(onehot, z)
    )


def test_from_logits_finite_for_extreme_logits() -> None:
    z = np.array([1000.0, -1000.0, 0.0])
    assert info.entropy_from_logits(z) == pytest.approx(0.0, abs=1e-12)
    wrong = info.cross_entropy_from_logits([0.0, 1.0, 0.0], z)
    assert wrong == pytest.approx(2000.0)
    assert math.isfinite(info.kl_divergence_from_logits([0.2, 0.5, 0.3], z))
    # softmax rounds q_1 to exactly 0, so the probability version is infinite:
    q = np.asarray(softmax(z[None, :]))[0]
    assert info.cross_entropy([0.0, 1.0, 0.0], q) == math.inf


@given(arrays(np.float64, 5, elements=st.floats(-30, 30)), st.floats(-100, 100))
def test_logit_shift_changes_nothing(z: np.ndarray, shift: float) -> None:
    assert info.entropy_from_logits(z + shift) == pytest.approx(
        info.entropy_from_logits(z), abs=1e-9
    )


def test_uniform_logits_have_entropy_log_c() -> None:
    assert info.entropy_from_logits(np.zeros(8), base=2) == pytest.approx(3.0)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p, match",
    [
        ([0.5, 0.6], r"sums to 1\.1.*Normalise"),
        ([[0.5, 0.5], [0.3, 0.3]], r"row 1\) sums to 0\.6"),
        ([1.2, -0.2], r"negative entry.*_from_logits"),
        ([[0.5, 0.5], [1.2, -0.2]], r"row 1\) has a negative"),
        ([np.nan, 1.0], "NaN or inf"),
        ([], "at least one class"),
        (0.5, "at least one class"),
        (["a", "b"], "array of numbers"),
    ],
)
def test_bad_distributions_raise_clearly(p, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        info.entropy(p)


def test_q_is_checked_too_and_named() -> None:
    with pytest.raises(ValueError, match=r"^q sums to 0\.9"):
        info.cross_entropy([0.5, 0.5], [0.5, 0.4])
    with pytest.raises(ValueError, match=r"^q .*negative"):
        info.kl_divergence([0.5, 0.5], [1.5, -0.5])


def test_sum_tolerance() -> None:
    info.entropy([0.5, 0.5 + 1e-9])
    rows = np.asarray(softmax(np.random.default_rng(0).normal(size=(50, 10)).astype(np.float32)))
    assert info.entropy(rows).shape == (50,)
    with pytest.raises(ValueError, match="within 1e-06"):
        info.entropy([0.5, 0.5 + 1e-5])
    info.check_distribution([0.5, 0.5 + 1e-5], tol=1e-4)


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match=r"p has shape \(2,\) but q has shape \(3,\)"):
        info.cross_entropy([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="must match"):
        info.kl_divergence(np.full((2, 3), 1 / 3), np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"p has shape \(2,\) but logits"):
        info.cross_entropy_from_logits([0.5, 0.5], [0.0, 1.0, 2.0])


@pytest.mark.parametrize("base", [1, 0, -2, math.inf, True, "2"])
def test_bad_base_raises(base) -> None:
    with pytest.raises(ValueError, match="base must be"):
        info.entropy([0.5, 0.5], base=base)


def test_bad_logits_raise() -> None:
    with pytest.raises(ValueError, match="logits contains NaN"):
        info.entropy_from_logits([0.0, np.inf])
    with pytest.raises(ValueError, match="logits has shape"):
        info.entropy_from_logits(np.zeros((3, 0)))
