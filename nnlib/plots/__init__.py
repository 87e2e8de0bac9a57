"""Figures for the course: training curves, decision boundaries, loss surfaces, diagnostics.

Every function draws into a matplotlib ``Axes`` and returns it::

    ax = plot_history(history)                 # a new figure (shown inline in notebooks)
    plot_history(history, ax=ax)               # or into an Axes you own

When ``ax`` is ``None`` a new figure is created with ``matplotlib.pyplot.subplots``
so that it appears inline in a notebook. When an ``ax`` is given, the function
only draws into it: the live widgets call ``ax.clear()`` and then the same
function again on every redraw. Colour bars are off by default (``colorbar=False``)
because each one adds a new Axes to the figure, which would pile up on redraws.

Titles state facts, with numbers rounded to 4 significant digits
(``f"{x:.4g}"``). Classes are drawn in :data:`CLASS_COLORS`; in binary
problems class 0 is blue and class 1 is red, matching the blue-to-red colour
map of predicted probabilities.

Inputs may be NumPy or JAX arrays; they are converted to NumPy for drawing.

One module per kind of figure; everything is importable from here
(``from nnlib.plots import plot_history``):

* :mod:`~nnlib.plots.common`: the colours and the helpers every figure uses;
* :mod:`~nnlib.plots.curves`: :func:`plot_history`, :func:`plot_step_loss`;
* :mod:`~nnlib.plots.boundaries`: :func:`decision_grid`, :func:`plot_decision_boundary`;
* :mod:`~nnlib.plots.loss_surface`: :func:`plot_loss_surface`;
* :mod:`~nnlib.plots.layer_stats`: :func:`plot_grad_norms`, :func:`plot_activation_histograms`;
* :mod:`~nnlib.plots.classification`: :func:`plot_confusion_matrix`, :func:`plot_roc`,
  :func:`plot_reliability`;
* :mod:`~nnlib.plots.images`: :func:`plot_digits`, :func:`plot_weights`;
* :mod:`~nnlib.plots.number_formats`: :func:`plot_gradient_magnitudes`.
"""

from __future__ import annotations

from .boundaries import decision_grid, plot_decision_boundary
from .classification import plot_confusion_matrix, plot_reliability, plot_roc
from .common import CLASS_COLORS, PATH_COLOR, PROBABILITY_CMAP, TRAIN_COLOR, VAL_COLOR
from .curves import plot_history, plot_step_loss
from .images import plot_digits, plot_weights
from .layer_stats import plot_activation_histograms, plot_grad_norms
from .loss_surface import plot_loss_surface
from .number_formats import plot_gradient_magnitudes

__all__ = [
    "CLASS_COLORS",
    "PATH_COLOR",
    "PROBABILITY_CMAP",
    "TRAIN_COLOR",
    "VAL_COLOR",
    "decision_grid",
    "plot_activation_histograms",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_digits",
    "plot_grad_norms",
    "plot_gradient_magnitudes",
    "plot_history",
    "plot_loss_surface",
    "plot_reliability",
    "plot_roc",
    "plot_step_loss",
    "plot_weights",
]
