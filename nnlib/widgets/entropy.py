"""Live widget for notebook 07: drag a predicted distribution and watch the information measures.

The sliders set the *logits* ``z_0 … z_{C-1}`` of a classifier's output (one
slider per class, from -20 to 20). The prediction is ``q = softmax(z)``, so
the probabilities always sum to 1, whatever the sliders say. A dropdown picks
the true class, a slider the label smoothing ``ε`` (the target becomes
``y = (1 - ε)·onehot + ε/C``), another dropdown the unit (nats or bits).
Three panels, redrawn in place:

* left: the bars of the prediction ``q`` next to the target ``y``;
* middle: the gradient of the loss with respect to the logits,
  ``∂L/∂z = q - y``, as computed by :func:`nnlib.losses.softmax_cross_entropy`:
  positive bars are pushed down by gradient descent, negative bars up;
* right: the entropy ``H(q)`` of the prediction, and the cross-entropy (the
  loss) ``H(y, q) = H(y) + D(y‖q)`` as a stacked bar: the target's own
  entropy plus the KL divergence. The dashed line is ``log C``, the largest
  possible entropy.

Everything is computed from logits with ``log_softmax`` (log-sum-exp), so even
the most extreme setting (all mass on a wrong class, logits ±20) gives finite
numbers: ``q`` of the true class is then about ``e^{-40}``, the loss about 40
nats, and the gradient still has its full size.

Usage in a notebook::

    from nnlib.widgets.entropy import EntropyWidget
    EntropyWidget()
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .. import information, plots
from ..losses import softmax_cross_entropy
from .base import LiveWidget, freeze_layout, live_figure

#: The logit sliders' range.
LOGIT_RANGE = (-20.0, 20.0)
#: The units offered, and the logarithm base of each.
UNITS = {"nats": math.e, "bits": 2.0}
#: Probability of the true class below which a wrong prediction counts as "confidently wrong".
CONFIDENTLY_WRONG = 0.01
TARGET_COLOR = "0.55"
#: Gradient bars: positive (gradient descent lowers this logit) and negative (raises it).
PUSH_DOWN_COLOR = plots.PATH_COLOR
PUSH_UP_COLOR = plots.CLASS_COLORS[2]
KL_COLOR = plots.VAL_COLOR


@dataclass
class EntropyResult:
    """What one update computed, for ``C`` classes (all losses in ``units``).

    ``q = softmax(logits)`` and ``y`` (the possibly smoothed one-hot target)
    have shape ``(C,)``; ``gradient = ∂L/∂z = q - y`` of the loss in nats.
    """

    logits: np.ndarray
    true_class: int
    smoothing: float
    units: str
    q: np.ndarray
    y: np.ndarray
    entropy_q: float
    entropy_y: float
    cross_entropy: float
    kl: float
    gradient: np.ndarray

    @property
    def predicted_class(self) -> int:
        """The class with the largest predicted probability."""
        return int(np.argmax(self.q))

    @property
    def max_entropy(self) -> float:
        """``log C`` in the result's units: the entropy of the uniform distribution."""
        return math.log(len(self.q), UNITS[self.units])


def smoothed_target(true_class: int, n_classes: int, smoothing: float = 0.0) -> np.ndarray:
    """Target ``y = (1 - ε)·onehot(true_class) + ε / C``, shape ``(C,)``, float64.

    ``ε = 0`` is the one-hot label (entropy 0); ``ε > 0`` spreads a little
    probability over all classes (label smoothing), so ``H(y) > 0``.
    """
    if not 0 <= true_class < n_classes:
        raise ValueError(f"true_class must be in [0, {n_classes - 1}], got {true_class!r}.")
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"smoothing ε must be in [0, 1], got {smoothing!r}.")
    y = np.full(n_classes, smoothing / n_classes)
    y[true_class] += 1.0 - smoothing
    return y


def compute_entropy_result(
    logits: Sequence[float], true_class: int, smoothing: float = 0.0, units: str = "nats"
) -> EntropyResult:
    """All the widget shows, for logits ``(C,)``, a true class, label smoothing ``ε`` and units.

    The loss and its gradient come from :func:`nnlib.losses.softmax_cross_entropy`
    (one example); the entropies and the KL divergence from
    :mod:`nnlib.information`, all from logits, so all are finite.
    """
    if units not in UNITS:
        raise ValueError(f"Unknown units {units!r}. Valid ones are {list(UNITS)}.")
    z = np.asarray(logits, dtype=np.float64)
    y = smoothed_target(int(true_class), len(z), float(smoothing))
    loss_nats, grad = softmax_cross_entropy(z[None, :], y[None, :])
    base = UNITS[units]
    log_q = information.log_softmax_last_axis(z)
    return EntropyResult(
        logits=z,
        true_class=int(true_class),
        smoothing=float(smoothing),
        units=units,
        q=np.exp(log_q),
        y=y,
        entropy_q=information.entropy_from_logits(z, base=base),
        entropy_y=information.entropy(y, base=base),
        cross_entropy=float(loss_nats) / math.log(base),
        kl=information.kl_divergence_from_logits(y, z, base=base),
        gradient=np.asarray(grad[0], dtype=np.float64),
    )


def describe_result(result: EntropyResult) -> str:
    """One line of facts, e.g. ``"H(q) = 1.1 nats · loss H(y, q) = 1.4 = H(y) 0 + D(y‖q) 1.4"``."""
    u = result.units
    q_true = result.q[result.true_class]
    text = (
        f"H(q) = {result.entropy_q:.3g} {u} · loss H(y, q) = {result.cross_entropy:.4g} {u} "
        f"= H(y) {result.entropy_y:.3g} + D(y‖q) {result.kl:.4g} · "
        f"q[true class {result.true_class}] = {q_true:.3g}"
    )
    if result.predicted_class != result.true_class and q_true < CONFIDENTLY_WRONG:
        text += " · confidently wrong: the loss is large, and so is the gradient"
    elif result.predicted_class != result.true_class:
        text += f" · wrong: predicts class {result.predicted_class}"
    return text


class EntropyWidget(LiveWidget):
    """Sliders for the logits of ``n_classes`` classes → prediction, gradient, entropies.

    Controls: ``logit_0`` … (description "logit 0" …), ``true_class``,
    ``smoothing`` (label smoothing ε) and ``units``. ``result`` is an
    :class:`EntropyResult`; the status line states the numbers.
    """

    def __init__(
        self,
        logits: Sequence[float] = (2.0, 1.0, 0.0, -1.0),
        true_class: int = 1,
        smoothing: float = 0.0,
        units: str = "nats",
    ) -> None:
        import ipywidgets as widgets

        logits = [float(v) for v in logits]
        n = len(logits)
        if not 2 <= n <= len(plots.CLASS_COLORS):
            raise ValueError(f"Give between 2 and {len(plots.CLASS_COLORS)} logits, got {n}.")
        low, high = LOGIT_RANGE
        if not all(low <= v <= high for v in logits):
            raise ValueError(f"Logits must lie in [{low:g}, {high:g}], got {logits}.")
        smoothed_target(true_class, n, smoothing)  # clear errors for a bad class or ε
        if units not in UNITS:
            raise ValueError(f"Unknown units {units!r}. Valid ones are {list(UNITS)}.")
        style = {"description_width": "initial"}
        controls: dict[str, widgets.Widget] = {
            f"logit_{k}": widgets.FloatSlider(
                value=v,
                min=low,
                max=high,
                step=0.1,
                description=f"logit {k}",
                readout_format=".1f",
                style=style,
            )
            for k, v in enumerate(logits)
        }
        controls["true_class"] = widgets.Dropdown(
            options=[(f"class {k}", k) for k in range(n)],
            value=true_class,
            description="true class",
            style=style,
        )
        controls["smoothing"] = widgets.FloatSlider(
            value=smoothing,
            min=0.0,
            max=0.5,
            step=0.01,
            description="label smoothing ε",
            style=style,
        )
        controls["units"] = widgets.Dropdown(
            options=list(UNITS), value=units, description="units", style=style
        )
        self.n_classes = n
        fig, (self.ax_probs, self.ax_grad, self.ax_info) = live_figure(figsize=(11, 3.6), ncols=3)
        self._build_artists()
        super().__init__(controls, fig)

    # -- model work -------------------------------------------------------------------
    def compute(
        self, true_class: int, smoothing: float, units: str, **logits: float
    ) -> EntropyResult:
        """Softmax of the slider logits, the target, the loss, its gradient and the entropies."""
        z = [logits[f"logit_{k}"] for k in range(self.n_classes)]
        return compute_entropy_result(z, true_class, smoothing, units)

    # -- drawing ----------------------------------------------------------------------
    def _build_artists(self) -> None:
        """Create every bar and label once; ``redraw`` only changes their sizes and texts."""
        n, width = self.n_classes, 0.38
        classes = np.arange(n)
        ax = self.ax_probs
        self._q_bars = ax.bar(
            classes - width / 2, np.zeros(n), width, color=plots.TRAIN_COLOR, label="prediction q"
        )
        self._y_bars = ax.bar(
            classes + width / 2, np.zeros(n), width, color=TARGET_COLOR, label="target y"
        )
        self._q_texts = [
            ax.text(k - width / 2, 0, "", ha="center", va="bottom", fontsize="x-small")
            for k in classes
        ]
        ax.set(xticks=classes, yticks=[0, 0.5, 1], ylim=(0, 1.15), xlabel="class")
        ax.set_ylabel("probability")
        ax.legend(loc="upper right", fontsize="small")

        ax = self.ax_grad
        self._grad_bars = ax.bar(classes, np.zeros(n), 0.6)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set(xticks=classes, yticks=[-1, -0.5, 0, 0.5, 1], ylim=(-1.05, 1.05))
        ax.set_xlabel("class (red: descent lowers the logit, green: raises it)", fontsize="small")
        ax.set_ylabel(r"$\partial L / \partial z_k$ (L in nats)")
        ax.set_title("gradient of the loss\n∂L/∂z = q − y", fontsize="medium")

        ax = self.ax_info
        rows = [1, 0]  # H(q) on top, the loss below
        self._hq_bar = ax.barh(rows[0], 0.0, 0.5, color=plots.TRAIN_COLOR)[0]
        self._hy_bar = ax.barh(rows[1], 0.0, 0.5, color=TARGET_COLOR, label="H(y)")[0]
        self._kl_bar = ax.barh(rows[1], 0.0, 0.5, color=KL_COLOR, label="D(y‖q)")[0]
        self._hq_text = ax.text(0, rows[0], "", va="center", fontsize="small")
        self._ce_text = ax.text(0, rows[1], "", va="center", fontsize="small")
        self._max_line = ax.axvline(0, color="0.3", ls="--", lw=1)
        ax.set(yticks=rows, yticklabels=["H(q)", "H(y, q)"], ylim=(-0.6, 1.9))
        ax.legend(loc="upper right", fontsize="small", ncols=2)
        self._layout_done = False

    def _freeze_layout(self) -> None:
        """Lay the figure out once, then keep it (:func:`~nnlib.widgets.base.freeze_layout`)."""
        freeze_layout(self.fig)
        self._layout_done = True

    def redraw(self, result: EntropyResult) -> None:
        """Resize the bars and rewrite the labels and titles for ``result``."""
        for k, (bar, text) in enumerate(zip(self._q_bars, self._q_texts, strict=True)):
            bar.set_height(result.q[k])
            text.set_position((text.get_position()[0], result.q[k] + 0.01))
            text.set_text(f"{result.q[k]:.2g}")
        for bar, value in zip(self._y_bars, result.y, strict=True):
            bar.set_height(value)
        verdict = "right" if result.predicted_class == result.true_class else "wrong"
        self.ax_probs.set_title(
            f"q = softmax(z)\npredicts class {result.predicted_class} ({verdict})",
            fontsize="medium",
        )
        for bar, g in zip(self._grad_bars, result.gradient, strict=True):
            bar.set_height(g)
            bar.set_color(PUSH_DOWN_COLOR if g > 0 else PUSH_UP_COLOR)

        u = result.units
        self._hq_bar.set_width(result.entropy_q)
        self._hy_bar.set_width(result.entropy_y)
        self._kl_bar.set_x(result.entropy_y)
        self._kl_bar.set_width(result.kl)
        self._hq_text.set_text(f" {result.entropy_q:.3g}")
        self._hq_text.set_x(result.entropy_q)
        self._ce_text.set_text(f" {result.cross_entropy:.4g}")
        self._ce_text.set_x(result.cross_entropy)
        self._max_line.set_xdata([result.max_entropy, result.max_entropy])
        right = max(result.cross_entropy, result.max_entropy) * 1.35
        self.ax_info.set_xlim(0, right)
        self.ax_info.set_xlabel(f"{u} (dashed: log C = {result.max_entropy:.3g})")
        self.ax_info.set_title(
            "loss H(y, q) = H(y) + D(y‖q)\n"
            f"{result.cross_entropy:.4g} = {result.entropy_y:.3g} + {result.kl:.4g} {u}",
            fontsize="medium",
        )
        if not self._layout_done:
            self._freeze_layout()

    def describe(self, result: EntropyResult) -> str:
        """The status line: the numbers, in bold for a confidently wrong prediction."""
        text = describe_result(result)
        return f"<b>{text}</b>" if "confidently wrong" in text else text


__all__ = [
    "EntropyResult",
    "EntropyWidget",
    "compute_entropy_result",
    "describe_result",
    "smoothed_target",
]
