"""Activation functions as forward/backward pairs.

An activation acts element-wise: ``y = f(z)``. Its backward pass is the chain
rule with a diagonal Jacobian, ``dz = dy * f'(z)``, so each pair only needs the
local derivative. Each ``*_forward`` returns ``(y, cache)``; each
``*_backward(dy, cache)`` returns ``dz``. The cache holds whatever makes the
derivative cheapest:

==========  =====================  ==============================  =========
name        f(z)                   f'(z)                           cache
==========  =====================  ==============================  =========
identity    z                      1                               None
sigmoid     1 / (1 + e^{-z})       σ(z)(1 - σ(z))  (at most 1/4)   y
tanh        tanh z                 1 - tanh² z     (at most 1)     y
relu        max(0, z)              1 if z > 0 else 0               z > 0
leaky_relu  z if z > 0 else a·z    1 if z > 0 else a               z > 0
==========  =====================  ==============================  =========

The small maximum of σ' (one quarter) is why deep sigmoid networks suffer from
vanishing gradients: every layer multiplies the backward signal by at most 1/4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import backend

Array = Any


def identity_forward(z: Array) -> tuple[Array, None]:
    """``y = z``."""
    return z, None


def identity_backward(dy: Array, cache: None) -> Array:
    """``dz = dy``."""
    return dy


def sigmoid_forward(z: Array) -> tuple[Array, Array]:
    """``y = σ(z) = 1 / (1 + exp(-z))``, computed as ``½(1 + tanh(z/2))``.

    The tanh form is the same function but never overflows: ``exp(-z)`` would
    overflow for ``z < -88`` in float32.
    """
    xp = backend.xp()
    y = xp.tanh(0.5 * z)
    y += 1.0
    y *= 0.5
    return y, y


def sigmoid_backward(dy: Array, y: Array) -> Array:
    """``dz = dy · σ(z)(1 - σ(z)) = dy · y(1 - y)``."""
    return dy * (y * (1.0 - y))


def tanh_forward(z: Array) -> tuple[Array, Array]:
    """``y = tanh(z)``."""
    y = backend.xp().tanh(z)
    return y, y


def tanh_backward(dy: Array, y: Array) -> Array:
    """``dz = dy · (1 - tanh²(z)) = dy · (1 - y²)``."""
    return dy * (1.0 - y * y)


def relu_forward(z: Array) -> tuple[Array, Array]:
    """``y = max(0, z)``; caches the mask ``z > 0``."""
    positive = z > 0
    return backend.xp().maximum(z, 0), positive


def relu_backward(dy: Array, positive: Array) -> Array:
    """``dz = dy`` where ``z > 0``, else 0 (we take f'(0) = 0)."""
    return dy * positive


def leaky_relu_forward(z: Array, alpha: float = 0.01) -> tuple[Array, Array]:
    """``y = z`` for ``z > 0`` else ``alpha · z``; caches the mask ``z > 0``."""
    positive = z > 0
    return backend.xp().where(positive, z, alpha * z), positive


def leaky_relu_backward(dy: Array, positive: Array, alpha: float = 0.01) -> Array:
    """``dz = dy`` where ``z > 0``, else ``alpha · dy``."""
    return backend.xp().where(positive, dy, alpha * dy)


ACTIVATIONS: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "identity": (identity_forward, identity_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
}


def get_activation(name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Return the ``(forward, backward)`` pair for activation ``name``."""
    if isinstance(name, str) and name.lower() in ACTIVATIONS:
        return ACTIVATIONS[name.lower()]
    raise ValueError(f"Unknown activation {name!r}. Valid activations are {sorted(ACTIVATIONS)}.")
