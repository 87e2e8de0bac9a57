"""Correct helpers the broken setups use: a softmax layer, a layer-freezing optimiser, augmentation.

They are tested and do what their docstrings say; whether a setup uses them
*appropriately* is part of the puzzle. :func:`origins` is for the detective:
which image a noisy copy was made from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...layers import Layer, Params
from ...losses import softmax
from ...optim import Optimizer
from ...tree import tree_map

Array = Any


class Softmax(Layer):
    """Row-wise softmax as a layer: ``y_k = e^{x_k} / Σ_j e^{x_j}``; each output row sums to 1.

    Forward: :func:`nnlib.losses.softmax` (stable: the row maximum is subtracted).
    Backward, from the Jacobian ``∂y_k/∂x_j = y_k (δ_kj - y_j)``::

        dx = y ⊙ (dy - Σ_k dy_k y_k)        (the sum is over each row)

    Shapes: ``x``, ``y``, ``dy``, ``dx`` are ``(N, C)``.
    """

    def forward(
        self,
        params: Params,
        x: Array,
        train: bool = False,
        *,
        state: Params | None = None,
        key: Any = None,
    ) -> tuple[Array, Array]:
        """``y = softmax(x)``; the cache is ``y``."""
        y = softmax(x)
        return y, y

    def backward(self, params: Params, cache: Array, dy: Array) -> tuple[Array, Params]:
        """``dx = y ⊙ (dy - Σ_k dy_k y_k)``."""
        y = cache
        return y * (dy - (dy * y).sum(axis=1, keepdims=True)), {}


def trainable_only(optimizer: Optimizer, layers: Sequence[int]) -> Optimizer:
    """``optimizer``, but only the parameters of the top-level ``layers`` (indices) change.

    The gradients of every other layer are replaced by zeros before the update,
    so those layers stay *frozen* at their current values, which is what
    fine-tuning does with the lower layers of a network trained before. (With
    zero gradients SGD, momentum and Adam all leave a parameter exactly as it is.)
    """
    keep = {int(i) for i in layers}

    def update(params: Any, grads: Any, state: dict) -> tuple[Any, dict]:
        masked = [g if i in keep else tree_map(lambda a: a * 0, g) for i, g in enumerate(grads)]
        return optimizer.update(params, masked, state)

    return Optimizer(optimizer.init, update, f"{optimizer.name}, layers {sorted(keep)} only")


def add_noisy_copies(
    X: Array, y: Array, copies: int = 4, noise: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Data augmentation: the images ``X`` ``(N, 64)`` followed by ``copies`` noisy copies of each.

    Copy ``c`` is ``clip(X + noise · ε, 0, 16)`` with ``ε ~ N(0, 1)`` per pixel (pixel values
    stay in the digits' range ``0 .. 16``). Returns ``(N · (copies + 1), 64)`` images
    and their labels: the originals first, then copy 1 of every image, and so on.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    noisy = [np.clip(X + noise * rng.standard_normal(X.shape), 0.0, 16.0) for _ in range(copies)]
    return np.concatenate([X, *noisy]), np.tile(y, copies + 1)


def origins(rows: Array, originals: Array) -> np.ndarray:
    """For every row, the index of the nearest of ``originals`` (Euclidean distance).

    A noisy copy made by :func:`add_noisy_copies` (noise 1) is much closer to its
    own original than to any other of case 8's images, so this recovers which
    image each row was made from.
    """
    rows = np.asarray(rows, dtype=np.float64)
    originals = np.asarray(originals, dtype=np.float64)
    d2 = (rows**2).sum(1)[:, None] - 2.0 * rows @ originals.T + (originals**2).sum(1)[None, :]
    return d2.argmin(axis=1)
