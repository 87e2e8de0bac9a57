"""Exercise checks of notebook 06: solutions pass, typical mistakes get graded hints."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from nnlib.exercises import case_studies as ex


def test_cost_threshold(say) -> None:
    check = ex.check_cost_threshold
    assert say(check, ex.solution_cost_threshold).startswith("Correct!")
    assert "swapped" in say(check, lambda c_fn, c_fp: c_fn / (c_fn + c_fp))
    assert "must go down" in say(check, lambda c_fn, c_fp: c_fn / (c_fn + c_fp))
    assert "odds" in say(check, lambda c_fn, c_fp: c_fp / c_fn)
    assert "equal costs" in say(check, lambda c_fn, c_fp: 0.5)
    other = say(check, lambda c_fn, c_fp: 0.3)
    assert "not the threshold of least expected cost" in other
    assert "0.0909" not in other and "1/11" not in other  # the hint does not give the answer
    assert say(check, lambda c_fn, c_fp: None).startswith("Not yet")
    assert "ZeroDivisionError" in say(check, lambda c_fn, c_fp: 1 / 0)
    assert "remove the quotes" in say(check, lambda c_fn, c_fp: "0.5")


def test_solution_threshold_for_recall_is_the_largest_that_works() -> None:
    for y, p, target in ex._recall_cases():
        t = ex.solution_threshold_for_recall(y, p, target)
        assert np.mean(p[y == 1] >= t) >= target
        larger = p[p > t]
        if larger.size:
            assert np.mean(p[y == 1] >= larger.min()) < target


def _one_too_far(y, p, target):
    """Counting one positive too many: the next positive probability down."""
    positives = np.sort(p[y == 1])[::-1]
    return float(positives[math.ceil(target * len(positives) - 1e-9)])


def _quantile(y, p, target):
    """Interpolating between positives."""
    return float(np.quantile(p[y == 1], 1 - target))


def _rounded_down(y, p, target):
    positives = np.sort(p[y == 1])[::-1]
    return float(positives[max(int(target * len(positives)), 1) - 1])


def _all_examples(y, p, target):
    """Ranking every example instead of the positives."""
    ranked = np.sort(p)[::-1]
    return float(ranked[math.ceil(target * int(y.sum())) - 1])


@pytest.mark.parametrize("wrong", [_one_too_far, _quantile])
def test_threshold_for_recall_names_the_extra_false_alarms(say, wrong) -> None:
    out = say(ex.check_threshold_for_recall, wrong)
    assert out.startswith("Not yet: with 4 positives and target recall 0.75")
    assert "more false alarm" in out and "not the largest" in out
    assert re.search(r"raises (\d+) more false alarms? than necessary", out).group(1) != "0"


@pytest.mark.parametrize("wrong", [_rounded_down, _all_examples])
def test_threshold_for_recall_rejects_thresholds_that_miss_the_recall(say, wrong) -> None:
    out = say(ex.check_threshold_for_recall, wrong)
    assert "too high" in out
    assert "rounding up" in say(ex.check_threshold_for_recall, wrong)  # grade 2


def test_the_first_cases_tell_the_wrong_answers_apart() -> None:
    """Each typical wrong answer already fails on the small, hand-checkable cases."""
    first_two = ex._recall_cases()[:2]
    for wrong in (_one_too_far, _quantile, _rounded_down, _all_examples):
        assert any(
            not math.isclose(wrong(y, p, t), ex.solution_threshold_for_recall(y, p, t))
            for y, p, t in first_two
        ), wrong.__name__


def test_threshold_for_recall_other_answers(say) -> None:
    check = ex.check_threshold_for_recall
    assert say(check, ex.solution_threshold_for_recall).startswith("Correct!")
    low = say(check, lambda y, p, target: 0.0)
    assert "reaches the recall and raises 2 more false alarms" in low
    assert "1 instead of 1" not in low
    just_below = lambda y, p, t: ex.solution_threshold_for_recall(y, p, t) - 1e-3  # noqa: E731
    out = say(check, just_below)
    assert "not the largest" in out and "false alarm" not in out  # no extra alarm to report
    assert "too high" in say(check, lambda y, p, target: 0.99)
    assert say(check, lambda y, p, target: None).startswith("Not yet")
    assert "remove the quotes" in say(check, lambda y, p, target: "0.4")


def test_impute_training_median(say) -> None:
    check = ex.check_impute_training_median
    assert say(check, ex.solution_impute_training_median).startswith("Correct!")

    def all_rows_median(X_train, X_other, column):
        median = np.nanmedian(np.r_[X_train[:, column], X_other[:, column]])
        return tuple(np.where(np.isnan(X), median, X) for X in (X_train, X_other))

    assert "median of all rows" in say(check, all_rows_median)
    assert "Only the training rows" in say(check, all_rows_median)

    def in_place(X_train, X_other, column):
        median = np.nanmedian(X_train[:, column])
        for X in (X_train, X_other):
            X[np.isnan(X[:, column]), column] = median
        return X_train, X_other

    assert "changed the arrays" in say(check, in_place)
    assert "NaN values remain" in say(check, lambda a, b, c: (a, b))
    assert "two NumPy arrays" in say(check, lambda a, b, c: (a.tolist(), b))


def test_to_dollars(say) -> None:
    check = ex.check_to_dollars
    assert say(check, ex.solution_to_dollars).startswith("Correct!")
    assert "mean is missing" in say(check, lambda z, mean, std: z * std)
    assert "standardises once more" in say(check, lambda z, mean, std: (z - mean) / std)
    assert "Multiply first" in say(check, lambda z, mean, std: (z + mean) * std, hint=2)
    assert say(check, lambda z, mean, std: None).startswith("Not yet")
    assert "a list" in say(check, lambda z, mean, std: (z * std + mean).tolist())


def test_show_solution(capsys) -> None:
    ex.show_solution("to_dollars")
    assert "z * std + mean" in capsys.readouterr().out
    with pytest.raises(ValueError, match="Valid names"):
        ex.show_solution("nope")
