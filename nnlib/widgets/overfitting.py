"""Live widget for notebook 05: overfitting and regularisation on the handwritten digits.

Pick the network (width and depth), the regularisation (L2 strength λ and the
dropout rate), how many training examples it may see, and the learning rate.
Every change retrains an MLP from scratch on that many 8x8 digits with
:func:`nnlib.train.fit` (Adam, full batch) and redraws

* left: training and validation loss per epoch (log scale),
* right: training and validation accuracy per epoch,

with a dotted line at the epoch of the lowest validation loss (the epoch early
stopping would keep). Both curves are measured the same way, after every epoch
in evaluation mode (no dropout) and without the L2 penalty, so the distance
between them is the *generalisation gap*; a validation loss that turns upwards
while the training loss keeps falling is overfitting.

The status line says what happened: the final accuracies and their gap, or
"overfitting" (the validation loss rose after its minimum), "underfitting"
(the network cannot even fit its training examples: width 1, dropout 0.9, a
huge λ or learning rate), or "diverged at step k" (the loss became NaN/inf).

Speed: the default settings (300 examples, two hidden layers of 64 units,
60 full-batch epochs) train in well under a second on a laptop CPU. Every
slider retrains only when released (``continuous_update=False``), and the
status line shows "training…" with the epoch while a run is under way.

Usage in a notebook::

    from nnlib.widgets.overfitting import OverfittingWidget
    OverfittingWidget()
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data import Split, load_digits, train_val_test_split
from ..model import mlp
from ..plots import TRAIN_COLOR, VAL_COLOR
from ..train import History, evaluate, fit
from .base import LiveWidget, learning_rate_slider, live_figure

#: L2 strengths λ offered by the widget's slider (0 = no weight decay).
L2_OPTIONS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
#: A final training accuracy below this counts as "underfitting" (ten classes: chance is 0.1).
UNDERFIT_ACCURACY = 0.5
#: A final validation loss this much (relative) above its minimum counts as "overfitting".
OVERFIT_RISE = 0.1
#: How often (in epochs) the status line reports progress during a run.
PROGRESS_EVERY = 10
#: Digit pixels are whole numbers 0 .. 16; dividing by this maps them to [0, 1].
PIXEL_MAX = 16.0


def digits_split(seed: int = 0) -> Split:
    """The digits cut 60/20/20 into train, validation and test parts, pixels scaled to [0, 1].

    ``X_*`` are float32 ``(N, 64)`` with values ``pixel / 16``; ``y_*`` are int64
    digits ``(N,)``. The split is stratified (every part keeps the class
    proportions) and fixed by ``seed``: 1,079 training, 359 validation and 359
    test images. The scale 16 is known in advance, so nothing is
    learned from the data and no information leaks from validation or test rows.
    """
    X, y = load_digits()
    return train_val_test_split(X / PIXEL_MAX, y, val=0.2, test=0.2, seed=seed, stratify=True)


@dataclass
class OverfittingResult:
    """One training run: its settings, its :class:`~nnlib.train.History` and its scores.

    ``train_loss_curve`` and ``train_accuracy_curve`` hold, per completed epoch,
    the data loss and accuracy on the ``n_train`` training examples measured
    like the validation ones (``history.val_loss``, ``history.val_accuracy``):
    after the epoch, in evaluation mode, without the L2 penalty. (The
    ``history.train_loss`` of :func:`~nnlib.train.fit` is what the optimiser
    saw: with dropout active and the penalty added.) ``train_accuracy`` and
    ``val_accuracy`` are those of the returned parameters.
    """

    sizes: list[int]
    n_train: int
    l2: float
    dropout: float
    learning_rate: float
    epochs: int
    history: History
    train_accuracy: float
    val_accuracy: float
    train_loss_curve: list[float] = field(default_factory=list)
    train_accuracy_curve: list[float] = field(default_factory=list)

    @property
    def best_epoch(self) -> int | None:
        """The epoch of the lowest finite validation loss (what early stopping would keep)."""
        losses = np.asarray(self.history.val_loss, dtype=np.float64)
        finite = np.isfinite(losses)
        return int(np.argmin(np.where(finite, losses, np.inf))) if finite.any() else None

    @property
    def gap(self) -> float:
        """Generalisation gap in accuracy: ``train_accuracy - val_accuracy``."""
        return self.train_accuracy - self.val_accuracy

    @property
    def outcome(self) -> str:
        """``"diverged"``, ``"underfitting"``, ``"overfitting"`` or ``"fit"``.

        * diverged: the training loss became NaN or infinite;
        * underfitting: final training accuracy below :data:`UNDERFIT_ACCURACY`;
        * overfitting: the final validation loss is more than :data:`OVERFIT_RISE`
          (relative) above its minimum;
        * fit: none of these.
        """
        if self.history.diverged:
            return "diverged"
        if self.train_accuracy < UNDERFIT_ACCURACY:
            return "underfitting"
        best = self.best_epoch
        if best is not None:
            lowest, final = self.history.val_loss[best], self.history.val_loss[-1]
            if not final <= (1.0 + OVERFIT_RISE) * lowest:  # also true when final is NaN/inf
                return "overfitting"
        return "fit"


def _check_int(value: Any, name: str, low: int, high: int | None = None) -> int:
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low
    if not ok or (high is not None and value > high):
        upper = f" and <= {high}" if high is not None else ""
        raise ValueError(f"{name} must be an integer >= {low}{upper}, got {value!r}.")
    return int(value)


def _check_number(value: Any, name: str, low: float, high: float, hint: str) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or not low <= float(value) < high:
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}), got {value!r}: {hint}")
    return float(value)


def train_digits(
    data: Split,
    width: int = 64,
    depth: int = 2,
    l2: float = 0.0,
    dropout: float = 0.0,
    n_train: int = 300,
    learning_rate: float = 0.01,
    epochs: int = 60,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> OverfittingResult:
    """Train ``mlp([64] + [width] * depth + [10])`` on the first ``n_train`` training digits.

    ReLU hidden layers, each followed by ``Dropout(dropout)`` when ``dropout > 0``;
    softmax cross-entropy plus the weight decay ``(λ/2) Σ ||W||²`` with ``λ = l2``;
    Adam with step size ``learning_rate``, full batch, ``epochs`` epochs. After
    every epoch the training examples and the validation part of ``data`` are
    evaluated (evaluation mode, data loss only). ``seed`` fixes
    the initial weights and the dropout masks. ``progress(epoch, epochs)`` is
    called every :data:`PROGRESS_EVERY` epochs. A diverging run stops (see
    :func:`nnlib.train.fit`) and keeps the last finite parameters.
    """
    width = _check_int(width, "width", 1)
    depth = _check_int(depth, "depth", 1)
    n_train = _check_int(n_train, "n_train", 1, len(data.X_train))
    epochs = _check_int(epochs, "epochs", 1)
    l2 = _check_number(l2, "l2", 0.0, math.inf, "the weight-decay strength λ, 0 = none.")
    dropout = _check_number(dropout, "dropout", 0.0, 1.0, "the probability of dropping a unit.")
    learning_rate = _check_number(
        learning_rate, "learning_rate", 1e-12, math.inf, "Adam's step size, e.g. 0.01."
    )
    n_classes = int(max(data.y_train.max(), data.y_val.max())) + 1
    sizes = [int(data.X_train.shape[1])] + [width] * depth + [n_classes]
    model = mlp(sizes, activation="relu", dropout=dropout)
    X, y = data.X_train[:n_train], data.y_train[:n_train]
    train_loss_curve: list[float] = []
    train_accuracy_curve: list[float] = []

    def after_epoch(epoch: int, params: Any, history: History) -> None:
        scores = evaluate(model, params, X, y, "cross_entropy")
        train_loss_curve.append(scores["loss"])
        train_accuracy_curve.append(scores["accuracy"])
        if progress is not None and (epoch + 1) % PROGRESS_EVERY == 0:
            progress(epoch + 1, epochs)

    run = fit(
        model,
        model.init(seed),
        X,
        y,
        loss="cross_entropy",
        optimizer="adam",
        lr=learning_rate,
        epochs=epochs,
        seed=seed,
        X_val=data.X_val,
        y_val=data.y_val,
        l2=l2,
        callback=after_epoch,
    )
    train_scores = evaluate(model, run.params, X, y, "cross_entropy")
    val_scores = evaluate(model, run.params, data.X_val, data.y_val, "cross_entropy")
    return OverfittingResult(
        sizes=sizes,
        n_train=n_train,
        l2=l2,
        dropout=dropout,
        learning_rate=learning_rate,
        epochs=epochs,
        history=run.history,
        train_accuracy=train_scores["accuracy"],
        val_accuracy=val_scores["accuracy"],
        train_loss_curve=train_loss_curve,
        train_accuracy_curve=train_accuracy_curve,
    )


def _underfitting_causes(result: OverfittingResult) -> str:
    """The settings that most likely keep the network from fitting its training data."""
    causes = []
    if min(result.sizes[1:-1]) <= 4:
        causes.append(f"width {min(result.sizes[1:-1])} is a bottleneck for ten classes")
    if result.dropout >= 0.7:
        causes.append(f"dropout {result.dropout:.2g} silences most units")
    if result.l2 >= 0.1:
        causes.append(f"λ = {result.l2:.3g} pulls every weight towards 0")
    if result.learning_rate >= 0.3:
        causes.append(f"learning rate {result.learning_rate:.3g} makes the steps overshoot")
    elif result.learning_rate <= 3e-4:
        causes.append(
            f"learning rate {result.learning_rate:.3g} is too small for {result.epochs} epochs"
        )
    return "; ".join(causes) if causes else "the network is too small or too constrained"


def describe_result(result: OverfittingResult) -> str:
    """One line of HTML for the status label: what the run did, in words and numbers."""
    history = result.history
    if result.outcome == "diverged":
        return (
            f"<b>diverged at step {history.diverged_at_step}</b>: the loss became NaN or "
            f"infinite; learning rate {result.learning_rate:.3g} is too large. Lower it."
        )
    scores = (
        f"train accuracy {result.train_accuracy:.1%}, validation {result.val_accuracy:.1%} "
        f"(gap {100 * result.gap:.1f} points, {result.n_train} training examples)"
    )
    if result.outcome == "underfitting":
        return f"<b>underfitting</b>: {scores}. Likely cause: {_underfitting_causes(result)}."
    best = result.best_epoch
    if best is None:
        return f"{scores}; the validation loss was never finite."
    lowest, final = history.val_loss[best], history.val_loss[-1]
    if result.outcome == "overfitting":
        return (
            f"<b>overfitting</b>: {scores}. The validation loss was lowest at epoch {best} "
            f"({lowest:.3g}) and rose to {final:.3g}: early stopping would keep epoch {best}."
        )
    return f"{scores}; validation loss {final:.3g} (lowest {lowest:.3g} at epoch {best})."


class OverfittingWidget(LiveWidget):
    """Train an MLP on a few handwritten digits and watch the train/validation curves.

    Controls (``widget.controls[name]``): ``width`` (units per hidden layer,
    1-256), ``depth`` (hidden layers, 1-6), ``l2`` (weight decay λ, from
    :data:`L2_OPTIONS`), ``dropout`` (0-0.9), ``n_train`` (training examples,
    50-1000) and ``learning_rate`` (log scale, 1e-4 to 10). ``widget.result``
    is the latest :class:`OverfittingResult`; ``widget.last_update_seconds``
    how long the latest update took.
    """

    def __init__(self, epochs: int = 60, seed: int = 0) -> None:
        import ipywidgets as widgets

        self.epochs = _check_int(epochs, "epochs", 1)
        self.seed = _check_int(seed, "seed", 0)
        self.data = digits_split(self.seed)
        style = {"description_width": "initial"}
        heavy = {"continuous_update": False, "style": style}
        max_train = min(1000, len(self.data.X_train))
        controls = {
            "width": widgets.IntSlider(value=64, min=1, max=256, description="width", **heavy),
            "depth": widgets.IntSlider(value=2, min=1, max=6, description="depth", **heavy),
            "l2": widgets.SelectionSlider(
                options=[(f"{lam:g}", lam) for lam in L2_OPTIONS],
                value=0.0,
                description="L2 strength λ",
                **heavy,
            ),
            "dropout": widgets.FloatSlider(
                value=0.0, min=0.0, max=0.9, step=0.05, description="dropout rate", **heavy
            ),
            "n_train": widgets.IntSlider(
                value=300, min=50, max=max_train, step=50, description="training examples", **heavy
            ),
            "learning_rate": learning_rate_slider(
                0.01, min_exponent=-4, max_exponent=1, step=0.1, **heavy
            ),
        }
        self.fig, (self.ax_loss, self.ax_acc) = live_figure(figsize=(9, 3.6), ncols=2)
        self._build_artists()
        super().__init__(controls, self.fig)

    def _build_artists(self) -> None:
        """Create every artist once; :meth:`redraw` only changes their data."""
        self.lines: dict[str, Any] = {}
        for ax, metric in ((self.ax_loss, "loss"), (self.ax_acc, "accuracy")):
            (self.lines[f"train_{metric}"],) = ax.plot(
                [], [], color=TRAIN_COLOR, lw=1.5, label=f"train {metric}"
            )
            (self.lines[f"val_{metric}"],) = ax.plot(
                [], [], color=VAL_COLOR, lw=1.5, label=f"validation {metric}"
            )
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric)
            ax.grid(True, alpha=0.3)
        self.best_markers = [
            ax.axvline(0, color="0.4", ls=":", lw=1.2, label="lowest validation loss")
            for ax in (self.ax_loss, self.ax_acc)
        ]
        self.ax_loss.set_yscale("log")
        self.ax_acc.set_ylim(0.0, 1.02)
        self.ax_loss.legend(loc="lower left", fontsize="small")
        self.ax_acc.legend(loc="lower right", fontsize="small")
        # Fixed margins instead of a layout engine: nothing to re-measure on each redraw.
        self.fig.set_layout_engine("none")
        self.ax_loss.set_position((0.07, 0.14, 0.40, 0.76))
        self.ax_acc.set_position((0.57, 0.14, 0.40, 0.76))

    def update(self) -> None:
        """Say "training…" in the status line, then retrain and redraw."""
        self.status.value = "<i>training…</i>"
        super().update()

    def _show_progress(self, epoch: int, epochs: int) -> None:
        self.status.value = f"<i>training… epoch {epoch}/{epochs}</i>"

    def compute(self, **values: Any) -> OverfittingResult:
        """Retrain from scratch with the current control values."""
        return train_digits(
            self.data, **values, epochs=self.epochs, seed=self.seed, progress=self._show_progress
        )

    def redraw(self, result: OverfittingResult) -> None:
        """Update the four curves, the best-epoch markers and the titles in place."""
        history = result.history
        curves = {
            "train_loss": result.train_loss_curve,
            "val_loss": history.val_loss,
            "train_accuracy": result.train_accuracy_curve,
            "val_accuracy": history.val_accuracy,
        }
        for name, line in self.lines.items():
            values = np.asarray(curves[name], dtype=np.float64)
            line.set_data(np.arange(len(values)), values)
        for ax in (self.ax_loss, self.ax_acc):
            ax.set_xlim(0, max(result.epochs - 1, 1))
        losses = np.concatenate([curves["train_loss"], curves["val_loss"]]).astype(np.float64)
        losses = losses[np.isfinite(losses) & (losses > 0)]
        if losses.size:
            self.ax_loss.set_ylim(losses.min() / 1.5, losses.max() * 1.5)
        best = result.best_epoch
        for marker in self.best_markers:
            marker.set_xdata([best or 0, best or 0])
            marker.set_visible(best is not None)
        hidden = result.sizes[1:-1]
        if history.diverged:
            self.ax_loss.set_title(f"diverged at step {history.diverged_at_step}", fontsize=10)
        else:
            network = f"{len(hidden)} x {hidden[0]} ReLU"
            self.ax_loss.set_title(
                f"{network}, λ = {result.l2:g}, dropout {result.dropout:.2g}", fontsize=10
            )
        self.ax_acc.set_title(
            f"train {result.train_accuracy:.1%}, validation {result.val_accuracy:.1%}",
            fontsize=10,
        )

    def describe(self, result: OverfittingResult) -> str:
        """The status line (see :func:`describe_result`)."""
        return describe_result(result)
