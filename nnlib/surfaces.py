"""Two-dimensional loss surfaces, for watching optimisers move.

A network's loss lives in thousands or millions of dimensions; these test
functions live in two, so they can be drawn as contour maps with an
optimiser's path on top. Each one isolates a difficulty that real losses have:

* :func:`ill_conditioned_quadratic`: a long, narrow bowl. Steep in one
  direction, flat in the other, so one learning rate cannot suit both.
* :func:`rosenbrock`: a curved, flat-bottomed valley. Easy to fall into,
  slow to follow to its minimum.

Every surface function takes points ``xy`` of shape ``(..., 2)`` (one point
``(2,)``, a batch ``(N, 2)`` or a grid ``(H, W, 2)``) and returns
``(value, grad)`` of shapes ``(...)`` and ``(..., 2)``, in float64.

:func:`descend` runs any :mod:`nnlib.optim` optimiser on a surface, with the
point stored as the parameters ``{"xy": array of shape (2,)}``::

    surface = get_surface("Rosenbrock")
    run = descend(surface, nnlib.optim.adam(0.05), steps=500)
    run.points          # (501, 2): the path, start included
    run.losses          # (501,): the loss at every point
    run.diverged_at_step

Only NumPy is needed here; plotting lives in :mod:`nnlib.plots`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .optim import Optimizer

SurfaceFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def _as_points(xy: Any, name: str) -> np.ndarray:
    """``xy`` as a float64 array of shape ``(..., 2)``, or a ValueError that says why not."""
    points = np.asarray(xy, dtype=np.float64)
    if points.ndim == 0 or points.shape[-1] != 2:
        raise ValueError(
            f"{name}: points must have shape (..., 2) (an x and a y per point), got shape "
            f"{points.shape}. Stack grids with np.stack([xx, yy], axis=-1)."
        )
    return points


def ill_conditioned_quadratic(
    xy: Any, curvatures: Sequence[float] = (1.0, 20.0)
) -> tuple[np.ndarray, np.ndarray]:
    """A narrow elliptic bowl: ``L(x, y) = ½ (a x² + b y²)``, minimum 0 at the origin.

    Gradient: ``∇L = (a x, b y)``. The Hessian is ``diag(a, b)``, so ``a`` and
    ``b`` are the curvatures along the two axes and ``κ = b / a`` is the
    condition number. Gradient descent multiplies each coordinate by
    ``(1 - η a)`` and ``(1 - η b)`` per step: it is stable only for
    ``η < 2 / b`` (the steep direction), and then the flat direction shrinks by
    at least ``1 - 2a/b`` per step, so it needs on the order of ``κ`` steps.

    Arguments:
        xy: points, shape ``(..., 2)``.
        curvatures: ``(a, b)``, both positive.

    Returns:
        ``(value, grad)`` with shapes ``(...)`` and ``(..., 2)``, float64.
    """
    points = _as_points(xy, "ill_conditioned_quadratic")
    a, b = (float(c) for c in curvatures)
    if not (a > 0 and b > 0):
        raise ValueError(
            f"ill_conditioned_quadratic: curvatures must both be positive, got {tuple(curvatures)}."
            " Use e.g. (1.0, 20.0) for a bowl 20 times steeper along y than along x."
        )
    x, y = points[..., 0], points[..., 1]
    value = 0.5 * (a * x * x + b * y * y)
    grad = np.stack([a * x, b * y], axis=-1)
    return value, grad


def rosenbrock(xy: Any, a: float = 1.0, b: float = 100.0) -> tuple[np.ndarray, np.ndarray]:
    """Rosenbrock's banana valley: ``L(x, y) = (a - x)² + b (y - x²)²``, minimum 0 at ``(a, a²)``.

    Gradient::

        ∂L/∂x = -2 (a - x) - 4 b x (y - x²)
        ∂L/∂y =  2 b (y - x²)

    The second term makes the walls of the parabola ``y = x²`` steep (curvature
    about ``2b``, more near ``|x| > 1``); the first makes its floor nearly flat.
    An optimiser falls into the valley in a few steps and then crawls along it.

    Returns:
        ``(value, grad)`` with shapes ``(...)`` and ``(..., 2)``, float64.
    """
    points = _as_points(xy, "rosenbrock")
    x, y = points[..., 0], points[..., 1]
    across = y - x * x  # how far above the valley floor y = x²
    along = a - x  # how far from the minimum along the floor
    value = along * along + b * across * across
    grad = np.stack([-2.0 * along - 4.0 * b * x * across, 2.0 * b * across], axis=-1)
    return value, grad


@dataclass(frozen=True)
class Surface:
    """A surface function with what it takes to draw it and to start an optimiser on it.

    ``fn(xy) -> (value, grad)`` as above; ``start`` is the usual starting point,
    ``minimum`` the location of the minimum (where the loss is 0), and
    ``xlim``/``ylim`` the plot area.
    """

    name: str
    fn: SurfaceFn
    start: tuple[float, float]
    minimum: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def value_and_grad(self, xy: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(L(xy), ∇L(xy))`` for points of shape ``(..., 2)``; never warns on overflow."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.fn(xy)

    def value(self, x: Any, y: Any) -> np.ndarray:
        """``L(x, y)`` for coordinate arrays of equal shape (e.g. from ``np.meshgrid``).

        This is the ``f(x, y)`` form that contour plots use.
        """
        x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, np.float64))
        return self.value_and_grad(np.stack([x, y], axis=-1))[0]

    def grid(self, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(xx, yy, zz)``: an ``(n, n)`` grid over the plot area and the loss on it."""
        xx, yy = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))
        return xx, yy, self.value(xx, yy)

    def clip(self, points: Any, margin: float = 0.1) -> np.ndarray:
        """Clip points ``(..., 2)`` to the plot area widened by ``margin`` of its size.

        A diverging path still leaves the picture at the edge where it left,
        without coordinates so large that drawing them fails. NaN stays NaN.
        """
        points = np.asarray(points, dtype=np.float64)
        lows, highs = np.array([self.xlim[0], self.ylim[0]]), np.array([self.xlim[1], self.ylim[1]])
        pad = margin * (highs - lows)
        return np.clip(points, lows - pad, highs + pad)


SURFACES: dict[str, Surface] = {
    "ill-conditioned quadratic": Surface(
        name="ill-conditioned quadratic",
        fn=ill_conditioned_quadratic,
        start=(-4.5, 1.5),
        minimum=(0.0, 0.0),
        xlim=(-5.0, 5.0),
        ylim=(-2.0, 2.0),
    ),
    "Rosenbrock": Surface(
        name="Rosenbrock",
        fn=rosenbrock,
        start=(-1.5, 2.0),
        minimum=(1.0, 1.0),
        xlim=(-2.0, 2.0),
        ylim=(-1.0, 3.0),
    ),
}


def get_surface(name: str | Surface) -> Surface:
    """The :class:`Surface` called ``name``: ``"ill-conditioned quadratic"`` or ``"Rosenbrock"``."""
    if isinstance(name, Surface):
        return name
    if name in SURFACES:
        return SURFACES[name]
    raise ValueError(f"Unknown surface {name!r}. Valid surfaces are {sorted(SURFACES)}.")


@dataclass
class Descent:
    """The path of an optimiser on a surface.

    ``points[t]`` (shape ``(T+1, 2)``) is the position after ``t`` updates
    (``points[0]`` is the start) and ``losses[t]`` (shape ``(T+1,)``) the loss
    there. If the run diverged, ``diverged_at_step`` is the first step whose
    loss was not finite or had grown past the limit, and the arrays stop just
    before it.
    """

    points: np.ndarray
    losses: np.ndarray
    diverged_at_step: int | None = None

    @property
    def diverged(self) -> bool:
        """Whether the loss blew up (see ``diverged_at_step``)."""
        return self.diverged_at_step is not None

    @property
    def final_loss(self) -> float:
        """The loss at the last point reached."""
        return float(self.losses[-1])

    def steps_to(self, tolerance: float) -> int | None:
        """The first step ``t`` from which on the loss stays ``<= tolerance``, or None.

        "Stays" means up to the end of the run: an optimiser that touches the
        tolerance once and bounces out again has not converged. A diverged run
        never counts as converged. Both course surfaces have minimum value 0,
        so this is the number of updates needed to settle within ``tolerance``
        of the best possible loss.
        """
        if self.diverged:
            return None
        above = np.flatnonzero(~(self.losses <= tolerance))  # NaN counts as above
        first = int(above[-1]) + 1 if above.size else 0
        return first if first < len(self.losses) else None


def descend(
    surface: str | Surface,
    optimizer: Optimizer,
    steps: int,
    start: Sequence[float] | None = None,
    max_growth: float = 1e6,
) -> Descent:
    """Run ``optimizer`` for ``steps`` updates on ``surface``, starting at ``start``.

    The parameters are ``{"xy": θ}`` with ``θ`` of shape ``(2,)``; every step is
    the library's own update::

        loss, grad = surface(θ)
        params, state = optimizer.update(params, {"xy": grad}, state)

    The run stops early, as a result rather than an error, at the first step
    whose loss is not finite or exceeds ``max_growth`` times the starting loss
    (recorded in ``diverged_at_step``). Overflow inside the arithmetic is
    expected then and produces no warnings.

    Arguments:
        surface: a :class:`Surface` or its name.
        optimizer: an :class:`nnlib.optim.Optimizer`, e.g. ``nnlib.optim.momentum(0.01)``.
        steps: number of updates, ``>= 0``.
        start: starting point ``(x, y)``; the surface's own start by default.
        max_growth: how many times the starting loss counts as diverged.
    """
    surface = get_surface(surface)
    if not isinstance(optimizer, Optimizer):
        raise ValueError(
            f"descend: optimizer must be an nnlib.optim.Optimizer, got {type(optimizer).__name__}."
            " Build one with e.g. nnlib.optim.sgd(0.01) or nnlib.optim.get_optimizer('adam', 0.1)."
        )
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"descend: steps must be a non-negative integer, got {steps!r}.")
    theta = np.array(surface.start if start is None else start, dtype=np.float64)
    if theta.shape != (2,) or not np.all(np.isfinite(theta)):
        raise ValueError(f"descend: start must be two finite numbers (x, y), got {start!r}.")

    params = {"xy": theta}
    state = optimizer.init(params)
    loss, grad = surface.value_and_grad(theta)
    limit = max_growth * max(float(loss), 1e-12)
    points, losses = [theta], [float(loss)]
    diverged_at = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for step in range(1, int(steps) + 1):
            params, state = optimizer.update(params, {"xy": grad}, state)
            loss, grad = surface.value_and_grad(params["xy"])
            loss = float(loss)
            if not np.isfinite(loss) or loss > limit:
                diverged_at = step
                break
            points.append(params["xy"])
            losses.append(loss)
    return Descent(np.array(points), np.array(losses), diverged_at)
