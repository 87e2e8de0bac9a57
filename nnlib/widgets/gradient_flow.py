"""The vanishing-gradients experiment: build a deep network, measure it, train it.

:func:`run_experiment` is everything the widget of notebook 04
(:mod:`nnlib.widgets.vanishing`) computes for one setting of its controls:

1. :func:`make_vanishing_data`: two moons, standardised;
2. :func:`build_network`: ``depth`` hidden layers of ``width`` units with the
   chosen activation, initialisation, batch norm and residual connections;
3. the gradient norm ``||∂L/∂W||`` of every weight matrix and the hidden
   activations at initialisation;
4. ``steps`` full-batch steps of plain gradient descent with :func:`nnlib.train.fit`.

The :class:`VanishingResult` it returns carries one verdict,
:attr:`VanishingResult.diagnosis`, from :func:`nnlib.widgets.gradient_diagnosis.diagnose`.
No widget and no figure here: NumPy only.
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
from .gradient_diagnosis import Diagnosis, diagnose, loss_trend

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
    """What one run of :func:`run_experiment` measured and trained.

    ``init_grad_norms``/``final_grad_norms``: ``{"0.W": ||∂L/∂W||, ...}`` at
    initialisation and at the last completed step (input layer first; empty if
    the loss diverged before a step completed). ``activations``: each hidden
    activation layer's output ``(N, width)`` at initialisation;
    ``saturation``: the fraction of each layer's values in the activation's
    flat part (sigmoid/tanh) or exactly 0 (ReLU).
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
    def diagnosis(self) -> Diagnosis:
        """The one verdict on this run (:func:`~nnlib.widgets.gradient_diagnosis.diagnose`)."""
        return diagnose(
            list(self.init_grad_norms.values()),
            self.history.step_loss,
            self.history.diverged_at_step if self.history.diverged else None,
            self.mean_saturation,
            self.activation,
        )

    @property
    def outcome(self) -> str:
        """How training went: ``"diverged"``, ``"grew"``, ``"fell"`` or ``"flat"``.

        See :func:`~nnlib.widgets.gradient_diagnosis.loss_trend`.
        """
        at = self.history.diverged_at_step if self.history.diverged else None
        return loss_trend(self.history.step_loss, at)

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
    """The status line: one verdict in bold, then the numbers it follows from."""
    return result.diagnosis.status()
