"""Exercises of notebook 06 (case studies): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on a few cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a graded hint about what is
wrong (see :mod:`nnlib.exercises._checks`: the first hint points at the
mistake; the same mistake again, or ``hint=2``, narrows it down). It never
raises, so a notebook with unfinished exercises still runs top to bottom. The
``solution_*`` functions are worked answers; print one with
``show_solution("cost_threshold")``.

1. :func:`check_cost_threshold`: the threshold that minimises the expected cost
   when a miss costs more than a false alarm.
2. :func:`check_threshold_for_recall`: the largest threshold that still catches
   a required fraction of the positives.
3. :func:`check_impute_training_median`: fill missing values with a statistic
   of the training rows only.
4. :func:`check_to_dollars`: undo the target scaling of a regression network.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import (
    CORRECT,
    Hint,
    as_array,
    as_number,
    call_learner,
    close,
    first_hint,
    print_solution,
    report,
    type_hint,
)

# --- worked solutions --------------------------------------------------------------------


def solution_cost_threshold(cost_fn: float, cost_fp: float) -> float:
    """The threshold on ``p = P(positive | x)`` that minimises the expected cost.

    Saying "negative" costs ``cost_fn`` if the example is positive (probability
    ``p``); saying "positive" costs ``cost_fp`` if it is negative (probability
    ``1 - p``). Predict positive when that is cheaper on average::

        (1 - p) cost_fp < p cost_fn   <=>   p > cost_fp / (cost_fp + cost_fn)

    Equal costs give 0.5; a miss ten times as costly as a false alarm gives 1/11.
    """
    return cost_fp / (cost_fp + cost_fn)


def solution_threshold_for_recall(
    y_true: np.ndarray, probabilities: np.ndarray, target: float
) -> float:
    """The largest ``t`` such that predicting positive where ``p >= t`` has recall >= target.

    Recall only changes when ``t`` passes the probability of a positive example.
    To catch ``k = ceil(target * P)`` of the ``P`` positives, ``t`` must not exceed
    the ``k``-th largest probability among the positives, and that value itself
    works (``>=``). Any larger ``t`` catches fewer than ``k``.
    """
    positives = np.sort(probabilities[y_true == 1])[::-1]  # highest first
    k = math.ceil(target * len(positives) - 1e-9)  # tolerance: 0.98 * 50 is 49.000000000000004
    return float(positives[max(k, 1) - 1])


def solution_impute_training_median(
    X_train: np.ndarray, X_other: np.ndarray, column: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fill the NaN of one column with the median of that column's *training* values.

    The median is a statistic learned from data, so it is computed on the
    training rows only (ignoring their NaN) and then applied, unchanged, to
    the other rows, exactly as it would be to new data later. Copies are
    returned; the inputs stay as they were.
    """
    median = np.nanmedian(X_train[:, column])
    filled = []
    for X in (X_train, X_other):
        X = X.copy()
        X[np.isnan(X[:, column]), column] = median
        filled.append(X)
    return filled[0], filled[1]


def solution_to_dollars(z: np.ndarray, mean: float, std: float) -> np.ndarray:
    """Undo the target's standardisation ``z = (y - mean) / std``: ``y = z * std + mean``."""
    return z * std + mean


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "cost_threshold": solution_cost_threshold,
    "threshold_for_recall": solution_threshold_for_recall,
    "impute_training_median": solution_impute_training_median,
    "to_dollars": solution_to_dollars,
}


def show_solution(name: str) -> None:
    """Print the worked solution ``name``: one of :data:`SOLUTIONS`, e.g. ``"cost_threshold"``."""
    print_solution(SOLUTIONS, name)


# --- helpers for the checks ----------------------------------------------------------------


def _recall_at(y_true: np.ndarray, probabilities: np.ndarray, threshold: float) -> float:
    """Recall of "positive where p >= threshold"."""
    return float(np.mean(probabilities[y_true == 1] >= threshold))


def _false_alarms(y_true: np.ndarray, probabilities: np.ndarray, threshold: float) -> int:
    """Negatives flagged by "positive where p >= threshold"."""
    return int(np.sum((y_true == 0) & (probabilities >= threshold)))


def _one_number(result: Any, what: str) -> tuple[float | None, Hint | None]:
    got = as_number(result)
    if got is None:
        return None, type_hint(result, f"one number ({what})")
    if not math.isfinite(got):
        return None, Hint("not finite", f"{what} is a finite number, got {got}.")
    return got, None


# --- exercise 1: the threshold of least expected cost ------------------------------------


def diagnose_cost_threshold(cost_threshold: Callable[[float, float], Any]) -> Hint | None:
    """``None`` if ``cost_threshold(cost_fn, cost_fp)`` is ``cost_fp / (cost_fp + cost_fn)``."""
    for cost_fn, cost_fp in ((1.0, 1.0), (10.0, 1.0), (3.0, 2.0), (1.0, 4.0)):
        result, problem = call_learner(
            cost_threshold,
            cost_fn,
            cost_fp,
            if_none=Hint(
                "None",
                "cost_threshold returned None. Write the expected cost of each decision for a "
                "probability p, and find the p where the two are equal.",
            ),
        )
        if problem:
            return problem
        got, problem = _one_number(result, "the threshold")
        if problem:
            return problem
        expected = solution_cost_threshold(cost_fn, cost_fp)
        if close(got, expected):
            continue
        case = f"for cost_fn = {cost_fn:g}, cost_fp = {cost_fp:g} "
        if close(got, cost_fn / (cost_fn + cost_fp)):
            return Hint(
                "swapped",
                "the costs are swapped.",
                "A costly miss should make us flag *more* tumours, so the threshold must go "
                "down when cost_fn goes up.",
            )
        if close(got, cost_fp / cost_fn):
            return Hint(
                "odds",
                "that is the odds p / (1 - p) at the break-even point, not p itself.",
                "Solve p · cost_fn = (1 - p) · cost_fp for p.",
            )
        if close(got, 0.5):
            return Hint(
                "0.5",
                f"{case}you returned 0.5, the threshold for equal costs.",
                "Unequal costs move it: compare (1 - p) · cost_fp with p · cost_fn.",
            )
        return Hint(
            "other",
            f"{case}{got:.4g} is not the threshold of least expected cost.",
            "Saying 'negative' costs cost_fn with probability p; saying 'positive' costs cost_fp "
            "with probability 1 - p. Find the p where the two expected costs are equal.",
        )
    return None


def check_cost_threshold(
    cost_threshold: Callable[[float, float], Any], hint: int | None = None
) -> None:
    """Check ``cost_threshold(cost_fn, cost_fp) -> t`` for several pairs of costs."""
    report(
        "cost_threshold",
        diagnose_cost_threshold(cost_threshold),
        "A miss 10 times as costly as a false alarm moves the threshold to 1/11.",
        grade=hint,
    )


# --- exercise 2: the largest threshold that reaches a recall --------------------------------


def _recall_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Small, hand-checkable cases first, then random ones with ties and many positives.

    The first two tell the typical wrong answers apart: counting one positive
    too many (the next positive down) and interpolating with ``np.quantile``
    each raise an extra false alarm; rounding ``target · P`` down, or ranking
    all examples instead of the positives, misses the recall (0.7 · 4 = 2.8).
    """
    y = np.array([0, 1, 1, 0, 1, 1, 0])
    p = np.array([0.3, 0.9, 0.4, 0.6, 0.7, 0.2, 0.37])
    cases = [
        (y, p, 0.75),
        (y, p, 0.7),
        (np.array([1, 0, 1, 0]), np.array([0.3, 0.8, 0.6, 0.1]), 1.0),
    ]
    rng = np.random.default_rng(6)
    for n, target in ((200, 0.98), (57, 0.9)):
        y = (rng.random(n) < 0.4).astype(np.int64)
        y[:2] = [0, 1]  # both classes present
        p = np.clip(0.35 * y + 0.65 * rng.random(n), 0.0, 1.0).round(2)  # rounding makes ties
        cases.append((y, p, target))
    return cases


def diagnose_threshold_for_recall(threshold_for_recall: Callable[..., Any]) -> Hint | None:
    """``None`` if ``threshold_for_recall(y_true, probabilities, target)`` is the largest
    threshold that reaches the recall (positive where ``p >= t``), else a hint."""
    for y, p, target in _recall_cases():
        result, problem = call_learner(
            threshold_for_recall,
            y.copy(),
            p.copy(),
            target,
            if_none=Hint(
                "None",
                "threshold_for_recall returned None. Recall changes only when the threshold "
                "passes the probability of a positive example: start from those.",
            ),
        )
        if problem:
            return problem
        got, problem = _one_number(result, "the threshold")
        if problem:
            return problem
        best = solution_threshold_for_recall(y, p, target)
        if close(got, best):
            continue
        n_pos = int(y.sum())
        reached = _recall_at(y, p, got)
        where = f"with {n_pos} positives and target recall {target:g}, "
        if reached < target - 1e-12:
            return Hint(
                "too high",
                f"{where}t = {got:.4g} catches only {round(reached * n_pos)} of them (recall "
                f"{reached:.3f}): the threshold is too high.",
                "Count how many positives the target needs, rounding up (a fraction of an "
                "example cannot be caught), and remember that p >= t counts as positive.",
            )
        extra = _false_alarms(y, p, got) - _false_alarms(y, p, best)
        alarms = (
            f" and raises {extra} more false alarm{'s' if extra != 1 else ''} than necessary"
            if extra > 0
            else ""
        )
        return Hint(
            "not the largest",
            f"{where}t = {got:.4g} reaches the recall{alarms}, but it is not the largest "
            "threshold that does.",
            "The largest one is the probability of one of the positive examples: sort the "
            "positives' probabilities from high to low and find the last one that must still "
            "be caught.",
        )
    return None


def check_threshold_for_recall(
    threshold_for_recall: Callable[..., Any], hint: int | None = None
) -> None:
    """Check ``threshold_for_recall(y_true, probabilities, target) -> t``.

    ``t`` must reach the recall (positive where ``p >= t``) and be the largest
    threshold that does, so that no false alarm is raised without need.
    """
    report("threshold_for_recall", diagnose_threshold_for_recall(threshold_for_recall), grade=hint)


# --- exercise 3: impute with the training median ---------------------------------------


def _impute_case() -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(3)
    X_train = rng.lognormal(mean=6.0, sigma=0.6, size=(40, 3)).round(0)
    X_other = rng.lognormal(mean=7.0, sigma=0.6, size=(15, 3)).round(0)  # different rows
    X_train[[3, 17, 31], 1] = np.nan
    X_other[[2, 9], 1] = np.nan
    return X_train, X_other, 1


def diagnose_impute_training_median(impute_training_median: Callable[..., Any]) -> Hint | None:
    """``None`` if the NaN of the column are filled with the training median, on copies."""
    X_train, X_other, column = _impute_case()
    originals = (X_train.copy(), X_other.copy())
    result, problem = call_learner(
        impute_training_median,
        X_train,
        X_other,
        column,
        if_none=Hint(
            "None",
            "impute_training_median returned None. Compute the median of the column's training "
            "values (ignoring the NaN), then fill the NaN of both arrays with it.",
        ),
    )
    if problem:
        return problem
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        return Hint("not a pair", "return two arrays: (filled X_train, filled X_other).")
    got = [as_array(part) for part in result]
    for part, g in zip(result, got, strict=True):
        if g is None:
            return type_hint(part, "two NumPy arrays")
    if any(g.shape != o.shape for g, o in zip(got, originals, strict=True)):
        return Hint(
            "shape",
            f"the arrays must keep their shapes {X_train.shape} and {X_other.shape}.",
        )
    changed_inputs = not all(
        np.array_equal(a, b, equal_nan=True)
        for a, b in zip((X_train, X_other), originals, strict=True)
    )
    if any(np.isnan(g).any() for g in got):
        return Hint(
            "NaN left",
            "NaN values remain.",
            "Fill every missing value of the column, in both arrays.",
        )
    expected = solution_impute_training_median(*originals, column)
    if all(np.allclose(g, e) for g, e in zip(got, expected, strict=True)):
        if changed_inputs:
            return Hint(
                "in place",
                "the values are right, but your function changed the arrays passed in.",
                "Work on copies (X.copy()), so that the raw data stay available.",
            )
        return None
    filled_with = got[1][np.isnan(originals[1][:, column]), column]
    all_rows = np.concatenate([originals[0][:, column], originals[1][:, column]])
    candidates = {
        "the median of all rows (training and other together)": np.nanmedian(all_rows),
        "the median of the other rows": np.nanmedian(originals[1][:, column]),
        "the mean of the training rows": np.nanmean(originals[0][:, column]),
    }
    for name, value in candidates.items():
        if np.allclose(filled_with, value):
            return Hint(
                "leak",
                f"you filled with {name}.",
                "Only the training rows may teach us anything: use the median of the training "
                "column, ignoring its NaN.",
            )
    other_columns = [j for j in range(X_train.shape[1]) if j != column]
    if not all(
        np.allclose(g[:, other_columns], o[:, other_columns])
        for g, o in zip(got, originals, strict=True)
    ):
        return Hint(
            "other columns",
            f"only column {column} has missing values; leave the other columns as they are.",
        )
    return Hint(
        "other",
        "the missing values are not filled with the median of the training column.",
        "np.nanmedian ignores the NaN; fill the other rows with the same training median.",
    )


def check_impute_training_median(
    impute_training_median: Callable[..., Any], hint: int | None = None
) -> None:
    """Check ``impute_training_median(X_train, X_other, column) -> (X_train, X_other)``."""
    report(
        "impute_training_median",
        diagnose_impute_training_median(impute_training_median),
        "The other rows were filled with a number learned from training rows.",
        grade=hint,
    )


# --- exercise 4: back to dollars ----------------------------------------------------------


def diagnose_to_dollars(to_dollars: Callable[..., Any]) -> Hint | None:
    """``None`` if ``to_dollars(z, mean, std)`` is ``z * std + mean``, else a hint."""
    z = np.array([-1.5, 0.0, 0.4, 2.0])
    mean, std = 206_000.0, 115_000.0
    result, problem = call_learner(
        to_dollars,
        z.copy(),
        mean,
        std,
        if_none=Hint(
            "None",
            "to_dollars returned None. The scaler computed z = (y - mean) / std; solve that for y.",
        ),
    )
    if problem:
        return problem
    got = as_array(result)
    if got is None:
        return type_hint(result, f"a NumPy array of shape {z.shape}, one value per prediction")
    if got.shape != z.shape:
        return Hint("shape", f"return one value per prediction, an array of shape {z.shape}.")
    expected = solution_to_dollars(z, mean, std)
    if np.allclose(got, expected):
        return None
    order = "the order of the two operations is not right."
    wrong = [
        (
            z * std,
            Hint(
                "no mean",
                "the mean is missing.",
                "z * std is the distance from the mean price.",
            ),
        ),
        (
            z + mean,
            Hint("no std", "the standard deviation is missing.", "z counts standard deviations."),
        ),
        (
            (z - mean) / std,
            Hint(
                "scaled again",
                "that standardises once more; undo the scaling instead.",
                "Solve z = (y - mean) / std for y.",
            ),
        ),
        ((z + mean) * std, Hint("order", order, "Multiply first, then add.")),
        (
            z * std**2 + mean,
            Hint(
                "variance",
                "the scale is squared.",
                "std is the standard deviation, not the variance: use it once.",
            ),
        ),
        (
            z / std + mean,
            Hint("divide", "std is used the wrong way round.", "The scaler divided by it."),
        ),
    ]
    return first_hint(got, wrong, same=np.allclose) or Hint(
        "other",
        f"for z = {z.tolist()}, mean = {mean:g}, std = {std:g} your dollars "
        f"{np.round(got).tolist()} are not right.",
        "The scaler computed z = (y - mean) / std: solve that for y.",
    )


def check_to_dollars(to_dollars: Callable[..., Any], hint: int | None = None) -> None:
    """Check ``to_dollars(z, mean, std) -> dollars`` on standardised predictions."""
    expected = solution_to_dollars(np.array([0.4]), 206_000.0, 115_000.0)[0]
    report(
        "to_dollars",
        diagnose_to_dollars(to_dollars),
        f"A standardised prediction of 0.4 is ${expected:,.0f}: 0.4 standard deviations above "
        "the mean price.",
        grade=hint,
    )


__all__ = [
    "CORRECT",
    "SOLUTIONS",
    "check_cost_threshold",
    "check_impute_training_median",
    "check_threshold_for_recall",
    "check_to_dollars",
    "diagnose_cost_threshold",
    "diagnose_impute_training_median",
    "diagnose_threshold_for_recall",
    "diagnose_to_dollars",
    "show_solution",
    "solution_cost_threshold",
    "solution_impute_training_median",
    "solution_threshold_for_recall",
    "solution_to_dollars",
]
