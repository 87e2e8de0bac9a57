"""What a debugging case is: the causes to choose from, the :class:`Case` record, its outcome.

A case's check retrains the setup with the learner's fix and hands the run to
the case's *judge*, which returns an :class:`Outcome`: a summary of what it
measured and, when the criterion is not met, what is wrong. The helpers below
write the summaries the judges share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...layers import Dense
from ..broken_setups import Run

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


@dataclass
class Outcome:
    """What the check measured on the retrained run: a summary, and what is wrong (or None)."""

    summary: str
    problem: str | None = None


@dataclass(frozen=True)
class Case:
    number: int
    piece: str  # the name of the stub function in the notebook
    cause: str
    criterion: str
    run: Callable[..., Run]
    judge: Callable[[Run, Callable[..., Any]], Outcome]
    probe: Callable[[], tuple]  # arguments for one quick call of the piece
    diagnosis_hints: tuple[str, str]
    fix_hints: tuple[str, str]
    confusions: dict[str, str] = field(default_factory=dict)


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def loss_summary(run: Run) -> str:
    s, history = run.scores, run.history
    if not history.train_loss:
        return f"the loss became NaN or infinite at step {history.diverged_at_step}, in epoch 0"
    return (
        f"training loss {s['first_loss']:.3g} → {s['final_loss']:.3g} over "
        f"{len(history.train_loss)} epochs, test accuracy {pct(s['test_accuracy'])}"
    )


def diverged(run: Run) -> str:
    """What a diverged run did, from its step losses (not ``fit``'s guess at the cause)."""
    history = run.history
    first = ", ".join(f"{loss:.3g}" for loss in history.step_loss[:4])
    return f"It diverged; the losses of its first steps were {first}."


#: A judge's ``problem`` when the run simply misses the criterion (the check states it).
UNMET = ""


def dense_sizes(model: Any) -> list[int]:
    """``[n_in, n_out of every Dense layer]`` of a model, in order, inside residual blocks too."""

    def dense_layers(layers: list[Any]) -> list[Dense]:
        found: list[Dense] = []
        for layer in layers:
            if isinstance(layer, Dense):
                found.append(layer)
            else:  # a Residual block (or any layer that holds layers of its own)
                found.extend(dense_layers(getattr(layer, "layers", [])))
        return found

    dense = dense_layers(getattr(model, "layers", []))
    return [dense[0].n_in, *(layer.n_out for layer in dense)] if dense else []
