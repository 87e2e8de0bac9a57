"""Live widget for notebook 02: an optimiser's path on a 2-D loss surface.

Pick an optimiser, a learning rate, a surface and a number of steps; the left
panel shows the path on the contour map, the right panel the loss at every
step (log scale). The path is computed by :func:`nnlib.surfaces.descend`, i.e.
by the library's own optimisers from :mod:`nnlib.optim`.

A learning rate that is too large is a result, not an error: the run stops at
the first step whose loss blows up, the title and the status line say
"diverged at step k", and the path is clipped to the plot area.

Redrawing is cheap: the contour map is drawn only when the surface changes;
moving the other controls only replaces the data of the path and loss lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import LogLocator, NullLocator

from .. import plots
from ..optim import OPTIMIZERS, get_optimizer
from ..surfaces import SURFACES, Descent, Surface, descend, get_surface
from .base import LiveWidget, freeze_layout, learning_rate_slider, live_figure

#: Loss below which a run counts as having reached the minimum (both surfaces have minimum 0).
TOLERANCE = 1e-6
#: Lowest loss shown on the log-scale loss axis (below it is "exactly at the minimum").
LOSS_FLOOR = 1e-16


@dataclass
class GradientDescentResult:
    """What one update computed: the settings and the optimiser's path."""

    surface: Surface
    optimizer: str
    learning_rate: float
    steps: int
    run: Descent


def describe_run(result: GradientDescentResult, short: bool = False) -> str:
    """One line stating what happened, e.g. ``"adam, η = 0.1: loss 3.2e-07 after 200 steps"``.

    A diverged run reads ``"..., η = 10: diverged at step k"``. The long form
    (``short=False``) adds from which step on the loss stayed below
    :data:`TOLERANCE`, when it did.
    """
    run = result.run
    head = f"{result.optimizer}, η = {result.learning_rate:.3g}"
    if run.diverged:
        return f"{head}: diverged at step {run.diverged_at_step}"
    text = f"{head}: loss {run.final_loss:.3g}"
    if short:
        return text
    text += f" after {result.steps} steps"
    settled = run.steps_to(TOLERANCE)
    if settled is not None:
        text += f", below {TOLERANCE:.0e} from step {settled} on"
    return text


class GradientDescentWidget(LiveWidget):
    """Controls: learning rate, optimiser, surface, steps → path on the contours and loss curve.

    ``result`` is a :class:`GradientDescentResult`; ``status`` says what
    happened. The learning rate is on a log scale from 10⁻⁴ to 10.
    """

    def __init__(
        self,
        learning_rate: float = 0.08,
        optimizer: str = "sgd",
        surface: str = "ill-conditioned quadratic",
        steps: int = 100,
    ) -> None:
        import ipywidgets as widgets

        get_surface(surface)  # a clear ValueError for an unknown name
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimiser {optimizer!r}. Valid ones are {list(OPTIMIZERS)}.")
        style = {"description_width": "initial"}
        controls = {
            "learning_rate": learning_rate_slider(
                learning_rate, min_exponent=-4, max_exponent=1, step=0.05, style=style
            ),
            "optimizer": widgets.Dropdown(
                options=list(OPTIMIZERS), value=optimizer, description="optimiser", style=style
            ),
            "surface": widgets.Dropdown(
                options=list(SURFACES), value=surface, description="surface", style=style
            ),
            "steps": widgets.IntSlider(
                value=steps, min=10, max=500, step=10, description="steps", style=style
            ),
        }
        fig, (self.ax_path, self.ax_loss) = live_figure(figsize=(9.5, 3.8), ncols=2)
        self._surface_drawn: Surface | None = None
        super().__init__(controls, fig)

    # -- model work -------------------------------------------------------------------
    def compute(
        self, learning_rate: float, optimizer: str, surface: str, steps: int
    ) -> GradientDescentResult:
        """Run ``optimizer`` at ``learning_rate`` for ``steps`` updates on ``surface``."""
        chosen = get_surface(surface)
        run = descend(chosen, get_optimizer(optimizer, float(learning_rate)), int(steps))
        return GradientDescentResult(chosen, optimizer, float(learning_rate), int(steps), run)

    # -- drawing ------------------------------------------------------------------------
    def _draw_surface(self, surface: Surface) -> None:
        """Contours and empty path artists; done once per surface."""
        ax = self.ax_path
        ax.clear()
        plots.plot_loss_surface(
            surface.value, surface.xlim, surface.ylim, ax=ax, n=120, minimum=surface.minimum
        )
        (self._path_line,) = ax.plot([], [], color=plots.PATH_COLOR, lw=1.2, marker="o", ms=2)
        (self._start_dot,) = ax.plot([], [], ls="none", marker="s", ms=7, color="white", mec="k")
        (self._end_dot,) = ax.plot([], [], ls="none", marker="o", ms=7, color=plots.PATH_COLOR)
        self._end_dot.set_markeredgecolor("k")
        self._path_line.set_label("path")
        ax.legend(loc="upper right", fontsize="small", framealpha=0.8)

        ax = self.ax_loss
        ax.clear()
        (self._loss_line,) = ax.plot([], [], color=plots.TRAIN_COLOR, lw=1.2)
        self._diverged_line = ax.axvline(0, color=plots.PATH_COLOR, ls="--", lw=1, visible=False)
        ax.axhline(TOLERANCE, color="0.6", ls=":", lw=1)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(numticks=6))
        ax.yaxis.set_minor_locator(NullLocator())  # dozens of minor ticks would slow every draw
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
        self._surface_drawn = surface

    def _freeze_layout(self) -> None:
        """Lay the figure out once, then keep it (:func:`~nnlib.widgets.base.freeze_layout`)."""
        freeze_layout(self.fig)

    def redraw(self, result: GradientDescentResult) -> None:
        """Move the path and loss lines to the new run (contours only on a new surface)."""
        surface, run = result.surface, result.run
        new_surface = self._surface_drawn is not surface
        if new_surface:
            self._draw_surface(surface)
        points = surface.clip(run.points)
        self._path_line.set_data(points[:, 0], points[:, 1])
        self._start_dot.set_data(points[:1, 0], points[:1, 1])
        self._end_dot.set_data(points[-1:, 0], points[-1:, 1])
        self.ax_path.set_title(describe_run(result, short=True), fontsize="medium")

        losses = np.where(run.losses > 0, run.losses, np.nan)  # log scale: leave out exact zeros
        steps = np.arange(len(losses))
        self._loss_line.set_data(steps, losses)
        self._diverged_line.set_visible(run.diverged)
        if run.diverged:
            self._diverged_line.set_xdata([run.diverged_at_step, run.diverged_at_step])
        self._set_loss_limits(losses, result.steps)
        self.ax_loss.set_title(self._loss_title(run), fontsize="medium")
        if new_surface:
            self._freeze_layout()

    @staticmethod
    def _loss_title(run: Descent) -> str:
        if run.diverged:
            return f"diverged at step {run.diverged_at_step}"
        settled = run.steps_to(TOLERANCE)
        if settled is None:
            return f"loss per step (dotted: {TOLERANCE:.0e})"
        return f"below {TOLERANCE:.0e} from step {settled} on"

    def _set_loss_limits(self, losses: np.ndarray, steps: int) -> None:
        finite = losses[np.isfinite(losses)]
        low = min(float(finite.min()), TOLERANCE) if finite.size else TOLERANCE
        high = float(finite.max()) if finite.size else 1.0
        self.ax_loss.set_xlim(0, steps)
        low = max(low, LOSS_FLOOR)
        self.ax_loss.set_ylim(low / 3, max(high, low * 10) * 3)

    def describe(self, result: GradientDescentResult) -> str:
        """The status line: the title's facts, in bold when the run diverged."""
        text = describe_run(result)
        return f"<b>{text}</b>" if result.run.diverged else text


__all__ = ["GradientDescentResult", "GradientDescentWidget", "TOLERANCE", "describe_run"]
