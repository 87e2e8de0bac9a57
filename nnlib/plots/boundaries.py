"""Decision boundaries of a 2-D classifier: the predicted probability on a grid."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from .. import backend
from ..tree import param_dtype
from .common import (
    PROBABILITY_CMAP,
    _axes,
    _check_limits,
    _class_color,
    _fmt,
    _numpy,
)

# --- decision boundaries ---------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """``σ(z) = ½(1 + tanh(z/2))``: the same as ``1/(1 + e^{-z})`` without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def decision_grid(
    model: Any,
    params: Any,
    xlim: Sequence[float],
    ylim: Sequence[float],
    n: int = 100,
    state: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's prediction at every point of an ``n × n`` grid over ``xlim × ylim``.

    Returns ``(xx, yy, zz)``, each of shape ``(n, n)`` (``xx``, ``yy`` float64 as
    from ``np.meshgrid``). The ``n²`` grid points go through the model in one
    batch, in evaluation mode:

    * one output column (a binary classifier's logit ``z``): ``zz = σ(z)``, the
      probability of class 1, float64 in ``[0, 1]``;
    * ``K > 1`` output columns (class logits): ``zz = argmax_k z_k``, the
      predicted class, int64 in ``0 .. K-1``.

    The model must take 2 input features.
    """
    x_lo, x_hi = _check_limits(xlim, "xlim")
    y_lo, y_hi = _check_limits(ylim, "ylim")
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n (grid points per axis) must be an integer >= 2, got {n!r}.")
    xx, yy = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    out = backend.to_numpy(model.predict(params, backend.asarray(grid, param_dtype(params)), state))
    out = np.asarray(out, dtype=np.float64).reshape(n * n, -1)
    if out.shape[1] == 1:
        zz = _sigmoid(out[:, 0])
    else:
        zz = np.argmax(out, axis=1)
    return xx, yy, zz.reshape(n, n)


def _labels(y: Any, n: int) -> np.ndarray:
    """Integer class labels ``(N,)`` from labels ``(N,)``/``(N, 1)`` or one-hot rows ``(N, K)``."""
    y = _numpy(y, "y")
    if y.ndim == 2 and y.shape[1] > 1:
        y = np.argmax(y, axis=1)
    y = y.reshape(-1)
    if len(y) != n:
        raise ValueError(f"X has {n} points but y has {len(y)} labels; they must match.")
    if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
        raise ValueError("y must hold class labels 0, 1, 2, ... (or one-hot rows).")
    return y.astype(np.int64)


def plot_decision_boundary(
    model: Any,
    params: Any,
    X: Any,
    y: Any = None,
    ax: Axes | None = None,
    state: Any = None,
    n: int = 100,
    margin: float = 0.5,
    colorbar: bool = False,
) -> Axes:
    """The model's prediction over the plane, with the data points on top.

    ``X`` is ``(N, 2)``; ``y`` holds the class of every point (``(N,)`` labels
    or one-hot rows), or ``None`` to draw the points in grey. The grid covers
    the points plus ``margin`` on every side, ``n × n`` points (see
    :func:`decision_grid`).

    * Binary model (one logit): filled contours of P(class 1) from blue (0) to
      red (1), and the decision boundary P = 0.5 (logit 0) as a black line.
    * Multi-class model: each region in the colour of the class predicted there.

    The title gives the accuracy on the drawn points. ``colorbar=True`` adds a
    colour bar for the probability (leave it off when redrawing the same
    figure repeatedly: every call would add one more).
    """
    X = _numpy(X, "X")
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(
            f"X must be a non-empty (N, 2) array of 2-D points, got shape {X.shape}. "
            "Decision boundaries can be drawn only for models with two input features."
        )
    labels = _labels(y, len(X)) if y is not None else None
    ax = _axes(ax)
    xlim = (X[:, 0].min() - margin, X[:, 0].max() + margin)
    ylim = (X[:, 1].min() - margin, X[:, 1].max() + margin)
    xx, yy, zz = decision_grid(model, params, xlim, ylim, n=n, state=state)
    binary = zz.dtype.kind == "f"
    if binary:
        filled = ax.contourf(
            xx, yy, zz, levels=np.linspace(0, 1, 11), cmap=PROBABILITY_CMAP, alpha=0.55
        )
        if zz.min() < 0.5 < zz.max():
            ax.contour(xx, yy, zz, levels=[0.5], colors="k", linewidths=1.5)
        if colorbar:
            ax.figure.colorbar(filled, ax=ax, label="P(class 1)")
        n_classes = 2
    else:
        n_classes = int(max(zz.max(), labels.max() if labels is not None else 0)) + 1
        colors = [_class_color(k) for k in range(n_classes)]
        ax.contourf(
            xx,
            yy,
            zz,
            levels=np.arange(n_classes + 1) - 0.5,
            cmap=ListedColormap(colors),
            alpha=0.3,
        )
    if labels is None:
        ax.scatter(X[:, 0], X[:, 1], s=16, c="0.3", edgecolors="k", linewidths=0.5)
        ax.set_title("prediction of the model")
    else:
        for k in np.unique(labels):
            mask = labels == k
            ax.scatter(
                X[mask, 0],
                X[mask, 1],
                s=16,
                color=_class_color(int(k)),
                edgecolors="k",
                linewidths=0.5,
                label=f"class {k}",
            )
        predicted = _predict_classes(model, params, X, state, binary)
        accuracy = float(np.mean(predicted == labels))
        ax.set_title(f"accuracy {_fmt(accuracy)} on {len(X)} points")
        if n_classes <= 10:
            ax.legend(loc="upper right", fontsize="x-small", framealpha=0.8, markerscale=1.2)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def _predict_classes(model: Any, params: Any, X: np.ndarray, state: Any, binary: bool) -> Any:
    out = model.predict(params, backend.asarray(X, param_dtype(params)), state)
    out = np.asarray(backend.to_numpy(out), dtype=np.float64).reshape(len(X), -1)
    return (out[:, 0] > 0).astype(np.int64) if binary else np.argmax(out, axis=1)
