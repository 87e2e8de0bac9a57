"""Weight initialisers: where a network starts decides whether it can learn.

Each initialiser draws an array of ``shape = (fan_in, fan_out)`` from a NumPy
``Generator`` and returns a NumPy array of ``dtype``. Layers convert it to the
current backend, so the same seed gives the same weights on NumPy and JAX.

Why the scale matters: a layer computes ``z = x @ W``. If the inputs have unit
variance and the weights variance ``s²``, then ``Var(z) = fan_in · s²``. Keep
that at 1 and signals neither vanish nor explode as they pass through many
layers:

* Xavier/Glorot (tanh, sigmoid): ``Var(W) = 2 / (fan_in + fan_out)``, a
  compromise between keeping the forward signal (``1/fan_in``) and the
  backward gradient (``1/fan_out``) steady.
* He/Kaiming (ReLU): ``Var(W) = 2 / fan_in``. ReLU zeroes half its inputs,
  halving the variance, so the weights make up for it with a factor 2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Initializer = Callable[..., np.ndarray]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) != 2:
        raise ValueError(f"Initialisers expect a 2-D weight shape (fan_in, fan_out), got {shape}.")
    return int(shape[0]), int(shape[1])


def zeros(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any = np.float32) -> np.ndarray:
    """All zeros. Fine for biases; for weights every unit would stay identical (symmetry)."""
    return np.zeros(shape, dtype=dtype)


def normal(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: Any = np.float32, std: float = 0.01
) -> np.ndarray:
    """Gaussian weights ``W ~ N(0, std²)``, scale chosen by hand."""
    return (std * rng.standard_normal(shape)).astype(dtype)


def uniform(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: Any = np.float32, limit: float = 0.05
) -> np.ndarray:
    """Uniform weights ``W ~ U(-limit, limit)``, scale chosen by hand."""
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def xavier(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: Any = np.float32, gain: float = 1.0
) -> np.ndarray:
    """Xavier/Glorot normal: ``W ~ N(0, gain² · 2 / (fan_in + fan_out))``. For tanh/sigmoid."""
    fan_in, fan_out = _fans(shape)
    std = gain * np.sqrt(2.0 / (fan_in + fan_out))
    return (std * rng.standard_normal(shape)).astype(dtype)


def he(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: Any = np.float32, gain: float = 1.0
) -> np.ndarray:
    """He/Kaiming normal: ``W ~ N(0, gain² · 2 / fan_in)``. For ReLU and leaky ReLU."""
    fan_in, _ = _fans(shape)
    std = gain * np.sqrt(2.0 / fan_in)
    return (std * rng.standard_normal(shape)).astype(dtype)


INITIALIZERS: dict[str, Initializer] = {
    "zeros": zeros,
    "normal": normal,
    "uniform": uniform,
    "xavier": xavier,
    "glorot": xavier,
    "he": he,
    "kaiming": he,
}


def get_initializer(init: str | Initializer) -> Initializer:
    """Look an initialiser up by name (``"xavier"``, ``"he"``, ...) or pass a callable through."""
    if callable(init):
        return init
    if isinstance(init, str) and init.lower() in INITIALIZERS:
        return INITIALIZERS[init.lower()]
    raise ValueError(
        f"Unknown initialiser {init!r}. Valid names are {sorted(INITIALIZERS)}, "
        "or pass a function f(rng, shape, dtype) -> array."
    )
