"""What every broken setup shares: the :class:`Run` it returns, its training, its input checks.

A setup loads its data, calls the learner's piece, checks what the piece
returned (``as_arrays``, ``as_optimizer``, ``as_model``, ``as_class_index``:
a ``ValueError`` that says what was expected), then trains with
:func:`nnlib.train.fit` (:func:`train`) and measures the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...model import Sequential
from ...optim import Optimizer
from ...train import FitResult, evaluate, fit

Array = Any


@dataclass
class Run:
    """One training run of a case: the model, its parameters before and after, the data.

    ``params0`` are the initial parameters and ``result`` the :class:`~nnlib.train.FitResult`
    (``result.params``, ``result.state``, ``result.history``). ``X_train`` … ``y_test``
    are the arrays the model was trained and tested on, exactly as ``fit`` saw
    them. ``scores`` holds what the setup measured after training, e.g.
    ``{"test_accuracy": 0.97, "final_loss": 0.06}``; some cases add more.
    """

    model: Sequential
    params0: Any
    result: FitResult
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    loss: str
    scores: dict[str, Any] = field(default_factory=dict)

    @property
    def history(self) -> Any:
        """The training :class:`~nnlib.train.History` (``run.result.history``)."""
        return self.result.history

    @property
    def params(self) -> Any:
        """The trained parameters (``run.result.params``)."""
        return self.result.params


def train(
    model: Sequential,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    loss: str,
    optimizer: Any,
    epochs: int,
    batch_size: int | None,
    seed: int,
    validate: bool = False,
) -> Run:
    """Initialise ``model`` from ``seed``, train it with ``fit`` and measure it on the test set."""
    X_train, y_train, X_test, y_test = data
    params0 = model.init(seed)
    val = {"X_val": X_test, "y_val": y_test} if validate else {}
    with np.errstate(all="ignore"):  # an exploding run is a result to look at, not a warning
        result = fit(
            model,
            params0,
            X_train,
            y_train,
            loss=loss,
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            record_grad_norms=True,
            **val,
        )
        test = evaluate(model, result.params, X_test, y_test, loss, result.state)
    history = result.history
    scores = {
        "test_accuracy": test["accuracy"],
        "first_loss": history.train_loss[0] if history.train_loss else float("nan"),
        "final_loss": history.train_loss[-1] if history.train_loss else float("nan"),
    }
    return Run(model, params0, result, X_train, y_train, X_test, y_test, loss, scores)


def as_arrays(value: Any, names: Sequence[str], piece: str) -> list[np.ndarray]:
    """``value`` as ``len(names)`` float arrays (a tuple), or a ``ValueError`` that says why not."""
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        raise ValueError(
            f"{piece} must return {len(names)} arrays ({', '.join(names)}), got {value!r:.80}."
        )
    return [np.asarray(v) for v in value]


def as_optimizer(value: Any, piece: str) -> Optimizer:
    if not isinstance(value, Optimizer):
        raise ValueError(
            f"{piece} must return an nnlib optimiser such as optim.sgd(lr=0.1) or "
            f"optim.adam(lr=1e-3), got {value!r:.80}."
        )
    return value


def as_model(value: Any, piece: str) -> Sequential:
    if not isinstance(value, Sequential):
        raise ValueError(
            f"{piece} must return a model (an nnlib Sequential, e.g. from mlp(...)), "
            f"got {value!r:.80}."
        )
    return value


def as_class_index(value: Any) -> int:
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "iuf" or not np.isfinite(array).all():
        raise ValueError(f"predict_one must return one class index (an int), got {value!r:.80}.")
    return int(array.reshape(()))
