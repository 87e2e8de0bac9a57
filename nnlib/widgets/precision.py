"""Live widget for notebook 09 (mixed precision): compute dtype, loss scale, learning rate.

:func:`train_digits_in` trains the digits network ``mlp([64, 32, 10], relu)``
with one precision setting and measures what the 16-bit passes did;
:class:`PrecisionWidget` puts controls on it and draws three panels:

* left: the training loss per epoch, with the float32 run of the same
  settings in grey (the reference a 16-bit run should match);
* middle: the share of gradient entries that the backward pass in the
  compute dtype flushed to zero (measured on one mini-batch after every
  epoch, :func:`nnlib.mixed_precision.gradient_underflow`);
* right: the loss scale of every step (log scale), with the skipped steps
  (gradients overflowed, update skipped) marked.

**Small gradients.** The digits network is small and its gradients sit well
inside float16's range. A large network's loss is a mean over far more
numbers, so its gradients are far smaller. The ``gradient_factor`` ``c``
imitates that: the loss is multiplied by ``c`` (as if it were a mean over
``1/c`` times more numbers), so every gradient is ``c`` times smaller, and
the learning rate is divided by ``c``. In float32 that changes nothing (SGD
takes exactly the same steps, ``c`` being a power of two); in float16 it
pushes the gradients towards the underflow.

Speed: a float16 run of 10 epochs (400 steps of 32 images) takes about a
second on NumPy, whose float16 products have no fast BLAS routine (see
``benchmarks/README.md``), so the sliders act when released.

Usage in a notebook::

    from nnlib.widgets.precision import PrecisionWidget, train_digits_in
    run = train_digits_in("float16", loss_scale="dynamic")   # the plain function
    PrecisionWidget()                                          # the widget
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.ticker import NullLocator

from .. import precision
from ..data import TrainTestSplit
from ..losses import softmax_cross_entropy
from ..mixed_precision import gradient_underflow
from ..model import mlp
from ..plots import PATH_COLOR, TRAIN_COLOR, VAL_COLOR
from ..train import History, evaluate, fit
from .base import LiveWidget, learning_rate_slider, live_figure
from .speed import digits_train_test, freeze_layout

#: Layer sizes of the digits network.
DIGITS_SIZES = (64, 32, 10)
#: What the passes run in: "pure float16" stores the weights in float16 too.
COMPUTE_OPTIONS = ("float32", "float16", "bfloat16", "pure float16")
#: Dynamic scaling of the widget and the notebook: start high, grow every 100 good steps.
DYNAMIC_START, DYNAMIC_INTERVAL = 2.0**32, 100
#: Powers of two offered as static loss scales.
SCALE_POWERS = tuple(range(0, 41, 2))
#: Powers of two offered as gradient factors ``c = 2^-k``.
FACTOR_POWERS = tuple(range(0, 25, 2))


def dynamic_loss_scale() -> dict[str, Any]:
    """A fresh dynamic loss-scale state: start at 2**32, double after 100 finite steps in a row.

    Starting high costs one skipped step per halving until the scale fits;
    starting low would cost 100 steps per doubling, with gradients lost
    meanwhile. (``fit(loss_scale="dynamic")`` starts at 2**15 and waits
    2000 steps: made for runs of many thousand steps.)
    """
    return precision.loss_scale_init(
        "dynamic", initial_scale=DYNAMIC_START, growth_interval=DYNAMIC_INTERVAL
    )


def scale_options() -> list[str]:
    """The loss-scale slider's positions: ``none``, ``2^0``, ``2^2`` ... ``2^40``, ``dynamic``."""
    return ["none"] + [f"2^{k}" for k in SCALE_POWERS] + [precision.DYNAMIC]


def scale_value(label: str) -> Any:
    """What a slider position means for ``fit``: ``None``, ``2.0**k`` or ``"dynamic"``."""
    if label not in scale_options():
        raise ValueError(f"Unknown loss-scale position {label!r}; valid: {scale_options()}.")
    if label == "none":
        return None
    return label if label == precision.DYNAMIC else 2.0 ** int(label[2:])


def factor_options() -> list[tuple[str, float]]:
    """``(label, value)`` of the gradient-factor slider: ``"1"``, ``"2^-2"`` ... ``"2^-24"``."""
    return [("1" if k == 0 else f"2^-{k}", float(2.0**-k)) for k in FACTOR_POWERS]


def scale_label(loss_scale: Any) -> str:
    """``"none"``, ``"dynamic"`` or ``"2^k"`` (a power of two) / the number."""
    if loss_scale is None:
        return "none"
    if isinstance(loss_scale, (str, dict)):
        return "dynamic"
    if not (isinstance(loss_scale, (int, float)) and loss_scale > 0):
        return repr(loss_scale)
    power = math.log2(loss_scale)
    return f"2^{power:.0f}" if power == round(power) else f"{loss_scale:g}"


def weighted_cross_entropy(factor: float) -> Callable:
    """Softmax cross-entropy times ``factor``: every gradient is ``factor`` times as large.

    ``factor = 2^-16`` is the loss of a mean over 2**16 times more numbers.
    Made with ``functools.wraps``, so ``fit`` still counts the correctly
    classified examples (it recognises the cross-entropy underneath).
    """

    @functools.wraps(softmax_cross_entropy)
    def loss(logits: Any, labels: Any, check: bool = True) -> tuple[Any, Any]:
        value, grad = softmax_cross_entropy(logits, labels, check)
        return value * factor, grad * factor

    return loss


@dataclass
class PrecisionRun:
    """One training run of :func:`train_digits_in`.

    ``train_loss`` is per epoch, of the cross-entropy itself (divided by the
    gradient factor again); ``underflow[k]`` the share of gradient entries
    that the compute dtype flushed to 0 after epoch ``k`` (0 for float32);
    ``val_accuracy`` the test-set accuracy of the final weights, evaluated
    in float32; ``history`` is ``fit``'s, with the loss scale of every step
    and the skipped steps; ``params`` the final weights (float16 for pure
    float16, else float32).
    """

    compute: str
    loss_scale: Any
    learning_rate: float
    gradient_factor: float
    history: History
    train_loss: list[float] = field(default_factory=list)
    underflow: list[float] = field(default_factory=list)
    val_accuracy: float = math.nan
    params: Any = None

    @property
    def steps(self) -> int:
        """Steps taken (skipped ones included)."""
        return self.history.steps

    @property
    def skipped(self) -> int:
        """Steps whose update was skipped because their gradients overflowed."""
        return len(self.history.skipped_steps)

    @property
    def label(self) -> str:
        """E.g. ``"float16, scale dynamic, η=0.1"``."""
        return f"{self.compute}, scale {scale_label(self.loss_scale)}, η={self.learning_rate:.3g}"


def _fit_settings(compute: str, loss_scale: Any) -> tuple[Any, Any, bool]:
    """``(compute_dtype, loss_scale, pure)`` for ``fit`` from the widget's choices."""
    if compute not in COMPUTE_OPTIONS:
        raise ValueError(f"compute must be one of {list(COMPUTE_OPTIONS)}, got {compute!r}.")
    pure = compute == "pure float16"
    if isinstance(loss_scale, str) and loss_scale.lower() == precision.DYNAMIC:
        loss_scale = dynamic_loss_scale()
    compute_dtype = None if compute in ("float32", "pure float16") else compute
    return compute_dtype, loss_scale, pure


def train_digits_in(
    compute: str = "float16",
    loss_scale: Any = None,
    learning_rate: float = 0.1,
    gradient_factor: float = 1.0,
    *,
    epochs: int = 10,
    batch_size: int = 32,
    seed: int = 0,
    split: TrainTestSplit | None = None,
) -> PrecisionRun:
    """Train the digits network with one precision setting; a :class:`PrecisionRun`.

    ``compute``: ``"float32"`` (no mixed precision), ``"float16"`` or
    ``"bfloat16"`` (passes in 16 bits, float32 master weights) or ``"pure
    float16"`` (weights in float16 too). ``loss_scale``: ``None``, a number,
    or ``"dynamic"`` (:func:`dynamic_loss_scale`). ``gradient_factor`` ``c``:
    the loss is multiplied by ``c`` and the learning rate divided by it (see
    the module docstring). Plain SGD, mini-batches of ``batch_size`` from
    the training part of :func:`~nnlib.widgets.speed.digits_train_test`,
    ``epochs`` passes; the same initial weights for every setting. Bad
    settings raise ``fit``'s errors (a loss scale with pure float16, ...).
    """
    compute_dtype, scale, pure = _fit_settings(compute, loss_scale)
    factor = float(gradient_factor)
    if not (math.isfinite(factor) and factor > 0):
        raise ValueError(f"gradient_factor must be a positive number, got {gradient_factor!r}.")
    split = split if split is not None else digits_train_test(seed, dtype=np.float32)
    model = mlp(list(DIGITS_SIZES), activation="relu", dtype="float32")
    params = model.init(seed)
    if pure:
        params = precision.cast_tree(params, "float16")
    loss = weighted_cross_entropy(factor)
    X_probe, y_probe = split.X_train[:batch_size], split.y_train[:batch_size]
    measured_in = "float16" if pure else (compute_dtype or "float32")
    underflow: list[float] = []

    def measure(epoch: int, params: Any, history: History) -> None:
        """After each epoch: the share of gradient entries lost, at the scale in use."""
        in_use = history.loss_scale[-1] if history.loss_scale else None
        share = gradient_underflow(
            model, params, X_probe, y_probe, loss, measured_in, loss_scale=in_use
        )
        underflow.append(share)

    result = fit(
        model,
        params,
        split.X_train,
        split.y_train,
        loss=loss,
        lr=float(learning_rate) / factor,
        epochs=int(epochs),
        batch_size=batch_size,
        seed=seed,
        compute_dtype=compute_dtype,
        loss_scale=scale,
        callback=measure,
    )
    final = precision.cast_tree(result.params, "float32")
    with np.errstate(all="ignore"):
        accuracy = evaluate(model, final, split.X_test, split.y_test, "cross_entropy")["accuracy"]
    return PrecisionRun(
        compute=compute,
        loss_scale=loss_scale,
        learning_rate=float(learning_rate),
        gradient_factor=factor,
        history=result.history,
        train_loss=[value / factor for value in result.history.train_loss],
        underflow=underflow,
        val_accuracy=float(accuracy),
        params=result.params,
    )


def describe_run(run: PrecisionRun, reference: PrecisionRun | None = None) -> str:
    """One line: the outcome, the underflow, the skipped steps, and a verdict."""
    head = f"{run.label}, gradients × {_factor_label(run.gradient_factor)}"
    if run.history.diverged:
        return f"{head}: diverged at step {run.history.diverged_at_step}"
    parts = [f"test accuracy {run.val_accuracy:.1%}"]
    if reference is not None and reference is not run:
        parts[0] += f" (float32: {reference.val_accuracy:.1%})"
    if run.underflow:
        parts.append(f"{run.underflow[-1]:.1%} of the gradient entries underflowed")
    parts.append(f"{run.skipped} of {run.steps} steps skipped")
    text = f"{head}: " + "; ".join(parts)
    if run.steps and run.skipped == run.steps:
        return text + ". Every step overflowed: the loss scale is too large."
    if run.underflow and run.underflow[-1] >= 0.05:
        if run.compute == "pure float16":
            return text + (
                ". Many gradients underflow, and float16 weights cannot be combined with loss "
                "scaling: keep float32 master weights (compute dtype float16)."
            )
        return text + ". Many gradients underflow: scale the loss up."
    return text


def _factor_label(factor: float) -> str:
    power = math.log2(factor)
    if power == 0:
        return "1"
    return f"2^{power:.0f}" if power == round(power) else f"{factor:g}"


class PrecisionWidget(LiveWidget):
    """Controls: compute dtype, loss scale, learning rate, gradient size → three panels.

    ``result`` is the current :class:`PrecisionRun` and ``reference`` the
    float32 run with the same learning rate and gradient factor (drawn in
    grey; it is cached, so moving only the loss scale or the dtype does not
    train it again).
    """

    def __init__(
        self,
        compute: str = "float16",
        loss_scale: Any = None,
        learning_rate: float = 0.1,
        gradient_factor: float = 2.0**-18,
        epochs: int = 10,
        seed: int = 0,
    ) -> None:
        import ipywidgets as widgets

        if compute not in COMPUTE_OPTIONS:
            raise ValueError(f"compute must be one of {list(COMPUTE_OPTIONS)}, got {compute!r}.")
        scales = scale_options()
        if scale_label(loss_scale) not in scales:
            raise ValueError(
                f"loss_scale must be None, 'dynamic' or a power of two 2**k with k in "
                f"{SCALE_POWERS[0]}..{SCALE_POWERS[-1]} step 2, got {loss_scale!r}."
            )
        factors = factor_options()
        if gradient_factor not in [value for _, value in factors]:
            raise ValueError(
                f"gradient_factor must be 2**-k with k in {FACTOR_POWERS[0]}..{FACTOR_POWERS[-1]} "
                f"step 2, got {gradient_factor!r}."
            )
        self.epochs, self.seed = int(epochs), seed
        self.split = digits_train_test(seed, dtype=np.float32)
        self._references: dict[tuple[float, float], PrecisionRun] = {}
        self.reference: PrecisionRun | None = None
        style = {"description_width": "initial"}
        controls = {
            "compute": widgets.Dropdown(
                options=list(COMPUTE_OPTIONS), value=compute, description="compute dtype"
            ),
            "loss_scale": widgets.SelectionSlider(
                options=scales,
                value=scale_label(loss_scale),
                description="loss scale",
                continuous_update=False,
                style=style,
            ),
            "learning_rate": learning_rate_slider(
                learning_rate,
                min_exponent=-3,
                max_exponent=1,
                step=0.25,
                continuous_update=False,
                style=style,
            ),
            "gradient_factor": widgets.SelectionSlider(
                options=factors,
                value=gradient_factor,
                description="gradients ×",
                continuous_update=False,
                style=style,
            ),
        }
        fig, (self.ax_loss, self.ax_underflow, self.ax_scale) = live_figure(
            figsize=(11, 3.4), ncols=3
        )
        self._setup_axes()
        super().__init__(controls, fig)

    # -- model work -------------------------------------------------------------------
    def _run(self, compute: str, loss_scale: Any, lr: float, factor: float) -> PrecisionRun:
        return train_digits_in(
            compute, loss_scale, lr, factor, epochs=self.epochs, seed=self.seed, split=self.split
        )

    def compute(
        self, compute: str, loss_scale: str, learning_rate: float, gradient_factor: float
    ) -> PrecisionRun:
        """Train with the settings, and the float32 reference (once per lr and factor).

        ``loss_scale`` is the slider's position (:func:`scale_value` says what it means).
        """
        loss_scale = scale_value(loss_scale)
        key = (float(learning_rate), float(gradient_factor))
        if key not in self._references:
            self._references[key] = self._run("float32", None, *key)
        self.reference = self._references[key]
        if compute == "float32" and loss_scale is None:
            return self.reference
        return self._run(compute, loss_scale, *key)

    # -- drawing ------------------------------------------------------------------------
    def _setup_axes(self) -> None:
        """Axes, labels and the (empty) artists, made once."""
        (self._reference_line,) = self.ax_loss.plot([], [], color="0.65", lw=1.5, marker="o", ms=3)
        (self._loss_line,) = self.ax_loss.plot([], [], color=TRAIN_COLOR, lw=2, marker="o", ms=4)
        self.ax_loss.set_xlabel("epoch")
        self.ax_loss.set_ylabel("training loss (cross-entropy)")
        self.ax_loss.set_yscale("log")
        (self._underflow_line,) = self.ax_underflow.plot(
            [], [], color=VAL_COLOR, lw=2, marker="o", ms=4
        )
        self.ax_underflow.set_xlabel("epoch")
        self.ax_underflow.set_ylabel("gradient entries flushed to 0")
        self.ax_underflow.set_ylim(-0.03, 1.03)
        self.ax_underflow.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
        (self._scale_line,) = self.ax_scale.plot([], [], color=TRAIN_COLOR, lw=1.5)
        (self._skip_marks,) = self.ax_scale.plot(
            [], [], ls="", marker="x", color=PATH_COLOR, ms=6, label="skipped step"
        )
        self.ax_scale.set_xlabel("step")
        self.ax_scale.set_ylabel("loss scale")
        self.ax_scale.set_yscale("log", base=2)
        self._scale_note = self.ax_scale.text(
            0.5, 0.5, "", transform=self.ax_scale.transAxes, ha="center", va="center"
        )
        for ax in (self.ax_loss, self.ax_underflow, self.ax_scale):
            ax.grid(alpha=0.3)
            ax.yaxis.set_minor_locator(NullLocator())
        self._laid_out = False

    def redraw(self, result: PrecisionRun) -> None:
        """Update the three panels from ``result`` (and the float32 reference)."""
        reference = self.reference
        for line, run in ((self._loss_line, result), (self._reference_line, reference)):
            epochs = np.arange(1, len(run.train_loss) + 1)
            line.set_data(epochs, np.array(run.train_loss))
        self._loss_line.set_label(result.label)
        self._reference_line.set_label("float32")
        values = np.array(result.train_loss + reference.train_loss, dtype=np.float64)
        values = values[np.isfinite(values) & (values > 0)]
        low, high = (float(values.min()), float(values.max())) if values.size else (0.1, 10.0)
        self.ax_loss.set_ylim(low / 1.3, high * 1.3)
        self.ax_loss.set_xlim(0.5, self.epochs + 0.5)
        self.ax_loss.legend(loc="upper right", fontsize="x-small")
        self._underflow_line.set_data(np.arange(1, len(result.underflow) + 1), result.underflow)
        self.ax_underflow.set_xlim(0.5, self.epochs + 0.5)
        last = f"{result.underflow[-1]:.1%}" if result.underflow else "-"
        self.ax_underflow.set_title(f"underflowed at the end: {last}", fontsize="medium")
        self._draw_scale(result)
        if not self._laid_out:
            freeze_layout(self.fig)
            self._laid_out = True
        title, color = "training loss", "k"
        if result.history.diverged:
            title, color = f"diverged at step {result.history.diverged_at_step}", PATH_COLOR
        self.ax_loss.set_title(title, fontsize="medium", color=color)

    def _draw_scale(self, result: PrecisionRun) -> None:
        history = result.history
        scales = np.array(history.loss_scale, dtype=np.float64)
        n = max(result.steps, 1)
        self.ax_scale.set_xlim(-0.02 * n, 1.02 * n)
        if scales.size == 0:
            self._scale_line.set_data([], [])
            self._skip_marks.set_data([], [])
            self._scale_note.set_text("no loss scaling")
            self.ax_scale.set_ylim(0.5, 2.0)
            self.ax_scale.set_title("loss scale", fontsize="medium")
            return
        self._scale_note.set_text("")
        steps = np.arange(scales.size)
        self._scale_line.set_data(steps, scales)
        skipped = np.array(history.skipped_steps, dtype=int)
        self._skip_marks.set_data(skipped, scales[skipped] if skipped.size else [])
        self.ax_scale.set_ylim(scales.min() / 4, scales.max() * 4)
        self.ax_scale.set_title(
            f"{result.skipped} of {result.steps} steps skipped", fontsize="medium"
        )

    def describe(self, result: PrecisionRun) -> str:
        """The status line (:func:`describe_run`), in bold for a failure."""
        text = describe_run(result, self.reference)
        verdicts = ("Many gradients underflow", "too large")
        failed = result.history.diverged or any(verdict in text for verdict in verdicts)
        return f"<b>{text}</b>" if failed else text


__all__ = [
    "COMPUTE_OPTIONS",
    "DIGITS_SIZES",
    "PrecisionRun",
    "PrecisionWidget",
    "describe_run",
    "dynamic_loss_scale",
    "factor_options",
    "scale_label",
    "scale_options",
    "scale_value",
    "train_digits_in",
    "weighted_cross_entropy",
]
