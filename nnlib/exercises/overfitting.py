"""Exercises of notebook 05 (overfitting): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on a few cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a graded hint about what is
wrong (see :mod:`nnlib.exercises._checks`: the first hint points at the
mistake; the same mistake again, or ``hint=2``, narrows it down). It never
raises, so a notebook with unfinished exercises still runs top to bottom. The
``solution_*`` functions are worked answers; print one with
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
    Hint,
    as_array,
    as_pair,
    call_learner,
    first_hint,
    print_solution,
    report,
    same_values,
    type_hint,
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


def diagnose_precision_recall(precision_recall: Callable[[np.ndarray, int], Any]) -> Hint | None:
    """``None`` if ``precision_recall(cm, k)`` is right on a 3- and a 10-class matrix."""
    for cm, k in _confusion_cases():
        result, problem = call_learner(
            precision_recall,
            cm.copy(),
            k,
            quiet=True,
            if_none=Hint(
                "None",
                "precision_recall returned None. Replace `return None` with "
                "`return precision, recall`, two numbers computed from cm and k.",
            ),
        )
        if problem:
            return problem
        got = as_pair(result)
        if got is None:
            return type_hint(result, "a pair (precision, recall) of two numbers")
        p, r = solution_precision_recall(cm, k)
        if same_values(got, [p, r]):
            continue
        where = f"for class k = {k} of the {len(cm)}-class matrix\n{cm}\n"
        if same_values(got, [r, p]):
            return Hint(
                "swapped",
                f"{where}precision and recall are swapped.",
                "Rows are the true classes, columns the predictions: precision divides TP by "
                "everything predicted as k, recall by everything that really is k.",
            )
        if same_values(got[0], p):
            return Hint(
                "recall",
                f"{where}the precision {p:.4g} is right, the recall is not (got {got[1]:.4g}).",
                "Recall asks: of all the examples that really are k, how many were found? Which "
                "row or column holds them?",
            )
        if same_values(got[1], r):
            return Hint(
                "precision",
                f"{where}the recall {r:.4g} is right, the precision is not (got {got[0]:.4g}).",
                "Precision asks: of all the examples predicted as k, how many are k? Which row "
                "or column holds them?",
            )
        return Hint(
            "other",
            f"{where}your precision {got[0]:.4g} and recall {got[1]:.4g} are both off.",
            "Start from TP = cm[k, k]; the examples predicted as k are column k, the examples "
            "of class k are row k.",
        )
    return None


def check_precision_recall(
    precision_recall: Callable[[np.ndarray, int], Any], hint: int | None = None
) -> None:
    """Check ``precision_recall(cm, k) -> (precision, recall)`` on a 3- and a 10-class matrix."""
    report("precision_recall", diagnose_precision_recall(precision_recall), grade=hint)


# --- exercise 2: the gradient of the L2 penalty ------------------------------------------


def _l2_cases() -> list[tuple[np.ndarray, float]]:
    rng = np.random.default_rng(7)
    return [
        (np.array([[1.0, -2.0], [0.5, 3.0]]), 0.1),
        (rng.normal(size=(4, 3)), 0.01),
        (rng.normal(size=(64, 10)), 0.3),
    ]


def diagnose_l2_gradient(l2_gradient: Callable[[np.ndarray, float], Any]) -> Hint | None:
    """``None`` if ``l2_gradient(W, lam)`` is ``λ W`` on three matrices, else a hint."""
    for W, lam in _l2_cases():
        W_before = W.copy()
        result, problem = call_learner(
            l2_gradient,
            W,
            lam,
            quiet=True,
            if_none=Hint(
                "None",
                "l2_gradient returned None. Replace `return None` with the gradient of "
                "(λ/2) Σ W_ij², written with lam and W.",
            ),
        )
        if problem:
            return problem
        if not np.array_equal(W, W_before):
            return Hint(
                "in place",
                "your function changed W in place.",
                "Return a new array (e.g. an expression with W) instead of modifying the weights.",
            )
        got = as_array(result)
        if got is None:
            return type_hint(result, f"a NumPy array of W's shape {W.shape}")
        if got.shape != W.shape:
            return Hint(
                "shape",
                f"for W of shape {W.shape} your function returned shape {got.shape}.",
                "The gradient has one entry per weight, so it has the shape of W.",
            )
        if same_values(got, lam * W):
            continue
        hint = first_hint(
            got,
            [
                (
                    2 * lam * W,
                    Hint(
                        "2 lam W",
                        "your gradient is twice the right one.",
                        "The ½ in (λ/2) ||W||² cancels the 2 of d(w²)/dw = 2w.",
                    ),
                ),
                (
                    -lam * W,
                    Hint(
                        "minus",
                        "the sign is flipped.",
                        "A gradient points uphill, towards a larger penalty; the update "
                        "subtracts it.",
                    ),
                ),
                (
                    W,
                    Hint(
                        "no lam",
                        "the strength λ is missing.",
                        "The penalty is proportional to λ, and so is its gradient.",
                    ),
                ),
                (
                    lam * np.sign(W),
                    Hint(
                        "L1",
                        "that is the gradient of another penalty, λ Σ |W_ij| (L1).",
                        "Differentiate (λ/2) w² for one weight w.",
                    ),
                ),
                (
                    0.5 * lam * W**2,
                    Hint(
                        "penalty itself",
                        "that is each weight's penalty, not its derivative.",
                        "Differentiate (λ/2) w² with respect to w.",
                    ),
                ),
                (
                    np.full_like(W, lam),
                    Hint(
                        "constant",
                        "your gradient is the same for every weight.",
                        "The derivative of w² depends on w.",
                    ),
                ),
            ],
        )
        return hint or Hint(
            "other",
            f"with lam = {lam} and W of shape {W.shape} your result is not the gradient of the "
            "penalty.",
            "Differentiate (λ/2) w² for one weight w, then apply it to every entry of W.",
        )
    return None


def check_l2_gradient(
    l2_gradient: Callable[[np.ndarray, float], Any], hint: int | None = None
) -> None:
    """Check ``l2_gradient(W, lam) -> ∂R/∂W`` for ``R = (λ/2) ||W||²`` on three matrices."""
    report(
        "l2_gradient",
        diagnose_l2_gradient(l2_gradient),
        "∂R/∂W = λ W: every step shrinks every weight by the factor (1 - η λ).",
        grade=hint,
    )


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


def diagnose_early_stopping_epoch(
    early_stopping_epoch: Callable[[list[float], int], Any],
) -> Hint | None:
    """``None`` if ``early_stopping_epoch(val_losses, patience)`` is right on several curves."""
    for losses, patience in _early_stopping_cases():
        result, problem = call_learner(
            early_stopping_epoch,
            list(losses),
            patience,
            quiet=True,
            if_none=Hint(
                "None",
                "early_stopping_epoch returned None. Return the epoch (an integer, counting "
                "from 0) whose weights early stopping keeps.",
            ),
        )
        if problem:
            return problem
        if isinstance(result, bool) or not isinstance(result, (int, np.integer)):
            return type_hint(result, "an integer epoch number")
        expected = solution_early_stopping_epoch(losses, patience)
        got = int(result)
        if got == expected:
            continue
        overall = int(np.argmin(losses))
        # No epoch after the kept one improves on it, so training stops `patience` epochs
        # later, or runs to the last epoch if the list ends first.
        stop = min(expected + patience, len(losses) - 1)
        where = f"with val_losses = {losses} and patience = {patience}, "
        if got == overall:
            return Hint(
                "overall minimum",
                f"{where}you returned the overall minimum, epoch {overall}.",
                f"But training stops after epoch {stop}: by then the loss had not improved for "
                f"{patience} epochs, so the later epochs are never trained.",
            )
        if got == stop:
            return Hint(
                "stop epoch",
                f"{where}epoch {stop} is where training stops, not the epoch that is kept.",
                "Early stopping restores the weights of the best epoch before it.",
            )
        if got == expected + 1:
            return Hint(
                "off by one",
                f"{where}you returned {got}, one too many.",
                "Epochs count from 0: the first loss in the list is epoch 0.",
            )
        return Hint(
            "other",
            f"{where}epoch {got} is not the one early stopping keeps.",
            "Go through the losses in order, remember the lowest so far and count the epochs "
            "since it; stop when that count reaches the patience.",
        )
    return None


def check_early_stopping_epoch(
    early_stopping_epoch: Callable[[list[float], int], Any], hint: int | None = None
) -> None:
    """Check ``early_stopping_epoch(val_losses, patience) -> epoch`` on several loss curves."""
    report("early_stopping_epoch", diagnose_early_stopping_epoch(early_stopping_epoch), grade=hint)


__all__ = [
    "CORRECT",
    "EXAMPLE_CONFUSION",
    "EXAMPLE_VAL_LOSSES",
    "SOLUTIONS",
    "check_early_stopping_epoch",
    "check_l2_gradient",
    "check_precision_recall",
    "diagnose_early_stopping_epoch",
    "diagnose_l2_gradient",
    "diagnose_precision_recall",
    "show_solution",
    "solution_early_stopping_epoch",
    "solution_l2_gradient",
    "solution_precision_recall",
]
