"""Running the learner's code in a check: never raise, never hang.

An exception in the learner's code becomes the text of a hint, and code that
runs longer than :data:`TIME_LIMIT_S` seconds is stopped (on systems with
``SIGALRM``, in the main thread, which is where a notebook runs its cells).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

#: Seconds the learner's code may run in one check.
TIME_LIMIT_S = 30.0


class TimeLimitExceeded(BaseException):
    """Raised inside the learner's code when it runs past the time limit.

    A ``BaseException``, so that an ``except Exception`` in the learner's code
    does not swallow it.
    """


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`TimeLimitExceeded` in the block when it runs longer than ``seconds``.

    Uses ``SIGALRM`` (a real-time interval timer), so it works only in the main
    thread of a process on a system that has it (Linux, macOS: where a Jupyter
    kernel runs its cells); elsewhere the block runs without a limit. A timer
    that was already running (e.g. pytest-timeout's) is put back afterwards with
    the time it had left; if it would fire first, no new timer is set.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    previous_delay, previous_interval = signal.getitimer(signal.ITIMER_REAL)
    if 0 < previous_delay <= seconds:
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise TimeLimitExceeded(f"stopped after {seconds:g} s")

    started = time.monotonic()
    previous_handler = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay > 0:
            left = max(previous_delay - (time.monotonic() - started), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, previous_interval)


def run_learner(fn: Callable[..., Any], *args: Any) -> tuple[Any, str | None]:
    """``fn(*args)``, warnings hidden, time-limited: ``(result, None)`` or ``(None, why)``."""
    try:
        with time_limit(TIME_LIMIT_S), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args), None
    except TimeLimitExceeded:
        return None, (
            f"it ran for more than {TIME_LIMIT_S:g} seconds and was stopped: look for a loop "
            "that never ends."
        )
    except Exception as err:  # the learner's code: report, never raise
        message = str(err).rstrip()
        return None, f"it raised {type(err).__name__}: {message}" + (
            "" if message.endswith(".") else "."
        )
