"""A small "TensorFlow Playground" for notebook 3: train an MLP on a 2-D toy set, live.

Choose a data set, the network (depth = number of hidden layers, width =
units per hidden layer, activation) and the training (optimiser, learning
rate, number of steps). Every change retrains from scratch, full batch, with
:func:`nnlib.train.fit`, and redraws

* left: the network's prediction over the plane (colour = predicted class,
  paler = less confident, white = the decision boundary) and the data points;
* right: the training loss after every step, on a log scale.

The status line says what happened: the final loss and accuracy, or
"diverged at step k" (the loss became NaN/inf: the learning rate is too large),
"loss grew" (the steps overshoot), or "loss stuck at ..." (nothing was learned:
saturated sigmoid/tanh units, dead ReLUs, or a learning rate too small).

Speed: 200 points, full-batch steps and a 60 x 60 prediction grid (drawn
upsampled, see :func:`prediction_image`) keep an update on the default settings
(300 steps of a 2 x 8 network, then the redraw) near 0.1 s on one CPU core.
The figure is created once; an update replaces the image's pixels
(``set_data``), the points' positions (``set_offsets``) and the curve's data
(``set_data``) instead of drawing anew.
Depth, width and steps retrain only when the slider is released
(``continuous_update=False``), since deep and wide networks take longer.

Usage in a notebook::

    from nnlib.widgets.playground import PlaygroundWidget
    PlaygroundWidget()

The computation lives in :mod:`nnlib.widgets.decision_regions` (NumPy only);
this module builds the controls and draws.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..train import History
from .base import LiveWidget, learning_rate_slider, live_figure
from .decision_regions import (
    ACTIVATION_NAMES,
    CLASS_COLORS,
    DATASETS,
    GREW_RATIO,
    OPTIMIZER_NAMES,
    STUCK_RATIO,
    UPSAMPLE,
    PlaygroundResult,
    describe_result,
    grid_extent,
    grid_points,
    hidden_saturation,
    make_dataset,
    model_logits,
    pixel_extent,
    prediction_image,
    probabilities,
    stuck_advice,
    train_playground,
    upsample,
)

__all__ = [
    "ACTIVATION_NAMES",
    "CLASS_COLORS",
    "DATASETS",
    "GREW_RATIO",
    "OPTIMIZER_NAMES",
    "PlaygroundResult",
    "PlaygroundWidget",
    "STUCK_RATIO",
    "UPSAMPLE",
    "describe_result",
    "grid_extent",
    "grid_points",
    "hidden_saturation",
    "make_dataset",
    "model_logits",
    "pixel_extent",
    "prediction_image",
    "probabilities",
    "stuck_advice",
    "train_playground",
    "upsample",
]


class PlaygroundWidget(LiveWidget):
    """Train a small MLP on a 2-D toy set and watch its decision boundary and loss.

    Controls (``widget.controls[name]``): ``dataset``, ``noise``, ``activation``,
    ``depth`` (hidden layers, 1-20), ``width`` (units per hidden layer, 1-64),
    ``optimizer``, ``learning_rate`` (log scale, 1e-4 to 10), ``steps`` and
    ``seed``. ``widget.result`` is the latest :class:`PlaygroundResult`.
    """

    def __init__(self, grid: int = 60, n_samples: int = 200) -> None:
        import ipywidgets as widgets

        self.grid = int(grid)
        self.n_samples = int(n_samples)
        style = {"description_width": "initial"}
        heavy = {"continuous_update": False, "style": style}
        controls = {
            "dataset": widgets.Dropdown(
                options=DATASETS, value="moons", description="data set", style=style
            ),
            "noise": widgets.FloatSlider(
                value=0.15, min=0.0, max=0.5, step=0.01, description="noise", style=style
            ),
            "activation": widgets.Dropdown(
                options=ACTIVATION_NAMES, value="tanh", description="activation", style=style
            ),
            "depth": widgets.IntSlider(value=2, min=1, max=20, description="depth", **heavy),
            "width": widgets.IntSlider(value=8, min=1, max=64, description="width", **heavy),
            "optimizer": widgets.Dropdown(
                options=OPTIMIZER_NAMES, value="adam", description="optimiser", style=style
            ),
            "learning_rate": learning_rate_slider(
                0.03, min_exponent=-4, max_exponent=1, step=0.1, style=style
            ),
            "steps": widgets.IntSlider(
                value=300, min=10, max=1000, step=10, description="steps", **heavy
            ),
            "seed": widgets.IntSlider(value=0, min=0, max=9, description="seed", style=style),
        }
        fig, (self.ax_data, self.ax_loss) = live_figure(figsize=(9, 3.8), ncols=2)
        self.fig = fig
        self._build_artists()
        super().__init__(controls, fig)

    def _build_artists(self) -> None:
        """Create every artist once; :meth:`redraw` only changes their data."""
        from matplotlib.ticker import FuncFormatter, NullFormatter

        blank = np.ones((2, 2, 3))
        self.image = self.ax_data.imshow(
            blank, origin="lower", extent=(0, 1, 0, 1), interpolation="bilinear", aspect="auto"
        )
        self.points = self.ax_data.scatter(
            np.zeros(1), np.zeros(1), s=16, edgecolors="white", linewidths=0.5
        )
        self.ax_data.set_xticks([])  # the plane's coordinates carry no meaning here,
        self.ax_data.set_yticks([])  # and fewer tick labels make every redraw faster
        (self.loss_line,) = self.ax_loss.plot([], [], color="C0", lw=1.5)
        self.diverged_marker = self.ax_loss.axvline(0, color="C3", ls="--", lw=1, visible=False)
        self.ax_loss.set_yscale("log")
        # Plain tick labels (0.02, 0.05, 0.1); the locator is chosen in _redraw_loss.
        self.ax_loss.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        self.ax_loss.yaxis.set_minor_formatter(NullFormatter())
        self.ax_loss.set_xlabel("step")
        self.ax_loss.set_ylabel("training loss")
        self.ax_loss.grid(True, which="major", alpha=0.3)
        # Fixed margins instead of a layout engine: nothing to re-measure on each redraw.
        self.fig.set_layout_engine("none")
        self.ax_data.set_position((0.02, 0.05, 0.43, 0.85))
        self.ax_loss.set_position((0.55, 0.13, 0.43, 0.77))

    def compute(self, **values: Any) -> PlaygroundResult:
        """Retrain from scratch with the current control values."""
        return train_playground(**values, n_samples=self.n_samples, grid=self.grid)

    def redraw(self, result: PlaygroundResult) -> None:
        """Update the image, the points and the loss curve in place."""
        self.image.set_data(result.image)
        self.image.set_extent(pixel_extent(result.extent, result.image.shape[0]))
        self.ax_data.set_xlim(result.extent[0], result.extent[1])
        self.ax_data.set_ylim(result.extent[2], result.extent[3])
        self.points.set_offsets(result.X)
        self.points.set_facecolor(0.8 * CLASS_COLORS[result.y])
        hidden = result.sizes[1:-1]
        self.ax_data.set_title(
            f"{len(hidden)} x {hidden[0]} {result.activation}: accuracy {result.accuracy:.1%}",
            fontsize=10,
        )
        self._redraw_loss(result.history)

    def _redraw_loss(self, history: History) -> None:
        """Loss per step on a log scale; a divergence zooms in on the steps before it."""
        from matplotlib.ticker import LogLocator

        losses = np.maximum(np.asarray(history.step_loss, np.float64), 1e-12)
        self.loss_line.set_data(np.arange(len(losses)), losses)
        if history.diverged:
            k = history.diverged_at_step
            self.ax_loss.set_xlim(0, max(10, math.ceil(1.25 * k)))
            self.diverged_marker.set_xdata([k, k])
            self.diverged_marker.set_visible(True)
            title = f"diverged at step {k}"
        else:
            self.ax_loss.set_xlim(0, max(int(self.controls["steps"].value), 1))
            self.diverged_marker.set_visible(False)
            title = f"final loss {losses[-1]:.4g}" if len(losses) else "no steps"
        if len(losses):
            low, high = losses.min(), losses.max()
            self.ax_loss.set_ylim(low / 1.5, high * 1.5)
            # labels at 1, 2 and 5 times each power of ten, or only at powers of ten
            # when the loss spans many of them (a run that blows up)
            subs = (1.0, 2.0, 5.0) if high / low < 1e3 else (1.0,)
            self.ax_loss.yaxis.set_major_locator(LogLocator(subs=subs))
        self.ax_loss.set_title(title, fontsize=10)

    def describe(self, result: PlaygroundResult) -> str:
        """The status line (see :func:`describe_result`)."""
        return describe_result(result)
