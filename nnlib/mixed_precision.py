"""Mixed-precision training: the training step with its passes in 16 bits.

``fit(..., compute_dtype="float16", loss_scale="dynamic")`` trains with the
step that :func:`make_mixed_precision_step` builds instead of
:func:`nnlib.step.make_train_step`'s. The *precision policy* is what decides
how: the dtype the passes run in (the *compute dtype*), the dtype of the
parameters (the float32 *master weights*) and whether the loss is scaled.
The number formats and the loss-scale rule themselves are in
:mod:`nnlib.precision`; this module puts them together, in this order::

    once:       low = compute_dtype(name); ls = loss_scale_init(loss_scale)
    every step:
     1. p_low      = cast_tree(params, low)                master weights -> compute dtype
     2. out, cache = forward(p_low, cast_tree(x, low))     forward pass in the compute dtype
     3. loss, dout = loss_fn(cast_tree(out, float32), y)   the loss in float32 (stable)
     4. d_low      = cast_tree(scale_loss(dout, ls), low)  the gradient seed times S
     5. g_low      = backward(p_low, cache, d_low)         backward pass in the compute dtype
     6. grads      = unscale_grads(g_low, ls, float32)     cast up first, then divide by S
     7. finite     = all_finite(grads)                     one flag: did anything overflow?
     8. grads      = grads + ∇(L2 penalty), clipped        in float32, on the master weights
     9. new        = optimizer.update(params, grads, opt_state)     the update, in float32
    10. params, opt_state = select_tree(finite, new, old)  skip the update on an overflow
    11. ls         = loss_scale_update(ls, finite)         halve, or grow after N good steps

Without a loss scale (``loss_scale=None``) steps 4 and 6 only cast, and steps
7, 10 and 11 are left out: nothing catches an overflow, and an ``inf``
gradient reaches the weights. With any loss scale, static or dynamic, a step
whose gradients are not finite is skipped.

**The compute dtype holds through the pass.** NumPy's float16 arithmetic
stays float16, but bfloat16 (from ``ml_dtypes``) returns float32 from every
matrix product, so after the first ``Dense`` layer a "bfloat16" pass would
quietly continue in float32. :class:`HeldDtype` wraps each layer of the model
and casts its output (forward) and its gradients (backward) back to the
compute dtype: one place, not a cast in every layer. Inside a layer, NumPy
may use float32 for a bfloat16 product, as 16-bit hardware does (it
multiplies 16-bit numbers and adds the products in float32).

**Pure 16 bits.** Parameters that are float16 or bfloat16 themselves (e.g.
``cast_tree(params, "float16")``) are trained with this step too, all in
their own dtype: that is *pure* 16-bit training, where small updates are
rounded away (``fit`` refuses a loss scale with them, see
:func:`nnlib.precision.check_param_dtype`).

Every function that runs inside a step uses ``backend.xp()`` operations only,
so the step runs on NumPy and compiled on JAX (inside ``lax.scan`` too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import backend, precision
from .layers import Layer, Params, backward_layers, forward_layers
from .losses import l2_penalty
from .optim import Optimizer, clip_by_global_norm
from .tree import param_dtype, tree_leaves, tree_map

Array = Any

#: The 16-bit formats: parameters in one of these are trained "pure", all in 16 bits.
HALF_FORMATS = ("float16", "bfloat16")


# --- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PrecisionPolicy:
    """Which dtypes a training step uses: ``compute`` for the passes, ``param`` for the weights.

    ``scaled``: the loss is multiplied by a loss scale before the backward
    pass, and steps whose gradients overflow are skipped. The names are
    format names (``"float16"``, ``"float32"``, ...), so a policy is hashable
    (the JAX backend compiles one step per policy).
    """

    compute: str
    param: str
    scaled: bool

    @property
    def compute_dtype(self) -> np.dtype:
        """The NumPy dtype of the passes (bfloat16 from ``ml_dtypes``)."""
        return precision.numpy_dtype(self.compute)

    @property
    def param_dtype(self) -> np.dtype:
        """The NumPy dtype of the parameters (the master weights)."""
        return precision.numpy_dtype(self.param)

    def divergence_hint(self) -> str | None:
        """The advice for a run that diverged in float16; ``None``: the usual advice."""
        if self.compute != "float16":
            return None
        return (
            "The learning rate may be too large. In float16 two more causes give inf/NaN: a "
            "value above 65504 in the forward pass, and a division by a number that underflowed "
            "to 0 (with float16 weights, Adam's eps = 1e-8 is 0, and so are small squared "
            "gradients: keep the weights float32 and pass compute_dtype='float16' instead)."
        )

    def describe(self) -> str:
        """E.g. ``"float16 passes, float32 weights, loss scaling"``."""
        scaling = "loss scaling" if self.scaled else "no loss scaling"
        return f"{self.compute} passes, {self.param} weights, {scaling}"


def precision_policy(compute_dtype: Any, loss_scale: Any, params: Any) -> PrecisionPolicy | None:
    """The policy for ``fit(compute_dtype=..., loss_scale=...)`` with these parameters.

    ``None`` (train with the plain step) when there is nothing to do: no
    compute dtype, no loss scale and parameters in float32 or float64. With
    16-bit parameters and no compute dtype, the passes run in the
    parameters' dtype (pure 16-bit training). Clear errors for an unknown
    compute dtype (``ValueError``), bfloat16 on NumPy without ``ml_dtypes``
    (``ImportError``) and a loss scale with 16-bit parameters (``ValueError``,
    with the reason).
    """
    low = precision.compute_dtype(compute_dtype)  # checks the name
    param = precision.format_name(param_dtype(params))
    if loss_scale is not None:
        precision.check_param_dtype(param, loss_scale)
    if low is None and loss_scale is None and param not in HALF_FORMATS:
        return None
    compute = param if low is None else precision.format_name(low)
    return PrecisionPolicy(compute=compute, param=param, scaled=loss_scale is not None)


#: The keys of a loss-scale state (:func:`nnlib.precision.loss_scale_init`).
_STATE_KEYS = frozenset(
    ("scale", "good_steps", "overflows", "growth_factor", "backoff_factor")
    + ("growth_interval", "min_scale")
)


def initial_loss_scale(loss_scale: Any) -> dict[str, Array] | None:
    """The loss-scale state a run starts from: ``None`` when the loss is not scaled.

    ``loss_scale`` is ``None``, a positive number (a static scale),
    ``"dynamic"`` (:func:`nnlib.precision.loss_scale_init`'s defaults: start
    at 2**15, double after 2000 good steps) or a state made by
    ``loss_scale_init`` itself, for other settings or to continue a run
    (``FitResult.loss_scale``): ``loss_scale=loss_scale_init("dynamic",
    growth_interval=100)``. The state's arrays are moved to the current backend.
    """
    if loss_scale is None:
        return None
    if not isinstance(loss_scale, dict):
        return precision.loss_scale_init(loss_scale)
    if set(loss_scale) != _STATE_KEYS:
        raise ValueError(
            f"loss_scale as a dict must be a loss-scale state from "
            f"nnlib.precision.loss_scale_init, with the keys {sorted(_STATE_KEYS)}; got the keys "
            f"{sorted(loss_scale)}. Make one with loss_scale_init('dynamic', growth_interval=100)."
        )
    state = {k: backend.asarray(backend.to_numpy(v)) for k, v in loss_scale.items()}
    scale = float(backend.to_numpy(state["scale"]))
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(
            f"The loss-scale state's scale must be a positive finite number, got {scale!r}. "
            "Make a fresh state with nnlib.precision.loss_scale_init."
        )
    return state


# --- the passes in the compute dtype --------------------------------------------------------


class HeldDtype(Layer):
    """``layer`` with its output and all its gradients cast to ``dtype``.

    Forward: ``y = cast(layer(x), dtype)``. Backward: ``dx`` and the
    parameter gradients cast to ``dtype``. For float16 on NumPy the casts do
    nothing (the arithmetic stays float16 and :func:`~nnlib.precision.cast_tree`
    does not copy); for bfloat16 they undo NumPy's promotion to float32. The
    cache is ``layer``'s own, so a BatchNorm's new running statistics are
    found where :func:`nnlib.layers.forward_layers` looks for them.
    """

    def __init__(self, layer: Layer, dtype: Any) -> None:
        self.layer, self.dtype = layer, np.dtype(dtype)

    def forward(
        self,
        params: Params,
        x: Array,
        train: bool = False,
        *,
        state: Params | None = None,
        key: Any = None,
    ) -> tuple[Array, Any]:
        """``cast(layer(x))``; the cache is the layer's."""
        y, cache = self.layer.forward(params, x, train, state=state, key=key)
        return precision.cast_tree(y, self.dtype), cache

    def backward(self, params: Params, cache: Any, dy: Array) -> tuple[Array, Params]:
        """The layer's ``(dx, grads)``, cast."""
        return precision.cast_tree(self.layer.backward(params, cache, dy), self.dtype)

    def param_grads(self, params: Params, cache: Any, dy: Array) -> Params:
        """The layer's parameter gradients, cast."""
        return precision.cast_tree(self.layer.param_grads(params, cache, dy), self.dtype)

    def __repr__(self) -> str:
        return f"HeldDtype({self.layer!r}, {self.dtype.name})"


def held_layers(layers: Sequence[Layer], dtype: Any) -> list[Layer]:
    """Every layer wrapped in :class:`HeldDtype`: a pass through them stays in ``dtype``."""
    return [HeldDtype(layer, dtype) for layer in layers]


def mixed_loss_and_grads(
    model: Any,
    params: Any,
    x: Array,
    y: Array,
    loss_fn: Callable,
    policy: PrecisionPolicy,
    loss_scale: dict[str, Array] | None,
    *,
    state: Any = None,
    key: Any = None,
    train: bool = True,
) -> tuple[Array, Any, Any, Array]:
    """Steps 1 to 6 of the module docstring: ``(loss, grads, new_state, outputs)``.

    The passes run in ``policy.compute``; ``loss`` is computed in the
    parameters' dtype from the outputs cast up; ``grads`` are in the
    parameters' dtype, divided by the loss scale (``loss_scale=None``: no
    scaling), and may hold ``inf``/NaN when the scaled backward pass
    overflowed. ``new_state`` (BatchNorm statistics) is cast to the
    parameters' dtype; ``outputs`` stay in the compute dtype.
    """
    low, wide = policy.compute_dtype, policy.param_dtype
    layers = held_layers(model.layers, low)
    p_low = precision.cast_tree(params, low)
    out, caches, new_state = forward_layers(
        layers, p_low, precision.cast_tree(x, low), train, state=state, key=key
    )
    value, dout = loss_fn(precision.cast_tree(out, wide), y, check=False)
    seed = dout if loss_scale is None else precision.scale_loss(dout, loss_scale)
    _, g_low = backward_layers(
        layers, p_low, caches, precision.cast_tree(seed, low), input_grad=False
    )
    if loss_scale is None:
        grads = precision.cast_tree(g_low, wide)
    else:
        grads = precision.unscale_grads(g_low, loss_scale, wide)
    return value, grads, precision.cast_tree(new_state, wide), out


# --- the step --------------------------------------------------------------------------------


def make_mixed_precision_step(
    model: Any,
    loss_fn: Callable,
    optimizer: Optimizer,
    policy: PrecisionPolicy,
    *,
    l2: Any = 0.0,
    clip_norm: float | None = None,
    count_correct: Callable[[Array, Array], Array] | None = None,
) -> Callable:
    """``train_step(ts, X, y, idx) -> (ts, loss, n_correct, grads)`` with ``policy``'s dtypes.

    The same signature and :class:`~nnlib.step.TrainState` as
    :func:`nnlib.step.make_train_step`'s step, plus ``ts.loss_scale``: the
    loss-scale state (``None`` when ``policy.scaled`` is false), updated at
    every step. The order of operations is the module docstring's. ``loss``
    is the mini-batch loss before the update (finite even on a skipped step:
    it is computed before the scale is applied), ``grads`` the unscaled
    float32 gradients (``inf``/NaN on a skipped step).
    """

    def train_step(ts: Any, X: Array, y: Array, idx: Any) -> tuple:
        key, subkey = backend.split_key(ts.key, 2)
        xb, yb = (X, y) if idx is None else (X[idx], y[idx])
        loss, grads, new_state, out = mixed_loss_and_grads(
            model, ts.params, xb, yb, loss_fn, policy, ts.loss_scale, state=ts.state, key=subkey
        )
        finite = precision.all_finite(grads)
        if backend.is_tracer(l2) or l2 != 0:
            penalty, pgrads = l2_penalty(ts.params, l2)
            loss = loss + penalty
            grads = tree_map(lambda g, pg: g + pg, grads, pgrads)
        if clip_norm is not None:
            grads, _ = clip_by_global_norm(grads, clip_norm)
        params, opt_state = optimizer.update(ts.params, grads, ts.opt_state)
        loss_scale = ts.loss_scale
        if policy.scaled:
            old = (ts.params, ts.opt_state)
            params, opt_state = precision.select_tree(finite, (params, opt_state), old)
            loss_scale = precision.loss_scale_update(loss_scale, finite)
        n_correct = count_correct(out, yb) if count_correct is not None else 0
        new_ts = ts._replace(
            params=params, state=new_state, opt_state=opt_state, key=key, loss_scale=loss_scale
        )
        return new_ts, loss, n_correct, grads

    return train_step


# --- measuring what a pass in the compute dtype loses ------------------------------------------


def _nonzero_lost(reference: Any, low: Any) -> tuple[int, int]:
    """``(lost, nonzero)``: entries non-zero in ``reference`` and exactly 0 in ``low``."""
    lost = nonzero = 0
    for r, g in zip(tree_leaves(reference), tree_leaves(low), strict=True):
        r, g = backend.to_numpy(r), backend.to_numpy(g)
        mask = r != 0
        nonzero += int(mask.sum())
        lost += int((mask & (g == 0)).sum())
    return lost, nonzero


def gradient_underflow(
    model: Any,
    params: Any,
    X: Array,
    y: Array,
    loss: Any = "cross_entropy",
    compute_dtype: Any = "float16",
    loss_scale: float | None = None,
    *,
    state: Any = None,
) -> float:
    """The share of the gradient entries that a backward pass in ``compute_dtype`` flushes to 0.

    Runs one forward and backward pass on ``(X, y)`` twice, from the same
    parameters: in float32 (the reference; float64 for float64 parameters)
    and in ``compute_dtype`` with the gradient seed multiplied by
    ``loss_scale`` (``None``: not scaled). Returns the share of the
    parameter-gradient entries that are non-zero in the reference and
    exactly 0 in the low-precision pass: gradients lost on the way, in the
    loss's own gradient, in a layer's backward products, or when they were
    cast. (On a pass that overflowed, ``inf`` entries are not counted as
    lost.) The passes run in training mode with the same dropout masks.
    16-bit parameters (pure 16-bit training) are cast up for the reference.
    """
    from .losses import get_loss

    loss_fn = get_loss(loss)
    wide = "float64" if precision.format_name(param_dtype(params)) == "float64" else "float32"
    params = precision.cast_tree(params, precision.numpy_dtype(wide))
    x = backend.asarray(X, precision.numpy_dtype(wide))
    yb = backend.asarray(y)
    reference = PrecisionPolicy(compute=wide, param=wide, scaled=False)
    low = PrecisionPolicy(
        compute=precision.format_name(precision.compute_dtype(compute_dtype)),
        param=wide,
        scaled=loss_scale is not None,
    )
    scale = None if loss_scale is None else precision.loss_scale_init(loss_scale)
    with np.errstate(all="ignore"):
        _, ref, _, _ = mixed_loss_and_grads(
            model, params, x, yb, loss_fn, reference, None, state=state, key=backend.make_key(0)
        )
        _, grads, _, _ = mixed_loss_and_grads(
            model, params, x, yb, loss_fn, low, scale, state=state, key=backend.make_key(0)
        )
    lost, nonzero = _nonzero_lost(ref, grads)
    return lost / nonzero if nonzero else 0.0


__all__ = [
    "HALF_FORMATS",
    "HeldDtype",
    "PrecisionPolicy",
    "gradient_underflow",
    "held_layers",
    "initial_loss_scale",
    "make_mixed_precision_step",
    "mixed_loss_and_grads",
    "precision_policy",
]
