"""The checks of cases 2, 5, 6 and 8 (the bug is in the code around the network).

Each case is a :class:`~.case.Case`: its judge, its criterion, its graded hints
and the remarks for typical wrong diagnoses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ...model import mlp
from .. import broken_setups as setups
from .case import UNMET, Case, Outcome, loss_summary, pct
from .learner_code import run_learner

# case 2 ------------------------------------------------------------------------------------


def _judge_case2(run: setups.Run, fix: Callable[..., Any]) -> Outcome:
    s = run.scores
    summary = loss_summary(run)
    X_train, _, X_test, _ = setups.tumour_split()
    half = len(X_test) // 2
    full, error = run_learner(fix, X_train.copy(), X_test.copy())
    part, error_part = run_learner(fix, X_train.copy(), X_test[:half].copy())
    if error:
        return Outcome(summary, f"Called again by the check, your prepare_inputs failed: {error}")
    if error_part:
        return Outcome(
            summary, f"Called with half of the test rows, your prepare_inputs failed: {error_part}"
        )
    try:
        same_train = np.allclose(np.asarray(full[0]), np.asarray(part[0]))
        same_test = np.allclose(np.asarray(full[1])[:half], np.asarray(part[1]))
    except (TypeError, ValueError, IndexError):
        return Outcome(summary, "Your prepare_inputs gives different shapes for the same rows.")
    if not same_train:
        return Outcome(
            summary,
            "Your prepared training rows change when the test rows change: statistics of the "
            "test set leak into training. Compute every statistic from X_train alone.",
        )
    if not same_test:
        return Outcome(
            summary,
            "Your prepared test rows change when other test rows change: they are scaled with "
            "statistics of the test set. A model in use sees one tumour at a time; transform "
            "the test rows with statistics of the training rows.",
        )
    final, accuracy = s["final_loss"], s["test_accuracy"]
    p = float(np.mean(run.y_train))
    prior = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    if abs(final - prior) < 0.02:
        return Outcome(
            summary,
            f"The loss stops at {final:.3g}, close to the {prior:.3g} that a network scores by "
            "answering the training set's class frequencies for every tumour.",
        )
    if final < 0.2 and accuracy < 0.9:
        return Outcome(
            summary,
            f"Training went well (final loss {final:.3g}) but the test accuracy is "
            f"{pct(accuracy)}: the test rows do not get the same transformation as the "
            "training rows.",
        )
    if accuracy < 0.93:
        return Outcome(summary, UNMET)
    return Outcome(summary)


CASE2 = Case(
    number=2,
    piece="prepare_inputs",
    cause="inputs_not_scaled",
    criterion=(
        "the test accuracy is at least 93 % and every row is prepared with statistics of the "
        "training rows only (changing test rows must not change other rows)"
    ),
    run=setups.run_case2,
    judge=_judge_case2,
    probe=lambda: tuple(setups.tumour_split()[::2]),
    diagnosis_hints=(
        "Look inside the network before it trains: "
        "diagnostics.activation_stats(run.model, run.params0, run.X_train), and at the "
        "gradient norms per layer in run.history.grad_norms[0].",
        "Almost every tanh unit of the hidden layer sits in a flat part (|h| > 0.99), where "
        "almost no gradient passes (tanh′ = 1 − h² < 0.02). A unit computes "
        "tanh(Σ w_i x_i + b): print the range of every input column, "
        "run.X_train.min(axis=0) and run.X_train.max(axis=0).",
    ),
    fix_hints=(
        "Print the mean and the standard deviation of every column your prepare_inputs "
        "returns, for X_train and for X_test.",
        "Every column should end up on a similar scale, near 0 with a spread of about 1, and "
        "the test rows must be transformed with the training rows' statistics.",
    ),
    confusions={
        "learning_rate_too_high": "The loss does not grow or jump about; it settles and stays.",
        "bad_weight_scale": (
            "The weights are mlp's default Xavier initialisation, scaled for inputs of "
            "size about 1. Are the inputs of size about 1?"
        ),
    },
)


# case 5 ------------------------------------------------------------------------------------


def shuffle_report(X: np.ndarray, y: np.ndarray, X_s: Any, y_s: Any) -> tuple[int, float]:
    """``(images, kept)``: how the shuffled rows ``(X_s, y_s)`` relate to the rows ``(X, y)``.

    ``images`` is the number of different images of ``X`` among the shuffled
    rows (``len(X)`` when every row comes back: the images of ``X`` are all
    different), ``kept`` the fraction of shuffled rows whose label is the one
    their image had in ``y``. A shuffle gives ``(len(X), 1.0)``.
    """

    def keys(rows: Any) -> list[bytes]:
        return [row.tobytes() for row in np.ascontiguousarray(rows, dtype=X.dtype)]

    label_of = dict(zip(keys(X), np.asarray(y).tolist(), strict=True))
    rows = keys(X_s)
    labels = np.asarray(y_s).tolist()
    images = len(set(rows) & label_of.keys())
    kept = [label_of.get(row) == label for row, label in zip(rows, labels, strict=True)]
    return images, float(np.mean(kept))


def _judge_case5(run: setups.Run, fix: Callable[..., Any]) -> Outcome:
    s = run.scores
    X, y = setups.sorted_digits()
    shuffled, error = run_learner(fix, X.copy(), y.copy(), 0)
    if error is not None:
        summary = f"test accuracy {pct(s['test_accuracy'])}"
        return Outcome(summary, f"Called again by the check, your shuffle failed: {error}")
    images, kept = shuffle_report(X, y, *shuffled)
    summary = (
        f"{images} of the {len(X)} images, {pct(kept)} of the rows with their own label, "
        f"test accuracy {pct(s['test_accuracy'])}"
    )
    if images < len(X):
        return Outcome(
            summary,
            f"Only {images} of the {len(X)} images come back from your shuffle: some rows "
            "twice, others not at all. A shuffle returns every row exactly once.",
        )
    if kept < 1.0:
        return Outcome(
            summary,
            f"Only {pct(kept)} of the images still carry their own label after your shuffle.",
        )
    unseen = sorted(set(run.y_test.tolist()) - set(run.y_train.tolist()))
    if unseen:
        return Outcome(
            summary,
            f"Your test rows hold the digits {sorted(set(run.y_test.tolist()))}, and the "
            f"training rows hold no {unseen}: a network cannot recognise a digit it has never "
            "seen.",
        )
    if s["test_accuracy"] < 0.9:
        return Outcome(summary, UNMET)
    return Outcome(summary)


CASE5 = Case(
    number=5,
    piece="shuffle",
    cause="labels_misaligned",
    criterion=(
        "every image comes back exactly once with its own label and the test accuracy is at "
        "least 90 %"
    ),
    run=setups.run_case5,
    judge=_judge_case5,
    probe=lambda: (*setups.sorted_digits(), 0),
    diagnosis_hints=(
        "The training accuracy rises over the epochs while the test accuracy stays at "
        "chance (1 in 10). What could a network learn from its training rows that does not "
        "carry over to any other rows?",
        "Look at the data it learns from: X, y = setups.case5_shuffle(*setups.sorted_digits(), "
        "0), then plots.plot_digits(X, y) draws the first images with their labels. Do the "
        "labels written above the images match the digits you see?",
    ),
    fix_hints=(
        "Draw a few rows of your shuffle's output with their labels: "
        "plots.plot_digits(*shuffle(*setups.sorted_digits(), 0)).",
        "Each image must move together with its label: both arrays need the same new order.",
    ),
    confusions={
        "overfitting": (
            "Overfitting needs a good fit of the training set first, but here even the "
            "training loss stays high."
        ),
        "data_leakage": "Leakage makes a test score too good; this one is at chance level.",
    },
)


# case 6 ------------------------------------------------------------------------------------


def _judge_case6(run: setups.Run, fix: Callable[..., Any]) -> Outcome:
    s = run.scores
    summary = (
        f"one image at a time: {pct(s['production_accuracy'])} right, the same answer as the "
        f"validated model for {pct(s['agreement'])} of the images"
    )
    answers = s["answers"]
    if len(set(answers.tolist())) == 1:
        return Outcome(
            summary, f"Your predict_one gives the same answer, {answers[0]}, for every image."
        )
    if s["agreement"] < 0.99 or s["production_accuracy"] < 0.9:
        return Outcome(
            summary,
            f"Your answers differ from the validated model's for "
            f"{pct(1 - s['agreement'])} of the images.",
        )
    return Outcome(summary)


def _case6_probe() -> tuple:
    model = mlp([64, 32, 10], activation="relu", batchnorm=True, dtype="float64")
    X_train = setups.digits_split()[0]
    return model, model.init(0), model.init_state(), X_train[0]


CASE6 = Case(
    number=6,
    piece="predict_one",
    cause="batchnorm_train_mode_at_eval",
    criterion=(
        "the answers for single images agree with the validated model's (model.predict with "
        "the running statistics) for at least 99 % of the test images, and at least 90 % are right"
    ),
    run=setups.run_case6,
    judge=_judge_case6,
    probe=_case6_probe,
    diagnosis_hints=(
        "Training and validation look healthy, so the trained parameters are fine: what "
        "differs is how production calls the model. Look at its answers, "
        "run.scores['answers'], for the 450 images.",
        "Which layer's output can stop depending on the input when it sees a batch of one "
        "row? Compare run.model.forward(run.params, x, train=True, state=run.result.state) "
        "with train=False for one image x of shape (1, 64).",
    ),
    fix_hints=(
        "Compare your predict_one's answers for a few images with the validated model's, "
        "run.model.predict(run.params, run.X_test, run.result.state).argmax(axis=1).",
        "At evaluation a batch-norm layer must use the running mean and variance that "
        "training collected (run.result.state), not the statistics of the batch it sees.",
    ),
    confusions={
        "overfitting": (
            "Overfitting would show in validation, and validation used the very same 450 images."
        ),
        "data_leakage": "Leakage makes a test score too good; production here is at chance level.",
    },
)


# case 8 ------------------------------------------------------------------------------------


def shared_images(X_train: Any, X_test: Any, X: np.ndarray) -> int:
    """How many rows of ``X_test`` come from an image of ``X`` that also has a row in ``X_train``.

    "Come from" is :func:`~nnlib.exercises.broken_setups.origins`: the image
    itself or a noisy copy of it.
    """
    in_train = set(setups.origins(X_train, X).tolist())
    return int(sum(o in in_train for o in setups.origins(X_test, X).tolist()))


def augmented_rows(X_test: Any, X: np.ndarray) -> int:
    """How many rows of ``X_test`` are not one of the images ``X`` as collected (noisy copies)."""
    X_test = np.asarray(X_test, dtype=np.float64)
    nearest = X[setups.origins(X_test, X)]
    return int(np.sum(np.linalg.norm(X_test - nearest, axis=1) > 1e-6))


#: Case 8: how far (in accuracy) the test estimate may be from the accuracy on fresh images.
HONEST_GAP = 0.08


def _judge_case8(run: setups.Run, fix: Callable[..., Any]) -> Outcome:
    s = run.scores
    test_rows = len(run.X_test)
    test, fresh = s["test_accuracy"], s["fresh_accuracy"]
    summary = (
        f"test accuracy {pct(test)} on {test_rows} test rows, {pct(fresh)} on the "
        f"{s['fresh_images']} fresh images"
    )
    X, y = setups.collected_digits()[:2]
    split, error = run_learner(fix, X.copy(), y.copy(), 0)
    if error is not None:
        return Outcome(summary, f"Called again by the check, your make_split failed: {error}")
    shared = shared_images(split[0], split[2], X)
    if shared:
        return Outcome(
            summary,
            f"{shared} of your {test_rows} test rows are made from an image that also has rows "
            "in the training set.",
        )
    copies = augmented_rows(split[2], X)
    if copies:
        return Outcome(
            summary,
            f"{copies} of your {test_rows} test rows are noisy copies, not images as they were "
            "collected. Test on the collected images only: noisy copies of one test image are "
            "not new evidence, and new data does not come with noise added.",
        )
    if test_rows < 50:
        return Outcome(summary, "Keep at least 50 test rows: a smaller test set says little.")
    if fresh < 0.85:
        return Outcome(summary, "The model now learns too little: below 85 % on fresh images.")
    if abs(test - fresh) > HONEST_GAP:
        return Outcome(
            summary,
            f"The test accuracy is {100 * abs(test - fresh):.1f} points "
            f"{'above' if test > fresh else 'below'} the accuracy on fresh images.",
        )
    return Outcome(summary)


CASE8 = Case(
    number=8,
    piece="make_split",
    cause="data_leakage",
    criterion=(
        "no test row is made from an image that also has rows in the training set, every test "
        "row is a collected image (not a noisy copy), the test set keeps at least 50 rows, the "
        "accuracy on the fresh images is at least 85 % and the test accuracy is within "
        f"{100 * HONEST_GAP:.0f} points of it"
    ),
    run=setups.run_case8,
    judge=_judge_case8,
    probe=lambda: (*setups.collected_digits()[:2], 0),
    diagnosis_hints=(
        "A test set is there to predict the accuracy on new data. Compare the test accuracy "
        "with the accuracy on the fresh images, run.scores['fresh_accuracy'].",
        "For a few test rows, find the distance to the nearest training row, and do the same "
        "for a few fresh images (np.linalg.norm(run.X_train - row, axis=1).min()). How close "
        "are they?",
    ),
    fix_hints=(
        "Count the test rows made from the same image as some training row: "
        "setups.origins(rows, X) gives the index of the image each row was made from.",
        "All the rows made from one image must end up on the same side of the split, and the "
        "test set holds the collected images as they are.",
    ),
    confusions={
        "overfitting": (
            "Overfitting makes the test score worse than the training score; here the test "
            "score is higher than the score on fresh data."
        ),
    },
)
