"""Exercises of notebook 3 (backpropagation): self-checks and worked solutions.

The network of the notebook, for a batch of ``N`` rows::

    Z1 = X W1 + b1        X (N, D), W1 (D, K), b1 (K,), Z1 (N, K)
    H  = tanh(Z1)         H (N, K)
    Z2 = H W2 + b2        W2 (K, M), b2 (M,), Z2 (N, M)
    L  = (1 / (N M)) Σ (Z2 - Y)²                     mean squared error

and its backward pass, each line one use of the chain rule::

    dZ2 = 2 (Z2 - Y) / (N M)
    dW2 = Hᵀ dZ2              db2 = Σ_rows dZ2
    dH  = dZ2 W2ᵀ
    dZ1 = dH ⊙ (1 - H²)
    dW1 = Xᵀ dZ1              db1 = Σ_rows dZ1

Each ``check_*`` function calls the learner's function on fixed random inputs,
compares with the right answer and prints ``"Correct!"`` or ``"Not yet: ..."``
with a graded hint (see :mod:`nnlib.exercises._checks`: the first hint points
at the mistake; the same mistake again, or ``hint=2``, narrows it down). It
never raises, so a notebook cell with an unfinished exercise still runs.
``show_solution(name)`` prints a worked solution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..model import mlp
from ._checks import Hint, as_array, call_learner, print_solution, report, same_values, type_hint

Array = np.ndarray


# --- worked solutions ----------------------------------------------------------------------


def solution_output_layer_grads(H: Array, dZ2: Array) -> tuple[Array, Array]:
    """Gradients of the output layer ``Z2 = H W2 + b2`` from its cache ``H`` and ``dZ2``.

    ``H`` is ``(N, K)``, ``dZ2 = ∂L/∂Z2`` is ``(N, M)``. Returns ``dW2 = Hᵀ dZ2``
    ``(K, M)`` (one outer product per example, summed) and ``db2 = Σ_rows dZ2``
    ``(M,)`` (the bias is added to every row, so every row's gradient adds up).
    """
    dW2 = H.T @ dZ2
    db2 = dZ2.sum(axis=0)
    return dW2, db2


def solution_tanh_backward(dH: Array, H: Array) -> Array:
    """``dZ = dH ⊙ (1 - H²)`` for ``H = tanh(Z)``; all arrays ``(N, K)``.

    The derivative of tanh is ``1 - tanh²``, and ``H`` already *is* tanh(Z),
    so the forward pass's output is all the backward pass needs.
    """
    return dH * (1.0 - H**2)


def solution_backward_pass(
    X: Array, Y: Array, W1: Array, b1: Array, W2: Array, b2: Array
) -> dict[str, Array]:
    """All four gradients of the mean squared error of the tanh network above.

    Shapes: ``X (N, D)``, ``Y (N, M)``, ``W1 (D, K)``, ``b1 (K,)``, ``W2 (K, M)``,
    ``b2 (M,)``. Returns ``{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}`` with the
    parameters' shapes.
    """
    # forward pass, keeping what the backward pass needs
    Z1 = X @ W1 + b1
    H = np.tanh(Z1)
    Z2 = H @ W2 + b2
    # backward pass, from the loss down to the first layer
    dZ2 = 2.0 * (Z2 - Y) / Z2.size
    dW2 = H.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dH = dZ2 @ W2.T
    dZ1 = dH * (1.0 - H**2)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "output_layer_grads": solution_output_layer_grads,
    "tanh_backward": solution_tanh_backward,
    "backward_pass": solution_backward_pass,
}


def show_solution(name: str) -> None:
    """Print the worked solution ``name``: one of :data:`SOLUTIONS`, e.g. ``"backward_pass"``."""
    print_solution(SOLUTIONS, name)


# --- shared helpers ----------------------------------------------------------------------


def _call(fn: Callable[..., Any], names: str, *args: Any, if_none: Hint) -> tuple[Any, Hint | None]:
    """``fn(*args)`` on copies of the inputs; ``(result, None)`` or ``(None, hint)``.

    ``names`` lists the arguments for the hint of a crash, e.g. ``"H, dZ2"``.
    """
    result, problem = call_learner(fn, *(np.array(a, copy=True) for a in args), if_none=if_none)
    if problem is None or not problem.reason.startswith("raised"):
        return result, problem
    pairs = zip(names.split(","), args, strict=True)
    shapes = ", ".join(f"{name.strip()} {np.shape(a)}" for name, a in pairs)
    return None, Hint(
        problem.reason,
        f"{problem.first}. The inputs were {shapes}.",
        "Print the shape of every intermediate result (print(Z1.shape), ...) and compare it with "
        "the shapes table of section 2.",
    )


def _close(a: Array | None, b: Array) -> bool:
    """Same shape and values, up to float64 rounding."""
    return same_values(a, b, rtol=1e-7, atol=1e-10)


# --- exercise 1: the output layer's parameter gradients -------------------------------------


def _output_layer_inputs() -> tuple[Array, Array]:
    rng = np.random.default_rng(31)
    return np.tanh(rng.standard_normal((5, 3))), rng.standard_normal((5, 2))


def diagnose_output_layer_grads(fn: Callable[[Array, Array], Any]) -> Hint | None:
    """``None`` if ``fn(H, dZ2)`` returns ``(dW2, db2)`` correctly, else a hint."""
    H, dZ2 = _output_layer_inputs()
    result, problem = _call(
        fn,
        "H, dZ2",
        H,
        dZ2,
        if_none=Hint(
            "None",
            "your function returns None. Replace the stub with two lines, dW2 = ... (shape "
            "(K, M)) and db2 = ... (shape (M,)), then return dW2, db2.",
        ),
    )
    if problem:
        return problem
    if not isinstance(result, tuple) or len(result) != 2:
        return Hint("not a pair", f"return a pair: `return dW2, db2`; got {type(result).__name__}.")
    dW2, db2 = (as_array(r) for r in result)
    if dW2 is None or db2 is None:
        bad = result[0] if dW2 is None else result[1]
        return type_hint(bad, "NumPy arrays dW2 and db2")
    want_W, want_b = solution_output_layer_grads(H, dZ2)
    if dW2.shape != want_W.shape:
        if dW2.shape == want_W.T.shape:
            return Hint(
                "dW2 transposed",
                f"dW2 has shape {dW2.shape}, but W2 has shape {want_W.shape}: a gradient has "
                "the shape of its parameter.",
                "Which order of H.T and dZ2 gives (K, M)?",
            )
        return Hint(
            "dW2 shape",
            f"dW2 has shape {dW2.shape}, expected {want_W.shape} (the shape of W2).",
            "Each example contributes the outer product of its row of H and its row of dZ2; "
            "one matrix product sums them over the examples.",
        )
    if not _close(dW2, want_W):
        if _close(dW2, want_W / len(H)):
            return Hint(
                "dW2 mean",
                "dW2 is N times too small.",
                "The loss's 1/N is already inside dZ2: sum the examples' contributions instead "
                "of averaging them.",
            )
        return Hint(
            "dW2 values",
            "dW2 has the right shape but wrong values.",
            "Entry (k, m) of dW2 is Σ_n H[n, k] · dZ2[n, m]: which matrix product is that?",
        )
    if db2.shape != want_b.shape:
        if db2.shape == (len(H),):
            return Hint(
                "db2 axis",
                f"db2 has shape {db2.shape}: you summed over the wrong axis.",
                "b2 is added to every row (example), so sum dZ2 over the rows: axis=0.",
            )
        return Hint(
            "db2 shape",
            f"db2 has shape {db2.shape}, expected {want_b.shape} (the shape of b2).",
            "Sum dZ2 over the rows, without keepdims.",
        )
    if not _close(db2, want_b):
        if _close(db2, want_b / len(H)):
            return Hint(
                "db2 mean",
                "db2 is N times too small: it is the mean of dZ2's rows.",
                "b2 is added to every example, so the examples' gradients add up (the 1/N is "
                "already in dZ2).",
            )
        return Hint(
            "db2 values",
            "db2 has the right shape but wrong values.",
            "b2 is added to every row of Z2: add up dZ2's rows.",
        )
    return None


def check_output_layer_grads(fn: Callable[[Array, Array], Any], hint: int | None = None) -> None:
    """Print ``"Correct!"`` if ``fn(H, dZ2)`` returns ``(Hᵀ dZ2, Σ_rows dZ2)``, else a hint."""
    report(
        "output_layer_grads",
        diagnose_output_layer_grads(fn),
        "dW2 = H.T @ dZ2 sums one outer product per example; db2 sums dZ2 over the rows.",
        grade=hint,
    )


# --- exercise 2: backward through tanh -------------------------------------------------------


def _tanh_inputs() -> tuple[Array, Array]:
    rng = np.random.default_rng(32)
    return rng.standard_normal((4, 3)), np.tanh(1.5 * rng.standard_normal((4, 3)))


def diagnose_tanh_backward(fn: Callable[[Array, Array], Any]) -> Hint | None:
    """``None`` if ``fn(dH, H)`` returns ``dH ⊙ (1 - H²)``, else a hint."""
    dH, H = _tanh_inputs()
    result, problem = _call(
        fn,
        "dH, H",
        dH,
        H,
        if_none=Hint(
            "None",
            "your function returns None. Replace the stub with one line that returns dZ: the "
            "gradient from above, dH, times the local derivative of tanh.",
        ),
    )
    if problem:
        return problem
    dZ = as_array(result)
    if dZ is None:
        return type_hint(result, f"a NumPy array of shape {H.shape}")
    want = solution_tanh_backward(dH, H)
    if dZ.shape != want.shape:
        return Hint(
            "shape",
            f"dZ should have the shape of dH and H, {want.shape}, but has shape {dZ.shape}.",
            "The activation acts element by element: use *, not the matrix product @.",
        )
    if _close(dZ, want):
        return None
    local = "the local derivative of tanh is not right."
    if _close(dZ, 1.0 - H**2):
        return Hint(
            "no dH",
            "you returned the local derivative alone.",
            "The chain rule multiplies it by the gradient arriving from above, dH.",
        )
    if _close(dZ, dH * (1.0 - H)):
        return Hint("1 - H", local, "tanh'(z) = 1 - tanh(z)²: the output is squared.")
    if _close(dZ, dH * (1.0 - np.tanh(H) ** 2)):
        return Hint(
            "tanh again",
            local,
            "H already is tanh(Z), the output of the forward pass: do not apply tanh again.",
        )
    if _close(dZ, dH * H * (1.0 - H)):
        return Hint(
            "sigmoid",
            "that is the derivative of the sigmoid, not of tanh.",
            "tanh'(z) = 1 - tanh(z)², and H is tanh(z).",
        )
    if _close(dZ, dH * (1.0 - 1.0 / np.cosh(H) ** 2)) or _close(dZ, dH / np.cosh(H) ** 2):
        return Hint(
            "cosh",
            "that is the derivative written with Z, but the function receives H = tanh(Z).",
            "Write the derivative of tanh with its output H.",
        )
    return Hint(
        "other",
        "dZ has the right shape but wrong values.",
        "Multiply the gradient from above by the local derivative of tanh, written with its "
        "output H.",
    )


def check_tanh_backward(fn: Callable[[Array, Array], Any], hint: int | None = None) -> None:
    """Print ``"Correct!"`` if ``fn(dH, H)`` returns ``dH ⊙ (1 - H²)``, else a hint."""
    report(
        "tanh_backward",
        diagnose_tanh_backward(fn),
        "Only the forward pass's output H was needed: tanh'(z) = 1 - tanh(z)².",
        grade=hint,
    )


# --- exercise 3: the whole backward pass -----------------------------------------------------

#: Rows ``N`` and outputs ``M`` of exercise 3: with ``M > 1`` a loss averaged over ``N``
#: alone (instead of all ``N · M`` entries) gives gradients ``M`` times too large.
NETWORK_N, NETWORK_M = 6, 3


def _network_inputs() -> tuple[Array, ...]:
    rng = np.random.default_rng(33)
    n, m = NETWORK_N, NETWORK_M
    X = rng.standard_normal((n, 2))
    Y = rng.standard_normal((n, m))
    W1 = rng.standard_normal((2, 4))
    b1 = 0.1 * rng.standard_normal(4)
    W2 = rng.standard_normal((4, m))
    b2 = 0.1 * rng.standard_normal(m)
    return X, Y, W1, b1, W2, b2


def reference_grads(
    X: Array, Y: Array, W1: Array, b1: Array, W2: Array, b2: Array
) -> dict[str, Array]:
    """The gradients computed by nnlib itself: ``mlp([D, K, M], "tanh")`` with these weights."""
    model = mlp([W1.shape[0], W1.shape[1], W2.shape[1]], activation="tanh", dtype="float64")
    params = [{"W": W1, "b": b1}, {}, {"W": W2, "b": b2}]
    _, grads, _, _ = model.loss_and_grads(params, X, Y, "mse")
    return {"W1": grads[0]["W"], "b1": grads[0]["b"], "W2": grads[2]["W"], "b2": grads[2]["b"]}


def _ratio(got: Array, want: Array) -> float | None:
    """The constant ``c`` with ``got = c · want``, rounded to 4 digits, if there is one."""
    big = np.abs(want) > 1e-12
    if not big.any():
        return None
    c = float(np.median(got[big] / want[big]))
    if not np.allclose(got, c * want, rtol=1e-6, atol=1e-12):
        return None
    return float(f"{c:.4g}")


def _common_factor_hint(factor: float) -> Hint:
    """The hint when all four gradients are ``factor`` times the right ones."""
    n, m = NETWORK_N, NETWORK_M
    mean = "The loss is the mean over all N·M entries of (Z2 - Y)²."
    known = {
        -1.0: Hint(
            "sign",
            "every gradient has the wrong sign.",
            "∂L/∂Z2 is (prediction minus target) times a positive number.",
        ),
        0.5: Hint(
            "factor 2",
            "every gradient is half the right one.",
            "The derivative of (Z2 - Y)² brings down a factor 2.",
        ),
        float(m): Hint(
            "N not NM",
            f"every gradient is {m} times the right one, and the network has M = {m} outputs.",
            mean + " Divide by N·M (Z2.size) in dZ2, not by N alone.",
        ),
        float(n * m): Hint(
            "no mean",
            f"every gradient is N·M = {n * m} times the right one.",
            mean + " dZ2 divides by N·M once; the sums over rows then add up the examples.",
        ),
        float(f"{1 / n:.4g}"): Hint(
            "divided twice",
            f"every gradient is 1/N = 1/{n} of the right one.",
            "The 1/(N·M) is in dZ2 already: the sums over rows add up the examples without "
            "dividing again.",
        ),
    }
    return known.get(
        factor,
        Hint(
            "factor",
            f"every gradient is {factor:.4g} times the right one.",
            "The backward pass is linear in dZ2: compare your dZ2 with 2 (Z2 - Y) / (N·M).",
        ),
    )


def diagnose_backward_pass(fn: Callable[..., Any]) -> Hint | None:
    """``None`` if ``fn(X, Y, W1, b1, W2, b2)`` returns the right gradients, else a hint.

    The network has ``M = 3`` outputs, so that dividing the loss by ``N`` instead
    of ``N · M`` shows.
    """
    inputs = _network_inputs()
    result, problem = _call(
        fn,
        "X, Y, W1, b1, W2, b2",
        *inputs,
        if_none=Hint(
            "None",
            "your function returns None. Write the forward pass (Z1, H, Z2), then the backward "
            'pass from dZ2 down to dW1, and return {"W1": dW1, "b1": db1, "W2": dW2, '
            '"b2": db2}.',
        ),
    )
    if problem:
        return problem
    if not isinstance(result, dict):
        return Hint(
            "not a dict",
            f'return a dict {{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}}; got '
            f"{type(result).__name__}.",
        )
    want = reference_grads(*inputs)
    missing = [k for k in want if k not in result]
    if missing:
        return Hint(
            "missing keys", f"the dict lacks the key(s) {missing}; it needs W1, b1, W2, b2."
        )
    got = {k: as_array(result[k]) for k in want}
    for k in want:
        if got[k] is None:
            return type_hint(result[k], f"d{k} as a NumPy array of shape {want[k].shape}")
        if got[k].shape != want[k].shape:
            return Hint(
                f"d{k} shape",
                f"d{k} has shape {got[k].shape}, expected {want[k].shape}: a gradient has the "
                f"shape of its parameter {k}.",
                "Print the shape of every intermediate result and compare it with the shapes "
                "table of section 2.",
            )
    wrong = [k for k in want if not _close(got[k], want[k])]
    if not wrong:
        return None
    ratios = {k: _ratio(got[k], want[k]) for k in wrong}
    common = set(ratios.values())
    if len(wrong) == 4 and len(common) == 1 and None not in common:
        return _common_factor_hint(common.pop())
    names = ", ".join("d" + k for k in wrong)
    if set(wrong) <= {"W1", "b1"}:
        return Hint(
            "first layer",
            f"the output layer is right, but {names} not.",
            "Check dH = dZ2 W2ᵀ, the tanh derivative in dZ1, and that dW1 uses X (not H).",
        )
    return Hint(
        "other",
        f"{names} wrong.",
        "Start from dZ2 = 2 (Z2 - Y) / (N·M) and compare the output layer with exercise 1.",
    )


def check_backward_pass(fn: Callable[..., Any], hint: int | None = None) -> None:
    """Print ``"Correct!"`` if ``fn(X, Y, W1, b1, W2, b2)`` gives nnlib's gradients, else a hint."""
    report(
        "backward_pass",
        diagnose_backward_pass(fn),
        "Your backward pass agrees with nnlib's Dense and Activation layers.",
        grade=hint,
    )


__all__ = [
    "NETWORK_M",
    "NETWORK_N",
    "SOLUTIONS",
    "check_backward_pass",
    "check_output_layer_grads",
    "check_tanh_backward",
    "diagnose_backward_pass",
    "diagnose_output_layer_grads",
    "diagnose_tanh_backward",
    "reference_grads",
    "show_solution",
    "solution_backward_pass",
    "solution_output_layer_grads",
    "solution_tanh_backward",
]
