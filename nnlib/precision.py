"""Number formats for training: what float64, float32, float16 and bfloat16 hold; loss scaling.

**A floating-point number** is stored as three fields of bits: a sign ``s``, an
exponent field ``E`` of ``e`` bits and a mantissa (fraction) field ``M`` of
``m`` bits. A *normal* number has the value::

    x = (-1)^s · (1 + M / 2^m) · 2^(E - bias),    bias = 2^(e-1) - 1,   1 ≤ E ≤ 2^e - 2

The all-ones exponent field holds ``±inf`` and NaN. The all-zeros field holds
the *subnormal* numbers ``(-1)^s · (M / 2^m) · 2^(1 - bias)``: they fill the
gap between 0 and the smallest normal number evenly, with fewer and fewer
significant bits. Everything follows from ``e`` and ``m``:

==========  =====  ========  ========  ===========  ==============  ==============  ==========
format      bits   exponent  mantissa  eps = 2^-m   smallest sub.   smallest norm.  largest
==========  =====  ========  ========  ===========  ==============  ==============  ==========
float64     64     11        52        2.2e-16      4.9e-324        2.2e-308        1.8e308
float32     32     8         23        1.2e-7       1.4e-45         1.2e-38         3.4e38
float16     16     5         10        9.8e-4       6.0e-8          6.1e-5          65504
bfloat16    16     8         7         7.8e-3       9.2e-41         1.2e-38         3.4e38
==========  =====  ========  ========  ===========  ==============  ==============  ==========

* **Precision** is set by the mantissa: rounding to the nearest number makes a
  relative error of at most ``eps / 2``, with the *machine epsilon*
  ``eps = 2^-m``, the gap between 1 and the next larger number.
* **Range** is set by the exponent: the largest finite number is
  ``(2 - 2^-m) · 2^bias`` and the smallest normal one ``2^(1 - bias)``; the
  smallest subnormal is ``2^(1 - bias - m)``. Below half of it, a number
  rounds to 0: it *underflows*. Above the largest, it rounds to ``inf``: it
  *overflows*.

float16 and bfloat16 are both 16 bits and split them differently. float16
keeps 10 mantissa bits (about 3 decimal digits) and only 5 exponent bits, so
its range is tiny: nothing above 65504, nothing normal below ``6.1e-5``.
bfloat16 is float32 with the last 16 mantissa bits cut off: float32's range
with 2 decimal digits.

**Mixed-precision training** runs the forward and backward passes in a 16-bit
*compute dtype* (fast and small on accelerators) and keeps everything that
accumulates small changes in float32: the *master* copy of the weights and
the optimiser's state. In float16, many gradients are smaller than the
smallest subnormal and would become 0; *loss scaling* multiplies the loss by
a factor ``S`` before the backward pass (every gradient is then ``S`` times
larger, by the chain rule) and divides the gradients by ``S`` after they have
been cast back to float32. *Dynamic* loss scaling adjusts ``S`` as training
goes: halve it and skip the update when a gradient overflows (inf or NaN),
double it after ``N`` finite steps in a row.

The pieces, in the order a training step uses them::

    policy   = compute_dtype("float16")                 # None: no mixed precision
    ls       = loss_scale_init("dynamic")               # once, before training
    # every step:
    p_low    = cast_tree(params, policy)                # 1. master weights -> compute dtype
    out      = forward(p_low, cast_tree(x, policy))     # 2. forward in the compute dtype
    loss, d  = loss_fn(cast_tree(out, params_dtype), y) # 3. loss in float32 (stable)
    d_low    = cast_tree(scale_loss(d, ls), policy)     # 4. scale the gradient seed by S
    g_low    = backward(p_low, cache, d_low)            # 5. backward in the compute dtype
    grads    = unscale_grads(g_low, ls, params_dtype)   # 6. cast up first, then divide by S
    finite   = all_finite(grads)                        # 7. one flag for the whole step
    new      = optimizer.update(params, grads, state)   # 8. the update, in float32
    params, state = select_tree(finite, new, (params, state))  # 9. skip it on overflow
    ls       = loss_scale_update(ls, finite)            # 10. halve, or grow after N good steps

Every function below that a step calls is written with ``backend.xp()``
operations only, so it runs on NumPy and inside ``jax.jit`` (no Python ``if``
on a traced value). The *facts* (:func:`machine_epsilon`,
:func:`underflow_fraction`, ...) are NumPy functions for looking at numbers.
bfloat16 on NumPy comes from the small ``ml_dtypes`` package (JAX uses the
same type).
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from . import backend
from .tree import tree_leaves, tree_map

Array = Any

#: The four formats, widest first.
FORMATS = ("float64", "float32", "float16", "bfloat16")
#: What a loss scale may be besides a positive number.
DYNAMIC = "dynamic"

_ML_DTYPES_HINT = (
    "bfloat16 on the NumPy backend needs the small package ml_dtypes (it defines the "
    "bfloat16 type for NumPy). Install it with `pip install ml_dtypes==0.6.0` (it is pinned "
    "in requirements.txt), or use compute dtype 'float16', or the JAX backend."
)

# --- the formats ---------------------------------------------------------------------------


class Layout(NamedTuple):
    """How many bits each field of a format has: ``sign + exponent + mantissa = bits``."""

    sign: int
    exponent: int
    mantissa: int

    @property
    def bits(self) -> int:
        """The total width in bits."""
        return self.sign + self.exponent + self.mantissa


_LAYOUTS = {
    "float64": Layout(sign=1, exponent=11, mantissa=52),
    "float32": Layout(sign=1, exponent=8, mantissa=23),
    "float16": Layout(sign=1, exponent=5, mantissa=10),
    "bfloat16": Layout(sign=1, exponent=8, mantissa=7),
}


def format_name(dtype: Any) -> str:
    """The name of a format: ``"float16"`` for ``"float16"``, ``np.float16`` or ``jnp.float16``.

    Raises ``ValueError`` for anything that is not one of :data:`FORMATS`.
    """
    if isinstance(dtype, str):
        name = dtype.lower()
    elif dtype is None:  # np.dtype(None) would be float64
        name = None
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            name = None
    if name not in _LAYOUTS:
        raise ValueError(
            f"Unknown number format {dtype!r}. Expected one of {list(FORMATS)} "
            "(as a name like 'float16' or a dtype like np.float16)."
        )
    return name


def _bfloat16() -> Any:
    """ml_dtypes' bfloat16 type (imported only when bfloat16 is asked for)."""
    try:
        import ml_dtypes
    except ImportError as err:
        raise ImportError(_ML_DTYPES_HINT) from err
    return ml_dtypes.bfloat16


def numpy_dtype(dtype: Any) -> np.dtype:
    """The NumPy dtype of a format; bfloat16 comes from ``ml_dtypes``.

    Raises ``ValueError`` for an unknown format and ``ImportError`` (with the
    install command) when bfloat16 is asked for without ``ml_dtypes``.
    """
    name = format_name(dtype)
    return np.dtype(_bfloat16()) if name == "bfloat16" else np.dtype(name)


def bits_layout(dtype: Any) -> Layout:
    """Sign, exponent and mantissa bits of a format: float16 is ``Layout(1, 5, 10)``."""
    return _LAYOUTS[format_name(dtype)]


def _bias(layout: Layout) -> int:
    """The exponent bias ``2^(e-1) - 1``: also the largest exponent of a normal number."""
    return 2 ** (layout.exponent - 1) - 1


def machine_epsilon(dtype: Any) -> float:
    """``eps = 2^-m``: the gap between 1 and the next larger number of the format.

    Rounding a number to the format changes it by a relative error of at most
    ``eps / 2``. float16: ``2^-10 ≈ 9.8e-4``; bfloat16: ``2^-7 ≈ 7.8e-3``.
    """
    return 2.0 ** -bits_layout(dtype).mantissa


def largest_finite(dtype: Any) -> float:
    """``(2 - 2^-m) · 2^bias``: all mantissa bits 1, largest normal exponent.

    Anything larger rounds to ``inf``. float16: ``65504``.
    """
    layout = bits_layout(dtype)
    return (2.0 - 2.0**-layout.mantissa) * 2.0 ** _bias(layout)


def smallest_normal(dtype: Any) -> float:
    """``2^(1 - bias)``: the smallest number with the full ``m + 1`` significant bits.

    float16: ``2^-14 ≈ 6.1e-5``. Below it, numbers are subnormal and lose
    precision bit by bit.
    """
    return 2.0 ** (1 - _bias(bits_layout(dtype)))


def smallest_subnormal(dtype: Any) -> float:
    """``2^(1 - bias - m)``: the smallest positive number (only the last mantissa bit set).

    float16: ``2^-24 ≈ 6.0e-8``. A number below half of it rounds to 0.
    """
    layout = bits_layout(dtype)
    return 2.0 ** (1 - _bias(layout) - layout.mantissa)


def decimal_digits(dtype: Any) -> int:
    """``floor(m · log10 2)``: decimal digits the format keeps for sure (float16: 3)."""
    return math.floor(bits_layout(dtype).mantissa * math.log10(2))


class FormatFacts(NamedTuple):
    """Everything :func:`format_facts` says about one format."""

    name: str
    bits: int
    exponent_bits: int
    mantissa_bits: int
    eps: float
    smallest_subnormal: float
    smallest_normal: float
    largest: float
    decimal_digits: int


def format_facts(dtype: Any) -> FormatFacts:
    """Width, field sizes, precision and range of a format, all from its layout."""
    layout = bits_layout(dtype)
    return FormatFacts(
        name=format_name(dtype),
        bits=layout.bits,
        exponent_bits=layout.exponent,
        mantissa_bits=layout.mantissa,
        eps=machine_epsilon(dtype),
        smallest_subnormal=smallest_subnormal(dtype),
        smallest_normal=smallest_normal(dtype),
        largest=largest_finite(dtype),
        decimal_digits=decimal_digits(dtype),
    )


def bit_pattern(x: float, dtype: Any) -> str:
    """The bits of ``x`` rounded to a format, as ``"sign exponent mantissa"``.

    ``bit_pattern(1.0, "float16") == "0 01111 0000000000"``: sign 0, exponent
    field 15 = bias (so ``2^0``), mantissa 0 (so ``1.0``).
    """
    layout = bits_layout(dtype)
    unsigned = {16: np.uint16, 32: np.uint32, 64: np.uint64}[layout.bits]
    stored = np.asarray(x, dtype=np.float64).astype(numpy_dtype(dtype))
    bits = format(int(stored.view(unsigned)), f"0{layout.bits}b")
    e = layout.exponent
    return f"{bits[0]} {bits[1 : 1 + e]} {bits[1 + e :]}"


# --- what happens to a tensor of gradients -------------------------------------------------


def _values(values: Any) -> np.ndarray:
    """All entries of an array or a nest of arrays as one float64 NumPy vector."""
    leaves = [np.asarray(backend.to_numpy(v), np.float64).ravel() for v in tree_leaves(values)]
    return np.concatenate(leaves) if leaves else np.zeros(0)


def _cast(values: Any, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(exact, rounded)``: the float64 entries and the same entries rounded to ``dtype``."""
    exact = _values(values)
    with np.errstate(over="ignore"):
        rounded = exact.astype(numpy_dtype(dtype)).astype(np.float64)
    return exact, rounded


def _share(mask: np.ndarray, among: np.ndarray) -> float:
    n = int(among.sum())
    return float((mask & among).sum() / n) if n else 0.0


def underflow_fraction(values: Any, dtype: Any) -> float:
    """The share of the non-zero entries of ``values`` that become exactly 0 in ``dtype``.

    ``values`` is an array or a nest of arrays (e.g. a model's gradients). An
    entry underflows when ``|g|`` is below half the smallest subnormal
    (``2^-25 ≈ 3e-8`` in float16): rounding to the nearest representable
    number then gives 0, and the information in that gradient is gone. Entries
    that are 0 already do not count. Multiply ``values`` by a loss scale first
    to see what scaling saves: ``underflow_fraction(S * grads, "float16")``.
    """
    exact, rounded = _cast(values, dtype)
    return _share(rounded == 0, (exact != 0) & np.isfinite(exact))


def subnormal_fraction(values: Any, dtype: Any) -> float:
    """The share of the non-zero entries that become subnormal: non-zero, below the smallest normal.

    They survive, but with fewer significant bits the smaller they are: a
    float16 subnormal near ``1e-7`` keeps only one or two.
    """
    exact, rounded = _cast(values, dtype)
    tiny = (rounded != 0) & (np.abs(rounded) < smallest_normal(dtype))
    return _share(tiny, (exact != 0) & np.isfinite(exact))


def overflow_fraction(values: Any, dtype: Any) -> float:
    """The share of the non-zero finite entries that become ``±inf`` in ``dtype``.

    A number overflows when it is at least ``largest + ½ ulp`` (65520 in float16).
    This is what a too-large loss scale does.
    """
    exact, rounded = _cast(values, dtype)
    return _share(np.isinf(rounded), (exact != 0) & np.isfinite(exact))


def rounded_away_fraction(weights: Any, updates: Any, dtype: Any) -> float:
    """The share of the non-zero updates ``u`` that leave their weight unchanged in ``dtype``.

    A step ``w ← w - u`` computed with ``w`` stored in ``dtype`` changes
    nothing when ``|u|`` is below half the gap between the neighbours of
    ``w`` (at least ``|w| · eps / 4``): ``round(w - u) == round(w)``.
    ``weights`` and ``updates`` are arrays or nests of the same structure
    (e.g. ``params`` and ``lr · grads``); both are rounded to ``dtype`` first.
    In float32 almost no update is lost, in float16 many small ones are:
    the reason the master weights stay float32.
    """
    w_exact, w = _cast(weights, dtype)
    u_exact, u = _cast(updates, dtype)
    if w_exact.shape != u_exact.shape:
        raise ValueError(
            f"weights and updates must have the same entries, got {w_exact.size} weights and "
            f"{u_exact.size} updates. Pass e.g. params and the same nest of lr · grads."
        )
    dt = numpy_dtype(dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        stepped = (w.astype(dt) - u.astype(dt)).astype(np.float64)
    return _share(stepped == w, (u_exact != 0) & np.isfinite(u_exact) & np.isfinite(w_exact))


# --- rounding error of a long sum ----------------------------------------------------------


def running_sum(values: Any, dtype: Any) -> np.ndarray:
    """The partial sums ``s_k = round(s_{k-1} + x_k)``, every one rounded to ``dtype``.

    This is what a loop ``s = s + x`` with ``s`` stored in ``dtype`` computes.
    Each addition makes a relative error of up to ``eps / 2``, and once
    ``|s_k|`` is large the increments ``x_k`` are small *relative to it*: when
    ``|x_k|`` is below half the gap between neighbours of ``s_k``, the sum
    stops growing. The ``x_k`` are rounded to ``dtype`` first. Returns a
    float64 array of the partial sums.
    """
    dt = numpy_dtype(dtype)
    x = _values(values).astype(dt)
    return np.add.accumulate(x, dtype=dt).astype(np.float64)


def sum_relative_error(values: Any, dtype: Any) -> float:
    """``|s_N - Σ x_k| / |Σ x_k|``: the relative error of a running sum accumulated in ``dtype``.

    ``Σ x_k`` is the exact sum (``math.fsum``) of the same values rounded to
    ``dtype``, so the number measures the *accumulation* alone, not the
    rounding of the inputs. It grows roughly like ``N · eps`` until the sum
    stalls (see :func:`running_sum`).
    """
    dt = numpy_dtype(dtype)
    x = _values(values).astype(dt).astype(np.float64)
    exact = math.fsum(x)
    if x.size == 0 or exact == 0:
        raise ValueError(
            f"sum_relative_error needs values with a non-zero sum, got {x.size} values summing "
            "to 0: a relative error of a zero sum is undefined. Pass e.g. positive values."
        )
    return abs(float(running_sum(x, dt)[-1]) - exact) / abs(exact)


# --- the precision policy: which dtype the passes run in ------------------------------------


def compute_dtype(name: Any) -> np.dtype | None:
    """The dtype a forward and backward pass runs in, for the active backend.

    ``name`` is one of :data:`FORMATS` (``"float16"``, ``"bfloat16"``, ...; a
    dtype such as ``np.float16`` works too) or ``None`` for no mixed precision
    (then everything stays in the parameters' own dtype). On NumPy, bfloat16
    needs ``ml_dtypes`` (``ImportError`` with the install command otherwise);
    on JAX it is ``jnp.bfloat16`` (the same type), and float64 switches on
    JAX's 64-bit mode.
    """
    if name is None:
        return None
    try:
        dt = numpy_dtype(name)
    except ValueError as err:
        raise ValueError(
            f"Unknown compute dtype {name!r}. Expected one of {list(FORMATS)} or None "
            "(no mixed precision): e.g. compute_dtype='float16' or 'bfloat16'."
        ) from err
    if dt == np.float64:
        backend.enable_x64()
    return dt


def _is_float_array(a: Any) -> bool:
    dtype = getattr(a, "dtype", None)
    return dtype is not None and np.dtype(dtype).name in _LAYOUTS


def cast_tree(tree: Any, dtype: Any) -> Any:
    """Every floating-point array of ``tree`` cast to ``dtype``; anything else is left alone.

    Down (``params`` to float16 before the forward pass) and up (gradients to
    float32 after the backward pass). Integer arrays (class labels) and plain
    Python numbers pass through; ``dtype=None`` returns ``tree`` itself.
    Arrays already in ``dtype`` are not copied.
    """
    if dtype is None:
        return tree
    dt = np.dtype(dtype)

    def cast(a: Any) -> Any:
        if _is_float_array(a) and a.dtype != dt:
            return a.astype(dt)
        return a

    return tree_map(cast, tree)


def check_param_dtype(param_dtype: Any, loss_scale: Any) -> None:
    """Refuse 16-bit *parameters* together with a loss scale, and say why.

    The master weights accumulate many small updates ``w ← w - η g``. In
    16 bits an update smaller than half the gap between the neighbours of
    ``w`` is rounded away, and that gap is at least ``|w| · eps / 2``
    (float16: the neighbours of 1 are ``1 - 2^-11`` and ``1 + 2^-10``, so
    ``1 - 1e-4`` is 1 again): the weights stop moving long before the
    gradients vanish. That is why the master copy stays float32 and only the
    passes run in 16 bits. ``ValueError`` when ``param_dtype`` is float16 or
    bfloat16 and ``loss_scale`` is not ``None``.
    """
    name = format_name(param_dtype)
    if name in ("float16", "bfloat16") and loss_scale is not None:
        raise ValueError(
            f"The parameters are {name} and loss_scale={loss_scale!r} was given. Loss scaling "
            "belongs to mixed precision, where the master weights stay float32: in "
            f"{name} an update smaller than half the gap between neighbouring numbers (at least "
            f"|w|·{machine_epsilon(name) / 4:.2g}) is rounded away, so w = 1 minus 1e-4 stays 1 "
            "and small steps are lost. Build the model in float32 (dtype='float32') and pass "
            f"compute_dtype={name!r} instead."
        )


# --- loss scaling --------------------------------------------------------------------------

#: The largest loss scale: the largest power of two below float32's largest number.
MAX_SCALE = 2.0**127
_INT32_MAX = 2**31 - 1


def _check_positive(value: Any, name: str, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}). {fix}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}. {fix}")
    return number


def loss_scale_init(
    loss_scale: float | str | None = DYNAMIC,
    *,
    initial_scale: float = 2.0**15,
    growth_factor: float = 2.0,
    backoff_factor: float = 0.5,
    growth_interval: int = 2000,
    min_scale: float = 1.0,
) -> dict[str, Array]:
    """The state of a loss scale: a dict of scalar arrays, the ``init`` of an optax-style pair.

    ``loss_scale``:

    * a positive number ``S``: a *static* scale that never changes;
    * ``None``: no scaling, the static scale 1 (multiplying by 1 is exact);
    * ``"dynamic"``: start at ``initial_scale``; on a step whose gradients
      overflow, multiply the scale by ``backoff_factor`` (halve it); after
      ``growth_interval`` finite steps in a row, multiply it by
      ``growth_factor`` (double it). The scale stays in
      ``[min_scale, MAX_SCALE]``: below 1, scaling would *shrink* the gradients.

    The state holds the current ``scale`` (float32), ``good_steps`` (int32,
    finite steps in a row since the scale last changed), ``overflows``
    (int32, how many steps have overflowed so far: the steps a training loop
    skipped) and the rule's constants as numbers, so :func:`loss_scale_update` needs no Python
    branches and the state can be carried through ``jax.jit`` and
    ``lax.scan``. A static scale is the same rule with both factors 1.
    """
    if loss_scale is None:
        loss_scale = 1.0
    if isinstance(loss_scale, str):
        if loss_scale.lower() != DYNAMIC:
            raise ValueError(
                f"loss_scale must be a positive number, 'dynamic' or None, got {loss_scale!r}. "
                "Use e.g. loss_scale=1024.0 (static) or loss_scale='dynamic'."
            )
        fix = "Typical dynamic settings: initial_scale=2**15, growth_factor=2, backoff_factor=0.5."
        scale = _check_positive(initial_scale, "initial_scale", fix)
        growth = _check_positive(growth_factor, "growth_factor", fix)
        backoff = _check_positive(backoff_factor, "backoff_factor", fix)
        floor = _check_positive(min_scale, "min_scale", fix)
        if growth < 1:
            raise ValueError(f"growth_factor must be at least 1, got {growth_factor!r}. {fix}")
        if backoff >= 1:
            raise ValueError(f"backoff_factor must be below 1, got {backoff_factor!r}. {fix}")
        if isinstance(growth_interval, bool) or not isinstance(growth_interval, (int, np.integer)):
            raise TypeError(
                f"growth_interval must be a whole number of steps, got {growth_interval!r}. "
                "Typical values: 100 to 2000."
            )
        if not 1 <= growth_interval <= _INT32_MAX:
            raise ValueError(
                f"growth_interval must be between 1 and {_INT32_MAX} steps, got "
                f"{growth_interval}. Typical values: 100 to 2000."
            )
        if not floor <= scale <= MAX_SCALE:
            raise ValueError(
                f"initial_scale must lie between min_scale={min_scale!r} and 2**127, got "
                f"{initial_scale!r}. Typical: 2**15."
            )
        interval = int(growth_interval)
    else:
        scale = _check_positive(
            loss_scale,
            "loss_scale",
            "Use a positive number such as 1024.0 (static), 'dynamic', or None (no scaling).",
        )
        if scale > MAX_SCALE:
            raise ValueError(
                f"loss_scale must be at most 2**127 (float32's largest power of two), got "
                f"{loss_scale!r}. Scales of 2**8 to 2**16 are typical."
            )
        growth, backoff, floor, interval = 1.0, 1.0, scale, _INT32_MAX
    f32, i32 = np.float32, np.int32
    return {
        "scale": backend.asarray(scale, f32),
        "good_steps": backend.asarray(0, i32),
        "overflows": backend.asarray(0, i32),
        "growth_factor": backend.asarray(growth, f32),
        "backoff_factor": backend.asarray(backoff, f32),
        "growth_interval": backend.asarray(interval, i32),
        "min_scale": backend.asarray(floor, f32),
    }


def loss_scale_update(state: dict[str, Array], grads_finite: Any) -> dict[str, Array]:
    """The next loss-scale state after a step whose gradients were finite or not.

    With ``n`` = ``state["good_steps"]`` and ``N`` = ``growth_interval``::

        overflow (grads_finite False):  S ← S · backoff_factor,   n ← 0
        finite, n + 1 < N:              S unchanged,              n ← n + 1
        finite, n + 1 = N:              S ← S · growth_factor,    n ← 0

    An overflow also adds 1 to ``state["overflows"]``. The step that
    overflowed is skipped by the caller (its gradients are useless); here
    only the scale learns from it. Written with ``xp.where``
    so it runs inside ``jax.jit``; ``grads_finite`` may be a Python bool, a
    NumPy bool or a traced JAX bool. A pure function: ``state`` is not changed.
    """
    xp = backend.xp()
    finite = xp.asarray(grads_finite, dtype=bool)
    count = xp.where(finite, state["good_steps"] + 1, 0)  # an overflow ends the run
    grow = count >= state["growth_interval"]
    factor = xp.where(finite, xp.where(grow, state["growth_factor"], 1.0), state["backoff_factor"])
    with np.errstate(over="ignore"):  # 2**127 · 2 is inf in float32; the clip brings it back
        scale = xp.clip(state["scale"] * factor, state["min_scale"], MAX_SCALE)
    return {
        **state,
        "scale": xp.asarray(scale, dtype=np.float32),
        "good_steps": xp.asarray(xp.where(grow, 0, count), dtype=np.int32),
        "overflows": xp.asarray(state["overflows"] + xp.where(finite, 0, 1), dtype=np.int32),
    }


def _wider(dtype: Any) -> np.dtype:
    """float32, or float64 for float64 arrays: where scaling is done before rounding back."""
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def scale_loss(x: Array, state: dict[str, Array]) -> Array:
    """``S · x`` in ``x``'s dtype: the loss, or the gradient seed ``∂L/∂output``.

    Backpropagation is linear in the seed, so scaling the seed by ``S`` scales
    every gradient by ``S``: the same as scaling the loss. The product is
    formed in float32 (``S`` itself may exceed float16's 65504) and then
    rounded to ``x``'s dtype, where it overflows to ``inf`` if ``S`` is too big:
    exactly what :func:`all_finite` then catches.
    """
    xp = backend.xp()
    wide = _wider(x.dtype)
    with np.errstate(over="ignore"):
        return (x.astype(wide) * xp.asarray(state["scale"], dtype=wide)).astype(x.dtype)


def unscale_grads(grads: Any, state: dict[str, Array], dtype: Any = "float32") -> Any:
    """Gradients cast up to ``dtype`` *first*, then divided by the scale ``S``.

    The order matters: dividing in float16 would push the small gradients back
    below float16's smallest subnormal, undoing the scaling. In float32 the
    division by a power of two is exact.
    """
    xp = backend.xp()
    dt = numpy_dtype(dtype)
    up = cast_tree(grads, dt)
    inverse = 1.0 / xp.asarray(state["scale"], dtype=dt)
    return tree_map(lambda g: g * inverse if _is_float_array(g) else g, up)


def all_finite(tree: Any) -> Array:
    """One boolean: are all entries of all arrays in ``tree`` finite (no inf, no NaN)?"""
    xp = backend.xp()
    flags = [xp.all(xp.isfinite(leaf)) for leaf in tree_leaves(tree) if _is_float_array(leaf)]
    return functools.reduce(xp.logical_and, flags, xp.asarray(True))


def select_tree(pred: Any, on_true: Any, on_false: Any) -> Any:
    """``on_true`` where ``pred`` holds, else ``on_false``, for two nests of the same structure.

    This is how a step is skipped without a Python ``if``: compute the update,
    then keep the old parameters and optimiser state when the gradients were
    not finite. On NumPy (a concrete ``pred``) it simply returns one of the
    two; inside ``jax.jit`` it selects every array with ``xp.where``.
    """
    if backend.is_numpy():
        return on_true if bool(pred) else on_false
    xp = backend.xp()
    return tree_map(lambda a, b: xp.where(pred, a, b), on_true, on_false)
