"""Model building, parameter counting, save/load and the backend switch."""

from __future__ import annotations

import numpy as np
import pytest

import nnlib
from nnlib.layers import Activation, BatchNorm, Dense, Dropout, Residual
from nnlib.model import Sequential, load_params, mlp, save_params


def test_mlp_builds_the_expected_layers() -> None:
    model = mlp([3, 8, 8, 2], "relu", batchnorm=True, residual=True, dropout=0.1)
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [Dense, BatchNorm, Activation, Dropout, Residual, Dropout, Dense]
    inner = [type(layer) for layer in model.layers[4].layers]
    assert inner == [Dense, BatchNorm, Activation]
    assert model.layers[0].init_name == "he"
    assert mlp([3, 4, 1], "tanh").layers[0].init_name == "xavier"


def test_parameter_count() -> None:
    model = mlp([2, 16, 16, 1], "tanh")
    assert model.n_params(model.init(0)) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    assert "total" in model.summary()


def test_same_seed_same_initial_weights() -> None:
    model = mlp([5, 7, 3], "tanh")
    a, b, c = model.init(3), model.init(3), model.init(4)
    assert np.array_equal(a[0]["W"], b[0]["W"])
    assert not np.array_equal(a[0]["W"], c[0]["W"])
    assert a[0]["W"].dtype == np.float32
    assert mlp([5, 7, 3], dtype="float64").init(0)[0]["W"].dtype == np.float64


def test_save_load_round_trip_is_exact(tmp_path) -> None:
    model = mlp([4, 6, 6, 3], "relu", batchnorm=True, residual=True)
    params = model.init(11)
    state = model.init_state()
    state[1]["mean"] = np.arange(6, dtype=np.float32)
    path = tmp_path / "model.npz"
    save_params(path, params, state)
    loaded, loaded_state = load_params(path, model.init(0), model.init_state())
    for got, want in [(loaded, params), (loaded_state, state)]:
        flat_got = nnlib.tree.flatten_params(got)
        flat_want = nnlib.tree.flatten_params(want)
        assert flat_got.keys() == flat_want.keys()
        for k in flat_want:
            assert (
                np.array_equal(flat_got[k], flat_want[k])
                and flat_got[k].dtype == flat_want[k].dtype
            ), k
    with np.load(path, allow_pickle=False) as f:  # readable without pickle
        assert "params/0.W" in f.files


def test_load_into_a_different_architecture_explains_the_mismatch(tmp_path) -> None:
    path = tmp_path / "m.npz"
    save_params(path, mlp([4, 6, 3]).init(0))
    with pytest.raises(ValueError, match="shape .* in the file"):
        load_params(path, mlp([4, 7, 3]).init(0))
    with pytest.raises(ValueError, match="missing"):
        load_params(path, mlp([4, 6, 6, 3]).init(0))


def test_load_refuses_pickled_objects(tmp_path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, **{"params/0.W": np.array([object()], dtype=object)})
    with pytest.raises(ValueError):
        load_params(path, [{"W": np.zeros(1)}])


@pytest.mark.parametrize("sizes", [[3], [3, 0, 1], [3, 2.5, 1]])
def test_bad_sizes(sizes: list) -> None:
    with pytest.raises(ValueError, match="mlp sizes"):
        mlp(sizes)


def test_unknown_activation_in_mlp() -> None:
    with pytest.raises(ValueError, match="Valid activations"):
        mlp([2, 3, 1], "gelu")


def test_unknown_initialiser() -> None:
    with pytest.raises(ValueError, match="Valid names are"):
        Dense(2, 3, init="orthogonal")


def test_sequential_rejects_non_layers() -> None:
    with pytest.raises(ValueError, match="not an nnlib layer"):
        Sequential([Dense(2, 2), "relu"])


def test_backend_switch_and_errors() -> None:
    assert nnlib.get_backend() == "numpy"
    with pytest.raises(ValueError, match=r"Valid backends are \['numpy', 'jax'\]"):
        nnlib.set_backend("torch")
    assert nnlib.get_backend() == "numpy"
