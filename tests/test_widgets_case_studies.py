"""Notebook 06: the threshold and housing widgets, their helpers and the exercise checks."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

from nnlib import metrics
from nnlib.data import load_california_housing
from nnlib.model import mlp
from nnlib.widgets import case_studies as cs

# --- shared data --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scores() -> tuple[np.ndarray, np.ndarray]:
    """Overlapping probabilities of 60 positives and 90 negatives."""
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(60, dtype=np.int64), np.zeros(90, dtype=np.int64)]
    p = np.clip(0.3 * y + 0.7 * rng.random(150), 0.0, 1.0)
    order = rng.permutation(150)
    return y[order], p[order]


@pytest.fixture(scope="module")
def housing() -> cs.HousingData:
    return cs.prepare_housing(n_train=400, seed=1)


def cm_texts(w: cs.ThresholdWidget) -> list[str]:
    return [t.get_text() for t in w.ax_cm.texts]


# --- probabilities and the metrics of one threshold --------------------------------------


def test_predict_proba_is_the_sigmoid_of_the_logit_and_never_overflows() -> None:
    model = mlp([2, 1], dtype="float64")
    params = [{"W": np.array([[1.0], [-2.0]]), "b": np.array([0.5])}]
    X = np.array([[0.0, 0.0], [3.0, 1.0], [-4.0, 2.0], [1e4, 0.0], [-1e4, 0.0]])
    logits = X @ np.array([1.0, -2.0]) + 0.5
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = cs.predict_proba(model, params, X)
    assert p.shape == (5,) and p.dtype == np.float64
    np.testing.assert_allclose(p[:3], 1 / (1 + np.exp(-logits[:3])), rtol=1e-12)
    np.testing.assert_array_equal(p[3:], [1.0, 0.0])


def test_threshold_metrics_counts_the_four_outcomes(scores) -> None:
    y, p = scores
    for t in (0.0, 0.2, 0.5, 0.77, 1.0):
        r = cs.threshold_metrics(y, p, t)
        flagged = p >= t
        assert r.tp == np.sum(flagged & (y == 1))
        assert r.fp == np.sum(flagged & (y == 0))
        assert r.fn == np.sum(~flagged & (y == 1))
        assert r.tn == np.sum(~flagged & (y == 0))
        assert r.tp + r.fp + r.fn + r.tn == len(y)
        np.testing.assert_array_equal(r.y_pred, flagged.astype(np.int64))
        assert r.recall == pytest.approx(r.tp / (r.tp + r.fn))
        assert r.false_positive_rate == pytest.approx(r.fp / (r.fp + r.tn))
        assert r.f1 == pytest.approx(2 * r.tp / (2 * r.tp + r.fp + r.fn))
        assert r.accuracy == pytest.approx((r.tp + r.tn) / len(y))
        if r.tp + r.fp:
            assert r.precision == pytest.approx(r.tp / (r.tp + r.fp))


def test_operating_points_lie_on_the_roc_curve(scores) -> None:
    y, p = scores
    fpr, tpr, thresholds = metrics.roc_curve(y, p)
    for i in range(1, len(thresholds), 7):
        r = cs.threshold_metrics(y, p, float(thresholds[i]))
        assert r.false_positive_rate == pytest.approx(fpr[i])
        assert r.recall == pytest.approx(tpr[i])


def test_extreme_thresholds_flag_everything_or_nothing(scores) -> None:
    y, p = scores
    everything = cs.threshold_metrics(y, p, 0.0)
    assert everything.recall == 1.0 and everything.false_positive_rate == 1.0
    assert everything.precision == pytest.approx(y.mean())
    nothing = cs.threshold_metrics(y, p, 1.0)  # no probability reaches 1 here
    assert nothing.tp + nothing.fp == 0
    assert nothing.precision == 0.0 and nothing.recall == 0.0
    assert "nothing predicted" in cs.describe_threshold(nothing, ("no", "yes"))


@pytest.mark.parametrize(
    ("y", "p", "match"),
    [
        ([0, 1, 1], [0.1, 0.5], "shape"),
        ([0, 1], [0.2, 1.5], r"\[0, 1\]"),
        ([0, 1], [0.2, np.nan], "finite"),
        ([1, 1], [0.2, 0.4], "only class 1"),
        ([0, 2], [0.2, 0.4], "label 2"),
    ],
)
def test_bad_scores_raise_helpful_errors(y, p, match) -> None:
    with pytest.raises(ValueError, match=match):
        cs.check_binary_scores(np.array(y), np.array(p))


def test_threshold_outside_zero_one_is_refused(scores) -> None:
    with pytest.raises(ValueError, match="threshold"):
        cs.threshold_metrics(*scores, 1.5)


# --- the threshold widget ------------------------------------------------------------------


def test_threshold_widget_starts_at_its_threshold(scores) -> None:
    w = cs.ThresholdWidget(*scores, threshold=0.5)
    assert w.error is None
    expected = cs.threshold_metrics(*scores, 0.5)
    np.testing.assert_array_equal(w.result.confusion, expected.confusion)
    assert w.status.value == cs.describe_threshold(expected, cs.DIAGNOSIS_CLASSES)
    assert [int(t) for t in cm_texts(w)] == expected.confusion.ravel().tolist()
    np.testing.assert_allclose(w.roc_point.get_xydata(), [[expected.false_positive_rate,
                                                          expected.recall]])  # fmt: skip
    assert w.controls["threshold"].description == "threshold"
    assert w.auc == pytest.approx(metrics.roc_auc_score(*scores))


def test_moving_the_threshold_updates_every_panel(scores) -> None:
    w = cs.ThresholdWidget(*scores, threshold=0.5)
    before_point, before_texts = w.roc_point.get_xydata().copy(), cm_texts(w)
    before_status = w.status.value
    w.controls["threshold"].value = 0.2
    assert w.error is None
    assert w.result.threshold == pytest.approx(0.2)
    assert w.threshold_line.get_xdata()[0] == pytest.approx(0.2)
    assert not np.allclose(w.roc_point.get_xydata(), before_point)
    assert cm_texts(w) != before_texts
    assert w.status.value != before_status
    assert w.result.recall >= cs.threshold_metrics(*scores, 0.5).recall
    assert w.last_update_seconds < 1.0  # recounting only: no retraining


@pytest.mark.parametrize("t", [0.0, 1.0])
def test_extreme_thresholds_do_not_break_the_widget(scores, t) -> None:
    w = cs.ThresholdWidget(*scores)
    w.controls["threshold"].value = t
    assert w.error is None
    assert w.result.threshold == t
    if t == 0.0:
        np.testing.assert_allclose(w.roc_point.get_xydata(), [[1.0, 1.0]])
    else:
        assert "nothing predicted" in w.status.value


def test_threshold_widget_checks_its_arguments(scores) -> None:
    y, p = scores
    with pytest.raises(ValueError, match="both"):
        cs.ThresholdWidget(y, None)
    with pytest.raises(ValueError, match="class_names"):
        cs.ThresholdWidget(y, p, class_names=("a", "b", "c"))
    with pytest.raises(ValueError, match="threshold"):
        cs.ThresholdWidget(y, p, threshold=2.0)


def test_creating_a_widget_keeps_pyplots_backend(scores) -> None:
    backend = matplotlib.get_backend()
    cs.ThresholdWidget(*scores)
    assert matplotlib.get_backend() == backend


# --- the breast-cancer pipeline ----------------------------------------------------------


def test_fit_classifier_learns_a_separable_problem_reproducibly() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 3)) * [1.0, 50.0, 0.01] + [0.0, 300.0, 0.0]  # unscaled columns
    y = (X[:, 0] + (X[:, 1] - 300) / 50 > 0).astype(np.int64)
    predict = cs.fit_classifier(X[:150], y[:150], epochs=200, seed=3)
    p = predict(X[150:])
    assert p.shape == (50,) and p.dtype == np.float64
    assert np.all((p >= 0) & (p <= 1))
    assert np.mean((p >= 0.5) == y[150:]) >= 0.9
    np.testing.assert_array_equal(
        p, cs.fit_classifier(X[:150], y[:150], epochs=200, seed=3)(X[150:])
    )


def test_default_widget_uses_out_of_fold_breast_cancer_probabilities() -> None:
    y, p = cs.breast_cancer_probabilities()
    assert y.shape == p.shape == (456,)
    assert int(y.sum()) == 170  # malignant tumours among the 456 development rows
    assert metrics.roc_auc_score(y, p) > 0.95
    w = cs.ThresholdWidget()
    np.testing.assert_array_equal(w.y_true, y)
    np.testing.assert_allclose(w.probabilities, p)


# --- house prices --------------------------------------------------------------------------


def test_prepare_housing_uses_training_rows_only(housing: cs.HousingData) -> None:
    raw = load_california_housing(impute=None)
    column = raw.feature_names.index("total_bedrooms")
    # recover the raw training rows from the standardised ones
    X_train_raw = housing.x_scaler.inverse_transform(housing.X_train)
    assert len(X_train_raw) == 400
    assert housing.X_train.dtype == housing.z_train.dtype == housing.z_val.dtype == np.float64
    assert not np.isnan(X_train_raw).any()
    assert not any(np.isnan(a).any() for a in (housing.X_val, housing.X_test))
    np.testing.assert_allclose(housing.x_scaler.mean, X_train_raw.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(housing.y_scaler.mean, [housing.y_train.mean()])
    assert np.nanmedian(raw.X[:, column]) != housing.bedrooms_median  # not the all-rows median
    np.testing.assert_allclose(housing.z_train.mean(), 0.0, atol=1e-5)
    assert len(housing.y_val) == len(housing.y_test) == round(0.15 * len(raw.y))


def test_to_dollars_inverts_the_target_scaling(housing: cs.HousingData) -> None:
    np.testing.assert_allclose(housing.to_dollars(housing.z_train), housing.y_train, rtol=1e-5)
    assert housing.to_dollars(np.zeros(1))[0] == pytest.approx(housing.y_train.mean())


def test_linear_least_squares_recovers_known_weights() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 3))
    z = X @ np.array([2.0, -1.0, 0.5]) + 3.0
    np.testing.assert_allclose(cs.linear_least_squares(X, z[:, None]), [2.0, -1.0, 0.5, 3.0])


def test_train_housing_records_one_mae_per_epoch(housing: cs.HousingData) -> None:
    result = cs.train_housing(housing, width=8, learning_rate=1e-2, epochs=8)
    assert not result.history.diverged
    assert len(result.val_mae) == 8
    assert result.final_mae == result.val_mae[-1]
    mean_mae = metrics.mae(housing.y_val, np.full_like(housing.y_val, housing.y_train.mean()))
    assert result.final_mae < mean_mae  # it learned something


def test_housing_widget_retrains_on_every_control(housing: cs.HousingData) -> None:
    w = cs.HousingWidget(data=housing, epochs=3)
    assert w.error is None
    assert w.linear_mae < w.mean_mae
    before = np.asarray(w.mae_line.get_ydata(), dtype=float).copy()
    w.controls["learning_rate"].value = 0.03
    assert w.error is None
    after_lr = np.asarray(w.mae_line.get_ydata(), dtype=float).copy()
    assert not np.allclose(after_lr, before)
    w.controls["width"].value = 64
    assert w.error is None
    assert not np.allclose(np.asarray(w.mae_line.get_ydata(), dtype=float), after_lr)
    assert "width 64" in w.status.value
    assert "learning rate" in w.controls["learning_rate"].description


@pytest.mark.parametrize(("width", "lr"), [(1, 1e-4), (64, 10.0), (1, 10.0)])
def test_housing_widget_survives_extreme_settings(housing: cs.HousingData, width, lr) -> None:
    w = cs.HousingWidget(data=housing, epochs=2)
    w.controls["learning_rate"].value = lr
    w.controls["width"].value = width
    assert w.error is None
    result = w.result
    if result.history.diverged:
        assert "diverged at step" in w.status.value
    else:
        assert "validation MAE" in w.status.value
        assert math.isfinite(result.final_mae) or result.final_mae == math.inf


def test_train_housing_refuses_bad_settings(housing: cs.HousingData) -> None:
    with pytest.raises(ValueError, match="width"):
        cs.train_housing(housing, width=0, learning_rate=0.01)
    with pytest.raises(ValueError, match="learning_rate"):
        cs.train_housing(housing, width=4, learning_rate=-1.0)
    with pytest.raises(ValueError, match="width must be one of"):
        cs.HousingWidget(data=housing, width=3)
