"""Diagnostics: numbers that tell whether a network *can* learn, before and while it trains.

A loss curve says only *that* training stalls. These statistics say *why*:

* **Activation statistics** (:func:`activation_stats`). A unit learns only if
  gradient passes through its non-linearity, and the local derivative
  ``f'(z)`` is tiny where the activation is flat:

  - tanh is *saturated* when ``|y| > 0.99`` (there ``f' = 1 - y² < 0.02``);
  - sigmoid when ``y < 0.01`` or ``y > 0.99`` (``f' = y(1 - y) < 0.01``);
  - ReLU outputs exactly 0 for ``z < 0`` and passes no gradient there; a unit
    that is 0 for *every* input is *dead* and never recovers.

  Healthy layers have activations spread over the non-flat part, with a
  standard deviation that neither shrinks to 0 nor blows up with depth.

* **Gradient norms** (:func:`grad_norms`, :func:`gradient_norm_ratio`).
  Backpropagation multiplies the gradient by every layer's ``Wᵀ`` and ``f'``
  on its way down. If those factors are mostly below 1 the gradient *vanishes*
  exponentially with depth and the first layers barely move; above 1 it
  *explodes*. The first-to-last ratio of ``||∂L/∂W||`` measures it directly.

* **Update-to-weight ratios** (:func:`update_ratios`). What matters is not
  the gradient but how much a step changes the weights *relative to their
  size*, ``||ΔW|| / ||W||``. Which size is right depends on the network, the
  data and how long it trains, so compare layers with each other and learning
  rates with each other on one setup (notebook 10 compares them on one network).

Everything here is NumPy (JAX arrays are converted); no plotting. The figures
for these numbers are in :mod:`nnlib.plots`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import backend
from .layers import Activation, Residual
from .tree import flatten_params, param_dtype

Array = Any

#: Thresholds of the flat (saturated) regions, per activation name.
TANH_SATURATION = 0.99
SIGMOID_SATURATION = 0.01


# --- running a model one layer at a time -------------------------------------------------


def _layers_of(model: Any) -> list[Any]:
    layers = getattr(model, "layers", None)
    if layers is None:
        raise ValueError(
            f"Expected a model with a list of layers (a Sequential, e.g. from nnlib.mlp), got "
            f"{type(model).__name__}."
        )
    return list(layers)


def _walk(
    layers: Sequence[Any],
    params: Sequence[Any],
    x: Array,
    train: bool,
    state: Sequence[Any] | None,
    key: Any,
    prefix: str,
    visit: Any,
) -> Array:
    """Run ``layers`` in order, calling ``visit(name, layer, output)`` after each one.

    Residual blocks are entered: their inner layers are visited (names like
    ``"3.layers.1"``, the same paths as their parameters in
    :func:`nnlib.tree.flatten_params`), then the block itself with its output
    ``x + F(x)``.
    """
    if len(params) != len(layers):
        raise ValueError(
            f"Got parameters for {len(params)} layers but the model has {len(layers)} layers: "
            "create them with model.init(seed) for this model."
        )
    state = state if state is not None else [{} for _ in layers]
    keys = backend.split_key(key, len(layers))
    for i, (layer, p, s, k) in enumerate(zip(layers, params, state, keys, strict=True)):
        name = f"{prefix}{i}"
        if isinstance(layer, Residual):
            inner_state = s["layers"] if s else None
            fx = _walk(
                layer.layers, p["layers"], x, train, inner_state, k, f"{name}.layers.", visit
            )
            x = x + fx
        else:
            x, _ = layer.forward(p, x, train, state=s, key=k)
        visit(name, layer, x)
    return x


def _run(model: Any, params: Any, X: Array, state: Any, train: bool, seed: int, visit: Any) -> None:
    X_np = np.asarray(backend.to_numpy(X))
    if X_np.ndim != 2:
        raise ValueError(
            f"X must be a 2-D array (N examples, D features), got shape {X_np.shape}. "
            "Reshape a single example with X.reshape(1, -1)."
        )
    x = backend.asarray(X_np, param_dtype(params))
    key = backend.make_key(seed) if train else None
    with np.errstate(over="ignore", invalid="ignore"):
        _walk(_layers_of(model), params, x, train, state, key, "", visit)


def layer_outputs(
    model: Any,
    params: Any,
    X: Array,
    state: Any = None,
    train: bool = False,
    seed: int = 0,
) -> list[np.ndarray]:
    """The output of every top-level layer of ``model`` for the inputs ``X``.

    ``X`` is ``(N, D)``; element ``i`` of the result is the NumPy array
    ``(N, D_i)`` that layer ``i`` hands to layer ``i + 1`` (the last one is the
    model's output). A residual block counts as one layer (its output
    ``x + F(x)``). ``train=True`` runs training mode (dropout masks drawn from
    ``seed``, batch statistics in BatchNorm); the default is evaluation mode.
    """
    outputs: list[np.ndarray] = []

    def keep_top_level(name: str, layer: Any, y: Array) -> None:
        if "." not in name:
            outputs.append(np.asarray(backend.to_numpy(y)))

    _run(model, params, X, state, train, seed, keep_top_level)
    return outputs


def saturation_mask(kind: str, y: np.ndarray) -> np.ndarray | None:
    """Boolean mask of the activations ``y`` that sit in a flat region of activation ``kind``.

    ``tanh``: ``|y| > 0.99``; ``sigmoid``: ``y < 0.01`` or ``y > 0.99``;
    ``relu``: ``y == 0`` (no gradient passes); ``leaky_relu``: ``y <= 0`` (only the
    small slope ``alpha`` passes). ``None`` for activations without a flat
    region (``identity``) and for residual block outputs.
    """
    if kind == "tanh":
        return np.abs(y) > TANH_SATURATION
    if kind == "sigmoid":
        return (y < SIGMOID_SATURATION) | (y > 1.0 - SIGMOID_SATURATION)
    if kind == "relu":
        return y == 0
    if kind == "leaky_relu":
        return y <= 0
    return None


def activation_stats(
    model: Any,
    params: Any,
    X: Array,
    state: Any = None,
    train: bool = False,
    return_values: bool = False,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Statistics of every activation layer's output (and every residual block's output).

    Runs ``X`` ``(N, D)`` through the model one layer at a time (evaluation mode
    unless ``train=True``) and returns, in order from input to output, one dict
    per ``Activation`` layer and per ``Residual`` block::

        {"name": "2", "kind": "tanh", "mean": ..., "std": ...,
         "saturated": ..., "saturated_units": ...}

    * ``name``: the layer's position, the same path as its parameters
      (``"2"``, or ``"3.layers.2"`` inside the residual block at position 3);
    * ``kind``: the activation (``"tanh"``, ``"relu"``, ...) or ``"residual"``;
    * ``mean``, ``std``: over all ``N × units`` values;
    * ``saturated``: the fraction of values in the activation's flat region
      (see :func:`saturation_mask`; for ReLU: the fraction of outputs that are
      exactly 0);
    * ``saturated_units``: the fraction of units (columns) saturated for *every*
      example. For ReLU these are the dead units: they receive no gradient from
      any example, so nothing can revive them.

    Both saturation numbers are ``nan`` where undefined (identity, residual
    outputs). With ``return_values=True`` each dict also holds ``"values"``, the
    activations ``(N, units)`` as a NumPy array (for
    :func:`nnlib.plots.plot_activation_histograms`).
    """
    stats: list[dict[str, Any]] = []

    def record(name: str, layer: Any, y: Array) -> None:
        if isinstance(layer, Activation):
            kind = layer.name
        elif isinstance(layer, Residual):
            kind = "residual"
        else:
            return
        values = np.asarray(backend.to_numpy(y), dtype=np.float64)
        mask = saturation_mask(kind, values)
        entry: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "mean": float(values.mean()),
            "std": float(values.std()),
            "saturated": float(mask.mean()) if mask is not None else float("nan"),
            "saturated_units": (
                float(mask.all(axis=0).mean()) if mask is not None else float("nan")
            ),
        }
        if return_values:
            entry["values"] = values
        stats.append(entry)

    _run(model, params, X, state, train, seed, record)
    return stats


# --- gradients and updates ---------------------------------------------------------------


def _is_weight(name: str) -> bool:
    return name == "W" or name.endswith(".W")


def grad_norms(grads: Any) -> dict[str, float]:
    """``{"0.W": ||∂L/∂W₀||, "2.W": ||∂L/∂W₂||, ...}``: each weight matrix's gradient norm.

    ``grads`` is a gradient nest as returned by ``model.backward`` (same
    structure as the parameters). Keys are the parameter paths of
    :func:`nnlib.tree.flatten_params`, input layer first; the norm is the
    Frobenius norm ``sqrt(Σ_ij g_ij²)``. Biases and BatchNorm parameters are
    left out: the weight matrices are where vanishing gradients show.
    """
    return {
        name: float(np.linalg.norm(np.asarray(backend.to_numpy(g), dtype=np.float64)))
        for name, g in flatten_params(grads).items()
        if _is_weight(name)
    }


def update_ratios(params: Any, new_params: Any) -> dict[str, float]:
    """``{"0.W": ||W_new - W|| / ||W||, ...}``: how much one update changed each weight matrix.

    ``params`` and ``new_params`` are parameter nests of the same structure,
    before and after an optimiser step (for plain SGD, ``ΔW = -lr · ∂L/∂W``).
    Norms are Frobenius norms. What ratio is healthy depends on the setup (see
    the module docstring). A matrix of zeros gives ``inf`` (or ``nan`` if it
    did not change either).
    """
    before, after = flatten_params(params), flatten_params(new_params)
    if before.keys() != after.keys():
        raise ValueError(
            "params and new_params have different structures: "
            f"{sorted(before)} vs {sorted(after)}. Pass the parameters of one model before and "
            "after an update."
        )
    ratios: dict[str, float] = {}
    for name, w in before.items():
        if not _is_weight(name):
            continue
        w = np.asarray(backend.to_numpy(w), dtype=np.float64)
        w_new = np.asarray(backend.to_numpy(after[name]), dtype=np.float64)
        if w.shape != w_new.shape:
            raise ValueError(f"{name} has shape {w.shape} before but {w_new.shape} after.")
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios[name] = float(np.linalg.norm(w_new - w) / np.linalg.norm(w))
    return ratios


def gradient_norm_ratio(norms: Mapping[str, float] | Sequence[float]) -> float:
    """``||∂L/∂W_first|| / ||∂L/∂W_last||``: how much weaker the gradient is at the input.

    ``norms`` is the dict from :func:`grad_norms` (input layer first) or a
    sequence of norms in layer order. Near 1, all layers learn at a similar
    pace; ``1e-3`` means the first layer's gradient is a thousand times smaller
    than the last one's: it vanished on the way down. Large values mean it
    exploded. A zero last-layer norm gives ``inf`` (``nan`` if both are zero).
    """
    values = list(norms.values()) if isinstance(norms, Mapping) else list(np.ravel(norms))
    if not values:
        raise ValueError("norms is empty: pass the gradient norms of at least one layer.")
    first, last = float(values[0]), float(values[-1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(first) / np.float64(last))
