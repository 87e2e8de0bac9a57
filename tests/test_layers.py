"""Every backward pass checked against centred finite differences in float64."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib import gradcheck
from nnlib.layers import Activation, BatchNorm, Dense, Dropout, Residual
from nnlib.model import mlp

TOL = 1e-6
SHAPES = [(1, 1), (3, 4), (7, 2), (16, 5)]


def _x(shape: tuple[int, int], seed: int = 0, scale: float = 1.0) -> np.ndarray:
    return scale * np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("n, d", SHAPES)
@pytest.mark.parametrize("n_out", [1, 3])
def test_dense_gradients(n: int, d: int, n_out: int) -> None:
    result = gradcheck.check_layer(Dense(d, n_out, dtype="float64"), _x((n, d)), seed=n * d)
    assert result.max_rel_error < TOL, str(result)
    assert set(result.errors) == {"x", "W", "b"}


@pytest.mark.parametrize("name", ["identity", "sigmoid", "tanh", "relu", "leaky_relu"])
@pytest.mark.parametrize("n, d", SHAPES)
def test_activation_gradients(name: str, n: int, d: int) -> None:
    x = _x((n, d), seed=d, scale=2.0)
    x[np.abs(x) < 1e-3] = 0.5  # keep clear of ReLU's kink, where the derivative is undefined
    result = gradcheck.check_layer(Activation(name), x)
    assert result.max_rel_error < TOL, f"{name}: {result}"


@pytest.mark.parametrize("n, d", [(3, 4), (16, 5)])
def test_dropout_gradients_with_fixed_mask(n: int, d: int) -> None:
    result = gradcheck.check_layer(Dropout(0.4), _x((n, d)), train=True)
    assert result.max_rel_error < TOL, str(result)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("n, d", [(2, 3), (8, 4), (32, 2)])
def test_batchnorm_gradients(train: bool, n: int, d: int) -> None:
    layer = BatchNorm(d, dtype="float64")
    rng = np.random.default_rng(1)
    params = {"gamma": rng.uniform(0.5, 2.0, d), "beta": rng.standard_normal(d)}
    state = {"mean": rng.standard_normal(d), "var": rng.uniform(0.5, 2.0, d)}
    result = gradcheck.check_layer(
        layer, _x((n, d), scale=3.0), params=params, state=state, train=train
    )
    assert result.max_rel_error < TOL, str(result)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_residual_block_gradients(activation: str) -> None:
    block = Residual(
        [Dense(4, 4, dtype="float64"), BatchNorm(4, dtype="float64"), Activation(activation)]
    )
    result = gradcheck.check_layer(block, _x((6, 4), seed=3))
    assert result.max_rel_error < TOL, str(result)


@pytest.mark.parametrize(
    "options",
    [
        {"activation": "tanh"},
        {"activation": "sigmoid", "dropout": 0.3},
        {"activation": "relu", "batchnorm": True},
        {"activation": "leaky_relu", "batchnorm": True, "residual": True, "dropout": 0.2},
    ],
)
@pytest.mark.parametrize("loss, n_out", [("mse", 2), ("bce", 1), ("cross_entropy", 3)])
def test_whole_model_gradients(options: dict, loss: str, n_out: int) -> None:
    model = mlp([3, 5, 5, n_out], dtype="float64", **options)
    params = model.init(4)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((8, 3))
    if loss == "mse":
        y = rng.standard_normal((8, n_out))
    elif loss == "bce":
        y = rng.integers(0, 2, 8).astype(float)
    else:
        y = rng.integers(0, n_out, 8)
    result = gradcheck.check_model(model, params, x, y, loss, l2=0.05)
    assert result.max_rel_error < TOL, str(result)


def test_gradcheck_catches_a_wrong_backward() -> None:
    """The checker itself must fail on a broken layer (a test that can fail)."""

    class BrokenTanh(Activation):
        def backward(self, params, cache, dy):  # forgets the square: 1 - y instead of 1 - y²
            return dy * (1.0 - cache), {}

    result = gradcheck.check_layer(BrokenTanh("tanh"), _x((4, 3)))
    assert result.max_rel_error > 1e-2


def test_gradcheck_requires_float64() -> None:
    with pytest.raises(ValueError, match="float64"):
        gradcheck.check_layer(Dense(2, 2, dtype="float32"), _x((3, 2)))


def test_layers_do_not_modify_their_inputs() -> None:
    model = mlp(
        [3, 4, 4, 2], activation="tanh", batchnorm=True, residual=True, dropout=0.2, dtype="float64"
    )
    params = model.init(0)
    x = _x((5, 3))
    x_copy = x.copy()
    from nnlib.backend import make_key
    from nnlib.tree import flatten_params

    before = {k: v.copy() for k, v in flatten_params(params).items()}
    y, cache = model.forward(params, x, True, key=make_key(0))
    y_copy = y.copy()
    dy = np.ones_like(y)
    model.backward(params, cache, dy)
    assert np.array_equal(x, x_copy)
    assert np.array_equal(y, y_copy)
    assert np.array_equal(dy, np.ones_like(y))
    for k, v in flatten_params(params).items():
        assert np.array_equal(v, before[k]), k


def test_dense_shape_mismatch_names_layer_and_shapes() -> None:
    layer = Dense(3, 2)
    with pytest.raises(ValueError, match=r"Dense\(3 -> 2.*\(N, 3\).*\(4, 5\)"):
        layer.forward(layer.init(np.random.default_rng(0)), np.zeros((4, 5), np.float32))


def test_dropout_eval_is_identity_and_train_keeps_mean() -> None:
    from nnlib.backend import make_key

    layer = Dropout(0.5)
    x = np.ones((2000, 50))
    y, _ = layer.forward({}, x, train=False)
    assert y is x
    y, mask = layer.forward({}, x, train=True, key=make_key(0))
    assert set(np.unique(y)) == {0.0, 2.0}
    assert abs(y.mean() - 1.0) < 0.02


def test_batchnorm_running_statistics_move_towards_batch() -> None:
    layer = BatchNorm(2, momentum=0.5, dtype="float64")
    params = layer.init(np.random.default_rng(0))
    x = np.array([[1.0, 10.0], [3.0, 14.0]])
    _, cache = layer.forward(params, x, train=True, state=layer.init_state())
    np.testing.assert_allclose(cache["state"]["mean"], [1.0, 6.0])  # 0.5·0 + 0.5·[2, 12]
    np.testing.assert_allclose(cache["state"]["var"], [1.0, 2.5])  # 0.5·1 + 0.5·[1, 4]
    y, _ = layer.forward(params, x, train=False, state=cache["state"])
    np.testing.assert_allclose(y, (x - [1.0, 6.0]) / np.sqrt(np.array([1.0, 2.5]) + 1e-5))


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2])
def test_bad_dropout_rate(bad: float) -> None:
    with pytest.raises(ValueError, match="Dropout rate"):
        Dropout(bad)


def test_unknown_activation_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="Valid activations are .*relu.*tanh"):
        Activation("swish")


def test_residual_requires_same_shape() -> None:
    block = Residual([Dense(3, 4, dtype="float64")])
    params = block.init(np.random.default_rng(0))
    with pytest.raises(ValueError, match="residual block needs F\\(x\\) to have x's shape"):
        block.forward(params, np.zeros((2, 3)))
