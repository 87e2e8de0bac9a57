"""Number formats: a gradient histogram against the limits of float16, bfloat16 (notebook 09)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from ..tree import tree_leaves
from .common import PATH_COLOR, VAL_COLOR, _axes, _fmt, _numpy


def plot_gradient_magnitudes(
    values: Any,
    dtype: Any = "float16",
    scale: float = 1.0,
    ax: Axes | None = None,
    bins: int = 60,
) -> Axes:
    """Histogram of ``|scale · g|`` on a log axis, against the limits of a number format.

    ``values`` is an array or a nest of arrays (a model's gradients); zeros
    are left out (their logarithm is -∞). Shaded: where a number *underflows*
    to 0 (below half the smallest subnormal, red), where it is *subnormal*
    (loses precision, orange) and where it *overflows* to ``inf`` (red); the
    dashed lines mark the smallest subnormal and the smallest normal number
    (:mod:`nnlib.precision`). The title gives the shares that
    :func:`nnlib.precision.underflow_fraction` and friends measure. With a
    loss scale ``scale`` the histogram moves right by ``log10(scale)``.
    """
    from .. import precision

    factor = _check_positive_scale(scale)
    flat = np.concatenate(
        [_numpy(v, "values").reshape(-1) for v in tree_leaves(values)] or [np.zeros(0)]
    )
    magnitudes = np.abs(flat[np.isfinite(flat) & (flat != 0)]) * factor
    if magnitudes.size == 0:
        raise ValueError("values hold no non-zero finite numbers: there is nothing to histogram.")
    name = precision.format_name(dtype)
    sub, normal = precision.smallest_subnormal(name), precision.smallest_normal(name)
    largest = precision.largest_finite(name)
    lo = min(float(magnitudes.min()), sub / 4)
    hi = max(float(magnitudes.max()), normal * 4)
    edges = np.logspace(np.log10(lo) - 0.1, np.log10(hi) + 0.1, bins + 1)
    ax = _axes(ax, figsize=(7.0, 3.8))
    ax.hist(magnitudes, bins=edges, color="0.35")
    ax.set_xscale("log")
    left, right = edges[0], edges[-1]
    ax.axvspan(left, sub / 2, color=PATH_COLOR, alpha=0.15, label="becomes 0")
    ax.axvspan(sub / 2, normal, color=VAL_COLOR, alpha=0.15, label="subnormal")
    if right > largest:
        ax.axvspan(largest, right, color=PATH_COLOR, alpha=0.3, label="becomes inf")
    for x, text in ((sub, "smallest subnormal"), (normal, "smallest normal")):
        ax.axvline(x, color="0.2", ls="--", lw=1)
        ax.text(
            x, 0.97, f" {text}\n {x:.2g}", transform=ax.get_xaxis_transform(), va="top", fontsize=8
        )
    ax.set_xlim(left, right)
    power = math.log2(factor)
    shown = f"2^{power:.0f}" if power == round(power) else _fmt(factor)
    ax.set_xlabel("|gradient|" if factor == 1 else f"|gradient| × {shown}")
    ax.set_ylabel("count")
    ax.set_title(  # the shares of the scaled magnitudes, as nnlib.precision measures them
        f"{name}: {precision.underflow_fraction(magnitudes, name):.1%} become 0, "
        f"{precision.subnormal_fraction(magnitudes, name):.1%} subnormal, "
        f"{precision.overflow_fraction(magnitudes, name):.1%} inf"
    )
    ax.legend(loc="upper right", fontsize="x-small")
    return ax


def _check_positive_scale(scale: Any) -> float:
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"scale must be a positive number, got {scale!r}.")
    if not math.isfinite(float(scale)) or float(scale) <= 0:
        raise ValueError(f"scale must be a positive finite number, got {scale!r} (e.g. 1024.0).")
    return float(scale)
