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
from functools import lru_cache
from types import ModuleType
from typing import Any

import numpy as np

Array = Any

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


# --- sums and maxima along one axis -------------------------------------------------
#
# ``a.sum(axis=0)``, ``a.sum(axis=1)`` and ``a.max(axis=1)`` are what the maths
# says, and on JAX they are what we use. On NumPy these three reductions are
# much slower than they need to be for the shapes a network produces, so the
# functions below compute the same numbers a faster way. Each one is a few
# times to fifteen times faster, and they sit in every training step.


def column_sums(a: Array) -> Array:
    """``Σ_n a[n, :]``: the sum of each column (over the rows, axis 0), ``(N, D) -> (D,)``.

    On NumPy it is written as the matrix-vector product ``1ᵀ a`` with a
    vector of ``N`` ones: BLAS does that in one pass over the rows, about ten
    times faster than ``a.sum(axis=0)``. This is the bias gradient
    ``db = Σ_rows dy`` of every ``Dense`` layer.
    """
    if _name != "numpy":
        return a.sum(axis=0)
    return _ones(a.shape[0], a.dtype) @ a


def row_sums(a: Array) -> Array:
    """``Σ_k a[:, k]``: the sum of each row (axis 1), ``(N, C) -> (N,)``.

    On NumPy: the product ``a 1`` with a vector of ``C`` ones (BLAS), about
    ten times faster than ``a.sum(axis=1)`` when rows are short (10 classes).
    """
    if _name != "numpy":
        return a.sum(axis=1)
    return a @ _ones(a.shape[1], a.dtype)


def row_max(a: Array) -> Array:
    """``max_k a[:, k]``: the largest entry of each row (axis 1), ``(N, C) -> (N,)``.

    NumPy reduces each short row separately, with a fixed cost per row. The
    transposed copy ``aᵀ`` has the rows as columns, and the maximum over its
    axis 0 compares whole rows of ``N`` numbers at once with vector
    instructions: fifteen times faster for 1797 rows of 10 logits, the copy
    included.
    """
    if _name != "numpy":
        return a.max(axis=1)
    return a.T.copy().max(axis=0)


@lru_cache(maxsize=32)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    """A read-only vector of ``n`` ones, made once per ``(n, dtype)`` and reused."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


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


# --- memory ------------------------------------------------------------------------

_KEEP_MMAP_BELOW = 32 << 20  # bytes: arrays up to 32 MiB come from the reusable heap
_KEEP_FREED_UP_TO = 256 << 20  # bytes of freed memory the process may keep for reuse
_kept_freed_memory: bool | None = None


def keep_freed_memory() -> bool:
    """Ask the C allocator to keep freed memory for reuse instead of returning it to the OS.

    Why this matters: a training step creates the same large temporaries
    every time (activations, gradients: about 1 MB each for a batch of 1797
    rows and 128 units) and frees them at the end of the step. By default
    glibc hands such blocks straight back to the operating system. The next
    step then gets *fresh* memory, and the processor takes a page fault on
    every 4 KiB page it first touches: about 900 faults per step here, which
    made a step of that size 2.5 times slower than its arithmetic. With the
    two settings below the freed blocks stay in the process and are reused,
    with no faults. The price is that up to 256 MiB of freed memory stays
    allocated to the process.

    ``fit`` calls this once. It only acts on Linux with glibc (elsewhere it
    does nothing) and returns whether the settings were applied. It changes
    the whole process, not only nnlib: every later allocation benefits. To
    leave the allocator alone, set the environment variable
    ``NNLIB_KEEP_FREED_MEMORY=0`` before the first ``fit``.
    """
    global _kept_freed_memory
    if _kept_freed_memory is None:
        opted_out = os.environ.get("NNLIB_KEEP_FREED_MEMORY", "1").strip() == "0"
        _kept_freed_memory = False if opted_out else _set_malloc_thresholds()
    return _kept_freed_memory


def _set_malloc_thresholds() -> bool:
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # the option numbers from <malloc.h>
    # mallopt returns 1 on success. Fixing either threshold also turns off glibc's
    # own adaptive thresholds, which are what gave the memory back every step.
    return bool(
        libc.mallopt(m_mmap_threshold, _KEEP_MMAP_BELOW)
        and libc.mallopt(m_trim_threshold, _KEEP_FREED_UP_TO)
    )


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
