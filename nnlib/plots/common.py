"""The course's colours and the small helpers every figure uses (checks, new Axes, titles)."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from .. import backend

Array = Any

Array = Any

#: Colours of classes 0, 1, 2, ... (class 0 blue and class 1 red match ``PROBABILITY_CMAP``).
CLASS_COLORS = (
    "#2166ac",  # blue
    "#b2182b",  # red
    "#1b7837",  # green
    "#e08214",  # orange
    "#762a83",  # purple
    "#35978f",  # teal
    "#8c510a",  # brown
    "#de77ae",  # pink
    "#4d4d4d",  # grey
    "#bf9f00",  # olive
)
#: Colour map of a predicted probability P(class 1): blue (0) through white (0.5) to red (1).
PROBABILITY_CMAP = "RdBu_r"
TRAIN_COLOR = "#2166ac"
VAL_COLOR = "#e08214"
PATH_COLOR = "#b2182b"


# --- small helpers ---------------------------------------------------------------------


def _fmt(x: float) -> str:
    """``x`` rounded to 4 significant digits, as used in every title."""
    return f"{x:.4g}"


def _axes(ax: Axes | None, figsize: tuple[float, float] = (5.5, 4.0)) -> Axes:
    """``ax`` itself, or the Axes of a new inline figure when ``ax`` is ``None``."""
    if ax is not None:
        return ax
    _, new_ax = plt.subplots(figsize=figsize, layout="constrained")
    return new_ax


def _numpy(a: Any, name: str, dtype: Any = np.float64) -> np.ndarray:
    try:
        return np.asarray(backend.to_numpy(a), dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric array-like, got {type(a).__name__}.") from err


def _check_limits(lim: Any, name: str) -> tuple[float, float]:
    """``(low, high)`` as floats, checked: two finite numbers with ``low < high``."""
    try:
        values = np.asarray(lim, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.array([np.nan])
    if values.shape != (2,) or not np.all(np.isfinite(values)) or values[0] >= values[1]:
        raise ValueError(
            f"{name} must be a pair (low, high) of finite numbers with low < high, got {lim!r}."
        )
    return float(values[0]), float(values[1])


def _class_color(k: int) -> str:
    return CLASS_COLORS[k % len(CLASS_COLORS)]


def _set_log_scale_if_positive(ax: Axes, values: np.ndarray, log: bool) -> None:
    """A log y axis when asked for and every finite value is positive (log 0 is -∞), else linear."""
    finite = values[np.isfinite(values)]
    use_log = bool(log and finite.size and np.all(finite > 0))
    ax.set_yscale("log" if use_log else "linear")
