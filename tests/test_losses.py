"""Losses: values against hand computation, gradients, stability, bad targets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnlib import gradcheck
from nnlib.losses import (
    binary_cross_entropy_with_logits,
    get_loss,
    l2_penalty,
    log_softmax,
    mse,
    softmax,
    softmax_cross_entropy,
)

finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False)


def test_mse_value_and_gradient_by_hand() -> None:
    pred = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[1.0, 0.0], [0.0, 5.0]])
    loss, grad = mse(pred, target)
    assert loss == pytest.approx((0 + 4 + 9 + 0) / 4)
    np.testing.assert_allclose(grad, 2 * (pred - target) / 4)


def test_bce_matches_the_textbook_formula() -> None:
    z = np.array([[-2.0], [0.0], [3.0]])
    y = np.array([0.0, 1.0, 1.0])
    p = 1 / (1 + np.exp(-z[:, 0]))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    loss, grad = binary_cross_entropy_with_logits(z, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad[:, 0], (p - y) / 3, rtol=1e-12)


def test_softmax_cross_entropy_matches_the_textbook_formula() -> None:
    z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    y = np.array([1, 2])
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    loss, grad = softmax_cross_entropy(z, y)
    assert loss == pytest.approx(-np.mean(np.log(p[[0, 1], y])), rel=1e-12)
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(grad, (p - onehot) / 2, rtol=1e-12)
    loss_onehot, grad_onehot = softmax_cross_entropy(z, onehot)
    assert loss_onehot == pytest.approx(loss)
    np.testing.assert_allclose(grad_onehot, grad)


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_classification_losses_are_finite_for_huge_logits(scale: float) -> None:
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad = softmax_cross_entropy(np.array([[scale, -scale, 0.0]]), np.array([1]))
        assert np.isfinite(loss) and np.all(np.isfinite(grad))
        assert loss == pytest.approx(2 * scale if scale > 0 else 0.0, abs=1e-9)
        bl, bg = binary_cross_entropy_with_logits(np.array([[scale], [-scale]]), np.array([0, 1.0]))
        assert np.isfinite(bl) and np.all(np.isfinite(bg))
        assert bl == pytest.approx(scale if scale > 0 else 0.0, abs=1e-9)
    for dtype in (np.float32, np.float64):
        z = np.array([[scale, 0.0, -scale]], dtype)
        assert np.all(np.isfinite(log_softmax(z)))
        assert softmax(z).sum() == pytest.approx(1.0)


@given(
    arrays(np.float64, (4, 3), elements=finite), st.lists(st.integers(0, 2), min_size=4, max_size=4)
)
def test_softmax_cross_entropy_gradient_property(z: np.ndarray, labels: list[int]) -> None:
    result = gradcheck.check_loss("cross_entropy", z, np.array(labels))
    assert result.max_rel_error < 1e-6, str(result)


@given(
    arrays(np.float64, (5, 1), elements=finite), arrays(np.float64, (5,), elements=st.floats(0, 1))
)
def test_bce_gradient_property(z: np.ndarray, y: np.ndarray) -> None:
    result = gradcheck.check_loss("bce", z, y)
    assert result.max_rel_error < 1e-6, str(result)


@given(arrays(np.float64, (3, 2), elements=finite), arrays(np.float64, (3, 2), elements=finite))
def test_mse_gradient_property(pred: np.ndarray, target: np.ndarray) -> None:
    result = gradcheck.check_loss("mse", pred, target)
    assert result.max_rel_error < 1e-6, str(result)


def test_l2_penalty_counts_weights_only() -> None:
    params = [
        {"W": np.array([[1.0, 2.0]]), "b": np.array([5.0])},
        {},
        {"layers": [{"W": np.array([[3.0]]), "b": np.array([7.0])}]},
        {"gamma": np.array([4.0]), "beta": np.array([1.0])},
    ]
    value, grads = l2_penalty(params, 0.5)
    assert value == pytest.approx(0.5 * 0.5 * (1 + 4 + 9))
    np.testing.assert_allclose(grads[0]["W"], [[0.5, 1.0]])
    np.testing.assert_allclose(grads[0]["b"], [0.0])
    np.testing.assert_allclose(grads[2]["layers"][0]["W"], [[1.5]])
    np.testing.assert_allclose(grads[3]["gamma"], [0.0])


def test_labels_out_of_range_name_the_label_and_range() -> None:
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes.*\[0, 2\]"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="label -1"):
        softmax_cross_entropy(np.zeros((2, 3)), np.array([-1, 0]))


@pytest.mark.parametrize(
    "labels, match",
    [
        (np.array([0.5, 1.0]), "whole numbers"),
        (np.array([np.nan, 1.0]), "NaN"),
        (np.array(["a", "b"]), "integer class indices"),
    ],
)
def test_bad_class_labels(labels: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        softmax_cross_entropy(np.zeros((2, 3)), labels)


def test_bad_binary_targets() -> None:
    with pytest.raises(ValueError, match=r"0/1 labels.*\(y \+ 1\) / 2"):
        binary_cross_entropy_with_logits(np.zeros((2, 1)), np.array([-1.0, 1.0]))
    with pytest.raises(ValueError, match="0/1 labels"):
        binary_cross_entropy_with_logits(np.zeros((2, 1)), np.array([np.nan, 1.0]))


def test_nan_targets_in_regression() -> None:
    with pytest.raises(ValueError, match="NaN or inf"):
        mse(np.zeros((2, 1)), np.array([np.nan, 1.0]))


def test_shape_mismatch() -> None:
    with pytest.raises(ValueError, match=r"predictions have shape \(3, 2\).*\(3,\)"):
        mse(np.zeros((3, 2)), np.zeros(3))


def test_unknown_loss_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="Valid losses are .*bce.*mse"):
        get_loss("hinge")
