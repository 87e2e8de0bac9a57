"""Training curves: loss and accuracy per epoch (:func:`plot_history`) and per step."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes

from .common import (
    TRAIN_COLOR,
    VAL_COLOR,
    _axes,
    _fmt,
    _numpy,
    _set_log_scale_if_positive,
)

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
