"""Cases 2, 5, 6 and 8: the bug is in the code around the network.

The pieces prepare the inputs (case 2), shuffle the rows (5), make a
prediction in production (6) and split the data (8). Each case is its buggy
piece ``caseK_<piece>`` and ``run_caseK(<piece>, seed=0)``, the rest of the
setup. The pieces carry no type hints on purpose: the learner copies one into a
notebook cell and edits it there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ... import optim
from ...data import Standardizer, train_test_split
from ...model import Sequential, mlp
from ...train import evaluate
from .data import collected_digits, digits_split, sorted_digits, tumour_split
from .helpers import add_noisy_copies
from .runs import Run, as_arrays, as_class_index, train

Array = Any


# --- case 2 ------------------------------------------------------------------------------


def case2_prepare_inputs(X_train, X_test):
    """Tame outliers: clip every feature at the 99th percentile of the training rows."""
    high = np.percentile(X_train, 99, axis=0)
    return np.minimum(X_train, high), np.minimum(X_test, high)


def run_case2(
    prepare_inputs: Callable[[Array, Array], Any] = case2_prepare_inputs, seed: int = 0
) -> Run:
    """Tumours: the setup that calls ``prepare_inputs``.

    Data: 30 measurements of 569 tumours (427 for training, 142 for testing),
    labelled benign (1) or malignant (0); ``prepare_inputs(X_train, X_test)``
    turns the measurements into the network's inputs. Model: 30 → 16 → 1, tanh.
    Loss: binary cross-entropy. Training: 50 epochs of SGD (learning rate 0.1),
    mini-batches of 32.
    """
    X_train, y_train, X_test, y_test = tumour_split()
    shapes = (X_train.shape, X_test.shape)
    prepared = as_arrays(prepare_inputs(X_train, X_test), ["X_train", "X_test"], "prepare_inputs")
    for name, got, want in zip(("X_train", "X_test"), prepared, shapes, strict=True):
        if got.shape != want:
            raise ValueError(
                f"prepare_inputs returned {name} of shape {got.shape}, but it must keep the "
                f"shape {want}: one row per tumour, one column per feature."
            )
    model = mlp([30, 16, 1], activation="tanh", dtype="float64")
    data = (prepared[0].astype(np.float64), y_train, prepared[1].astype(np.float64), y_test)
    return train(
        model, data, loss="bce", optimizer=optim.sgd(lr=0.1), epochs=50, batch_size=32, seed=seed
    )


# --- case 5 ------------------------------------------------------------------------------


def case5_shuffle(X, y, seed):
    """Shuffle the rows before splitting: the images arrive sorted by digit."""
    rng = np.random.default_rng(seed)
    X, y = X.copy(), y.copy()
    rng.shuffle(X)
    rng.shuffle(y)
    return X, y


#: Case 5 trains on the first 75 % of the shuffled rows and tests on the rest.
TRAIN_FRACTION = 0.75


def run_case5(shuffle: Callable[[Array, Array, int], Any] = case5_shuffle, seed: int = 0) -> Run:
    """Digits that arrive sorted: the setup that calls ``shuffle``.

    Data: all 1797 digits, sorted by label (every 0 first, then every 1, …).
    ``shuffle(X, y, seed)`` puts them in random order; the first 75 % of the
    rows train, the last 25 % test. Pixels standardised with the training rows'
    statistics. Model: 64 → 32 → 10, ReLU. Loss: softmax cross-entropy. Training:
    30 epochs of SGD (learning rate 0.1), mini-batches of 64, with the test
    accuracy recorded after every epoch (``history.val_accuracy``).
    """
    X, y = sorted_digits()
    X_s, y_s = as_arrays(shuffle(X.copy(), y.copy(), seed), ["X", "y"], "shuffle")
    if X_s.shape != X.shape or y_s.shape != y.shape:
        raise ValueError(
            f"shuffle returned X {X_s.shape} and y {y_s.shape}; it must return every row "
            f"once: X {X.shape} and y {y.shape}."
        )
    n_train = int(TRAIN_FRACTION * len(X))
    scaler = Standardizer().fit(X_s[:n_train])
    data = (
        scaler.transform(X_s[:n_train]),
        y_s[:n_train].astype(np.int64),
        scaler.transform(X_s[n_train:]),
        y_s[n_train:].astype(np.int64),
    )
    model = mlp([64, 32, 10], activation="relu", dtype="float64")
    run = train(
        model,
        data,
        loss="cross_entropy",
        optimizer=optim.sgd(lr=0.1),
        epochs=30,
        batch_size=64,
        seed=seed,
        validate=True,
    )
    return run


# --- case 6 ------------------------------------------------------------------------------


def case6_predict_one(model, params, state, x):
    """The digit in one image ``x`` (64 pixels), run through the model as the training step does."""
    out, _ = model.forward(params, x.reshape(1, -1), train=True, state=state)
    return int(out.argmax())


def run_case6(
    predict_one: Callable[[Sequential, Any, Any, Array], Any] = case6_predict_one, seed: int = 0
) -> Run:
    """A digit reader in production: the setup that calls ``predict_one``.

    Data: the digits of case 1, raw pixels 0 … 16 (batch normalisation after the
    first layer rescales them). Model: 64 → 32 → batch norm → ReLU → 10. Loss:
    softmax cross-entropy. Training: 20 epochs of SGD (learning rate 0.1),
    mini-batches of 64, validated on the 450 test images after every epoch.
    Production: then each test image is sent on its own through
    ``predict_one(model, params, state, x)``, as a service answers one request
    at a time. ``scores["production_accuracy"]`` is the fraction of right
    answers, ``scores["answers"]`` the answers themselves and
    ``scores["agreement"]`` the fraction equal to the validated model's answers
    (``model.predict`` on all test images at once, with the running statistics).
    """
    model = mlp([64, 32, 10], activation="relu", batchnorm=True, dtype="float64")
    run = train(
        model,
        digits_split(),
        loss="cross_entropy",
        optimizer=optim.sgd(lr=0.1),
        epochs=20,
        batch_size=64,
        seed=seed,
        validate=True,
    )
    answers = np.array(
        [as_class_index(predict_one(model, run.params, run.result.state, x)) for x in run.X_test]
    )
    validated = model.predict(run.params, run.X_test, run.result.state).argmax(axis=1)
    run.scores["production_accuracy"] = float(np.mean(answers == run.y_test))
    run.scores["agreement"] = float(np.mean(answers == validated))
    run.scores["answers"] = answers
    return run


# --- case 8 ------------------------------------------------------------------------------


def case8_make_split(X, y, seed):
    """More data from the same images: four noisy copies of each, then a 75 % / 25 % split."""
    X_all, y_all = add_noisy_copies(X, y, copies=4, seed=seed)
    split = train_test_split(X_all, y_all, test=0.25, seed=seed)
    return split.X_train, split.y_train, split.X_test, split.y_test


def run_case8(
    make_split: Callable[[Array, Array, int], Any] = case8_make_split, seed: int = 0
) -> Run:
    """More data from 300 digits: the setup that calls ``make_split``.

    Data: 300 digits collected for the project; ``make_split(X, y, seed)`` turns
    them into training and test rows. Pixels standardised with the training
    rows' statistics. Model: 64 → 64 → 10, ReLU. Loss: softmax cross-entropy.
    Training: 40 epochs of Adam (learning rate 0.001), mini-batches of 32.
    Afterwards the model also meets the other 1497 digits of the data set, new
    digits that no part of the setup has seen: ``scores["fresh_accuracy"]`` is
    its accuracy on them, ``scores["fresh_images"]`` their number.
    """
    X, y, X_fresh, y_fresh = collected_digits()
    names = ["X_train", "y_train", "X_test", "y_test"]
    X_train, y_train, X_test, y_test = as_arrays(
        make_split(X.copy(), y.copy(), seed), names, "make_split"
    )
    for name, a in zip(("X_train", "X_test"), (X_train, X_test), strict=True):
        if a.ndim != 2 or a.shape[1] != X.shape[1] or len(a) == 0:
            raise ValueError(f"make_split returned {name} of shape {a.shape}; expected (rows, 64).")
    scaler = Standardizer().fit(X_train)
    data = (
        scaler.transform(X_train),
        y_train.astype(np.int64),
        scaler.transform(X_test),
        y_test.astype(np.int64),
    )
    model = mlp([64, 64, 10], activation="relu", dtype="float64")
    run = train(
        model,
        data,
        loss="cross_entropy",
        optimizer=optim.adam(lr=1e-3),
        epochs=40,
        batch_size=32,
        seed=seed,
    )
    fresh = evaluate(model, run.params, scaler.transform(X_fresh), y_fresh, "cross_entropy")
    run.scores["fresh_accuracy"] = fresh["accuracy"]
    run.scores["fresh_images"] = len(X_fresh)
    return run
