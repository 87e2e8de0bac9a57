"""The checks ``check_case1`` … ``check_case8``: a line on the diagnosis, a line on the fix.

The fix is called once on a quick probe (so that a crash or an unfinished stub
is reported before any training), then the case's setup is retrained with it
and the case's judge compares the run with the criterion.
"""

from __future__ import annotations

import re
from typing import Any

from .._checks import CORRECT
from .case import CAUSES, Case
from .hints import graded, in_notebook
from .learner_code import run_learner
from .model_cases import CASE1, CASE3, CASE4, CASE7
from .pipeline_cases import CASE2, CASE5, CASE6, CASE8

#: The eight cases, by number.
CASES: dict[int, Case] = {
    case.number: case for case in (CASE1, CASE2, CASE3, CASE4, CASE5, CASE6, CASE7, CASE8)
}

#: What each case's check demands of the retrained run, by case number.
CRITERIA: dict[int, str] = {number: case.criterion for number, case in CASES.items()}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def _normalise(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _diagnosis_verdict(case: Case, diagnosis: Any) -> tuple[bool, str]:
    if diagnosis is None:
        return False, (
            "Diagnosis: not done yet. Set diagnosis to the name of one of the CAUSES, "
            'for example diagnosis = "overfitting".'
        )
    if not isinstance(diagnosis, str) or _normalise(diagnosis) not in CAUSES:
        return False, (
            f"Diagnosis: {diagnosis!r} is not one of the CAUSES. Choose one of: "
            f"{', '.join(CAUSES)}."
        )
    name = _normalise(diagnosis)
    if name == case.cause:
        return True, f"Diagnosis: right, {name} ({CAUSES[name]})."
    remark = case.confusions.get(name)
    text = f"Diagnosis: not yet, it is not {name}."
    if remark:
        text += f" {in_notebook(case, remark)}"
    return False, f"{text} {graded(case, 'diagnosis', case.diagnosis_hints)}"


def _fix_verdict(case: Case, fix: Any) -> tuple[bool, str]:
    piece = case.piece
    prefix = "Fix: not done yet." if fix is None else "Fix: not yet."
    if not callable(fix):
        return False, (
            f"{prefix} Pass your function {piece} itself (without calling it), got {_short(fix)}."
        )
    probe, error = run_learner(fix, *case.probe())
    if error:
        return False, f"Fix: not yet. Your {piece} failed when the check called it: {error}"
    if probe is None:
        return False, (
            f"Fix: not done yet. Your {piece} returns None. Write the corrected {piece}: the "
            f"check retrains case {case.number} with it and passes when {case.criterion}."
        )
    run, error = run_learner(case.run, fix)
    if error:
        return False, f"Fix: not yet. Retraining with your {piece} failed: {error}"
    outcome = case.judge(run, fix)
    if outcome.problem is None:
        return True, f"Fix: works. Retrained with your {piece}: {outcome.summary}."
    problem = outcome.problem or f"That does not meet the criterion yet: {case.criterion}."
    hint = graded(case, "fix", case.fix_hints)
    return False, (
        f"Fix: not yet. Retrained with your {piece}: {outcome.summary}. {problem} {hint}"
    )


def _check(number: int, diagnosis: Any, fix: Any) -> None:
    case = CASES[number]
    right_diagnosis, diagnosis_line = _diagnosis_verdict(case, diagnosis)
    right_fix, fix_line = _fix_verdict(case, fix)
    lines = [diagnosis_line, fix_line]
    if right_diagnosis and right_fix:
        lines.append(f"{CORRECT} Case {number} is solved.")
    print("\n".join(lines))


def check_case1(diagnosis: Any, make_optimizer: Any) -> None:
    """Case 1: ``diagnosis`` (one of :data:`CAUSES`) and a fixed ``make_optimizer()``."""
    _check(1, diagnosis, make_optimizer)


def check_case2(diagnosis: Any, prepare_inputs: Any) -> None:
    """Case 2: ``diagnosis`` and a fixed ``prepare_inputs(X_train, X_test)``."""
    _check(2, diagnosis, prepare_inputs)


def check_case3(diagnosis: Any, build_model: Any) -> None:
    """Case 3: ``diagnosis`` and a fixed ``build_model()``."""
    _check(3, diagnosis, build_model)


def check_case4(diagnosis: Any, build_model: Any) -> None:
    """Case 4: ``diagnosis`` and a fixed ``build_model()``."""
    _check(4, diagnosis, build_model)


def check_case5(diagnosis: Any, shuffle: Any) -> None:
    """Case 5: ``diagnosis`` and a fixed ``shuffle(X, y, seed)``."""
    _check(5, diagnosis, shuffle)


def check_case6(diagnosis: Any, predict_one: Any) -> None:
    """Case 6: ``diagnosis`` and a fixed ``predict_one(model, params, state, x)``."""
    _check(6, diagnosis, predict_one)


def check_case7(diagnosis: Any, make_optimizer: Any) -> None:
    """Case 7: ``diagnosis`` and a fixed ``make_optimizer()``."""
    _check(7, diagnosis, make_optimizer)


def check_case8(diagnosis: Any, make_split: Any) -> None:
    """Case 8: ``diagnosis`` and a fixed ``make_split(X, y, seed)``."""
    _check(8, diagnosis, make_split)
