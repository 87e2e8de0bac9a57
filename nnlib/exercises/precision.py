"""Exercises of notebook 09 (mixed precision): checks that give hints, and worked solutions.

Every ``check_*`` function runs the learner's answer on fixed cases and prints
either ``"Correct!"`` or ``"Not yet: ..."`` with a hint about what is wrong. It
never raises, so a notebook with unfinished exercises still runs top to
bottom. Stuck? :func:`show_hint` gives graded hints (``show_hint("dynamic_scale", 1)``
points the way, level 2 is narrower), and :func:`show_solution` prints the
worked answer.

1. :func:`check_dynamic_scale`: the dynamic loss-scale rule: halve on an
   overflow, double after ``interval`` finite steps in a row.
2. :func:`check_static_scale`: pick a static loss scale from the histogram
   of a real training run's gradients (:func:`static_scale_gradients`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import backend, precision
from ..tree import tree_leaves
from ._checks import CORRECT, as_number, call_learner, first_hint, print_solution


def as_finite_float(value: Any) -> float | None:
    """``value`` as one finite float, or ``None`` (a string, a list, NaN or inf)."""
    number = as_number(value)
    return number if number is not None and math.isfinite(number) else None


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


def solution_static_scale(grads: Any) -> float:
    """A static loss scale for float16, read off the gradients' magnitudes.

    Multiplying by ``S`` moves the whole histogram to the right by ``log10 S``.
    Two limits: the small gradients must leave the zone where float16 makes
    them 0, and the largest must stay below 65504, with room to spare,
    because another mini-batch or a later step has somewhat larger
    gradients. So: the largest power of two that keeps the largest gradient
    16 times below 65504. (It also lifts the smallest gradients by as much as
    that room allows.)
    """
    magnitudes = np.abs(np.concatenate([np.ravel(g) for g in tree_leaves(grads)]))
    largest = magnitudes.max()
    room = precision.largest_finite("float16") / HEADROOM
    return 2.0 ** math.floor(math.log2(room / largest))


SOLUTIONS: dict[str, Callable[..., Any]] = {
    "dynamic_scale": solution_dynamic_scale,
    "static_scale": solution_static_scale,
}

HINTS: dict[str, tuple[str, ...] | Callable[[], tuple[str, ...]]] = {
    "static_scale": lambda: static_scale_hints(),
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
    hints = hints() if callable(hints) else hints
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


# --- exercise 2: a static loss scale from a gradient histogram --------------------------------

#: How far below float16's largest number the largest scaled gradient must stay.
HEADROOM = 16
#: The largest share of the gradients that may still become 0 in float16.
MAX_UNDERFLOW = 1e-3
#: The gradient factor of the exercise's run: its loss is a mean over 2**18 times more numbers.
GRADIENT_FACTOR = 2.0**-18


@functools.lru_cache(maxsize=1)
def _exercise_gradients() -> tuple[np.ndarray, ...]:
    from ..widgets.precision import train_digits_in  # loads the data and the digits network

    with backend.use_backend("numpy"):
        run = train_digits_in("float32", None, 0.1, GRADIENT_FACTOR)
        model, loss, split = _run_pieces(run)
        _, grads, _, _ = model.loss_and_grads(
            run.params, split.X_train[:32], split.y_train[:32], loss
        )
    return tuple(np.asarray(g, np.float64) for layer in grads for g in layer.values())


def _run_pieces(run: Any) -> tuple[Any, Callable, Any]:
    """``(model, loss, split)`` of a :class:`~nnlib.widgets.precision.PrecisionRun`."""
    from ..model import mlp
    from ..widgets.precision import DIGITS_SIZES, weighted_cross_entropy
    from ..widgets.speed import digits_train_test

    model = mlp(list(DIGITS_SIZES), activation="relu", dtype="float32")
    return model, weighted_cross_entropy(run.gradient_factor), digits_train_test(0, np.float32)


def static_scale_gradients() -> list[np.ndarray]:
    """The gradients of the exercise: one mini-batch's, at the end of a real training run.

    The digits network of :func:`nnlib.widgets.precision.train_digits_in`,
    trained 10 epochs in float32 with gradient factor 2**-18 (its loss is a
    mean over 2**18 times more numbers, like a large network's); then the
    gradients of its first 32 training images: every weight and bias
    gradient as a float64 array (copies: change them freely).
    """
    return [g.copy() for g in _exercise_gradients()]


def _nonzero_magnitudes() -> np.ndarray:
    values = np.concatenate([g.ravel() for g in _exercise_gradients()])
    return np.abs(values[values != 0])


def static_scale_hints() -> tuple[str, str]:
    """The two hints of the static-scale exercise, with the gradients' own numbers."""
    magnitudes = _nonzero_magnitudes()
    low = float(np.quantile(magnitudes, MAX_UNDERFLOW))
    high = float(magnitudes.max())
    zero_below = precision.smallest_subnormal("float16") / 2  # smaller numbers round to 0
    lower = math.floor(math.log2(zero_below / low)) + 1
    upper = math.floor(math.log2(precision.largest_finite("float16") / HEADROOM / high))
    return (
        "Multiplying by S moves the histogram to the right by log10(S). Look where the smallest "
        "gradients sit relative to the red 'becomes 0' zone on the left, and how far the largest "
        "one is from float16's largest number, 65504. S must move the first out of the zone "
        "without pushing the second close to the limit. Use a power of two, S = 2**k.",
        f"All but {MAX_UNDERFLOW:.1%} of these gradients are at least {low:.2g}, the largest is "
        f"{high:.2g}. So 2**k · {low:.2g} must pass half of float16's smallest subnormal "
        f"({zero_below:.2g}: smaller numbers round to 0), which needs k >= {lower}, and "
        f"2**k · {high:.2g} should stay below 65504 / {HEADROOM}, which needs k <= {upper}. Any "
        "k in between works.",
    )


def check_static_scale(scale: Any) -> None:
    """Check a static loss scale ``S`` for the gradients of :func:`static_scale_gradients`.

    Correct when ``S`` is a power of two, at most ``0.1 %`` of the (non-zero)
    gradients become 0 in float16 after multiplying by ``S``, and the largest
    stays at least ``HEADROOM = 16`` times below float16's largest number
    (none overflows, and a somewhat larger gradient in the next mini-batch
    does not either). Prints ``"Correct!"`` or a hint; never raises.
    """
    if isinstance(scale, bool) or callable(scale):
        print(f"Not yet: give the scale as one positive number, e.g. 2**10, got {scale!r}.")
        return
    value = as_finite_float(scale)
    if value is None or value <= 0:
        print(
            f"Not yet: a loss scale must be one positive finite number, e.g. 2**10, got "
            f"{scale!r}. Stuck? show_hint('static_scale', 1)."
        )
        return
    magnitudes = _nonzero_magnitudes()
    scaled = value * magnitudes
    lost = precision.underflow_fraction(scaled, "float16")
    overflow = precision.overflow_fraction(scaled, "float16")
    largest = float(scaled.max())
    limit = precision.largest_finite("float16")
    power = math.log2(value)
    label = f"2**{power:.0f}" if power == round(power) else f"{value:.6g}"
    if overflow > 0:
        print(
            f"Not yet: with S = {label} the largest gradients pass 65504 and become inf "
            f"({overflow:.1%} of them): every such step would be skipped. Choose a smaller S."
        )
    elif lost > MAX_UNDERFLOW:
        print(
            f"Not yet: with S = {label}, {lost:.1%} of these gradients still become 0 in "
            f"float16. Move the histogram further to the right: a larger S."
        )
    elif largest > limit / HEADROOM:
        print(
            f"Not yet: with S = {label} the largest gradient becomes {largest:.3g}, closer than a "
            f"factor {HEADROOM} to 65504: a somewhat larger gradient in the next mini-batch "
            "overflows. Leave room: a smaller S."
        )
    elif power != round(power):
        print(
            f"Not yet: S = {label} works for these gradients, but it is not a power of two, so "
            "multiplying by it and dividing again rounds every gradient. Use S = 2**k."
        )
    else:
        print(
            f"{CORRECT} With S = {label}, {lost:.2%} of the gradients become 0 (without scaling: "
            f"{precision.underflow_fraction(magnitudes, 'float16'):.1%}), and the largest, "
            f"{largest:.3g}, stays {limit / largest:.0f} times below 65504."
        )
