"""Magnitude pruning: set the smallest weights to zero and keep the rest.

A trained network has many weights close to zero. *Magnitude pruning* removes
the ``k`` weights with the smallest ``|w|`` (sets them to exactly 0) and keeps
the others as they are. The fraction of weights that are zero is the
*sparsity* ``s = (number of zeros) / (number of weights)``; ``1 - s`` is the
*density*. A pruned network computes the same function with fewer non-zero
numbers, which sparse formats and sparse hardware can store and run in less
memory and time.

A *mask* is a boolean array of a weight's shape: ``True`` keeps the weight,
``False`` prunes it. Masks form a nest of the same structure as the
parameters (one dict per layer), so they can be applied with one
:func:`~nnlib.tree.tree_map`::

    masks = magnitude_masks(params, sparsity=0.9)       # keep the largest 10 %
    pruned = apply_masks(params, masks)
    print(sparsity_report(pruned))                      # a table per weight matrix

Only weight matrices (the arrays called ``"W"``) are pruned. Biases and
batch-norm parameters are few, and setting them to zero saves almost nothing,
so their masks are all ``True``.

Two ways to choose which weights go:

* ``scope="global"``: one ranking of ``|w|`` over all weight matrices
  together. Layers whose weights are small lose more of them.
* ``scope="layer"``: rank within each matrix and remove the same fraction
  ``s`` from every one, even from a small output layer that needs its weights.

To retrain a pruned network without the pruned weights growing back, wrap the
optimiser with :func:`masked_optimizer`: after every update it sets the pruned
weights to zero again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import backend
from .optim import Optimizer
from .tree import flatten_params, tree_map, unflatten_like

Array = Any

SCOPES = ("global", "layer")


def is_weight(name: str) -> bool:
    """True for the flattened name of a weight matrix (``"0.W"``, ``"3.layers.0.W"``)."""
    return name.split(".")[-1] == "W"


def weight_names(params: Any) -> list[str]:
    """Flattened names of the prunable arrays (the weight matrices), input layer first."""
    return [name for name in flatten_params(params) if is_weight(name)]


def _check_sparsity(sparsity: Any) -> float:
    if (
        isinstance(sparsity, bool)
        or not isinstance(sparsity, (int, float, np.integer, np.floating))
        or not 0.0 <= float(sparsity) <= 1.0
    ):
        raise ValueError(
            f"sparsity must be a fraction between 0 and 1 (0.9 prunes 90 % of the weights), "
            f"got {sparsity!r}. For a percentage p use p / 100."
        )
    return float(sparsity)


def _check_scope(scope: Any) -> str:
    if scope not in SCOPES:
        raise ValueError(
            f"Unknown pruning scope {scope!r}. Use 'global' (one magnitude ranking over all "
            "weight matrices) or 'layer' (the same fraction pruned in every matrix)."
        )
    return scope


def _magnitudes(params: Any) -> dict[str, np.ndarray]:
    """``{name: |W|}`` for every weight matrix, as float64 NumPy arrays; rejects NaN/inf."""
    flat = flatten_params(params)
    mags = {name: np.abs(backend.to_numpy(flat[name])).astype(np.float64) for name in flat}
    mags = {name: m for name, m in mags.items() if is_weight(name)}
    if not mags:
        raise ValueError(
            "These parameters contain no weight matrices (arrays named 'W') to prune. "
            "Pass a model's parameters, e.g. model.init(seed) or a FitResult's params."
        )
    for name, m in mags.items():
        if not np.all(np.isfinite(m)):
            raise ValueError(
                f"Weight {name!r} contains NaN or inf, so its weights cannot be ranked by "
                "magnitude. Prune the parameters of a run that did not diverge."
            )
    return mags


def n_pruned(n_weights: int, sparsity: float) -> int:
    """How many of ``n_weights`` weights a sparsity ``s`` removes: ``round(s · n)``."""
    return int(round(_check_sparsity(sparsity) * n_weights))


def smallest_mask(magnitudes: Array, k: int) -> np.ndarray:
    """Boolean mask of ``magnitudes``' shape that is ``False`` at its ``k`` smallest entries.

    Exactly ``k`` entries are pruned. Ties are broken by position (the earlier
    entry in row-major order goes first), so the mask is the same on every run.
    """
    flat = np.asarray(magnitudes).reshape(-1)
    if not 0 <= k <= flat.size:
        raise ValueError(f"k must be between 0 and {flat.size} (the number of entries), got {k}.")
    keep = np.ones(flat.size, dtype=bool)
    keep[np.argsort(flat, kind="stable")[:k]] = False
    return keep.reshape(np.shape(magnitudes))


def magnitude_masks(params: Any, sparsity: float, scope: str = "global") -> Any:
    """Masks that prune the fraction ``sparsity`` of the weights with the smallest ``|w|``.

    Arguments:
        params: a model's parameters (list of per-layer dicts, as ``model.init`` returns).
        sparsity: fraction ``s ∈ [0, 1]`` of weights to remove; ``round(s · n)``
            weights go, where ``n`` counts the weights in the ranking.
        scope: ``"global"`` ranks all weight matrices together (one threshold
            ``t`` and every ``|w| ≤ t`` goes); ``"layer"`` ranks each matrix on
            its own and removes the fraction ``s`` from each.

    Returns a nest shaped like ``params`` of boolean NumPy arrays: ``True`` =
    keep. Masks of biases and other non-weight arrays are all ``True``.
    """
    sparsity = _check_sparsity(sparsity)
    scope = _check_scope(scope)
    mags = _magnitudes(params)
    if scope == "layer":
        weight_masks = {
            name: smallest_mask(m, n_pruned(m.size, sparsity)) for name, m in mags.items()
        }
    else:
        all_mags = np.concatenate([m.reshape(-1) for m in mags.values()])
        keep = smallest_mask(all_mags, n_pruned(all_mags.size, sparsity))
        bounds = np.cumsum([0] + [m.size for m in mags.values()])
        weight_masks = {
            name: keep[start:stop].reshape(m.shape)
            for (name, m), start, stop in zip(mags.items(), bounds[:-1], bounds[1:], strict=True)
        }
    flat = flatten_params(params)
    masks = {
        name: weight_masks.get(name, np.ones(np.shape(value), dtype=bool))
        for name, value in flat.items()
    }
    return unflatten_like(params, masks)


def apply_masks(params: Any, masks: Any) -> Any:
    """``W ⊙ M``: a copy of ``params`` with every masked-out entry set to exactly 0.

    ``masks`` is a nest of boolean arrays shaped like ``params`` (from
    :func:`magnitude_masks`). The parameters keep their dtype and backend;
    nothing is modified in place.
    """
    flat_p, flat_m = flatten_params(params), flatten_params(masks)
    if set(flat_p) != set(flat_m):
        raise ValueError(
            f"The masks do not fit these parameters: parameters have {sorted(flat_p)}, masks "
            f"have {sorted(flat_m)}. Make the masks from the same model's parameters."
        )
    for name, p in flat_p.items():
        if tuple(np.shape(flat_m[name])) != tuple(np.shape(p)):
            raise ValueError(
                f"Mask {name!r} has shape {tuple(np.shape(flat_m[name]))} but the parameter "
                f"has shape {tuple(np.shape(p))}. Make the masks from the same model's parameters."
            )
    xp = backend.xp()
    return tree_map(lambda p, m: xp.where(xp.asarray(m), p, xp.zeros_like(p)), params, masks)


def prune_by_magnitude(params: Any, sparsity: float, scope: str = "global") -> tuple[Any, Any]:
    """Prune in one call: ``(pruned params, masks)`` for :func:`magnitude_masks`' arguments."""
    masks = magnitude_masks(params, sparsity, scope)
    return apply_masks(params, masks), masks


def masked_optimizer(optimizer: Optimizer, masks: Any) -> Optimizer:
    """``optimizer`` followed by ``θ ← θ ⊙ M``: pruned weights stay zero while training.

    The update is the wrapped optimiser's update, after which the masks are
    applied again. Pass the result to :func:`nnlib.train.fit` as ``optimizer``
    to fine-tune a pruned network.
    """

    def update(params: Any, grads: Any, state: dict) -> tuple[Any, dict]:
        params, state = optimizer.update(params, grads, state)
        return apply_masks(params, masks), state

    return Optimizer(optimizer.init, update, f"masked {optimizer.name}")


# --- how sparse is it? -----------------------------------------------------------------


@dataclass(frozen=True)
class LayerSparsity:
    """The zeros of one array: its flattened ``name``, ``shape`` and count of exact zeros."""

    name: str
    shape: tuple[int, ...]
    zeros: int

    @property
    def size(self) -> int:
        """Number of entries."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def sparsity(self) -> float:
        """Fraction of entries that are exactly zero (0 for an empty array)."""
        return self.zeros / self.size if self.size else 0.0


@dataclass(frozen=True)
class SparsityReport:
    """Per-array zero counts; ``sparsity`` is the fraction of zeros over all of them.

    ``str(report)`` is a table with one row per array and a total row.
    """

    layers: tuple[LayerSparsity, ...]

    @property
    def zeros(self) -> int:
        """Total number of zero entries."""
        return sum(layer.zeros for layer in self.layers)

    @property
    def size(self) -> int:
        """Total number of entries."""
        return sum(layer.size for layer in self.layers)

    @property
    def sparsity(self) -> float:
        """``Σ zeros / Σ size``: every entry counts the same, so big layers weigh more."""
        return self.zeros / self.size if self.size else 0.0

    def __iter__(self) -> Iterator[LayerSparsity]:
        return iter(self.layers)

    def __str__(self) -> str:
        lines = [f"{'array':<14} {'shape':>10} {'entries':>8} {'zeros':>8} {'sparsity':>9}"]
        for layer in self.layers:
            shape = "x".join(str(s) for s in layer.shape)
            lines.append(
                f"{layer.name:<14} {shape:>10} {layer.size:>8} {layer.zeros:>8} "
                f"{layer.sparsity:>9.1%}"
            )
        lines.append(f"{'total':<14} {'':>10} {self.size:>8} {self.zeros:>8} {self.sparsity:>9.1%}")
        return "\n".join(lines)


def sparsity_report(params: Any, weights_only: bool = True) -> SparsityReport:
    """Count the exact zeros of every weight matrix (or of every array: ``weights_only=False``)."""
    layers = tuple(
        LayerSparsity(name, tuple(np.shape(value)), int(np.sum(backend.to_numpy(value) == 0)))
        for name, value in flatten_params(params).items()
        if is_weight(name) or not weights_only
    )
    return SparsityReport(layers)


def sparsity(params: Any, weights_only: bool = True) -> float:
    """Fraction of the weights that are exactly zero: ``s = (zeros) / (number of weights)``.

    ``weights_only=False`` counts every array (biases too).
    """
    return sparsity_report(params, weights_only).sparsity


def mask_sparsity(masks: Any, weights_only: bool = True) -> float:
    """Fraction of ``False`` entries of masks (the share of weights a mask prunes)."""
    flat = flatten_params(masks)
    kept = [
        np.asarray(m, dtype=bool) for name, m in flat.items() if is_weight(name) or not weights_only
    ]
    total = sum(m.size for m in kept)
    return float(sum(int((~m).sum()) for m in kept) / total) if total else 0.0


__all__ = [
    "SCOPES",
    "LayerSparsity",
    "SparsityReport",
    "apply_masks",
    "is_weight",
    "magnitude_masks",
    "mask_sparsity",
    "masked_optimizer",
    "n_pruned",
    "prune_by_magnitude",
    "smallest_mask",
    "sparsity",
    "sparsity_report",
    "weight_names",
]
