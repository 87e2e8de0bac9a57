"""Exercise checks of notebook 03: solutions pass, typical mistakes get graded hints."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib.exercises import backpropagation as ex
from nnlib.gradcheck import numerical_gradient


def test_output_layer_grads(say) -> None:
    check = ex.check_output_layer_grads
    assert say(check, ex.solution_output_layer_grads).startswith("Correct!")
    assert say(check, lambda H, d: None).startswith("Not yet: your function returns None")
    transposed = say(check, lambda H, d: (d.T @ H, d.sum(0)))
    assert "shape of its parameter" in transposed and "H.T and dZ2" not in transposed
    assert "H.T and dZ2" in say(check, lambda H, d: (d.T @ H, d.sum(0)))
    assert "wrong axis" in say(check, lambda H, d: (H.T @ d, d.sum(1)))
    assert "axis=0" in say(check, lambda H, d: (H.T @ d, d.sum(1)), hint=2)
    assert "N times too small" in say(check, lambda H, d: (H.T @ d, d.mean(0)))
    assert "N times too small" in say(check, lambda H, d: (H.T @ d / len(H), d.sum(0)))
    assert "raised" in say(check, lambda H, d: (H @ d, d.sum(0)))
    assert "NumPy arrays" in say(check, lambda H, d: ((H.T @ d).tolist(), d.sum(0)))
    assert "return a pair" in say(check, lambda H, d: H.T @ d)


def test_tanh_backward(say) -> None:
    check = ex.check_tanh_backward
    assert say(check, ex.solution_tanh_backward).startswith("Correct!")
    assert say(check, lambda dH, H: None).startswith("Not yet: your function returns None")
    alone = say(check, lambda dH, H: 1 - H**2)
    assert "local derivative alone" in alone and "dH" not in alone
    assert "from above, dH" in say(check, lambda dH, H: 1 - H**2)
    first = say(check, lambda dH, H: dH * (1 - H))
    assert "local derivative of tanh is not right" in first and "squared" not in first
    assert "squared" in say(check, lambda dH, H: dH * (1 - H), hint=2)
    assert "do not apply tanh again" in say(check, lambda dH, H: dH * (1 - np.tanh(H) ** 2), hint=2)
    assert "sigmoid" in say(check, lambda dH, H: dH * H * (1 - H))
    assert "not the matrix product" in say(check, lambda dH, H: dH @ (1 - H**2).T, hint=2)
    assert "a list" in say(check, lambda dH, H: (dH * (1 - H**2)).tolist())


def _scaled(factor):
    return lambda *a: {k: factor * v for k, v in ex.solution_backward_pass(*a).items()}


def _divided_by_n_only(X, Y, W1, b1, W2, b2):
    """The typical slip: the mean over the N rows only, dZ2 = 2 (Z2 - Y) / N."""
    H = np.tanh(X @ W1 + b1)
    dZ2 = 2.0 * (H @ W2 + b2 - Y) / len(X)
    dZ1 = dZ2 @ W2.T * (1 - H**2)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(0), "W2": H.T @ dZ2, "b2": dZ2.sum(0)}


def test_backward_pass_has_several_outputs_so_that_n_and_n_times_m_differ() -> None:
    X, Y, W1, b1, W2, b2 = ex._network_inputs()
    assert Y.shape == (ex.NETWORK_N, ex.NETWORK_M) and ex.NETWORK_M > 2
    assert W2.shape[1] == b2.shape[0] == ex.NETWORK_M


def test_backward_pass(say) -> None:
    check = ex.check_backward_pass

    def wrong_first_layer(*a):
        grads = ex.solution_backward_pass(*a)
        return {**grads, "b1": grads["b1"] + 0.1}

    assert say(check, ex.solution_backward_pass).startswith("Correct!")
    assert say(check, lambda *a: None).startswith("Not yet: your function returns None")
    dividing_by_n = say(check, _divided_by_n_only)
    assert dividing_by_n.startswith("Not yet: every gradient is 3 times the right one")
    assert "N·M" not in dividing_by_n
    assert "Divide by N·M (Z2.size)" in say(check, _divided_by_n_only)
    assert "wrong sign" in say(check, _scaled(-1.0))
    assert "half the right one" in say(check, _scaled(0.5))
    assert "N·M = 18" in say(check, _scaled(18.0))
    assert "1/N = 1/6" in say(check, _scaled(1 / 6))
    assert "4.5 times" in say(check, _scaled(4.5))
    assert "output layer is right" in say(check, wrong_first_layer)
    assert "lacks the key" in say(check, lambda *a: {"W1": 0})
    listed = lambda *a: {k: v.tolist() for k, v in ex.solution_backward_pass(*a).items()}  # noqa: E731
    assert "a list" in say(check, listed)
    assert "return a dict" in say(check, lambda *a: 0.0)


def test_reference_grads_match_finite_differences_and_the_solution() -> None:
    X, Y, W1, b1, W2, b2 = ex._network_inputs()
    ref = ex.reference_grads(X, Y, W1, b1, W2, b2)
    sol = ex.solution_backward_pass(X, Y, W1, b1, W2, b2)
    for k in ref:
        np.testing.assert_allclose(sol[k], ref[k], rtol=1e-10, atol=1e-12)

    def loss_of_W1(W):
        Z2 = np.tanh(X @ W + b1) @ W2 + b2
        return float(np.mean((Z2 - Y) ** 2))

    np.testing.assert_allclose(ref["W1"], numerical_gradient(loss_of_W1, W1), rtol=1e-6)


def test_show_solution_prints_source_and_rejects_unknown_names(capsys) -> None:
    for name in ex.SOLUTIONS:
        ex.show_solution(name)
        assert f"def solution_{name}(" in capsys.readouterr().out
    with pytest.raises(ValueError, match="tanh_backward"):
        ex.show_solution("softmax")
