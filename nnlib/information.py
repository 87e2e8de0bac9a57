"""Information theory for classifiers: entropy, cross-entropy and KL divergence.

A probability distribution over ``C`` classes is a vector ``p`` with
``p_k ≥ 0`` and ``Σ_k p_k = 1``. The functions below take one such vector,
shape ``(C,)``, or a batch of them, one distribution per row, shape
``(N, C)`` (in general: the *last* axis holds the distribution). A single
vector gives a Python ``float``, a batch an array of shape ``(N,)``.

* **Surprise** of an outcome of probability ``p``: ``-log p``. A certain
  outcome (``p = 1``) is no surprise at all; a rare one is a big surprise.
* **Entropy** ``H(p) = -Σ_k p_k log p_k``: the average surprise of outcomes
  drawn from ``p``; how uncertain ``p`` is. ``0 ≤ H(p) ≤ log C``, with 0 for a
  certain outcome and ``log C`` for the uniform distribution.
* **Cross-entropy** ``H(p, q) = -Σ_k p_k log q_k``: the average surprise of
  outcomes drawn from ``p`` when we *expect* them with probabilities ``q``.
  This is the classification loss: ``p`` is the label, ``q`` the prediction.
* **KL divergence** ``D(p‖q) = Σ_k p_k log(p_k / q_k) = H(p, q) - H(p)``: the
  extra surprise caused by expecting ``q`` instead of the true ``p``. Always
  ``≥ 0`` (Gibbs' inequality), 0 only for ``q = p``, and not symmetric.

Units: ``base=math.e`` (the default) measures in *nats*, the unit of the
library's losses; ``base=2`` in *bits*. One nat is ``1 / ln 2 ≈ 1.443`` bits.

The term ``0 · log 0`` counts as 0 (its limit ``p log p → 0`` as ``p → 0``):
an outcome that never happens adds no surprise. Where ``p_k > 0`` but
``q_k = 0``, the surprise ``-log q_k`` is infinite, and so are ``H(p, q)`` and
``D(p‖q)``: the functions return ``inf`` there, without a warning.

Models output *logits*, not probabilities. ``q = softmax(z)`` can round to
exactly 0 for very negative logits, which would turn a large but finite loss
into ``inf``. The ``*_from_logits`` functions work with
``log q = log_softmax(z)`` instead, which is always finite, so their results
are finite for any finite logits.

Everything here is NumPy in, NumPy out (other arrays, e.g. JAX's, are
converted), computed in float64.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .losses import log_softmax

Array = Any

#: How far the sum of a probability row may be from 1 before it is rejected.
SUM_TOLERANCE = 1e-6


# --- checking inputs ---------------------------------------------------------------------


def _as_float_array(a: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"{name} must be an array of numbers, got {type(a).__name__}. Pass a list or "
            "NumPy array of probabilities, e.g. [0.5, 0.5]."
        ) from err
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValueError(
            f"{name} has shape {arr.shape}, but a distribution needs at least one class along "
            "the last axis: pass a vector (C,) or one distribution per row (N, C)."
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; probabilities must be finite numbers.")
    return arr


def _first_bad_row(mask: np.ndarray) -> str:
    """``" (row 3)"`` for the first true entry of a row mask, ``""`` for a single vector."""
    if mask.ndim == 0:
        return ""
    index = tuple(int(i) for i in np.argwhere(mask)[0])
    return f" (row {index[0] if len(index) == 1 else index})"


def check_distribution(p: Any, name: str = "p", tol: float = SUM_TOLERANCE) -> np.ndarray:
    """Return ``p`` as a float64 array after checking it holds probability distributions.

    Every entry must be ``≥ 0`` and every distribution (the last axis) must
    sum to 1 within ``tol``. Raises ``ValueError`` naming the first bad row and
    how to fix it (normalise, or use the ``*_from_logits`` functions for logits).
    """
    arr = _as_float_array(p, name)
    negative = (arr < 0).any(axis=-1)
    if np.any(negative):
        row = _first_bad_row(negative)
        raise ValueError(
            f"{name}{row} has a negative entry ({arr.min():.4g}), but probabilities are >= 0. "
            "If these are logits (raw scores), use the *_from_logits functions instead."
        )
    sums = arr.sum(axis=-1)
    wrong = np.abs(sums - 1.0) > tol
    if np.any(wrong):
        row = _first_bad_row(wrong)
        bad_sum = float(sums.ravel()[np.argmax(wrong.ravel())])
        raise ValueError(
            f"{name}{row} sums to {bad_sum:.6g}, but a probability distribution sums to 1 "
            f"(within {tol:g}). Normalise it with {name} / {name}.sum(axis=-1, keepdims=True)."
        )
    return arr


def _check_same_shape(p: np.ndarray, q: np.ndarray, names: tuple[str, str]) -> None:
    if p.shape != q.shape:
        raise ValueError(
            f"{names[0]} has shape {p.shape} but {names[1]} has shape {q.shape}; they must "
            f"match: one distribution of {names[0]} for every distribution of {names[1]}, "
            "over the same classes."
        )


def _log_of_base(base: float) -> float:
    """``ln(base)``: dividing a natural logarithm by it changes the unit (2: bits, e: nats)."""
    if isinstance(base, bool) or not isinstance(base, (int, float, np.number)):
        raise ValueError(f"base must be a number (math.e for nats, 2 for bits), got {base!r}.")
    if not (math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(
            f"base must be a positive number other than 1 (math.e for nats, 2 for bits), "
            f"got {base!r}."
        )
    return math.log(base)


def _result(values: np.ndarray) -> float | np.ndarray:
    """A float for a single distribution, the array of per-row values for a batch."""
    return float(values) if values.ndim == 0 else values


def _plogq(p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """``p · log q`` element-wise, with the convention ``0 · log q = 0`` (even for ``q = 0``).

    Replacing ``log q`` by 0 where ``p = 0`` avoids ``0 · (-inf) = nan``.
    """
    return p * np.where(p > 0, log_q, 0.0)


def _log(q: np.ndarray) -> np.ndarray:
    """Natural log with ``log 0 = -inf`` and no divide-by-zero warning."""
    with np.errstate(divide="ignore"):
        return np.log(q)


# --- on probabilities -------------------------------------------------------------------


def entropy(p: Any, base: float = math.e) -> float | np.ndarray:
    """Shannon entropy ``H(p) = -Σ_k p_k log p_k`` of the distribution(s) in ``p``.

    Arguments:
        p: probabilities, shape ``(C,)`` or ``(N, C)`` (one distribution per
            row); entries ``≥ 0`` summing to 1 along the last axis.
        base: of the logarithm: ``math.e`` (default) gives nats, ``2`` bits.

    Returns a float for one distribution, an array ``(N,)`` for rows. Terms
    with ``p_k = 0`` contribute 0. The result lies in ``[0, log C]``: 0 when
    one class is certain, ``log C`` when all ``C`` classes are equally likely.

    Example: a fair coin has ``entropy([0.5, 0.5], base=2) == 1.0`` bit.
    """
    p = check_distribution(p, "p")
    h = -_plogq(p, _log(p)).sum(axis=-1) / _log_of_base(base)
    return _result(np.maximum(h, 0.0))  # turns -0.0 into 0.0


def cross_entropy(p: Any, q: Any, base: float = math.e) -> float | np.ndarray:
    """Cross-entropy ``H(p, q) = -Σ_k p_k log q_k``: surprise under ``q`` of outcomes from ``p``.

    Arguments:
        p: the true distribution(s) (for a classifier: the label, e.g. one-hot),
            shape ``(C,)`` or ``(N, C)``.
        q: the predicted distribution(s), same shape as ``p``.
        base: ``math.e`` (default) for nats, ``2`` for bits.

    Returns a float for one distribution, an array ``(N,)`` for rows.
    ``H(p, q) ≥ H(p)``, with equality only for ``q = p``. Terms with
    ``p_k = 0`` contribute 0; if ``q_k = 0`` where ``p_k > 0`` the result is
    ``inf``. With one-hot ``p`` (label ``y``) this is ``-log q_y``, the loss
    that ``nnlib.losses.softmax_cross_entropy`` averages over a batch.
    """
    p, q = check_distribution(p, "p"), check_distribution(q, "q")
    _check_same_shape(p, q, ("p", "q"))
    return _result(-_plogq(p, _log(q)).sum(axis=-1) / _log_of_base(base))


def kl_divergence(p: Any, q: Any, base: float = math.e) -> float | np.ndarray:
    """Kullback–Leibler divergence ``D(p‖q) = Σ_k p_k log(p_k / q_k) = H(p, q) - H(p)``.

    The extra surprise of expecting ``q`` when outcomes come from ``p``.

    Arguments:
        p: the true distribution(s), shape ``(C,)`` or ``(N, C)``.
        q: the approximating distribution(s), same shape.
        base: ``math.e`` (default) for nats, ``2`` for bits.

    Returns a float for one distribution, an array ``(N,)`` for rows.
    ``D(p‖q) ≥ 0`` (Gibbs' inequality), 0 only for ``q = p``; floating-point
    rounding could leave a tiny negative number such as ``-1e-17``, which is
    returned as 0. Not symmetric: in general ``D(p‖q) ≠ D(q‖p)``. Terms with
    ``p_k = 0`` contribute 0; ``q_k = 0`` where ``p_k > 0`` gives ``inf``.
    """
    p, q = check_distribution(p, "p"), check_distribution(q, "q")
    _check_same_shape(p, q, ("p", "q"))
    log_ratio = np.where(p > 0, _log(np.where(p > 0, p, 1.0)) - _log(q), 0.0)
    d = _plogq(p, log_ratio).sum(axis=-1) / _log_of_base(base)
    return _result(np.maximum(d, 0.0))


# --- on logits ----------------------------------------------------------------------------


def log_softmax_last_axis(logits: Any) -> np.ndarray:
    """``log softmax(z)`` over the last axis of ``logits`` ``(C,)`` or ``(..., C)``, float64.

    ``log q_k = z_k - log Σ_j exp(z_j)``, computed by
    :func:`nnlib.losses.log_softmax` (which subtracts the maximum first), so
    it is finite for any finite logits, even where ``q_k`` itself would round
    to 0.
    """
    z = _as_float_array(logits, "logits")
    rows = z.reshape(-1, z.shape[-1])
    return np.asarray(log_softmax(rows), dtype=np.float64).reshape(z.shape)


def entropy_from_logits(logits: Any, base: float = math.e) -> float | np.ndarray:
    """Entropy ``H(q)`` of the prediction ``q = softmax(z)``, from logits ``(C,)`` or ``(N, C)``.

    ``H(q) = -Σ_k q_k log q_k`` with ``log q = log_softmax(z)`` (finite) and
    ``q = exp(log q)``. Finite for any finite logits. Returns a float for one
    vector of logits, an array ``(N,)`` for rows.
    """
    log_q = log_softmax_last_axis(logits)
    h = -(np.exp(log_q) * log_q).sum(axis=-1) / _log_of_base(base)
    return _result(np.maximum(h, 0.0))


def cross_entropy_from_logits(p: Any, logits: Any, base: float = math.e) -> float | np.ndarray:
    """Cross-entropy ``H(p, softmax(z)) = -Σ_k p_k log_softmax(z)_k``.

    Arguments:
        p: the true distribution(s) (one-hot labels or soft targets), ``(C,)``
            or ``(N, C)``.
        logits: the model's raw scores ``z``, same shape as ``p``.
        base: ``math.e`` (default) for nats, ``2`` for bits.

    Finite for any finite logits. For one-hot rows its mean over the rows is
    the value of ``nnlib.losses.softmax_cross_entropy(logits, labels)``.
    """
    p = check_distribution(p, "p")
    log_q = log_softmax_last_axis(logits)
    _check_same_shape(p, log_q, ("p", "logits"))
    return _result(-_plogq(p, log_q).sum(axis=-1) / _log_of_base(base))


def kl_divergence_from_logits(p: Any, logits: Any, base: float = math.e) -> float | np.ndarray:
    """KL divergence ``D(p‖softmax(z)) = Σ_k p_k (log p_k - log_softmax(z)_k)``.

    Same arguments as :func:`cross_entropy_from_logits`; equal to it minus
    ``H(p)``, so the two coincide for one-hot ``p`` (whose entropy is 0).
    Finite for any finite logits; never negative.
    """
    p = check_distribution(p, "p")
    log_q = log_softmax_last_axis(logits)
    _check_same_shape(p, log_q, ("p", "logits"))
    log_ratio = np.where(p > 0, _log(np.where(p > 0, p, 1.0)) - log_q, 0.0)
    d = _plogq(p, log_ratio).sum(axis=-1) / _log_of_base(base)
    return _result(np.maximum(d, 0.0))


__all__ = [
    "SUM_TOLERANCE",
    "check_distribution",
    "cross_entropy",
    "cross_entropy_from_logits",
    "entropy",
    "entropy_from_logits",
    "kl_divergence",
    "kl_divergence_from_logits",
    "log_softmax_last_axis",
]
