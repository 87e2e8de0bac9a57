"""Exercise checks of notebook 04: solutions pass, typical mistakes get graded hints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnlib.exercises import vanishing as ex


def test_max_sigmoid_prime(say) -> None:
    check = ex.check_max_sigmoid_prime
    assert ex.solution_max_sigmoid_prime() == pytest.approx(0.25, abs=1e-9)
    assert say(check, ex.solution_max_sigmoid_prime).startswith("Correct!")
    stub = say(check, lambda: None)
    assert stub.startswith("Not yet: your function returns None") and "linspace" not in stub
    assert "np.linspace(-10, 10, 2001)" in say(check, lambda: None)  # the second grade
    assert "of σ itself" in say(check, lambda: 0.99995)
    assert "σ(0)" in say(check, lambda: 0.5)
    assert "np.argmax" in say(check, lambda: 0.0, hint=2)
    assert "one number" in say(check, lambda: np.ones(3))
    assert "one number" in say(check, lambda: "0.25")
    assert "below the true maximum" in say(check, lambda: 0.2)
    too_large = say(check, lambda: 1.5)
    assert "too large" in too_large and "1/4" not in too_large
    assert "raised ZeroDivisionError" in say(check, lambda: 1 / 0)


def test_shrink_factor(say) -> None:
    check = ex.check_shrink_factor
    assert say(check, ex.solution_shrink_factor).startswith("Correct!")
    assert say(check, lambda k: (1 / 4) ** k).startswith("Correct!")
    assert say(check, lambda k: None).startswith("Not yet: your function returns None")
    assert "not added" in say(check, lambda k: 0.25 * k, hint=2)
    assert "not by 4" in say(check, lambda k: 4.0**k, hint=2)
    assert "off by one" in say(check, lambda k: 0.25 ** (k - 1))
    assert "slope σ′(0)" in say(check, lambda k: 0.5**k, hint=2)
    assert "no shrinking" in say(check, lambda k: 1.0)
    assert "shrink_factor(0) returned" in say(check, lambda k: 0.2**k + 0.1)
    assert "one number from shrink_factor(0)" in say(check, lambda k: [0.25**k])


def test_he_std(say) -> None:
    check = ex.check_he_std
    assert ex.solution_he_std(32) == pytest.approx(0.25)
    np.testing.assert_allclose(ex.solution_he_std(np.array([2, 8])), [1.0, 0.5])
    assert say(check, ex.solution_he_std).startswith("Correct!")
    assert say(check, lambda n: math.sqrt(2 / n)).startswith("Correct!")
    assert say(check, lambda n: None).startswith("Not yet: your function returns None")
    variance = say(check, lambda n: 2 / n)
    assert "variance of the weights" in variance and "square root" not in variance
    assert "square root" in say(check, lambda n: 2 / n)
    assert "doubles the variance" in say(check, lambda n: math.sqrt(1 / n), hint=2)
    assert "divide by fan_in" in say(check, lambda n: math.sqrt(2 * n), hint=2)
    assert "he_std(32) returned 0.1" in say(check, lambda n: 0.1)


def test_show_solution_prints_source_and_rejects_unknown_names(capsys) -> None:
    for name in ex.SOLUTIONS:
        ex.show_solution(name)
        assert f"def solution_{name}(" in capsys.readouterr().out
    with pytest.raises(ValueError, match="he_std"):
        ex.show_solution("xavier_std")
