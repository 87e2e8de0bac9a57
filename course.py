"""Open the course in JupyterLab, in a copy of the notebooks that is yours to change.

    python course.py                              # open the course
    python course.py --reset 02_gradient_descent  # start one notebook afresh

The course's notebooks in ``notebooks/`` are the reference: their stored
outputs are what the tests compare and what the website shows, and ``git pull``
updates them. So you work in ``my-notebooks/`` instead (git ignores it):

* on the first launch every notebook is copied there, and later launches copy
  any notebook that is new in ``notebooks/`` (after a ``git pull``), never
  overwriting one of yours;
* JupyterLab's root is the repository, so its file browser shows ``nnlib/``
  (the library the notebooks import: open it, read it, change it), ``data/``,
  ``notebooks/`` and ``my-notebooks/``, with the same paths as on Binder;
* it opens ``my-notebooks/00_start_here.ipynb``.

Other arguments go to JupyterLab unchanged (``--no-browser``, ``--port 8890``, ...).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
COURSE = ROOT / "notebooks"
WORK = ROOT / "my-notebooks"
START = "00_start_here.ipynb"


def copy_new_notebooks(course: Path = COURSE, work: Path = WORK) -> list[str]:
    """Copy each notebook of ``course`` that ``work`` does not have yet; return their names."""
    notebooks = sorted(course.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no notebooks (*.ipynb) in {course}: run this from a full checkout")
    work.mkdir(exist_ok=True)
    copied = []
    for notebook in notebooks:
        target = work / notebook.name
        if not target.exists():
            shutil.copy2(notebook, target)
            copied.append(notebook.name)
    return copied


def reset_notebook(name: str, course: Path = COURSE, work: Path = WORK) -> Path | None:
    """Replace ``work/<name>`` with the course's version; return where the old copy went."""
    name = name if name.endswith(".ipynb") else f"{name}.ipynb"
    source = course / Path(name).name
    if not source.is_file():
        known = ", ".join(path.stem for path in sorted(course.glob("*.ipynb")))
        raise SystemExit(f"--reset {name!r}: no such notebook in {course}; choose one of: {known}")
    target = work / source.name
    backup = None
    if target.exists():
        number = 1
        while (work / f"{source.name}.{number}.bak").exists():
            number += 1
        backup = work / f"{source.name}.{number}.bak"
        target.rename(backup)
    work.mkdir(exist_ok=True)
    shutil.copy2(source, target)
    return backup


def lab_command(jupyter_args: list[str], work: Path = WORK, root: Path = ROOT) -> list[str]:
    """``python -m jupyterlab`` rooted at the repository, opening the start notebook."""
    start = (work / START).relative_to(root).as_posix()
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.default_url=/lab/tree/{start}",
        *jupyter_args,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Any other arguments are passed to JupyterLab.",
    )
    parser.add_argument(
        "--reset",
        metavar="NOTEBOOK",
        action="append",
        default=[],
        help="replace your copy of NOTEBOOK with the course's (yours is renamed to .N.bak)",
    )
    args, jupyter_args = parser.parse_known_args(argv)
    for name in args.reset:
        backup = reset_notebook(name)
        kept = f"; your copy is now {backup.relative_to(ROOT)}" if backup else ""
        print(f"reset {name} from notebooks/{kept}")
    copied = copy_new_notebooks()
    if copied:
        print(f"copied {len(copied)} notebook(s) to {WORK.relative_to(ROOT)}/: {', '.join(copied)}")
    print(f"your notebooks: {WORK.relative_to(ROOT)}/ (the course's originals stay in notebooks/)")
    command = lab_command(jupyter_args)
    sys.stdout.flush()
    if os.name == "posix":
        os.chdir(ROOT)
        os.execv(command[0], command)  # JupyterLab replaces this process (Ctrl+C stops it)
    return subprocess.call(command, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
