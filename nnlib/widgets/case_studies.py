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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from .. import metrics, plots
from ..activations import sigmoid_forward
from ..data import (
    Standardizer,
    check_labels,
    kfold_indices,
    load_breast_cancer,
    load_california_housing,
    train_val_test_split,
)
from ..layers import Params
from ..model import Sequential, mlp
from ..train import History, fit
from .base import LiveWidget, learning_rate_slider, live_figure

#: Class names of the breast-cancer task, negative class first: 0 = benign, 1 = malignant.
DIAGNOSIS_CLASSES = ("benign", "malignant")


# --------------------------------------------------------------------------------------
# Diagnosis: a classifier's probabilities and the metrics of one threshold
# --------------------------------------------------------------------------------------


def predict_proba(model: Sequential, params: Sequence[Params], X: Any) -> np.ndarray:
    """P(positive | x) for every row of ``X`` ``(M, D)``: float64 ``(M,)``.

    The network outputs one logit ``s`` per row, shape ``(M, 1)``; the
    probability is ``p = σ(s) = 1 / (1 + e^{-s})``, computed by
    :func:`nnlib.activations.sigmoid_forward` (the overflow-free form
    ``½(1 + tanh(s/2))``). ``X`` must already be scaled as the training rows were.
    """
    logits = np.asarray(model.predict(params, X), dtype=np.float64)
    probabilities, _ = sigmoid_forward(logits)
    return np.asarray(probabilities, dtype=np.float64).reshape(-1)


def fit_classifier(
    X_train: np.ndarray,
    y_train: np.ndarray,
    hidden: int = 16,
    epochs: int = 100,
    lr: float = 1e-3,
    batch_size: int = 32,
    seed: int = 0,
) -> Callable[[np.ndarray], np.ndarray]:
    """Train a binary classifier on ``(X_train, y_train)``; return ``predict(X)``.

    The recipe of notebook 06, in one function:

    1. fit a :class:`~nnlib.data.Standardizer` on the training rows only;
    2. train ``mlp([D, hidden, 1])`` (ReLU) with binary cross-entropy from the
       logit, Adam at ``lr``, ``epochs`` epochs of mini-batches of ``batch_size``;
    3. return a function that standardises new rows with the *training*
       statistics and maps them to ``p = σ(logit)`` (:func:`predict_proba`),
       float64 of shape ``(M,)``.

    ``X_train`` is ``(N, D)``, ``y_train`` ``(N,)`` holds labels 0/1 (1 = positive).
    Data and network are float64, so the probabilities are the same to the last
    digit on every CPU (float32 sums can round differently from one machine's
    matrix-multiply kernels to another's). Everything random follows ``seed``.
    """
    y_train = check_labels(y_train, n_classes=2, name="y_train")
    X_train = np.asarray(X_train, dtype=np.float64)
    scaler = Standardizer().fit(X_train)
    n_features = int(np.shape(X_train)[1])
    model = mlp([n_features, hidden, 1], activation="relu", dtype="float64")
    result = fit(
        model,
        model.init(seed),
        scaler.transform(X_train),
        y_train,
        loss="bce",
        optimizer="adam",
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
    )

    def predict(X: np.ndarray) -> np.ndarray:
        """P(positive | x) for every row of ``X`` ``(M, D)`` (unscaled): float64 ``(M,)``."""
        X_scaled = scaler.transform(np.asarray(X, dtype=np.float64))
        return predict_proba(model, result.params, X_scaled)

    return predict


def breast_cancer_probabilities(k: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold probabilities of malignancy on notebook 06's development rows.

    The 569 tumours are split 60/20/20 (stratified, ``seed``) into training,
    validation and test rows; the test rows are left alone. The other 456 rows
    are cut into ``k`` folds; each fold is scored by a :func:`fit_classifier`
    model trained on the other ``k - 1`` folds, so every probability comes
    from a model that never saw that tumour.

    Returns ``(y_true, probabilities)``: ``y_true`` int64 ``(456,)`` with
    1 = malignant (the positive class) and 0 = benign, ``probabilities``
    float64 ``(456,)``.
    """
    X, y = load_breast_cancer()
    malignant = (y == 0).astype(np.int64)  # the file codes 0 = malignant, 1 = benign
    split = train_val_test_split(X, malignant, val=0.2, test=0.2, seed=seed, stratify=True)
    X_dev = np.concatenate([split.X_train, split.X_val])
    y_dev = np.concatenate([split.y_train, split.y_val])
    probabilities = np.zeros(len(y_dev))
    for train_rows, held_out in kfold_indices(len(y_dev), k=k, seed=seed):
        predict = fit_classifier(X_dev[train_rows], y_dev[train_rows], seed=seed)
        probabilities[held_out] = predict(X_dev[held_out])
    return y_dev, probabilities


@dataclass(frozen=True)
class ThresholdResult:
    """The decisions of one threshold, and what they are worth.

    ``y_true`` ``(N,)`` holds the true labels and ``y_pred`` ``(N,)`` the
    decisions ``1[probability >= threshold]`` (both int64, 1 = positive). The
    rates are those of :mod:`nnlib.metrics`, computed from these two arrays.
    """

    threshold: float
    y_true: np.ndarray
    y_pred: np.ndarray

    @cached_property
    def confusion(self) -> np.ndarray:
        """The ``(2, 2)`` int64 matrix ``[[TN, FP], [FN, TP]]``.

        Rows: true class negative/positive; columns: predicted class.
        """
        return metrics.confusion_matrix(self.y_true, self.y_pred, n_classes=2)

    @property
    def tn(self) -> int:
        """True negatives: negatives predicted negative."""
        return int(self.confusion[0, 0])

    @property
    def fp(self) -> int:
        """False positives (false alarms): negatives predicted positive."""
        return int(self.confusion[0, 1])

    @property
    def fn(self) -> int:
        """False negatives (misses): positives predicted negative."""
        return int(self.confusion[1, 0])

    @property
    def tp(self) -> int:
        """True positives: positives predicted positive."""
        return int(self.confusion[1, 1])

    @property
    def precision(self) -> float:
        """``TP / (TP + FP)``; 0.0 when nothing is predicted positive."""
        return float(metrics.precision(self.y_true, self.y_pred))

    @property
    def recall(self) -> float:
        """``TP / (TP + FN)``, the true-positive rate (sensitivity)."""
        return float(metrics.recall(self.y_true, self.y_pred))

    @property
    def false_positive_rate(self) -> float:
        """``FP / (FP + TN)``: the fraction of negatives flagged."""
        return self.fp / (self.fp + self.tn)

    @property
    def f1(self) -> float:
        """``2 TP / (2 TP + FP + FN)``, the harmonic mean of precision and recall."""
        return float(metrics.f1_score(self.y_true, self.y_pred))

    @property
    def accuracy(self) -> float:
        """``(TP + TN) / N``."""
        return metrics.accuracy(self.y_true, self.y_pred)


def check_binary_scores(y_true: Any, probabilities: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate a binary task's labels and probabilities; return them as arrays.

    ``y_true`` ``(N,)``: labels 0 (negative) and 1 (positive), both present.
    ``probabilities`` ``(N,)``: finite numbers in ``[0, 1]``, P(positive).
    Returns ``(int64 labels, float64 probabilities)``; bad input raises
    ``ValueError`` saying what to change.
    """
    y = check_labels(y_true, n_classes=2, name="y_true")
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p.reshape(-1)
    if p.shape != y.shape:
        raise ValueError(
            f"probabilities has shape {p.shape} but y_true has shape {y.shape}: give one "
            "probability of the positive class per example."
        )
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError(
            "probabilities must be finite numbers in [0, 1]. If they are logits, convert "
            "them with sigmoid(logits) first."
        )
    if y.min() == y.max():
        raise ValueError(
            f"y_true holds only class {int(y[0])}: the rates TP/P and FP/N need both "
            "positive (1) and negative (0) examples."
        )
    return y, p


def threshold_metrics(y_true: Any, probabilities: Any, threshold: float) -> ThresholdResult:
    """Predict positive where ``probability >= threshold`` and count the outcomes.

    ``y_true`` ``(N,)`` labels 0/1, ``probabilities`` ``(N,)`` in ``[0, 1]``,
    ``threshold`` in ``[0, 1]``. ``threshold = 0`` flags everything, a
    threshold above every probability flags nothing. The ``>=`` matches
    :func:`nnlib.metrics.roc_curve`, so the point ``(FPR, TPR)`` of a
    threshold equal to one of the scores lies on its curve.
    """
    y, p = check_binary_scores(y_true, probabilities)
    if not (isinstance(threshold, (int, float, np.number)) and 0.0 <= threshold <= 1.0):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}.")
    predicted = (p >= threshold).astype(np.int64)
    return ThresholdResult(float(threshold), y, predicted)


def describe_threshold(result: ThresholdResult, class_names: Sequence[str]) -> str:
    """One line: recall with the misses, precision with the false alarms, and F1."""
    positive = class_names[1]
    n_positive = result.tp + result.fn
    if result.tp + result.fp == 0:
        flagged = f"nothing predicted {positive}"
    else:
        flagged = f"precision {result.precision:.3f} ({result.fp} false alarms)"
    return (
        f"threshold {result.threshold:.2f}: recall {result.recall:.3f} "
        f"({result.fn} of {n_positive} {positive} missed), {flagged}, F1 {result.f1:.3f}"
    )


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


# --------------------------------------------------------------------------------------
# House prices: the prepared data, and a network trained for one setting
# --------------------------------------------------------------------------------------


@dataclass
class HousingData:
    """California housing, ready for a network (notebook 06, section 3).

    ``X_*`` are standardised features, float64 ``(N, 13)``, with the scaler
    ``x_scaler`` fitted on the training rows; ``z_train`` and ``z_val`` are the
    standardised targets, float64 ``(N, 1)`` (``y_scaler``, fitted on training targets);
    ``y_*`` are the targets in dollars, float64 ``(N,)``. ``bedrooms_median``
    is the training median that filled the missing ``total_bedrooms``.
    """

    X_train: np.ndarray
    z_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    z_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    x_scaler: Standardizer
    y_scaler: Standardizer
    bedrooms_median: float
    feature_names: tuple[str, ...]

    def to_dollars(self, z: Any) -> np.ndarray:
        """Standardised predictions ``(N,)`` or ``(N, 1)`` back in dollars: ``y = z σ + μ``."""
        z = np.asarray(z, dtype=np.float64).reshape(-1, 1)
        return self.y_scaler.inverse_transform(z).reshape(-1)


def prepare_housing(n_train: int = 3000, seed: int = 0) -> HousingData:
    """Load, split, impute and scale California housing as in notebook 06.

    1. Load with ``impute=None`` (the 207 missing ``total_bedrooms`` stay NaN);
       ``ocean_proximity`` arrives one-hot encoded by the loader.
    2. Split the *row numbers* 70/15/15 into train, validation and test
       (``seed``); keep a random ``n_train`` of the training rows (fast training).
    3. Fill the missing ``total_bedrooms`` with the median of the training rows.
    4. Standardise features and the target with statistics of the training rows.

    Everything is float64, as in the notebook.
    """
    data = load_california_housing(impute=None)
    X, y = data.X.astype(np.float64), data.y.astype(np.float64)
    rows = train_val_test_split(np.arange(len(y)), y, val=0.15, test=0.15, seed=seed)
    if not 1 <= n_train <= len(rows.X_train):
        raise ValueError(f"n_train must be between 1 and {len(rows.X_train)}, got {n_train!r}.")
    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(rows.X_train, size=n_train, replace=False))
    column = data.feature_names.index("total_bedrooms")
    median = float(np.nanmedian(X[train, column]))

    def filled(idx: np.ndarray) -> np.ndarray:
        part = X[idx].copy()
        part[np.isnan(part[:, column]), column] = median
        return part

    X_train, X_val, X_test = filled(train), filled(rows.X_val), filled(rows.X_test)
    x_scaler = Standardizer().fit(X_train)
    y_scaler = Standardizer().fit(y[train, None])
    return HousingData(
        X_train=x_scaler.transform(X_train),
        z_train=y_scaler.transform(y[train, None]),
        y_train=y[train],
        X_val=x_scaler.transform(X_val),
        z_val=y_scaler.transform(y[rows.X_val, None]),
        y_val=y[rows.X_val],
        X_test=x_scaler.transform(X_test),
        y_test=y[rows.X_test],
        x_scaler=x_scaler,
        y_scaler=y_scaler,
        bedrooms_median=median,
        feature_names=data.feature_names,
    )


def linear_least_squares(X_train: np.ndarray, z_train: np.ndarray) -> np.ndarray:
    """Closed-form linear regression: ``w = argmin ||A w - z||²`` with ``A = [X, 1]``.

    ``X_train`` ``(N, D)``, ``z_train`` ``(N,)`` or ``(N, 1)``. Returns float64
    weights ``(D + 1,)``, the last one the intercept; predict with
    ``X @ w[:-1] + w[-1]``. Solved by ``numpy.linalg.lstsq`` (stable even when
    columns are collinear, as the five one-hot columns plus an intercept are).
    """
    A = np.column_stack([np.asarray(X_train, dtype=np.float64), np.ones(len(X_train))])
    z = np.asarray(z_train, dtype=np.float64).reshape(-1)
    return np.linalg.lstsq(A, z, rcond=None)[0]


@dataclass
class HousingResult:
    """One training run of the housing widget: settings, history and validation MAE per epoch."""

    width: int
    learning_rate: float
    history: History
    val_mae: np.ndarray  # dollars, one per completed epoch

    @property
    def final_mae(self) -> float:
        """Validation MAE after the last completed epoch (NaN if none completed)."""
        return float(self.val_mae[-1]) if len(self.val_mae) else math.nan


def train_housing(
    data: HousingData,
    width: int,
    learning_rate: float,
    epochs: int = 20,
    batch_size: int = 64,
    seed: int = 0,
) -> HousingResult:
    """Train ``mlp([13, width, 1])`` (ReLU, MSE on standardised targets, Adam) on ``data``.

    The network is float64, like the data (as fast as float32 at this size).

    After every epoch the validation predictions are converted to dollars and
    their mean absolute error recorded. A run whose loss becomes NaN/inf stops
    (``history.diverged``) and keeps the epochs completed before.
    """
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}.")
    if not (
        isinstance(learning_rate, (int, float))
        and not isinstance(learning_rate, bool)
        and math.isfinite(learning_rate)
        and learning_rate > 0
    ):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}.")
    model = mlp([data.X_train.shape[1], int(width), 1], activation="relu", dtype="float64")
    val_mae: list[float] = []

    def record(epoch: int, params: Any, history: History) -> None:
        z = model.predict(params, data.X_val)
        with np.errstate(all="ignore"):
            predicted = data.to_dollars(z)
        error = np.mean(np.abs(predicted - data.y_val))
        val_mae.append(float(error) if np.isfinite(error) else math.inf)

    result = fit(
        model,
        model.init(seed),
        data.X_train,
        data.z_train,
        loss="mse",
        optimizer="adam",
        lr=float(learning_rate),
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        callback=record,
    )
    return HousingResult(int(width), float(learning_rate), result.history, np.array(val_mae))


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
