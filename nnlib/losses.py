"""Loss functions, each returning the loss and its gradient.

``loss, dout = loss_fn(output, target)``: ``loss`` is a scalar (the mean over
the batch), ``dout = ∂loss/∂output`` has ``output``'s shape and starts the
backward pass.

Classification losses take *logits* (raw scores before the sigmoid/softmax)
rather than probabilities. Computing the loss straight from logits is both
simpler and numerically stable: ``log(sigmoid(z))`` for ``z = -1000`` is
``log(0) = -inf`` in floating point, while ``-log1p(exp(-|z|)) - max(-z, 0)``
is finite. The gradients come out beautifully simple too:
``sigmoid(z) - y`` and ``softmax(z) - onehot(y)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import backend

Array = Any


def _concrete(a: Array) -> bool:
    return not backend.is_tracer(a)


def _check_finite_targets(target: Array, name: str) -> None:
    if _concrete(target) and not np.all(np.isfinite(backend.to_numpy(target))):
        raise ValueError(
            f"{name}: the targets contain NaN or inf. Remove or impute those rows before "
            "training (e.g. with np.nan_to_num or by dropping them)."
        )


def _as_column(pred: Array, target: Array, name: str) -> Array:
    """Bring ``target`` to ``pred``'s shape: ``(N,)`` targets for ``(N, 1)`` outputs."""
    if target.shape == pred.shape:
        return target
    if pred.ndim == 2 and pred.shape[1] == 1 and target.shape == (pred.shape[0],):
        return target.reshape(-1, 1)
    raise ValueError(
        f"{name}: predictions have shape {tuple(pred.shape)} but targets have shape "
        f"{tuple(target.shape)}. They must match (or be (N,) targets for (N, 1) outputs)."
    )


def mse(pred: Array, target: Array, check: bool = True) -> tuple[Array, Array]:
    """Mean squared error over all elements.

    ``L = (1/M) Σ (pred - target)²`` with ``M = pred.size``;
    ``∂L/∂pred = 2 (pred - target) / M``.
    """
    xp = backend.xp()
    target = _as_column(pred, xp.asarray(target, dtype=pred.dtype), "mse")
    if check:
        _check_finite_targets(target, "mse")
    diff = pred - target
    m = diff.size
    return (diff * diff).sum() / m, diff * (2.0 / m)


def binary_cross_entropy_with_logits(
    logits: Array, target: Array, check: bool = True
) -> tuple[Array, Array]:
    """Binary cross-entropy from logits ``z`` and labels ``y ∈ {0, 1}`` (or probabilities).

    With ``p = σ(z)``: ``L = -(1/N) Σ [y log p + (1 - y) log(1 - p)]``. Since
    ``log σ(z) = z - softplus(z)`` and ``log(1 - σ(z)) = -softplus(z)``, where
    ``softplus(z) = log(1 + e^z)``, this is::

        L = (1/N) Σ [softplus(z) - z·y]

    with ``softplus(z) = max(z, 0) + log(1 + e^-|z|)``, which never overflows
    (the exponent is never positive). Gradient: ``∂L/∂z = (σ(z) - y) / N``,
    with ``σ(z) = exp(z - softplus(z))``, stable for the same reason.

    Shapes: ``logits (N, 1)`` or ``(N,)``; ``target`` the same or ``(N,)``.
    """
    xp = backend.xp()
    target = _as_column(logits, xp.asarray(target, dtype=logits.dtype), "binary_cross_entropy")
    if check and _concrete(target):
        t = backend.to_numpy(target)
        if not np.all(np.isfinite(t)) or t.min(initial=0) < 0 or t.max(initial=0) > 1:
            raise ValueError(
                "binary_cross_entropy: targets must be 0/1 labels (or probabilities in [0, 1]); "
                f"got values in [{np.nanmin(t):.4g}, {np.nanmax(t):.4g}]. For labels in "
                "{-1, 1} use (y + 1) / 2; for several classes use softmax_cross_entropy."
            )
    n = logits.shape[0]
    softplus = xp.maximum(logits, 0.0)  # log(1 + e^z), in two stable parts
    softplus += xp.log1p(xp.exp(-xp.abs(logits)))
    loss = (softplus - logits * target).sum() / n
    grad = xp.exp(logits - softplus)  # σ(z)
    grad -= target
    grad *= 1.0 / n
    return loss, grad


def log_softmax(logits: Array) -> Array:
    """``log softmax(z)_k = z_k - logsumexp(z)``, row-wise and stable.

    Subtracting the row maximum first keeps every ``exp`` ≤ 1, so logits of
    ±1e4 give finite results. (The row maxima and sums come from
    :func:`nnlib.backend.row_max` and :func:`~nnlib.backend.row_sums`: the same
    numbers as ``max(axis=1)`` and ``sum(axis=1)``, faster on NumPy.)
    """
    xp = backend.xp()
    shifted = logits - backend.row_max(logits)[:, None]
    return shifted - xp.log(backend.row_sums(xp.exp(shifted)))[:, None]


def softmax(logits: Array) -> Array:
    """``softmax(z)_k = exp(z_k) / Σ_j exp(z_j)``, row-wise, stable (max subtracted)."""
    xp = backend.xp()
    e = xp.exp(logits - backend.row_max(logits)[:, None])
    e /= backend.row_sums(e)[:, None]
    return e


def softmax_cross_entropy(logits: Array, labels: Array, check: bool = True) -> tuple[Array, Array]:
    """Softmax cross-entropy from logits ``(N, C)`` and integer labels ``(N,)`` in ``[0, C)``.

    ``L = -(1/N) Σ_n log softmax(z_n)[y_n]``. Labels may also be one-hot or
    probability rows of shape ``(N, C)``: then ``L = -(1/N) Σ_n Σ_k y_nk log p_nk``.
    Gradient: ``∂L/∂z = (softmax(z) - onehot(y)) / N``.
    """
    xp = backend.xp()
    if logits.ndim != 2:
        raise ValueError(
            f"softmax_cross_entropy expects logits of shape (N, C), got {tuple(logits.shape)}."
        )
    n, c = logits.shape
    labels = xp.asarray(labels)
    if labels.ndim == 1:
        if check and _concrete(labels):
            _check_class_labels(backend.to_numpy(labels), c, n)
        target = (labels[:, None] == xp.arange(c)).astype(logits.dtype)
    else:
        if labels.shape != logits.shape:
            raise ValueError(
                f"softmax_cross_entropy: logits have shape {tuple(logits.shape)} but one-hot "
                f"labels have shape {tuple(labels.shape)}; pass integer labels of shape ({n},) "
                f"or one-hot rows of shape ({n}, {c})."
            )
        target = labels.astype(logits.dtype)
        if check:
            _check_finite_targets(target, "softmax_cross_entropy")
    logp = log_softmax(logits)
    loss = -(target * logp).sum() / n
    grad = xp.exp(logp)
    grad -= target
    grad *= 1.0 / n
    return loss, grad


def _check_class_labels(labels: np.ndarray, n_classes: int, n: int) -> None:
    if labels.shape[0] != n:
        raise ValueError(
            f"softmax_cross_entropy: {n} rows of logits but {labels.shape[0]} labels; "
            "pass one label per example."
        )
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)):
            raise ValueError(
                "softmax_cross_entropy: labels contain NaN or inf; class labels must be "
                f"integers in [0, {n_classes - 1}]."
            )
        if not np.all(labels == np.round(labels)):
            raise ValueError(
                "softmax_cross_entropy: labels must be whole numbers (class indices), got "
                "fractional values; convert with labels.astype(int)."
            )
    elif labels.dtype.kind not in "iub":
        raise ValueError(
            f"softmax_cross_entropy: labels must be integer class indices, got dtype "
            f"{labels.dtype}."
        )
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(
            f"softmax_cross_entropy: label {bad} is out of range for {n_classes} classes; "
            f"labels must be in [0, {n_classes - 1}]. Does the last layer have one output "
            "per class?"
        )


def l2_penalty(params: Any, lam: float) -> tuple[Any, Any]:
    """Weight decay ``R = (λ/2) Σ_W ||W||²`` over weight matrices only (keys ``"W"``).

    Biases and batch-norm scales are not penalised. Returns ``(R, grads)`` where
    ``grads`` mirrors ``params`` with ``∂R/∂W = λ W`` and zeros elsewhere.
    """
    if _concrete(lam) and lam < 0:  # a traced λ (inside jax.jit) has no value to check
        raise ValueError(f"L2 strength must be >= 0, got {lam!r}.")
    total = 0.0
    grads = _l2_grads(params, lam)
    for w in _weights(params):
        total = total + (w * w).sum()
    return 0.5 * lam * total, grads


def _weights(tree: Any) -> list[Array]:
    if isinstance(tree, dict):
        return [v for k, v in tree.items() if k == "W"] + [
            w for k, v in tree.items() if k != "W" for w in _weights(v)
        ]
    if isinstance(tree, (list, tuple)):
        return [w for v in tree for w in _weights(v)]
    return []


def _l2_grads(tree: Any, lam: float) -> Any:
    if isinstance(tree, dict):
        return {k: (lam * v if k == "W" else _l2_grads(v, lam)) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_l2_grads(v, lam) for v in tree)
    return tree * 0


LOSSES: dict[str, Callable[..., tuple[Array, Array]]] = {
    "mse": mse,
    "bce": binary_cross_entropy_with_logits,
    "binary_cross_entropy": binary_cross_entropy_with_logits,
    "softmax_cross_entropy": softmax_cross_entropy,
    "cross_entropy": softmax_cross_entropy,
}


def get_loss(loss: str | Callable[..., tuple[Array, Array]]) -> Callable[..., tuple[Array, Array]]:
    """Look a loss up by name (``"mse"``, ``"bce"``, ``"cross_entropy"``) or pass a callable."""
    if callable(loss):
        return loss
    if isinstance(loss, str) and loss.lower() in LOSSES:
        return LOSSES[loss.lower()]
    raise ValueError(f"Unknown loss {loss!r}. Valid losses are {sorted(LOSSES)}.")


def count_weights(params: Any) -> int:
    """Number of penalised weights (entries of all ``"W"`` arrays)."""
    return int(sum(np.size(w) for w in _weights(params)))


__all__ = [
    "mse",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy",
    "log_softmax",
    "softmax",
    "l2_penalty",
    "get_loss",
    "LOSSES",
    "count_weights",
]
