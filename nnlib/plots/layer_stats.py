"""Per-layer diagnostics: gradient norms and activation histograms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from ..diagnostics import gradient_norm_ratio
from .common import (
    TRAIN_COLOR,
    _axes,
    _fmt,
    _numpy,
    _set_log_scale_if_positive,
)

# --- diagnostics -----------------------------------------------------------------------


def plot_grad_norms(
    norms: Mapping[str, float] | Sequence[float],
    ax: Axes | None = None,
    log: bool = True,
    title: str | None = None,
) -> Axes:
    """Bar chart of the gradient norm ``||∂L/∂W||`` of each layer, input layer on the left.

    ``norms`` is ``{name: norm}`` in layer order (as from
    :func:`nnlib.diagnostics.grad_norms`) or a list of floats. On a log scale
    (``log=True``) a steady fall from right to left is the vanishing-gradient
    problem: the early layers barely learn. The default title gives the
    first/last ratio (:func:`nnlib.diagnostics.gradient_norm_ratio`).
    """
    if isinstance(norms, Mapping):
        names = [str(k) for k in norms]
        values = _numpy(list(norms.values()), "norms")
    else:
        values = _numpy(norms, "norms").reshape(-1)
        names = [f"layer {i}" for i in range(len(values))]
    if len(values) == 0:
        raise ValueError("norms is empty: pass at least one gradient norm.")
    ax = _axes(ax)
    positions = np.arange(len(values))
    ax.bar(positions, values, color=TRAIN_COLOR, width=0.7)
    ax.set_xticks(positions, names, rotation=45 if len(values) > 6 else 0)
    _set_log_scale_if_positive(ax, values, log)
    ax.set_xlabel("layer (input → output)")
    ax.set_ylabel("gradient norm ‖∂L/∂W‖")
    ax.grid(axis="y", alpha=0.3)
    if title is None:
        title = "gradient norm per layer"
        if len(values) > 1:
            ratio = gradient_norm_ratio(values)
            title += f": first/last = {_fmt(ratio)}"
    ax.set_title(title)
    return ax


def plot_activation_histograms(
    activations: Sequence[Any],
    ax: Axes | None = None,
    bins: int = 50,
    labels: Sequence[str] | None = None,
    log: bool = False,
) -> Axes:
    """Histograms of each layer's activations, all in one Axes, as outlined steps.

    ``activations`` is a list with one array per layer (any shape; every value
    counts), or the list of dicts from
    :func:`nnlib.diagnostics.activation_stats` with ``return_values=True``.
    All layers share the same ``bins`` bin edges, so their shapes compare
    directly; the y axis is the fraction of values in each bin. Colours go
    from dark (first layer) to light (last layer).

    What to look for: tanh/sigmoid values piled up at the ends (saturation:
    the local derivative is near 0, so no gradient passes), a spike at 0 for
    ReLU (dead units), or a distribution that narrows layer after layer (the
    signal dies out with depth). ``log=True`` puts the fractions on a log scale.
    """
    if len(activations) == 0:
        raise ValueError("activations is empty: pass one array per layer.")
    arrays, names = [], []
    for i, item in enumerate(activations):
        if isinstance(item, Mapping):
            if "values" not in item:
                raise ValueError(
                    "activation_stats dicts hold no 'values': call "
                    "activation_stats(..., return_values=True)."
                )
            arrays.append(_numpy(item["values"], "activations").reshape(-1))
            names.append(str(item.get("name", f"layer {i}")))
        else:
            arrays.append(_numpy(item, "activations").reshape(-1))
            names.append(f"layer {i}")
    if labels is not None:
        if len(labels) != len(arrays):
            raise ValueError(f"Got {len(labels)} labels for {len(arrays)} layers; they must match.")
        names = [str(label) for label in labels]
    finite = [a[np.isfinite(a)] for a in arrays]
    everything = np.concatenate(finite)
    if everything.size == 0:
        raise ValueError("activations hold no finite values: the network has diverged.")
    lo, hi = float(everything.min()), float(everything.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    ax = _axes(ax)
    cmap = plt.get_cmap("viridis")
    for i, (values, name) in enumerate(zip(finite, names, strict=True)):
        counts, _ = np.histogram(values, bins=edges)
        fraction = counts / max(values.size, 1)
        color = cmap(0.85 * i / max(len(finite) - 1, 1))
        std = float(values.std()) if values.size else float("nan")
        ax.stairs(fraction, edges, color=color, lw=1.5, label=f"{name}: std {_fmt(std)}")
    ax.set_yscale("log" if log else "linear")
    ax.set_xlabel("activation value")
    ax.set_ylabel("fraction of values")
    ax.legend(loc="best", fontsize="x-small")
    ax.set_title(f"activations of {len(arrays)} layers")
    return ax
