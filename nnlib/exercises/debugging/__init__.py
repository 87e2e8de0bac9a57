"""Exercises of notebook 10 ("why won't it learn?"): diagnose and fix eight broken setups.

Each case of :mod:`nnlib.exercises.broken_setups` is a training setup with one
realistic bug. The learner submits two things to ``check_caseK(diagnosis, fix)``:

* ``diagnosis``: the name of the cause, one of :data:`CAUSES`;
* ``fix``: a corrected version of the case's buggy piece (``make_optimizer``,
  ``prepare_inputs``, ``build_model``, ``shuffle``, ``predict_one`` or
  ``make_split``), with the same arguments.

The check really retrains the setup with the fix (``run_caseK(fix)``) and
compares the measured outcome with the case's stated criterion
(:data:`CRITERIA`). It prints one line about the diagnosis, one about the fix,
and ``"Correct!"`` when both are right.

Hints are graded. The first wrong answer gets a pointer at where to look, the
next ones a narrower pointer; a fix that fails also gets the measurement that
shows what is still wrong. The answer itself is only printed on request:
``show_solution("case1")``. :func:`reset_hints` starts the grading over.

A check never raises and never hangs: an exception in the learner's code
becomes a hint, and code that runs longer than :data:`TIME_LIMIT_S` seconds is
stopped (on systems with ``SIGALRM``, in the main thread, which is where a
notebook runs its cells).

The package, one module per concept; the names above are importable from here:

==================  ==========================================================
module              what it holds
==================  ==========================================================
``case``            :data:`CAUSES`, the ``Case`` record, a judge's ``Outcome``
``learner_code``    :func:`time_limit`, running the learner's code safely
``hints``           the graded hints, :func:`reset_hints`
``model_cases``     the checks of cases 1, 3, 4, 7 (optimiser, model)
``pipeline_cases``  the checks of cases 2, 5, 6, 8 (inputs, shuffle,
                    prediction, split)
``checks``          ``check_case1`` … ``check_case8``, :data:`CASES`,
                    :data:`CRITERIA`
``solutions``       the worked solutions, :func:`show_solution`
==================  ==========================================================
"""

from __future__ import annotations

from .case import CAUSES
from .checks import (
    CASES,
    CRITERIA,
    check_case1,
    check_case2,
    check_case3,
    check_case4,
    check_case5,
    check_case6,
    check_case7,
    check_case8,
)
from .hints import reset_hints
from .learner_code import TIME_LIMIT_S, TimeLimitExceeded, time_limit
from .solutions import (
    SOLUTIONS,
    show_solution,
    solution_case1,
    solution_case2,
    solution_case3,
    solution_case4,
    solution_case5,
    solution_case6,
    solution_case7,
    solution_case8,
    solution_source,
)

__all__ = [
    "CASES",
    "CAUSES",
    "CRITERIA",
    "SOLUTIONS",
    "TIME_LIMIT_S",
    "TimeLimitExceeded",
    "check_case1",
    "check_case2",
    "check_case3",
    "check_case4",
    "check_case5",
    "check_case6",
    "check_case7",
    "check_case8",
    "reset_hints",
    "show_solution",
    "solution_case1",
    "solution_case2",
    "solution_case3",
    "solution_case4",
    "solution_case5",
    "solution_case6",
    "solution_case7",
    "solution_case8",
    "solution_source",
    "time_limit",
]
