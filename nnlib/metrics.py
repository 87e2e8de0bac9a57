"""Metrics: how good are the predictions?

A loss is what training minimises; a metric is what we report. Metrics take
NumPy arrays (JAX arrays are converted) and return Python floats, or a NumPy
array of per-class values.

Classification metrics compare integer *labels*: ``y_true`` and ``y_pred`` of
shape ``(N,)`` with values ``0 .. C-1``. A model outputs scores (logits); turn
them into labels with :func:`predict_labels` first. Ranking metrics
(:func:`roc_curve`, :func:`roc_auc_score`) take the scores themselves.

Everything is defined for every input: where a ratio would be ``0 / 0`` (no
predicted positives, no true positives, a constant target) the documented value
is returned instead of NaN, and no warning is printed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlib.data import check_labels

__all__ = [
    "accuracy",
    "auc",
    "classification_report",
    "confusion_matrix",
    "f1_score",
    "mae",
    "mse",
    "precision",
    "predict_labels",
    "r2_score",
    "recall",
    "roc_auc_score",
    "roc_curve",
]

AVERAGES = ("binary", "macro", "micro", None)

# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------


def _same_shape(a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} has shape {a.shape} but {names[1]} has shape {b.shape}: they must "
            "match element for element (a (N,) array against an (N, 1) array would "
            "broadcast to (N, N)). Use .ravel() or .reshape() to align them."
        )


def _label_pair(
    y_true: Any, y_pred: Any, n_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        raise ValueError(
            f"y_pred has shape {y_pred.shape}: it looks like scores, one column per class. "
            "Metrics compare labels: convert with predict_labels(scores) (argmax) first."
        )
    y_true = check_labels(y_true, n_classes, name="y_true")
    y_pred = check_labels(y_pred, n_classes, name="y_pred")
    _same_shape(y_true, y_pred, ("y_true", "y_pred"))
    return y_true, y_pred


def _check_zero_division(zero_division: float) -> float:
    if not (isinstance(zero_division, (int, float, np.number)) and 0 <= zero_division <= 1):
        raise ValueError(
            f"zero_division is the value returned for 0/0 and must be in [0, 1], "
            f"got {zero_division!r}."
        )
    return float(zero_division)


def _ratio(numerator: np.ndarray, denominator: np.ndarray, zero_division: float) -> np.ndarray:
    """``numerator / denominator`` elementwise, ``zero_division`` where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, zero_division, numerator / safe)


# --------------------------------------------------------------------------------------
# From scores to labels
# --------------------------------------------------------------------------------------


def predict_labels(scores: Any, threshold: float = 0.0) -> np.ndarray:
    """Turn model outputs into class labels, ``int64`` of shape ``(N,)``.

    * ``(N, C)`` with ``C >= 2`` (one score per class): ``argmax`` over classes.
    * ``(N,)`` or ``(N, 1)`` (one score for the positive class, binary task):
      ``1`` where ``score > threshold`` else ``0``. The default ``threshold=0``
      fits logits (``sigmoid(0) = 0.5``); use ``threshold=0.5`` for probabilities.
    """
    scores = np.asarray(scores)
    if scores.ndim == 2 and scores.shape[1] >= 2:
        return scores.argmax(axis=1).astype(np.int64)
    if scores.ndim == 1 or (scores.ndim == 2 and scores.shape[1] == 1):
        return (scores.reshape(-1) > threshold).astype(np.int64)
    raise ValueError(
        f"scores must have shape (N,), (N, 1) or (N, C), got {scores.shape}: one row "
        "of scores per example."
    )


# --------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of correct labels: ``mean(y_true == y_pred)``, in ``[0, 1]``.

    ``y_true`` and ``y_pred`` are integer labels of shape ``(N,)``.
    """
    y_true, y_pred = _label_pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Count every (true class, predicted class) pair: an ``int64`` array ``(C, C)``.

    ``M[i, j]`` is the number of examples of true class ``i`` predicted as class
    ``j``: **rows are true classes, columns are predictions**. The diagonal holds
    the correct predictions, so ``trace(M) / N`` is the accuracy, row sums are
    the class sizes (support) and column sums the prediction counts.
    ``C = n_classes``, or ``max(y_true, y_pred) + 1`` when not given.
    """
    y_true, y_pred = _label_pair(y_true, y_pred, n_classes)
    if n_classes is None:
        n_classes = int(max(y_true.max(), y_pred.max())) + 1
    counts = np.bincount(n_classes * y_true + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def _counts_per_class(
    y_true: Any, y_pred: Any, average: str | None, positive: int, n_classes: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """True positives, false positives, false negatives of each class considered,
    and a mask of the classes that occur (in ``y_true`` or ``y_pred``).

    With ``average="binary"`` only the ``positive`` class is considered.
    """
    if average not in AVERAGES:
        raise ValueError(
            f"average must be one of {list(AVERAGES)}, got {average!r}: 'binary' scores the "
            "positive class, 'macro' averages the classes, 'micro' pools the counts, None "
            "returns one value per class."
        )
    y_true, y_pred = _label_pair(y_true, y_pred, n_classes)
    if average == "binary":
        classes = np.union1d(y_true, y_pred)
        if len(classes) > 2:
            raise ValueError(
                f"average='binary' needs two classes, but the labels hold {len(classes)} "
                f"({classes.tolist()}): use average='macro', 'micro' or None."
            )
        true_pos, pred_pos = y_true == positive, y_pred == positive
        tp = np.array([np.sum(true_pos & pred_pos)])
        fp = np.array([np.sum(~true_pos & pred_pos)])
        fn = np.array([np.sum(true_pos & ~pred_pos)])
        return tp, fp, fn, np.array([True])
    M = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(M)
    fp = M.sum(axis=0) - tp  # predicted as k, but another class
    fn = M.sum(axis=1) - tp  # class k, but predicted as another
    present = (M.sum(axis=0) + M.sum(axis=1)) > 0
    return tp, fp, fn, present


def _score(
    numerator: np.ndarray,
    denominator: np.ndarray,
    present: np.ndarray,
    average: str | None,
    zero_division: float,
) -> float | np.ndarray:
    """Combine per-class counts into the requested average."""
    if average == "micro":
        return float(_ratio(numerator.sum(), denominator.sum(), zero_division))
    per_class = _ratio(numerator, denominator, zero_division)
    if average is None:
        return per_class
    return float(per_class[present].mean())  # "binary" (one class) and "macro"


def precision(
    y_true: Any,
    y_pred: Any,
    average: str | None = "binary",
    positive: int = 1,
    n_classes: int | None = None,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """Of the examples predicted as class k, the fraction that really are k:
    ``precision = TP / (TP + FP)``.

    ``average``:

    * ``"binary"`` (default): the score of class ``positive`` in a two-class problem;
    * ``"macro"``: the unweighted mean of the per-class scores over the classes
      that occur in ``y_true`` or ``y_pred`` (every class counts the same);
    * ``"micro"``: pool TP and FP over all classes first (for single-label data
      this equals the accuracy);
    * ``None``: a float array ``(C,)`` with the score of every class.

    A class that is never predicted has ``TP + FP = 0``: its precision is
    ``zero_division`` (default 0.0) rather than NaN.
    """
    zero_division = _check_zero_division(zero_division)
    tp, fp, _, present = _counts_per_class(y_true, y_pred, average, positive, n_classes)
    return _score(tp, tp + fp, present, average, zero_division)


def recall(
    y_true: Any,
    y_pred: Any,
    average: str | None = "binary",
    positive: int = 1,
    n_classes: int | None = None,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """Of the examples of class k, the fraction predicted as k:
    ``recall = TP / (TP + FN)`` (also called sensitivity or true positive rate).

    ``average`` works as in :func:`precision`. A class absent from ``y_true``
    has ``TP + FN = 0``: its recall is ``zero_division`` (default 0.0).
    """
    zero_division = _check_zero_division(zero_division)
    tp, _, fn, present = _counts_per_class(y_true, y_pred, average, positive, n_classes)
    return _score(tp, tp + fn, present, average, zero_division)


def f1_score(
    y_true: Any,
    y_pred: Any,
    average: str | None = "binary",
    positive: int = 1,
    n_classes: int | None = None,
    zero_division: float = 0.0,
) -> float | np.ndarray:
    """Harmonic mean of precision P and recall R::

        F1 = 2 P R / (P + R) = 2 TP / (2 TP + FP + FN)

    The second form is used, so F1 is 0 whenever TP = 0 but mistakes were made,
    and ``zero_division`` only when ``TP = FP = FN = 0`` (the class occurs
    nowhere). ``average`` works as in :func:`precision`; ``"macro"`` averages the
    per-class F1 values, ``"micro"`` uses pooled counts.
    """
    zero_division = _check_zero_division(zero_division)
    tp, fp, fn, present = _counts_per_class(y_true, y_pred, average, positive, n_classes)
    return _score(2 * tp, 2 * tp + fp + fn, present, average, zero_division)


def classification_report(
    y_true: Any,
    y_pred: Any,
    n_classes: int | None = None,
    target_names: Any = None,
    zero_division: float = 0.0,
) -> dict[str, Any]:
    """Precision, recall, F1 and support of every class, plus the overall numbers.

    Returns a dict::

        {
            "<class name>": {"precision": p, "recall": r, "f1": f, "support": n},
            ...,                       # one entry per class 0 .. C-1
            "accuracy": acc,
            "macro avg": {"precision": ..., "recall": ..., "f1": ..., "support": N},
        }

    Class names come from ``target_names`` (for example ``Dataset.target_names``),
    else ``"0"``, ``"1"``, ... ``support`` is the number of true examples of the
    class. The macro average is over the classes that occur.
    """
    M = confusion_matrix(y_true, y_pred, n_classes)
    n_classes = len(M)
    names = [str(k) for k in range(n_classes)] if target_names is None else list(target_names)
    if len(names) != n_classes:
        raise ValueError(
            f"target_names has {len(names)} names but there are {n_classes} classes: give "
            "one name per class."
        )
    args = dict(average=None, n_classes=n_classes, zero_division=zero_division)
    p, r, f = (score(y_true, y_pred, **args) for score in (precision, recall, f1_score))
    support = M.sum(axis=1)
    report: dict[str, Any] = {
        name: {
            "precision": float(p[k]),
            "recall": float(r[k]),
            "f1": float(f[k]),
            "support": int(support[k]),
        }
        for k, name in enumerate(names)
    }
    report["accuracy"] = float(np.trace(M) / M.sum())
    macro = dict(average="macro", n_classes=n_classes, zero_division=zero_division)
    report["macro avg"] = {
        "precision": precision(y_true, y_pred, **macro),
        "recall": recall(y_true, y_pred, **macro),
        "f1": f1_score(y_true, y_pred, **macro),
        "support": int(M.sum()),
    }
    return report


# --------------------------------------------------------------------------------------
# Ranking: ROC curve and AUC
# --------------------------------------------------------------------------------------


def _binary_targets(y_true: Any, positive: int) -> np.ndarray:
    y_true = check_labels(y_true, name="y_true")
    classes = np.unique(y_true)
    if len(classes) > 2:
        raise ValueError(
            f"The ROC curve is for two classes, but y_true holds {len(classes)} "
            f"({classes.tolist()}): score one class against the rest, e.g. y_true == k."
        )
    is_positive = y_true == positive
    if is_positive.all() or not is_positive.any():
        raise ValueError(
            "The ROC curve needs both positive and negative examples in y_true, but it holds "
            f"only {'positives' if is_positive.all() else 'negatives'} (positive={positive}): "
            "the true or the false positive rate would be 0/0. Evaluate on a larger or "
            "stratified sample."
        )
    return is_positive


def roc_curve(
    y_true: Any, scores: Any, positive: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic: every trade-off a threshold can make.

    Predict "positive" when ``score >= t``. For every distinct score ``t``
    (from high to low) count::

        TPR(t) = TP(t) / P      (recall: positives caught)
        FPR(t) = FP(t) / N      (negatives wrongly flagged)

    where P and N are the numbers of positive and negative examples. Tied scores
    move together, so a tie between a positive and a negative gives a diagonal
    step. The curve starts at ``(0, 0)`` with threshold ``+inf`` (nothing
    predicted positive) and ends at ``(1, 1)`` (everything positive).

    ``y_true`` ``(N,)`` holds labels (``positive`` marks the positive class);
    ``scores`` ``(N,)`` any real numbers, higher meaning "more positive" (logits,
    probabilities). Returns float64 arrays ``fpr``, ``tpr``, ``thresholds`` of
    equal length (number of distinct scores + 1), ``thresholds`` decreasing.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores.ravel()
    if scores.ndim != 1:
        raise ValueError(
            f"scores must be 1-D, one score per example, got shape {scores.shape}. For "
            "class k of multi-class scores use scores[:, k] with y_true == k."
        )
    is_positive = _binary_targets(y_true, positive)
    _same_shape(is_positive, scores, ("y_true", "scores"))
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores contain NaN or infinite values: the ranking is undefined.")

    order = np.argsort(-scores, kind="stable")  # highest score first
    sorted_scores, hits = scores[order], is_positive[order]
    # last position of each run of equal scores: thresholds take all ties at once
    last_of_tie = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(scores) - 1]
    tp = np.cumsum(hits)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    tpr = np.r_[0.0, tp / tp[-1]]
    fpr = np.r_[0.0, fp / fp[-1]]
    thresholds = np.r_[np.inf, sorted_scores[last_of_tie]]
    return fpr, tpr, thresholds


def auc(x: Any, y: Any) -> float:
    """Area under the curve through the points ``(x[i], y[i])``, by the trapezoid rule::

        area = sum_i (x[i+1] - x[i]) * (y[i] + y[i+1]) / 2

    ``x`` must be monotonic (increasing or decreasing; the area is returned as a
    positive number for both) and hold at least two points.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or x.shape != y.shape or len(x) < 2:
        raise ValueError(
            f"auc needs two 1-D arrays of equal length >= 2, got shapes {x.shape} and {y.shape}."
        )
    dx = np.diff(x)
    if np.all(dx >= 0):
        direction = 1.0
    elif np.all(dx <= 0):
        direction = -1.0
    else:
        raise ValueError(
            "x must be monotonic (sorted increasing or decreasing) for the area to be "
            "defined: sort the points by x first."
        )
    return float(direction * np.sum(dx * (y[:-1] + y[1:]) / 2))


def roc_auc_score(y_true: Any, scores: Any, positive: int = 1) -> float:
    """Area under the ROC curve, in ``[0, 1]``.

    It equals the probability that a randomly chosen positive example scores
    higher than a randomly chosen negative one (ties count one half). 1.0 is a
    perfect ranking, 0.5 is chance (for example a constant score), 0.0 is a
    perfectly reversed ranking.
    """
    fpr, tpr, _ = roc_curve(y_true, scores, positive)
    return auc(fpr, tpr)


# --------------------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------------------


def _regression_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    _same_shape(y_true, y_pred, ("y_true", "y_pred"))
    if y_true.ndim == 0 or y_true.size == 0:
        raise ValueError(
            f"y_true and y_pred must be arrays of shape (N,) or (N, K) with N >= 1, got shape "
            f"{y_true.shape}."
        )
    if not (np.all(np.isfinite(y_true)) and np.all(np.isfinite(y_pred))):
        raise ValueError(
            "y_true or y_pred contains NaN or infinite values: the error is undefined. "
            "A diverged model predicts NaN; check the training loss first."
        )
    return y_true, y_pred


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error: ``mean((y_pred - y_true)^2)`` over all elements."""
    y_true, y_pred = _regression_pair(y_true, y_pred)
    return float(np.mean((y_pred - y_true) ** 2))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error: ``mean(|y_pred - y_true|)`` over all elements (target units)."""
    y_true, y_pred = _regression_pair(y_true, y_pred)
    return float(np.mean(np.abs(y_pred - y_true)))


def r2_score(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination: the fraction of the target's variance explained::

        R^2 = 1 - sum (y_true - y_pred)^2 / sum (y_true - mean(y_true))^2

    1.0 is perfect, 0.0 is no better than always predicting the mean, and it is
    negative for worse predictions. ``y`` of shape ``(N,)`` or ``(N, K)``; for
    ``K`` outputs the ``R^2`` of each column is computed and their mean returned.

    A constant target (all values equal) has zero variance, so the ratio is
    ``x / 0``. Then ``R^2 = 1.0`` if the predictions are exact and ``0.0`` otherwise.
    """
    y_true, y_pred = _regression_pair(y_true, y_pred)
    y_true, y_pred = y_true.reshape(len(y_true), -1), y_pred.reshape(len(y_pred), -1)
    residual = np.sum((y_true - y_pred) ** 2, axis=0)
    total = np.sum((y_true - y_true.mean(axis=0)) ** 2, axis=0)
    constant = np.ptp(y_true, axis=0) == 0  # exactly, not "total is tiny"
    explained = 1 - residual / np.where(constant, 1.0, total)
    r2 = np.where(constant, np.where(residual == 0, 1.0, 0.0), explained)
    return float(np.mean(r2))
