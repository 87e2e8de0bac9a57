"""Contours of a 2-D loss surface, with the path an optimiser took across it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from .common import (
    PATH_COLOR,
    _axes,
    _check_limits,
    _fmt,
    _numpy,
)

# --- loss surfaces ---------------------------------------------------------------------


_LOG_LEVEL_FLOOR = 1e-5


def _contour_levels(zz: np.ndarray, levels: int, log_levels: bool) -> np.ndarray | int:
    """Contour heights: geometric steps above the minimum (dense near it) or ``levels`` lines."""
    finite = zz[np.isfinite(zz)]
    if not log_levels or finite.size == 0:
        return levels
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return levels
    return lo + np.geomspace((hi - lo) * _LOG_LEVEL_FLOOR, hi - lo, levels)


def plot_loss_surface(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    xlim: Sequence[float],
    ylim: Sequence[float],
    ax: Axes | None = None,
    n: int = 200,
    levels: int = 30,
    log_levels: bool = True,
    path: Any = None,
    minimum: Sequence[float] | None = None,
) -> Axes:
    """Contour lines of a function of two parameters, with an optional optimiser path.

    ``f(x, y)`` must work element-wise on arrays: it is called once with two
    ``(n, n)`` grids and returns the ``(n, n)`` heights. With ``log_levels``
    the ``levels`` contour heights are ``min + geomspace(10⁻⁵ Δ, Δ)`` where
    ``Δ = max - min``: narrow valleys and the region around the minimum get
    many lines instead of none.

    ``path`` is an array ``(T, 2)`` of the points an optimiser visited
    (``path[0]`` is the start); it is drawn as a line with markers, the start
    as a square and the end as a circle. Points from the first non-finite one
    on (a divergence) are left out. ``minimum`` ``(x, y)`` marks the known
    minimum with a star. The axes keep ``xlim`` and ``ylim`` even when the path
    leaves them.
    """
    x_lo, x_hi = _check_limits(xlim, "xlim")
    y_lo, y_hi = _check_limits(ylim, "ylim")
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n (grid points per axis) must be an integer >= 2, got {n!r}.")
    xx, yy = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    with np.errstate(all="ignore"):
        zz = _numpy(f(xx, yy), "f(x, y)")
    if zz.shape != xx.shape:
        raise ValueError(
            f"f(x, y) returned shape {zz.shape} for ({n}, {n}) grids; it must work "
            "element-wise on arrays (use np.exp, np.sin, ... and avoid Python's math module)."
        )
    ax = _axes(ax)
    heights = _contour_levels(zz, levels, log_levels)
    n_lines = heights if isinstance(heights, int) else len(heights)
    # colour by rank (low = dark, high = light), so log-spaced levels still use the whole map
    cmap = plt.get_cmap("viridis")
    ax.contour(
        xx,
        yy,
        np.ma.masked_invalid(zz),
        levels=heights,
        colors=[cmap(t) for t in np.linspace(0.0, 0.9, n_lines)],
        linewidths=0.8,
    )
    title = ""
    if path is not None:
        title = _draw_path(ax, f, _numpy(path, "path"))
    if minimum is not None:
        mx, my = (float(v) for v in minimum)
        ax.plot([mx], [my], ls="none", marker="*", ms=14, color="gold", mec="k", label="minimum")
    if path is not None or minimum is not None:
        ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title(title)
    return ax


def _draw_path(ax: Axes, f: Callable, path: np.ndarray) -> str:
    """Draw an optimiser path ``(T, 2)``; return a title that states where it ended."""
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise ValueError(f"path must be a non-empty (T, 2) array of points, got {path.shape}.")
    bad = np.flatnonzero(~np.all(np.isfinite(path), axis=1))
    finite = path[: bad[0]] if bad.size else path
    if len(finite) == 0:
        return "diverged at step 0"
    ax.plot(finite[:, 0], finite[:, 1], color=PATH_COLOR, lw=1.2, marker="o", ms=2.5, label="path")
    ax.plot(*finite[0], ls="none", marker="s", ms=7, color="white", mec="k", label="start")
    ax.plot(*finite[-1], ls="none", marker="o", ms=7, color=PATH_COLOR, mec="k", label="end")
    if bad.size:
        return f"diverged at step {bad[0]}"
    with np.errstate(all="ignore"):
        end_value = float(np.asarray(f(finite[-1:, 0], finite[-1:, 1]), dtype=np.float64)[0])
    return f"after {len(path) - 1} steps: f = {_fmt(end_value)}"
