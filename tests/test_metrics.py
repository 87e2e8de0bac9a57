"""Tests for nnlib.metrics: small cases worked out by hand, degenerate cases, properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlib import metrics as m

# --------------------------------------------------------------------------------------
# Hand-computed cases
# --------------------------------------------------------------------------------------

# Binary example: TP = 2 (rows 0, 3), FP = 2 (rows 1, 5), FN = 1 (row 2), TN = 1 (row 4)
Y_TRUE = np.array([1, 0, 1, 1, 0, 0])
Y_PRED = np.array([1, 1, 0, 1, 0, 1])

# Three classes: confusion matrix [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
Y3_TRUE = np.array([0, 0, 1, 1, 2, 2])
Y3_PRED = np.array([0, 1, 1, 1, 2, 0])


@pytest.fixture(autouse=True)
def no_warnings():
    """Metrics must never warn (no 0/0 RuntimeWarning, no NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_accuracy_counts_matches():
    assert m.accuracy(Y_TRUE, Y_PRED) == pytest.approx(3 / 6)
    assert m.accuracy(Y3_TRUE, Y3_PRED) == pytest.approx(4 / 6)
    assert m.accuracy([2, 2], [2, 2]) == 1.0
    assert isinstance(m.accuracy(Y_TRUE, Y_PRED), float)


def test_confusion_matrix_rows_are_true_classes():
    M = m.confusion_matrix(Y3_TRUE, Y3_PRED)
    np.testing.assert_array_equal(M, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    assert M.dtype == np.int64
    # one example of true class 2 predicted as 0: row 2, column 0
    assert m.confusion_matrix([2], [0], n_classes=3)[2, 0] == 1


def test_confusion_matrix_n_classes_pads_missing_classes():
    M = m.confusion_matrix([0, 1], [0, 1], n_classes=4)
    assert M.shape == (4, 4)
    np.testing.assert_array_equal(np.diag(M), [1, 1, 0, 0])


def test_binary_precision_recall_f1():
    assert m.precision(Y_TRUE, Y_PRED) == pytest.approx(2 / 4)
    assert m.recall(Y_TRUE, Y_PRED) == pytest.approx(2 / 3)
    assert m.f1_score(Y_TRUE, Y_PRED) == pytest.approx(2 * 2 / (2 * 2 + 2 + 1))


def test_positive_label_can_be_zero():
    # class 0 as positive: TP = 1 (row 4), FP = 1 (row 2), FN = 2 (rows 1, 5)
    assert m.precision(Y_TRUE, Y_PRED, positive=0) == pytest.approx(1 / 2)
    assert m.recall(Y_TRUE, Y_PRED, positive=0) == pytest.approx(1 / 3)
    assert m.f1_score(Y_TRUE, Y_PRED, positive=0) == pytest.approx(2 / (2 + 1 + 2))


def test_multiclass_per_class_scores():
    np.testing.assert_allclose(m.precision(Y3_TRUE, Y3_PRED, average=None), [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(m.recall(Y3_TRUE, Y3_PRED, average=None), [1 / 2, 1, 1 / 2])
    np.testing.assert_allclose(m.f1_score(Y3_TRUE, Y3_PRED, average=None), [1 / 2, 4 / 5, 2 / 3])


def test_macro_and_micro_averages():
    assert m.precision(Y3_TRUE, Y3_PRED, average="macro") == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert m.recall(Y3_TRUE, Y3_PRED, average="macro") == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    assert m.f1_score(Y3_TRUE, Y3_PRED, average="macro") == pytest.approx(
        (1 / 2 + 4 / 5 + 2 / 3) / 3
    )
    for score in (m.precision, m.recall, m.f1_score):
        assert score(Y3_TRUE, Y3_PRED, average="micro") == pytest.approx(4 / 6)


def test_macro_ignores_classes_that_occur_nowhere():
    # labels {0, 2}: class 1 never occurs and must not pull the macro average down
    y_true, y_pred = [0, 0, 2, 2], [0, 0, 2, 2]
    assert m.precision(y_true, y_pred, average="macro") == 1.0
    per_class = m.precision(y_true, y_pred, average=None, zero_division=0.0)
    np.testing.assert_array_equal(per_class, [1.0, 0.0, 1.0])


# --------------------------------------------------------------------------------------
# Degenerate cases
# --------------------------------------------------------------------------------------


def test_no_positive_predictions_gives_zero_division_value():
    y_true, y_pred = [1, 0, 1], [0, 0, 0]
    assert m.precision(y_true, y_pred) == 0.0
    assert m.precision(y_true, y_pred, zero_division=1.0) == 1.0
    assert m.recall(y_true, y_pred) == 0.0  # TP + FN = 2: well defined
    assert m.f1_score(y_true, y_pred, zero_division=1.0) == 0.0  # mistakes were made


def test_no_positive_examples_at_all():
    y_true, y_pred = [0, 0, 0], [0, 0, 0]
    for score in (m.precision, m.recall, m.f1_score):
        assert score(y_true, y_pred) == 0.0
        assert score(y_true, y_pred, zero_division=1.0) == 1.0
    assert m.accuracy(y_true, y_pred) == 1.0


def test_all_one_class_predicted_positive():
    y_true, y_pred = [0, 1, 0, 1], [1, 1, 1, 1]
    assert m.precision(y_true, y_pred) == 0.5
    assert m.recall(y_true, y_pred) == 1.0
    assert m.f1_score(y_true, y_pred) == pytest.approx(2 * 0.5 * 1 / 1.5)


def test_scores_are_never_nan():
    values = m.precision([0, 0], [0, 0], average=None, n_classes=3)
    assert not np.isnan(values).any()


# --------------------------------------------------------------------------------------
# Report and predict_labels
# --------------------------------------------------------------------------------------


def test_classification_report_values():
    report = m.classification_report(Y3_TRUE, Y3_PRED, target_names=["a", "b", "c"])
    assert report["b"] == pytest.approx(
        {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    )
    assert report["c"]["recall"] == pytest.approx(1 / 2)
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["macro avg"]["f1"] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert report["macro avg"]["support"] == 6
    assert set(m.classification_report(Y3_TRUE, Y3_PRED)) >= {"0", "1", "2", "accuracy"}


def test_predict_labels_argmax_and_threshold():
    logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.0]])
    np.testing.assert_array_equal(m.predict_labels(logits), [1, 0])
    np.testing.assert_array_equal(m.predict_labels(np.array([[-0.3], [0.2], [0.0]])), [0, 1, 0])
    np.testing.assert_array_equal(m.predict_labels([0.3, 0.7], threshold=0.5), [0, 1])
    assert m.predict_labels(logits).dtype == np.int64


# --------------------------------------------------------------------------------------
# ROC curve and AUC
# --------------------------------------------------------------------------------------


def test_roc_curve_with_tied_scores():
    # sorted by score: 0.9 (pos), 0.5 (pos), 0.5 (neg), 0.1 (neg); the tie moves together
    fpr, tpr, thresholds = m.roc_curve([0, 1, 0, 1], [0.1, 0.5, 0.5, 0.9])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.9, 0.5, 0.1])
    # area = 0.5 * (0.5 + 1) / 2 + 0.5 * 1 = 0.875 = P(pos > neg), ties counting 1/2
    assert m.roc_auc_score([0, 1, 0, 1], [0.1, 0.5, 0.5, 0.9]) == pytest.approx(0.875)


def test_roc_auc_perfect_reversed_and_constant():
    y = np.array([0, 0, 1, 1, 0, 1])
    scores = np.array([0.1, 0.3, 0.8, 0.9, 0.2, 0.7])
    assert m.roc_auc_score(y, scores) == 1.0
    assert m.roc_auc_score(y, -scores) == 0.0
    assert m.roc_auc_score(y, np.zeros(6)) == 0.5
    fpr, tpr, _ = m.roc_curve(y, np.zeros(6))
    np.testing.assert_array_equal(fpr, [0, 1])
    np.testing.assert_array_equal(tpr, [0, 1])


def test_roc_positive_label_zero_mirrors_the_scores():
    y = np.array([0, 1, 1, 0, 1])
    scores = np.array([0.2, 0.4, 0.9, 0.6, 0.1])
    assert m.roc_auc_score(y, scores, positive=0) == pytest.approx(m.roc_auc_score(y, -scores))


def test_auc_trapezoid():
    assert m.auc([0, 1, 2], [0, 1, 0]) == pytest.approx(1.0)
    assert m.auc([0, 0.5, 1], [1, 1, 1]) == pytest.approx(1.0)
    assert m.auc([2, 1, 0], [0, 1, 1]) == pytest.approx(1.5)  # decreasing x: same area


# --------------------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------------------


def test_regression_metrics_by_hand():
    y_true, y_pred = [1.0, 2.0, 3.0], [1.0, 3.0, 5.0]  # errors 0, 1, 2
    assert m.mse(y_true, y_pred) == pytest.approx(5 / 3)
    assert m.mae(y_true, y_pred) == pytest.approx(1.0)
    # R^2 = 1 - 5 / 2 (total sum of squares around the mean 2 is 1 + 0 + 1)
    assert m.r2_score(y_true, y_pred) == pytest.approx(-1.5)
    assert m.r2_score(y_true, y_true) == 1.0
    assert m.r2_score(y_true, [2.0, 2.0, 2.0]) == pytest.approx(0.0)


def test_r2_constant_target_is_defined():
    assert m.r2_score([0.1, 0.1, 0.1], [0.1, 0.1, 0.1]) == 1.0
    assert m.r2_score([0.1, 0.1, 0.1], [0.1, 0.2, 0.1]) == 0.0


def test_r2_averages_columns():
    y_true = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 2.0]])
    y_pred = np.array([[1.0, 1.0], [3.0, 1.0], [5.0, 1.0]])  # column R^2: -1.5 and 0
    assert m.r2_score(y_true, y_pred) == pytest.approx(-0.75)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: m.accuracy([0, 1], [0, 1, 1]), "shape"),
        (lambda: m.accuracy([0, 1], np.zeros((2, 3))), "predict_labels"),
        (lambda: m.accuracy([0, 1.5], [0, 1]), "whole number"),
        (lambda: m.accuracy([0, -1], [0, 1]), "negative"),
        (lambda: m.confusion_matrix([0, 3], [0, 1], n_classes=3), "0 .. 2"),
        (lambda: m.precision([0, 1, 2], [0, 1, 2]), "average='macro'"),
        (lambda: m.precision([0, 1], [0, 1], average="mean"), "average must be"),
        (lambda: m.recall([0, 1], [0, 1], zero_division=2), "zero_division"),
        (lambda: m.classification_report([0, 1], [0, 1], target_names=["a"]), "one name"),
        (lambda: m.roc_curve([1, 1, 1], [0.1, 0.2, 0.3]), "only positives"),
        (lambda: m.roc_curve([0, 0], [0.1, 0.2]), "only negatives"),
        (lambda: m.roc_curve([0, 1, 2], [0.1, 0.2, 0.3]), "two classes"),
        (lambda: m.roc_curve([0, 1], [0.1, np.nan]), "NaN"),
        (lambda: m.roc_curve([0, 1], [0.1, 0.2, 0.3]), "shape"),
        (lambda: m.auc([0, 2, 1], [0, 1, 1]), "monotonic"),
        (lambda: m.auc([0], [1]), ">= 2"),
        (lambda: m.mse(np.zeros(3), np.zeros((3, 1))), "broadcast"),
        (lambda: m.mae([], []), "N >= 1"),
        (lambda: m.r2_score([1.0, np.inf], [1.0, 2.0]), "infinite"),
        (lambda: m.predict_labels(np.zeros((2, 2, 2))), "shape"),
    ],
)
def test_bad_input_raises_value_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

label_pairs = st.integers(1, 40).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
    )
)


@given(label_pairs)
def test_confusion_matrix_sums_to_n_and_diagonal_is_accuracy(pair):
    y_true, y_pred = pair
    M = m.confusion_matrix(y_true, y_pred)
    assert M.sum() == len(y_true)
    assert np.trace(M) == pytest.approx(m.accuracy(y_true, y_pred) * len(y_true))
    np.testing.assert_array_equal(M.sum(axis=1)[: max(y_true) + 1], np.bincount(y_true))


@given(label_pairs, st.sampled_from(["macro", "micro", None]))
def test_scores_lie_in_unit_interval(pair, average):
    for score in (m.precision, m.recall, m.f1_score):
        values = np.atleast_1d(score(*pair, average=average))
        assert np.all((values >= 0) & (values <= 1))
    assert m.f1_score(*pair, average="micro") == pytest.approx(m.accuracy(*pair))


@given(
    st.lists(st.tuples(st.booleans(), st.integers(-5, 5)), min_size=2, max_size=30).filter(
        lambda rows: 0 < sum(label for label, _ in rows) < len(rows)
    )
)
def test_roc_auc_is_probability_positive_outranks_negative(rows):
    y = np.array([int(label) for label, _ in rows])
    scores = np.array([float(s) for _, s in rows])  # small integers: many ties
    pos, neg = scores[y == 1], scores[y == 0]
    wins = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert m.roc_auc_score(y, scores) == pytest.approx(wins)
    fpr, tpr, thresholds = m.roc_curve(y, scores)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.all(np.diff(thresholds) < 0)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)
