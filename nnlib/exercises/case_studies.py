"""Exercises of notebook 06 (case studies): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on a few cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a hint about what is wrong. It
never raises, so a notebook with unfinished exercises still runs top to
bottom. The ``solution_*`` functions are worked answers; print one with
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
    as_finite_float,
    as_float_array,
    call_learner,
    first_hint,
    print_solution,
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


# --- exercise 1: the threshold of least expected cost ------------------------------------


def check_cost_threshold(cost_threshold: Callable[[float, float], Any]) -> None:
    """Check ``cost_threshold(cost_fn, cost_fp) -> t`` for several pairs of costs."""
    for cost_fn, cost_fp in ((1.0, 1.0), (10.0, 1.0), (3.0, 2.0), (1.0, 4.0)):
        result, problem = call_learner(
            cost_threshold,
            cost_fn,
            cost_fp,
            if_none=(
                "Not yet: cost_threshold returned None. Write the expected cost of each decision "
                "for a probability p, and find the p where the two are equal."
            ),
        )
        if problem:
            print(problem)
            return
        got = as_finite_float(result)
        if got is None:
            print(f"Not yet: return one number (the threshold), got {result!r}.")
            return
        expected = solution_cost_threshold(cost_fn, cost_fp)
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        case = f"for cost_fn = {cost_fn:g}, cost_fp = {cost_fp:g} "
        if math.isclose(got, cost_fn / (cost_fn + cost_fp), rel_tol=1e-9):
            hint = (
                "the costs are swapped: a costly miss should make us flag *more* tumours, so "
                "the threshold must go down when cost_fn goes up."
            )
        elif math.isclose(got, cost_fp / cost_fn, rel_tol=1e-9):
            hint = (
                "cost_fp / cost_fn is the odds p / (1 - p) at the break-even point, not p "
                "itself. Solve p cost_fn = (1 - p) cost_fp for p."
            )
        elif math.isclose(got, 0.5):
            hint = (
                f"{case}you returned 0.5, the threshold for equal costs. Unequal costs move it: "
                "compare (1 - p) cost_fp with p cost_fn."
            )
        else:
            hint = (
                f"{case}the expected cost of saying 'negative' is p cost_fn and of saying "
                f"'positive' (1 - p) cost_fp; they are equal at p = {expected:.4g}, you "
                f"returned {got:.4g}."
            )
        print(f"Not yet: {hint}")
        return
    print(CORRECT + " A miss 10 times as costly as a false alarm moves the threshold to 1/11.")


# --- exercise 2: the largest threshold that reaches a recall --------------------------------


def _recall_cases() -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Small, hand-checkable cases first, then random ones with ties and many positives."""
    cases = [
        (np.array([0, 1, 1, 0, 1, 1]), np.array([0.1, 0.9, 0.4, 0.6, 0.7, 0.2]), 0.75),
        (np.array([1, 0, 1, 0]), np.array([0.3, 0.8, 0.6, 0.1]), 1.0),
    ]
    rng = np.random.default_rng(6)
    for n, target in ((200, 0.98), (57, 0.9)):
        y = (rng.random(n) < 0.4).astype(np.int64)
        y[:2] = [0, 1]  # both classes present
        p = np.clip(0.35 * y + 0.65 * rng.random(n), 0.0, 1.0).round(2)  # rounding makes ties
        cases.append((y, p, target))
    return cases


def check_threshold_for_recall(threshold_for_recall: Callable[..., Any]) -> None:
    """Check ``threshold_for_recall(y_true, probabilities, target) -> t``.

    ``t`` must reach the recall (positive where ``p >= t``) and be the largest
    threshold that does, so that no false alarm is raised without need.
    """
    for y, p, target in _recall_cases():
        result, problem = call_learner(
            threshold_for_recall,
            y.copy(),
            p.copy(),
            target,
            if_none=(
                "Not yet: threshold_for_recall returned None. Hint: recall changes only when "
                "the threshold passes the probability of a positive example; sort those."
            ),
        )
        if problem:
            print(problem)
            return
        got = as_finite_float(result)
        if got is None:
            print(f"Not yet: return one number (the threshold), got {type(result).__name__}.")
            return
        best = solution_threshold_for_recall(y, p, target)
        if math.isclose(got, best, rel_tol=1e-9, abs_tol=1e-12):
            continue
        n_pos = int(y.sum())
        reached = _recall_at(y, p, got)
        where = f"with {n_pos} positives and target recall {target:g}, "
        if reached < target - 1e-12:
            hint = (
                f"{where}t = {got:.4g} catches only {round(reached * n_pos)} of them (recall "
                f"{reached:.3f}): the threshold is too high. Remember that an example counts "
                "as positive when p >= t."
            )
        else:
            false_alarms = int(np.sum((y == 0) & (p >= got)))
            needed = int(np.sum((y == 0) & (p >= best)))
            hint = (
                f"{where}t = {got:.4g} reaches the recall, but a larger threshold does too "
                f"and raises {needed} instead of {false_alarms} false alarms. Return the "
                "largest one: it is the probability of one of the positive examples."
            )
        print(f"Not yet: {hint}")
        return
    print(CORRECT)


# --- exercise 3: impute with the training median ---------------------------------------


def _impute_case() -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(3)
    X_train = rng.lognormal(mean=6.0, sigma=0.6, size=(40, 3)).round(0)
    X_other = rng.lognormal(mean=7.0, sigma=0.6, size=(15, 3)).round(0)  # different rows
    X_train[[3, 17, 31], 1] = np.nan
    X_other[[2, 9], 1] = np.nan
    return X_train, X_other, 1


def check_impute_training_median(impute_training_median: Callable[..., Any]) -> None:
    """Check ``impute_training_median(X_train, X_other, column) -> (X_train, X_other)``."""
    X_train, X_other, column = _impute_case()
    originals = (X_train.copy(), X_other.copy())
    result, problem = call_learner(
        impute_training_median,
        X_train,
        X_other,
        column,
        if_none=(
            "Not yet: impute_training_median returned None. Compute the median of the "
            "column's training values with np.nanmedian, then fill the NaN of both arrays."
        ),
    )
    if problem:
        print(problem)
        return
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        print("Not yet: return two arrays, (filled X_train, filled X_other).")
        return
    got = [as_float_array(part) for part in result]
    if any(g is None or g.shape != o.shape for g, o in zip(got, originals, strict=True)):
        print(f"Not yet: the arrays must keep their shapes {X_train.shape} and {X_other.shape}.")
        return
    changed_inputs = not all(
        np.array_equal(a, b, equal_nan=True)
        for a, b in zip((X_train, X_other), originals, strict=True)
    )
    if any(np.isnan(g).any() for g in got):
        print("Not yet: NaN values remain; fill every missing value of the column in both arrays.")
        return
    expected = solution_impute_training_median(*originals, column)
    if all(np.allclose(g, e) for g, e in zip(got, expected, strict=True)):
        if changed_inputs:
            print(
                "Not yet: the values are right, but your function changed the arrays passed in. "
                "Work on copies (X.copy()), so the raw data stays available."
            )
            return
        print(CORRECT + " The other rows were filled with a number learned from training rows.")
        return
    filled_with = got[1][np.isnan(originals[1][:, column]), column]
    all_rows = np.concatenate([originals[0][:, column], originals[1][:, column]])
    candidates = {
        "the median of all rows (training and other together)": np.nanmedian(all_rows),
        "the median of the other rows": np.nanmedian(originals[1][:, column]),
        "the mean of the training rows": np.nanmean(originals[0][:, column]),
    }
    for name, value in candidates.items():
        if np.allclose(filled_with, value):
            print(
                f"Not yet: you filled with {name}. Only the training rows may teach us anything: "
                "use the median of the training column, np.nanmedian(X_train[:, column])."
            )
            return
    other_columns = [j for j in range(X_train.shape[1]) if j != column]
    if not all(
        np.allclose(g[:, other_columns], o[:, other_columns])
        for g, o in zip(got, originals, strict=True)
    ):
        print(
            f"Not yet: only column {column} has missing values; leave the other columns as "
            "they are."
        )
        return
    median = float(np.nanmedian(originals[0][:, column]))
    print(f"Not yet: the missing values must become the training median {median:.4g}.")


# --- exercise 4: back to dollars ----------------------------------------------------------


def check_to_dollars(to_dollars: Callable[..., Any]) -> None:
    """Check ``to_dollars(z, mean, std) -> dollars`` on standardised predictions."""
    z = np.array([-1.5, 0.0, 0.4, 2.0])
    mean, std = 206_000.0, 115_000.0
    result, problem = call_learner(
        to_dollars,
        z.copy(),
        mean,
        std,
        if_none=(
            "Not yet: to_dollars returned None. The scaler computed z = (y - mean) / std; "
            "solve that for y."
        ),
    )
    if problem:
        print(problem)
        return
    got = as_float_array(result)
    if got is None or got.shape != z.shape:
        print(f"Not yet: return one value per prediction, an array of shape {z.shape}.")
        return
    expected = solution_to_dollars(z, mean, std)
    if np.allclose(got, expected):
        print(
            f"{CORRECT} A standardised prediction of 0.4 is ${expected[2]:,.0f}: "
            "0.4 standard deviations above the mean price."
        )
        return
    wrong = [
        (z * std, "the mean is missing: z * std gives the distance from the mean price."),
        (z + mean, "multiply by std before adding the mean: z counts standard deviations."),
        ((z - mean) / std, "that scales once more; undo it instead: y = z * std + mean."),
        ((z + mean) * std, "multiply first, then add: y = z * std + mean."),
        (z * std**2 + mean, "std is the standard deviation, not the variance: use it once."),
        (z / std + mean, "multiply by std (the scaler divided by it)."),
    ]
    hint = first_hint(got, wrong, same=np.allclose)
    if hint is not None:
        print(f"Not yet: {hint}")
        return
    print(
        f"Not yet: for z = {z.tolist()}, mean = {mean:g}, std = {std:g} expected "
        f"{np.round(expected).tolist()}, got {np.round(got).tolist()}."
    )


__all__ = [
    "CORRECT",
    "SOLUTIONS",
    "check_cost_threshold",
    "check_impute_training_median",
    "check_threshold_for_recall",
    "check_to_dollars",
    "show_solution",
    "solution_cost_threshold",
    "solution_impute_training_median",
    "solution_threshold_for_recall",
    "solution_to_dollars",
]
