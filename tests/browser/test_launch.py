"""The README's launch (``python course.py``) in a real JupyterLab: a learner's run
leaves the repository's tracked notebooks untouched.

The test works on a throw-away git repository holding this checkout's files
(committed, so ``git status`` starts clean). There it starts ``course.py`` as
the README does (plus the test server's port, token and private folders),
then, like a learner:

1. lands on the start page and finds the start notebook open, with the
   repository as JupyterLab's root (``nnlib/``, ``data/``, ``notebooks/``);
2. runs every cell and saves the notebook;
3. checks that the save went to the learner's copy in ``my-notebooks/`` and
   that ``git status --porcelain`` shows no tracked file changed.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .conftest import (
    REPO_ROOT,
    SERVER_START_TIMEOUT_S,
    LabServer,
    free_port,
    isolated_env,
    lab_options,
    stop_process,
    wait_for_server,
    write_lab_user_settings,
)
from .test_jupyterlab import (
    KERNEL_READY_TIMEOUT_S,
    NOTEBOOK,
    RUN_ALL_TIMEOUT_S,
    code_sources,
    output_errors,
    read_notebook,
    run_all_cells,
    wait_for_all_cells,
    wait_for_kernel_idle,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

START = "my-notebooks/00_start_here.ipynb"
SAVE_TIMEOUT_S = 30.0

pytestmark = [pytest.mark.browser, pytest.mark.timeout(RUN_ALL_TIMEOUT_S + 300)]


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=course test", "-c", "user.email=test@localhost", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def clone_working_tree(target: Path) -> Path:
    """A new git repository at ``target`` with this checkout's files, all committed.

    The files are the ones git would commit here (tracked and untracked, not
    ignored), as they are now, so the test sees uncommitted edits too.
    """
    names = git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    target.mkdir(parents=True)
    for name in filter(None, names.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(source.read_bytes())
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "course as cloned")
    return target


@pytest.fixture(scope="module")
def launched_course(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[LabServer]:
    """``python course.py`` running in a fresh clone; ``browser`` first, so no Chromium skips."""
    if not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: the test needs git to copy the repository")
    tmp = tmp_path_factory.mktemp("launch")
    repo = clone_working_tree(tmp / "repo")
    write_lab_user_settings(tmp / "lab-user-settings")
    port, token = free_port(), secrets.token_hex(16)
    server = LabServer(port, token, repo, tmp / "server.log")
    env = isolated_env(tmp)
    env["PYTHONPATH"] = str(repo)  # kernels import the clone's nnlib
    # The README's command, plus what the test server needs (conftest.lab_options's
    # options, except the root folder: choosing it is course.py's job).
    options = lab_options(server, tmp)
    options = [option for option in options if not option.startswith("--ServerApp.root_dir")]
    command = [sys.executable, "course.py", *options]
    with server.log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=repo, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_server(server, process, SERVER_START_TIMEOUT_S)
        yield server
    finally:
        stop_process(process)


def test_launch_shows_the_repository_and_opens_the_start_notebook(
    launched_course: LabServer, page: Page
) -> None:
    root = json.loads(launched_course.api("GET", "/api/contents"))
    names = {entry["name"] for entry in root["content"]}
    assert {"nnlib", "data", "notebooks", "my-notebooks"} <= names, (
        f"JupyterLab's root is not the repository: it shows {sorted(names)}"
    )
    page.goto(f"{launched_course.base_url}/?token={launched_course.token}")
    page.locator(f"{NOTEBOOK} .jp-Notebook").wait_for(timeout=KERNEL_READY_TIMEOUT_S * 1000)
    assert page.url.split("?")[0].endswith(f"/lab/tree/{START}"), page.url
    tab = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
    assert tab.first.inner_text() == "00_start_here.ipynb"


def test_running_and_saving_a_notebook_leaves_tracked_notebooks_untouched(
    launched_course: LabServer, page: Page
) -> None:
    repo = launched_course.root_dir
    copy = repo / START
    original = repo / "notebooks" / Path(START).name
    assert copy.read_bytes() == original.read_bytes(), "the first launch copies the notebook"
    saved_before = copy.stat().st_mtime_ns

    launched_course.shutdown_kernels()
    page.goto(launched_course.notebook_url(START))
    page.locator(f"{NOTEBOOK} .jp-Notebook").wait_for(timeout=KERNEL_READY_TIMEOUT_S * 1000)
    wait_for_kernel_idle(page, KERNEL_READY_TIMEOUT_S)
    run_all_cells(page)
    wait_for_all_cells(page, code_sources(read_notebook(original)), RUN_ALL_TIMEOUT_S)
    assert not output_errors(page)

    page.locator(f"{NOTEBOOK} .jp-Notebook").click()
    page.keyboard.press("Control+s")
    page.locator(".jp-mod-dirty").first.wait_for(state="detached", timeout=SAVE_TIMEOUT_S * 1000)
    assert copy.stat().st_mtime_ns != saved_before, f"the save did not reach {START}"
    assert read_notebook(copy)["cells"], "the saved copy is not a notebook"

    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert status == "", f"the learner's run changed the repository:\n{status}"
    assert original.read_bytes() == git_show(repo, f"HEAD:notebooks/{original.name}")


def git_show(repo: Path, spec: str) -> bytes:
    return subprocess.run(["git", "show", spec], cwd=repo, capture_output=True, check=True).stdout
