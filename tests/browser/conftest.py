"""Fixtures for the real-browser test of the course notebooks in JupyterLab.

The test opens every notebook of ``notebooks/`` in a real JupyterLab, in a real
(headless) Chromium, the way a learner would. These fixtures make that possible:

* ``lab_server``: a JupyterLab server that sees a *copy* of the notebooks, with
  its own temporary home, config, data, runtime, settings and workspace
  folders, so nothing of the user's own JupyterLab state leaks in or out;
* ``browser``: Chromium driven by Playwright (sync API);
* ``lab``: the same server, with the kernels of earlier tests shut down;
* ``page``: a fresh browser tab per test, screenshotted when the test ends.

Run them with ``python -m pytest -m browser tests/browser``. Environment
variables:

* ``NNLIB_BROWSER_NOTEBOOKS_DIR``: test the notebooks of another folder
  (default: the repository's ``notebooks/``);
* ``NNLIB_BROWSER_RUN_TIMEOUT``: seconds one notebook may take to run all its
  cells (default 300);
* ``CI=true``: a missing Chromium fails the run instead of skipping it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SERVER_START_TIMEOUT_S = 90.0
SERVER_STOP_TIMEOUT_S = 10.0
VIEWPORT = {"width": 1400, "height": 1000}

# JupyterLab user settings written into the server's private settings folder:
# no news pop-up over the notebook, and every cell attached to the page so the
# test sees all of them (the default windowing mode renders lazily).
LAB_USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def notebooks_dir() -> Path:
    """The folder whose notebooks are tested: ``$NNLIB_BROWSER_NOTEBOOKS_DIR`` or ``notebooks/``."""
    override = os.environ.get("NNLIB_BROWSER_NOTEBOOKS_DIR")
    return Path(override).resolve() if override else REPO_ROOT / "notebooks"


def course_notebooks() -> list[Path]:
    """Every ``*.ipynb`` directly in :func:`notebooks_dir`, sorted by name."""
    return sorted(notebooks_dir().glob("*.ipynb"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that asks for ``notebook_path`` over the course notebooks.

    The test id is the notebook's file name. With no notebook at all the test
    is reported as skipped, with the folder it looked in.
    """
    if "notebook_path" not in metafunc.fixturenames:
        return
    paths = course_notebooks()
    if paths:
        metafunc.parametrize("notebook_path", paths, ids=[path.name for path in paths])
    else:
        reason = f"no notebooks (*.ipynb) found in {notebooks_dir()}"
        metafunc.parametrize(
            "notebook_path",
            [pytest.param(None, marks=pytest.mark.skip(reason=reason))],
            ids=["no-notebooks"],
        )


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it listens, its token and the folder it serves."""

    port: int
    token: str
    root_dir: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str, *, reset: bool = False) -> str:
        """URL of ``path`` (``lab/tree/x.ipynb``, say) with the token; ``reset``: new workspace."""
        query = "reset&" if reset else ""
        return f"{self.base_url}/{path.lstrip('/')}?{query}token={self.token}"

    def notebook_url(self, name: str) -> str:
        """URL that opens notebook ``name`` in a fresh (``reset``) workspace."""
        return self.url(f"lab/tree/{name}", reset=True)

    def api(self, method: str, path: str) -> bytes:
        """Call the server's REST API (``/api/...``) with the token; return the body."""
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def shutdown_kernels(self) -> None:
        """Shut down every running kernel, so notebooks do not pile up kernels."""
        for kernel in json.loads(self.api("GET", "/api/kernels")):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, n_chars: int = 4000) -> str:
        """The last ``n_chars`` characters of the server's log."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text[-n_chars:]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_without_outputs(source: Path, target: Path) -> None:
    """Copy notebook ``source`` to ``target`` with outputs, counts and widget state removed.

    Starting from blank prompts (``[ ]:``) is what lets the test tell "this cell
    ran now" (``[3]:``) from "this cell was saved after a run".
    """
    notebook = json.loads(source.read_text(encoding="utf-8"))
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    notebook.get("metadata", {}).pop("widgets", None)
    target.write_text(json.dumps(notebook, indent=1), encoding="utf-8")


def prepare_lab_root(tmp: Path) -> Path:
    """Build ``tmp/course/notebooks`` (stripped copies) and ``tmp/course/data``; return the first.

    ``data/`` is copied next to the notebooks so paths like ``../data/...``
    resolve the same way they do in the repository.
    """
    course = tmp / "course"
    lab_root = course / "notebooks"
    lab_root.mkdir(parents=True)
    source_dir = notebooks_dir()
    for path in course_notebooks():
        copy_without_outputs(path, lab_root / path.name)
    for entry in source_dir.iterdir() if source_dir.is_dir() else []:
        if entry.suffix != ".ipynb" and not entry.name.startswith("."):
            copy = shutil.copytree if entry.is_dir() else shutil.copy2
            copy(entry, lab_root / entry.name)
    data_dir = source_dir.parent / "data"
    if data_dir.is_dir():
        shutil.copytree(data_dir, course / "data")
    return lab_root


def write_lab_user_settings(settings_dir: Path) -> None:
    """Write :data:`LAB_USER_SETTINGS` as JupyterLab ``*.jupyterlab-settings`` files."""
    for relative, values in LAB_USER_SETTINGS.items():
        path = settings_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")


def isolated_env(tmp: Path, *, repo_on_pythonpath: bool = True) -> dict[str, str]:
    """Environment for the server and its kernels: every Jupyter/IPython folder under ``tmp``.

    With ``repo_on_pythonpath`` the repository root goes first on
    ``PYTHONPATH`` so kernels import the ``nnlib`` under test.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JUPYTER", "IPYTHON", "MPL"))
    }
    folders = {
        "HOME": "home",
        "JUPYTER_CONFIG_DIR": "jupyter-config",
        "JUPYTER_DATA_DIR": "jupyter-data",
        "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
    }
    for variable, name in folders.items():
        folder = tmp / name
        folder.mkdir(parents=True, exist_ok=True)
        env[variable] = str(folder)
    if repo_on_pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def lab_options(server: LabServer, tmp: Path) -> list[str]:
    """JupyterLab's options for ``server``: its port, token, root and private folders."""
    options = [
        "--no-browser",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={server.port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={server.token}",
        f"--ServerApp.root_dir={server.root_dir}",
        f"--LabApp.workspaces_dir={tmp / 'lab-workspaces'}",
        f"--LabApp.user_settings_dir={tmp / 'lab-user-settings'}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.append("--allow-root")
    return options


def lab_command(server: LabServer, tmp: Path) -> list[str]:
    """The ``python -m jupyterlab`` command line of the test server."""
    return [sys.executable, "-m", "jupyterlab", *lab_options(server, tmp)]


def wait_for_server(server: LabServer, process: subprocess.Popen, timeout_s: float) -> None:
    """Poll ``/api/status`` until it answers 200; fail with the log tail otherwise."""
    url = f"{server.base_url}/api/status?token={server.token}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"JupyterLab exited with code {process.returncode} before answering "
                f"{server.base_url}/api/status. Server log:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(
        f"JupyterLab did not answer {server.base_url}/api/status within {timeout_s:.0f} s. "
        f"Server log:\n{server.log_tail()}"
    )


def stop_process(process: subprocess.Popen) -> None:
    """Terminate ``process``; kill it if it is still alive after a grace period."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=SERVER_STOP_TIMEOUT_S)


def new_lab_server(tmp: Path, root_dir: Path) -> LabServer:
    """A free port and a fresh token for a JupyterLab serving ``root_dir`` (not started yet).

    Also writes :data:`LAB_USER_SETTINGS` into ``tmp/lab-user-settings``.
    """
    write_lab_user_settings(tmp / "lab-user-settings")
    return LabServer(free_port(), secrets.token_hex(16), root_dir, tmp / "server.log")


@contextmanager
def running(server: LabServer, command: list[str], env: dict[str, str]) -> Iterator[int]:
    """Run ``command`` (a JupyterLab) from ``server.root_dir`` until the block ends.

    Yields the process id once the server answers; its output goes to
    ``server.log_path``.
    """
    with server.log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=server.root_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_server(server, process, SERVER_START_TIMEOUT_S)
        yield process.pid
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A JupyterLab on a free port serving stripped copies of the course notebooks."""
    tmp = tmp_path_factory.mktemp("jupyterlab")
    server = new_lab_server(tmp, prepare_lab_root(tmp))
    with running(server, lab_command(server, tmp), isolated_env(tmp)):
        yield server


@pytest.fixture
def lab(lab_server: LabServer) -> LabServer:
    """The session's JupyterLab with no kernel running (earlier tests' kernels shut down)."""
    lab_server.shutdown_kernels()
    return lab_server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium (``/usr/bin/chromium``) driven by Playwright.

    Skips when Chromium is not installed, except on CI (``CI=true``), where a
    browser test that silently skips would hide a broken setup.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install it with `apt-get install -y chromium`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: the browser test must not be skipped on CI)")
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    playwright = sync_api.sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``<repo>/test-artifacts/browser/``, created if needed (git-ignored)."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, artifacts_dir: Path) -> Iterator[Page]:
    """A fresh browser tab; ``test-artifacts/browser/<notebook>-last.png`` is saved at the end.

    Page errors and console errors of the tab are collected in
    ``page.console_errors`` (a list of strings) for failure messages.
    """
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.console_errors = []

    def record_console_error(message) -> None:
        if message.type == "error":
            tab.console_errors.append(f"console: {message.text}")

    tab.on("console", record_console_error)
    tab.on("pageerror", lambda error: tab.console_errors.append(f"page error: {error}"))
    try:
        yield tab
    finally:
        try:
            tab.screenshot(path=artifacts_dir / f"{artifact_stem(request.node)}-last.png")
        except Exception:  # a failed screenshot must not hide the test's own result
            pass
        context.close()


def artifact_stem(item: pytest.Item) -> str:
    """File-name-safe name for a test's artifacts: its parameter id (the notebook) or its name."""
    callspec = getattr(item, "callspec", None)
    name = Path(callspec.id).stem if callspec else item.name
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip("_")
