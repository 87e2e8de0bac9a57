"""Figures for the course: training curves, decision boundaries, loss surfaces, diagnostics.

Every function draws into a matplotlib ``Axes`` and returns it::

    ax = plot_history(history)                 # a new figure (shown inline in notebooks)
    plot_history(history, ax=ax)               # or into an Axes you own

When ``ax`` is ``None`` a new figure is created with ``matplotlib.pyplot.subplots``
so that it appears inline in a notebook. When an ``ax`` is given, the function
only draws into it: the live widgets call ``ax.clear()`` and then the same
function again on every redraw. Colour bars are off by default (``colorbar=False``)
because each one adds a new Axes to the figure, which would pile up on redraws.

Titles state facts, with numbers rounded to 4 significant digits
(``f"{x:.4g}"``). Classes are drawn in :data:`CLASS_COLORS`; in binary
problems class 0 is blue and class 1 is red, matching the blue-to-red colour
map of predicted probabilities.

Inputs may be NumPy or JAX arrays; they are converted to NumPy for drawing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from . import backend
from .diagnostics import gradient_norm_ratio
from .tree import param_dtype

Array = Any

#: Colours of classes 0, 1, 2, ... (class 0 blue and class 1 red match ``PROBABILITY_CMAP``).
CLASS_COLORS = (
    "#2166ac",  # blue
    "#b2182b",  # red
    "#1b7837",  # green
    "#e08214",  # orange
    "#762a83",  # purple
    "#35978f",  # teal
    "#8c510a",  # brown
    "#de77ae",  # pink
    "#4d4d4d",  # grey
    "#bf9f00",  # olive
)
#: Colour map of a predicted probability P(class 1): blue (0) through white (0.5) to red (1).
PROBABILITY_CMAP = "RdBu_r"
TRAIN_COLOR = "#2166ac"
VAL_COLOR = "#e08214"
PATH_COLOR = "#b2182b"


# --- small helpers ---------------------------------------------------------------------


def _fmt(x: float) -> str:
    """``x`` rounded to 4 significant digits, as used in every title."""
    return f"{x:.4g}"


def _axes(ax: Axes | None, figsize: tuple[float, float] = (5.5, 4.0)) -> Axes:
    """``ax`` itself, or the Axes of a new inline figure when ``ax`` is ``None``."""
    if ax is not None:
        return ax
    _, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return new_ax


def _numpy(a: Any, name: str, dtype: Any = np.float64) -> np.ndarray:
    try:
        return np.asarray(backend.to_numpy(a), dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric array-like, got {type(a).__name__}.") from err


def _check_limits(lim: Any, name: str) -> tuple[float, float]:
    """``(low, high)`` as floats, checked: two finite numbers with ``low < high``."""
    try:
        values = np.asarray(lim, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.array([np.nan])
    if values.shape != (2,) or not np.all(np.isfinite(values)) or values[0] >= values[1]:
        raise ValueError(
            f"{name} must be a pair (low, high) of finite numbers with low < high, got {lim!r}."
        )
    return float(values[0]), float(values[1])


def _class_color(k: int) -> str:
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def _set_log_scale_if_positive(ax: Axes, values: np.ndarray, log: bool) -> None:
    """A log y axis when asked for and every finite value is positive (log 0 is -∞), else linear."""
    finite = values[np.isfinite(values)]
    use_log = bool(log and finite.size and np.all(finite > 0))
    ax.set_yscale("log" if use_log else "linear")


# --- training curves -------------------------------------------------------------------


_HISTORY_METRICS = {
    "loss": ("train_loss", "val_loss"),
    "accuracy": ("train_accuracy", "val_accuracy"),
}


def plot_history(
    history: Any,
    ax: Axes | None = None,
    metric: str = "loss",
    log: bool = False,
    title: str | None = None,
) -> Axes:
    """Training (and validation, if recorded) curves per epoch from a :class:`~nnlib.train.History`.

    ``metric`` is ``"loss"`` (``history.train_loss``, ``history.val_loss``) or
    ``"accuracy"`` (``history.train_accuracy``, ``history.val_accuracy``). The
    x axis is ``history.epoch``. ``log=True`` puts the y axis on a log scale
    (when every value is positive), which shows the slow late progress of a loss.

    A gap between the two curves that grows over the epochs is overfitting: the
    network fits the training examples but stops improving on new ones.

    If the run diverged (the loss became NaN or infinite), the title says so
    and at which optimiser step; the curves show the epochs completed before.
    """
    if metric not in _HISTORY_METRICS:
        raise ValueError(
            f"metric must be one of {sorted(_HISTORY_METRICS)}, got {metric!r}: "
            "plot_history(history, metric='accuracy') plots accuracies."
        )
    ax = _axes(ax)
    train_name, val_name = _HISTORY_METRICS[metric]
    train = _numpy(getattr(history, train_name), f"history.{train_name}")
    val = _numpy(getattr(history, val_name), f"history.{val_name}")
    epochs = _numpy(getattr(history, "epoch", []), "history.epoch")
    if len(epochs) != len(train):
        epochs = np.arange(len(train), dtype=np.float64)
    marker = "o" if len(train) <= 30 else None
    facts = []
    if len(train):
        ax.plot(epochs, train, color=TRAIN_COLOR, marker=marker, ms=3, label=f"train {metric}")
        facts.append(f"train {_fmt(train[-1])}")
    if len(val):
        val_epochs = epochs if len(val) == len(epochs) else np.arange(len(val), dtype=np.float64)
        ax.plot(val_epochs, val, color=VAL_COLOR, marker=marker, ms=3, label=f"validation {metric}")
        facts.append(f"validation {_fmt(val[-1])}")
    if len(train) or len(val):
        ax.legend(loc="best", fontsize="small")
    else:
        ax.text(0.5, 0.5, "no completed epoch", ha="center", va="center", transform=ax.transAxes)
    _set_log_scale_if_positive(ax, np.concatenate([train, val]), log)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    if title is None:
        if getattr(history, "diverged", False):
            title = f"diverged at step {history.diverged_at_step}"
        elif facts:
            title = f"final {metric}: " + ", ".join(facts)
        else:
            title = ""
    ax.set_title(title)
    return ax


_STEP_LOSS_GID = "step_loss"


def plot_step_loss(
    step_losses: Any,
    ax: Axes | None = None,
    log: bool = True,
    label: str | None = None,
) -> Axes:
    """The loss after every optimiser step; a divergence is cut off and marked.

    ``step_losses`` is a sequence of floats (shape ``(T,)``) or a
    :class:`~nnlib.train.History` (its ``step_loss``). Values from the first
    NaN or infinite one onwards are not drawn; a dashed vertical line marks that
    step, labelled "diverged at step k". For a ``History``, whose ``step_loss``
    already stops before the divergence, ``history.diverged_at_step`` is used.

    Call it several times on one ``ax`` with different ``label`` values to
    compare runs (for example learning rates): the label, with "(diverged at
    step k)" where it applies, goes into the legend and the title is left
    alone. ``log=True`` uses a log scale for the loss (when every drawn value
    is positive).
    """
    diverged_at: int | None = None
    if hasattr(step_losses, "step_loss"):
        if getattr(step_losses, "diverged", False):
            diverged_at = step_losses.diverged_at_step
        step_losses = step_losses.step_loss
    losses = _numpy(step_losses, "step_losses").reshape(-1)
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        diverged_at = int(bad[0])
        losses = losses[:diverged_at]
    ax = _axes(ax)
    text = label
    if diverged_at is not None and label:
        text = f"{label} (diverged at step {diverged_at})"
    (line,) = ax.plot(np.arange(len(losses)), losses, lw=1.2, label=text, gid=_STEP_LOSS_GID)
    loss_lines = [ln for ln in ax.get_lines() if ln.get_gid() == _STEP_LOSS_GID]
    if diverged_at is not None:
        longest = max(len(ln.get_xdata()) for ln in loss_lines)
        _mark_divergence(ax, diverged_at, line.get_color(), longest, annotate=label is None)
    drawn = np.concatenate([np.asarray(ln.get_ydata(), dtype=np.float64) for ln in loss_lines])
    _set_log_scale_if_positive(ax, drawn, log)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if label is not None:
        ax.legend(loc="best", fontsize="small")
    elif diverged_at is not None:
        ax.set_title(f"diverged at step {diverged_at}")
    elif len(losses):
        ax.set_title(f"loss after {len(losses)} steps: {_fmt(losses[-1])}")
    return ax


def _mark_divergence(ax: Axes, step: int, color: Any, n_steps: int, annotate: bool) -> None:
    """A dashed vertical line at ``step``, and the words "diverged at step k" near its foot."""
    ax.axvline(step, color=color, ls="--", lw=1)
    if not annotate:
        return
    near_right = step > 0.6 * max(n_steps, step)  # write on the side where there is room
    ax.annotate(
        f"diverged at step {step}",
        xy=(step, 0.0),
        xycoords=("data", "axes fraction"),
        xytext=(-4 if near_right else 4, 4),
        textcoords="offset points",
        ha="right" if near_right else "left",
        va="bottom",
        color=color,
        fontsize="small",
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


# --- loss surfaces ---------------------------------------------------------------------


_LOG_LEVEL_FLOOR = 1e-5


def _contour_levels(zz: np.ndarray, levels: int, log_levels: bool) -> np.ndarray | int:
    """Contour heights: geometric steps above the minimum (dense near it) or ``levels`` lines."""
    finite = zz[np.isfinite(zz)]
    if not log_levels or finite.size == 0:
        return levels
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return levels
    return lo + np.geomspace((hi - lo) * _LOG_LEVEL_FLOOR, hi - lo, levels)


def plot_loss_surface(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    xlim: Sequence[float],
    ylim: Sequence[float],
    ax: Axes | None = None,
    n: int = 200,
    levels: int = 30,
    log_levels: bool = True,
    path: Any = None,
    minimum: Sequence[float] | None = None,
) -> Axes:
    """Contour lines of a function of two parameters, with an optional optimiser path.

    ``f(x, y)`` must work element-wise on arrays: it is called once with two
    ``(n, n)`` grids and returns the ``(n, n)`` heights. With ``log_levels``
    the ``levels`` contour heights are ``min + geomspace(10⁻⁵ Δ, Δ)`` where
    ``Δ = max - min``: narrow valleys and the region around the minimum get
    many lines instead of none.

    ``path`` is an array ``(T, 2)`` of the points an optimiser visited
    (``path[0]`` is the start); it is drawn as a line with markers, the start
    as a square and the end as a circle. Points from the first non-finite one
    on (a divergence) are left out. ``minimum`` ``(x, y)`` marks the known
    minimum with a star. The axes keep ``xlim`` and ``ylim`` even when the path
    leaves them.
    """
    x_lo, x_hi = _check_limits(xlim, "xlim")
    y_lo, y_hi = _check_limits(ylim, "ylim")
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n (grid points per axis) must be an integer >= 2, got {n!r}.")
    xx, yy = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    with np.errstate(all="ignore"):
        zz = _numpy(f(xx, yy), "f(x, y)")
    if zz.shape != xx.shape:
        raise ValueError(
            f"f(x, y) returned shape {zz.shape} for ({n}, {n}) grids; it must work "
            "element-wise on arrays (use np.exp, np.sin, ... and avoid Python's math module)."
        )
    ax = _axes(ax)
    heights = _contour_levels(zz, levels, log_levels)
    n_lines = heights if isinstance(heights, int) else len(heights)
    # colour by rank (low = dark, high = light), so log-spaced levels still use the whole map
    cmap = plt.get_cmap("viridis")
    ax.contour(
        xx,
        yy,
        np.ma.masked_invalid(zz),
        levels=heights,
        colors=[cmap(t) for t in np.linspace(0.0, 0.9, n_lines)],
        linewidths=0.8,
    )
    title = ""
    if path is not None:
        title = _draw_path(ax, f, _numpy(path, "path"))
    if minimum is not None:
        mx, my = (float(v) for v in minimum)
        ax.plot([mx], [my], ls="none", marker="*", ms=14, color="gold", mec="k", label="minimum")
    if path is not None or minimum is not None:
        ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title(title)
    return ax


def _draw_path(ax: Axes, f: Callable, path: np.ndarray) -> str:
    """Draw an optimiser path ``(T, 2)``; return a title that states where it ended."""
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise ValueError(f"path must be a non-empty (T, 2) array of points, got {path.shape}.")
    bad = np.flatnonzero(~np.all(np.isfinite(path), axis=1))
    finite = path[: bad[0]] if bad.size else path
    if len(finite) == 0:
        return "diverged at step 0"
    ax.plot(finite[:, 0], finite[:, 1], color=PATH_COLOR, lw=1.2, marker="o", ms=2.5, label="path")
    ax.plot(*finite[0], ls="none", marker="s", ms=7, color="white", mec="k", label="start")
    ax.plot(*finite[-1], ls="none", marker="o", ms=7, color=PATH_COLOR, mec="k", label="end")
    if bad.size:
        return f"diverged at step {bad[0]}"
    with np.errstate(all="ignore"):
        end_value = float(np.asarray(f(finite[-1:, 0], finite[-1:, 1]), dtype=np.float64)[0])
    return f"after {len(path) - 1} steps: f = {_fmt(end_value)}"


# --- diagnostics -----------------------------------------------------------------------


def plot_grad_norms(
    norms: Mapping[str, float] | Sequence[float],
    ax: Axes | None = None,
    log: bool = True,
    title: str | None = None,
) -> Axes:
    """Bar chart of the gradient norm ``||∂L/∂W||`` of each layer, input layer on the left.

    ``norms`` is ``{name: norm}`` in layer order (as from
    :func:`nnlib.diagnostics.grad_norms`) or a list of floats. On a log scale
    (``log=True``) a steady fall from right to left is the vanishing-gradient
    problem: the early layers barely learn. The default title gives the
    first/last ratio (:func:`nnlib.diagnostics.gradient_norm_ratio`).
    """
    if isinstance(norms, Mapping):
        names = [str(k) for k in norms]
        values = _numpy(list(norms.values()), "norms")
    else:
        values = _numpy(norms, "norms").reshape(-1)
        names = [f"layer {i}" for i in range(len(values))]
    if len(values) == 0:
        raise ValueError("norms is empty: pass at least one gradient norm.")
    ax = _axes(ax)
    positions = np.arange(len(values))
    ax.bar(positions, values, color=TRAIN_COLOR, width=0.7)
    ax.set_xticks(positions, names, rotation=45 if len(values) > 6 else 0)
    _set_log_scale_if_positive(ax, values, log)
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel("gradient norm ‖∂L/∂W‖")
    ax.grid(axis="y", alpha=0.3)
    if title is None:
        title = "gradient norm per layer"
        if len(values) > 1:
            ratio = gradient_norm_ratio(values)
            title += f": first/last = {_fmt(ratio)}"
    ax.set_title(title)
    return ax


def plot_activation_histograms(
    activations: Sequence[Any],
    ax: Axes | None = None,
    bins: int = 50,
    labels: Sequence[str] | None = None,
    log: bool = False,
) -> Axes:
    """Histograms of each layer's activations, all in one Axes, as outlined steps.

    ``activations`` is a list with one array per layer (any shape; every value
    counts), or the list of dicts from
    :func:`nnlib.diagnostics.activation_stats` with ``return_values=True``.
    All layers share the same ``bins`` bin edges, so their shapes compare
    directly; the y axis is the fraction of values in each bin. Colours go
    from dark (first layer) to light (last layer).

    What to look for: tanh/sigmoid values piled up at the ends (saturation:
    the local derivative is near 0, so no gradient passes), a spike at 0 for
    ReLU (dead units), or a distribution that narrows layer after layer (the
    signal dies out with depth). ``log=True`` puts the fractions on a log scale.
    """
    if len(activations) == 0:
        raise ValueError("activations is empty: pass one array per layer.")
    arrays, names = [], []
    for i, item in enumerate(activations):
        if isinstance(item, Mapping):
            if "values" not in item:
                raise ValueError(
                    "activation_stats dicts hold no 'values': call "
                    "activation_stats(..., return_values=True)."
                )
            arrays.append(_numpy(item["values"], "activations").reshape(-1))
            names.append(str(item.get("name", f"layer {i}")))
        else:
            arrays.append(_numpy(item, "activations").reshape(-1))
            names.append(f"layer {i}")
    if labels is not None:
        if len(labels) != len(arrays):
            raise ValueError(f"Got {len(labels)} labels for {len(arrays)} layers; they must match.")
        names = [str(label) for label in labels]
    finite = [a[np.isfinite(a)] for a in arrays]
    everything = np.concatenate(finite)
    if everything.size == 0:
        raise ValueError("activations hold no finite values: the network has diverged.")
    lo, hi = float(everything.min()), float(everything.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    ax = _axes(ax)
    cmap = plt.get_cmap("viridis")
    for i, (values, name) in enumerate(zip(finite, names, strict=True)):
        counts, _ = np.histogram(values, bins=edges)
        fraction = counts / max(values.size, 1)
        color = cmap(0.85 * i / max(len(finite) - 1, 1))
        std = float(values.std()) if values.size else float("nan")
        ax.stairs(fraction, edges, color=color, lw=1.5, label=f"{name}: std {_fmt(std)}")
    ax.set_yscale("log" if log else "linear")
    ax.set_xlabel("activation value")
    ax.set_ylabel("fraction of values")
    ax.legend(loc="best", fontsize="x-small")
    ax.set_title(f"activations of {len(arrays)} layers")
    return ax


# --- classification results -----------------------------------------------------------


def plot_confusion_matrix(
    cm: Any,
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    normalize: bool = False,
    colorbar: bool = False,
) -> Axes:
    """A confusion matrix as a coloured grid with the number written in every cell.

    ``cm`` is ``(C, C)`` counts, ``cm[i, j]`` = examples of true class ``i``
    predicted as class ``j`` (as from :func:`nnlib.metrics.confusion_matrix`):
    **rows are true classes, columns are predictions**; the diagonal holds the
    correct ones. ``normalize=True`` divides each row by its sum, so a cell
    reads "fraction of class i predicted as j" and the diagonal is each class's
    recall (rows without examples stay 0). The title gives the accuracy
    ``trace(cm) / sum(cm)``.
    """
    counts = _numpy(cm, "cm")
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError(f"cm must be a square (C, C) matrix of counts, got shape {counts.shape}.")
    if not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError("cm must hold non-negative counts (no NaN, no negative values).")
    n_classes = counts.shape[0]
    if class_names is None:
        class_names = [str(k) for k in range(n_classes)]
    if len(class_names) != n_classes:
        raise ValueError(
            f"Got {len(class_names)} class names for a {n_classes}x{n_classes} matrix; "
            "pass one name per class."
        )
    if normalize:
        row_sums = counts.sum(axis=1, keepdims=True)
        shown = np.divide(counts, row_sums, out=np.zeros_like(counts), where=row_sums > 0)
    else:
        shown = counts
    ax = _axes(ax, figsize=(1.0 + 0.6 * max(n_classes, 4), 0.8 + 0.6 * max(n_classes, 4)))
    vmax = 1.0 if normalize else max(float(shown.max()), 1.0)
    image = ax.imshow(shown, cmap="Blues", vmin=0.0, vmax=vmax)
    for i in range(n_classes):
        for j in range(n_classes):
            value = shown[i, j]
            text = f"{value:.2f}" if normalize else f"{int(round(value))}"
            color = "white" if value > 0.5 * vmax else "black"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize="small")
    ticks = np.arange(n_classes)
    ax.set_xticks(ticks, class_names, rotation=45 if n_classes > 6 else 0)
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = float(counts.sum())
    if total > 0:
        ax.set_title(f"accuracy {_fmt(np.trace(counts) / total)} ({int(total)} examples)")
    if colorbar:
        ax.figure.colorbar(image, ax=ax)
    return ax


def plot_roc(
    fpr: Any,
    tpr: Any,
    ax: Axes | None = None,
    auc: float | None = None,
    point: Sequence[float] | None = None,
) -> Axes:
    """The ROC curve: true-positive rate against false-positive rate for every threshold.

    ``fpr`` and ``tpr`` are arrays ``(T,)`` as from :func:`nnlib.metrics.roc_curve`.
    The dashed diagonal is a classifier that guesses (AUC 0.5); the closer the
    curve hugs the top-left corner, the better. ``auc`` goes into the title;
    ``point = (fpr, tpr)`` highlights the operating point of one threshold.
    """
    fpr_a, tpr_a = _numpy(fpr, "fpr").reshape(-1), _numpy(tpr, "tpr").reshape(-1)
    if fpr_a.shape != tpr_a.shape or fpr_a.size < 2:
        raise ValueError(
            f"fpr and tpr must be 1-D of equal length >= 2, got {fpr_a.shape} and {tpr_a.shape}."
        )
    ax = _axes(ax, figsize=(4.5, 4.0))
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, label="chance")
    ax.plot(fpr_a, tpr_a, color=TRAIN_COLOR, lw=2, label="ROC")
    if point is not None:
        px, py = (float(v) for v in point)
        ax.plot(
            [px], [py], ls="none", marker="o", ms=9, color=PATH_COLOR, mec="k", label="threshold"
        )
        ax.annotate(
            f"FPR {_fmt(px)}, TPR {_fmt(py)}",
            xy=(px, py),
            xytext=(8, -14),
            textcoords="offset points",
            fontsize="small",
        )
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    ax.set_title(f"ROC curve, AUC = {_fmt(auc)}" if auc is not None else "ROC curve")
    return ax


def plot_reliability(
    tables: Mapping[str, Any], ax: Axes | None = None, title: str = "reliability diagram"
) -> Axes:
    """A reliability diagram: observed frequency of positives against mean predicted probability.

    ``tables`` maps a label to a :class:`nnlib.calibration.ReliabilityTable`
    (e.g. ``{"raw": ..., "temperature-scaled": ...}``); each is drawn as one
    line through its non-empty bins, with a marker whose area grows with the
    number of examples in the bin. Calibrated probabilities lie on the dashed
    diagonal; points below it are overconfident about the positive class
    (predicted more often than observed), points above it underconfident.
    """
    if not tables:
        raise ValueError("plot_reliability needs at least one reliability table.")
    ax = _axes(ax, figsize=(4.5, 4.0))
    ax.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1, label="calibrated")
    for i, (label, table) in enumerate(tables.items()):
        used = np.asarray(table.counts) > 0
        predicted, observed = table.predicted[used], table.observed[used]
        sizes = 12 + 120 * np.sqrt(table.counts[used] / table.counts.sum())
        color = TRAIN_COLOR if i == 0 else VAL_COLOR if i == 1 else _class_color(i)
        ax.plot(predicted, observed, color=color, lw=1.2, label=label)
        ax.scatter(predicted, observed, s=sizes, color=color, edgecolor="k", lw=0.5, zorder=3)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("mean predicted probability (per bin)")
    ax.set_ylabel("observed frequency of positives")
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    return ax


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
