"""Magnitude pruning of a trained digits network: accuracy against sparsity.

The computation behind :class:`nnlib.widgets.speed.PruningWidget` (notebook
08): :func:`train_digits_mlp` (the network pruned when none is given),
:func:`accuracy_curve` (accuracy at many sparsities), :func:`all_weights` and
:func:`prune_and_measure` (one sparsity: pruned parameters, accuracy, the
weights left, as a :class:`PruningResult`). NumPy only: no widget, no figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import pruning
from ..data import TrainTestSplit
from ..model import Sequential, mlp
from ..train import evaluate, fit
from ..tree import flatten_params
from .batch_training import digits_train_test

#: Layer sizes of the network the pruning widget trains when given none.
PRUNING_SIZES = (64, 128, 10)
#: Sparsities at which :class:`PruningWidget` precomputes its accuracy curves.
SPARSITY_GRID = tuple(np.round(np.linspace(0.0, 0.99, 34), 4))


def train_digits_mlp(seed: int = 0) -> tuple[Sequential, Any, TrainTestSplit]:
    """Train ``mlp([64, 128, 10], relu)`` (float64) on the digits: ``(model, params, split)``.

    Adam with learning rate 0.003, mini-batches of 32, 30 epochs, on the
    training part of :func:`digits_train_test`; about 97 % test accuracy.
    """
    split = digits_train_test(seed)
    model = mlp(list(PRUNING_SIZES), activation="relu", dtype="float64")
    run = fit(
        model,
        model.init(seed),
        split.X_train,
        split.y_train,
        loss="cross_entropy",
        optimizer="adam",
        lr=0.003,
        epochs=30,
        batch_size=32,
        seed=seed,
    )
    return model, run.params, split


@dataclass
class PruningResult:
    """One pruning setting: the pruned parameters, their test accuracy and the weights left."""

    sparsity: float
    scope: str
    params: Any
    accuracy: float
    kept_weights: np.ndarray
    n_weights: int

    @property
    def threshold(self) -> float:
        """Global ranking: the smallest kept ``|w|``; 0 for per-layer ranking or no pruning."""
        if self.scope != "global" or self.sparsity == 0 or self.kept_weights.size == 0:
            return 0.0
        return float(np.abs(self.kept_weights).min())


def accuracy_curve(
    model: Sequential, params: Any, X: Any, y: Any, sparsities: Any, scope: str = "global"
) -> np.ndarray:
    """Test accuracy of ``params`` pruned to each sparsity in ``sparsities`` (an array)."""
    return np.array(
        [
            evaluate(model, pruning.prune_by_magnitude(params, s, scope)[0], X, y, "cross_entropy")[
                "accuracy"
            ]
            for s in sparsities
        ]
    )


def all_weights(params: Any) -> np.ndarray:
    """Every entry of every weight matrix of ``params``, as one flat NumPy array."""
    return np.concatenate(
        [
            np.ravel(np.asarray(value))
            for name, value in flatten_params(params).items()
            if pruning.is_weight(name)
        ]
    )


def prune_and_measure(
    model: Sequential, params: Any, X: Any, y: Any, sparsity: float, scope: str
) -> PruningResult:
    """Prune ``params`` to ``sparsity`` (``scope`` ranking); measure the accuracy on ``(X, y)``."""
    pruned, _ = pruning.prune_by_magnitude(params, float(sparsity), scope)
    acc = evaluate(model, pruned, X, y, "cross_entropy")["accuracy"]
    weights = all_weights(pruned)
    n_weights = sum(r.size for r in pruning.sparsity_report(params))
    return PruningResult(float(sparsity), scope, pruned, acc, weights[weights != 0], n_weights)
