"""Exercises of notebook 05 (overfitting): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on a few cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a hint about what is wrong. It
never raises, so a notebook with unfinished exercises still runs top to
bottom. The ``solution_*`` functions are worked answers; print one with
``show_solution("precision_recall")``.

1. :func:`check_precision_recall`: precision and recall of one class, read
   from a confusion matrix.
2. :func:`check_l2_gradient`: the gradient ``λ W`` of the weight-decay term
   ``(λ/2) ||W||²``.
3. :func:`check_early_stopping_epoch`: the epoch whose weights early stopping
   restores, from a list of validation losses and a patience.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._checks import (
    CORRECT,
    as_float_array,
    call_learner,
    first_hint,
    print_solution,
    same_values,
)

#: The confusion matrix of exercise 1: 3 classes, rows = true class, columns = prediction.
EXAMPLE_CONFUSION = np.array([[50, 2, 3], [4, 40, 6], [1, 9, 35]], dtype=np.int64)

#: The validation losses of exercise 3, one per epoch (epoch 0 first).
EXAMPLE_VAL_LOSSES = (1.20, 0.81, 0.62, 0.55, 0.57, 0.56, 0.58, 0.53, 0.51, 0.54, 0.60, 0.66)


# --- worked solutions --------------------------------------------------------------------


def solution_precision_recall(cm: np.ndarray, k: int) -> tuple[float, float]:
    """Precision and recall of class ``k`` from a confusion matrix ``cm`` ``(C, C)``.

    Rows are true classes, columns are predictions, so for class ``k``:

    * ``TP = cm[k, k]``: class k, predicted k;
    * column ``k`` holds everything *predicted* as k: ``TP + FP = cm[:, k].sum()``;
    * row ``k`` holds everything that *is* k: ``TP + FN = cm[k, :].sum()``.

    ``precision = TP / (TP + FP)`` (how many of the "k" answers are right) and
    ``recall = TP / (TP + FN)`` (how many of the real k's were found).
    """
    cm = np.asarray(cm)
    tp = cm[k, k]
    precision = tp / cm[:, k].sum()
    recall = tp / cm[k, :].sum()
    return float(precision), float(recall)


def solution_l2_gradient(W: np.ndarray, lam: float) -> np.ndarray:
    """Gradient of the weight-decay term ``R(W) = (λ/2) Σ_ij W_ij²`` with respect to ``W``.

    Every weight appears in exactly one term of the sum, so
    ``∂R/∂W_ij = (λ/2) · 2 W_ij = λ W_ij``: the gradient is ``λ W``, an array of
    ``W``'s shape. A gradient step then *shrinks* every weight by the factor
    ``(1 - η λ)`` before the data gradient moves it: weight decay.
    """
    return lam * W


def solution_early_stopping_epoch(val_losses: Sequence[float], patience: int) -> int:
    """The epoch (counting from 0) whose weights early stopping keeps.

    Walk through the epochs as training does: an epoch whose validation loss is
    lower than every earlier one is the new best; otherwise one more epoch has
    passed without improvement. After ``patience`` such epochs in a row,
    training stops, and the best epoch *seen so far* is restored, even if a
    lower loss would have come later. (This is the rule of
    ``nnlib.train.fit(..., early_stopping=patience)``.)
    """
    best_epoch, best_loss, stale = 0, math.inf, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss:
            best_epoch, best_loss, stale = epoch, loss, 0
        else:
            stale += 1
            if stale >= patience:
                break
    return best_epoch


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "precision_recall": solution_precision_recall,
    "l2_gradient": solution_l2_gradient,
    "early_stopping_epoch": solution_early_stopping_epoch,
}


def show_solution(name: str) -> None:
    """Print the worked solution ``name``: one of :data:`SOLUTIONS`, e.g. ``"precision_recall"``."""
    print_solution(SOLUTIONS, name)


# --- exercise 1: precision and recall from a confusion matrix ----------------------------


def _confusion_cases() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(5)
    ten = rng.integers(0, 6, size=(10, 10)) + np.diag(rng.integers(20, 40, size=10))
    return [(EXAMPLE_CONFUSION, 1), (EXAMPLE_CONFUSION, 2), (ten, 3), (ten, 8)]


def check_precision_recall(precision_recall: Callable[[np.ndarray, int], Any]) -> None:
    """Check ``precision_recall(cm, k) -> (precision, recall)`` on a 3- and a 10-class matrix."""
    for cm, k in _confusion_cases():
        result, problem = call_learner(
            precision_recall,
            cm.copy(),
            k,
            quiet=True,
            if_none=(
                "Not yet: precision_recall returned None. Replace `return None` with "
                "`return precision, recall`, two numbers computed from cm and k."
            ),
        )
        if problem:
            print(problem)
            return
        got = as_float_array(result)
        if got is None or got.shape != (2,):
            print(f"Not yet: return a pair (precision, recall) of two numbers; got {result!r}.")
            return
        p, r = solution_precision_recall(cm, k)
        if same_values(got, [p, r]):
            continue
        tp = int(cm[k, k])
        where = f"for class k={k} of the matrix\n{cm}\n"
        if same_values(got, [r, p]):
            print(
                f"Not yet: {where}you returned (recall, precision): the two are swapped. "
                "Rows are the true classes, columns the predictions: precision divides TP by "
                "the column sum (everything predicted as k), recall by the row sum "
                "(everything that really is k)."
            )
        elif same_values(got[0], p):
            print(
                f"Not yet: {where}the precision {p:.4g} is right, the recall is not (got "
                f"{got[1]:.4g}). Recall = TP / (TP + FN) = cm[k, k] / (sum of row k) = "
                f"{tp} / {int(cm[k].sum())}."
            )
        elif same_values(got[1], r):
            print(
                f"Not yet: {where}the recall {r:.4g} is right, the precision is not (got "
                f"{got[0]:.4g}). Precision = TP / (TP + FP) = cm[k, k] / (sum of column k) = "
                f"{tp} / {int(cm[:, k].sum())}."
            )
        else:
            print(
                f"Not yet: {where}expected precision {p:.4g} and recall {r:.4g}, got "
                f"{got[0]:.4g} and {got[1]:.4g}. Start from TP = cm[k, k] = {tp}; the "
                "examples predicted as k are column k, the examples of class k are row k."
            )
        return
    print(CORRECT)


# --- exercise 2: the gradient of the L2 penalty ------------------------------------------


def _l2_cases() -> list[tuple[np.ndarray, float]]:
    rng = np.random.default_rng(7)
    return [
        (np.array([[1.0, -2.0], [0.5, 3.0]]), 0.1),
        (rng.normal(size=(4, 3)), 0.01),
        (rng.normal(size=(64, 10)), 0.3),
    ]


def check_l2_gradient(l2_gradient: Callable[[np.ndarray, float], Any]) -> None:
    """Check ``l2_gradient(W, lam) -> ∂R/∂W`` for ``R = (λ/2) ||W||²`` on three matrices."""
    for W, lam in _l2_cases():
        W_before = W.copy()
        result, problem = call_learner(
            l2_gradient,
            W,
            lam,
            quiet=True,
            if_none=(
                "Not yet: l2_gradient returned None. Replace `return None` with the gradient "
                "of (λ/2) Σ W_ij², written with lam and W."
            ),
        )
        if problem:
            print(problem)
            return
        if not np.array_equal(W, W_before):
            print(
                "Not yet: your function changed W in place. Return a new array (e.g. "
                "`lam * W`) instead of modifying the weights."
            )
            return
        got = as_float_array(result)
        if got is None or got.shape != W.shape:
            shape = None if got is None else got.shape
            print(
                f"Not yet: for W of shape {W.shape} your function returned shape {shape}. "
                "The gradient has one entry per weight, so it has the shape of W."
            )
            return
        if same_values(got, lam * W):
            continue
        typical = [
            (2 * lam * W, "2 λ W: the ½ in (λ/2) ||W||² cancels the 2 of d(w²)/dw = 2w."),
            (-lam * W, "-λ W: the gradient points uphill, +λ W; the update subtracts it."),
            (W, "W: the strength λ is missing."),
            (lam * np.sign(W), "λ sign(W): that is the gradient of the L1 penalty λ Σ |W_ij|."),
            (0.5 * lam * W**2, "(λ/2) W²: that is the penalty itself, not its derivative."),
            (
                np.full_like(W, lam),
                "λ everywhere: the derivative of w² is 2w, so it depends on the weight.",
            ),
        ]
        hint = first_hint(got, typical)
        if hint is not None:
            print(f"Not yet: you returned {hint}")
            return
        print(
            f"Not yet: with lam={lam} and W =\n{np.round(W[:2, :3], 3)} (first entries)\n"
            f"expected λ W =\n{np.round(lam * W[:2, :3], 4)}\ngot\n{np.round(got[:2, :3], 4)}\n"
            "Differentiate (λ/2) w² for one weight w, then apply it to every entry of W."
        )
        return
    print(CORRECT)


# --- exercise 3: which epoch does early stopping keep? ------------------------------------


def _early_stopping_cases() -> list[tuple[list[float], int]]:
    losses = list(EXAMPLE_VAL_LOSSES)
    return [
        (losses, 2),
        (losses, 3),
        (losses, 5),
        ([0.9, 0.7, 0.6, 0.5, 0.4], 1),
        ([0.5, 0.6, 0.7, 0.8], 2),
    ]


def check_early_stopping_epoch(early_stopping_epoch: Callable[[list[float], int], Any]) -> None:
    """Check ``early_stopping_epoch(val_losses, patience) -> epoch`` on several loss curves."""
    for losses, patience in _early_stopping_cases():
        result, problem = call_learner(
            early_stopping_epoch,
            list(losses),
            patience,
            quiet=True,
            if_none=(
                "Not yet: early_stopping_epoch returned None. Return the epoch (an integer, "
                "counting from 0) whose weights early stopping keeps."
            ),
        )
        if problem:
            print(problem)
            return
        if isinstance(result, bool) or not isinstance(result, (int, np.integer)):
            print(f"Not yet: return an integer epoch number, got {result!r}.")
            return
        expected = solution_early_stopping_epoch(losses, patience)
        if int(result) == expected:
            continue
        overall = int(np.argmin(losses))
        # No epoch after the kept one improves on it, so training stops `patience` epochs
        # later, or runs to the last epoch if the list ends first.
        stop = min(expected + patience, len(losses) - 1)
        where = f"with val_losses={losses} and patience={patience}, "
        if int(result) == overall:
            print(
                f"Not yet: {where}you returned the overall minimum, epoch {overall}. "
                f"But training stops after epoch {stop}: by then the loss had not improved "
                f"for {patience} epochs, so the later epochs are never trained. Keep the best "
                "epoch seen before stopping."
            )
        elif int(result) == stop:
            print(
                f"Not yet: {where}epoch {stop} is where training stops, not the epoch that is "
                "kept: early stopping restores the weights of the best epoch before it."
            )
        elif int(result) == expected + 1:
            print(
                f"Not yet: {where}you returned {int(result)}, one too many: epochs count from "
                "0, so the first loss in the list is epoch 0."
            )
        else:
            print(
                f"Not yet: {where}expected epoch {expected}, got {int(result)}. Go through the "
                "losses in order, remember the lowest so far and count the epochs since it; "
                "stop when that count reaches the patience."
            )
        return
    print(CORRECT)
