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

The status line gives one verdict, from
:func:`nnlib.widgets.gradient_diagnosis.diagnose`: "diverged at step k",
"loss grew", "learning", or, when the loss did not move, why: "vanishing",
"exploding", "saturated" or "stuck". Values that are NaN or infinite (after
a divergence) are marked with a red × at the top of their panel, never left
out silently.

The computation lives in :mod:`nnlib.widgets.gradient_flow` (NumPy only);
this module builds the controls and draws.

Speed: 256 points, 60 full-batch steps and a figure whose artists are created
once keep an update at depth 10 near 0.1 s on a 2-core CPU. The depth slider
retrains only when released (``continuous_update=False``).

Usage in a notebook::

    from nnlib.widgets.vanishing import VanishingGradientsWidget
    VanishingGradientsWidget()
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..train import History
from .base import (
    LOG_FLOOR,
    LiveWidget,
    learning_rate_slider,
    live_figure,
    log_drawable,
    set_log_ticks,
)
from .gradient_diagnosis import CHANCE_LOSS
from .gradient_flow import (
    ACTIVATION_NAMES,
    HISTOGRAM_BINS,
    HISTOGRAM_RANGES,
    INITIALIZATIONS,
    VanishingResult,
    activation_histograms,
    build_network,
    describe_result,
    make_vanishing_data,
    run_experiment,
)

__all__ = [
    "ACTIVATION_NAMES",
    "HISTOGRAM_BINS",
    "HISTOGRAM_RANGES",
    "INITIALIZATIONS",
    "VanishingGradientsWidget",
    "VanishingResult",
    "activation_histograms",
    "build_network",
    "describe_result",
    "make_vanishing_data",
    "run_experiment",
]

#: Colour of the × that marks a NaN/inf value.
NAN_COLOR = "C3"


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
        # A red × at the top of a panel marks a value that is NaN or inf (not drawable).
        blend = self.ax_grads.get_xaxis_transform()  # x in data, y in axes fraction
        (self.nan_marks,) = self.ax_grads.plot(
            [], [], "x", color=NAN_COLOR, ms=7, mew=2, transform=blend, clip_on=False
        )
        self.nan_note = self.ax_grads.text(
            0.02, 0.02, "", transform=self.ax_grads.transAxes, color=NAN_COLOR, fontsize=7
        )
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
        self.diverged_marker = self.ax_loss.axvline(
            0, color=NAN_COLOR, ls="--", lw=1, visible=False
        )
        (self.loss_nan_mark,) = self.ax_loss.plot(
            [],
            [],
            "x",
            color=NAN_COLOR,
            ms=7,
            mew=2,
            transform=self.ax_loss.get_xaxis_transform(),
            clip_on=False,
        )
        self.loss_nan_note = self.ax_loss.text(
            0.0,
            0.9,
            "",
            transform=self.ax_loss.get_xaxis_transform(),
            color=NAN_COLOR,
            fontsize=7,
            ha="right",
        )
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
        heights = log_drawable(list(result.init_grad_norms.values()))
        if self.bars is not None:
            self.bars.remove()
        positions = np.arange(len(names))
        self.bars = self.ax_grads.bar(positions, heights, color="C0", width=0.7)
        trained = np.array([result.final_grad_norms.get(n, np.nan) for n in names], dtype=float)
        final = log_drawable(trained)
        self.final_dots.set_data(positions, final)
        self._mark_non_finite(result, positions, heights, trained)
        ticks = positions[:: 1 if len(names) <= 12 else 2]
        self.ax_grads.set_xticks(ticks, [str(i) for i in ticks], fontsize=7)
        drawn = np.concatenate([heights, final])
        drawn = drawn[np.isfinite(drawn)] if np.isfinite(drawn).any() else np.ones(1)
        low, high = max(drawn.min() / 3, LOG_FLOOR), drawn.max() * 3
        self.ax_grads.set_ylim(low, high)
        set_log_ticks(self.ax_grads, low, high)
        self.ax_grads.set_xlim(-0.6, len(names) - 0.4)
        self.ax_grads.set_title(f"gradient norms: first/last = {result.ratio:.3g}", fontsize=9)

    def _mark_non_finite(
        self, result: VanishingResult, positions: np.ndarray, init: np.ndarray, trained: np.ndarray
    ) -> None:
        """A red × at the top of the gradient panel for every norm that is NaN/inf or missing."""
        bad_init = np.isnan(init)
        bad_trained = ~np.isfinite(trained)
        marked = positions[bad_init | bad_trained]
        self.nan_marks.set_data(marked, np.full(marked.size, 1.0))
        notes = []
        if bad_init.any():
            notes.append(f"× {int(bad_init.sum())} norms NaN at init")
        if bad_trained.any() and not result.final_grad_norms:
            notes.append("× no trained norms: diverged before a step completed")
        elif bad_trained.any():
            notes.append(f"× {int(bad_trained.sum())} trained norms NaN/inf")
        self.nan_note.set_text("; ".join(notes))

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
        losses = log_drawable(history.step_loss)
        self.loss_line.set_data(np.arange(len(losses)), losses)
        self.ax_loss.set_xlim(0, max(self.steps, 1))
        shown = np.concatenate([losses, [CHANCE_LOSS]])
        shown = shown[np.isfinite(shown)]
        low, high = shown.min() / 1.5, shown.max() * 1.5
        self.ax_loss.set_ylim(low, high)
        set_log_ticks(self.ax_loss, low, high)
        if history.diverged:
            k = history.diverged_at_step
            self.diverged_marker.set_xdata([k, k])
            self.diverged_marker.set_visible(True)
            # the loss at step k is NaN/inf: no dot can show it, so mark it
            self.loss_nan_mark.set_data([k], [1.0])
            self.loss_nan_note.set_position((k, 0.9))
            self.loss_nan_note.set_ha("left" if k < self.steps / 2 else "right")
            self.loss_nan_note.set_text(" loss NaN/inf ")
            title = f"diverged at step {k}"
        else:
            self.diverged_marker.set_visible(False)
            self.loss_nan_mark.set_data([], [])
            self.loss_nan_note.set_text("")
            title = f"final loss {losses[-1]:.4g}" if len(losses) else "no steps"
        self.ax_loss.set_title(title, fontsize=9)

    def describe(self, result: VanishingResult) -> str:
        """The status line (see :func:`describe_result`)."""
        return describe_result(result)
