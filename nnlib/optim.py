"""Optimisers, learning-rate schedules and gradient clipping.

An optimiser is a pair of pure functions (the style of optax)::

    opt = adam(lr=1e-3)
    state = opt.init(params)
    params, state = opt.update(params, grads, state)

State goes in, state comes out; nothing is modified in place. That makes the
update easy to read, to test, and to compile with ``jax.jit``.

``lr`` is a number or a *schedule*: a function of the step count ``t``
(starting at 0) that returns the learning rate for that step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from . import backend
from .tree import tree_leaves, tree_map

Schedule = Callable[[Any], Any]
LearningRate = float | Schedule


class Optimizer(NamedTuple):
    """``init(params) -> state`` and ``update(params, grads, state) -> (params, state)``."""

    init: Callable[[Any], dict]
    update: Callable[[Any, Any, dict], tuple[Any, dict]]
    name: str = "optimizer"


def _check_lr(lr: LearningRate) -> Schedule:
    if callable(lr):
        return lr
    if backend.is_tracer(lr):
        # Inside jax.jit the learning rate can be an input of the compiled
        # function (a traced value, known only when it runs): then one
        # compilation serves every learning rate. It was checked before tracing.
        return lambda t: lr
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(
            f"The learning rate must be a positive finite number (or a schedule), got {lr!r}. "
            "Typical values are 1e-3 to 1."
        )
    value = float(lr)
    return lambda t: value


def learning_rate(schedule: Schedule, step: Any) -> Any:
    """The learning rate for ``step``; a plain ``float`` on NumPy so float32 stays float32."""
    eta = schedule(step)
    return float(eta) if backend.is_numpy() else eta


def _zeros_like(params: Any) -> Any:
    return tree_map(lambda p: p * 0, params)


def sgd(lr: LearningRate) -> Optimizer:
    """Plain gradient descent: ``θ ← θ - η ∇L``."""
    schedule = _check_lr(lr)

    def init(params: Any) -> dict:
        return {"step": 0}

    def update(params: Any, grads: Any, state: dict) -> tuple[Any, dict]:
        eta = learning_rate(schedule, state["step"])
        return tree_map(lambda p, g: p - eta * g, params, grads), {"step": state["step"] + 1}

    return Optimizer(init, update, "sgd")


def momentum(lr: LearningRate, beta: float = 0.9, nesterov: bool = False) -> Optimizer:
    """Heavy-ball momentum: ``v ← β v + ∇L``, ``θ ← θ - η v``.

    The velocity ``v`` averages recent gradients: directions that agree build
    up speed, directions that flip sign cancel. Nesterov's variant steps with
    the look-ahead gradient estimate ``∇L + β v``.
    """
    schedule = _check_lr(lr)
    _check_beta(beta, "beta")

    def init(params: Any) -> dict:
        return {"step": 0, "v": _zeros_like(params)}

    def update(params: Any, grads: Any, state: dict) -> tuple[Any, dict]:
        eta = learning_rate(schedule, state["step"])
        v = tree_map(lambda v, g: beta * v + g, state["v"], grads)
        direction = tree_map(lambda v, g: g + beta * v, v, grads) if nesterov else v
        new = tree_map(lambda p, d: p - eta * d, params, direction)
        return new, {"step": state["step"] + 1, "v": v}

    return Optimizer(init, update, "nesterov" if nesterov else "momentum")


def rmsprop(lr: LearningRate, decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """RMSprop: ``s ← ρ s + (1-ρ) g²``, ``θ ← θ - η g / (√s + ε)``.

    Each parameter gets its own step size, small where gradients are large.
    """
    schedule = _check_lr(lr)
    _check_beta(decay, "decay")

    def init(params: Any) -> dict:
        return {"step": 0, "s": _zeros_like(params)}

    def update(params: Any, grads: Any, state: dict) -> tuple[Any, dict]:
        xp = backend.xp()
        eta = learning_rate(schedule, state["step"])
        s = tree_map(lambda s, g: decay * s + (1 - decay) * g * g, state["s"], grads)
        new = tree_map(lambda p, g, s: p - eta * g / (xp.sqrt(s) + eps), params, grads, s)
        return new, {"step": state["step"] + 1, "s": s}

    return Optimizer(init, update, "rmsprop")


def adam(
    lr: LearningRate = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> Optimizer:
    """Adam: momentum plus RMSprop, with bias correction.

    ``m ← β₁ m + (1-β₁) g``, ``v ← β₂ v + (1-β₂) g²``,
    ``m̂ = m / (1-β₁ᵗ)``, ``v̂ = v / (1-β₂ᵗ)``, ``θ ← θ - η m̂ / (√v̂ + ε)``.
    The corrections undo the bias of ``m`` and ``v`` towards their zero start.
    """
    schedule = _check_lr(lr)
    _check_beta(b1, "b1")
    _check_beta(b2, "b2")

    def init(params: Any) -> dict:
        return {"step": 0, "m": _zeros_like(params), "v": _zeros_like(params)}

    def update(params: Any, grads: Any, state: dict) -> tuple[Any, dict]:
        xp = backend.xp()
        t = state["step"] + 1
        eta = learning_rate(schedule, state["step"])
        m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
        v = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
        c1, c2 = 1 - b1**t, 1 - b2**t
        new = tree_map(lambda p, m, v: p - eta * (m / c1) / (xp.sqrt(v / c2) + eps), params, m, v)
        return new, {"step": t, "m": m, "v": v}

    return Optimizer(init, update, "adam")


def _check_beta(beta: float, name: str) -> None:
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {beta!r}.")


OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": lambda lr, **kw: momentum(lr, nesterov=True, **kw),
    "rmsprop": rmsprop,
    "adam": adam,
}


def get_optimizer(name: str | Optimizer, lr: LearningRate = 0.01, **kwargs: Any) -> Optimizer:
    """Build an optimiser by name: ``get_optimizer("adam", lr=1e-3)``."""
    if isinstance(name, Optimizer):
        return name
    if isinstance(name, str) and name.lower() in OPTIMIZERS:
        return OPTIMIZERS[name.lower()](lr, **kwargs)
    raise ValueError(f"Unknown optimiser {name!r}. Valid optimisers are {sorted(OPTIMIZERS)}.")


# --- schedules ---------------------------------------------------------------------


def constant(lr: float) -> Schedule:
    """``η_t = lr``."""
    _check_lr(lr)
    return lambda t: lr


def step_decay(lr: float, drop: float = 0.5, every: int = 100) -> Schedule:
    """``η_t = lr · drop^⌊t / every⌋``: divide the rate at fixed intervals."""
    _check_lr(lr)
    if every < 1:
        raise ValueError(f"step_decay every must be >= 1 step, got {every!r}.")
    return lambda t: lr * drop ** (t // every)


def exponential_decay(lr: float, rate: float = 0.99) -> Schedule:
    """``η_t = lr · rate^t``."""
    _check_lr(lr)
    return lambda t: lr * rate**t


def cosine_decay(lr: float, total_steps: int, final: float = 0.0) -> Schedule:
    """``η_t = final + ½ (lr - final)(1 + cos(π · min(t, T) / T))``: smooth from lr to final."""
    _check_lr(lr)
    if total_steps < 1:
        raise ValueError(f"cosine_decay total_steps must be >= 1, got {total_steps!r}.")

    def schedule(t: Any) -> Any:
        xp = backend.xp()
        frac = xp.minimum(t, total_steps) / total_steps
        return final + 0.5 * (lr - final) * (1 + xp.cos(math.pi * frac))

    return schedule


def warmup(schedule: LearningRate, warmup_steps: int) -> Schedule:
    """Linear warm-up: ``η_t = base(t) · (t+1)/W`` for the first ``W`` steps, then ``base(t)``."""
    base = _check_lr(schedule)
    if warmup_steps < 1:
        raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps!r}.")

    def scheduled(t: Any) -> Any:
        xp = backend.xp()
        return base(t) * xp.minimum(1.0, (t + 1) / warmup_steps)

    return scheduled


# --- clipping ----------------------------------------------------------------------


def global_norm(grads: Any) -> Any:
    """``||g|| = √(Σ over all arrays of Σ g²)``: the length of the whole gradient."""
    xp = backend.xp()
    return xp.sqrt(sum((g * g).sum() for g in tree_leaves(grads)))


def clip_by_global_norm(grads: Any, max_norm: float) -> tuple[Any, Any]:
    """Rescale ``grads`` so that their global norm is at most ``max_norm``.

    ``g ← g · min(1, max_norm / ||g||)``: the direction is kept, only the length
    is capped. Returns ``(clipped_grads, norm_before_clipping)``.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}.")
    xp = backend.xp()
    norm = global_norm(grads)
    scale = xp.minimum(1.0, max_norm / (norm + 1e-12))
    return tree_map(lambda g: g * scale, grads), norm
