"""Live widget for notebook 04: vanishing and exploding gradients in a deep network.

Choose the depth (number of hidden layers of 32 units), the activation, the
initialisation, batch normalisation, residual connections and the learning
rate. Every change builds the network anew, measures it at initialisation and
trains it for a few full-batch steps of gradient descent with
:func:`nnlib.train.fit`. Three panels show

* left: the gradient norm ``||∂L/∂W||`` of every weight matrix at
  initialisation (bars, log scale, input layer on the left) and after training
  (dots). Bars that fall from right to left are vanishing gradients; bars that
  rise are exploding ones;
* middle: a histogram of every hidden layer's activations at initialisation,
  one row per layer (first layer at the bottom), colour = fraction of values
  in the bin. Mass piled at the ends of a sigmoid/tanh row is saturation;
  a row squeezed into one bin means the signal died out (or blew up past
  the right edge, for ReLU);
* right: the training loss after every step (log scale), with the chance
  level ``ln 2`` of a binary problem dashed.

The status line names the problem: "vanishing", "exploding", "saturated",
"diverged at step k", or "healthy".

Speed: 256 points, 60 full-batch steps and a figure whose artists are created
once keep an update at depth 10 near 0.1 s on a 2-core CPU. The depth slider
retrains only when released (``continuous_update=False``).

Usage in a notebook::

    from nnlib.widgets.vanishing import VanishingGradientsWidget
    VanishingGradientsWidget()
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import Standardizer, make_moons
from ..diagnostics import activation_stats, grad_norms, gradient_norm_ratio
from ..model import Sequential, mlp
from ..train import History, fit
from .base import LiveWidget, learning_rate_slider, live_figure

ACTIVATION_NAMES = ("sigmoid", "tanh", "relu")

#: Initialisations offered by the widget: label -> (initialiser name, its keyword arguments).
INITIALIZATIONS: dict[str, tuple[str, dict[str, float]]] = {
    "xavier": ("xavier", {}),
    "he": ("he", {}),
    "normal(0.01)": ("normal", {"std": 0.01}),
    "normal(1.0)": ("normal", {"std": 1.0}),
}

#: The x range of the activation histograms; ReLU values above 3 land in the last bin.
HISTOGRAM_RANGES: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, 3.0),
}
HISTOGRAM_BINS = 40

#: First/last gradient-norm ratio below which the gradient counts as vanishing ...
VANISHING_RATIO = 1e-2
#: ... and above which it counts as exploding.
EXPLODING_RATIO = 1e1
#: Gradient norms all below this: vanishing everywhere (the signal died out on the way).
VANISHING_NORM = 1e-5
#: A gradient norm above this, in any layer, is exploding whatever the ratio.
EXPLODING_NORM = 1e3
#: A hidden layer with more than this fraction of sigmoid/tanh values in the flat part is saturated.
SATURATED_FRACTION = 0.3
#: Lowest value drawn on the log-scale axes (a norm of exactly 0 sits here).
LOG_FLOOR = 1e-30
#: ``ln 2``: the binary cross-entropy of always answering 1/2.
CHANCE_LOSS = math.log(2.0)
#: A last loss above this multiple of the first one counts as "grew" ...
GREW_RATIO = 1.5
#: ... and one above this fraction of ``min(first loss, ln 2)`` as "stuck".
STUCK_RATIO = 0.98


def make_vanishing_data(
    n_samples: int = 256, seed: int = 0, dtype: Any = "float32"
) -> tuple[np.ndarray, np.ndarray]:
    """Two moons, standardised: ``X`` ``(n_samples, 2)`` of ``dtype``, ``y`` ``(n_samples,)`` int64.

    Each column of ``X`` is shifted and scaled to mean 0 and standard deviation
    1, ``x ← (x - mean) / std`` (:class:`nnlib.data.Standardizer`), so the first
    layer sees unit-scale inputs and any shrinking or growing after it comes
    from the network itself. The points are made and standardised in float64,
    then cast to ``dtype``: float32 (the default) keeps the widget fast, float64
    gives training results that are the same on every machine.
    """
    X, y = make_moons(n_samples, noise=0.15, seed=seed, dtype=np.float64)
    X = Standardizer().fit_transform(X)
    return X.astype(dtype), y


def build_network(
    depth: int,
    activation: str = "sigmoid",
    init: str = "xavier",
    batchnorm: bool = False,
    residual: bool = False,
    width: int = 32,
    n_inputs: int = 2,
    dtype: Any = "float32",
) -> Sequential:
    """``mlp([n_inputs] + [width] * depth + [1])`` with one of :data:`INITIALIZATIONS`.

    ``depth`` counts hidden layers. ``init`` is a key of :data:`INITIALIZATIONS`
    (``"xavier"``, ``"he"``, ``"normal(0.01)"``, ``"normal(1.0)"``). With
    ``residual=True`` every hidden layer after the first becomes ``h + f(h W + b)``.
    ``dtype`` is the dtype of the parameters (``"float32"`` or ``"float64"``).
    """
    if not isinstance(depth, (int, np.integer)) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"depth (number of hidden layers) must be an integer >= 1, got {depth!r}.")
    if activation not in ACTIVATION_NAMES:
        raise ValueError(
            f"Unknown activation {activation!r}. Choose one of {list(ACTIVATION_NAMES)}."
        )
    if init not in INITIALIZATIONS:
        raise ValueError(f"Unknown initialisation {init!r}. Choose one of {list(INITIALIZATIONS)}.")
    init_name, init_kwargs = INITIALIZATIONS[init]
    return mlp(
        [n_inputs] + [int(width)] * int(depth) + [1],
        activation=activation,
        init=init_name,
        init_kwargs=init_kwargs,
        batchnorm=batchnorm,
        residual=residual,
        dtype=dtype,
    )


def activation_histograms(
    activations: list[np.ndarray], low: float, high: float, bins: int = HISTOGRAM_BINS
) -> np.ndarray:
    """One histogram per layer, as the rows of an image ``(n_layers, bins)``.

    ``activations[i]`` holds layer ``i``'s values (any shape). Bins split
    ``[low, high]`` evenly; values outside are counted in the first or last bin
    and NaN/inf values are left out. Row ``i`` is the fraction of layer ``i``'s
    values in each bin, so every row with finite values sums to 1.
    """
    if not high > low:
        raise ValueError(f"The histogram range needs low < high, got ({low}, {high}).")
    edges = np.linspace(low, high, bins + 1)
    rows = np.zeros((len(activations), bins))
    for i, values in enumerate(activations):
        values = np.asarray(values, dtype=np.float64).ravel()
        values = np.clip(values[np.isfinite(values)], low, high)
        counts, _ = np.histogram(values, bins=edges)
        rows[i] = counts / max(values.size, 1)
    return rows


@dataclass
class VanishingResult:
    """What one update measured and trained.

    ``init_grad_norms``/``final_grad_norms``: ``{"0.W": ||∂L/∂W||, ...}`` at
    initialisation and at the last completed step (input layer first).
    ``activations``: each hidden activation layer's output ``(N, width)`` at
    initialisation; ``saturation``: the fraction of each layer's values in the
    activation's flat part (sigmoid/tanh) or exactly 0 (ReLU).
    """

    depth: int
    activation: str
    init: str
    batchnorm: bool
    residual: bool
    learning_rate: float
    init_grad_norms: dict[str, float]
    final_grad_norms: dict[str, float]
    activations: list[np.ndarray]
    saturation: list[float]
    history: History

    @property
    def ratio(self) -> float:
        """``||∂L/∂W_first|| / ||∂L/∂W_last||`` at initialisation."""
        return gradient_norm_ratio(self.init_grad_norms)

    @property
    def problems(self) -> list[str]:
        """The names of what went wrong: ``"vanishing"``, ``"exploding"``, ``"saturated"``,
        ``"diverged"`` (any of them, in this order), or ``[]`` when all is well.

        * vanishing: first/last gradient ratio below :data:`VANISHING_RATIO`, or
          every gradient norm below :data:`VANISHING_NORM`;
        * exploding: ratio above :data:`EXPLODING_RATIO`, or a gradient norm
          above :data:`EXPLODING_NORM`, or a non-finite gradient;
        * saturated: a sigmoid/tanh network with more than
          :data:`SATURATED_FRACTION` of its hidden values in the flat part;
        * diverged: the training loss became NaN or infinite.
        """
        norms = np.array(list(self.init_grad_norms.values()), dtype=np.float64)
        ratio = self.ratio
        found = []
        if (np.isfinite(ratio) and ratio < VANISHING_RATIO) or norms.max() < VANISHING_NORM:
            found.append("vanishing")
        if (
            not np.all(np.isfinite(norms))
            or (np.isfinite(ratio) and ratio > EXPLODING_RATIO)
            or norms.max() > EXPLODING_NORM
        ):
            found.append("exploding")
        if self.activation != "relu" and self.mean_saturation > SATURATED_FRACTION:
            found.append("saturated")
        if self.history.diverged:
            found.append("diverged")
        return found

    @property
    def outcome(self) -> str:
        """``"diverged"``, ``"grew"``, ``"stuck"`` or ``"learned"``: how training went.

        *grew*: the last loss is above :data:`GREW_RATIO` times the first;
        *stuck*: it is above :data:`STUCK_RATIO` times the smaller of the first
        loss and the chance level ``ln 2`` (the network learned nothing).
        """
        losses = self.history.step_loss
        if self.history.diverged:
            return "diverged"
        if len(losses) < 2:
            return "learned"
        if losses[-1] > GREW_RATIO * losses[0]:
            return "grew"
        if losses[-1] > STUCK_RATIO * min(losses[0], CHANCE_LOSS):
            return "stuck"
        return "learned"

    @property
    def mean_saturation(self) -> float:
        """Mean over the hidden layers of :attr:`saturation` (0 when there is none)."""
        finite = [s for s in self.saturation if math.isfinite(s)]
        return float(np.mean(finite)) if finite else 0.0


def run_experiment(
    depth: int = 10,
    activation: str = "sigmoid",
    init: str = "xavier",
    batchnorm: bool = False,
    residual: bool = False,
    learning_rate: float = 0.3,
    steps: int = 60,
    width: int = 32,
    n_samples: int = 256,
    seed: int = 0,
    dtype: Any = "float32",
) -> VanishingResult:
    """Build the network, measure it at initialisation, train it ``steps`` full-batch steps.

    The loss is binary cross-entropy on :func:`make_vanishing_data`; the
    optimiser is plain gradient descent ``W ← W - η ∂L/∂W`` with
    ``η = learning_rate``, so a gradient that vanished means a layer that does
    not move. ``seed`` fixes the data and the initial weights; ``dtype`` is the
    dtype of the data and the parameters. A run whose loss becomes NaN/inf stops
    there (``history.diverged_at_step``).
    """
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}.")
    X, y = make_vanishing_data(n_samples, seed, dtype)
    model = build_network(depth, activation, init, batchnorm, residual, width, dtype=dtype)
    params = model.init(seed)
    with np.errstate(all="ignore"):
        _, grads, _, _ = model.loss_and_grads(params, X, y, "bce", check=False)
        stats = activation_stats(model, params, X, train=True, return_values=True, seed=seed)
    hidden = [s for s in stats if s["kind"] == activation]
    result = fit(
        model,
        params,
        X,
        y,
        loss="bce",
        optimizer="sgd",
        lr=float(learning_rate),
        epochs=int(steps),
        seed=seed,
        record_grad_norms=True,
    )
    init_norms = grad_norms(grads)
    final_norms = result.history.grad_norms[-1] if result.history.grad_norms else {}
    return VanishingResult(
        depth=int(depth),
        activation=activation,
        init=init,
        batchnorm=bool(batchnorm),
        residual=bool(residual),
        learning_rate=float(learning_rate),
        init_grad_norms=init_norms,
        final_grad_norms=final_norms,
        activations=[s["values"] for s in hidden],
        saturation=[s["saturated"] for s in hidden],
        history=result.history,
    )


def describe_result(result: VanishingResult) -> str:
    """One line of HTML for the status label: the problems found, then the training outcome."""
    facts = []
    problems = result.problems
    ratio = result.ratio
    largest = max(result.init_grad_norms.values())
    if "vanishing" in problems and ratio < VANISHING_RATIO:
        facts.append(
            f"<b>vanishing</b>: the first layer's gradient is {ratio:.2g} × the last layer's"
        )
    elif "vanishing" in problems:
        facts.append(
            f"<b>vanishing</b>: every gradient norm is at most {largest:.2g}; "
            "the signal shrinks layer by layer"
        )
    if "exploding" in problems:
        facts.append(
            f"<b>exploding</b>: first/last gradient ratio {ratio:.3g}, largest norm {largest:.3g}"
        )
    if "saturated" in problems:
        facts.append(
            f"<b>saturated</b>: {result.mean_saturation:.0%} of the {result.activation} values "
            "sit in the flat part, where f′ ≈ 0"
        )
    if not facts:
        facts.append(f"<b>healthy</b>: first/last gradient ratio {ratio:.3g}")
    history = result.history
    losses = history.step_loss
    if history.diverged:
        facts.append(
            f"<b>diverged at step {history.diverged_at_step}</b> (the loss became NaN or inf)"
        )
    elif losses:
        change = f"{losses[0]:.3g} → {losses[-1]:.3g} in {len(losses)} steps"
        outcome = result.outcome
        if outcome == "grew":
            facts.append(f"<b>loss grew</b> {change}: lower the learning rate")
        elif outcome == "stuck":
            facts.append(f"<b>loss stuck</b> {change}")
        else:
            facts.append(f"loss {change}")
    return "; ".join(facts)


class VanishingGradientsWidget(LiveWidget):
    """Gradient norms, activation histograms and training of a deep MLP, live.

    Controls (``widget.controls[name]``): ``depth`` (hidden layers, 2-20),
    ``activation``, ``init`` (see :data:`INITIALIZATIONS`), ``batchnorm``,
    ``residual`` and ``learning_rate`` (log scale, 1e-3 to 10).
    ``widget.result`` is the latest :class:`VanishingResult`.
    """

    def __init__(self, steps: int = 60, n_samples: int = 256, width: int = 32) -> None:
        import ipywidgets as widgets

        self.steps = int(steps)
        self.n_samples = int(n_samples)
        self.width = int(width)
        style = {"description_width": "initial"}
        controls = {
            "depth": widgets.IntSlider(
                value=10,
                min=2,
                max=20,
                description="depth",
                continuous_update=False,
                style=style,
            ),
            "activation": widgets.Dropdown(
                options=ACTIVATION_NAMES, value="sigmoid", description="activation", style=style
            ),
            "init": widgets.Dropdown(
                options=list(INITIALIZATIONS),
                value="xavier",
                description="initialisation",
                style=style,
            ),
            "batchnorm": widgets.Checkbox(value=False, description="batch norm", indent=False),
            "residual": widgets.Checkbox(value=False, description="residual", indent=False),
            "learning_rate": learning_rate_slider(
                0.3, min_exponent=-3, max_exponent=1, step=0.1, continuous_update=False, style=style
            ),
        }
        fig, (self.ax_grads, self.ax_hist, self.ax_loss) = live_figure(figsize=(9.6, 3.5), ncols=3)
        self.fig = fig
        self._build_artists()
        super().__init__(controls, fig)

    def _build_artists(self) -> None:
        """Create the artists once; :meth:`redraw` changes their data (bars are rebuilt)."""
        from matplotlib.ticker import NullFormatter

        self.bars: Any = None
        (self.final_dots,) = self.ax_grads.plot([], [], "o", color="black", ms=4)
        self.ax_grads.set_yscale("log")
        self.ax_grads.yaxis.set_minor_formatter(NullFormatter())
        self.ax_grads.set_xlabel("weight matrix (bars: init, dots: trained)")
        self.ax_grads.set_ylabel("‖∂L/∂W‖")
        self.ax_grads.grid(axis="y", alpha=0.3)
        self.image = self.ax_hist.imshow(
            np.zeros((2, HISTOGRAM_BINS)),
            origin="lower",
            aspect="auto",
            cmap="viridis",
            interpolation="nearest",
            extent=(0.0, 1.0, 0.5, 2.5),
        )
        self.ax_hist.set_xlabel("activation value")
        self.ax_hist.set_ylabel("hidden layer")
        (self.loss_line,) = self.ax_loss.plot([], [], color="C0", lw=1.5, marker="o", ms=2)
        self.chance_line = self.ax_loss.axhline(CHANCE_LOSS, color="gray", ls="--", lw=1)
        self.diverged_marker = self.ax_loss.axvline(0, color="C3", ls="--", lw=1, visible=False)
        self.ax_loss.set_yscale("log")
        self.ax_loss.yaxis.set_minor_formatter(NullFormatter())
        self.ax_loss.set_xlabel("step")
        self.ax_loss.set_ylabel("training loss")
        self.ax_loss.grid(True, which="major", alpha=0.3)
        # Fixed margins instead of a layout engine: nothing to re-measure on each redraw.
        self.fig.set_layout_engine("none")
        for ax in (self.ax_grads, self.ax_hist, self.ax_loss):
            ax.tick_params(labelsize=8)
        self.ax_grads.set_position((0.085, 0.15, 0.24, 0.74))
        self.ax_hist.set_position((0.405, 0.15, 0.25, 0.74))
        self.ax_loss.set_position((0.735, 0.15, 0.25, 0.74))

    def compute(self, **values: Any) -> VanishingResult:
        """Rebuild, measure and retrain with the current control values."""
        return run_experiment(
            **values, steps=self.steps, width=self.width, n_samples=self.n_samples
        )

    def redraw(self, result: VanishingResult) -> None:
        """Update the three panels from ``result``."""
        self._redraw_grads(result)
        self._redraw_histograms(result)
        self._redraw_loss(result.history)

    def _redraw_grads(self, result: VanishingResult) -> None:
        names = list(result.init_grad_norms)
        heights = _drawable(list(result.init_grad_norms.values()))
        if self.bars is not None:
            self.bars.remove()
        positions = np.arange(len(names))
        self.bars = self.ax_grads.bar(positions, heights, color="C0", width=0.7)
        final = _drawable([result.final_grad_norms.get(name, np.nan) for name in names])
        self.final_dots.set_data(positions, final)
        ticks = positions[:: 1 if len(names) <= 12 else 2]
        self.ax_grads.set_xticks(ticks, [str(i) for i in ticks], fontsize=7)
        drawn = np.concatenate([heights, final])
        drawn = drawn[np.isfinite(drawn)] if np.isfinite(drawn).any() else np.ones(1)
        low, high = max(drawn.min() / 3, LOG_FLOOR), drawn.max() * 3
        self.ax_grads.set_ylim(low, high)
        _set_log_ticks(self.ax_grads, low, high)
        self.ax_grads.set_xlim(-0.6, len(names) - 0.4)
        self.ax_grads.set_title(f"gradient norms: first/last = {result.ratio:.3g}", fontsize=9)

    def _redraw_histograms(self, result: VanishingResult) -> None:
        low, high = HISTOGRAM_RANGES[result.activation]
        rows = activation_histograms(result.activations, low, high)
        self.image.set_data(rows)
        self.image.set_extent((low, high, 0.5, len(rows) + 0.5))
        self.image.set_clim(0.0, max(float(rows.max()), 1e-12))
        step = max(1, len(rows) // 10)
        self.ax_hist.set_yticks(np.arange(1, len(rows) + 1, step))
        title = f"{result.activation} activations at init"
        if result.activation != "relu":
            title += f": {result.mean_saturation:.0%} saturated"
        else:
            title += f": {result.mean_saturation:.0%} zero"
        self.ax_hist.set_title(title, fontsize=9)

    def _redraw_loss(self, history: History) -> None:
        losses = _drawable(history.step_loss)
        self.loss_line.set_data(np.arange(len(losses)), losses)
        self.ax_loss.set_xlim(0, max(self.steps, 1))
        shown = np.concatenate([losses, [CHANCE_LOSS]])
        shown = shown[np.isfinite(shown)]
        low, high = shown.min() / 1.5, shown.max() * 1.5
        self.ax_loss.set_ylim(low, high)
        _set_log_ticks(self.ax_loss, low, high)
        if history.diverged:
            k = history.diverged_at_step
            self.diverged_marker.set_xdata([k, k])
            self.diverged_marker.set_visible(True)
            title = f"diverged at step {k}"
        else:
            self.diverged_marker.set_visible(False)
            title = f"final loss {losses[-1]:.4g}" if len(losses) else "no steps"
        self.ax_loss.set_title(title, fontsize=9)

    def describe(self, result: VanishingResult) -> str:
        """The status line (see :func:`describe_result`)."""
        return describe_result(result)


def _set_log_ticks(ax: Any, low: float, high: float) -> None:
    """Readable ticks on a log-scale y axis spanning ``[low, high]``.

    Up to four decades: plain numbers at 1, 2 and 5 times each power of ten
    (0.2, 0.5, 1, 2); wider ranges: powers of ten written as ``10ⁿ``.
    """
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator

    if high / low < 1e4:
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=12))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        ax.yaxis.set_major_locator(LogLocator(numticks=7))
        ax.yaxis.set_major_formatter(LogFormatterSciNotation())


def _drawable(values: Any) -> np.ndarray:
    """Values for a log axis: NaN stays NaN (not drawn), the rest is at least :data:`LOG_FLOOR`.

    Infinite values are capped at ``1e30`` so they show as a bar off the top.
    """
    values = np.asarray(values, dtype=np.float64)
    capped = np.where(np.isinf(values), 1e30, values)
    return np.where(np.isnan(capped), np.nan, np.maximum(capped, LOG_FLOOR))
