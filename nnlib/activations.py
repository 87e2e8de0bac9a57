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
relu        max(0, z)              1 if z > 0 else 0               f'(z)
leaky_relu  z if z > 0 else a·z    1 if z > 0 else a               f'(z)
==========  =====================  ==============================  =========

ReLU and leaky ReLU are *piecewise linear*: ``f(z) = f'(z) · z``. So they
compute the slope ``f'(z)`` once, as an array of numbers (0.0 or 1.0 for
ReLU), and use it twice: ``y = z · f'(z)`` forward and ``dz = dy · f'(z)``
backward. Multiplying two float arrays is one of the fastest things NumPy
does; ``maximum`` (which must also handle NaN) and multiplying by a boolean
mask (which converts every element) are two to three times slower.

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
    """``y = max(0, z) = z · 1[z > 0]``; caches the slope ``1[z > 0]`` (0.0 or 1.0 in z's dtype)."""
    slope = (z > 0).astype(z.dtype)
    return z * slope, slope


def relu_backward(dy: Array, slope: Array) -> Array:
    """``dz = dy · 1[z > 0]``: the gradient passes where ``z > 0``, else 0 (we take f'(0) = 0)."""
    return dy * slope


def leaky_relu_forward(z: Array, alpha: float = 0.01) -> tuple[Array, Array]:
    """``y = z`` for ``z > 0`` else ``alpha · z``, i.e. ``y = z · slope``; caches the slope.

    ``slope = alpha + (1 - alpha) · 1[z > 0]`` is 1 where ``z > 0`` and ``alpha`` elsewhere.
    """
    slope = (z > 0).astype(z.dtype)
    slope *= 1.0 - alpha
    slope += alpha
    return z * slope, slope


def leaky_relu_backward(dy: Array, slope: Array, alpha: float = 0.01) -> Array:
    """``dz = dy · slope``: ``dy`` where ``z > 0``, else ``alpha · dy``."""
    return dy * slope


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
