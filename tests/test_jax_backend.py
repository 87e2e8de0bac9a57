"""The JAX backend: hand-written backward passes against jax.grad, NumPy/JAX agreement,
determinism, the compiled-step cache, many steps per call, and divergence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX not installed: pip install -r requirements-jax.txt")

import jax.numpy as jnp  # noqa: E402

import nnlib  # noqa: E402
from nnlib import backend, jax_backend, losses  # noqa: E402
from nnlib.layers import Activation, BatchNorm, Dense, Dropout, Residual  # noqa: E402
from nnlib.model import mlp  # noqa: E402
from nnlib.train import fit  # noqa: E402
from nnlib.tree import flatten_params, tree_map  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOL = 1e-10


@pytest.fixture
def on_jax():
    """The JAX backend with float64 enabled, inside the test only."""
    x64_before = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        with nnlib.use_backend("jax"):
            yield
    finally:
        jax.config.update("jax_enable_x64", x64_before)
    assert nnlib.get_backend() == "numpy"


def relative_error(analytic, reference, floor: float = 0.0) -> float:
    """``max |a - r| / max(max |r|, floor)``: the error measured on the scale of the array."""
    a, r = np.asarray(analytic, np.float64), np.asarray(reference, np.float64)
    assert a.shape == r.shape
    scale = max(float(np.max(np.abs(r), initial=0.0)), floor)
    return float(np.max(np.abs(a - r), initial=0.0)) / scale if scale > 0 else 0.0


def assert_trees_close(analytic, reference, tol: float = TOL) -> None:
    """Every array relatively close. An array whose true values are all (almost) zero, such
    as the gradient of a bias followed by batch normalisation, is measured against a
    ten-thousandth of the largest value in the whole tree instead of its own rounding noise."""
    flat_a, flat_r = flatten_params(analytic), flatten_params(reference)
    assert flat_a.keys() == flat_r.keys()
    scales = [float(np.max(np.abs(np.asarray(r)), initial=0.0)) for r in flat_r.values()]
    floor = 1e-4 * max(scales, default=0.0)
    for name in flat_r:
        err = relative_error(flat_a[name], flat_r[name], floor)
        assert err < tol, f"{name}: relative error {err:.3g}"


def _x(shape, seed=0, scale=1.0):
    return jnp.asarray(scale * np.random.default_rng(seed).standard_normal(shape))


# --- hand-written backward passes equal jax.grad --------------------------------------


def _check_layer_against_jax_grad(layer, x, *, params=None, state=None, train=True, seed=0):
    """``backward(dy)`` against ``jax.grad`` of ``Σ forward(params, x) ⊙ dy``."""
    params = params if params is not None else layer.init(np.random.default_rng(seed))
    params = tree_map(lambda p: jnp.asarray(p, jnp.float64), params)
    state = state if state is not None else layer.init_state()
    key = backend.make_key(seed + 1)
    y, cache = layer.forward(params, x, train, state=state, key=key)
    dy = _x(y.shape, seed=seed + 2)

    def scalar(x, params):
        return (layer.forward(params, x, train, state=state, key=key)[0] * dy).sum()

    dx_ref, grads_ref = jax.grad(scalar, argnums=(0, 1))(x, params)
    dx, grads = layer.backward(params, cache, dy)
    assert relative_error(dx, dx_ref) < TOL
    assert_trees_close(grads, grads_ref)


@pytest.mark.parametrize("n, d, n_out", [(1, 1, 1), (5, 3, 4), (16, 5, 1)])
def test_dense_backward_equals_jax_grad(on_jax, n, d, n_out) -> None:
    _check_layer_against_jax_grad(Dense(d, n_out, dtype="float64"), _x((n, d)), seed=n)


def test_dense_param_grads_are_the_backward_ones(on_jax) -> None:
    layer = Dense(3, 4, dtype="float64")
    params = layer.init(np.random.default_rng(0))
    x = _x((6, 3))
    y, cache = layer.forward(params, x)
    dy = _x(y.shape, seed=1)
    assert_trees_close(layer.param_grads(params, cache, dy), layer.backward(params, cache, dy)[1])


@pytest.mark.parametrize("name", ["identity", "sigmoid", "tanh", "relu", "leaky_relu"])
def test_activation_backward_equals_jax_grad(on_jax, name) -> None:
    x = np.array(_x((7, 4), seed=3, scale=2.0))
    x[np.abs(x) < 1e-3] = 0.5  # away from ReLU's kink
    _check_layer_against_jax_grad(Activation(name), jnp.asarray(x))


def test_dropout_backward_equals_jax_grad_with_a_fixed_key(on_jax) -> None:
    _check_layer_against_jax_grad(Dropout(0.4), _x((9, 5)), train=True)


@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_backward_equals_jax_grad(on_jax, train) -> None:
    d = 4
    rng = np.random.default_rng(1)
    params = {"gamma": rng.uniform(0.5, 2.0, d), "beta": rng.standard_normal(d)}
    state = {
        "mean": jnp.asarray(rng.standard_normal(d)),
        "var": jnp.asarray(rng.uniform(0.5, 2.0, d)),
    }
    layer = BatchNorm(d, dtype="float64")
    _check_layer_against_jax_grad(
        layer, _x((8, d), scale=3.0), params=params, state=state, train=train
    )


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_residual_backward_equals_jax_grad(on_jax, activation) -> None:
    block = Residual(
        [Dense(4, 4, dtype="float64"), BatchNorm(4, dtype="float64"), Activation(activation)]
    )
    _check_layer_against_jax_grad(block, _x((6, 4), seed=3))


def _targets(loss: str, shape: tuple[int, int], seed: int = 5):
    rng = np.random.default_rng(seed)
    n, c = shape
    if loss == "mse":
        return jnp.asarray(rng.standard_normal(shape))
    if loss == "bce":
        return jnp.asarray(rng.integers(0, 2, n).astype(np.float64))
    if loss == "cross_entropy":
        return jnp.asarray(rng.integers(0, c, n))
    return jnp.asarray(rng.dirichlet(np.ones(c), n))  # probability rows


@pytest.mark.parametrize(
    "loss, shape",
    [("mse", (6, 3)), ("bce", (6, 1)), ("cross_entropy", (6, 4)), ("soft_labels", (6, 4))],
)
def test_loss_gradient_equals_jax_grad(on_jax, loss, shape) -> None:
    logits = _x(shape, seed=2, scale=3.0)
    target = _targets(loss, shape)
    loss_fn = losses.get_loss("cross_entropy" if loss == "soft_labels" else loss)
    value, grad = loss_fn(logits, target)
    ref_value, ref_grad = jax.value_and_grad(lambda z: loss_fn(z, target, check=False)[0])(logits)
    assert relative_error(value, ref_value) < TOL
    assert relative_error(grad, ref_grad) < TOL


@pytest.mark.parametrize(
    "options",
    [
        {"activation": "tanh"},
        {"activation": "relu", "batchnorm": True, "dropout": 0.3},
        {"activation": "leaky_relu", "batchnorm": True, "residual": True, "dropout": 0.2},
    ],
)
@pytest.mark.parametrize("loss, n_out", [("mse", 2), ("bce", 1), ("cross_entropy", 3)])
def test_whole_model_gradients_equal_jax_grad(on_jax, options, loss, n_out) -> None:
    model = mlp([3, 5, 5, n_out], dtype="float64", **options)
    params = model.init(4)
    x = _x((8, 3), seed=6)
    y = _targets(loss, (8, n_out))
    key = backend.make_key(7)
    state = model.init_state()
    value, grads, _, _ = model.loss_and_grads(params, x, y, loss, l2=0.05, state=state, key=key)

    def total_loss(params):
        out = model.forward(params, x, True, state=state, key=key)[0]
        return losses.get_loss(loss)(out, y, check=False)[0] + losses.l2_penalty(params, 0.05)[0]

    ref_value, ref_grads = jax.value_and_grad(total_loss)(params)
    assert relative_error(value, ref_value) < TOL
    assert_trees_close(grads, ref_grads)


# --- the backends agree, and each is deterministic ----------------------------------


def _regression_data(n: int = 120, d: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.stack([np.sin(X[:, 0]) + X[:, 1] * X[:, 2], np.tanh(X[:, 3])], axis=1)
    return X, y


def _train(backend_name: str, model, **kwargs):
    """``fit`` on a backend with float64 data; returns the history and the parameters as NumPy."""
    X, y = _regression_data()
    options = {"loss": "mse", "epochs": 13, "batch_size": 32, "seed": 3}
    options.update(kwargs)
    with nnlib.use_backend(backend_name):
        result = fit(model, model.init(1), X, y, **options)
    params = tree_map(np.asarray, result.params)
    return result.history, params


def test_numpy_and_jax_give_the_same_history_in_float64(on_jax) -> None:
    model = mlp([4, 8, 8, 8, 2], "tanh", batchnorm=True, residual=True, dtype="float64")
    options = {"optimizer": "momentum", "lr": 0.05, "l2": 1e-3, "clip_norm": 5.0}
    h_np, p_np = _train("numpy", model, **options)
    h_jax, p_jax = _train("jax", model, **options)
    assert h_np.steps == h_jax.steps == 52  # 13 epochs of 4 mini-batches (32, 32, 32, 24)
    np.testing.assert_allclose(h_jax.step_loss, h_np.step_loss, rtol=1e-9, atol=0)
    assert h_np.step_loss[-1] < 0.5 * h_np.step_loss[0]  # it did learn something
    assert_trees_close(p_jax, p_np, tol=1e-9)


@pytest.mark.parametrize("backend_name", ["numpy", "jax"])
def test_each_backend_is_deterministic_with_dropout(on_jax, backend_name) -> None:
    model = mlp([4, 16, 16, 2], "relu", dropout=0.3, batchnorm=True, dtype="float64")
    runs = [_train(backend_name, model, seed=5)[0] for _ in range(2)]
    assert runs[0].step_loss == runs[1].step_loss
    other = _train(backend_name, model, seed=6)[0]
    assert other.step_loss != runs[0].step_loss


def test_same_seed_same_initial_weights_on_both_backends(on_jax) -> None:
    model = mlp([3, 7, 2], "relu", batchnorm=True)
    with nnlib.use_backend("numpy"):
        p_np = model.init(11)
    p_jax = model.init(11)
    assert isinstance(flatten_params(p_jax)["0.W"], jax.Array)
    for name, value in flatten_params(p_np).items():
        np.testing.assert_array_equal(np.asarray(flatten_params(p_jax)[name]), value)


def test_dropout_masks_are_reproducible_per_seed_on_jax(on_jax) -> None:
    layer = Dropout(0.5)
    x = jnp.ones((50, 20))
    first = layer.forward({}, x, True, key=backend.make_key(3))[0]
    again = layer.forward({}, x, True, key=backend.make_key(3))[0]
    other = layer.forward({}, x, True, key=backend.make_key(4))[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert set(np.unique(np.asarray(first))) == {0.0, 2.0}


# --- compiled steps: cache, many steps per call, divergence --------------------------


def _moons(n: int = 200):
    return nnlib.data.make_moons(n, noise=0.2, seed=0)


def test_second_fit_with_other_learning_rate_reuses_the_compiled_step(on_jax) -> None:
    X, y = _moons()
    model = mlp([2, 9, 9, 1], "tanh", dtype="float64")
    options = {"loss": "bce", "epochs": 5, "batch_size": 50, "l2": 1e-3}
    fit(model, model.init(0), X, y, lr=0.1, **options)
    before = jax_backend.cache_info()
    slider_moved = fit(
        mlp([2, 9, 9, 1], "tanh", dtype="float64"),
        model.init(0),
        X,
        y,
        lr=0.7,
        **{**options, "l2": 1e-2},
    )
    after = jax_backend.cache_info()
    assert after.traces == before.traces, "a new learning rate or L2 strength recompiled"
    assert after.hits == before.hits + 1 and after.misses == before.misses
    # The traced learning rate and L2 strength are really used: same numbers as NumPy.
    with nnlib.use_backend("numpy"):
        reference = fit(model, model.init(0), X, y, lr=0.7, **{**options, "l2": 1e-2})
    np.testing.assert_allclose(
        slider_moved.history.step_loss, reference.history.step_loss, rtol=1e-9
    )


def test_a_different_structure_or_setting_compiles_anew(on_jax) -> None:
    X, y = _moons()
    fit(mlp([2, 4, 1], "tanh", dtype="float64"), mlp([2, 4, 1]).init(0), X, y, loss="bce")
    misses = jax_backend.cache_info().misses
    key_a = jax_backend.structure_key(mlp([2, 4, 1], "tanh", batchnorm=True))
    same = jax_backend.structure_key(mlp([2, 4, 1], "tanh", batchnorm=True))
    other_momentum = mlp([2, 4, 1], "tanh", batchnorm=True)
    other_momentum.layers[1].momentum = 0.5
    assert key_a == same
    assert jax_backend.structure_key(other_momentum) != key_a
    fit(
        mlp([2, 5, 1], "tanh", dtype="float64"),
        mlp([2, 5, 1], "tanh", dtype="float64").init(0),
        X,
        y,
        loss="bce",
    )
    assert jax_backend.cache_info().misses == misses + 1


@pytest.mark.parametrize(
    "steps_per_call, optimizer, batchnorm",
    [(4, "momentum", True), (7, "adam", False), (64, "sgd", True)],
)
def test_many_steps_per_call_give_the_same_history_as_one(
    on_jax, steps_per_call, optimizer, batchnorm
) -> None:
    """Dropout, batch norm, shuffled mini-batches with a smaller last one, gradient norms.

    (Not Adam with batch norm: the bias before a batch norm has a zero gradient, so
    its value is rounding noise, which Adam's normalised steps turn into steps of
    size lr whose sign depends on the last bits.)
    """
    X, y = _moons(230)
    model = mlp([2, 12, 12, 1], "relu", dropout=0.2, batchnorm=batchnorm, dtype="float64")
    options = {
        "loss": "bce",
        "optimizer": optimizer,
        "lr": 0.01,
        "epochs": 6,
        "batch_size": 64,  # 3 batches of 64, then 38
        "seed": 2,
        "record_grad_norms": True,
    }
    one = fit(model, model.init(0), X, y, **options)
    many = fit(model, model.init(0), X, y, steps_per_call=steps_per_call, **options)
    h1, hk = one.history, many.history
    assert hk.steps == h1.steps == 24
    np.testing.assert_allclose(hk.step_loss, h1.step_loss, rtol=1e-10)
    np.testing.assert_allclose(hk.train_loss, h1.train_loss, rtol=1e-10)
    assert hk.train_accuracy == h1.train_accuracy
    assert [list(g) for g in hk.grad_norms] == [list(g) for g in h1.grad_norms]
    for g1, gk in zip(h1.grad_norms, hk.grad_norms, strict=True):
        np.testing.assert_allclose(list(gk.values()), list(g1.values()), rtol=1e-10)
    assert_trees_close(tree_map(np.asarray, many.params), tree_map(np.asarray, one.params))
    assert_trees_close(tree_map(np.asarray, many.state), tree_map(np.asarray, one.state))


def test_blocks_span_epochs_for_full_batch_training_and_stop_for_validation(on_jax) -> None:
    X, y = _moons()
    model = mlp([2, 8, 1], "tanh", dtype="float64")
    options = {"loss": "bce", "lr": 0.5, "epochs": 30}
    one = fit(model, model.init(0), X, y, **options)
    before = jax_backend.cache_info().traces
    many = fit(model, model.init(0), X, y, steps_per_call=16, **options)  # blocks of 16 + 14
    assert (
        jax_backend.cache_info().traces == before + 1
    )  # the shorter block is padded, not recompiled
    np.testing.assert_allclose(many.history.step_loss, one.history.step_loss, rtol=1e-10)
    assert many.history.epoch == list(range(30))
    with_val = fit(
        model, model.init(0), X, y, steps_per_call=16, X_val=X[:50], y_val=y[:50], **options
    )
    reference = fit(model, model.init(0), X, y, X_val=X[:50], y_val=y[:50], **options)
    np.testing.assert_allclose(with_val.history.val_loss, reference.history.val_loss, rtol=1e-10)


@pytest.mark.parametrize("steps_per_call", [1, 8])
def test_divergence_on_jax_is_a_result_like_on_numpy(on_jax, steps_per_call) -> None:
    X, _ = _moons()
    y_reg = 100 * X[:, :1]
    model = mlp([2, 8, 1], "relu", dtype="float64")
    options = {"loss": "mse", "lr": 3.0, "epochs": 40}
    with nnlib.use_backend("numpy"):
        reference = fit(model, model.init(0), X, y_reg, **options).history
    result = fit(model, model.init(0), X, y_reg, steps_per_call=steps_per_call, **options)
    h = result.history
    assert reference.diverged and h.diverged
    assert h.diverged_at_step == reference.diverged_at_step
    assert 0 < h.diverged_at_step < 40
    assert len(h.step_loss) == h.diverged_at_step and all(np.isfinite(h.step_loss))
    assert "diverged at step" in h.message and "learning rate" in h.message
    np.testing.assert_allclose(h.step_loss, reference.step_loss, rtol=1e-9)
    assert all(np.all(np.isfinite(np.asarray(v))) for v in flatten_params(result.params).values())


def test_float32_stays_float32_on_jax(on_jax) -> None:
    X, y = _moons()
    model = mlp([2, 8, 1], "tanh")
    result = fit(model, model.init(0), X, y, loss="bce", lr=0.3, epochs=3, steps_per_call=2)
    assert {np.asarray(v).dtype for v in flatten_params(result.params).values()} == {
        np.dtype(np.float32)
    }


def test_device_description_names_the_device(on_jax) -> None:
    description = jax_backend.device_description()
    platform = jax.devices()[0].platform
    assert description == "cpu" if platform == "cpu" else platform in description


# --- installing and starting ----------------------------------------------------------


def _run_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NNLIB_BACKEND", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def test_missing_jax_raises_an_import_error_that_says_how_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['jax'] = None  # as if JAX were not installed\n"
        "import nnlib\n"
        "for action in (lambda: nnlib.set_backend('jax'), lambda: nnlib.jax_backend):\n"
        "    try:\n"
        "        action()\n"
        "    except ImportError as err:\n"
        "        print('ImportError:', err)\n"
        "print('backend:', nnlib.get_backend())\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len([line for line in lines if line.startswith("ImportError:")]) == 2
    assert all("pip install" in line for line in lines if line.startswith("ImportError:"))
    assert lines[-1] == "backend: numpy"


def test_float64_on_jax_enables_x64_by_itself() -> None:
    code = (
        "import nnlib\n"
        "from nnlib.model import mlp\n"
        "nnlib.set_backend('jax')\n"
        "params = mlp([2, 3, 1], dtype='float64').init(0)\n"
        "print(params[0]['W'].dtype, params[0]['b'].dtype)\n"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["float64", "float64"]
