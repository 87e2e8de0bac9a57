"""Live widgets for notebook 08 (speed): mini-batch size, and magnitude pruning.

:class:`SpeedWidget` trains an MLP on the 8x8 digits with
:func:`nnlib.train.fit` and draws the validation loss twice:

* left: per epoch, i.e. per pass over the training data (how much each
  example teaches);
* right: per second of wall-clock time (how much each second of computing
  teaches).

Small batches make many noisy steps per epoch and win on the left; large
batches make few steps but use the vectorised matrix products better, which
helps on the right. The previous run stays on the plot in grey, so two
settings can be compared by moving one slider.

:class:`PruningWidget` prunes a trained digits MLP by weight magnitude
(:mod:`nnlib.pruning`): the left panel shows test accuracy against sparsity
(global and per-layer ranking) with the current setting marked, the right
panel the histogram of the weights that are left.

Usage in a notebook::

    from nnlib.widgets.speed import PruningWidget, SpeedWidget
    SpeedWidget()
    PruningWidget(model, params, X_test, y_test)   # or PruningWidget() to train one

Speed: a default :class:`SpeedWidget` update trains 160 mini-batch steps in a
few tens of milliseconds. A batch size of 1 for 10 epochs takes ten thousand
steps (about a second), so the batch-size and epoch sliders act when released
(``continuous_update=False``). A :class:`PruningWidget` update ranks 9,472
weights and evaluates 539 test images: a few milliseconds.

The computation lives in :mod:`nnlib.widgets.batch_training` and
:mod:`nnlib.widgets.pruning_sweep` (NumPy only); this module builds the
controls and draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import NullLocator

from .. import pruning
from ..model import Sequential, mlp
from ..optim import OPTIMIZERS
from ..plots import PATH_COLOR, TRAIN_COLOR, VAL_COLOR
from .base import LiveWidget, freeze_layout, learning_rate_slider, live_figure
from .batch_training import (
    BATCH_SIZES,
    DIGITS_SIZES,
    PIXEL_MAX,
    SpeedResult,
    batch_label,
    batch_options,
    describe_speed,
    digits_train_test,
    train_at_batch_size,
)
from .pruning_sweep import (
    PRUNING_SIZES,
    SPARSITY_GRID,
    PruningResult,
    accuracy_curve,
    all_weights,
    prune_and_measure,
    train_digits_mlp,
)

#: Weight-histogram bins of :class:`PruningWidget` (they span the largest ``|w|``).
HISTOGRAM_BINS = 61


class SpeedWidget(LiveWidget):
    """Controls: batch size, learning rate, optimiser, epochs → loss per epoch and per second.

    ``result`` is a :class:`SpeedResult` and ``previous`` the run before it
    (drawn in grey). The network is ``mlp([64, 32, 10], relu)`` in float32
    from the same initial weights every time; the data are the digits'
    training part (``n_train`` images) and, for the validation loss, the test
    part of :func:`digits_train_test`.
    """

    def __init__(
        self,
        batch_size: int | None = 32,
        learning_rate: float = 0.1,
        optimizer: str = "sgd",
        epochs: int = 5,
        n_train: int = 1000,
        seed: int = 0,
    ) -> None:
        import ipywidgets as widgets

        if optimizer not in OPTIMIZERS:
            raise ValueError(f"Unknown optimiser {optimizer!r}. Valid ones are {list(OPTIMIZERS)}.")
        split = digits_train_test(seed, dtype=np.float32)
        if not 1 <= n_train <= len(split.X_train):
            raise ValueError(
                f"n_train must be between 1 and {len(split.X_train)} (the training images), "
                f"got {n_train!r}."
            )
        self.X_train, self.y_train = split.X_train[:n_train], split.y_train[:n_train]
        options = batch_options(n_train)
        batch_size = n_train if batch_size is None else batch_size
        if batch_size not in dict(options).values():
            raise ValueError(
                f"batch_size must be one of {[b for _, b in options]} or None (full batch) "
                f"for n_train={n_train}, got {batch_size!r}."
            )
        self.X_val, self.y_val = split.X_test, split.y_test
        self.model = mlp(list(DIGITS_SIZES), activation="relu", dtype="float32")
        self.initial_params = self.model.init(seed)
        self.seed = seed
        self.previous: SpeedResult | None = None
        style = {"description_width": "initial"}
        controls = {
            "batch_size": widgets.SelectionSlider(
                options=options,
                value=batch_size,
                description="batch size",
                continuous_update=False,
                style=style,
            ),
            "learning_rate": learning_rate_slider(
                learning_rate,
                min_exponent=-3,
                max_exponent=1,
                step=0.05,
                continuous_update=False,
                style=style,
            ),
            "optimizer": widgets.Dropdown(
                options=list(OPTIMIZERS), value=optimizer, description="optimiser", style=style
            ),
            "epochs": widgets.IntSlider(
                value=epochs,
                min=1,
                max=10,
                description="epochs",
                continuous_update=False,
                style=style,
            ),
        }
        fig, (self.ax_epoch, self.ax_time) = live_figure(figsize=(9.5, 3.6), ncols=2)
        self._setup_axes()
        super().__init__(controls, fig)

    # -- model work -------------------------------------------------------------------

    def compute(
        self, batch_size: int, learning_rate: float, optimizer: str, epochs: int
    ) -> SpeedResult:
        """Train from the fixed initial weights; record the validation loss after every epoch."""
        result = train_at_batch_size(
            self.model,
            self.initial_params,
            self.X_train,
            self.y_train,
            self.X_val,
            self.y_val,
            batch_size,
            learning_rate,
            optimizer,
            epochs,
            self.seed,
        )
        if self.result is not None:
            self.previous = self.result
        return result

    # -- drawing ------------------------------------------------------------------------
    def _setup_axes(self) -> None:
        """Axes, labels and the four (empty) lines, made once."""
        self._lines: dict[str, Any] = {}
        for ax, xlabel in ((self.ax_epoch, "epoch"), (self.ax_time, "wall-clock time (s)")):
            (previous,) = ax.plot([], [], color="0.65", lw=1.5, marker="o", ms=3)
            (current,) = ax.plot([], [], color=TRAIN_COLOR, lw=2, marker="o", ms=4)
            self._lines[xlabel] = (current, previous)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("validation loss")
            ax.set_yscale("log")
            ax.yaxis.set_minor_locator(NullLocator())  # dozens of minor ticks slow every draw
            ax.grid(alpha=0.3)
        self.ax_epoch.set_title("progress per pass over the data", fontsize="medium")
        self.ax_time.set_title("progress per second", fontsize="medium")
        self._legend = None
        self._laid_out = False

    def redraw(self, result: SpeedResult) -> None:
        """Move the current run's lines; the previous run's become the grey ones."""
        for xlabel in ("epoch", "wall-clock time (s)"):
            current, previous = self._lines[xlabel]
            for line, run in ((current, result), (previous, self.previous)):
                if run is None:
                    line.set_data([], [])
                    line.set_label("_")
                    continue
                x = np.arange(len(run.val_loss)) if xlabel == "epoch" else np.array(run.seconds)
                line.set_data(x, np.array(run.val_loss))
                line.set_label(("previous: " if line is previous else "") + run.label)
        self._rescale([result] if self.previous is None else [result, self.previous])
        if self._legend is not None:
            self._legend.remove()
        self._legend = self.ax_epoch.legend(loc="upper right", fontsize="small")
        if not self._laid_out:
            freeze_layout(self.fig)
            self._laid_out = True
        title, color = "progress per pass over the data", "k"
        if result.history.diverged:
            title, color = f"diverged at step {result.history.diverged_at_step}", PATH_COLOR
        elif not result.made_progress:
            title, color = "no progress: the loss did not fall", PATH_COLOR
        self.ax_epoch.set_title(title, fontsize="medium", color=color)

    def _rescale(self, runs: list[SpeedResult]) -> None:
        losses = np.array([v for run in runs for v in run.val_loss], dtype=np.float64)
        losses = losses[np.isfinite(losses) & (losses > 0)]
        low, high = (float(losses.min()), float(losses.max())) if losses.size else (0.1, 10.0)
        for ax in (self.ax_epoch, self.ax_time):
            ax.set_ylim(low / 1.3, high * 1.3)
        self.ax_epoch.set_xlim(-0.2, max(len(run.val_loss) - 1 for run in runs) + 0.2)
        longest = max(run.seconds[-1] for run in runs)
        self.ax_time.set_xlim(-0.02 * longest, 1.05 * longest if longest > 0 else 1.0)

    def describe(self, result: SpeedResult) -> str:
        """The status line: speed and final validation scores, in bold when the run diverged."""
        text = describe_speed(result)
        return text if result.made_progress else f"<b>{text}</b>"


class PruningWidget(LiveWidget):
    """Controls: sparsity and scope → accuracy-vs-sparsity curves and the weights left.

    Pass a trained classifier (``model``, ``params``) and labelled test data
    (``X``, ``y``); without them the widget trains :func:`train_digits_mlp`
    first (about half a second). ``result`` is a :class:`PruningResult`.
    """

    def __init__(
        self,
        model: Sequential | None = None,
        params: Any = None,
        X: Any = None,
        y: Any = None,
        sparsity: float = 0.8,
        scope: str = "global",
    ) -> None:
        import ipywidgets as widgets

        given = [v is not None for v in (model, params, X, y)]
        if any(given) and not all(given):
            raise ValueError(
                "Pass all of model, params, X and y (a trained classifier and test data), "
                "or none of them to train the default digits network."
            )
        if model is None:
            model, params, split = train_digits_mlp()
            X, y = split.X_test, split.y_test
        self.model, self.params, self.X, self.y = model, params, X, y
        self.n_weights = sum(r.size for r in pruning.sparsity_report(params))
        self.curves = {
            s: accuracy_curve(model, params, X, y, SPARSITY_GRID, s) for s in pruning.SCOPES
        }
        limit = float(np.abs(all_weights(params)).max()) * 1.02 or 1.0
        self._bins = np.linspace(-limit, limit, HISTOGRAM_BINS)
        controls = {
            "sparsity": widgets.FloatSlider(
                value=sparsity,
                min=0.0,
                max=0.99,
                step=0.01,
                description="sparsity",
                readout_format=".0%",
                style={"description_width": "initial"},
            ),
            "scope": widgets.Dropdown(
                options=list(pruning.SCOPES), value=scope, description="ranking"
            ),
        }
        fig, (self.ax_acc, self.ax_hist) = live_figure(figsize=(9.5, 3.6), ncols=2)
        self._setup_axes()
        super().__init__(controls, fig)

    def compute(self, sparsity: float, scope: str) -> PruningResult:
        """Prune to ``sparsity`` with ``scope`` ranking and measure the test accuracy."""
        return prune_and_measure(self.model, self.params, self.X, self.y, sparsity, scope)

    def _setup_axes(self) -> None:
        ax = self.ax_acc
        grid = np.array(SPARSITY_GRID) * 100
        colors = {"global": TRAIN_COLOR, "layer": VAL_COLOR}
        for scope, curve in self.curves.items():
            ax.plot(grid, curve * 100, color=colors[scope], lw=1.5, label=f"{scope} ranking")
        (self._marker,) = ax.plot([], [], ls="none", marker="o", ms=9, color=PATH_COLOR, mec="k")
        ax.set_xlabel("sparsity (% of weights set to 0)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 102)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left", fontsize="small")
        ax = self.ax_hist
        self._stairs = ax.stairs(np.ones(len(self._bins) - 1), self._bins, fill=True, color="0.5")
        self._cut_lines = [ax.axvline(0, color=PATH_COLOR, ls="--", lw=1) for _ in range(2)]
        ax.set_xlabel("weight value (weights left)")
        ax.set_ylabel("count")
        ax.set_yscale("log")
        ax.set_xlim(self._bins[0], self._bins[-1])
        ax.yaxis.set_minor_locator(NullLocator())  # fewer ticks, faster draws
        self._laid_out = False

    def redraw(self, result: PruningResult) -> None:
        """Move the marker, refill the histogram, and move the threshold lines to ``±t``."""
        self._marker.set_data([result.sparsity * 100], [result.accuracy * 100])
        clipped = np.clip(result.kept_weights, self._bins[0], self._bins[-1])
        counts, _ = np.histogram(clipped, self._bins)
        self._stairs.set_data(np.maximum(counts, 0.5), self._bins)
        t = result.threshold
        for line, x in zip(self._cut_lines, (-t, t), strict=True):
            line.set_xdata([x, x])
            line.set_visible(t > 0)
        self.ax_hist.set_ylim(0.5, max(counts.max(), 1) * 2)
        self.ax_acc.set_title(
            f"{result.scope} ranking, sparsity {result.sparsity:.0%}: "
            f"accuracy {result.accuracy:.1%}",
            fontsize="medium",
        )
        self.ax_hist.set_title(
            f"{result.kept_weights.size} of {result.n_weights} weights left"
            + (f" (|w| ≥ {t:.3g})" if t > 0 else ""),
            fontsize="medium",
        )
        if not self._laid_out:
            freeze_layout(self.fig)
            self._laid_out = True

    def describe(self, result: PruningResult) -> str:
        """The status line: how many weights are left and the accuracy."""
        return (
            f"{result.scope} ranking: {result.n_weights - result.kept_weights.size} of "
            f"{result.n_weights} weights pruned ({result.sparsity:.0%}); test accuracy "
            f"{result.accuracy:.1%}"
        )


__all__ = [
    "BATCH_SIZES",
    "DIGITS_SIZES",
    "PIXEL_MAX",
    "PRUNING_SIZES",
    "SPARSITY_GRID",
    "PruningResult",
    "PruningWidget",
    "SpeedResult",
    "SpeedWidget",
    "accuracy_curve",
    "all_weights",
    "batch_label",
    "batch_options",
    "describe_speed",
    "digits_train_test",
    "freeze_layout",
    "prune_and_measure",
    "train_at_batch_size",
    "train_digits_mlp",
]
