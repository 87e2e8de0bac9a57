"""course.py: the learner works in git-ignored copies; the course's notebooks stay as they are.

The launch itself, in a real JupyterLab, is tested in tests/browser/test_launch.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import course  # noqa: E402  (course.py)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    source, work = tmp_path / "notebooks", tmp_path / "my-notebooks"
    source.mkdir()
    for name in ("00_start_here.ipynb", "01_next.ipynb"):
        (source / name).write_text(f"course {name}")
    return source, work


def test_first_launch_copies_every_notebook_and_later_ones_only_new(folders) -> None:
    source, work = folders
    assert course.copy_new_notebooks(source, work) == ["00_start_here.ipynb", "01_next.ipynb"]
    (work / "01_next.ipynb").write_text("the learner's work")
    (source / "02_added.ipynb").write_text("course 02")
    assert course.copy_new_notebooks(source, work) == ["02_added.ipynb"]
    assert (work / "01_next.ipynb").read_text() == "the learner's work"


def test_reset_restores_the_course_version_and_keeps_the_learners(folders) -> None:
    source, work = folders
    course.copy_new_notebooks(source, work)
    (work / "01_next.ipynb").write_text("mine")
    backup = course.reset_notebook("01_next", source, work)
    assert (work / "01_next.ipynb").read_text() == "course 01_next.ipynb"
    assert backup.read_text() == "mine"
    assert course.reset_notebook("01_next.ipynb", source, work).name == "01_next.ipynb.2.bak"
    with pytest.raises(SystemExit, match="choose one of: 00_start_here, 01_next"):
        course.reset_notebook("99_nope", source, work)


def test_jupyterlab_is_rooted_at_the_repository_and_opens_the_start_copy() -> None:
    command = course.lab_command(["--no-browser"])
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={ROOT}" in command
    assert "--LabApp.default_url=/lab/tree/my-notebooks/00_start_here.ipynb" in command
    assert command[-1] == "--no-browser"
    assert (ROOT / "notebooks" / course.START).is_file()


def test_the_working_copies_are_ignored_by_git() -> None:
    result = subprocess.run(
        ["git", "check-ignore", "-q", "my-notebooks/00_start_here.ipynb"], cwd=ROOT
    )
    if result.returncode == 128:
        pytest.skip("not a git checkout")
    assert result.returncode == 0, "my-notebooks/ must be in .gitignore"
