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
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.ticker import NullLocator

from .. import pruning
from ..data import TrainTestSplit, load_digits, train_test_split
from ..model import Sequential, mlp
from ..optim import OPTIMIZERS
from ..plots import PATH_COLOR, TRAIN_COLOR, VAL_COLOR
from ..train import History, evaluate, fit
from ..tree import flatten_params
from .base import LiveWidget, learning_rate_slider, live_figure

#: Digit pixels are whole numbers 0 .. 16; dividing by this maps them to [0, 1].
PIXEL_MAX = 16.0
#: The mini-batch sizes offered by :class:`SpeedWidget` (smaller than the data), then "full".
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
#: Layer sizes of the digits network both widgets use.
DIGITS_SIZES = (64, 32, 10)
#: Layer sizes of the network the pruning widget trains when given none.
PRUNING_SIZES = (64, 128, 10)
#: Sparsities at which :class:`PruningWidget` precomputes its accuracy curves.
SPARSITY_GRID = tuple(np.round(np.linspace(0.0, 0.99, 34), 4))
#: Weight-histogram bins of :class:`PruningWidget` (they span the largest ``|w|``).
HISTOGRAM_BINS = 61


def digits_train_test(seed: int = 0, dtype: Any = np.float64) -> TrainTestSplit:
    """The digits cut 70/30 (stratified) into train and test, pixels scaled to ``[0, 1]``.

    ``X_*`` are ``(N, 64)`` arrays of ``dtype`` with values ``pixel / 16``;
    ``y_*`` are int64 digits ``(N,)``: 1,258 training and 539 test images for
    every ``seed`` (which decides which images go where).
    """
    X, y = load_digits(dtype=dtype)
    return train_test_split(X / PIXEL_MAX, y, test=0.3, seed=seed, stratify=True)


def batch_options(n_train: int) -> list[tuple[str, int]]:
    """``(label, batch size)`` pairs: :data:`BATCH_SIZES` below ``n_train``, then the full batch.

    The full batch is ``n_train`` itself, labelled ``"full (n_train)"``.
    """
    return [(str(b), b) for b in BATCH_SIZES if b < n_train] + [(f"full ({n_train})", n_train)]


def batch_label(batch_size: int, n_train: int) -> str:
    """``"32"`` for a mini-batch size, ``"full"`` when one batch holds all ``n_train`` examples."""
    return "full" if batch_size >= n_train else str(batch_size)


def freeze_layout(fig: Any) -> None:
    """Lay ``fig`` out once (constrained layout), then keep it: re-laying out every draw is slow."""
    fig.set_layout_engine("constrained")
    fig.get_layout_engine().execute(fig)
    fig.set_layout_engine("none")


# --- SpeedWidget -------------------------------------------------------------------------


@dataclass
class SpeedResult:
    """One training run of :class:`SpeedWidget`.

    ``val_loss[k]`` is the validation loss after ``k`` epochs (``k = 0``: the
    initial network) and ``seconds[k]`` the wall-clock time at which it was
    reached, counted from the start of training (``seconds[0] = 0``). After a
    divergence both lists stop at the last finished epoch.
    """

    batch_size: int
    learning_rate: float
    optimizer: str
    epochs: int
    n_train: int
    history: History
    val_loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    val_accuracy: float = math.nan

    @property
    def steps(self) -> int:
        """Optimiser steps taken."""
        return self.history.steps

    @property
    def examples_per_second(self) -> float:
        """Training examples processed per second of training (``nan`` before any epoch)."""
        epochs_done = len(self.seconds) - 1
        if epochs_done < 1 or self.seconds[-1] <= 0:
            return math.nan
        return epochs_done * self.n_train / self.seconds[-1]

    @property
    def made_progress(self) -> bool:
        """True when the final validation loss is below the initial network's."""
        return len(self.val_loss) > 1 and self.val_loss[-1] < self.val_loss[0]

    @property
    def label(self) -> str:
        """Short legend text, e.g. ``"batch 32, sgd, η=0.1"``."""
        batch = batch_label(self.batch_size, self.n_train)
        return f"batch {batch}, {self.optimizer}, η={self.learning_rate:.3g}"


def describe_speed(result: SpeedResult) -> str:
    """One line: the run's speed and outcome, or where it diverged."""
    head = result.label
    if result.history.diverged:
        return f"{head}: diverged at step {result.history.diverged_at_step}"
    if not result.made_progress:
        return (
            f"{head}: no progress, the validation loss went from {result.val_loss[0]:.3g} to "
            f"{result.val_loss[-1]:.3g} (accuracy {result.val_accuracy:.1%}). The steps are too "
            "large: try a smaller learning rate."
        )
    return (
        f"{head}: {result.epochs} epochs = {result.steps} steps in {result.seconds[-1]:.2f} s "
        f"({result.examples_per_second:,.0f} examples/s); validation loss "
        f"{result.val_loss[-1]:.3g}, accuracy {result.val_accuracy:.1%}"
    )


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
        initial = evaluate(self.model, self.initial_params, self.X_val, self.y_val, "cross_entropy")
        val_loss, seconds = [initial["loss"]], [0.0]
        accuracy = [initial["accuracy"]]
        start = time.perf_counter()

        def after_epoch(epoch: int, params: Any, history: History) -> None:
            seconds.append(time.perf_counter() - start)
            val_loss.append(history.val_loss[-1])
            accuracy.append(history.val_accuracy[-1])

        run = fit(
            self.model,
            self.initial_params,
            self.X_train,
            self.y_train,
            loss="cross_entropy",
            optimizer=optimizer,
            lr=float(learning_rate),
            epochs=int(epochs),
            batch_size=batch_size,
            seed=self.seed,
            X_val=self.X_val,
            y_val=self.y_val,
            callback=after_epoch,
        )
        if self.result is not None:
            self.previous = self.result
        return SpeedResult(
            batch_size,
            float(learning_rate),
            optimizer,
            int(epochs),
            len(self.X_train),
            run.history,
            val_loss,
            seconds,
            accuracy[-1],
        )

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


# --- PruningWidget -----------------------------------------------------------------------


def train_digits_mlp(seed: int = 0) -> tuple[Sequential, Any, TrainTestSplit]:
    """Train ``mlp([64, 128, 10], relu)`` (float64) on the digits: ``(model, params, split)``.

    Adam with learning rate 0.003, mini-batches of 32, 30 epochs, on the
    training part of :func:`digits_train_test`; about 97 % test accuracy.
    """
    split = digits_train_test(seed)
    model = mlp(list(PRUNING_SIZES), activation="relu", dtype="float64")
    run = fit(
        model,
        model.init(seed),
        split.X_train,
        split.y_train,
        loss="cross_entropy",
        optimizer="adam",
        lr=0.003,
        epochs=30,
        batch_size=32,
        seed=seed,
    )
    return model, run.params, split


@dataclass
class PruningResult:
    """One pruning setting: the pruned parameters, their test accuracy and the weights left."""

    sparsity: float
    scope: str
    params: Any
    accuracy: float
    kept_weights: np.ndarray
    n_weights: int

    @property
    def threshold(self) -> float:
        """Global ranking: the smallest kept ``|w|``; 0 for per-layer ranking or no pruning."""
        if self.scope != "global" or self.sparsity == 0 or self.kept_weights.size == 0:
            return 0.0
        return float(np.abs(self.kept_weights).min())


def accuracy_curve(
    model: Sequential, params: Any, X: Any, y: Any, sparsities: Any, scope: str = "global"
) -> np.ndarray:
    """Test accuracy of ``params`` pruned to each sparsity in ``sparsities`` (an array)."""
    return np.array(
        [
            evaluate(model, pruning.prune_by_magnitude(params, s, scope)[0], X, y, "cross_entropy")[
                "accuracy"
            ]
            for s in sparsities
        ]
    )


def all_weights(params: Any) -> np.ndarray:
    """Every entry of every weight matrix of ``params``, as one flat NumPy array."""
    return np.concatenate(
        [
            np.ravel(np.asarray(value))
            for name, value in flatten_params(params).items()
            if pruning.is_weight(name)
        ]
    )


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
        pruned, _ = pruning.prune_by_magnitude(self.params, float(sparsity), scope)
        acc = evaluate(self.model, pruned, self.X, self.y, "cross_entropy")["accuracy"]
        weights = all_weights(pruned)
        return PruningResult(
            float(sparsity), scope, pruned, acc, weights[weights != 0], self.n_weights
        )

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
    "train_digits_mlp",
]
