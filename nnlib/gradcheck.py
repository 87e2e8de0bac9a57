"""Gradient checking: test a backward pass against finite differences.

For a scalar function ``f`` and a tiny step ``h``, the centred difference

    (f(x + h·e_i) - f(x - h·e_i)) / (2h)  =  ∂f/∂x_i + O(h²)

approximates each partial derivative without any calculus. (By default we use
its fourth-order sibling, which combines four evaluations so the error is
``O(h⁴)``; see :func:`numerical_gradient`.) Comparing it with
an analytic gradient catches almost every bug in a backward pass. We compare
with the *relative* error ``|a - n| / max(|a| + |n|, 1e-3)``, which is
meaningful whatever the scale of the gradient. The floor of 1e-3 matters only
for entries whose true gradient is (almost) exactly zero, such as the bias of a
layer followed by batch normalisation: there both numbers are rounding noise of
about 1e-10 and a plain ratio would be 0/0; with the floor they must agree to
an absolute 1e-9. In float64 a correct backward pass gives
errors around 1e-9 or smaller; float32 is too
coarse for this test, so everything here requires float64.

To check a layer's backward, turn it into a scalar with a fixed random upstream
gradient ``dy``: ``f(x) = Σ forward(x) ⊙ dy``. Then ``∂f/∂x`` is exactly what
``backward(dy)`` should return.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import backend
from .losses import get_loss
from .tree import flatten_params, unflatten_like

Array = Any


@dataclass
class GradCheckResult:
    """``max_rel_error`` over all checked arrays, and ``where`` it occurred.

    ``where`` is ``(array name, index)``; ``errors`` maps each array name to its
    own maximum relative error.
    """

    max_rel_error: float
    where: tuple[str, tuple[int, ...]]
    errors: dict[str, float]

    def passed(self, tol: float = 1e-6) -> bool:
        """True when every relative error is below ``tol``."""
        return self.max_rel_error < tol

    def __str__(self) -> str:
        name, idx = self.where
        return f"max relative error {self.max_rel_error:.3g} at {name}{list(idx)}"


def relative_error(analytic: Array, numeric: Array, floor: float = 1e-3) -> np.ndarray:
    """Element-wise ``|a - n| / max(|a| + |n|, floor)``."""
    a, n = np.asarray(analytic, np.float64), np.asarray(numeric, np.float64)
    return np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), floor)


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-3, order: int = 4
) -> np.ndarray:
    """Centred finite-difference gradient of scalar ``f`` at ``x`` (float64 array).

    ``order=2``: ``(f(x+h) - f(x-h)) / 2h``, error ``O(h²)``; costs ``2 · x.size``
    evaluations of ``f``.

    ``order=4`` (default): ``(-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)) / 12h``,
    error ``O(h⁴)``. Because the formula error shrinks so fast, a larger step
    (``h = 1e-3``) can be used, which keeps floating-point rounding in ``f``
    (amplified by ``1/h``) small too. ``x`` itself is not modified.
    """
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order!r}.")
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)

    def f_at(i: tuple[int, ...], value: float) -> float:
        shifted = x.copy()
        shifted[i] = value
        return float(f(shifted))

    for i in np.ndindex(x.shape):
        v = x[i]
        if order == 2:
            grad[i] = (f_at(i, v + h) - f_at(i, v - h)) / (2 * h)
        else:
            grad[i] = (
                -f_at(i, v + 2 * h) + 8 * f_at(i, v + h) - 8 * f_at(i, v - h) + f_at(i, v - 2 * h)
            ) / (12 * h)
    return grad


def _require_float64(arrays: dict[str, Array]) -> None:
    for name, a in arrays.items():
        if np.asarray(a).dtype != np.float64:
            raise ValueError(
                f"Gradient checks need float64, but {name!r} is {np.asarray(a).dtype}: build the "
                "layer or model with dtype='float64' and pass float64 inputs."
            )


def _compare(analytic: dict[str, Array], numeric: dict[str, np.ndarray]) -> GradCheckResult:
    errors, worst, where = {}, -1.0, ("", ())
    for name, num in numeric.items():
        err = relative_error(backend.to_numpy(analytic[name]), num)
        e = float(err.max()) if err.size else 0.0
        errors[name] = e
        if e > worst:
            worst, where = (
                e,
                (name, tuple(int(i) for i in np.unravel_index(err.argmax(), err.shape))),
            )
    return GradCheckResult(worst, where, errors)


def check_layer(
    layer: Any,
    x: Array,
    *,
    params: Any = None,
    train: bool = True,
    seed: int = 0,
    state: Any = None,
    h: float = 1e-3,
) -> GradCheckResult:
    """Check ``layer.backward`` (input and parameter gradients) by finite differences.

    Uses ``f = Σ forward(params, x) ⊙ dy`` with a random ``dy`` from ``seed``.
    Dropout masks are held fixed by re-seeding the key for every evaluation.
    """
    backend.enable_x64()
    rng = np.random.default_rng(seed)
    params = params if params is not None else layer.init(rng)
    state = state if state is not None else layer.init_state()
    x = np.asarray(x, np.float64)
    flat = {k: backend.to_numpy(v) for k, v in flatten_params(params).items()}
    _require_float64({"x": x, **flat})

    def run(p_flat: dict[str, np.ndarray], x_in: np.ndarray) -> tuple[Array, Any]:
        p = unflatten_like(params, {k: backend.asarray(v, np.float64) for k, v in p_flat.items()})
        key = backend.make_key(seed + 1)
        return layer.forward(p, backend.asarray(x_in, np.float64), train, state=state, key=key)

    y, cache = run(flat, x)
    dy = rng.standard_normal(np.shape(y))

    def f_of(name: str) -> Callable[[np.ndarray], float]:
        def f(v: np.ndarray) -> float:
            if name == "x":
                out = run(flat, v)[0]
            else:
                out = run({**flat, name: v}, x)[0]
            return float(np.sum(backend.to_numpy(out) * dy))

        return f

    dx, grads = layer.backward(unflatten_like(params, flat), cache, backend.asarray(dy, np.float64))
    analytic = {"x": dx, **flatten_params(grads)}
    numeric = {"x": numerical_gradient(f_of("x"), x, h)}
    for name, value in flat.items():
        numeric[name] = numerical_gradient(f_of(name), value, h)
    return _compare(analytic, numeric)


def check_loss(loss: Any, output: Array, target: Array, h: float = 1e-3) -> GradCheckResult:
    """Check a loss's returned gradient with respect to its first argument."""
    backend.enable_x64()
    loss_fn = get_loss(loss)
    output = np.asarray(output, np.float64)
    _require_float64({"output": output})
    _, grad = loss_fn(backend.asarray(output, np.float64), target)

    def f(v: np.ndarray) -> float:
        return float(loss_fn(backend.asarray(v, np.float64), target)[0])

    return _compare({"output": grad}, {"output": numerical_gradient(f, output, h)})


def check_model(
    model: Any,
    params: Any,
    x: Array,
    y: Array,
    loss: Any = "mse",
    *,
    l2: float = 0.0,
    state: Any = None,
    train: bool = True,
    seed: int = 0,
    h: float = 1e-3,
) -> GradCheckResult:
    """Check a whole model's gradients (every parameter array) against finite differences.

    Dropout masks are fixed by re-seeding; BatchNorm runs in the mode ``train``.
    """
    backend.enable_x64()
    flat = {k: backend.to_numpy(v) for k, v in flatten_params(params).items()}
    _require_float64({"x": np.asarray(x), **flat})
    x = backend.asarray(x, np.float64)

    def value_and_grads(p_flat: dict[str, np.ndarray]) -> tuple[float, Any]:
        p = unflatten_like(params, {k: backend.asarray(v, np.float64) for k, v in p_flat.items()})
        value, grads, _, _ = model.loss_and_grads(
            p, x, y, loss, l2=l2, state=state, key=backend.make_key(seed), train=train
        )
        return float(value), grads

    _, grads = value_and_grads(flat)
    analytic = flatten_params(grads)
    numeric = {
        name: numerical_gradient(
            lambda v, name=name: value_and_grads({**flat, name: v})[0], value, h
        )
        for name, value in flat.items()
    }
    return _compare(analytic, numeric)
