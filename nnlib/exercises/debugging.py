"""Exercises of notebook 10 ("why won't it learn?"): diagnose and fix eight broken setups.

Each case of :mod:`nnlib.exercises.broken_setups` is a training setup with one
realistic bug. The learner submits two things to ``check_caseK(diagnosis, fix)``:

* ``diagnosis``: the name of the cause, one of :data:`CAUSES`;
* ``fix``: a corrected version of the case's buggy piece (``make_optimizer``,
  ``prepare_inputs``, ``build_model``, ``shuffle``, ``predict_one`` or
  ``make_split``), with the same arguments.

The check really retrains the setup with the fix (``run_caseK(fix)``) and
compares the measured outcome with the case's stated criterion
(:data:`CRITERIA`). It prints one line about the diagnosis, one about the fix,
and ``"Correct!"`` when both are right.

Hints are graded. The first wrong answer gets a pointer at where to look, the
next ones a narrower pointer; a fix that fails also gets the measurement that
shows what is still wrong. The answer itself is only printed on request:
``show_solution("case1")``. :func:`reset_hints` starts the grading over.

A check never raises and never hangs: an exception in the learner's code
becomes a hint, and code that runs longer than :data:`TIME_LIMIT_S` seconds is
stopped (on systems with ``SIGALRM``, in the main thread, which is where a
notebook runs its cells).
"""

from __future__ import annotations

import contextlib
import inspect
import math
import re
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import optim
from ..diagnostics import update_ratios
from ..layers import Dense
from ..model import mlp
from . import broken_setups as setups
from ._checks import CORRECT

#: The causes a diagnosis chooses from: name → what it means.
CAUSES: dict[str, str] = {
    "learning_rate_too_high": "the learning rate is far too high: each step overshoots",
    "learning_rate_too_low": "the learning rate is so low that the weights hardly move",
    "inputs_not_scaled": "the input features are on very different, large scales",
    "bad_weight_scale": "the initial weights are far too small or far too large",
    "labels_misaligned": "the labels no longer belong to their inputs",
    "softmax_twice": "the outputs pass through a softmax twice (in the model and in the loss)",
    "batchnorm_train_mode_at_eval": "batch normalisation is left in training mode at evaluation",
    "frozen_layer": "a layer is never updated",
    "data_leakage": "test examples, or copies of them, are also in the training set",
    "wrong_gradient": "a backward pass computes the wrong gradient",
    "model_too_small": "the model has too little capacity for the task",
    "overfitting": "the model memorises its training set and does not generalise",
}

#: Seconds the learner's code may run in one check (the setups train in about a second).
TIME_LIMIT_S = 30.0


class TimeLimitExceeded(BaseException):
    """Raised inside the learner's code when it runs past the time limit.

    A ``BaseException``, so that an ``except Exception`` in the learner's code
    does not swallow it.
    """


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the block when it runs longer than ``seconds``.

    Uses ``SIGALRM`` (a real-time interval timer), so it works only in the main
    thread of a process on a system that has it (Linux, macOS: where a Jupyter
    kernel runs its cells); elsewhere the block runs without a limit. A timer
    that was already running (e.g. pytest-timeout's) is put back afterwards with
    the time it had left; if it would fire first, no new timer is set.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    previous_delay, previous_interval = signal.getitimer(signal.ITIMER_REAL)
    if 0 < previous_delay <= seconds:
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise TimeLimitExceeded(f"stopped after {seconds:g} s")

    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            left = max(previous_delay - (time.monotonic() - started), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, previous_interval)


def _run_learner(fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """``fn(*args)``, warnings hidden, time-limited: ``(result, None)`` or ``(None, why)``."""
    try:
        with time_limit(TIME_LIMIT_S), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args), None
    except TimeLimitExceeded:
        return None, (
            f"it ran for more than {TIME_LIMIT_S:g} seconds and was stopped (the setups "
            "train in about a second: look for a loop that never ends)."
        )
    except Exception as err:  # the learner's code: report, never raise
        message = str(err).rstrip()
        return None, f"it raised {type(err).__name__}: {message}" + (
            "" if message.endswith(".") else "."
        )


# --- the cases --------------------------------------------------------------------------------


@dataclass
class _Outcome:
    """What the check measured on the retrained run: a summary, and what is wrong (or None)."""

    summary: str
    problem: str | None = None


@dataclass(frozen=True)
class _Case:
    number: int
    piece: str  # the name of the stub function in the notebook
    cause: str
    criterion: str
    run: Callable[..., setups.Run]
    judge: Callable[[setups.Run, Callable[..., Any]], _Outcome]
    probe: Callable[[], tuple]  # arguments for one quick call of the piece
    diagnosis_hints: tuple[str, str]
    fix_hints: tuple[str, str]
    confusions: dict[str, str] = field(default_factory=dict)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _loss_summary(run: setups.Run) -> str:
    s, history = run.scores, run.history
    if not history.train_loss:
        return f"the loss became NaN or infinite at step {history.diverged_at_step}, in epoch 0"
    return (
        f"training loss {s['first_loss']:.3g} → {s['final_loss']:.3g} over "
        f"{len(history.train_loss)} epochs, test accuracy {_pct(s['test_accuracy'])}"
    )


def _diverged(run: setups.Run) -> str:
    """What a diverged run did, from its step losses (not ``fit``'s guess at the cause)."""
    history = run.history
    first = ", ".join(f"{loss:.3g}" for loss in history.step_loss[:4])
    return f"It diverged; the losses of its first steps were {first}."


#: A judge's ``problem`` when the run simply misses the criterion (the check states it).
_UNMET = ""


def _dense_sizes(model: Any) -> list[int]:
    """``[n_in, n_out of every Dense layer]`` of a model, in order."""
    dense = [layer for layer in getattr(model, "layers", []) if isinstance(layer, Dense)]
    return [dense[0].n_in, *(layer.n_out for layer in dense)] if dense else []


# case 1 ------------------------------------------------------------------------------------


def _judge_case1(run: setups.Run, fix: Callable[..., Any]) -> _Outcome:
    s = run.scores
    summary = _loss_summary(run)
    first, final = s["first_loss"], s["final_loss"]
    if run.history.diverged:
        return _Outcome(summary, _diverged(run))
    if not final < first:
        return _Outcome(summary, f"The loss still grows: from {first:.3g} to {final:.3g}.")
    if final > 0.5 and final > 0.9 * first:
        return _Outcome(
            summary,
            f"The loss hardly moved ({first:.3g} → {final:.3g} in 10 epochs): the steps are now "
            "too small to get anywhere in the time the setup trains.",
        )
    if final >= 0.5 or s["test_accuracy"] < 0.9:
        return _Outcome(summary, _UNMET)
    return _Outcome(summary)


_CASE1 = _Case(
    number=1,
    piece="make_optimizer",
    cause="learning_rate_too_high",
    criterion=(
        "the run does not diverge, its final training loss is below 0.5 and its test "
        "accuracy is at least 90 %"
    ),
    run=setups.run_case1,
    judge=_judge_case1,
    probe=lambda: (),
    diagnosis_hints=(
        "Was the network already in trouble before its first step, or did the steps put it "
        "there? Compare the loss of the very first steps, run.history.step_loss[:5].",
        "Measure one update against the size of the weights: with the gradients of "
        "run.model.loss_and_grads(run.params0, run.X_train, run.y_train, 'cross_entropy') take "
        "one step of opt = setups.case1_make_optimizer() and compare "
        "diagnostics.update_ratios(before, after) with the rule of thumb of about 1e-3.",
    ),
    fix_hints=(
        "Look at how the loss of your run moves during its first steps: "
        "setups.run_case1(make_optimizer).history.step_loss[:10].",
        "Plain SGD moves every weight by lr × gradient. Try learning rates a factor of 3 to "
        "10 apart and keep the largest one whose loss falls smoothly.",
    ),
    confusions={
        "bad_weight_scale": (
            "The weights start from mlp's default He initialisation: look at the loss at the "
            "very first step before blaming them."
        ),
        "inputs_not_scaled": "The pixels are standardised before training (standardized_digits).",
    },
)


# case 2 ------------------------------------------------------------------------------------


def _judge_case2(run: setups.Run, fix: Callable[..., Any]) -> _Outcome:
    s = run.scores
    summary = _loss_summary(run)
    X_train, _, X_test, _ = setups.tumour_split()
    half = len(X_test) // 2
    full, error = _run_learner(fix, X_train.copy(), X_test.copy())
    part, error_part = _run_learner(fix, X_train.copy(), X_test[:half].copy())
    if error or error_part:
        return _Outcome(summary, f"Called a second time, your prepare_inputs failed: {error}.")
    try:
        same_train = np.allclose(np.asarray(full[0]), np.asarray(part[0]))
        same_test = np.allclose(np.asarray(full[1])[:half], np.asarray(part[1]))
    except (TypeError, ValueError, IndexError):
        return _Outcome(summary, "Your prepare_inputs gives different shapes for the same rows.")
    if not same_train:
        return _Outcome(
            summary,
            "Your prepared training rows change when the test rows change: statistics of the "
            "test set leak into training. Compute every statistic from X_train alone.",
        )
    if not same_test:
        return _Outcome(
            summary,
            "Your prepared test rows change when other test rows change: they are scaled with "
            "statistics of the test set. A model in use sees one tumour at a time; transform "
            "the test rows with statistics of the training rows.",
        )
    final, accuracy = s["final_loss"], s["test_accuracy"]
    p = float(np.mean(run.y_train))
    prior = -(p * math.log(p) + (1 - p) * math.log(1 - p))
    if abs(final - prior) < 0.02:
        return _Outcome(
            summary,
            f"The loss stops at {final:.3g}, close to the {prior:.3g} that a network scores by "
            "answering the training set's class frequencies for every tumour.",
        )
    if final < 0.2 and accuracy < 0.9:
        return _Outcome(
            summary,
            f"Training went well (final loss {final:.3g}) but the test accuracy is "
            f"{_pct(accuracy)}: the test rows do not get the same transformation as the "
            "training rows.",
        )
    if accuracy < 0.93:
        return _Outcome(summary, _UNMET)
    return _Outcome(summary)


_CASE2 = _Case(
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
        "no gradient passes. A unit computes tanh(Σ w_i x_i + b): print the range of every "
        "input column, run.X_train.min(axis=0) and run.X_train.max(axis=0).",
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


# case 3 ------------------------------------------------------------------------------------

_CASE3_SIZES = [64, 64, 64, 64, 64, 10]


def _judge_case3(run: setups.Run, fix: Callable[..., Any]) -> _Outcome:
    s = run.scores
    summary = _loss_summary(run)
    sizes = _dense_sizes(run.model)
    if sizes != _CASE3_SIZES:
        return _Outcome(
            summary,
            f"Keep the layer sizes {_CASE3_SIZES}: the task is to make this network train "
            f"(yours has {sizes}).",
        )
    if run.history.diverged:
        return _Outcome(summary, _diverged(run))
    if abs(s["final_loss"] - math.log(10)) < 0.01:
        return _Outcome(
            summary,
            f"The loss still sits at {s['final_loss']:.4g}, ln 10 = {math.log(10):.4g}: "
            "what a network scores that answers 1/10 for every class.",
        )
    if s["final_loss"] >= 0.5 or s["test_accuracy"] < 0.9:
        return _Outcome(summary, _UNMET)
    return _Outcome(summary)


_CASE3 = _Case(
    number=3,
    piece="build_model",
    cause="bad_weight_scale",
    criterion=(
        f"the layer sizes stay {_CASE3_SIZES}, the final training loss is below 0.5 and the "
        "test accuracy is at least 90 %"
    ),
    run=setups.run_case3,
    judge=_judge_case3,
    probe=lambda: (),
    diagnosis_hints=(
        "The loss sits at ln 10 from start to end: the outputs carry no information about "
        "the input. Follow the signal through the layers before training: "
        "diagnostics.activation_stats(run.model, run.params0, run.X_train).",
        "Look at the 'std' of each layer's activations and at the gradient norms per layer, "
        "run.history.grad_norms[0]: how do they change from one layer to the next?",
    ),
    fix_hints=(
        "Check your model before training: diagnostics.activation_stats of its initial "
        "parameters should show a similar 'std' in every layer.",
        "For a ReLU layer with n inputs, weights with standard deviation √(2/n) keep the "
        "activations' spread from layer to layer (notebook 4).",
    ),
    confusions={
        "learning_rate_too_high": "The loss neither grows nor jumps: it does not move.",
        "inputs_not_scaled": "The pixels are standardised before training (standardized_digits).",
    },
)


# case 4 ------------------------------------------------------------------------------------


def _judge_case4(run: setups.Run, fix: Callable[..., Any]) -> _Outcome:
    s = run.scores
    summary = _loss_summary(run)
    out = run.model.predict(run.params, run.X_test, run.result.state)
    if s["final_loss"] >= 0.5 and out.min() >= 0 and out.max() <= 1:
        return _Outcome(
            summary,
            f"Every output of your model lies between {out.min():.2g} and {out.max():.2g}, "
            f"and the loss stopped at {s['final_loss']:.3g}.",
        )
    if s["final_loss"] >= 0.5 or s["test_accuracy"] < 0.95:
        return _Outcome(summary, _UNMET)
    return _Outcome(summary)


_CASE4 = _Case(
    number=4,
    piece="build_model",
    cause="softmax_twice",
    criterion="the final training loss is below 0.5 and the test accuracy is at least 95 %",
    run=setups.run_case4,
    judge=_judge_case4,
    probe=lambda: (),
    diagnosis_hints=(
        "The accuracy is fair, but the loss stops far above 0. Look at what the model "
        "outputs, run.model.predict(run.params, run.X_test[:5]): their range and their row "
        "sums. And does the custom layer pass a gradient check "
        "(gradcheck.check_layer(setups.Softmax(), x) with float64 x)?",
        "Compare what the model outputs with what loss='cross_entropy' expects to receive: "
        "help(nnlib.losses.softmax_cross_entropy).",
    ),
    fix_hints=(
        "Look at your model's last layer and at the loss the setup trains it with.",
        "What range of values can your model's outputs take? The loss 'cross_entropy' turns "
        "them into probabilities itself (help(nnlib.losses.softmax_cross_entropy)).",
    ),
    confusions={
        "wrong_gradient": (
            "A gradient check of the Softmax layer passes (gradcheck.check_layer): its "
            "backward pass is right."
        ),
        "learning_rate_too_low": "The same learning rate trains case 1's network to a low loss.",
    },
)


# case 5 ------------------------------------------------------------------------------------


def _pairs_kept(X: np.ndarray, y: np.ndarray, X_s: Any, y_s: Any) -> float:
    """Fraction of the shuffled rows whose label is the label their image had before."""
    label_of = {row.tobytes(): label for row, label in zip(X, y, strict=True)}
    rows = np.ascontiguousarray(X_s, dtype=X.dtype)
    same = [label_of.get(row.tobytes()) == label for row, label in zip(rows, y_s, strict=True)]
    return float(np.mean(same))


def _judge_case5(run: setups.Run, fix: Callable[..., Any]) -> _Outcome:
    s = run.scores
    X, y = setups.sorted_digits()
    shuffled, error = _run_learner(fix, X.copy(), y.copy(), 0)
    kept = _pairs_kept(X, y, *shuffled) if error is None else 0.0
    summary = (
        f"{_pct(kept)} of the images keep their label, test accuracy {_pct(s['test_accuracy'])}"
    )
    if kept < 1.0:
        return _Outcome(
            summary,
            f"Only {_pct(kept)} of the images still carry their own label after your shuffle.",
        )
    unseen = sorted(set(run.y_test.tolist()) - set(run.y_train.tolist()))
    if unseen:
        return _Outcome(
            summary,
            f"Your test rows hold the digits {sorted(set(run.y_test.tolist()))}, and the "
            f"training rows hold no {unseen}: a network cannot recognise a digit it has never "
            "seen.",
        )
    if s["test_accuracy"] < 0.9:
        return _Outcome(summary, _UNMET)
    return _Outcome(summary)


_CASE5 = _Case(
    number=5,
    piece="shuffle",
    cause="labels_misaligned",
    criterion="every image keeps its own label and the test accuracy is at least 90 %",
    run=setups.run_case5,
    judge=_judge_case5,
    probe=lambda: (*setups.sorted_digits(), 0),
    diagnosis_hints=(
        "Check the network's insides (activation_stats, run.history.grad_norms): nothing "
        "looks wrong there. So look at the data it learns from: "
        "X, y = setups.case5_shuffle(*setups.sorted_digits(), 0), then "
        "plots.plot_digits(X, y) draws the first images with their labels.",
        "Do the labels written above the images match the digits you see?",
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


def _judge_case6(run: setups.Run, fix: Callable[..., Any]) -> _Outcome:
    s = run.scores
    summary = (
        f"one image at a time: {_pct(s['production_accuracy'])} right, the same answer as the "
        f"validated model for {_pct(s['agreement'])} of the images"
    )
    answers = s["answers"]
    if len(set(answers.tolist())) == 1:
        return _Outcome(
            summary, f"Your predict_one gives the same answer, {answers[0]}, for every image."
        )
    if s["agreement"] < 0.99 or s["production_accuracy"] < 0.9:
        return _Outcome(
            summary,
            f"Your answers differ from the validated model's for "
            f"{_pct(1 - s['agreement'])} of the images.",
        )
    return _Outcome(summary)


def _case6_probe() -> tuple:
    model = mlp([64, 32, 10], activation="relu", batchnorm=True, dtype="float64")
    X_train = setups.digits_split()[0]
    return model, model.init(0), model.init_state(), X_train[0]


_CASE6 = _Case(
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


# case 7 ------------------------------------------------------------------------------------


def _judge_case7(run: setups.Run, fix: Callable[..., Any]) -> _Outcome:
    s = run.scores
    summary = f"{_loss_summary(run)}"
    moved = update_ratios(run.params0, run.params)
    frozen = [name for name, ratio in moved.items() if not ratio > 0]
    if frozen:
        return _Outcome(
            summary, f"In your run the weights {', '.join(frozen)} never changed from their start."
        )
    if s["test_accuracy"] < 0.9:
        return _Outcome(summary, _UNMET)
    return _Outcome(summary)


_CASE7 = _Case(
    number=7,
    piece="make_optimizer",
    cause="frozen_layer",
    criterion="every weight matrix changes during training and the test accuracy is at least 90 %",
    run=setups.run_case7,
    judge=_judge_case7,
    probe=lambda: (),
    diagnosis_hints=(
        "Compare, layer by layer, how far the weights moved during training, "
        "diagnostics.update_ratios(run.params0, run.params), with the gradients they "
        "received, run.history.grad_norms[-1].",
        "One weight matrix did not move at all although its gradient is not zero. Which part "
        "of the setup decides which parameters an update changes?",
    ),
    fix_hints=(
        "After retraining, look at diagnostics.update_ratios(run.params0, run.params) of "
        "your run: every weight matrix should have moved.",
        "print(run.model.summary()) lists the layers with their indices and parameter counts.",
    ),
    confusions={
        "model_too_small": (
            "Two hidden layers of 8 units do fit these spirals when every layer trains."
        ),
        "learning_rate_too_low": "Some of the layers do move: compare them with the others.",
    },
)


# case 8 ------------------------------------------------------------------------------------


def _shared_images(X_train: Any, X_test: Any, X: np.ndarray) -> int:
    """How many rows of ``X_test`` come from an image of ``X`` that also has a row in ``X_train``.

    "Come from" is :func:`~nnlib.exercises.broken_setups.origins`: the image
    itself or a noisy copy of it.
    """
    in_train = set(setups.origins(X_train, X).tolist())
    return int(sum(o in in_train for o in setups.origins(X_test, X).tolist()))


def _judge_case8(run: setups.Run, fix: Callable[..., Any]) -> _Outcome:
    s = run.scores
    test_rows = len(run.X_test)
    summary = (
        f"test accuracy {_pct(s['test_accuracy'])} on {test_rows} test rows, "
        f"{_pct(s['fresh_accuracy'])} on the 1497 fresh images"
    )
    X, y = setups.collected_digits()[:2]
    split, error = _run_learner(fix, X.copy(), y.copy(), 0)
    if error is not None:
        return _Outcome(summary, f"Called a second time, your make_split failed: {error}")
    shared = _shared_images(split[0], split[2], X)
    if shared:
        return _Outcome(
            summary,
            f"{shared} of your {test_rows} test rows are made from an image that also has rows "
            "in the training set.",
        )
    if test_rows < 50:
        return _Outcome(summary, "Keep at least 50 test rows: a smaller test set says little.")
    if s["fresh_accuracy"] < 0.85:
        return _Outcome(summary, "The model now learns too little: below 85 % on fresh images.")
    return _Outcome(summary)


_CASE8 = _Case(
    number=8,
    piece="make_split",
    cause="data_leakage",
    criterion=(
        "no test row is made from an image that also has rows in the training set, the test "
        "set keeps at least 50 rows and the accuracy on the 1497 fresh images is at least 85 %"
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
        "All the rows made from one image must end up on the same side of the split.",
    ),
    confusions={
        "overfitting": (
            "Overfitting makes the test score worse than the training score; here the test "
            "score is higher than the score on fresh data."
        ),
    },
)

_CASES: dict[int, _Case] = {
    case.number: case for case in (_CASE1, _CASE2, _CASE3, _CASE4, _CASE5, _CASE6, _CASE7, _CASE8)
}

#: What each case's check demands of the retrained run, by case number.
CRITERIA: dict[int, str] = {number: case.criterion for number, case in _CASES.items()}


# --- graded hints ----------------------------------------------------------------------------

_wrong_answers: dict[tuple[int, str], int] = {}


def reset_hints() -> None:
    """Forget the wrong answers seen so far: the next hint of every case is the first one."""
    _wrong_answers.clear()


def _in_notebook(case: _Case, text: str) -> str:
    """``text`` with ``run.`` written as the notebook's name for the case's run, ``runK.``."""
    return re.sub(r"\brun\.", f"run{case.number}.", text)


def _graded(case: _Case, part: str, hints: tuple[str, str]) -> str:
    """The first hint on the first wrong answer of ``part``, the narrower one from then on."""
    key = (case.number, part)
    _wrong_answers[key] = _wrong_answers.get(key, 0) + 1
    if _wrong_answers[key] == 1:
        return f"Hint: {_in_notebook(case, hints[0])}"
    return (
        f"Narrower hint: {_in_notebook(case, hints[1])} (Stuck? "
        f"debugging.show_solution('case{case.number}') prints a worked solution.)"
    )


# --- the checks ------------------------------------------------------------------------------


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _diagnosis_verdict(case: _Case, diagnosis: Any) -> tuple[bool, str]:
    if diagnosis is None:
        return False, (
            "Diagnosis: not done yet. Set diagnosis to the name of one of the CAUSES, "
            'for example diagnosis = "overfitting".'
        )
    if not isinstance(diagnosis, str) or _normalise(diagnosis) not in CAUSES:
        return False, (
            f"Diagnosis: {diagnosis!r} is not one of the CAUSES. Choose one of: "
            f"{', '.join(CAUSES)}."
        )
    name = _normalise(diagnosis)
    if name == case.cause:
        return True, f"Diagnosis: right, {name} ({CAUSES[name]})."
    remark = case.confusions.get(name)
    text = f"Diagnosis: not yet, it is not {name}."
    if remark:
        text += f" {_in_notebook(case, remark)}"
    return False, f"{text} {_graded(case, 'diagnosis', case.diagnosis_hints)}"


def _fix_verdict(case: _Case, fix: Any) -> tuple[bool, str]:
    piece = case.piece
    prefix = "Fix: not done yet." if fix is None else "Fix: not yet."
    if not callable(fix):
        return False, (
            f"{prefix} Pass your function {piece} itself (without calling it), got {_short(fix)}."
        )
    probe, error = _run_learner(fix, *case.probe())
    if error:
        return False, f"Fix: not yet. Your {piece} failed when the check called it: {error}"
    if probe is None:
        return False, (
            f"Fix: not done yet. Your {piece} returns None. Write the corrected {piece}: the "
            f"check retrains case {case.number} with it and passes when {case.criterion}."
        )
    run, error = _run_learner(case.run, fix)
    if error:
        return False, f"Fix: not yet. Retraining with your {piece} failed: {error}"
    outcome = case.judge(run, fix)
    if outcome.problem is None:
        return True, f"Fix: works. Retrained with your {piece}: {outcome.summary}."
    problem = outcome.problem or f"That does not meet the criterion yet: {case.criterion}."
    hint = _graded(case, "fix", case.fix_hints)
    return False, (
        f"Fix: not yet. Retrained with your {piece}: {outcome.summary}. {problem} {hint}"
    )


def _check(number: int, diagnosis: Any, fix: Any) -> None:
    case = _CASES[number]
    right_diagnosis, diagnosis_line = _diagnosis_verdict(case, diagnosis)
    right_fix, fix_line = _fix_verdict(case, fix)
    lines = [diagnosis_line, fix_line]
    if right_diagnosis and right_fix:
        lines.append(f"{CORRECT} Case {number} is solved.")
    print("\n".join(lines))


def check_case1(diagnosis: Any, make_optimizer: Any) -> None:
    """Case 1: ``diagnosis`` (one of :data:`CAUSES`) and a fixed ``make_optimizer()``."""
    _check(1, diagnosis, make_optimizer)


def check_case2(diagnosis: Any, prepare_inputs: Any) -> None:
    """Case 2: ``diagnosis`` and a fixed ``prepare_inputs(X_train, X_test)``."""
    _check(2, diagnosis, prepare_inputs)


def check_case3(diagnosis: Any, build_model: Any) -> None:
    """Case 3: ``diagnosis`` and a fixed ``build_model()``."""
    _check(3, diagnosis, build_model)


def check_case4(diagnosis: Any, build_model: Any) -> None:
    """Case 4: ``diagnosis`` and a fixed ``build_model()``."""
    _check(4, diagnosis, build_model)


def check_case5(diagnosis: Any, shuffle: Any) -> None:
    """Case 5: ``diagnosis`` and a fixed ``shuffle(X, y, seed)``."""
    _check(5, diagnosis, shuffle)


def check_case6(diagnosis: Any, predict_one: Any) -> None:
    """Case 6: ``diagnosis`` and a fixed ``predict_one(model, params, state, x)``."""
    _check(6, diagnosis, predict_one)


def check_case7(diagnosis: Any, make_optimizer: Any) -> None:
    """Case 7: ``diagnosis`` and a fixed ``make_optimizer()``."""
    _check(7, diagnosis, make_optimizer)


def check_case8(diagnosis: Any, make_split: Any) -> None:
    """Case 8: ``diagnosis`` and a fixed ``make_split(X, y, seed)``."""
    _check(8, diagnosis, make_split)


# --- worked solutions ------------------------------------------------------------------------
# Written with the names notebook 10 imports (np, optim, mlp) or importing what they
# need themselves, so that a solution pasted into the notebook runs there.


def solution_case1():
    """Diagnosis: learning_rate_too_high.

    Evidence: the loss of the very first step is that of an untrained
    classifier (near ln 10), so the network starts healthy. Then it climbs:
    its average over the first epoch is above 10 000, and it grows from epoch
    to epoch. One SGD step with lr = 3 changes the weights by a large fraction
    of their own size (diagnostics.update_ratios), far above the rule of thumb
    of about 1e-3: every step overshoots the minimum it aims for and lands
    higher up the other side.

    Fix: a learning rate thirty times smaller.
    """
    return optim.sgd(lr=0.1)


def solution_case2(X_train, X_test):
    """Diagnosis: inputs_not_scaled.

    Evidence: the columns' average sizes range from below 0.01 to nearly 900
    (worst area). With Xavier weights of standard deviation about 0.2,
    Σ w_i x_i is typically in the hundreds, so almost every tanh unit is
    saturated before training starts (activation_stats) and passes almost no
    gradient to the first layer (run.history.grad_norms). The output layer
    learns the one thing it can: the class frequencies, so the loss stops at
    the entropy of the labels.

    Fix: standardise every column with the mean and standard deviation of the
    training rows, and apply the same transformation to the test rows.
    """
    from nnlib.data import Standardizer

    scaler = Standardizer().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def solution_case3():
    """Diagnosis: bad_weight_scale.

    Evidence: at initialisation each hidden layer multiplies the spread of the
    signal by about 0.06 (weights of std 0.01 over 64 inputs, half of them
    zeroed by ReLU: 0.01 · √64 / √2), so after four hidden layers the
    activations are about 1e-5 of the input's size (activation_stats, "std").
    The output is then the same for every image and the loss sits at ln 10.
    The gradients of the lower layers are tiny too (grad_norms), so nothing
    recovers.

    Fix: mlp's default initialisation for ReLU, He (std √(2 / fan_in)), which
    keeps the spread of the activations from layer to layer.
    """
    return mlp([64, 64, 64, 64, 64, 10], activation="relu", dtype="float64")


def solution_case4():
    """Diagnosis: softmax_twice.

    Evidence: the model's outputs are already probabilities (each row sums to
    1), and softmax_cross_entropy applies a softmax again. With inputs in
    [0, 1] that second softmax gives the right class at most e / (e + 9), so the
    loss can never go below ln(1 + 9/e) ≈ 1.46 however well the network
    separates the digits; its gradient fades as the first softmax saturates.
    A gradient check of the Softmax layer passes: the code computes what it
    says, the model just says the wrong thing.

    Fix: let the model output logits; the loss does the softmax. (When you need
    probabilities, apply nnlib.losses.softmax to the logits after training.)
    """
    return mlp([64, 32, 10], activation="relu", dtype="float64")


def solution_case5(X, y, seed):
    """Diagnosis: labels_misaligned.

    Evidence: activations and gradients look healthy and the training loss
    falls a little (the network memorises), but the test accuracy is at chance.
    Drawing the shuffled images with their labels shows digits under the wrong
    labels: each call rng.shuffle(...) draws a new random order, so X and y were
    shuffled differently.

    Fix: draw one order and apply it to both arrays.
    """
    order = np.random.default_rng(seed).permutation(len(X))
    return X[order], y[order]


def solution_case6(model, params, state, x):
    """Diagnosis: batchnorm_train_mode_at_eval.

    Evidence: training and validation are fine, yet production gives the same
    answer for every image. In training mode a batch-norm layer normalises with
    the batch's own mean and variance; for a batch of one row x - mean(x) = 0,
    so every image becomes the same vector and gets the same answer.

    Fix: evaluation mode with the running statistics collected during training,
    which is what model.predict does.
    """
    return int(model.predict(params, x.reshape(1, -1), state).argmax())


def solution_case7():
    """Diagnosis: frozen_layer.

    Evidence: update_ratios(run.params0, run.params) is exactly 0 for 0.W,
    although that layer's gradient is not zero. The model's layers are
    0 Dense, 1 ReLU, 2 Dense, 3 ReLU, 4 Dense: the list [2, 4] leaves out the
    first Dense layer, whose 8 random lines then carve the plane for good,
    and the upper layers cannot make two spirals out of them.

    Fix: update every layer (there is nothing pretrained to protect).
    """
    return optim.adam(lr=0.01)


def solution_case8(X, y, seed):
    """Diagnosis: data_leakage.

    Evidence: the test accuracy is higher than on fresh images, and every test
    row has a training row at a small distance: its own image or another noisy
    copy of it. The network recognises images it has already seen, which says
    nothing about new ones.

    Fix: split the images first, then augment only the training part; the test
    set holds images the network has never seen in any form.
    """
    from nnlib.data import train_test_split
    from nnlib.exercises.broken_setups import add_noisy_copies

    split = train_test_split(X, y, test=0.25, seed=seed)
    X_train, y_train = add_noisy_copies(split.X_train, split.y_train, copies=4, seed=seed)
    return X_train, y_train, split.X_test, split.y_test


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "case1": solution_case1,
    "case2": solution_case2,
    "case3": solution_case3,
    "case4": solution_case4,
    "case5": solution_case5,
    "case6": solution_case6,
    "case7": solution_case7,
    "case8": solution_case8,
}


def solution_source(name: str) -> str:
    """The worked solution ``name`` (``"case1"`` … ``"case8"``) as notebook code.

    The diagnosis as an assignment, then the fixed function under the name of
    the notebook's stub (e.g. ``make_optimizer``).
    """
    key = f"case{name}" if isinstance(name, int) else str(name)
    if key not in SOLUTIONS:
        raise ValueError(f"No solution called {name!r}. Valid names are {sorted(SOLUTIONS)}.")
    case = _CASES[int(key[4:])]
    source = inspect.getsource(SOLUTIONS[key])
    source = re.sub(rf"^def solution_{key}\(", f"def {case.piece}(", source, count=1)
    return f'diagnosis = "{case.cause}"\n\n\n{source}'


def show_solution(name: str) -> None:
    """Print the worked solution of a case: ``show_solution("case1")`` (or ``show_solution(1)``)."""
    print(solution_source(name))
