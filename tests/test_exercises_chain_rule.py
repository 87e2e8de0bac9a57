"""Exercise checks of notebook 01: solutions pass, typical mistakes get graded hints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnlib.autodiff import Value
from nnlib.exercises import chain_rule as ex

P = ex.EXERCISE_NEURON
OUT = math.tanh(P.w1 * P.x1 + P.w2 * P.x2 + P.b)
RIGHT = ex.solution_dL_dw1()


def test_solution_dL_dw1_agrees_with_autodiff() -> None:
    leaves = {name: Value(getattr(P, name)) for name in ("x1", "x2", "w1", "w2", "b", "y")}
    n = leaves["w1"] * leaves["x1"] + leaves["w2"] * leaves["x2"] + leaves["b"]
    loss = (n.tanh() - leaves["y"]) ** 2
    loss.backward()
    assert RIGHT == pytest.approx(leaves["w1"].grad, rel=1e-12)


@pytest.mark.parametrize("answer", [RIGHT, round(RIGHT, 3), np.float64(RIGHT), np.array(RIGHT)])
def test_dL_dw1_accepts_the_answer_as_any_number(say, answer) -> None:
    assert say(ex.check_dL_dw1, answer).startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "first", "second"),
    [
        (-RIGHT, "sign is flipped", "∂L/∂o must be negative"),
        (RIGHT / 2, "half the right one", "factor 2"),
        (RIGHT / P.x1, "link of the chain is missing", "∂n/∂w1"),
        (RIGHT / (1 - OUT**2), "link of the chain is missing", "tanh node was skipped"),
        (RIGHT / (2 * (OUT - P.y)), "that is ∂o/∂w1", "∂L/∂o"),
        (RIGHT / P.x1 * P.w1, "∂n/∂w1, is not right", "other factor remains"),
        (123.0, "is not ∂L/∂w1", "one local derivative per node"),
    ],
)
def test_dL_dw1_grades_its_hints(say, answer, first, second) -> None:
    hint1 = say(ex.check_dL_dw1, answer)
    assert hint1.startswith("Not yet: ") and first in hint1 and second not in hint1
    assert "2(o - y)" not in hint1 and "1 - o²" not in hint1  # the first hint gives no formula
    hint2 = say(ex.check_dL_dw1, answer)  # the same mistake again: the second grade
    assert first in hint2 and second in hint2 and 'show_solution("dL_dw1")' in hint2
    assert say(ex.check_dL_dw1, answer, hint=2) == hint2


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (None, "replace None"),
        ("-2.27", "remove the quotes"),
        ([RIGHT], "a list"),
        (True, "a bool"),
        (math.inf, "finite"),
    ],
)
def test_dL_dw1_refuses_what_is_not_one_number(say, answer, expected) -> None:
    out = say(ex.check_dL_dw1, answer)
    assert out.startswith("Not yet: ") and expected in out


def test_a_right_answer_resets_the_grade(say) -> None:
    say(ex.check_dL_dw1, -RIGHT)
    say(ex.check_dL_dw1, RIGHT)
    assert "Hint 2" not in say(ex.check_dL_dw1, -RIGHT)


def test_mul_backward(say) -> None:
    assert say(ex.check_mul_backward, ex.solution_mul_backward).startswith("Correct!")
    assert "returned None" in say(ex.check_mul_backward, lambda x, y, g: None)
    swapped = lambda x, y, g: (x * g, y * g)  # noqa: E731
    assert "swapped" in say(ex.check_mul_backward, swapped)
    assert "*other* input" in say(ex.check_mul_backward, swapped)
    no_chain = lambda x, y, g: (y, x)  # noqa: E731
    assert "from above is not used" in say(ex.check_mul_backward, no_chain)
    assert "out_grad = ∂L/∂z" in say(ex.check_mul_backward, no_chain, hint=2)
    assert "addition" in say(ex.check_mul_backward, lambda x, y, g: (g, g))
    assert "a pair (dx, dy)" in say(ex.check_mul_backward, lambda x, y, g: x * y * g)
    strings = say(ex.check_mul_backward, lambda x, y, g: (str(y * g), str(x * g)))
    assert "a pair (dx, dy)" in strings
    assert "ZeroDivisionError" in say(ex.check_mul_backward, lambda x, y, g: 1 / 0)
    assert "pass your function itself" in say(ex.check_mul_backward, 3.0)


def test_used_twice(say) -> None:
    a, b = Value(ex.USED_TWICE_A), Value(ex.USED_TWICE_B)
    f = a * b + a * a
    f.backward()
    assert ex.solution_used_twice() == a.grad
    assert say(ex.check_used_twice, a.grad).startswith("Correct!")
    # a Value counts as its .data (here a = 3, which is not df/da)
    assert say(ex.check_used_twice, a).startswith("Not yet")
    only_ab = say(ex.check_used_twice, b.data, hint=2)
    assert "only some of the paths" in only_ab and "through a·a" in only_ab
    only_aa = say(ex.check_used_twice, 2 * a.data, hint=2)
    assert "only some of the paths" in only_aa and "through a·b" in only_aa
    assert "one path per factor" in say(ex.check_used_twice, a.data + b.data, hint=2)
    assert "f itself" in say(ex.check_used_twice, f.data)
    assert "replace None" in say(ex.check_used_twice, None)
    assert "remove the quotes" in say(ex.check_used_twice, "2")


def test_centred_difference(say) -> None:
    assert say(ex.check_centred_difference, ex.solution_centred_difference).startswith("Correct!")

    def forward(f, x, h):
        return (f(x + h) - f(x)) / h

    def no_two(f, x, h):
        return (f(x + h) - f(x - h)) / h

    def no_brackets(f, x, h):
        return (f(x + h) - f(x - h)) / 2 * h

    assert "one-sided" in say(ex.check_centred_difference, forward)
    assert "both sides" in say(ex.check_centred_difference, forward, hint=2)
    assert "divisor" in say(ex.check_centred_difference, no_two)
    assert "distance between" in say(ex.check_centred_difference, no_two, hint=2)
    assert "brackets" in say(ex.check_centred_difference, no_brackets, hint=2)
    assert "returned None" in say(ex.check_centred_difference, lambda f, x, h: None)
    assert "one number" in say(ex.check_centred_difference, lambda f, x, h: "0.5")


def test_an_endless_loop_is_stopped_with_a_clear_message(say, monkeypatch) -> None:
    monkeypatch.setattr("nnlib.exercises._checks.TIME_LIMIT", 0.2)

    def forever(f, x, h):
        while True:
            pass

    out = say(ex.check_centred_difference, forever)
    assert out.startswith("Not yet: your function was still running after 0.2 s")


def test_show_solution_prints_the_source(capsys) -> None:
    ex.show_solution("mul_backward")
    out = capsys.readouterr().out
    assert "def solution_mul_backward" in out and "return y * out_grad, x * out_grad" in out
    with pytest.raises(ValueError, match="Valid names"):
        ex.show_solution("nonexistent")
