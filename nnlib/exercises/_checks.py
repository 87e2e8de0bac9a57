"""What the exercise checks of every notebook share.

A check calls the learner's function on fixed inputs (or looks at the learner's
number), compares the result with a worked solution and prints either
:data:`CORRECT` or a hint that starts with :data:`NOT_YET`. A check never
raises because of the learner's code: whatever that code does (raise, loop
forever, return ``None`` or a string), the notebook cell still finishes and
shows a hint.

**Graded hints.** A hint has two grades (:class:`Hint`). The first points at
what is wrong without giving the answer away; the second narrows it down. A
check remembers how often it has seen the same mistake: the first time it
prints the first grade, from the second time on both, followed by the name of
the worked solution. ``check_...(answer, hint=2)`` asks for the second grade at
once. The worked solution itself is printed only on request, by
``show_solution(name)`` (:func:`print_solution`).

**A time limit.** The learner's function runs under :func:`time_limit`: a call
that is still running after :data:`TIME_LIMIT` seconds (an endless loop) is
stopped, and the check says so.

The pieces, in the order a check uses them:

* :func:`call_learner` runs the learner's function and turns a crash, an
  endless loop, a non-function or a ``None`` result into a :class:`Hint`
  (:func:`run_learner_code` is the bare call underneath);
* :func:`as_number`, :func:`as_array` and :func:`as_pair` read the result
  strictly (a string is not a number, a list is not an array), and
  :func:`type_hint` says what was returned instead;
* :func:`same_values` compares it with the expected values, and
  :func:`first_hint` looks it up among the typical wrong answers;
* :func:`report` prints the verdict at the right grade.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import numbers
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: What a check prints when the answer is right (some checks add a sentence).
CORRECT = "Correct!"
#: How every hint of every check starts.
NOT_YET = "Not yet:"
#: Seconds one call of the learner's function may run before the check stops it.
TIME_LIMIT = 5.0


@dataclass(frozen=True)
class Hint:
    """What a check says about one kind of mistake, in two grades.

    ``reason`` names the mistake (``"sign"``, ``"returned None"``); the check
    counts how often it has seen it. ``first`` points at what is wrong without
    giving the answer away; ``second`` narrows it down (``None`` when the first
    grade already says all there is to say, e.g. "your function returned None").
    """

    reason: str
    first: str
    second: str | None = None


# --- worked solutions --------------------------------------------------------------------


def print_solution(solutions: Mapping[str, Callable[..., Any]], name: str) -> None:
    """Print the source code (and so the explanation) of the worked solution ``name``.

    ``solutions`` maps each exercise's name to its ``solution_*`` function; an
    unknown ``name`` raises ``ValueError`` that lists the valid ones.
    """
    if name not in solutions:
        raise ValueError(f"No solution called {name!r}. Valid names are {sorted(solutions)}.")
    print(inspect.getsource(solutions[name]))


# --- the time limit ----------------------------------------------------------------------


class TimeLimitExceeded(Exception):
    """The learner's function was still running after ``seconds`` seconds and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"still running after {seconds:g} s")
        self.seconds = seconds


class _Alarm(BaseException):
    """Raised inside the learner's code when the time is up.

    A ``BaseException``, so that an ``except Exception`` in the learner's own
    code cannot swallow it.
    """


def _can_use_alarm() -> bool:
    """``SIGALRM`` exists (not on Windows) and this is the main thread (signals go there)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the ``with`` block after ``seconds`` seconds.

    Uses a ``SIGALRM`` timer (``signal.setitimer``): the alarm interrupts Python
    code between two bytecodes, so an endless ``while`` loop stops; a single
    long call into compiled code stops when it returns. A timer that was
    already running (e.g. pytest-timeout's) is put back afterwards with its
    remaining time. Where there is no ``SIGALRM`` (Windows, or not the main
    thread), use :func:`run_learner_code`, which falls back to a thread.
    """
    if not seconds > 0:
        raise ValueError(f"time_limit: seconds must be positive, got {seconds!r}.")

    def _raise(signum: int, frame: Any) -> None:
        raise _Alarm

    old_handler = signal.signal(signal.SIGALRM, _raise)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    except _Alarm:
        raise TimeLimitExceeded(seconds) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay > 0:
            left = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


def _call_in_thread(fn: Callable[..., Any], args: tuple, seconds: float) -> tuple[Any, Any]:
    """``fn(*args)`` in a daemon thread; ``TimeLimitExceeded`` if it does not finish in time.

    A Python thread cannot be stopped from outside, so a call that runs too
    long keeps running in the background; the check reports it and moves on.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = fn(*args)
        except Exception as err:  # the learner's code: report, never raise
            outcome["error"] = err

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return None, TimeLimitExceeded(seconds)
    return outcome.get("result"), outcome.get("error")


# --- calling the learner's code -----------------------------------------------------------


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Hide NumPy's floating-point warnings (``0/0``, overflow) and every other warning."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def run_learner_code(
    fn: Callable[..., Any], *args: Any, quiet: bool = False, seconds: float | None = None
) -> tuple[Any, Exception | None]:
    """``fn(*args)`` as ``(result, None)``, or ``(None, error)`` when it raised ``error``.

    A call still running after ``seconds`` seconds (default :data:`TIME_LIMIT`)
    is stopped and returns ``(None, TimeLimitExceeded(seconds))``. With ``quiet=True`` the warnings
    the call emits are hidden (see :func:`call_learner`). Never raises: the
    error is returned for the hint.
    """
    seconds = TIME_LIMIT if seconds is None else seconds
    with _silenced() if quiet else contextlib.nullcontext():
        if not _can_use_alarm():
            return _call_in_thread(fn, args, seconds)
        try:
            with time_limit(seconds):
                return fn(*args), None
        except Exception as err:  # the learner's code (or the time limit): report, never raise
            return None, err


def call_learner(
    fn: Any,
    *args: Any,
    quiet: bool = False,
    if_none: Hint | None = None,
    seconds: float | None = None,
) -> tuple[Any, Hint | None]:
    """Call the learner's ``fn(*args)``: ``(result, None)``, or ``(None, hint)``.

    The hint says that ``fn`` is not a function (a common slip:
    ``check(f())`` instead of ``check(f)``), which exception it raised, or that
    it was still running after ``seconds`` seconds (default :data:`TIME_LIMIT`);
    with ``if_none`` given, that is the hint for a ``None`` result (the
    unfinished stub ``return None``).
    ``quiet=True`` hides NumPy's warnings for ``0/0`` or ``log(0)``, which a
    check's hint explains better. ``args`` are passed as they are: copy an
    array first if the check must see whether ``fn`` changed it in place.
    """
    if not callable(fn):
        return None, Hint(
            "not a function",
            f"pass your function itself, without calling it (check(f), not check(f())); "
            f"got {describe_value(fn)}.",
        )
    result, error = run_learner_code(fn, *args, quiet=quiet, seconds=seconds)
    if isinstance(error, TimeLimitExceeded):
        return None, Hint(
            "time limit",
            f"your function was still running after {error.seconds:g} s, so the check stopped "
            "it. Is there a loop that never ends (a while loop whose condition stays true)?",
            "Print the loop variable inside the loop on a small input, or count the "
            "iterations: an answer to this exercise needs at most a few steps per number.",
        )
    if error is not None:
        return None, Hint(
            f"raised {type(error).__name__}",
            f"your function raised {type(error).__name__}: {error}",
            "Run it yourself on a small input in a new cell and read the traceback: the last "
            "line of your code it shows is the one that failed.",
        )
    if result is None and if_none is not None:
        return None, if_none
    return result, None


# --- reading the answer strictly ---------------------------------------------------------


def describe_value(value: Any) -> str:
    """A short description of ``value`` for a hint: ``"a str ('0.5')"``, ``"a list of 3 items"``."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (list, tuple, dict, set)):
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"a {type(value).__name__} ({text})"


def _is_real_number(value: Any) -> bool:
    """A Python or NumPy real number, not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def as_number(value: Any) -> float | None:
    """``value`` as a float if it is one real number, else ``None``.

    Accepted: ``int``, ``float``, NumPy numbers and NumPy arrays of one numeric
    entry (``np.float64(0.5)``, ``np.array(0.5)``, ``np.array([0.5])``).
    Refused: strings (``"0.5"`` is text, not a number), booleans, lists and
    ``None``. Infinite and NaN values are returned as they are; the check
    decides whether they can be right.
    """
    if _is_real_number(value):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    return None


def as_array(value: Any) -> np.ndarray | None:
    """``value`` as a float64 array if it is a NumPy array of numbers, else ``None``.

    Refused: lists and tuples (the exercises ask for NumPy arrays, which the
    code around them computes with), strings, and arrays of booleans or objects.
    """
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value.astype(np.float64)
    return None


def as_pair(value: Any) -> tuple[float, float] | None:
    """``value`` as two floats if it is a tuple, list or array of two numbers, else ``None``."""
    if isinstance(value, np.ndarray):
        if value.shape != (2,) or value.dtype.kind not in "iuf":
            return None
        return float(value[0]), float(value[1])
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return None
    first, second = as_number(value[0]), as_number(value[1])
    return None if first is None or second is None else (first, second)


def type_hint(value: Any, expected: str) -> Hint:
    """The hint for an answer of the wrong kind: ``expected`` says what it should be.

    ``expected`` reads like "one number" or "a NumPy array of shape (3, 2)".
    """
    extra = ""
    if isinstance(value, str):
        extra = " Text that looks like a number is still text: remove the quotes."
    elif isinstance(value, (list, tuple)):
        extra = " Build it with NumPy operations (or np.array(...))."
    return Hint(f"not {expected}", f"return {expected}; got {describe_value(value)}.{extra}")


# --- comparing the answer ----------------------------------------------------------------


def same_values(got: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Do ``got`` and ``expected`` have the same shape and values up to rounding?

    Both are read as float64 arrays; values agree when
    ``|got - expected| <= atol + rtol · |expected|`` entry by entry
    (``np.allclose``). ``got = None`` (an answer that was not a number) never agrees.
    """
    if got is None:
        return False
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol, atol=atol))


def first_hint(
    got: Any,
    candidates: Sequence[tuple[Any, Hint]],
    same: Callable[[Any, Any], Any] = same_values,
) -> Hint | None:
    """The hint of the first ``(typical wrong answer, hint)`` pair with ``same(got, answer)``.

    ``None`` when ``got`` matches none of them; ``same`` defaults to :func:`same_values`.
    """
    for wrong, hint in candidates:
        if same(got, wrong):
            return hint
    return None


def close(got: float, expected: float, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    """Two finite floats equal up to rounding (``math.isclose``)."""
    return math.isfinite(got) and math.isclose(got, expected, rel_tol=rel, abs_tol=abs_tol)


# --- the verdict, at the right grade -------------------------------------------------------

#: How often each (exercise, reason) has been reported in this session.
_seen: dict[tuple[str, str], int] = {}


def reset_hints(exercise: str | None = None) -> None:
    """Forget the mistakes seen so far: of one exercise, or of all (``None``)."""
    for key in [key for key in _seen if exercise is None or key[0] == exercise]:
        del _seen[key]


def _check_grade(hint: Any) -> int | None:
    if hint is None:
        return None
    if isinstance(hint, bool) or hint not in (1, 2):
        raise ValueError(
            f"hint must be 1 (point at the mistake), 2 (narrow it down) or None (1 the first "
            f"time a mistake is seen, 2 from then on), got {hint!r}."
        )
    return int(hint)


def hint_text(exercise: str, hint: Hint, grade: int) -> str:
    """The text :func:`report` prints for ``hint`` at ``grade`` (1 or 2)."""
    text = f"{NOT_YET} {hint.first}"
    if hint.second is None:
        return text
    if grade == 1:
        return (
            text + "\n(Same problem after your next try? The check will say more; "
            "or ask at once with hint=2.)"
        )
    return (
        text + f"\nHint 2: {hint.second}"
        f'\nStill stuck? show_solution("{exercise}") prints a worked solution.'
    )


def report(exercise: str, hint: Hint | None, success: str = "", grade: int | None = None) -> None:
    """Print ``"Correct!"`` and ``success``, or ``hint`` at the right grade.

    ``exercise`` is the name ``show_solution`` knows the exercise by. Without
    ``grade`` the first report of a mistake (same ``exercise`` and
    ``hint.reason``) prints grade 1 and later ones grade 2; a correct answer
    forgets the exercise's mistakes. ``grade`` (1 or 2) asks for one grade.
    """
    grade = _check_grade(grade)
    if hint is None:
        reset_hints(exercise)
        print(f"{CORRECT} {success}".rstrip())
        return
    key = (exercise, hint.reason)
    _seen[key] = _seen.get(key, 0) + 1
    print(hint_text(exercise, hint, grade if grade is not None else min(_seen[key], 2)))
