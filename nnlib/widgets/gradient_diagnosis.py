"""One verdict on a deep network's gradients and training, from the numbers it measured.

:func:`diagnose` reads what the vanishing-gradients experiment
(:mod:`nnlib.widgets.gradient_flow`) measured: the gradient norm of every
weight matrix at initialisation, the training losses, the step at which the
loss became NaN or infinite (if it did) and how saturated the activations
were. It returns a :class:`Diagnosis` whose ``verdict`` is exactly one of
:data:`VERDICTS`, chosen by an ordered rule, so the status line never says two
things that contradict each other and never contradicts the numbers it prints.

Only ``math`` and NumPy are needed here: no widget, no figure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Every verdict :func:`diagnose` can give, in the order its rule tries them.
VERDICTS = ("diverged", "loss grew", "learning", "vanishing", "exploding", "saturated", "slow")

#: The loss counts as grown above ``(1 + LOSS_CHANGE) × first loss`` and as learned below
#: ``(1 - LOSS_CHANGE) × min(first loss, ln 2)`` (a 2 % change shows in 3 digits).
LOSS_CHANGE = 0.02
#: First/last gradient-norm ratio below which the gradient vanished on its way to the input ...
VANISHING_RATIO = 1e-2
#: ... and above which it grew (exploded) on its way to the input.
EXPLODING_RATIO = 1e1
#: Every gradient norm below this: the gradient vanished everywhere.
VANISHING_NORM = 1e-5
#: A gradient norm above this, in any layer, is exploding whatever the ratio.
EXPLODING_NORM = 1e3
#: A sigmoid/tanh network with more than this fraction of its hidden values in the flat part.
SATURATED_FRACTION = 0.3
#: ``ln 2``: the binary cross-entropy of always answering 1/2.
CHANCE_LOSS = math.log(2.0)


@dataclass(frozen=True)
class Diagnosis:
    """The verdict and the numbers it follows from.

    ``ratio`` is ``||∂L/∂W_first|| / ||∂L/∂W_last||`` at initialisation
    (``nan`` when it cannot be formed), ``largest`` the largest gradient norm
    (``inf``/``nan`` when a norm is not finite), ``losses`` the finite
    training losses (one per completed step), ``diverged_at_step`` the step
    whose loss was NaN/inf (``None`` if none), ``saturation`` the mean
    fraction of saturated hidden values.
    """

    verdict: str
    ratio: float
    largest: float
    finite_norms: bool
    losses: tuple[float, ...]
    diverged_at_step: int | None
    saturation: float
    activation: str

    @property
    def loss_trend(self) -> str:
        """How training went, from the losses alone: see :func:`loss_trend`."""
        return loss_trend(self.losses, self.diverged_at_step)

    def status(self) -> str:
        """One line of HTML: the verdict in bold, then the numbers it follows from."""
        return _STATUS[self.verdict](self)


def loss_trend(losses: Sequence[float], diverged_at_step: int | None = None) -> str:
    """How training went, from the losses alone (first and last loss, chance ``ln 2``).

    * ``"diverged"``: the loss became NaN or infinite (``diverged_at_step`` is set);
    * ``"grew"``: last ``> (1 + LOSS_CHANGE) × first``;
    * ``"learned"``: last ``< (1 - LOSS_CHANGE) × min(first, ln 2)``: the loss fell
      and beats always answering 1/2;
    * ``"fell"``: last ``< (1 - LOSS_CHANGE) × first`` but not below chance;
    * ``"flat"``: anything else, or fewer than two losses.
    """
    if diverged_at_step is not None:
        return "diverged"
    if len(losses) < 2:
        return "flat"
    first, last = float(losses[0]), float(losses[-1])
    if last > (1 + LOSS_CHANGE) * first:
        return "grew"
    if last < (1 - LOSS_CHANGE) * min(first, CHANCE_LOSS):
        return "learned"
    if last < (1 - LOSS_CHANGE) * first:
        return "fell"
    return "flat"


def diagnose(
    grad_norms: Sequence[float],
    losses: Sequence[float],
    diverged_at_step: int | None = None,
    saturation: float = 0.0,
    activation: str = "sigmoid",
) -> Diagnosis:
    """One verdict from the gradient norms at initialisation and the training losses.

    Args:
        grad_norms: ``||∂L/∂W||`` of every weight matrix at initialisation,
            input layer first (at least one).
        losses: the finite training loss of every completed step.
        diverged_at_step: the step whose loss was NaN/inf, or ``None``.
        saturation: mean fraction of hidden sigmoid/tanh values in the flat part.
        activation: the hidden activation (saturation is only read for sigmoid/tanh).

    The rule, tried in this order; the first that holds is the verdict:

    1. **diverged**: the loss became NaN or infinite (``diverged_at_step`` set);
    2. **loss grew**: the last loss is above ``(1 + LOSS_CHANGE)`` × the first (2 %);
    3. **learning**: the last loss is below ``(1 - LOSS_CHANGE)`` × the smaller of
       the first loss and chance ``ln 2``: it fell, and beats answering 1/2;
    4. otherwise the network has not learned (the loss is flat, or fell but
       stays above chance) and the gradients say why:

       a. **exploding**: a gradient norm is NaN or infinite;
       b. **vanishing**: ratio ``first/last < VANISHING_RATIO`` (1e-2), or every
          norm ``< VANISHING_NORM`` (1e-5);
       c. **exploding**: ratio ``> EXPLODING_RATIO`` (10), or a norm ``> EXPLODING_NORM`` (1e3);
       d. **saturated**: sigmoid/tanh with more than ``SATURATED_FRACTION`` (30 %)
          of hidden values in the flat part;
       e. **slow**: none of these (nothing vanished or exploded: the learning
          rate is too small, or the steps too few, to get below chance).

    So a loss that beats chance is always "learning", a verdict about the
    gradients is only given when the network has not learned, a loss that
    fell is never called flat, and exactly one verdict is given.
    """
    norms = np.asarray(grad_norms, dtype=np.float64).ravel()
    if norms.size == 0:
        raise ValueError("grad_norms is empty: pass the gradient norm of at least one layer.")
    if diverged_at_step is not None and (
        not isinstance(diverged_at_step, (int, np.integer)) or diverged_at_step < 0
    ):
        raise ValueError(
            f"diverged_at_step must be None or a step number >= 0, got {diverged_at_step!r}."
        )
    losses = tuple(float(v) for v in losses)
    if not all(math.isfinite(v) for v in losses):
        raise ValueError(
            "losses must be the finite losses of the completed steps; pass the step whose "
            f"loss was NaN/inf as diverged_at_step instead. Got {losses!r}."
        )
    finite = bool(np.all(np.isfinite(norms)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(norms[0] / norms[-1])
    largest = float(np.max(norms)) if finite else float("nan" if np.isnan(norms).any() else "inf")
    saturation = float(saturation) if math.isfinite(saturation) else 0.0
    trend = loss_trend(losses, diverged_at_step)
    verdict = {"diverged": "diverged", "grew": "loss grew", "learned": "learning"}.get(trend)
    if verdict is None:
        verdict = _why_not_learned(norms, ratio, finite, saturation, activation)
    return Diagnosis(
        verdict, ratio, largest, finite, losses, diverged_at_step, saturation, activation
    )


def _why_not_learned(
    norms: np.ndarray, ratio: float, finite: bool, saturation: float, activation: str
) -> str:
    """Step 4 of :func:`diagnose`: what the gradients say about a loss that did not move."""
    if not finite:
        return "exploding"
    if math.isnan(ratio):  # 0 / 0: no gradient reaches the first or the last layer
        return "vanishing"
    if ratio < VANISHING_RATIO or norms.max() < VANISHING_NORM:  # False for a NaN ratio
        return "vanishing"
    if ratio > EXPLODING_RATIO or norms.max() > EXPLODING_NORM:  # a zero last norm: ratio inf
        return "exploding"
    if activation != "relu" and saturation > SATURATED_FRACTION:
        return "saturated"
    return "slow"


# --- the status line ---------------------------------------------------------------------


def _change(d: Diagnosis) -> str:
    """``a → b in n steps`` (the first and last finite loss)."""
    if len(d.losses) < 2:
        return f"{d.losses[0]:.3g} after 1 step" if d.losses else "no completed step"
    return f"{d.losses[0]:.3g} → {d.losses[-1]:.3g} in {len(d.losses)} steps"


def _not_learned(d: Diagnosis) -> str:
    """The loss of a run that did not get below chance: flat, or fell but not enough."""
    if d.loss_trend == "fell":
        limit = (1 - LOSS_CHANGE) * CHANCE_LOSS
        return (
            f"loss fell {_change(d)} but not below {limit:.3g} "
            f"({LOSS_CHANGE:.0%} under chance, ln 2)"
        )
    return f"loss flat: {_change(d)}"


def _gradients(d: Diagnosis) -> str:
    if not d.finite_norms:
        return f"a gradient norm at initialisation is {d.largest:g}"
    return f"first/last gradient ratio {d.ratio:.3g}, largest norm {d.largest:.3g}"


def _diverged(d: Diagnosis) -> str:
    before = f" (finite losses before: {_change(d)})" if d.losses else ""
    return (
        f"<b>diverged at step {d.diverged_at_step}</b>: the loss became NaN or inf, "
        f"marked ×{before}; {_gradients(d)}"
    )


def _grew(d: Diagnosis) -> str:
    return f"<b>loss grew</b>: {_change(d)}: lower the learning rate; {_gradients(d)}"


def _learning(d: Diagnosis) -> str:
    text = f"<b>learning</b>: loss {_change(d)}; {_gradients(d)}"
    if d.finite_norms and d.ratio < VANISHING_RATIO:
        text += " (the layers near the output do the learning)"
    return text


def _vanishing(d: Diagnosis) -> str:
    if math.isnan(d.ratio):
        reason = "the first and the last layer's gradients are both 0"
    elif d.ratio < VANISHING_RATIO:
        reason = f"the first layer's gradient is {d.ratio:.2g} × the last layer's"
    else:
        reason = (
            f"every gradient norm is at most {d.largest:.2g}; the signal shrinks layer by layer"
        )
    return f"<b>vanishing</b>: {reason}; {_not_learned(d)}"


def _exploding(d: Diagnosis) -> str:
    return f"<b>exploding</b>: {_gradients(d)}; {_not_learned(d)}"


def _saturated(d: Diagnosis) -> str:
    return (
        f"<b>saturated</b>: {d.saturation:.0%} of the {d.activation} values sit in the flat "
        f"part, where f′ ≈ 0; {_not_learned(d)}"
    )


def _slow(d: Diagnosis) -> str:
    return (
        f"<b>slow</b>: {_not_learned(d)}; first/last gradient ratio {d.ratio:.3g} is between "
        f"{VANISHING_RATIO:g} and {EXPLODING_RATIO:g}, nothing vanished or exploded: "
        "raise the learning rate"
    )


_STATUS = {
    "diverged": _diverged,
    "loss grew": _grew,
    "learning": _learning,
    "vanishing": _vanishing,
    "exploding": _exploding,
    "saturated": _saturated,
    "slow": _slow,
}
