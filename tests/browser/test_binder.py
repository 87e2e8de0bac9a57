"""The Binder launch, rebuilt and clicked through on this machine.

The README's Binder badge is the learners' one-click way in, and nothing else
tests it: mybinder.org cannot be reached from CI. So this module rebuilds what
Binder builds and launches it the way Binder does:

1. ``binder/reproduce.py`` builds repo2docker's Python 3.11 base environment
   (``binder/repo2docker-base.txt``) in a fresh virtual environment, runs
   ``pip install --no-cache-dir -r binder/requirements.txt`` on top from the
   repository root, then ``pip check``: the build must finish with no
   conflict, hold exactly those two sets of packages, and import ``nnlib``
   from the checkout;
2. JupyterLab starts from that environment through ``binder/start`` (whose
   variables must reach the kernels), serving a folder laid out like the
   repository;
3. the badge's ``urlpath`` opens the start notebook, which runs without an
   error, and a widget notebook runs and redraws its figure when a slider moves,
   with the checks of ``test_jupyterlab.py``.

The environment is built once per test run (a few minutes, downloads from
PyPI). The module runs on CI (``CI=true``); elsewhere it is skipped unless
``NNLIB_BINDER_TEST=1``. The build log and screenshots go to
``test-artifacts/binder/`` and ``test-artifacts/browser/binder-*``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from .conftest import (
    REPO_ROOT,
    LabServer,
    isolated_env,
    lab_options,
    new_lab_server,
    prepare_lab_root,
    running,
)
from .test_jupyterlab import TEST_TIMEOUT_S, run_notebook_and_check_widgets

if TYPE_CHECKING:
    from playwright.sync_api import Page

BUILD_TIMEOUT_S = 1200
BUILD_LOG_DIR = REPO_ROOT / "test-artifacts" / "binder"
BINDER_START = REPO_ROOT / "binder" / "start"
README = REPO_ROOT / "README.md"
# The widget notebook opened after the start notebook.
WIDGET_NOTEBOOK = "notebooks/02_gradient_descent.ipynb"
# binder/start sets these; the test server is started without them.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Server extensions of repo2docker's base that Binder's JupyterLab loads.
BASE_SERVER_EXTENSIONS = (
    "jupyterlab",
    "notebook",
    "jupyter_resource_usage",
    "jupyter_offlinenotebook",
    "jupyterlab_myst",
)
# How a front-end plugin or a server extension that does not load shows in the logs.
FAILED_TO_LOAD = re.compile(
    r"failed to (activate|load)|extension failed loading|error linking extension", re.I
)
SKIP_REASON = (
    "the Binder test builds Binder's environment from PyPI in a fresh virtual environment "
    "(a few minutes): it runs on CI (CI=true); to run it here, set NNLIB_BINDER_TEST=1"
)

pytestmark = [pytest.mark.binder, pytest.mark.timeout(BUILD_TIMEOUT_S + TEST_TIMEOUT_S)]


def load_reproduce() -> ModuleType:
    """``binder/reproduce.py`` as a module (``binder/`` is not a package)."""
    name = "nnlib_binder_reproduce"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "binder" / "reproduce.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up here
        spec.loader.exec_module(module)
    return sys.modules[name]


reproduce = load_reproduce()


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def badge_urlpath() -> str:
    """The ``urlpath`` of the README's mybinder.org badge, e.g. ``lab/tree/notebooks/x.ipynb``."""
    urls = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", README.read_text(encoding="utf-8"))
    assert urls, "README.md has no mybinder.org launch link"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(urls[0]).query)
    assert "urlpath" in query, f"the Binder badge has no urlpath: {urls[0]}"
    return query["urlpath"][0]


def pinned(path: Path) -> dict[str, str]:
    """``{canonical name: version}`` of the ``name==version`` lines of a requirements file."""
    pins = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[reproduce.canonical(name)] = version
    return pins


# --- fixtures -------------------------------------------------------------------


@pytest.fixture(scope="session")
def binder_env(tmp_path_factory: pytest.TempPathFactory) -> reproduce.Reproduction:
    """Binder's environment, rebuilt by ``binder/reproduce.py`` (a ``Reproduction``).

    Built once per run in pytest's temporary folder and left for pytest to
    clean up (about 600 MB in 33,000 files: deleting them took 90 s on this
    project's machine). Its log is ``test-artifacts/binder/build.log``.
    """
    if not on_ci() and os.environ.get("NNLIB_BINDER_TEST") != "1":
        pytest.skip(SKIP_REASON)
    wanted = reproduce.binder_python()
    if sys.version_info[:2] != wanted:
        message = (
            f"Binder runs Python {wanted[0]}.{wanted[1]} (binder/runtime.txt); this is "
            f"Python {sys.version_info[0]}.{sys.version_info[1]}"
        )
        if on_ci():
            pytest.fail(message)
        pytest.skip(message)
    BUILD_LOG_DIR.mkdir(parents=True, exist_ok=True)
    venv = tmp_path_factory.mktemp("binder") / "venv"
    with (BUILD_LOG_DIR / "build.log").open("w", encoding="utf-8") as log:
        result = reproduce.reproduce(venv, log=lambda line: print(line, file=log, flush=True))
        print("\n" + result.report(), file=log)
    return result


@dataclass(frozen=True)
class BinderLab:
    """JupyterLab running from Binder's environment: the server, its process id, the venv."""

    server: LabServer
    pid: int
    venv: Path


def binder_server_env(tmp: Path, venv: Path) -> dict[str, str]:
    """The server's environment: Binder's venv first on PATH, nothing of this checkout's setup.

    No ``PYTHONPATH`` (``nnlib`` must come from the ``-e .`` install) and no
    BLAS thread variables (``binder/start`` must set them).
    """
    env = isolated_env(tmp, repo_on_pythonpath=False)
    for variable in ("PYTHONPATH", "VIRTUAL_ENV", *BLAS_THREAD_VARIABLES):
        env.pop(variable, None)
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    return env


@pytest.fixture(scope="session")
def binder_lab(binder_env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BinderLab]:
    """``binder/start jupyter lab`` from Binder's environment, in a folder laid out like the repo.

    The folder holds ``notebooks/`` (output-free copies) and ``data/``, so the
    badge's ``urlpath`` resolves as it does on Binder.
    """
    if not binder_env.ok:
        pytest.fail("Binder's environment did not build:\n" + "\n".join(binder_env.problems))
    tmp = tmp_path_factory.mktemp("binder-lab")
    server = new_lab_server(tmp, prepare_lab_root(tmp).parent)
    command = [str(BINDER_START), "jupyter", "lab", *lab_options(server, tmp)]
    with running(server, command, binder_server_env(tmp, binder_env.venv)) as pid:
        yield BinderLab(server, pid, binder_env.venv)


@pytest.fixture
def binder(binder_lab: BinderLab) -> BinderLab:
    """The Binder JupyterLab with no kernel running (earlier tests' kernels shut down)."""
    binder_lab.server.shutdown_kernels()
    return binder_lab


# --- the reproduction script itself (no network) --------------------------------


def test_a_pip_resolver_warning_counts_as_a_problem() -> None:
    output = (
        "Installing collected packages: jupyterlab\n"
        "ERROR: pip's dependency resolver does not currently take into account all the "
        "packages that are installed. This behaviour is the source of the following "
        "dependency conflicts.\n"
        "notebook 7.4.7 requires jupyterlab<4.5,>=4.4.9, but you have jupyterlab 4.6.6 "
        "which is incompatible.\n"
        "Successfully installed jupyterlab-4.6.6\n"
    )
    step = reproduce.Step("pip install", ["pip"], 0, output, 1.0)
    assert step.problem is not None
    assert "notebook 7.4.7 requires jupyterlab<4.5" in step.problem
    assert "Successfully installed" not in step.problem
    assert (
        reproduce.Step("pip check", ["pip"], 0, "No broken requirements found.", 0.1).problem
        is None
    )
    assert "exit status 1" in reproduce.Step("pip check", ["pip"], 1, "x 1 has y", 0.1).problem


def test_reproduction_refuses_an_existing_folder_and_another_python(tmp_path, monkeypatch) -> None:
    with pytest.raises(FileExistsError, match="already exists"):
        reproduce.reproduce(tmp_path, log=lambda line: None)
    monkeypatch.setattr(reproduce, "binder_python", lambda: (2, 7))
    with pytest.raises(ValueError, match=r"Binder runs Python 2\.7"):
        reproduce.reproduce(tmp_path / "venv", log=lambda line: None)
    assert not (tmp_path / "venv").exists()


# --- the build ------------------------------------------------------------------


def test_binder_environment_builds_without_conflicts(binder_env) -> None:
    """repo2docker's base + binder/requirements.txt: no conflict, nothing else, nnlib importable."""
    assert binder_env.ok, (
        "Binder's environment does not build cleanly (log: test-artifacts/binder/build.log):\n"
        + "\n\n".join(binder_env.problems)
    )
    installed = binder_env.installed_versions()
    assert "nnlib" in installed, "the `-e .` line of binder/requirements.txt did not install nnlib"
    installed.pop("nnlib")
    base = pinned(reproduce.BASE_REQUIREMENTS)
    binder = pinned(REPO_ROOT / reproduce.BINDER_REQUIREMENTS)
    expected = {**base, **binder}
    wrong = sorted(
        f"{name}: installed {installed.get(name, 'missing')}, expected {version}"
        for name, version in expected.items()
        if installed.get(name) != version
    )
    assert not wrong, "Binder's environment is not the base plus the Binder pins:\n" + "\n".join(
        wrong
    )
    unpinned = sorted(set(installed) - set(expected))
    assert not unpinned, (
        f"pip installed packages that neither the base nor binder/requirements.txt pins "
        f"(pin them in requirements.txt and binder/requirements.txt): {unpinned}"
    )
    where = subprocess.run(
        [str(binder_env.python), "-c", "import nnlib; print(nnlib.__file__)"],
        cwd=binder_env.venv,
        env=reproduce.clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.returncode == 0, f"import nnlib fails in Binder's environment:\n{where.stderr}"
    assert Path(where.stdout.strip()).resolve().is_relative_to(REPO_ROOT), (
        f"Binder's environment imports nnlib from {where.stdout.strip()}, not from the checkout"
    )


# --- the launch -----------------------------------------------------------------


def kernel_processes(server_pid: int) -> list:
    """``psutil.Process`` objects of the IPython kernels the server started."""
    import psutil

    children = psutil.Process(server_pid).children(recursive=True)
    return [child for child in children if "ipykernel_launcher" in " ".join(child.cmdline())]


@pytest.mark.browser
def test_badge_opens_the_start_notebook_and_it_runs(
    binder: BinderLab, page: Page, artifacts_dir: Path
) -> None:
    """The badge's urlpath opens the start notebook; it runs, its widget responds.

    ``binder`` comes before ``page``: where the test is skipped, no browser starts.
    """
    urlpath = badge_urlpath()
    assert urlpath.startswith("lab/tree/"), f"the badge does not open JupyterLab: {urlpath}"
    notebook = binder.server.root_dir / urlpath.removeprefix("lab/tree/")
    assert notebook.is_file(), f"the badge opens {urlpath}, which is not in the repository"

    run_notebook_and_check_widgets(
        page, binder.server.url(urlpath), notebook, artifacts_dir, stem=f"binder-{notebook.stem}"
    )

    # The base's own extensions (built for its older JupyterLab) must still load.
    failed = [error for error in page.console_errors if FAILED_TO_LOAD.search(error)]
    assert not failed, "JupyterLab extensions failed in the browser:\n" + "\n".join(failed)
    log = binder.server.log_path.read_text(encoding="utf-8", errors="replace")
    failed = [line for line in log.splitlines() if FAILED_TO_LOAD.search(line)]
    assert not failed, "Jupyter Server extensions failed:\n" + "\n".join(failed)
    missing = [
        name
        for name in BASE_SERVER_EXTENSIONS
        if f"{name} | extension was successfully loaded" not in log
    ]
    assert not missing, f"server extensions of Binder's base did not load: {missing}"

    kernels = kernel_processes(binder.pid)
    assert kernels, "no kernel process found under the JupyterLab server"
    for kernel in kernels:
        environment = kernel.environ()
        blas = {name: environment.get(name) for name in BLAS_THREAD_VARIABLES}
        assert blas == dict.fromkeys(BLAS_THREAD_VARIABLES, "1"), (
            f"binder/start's variables do not reach the kernel: {blas}"
        )
        assert Path(kernel.cmdline()[0]).parent == binder.venv / "bin", (
            f"the kernel runs {kernel.cmdline()[0]}, not Binder's environment's Python"
        )


@pytest.mark.browser
def test_a_widget_notebook_responds_on_binder(
    binder: BinderLab, page: Page, artifacts_dir: Path
) -> None:
    """A widget notebook runs in Binder's JupyterLab and its figure follows its slider."""
    notebook = binder.server.root_dir / WIDGET_NOTEBOOK
    url = binder.server.url(f"lab/tree/{WIDGET_NOTEBOOK}", reset=True)
    run_notebook_and_check_widgets(
        page, url, notebook, artifacts_dir, stem=f"binder-{notebook.stem}"
    )
