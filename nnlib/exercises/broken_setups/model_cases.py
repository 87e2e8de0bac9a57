"""Cases 1, 3, 4 and 7: the bug is in the optimiser or in the model.

Each case is its buggy piece ``caseK_<piece>`` (``make_optimizer`` or
``build_model``) and ``run_caseK(<piece>, seed=0)``, the rest of the setup.
The pieces carry no type hints on purpose: the learner copies one into a
notebook cell and edits it there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ... import optim
from ...model import Sequential, mlp
from .data import spiral_split, standardized_digits
from .helpers import Softmax, trainable_only
from .runs import Run, as_model, as_optimizer, train

# --- case 1 ------------------------------------------------------------------------------


def case1_make_optimizer():
    """Plain SGD, the simplest optimiser."""
    return optim.sgd(lr=3.0)


def run_case1(make_optimizer: Callable[[], Any] = case1_make_optimizer, seed: int = 0) -> Run:
    """Digits: the setup that calls ``make_optimizer``.

    Data: the 8x8 digits, 1347 training and 450 test images, every pixel
    standardised with the training images' mean and standard deviation.
    Model: 64 → 32 → 10, ReLU. Loss: softmax cross-entropy. Training: 10 epochs
    of mini-batches of 64 with the optimiser ``make_optimizer()`` returns.
    """
    model = mlp([64, 32, 10], activation="relu", dtype="float64")
    return train(
        model,
        standardized_digits(),
        loss="cross_entropy",
        optimizer=as_optimizer(make_optimizer(), "make_optimizer"),
        epochs=10,
        batch_size=64,
        seed=seed,
    )


# --- case 3 ------------------------------------------------------------------------------


def case3_build_model():
    """Four hidden ReLU layers of 64 units; small random starting weights, N(0, 0.01²)."""
    return mlp(
        [64, 64, 64, 64, 64, 10],
        activation="relu",
        init="normal",
        init_kwargs={"std": 0.01},
        dtype="float64",
    )


def run_case3(build_model: Callable[[], Any] = case3_build_model, seed: int = 0) -> Run:
    """A deeper digit classifier: the setup that calls ``build_model``.

    Data: the digits of case 1, standardised. Model: ``build_model()``. Loss:
    softmax cross-entropy. Training: 20 epochs of SGD (learning rate 0.1),
    mini-batches of 64.
    """
    return train(
        as_model(build_model(), "build_model"),
        standardized_digits(),
        loss="cross_entropy",
        optimizer=optim.sgd(lr=0.1),
        epochs=20,
        batch_size=64,
        seed=seed,
    )


# --- case 4 ------------------------------------------------------------------------------


def case4_build_model():
    """A digit classifier whose outputs are probabilities: every row sums to 1."""
    network = mlp([64, 32, 10], activation="relu", dtype="float64")
    return Sequential([*network.layers, Softmax()])


def run_case4(build_model: Callable[[], Any] = case4_build_model, seed: int = 0) -> Run:
    """Digit probabilities: the setup that calls ``build_model``.

    Data: the digits of case 1, standardised. Model: ``build_model()``. Loss:
    softmax cross-entropy (``loss="cross_entropy"``). Training: 30 epochs of SGD
    (learning rate 0.1), mini-batches of 64.
    """
    return train(
        as_model(build_model(), "build_model"),
        standardized_digits(),
        loss="cross_entropy",
        optimizer=optim.sgd(lr=0.1),
        epochs=30,
        batch_size=64,
        seed=seed,
    )


# --- case 7 ------------------------------------------------------------------------------


def case7_make_optimizer():
    """Adam on the weight layers, as in our fine-tuning script (layer 0 is the input)."""
    return trainable_only(optim.adam(lr=0.01), layers=[2, 4])


def run_case7(make_optimizer: Callable[[], Any] = case7_make_optimizer, seed: int = 0) -> Run:
    """Spirals: the setup that calls ``make_optimizer``.

    Data: two spirals of 1.5 turns, 450 training and 150 test points. Model:
    2 → 8 → 8 → 1, ReLU. Loss: binary cross-entropy. Training: 300 full-batch
    steps with the optimiser ``make_optimizer()`` returns.
    """
    model = mlp([2, 8, 8, 1], activation="relu", dtype="float64")
    return train(
        model,
        spiral_split(),
        loss="bce",
        optimizer=as_optimizer(make_optimizer(), "make_optimizer"),
        epochs=300,
        batch_size=None,
        seed=seed,
    )
