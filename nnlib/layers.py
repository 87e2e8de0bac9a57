"""Layers: explicit forward and backward passes.

Every layer follows one contract (see ``CONTRIBUTING.md``)::

    params = layer.init(rng)                      # trainable arrays, a dict
    state = layer.init_state()                    # running statistics, a dict ({} for most)
    y, cache = layer.forward(params, x, train, state=state, key=key)
    dx, grads = layer.backward(params, cache, dy)

A layer object holds only its configuration; parameters travel separately, so
``forward`` and ``backward`` are pure functions of their arguments. ``cache`` is
exactly what the backward pass needs and nothing more. Gradients follow the
chain rule: if ``L`` is the loss and ``y = f(x; θ)``, then ``dx = ∂L/∂x`` and
``grads[θ] = ∂L/∂θ`` are computed from ``dy = ∂L/∂y``.

Shapes: ``x`` is ``(N, D_in)``, one example per row; ``y`` is ``(N, D_out)``.

A note on ``z += b``: on NumPy this adds in place into ``z``, an array the
layer has just created itself (cheap, no new allocation). On JAX arrays are
immutable and Python quietly turns it into ``z = z + b``. Either way no array
that came in or goes out is modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import backend
from .activations import get_activation
from .init import get_initializer

Array = Any
Params = dict[str, Array]


def _shape_error(layer: Layer, expected: str, x: Array) -> ValueError:
    return ValueError(
        f"{layer!r} expected input of shape {expected} but received {tuple(x.shape)}. "
        "Check the sizes of consecutive layers and that inputs are (N, features) rows."
    )


class Layer:
    """Base class: a layer without parameters or state that passes ``x`` through."""

    def init(self, rng: np.random.Generator) -> Params:
        """Create the trainable parameters (a dict of arrays). None by default."""
        return {}

    def init_state(self) -> Params:
        """Create non-trainable state such as running statistics. None by default."""
        return {}

    def forward(
        self,
        params: Params,
        x: Array,
        train: bool = False,
        *,
        state: Params | None = None,
        key: Any = None,
    ) -> tuple[Array, Any]:
        """``y = x``."""
        return x, None

    def backward(self, params: Params, cache: Any, dy: Array) -> tuple[Array, Params]:
        """``dx = dy``; no parameters, so no gradients."""
        return dy, {}

    def param_grads(self, params: Params, cache: Any, dy: Array) -> Params:
        """Only the parameter gradients of :meth:`backward`, without ``dx``.

        Used for the first layer of a model: its input is the data, which is
        not trained, so nobody needs ``dx = ∂L/∂x`` there. This default runs
        ``backward`` and drops ``dx``; a layer for which ``dx`` is expensive
        (``Dense``) skips computing it.
        """
        return self.backward(params, cache, dy)[1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Dense(Layer):
    """Affine layer ``y = x W + b``.

    Shapes: ``x (N, n_in)``, ``W (n_in, n_out)``, ``b (n_out,)``, ``y (N, n_out)``.

    Backward, from ``dy = ∂L/∂y`` of shape ``(N, n_out)``::

        dW = xᵀ · dy          (n_in, n_out)   each example adds its outer product
        db = Σ_rows dy        (n_out,)        b is added to every row
        dx = dy · Wᵀ          (N, n_in)       passed on to the layer below
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        init: Any = "xavier",
        init_kwargs: dict | None = None,
        dtype: Any = "float32",
    ) -> None:
        for name, value in (("n_in", n_in), ("n_out", n_out)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"Dense {name} must be a positive integer, got {value!r}.")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.init_fn = get_initializer(init)
        self.init_name = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        self.init_kwargs = dict(init_kwargs or {})
        self.dtype = backend.as_dtype(dtype)

    def init(self, rng: np.random.Generator) -> Params:
        """``W`` from the initialiser (drawn with NumPy, same on every backend), ``b = 0``."""
        W = self.init_fn(rng, (self.n_in, self.n_out), self.dtype, **self.init_kwargs)
        return {
            "W": backend.asarray(W, self.dtype),
            "b": backend.asarray(np.zeros(self.n_out, self.dtype), self.dtype),
        }

    def forward(
        self,
        params: Params,
        x: Array,
        train: bool = False,
        *,
        state: Params | None = None,
        key: Any = None,
    ) -> tuple[Array, Array]:
        """``y = x W + b``; the cache is ``x`` (needed for ``dW``)."""
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise _shape_error(self, f"(N, {self.n_in})", x)
        y = x @ params["W"]
        y += params["b"]
        return y, x

    def backward(self, params: Params, cache: Array, dy: Array) -> tuple[Array, Params]:
        """``dx = dy Wᵀ``, ``dW = xᵀ dy``, ``db = Σ_rows dy``."""
        return dy @ params["W"].T, self.param_grads(params, cache, dy)

    def param_grads(self, params: Params, cache: Array, dy: Array) -> Params:
        """``dW = xᵀ dy`` and ``db = Σ_rows dy`` (see :func:`nnlib.backend.column_sums`)."""
        x = cache
        return {"W": x.T @ dy, "b": backend.column_sums(dy)}

    def __repr__(self) -> str:
        return f"Dense({self.n_in} -> {self.n_out}, init={self.init_name!r})"


class Activation(Layer):
    """Element-wise non-linearity ``y = f(x)`` (see :mod:`nnlib.activations`).

    Backward: ``dx = dy ⊙ f'(x)``.
    """

    def __init__(self, name: str, alpha: float = 0.01) -> None:
        self.forward_fn, self.backward_fn = get_activation(name)
        self.name = name.lower()
        self.alpha = float(alpha)

    def forward(
        self,
        params: Params,
        x: Array,
        train: bool = False,
        *,
        state: Params | None = None,
        key: Any = None,
    ) -> tuple[Array, Any]:
        """``y = f(x)``; the cache is what ``f'`` needs (``y`` or the mask ``x > 0``)."""
        if self.name == "leaky_relu":
            return self.forward_fn(x, self.alpha)
        return self.forward_fn(x)

    def backward(self, params: Params, cache: Any, dy: Array) -> tuple[Array, Params]:
        """``dx = dy ⊙ f'(x)``."""
        if self.name == "leaky_relu":
            return self.backward_fn(dy, cache, self.alpha), {}
        return self.backward_fn(dy, cache), {}

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``rate``.

    ``y = x ⊙ m / (1 - rate)`` with ``m ~ Bernoulli(1 - rate)``. Dividing by the
    keep probability keeps ``E[y] = x``, so at evaluation time the layer is the
    identity and nothing needs rescaling. Backward: ``dx = dy ⊙ m / (1 - rate)``.

    Needs a ``key`` in training mode (``fit`` passes one derived from its seed).
    """

    def __init__(self, rate: float) -> None:
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(
                f"Dropout rate must be in [0, 1), got {rate!r}: it is the probability of "
                "dropping a unit (0 = no dropout)."
            )
        self.rate = float(rate)

    def forward(
        self,
        params: Params,
        x: Array,
        train: bool = False,
        *,
        state: Params | None = None,
        key: Any = None,
    ) -> tuple[Array, Any]:
        """Training: ``y = x ⊙ mask`` with ``mask = m / (1 - rate)``; evaluation: ``y = x``."""
        if not train or self.rate == 0.0:
            return x, None
        if key is None:
            raise ValueError(
                "Dropout in training mode needs a source of randomness: pass key=... "
                "(nnlib.backend.make_key(seed)), or train with nnlib.fit, which passes one."
            )
        keep = 1.0 - self.rate
        mask = backend.bernoulli_mask(key, keep, tuple(x.shape), x.dtype)
        mask /= keep
        return x * mask, mask

    def backward(self, params: Params, cache: Any, dy: Array) -> tuple[Array, Params]:
        """``dx = dy ⊙ mask`` (the same units that were dropped get no gradient)."""
        if cache is None:
            return dy, {}
        return dy * cache, {}

    def __repr__(self) -> str:
        return f"Dropout(rate={self.rate})"


class BatchNorm(Layer):
    """Batch normalisation over the batch axis, with learned scale and shift.

    Training, per feature ``j`` over the batch of ``N`` rows::

        μ = mean(x),  σ² = var(x),  x̂ = (x - μ) / √(σ² + ε),  y = γ x̂ + β

    and the running statistics move towards the batch ones:
    ``running = momentum · running + (1 - momentum) · batch``.
    Evaluation uses the running statistics instead of the batch's.

    Backward (training), with ``g = dy ⊙ γ`` and ``s = 1/√(σ² + ε)``::

        dγ = Σ dy ⊙ x̂,   dβ = Σ dy
        dx = s/N · (N g - Σ g - x̂ Σ(g ⊙ x̂))

    The two sums appear because every ``x`` in the batch moved ``μ`` and ``σ²``.
    """

    def __init__(
        self, n_features: int, momentum: float = 0.9, eps: float = 1e-5, dtype: Any = "float32"
    ) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"BatchNorm momentum must be in [0, 1), got {momentum!r}.")
        self.n_features = int(n_features)
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.dtype = backend.as_dtype(dtype)

    def init(self, rng: np.random.Generator) -> Params:
        """``γ = 1``, ``β = 0``: the layer starts as a plain standardisation."""
        return {
            "gamma": backend.asarray(np.ones(self.n_features, self.dtype), self.dtype),
            "beta": backend.asarray(np.zeros(self.n_features, self.dtype), self.dtype),
        }

    def init_state(self) -> Params:
        """Running mean 0 and variance 1."""
        return {
            "mean": backend.asarray(np.zeros(self.n_features, self.dtype), self.dtype),
            "var": backend.asarray(np.ones(self.n_features, self.dtype), self.dtype),
        }

    def forward(
        self,
        params: Params,
        x: Array,
        train: bool = False,
        *,
        state: Params | None = None,
        key: Any = None,
    ) -> tuple[Array, dict]:
        """Normalise with batch (training) or running (evaluation) statistics."""
        xp = backend.xp()
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise _shape_error(self, f"(N, {self.n_features})", x)
        state = state if state else self.init_state()
        if train:
            mu = x.mean(axis=0)
            var = x.var(axis=0)
            m = self.momentum
            new_state = {
                "mean": m * state["mean"] + (1 - m) * mu,
                "var": m * state["var"] + (1 - m) * var,
            }
        else:
            mu, var, new_state = state["mean"], state["var"], state
        inv_std = 1.0 / xp.sqrt(var + self.eps)
        x_hat = (x - mu) * inv_std
        y = x_hat * params["gamma"]
        y += params["beta"]
        return y, {"x_hat": x_hat, "inv_std": inv_std, "train": train, "state": new_state}

    def backward(self, params: Params, cache: dict, dy: Array) -> tuple[Array, Params]:
        """See the class docstring for the equations."""
        x_hat, inv_std = cache["x_hat"], cache["inv_std"]
        column_sums = backend.column_sums
        grads = {"gamma": column_sums(dy * x_hat), "beta": column_sums(dy)}
        g = dy * params["gamma"]
        if not cache["train"]:  # running statistics are constants: a plain affine map
            g *= inv_std
            return g, grads
        n = dy.shape[0]
        # Σ g = γ Σ dy and Σ g x̂ = γ Σ dy x̂: reuse the two sums of the parameter gradients.
        sum_g = params["gamma"] * grads["beta"]
        sum_g_xhat = params["gamma"] * grads["gamma"]
        dx = g * n
        dx -= sum_g
        dx -= x_hat * sum_g_xhat
        dx *= inv_std / n
        return dx, grads

    def __repr__(self) -> str:
        return f"BatchNorm({self.n_features})"


# --- running a list of layers (used by Residual and by model.Sequential) ---------


def forward_layers(
    layers: Sequence[Layer],
    params: Sequence[Params],
    x: Array,
    train: bool = False,
    *,
    state: Sequence[Params] | None = None,
    key: Any = None,
) -> tuple[Array, list[Any], list[Params]]:
    """Run ``layers`` in order: ``x → layer 0 → layer 1 → ...``.

    Returns ``(y, caches, new_state)``: one cache per layer for the backward
    pass, and the updated state (running statistics) of every layer.
    """
    if len(params) != len(layers):
        raise ValueError(
            f"Got parameters for {len(params)} layers but the model has {len(layers)} layers: "
            "create them with model.init(seed) for this model."
        )
    state = state if state is not None else [{} for _ in layers]
    keys = backend.split_key(key, len(layers))
    caches, new_state = [], []
    for layer, p, s, k in zip(layers, params, state, keys, strict=True):
        x, cache = layer.forward(p, x, train, state=s, key=k)
        caches.append(cache)
        new_state.append(cache["state"] if isinstance(cache, dict) and "state" in cache else s)
    return x, caches, new_state


def backward_layers(
    layers: Sequence[Layer],
    params: Sequence[Params],
    caches: Sequence[Any],
    dy: Array,
    *,
    input_grad: bool = True,
) -> tuple[Array | None, list[Params]]:
    """Backpropagate ``dy`` through ``layers`` in reverse order.

    Each layer turns the gradient of its output into the gradient of its input
    (the chain rule, one link at a time) and reports its parameter gradients.

    With ``input_grad=False`` the gradient with respect to the input of the
    whole stack is not computed and ``None`` is returned in its place: when the
    input is the data, nobody needs it. The backward pass then stops at the
    first layer that has parameters and asks it only for its parameter
    gradients (for a first ``Dense`` layer this saves the product ``dy Wᵀ``,
    as large as the layer's forward product).
    """
    grads: list[Params] = [{} for _ in layers]
    first = 0 if input_grad else _first_with_params(params)
    for i in range(len(layers) - 1, first, -1):
        dy, grads[i] = layers[i].backward(params[i], caches[i], dy)
    if input_grad:
        dy, grads[0] = layers[0].backward(params[0], caches[0], dy)
        return dy, grads
    if first < len(layers):
        grads[first] = layers[first].param_grads(params[first], caches[first], dy)
    return None, grads


def _first_with_params(params: Sequence[Params]) -> int:
    """Index of the first layer with parameters (``len(params)`` if there is none)."""
    for i, p in enumerate(params):
        if p:
            return i
    return len(params)


class Residual(Layer):
    """Residual (skip) connection around a stack of layers: ``y = x + F(x)``.

    ``F`` must keep the shape. Backward::

        dx = dy + dF(dy)

    The ``dy`` term flows straight through the addition, so even when ``F``'s
    gradient vanishes, the layers below still receive the full signal. That is
    why very deep networks with skip connections remain trainable.
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        if not layers:
            raise ValueError("Residual needs at least one inner layer, e.g. [Dense(d, d), ...].")
        self.layers = list(layers)

    def init(self, rng: np.random.Generator) -> Params:
        """Parameters of the inner layers, as ``{"layers": [p0, p1, ...]}``."""
        return {"layers": [layer.init(rng) for layer in self.layers]}

    def init_state(self) -> Params:
        """State of the inner layers, as ``{"layers": [s0, s1, ...]}``."""
        return {"layers": [layer.init_state() for layer in self.layers]}

    def forward(
        self,
        params: Params,
        x: Array,
        train: bool = False,
        *,
        state: Params | None = None,
        key: Any = None,
    ) -> tuple[Array, dict]:
        """``y = x + F(x)``."""
        inner_state = state["layers"] if state else None
        fx, caches, new_state = forward_layers(
            self.layers, params["layers"], x, train, state=inner_state, key=key
        )
        if fx.shape != x.shape:
            raise ValueError(
                f"{self!r}: the inner layers change the shape from {tuple(x.shape)} to "
                f"{tuple(fx.shape)}, but a residual block needs F(x) to have x's shape. "
                "Use equal input and output sizes inside the block."
            )
        return x + fx, {"caches": caches, "state": {"layers": new_state}}

    def backward(self, params: Params, cache: dict, dy: Array) -> tuple[Array, Params]:
        """``dx = dy + (backward through F)(dy)``."""
        dfx, grads = backward_layers(self.layers, params["layers"], cache["caches"], dy)
        return dy + dfx, {"layers": grads}

    def __repr__(self) -> str:
        return "Residual(" + ", ".join(repr(layer) for layer in self.layers) + ")"
