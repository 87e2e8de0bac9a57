"""The pieces every notebook's exercise checks share (nnlib.exercises._checks)."""

from __future__ import annotations

import importlib
import inspect
import warnings

import numpy as np
import pytest

from nnlib.exercises import _checks as checks

EXERCISE_MODULES = (
    "backpropagation",
    "case_studies",
    "chain_rule",
    "entropy",
    "gradient_descent",
    "overfitting",
    "precision",
    "speed",
    "vanishing",
)


def _boom(*args):
    raise ZeroDivisionError("division by zero")


# --- call_learner ------------------------------------------------------------------------


def test_call_learner_returns_the_result_and_passes_the_arguments_unchanged() -> None:
    x = np.arange(3.0)
    result, hint = checks.call_learner(lambda a, b: (a, b), x, 2)
    assert hint is None
    assert result[0] is x and result[1] == 2


def test_call_learner_turns_an_exception_into_a_hint() -> None:
    result, hint = checks.call_learner(_boom, 1.0)
    assert result is None
    assert hint == "Not yet: your function raised ZeroDivisionError: division by zero"


def test_call_learner_explains_a_value_passed_instead_of_a_function() -> None:
    result, hint = checks.call_learner(0.25, 1.0)
    assert result is None
    assert hint == "Not yet: pass your function itself (without calling it), got 0.25."


def test_call_learner_uses_if_none_only_for_a_none_result() -> None:
    assert checks.call_learner(lambda: None, if_none="Not yet: fill in.") == (
        None,
        "Not yet: fill in.",
    )
    assert checks.call_learner(lambda: None) == (None, None)
    assert checks.call_learner(lambda: 0.0, if_none="Not yet: fill in.") == (0.0, None)


def test_quiet_hides_numpy_and_python_warnings_only_when_asked() -> None:
    def noisy():
        warnings.warn("from the learner", UserWarning, stacklevel=1)
        return np.array([1.0]) / np.array([0.0])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, hint = checks.call_learner(noisy, quiet=True)
    assert hint is None and np.isinf(result).all()
    assert caught == []

    with warnings.catch_warnings(record=True) as caught, np.errstate(divide="warn"):
        warnings.simplefilter("always")
        checks.call_learner(noisy)
    assert {type(w.message) for w in caught} == {UserWarning, RuntimeWarning}


def test_run_learner_code_returns_the_exception_itself() -> None:
    result, error = checks.run_learner_code(_boom)
    assert result is None and isinstance(error, ZeroDivisionError)
    assert checks.run_learner_code(max, 2, 5) == (5, None)


# --- converting and comparing --------------------------------------------------------------


def test_as_float_array_converts_numbers_and_rejects_text() -> None:
    got = checks.as_float_array([[1, 2], [3, 4]])
    assert got.dtype == np.float64 and got.shape == (2, 2)
    assert checks.as_float_array("three") is None
    assert checks.as_float_array({"W": 1}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2, 2.0), (np.float32(0.5), 0.5), (np.array([[3.0]]), 3.0), ([1.5], 1.5)],
)
def test_as_finite_float_accepts_one_number(value, expected) -> None:
    got = checks.as_finite_float(value)
    assert type(got) is float and got == expected


@pytest.mark.parametrize("value", [None, "x", [1.0, 2.0], np.zeros(0), np.nan, -np.inf])
def test_as_finite_float_rejects_anything_but_one_finite_number(value) -> None:
    assert checks.as_finite_float(value) is None


def test_same_values_needs_equal_shapes_and_close_values() -> None:
    a = np.array([1.0, 2.0, 3.0])
    assert checks.same_values(a, a * (1 + 1e-8))
    assert not checks.same_values(a, a * (1 + 1e-4))
    assert checks.same_values(a, a * (1 + 1e-4), rtol=1e-3)
    assert not checks.same_values(a, a[None, :])  # (3,) against (1, 3)
    assert checks.same_values([0.5, 0.25], (0.5, 0.25))
    assert not checks.same_values(None, a)


def test_first_hint_returns_the_first_matching_hint() -> None:
    candidates = [(np.array([1.0, 2.0]), "first"), (np.array([1.0, 2.0]), "second")]
    assert checks.first_hint(np.array([1.0, 2.0]), candidates) == "first"
    assert checks.first_hint(np.array([2.0, 1.0]), candidates) is None
    near = [(10.0, "within one")]
    assert checks.first_hint(10.6, near, same=lambda a, b: abs(a - b) < 1) == "within one"


# --- solutions and verdicts ------------------------------------------------------------


def test_print_solution_prints_the_source_and_rejects_unknown_names(capsys) -> None:
    def solution_double(x):
        """Twice x."""
        return 2 * x

    checks.print_solution({"double": solution_double}, "double")
    assert capsys.readouterr().out == inspect.getsource(solution_double) + "\n"
    with pytest.raises(ValueError, match=r"No solution called 'triple'.*\['double'\]"):
        checks.print_solution({"double": solution_double}, "triple")


def test_report_prints_correct_or_the_hint(capsys) -> None:
    checks.report(None, "Well done.")
    checks.report("Not done yet: return dW.", "Well done.")
    assert capsys.readouterr().out == "Correct! Well done.\nNot done yet: return dW.\n"


# --- every notebook's exercises -------------------------------------------------------------


@pytest.mark.parametrize("name", EXERCISE_MODULES)
def test_every_solution_function_can_be_shown(name: str, capsys) -> None:
    module = importlib.import_module(f"nnlib.exercises.{name}")
    defined = {n[len("solution_") :] for n in dir(module) if n.startswith("solution_")}
    assert set(module.SOLUTIONS) == defined
    for key, solution in module.SOLUTIONS.items():
        assert solution is getattr(module, f"solution_{key}")
        module.show_solution(key)
        assert f"def solution_{key}(" in capsys.readouterr().out
    with pytest.raises(ValueError, match="Valid names"):
        module.show_solution("no_such_exercise")


@pytest.mark.parametrize("name", EXERCISE_MODULES)
def test_every_check_survives_a_function_that_raises(name: str, capsys) -> None:
    module = importlib.import_module(f"nnlib.exercises.{name}")
    takes_a_value = {
        "check_dL_dw1",
        "check_used_twice",
        "check_fast_learning_rate",
        "check_static_scale",
    }
    check_names = [n for n in dir(module) if n.startswith("check_") and n not in takes_a_value]
    assert check_names
    for check_name in check_names:
        getattr(module, check_name)(_boom)
        out = capsys.readouterr().out
        assert "raised ZeroDivisionError: division by zero" in out, check_name
        assert checks.CORRECT not in out
