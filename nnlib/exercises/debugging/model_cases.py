"""The checks of cases 1, 3, 4 and 7 (the bug is in the optimiser or the model).

Each case is a :class:`~.case.Case`: its judge, its criterion, its graded hints
and the remarks for typical wrong diagnoses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ...diagnostics import update_ratios
from .. import broken_setups as setups
from .case import UNMET, Case, Outcome, dense_sizes, diverged, loss_summary

# case 1 ------------------------------------------------------------------------------------


def _judge_case1(run: setups.Run, fix: Callable[..., Any]) -> Outcome:
    s = run.scores
    summary = loss_summary(run)
    first, final = s["first_loss"], s["final_loss"]
    if run.history.diverged:
        return Outcome(summary, diverged(run))
    if not final < first:
        return Outcome(summary, f"The loss still grows: from {first:.3g} to {final:.3g}.")
    if final > 0.5 and final > 0.9 * first:
        return Outcome(
            summary,
            f"The loss hardly moved ({first:.3g} → {final:.3g} in 10 epochs): the steps are now "
            "too small to get anywhere in the time the setup trains.",
        )
    if final >= 0.5 or s["test_accuracy"] < 0.9:
        return Outcome(summary, UNMET)
    return Outcome(summary)


CASE1 = Case(
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
        "diagnostics.update_ratios(before, after) with the ratios of the step by hand with "
        "lr = 0.1 in section 1 (the same network, data and initial weights). By what fraction "
        "of its own size does one step change each weight matrix?",
    ),
    fix_hints=(
        "Look at how the loss of your run moves during its first steps: "
        "setups.run_case1(make_optimizer).history.step_loss[:10].",
        "Plain SGD moves every weight by lr × gradient. Try smaller learning rates, a factor "
        "of 3 to 10 apart, and keep the largest one whose training loss falls from every "
        "epoch to the next: setups.run_case1(make_optimizer).history.train_loss.",
    ),
    confusions={
        "bad_weight_scale": (
            "The weights start from mlp's default He initialisation: look at the loss at the "
            "very first step before blaming them."
        ),
        "inputs_not_scaled": "The pixels are standardised before training (standardized_digits).",
    },
)


# case 3 ------------------------------------------------------------------------------------

_CASE3_SIZES = [64, 64, 64, 64, 64, 10]


def _judge_case3(run: setups.Run, fix: Callable[..., Any]) -> Outcome:
    s = run.scores
    summary = loss_summary(run)
    sizes = dense_sizes(run.model)
    if sizes != _CASE3_SIZES:
        return Outcome(
            summary,
            f"Keep the layer sizes {_CASE3_SIZES}: the task is to make this network train "
            f"(yours has {sizes}).",
        )
    if run.history.diverged:
        return Outcome(summary, diverged(run))
    if abs(s["final_loss"] - math.log(10)) < 0.01:
        return Outcome(
            summary,
            f"The loss still sits at {s['final_loss']:.4g}, ln 10 = {math.log(10):.4g}: "
            "what a network scores that answers 1/10 for every class.",
        )
    if s["final_loss"] >= 0.5 or s["test_accuracy"] < 0.9:
        return Outcome(summary, UNMET)
    return Outcome(summary)


CASE3 = Case(
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


def _judge_case4(run: setups.Run, fix: Callable[..., Any]) -> Outcome:
    s = run.scores
    summary = loss_summary(run)
    out = run.model.predict(run.params, run.X_test, run.result.state)
    if s["final_loss"] >= 0.5 and out.min() >= 0 and out.max() <= 1:
        return Outcome(
            summary,
            f"Every output of your model lies between {out.min():.2g} and {out.max():.2g}, "
            f"and the training loss ended at {s['final_loss']:.3g}.",
        )
    if s["final_loss"] >= 0.5 or s["test_accuracy"] < 0.95:
        return Outcome(summary, UNMET)
    return Outcome(summary)


CASE4 = Case(
    number=4,
    piece="build_model",
    cause="softmax_twice",
    criterion="the final training loss is below 0.5 and the test accuracy is at least 95 %",
    run=setups.run_case4,
    judge=_judge_case4,
    probe=lambda: (),
    diagnosis_hints=(
        "The accuracy is fair, but the loss stays far above 0. Look at what the model "
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


# case 7 ------------------------------------------------------------------------------------


def _judge_case7(run: setups.Run, fix: Callable[..., Any]) -> Outcome:
    s = run.scores
    summary = f"{loss_summary(run)}"
    moved = update_ratios(run.params0, run.params)
    frozen = [name for name, ratio in moved.items() if not ratio > 0]
    if frozen:
        return Outcome(
            summary, f"In your run the weights {', '.join(frozen)} never changed from their start."
        )
    if s["test_accuracy"] < 0.9:
        return Outcome(summary, UNMET)
    return Outcome(summary)


CASE7 = Case(
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
