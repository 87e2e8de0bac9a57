"""Training the digits network at one mini-batch size, timed epoch by epoch.

The computation behind :class:`nnlib.widgets.speed.SpeedWidget` (notebook 08):
:func:`digits_train_test` (the data), :func:`batch_options` (the sizes
offered) and :func:`train_at_batch_size`, which trains with
:func:`nnlib.train.fit` and records the validation loss and the wall-clock
time after every epoch (:class:`SpeedResult`). NumPy only: no widget, no figure.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data import TrainTestSplit, load_digits, train_test_split
from ..model import Sequential
from ..train import History, evaluate, fit

#: Digit pixels are whole numbers 0 .. 16; dividing by this maps them to [0, 1].
PIXEL_MAX = 16.0
#: The mini-batch sizes offered by :class:`SpeedWidget` (smaller than the data), then "full".
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
#: Layer sizes of the digits network both widgets use.
DIGITS_SIZES = (64, 32, 10)


def digits_train_test(seed: int = 0, dtype: Any = np.float64) -> TrainTestSplit:
    """The digits cut 70/30 (stratified) into train and test, pixels scaled to ``[0, 1]``.

    ``X_*`` are ``(N, 64)`` arrays of ``dtype`` with values ``pixel / 16``;
    ``y_*`` are int64 digits ``(N,)``: 1,258 training and 539 test images for
    every ``seed`` (which decides which images go where).
    """
    X, y = load_digits(dtype=dtype)
    return train_test_split(X / PIXEL_MAX, y, test=0.3, seed=seed, stratify=True)


def batch_options(n_train: int) -> list[tuple[str, int]]:
    """``(label, batch size)`` pairs: :data:`BATCH_SIZES` below ``n_train``, then the full batch.

    The full batch is ``n_train`` itself, labelled ``"full (n_train)"``.
    """
    return [(str(b), b) for b in BATCH_SIZES if b < n_train] + [(f"full ({n_train})", n_train)]


def batch_label(batch_size: int, n_train: int) -> str:
    """``"32"`` for a mini-batch size, ``"full"`` when one batch holds all ``n_train`` examples."""
    return "full" if batch_size >= n_train else str(batch_size)


@dataclass
class SpeedResult:
    """One training run of :class:`SpeedWidget`.

    ``val_loss[k]`` is the validation loss after ``k`` epochs (``k = 0``: the
    initial network) and ``seconds[k]`` the wall-clock time at which it was
    reached, counted from the start of training (``seconds[0] = 0``). After a
    divergence both lists stop at the last finished epoch.
    """

    batch_size: int
    learning_rate: float
    optimizer: str
    epochs: int
    n_train: int
    history: History
    val_loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    val_accuracy: float = math.nan

    @property
    def steps(self) -> int:
        """Optimiser steps taken."""
        return self.history.steps

    @property
    def examples_per_second(self) -> float:
        """Training examples processed per second of training (``nan`` before any epoch)."""
        epochs_done = len(self.seconds) - 1
        if epochs_done < 1 or self.seconds[-1] <= 0:
            return math.nan
        return epochs_done * self.n_train / self.seconds[-1]

    @property
    def made_progress(self) -> bool:
        """True when the final validation loss is below the initial network's."""
        return len(self.val_loss) > 1 and self.val_loss[-1] < self.val_loss[0]

    @property
    def label(self) -> str:
        """Short legend text, e.g. ``"batch 32, sgd, η=0.1"``."""
        batch = batch_label(self.batch_size, self.n_train)
        return f"batch {batch}, {self.optimizer}, η={self.learning_rate:.3g}"


def describe_speed(result: SpeedResult) -> str:
    """One line: the run's speed and outcome, or where it diverged."""
    head = result.label
    if result.history.diverged:
        return f"{head}: diverged at step {result.history.diverged_at_step}"
    if not result.made_progress:
        return (
            f"{head}: no progress, the validation loss went from {result.val_loss[0]:.3g} to "
            f"{result.val_loss[-1]:.3g} (accuracy {result.val_accuracy:.1%}). The steps are too "
            "large: try a smaller learning rate."
        )
    return (
        f"{head}: {result.epochs} epochs = {result.steps} steps in {result.seconds[-1]:.2f} s "
        f"({result.examples_per_second:,.0f} examples/s); validation loss "
        f"{result.val_loss[-1]:.3g}, accuracy {result.val_accuracy:.1%}"
    )


def train_at_batch_size(
    model: Sequential,
    initial_params: Any,
    X_train: Any,
    y_train: Any,
    X_val: Any,
    y_val: Any,
    batch_size: int,
    learning_rate: float,
    optimizer: str,
    epochs: int,
    seed: int = 0,
) -> SpeedResult:
    """Train ``model`` from ``initial_params`` with mini-batches of ``batch_size``.

    The validation loss (on ``X_val``, ``y_val``) is measured before training and
    after every epoch, together with the seconds since training started, so a
    run can be drawn per epoch and per second. Training uses
    :func:`nnlib.train.fit` with cross-entropy and the named ``optimizer``.
    """
    initial = evaluate(model, initial_params, X_val, y_val, "cross_entropy")
    val_loss, seconds = [initial["loss"]], [0.0]
    accuracy = [initial["accuracy"]]
    start = time.perf_counter()

    def after_epoch(epoch: int, params: Any, history: History) -> None:
        seconds.append(time.perf_counter() - start)
        val_loss.append(history.val_loss[-1])
        accuracy.append(history.val_accuracy[-1])

    run = fit(
        model,
        initial_params,
        X_train,
        y_train,
        loss="cross_entropy",
        optimizer=optimizer,
        lr=float(learning_rate),
        epochs=int(epochs),
        batch_size=batch_size,
        seed=seed,
        X_val=X_val,
        y_val=y_val,
        callback=after_epoch,
    )
    return SpeedResult(
        batch_size,
        float(learning_rate),
        optimizer,
        int(epochs),
        len(X_train),
        run.history,
        val_loss,
        seconds,
        accuracy[-1],
    )
