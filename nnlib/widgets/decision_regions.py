"""The playground's computation: a small classifier trained on a 2-D toy set, and its map.

Everything :class:`nnlib.widgets.playground.PlaygroundWidget` (notebook 03)
computes for one setting of its controls: :func:`make_dataset` (a toy 2-D
set), :func:`train_playground` (an MLP trained on it with
:func:`nnlib.train.fit`, and its predictions on a grid), the colour image of
the predicted classes (:func:`prediction_image`), the fraction of saturated
or dead hidden units (:func:`hidden_saturation`) and the status line
(:func:`describe_result`). NumPy only: no widget, no figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import data as nndata
from ..activations import sigmoid_forward
from ..diagnostics import activation_stats
from ..losses import softmax
from ..model import Sequential, mlp
from ..train import History, fit

DATASETS = ("moons", "circles", "spirals", "xor", "blobs")
ACTIVATION_NAMES = ("tanh", "relu", "sigmoid", "leaky_relu")
OPTIMIZER_NAMES = ("sgd", "momentum", "adam")

#: Class colours (RGB in [0, 1]): orange, blue, green.
CLASS_COLORS = np.array(
    [[0.961, 0.576, 0.133], [0.031, 0.467, 0.741], [0.173, 0.627, 0.173]], dtype=np.float64
)

#: The prediction grid is drawn at this many times its resolution (bilinear in between).
UPSAMPLE = 3

#: A loss that ends above this fraction of ``min(initial loss, chance loss)`` is "stuck".
STUCK_RATIO = 0.98
#: A loss that ends above this multiple of where it started counts as "grew".
GREW_RATIO = 1.5


def make_dataset(
    name: str, noise: float, n_samples: int = 200, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """One of the toy sets of :mod:`nnlib.data`, by name, with ``n_samples`` points.

    ``noise`` sets the standard deviation of the Gaussian noise added to every
    coordinate, relative to the size of the set: it is ``noise`` for moons and
    xor (about 2 units across), ``noise / 2`` for circles and spirals (radius 1),
    and for blobs (three classes around a circle of radius 2) the clusters'
    standard deviation is ``0.3 + noise``.
    Returns ``X`` ``(n_samples, 2)`` float32 and ``y`` ``(n_samples,)`` int64.
    """
    if name not in DATASETS:
        raise ValueError(f"Unknown data set {name!r}. Choose one of {list(DATASETS)}.")
    if not (isinstance(noise, (int, float, np.number)) and math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}.")
    noise = float(noise)
    if name == "moons":
        return nndata.make_moons(n_samples, noise=noise, seed=seed)
    if name == "circles":
        return nndata.make_circles(n_samples, noise=noise / 2, seed=seed)
    if name == "spirals":
        return nndata.make_spirals(n_samples, noise=noise / 2, seed=seed)
    if name == "xor":
        return nndata.make_xor(n_samples, noise=noise, seed=seed)
    return nndata.make_blobs(n_samples, n_classes=3, std=0.3 + noise, seed=seed)


def grid_extent(X: np.ndarray, margin: float = 0.5) -> tuple[float, float, float, float]:
    """``(x_min, x_max, y_min, y_max)`` of the points ``X`` ``(N, 2)``, widened by ``margin``."""
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def grid_points(extent: tuple[float, float, float, float], n: int) -> np.ndarray:
    """The ``n x n`` grid over ``extent`` as rows ``(n*n, 2)``, row-major from the bottom left.

    Row ``i * n + j`` is the point at column ``j`` (x) and row ``i`` (y), so
    ``values.reshape(n, n)`` is an image with ``origin="lower"``.
    """
    xs = np.linspace(extent[0], extent[1], n)
    ys = np.linspace(extent[2], extent[3], n)
    xx, yy = np.meshgrid(xs, ys)
    return np.column_stack([xx.ravel(), yy.ravel()])


def model_logits(model: Sequential, params: Any, X: np.ndarray) -> np.ndarray:
    """The model's outputs (logits) for ``X`` ``(N, 2)``, as float64 ``(N, C_out)``.

    Overflowed (non-finite) logits are replaced by 0, i.e. "no opinion".
    """
    with np.errstate(all="ignore"):
        logits = np.asarray(model.predict(params, X.astype(_dtype_of(params))), np.float64)
    return np.where(np.isfinite(logits), logits, 0.0)


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Class probabilities ``(..., C)`` from logits ``(..., C_out)``.

    One output (binary): ``p = σ(z)`` (:func:`nnlib.activations.sigmoid_forward`)
    and the classes get ``[1 - p, p]``; several outputs: ``softmax(z)`` over the
    last axis (:func:`nnlib.losses.softmax`). Computed in float64.
    """
    logits = np.asarray(logits, np.float64)
    if logits.shape[-1] == 1:
        p, _ = sigmoid_forward(logits)  # written with tanh, so it never overflows
        p = np.asarray(p)
        return np.concatenate([1.0 - p, p], axis=-1)
    rows = logits.reshape(-1, logits.shape[-1])  # softmax works on (N, C) rows
    return np.asarray(softmax(rows)).reshape(logits.shape)


def upsample(values: np.ndarray, factor: int) -> np.ndarray:
    """Bilinear upsampling of a grid ``(n, n, C)`` to ``(m, m, C)``, ``m = (n - 1) factor + 1``.

    The original grid points keep their values (every ``factor``-th pixel) and
    the new pixels in between are linear blends of their neighbours, along x
    and then along y: ``out = A values Aᵀ`` per channel, with the ``(m, n)``
    interpolation matrix ``A``.
    """
    n = values.shape[0]
    m = (n - 1) * int(factor) + 1
    position = np.linspace(0.0, n - 1.0, m)
    left = np.minimum(np.floor(position).astype(int), n - 2) if n > 1 else np.zeros(m, int)
    weight = position - left
    A = np.zeros((m, n))
    A[np.arange(m), left] = 1.0 - weight
    if n > 1:
        A[np.arange(m), left + 1] += weight
    return np.stack([A @ values[..., c] @ A.T for c in range(values.shape[2])], axis=2)


def prediction_image(logits: np.ndarray, n: int, factor: int = 1) -> np.ndarray:
    """An RGB image of the predictions, from logits ``(n*n, C_out)`` on an ``n x n`` grid.

    The logits are upsampled by ``factor`` first (see :func:`upsample`), giving
    an image ``(m, m, 3)`` with ``m = (n - 1) factor + 1``. Logits change
    smoothly over the plane, so interpolating them puts the decision boundary
    (logit 0) between grid points where it belongs; interpolating colours or
    probabilities, which jump from one class to the other, would draw it jagged.

    Each pixel takes the colour of its most probable class, blended with white
    by the confidence ``c = (p_max - 1/C) / (1 - 1/C)``: white on the decision
    boundary (``c = 0``), the full (pale) class colour where the network is sure.
    """
    grid = probabilities(upsample(logits.reshape(n, n, -1), factor))
    n_classes = grid.shape[2]
    winner = grid.argmax(axis=2)
    confidence = (grid.max(axis=2) - 1.0 / n_classes) / (1.0 - 1.0 / n_classes)
    pale = 1.0 - 0.7 * (1.0 - CLASS_COLORS[winner])  # lighter class colours
    return 1.0 - confidence[..., None] * (1.0 - pale)


def pixel_extent(
    extent: tuple[float, float, float, float], m: int
) -> tuple[float, float, float, float]:
    """The ``imshow`` extent that puts the centres of ``m x m`` pixels on the grid over ``extent``.

    Grid points run from edge to edge of ``extent``; ``imshow`` places pixel
    *edges* on its extent, so it is widened by half a pixel on every side.
    """
    dx = (extent[1] - extent[0]) / max(m - 1, 1) / 2
    dy = (extent[3] - extent[2]) / max(m - 1, 1) / 2
    return extent[0] - dx, extent[1] + dx, extent[2] - dy, extent[3] + dy


def hidden_saturation(model: Sequential, params: Any, X: np.ndarray) -> float:
    """Fraction of hidden units that pass no gradient for any of the inputs ``X``.

    Such a unit is saturated for *every* example (tanh ``|h| > 0.99``, sigmoid
    ``h < 0.01`` or ``h > 0.99``) or, for ReLU, dead (``h = 0`` everywhere); see
    :func:`nnlib.diagnostics.activation_stats`. Returns a number in ``[0, 1]``;
    all hidden layers have the same width, so this is the mean over layers.
    """
    stats = activation_stats(model, params, X)
    fractions = [s["saturated_units"] for s in stats if math.isfinite(s["saturated_units"])]
    return float(np.mean(fractions)) if fractions else 0.0


@dataclass
class PlaygroundResult:
    """Everything one training run produced (what the figure and status show).

    ``image`` is ``(m, m, 3)`` RGB whose pixel centres lie on a grid over
    ``extent`` (see :func:`pixel_extent`); ``history.step_loss`` holds
    the loss before every step; ``accuracy`` and ``saturation`` are measured
    with the final parameters on the training points.
    """

    X: np.ndarray
    y: np.ndarray
    n_classes: int
    sizes: list[int]
    activation: str
    learning_rate: float
    params: Any
    history: History
    extent: tuple[float, float, float, float]
    image: np.ndarray
    accuracy: float
    saturation: float

    @property
    def chance_loss(self) -> float:
        """``ln C``: the cross-entropy of always predicting ``1/C`` for each of ``C`` classes.

        A network that has learned nothing about the inputs ends here or above.
        """
        return math.log(self.n_classes)

    @property
    def outcome(self) -> str:
        """``"diverged"``, ``"grew"``, ``"stuck"`` or ``"learned"``.

        *grew*: the final loss exceeds ``GREW_RATIO`` times the initial one;
        *stuck*: it is above ``STUCK_RATIO · min(initial, chance)``, i.e. no
        real progress from the start or no better than guessing.
        """
        losses = self.history.step_loss
        if self.history.diverged:
            return "diverged"
        if len(losses) < 2:
            return "learned"
        if losses[-1] > GREW_RATIO * losses[0]:
            return "grew"
        if losses[-1] > STUCK_RATIO * min(losses[0], self.chance_loss):
            return "stuck"
        return "learned"


def train_playground(
    dataset: str = "moons",
    noise: float = 0.15,
    activation: str = "tanh",
    depth: int = 2,
    width: int = 8,
    learning_rate: float = 0.03,
    optimizer: str = "adam",
    steps: int = 300,
    seed: int = 0,
    n_samples: int = 200,
    grid: int = 60,
) -> PlaygroundResult:
    """Train ``mlp([2] + [width] * depth + [out])`` full batch and evaluate it on a grid.

    Binary sets use one output and binary cross-entropy; ``"blobs"`` (three
    classes) uses three outputs and softmax cross-entropy. ``seed`` fixes the
    data sample and the initial weights. A run that diverges stops there (see
    :func:`nnlib.train.fit`) and keeps the last finite parameters.

    The prediction is evaluated on a ``grid x grid`` lattice over the points
    (plus a margin of 0.5) and drawn ``UPSAMPLE`` times finer.
    """
    for name, value, low in (("depth", depth, 1), ("width", width, 1), ("steps", steps, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    X, y = make_dataset(dataset, noise, n_samples, seed)
    n_classes = int(y.max()) + 1
    sizes = [2] + [int(width)] * int(depth) + [1 if n_classes == 2 else n_classes]
    model = mlp(sizes, activation=activation)
    loss = "bce" if n_classes == 2 else "cross_entropy"
    result = fit(
        model,
        model.init(seed),
        X,
        y,
        loss=loss,
        optimizer=optimizer,
        lr=float(learning_rate),
        epochs=int(steps),
        seed=seed,
    )
    extent = grid_extent(X)
    grid_logits = model_logits(model, result.params, grid_points(extent, grid))
    image = prediction_image(grid_logits, grid, UPSAMPLE)
    predicted = probabilities(model_logits(model, result.params, X)).argmax(axis=1)
    return PlaygroundResult(
        X=X,
        y=y,
        n_classes=n_classes,
        sizes=sizes,
        activation=activation,
        learning_rate=float(learning_rate),
        params=result.params,
        history=result.history,
        extent=extent,
        image=image,
        accuracy=float((predicted == y).mean()),
        saturation=hidden_saturation(model, result.params, X),
    )


def describe_result(result: PlaygroundResult) -> str:
    """One line of HTML for the status label: what the training run did, and a hint."""
    history = result.history
    losses = history.step_loss
    lr = f"{result.learning_rate:.3g}"
    if result.outcome == "diverged":
        return (
            f"<b>diverged at step {history.diverged_at_step}</b>: the loss became NaN or "
            f"infinite; learning rate {lr} is too large for this network. Lower it."
        )
    first, last = losses[0], losses[-1]
    saturated = f"{result.saturation:.0%} of hidden units saturated or dead"
    if result.outcome == "grew":
        return (
            f"<b>loss grew</b> from {first:.4g} to {last:.4g} in {len(losses)} steps: the steps "
            f"overshoot. Lower the learning rate ({lr})."
        )
    if result.outcome == "stuck":
        found = f"; {saturated}" if result.saturation > 0 else ""
        return (
            f"<b>loss stuck at {last:.4g}</b> (started at {first:.4g}) after {len(losses)} "
            f"steps{found}. {stuck_advice(result)}"
        )
    line = (
        f"step {len(losses)}: loss {last:.4g} (started at {first:.4g}), "
        f"training accuracy {result.accuracy:.1%}"
    )
    return line + (f"; {saturated}" if result.saturation >= 0.25 else "")


def stuck_advice(result: PlaygroundResult) -> str:
    """The most likely reason a run learned nothing, as a suggestion."""
    hidden = result.sizes[1:-1]
    depth, width = len(hidden), hidden[0]
    if result.learning_rate >= 1.0:
        return (
            f"Learning rate {result.learning_rate:.3g} is large: big steps throw units into "
            "saturation (or kill ReLUs). Try a smaller one."
        )
    if result.learning_rate <= 1e-3:
        return f"Learning rate {result.learning_rate:.3g} is tiny: try a larger one."
    if depth >= 6 and result.activation in ("sigmoid", "tanh"):
        return (
            f"The gradient fades through {depth} {result.activation} layers before it reaches "
            "the first ones: try fewer layers or relu."
        )
    if result.saturation >= 0.5:
        return "Saturated units pass almost no gradient: try relu or a smaller learning rate."
    if width <= 2:
        return f"{width} unit(s) per layer cannot bend the boundary enough: widen the layers."
    return "Try another learning rate, optimiser or activation."


def _dtype_of(params: Any) -> Any:
    for p in params:
        if "W" in p:
            return p["W"].dtype
    return np.float32
