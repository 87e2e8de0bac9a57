"""Live widgets for notebook 06: case studies on real data.

:class:`ThresholdWidget` moves the decision threshold of a binary classifier.
A classifier that outputs a probability ``p = P(positive | x)`` still has to
decide: it predicts "positive" when ``p >= t``. The threshold ``t`` trades one
kind of mistake for the other:

* lowering ``t`` flags more examples: fewer positives are missed (recall goes
  up) but more negatives are flagged by mistake (precision goes down);
* raising ``t`` does the opposite.

The widget shows, for the threshold on its slider,

* left: the predicted probabilities of the two true classes, and the threshold
  as a vertical line (everything right of it is predicted positive);
* middle: the ROC curve, with the operating point ``(FPR(t), TPR(t))``;
* right: the confusion matrix (rows: true class, columns: predicted class).

Nothing is retrained: the probabilities are computed once, and every slider
move only recounts four numbers, so an update takes milliseconds.

:class:`HousingWidget` trains a small regression network on California house
prices for a chosen hidden width and learning rate and plots its validation
error in dollars, epoch by epoch, against two baselines (always predicting the
mean, and a linear model). It retrains on every change, so its sliders act on
release (``continuous_update=False``).

By default both widgets rebuild the data of notebook 06 themselves: the
breast-cancer classifier's out-of-fold probabilities
(:func:`breast_cancer_probabilities`) and the prepared housing data
(:func:`prepare_housing`). Pass your own arrays to use them on other data.

The computation lives in :mod:`nnlib.widgets.decision_threshold` and
:mod:`nnlib.widgets.housing_regression` (NumPy only); this module builds the
controls and draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import metrics, plots
from .base import LiveWidget, learning_rate_slider, live_figure
from .decision_threshold import (
    DIAGNOSIS_CLASSES,
    ThresholdResult,
    breast_cancer_probabilities,
    check_binary_scores,
    describe_threshold,
    fit_classifier,
    predict_proba,
    threshold_metrics,
)
from .housing_regression import (
    HousingData,
    HousingResult,
    linear_least_squares,
    prepare_housing,
    train_housing,
)

__all__ = [
    "DIAGNOSIS_CLASSES",
    "WIDTH_OPTIONS",
    "HousingData",
    "HousingResult",
    "HousingWidget",
    "ThresholdResult",
    "ThresholdWidget",
    "breast_cancer_probabilities",
    "check_binary_scores",
    "describe_threshold",
    "fit_classifier",
    "linear_least_squares",
    "predict_proba",
    "prepare_housing",
    "threshold_metrics",
    "train_housing",
]


class ThresholdWidget(LiveWidget):
    """Slide the decision threshold; watch the ROC point, confusion matrix and scores move.

    Arguments:
        y_true: ``(N,)`` labels, 1 = positive class, 0 = negative class.
        probabilities: ``(N,)`` predicted P(positive) in ``[0, 1]``.
        threshold: the slider's starting value.
        class_names: ``(negative name, positive name)``.

    With ``y_true`` and ``probabilities`` left out, the widget uses the
    out-of-fold probabilities of notebook 06's breast-cancer classifier
    (:func:`breast_cancer_probabilities`; about a second to train).
    ``widget.result`` is the current :class:`ThresholdResult`.
    """

    def __init__(
        self,
        y_true: Any = None,
        probabilities: Any = None,
        threshold: float = 0.5,
        class_names: Sequence[str] = DIAGNOSIS_CLASSES,
    ) -> None:
        import ipywidgets as widgets

        if (y_true is None) != (probabilities is None):
            raise ValueError(
                "Pass both y_true and probabilities, or neither (then the breast-cancer "
                "classifier of notebook 06 is used)."
            )
        if y_true is None:
            y_true, probabilities = breast_cancer_probabilities()
        self.y_true, self.probabilities = check_binary_scores(y_true, probabilities)
        if len(class_names) != 2:
            raise ValueError(
                f"class_names must be (negative name, positive name), got {class_names!r}."
            )
        self.class_names = tuple(str(name) for name in class_names)
        threshold_metrics(self.y_true, self.probabilities, threshold)  # validates threshold
        self.fpr, self.tpr, _ = metrics.roc_curve(self.y_true, self.probabilities)
        self.auc = metrics.auc(self.fpr, self.tpr)
        controls = {
            "threshold": widgets.FloatSlider(
                value=threshold,
                min=0.0,
                max=1.0,
                step=0.01,
                description="threshold",
                readout_format=".2f",
                continuous_update=True,
                style={"description_width": "initial"},
            )
        }
        self.fig, (self.ax_hist, self.ax_roc, self.ax_cm) = live_figure(figsize=(9.8, 3.4), ncols=3)
        self._build_artists()
        super().__init__(controls, self.fig)

    # -- drawing --------------------------------------------------------------------
    def _build_artists(self) -> None:
        """Draw what never changes; keep handles on what does."""
        negative, positive = self.class_names
        ax = self.ax_hist
        edges = np.linspace(0.0, 1.0, 26)
        for label, name in ((0, negative), (1, positive)):
            counts, _ = np.histogram(self.probabilities[self.y_true == label], bins=edges)
            ax.stairs(
                counts,
                edges,
                fill=True,
                alpha=0.45,
                color=plots.CLASS_COLORS[label],
                label=f"true {name} ({int(np.sum(self.y_true == label))})",
            )
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylim(0, None)
        ax.set_xlim(0, 1)
        self.threshold_line = ax.axvline(0.5, color="k", lw=1.5, ls="--")
        ax.set_xlabel(f"predicted P({positive})")
        ax.set_ylabel("examples (symlog scale)")
        ax.legend(loc="upper center", fontsize="small")
        ax.set_title("right of t: predicted positive", fontsize="medium")  # room for the title

        plots.plot_roc(self.fpr, self.tpr, ax=self.ax_roc, auc=self.auc)
        (self.roc_point,) = self.ax_roc.plot(
            [], [], ls="none", marker="o", ms=9, color=plots.PATH_COLOR, mec="k"
        )
        self.roc_label = self.ax_roc.text(
            0.97, 0.30, "", ha="right", va="bottom", fontsize="small",
            transform=self.ax_roc.transAxes,
        )  # fmt: skip
        self._draw_confusion(threshold_metrics(self.y_true, self.probabilities, 0.5))
        # Lay the figure out once, then keep it: re-running the layout on every draw is slow.
        self.fig.get_layout_engine().execute(self.fig)
        self.fig.set_layout_engine("none")

    def _draw_confusion(self, result: ThresholdResult) -> None:
        self.ax_cm.clear()
        plots.plot_confusion_matrix(result.confusion, self.class_names, ax=self.ax_cm)
        self.ax_cm.set_title(f"{result.fn} missed, {result.fp} false alarms", fontsize="medium")

    def compute(self, threshold: float) -> ThresholdResult:
        """Count TP, FP, FN, TN at ``threshold`` (no retraining)."""
        return threshold_metrics(self.y_true, self.probabilities, threshold)

    def redraw(self, result: ThresholdResult) -> None:
        """Move the threshold line and the ROC point; redraw the confusion matrix."""
        t = result.threshold
        self.threshold_line.set_xdata([t, t])
        self.ax_hist.set_title(
            f"right of t = {t:.2f}: predicted {self.class_names[1]}", fontsize="medium"
        )
        fpr, tpr = result.false_positive_rate, result.recall
        self.roc_point.set_data([fpr], [tpr])
        self.roc_label.set_text(f"FPR {fpr:.3f}, TPR {tpr:.3f}")
        self._draw_confusion(result)

    def describe(self, result: ThresholdResult) -> str:
        """The status line: recall (misses), precision (false alarms), F1."""
        return describe_threshold(result, self.class_names)


#: Hidden widths offered by the housing widget.
WIDTH_OPTIONS = (1, 2, 4, 8, 16, 32, 64)


class HousingWidget(LiveWidget):
    """Hidden width and learning rate → validation MAE (dollars) per epoch, with baselines.

    Controls: ``width`` (units of the one hidden layer, :data:`WIDTH_OPTIONS`)
    and ``learning_rate`` (log scale, 1e-4 to 10). Each change retrains
    ``mlp([13, width, 1])`` for ``epochs`` epochs on ``data`` (default:
    :func:`prepare_housing`). The dotted lines are the mean predictor and the
    closed-form linear model. ``widget.result`` is the latest
    :class:`HousingResult`.
    """

    def __init__(
        self,
        data: HousingData | None = None,
        width: int = 16,
        learning_rate: float = 3e-3,
        epochs: int = 20,
        seed: int = 0,
    ) -> None:
        import ipywidgets as widgets

        if width not in WIDTH_OPTIONS:
            raise ValueError(f"width must be one of {WIDTH_OPTIONS}, got {width!r}.")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
        self.data = data if data is not None else prepare_housing(seed=seed)
        self.epochs, self.seed = int(epochs), int(seed)
        mean_prediction = np.full_like(self.data.y_val, self.data.y_train.mean())
        self.mean_mae = metrics.mae(self.data.y_val, mean_prediction)
        w = linear_least_squares(self.data.X_train, self.data.z_train)
        self.linear_mae = metrics.mae(
            self.data.y_val, self.data.to_dollars(self.data.X_val @ w[:-1] + w[-1])
        )
        heavy = {"continuous_update": False, "style": {"description_width": "initial"}}
        controls = {
            "width": widgets.SelectionSlider(
                options=list(WIDTH_OPTIONS), value=width, description="hidden width", **heavy
            ),
            "learning_rate": learning_rate_slider(
                learning_rate, min_exponent=-4, max_exponent=1, step=0.1, **heavy
            ),
        }
        self.fig, self.ax = live_figure(figsize=(7, 3.6))
        self._build_artists()
        super().__init__(controls, self.fig)

    def _build_artists(self) -> None:
        ax = self.ax
        (self.mae_line,) = ax.plot(
            [], [], color=plots.VAL_COLOR, marker="o", ms=3, label="network (validation)"
        )
        ax.axhline(
            self.mean_mae, color="0.5", ls=":", label=f"mean predictor ${self.mean_mae:,.0f}"
        )
        ax.axhline(
            self.linear_mae, color="k", ls="--", lw=1, label=f"linear model ${self.linear_mae:,.0f}"
        )
        ax.set_xlim(0.5, self.epochs + 0.5)
        ax.set_ylim(0, 1.6 * self.mean_mae)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation MAE (dollars)")
        ax.yaxis.set_major_formatter(lambda v, _: f"${v / 1000:.0f}k")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize="small")
        ax.set_title("training…", fontsize="medium")  # reserves room for the title
        self.fig.get_layout_engine().execute(self.fig)
        self.fig.set_layout_engine("none")

    def update(self) -> None:
        """Say "training…" in the status line, then retrain and redraw."""
        self.status.value = "<i>training…</i>"
        super().update()

    def compute(self, width: int, learning_rate: float) -> HousingResult:
        """Retrain from scratch for the current width and learning rate."""
        return train_housing(self.data, width, learning_rate, epochs=self.epochs, seed=self.seed)

    def redraw(self, result: HousingResult) -> None:
        """Replace the curve's data and the title."""
        epochs = np.arange(1, len(result.val_mae) + 1)
        shown = np.minimum(result.val_mae, 10 * self.mean_mae)  # keep huge errors in view
        self.mae_line.set_data(epochs, shown)
        self.ax.set_title(self.describe(result), fontsize="medium")

    def describe(self, result: HousingResult) -> str:
        """Final validation MAE, or "diverged at step k"."""
        head = f"width {result.width}, η = {result.learning_rate:.3g}: "
        if result.history.diverged:
            return head + f"diverged at step {result.history.diverged_at_step}"
        verdict = "beats" if result.final_mae < self.linear_mae else "does not beat"
        return head + f"validation MAE ${result.final_mae:,.0f} ({verdict} the linear model)"


__all__ = [
    "DIAGNOSIS_CLASSES",
    "WIDTH_OPTIONS",
    "HousingData",
    "HousingResult",
    "HousingWidget",
    "ThresholdResult",
    "ThresholdWidget",
    "breast_cancer_probabilities",
    "check_binary_scores",
    "describe_threshold",
    "fit_classifier",
    "linear_least_squares",
    "predict_proba",
    "prepare_housing",
    "threshold_metrics",
    "train_housing",
]
