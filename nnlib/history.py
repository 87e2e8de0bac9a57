"""What a training run records: :class:`History`, and the :class:`Recorder` that writes it.

``fit`` (:mod:`nnlib.train`) hands the recorder the results of each block of
steps. The recorder keeps, per step, the mini-batch loss; at the end of each
epoch it writes the epoch's averages, the gradient norms and the validation
results, then applies the stopping rules in this order:

1. a loss that :func:`~nnlib.step.loss_diverged` (NaN/inf): stop, the run diverged;
2. the ``callback`` returns ``True``: stop;
3. early stopping: no validation improvement for ``patience`` epochs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .diagnostics import grad_norms as weight_grad_norms
from .step import BlockResult, loss_diverged

#: The advice that ends the message of a diverged run.
DIVERGENCE_HINT = "The learning rate is probably too large; try a smaller one."


@dataclass
class History:
    """What happened during training, one entry per epoch (``step_loss``: per step).

    ``train_loss``/``train_accuracy`` average the mini-batch values seen during
    the epoch (before each update); ``val_*`` are measured on the validation set
    at the end of the epoch in evaluation mode. ``grad_norms`` holds, per epoch,
    ``{layer name: ||∂L/∂W||}`` of the epoch's last mini-batch when recorded.

    With loss scaling (``fit(loss_scale=...)``), ``loss_scale`` holds the
    scale each step used (one entry per step, like ``step_loss``) and
    ``skipped_steps`` the steps (0-based, counted like ``step_loss``) whose
    gradients overflowed, so that their update was skipped. A skipped step
    is not divergence: its loss was finite. Without loss scaling both are
    empty.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    grad_norms: list[dict[str, float]] = field(default_factory=list)
    loss_scale: list[float] = field(default_factory=list)
    skipped_steps: list[int] = field(default_factory=list)
    diverged: bool = False
    diverged_at_step: int | None = None
    stopped_early: bool = False
    best_epoch: int | None = None
    message: str = ""

    @property
    def steps(self) -> int:
        """Number of optimiser steps taken."""
        return len(self.step_loss)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python copy (for printing or JSON)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class _EarlyStopping:
    """Remembers the best validation loss, its epoch and parameters, and the epochs since."""

    patience: int | None
    best_loss: float = math.inf
    best: tuple | None = None
    stale: int = 0

    def update(self, val_loss: float, params: Any, state: Any, epoch: int) -> bool:
        """Record this epoch's validation loss; True when training should stop."""
        if val_loss < self.best_loss:
            self.best_loss, self.best, self.stale = val_loss, (params, state, epoch), 0
        else:
            self.stale += 1
        return self.patience is not None and self.stale >= self.patience


class Recorder:
    """Writes a :class:`History` from the results of blocks of steps, and says when to stop.

    ``validate(params, state) -> {"loss": ..., "accuracy": ...}`` measures the
    validation set (``None``: no validation set); ``counts_correct``: the loss
    classifies, so accuracies are recorded; ``callback(epoch, params,
    history)`` runs after each epoch; ``early_stopping`` is the patience in
    epochs; ``progress_epochs``: show a progress bar over that many epochs;
    ``divergence_hint``: the advice at the end of the divergence message.
    """

    def __init__(
        self,
        *,
        validate: Callable[[Any, Any], dict[str, float]] | None = None,
        counts_correct: bool = False,
        record_grad_norms: bool = False,
        callback: Callable[[int, Any, History], bool | None] | None = None,
        early_stopping: int | None = None,
        progress_epochs: int | None = None,
        divergence_hint: str = DIVERGENCE_HINT,
    ) -> None:
        self.history = History()
        self.validate, self.counts_correct = validate, counts_correct
        self.record_grad_norms, self.callback = record_grad_norms, callback
        self.early_stopping = _EarlyStopping(early_stopping)
        self.progress_epochs = progress_epochs
        self.divergence_hint = divergence_hint
        self._bar: Any = None
        self._loss_sum, self._correct_sum, self._seen = 0.0, 0.0, 0

    def start(self) -> None:
        """Open the progress bar (if one was asked for)."""
        if self.progress_epochs is not None and self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.progress_epochs, desc="epochs")

    def close(self) -> None:
        """Close the progress bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def record(self, block: Sequence[Any], result: BlockResult) -> bool:
        """Record the steps of ``block`` (each with ``epoch``, ``size``, ``last_in_epoch``).

        Returns ``True`` when training must stop (see the module docstring).
        """
        scales = result.loss_scales or [None] * len(result.losses)
        skipped = result.skipped or [False] * len(result.losses)
        rows = zip(block, result.losses, result.correct, scales, skipped, strict=False)
        for step, value, correct, scale, was_skipped in rows:
            if loss_diverged(value):
                self._diverged(step.epoch, value)
                return True
            if scale is not None:
                self.history.loss_scale.append(scale)
            if was_skipped:
                self.history.skipped_steps.append(len(self.history.step_loss))
            self.history.step_loss.append(value)
            self._loss_sum += value * step.size
            self._correct_sum += correct
            self._seen += step.size
            if step.last_in_epoch and self._end_epoch(step.epoch, result):
                return True
        return False

    def _diverged(self, epoch: int, value: float) -> None:
        history = self.history
        at = len(history.step_loss)
        history.diverged, history.diverged_at_step = True, at
        history.message = (
            f"diverged at step {at} (epoch {epoch}): the loss became {value}. "
            f"{self.divergence_hint}"
        )

    def _end_epoch(self, epoch: int, result: BlockResult) -> bool:
        """The end of an epoch: its averages, then validation and the stopping rules."""
        history, ts = self.history, result.ts
        history.epoch.append(epoch)
        history.train_loss.append(self._loss_sum / self._seen)
        if self.counts_correct:
            history.train_accuracy.append(self._correct_sum / self._seen)
        self._loss_sum, self._correct_sum, self._seen = 0.0, 0.0, 0
        if self._bar is not None:
            self._bar.update(1)
        if self.record_grad_norms:
            history.grad_norms.append(weight_grad_norms(result.grads))
        patience_ran_out = False
        if self.validate is not None:
            val = self.validate(ts.params, ts.state)
            history.val_loss.append(val["loss"])
            if "accuracy" in val:
                history.val_accuracy.append(val["accuracy"])
            patience_ran_out = self.early_stopping.update(val["loss"], ts.params, ts.state, epoch)
        if self.callback is not None and self.callback(epoch, ts.params, history):
            history.message = history.message or f"stopped by callback after epoch {epoch}"
            return True
        if patience_ran_out:
            history.stopped_early = True
            history.message = (
                f"stopped early after epoch {epoch}: no validation improvement "
                f"for {self.early_stopping.patience} epochs"
            )
            return True
        return False


__all__ = ["History", "Recorder"]
