"""Images: a mosaic of digits and the weights of a first layer as pictures."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from .common import (
    PATH_COLOR,
    PROBABILITY_CMAP,
    TRAIN_COLOR,
    _axes,
    _fmt,
    _numpy,
)

# --- images ----------------------------------------------------------------------------


def _image_side(n_pixels: int, name: str) -> int:
    side = math.isqrt(n_pixels)
    if side * side != n_pixels:
        raise ValueError(
            f"{name} rows must be square images ({side * side} or {(side + 1) ** 2} pixels, "
            f"e.g. 64 for 8x8), got {n_pixels} values per image."
        )
    return side


def _mosaic(images: np.ndarray, side: int, top: int = 0) -> tuple[np.ndarray, int]:
    """Tile ``images`` ``(n, side, side)`` into one image, as square as possible.

    Tiles are separated by 1 pixel of NaN (drawn blank), plus ``top`` blank
    rows above every tile (room for a label). Tile ``k`` sits in row
    ``k // cols``, column ``k % cols``; its top-left pixel is at
    ``(r * (side + 1 + top) + top, c * (side + 1))``.
    """
    n = len(images)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    height, width = side + 1 + top, side + 1
    mosaic = np.full((rows * height - 1, cols * width - 1), np.nan)
    for k, image in enumerate(images):
        r, c = divmod(k, cols)
        row0, col0 = r * height + top, c * width
        mosaic[row0 : row0 + side, col0 : col0 + side] = image
    return mosaic, cols


def plot_digits(
    X: Any,
    y: Any = None,
    n: int = 16,
    ax: Axes | None = None,
    predicted: Any = None,
) -> Axes:
    """The first ``n`` images of ``X`` in a square grid, in one Axes.

    ``X`` is ``(N, 64)`` (rows of 8x8 pixels, as from
    :func:`nnlib.data.load_digits`; any square size works) or ``(N, 8, 8)``.
    ``y`` labels ``(N,)`` are written above each image; with
    ``predicted`` ``(N,)`` as well, each label reads "true→predicted" and is red
    when the two differ. Dark is ink.
    """
    images = _numpy(X, "X")
    if images.ndim == 2:
        side = _image_side(images.shape[1], "X")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3 or images.shape[1] != images.shape[2] or len(images) == 0:
        raise ValueError(f"X must be (N, pixels) or (N, side, side) images, got {images.shape}.")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (number of images) must be a positive integer, got {n!r}.")
    images = images[:n]
    side = images.shape[1]
    label_rows = 3 if y is not None else 0
    mosaic, cols = _mosaic(images, side, top=label_rows)
    ax = _axes(ax, figsize=(4.0, 4.0 * (side + 1 + label_rows) / (side + 1)))
    cmap = plt.get_cmap("gray_r").with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, interpolation="nearest")
    if y is not None:
        labels = _numpy(y, "y").reshape(-1)[: len(images)]
        guesses = None if predicted is None else _numpy(predicted, "predicted").reshape(-1)
        for k, label in enumerate(labels):
            r, c = divmod(k, cols)
            text, color = f"{label:g}", TRAIN_COLOR
            if guesses is not None:
                text = f"{label:g}→{guesses[k]:g}"
                color = PATH_COLOR if guesses[k] != label else TRAIN_COLOR
            ax.text(
                c * (side + 1) + (side - 1) / 2,
                r * (side + 1 + label_rows) + label_rows - 1.2,
                text,
                ha="center",
                va="center",
                color=color,
                fontsize="small",
                fontweight="bold",
            )
    ax.set_axis_off()
    ax.set_title(f"{len(images)} images of {side}x{side} pixels")
    return ax


def plot_weights(W: Any, n: int = 16, ax: Axes | None = None) -> Axes:
    """First-layer weights as images: column ``j`` of ``W`` is what hidden unit ``j`` looks for.

    ``W`` is ``(pixels, H)`` (e.g. ``(64, H)`` for 8x8 digits; the ``"W"`` of
    the first ``Dense`` layer). Each of the first ``n`` columns is drawn as a
    ``side × side`` image on a symmetric blue-white-red scale: red pixels push
    the unit's input up, blue ones push it down, white ones are ignored.
    """
    weights = _numpy(W, "W")
    if weights.ndim != 2:
        raise ValueError(f"W must be a (pixels, hidden units) matrix, got shape {weights.shape}.")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (number of units) must be a positive integer, got {n!r}.")
    side = _image_side(weights.shape[0], "W")
    images = weights[:, :n].T.reshape(-1, side, side)
    mosaic, _ = _mosaic(images, side)
    ax = _axes(ax, figsize=(4.0, 4.0))
    limit = float(np.nanmax(np.abs(mosaic))) or 1.0
    cmap = plt.get_cmap(PROBABILITY_CMAP).with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"weights of {len(images)} hidden units (max |w| = {_fmt(limit)})")
    return ax
