"""What the exercise checks of every notebook share.

A check calls the learner's function on fixed inputs, compares the result with
a worked solution and prints either :data:`CORRECT` or a hint that names what is
wrong. A check never raises: whatever the learner's code does (raise, return
``None``, return a string), the notebook cell still runs and shows a hint.

The pieces, in the order a check uses them:

* :func:`call_learner` runs the learner's function and turns a crash, a
  non-function or a ``None`` result into a hint (:func:`run_learner_code` is
  the bare call underneath, for checks that word their hints differently);
* :func:`as_float_array` and :func:`as_finite_float` convert the result;
* :func:`same_values` compares it with the expected values, and
  :func:`first_hint` looks it up among the typical wrong answers;
* :func:`print_solution` prints a worked solution, :func:`report` the verdict.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

#: What a check prints when the answer is right (some checks add a sentence).
CORRECT = "Correct!"


# --- worked solutions --------------------------------------------------------------------


def print_solution(solutions: Mapping[str, Callable[..., Any]], name: str) -> None:
    """Print the source code (and so the explanation) of the worked solution ``name``.

    ``solutions`` maps each exercise's name to its ``solution_*`` function; an
    unknown ``name`` raises ``ValueError`` that lists the valid ones.
    """
    if name not in solutions:
        raise ValueError(f"No solution called {name!r}. Valid names are {sorted(solutions)}.")
    print(inspect.getsource(solutions[name]))


# --- calling the learner's code -----------------------------------------------------------


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Hide NumPy's floating-point warnings (``0/0``, overflow) and every other warning."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def run_learner_code(
    fn: Callable[..., Any], *args: Any, quiet: bool = False
) -> tuple[Any, Exception | None]:
    """``fn(*args)`` as ``(result, None)``, or ``(None, error)`` when it raised ``error``.

    With ``quiet=True`` the warnings the call emits are hidden (see
    :func:`call_learner`). Never raises: the error is returned for the hint.
    """
    try:
        with _silenced() if quiet else contextlib.nullcontext():
            return fn(*args), None
    except Exception as err:  # the learner's code: report, never raise
        return None, err


def call_learner(
    fn: Any, *args: Any, quiet: bool = False, if_none: str | None = None
) -> tuple[Any, str | None]:
    """Call the learner's ``fn(*args)``: ``(result, None)``, or ``(None, hint)``.

    The hint, each starting with ``"Not yet: "``, says that ``fn`` is not a
    function (a common slip: ``check(f())`` instead of ``check(f)``) or which
    exception it raised; with ``if_none`` given, that text is the hint for a
    ``None`` result (the unfinished stub ``return None``). ``quiet=True`` hides
    NumPy's warnings for ``0/0`` or ``log(0)``, which a check's hint explains
    better. ``args`` are passed as they are: copy an array first if the check
    must see whether ``fn`` changed it in place.
    """
    if not callable(fn):
        return None, f"Not yet: pass your function itself (without calling it), got {fn!r}."
    result, error = run_learner_code(fn, *args, quiet=quiet)
    if error is not None:
        return None, f"Not yet: your function raised {type(error).__name__}: {error}"
    if result is None and if_none is not None:
        return None, if_none
    return result, None


# --- reading the answer --------------------------------------------------------------------


def as_float_array(value: Any) -> np.ndarray | None:
    """``value`` as a float64 array of any shape, or ``None`` if NumPy cannot convert it."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def as_finite_float(value: Any) -> float | None:
    """``value`` as one finite Python float, or ``None`` when it is not one finite number.

    A number, a 0-d array or any array with a single entry counts as one number.
    """
    array = as_float_array(value)
    if array is None or array.size != 1:
        return None
    number = float(array.reshape(()))
    return number if math.isfinite(number) else None


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
    candidates: Sequence[tuple[Any, str]],
    same: Callable[[Any, Any], Any] = same_values,
) -> str | None:
    """The hint of the first ``(typical wrong answer, hint)`` pair with ``same(got, answer)``.

    ``None`` when ``got`` matches none of them; ``same`` defaults to :func:`same_values`.
    """
    for wrong, hint in candidates:
        if same(got, wrong):
            return hint
    return None


def report(hint: str | None, success: str) -> None:
    """Print ``hint``, or ``"Correct!"`` followed by ``success`` when there is no hint."""
    print(f"{CORRECT} {success}" if hint is None else hint)
