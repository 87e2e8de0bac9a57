"""Classification results: confusion matrix and ROC curve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from .common import (
    PATH_COLOR,
    TRAIN_COLOR,
    VAL_COLOR,
    _axes,
    _class_color,
    _fmt,
    _numpy,
)

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
