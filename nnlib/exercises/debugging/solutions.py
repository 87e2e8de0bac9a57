"""The worked solutions of notebook 10's cases: the diagnosis with its evidence, and the fix.

Written with the names notebook 10 imports (np, optim, mlp) or importing what
they need themselves, so that a solution pasted into the notebook runs there.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ... import optim
from ...model import mlp
from .checks import CASES


def solution_case1():
    """Diagnosis: learning_rate_too_high.

    Evidence: the loss of the very first step is that of an untrained
    classifier (2.94, near ln 10 = 2.30), so the network starts healthy. Then
    it climbs: its average over the first epoch is above 10 000, and it grows
    from epoch to epoch. One SGD step with lr = 3 from the initial weights
    changes them by about half of their own size (diagnostics.update_ratios:
    0.45 for 0.W, 0.63 for 2.W), thirty times the step with lr = 0.1 in
    section 1: every step overshoots the minimum it aims for and lands higher
    up the other side.

    Fix: a learning rate ten times smaller. Of 1, 0.3, 0.1, ... it is the
    largest whose training loss falls every epoch (with lr = 1 the loss ends
    lower but rises in one epoch; 0.1 meets the criterion too; with 0.01 the
    run is still far from done after 10 epochs).
    """
    return optim.sgd(lr=0.3)


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
    separates the digits. A gradient check of the Softmax layer passes: the code computes what it
    says, the model just says the wrong thing.

    Fix: let the model output logits; the loss does the softmax. (When you need
    probabilities, apply nnlib.losses.softmax to the logits after training.)
    """
    return mlp([64, 32, 10], activation="relu", dtype="float64")


def solution_case5(X, y, seed):
    """Diagnosis: labels_misaligned.

    Evidence: the training accuracy rises over the epochs (to 30 % after 30),
    so the network does learn something from its training rows, but the test
    accuracy stays at chance: what it learns does not carry over. That is what
    a network learns from labels that do not belong to their images: a few of
    the random pairings of its own training rows. Drawing the shuffled images
    with their labels shows digits under the wrong labels: each call
    rng.shuffle(...) draws a new random order, so X and y were shuffled
    differently.

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
    set holds the collected images the network has never seen in any form. The
    fix does not make the model better on fresh images (94.2 % before, 94.1 %
    after); it makes the test accuracy an honest estimate of that number
    (99.7 % before, 96.0 % after).
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
    case = CASES[int(key[4:])]
    source = inspect.getsource(SOLUTIONS[key])
    source = re.sub(rf"^def solution_{key}\(", f"def {case.piece}(", source, count=1)
    return f'diagnosis = "{case.cause}"\n\n\n{source}'


def show_solution(name: str) -> None:
    """Print the worked solution of a case: ``show_solution("case1")`` (or ``show_solution(1)``)."""
    print(solution_source(name))
