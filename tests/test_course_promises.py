"""What notebook 00 promises about every notebook's exercises, checked on the stored notebooks.

00 says: each notebook ends with 2 to 4 exercises; a check prints ``Correct!``
or ``Not yet:`` with a hint; ``show_solution("name")`` prints a worked
solution. These tests read the committed (executed) notebooks, so a notebook
that breaks a promise fails here even before nbval runs it.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WITH_EXERCISES = sorted(p for p in NOTEBOOKS.glob("0[1-8]_*.ipynb"))
CHECK_CALL = re.compile(r"^(?:\w+\.)?(check_\w+)\(", re.MULTILINE)
SOLUTION_NAME = re.compile(r"show_solution\(\"(\w+)\"\)")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _stdout(cell: dict) -> str:
    return "".join(
        "".join(o["text"]) for o in cell.get("outputs", []) if o["output_type"] == "stream"
    )


def _exercise_module(path: Path):
    """The ``nnlib.exercises`` module a notebook imports its checks from."""
    for cell in _cells(path):
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse(_source(cell))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "nnlib.exercises."
            ):
                return importlib.import_module(node.module), {a.name for a in node.names}
    raise AssertionError(f"{path.name} imports no nnlib.exercises module")


def test_every_notebook_but_the_first_has_exercises() -> None:
    assert [p.name[:2] for p in WITH_EXERCISES] == [f"0{i}" for i in range(1, 9)]


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_each_notebook_ends_with_two_to_four_exercises(path: Path) -> None:
    cells = _cells(path)
    checks = [
        (i, name)
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "code"
        for name in CHECK_CALL.findall(_source(cell))
    ]
    assert 2 <= len(checks) <= 4, checks
    last_code = max(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    assert checks[-1][0] == last_code  # nothing but prose (the summary) after the exercises


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_every_check_prints_correct_or_not_yet(path: Path) -> None:
    for cell in _cells(path):
        if cell["cell_type"] == "code" and CHECK_CALL.search(_source(cell)):
            lines = [line for line in _stdout(cell).splitlines() if line.startswith(("C", "N"))]
            verdicts = [line for line in lines if line.startswith(("Correct!", "Not yet:"))]
            assert verdicts, _source(cell)


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_show_solution_is_imported_with_the_checks(path: Path) -> None:
    """``show_solution("...")``, as 00 and the exercises say, works without another import."""
    module, imported = _exercise_module(path)
    assert "show_solution" in imported
    for name in CHECK_CALL.findall("\n".join(_source(c) for c in _cells(path))):
        assert name in imported


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_every_named_solution_exists(path: Path) -> None:
    module, _ = _exercise_module(path)
    text = "\n".join(_source(c) for c in _cells(path))
    named = set(SOLUTION_NAME.findall(text)) - {"name"}  # 'show_solution("name")': a placeholder
    assert "exercises.show_solution" not in text
    assert named == set(module.SOLUTIONS)


@pytest.mark.parametrize(
    ("name", "heading"),
    [
        ("05_overfitting.ipynb", "## 9. The test set, touched once"),
        ("06_case_studies.ipynb", "### 1.10 The test set, once"),
        ("08_speed.ipynb", "## 6. The test set, once"),
    ],
)
def test_the_test_set_is_used_only_after_its_section_heading(name: str, heading: str) -> None:
    """Notebooks 05, 06 and 08 teach that the test set is touched once, at the end: no code
    cell before that section reads it (defining the split is all that may happen earlier)."""
    cells = _cells(NOTEBOOKS / name)
    start = next(i for i, c in enumerate(cells) if heading in _source(c))
    early = []
    for cell in cells[:start]:
        if cell["cell_type"] != "code":
            continue
        for line in _source(cell).splitlines():
            # Reading only the size of the test part (len, .shape) is not using it.
            reads = re.sub(r"len\([\w.]*[Xy]_test\)|[\w.]*[Xy]_test\.shape", "", line)
            uses = re.search(r"[Xy]_test\b", reads)
            defines = re.match(r"\s*(X_[a-z]+, y_[a-z]+, )*X_test, y_test\b.*=", line)
            if uses and not defines:
                early.append(line.strip())
    assert early == []
