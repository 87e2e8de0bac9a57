"""Calibration: do predicted probabilities mean what they say?

A binary classifier is **calibrated** when, among the examples to which it
gives probability ``p`` of being positive, a fraction ``p`` really are. A cost
threshold such as ``t* = c_FP / (c_FP + c_FN)`` is the best decision rule only
for calibrated probabilities, so check them before relying on one:

* :func:`reliability_table` groups the examples into bins of predicted
  probability and compares, bin by bin, the mean prediction with the observed
  frequency of positives (the data of a *reliability diagram*,
  :func:`nnlib.plots.plot_reliability`);
* :func:`expected_calibration_error` summarises it in one number,
  ``ECE = Σ_b (n_b / N) · |observed_b - predicted_b|``;
* :func:`fit_temperature` and :func:`apply_temperature` implement
  **temperature scaling**: ``p = σ(s / T)`` with one number ``T`` fitted to
  minimise the log loss. ``T > 1`` softens overconfident probabilities,
  ``T < 1`` sharpens underconfident ones; the ranking (and so the ROC curve)
  does not change.

Everything takes NumPy arrays of shape ``(N,)``: labels 0/1 (1 = positive) and
probabilities in ``[0, 1]`` or logits. Results are float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnlib.data import check_labels

__all__ = [
    "ReliabilityTable",
    "apply_temperature",
    "expected_calibration_error",
    "fit_temperature",
    "logits_from_probabilities",
    "reliability_table",
]


def _probabilities(p: Any, name: str = "probabilities") -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one probability per example), got shape {p.shape}.")
    if not np.all(np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(
            f"{name} must be probabilities in [0, 1], got values from {np.nanmin(p):.4g} to "
            f"{np.nanmax(p):.4g}. Apply the sigmoid to logits first."
        )
    return p


def _binary_pair(y_true: Any, values: np.ndarray, name: str) -> np.ndarray:
    y = check_labels(y_true, n_classes=2, name="y_true")
    if y.shape != values.shape:
        raise ValueError(
            f"y_true has shape {y.shape} but {name} has shape {values.shape}: one label per "
            "prediction is needed."
        )
    return y


def _check_bins(n_bins: Any) -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    return int(n_bins)


@dataclass(frozen=True)
class ReliabilityTable:
    """Calibration, bin by bin: arrays ``(n_bins,)`` over equal-width bins of ``[0, 1]``.

    ``edges`` ``(n_bins + 1,)`` are the bin boundaries (bin ``b`` is
    ``[edges[b], edges[b+1])``, the last one includes 1); ``counts`` the number
    of examples in each bin; ``predicted`` their mean predicted probability
    and ``observed`` the fraction of them that are positive (both NaN in an
    empty bin).
    """

    edges: np.ndarray
    counts: np.ndarray
    predicted: np.ndarray
    observed: np.ndarray


def reliability_table(y_true: Any, probabilities: Any, n_bins: int = 10) -> ReliabilityTable:
    """Mean prediction and observed frequency of positives in ``n_bins`` equal-width bins."""
    p = _probabilities(probabilities)
    y = _binary_pair(y_true, p, "probabilities")
    n_bins = _check_bins(n_bins)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = np.bincount(which, weights=p, minlength=n_bins) / counts
        observed = np.bincount(which, weights=y.astype(np.float64), minlength=n_bins) / counts
    return ReliabilityTable(edges, counts, predicted, observed)


def expected_calibration_error(y_true: Any, probabilities: Any, n_bins: int = 10) -> float:
    """``ECE = Σ_b (n_b / N) |observed_b - predicted_b|`` over :func:`reliability_table`'s bins.

    0 for perfectly calibrated bins; the weight ``n_b / N`` makes a bin count
    as much as the examples it holds, so sparse bins (where the observed
    frequency is noisy) count little.
    """
    table = reliability_table(y_true, probabilities, n_bins)
    used = table.counts > 0
    gaps = np.abs(table.observed[used] - table.predicted[used])
    return float(np.sum(table.counts[used] * gaps) / np.sum(table.counts))


def logits_from_probabilities(probabilities: Any, eps: float = 1e-15) -> np.ndarray:
    """``s = log(p / (1 - p))``, the inverse of the sigmoid; ``p`` is clipped to ``[eps, 1 - eps]``.

    A probability that rounded to exactly 0 or 1 in float64 (a logit beyond
    about ±37) has lost its logit; the clipping turns it into ±34.5 for
    ``eps = 1e-15`` instead of ±inf.
    """
    p = np.clip(_probabilities(probabilities), eps, 1.0 - eps)
    return np.log(p) - np.log1p(-p)


def _log_loss(beta: float, s: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of ``σ(β s)`` against ``y`` (stable: ``log(1 + e^z) - y z``)."""
    z = beta * s
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def fit_temperature(logits: Any, y_true: Any, max_steps: int = 100) -> float:
    """The temperature ``T > 0`` that minimises the log loss of ``σ(s / T)`` on ``(logits, y)``.

    The loss is convex in ``β = 1 / T`` (logistic regression with one weight and
    no bias), so Newton's method on ``β``, with step halving, finds its minimum:
    ``β ← β - L'(β) / L''(β)``, ``L'(β) = mean((σ(β s) - y) s)``,
    ``L''(β) = mean(σ(β s)(1 - σ(β s)) s²)``. Fit it on data the model was not
    trained on (held-out or out-of-fold logits).
    """
    s = np.asarray(logits, dtype=np.float64)
    if s.ndim != 1 or not np.all(np.isfinite(s)):
        raise ValueError(
            f"logits must be a 1-D array of finite numbers, got shape {s.shape}. "
            "Turn probabilities into logits with logits_from_probabilities."
        )
    y = _binary_pair(y_true, s, "logits").astype(np.float64)
    beta = 1.0
    for _ in range(int(max_steps)):
        q = 0.5 * (1.0 + np.tanh(0.5 * beta * s))  # σ(β s), without overflow
        slope = float(np.mean((q - y) * s))
        curvature = float(np.mean(q * (1.0 - q) * s * s)) + 1e-12
        step = slope / curvature
        current = _log_loss(beta, s, y)
        while beta - step <= 0 or _log_loss(beta - step, s, y) > current:
            step /= 2
            if abs(step) < 1e-15:
                return 1.0 / beta
        beta -= step
        if abs(step) < 1e-12 * beta:
            break
    return 1.0 / beta


def apply_temperature(logits: Any, temperature: float) -> np.ndarray:
    """``p = σ(s / T)``: the calibrated probabilities, float64 of the logits' shape."""
    if not (isinstance(temperature, (int, float, np.number)) and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}.")
    s = np.asarray(logits, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * s / float(temperature)))
