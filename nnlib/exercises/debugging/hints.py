"""Graded hints: a pointer at where to look first, a narrower pointer from then on.

The grading counts the wrong answers of each case and part (``"diagnosis"``,
``"fix"``) separately; :func:`reset_hints` starts it over.
"""

from __future__ import annotations

import re

from .case import Case

#: How many wrong answers each (case number, part) has had so far.
wrong_answers: dict[tuple[int, str], int] = {}


def reset_hints() -> None:
    """Forget the wrong answers seen so far: the next hint of every case is the first one."""
    wrong_answers.clear()


def in_notebook(case: Case, text: str) -> str:
    """``text`` with ``run.`` written as the notebook's name for the case's run, ``runK.``."""
    return re.sub(r"\brun\.", f"run{case.number}.", text)


def graded(case: Case, part: str, hints: tuple[str, str]) -> str:
    """The first hint on the first wrong answer of ``part``, the narrower one from then on."""
    key = (case.number, part)
    wrong_answers[key] = wrong_answers.get(key, 0) + 1
    if wrong_answers[key] == 1:
        return f"Hint: {in_notebook(case, hints[0])}"
    return (
        f"Narrower hint: {in_notebook(case, hints[1])} (Stuck? "
        f"debugging.show_solution('case{case.number}') prints a worked solution.)"
    )
