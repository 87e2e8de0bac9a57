#!/usr/bin/env python3
"""Rebuild Binder's Python environment on this machine and check it for conflicts.

mybinder.org builds the course's image with repo2docker in two steps:

1. repo2docker's own base environment for Python 3.11 (JupyterLab, Notebook,
   Jupyter Server, ipywidgets, JupyterHub's single-user server, ...), frozen
   in its conda lock file. ``binder/repo2docker-base.txt`` lists the same
   Python packages at the same versions under their PyPI names (the file says
   which repo2docker commit they come from);
2. ``pip install --no-cache-dir -r "binder/requirements.txt"``, run with the
   environment's own ``pip`` from the repository root.

This script does the same in a fresh virtual environment, then runs
``pip check``. Step 2 upgrades packages of the base; whatever the base keeps
(``notebook``, ``jupyterhub``, ``jupyter-resource-usage``, ...) must accept
the course's versions, and pip says so only as a warning, which is why the
warning counts as a failure here too.

    python binder/reproduce.py                     # builds in a new temporary folder
    python binder/reproduce.py --venv /tmp/binder  # builds there (must not exist)

Run it with Python 3.11 (the version in ``binder/runtime.txt``); it needs
PyPI. The exit status is 0 when every step worked and nothing conflicts. The
environment is kept; the last lines printed say how to start JupyterLab in it
the way Binder's image does (through ``binder/start``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BASE_REQUIREMENTS = REPO_ROOT / "binder" / "repo2docker-base.txt"
RUNTIME_TXT = REPO_ROOT / "binder" / "runtime.txt"
# repo2docker passes the path relative to the repository root, its working folder.
BINDER_REQUIREMENTS = "binder/requirements.txt"
# pip prints this (and still exits 0) when an install breaks an installed package.
RESOLVER_CONFLICT = "pip's dependency resolver does not currently take into account"
# Variables that would make the new environment see packages from elsewhere.
LEAKY_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONUSERBASE", "PIP_USER")

Log = Callable[[str], None]


@dataclass
class Step:
    """One command of the reproduction and what came of it."""

    name: str
    command: list[str]
    returncode: int
    output: str
    seconds: float

    @property
    def problem(self) -> str | None:
        """What went wrong in this step, or ``None``."""
        if self.returncode != 0:
            return f"{self.name}: exit status {self.returncode}\n{tail(self.output)}"
        if RESOLVER_CONFLICT in self.output:
            # The conflicts are the lines after pip's message, up to its install summary.
            conflicts = []
            for line in self.output.split(RESOLVER_CONFLICT, 1)[1].splitlines()[1:]:
                if line.startswith("Successfully installed"):
                    break
                conflicts.append(line)
            conflicts_text = "\n".join(conflicts)
            return f"{self.name}: pip reports dependency conflicts:\n{tail(conflicts_text)}"
        return None


@dataclass
class Reproduction:
    """The rebuilt environment (``venv``) and every step that built it."""

    venv: Path
    steps: list[Step] = field(default_factory=list)
    finished: bool = False  # every step ran (none stopped the build)

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def problems(self) -> list[str]:
        return [step.problem for step in self.steps if step.problem]

    @property
    def ok(self) -> bool:
        return self.finished and not self.problems

    def installed_versions(self) -> dict[str, str]:
        """``{canonical name: version}`` of every distribution in the environment."""
        listing = subprocess.run(
            [str(self.python), "-m", "pip", "list", "--format=json"],
            capture_output=True,
            text=True,
            check=True,
            env=clean_environment(),
        )
        return {canonical(item["name"]): item["version"] for item in json.loads(listing.stdout)}

    def report(self) -> str:
        """A few lines: each step, its time and status."""
        lines = []
        for step in self.steps:
            status = "ok" if step.problem is None else "FAILED"
            lines.append(f"{step.name:<45} {step.seconds:6.1f} s  {status}")
        return "\n".join(lines)


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def tail(text: str, n_lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-n_lines:])


def binder_python() -> tuple[int, int]:
    """The Python version ``binder/runtime.txt`` asks for, e.g. ``(3, 11)``."""
    runtime = RUNTIME_TXT.read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    if not match:
        raise ValueError(f"{RUNTIME_TXT} should read like 'python-3.11', not {runtime!r}")
    return int(match[1]), int(match[2])


def python_version(python: str) -> tuple[int, int]:
    code = "import sys; print(sys.version_info[0], sys.version_info[1])"
    result = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    major, minor = result.stdout.split()
    return int(major), int(minor)


def clean_environment() -> dict[str, str]:
    """This process's environment without :data:`LEAKY_VARIABLES`."""
    return {key: value for key, value in os.environ.items() if key not in LEAKY_VARIABLES}


def run_step(name: str, command: list[str], log: Log) -> Step:
    """Run ``command`` from the repository root, echoing its output to ``log``."""
    log(f"\n==> {name}\n$ {' '.join(command)}")
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        log(line.rstrip("\n"))
    returncode = process.wait()
    return Step(name, command, returncode, "".join(lines), time.perf_counter() - start)


def reproduce(venv: Path, python: str = sys.executable, log: Log = print) -> Reproduction:
    """Build repo2docker's base plus ``binder/requirements.txt`` in ``venv``, then ``pip check``.

    ``venv`` must not exist yet: the reproduction starts from nothing, as
    Binder's build does. ``python`` must be the version ``binder/runtime.txt``
    names. Stops at the first step that fails; the result lists every step.
    """
    venv = Path(venv).absolute()
    if venv.exists():
        raise FileExistsError(
            f"{venv} already exists: the reproduction builds a fresh environment; "
            f"remove it or pass another --venv"
        )
    wanted, found = binder_python(), python_version(python)
    if found != wanted:
        raise ValueError(
            f"{python} is Python {found[0]}.{found[1]}, but Binder runs Python "
            f"{wanted[0]}.{wanted[1]} (binder/runtime.txt); pass --python with a "
            f"Python {wanted[0]}.{wanted[1]} interpreter"
        )
    result = Reproduction(venv)
    pip = str(venv / "bin" / "pip")
    steps = [
        ("create a virtual environment", [python, "-m", "venv", str(venv)]),
        (
            "install repo2docker's base environment",
            [str(result.python), "-m", "pip", "install", "--no-deps", "-r", str(BASE_REQUIREMENTS)],
        ),
        ("pip check of the base environment", [pip, "check"]),
        (
            "pip install -r binder/requirements.txt",
            [pip, "install", "--no-cache-dir", "-r", BINDER_REQUIREMENTS],
        ),
        ("pip check", [pip, "check"]),
    ]
    for name, command in steps:
        step = run_step(name, command, log)
        result.steps.append(step)
        if step.returncode != 0:
            return result
    result.finished = True
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--venv",
        type=Path,
        help="folder for the new environment (must not exist; default: a new temporary folder)",
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the Python 3.11 interpreter to build it with (default: this one)",
    )
    args = parser.parse_args(argv)
    venv = args.venv or Path(tempfile.mkdtemp(prefix="nnlib-binder-")) / "venv"
    try:
        result = reproduce(venv, python=args.python)
    except (FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n==> summary\n" + result.report())
    if not result.ok:
        print("\nBinder's environment does not build cleanly:", file=sys.stderr)
        for problem in result.problems:
            print(f"\n{problem}", file=sys.stderr)
        return 1
    versions = result.installed_versions()
    shown = ("jupyterlab", "notebook", "jupyter-server", "ipywidgets", "ipympl", "jupyterhub")
    print("\n" + ", ".join(f"{name} {versions.get(name, '-')}" for name in shown))
    print(
        f"\nBinder's environment builds without conflicts in {result.venv}\n"
        f"Start JupyterLab in it the way Binder's image does:\n"
        f"  cd {REPO_ROOT} && PATH={result.venv}/bin:$PATH binder/start jupyter lab"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
