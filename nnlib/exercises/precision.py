"""Exercises of notebook 09 (mixed precision): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on fixed cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a hint about what is wrong. It
never raises, so a notebook with unfinished exercises still runs top to
bottom. Stuck? :func:`show_hint` gives graded hints (``show_hint("dynamic_scale", 1)``
points the way, level 2 is narrower), and :func:`show_solution` prints the
worked answer.

1. :func:`check_dynamic_scale`: the dynamic loss-scale rule: halve on an
   overflow, double after ``interval`` finite steps in a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import backend, precision
from ._checks import CORRECT, as_finite_float, call_learner, first_hint, print_solution

# --- worked solutions --------------------------------------------------------------------


def solution_dynamic_scale(
    scale: float, good_steps: int, grads_finite: bool, interval: int
) -> tuple[float, int]:
    """One update of a dynamic loss scale: ``(scale, good_steps) -> (new scale, new good_steps)``.

    ``good_steps`` counts the finite steps in a row since the scale last
    changed. An overflow (inf or NaN in the gradients) means the scale is too
    large: halve it, and the run of good steps starts again from 0 (the
    training step itself is skipped). After ``interval`` finite steps in a row
    the scale has been safe for a while: double it, to rescue more of the
    small gradients, and start counting again. (nnlib's
    :func:`~nnlib.precision.loss_scale_update` also keeps the scale at least
    ``min_scale``, 1 by default; the check's runs never get that low.)
    """
    if not grads_finite:
        return scale * 0.5, 0
    good_steps = good_steps + 1
    if good_steps == interval:
        return scale * 2.0, 0
    return scale, good_steps


SOLUTIONS: dict[str, Callable[..., Any]] = {"dynamic_scale": solution_dynamic_scale}

HINTS: dict[str, tuple[str, ...]] = {
    "dynamic_scale": (
        "There are two cases, decided by grads_finite. What does an overflow tell you about "
        "the scale, and what does a long run of finite steps tell you? Return both numbers.",
        "Overflow: halve the scale and set the count of good steps back to 0. Finite step: "
        "add 1 to the count first; if it has reached interval, double the scale and set the "
        "count to 0, else keep the scale and return the new count.",
    ),
}


def show_solution(name: str) -> None:
    """Print the worked solution ``name``: one of :data:`SOLUTIONS`, e.g. ``"dynamic_scale"``."""
    print_solution(SOLUTIONS, name)


def show_hint(name: str, level: int = 1) -> None:
    """Print hint number ``level`` (1: a pointer, 2: narrower) for the exercise ``name``."""
    if name not in HINTS:
        raise ValueError(f"No hints for {name!r}. Valid names are {sorted(HINTS)}.")
    hints = HINTS[name]
    if isinstance(level, bool) or level not in range(1, len(hints) + 1):
        raise ValueError(
            f"level must be 1 to {len(hints)}, got {level!r}: show_hint({name!r}, 1) first, "
            f"then show_hint({name!r}, 2); show_solution({name!r}) prints the answer."
        )
    print(f"Hint {level} of {len(hints)}: {hints[level - 1]}")


# --- exercise 1: the dynamic loss-scale rule -----------------------------------------------

#: The scripted runs of the check: (start scale, interval, finite? at each step).
T, F = True, False
SCRIPTS: tuple[tuple[float, int, tuple[bool, ...]], ...] = (
    (1024.0, 3, (T, T, T, F, T, T, F, F, T, T, T, T, T, T, T, T)),
    (2.0**15, 2, (F, F, F, T, T, T, F, T, T, T, T, T, F, T)),
)


def _library_run(start: float, interval: int, flags: Sequence[bool]) -> list[tuple[float, int]]:
    """``(scale, good_steps)`` after each step, from :func:`nnlib.precision.loss_scale_update`."""
    with backend.use_backend("numpy"):
        state = precision.loss_scale_init("dynamic", initial_scale=start, growth_interval=interval)
        run = []
        for finite in flags:
            state = precision.loss_scale_update(state, finite)
            run.append((float(state["scale"]), int(state["good_steps"])))
    return run


def _rule_run(
    rule: Callable[..., tuple[float, int]], start: float, interval: int, flags: Sequence[bool]
) -> list[tuple[float, int]]:
    scale, good, run = start, 0, []
    for finite in flags:
        scale, good = rule(scale, good, finite, interval)
        run.append((scale, good))
    return run


# Typical wrong rules, each with the hint it earns.
def _keeps_count_after_overflow(scale, good, finite, interval):
    if not finite:
        return scale * 0.5, good
    return solution_dynamic_scale(scale, good, finite, interval)


def _keeps_count_after_growth(scale, good, finite, interval):
    if not finite:
        return scale * 0.5, 0
    good += 1
    return (scale * 2.0 if good >= interval else scale), good


def _keeps_count_after_growing_once(scale, good, finite, interval):
    if not finite:
        return scale * 0.5, 0
    good += 1
    return (scale * 2.0 if good == interval else scale), good


def _counts_after_comparing(scale, good, finite, interval):
    if not finite:
        return scale * 0.5, 0
    if good == interval:
        return scale * 2.0, 0
    return scale, good + 1


def _never_grows(scale, good, finite, interval):
    return (scale * 0.5, 0) if not finite else (scale, good + 1)


def _never_halves(scale, good, finite, interval):
    return (scale, 0) if not finite else solution_dynamic_scale(scale, good, finite, interval)


_WRONG_RULES = (
    (
        _keeps_count_after_overflow,
        "Not yet: after an overflow your count of good steps carries on. An overflow ends the "
        "run of finite steps: the count must start again at 0.",
    ),
    (
        _keeps_count_after_growth,
        "Not yet: after the scale grows, your count keeps going, so the scale grows again too "
        "soon. Set the count back to 0 whenever the scale changes.",
    ),
    (
        _keeps_count_after_growing_once,
        "Not yet: after the scale grows, your count keeps going past interval, so the scale "
        "never grows again. Set the count back to 0 whenever the scale changes.",
    ),
    (
        _counts_after_comparing,
        "Not yet: your scale grows one step late, after interval + 1 finite steps. Count the "
        "current step first (good_steps + 1), then compare with interval.",
    ),
    (
        _never_grows,
        "Not yet: your scale never grows. After interval finite steps in a row, double it.",
    ),
    (
        _never_halves,
        "Not yet: your scale does not shrink on an overflow (grads_finite is False). Halve it.",
    ),
)


def _as_pair(result: Any) -> tuple[float, float] | None:
    """``result`` as ``(scale, good_steps)`` of two finite numbers, or ``None``."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        return None
    scale, good = as_finite_float(result[0]), as_finite_float(result[1])
    return None if scale is None or good is None else (scale, good)


def check_dynamic_scale(update_scale: Callable[[float, int, bool, int], Any]) -> None:
    """Check ``update_scale(scale, good_steps, grads_finite, interval) -> (scale, good_steps)``.

    The learner's function is run on scripted sequences of overflow / no-overflow
    steps, each step starting from what it returned the step before, and the run
    is compared with :func:`nnlib.precision.loss_scale_update`.
    """
    for start, interval, flags in SCRIPTS:
        scale, good, run = start, 0, []
        for step, finite in enumerate(flags):
            result, problem = call_learner(
                update_scale,
                scale,
                good,
                finite,
                interval,
                if_none=(
                    "Not yet: update_scale returned None. Return the pair (new_scale, "
                    "new_good_steps). Stuck? show_hint('dynamic_scale', 1)."
                ),
            )
            if problem:
                print(problem)
                return
            pair = _as_pair(result)
            if pair is None:
                print(
                    f"Not yet: return two numbers, (new_scale, new_good_steps), got {result!r} "
                    f"at step {step}."
                )
                return
            run.append(pair)
            scale, good = pair
        expected = _library_run(start, interval, flags)
        if run == expected:
            continue
        wrong = [(_rule_run(rule, start, interval, flags), hint) for rule, hint in _WRONG_RULES]
        hint = first_hint(run, wrong)
        if hint is None:
            k = next(i for i, (a, b) in enumerate(zip(run, expected, strict=True)) if a != b)
            before = (start, 0) if k == 0 else expected[k - 1]
            hint = (
                f"Not yet: with interval={interval}, step {k} (grads_finite={flags[k]}) starts "
                f"from scale {before[0]:g} and {before[1]:g} good steps; your function returned "
                f"({run[k][0]:g}, {run[k][1]:g}), the rule gives ({expected[k][0]:g}, "
                f"{expected[k][1]:g}). Stuck? show_hint('dynamic_scale', 1)."
            )
        print(hint)
        return
    print(
        f"{CORRECT} Your rule matches nnlib.precision.loss_scale_update on "
        f"{sum(len(flags) for _, _, flags in SCRIPTS)} scripted steps."
    )
