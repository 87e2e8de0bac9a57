"""A binary classifier's probabilities and the metrics of one decision threshold.

The computation behind :class:`nnlib.widgets.case_studies.ThresholdWidget`
(notebook 06): :func:`fit_classifier` and :func:`breast_cancer_probabilities`
give each example a probability ``p = P(positive | x)``;
:func:`threshold_metrics` counts, for a threshold ``t``, the four cells of the
confusion matrix of "predict positive when ``p >= t``" and the scores they
give (:class:`ThresholdResult`); :func:`describe_threshold` says it in one line.
NumPy only: no widget, no figure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .. import metrics
from ..activations import sigmoid_forward
from ..data import (
    Standardizer,
    check_labels,
    kfold_indices,
    load_breast_cancer,
    train_val_test_split,
)
from ..layers import Params
from ..model import Sequential, mlp
from ..train import fit

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
