"""Models: a stack of layers, its forward and backward passes, and saving.

``Sequential`` chains layers; ``mlp`` builds the usual multi-layer perceptron
from a list of sizes::

    model = mlp([2, 16, 16, 1], activation="tanh")
    params = model.init(seed=0)
    logits, cache = model.forward(params, X)
    loss, dlogits = binary_cross_entropy_with_logits(logits, y)
    dX, grads = model.backward(params, cache, dlogits)

Backpropagation *is* ``model.backward``: the gradient of the loss with respect
to the output is handed to the last layer, which returns the gradient with
respect to its input, which is handed to the layer before, and so on. Each
layer also reports the gradients of its own parameters on the way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import backend
from .layers import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Layer,
    Params,
    Residual,
    backward_layers,
    forward_layers,
)
from .losses import get_loss, l2_penalty
from .tree import flatten_params, tree_map, unflatten_like

Array = Any


def _as_rng(seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise ValueError(f"seed must be an int or a numpy Generator, got {seed!r}.")


class Sequential(Layer):
    """Layers applied one after another: ``y = f_L(... f_2(f_1(x)))``.

    A ``Sequential`` is itself a layer, with parameters ``[p_1, ..., p_L]`` (one
    dict per layer) and state ``[s_1, ..., s_L]``.
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        if not layers:
            raise ValueError("A model needs at least one layer.")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(f"Element {i} of the model is {layer!r}, not an nnlib layer.")
        self.layers = list(layers)

    # -- parameters -------------------------------------------------------------
    def init(self, seed: int | np.random.Generator = 0) -> list[Params]:
        """Initial parameters, one dict per layer, from ``seed`` (int or NumPy Generator)."""
        rng = _as_rng(seed)
        return [layer.init(rng) for layer in self.layers]

    def init_state(self) -> list[Params]:
        """Initial state (BatchNorm running statistics), one dict per layer."""
        return [layer.init_state() for layer in self.layers]

    def n_params(self, params: Sequence[Params]) -> int:
        """Total number of trainable numbers."""
        return int(sum(np.size(a) for a in flatten_params(params).values()))

    def summary(self, params: Sequence[Params] | None = None) -> str:
        """A table of the layers and their parameter counts."""
        params = params if params is not None else self.init(0)
        lines = [f"{'#':>3}  {'layer':<44} {'params':>8}"]
        for i, (layer, p) in enumerate(zip(self.layers, params, strict=True)):
            n = sum(np.size(a) for a in flatten_params(p).values())
            lines.append(f"{i:>3}  {repr(layer)[:44]:<44} {n:>8}")
        lines.append(f"     {'total':<44} {self.n_params(params):>8}")
        return "\n".join(lines)

    # -- forward and backward ---------------------------------------------------
    def forward(
        self,
        params: Sequence[Params],
        x: Array,
        train: bool = False,
        *,
        state: Sequence[Params] | None = None,
        key: Any = None,
    ) -> tuple[Array, dict]:
        """Run every layer; the cache holds each layer's cache and the new state."""
        y, caches, new_state = forward_layers(self.layers, params, x, train, state=state, key=key)
        return y, {"caches": caches, "state": new_state}

    def backward(self, params: Sequence[Params], cache: dict, dy: Array) -> tuple[Array, list]:
        """Backpropagate ``dy = ∂L/∂y`` through every layer, last to first."""
        return backward_layers(self.layers, params, cache["caches"], dy)

    def predict(
        self, params: Sequence[Params], x: Array, state: Sequence[Params] | None = None
    ) -> Array:
        """Outputs in evaluation mode (no dropout, running batch-norm statistics)."""
        return self.forward(params, x, False, state=state)[0]

    def loss_and_grads(
        self,
        params: Sequence[Params],
        x: Array,
        y: Array,
        loss: Any = "mse",
        *,
        l2: float = 0.0,
        state: Sequence[Params] | None = None,
        key: Any = None,
        train: bool = True,
        check: bool = True,
    ) -> tuple[Array, list, list, Array]:
        """One forward and backward pass: ``(loss, grads, new_state, outputs)``.

        ``loss`` is the data loss plus ``(l2/2) Σ ||W||²`` when ``l2 > 0``.
        The gradient with respect to ``x`` (the data) is not computed: nobody
        needs it here (``backward`` gives it when you do).

        On JAX, ``l2`` may be a traced number inside ``jax.jit`` (so that one
        compiled function serves every strength); the penalty is then always
        added, which for ``l2 = 0`` adds zeros.
        """
        loss_fn = get_loss(loss)
        out, cache = self.forward(params, x, train, state=state, key=key)
        value, dout = loss_fn(out, y, check=check)
        _, grads = backward_layers(self.layers, params, cache["caches"], dout, input_grad=False)
        if backend.is_tracer(l2) or l2 != 0:
            penalty, pgrads = l2_penalty(params, l2)
            value = value + penalty
            grads = tree_map(lambda g, pg: g + pg, grads, pgrads)
        return value, grads, cache["state"], out

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"


def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    *,
    init: Any = None,
    init_kwargs: dict | None = None,
    dropout: float = 0.0,
    batchnorm: bool = False,
    residual: bool = False,
    dtype: Any = "float32",
) -> Sequential:
    """Build a multi-layer perceptron from layer sizes.

    ``mlp([2, 16, 16, 1])`` is ``Dense(2→16), act, Dense(16→16), act, Dense(16→1)``:
    the last layer outputs logits (or regression values), without activation.

    Options per hidden layer: ``batchnorm`` (Dense → BatchNorm → act),
    ``dropout`` (after the activation), and ``residual``: every hidden layer
    whose input and output widths agree becomes a block ``x + act(BN(Dense(x)))``.
    ``init`` defaults to He for (leaky) ReLU and Xavier otherwise.
    """
    sizes = list(sizes)
    if len(sizes) < 2 or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ValueError(
            f"mlp sizes must be at least [n_inputs, n_outputs] of positive integers, got {sizes}."
        )
    Activation(activation)  # validates the name early, with the list of valid names
    if init is None:
        init = "he" if activation.lower() in ("relu", "leaky_relu") else "xavier"
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        dense = Dense(n_in, n_out, init=init, init_kwargs=init_kwargs, dtype=dtype)
        if i == len(sizes) - 2:  # output layer: logits, no activation
            layers.append(dense)
            break
        block: list[Layer] = [dense]
        if batchnorm:
            block.append(BatchNorm(n_out, dtype=dtype))
        block.append(Activation(activation))
        if residual and n_in == n_out:
            layers.append(Residual(block))
        else:
            layers.extend(block)
        if dropout:
            layers.append(Dropout(dropout))
    return Sequential(layers)


# --- saving and loading ------------------------------------------------------------


def save_params(path: str | os.PathLike, params: Any, state: Any = None) -> None:
    """Save parameters (and optional state) to an ``.npz`` file of named arrays.

    Names are the flattened paths (``"params/0.W"``); no pickle is involved, so
    the file is safe to share and to load.
    """
    arrays = {f"params/{k}": backend.to_numpy(v) for k, v in flatten_params(params).items()}
    if state is not None:
        arrays.update({f"state/{k}": backend.to_numpy(v) for k, v in flatten_params(state).items()})
    np.savez(path, **arrays)


def load_params(path: str | os.PathLike, like: Any, like_state: Any = None) -> Any:
    """Load parameters saved by :func:`save_params`, checking them against ``like``.

    ``like`` is a parameter nest of the right structure (e.g. ``model.init(0)``).
    Returns ``params``, or ``(params, state)`` when ``like_state`` is given.
    Never unpickles (``allow_pickle=False``).
    """
    with np.load(path, allow_pickle=False) as f:
        stored = {k: f[k] for k in f.files}
    out = [_restore(stored, "params", like)]
    if like_state is not None:
        out.append(_restore(stored, "state", like_state))
    return out[0] if len(out) == 1 else tuple(out)


def _restore(stored: dict[str, np.ndarray], kind: str, like: Any) -> Any:
    expected = flatten_params(like)
    found = {k[len(kind) + 1 :]: v for k, v in stored.items() if k.startswith(kind + "/")}
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    if missing or extra:
        raise ValueError(
            f"The file's {kind} do not match this model: missing {missing}, unexpected {extra}. "
            "Build the same architecture that was saved."
        )
    for name, ref in expected.items():
        if tuple(found[name].shape) != tuple(np.shape(ref)):
            raise ValueError(
                f"{kind} {name!r} has shape {found[name].shape} in the file but "
                f"{tuple(np.shape(ref))} in this model. Build the same architecture that was saved."
            )
    flat = {k: backend.asarray(v, v.dtype) for k, v in found.items()}
    return unflatten_like(like, flat)
