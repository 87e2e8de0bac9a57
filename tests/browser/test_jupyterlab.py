"""Every course notebook, run in a real JupyterLab in a real browser.

Static checks (nbval, nbconvert) run a notebook's code, but they never draw a
widget: a slider whose JavaScript model fails to load, or a figure that does not
redraw when the slider moves, passes them unnoticed. This test does what a
learner does:

1. open the notebook in JupyterLab and wait for its kernel;
2. Run > Run All Cells, and wait until every code cell shows ``[n]:``;
3. check that no cell shows a traceback or a widget error;
4. for a notebook that uses ipywidgets: find a slider (preferably the one
   labelled "learning rate", "lr" or "depth"), move it with the keyboard, and
   check that the figure next to it changed on screen.

Screenshots land in ``test-artifacts/browser/``. A notebook whose code cells
never mention widgets skips step 4; a notebook can also opt out explicitly with
the metadata ``{"nnlib": {"expects_slider": false}}``.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

KERNEL_READY_TIMEOUT_S = 90.0
RUN_ALL_TIMEOUT_S = float(os.environ.get("NNLIB_BROWSER_RUN_TIMEOUT", "300"))
WIDGET_RENDER_TIMEOUT_S = 30.0
SLIDER_MOVE_TIMEOUT_S = 5.0
FIGURE_CHANGE_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.25
# pytest-timeout limit for one notebook: the server start, the run and the checks.
TEST_TIMEOUT_S = RUN_ALL_TIMEOUT_S + 300
SCREENSHOT_HEIGHT = 4000
MAX_SCREENSHOT_PAGES = 20
SLIDER_KEY_PRESSES = 3
# A figure counts as drawn once this many shots in a row, POLL_INTERVAL_S apart, are equal.
SETTLED_SHOTS = 3

pytestmark = [pytest.mark.browser, pytest.mark.timeout(TEST_TIMEOUT_S)]

WIDGET_SOURCE = re.compile(r"ipywidgets|nnlib\.widgets|\bwidgets\b|\binteract")
PREFERRED_SLIDER_LABEL = re.compile(r"learning[\s_-]*rate|\blr\b|depth", re.IGNORECASE)
EXECUTED_PROMPT = re.compile(r"^\[\d+\]:?$")
NOTEBOOK = ".jp-NotebookPanel"
KERNEL_STATUS = '#jp-main-statusbar .jp-StatusBar-TextItem[title^="Change kernel"]'
# Where a figure can be, most specific first: an ipympl canvas, an image inside
# an Output widget (inline backend with interact / Output), any output image.
FIGURE_SELECTORS = (
    ".jupyter-matplotlib-canvas-div",
    ".widget-output img, img.widget-image",
    ".jp-OutputArea-output img",
)

OUTPUT_ERRORS_JS = """
() => {
  const errors = [];
  const panel = document.querySelector('.jp-NotebookPanel');
  if (!panel) return errors;
  const error = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]';
  for (const el of panel.querySelectorAll(error)) errors.push(el.innerText);
  const stderr = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]';
  for (const el of panel.querySelectorAll(stderr)) {
    if (el.innerText.includes('Traceback')) errors.push(el.innerText);
  }
  for (const el of panel.querySelectorAll('.jp-Cell-outputArea')) {
    const text = el.innerText;
    const lower = text.toLowerCase();
    if (lower.includes('error displaying widget') || lower.includes('model not found')) {
      errors.push(text);
    }
  }
  if (panel.querySelector('.jupyter-widgets-error-widget')) {
    errors.push('ipywidgets could not create a widget view ("Click to show javascript error.")');
  }
  return [...new Set(errors)];
}
"""

# Output of widget callbacks (code run by a slider, not by a cell) goes to
# JupyterLab's log console; its status-bar item shows up once it has entries.
LOG_CONSOLE_ERRORS_JS = """
() => [...document.querySelectorAll('.jp-LogConsolePanel .jp-OutputArea-child')]
  .filter(child => child.querySelector('.jp-OutputArea-prompt[data-log-level="error"]'))
  .map(child => child.querySelector('.jp-OutputArea-output')?.innerText ?? '')
  .filter(text => text.includes('Traceback') || text.includes('Error'))
"""

INPUT_PROMPTS_JS = """
() => [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]
  .map(el => el.innerText.trim())
"""


# --- reading the notebook file ------------------------------------------------


def read_notebook(path: Path) -> dict:
    """The notebook's JSON as a dict (nbformat 4)."""
    return json.loads(path.read_text(encoding="utf-8"))


def code_sources(notebook: dict) -> list[str]:
    """Source text of every code cell, in order (``source`` may be a str or a list)."""
    sources = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            source = cell["source"]
            sources.append(source if isinstance(source, str) else "".join(source))
    return sources


def expects_slider(notebook: dict) -> bool:
    """True when the notebook should show a slider that moves a figure.

    ``metadata.nnlib.expects_slider`` decides when present; otherwise any
    code cell that mentions ipywidgets, ``nnlib.widgets`` or ``interact`` does.
    """
    setting = notebook.get("metadata", {}).get("nnlib", {}).get("expects_slider")
    if setting is not None:
        return bool(setting)
    return any(WIDGET_SOURCE.search(source) for source in code_sources(notebook))


# --- driving JupyterLab ---------------------------------------------------------


def wait_for_kernel_idle(page: Page, timeout_s: float) -> None:
    """Wait until the status bar says ``<kernel name> | Idle``.

    A "Select Kernel" dialog (notebook without kernel metadata) is accepted,
    which starts the default Python kernel.
    """
    deadline = time.monotonic() + timeout_s
    status = ""
    while time.monotonic() < deadline:
        dialog_accept = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog_accept.count() and dialog_accept.first.is_visible():
            dialog_accept.first.click()
        status_item = page.locator(KERNEL_STATUS)
        status = status_item.first.inner_text() if status_item.count() else "(no status item)"
        if "| Idle" in status and "No Kernel" not in status:
            return
        time.sleep(POLL_INTERVAL_S)
    pytest.fail(f"kernel not idle after {timeout_s:.0f} s; status bar says {status!r}")


def open_notebook(page: Page, url: str) -> None:
    """Open the notebook at ``url`` in JupyterLab and wait for an idle kernel."""
    page.goto(url)
    page.locator(f"{NOTEBOOK} .jp-Notebook").wait_for(timeout=KERNEL_READY_TIMEOUT_S * 1000)
    wait_for_kernel_idle(page, KERNEL_READY_TIMEOUT_S)


def run_all_cells(page: Page) -> None:
    """Run > Run All Cells, through JupyterLab's menu bar."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()


def output_errors(page: Page) -> list[str]:
    """Texts of tracebacks and widget errors shown in the notebook's outputs."""
    return page.evaluate(OUTPUT_ERRORS_JS)


def log_console_errors(page: Page) -> list[str]:
    """Tracebacks that widget callbacks wrote to JupyterLab's log console.

    Opens the log console (click on its status-bar item) only when it has entries.
    """
    status_item = page.locator(".jp-LogConsoleStatusItem:not(.lm-mod-hidden)")
    if not status_item.count():
        return []
    status_item.first.click()
    page.locator(".jp-LogConsolePanel").first.wait_for(timeout=10_000)
    return page.evaluate(LOG_CONSOLE_ERRORS_JS)


def console_tail(page: Page, n_messages: int = 5) -> str:
    """The last browser-console errors, as a block to append to a failure message."""
    if not page.console_errors:
        return ""
    return "\nbrowser console:\n" + "\n".join(page.console_errors[-n_messages:])


def describe_errors(errors: list[str], max_chars: int = 3000) -> str:
    """The error texts joined for an assertion message, each cut to ``max_chars``."""
    return "\n---\n".join(text[-max_chars:] for text in errors)


def pending_cells(prompts: list[str], sources: list[str]) -> list[str]:
    """Descriptions of non-empty code cells whose prompt is not ``[n]:`` yet."""
    pending = []
    for number, (prompt, source) in enumerate(zip(prompts, sources, strict=True), start=1):
        if source.strip() and not EXECUTED_PROMPT.match(prompt):
            first_line = source.strip().splitlines()[0][:60]
            pending.append(f"code cell {number} {prompt or '[ ]:'} {first_line!r}")
    return pending


def wait_for_all_cells(page: Page, sources: list[str], timeout_s: float) -> None:
    """Wait until every non-empty code cell shows ``[n]:``; fail early on an error output."""
    deadline = time.monotonic() + timeout_s
    pending = ["(notebook cells not rendered yet)"]
    while time.monotonic() < deadline:
        errors = output_errors(page)
        if errors:
            pytest.fail(
                f"errors while running all cells:\n{describe_errors(errors)}{console_tail(page)}"
            )
        prompts = page.evaluate(INPUT_PROMPTS_JS)
        if len(prompts) == len(sources):
            pending = pending_cells(prompts, sources)
            if not pending:
                return
        time.sleep(POLL_INTERVAL_S)
    pytest.fail(
        f"not every code cell ran within {timeout_s:.0f} s "
        f"(raise NNLIB_BROWSER_RUN_TIMEOUT for slow notebooks); still pending:\n"
        + "\n".join(pending)
    )


def screenshot_notebook(page: Page, path_prefix: Path) -> None:
    """Screenshot the whole notebook, top to bottom, as ``<path_prefix>-NN.png`` pages.

    The viewport grows to at most :data:`SCREENSHOT_HEIGHT` pixels; longer
    notebooks are scrolled page by page (at most :data:`MAX_SCREENSHOT_PAGES`).
    """
    scroller = page.locator(f"{NOTEBOOK} .jp-WindowedPanel-outer").first
    if not scroller.count():
        page.screenshot(path=f"{path_prefix}-00.png")
        return
    height = scroller.evaluate("el => el.scrollHeight")
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": min(height + 300, SCREENSHOT_HEIGHT)})
    step = max(1, scroller.evaluate("el => el.clientHeight"))
    for number, top in enumerate(range(0, height, step)[:MAX_SCREENSHOT_PAGES]):
        scroller.evaluate("(el, top) => { el.scrollTop = top; }", top)
        page.screenshot(path=f"{path_prefix}-{number:02d}.png")


# --- sliders and figures --------------------------------------------------------


def wait_for_sliders(page: Page, timeout_s: float) -> Locator:
    """Locator of all rendered sliders in the notebook; fail if none shows up."""
    sliders = page.locator(f"{NOTEBOOK} .widget-slider")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if sliders.count() and sliders.first.is_visible():
            return sliders
        time.sleep(POLL_INTERVAL_S)
    pytest.fail(
        f"no ipywidgets slider rendered within {timeout_s:.0f} s although the notebook uses "
        f"widgets (set metadata nnlib.expects_slider=false if it has none on purpose)."
        f"{console_tail(page)}"
    )


def choose_slider(sliders: Locator) -> tuple[Locator, str]:
    """The first slider labelled like a learning rate or depth, else the first slider.

    Returns ``(slider locator, its label text)``.
    """
    labels = [
        sliders.nth(i).locator(".widget-label").first.inner_text() for i in range(sliders.count())
    ]
    for index, label in enumerate(labels):
        if PREFERRED_SLIDER_LABEL.search(label):
            return sliders.nth(index), label
    return sliders.first, labels[0]


def figure_for(page: Page, slider: Locator) -> Locator | None:
    """Locator of the figure the slider drives: one in the slider's cell, else anywhere.

    Returns ``None`` when the notebook shows no figure at all.
    """
    cell_index = slider.evaluate(
        "el => [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')]"
        ".indexOf(el.closest('.jp-CodeCell'))"
    )
    cell = page.locator(f"{NOTEBOOK} .jp-CodeCell").nth(cell_index)
    for scope in (cell, page.locator(NOTEBOOK)):
        for selector in FIGURE_SELECTORS:
            figure = scope.locator(selector).first
            if figure.count() and figure.is_visible():
                return figure
    return None


def try_screenshot(locator: Locator) -> bytes | None:
    """PNG bytes of ``locator``, or ``None`` while it is being replaced or not shown."""
    # Imported here: without Playwright the browser fixture skips instead.
    from playwright.sync_api import Error as PlaywrightError

    try:
        return locator.screenshot(timeout=5000, animations="disabled")
    except PlaywrightError:
        return None


def settled_screenshot(locator: Locator, timeout_s: float) -> bytes:
    """A screenshot of ``locator`` once :data:`SETTLED_SHOTS` consecutive shots are identical."""
    deadline = time.monotonic() + timeout_s
    shots = [try_screenshot(locator)]
    while time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL_S)
        shots = [*shots[-(SETTLED_SHOTS - 1) :], try_screenshot(locator)]
        if len(shots) == SETTLED_SHOTS and shots[0] is not None and len(set(shots)) == 1:
            return shots[0]
    pytest.fail(f"the figure kept changing (or vanished) for {timeout_s:.0f} s")


def slider_value(handle: Locator) -> str | None:
    """The value a noUiSlider handle announces (``aria-valuetext``: full precision).

    ``aria-valuenow`` is rounded to one decimal, too coarse for a learning rate.
    """
    return handle.get_attribute("aria-valuetext") or handle.get_attribute("aria-valuenow")


def press_and_wait(handle: Locator, key: str) -> str | None:
    """Press ``key`` on the handle a few times; return the value once it changed (or not)."""
    before = slider_value(handle)
    for _ in range(SLIDER_KEY_PRESSES):
        handle.press(key)
    deadline = time.monotonic() + SLIDER_MOVE_TIMEOUT_S
    after = slider_value(handle)
    while after == before and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL_S)
        after = slider_value(handle)
    return after


def move_slider(slider: Locator) -> tuple[str | None, str | None]:
    """Move the slider with the arrow keys; return its value (before, after).

    Tries to the right first; a slider already at its maximum goes left instead.
    """
    handle = slider.locator(".noUi-handle").first
    before = slider_value(handle)
    handle.focus()
    after = press_and_wait(handle, "ArrowRight")
    if after == before:
        after = press_and_wait(handle, "ArrowLeft")
    return before, after


def wait_for_changed_figure(
    page: Page, figure: Locator, before: bytes, timeout_s: float
) -> bytes | None:
    """Poll the figure until it differs from ``before``; return the settled new shot or None."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        shot = try_screenshot(figure)
        if shot is not None and shot != before:
            wait_for_kernel_idle(page, max(1.0, deadline - time.monotonic()))
            return settled_screenshot(figure, timeout_s)
        time.sleep(POLL_INTERVAL_S)
    return None


# --- the checks -----------------------------------------------------------------


def run_notebook_and_check_widgets(
    page: Page, url: str, notebook_path: Path, artifacts_dir: Path, stem: str | None = None
) -> None:
    """Open the notebook at ``url``, run all its cells; its sliders must redraw its figures.

    ``notebook_path`` is the notebook's file (its code cells say what to wait
    for and whether a slider is expected). Screenshots are saved in
    ``artifacts_dir`` under names starting with ``stem`` (default: the
    notebook's name).
    """
    notebook = read_notebook(notebook_path)
    sources = code_sources(notebook)
    stem = stem or notebook_path.stem

    open_notebook(page, url)
    run_all_cells(page)
    try:
        wait_for_all_cells(page, sources, RUN_ALL_TIMEOUT_S)
    finally:
        screenshot_notebook(page, artifacts_dir / f"{stem}-run-all")

    errors = output_errors(page)
    assert not errors, (
        f"{notebook_path.name} shows errors:\n{describe_errors(errors)}{console_tail(page)}"
    )
    if not expects_slider(notebook):
        return

    sliders = wait_for_sliders(page, WIDGET_RENDER_TIMEOUT_S)
    slider, label = choose_slider(sliders)
    figure = figure_for(page, slider)
    wait_for_kernel_idle(page, KERNEL_READY_TIMEOUT_S)
    assert figure is not None, (
        f"{notebook_path.name}: slider {label!r} rendered but no figure (ipympl canvas or "
        f"image) is visible in the notebook"
    )
    before = settled_screenshot(figure, FIGURE_CHANGE_TIMEOUT_S)
    (artifacts_dir / f"{stem}-figure-before.png").write_bytes(before)

    value_before, value_after = move_slider(slider)
    assert value_after != value_before, (
        f"{notebook_path.name}: slider {label!r} did not move with the arrow keys "
        f"(value stayed {value_before})"
    )
    after = wait_for_changed_figure(page, figure, before, FIGURE_CHANGE_TIMEOUT_S)
    if after is not None:
        (artifacts_dir / f"{stem}-figure-after.png").write_bytes(after)
    errors = output_errors(page) + log_console_errors(page)
    assert not errors, (
        f"{notebook_path.name}: moving slider {label!r} produced errors:\n{describe_errors(errors)}"
    )
    assert after is not None and after != before, (
        f"{notebook_path.name}: moving slider {label!r} from {value_before} to {value_after} "
        f"did not change the figure within {FIGURE_CHANGE_TIMEOUT_S:.0f} s"
    )


# --- the test -------------------------------------------------------------------


def test_notebook_runs_and_its_widgets_respond(
    notebook_path: Path, page: Page, lab, artifacts_dir: Path
) -> None:
    """Run the notebook in JupyterLab; its sliders must redraw its figures.

    ``page`` is requested before ``lab`` so that a missing Chromium skips the
    test before a JupyterLab server is started for nothing.
    """
    url = lab.notebook_url(notebook_path.name)
    run_notebook_and_check_widgets(page, url, notebook_path, artifacts_dir)
