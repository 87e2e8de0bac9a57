"""Tests for nnlib.diagnostics: activation statistics, gradient norms, update ratios."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnlib
from nnlib import diagnostics
from nnlib.layers import Activation, Dense, Dropout
from nnlib.model import Sequential
from nnlib.train import weight_grad_norms

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def X() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((64, 2)).astype(np.float32)


def _scaled_first_layer(model: Sequential, factor: float, bias: float = 0.0) -> list:
    params = model.init(0)
    params[0] = {"W": params[0]["W"] * factor, "b": params[0]["b"] + np.float32(bias)}
    return params


# --- layer_outputs -------------------------------------------------------------------------


def test_layer_outputs_match_a_manual_forward_pass(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 8, 3], activation="tanh")
    params = model.init(1)
    outputs = diagnostics.layer_outputs(model, params, X)
    assert len(outputs) == len(model.layers) == 3
    z = X @ params[0]["W"] + params[0]["b"]
    np.testing.assert_allclose(outputs[0], z, rtol=1e-6)
    np.testing.assert_allclose(outputs[1], np.tanh(z), rtol=1e-6)
    np.testing.assert_array_equal(outputs[2], model.predict(params, X))
    assert all(isinstance(o, np.ndarray) for o in outputs)


def test_layer_outputs_counts_a_residual_block_as_one_layer(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 4, 4, 1], activation="tanh", residual=True)
    params = model.init(0)
    outputs = diagnostics.layer_outputs(model, params, X)
    assert len(outputs) == len(model.layers) == 4
    block_input = outputs[1]
    inner = np.tanh(block_input @ params[2]["layers"][0]["W"] + params[2]["layers"][0]["b"])
    np.testing.assert_allclose(outputs[2], block_input + inner, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(outputs[-1], model.predict(params, X))


def test_train_mode_draws_dropout_masks_from_the_seed(X: np.ndarray) -> None:
    model = Sequential([Dense(2, 16), Activation("relu"), Dropout(0.5), Dense(16, 1)])
    params = model.init(0)
    eval_out = diagnostics.layer_outputs(model, params, X)[2]
    first = diagnostics.layer_outputs(model, params, X, train=True, seed=3)[2]
    again = diagnostics.layer_outputs(model, params, X, train=True, seed=3)[2]
    other = diagnostics.layer_outputs(model, params, X, train=True, seed=4)[2]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first, eval_out)
    # inverted dropout: every kept unit is scaled by 1 / (1 - rate) = 2
    kept = first != 0
    np.testing.assert_allclose(first[kept], 2 * eval_out[kept], rtol=1e-6)


def test_layer_outputs_rejects_bad_input(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 4, 1])
    with pytest.raises(ValueError, match="2-D array"):
        diagnostics.layer_outputs(model, model.init(0), X[0])
    with pytest.raises(ValueError, match="parameters for 2 layers"):
        diagnostics.layer_outputs(model, model.init(0)[:2], X)
    with pytest.raises(ValueError, match="list of layers"):
        diagnostics.layer_outputs(Dense(2, 1), Dense(2, 1).init(np.random.default_rng(0)), X)


# --- activation_stats ------------------------------------------------------------------------


def test_tanh_with_huge_weights_is_saturated(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 32, 1], activation="tanh")
    healthy = diagnostics.activation_stats(model, model.init(0), X)[0]
    huge = diagnostics.activation_stats(model, _scaled_first_layer(model, 1000.0), X)[0]
    assert healthy["kind"] == huge["kind"] == "tanh"
    assert healthy["saturated"] < 0.05
    assert huge["saturated"] > 0.95
    y = np.tanh(X @ (1000 * model.init(0)[0]["W"]))
    assert huge["saturated"] == pytest.approx(np.mean(np.abs(y) > 0.99))
    assert huge["std"] == pytest.approx(y.std(), rel=1e-5)


def test_sigmoid_saturation_counts_both_ends(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 32, 1], activation="sigmoid")
    stats = diagnostics.activation_stats(model, _scaled_first_layer(model, 1000.0), X)[0]
    z = X.astype(np.float64) @ (1000 * model.init(0)[0]["W"])
    y = 0.5 * (1 + np.tanh(z / 2))  # = 1 / (1 + exp(-z)), without overflow
    expected = np.mean((y < 0.01) | (y > 0.99))
    assert stats["saturated"] == pytest.approx(expected, abs=1e-3)
    assert stats["saturated"] > 0.95
    assert 0.2 < stats["mean"] < 0.8  # both ends are populated, not only one


def test_relu_with_large_negative_bias_is_all_dead(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 16, 16, 1], activation="relu")
    dead = diagnostics.activation_stats(model, _scaled_first_layer(model, 1.0, bias=-100.0), X)
    assert [s["name"] for s in dead] == ["1", "3"]
    assert dead[0]["saturated"] == 1.0
    assert dead[0]["saturated_units"] == 1.0
    assert dead[0]["mean"] == dead[0]["std"] == 0.0
    healthy = diagnostics.activation_stats(model, model.init(0), X)[0]
    assert 0.2 < healthy["saturated"] < 0.8
    assert healthy["saturated_units"] < 0.5


def test_saturated_units_are_units_saturated_for_every_example(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 4, 1], activation="relu")
    params = model.init(0)
    # unit 0 gets a large negative bias (dead), the others stay as initialised
    params[0] = {"W": params[0]["W"], "b": np.array([-100.0, 0, 0, 0], np.float32)}
    stats = diagnostics.activation_stats(model, params, X, return_values=True)[0]
    values = stats["values"]
    assert values.shape == (64, 4)
    assert np.all(values[:, 0] == 0)
    assert stats["saturated_units"] == pytest.approx(np.mean(np.all(values == 0, axis=0)))
    assert stats["saturated_units"] >= 0.25
    assert stats["saturated"] == pytest.approx(np.mean(values == 0))


def test_activation_stats_of_a_residual_network(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 4, 4, 1], activation="tanh", residual=True)
    params = model.init(0)
    stats = diagnostics.activation_stats(model, params, X, return_values=True)
    assert [(s["name"], s["kind"]) for s in stats] == [
        ("1", "tanh"),
        ("2.layers.1", "tanh"),
        ("2", "residual"),
    ]
    block = stats[2]
    assert np.isnan(block["saturated"]) and np.isnan(block["saturated_units"])
    np.testing.assert_allclose(block["values"], diagnostics.layer_outputs(model, params, X)[2])
    assert block["mean"] == pytest.approx(block["values"].mean())


def test_values_are_returned_only_when_asked(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 8, 8, 1], activation="tanh")
    stats = diagnostics.activation_stats(model, model.init(0), X)
    assert all("values" not in s for s in stats)
    with_values = diagnostics.activation_stats(model, model.init(0), X, return_values=True)
    for s, v in zip(stats, with_values, strict=True):
        assert v["values"].shape == (64, 8)
        assert s["mean"] == pytest.approx(v["values"].mean())
        assert s["std"] == pytest.approx(v["values"].std())


def test_saturation_mask_thresholds() -> None:
    y = np.array([-1.0, -0.995, -0.5, 0.0, 0.5, 0.995, 1.0])
    np.testing.assert_array_equal(
        diagnostics.saturation_mask("tanh", y), [True, True, False, False, False, True, True]
    )
    s = np.array([0.0, 0.005, 0.5, 0.995, 1.0])
    np.testing.assert_array_equal(
        diagnostics.saturation_mask("sigmoid", s), [True, True, False, True, True]
    )
    np.testing.assert_array_equal(
        diagnostics.saturation_mask("relu", np.array([0.0, 1e-8, 2.0])), [True, False, False]
    )
    assert diagnostics.saturation_mask("identity", y) is None


# --- gradients and updates -----------------------------------------------------------------


def test_grad_norms_are_the_frobenius_norms_of_the_weight_gradients(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 8, 8, 1], activation="tanh", batchnorm=True)
    params = model.init(0)
    y = (X[:, 0] > 0).astype(np.float32)
    _, grads, _, _ = model.loss_and_grads(params, X, y, "bce")
    norms = diagnostics.grad_norms(grads)
    dense = [i for i, layer in enumerate(model.layers) if isinstance(layer, Dense)]
    assert list(norms) == [f"{i}.W" for i in dense]
    for i in dense:
        assert norms[f"{i}.W"] == pytest.approx(np.sqrt(np.sum(grads[i]["W"] ** 2)), rel=1e-5)
    assert norms == pytest.approx(weight_grad_norms(grads))


def test_grad_norms_reach_into_residual_blocks() -> None:
    grads = [{"W": np.ones((2, 2)), "b": np.ones(2)}, {"layers": [{"W": np.full((3, 1), 2.0)}]}]
    norms = diagnostics.grad_norms(grads)
    assert norms == pytest.approx({"0.W": 2.0, "1.layers.0.W": np.sqrt(12.0)})


def test_update_ratio_equals_the_hand_computed_value() -> None:
    params = [{"W": np.array([[3.0, 4.0]]), "b": np.zeros(2)}]
    new = [{"W": np.array([[3.003, 4.004]]), "b": np.ones(2)}]
    ratios = diagnostics.update_ratios(params, new)
    assert list(ratios) == ["0.W"]  # biases are left out
    assert ratios["0.W"] == pytest.approx(0.005 / 5.0)  # ||(0.003, 0.004)|| / ||(3, 4)||


def test_update_ratio_of_an_sgd_step_is_lr_times_grad_over_weight(X: np.ndarray) -> None:
    model = nnlib.mlp([2, 8, 1], activation="tanh", dtype="float64")
    params = model.init(0)
    y = (X[:, 0] > 0).astype(np.float64)
    _, grads, _, _ = model.loss_and_grads(params, X.astype(np.float64), y, "bce")
    lr = 0.01
    new = nnlib.tree.tree_map(lambda p, g: p - lr * g, params, grads)
    ratios = diagnostics.update_ratios(params, new)
    for name, ratio in ratios.items():
        i = int(name.split(".")[0])
        expected = lr * np.linalg.norm(grads[i]["W"]) / np.linalg.norm(params[i]["W"])
        assert ratio == pytest.approx(expected, rel=1e-10)


def test_update_ratios_reject_different_structures() -> None:
    with pytest.raises(ValueError, match="different structures"):
        diagnostics.update_ratios([{"W": np.ones((2, 2))}], [{"V": np.ones((2, 2))}])
    with pytest.raises(ValueError, match="shape"):
        diagnostics.update_ratios([{"W": np.ones((2, 2))}], [{"W": np.ones((2, 3))}])


def test_update_ratio_of_zero_weights_is_infinite() -> None:
    ratios = diagnostics.update_ratios([{"W": np.zeros((2, 2))}], [{"W": np.ones((2, 2))}])
    assert ratios["0.W"] == np.inf


def test_gradient_norm_ratio_is_first_over_last() -> None:
    assert diagnostics.gradient_norm_ratio({"0.W": 1e-3, "2.W": 0.5, "4.W": 2.0}) == 5e-4
    assert diagnostics.gradient_norm_ratio([4.0, 1.0, 2.0]) == 2.0
    assert diagnostics.gradient_norm_ratio([3.0]) == 1.0
    assert diagnostics.gradient_norm_ratio([1.0, 0.0]) == np.inf
    with pytest.raises(ValueError, match="empty"):
        diagnostics.gradient_norm_ratio({})


def test_deep_sigmoid_network_has_vanishing_gradients(X: np.ndarray) -> None:
    y = (X[:, 0] > 0).astype(np.float32)

    def ratio(activation: str) -> float:
        model = nnlib.mlp([2] + [16] * 8 + [1], activation=activation)
        _, grads, _, _ = model.loss_and_grads(model.init(0), X, y, "bce")
        return diagnostics.gradient_norm_ratio(diagnostics.grad_norms(grads))

    # σ' ≤ 1/4 at every one of 8 layers: the first layer's gradient is tiny
    assert ratio("sigmoid") < 1e-3
    # tanh with Xavier initialisation keeps the gradient within one order of magnitude
    assert 0.1 < ratio("tanh") < 10


def test_activation_stats_agree_on_jax(X: np.ndarray) -> None:
    pytest.importorskip("jax")
    model = nnlib.mlp([2, 8, 8, 1], activation="tanh")
    params = model.init(0)
    expected = diagnostics.activation_stats(model, params, X)
    with nnlib.use_backend("jax"):
        jax_params = nnlib.tree.tree_map(nnlib.backend.asarray, params)
        got = diagnostics.activation_stats(model, jax_params, X)
    for e, g in zip(expected, got, strict=True):
        assert e["name"] == g["name"]
        assert g["mean"] == pytest.approx(e["mean"], abs=1e-5)
        assert g["std"] == pytest.approx(e["std"], abs=1e-5)
