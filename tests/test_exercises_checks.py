"""The pieces every notebook's exercise checks share (nnlib.exercises._checks)."""

from __future__ import annotations

import importlib
import inspect
import signal
import threading
import time
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


def test_call_learner_turns_an_exception_into_a_graded_hint() -> None:
    result, hint = checks.call_learner(_boom, 1.0)
    assert result is None
    assert hint.first == "your function raised ZeroDivisionError: division by zero"
    assert "traceback" in hint.second


def test_call_learner_explains_a_value_passed_instead_of_a_function() -> None:
    result, hint = checks.call_learner(0.25, 1.0)
    assert result is None
    assert hint.first.startswith("pass your function itself") and "a float (0.25)" in hint.first


def test_call_learner_uses_if_none_only_for_a_none_result() -> None:
    stub = checks.Hint("None", "fill in.")
    assert checks.call_learner(lambda: None, if_none=stub) == (None, stub)
    assert checks.call_learner(lambda: None) == (None, None)
    assert checks.call_learner(lambda: 0.0, if_none=stub) == (0.0, None)


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


# --- the time limit --------------------------------------------------------------------------


def _forever(*args):
    while True:
        pass


def _forever_catching_everything(*args):
    while True:
        try:
            while True:
                pass
        except Exception:  # the learner's own error handling must not swallow the time limit
            pass


@pytest.mark.parametrize("fn", [_forever, _forever_catching_everything])
def test_an_endless_loop_is_stopped_and_reported(fn) -> None:
    start = time.monotonic()
    result, hint = checks.call_learner(fn, 1.0, seconds=0.2)
    assert time.monotonic() - start < 2.0
    assert result is None and hint.reason == "time limit"
    assert hint.first.startswith("your function was still running after 0.2 s")
    assert "loop that never ends" in hint.first


def test_the_default_time_limit_is_the_module_constant(monkeypatch) -> None:
    monkeypatch.setattr(checks, "TIME_LIMIT", 0.1)
    _, error = checks.run_learner_code(_forever)
    assert isinstance(error, checks.TimeLimitExceeded) and error.seconds == 0.1


def test_the_time_limit_restores_an_outer_timer() -> None:
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *args: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.6)
        checks.run_learner_code(_forever, seconds=0.1)
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0  # the outer timer still runs
        time.sleep(0.8)
        assert fired == [True]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_outside_the_main_thread_a_thread_enforces_the_limit() -> None:
    outcome = {}

    def in_worker():
        outcome["slow"] = checks.run_learner_code(time.sleep, 5, seconds=0.1)
        outcome["fast"] = checks.run_learner_code(max, 2, 5, seconds=1.0)
        outcome["raises"] = checks.run_learner_code(_boom, seconds=1.0)

    worker = threading.Thread(target=in_worker)
    worker.start()
    worker.join(3.0)
    assert isinstance(outcome["slow"][1], checks.TimeLimitExceeded)
    assert outcome["fast"] == (5, None)
    assert isinstance(outcome["raises"][1], ZeroDivisionError)


def test_time_limit_refuses_a_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="seconds must be positive"):
        with checks.time_limit(0):
            pass


# --- reading the answer strictly ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2, 2.0),
        (np.float32(0.5), 0.5),
        (np.int64(3), 3.0),
        (np.array(3.0), 3.0),
        (np.array([1.5]), 1.5),
    ],
)
def test_as_number_accepts_one_number(value, expected) -> None:
    got = checks.as_number(value)
    assert type(got) is float and got == expected


@pytest.mark.parametrize(
    "value", [None, "0.5", b"1", True, np.bool_(True), [1.0], (1.0,), np.zeros(2), {"x": 1}]
)
def test_as_number_refuses_anything_else(value) -> None:
    assert checks.as_number(value) is None


def test_as_array_accepts_numeric_numpy_arrays_only() -> None:
    got = checks.as_array(np.arange(4).reshape(2, 2))
    assert got.dtype == np.float64 and got.shape == (2, 2)
    for value in ([[1, 2], [3, 4]], (1.0, 2.0), "1 2", np.array([True]), np.array(["1"]), None):
        assert checks.as_array(value) is None


def test_as_pair_reads_two_numbers() -> None:
    assert checks.as_pair((1, 2.5)) == (1.0, 2.5)
    assert checks.as_pair([np.float64(1), 2]) == (1.0, 2.0)
    assert checks.as_pair(np.array([1.0, 2.0])) == (1.0, 2.0)
    for value in ((1, "2"), (1, 2, 3), 1.0, np.zeros((2, 1)), None):
        assert checks.as_pair(value) is None


def test_type_hint_says_what_came_back() -> None:
    assert "a str ('0.5')" in checks.type_hint("0.5", "one number").first
    assert "remove the quotes" in checks.type_hint("0.5", "one number").first
    assert "a list of 2 items" in checks.type_hint([1, 2], "a NumPy array").first
    assert "np.array" in checks.type_hint([1, 2], "a NumPy array").first


# --- comparing the answer ----------------------------------------------------------------


def test_same_values_needs_equal_shapes_and_close_values() -> None:
    a = np.array([1.0, 2.0, 3.0])
    assert checks.same_values(a, a * (1 + 1e-8))
    assert not checks.same_values(a, a * (1 + 1e-4))
    assert checks.same_values(a, a * (1 + 1e-4), rtol=1e-3)
    assert not checks.same_values(a, a[None, :])  # (3,) against (1, 3)
    assert checks.same_values([0.5, 0.25], (0.5, 0.25))
    assert not checks.same_values(None, a)


def test_first_hint_returns_the_first_matching_hint() -> None:
    first, second = checks.Hint("a", "first"), checks.Hint("b", "second")
    candidates = [(np.array([1.0, 2.0]), first), (np.array([1.0, 2.0]), second)]
    assert checks.first_hint(np.array([1.0, 2.0]), candidates) is first
    assert checks.first_hint(np.array([2.0, 1.0]), candidates) is None
    near = [(10.0, first)]
    assert checks.first_hint(10.6, near, same=lambda a, b: abs(a - b) < 1) is first


# --- solutions and graded verdicts --------------------------------------------------------


def test_print_solution_prints_the_source_and_rejects_unknown_names(capsys) -> None:
    def solution_double(x):
        """Twice x."""
        return 2 * x

    checks.print_solution({"double": solution_double}, "double")
    assert capsys.readouterr().out == inspect.getsource(solution_double) + "\n"
    with pytest.raises(ValueError, match=r"No solution called 'triple'.*\['double'\]"):
        checks.print_solution({"double": solution_double}, "triple")


SIGN = checks.Hint("sign", "the sign is flipped.", "Check the order in o - y.")


def test_report_prints_correct_or_the_first_grade(capsys) -> None:
    checks.report("ex", None, "Well done.")
    checks.report("ex", None)
    checks.report("ex", SIGN)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Correct! Well done."
    assert out[1] == "Correct!"
    assert out[2] == "Not yet: the sign is flipped."
    assert "hint=2" in out[3]
    assert "o - y" not in "\n".join(out)


def test_the_same_mistake_again_gets_the_second_grade(capsys) -> None:
    checks.report("ex", SIGN)
    capsys.readouterr()
    checks.report("ex", SIGN)
    out = capsys.readouterr().out
    assert out.startswith("Not yet: the sign is flipped.\nHint 2: Check the order in o - y.")
    assert 'show_solution("ex")' in out
    checks.report("ex", SIGN)
    assert capsys.readouterr().out == out  # the second grade is the last one


def test_a_different_mistake_or_exercise_starts_at_the_first_grade(capsys) -> None:
    checks.report("ex", SIGN)
    checks.report("ex", checks.Hint("factor", "a factor is missing.", "The 2."))
    checks.report("other", SIGN)
    out = capsys.readouterr().out
    assert "Hint 2" not in out


def test_a_correct_answer_forgets_the_mistakes_of_its_exercise(capsys) -> None:
    checks.report("ex", SIGN)
    checks.report("other", SIGN)
    checks.report("ex", None)
    capsys.readouterr()
    checks.report("ex", SIGN)
    checks.report("other", SIGN)
    first, second = capsys.readouterr().out.split("Not yet:")[1:]
    assert "Hint 2" not in first and "Hint 2" in second


def test_hint_argument_asks_for_a_grade(capsys) -> None:
    checks.report("ex", SIGN, grade=2)
    assert "Hint 2: Check the order" in capsys.readouterr().out
    checks.report("ex", SIGN, grade=1)
    assert "Hint 2" not in capsys.readouterr().out
    for bad in (0, 3, True, "2"):
        with pytest.raises(ValueError, match="hint must be 1"):
            checks.report("ex", SIGN, grade=bad)


def test_a_hint_with_one_grade_has_nothing_more_to_say(capsys) -> None:
    stub = checks.Hint("None", "your function returned None.")
    checks.report("ex", stub)
    checks.report("ex", stub)
    assert capsys.readouterr().out == "Not yet: your function returned None.\n" * 2


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


VALUE_CHECKS = {
    "check_dL_dw1",
    "check_used_twice",
    "check_fast_learning_rate",
    "check_static_scale",
}


def _function_checks(module) -> list[str]:
    names = [n for n in dir(module) if n.startswith("check_") and n not in VALUE_CHECKS]
    assert names
    return names


@pytest.mark.parametrize("name", EXERCISE_MODULES)
def test_every_check_survives_a_function_that_raises(name: str, capsys) -> None:
    module = importlib.import_module(f"nnlib.exercises.{name}")
    for check_name in _function_checks(module):
        getattr(module, check_name)(_boom)
        out = capsys.readouterr().out
        assert out.startswith("Not yet: your function raised ZeroDivisionError"), check_name
        assert checks.CORRECT not in out


@pytest.mark.parametrize("name", EXERCISE_MODULES)
def test_every_check_stops_an_endless_loop(name: str, capsys, monkeypatch) -> None:
    monkeypatch.setattr(checks, "TIME_LIMIT", 0.1)
    module = importlib.import_module(f"nnlib.exercises.{name}")
    for check_name in _function_checks(module):
        getattr(module, check_name)(_forever)
        out = capsys.readouterr().out
        assert out.startswith("Not yet: your function was still running after 0.1 s"), check_name


@pytest.mark.parametrize("name", EXERCISE_MODULES)
def test_every_check_offers_its_own_worked_solution(name: str, capsys) -> None:
    """The second grade names show_solution's key for the exercise the check belongs to."""
    module = importlib.import_module(f"nnlib.exercises.{name}")
    named = set()
    for check_name in _function_checks(module):
        getattr(module, check_name)(_boom, hint=2)
        out = capsys.readouterr().out
        key = out.split('show_solution("')[1].split('")')[0]
        assert key in module.SOLUTIONS, check_name
        named.add(key)
    assert len(named) == len(_function_checks(module))  # one exercise per check
