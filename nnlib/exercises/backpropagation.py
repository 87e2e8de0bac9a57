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
compares with the right answer and prints ``"Correct!"`` or a hint about what
is wrong (it never raises, so a notebook cell with an unfinished exercise
still runs). ``show_solution(name)`` prints a worked solution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..model import mlp
from ._checks import as_float_array, print_solution, report, run_learner_code, same_values

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


def _call(fn: Callable[..., Any], names: str, *args: Any) -> tuple[Any, str | None]:
    """``fn(*args)`` on copies of the inputs; ``(result, None)`` or ``(None, hint)``.

    ``names`` lists the arguments for the hint, e.g. ``"H, dZ2"``.
    """
    result, err = run_learner_code(fn, *(np.array(a, copy=True) for a in args))
    if err is None:
        return result, None
    pairs = zip(names.split(","), args, strict=True)
    shapes = ", ".join(f"{name.strip()} {np.shape(a)}" for name, a in pairs)
    return None, (
        f"Your function raised {type(err).__name__}: {err}. The inputs were {shapes}: "
        "check the shape of every intermediate result (print(...shape)) against the "
        "shapes table."
    )


def _close(a: Array | None, b: Array) -> bool:
    """Same shape and values, up to float64 rounding."""
    return same_values(a, b, rtol=1e-7, atol=1e-10)


# --- exercise 1: the output layer's parameter gradients -------------------------------------


def _output_layer_inputs() -> tuple[Array, Array]:
    rng = np.random.default_rng(31)
    return np.tanh(rng.standard_normal((5, 3))), rng.standard_normal((5, 2))


def diagnose_output_layer_grads(fn: Callable[[Array, Array], Any]) -> str | None:
    """``None`` if ``fn(H, dZ2)`` returns ``(dW2, db2)`` correctly, else a hint."""
    H, dZ2 = _output_layer_inputs()
    result, error = _call(fn, "H, dZ2", H, dZ2)
    if error:
        return error
    if result is None:
        return (
            "Not done yet: your function returns None. Replace the stub with two lines: "
            "dW2 = ... (shape (K, M)) and db2 = ... (shape (M,)), then return dW2, db2."
        )
    if not isinstance(result, tuple) or len(result) != 2:
        return "Return a pair: `return dW2, db2`."
    dW2, db2 = (as_float_array(r) for r in result)
    want_W, want_b = solution_output_layer_grads(H, dZ2)
    if dW2 is None or db2 is None:
        return "dW2 and db2 must be NumPy arrays (or numbers that NumPy can turn into arrays)."
    if dW2.shape != want_W.shape:
        if dW2.shape == want_W.T.shape:
            return (
                f"dW2 has shape {dW2.shape} but W2 has shape {want_W.shape}: a gradient always "
                "has the shape of its parameter. Which order of H.T and dZ2 gives (K, M)?"
            )
        return (
            f"dW2 has shape {dW2.shape}, expected {want_W.shape} (the shape of W2). Each "
            "example contributes the outer product of its row of H and its row of dZ2."
        )
    if not _close(dW2, want_W):
        if _close(dW2, want_W / len(H)):
            return (
                "dW2 is N times too small: the loss's 1/N is already inside dZ2, so sum the "
                "examples' contributions (H.T @ dZ2) instead of averaging them."
            )
        return "dW2 has the right shape but wrong values: it is H transposed times dZ2."
    if db2.shape != want_b.shape:
        if db2.shape == (len(H),):
            return (
                f"db2 has shape {db2.shape}: you summed over the columns. b2 is added to every "
                "row (example), so sum dZ2 over the rows: axis=0."
            )
        return (
            f"db2 has shape {db2.shape}, expected {want_b.shape} (the shape of b2). Sum dZ2 "
            "over the rows without keepdims."
        )
    if not _close(db2, want_b):
        if _close(db2, want_b / len(H)):
            return (
                "db2 is the mean of dZ2's rows, not their sum: b2 is added to every example, "
                "so each example's gradient adds up (the 1/N is already in dZ2)."
            )
        return "db2 has the right shape but wrong values: it is the sum of dZ2 over the rows."
    return None


def check_output_layer_grads(fn: Callable[[Array, Array], Any]) -> None:
    """Print ``"Correct!"`` if ``fn(H, dZ2)`` returns ``(Hᵀ dZ2, Σ_rows dZ2)``, else a hint."""
    report(
        diagnose_output_layer_grads(fn),
        "dW2 = H.T @ dZ2 sums one outer product per example; db2 sums dZ2 over the rows.",
    )


# --- exercise 2: backward through tanh -------------------------------------------------------


def _tanh_inputs() -> tuple[Array, Array]:
    rng = np.random.default_rng(32)
    return rng.standard_normal((4, 3)), np.tanh(1.5 * rng.standard_normal((4, 3)))


def diagnose_tanh_backward(fn: Callable[[Array, Array], Any]) -> str | None:
    """``None`` if ``fn(dH, H)`` returns ``dH ⊙ (1 - H²)``, else a hint."""
    dH, H = _tanh_inputs()
    result, error = _call(fn, "dH, H", dH, H)
    if error:
        return error
    if result is None:
        return (
            "Not done yet: your function returns None. Replace the stub with one line that "
            "returns dZ, the upstream gradient dH times the local derivative of tanh."
        )
    dZ = as_float_array(result)
    want = solution_tanh_backward(dH, H)
    if dZ is None or dZ.shape != want.shape:
        shape = None if dZ is None else dZ.shape
        return (
            f"dZ should have the shape of dH and H, {want.shape}, but has shape {shape}. "
            "The activation acts element by element: use *, not the matrix product @."
        )
    if _close(dZ, want):
        return None
    if _close(dZ, 1.0 - H**2):
        return (
            "You returned the local derivative 1 - H² alone. The chain rule multiplies it "
            "by the gradient arriving from above, dH."
        )
    if _close(dZ, dH * (1.0 - H)):
        return "The derivative of tanh is 1 - tanh², so square H: dH * (1 - H**2)."
    if _close(dZ, dH * (1.0 - np.tanh(H) ** 2)):
        return (
            "H is already tanh(Z), the output of the forward pass: use 1 - H**2 directly "
            "instead of applying tanh again."
        )
    if _close(dZ, dH * H * (1.0 - H)):
        return "H (1 - H) is the derivative of the sigmoid. For tanh it is 1 - H²."
    if _close(dZ, dH * (1.0 - 1.0 / np.cosh(H) ** 2)) or _close(dZ, dH / np.cosh(H) ** 2):
        return (
            "1/cosh² is the derivative in terms of Z, but the function receives H = tanh(Z). "
            "Write the derivative with H: 1 - H²."
        )
    return "Not quite. The local derivative of tanh, written with its output H, is 1 - H²."


def check_tanh_backward(fn: Callable[[Array, Array], Any]) -> None:
    """Print ``"Correct!"`` if ``fn(dH, H)`` returns ``dH ⊙ (1 - H²)``, else a hint."""
    report(
        diagnose_tanh_backward(fn),
        "Only the forward pass's output H was needed: tanh'(z) = 1 - tanh(z)².",
    )


# --- exercise 3: the whole backward pass -----------------------------------------------------


def _network_inputs() -> tuple[Array, ...]:
    rng = np.random.default_rng(33)
    X = rng.standard_normal((6, 2))
    Y = rng.standard_normal((6, 1))
    W1 = rng.standard_normal((2, 3))
    b1 = 0.1 * rng.standard_normal(3)
    W2 = rng.standard_normal((3, 1))
    b2 = 0.1 * rng.standard_normal(1)
    return X, Y, W1, b1, W2, b2


def reference_grads(
    X: Array, Y: Array, W1: Array, b1: Array, W2: Array, b2: Array
) -> dict[str, Array]:
    """The gradients computed by nnlib itself: ``mlp([D, K, M], "tanh")`` with these weights."""
    model = mlp([W1.shape[0], W1.shape[1], W2.shape[1]], activation="tanh", dtype="float64")
    params = [{"W": W1, "b": b1}, {}, {"W": W2, "b": b2}]
    _, grads, _, _ = model.loss_and_grads(params, X, Y, "mse")
    return {"W1": grads[0]["W"], "b1": grads[0]["b"], "W2": grads[2]["W"], "b2": grads[2]["b"]}


def diagnose_backward_pass(fn: Callable[..., Any]) -> str | None:
    """``None`` if ``fn(X, Y, W1, b1, W2, b2)`` returns the right gradients, else a hint."""
    inputs = _network_inputs()
    result, error = _call(fn, "X, Y, W1, b1, W2, b2", *inputs)
    if error:
        return error
    if result is None:
        return (
            "Not done yet: your function returns None. Write the forward pass (Z1, H, Z2), then "
            'the backward pass from dZ2 down to dW1, and return {"W1": dW1, "b1": db1, '
            '"W2": dW2, "b2": db2}.'
        )
    if not isinstance(result, dict):
        return 'Return a dict: {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}.'
    want = reference_grads(*inputs)
    missing = [k for k in want if k not in result]
    if missing:
        return f"The dict lacks the key(s) {missing}; it needs W1, b1, W2 and b2."
    got = {k: as_float_array(result[k]) for k in want}
    for k in want:
        if got[k] is None or got[k].shape != want[k].shape:
            shape = None if got[k] is None else got[k].shape
            return (
                f"d{k} has shape {shape}, expected {want[k].shape}: a gradient has the shape "
                f"of its parameter {k}."
            )
    wrong = [k for k in want if not _close(got[k], want[k])]
    if not wrong:
        return None
    ratios = {k: _ratio(got[k], want[k]) for k in wrong}
    common = set(ratios.values())
    if len(wrong) == 4 and len(common) == 1 and None not in common:
        factor = common.pop()
        if factor == -1.0:
            return (
                "Every gradient has the wrong sign: ∂L/∂Z2 = 2 (Z2 - Y) / N, prediction minus "
                "target, not the other way round."
            )
        if factor in (0.5, 2.0):
            return (
                f"Every gradient is {factor:g} times the right one: the derivative of "
                "(Z2 - Y)² is 2 (Z2 - Y). Check the 2 in dZ2."
            )
        n = len(inputs[0])
        if np.isclose(factor, n, rtol=1e-2) or np.isclose(factor, 1.0 / n, rtol=1e-2):
            return (
                f"Every gradient is {factor:g} times the right one, a factor N or 1/N with "
                f"N = {n}: the loss is the mean over the N examples, so dZ2 = 2 (Z2 - Y) / N, "
                "and the sums over rows then add up the examples without dividing again."
            )
    if set(wrong) <= {"W1", "b1"}:
        return (
            f"The output layer is right, but {', '.join('d' + k for k in wrong)} not: check "
            "dH = dZ2 @ W2.T and the tanh derivative dZ1 = dH * (1 - H**2), and that you use "
            "X (not H) in dW1 = X.T @ dZ1."
        )
    return (
        f"{', '.join('d' + k for k in wrong)} wrong. Start from dZ2 = 2 (Z2 - Y) / N and "
        "compare with exercise 1: dW2 = H.T @ dZ2, db2 = dZ2.sum(axis=0)."
    )


def _ratio(got: Array, want: Array) -> float | None:
    """The constant ``c`` with ``got = c · want``, rounded to 3 digits, if there is one."""
    big = np.abs(want) > 1e-12
    if not big.any():
        return None
    ratios = got[big] / want[big]
    c = float(np.median(ratios))
    if not np.allclose(got, c * want, rtol=1e-6, atol=1e-12):
        return None
    return round(c, 3)


def check_backward_pass(fn: Callable[..., Any]) -> None:
    """Print ``"Correct!"`` if ``fn(X, Y, W1, b1, W2, b2)`` gives nnlib's gradients, else a hint."""
    report(
        diagnose_backward_pass(fn),
        "Your backward pass agrees with nnlib's Dense and Activation layers.",
    )


__all__ = [
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
