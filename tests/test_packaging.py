"""The install and CI plumbing keeps its promises.

* ``requirements.txt``, ``requirements-jax.txt`` and ``binder/requirements.txt``
  pin one exact, complete set of versions, and Binder gets the same set less
  the test, lint and website tools (``BINDER_LEAVES_OUT``).
* The pins satisfy the ranges ``pyproject.toml`` declares.
* The README commands are real: the notebook they open exists, and CI
  (``.ci/run``) runs the README's test command character for character.
* ``import nnlib`` is light: no matplotlib, ipywidgets or jax, and fast.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"
REQUIREMENTS_JAX = ROOT / "requirements-jax.txt"
BINDER_REQUIREMENTS = ROOT / "binder" / "requirements.txt"
README = ROOT / "README.md"
CI_SCRIPT = ROOT / ".ci" / "run"

BINDER_BASE = ROOT / "binder" / "repo2docker-base.txt"

# The one line that is not a pin: nnlib itself, installed from the checkout.
EDITABLE_SELF = "-e ."
# The lines of requirements.txt that binder/requirements.txt leaves out, and why.
# Learners on Binder read and run the notebooks; they do not run the test suite
# or the linters there, and these packages only lengthen Binder's build
# (playwright alone is a 40 MB wheel). Instructors test locally (README).
BINDER_LEAVES_OUT = {
    "pytest": "test runner",
    "pytest-timeout": "test runner plugin",
    "nbval": "notebook validation in the test suite",
    "coverage": "needed only by nbval",
    "iniconfig": "needed only by pytest",
    "pluggy": "needed only by pytest",
    "hypothesis": "property-based tests",
    "sortedcontainers": "needed only by hypothesis",
    "playwright": "drives the browser in the browser test",
    "greenlet": "needed only by playwright here (Binder's base has its own, for JupyterHub)",
    "ruff": "linter and formatter",
    "accessible-pygments": "builds the course website (docs/build.py)",
    "alabaster": "builds the course website (docs/build.py)",
    "click": "builds the course website (docs/build.py)",
    "docutils": "builds the course website (docs/build.py)",
    "imagesize": "builds the course website (docs/build.py)",
    "importlib-metadata": "builds the course website (docs/build.py)",
    "jupyter-cache": "builds the course website (docs/build.py)",
    "lazy-importer": "builds the course website (docs/build.py)",
    "markdown-it-py": "builds the course website (docs/build.py)",
    "mdit-py-plugins": "builds the course website (docs/build.py)",
    "mdurl": "builds the course website (docs/build.py)",
    "myst-nb": "builds the course website (docs/build.py)",
    "myst-parser": "builds the course website (docs/build.py)",
    "pydata-sphinx-theme": "builds the course website (docs/build.py)",
    "roman-numerals": "builds the course website (docs/build.py)",
    "snowballstemmer": "builds the course website (docs/build.py)",
    "sphinx": "builds the course website (docs/build.py)",
    "sphinx-book-theme": "builds the course website (docs/build.py)",
    "sphinx-mathjax-offline": "builds the course website (docs/build.py)",
    "sphinxcontrib-applehelp": "builds the course website (docs/build.py)",
    "sphinxcontrib-devhelp": "builds the course website (docs/build.py)",
    "sphinxcontrib-htmlhelp": "builds the course website (docs/build.py)",
    "sphinxcontrib-jsmath": "builds the course website (docs/build.py)",
    "sphinxcontrib-qthelp": "builds the course website (docs/build.py)",
    "sphinxcontrib-serializinghtml": "builds the course website (docs/build.py)",
    "sqlalchemy": "builds the course website (docs/build.py)",
    "tabulate": "builds the course website (docs/build.py)",
    "zipp": "builds the course website (docs/build.py)",
}
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[0-9][A-Za-z0-9.+!-]*)$")
HEAVY_MODULES = ("matplotlib", "ipywidgets", "jax")
IMPORT_BUDGET_S = 0.3


def requirement_lines(path: Path) -> list[str]:
    """The meaningful lines of a requirements file: comments and blanks removed."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    return lines


def pins(path: Path) -> dict[str, str]:
    """``{canonical name: version}`` for every ``name==version`` line of ``path``."""
    found = {}
    for line in requirement_lines(path):
        match = PIN.match(line)
        if match:
            found[canonicalize_name(match["name"])] = match["version"]
    return found


def all_pins() -> dict[str, str]:
    return {**pins(REQUIREMENTS), **pins(REQUIREMENTS_JAX)}


def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def readme_quick_start_blocks() -> list[str]:
    """The fenced code blocks of README's "Quick start" section, in order."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", text, flags=re.S | re.M)
    assert section, "README.md has no '## Quick start' section followed by another section"
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section[1], flags=re.S)]


def readme_command(marker: str) -> str:
    """The one-line Quick start command that contains ``marker``."""
    blocks = [block for block in readme_quick_start_blocks() if marker in block]
    assert len(blocks) == 1, f"expected one Quick start code block containing {marker!r}"
    assert "\n" not in blocks[0], f"the Quick start command with {marker!r} must be one line"
    return blocks[0]


# ------------------------------------------------------------------ pins ----


@pytest.mark.parametrize("path", [REQUIREMENTS, REQUIREMENTS_JAX, BINDER_REQUIREMENTS, BINDER_BASE])
def test_every_requirement_line_is_an_exact_pin(path: Path) -> None:
    lines = requirement_lines(path)
    assert lines, f"{path.name} is empty"
    not_pinned = [line for line in lines if line != EDITABLE_SELF and not PIN.match(line)]
    assert not not_pinned, (
        f"{path.relative_to(ROOT)} may contain only 'name==version' lines and '{EDITABLE_SELF}' "
        f"(no ranges, URLs, local paths or index options); found {not_pinned}"
    )
    names = [canonicalize_name(PIN.match(line)["name"]) for line in lines if PIN.match(line)]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"{path.relative_to(ROOT)} pins these more than once: {duplicates}"


def test_requirements_install_nnlib_itself_once() -> None:
    assert requirement_lines(REQUIREMENTS).count(EDITABLE_SELF) == 1
    assert EDITABLE_SELF not in requirement_lines(REQUIREMENTS_JAX)


def test_jax_pins_add_to_the_main_pins_without_overlap() -> None:
    overlap = sorted(set(pins(REQUIREMENTS)) & set(pins(REQUIREMENTS_JAX)))
    assert not overlap, f"pinned in both requirements files (keep one): {overlap}"
    assert {"jax", "jaxlib"} <= set(pins(REQUIREMENTS_JAX))


def pin_name(line: str) -> str | None:
    """Canonical name of a ``name==version`` line, ``None`` for any other line."""
    match = PIN.match(line)
    return canonicalize_name(match["name"]) if match else None


def test_binder_requirements_carry_the_lines_of_requirements_but_the_test_tools() -> None:
    ours = requirement_lines(REQUIREMENTS)
    binder = requirement_lines(BINDER_REQUIREMENTS)
    expected = [line for line in ours if pin_name(line) not in BINDER_LEAVES_OUT]
    only_ours = sorted(set(expected) - set(binder))
    only_binder = sorted(set(binder) - set(expected))
    assert not only_ours and not only_binder, (
        "binder/requirements.txt must carry the lines of requirements.txt except the test "
        "and lint tools of BINDER_LEAVES_OUT (tests/test_packaging.py); "
        f"missing from binder/requirements.txt: {only_ours}; not expected there: {only_binder}"
    )
    assert binder == expected, "same lines, different order: copy requirements.txt's order"


def test_what_binder_leaves_out_is_pinned_and_nothing_binder_keeps_needs_it() -> None:
    pinned = set(pins(REQUIREMENTS))
    stale = sorted(set(BINDER_LEAVES_OUT) - pinned)
    assert not stale, f"BINDER_LEAVES_OUT names packages requirements.txt does not pin: {stale}"
    needed = sorted(
        f"{dependency} (needed by {name})"
        for name in pins(BINDER_REQUIREMENTS)
        for dependency in _dependencies_in_this_environment(name)
        if dependency in BINDER_LEAVES_OUT
    )
    assert not needed, f"binder/requirements.txt leaves out what it needs: {needed}"


def test_pins_satisfy_the_ranges_in_pyproject() -> None:
    project = pyproject()["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared.extend(extra)
    pinned = all_pins()
    problems = []
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name not in pinned:
            problems.append(f"{text}: not pinned in requirements*.txt")
        elif not requirement.specifier.contains(pinned[name], prereleases=True):
            problems.append(f"{text}: pinned version {pinned[name]} is outside the range")
    assert not problems, "pyproject.toml and the pins disagree:\n" + "\n".join(problems)


def test_binder_python_satisfies_requires_python() -> None:
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", runtime)
    assert match, f"binder/runtime.txt should read like 'python-3.11', not {runtime!r}"
    requires = SpecifierSet(pyproject()["project"]["requires-python"])
    assert Version(match[1]) in requires, f"{runtime} is outside requires-python {requires}"


def _dependencies_in_this_environment(name: str) -> list[str]:
    """Names of what ``name`` (as installed) requires here, markers evaluated."""
    required = []
    for text in metadata.requires(name) or []:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            required.append(canonicalize_name(requirement.name))
    return required


@pytest.mark.parametrize("path", [REQUIREMENTS, REQUIREMENTS_JAX])
def test_installed_environment_is_the_pinned_set_and_it_is_complete(path: Path) -> None:
    """Every pin is installed at its version, and everything it needs is pinned too.

    The second half is what makes installs reproducible: a dependency that is
    not pinned would be resolved afresh, to whatever is newest, on every install.
    """
    file_pins = pins(path)
    if path == REQUIREMENTS_JAX:
        try:
            metadata.version("jax")
        except metadata.PackageNotFoundError:
            pytest.skip("JAX is not installed here: pip install -r requirements-jax.txt")
    mismatched = []
    for name, version in file_pins.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != version:
            mismatched.append(f"{name}: pinned {version}, installed {installed}")
    assert not mismatched, (
        f"this environment is not the tested set of {path.name} "
        f"(run: pip install -r requirements.txt -r requirements-jax.txt):\n" + "\n".join(mismatched)
    )
    pinned = set(all_pins())
    unpinned = sorted(
        f"{dependency} (needed by {name})"
        for name in file_pins
        for dependency in _dependencies_in_this_environment(name)
        if dependency not in pinned
    )
    assert not unpinned, f"dependencies missing from the pins: {unpinned}"


# ---------------------------------------------------------- README and CI ----


def test_readme_course_command_installs_the_pins_and_opens_the_first_notebook() -> None:
    command = readme_command("course.py")
    assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    assert "pip install -r requirements.txt" in command
    assert command.endswith("&& python course.py"), "course.py opens the course"
    launcher = (ROOT / "course.py").read_text(encoding="utf-8")
    notebook = re.search(r'^START = "(.+)"$', launcher, flags=re.M)[1]
    assert notebook == "00_start_here.ipynb"
    assert (ROOT / "notebooks" / notebook).is_file(), f"course.py opens {notebook}: missing"


def test_readme_site_command_builds_and_serves_the_website() -> None:
    command = readme_command("docs/build.py")
    assert "python docs/build.py && python -m http.server --directory build/site" in command
    assert (ROOT / "docs" / "build.py").is_file() and (ROOT / "docs" / "conf.py").is_file()


def test_readme_test_command_installs_everything_and_runs_pytest() -> None:
    command = readme_command("pytest")
    assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && ")
    assert "pip install -r requirements.txt -r requirements-jax.txt" in command
    assert command.endswith("&& python -m pytest"), "the test command runs the whole suite"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = readme_command("pytest")
    code_lines = [
        line.strip()
        for line in CI_SCRIPT.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    runs = [line for line in code_lines if line.startswith(command)]
    assert runs, f".ci/run does not run the README test command:\n{command}"
    # Only an exit-status capture may follow the command, nothing that changes it.
    for line in runs:
        rest = line[len(command) :].strip()
        assert rest in ("", "|| status=$?"), f".ci/run changes the README command: {line}"


def test_ci_script_fails_on_errors_and_on_no_tests() -> None:
    script = CI_SCRIPT.read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script
    assert re.search(r'"\$status" -eq 5', script), ".ci/run must treat pytest's exit 5 as failure"
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed: cannot syntax-check .ci/run")
    result = subprocess.run([bash, "-n", str(CI_SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, f"bash -n .ci/run: {result.stderr}"


def test_binder_badge_opens_the_first_notebook_in_jupyterlab() -> None:
    text = README.read_text(encoding="utf-8")
    urls = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", text)
    assert urls, "README.md has no mybinder.org launch link"
    for url in urls:
        assert re.fullmatch(r"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/[\w.-]+\?.*", url), url
        assert url.endswith("?urlpath=lab/tree/notebooks/00_start_here.ipynb"), url


# ------------------------------------------------------------- nbval setup ----


def test_nbval_sanitizer_masks_run_to_run_noise_and_nothing_else() -> None:
    plugin = pytest.importorskip("nbval.plugin")
    cfg = ROOT / "tests" / "nbval_sanitize.cfg"
    assert (
        f"--nbval-sanitize-with={cfg.relative_to(ROOT)}"
        in pyproject()["tool"]["pytest"]["ini_options"]["addopts"]
    )
    patterns = plugin.get_sanitize_patterns(cfg.read_text(encoding="utf-8"))
    assert patterns, "no regex/replace pairs found in nbval_sanitize.cfg"

    def sanitize(text: str) -> str:
        for regex, replacement in patterns:
            text = re.sub(regex, replacement, text)
        return text

    run_a = "[<matplotlib.lines.Line2D at 0x7fe44f17bfd0>]\n 5/5 [00:00<00:00, 7653.39it/s]"
    run_b = "[<matplotlib.lines.Line2D at 0x7f01aa32c4d0>]\n 5/5 [00:02<00:00,  2.10it/s]"
    assert sanitize(run_a) == sanitize(run_b)
    widget_a = "model_id: '2a15420bc1344357b674079014165ccb'"
    widget_b = "model_id: '26221c8676334c3ab0d3926c8d132885'"
    assert sanitize(widget_a) == sanitize(widget_b)
    for stable in ["loss 0.1235 after 10 epochs", "x[0:3] = [1 2 3]", "0xff", "W.shape (2, 3)"]:
        assert sanitize(stable) == stable
    assert sanitize("loss 0.1235") != sanitize("loss 0.1236")


def test_plain_pytest_collects_every_notebook_cell() -> None:
    """`python -m pytest` validates the notebooks: nbval is on and collects them."""
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "notebooks/ has no notebooks"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "notebooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"collecting notebooks failed:\n{result.stdout}{result.stderr}"
    for notebook in notebooks:
        name = notebook.relative_to(ROOT).as_posix()
        assert f"{name}::Cell 0" in result.stdout, f"{name} is not collected by nbval"


def test_hypothesis_is_deterministic_unless_asked_otherwise() -> None:
    from hypothesis import settings

    if os.environ.get("HYPOTHESIS_PROFILE", "deterministic") != "deterministic":
        pytest.skip("HYPOTHESIS_PROFILE selects another profile")
    assert settings.default.derandomize is True
    assert settings.default.deadline is None


# ------------------------------------------------------------ import cost ----

_MEASURE_IMPORT = f"""
import json, sys, time
start = time.perf_counter()
import nnlib
elapsed = time.perf_counter() - start
heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules]
print(json.dumps({{"seconds": elapsed, "heavy": heavy, "file": nnlib.__file__}}))
"""


def test_import_nnlib_is_light_and_fast() -> None:
    env = {key: value for key, value in os.environ.items() if key != "NNLIB_BACKEND"}
    runs = []
    for _ in range(5):
        result = subprocess.run(
            [sys.executable, "-c", _MEASURE_IMPORT],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"import nnlib failed:\n{result.stderr}"
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert Path(runs[0]["file"]).resolve().is_relative_to(ROOT), "imported another nnlib"
    heavy = sorted({module for run in runs for module in run["heavy"]})
    assert not heavy, (
        f"`import nnlib` imports {heavy}; import them inside the functions that use them"
    )
    best = min(run["seconds"] for run in runs)
    assert best < IMPORT_BUDGET_S, (
        f"`import nnlib` takes {best:.3f} s (best of 5), budget {IMPORT_BUDGET_S} s"
    )


# Library modules that must load with NumPy alone (plots and widgets need matplotlib).
NUMPY_ONLY_MODULES = [
    "nnlib.allreduce",
    "nnlib.autodiff",
    "nnlib.calibration",
    "nnlib.data",
    "nnlib.diagnostics",
    "nnlib.gradcheck",
    "nnlib.history",
    "nnlib.information",
    "nnlib.layers",
    "nnlib.losses",
    "nnlib.metrics",
    "nnlib.model",
    "nnlib.optim",
    "nnlib.precision",
    "nnlib.pruning",
    "nnlib.step",
    "nnlib.train",
]


@pytest.mark.parametrize("module", NUMPY_ONLY_MODULES)
def test_library_module_imports_no_heavy_package(module: str) -> None:
    code = (
        f"import sys, {module}; "
        f"heavy = [m for m in {HEAVY_MODULES!r} + ('pandas',) if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    env = {key: value for key, value in os.environ.items() if key != "NNLIB_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"`import {module}` loaded a heavy package:\n{result.stderr}"
