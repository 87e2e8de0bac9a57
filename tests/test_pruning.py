"""Magnitude pruning: exact counts, which weights go, masks that fit, reports, retraining."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib import data, pruning
from nnlib.model import mlp
from nnlib.optim import sgd
from nnlib.train import evaluate, fit
from nnlib.tree import flatten_params


@pytest.fixture
def params() -> list[dict[str, np.ndarray]]:
    return mlp([6, 8, 5, 3], activation="tanh", dtype="float64").init(seed=3)


def weights(p: object) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in flatten_params(p).items() if k.endswith("W")}


def test_weight_names_are_the_matrices_input_first(params: list) -> None:
    assert pruning.weight_names(params) == ["0.W", "2.W", "4.W"]
    assert pruning.is_weight("3.layers.0.W") and not pruning.is_weight("0.b")


@pytest.mark.parametrize("scope", pruning.SCOPES)
@pytest.mark.parametrize("s", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_masks_prune_the_requested_fraction_exactly(params: list, scope: str, s: float) -> None:
    masks = pruning.magnitude_masks(params, s, scope=scope)
    w_masks = weights(masks)
    sizes = {k: m.size for k, m in w_masks.items()}
    pruned = {k: int((~m).sum()) for k, m in w_masks.items()}
    if scope == "layer":
        assert pruned == {k: round(s * n) for k, n in sizes.items()}
    else:
        assert sum(pruned.values()) == round(s * sum(sizes.values()))
    for name, mask in flatten_params(masks).items():
        assert mask.dtype == bool
        if not name.endswith("W"):
            assert mask.all(), f"{name} is not a weight and must be kept"


def test_global_pruning_removes_the_smallest_magnitudes(params: list) -> None:
    masks = pruning.magnitude_masks(params, 0.6, scope="global")
    mags = {k: np.abs(w) for k, w in weights(params).items()}
    kept = np.concatenate([mags[k][m] for k, m in weights(masks).items()])
    removed = np.concatenate([mags[k][~m] for k, m in weights(masks).items()])
    assert removed.size and kept.size
    assert removed.max() <= kept.min()


def test_layer_pruning_ranks_inside_each_matrix(params: list) -> None:
    masks = pruning.magnitude_masks(params, 0.5, scope="layer")
    for name, m in weights(masks).items():
        w = np.abs(weights(params)[name])
        assert w[~m].max() <= w[m].min()


def test_global_and_layer_scopes_differ_when_layers_have_different_scales() -> None:
    p = mlp([4, 6, 2], activation="tanh", dtype="float64").init(seed=0)
    p[0]["W"] = p[0]["W"] * 100.0  # the first layer's weights are all much larger
    glob = weights(pruning.magnitude_masks(p, 0.5, scope="global"))
    layer = weights(pruning.magnitude_masks(p, 0.5, scope="layer"))
    # 18 of 36 weights go: global takes all 12 small ones of the second layer first, then 6 more
    assert not glob["2.W"].any() and (~glob["0.W"]).sum() == 6
    assert (~layer["0.W"]).sum() == 12 and (~layer["2.W"]).sum() == 6


def test_ties_are_broken_by_position_and_masks_are_reproducible() -> None:
    mask = pruning.smallest_mask(np.array([[1.0, 1.0], [1.0, 2.0]]), 2)
    np.testing.assert_array_equal(mask, [[False, False], [True, True]])
    p = mlp([3, 4, 1], dtype="float32").init(seed=1)
    a = pruning.magnitude_masks(p, 0.5)
    b = pruning.magnitude_masks(p, 0.5)
    for x, y in zip(flatten_params(a).values(), flatten_params(b).values(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_apply_masks_zeroes_exactly_the_masked_entries(params: list) -> None:
    before = {k: v.copy() for k, v in flatten_params(params).items()}
    pruned, masks = pruning.prune_by_magnitude(params, 0.7)
    for name, value in flatten_params(pruned).items():
        m = flatten_params(masks)[name]
        assert value.dtype == before[name].dtype
        np.testing.assert_array_equal(value[m], before[name][m])
        assert np.all(value[~m] == 0)
    for name, value in flatten_params(params).items():  # the input is not modified
        np.testing.assert_array_equal(value, before[name])
    assert pruning.sparsity(pruned) == pytest.approx(0.7, abs=0.5 / 107)


def test_sparsity_report_counts_zeros_per_array(params: list) -> None:
    p = [dict(layer) for layer in params]
    p[0]["W"] = p[0]["W"].copy()
    p[0]["W"][:2] = 0.0  # 2 of 6 rows of a (6, 8) matrix
    report = pruning.sparsity_report(p)
    assert [layer.name for layer in report] == ["0.W", "2.W", "4.W"]
    assert report.layers[0].zeros == 16 and report.layers[0].size == 48
    assert report.layers[0].sparsity == pytest.approx(1 / 3)
    assert report.size == 48 + 40 + 15 and report.zeros == 16
    assert report.sparsity == pytest.approx(16 / 103)
    text = str(report)
    assert "0.W" in text and "6x8" in text and "33.3%" in text and "total" in text
    everything = pruning.sparsity_report(p, weights_only=False)
    assert everything.size == 103 + 8 + 5 + 3
    assert everything.zeros == 16 + 16  # biases start at exactly zero


def test_mask_sparsity_weighs_every_weight_the_same(params: list) -> None:
    masks = pruning.magnitude_masks(params, 0.5, scope="layer")
    assert pruning.mask_sparsity(masks) == pytest.approx((24 + 20 + 8) / 103)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half", None, True, float("nan")])
def test_bad_sparsity_is_rejected_with_a_hint(params: list, bad: object) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        pruning.magnitude_masks(params, bad)


def test_bad_scope_and_bad_params_are_rejected(params: list) -> None:
    with pytest.raises(ValueError, match="scope"):
        pruning.magnitude_masks(params, 0.5, scope="per-layer")
    with pytest.raises(ValueError, match="no weight matrices"):
        pruning.magnitude_masks([{"b": np.zeros(3)}], 0.5)
    broken = [dict(layer) for layer in params]
    broken[2]["W"] = np.full_like(broken[2]["W"], np.nan)
    with pytest.raises(ValueError, match="NaN"):
        pruning.magnitude_masks(broken, 0.5)
    other = pruning.magnitude_masks(mlp([6, 8, 4, 3]).init(0), 0.5)  # same names, other shapes
    with pytest.raises(ValueError, match="shape"):
        pruning.apply_masks(params, other)
    with pytest.raises(ValueError, match="do not fit"):
        pruning.apply_masks(params, pruning.magnitude_masks(mlp([6, 3]).init(0), 0.5))


def test_masked_optimizer_keeps_pruned_weights_at_zero_while_retraining() -> None:
    X, y = data.make_moons(200, noise=0.1, seed=0)
    model = mlp([2, 16, 16, 1], activation="tanh", dtype="float64")
    trained = fit(model, model.init(0), X, y, loss="bce", lr=0.5, epochs=300).params
    pruned, masks = pruning.prune_by_magnitude(trained, 0.8)
    before = evaluate(model, pruned, X, y, "bce")["loss"]
    opt = pruning.masked_optimizer(sgd(0.5), masks)
    tuned = fit(model, pruned, X, y, loss="bce", optimizer=opt, epochs=100).params
    assert pruning.sparsity(tuned) == pytest.approx(pruning.sparsity(pruned))
    for name, value in flatten_params(tuned).items():
        assert np.all(value[~flatten_params(masks)[name]] == 0)
    assert evaluate(model, tuned, X, y, "bce")["loss"] < before


def test_masked_retraining_is_the_same_on_jax() -> None:
    pytest.importorskip("jax")
    import nnlib

    X, y = data.make_moons(100, noise=0.1, seed=1)
    model = mlp([2, 8, 1], activation="tanh", dtype="float64")
    pruned, masks = pruning.prune_by_magnitude(model.init(2), 0.5)
    opt = pruning.masked_optimizer(sgd(0.5), masks)
    on_numpy = fit(model, pruned, X, y, loss="bce", optimizer=opt, epochs=30).params
    with nnlib.use_backend("jax"):
        on_jax = fit(model, pruned, X, y, loss="bce", optimizer=opt, epochs=30, steps_per_call=30)
        assert pruning.sparsity(on_jax.params) == pytest.approx(pruning.sparsity(pruned))
    for name, value in flatten_params(on_numpy).items():
        np.testing.assert_allclose(
            np.asarray(flatten_params(on_jax.params)[name]), value, atol=1e-12
        )
