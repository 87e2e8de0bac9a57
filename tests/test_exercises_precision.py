"""The exercises of notebook 09: the dynamic loss-scale rule and a static scale read off a
gradient histogram; their checks, hints and solutions."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from nnlib import precision
from nnlib.exercises import precision as ex
from nnlib.exercises._checks import CORRECT


def output_of(check, answer) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        check(answer)
    return buffer.getvalue()


def test_the_solution_passes_and_agrees_with_the_library() -> None:
    assert output_of(ex.check_dynamic_scale, ex.solution_dynamic_scale).startswith(CORRECT)
    rng = np.random.default_rng(0)
    for interval in (1, 2, 5):  # (from 2**30 the library's floor of 1 is never reached)
        flags = tuple(bool(f) for f in rng.random(60) < 0.8)
        expected = ex._library_run(2.0**30, interval, flags)
        assert ex._rule_run(ex.solution_dynamic_scale, 2.0**30, interval, flags) == expected


def test_an_answer_with_numpy_numbers_passes_too() -> None:
    def with_numpy(scale, good, finite, interval):
        new_scale, new_good = ex.solution_dynamic_scale(scale, good, finite, interval)
        return np.float32(new_scale), np.int64(new_good)

    assert output_of(ex.check_dynamic_scale, with_numpy).startswith(CORRECT)


def keeps_count_after_overflow(scale, good, finite, interval):
    if not finite:
        return scale / 2, good  # halves, but forgets to restart the count
    good += 1
    return (scale * 2, 0) if good == interval else (scale, good)


def grows_every_step_after_n(scale, good, finite, interval):
    if not finite:
        return scale / 2, 0
    good += 1
    return (scale * 2 if good >= interval else scale), good  # never resets after growing


def grows_one_step_late(scale, good, finite, interval):
    if not finite:
        return scale / 2, 0
    if good >= interval:  # compares before counting this step
        return scale * 2, 0
    return scale, good + 1


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (keeps_count_after_overflow, "An overflow ends the run of finite steps"),
        (grows_every_step_after_n, "grows again too soon"),
        (grows_one_step_late, "grows one step late"),
        (lambda s, g, f, i: (s, g + 1) if f else (s / 2, 0), "your scale never grows"),
        (lambda s, g, f, i: (s * 2, 0) if f and g + 1 == i else (s, (g + 1) * f), "not shrink"),
    ],
)
def test_typical_wrong_rules_get_their_own_hint(answer, hint) -> None:
    out = output_of(ex.check_dynamic_scale, answer)
    assert out.startswith("Not yet:") and hint in out, out
    assert CORRECT not in out


def test_other_wrong_answers_are_told_where_they_go_wrong() -> None:
    assert "returned None" in output_of(ex.check_dynamic_scale, lambda s, g, f, i: None)
    assert "return two numbers" in output_of(ex.check_dynamic_scale, lambda s, g, f, i: s)
    assert "return two numbers" in output_of(ex.check_dynamic_scale, lambda s, g, f, i: ("x", 0))
    out = output_of(ex.check_dynamic_scale, lambda s, g, f, i: (s * 4, 0))
    assert "step 0 (grads_finite=True) starts from scale 1024 and 0 good steps" in out
    assert "your function returned (4096, 0), the rule gives (1024, 1)" in out
    assert "raised ZeroDivisionError" in output_of(ex.check_dynamic_scale, lambda *a: 1 / 0)
    assert "pass your function itself" in output_of(ex.check_dynamic_scale, 3.0)


def test_the_scripts_contain_overflows_growth_and_halvings() -> None:
    for start, interval, flags in ex.SCRIPTS:
        scales = [start] + [scale for scale, _ in ex._library_run(start, interval, flags)]
        steps = np.diff(np.log2(scales))
        assert {-1.0, 1.0} <= set(steps)  # both halvings and growth happen


def test_graded_hints_go_from_a_pointer_to_the_rule(capsys) -> None:
    ex.show_hint("dynamic_scale")
    first = capsys.readouterr().out
    ex.show_hint("dynamic_scale", 2)
    second = capsys.readouterr().out
    assert first.startswith("Hint 1 of 2:") and second.startswith("Hint 2 of 2:")
    assert "halve" not in first.lower() and "halve" in second.lower()
    with pytest.raises(ValueError, match="level must be 1 to 2, got 3"):
        ex.show_hint("dynamic_scale", 3)
    with pytest.raises(ValueError, match=r"No hints for 'scale'.*\['dynamic_scale', 'static"):
        ex.show_hint("scale")


def test_show_solution_prints_the_code(capsys) -> None:
    ex.show_solution("dynamic_scale")
    assert "def solution_dynamic_scale(" in capsys.readouterr().out
    assert precision.loss_scale_update.__name__ in ex.check_dynamic_scale.__doc__


# --- a static loss scale from a gradient histogram -------------------------------------------


def verdict(scale) -> str:
    return output_of(ex.check_static_scale, scale)


def test_the_static_scale_solution_passes() -> None:
    grads = ex.static_scale_gradients()
    scale = ex.solution_static_scale(grads)
    assert scale == 2.0**33
    out = verdict(scale)
    assert out.startswith(CORRECT) and "0.00% of the gradients become 0" in out


def test_the_exercise_gradients_are_small_and_float16_loses_many_of_them() -> None:
    grads = ex.static_scale_gradients()
    assert all(g.dtype == np.float64 for g in grads) and len(grads) == 4  # W, b of 2 layers
    grads[0][:] = 0  # a copy: the exercise's own gradients are untouched
    assert np.any(ex.static_scale_gradients()[0] != 0)
    assert precision.underflow_fraction(ex.static_scale_gradients(), "float16") > 0.5


def test_a_scale_too_small_is_told_to_grow() -> None:
    out = verdict(2.0**8)
    assert out.startswith("Not yet: with S = 2**8, 5.1% of these gradients still become 0")
    assert "a larger S" in out


def test_a_scale_too_large_is_told_it_overflows() -> None:
    out = verdict(2.0**40)
    assert out.startswith("Not yet: with S = 2**40 the largest gradients pass 65504 and become inf")
    assert "smaller S" in out


def test_a_scale_without_room_and_a_scale_that_is_not_a_power_of_two() -> None:
    assert "closer than a factor 16 to 65504" in verdict(2.0**36)
    assert "not a power of two" in verdict(3 * 2.0**20)


@pytest.mark.parametrize("bad", [None, "2**10", -8.0, 0, float("nan"), True, [1.0, 2.0], print])
def test_answers_that_are_not_one_positive_number(bad) -> None:
    assert verdict(bad).startswith("Not yet:")


def test_the_second_hint_gives_the_exact_window_the_check_accepts(capsys) -> None:
    accepted = [k for k in range(0, 48) if verdict(2.0**k).startswith(CORRECT)]
    assert accepted == list(range(15, 34))
    ex.show_hint("static_scale", 1)
    first = capsys.readouterr().out
    ex.show_hint("static_scale", 2)
    second = capsys.readouterr().out
    assert first.startswith("Hint 1 of 2:") and "k >=" not in first
    assert "needs k >= 15" in second and "needs k <= 33" in second
    ex.show_solution("static_scale")
    assert "def solution_static_scale(" in capsys.readouterr().out
