"""The array backend: which library does the arithmetic.

nnlib's layers, losses and optimisers are written once, against an *array
namespace* ``xp``: ``numpy`` by default, or ``jax.numpy`` when the JAX backend
is selected. Code asks for the namespace at call time::

    xp = backend.xp()
    z = x @ W + b        # numpy or jax.numpy, same line

Choosing a backend::

    nnlib.set_backend("jax")             # from now on
    with nnlib.use_backend("jax"): ...   # temporarily
    NNLIB_BACKEND=jax python train.py    # default for a process

JAX is optional and imported only when it is asked for.

Randomness: initial weights are always drawn with a NumPy ``Generator`` and
then converted, so the same seed gives the same initial weights on both
backends. Dropout masks use a *key*: a NumPy ``Generator`` on NumPy, a
``jax.random`` key on JAX.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np

BACKENDS = ("numpy", "jax")

_JAX_INSTALL_HINT = (
    "The JAX backend needs the optional 'jax' package, which is not installed. "
    "Install it with `pip install -e .[jax]` (or `pip install jax`), then call "
    "nnlib.set_backend('jax') again; or keep the default NumPy backend with "
    "nnlib.set_backend('numpy')."
)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or name.lower() not in BACKENDS:
        raise ValueError(
            f"Unknown backend {name!r}. Valid backends are {list(BACKENDS)}: "
            "use 'numpy' (default) or 'jax'."
        )
    return name.lower()


def _load_jax() -> ModuleType:
    try:
        import jax  # noqa: F401
        import jax.numpy as jnp
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError(_JAX_INSTALL_HINT) from err
    return jnp


_name = _check_name(os.environ.get("NNLIB_BACKEND", "numpy") or "numpy")
_xp: ModuleType | None = np if _name == "numpy" else None


def get_backend() -> str:
    """Return the name of the current backend: ``"numpy"`` or ``"jax"``."""
    return _name


def set_backend(name: str) -> None:
    """Select the array backend for everything nnlib computes from now on.

    ``name`` is ``"numpy"`` (default, no compilation, instant start) or
    ``"jax"`` (needs ``pip install -e .[jax]``; compiled, can use a GPU).
    Raises ``ValueError`` for an unknown name and ``ImportError`` with the
    install command when JAX is asked for but missing.
    """
    global _name, _xp
    name = _check_name(name)
    _xp = np if name == "numpy" else _load_jax()
    _name = name


@contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Context manager: use backend ``name`` inside the ``with`` block only."""
    previous = _name
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


def xp() -> ModuleType:
    """Return the array namespace of the current backend (``numpy`` or ``jax.numpy``)."""
    global _xp
    if _xp is None:  # NNLIB_BACKEND=jax: import lazily on first use
        _xp = _load_jax()
    return _xp


def is_numpy() -> bool:
    """True when the current backend is NumPy (so in-place work is allowed)."""
    return _name == "numpy"


def enable_x64() -> None:
    """Let JAX compute in float64 (JAX uses float32 only unless told otherwise).

    Called automatically when float64 arrays are created on the JAX backend and
    by gradient checks. A no-op on NumPy.
    """
    if _name == "jax" or "jax" in _loaded_modules():
        import jax

        jax.config.update("jax_enable_x64", True)


def _loaded_modules() -> set[str]:
    import sys

    return set(sys.modules)


def asarray(a: Any, dtype: Any = None) -> Any:
    """Convert ``a`` to an array of the current backend (optionally of ``dtype``)."""
    if _name == "jax" and dtype is not None and np.dtype(dtype) == np.float64:
        enable_x64()
    return xp().asarray(a, dtype=dtype)


def to_numpy(a: Any) -> np.ndarray:
    """Return ``a`` as a NumPy array (copies device arrays to the host)."""
    return np.asarray(a)


def is_tracer(a: Any) -> bool:
    """True when ``a`` is an abstract JAX value inside ``jit`` (no concrete numbers)."""
    if _name != "jax":
        return False
    import jax

    return isinstance(a, jax.core.Tracer)


def as_dtype(dtype: Any) -> np.dtype:
    """Normalise ``"float32"``/``np.float32``/... to a NumPy dtype; only floats are allowed."""
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise ValueError(
            f"Unknown dtype {dtype!r}: use 'float32' (default, fast) or 'float64' "
            "(for gradient checks)."
        ) from err
    if dt not in (np.float32, np.float64):
        raise ValueError(
            f"dtype must be float32 or float64, got {dt}. Use 'float32' for speed or "
            "'float64' for gradient checks."
        )
    return dt


# --- randomness ----------------------------------------------------------------


def make_key(seed: int) -> Any:
    """A source of randomness for dropout from an integer ``seed``.

    NumPy: ``numpy.random.Generator``; JAX: ``jax.random.key``-style PRNG key.
    """
    if _name == "jax":
        import jax

        return jax.random.PRNGKey(seed)
    return np.random.default_rng(seed)


def split_key(key: Any, n: int) -> list[Any]:
    """Split ``key`` into ``n`` independent keys.

    On JAX keys are values and must be split explicitly. A NumPy ``Generator``
    is a stream: drawing from it in order is already deterministic, so the same
    generator is handed out ``n`` times.
    """
    if key is None:
        return [None] * n
    if _name == "jax" and not isinstance(key, np.random.Generator):
        import jax

        return list(jax.random.split(key, n))
    return [key] * n


def bernoulli_mask(key: Any, keep: float, shape: tuple[int, ...], dtype: Any) -> Any:
    """Array of ``shape`` with 1 where a uniform draw is below ``keep``, else 0."""
    if _name == "jax" and not isinstance(key, np.random.Generator):
        import jax

        return jax.random.bernoulli(key, keep, shape).astype(dtype)
    return (key.random(shape) < keep).astype(dtype)
