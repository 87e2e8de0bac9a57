"""The course website, built from the stored notebooks, in a real browser, offline.

The site is built once per session (``docs/build.py`` into a temporary
folder, as the README's command does), served by ``python -m http.server`` on
127.0.0.1, and every page is opened in headless Chromium. Every page must

* have a title and load without a console error or page error;
* load every image (``naturalWidth > 0``);
* link only to pages and anchors that exist in the site (internal links);
* request nothing from anywhere but the site itself: every other request is
  blocked (the site must work offline) and fails the test.

The home page and every notebook page also show at least one equation typeset
by MathJax, a Binder link that opens that notebook, and one static card per
live widget. The API reference is checked without a browser: every public
function and class of ``nnlib`` has an entry with a link to its source.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pytest

from .conftest import REPO_ROOT, VIEWPORT, course_notebooks, free_port, stop_process

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def load_site_build():
    """docs/build.py as a module (by path: the name ``build`` belongs to PyPA's build tool)."""
    spec = importlib.util.spec_from_file_location(
        "course_site_build", REPO_ROOT / "docs" / "build.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


site_build = load_site_build()

BUILD_TIMEOUT_S = 600
SERVER_START_TIMEOUT_S = 30.0
PAGE_TIMEOUT_MS = 30_000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(BUILD_TIMEOUT_S + 600)]

# Equations MathJax 3 has typeset, and a promise that settles when it is done.
MATH_JS = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  return document.querySelectorAll('mjx-container').length;
}
"""

# Load lazy images now, then report every image that did not load.
BROKEN_IMAGES_JS = """
async () => {
  const images = [...document.images];
  for (const img of images) img.loading = 'eager';
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  return images.filter(img => !img.complete || img.naturalWidth === 0)
               .map(img => img.currentSrc || img.src);
}
"""


# --- building and serving -----------------------------------------------------------------


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built by ``python docs/build.py --out <tmp>/site`` (the README's command)."""
    out = tmp_path_factory.mktemp("website") / "site"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "docs/build.py", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert result.returncode == 0, (
        f"docs/build.py failed (exit {result.returncode}):\n{result.stdout[-3000:]}"
        f"\n{result.stderr[-5000:]}"
    )
    print(f"site built in {time.perf_counter() - start:.1f} s")
    assert (out / "index.html").is_file()
    return out


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>``: the site served by ``python -m http.server``."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=site_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/index.html", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"python -m http.server did not serve {url} in time")
                time.sleep(0.2)
        yield url
    finally:
        stop_process(process)


class OfflineTab:
    """A browser tab that may load only ``origin``; everything else is blocked and recorded."""

    def __init__(self, browser: Browser, origin: str) -> None:
        self.origin = origin
        self.context = browser.new_context(viewport=VIEWPORT)
        self.outside_requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _route(self, route) -> None:
        url = route.request.url
        if url == self.origin or url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.outside_requests.append(url)
            route.abort("blockedbyclient")

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def open(self, path: str) -> list[str]:
        """Open ``path`` of the site; return the problems (errors, requests) it caused."""
        self.errors.clear()
        self.outside_requests.clear()
        response = self.page.goto(f"{self.origin}/{path}", wait_until="load")
        problems = []
        if response is None or response.status != 200:
            problems.append(f"HTTP {response.status if response else 'no response'}")
        return problems

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="session")
def tab(browser: Browser, site_url: str) -> Iterator[OfflineTab]:
    offline = OfflineTab(browser, site_url)
    try:
        yield offline
    finally:
        offline.close()


# --- reading the built HTML -------------------------------------------------------------


class _LinksAndIds(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("id", "name"):
            if values.get(name):
                self.ids.add(values[name])
        attribute = {"a": "href", "link": "href", "img": "src", "script": "src"}.get(tag)
        if attribute and values.get(attribute):
            self.links.append(values[attribute])


@functools.cache
def parse_page(path: Path) -> _LinksAndIds:
    parser = _LinksAndIds()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_internal_links(site: Path, page: Path) -> list[str]:
    """Links of ``page`` to files or anchors of the site that do not exist."""
    broken = []
    for link in parse_page(page).links:
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
            continue  # outside the site: a link to follow, not a resource loaded
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(site.resolve()) or not target.is_file():
            broken.append(link)
        elif parts.fragment and target.suffix == ".html":
            if unquote(parts.fragment) not in parse_page(target).ids:
                broken.append(link)
    return broken


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the site, as paths relative to its root.

    ``_static/`` holds the theme's assets (its ``*-macros.html`` are Jinja
    templates the theme ships there, not pages).
    """
    pages = (path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    return sorted(page for page in pages if not page.startswith("_static/"))


# --- the tests ------------------------------------------------------------------------------


def test_every_page_loads_offline_without_errors(site_dir: Path, tab: OfflineTab) -> None:
    """Each page: a title, no console error, images loaded, links resolve, nothing from outside."""
    pages = site_pages(site_dir)
    expected = {"index.html", "api/index.html"} | {
        f"notebooks/{path.stem}.html" for path in course_notebooks()
    }
    assert expected <= set(pages), f"pages missing from the site: {sorted(expected - set(pages))}"
    problems: dict[str, list[str]] = {}
    for path in pages:
        found = tab.open(path)
        title = tab.page.title().strip()
        if not title:
            found.append("no <title>")
        tab.page.evaluate(MATH_JS)
        found += [f"image not loaded: {src}" for src in tab.page.evaluate(BROKEN_IMAGES_JS)]
        broken = broken_internal_links(site_dir, site_dir / path)
        found += [f"broken link: {link}" for link in broken]
        found += tab.errors
        found += [f"request outside the site (blocked): {url}" for url in tab.outside_requests]
        if found:
            problems[path] = found
    report = "\n".join(f"{path}:\n  " + "\n  ".join(found) for path, found in problems.items())
    assert not problems, f"{len(problems)} of {len(pages)} pages have problems:\n{report}"


@pytest.mark.parametrize(
    "notebook", course_notebooks(), ids=[path.name for path in course_notebooks()]
)
def test_notebook_page_shows_math_outputs_widgets_and_a_binder_link(
    notebook: Path, site_dir: Path, tab: OfflineTab
) -> None:
    stored = json.loads(notebook.read_text(encoding="utf-8"))
    problems = tab.open(f"notebooks/{notebook.stem}.html")
    title, _ = site_build.title_and_summary(stored)
    shown = tab.page.locator("h1").first.inner_text().strip()
    # Sphinx typesets straight quotes as typographic ones (won't -> won’t).
    assert shown.replace("\u2019", "'").startswith(title[:20]), (shown, title)
    assert title[:20] in tab.page.title().replace("\u2019", "'")

    equations = tab.page.evaluate(MATH_JS)
    assert equations >= 1, "no equation typeset by MathJax on the page"

    binder = site_build.binder_url(f"notebooks/{notebook.name}")
    assert tab.page.locator(f'a[href="{binder}"]').count() >= 1, f"no link to {binder}"

    # Every stored figure (image/png output) is on the page, and loaded.
    stored_images = sum(
        "image/png" in output.get("data", {})
        for cell in stored["cells"]
        for output in cell.get("outputs", [])
    )
    shown = tab.page.locator("article img").count()
    assert shown >= stored_images, f"{stored_images} stored figures, {shown} images on the page"

    # Each live widget became a static card that links to Binder.
    widgets = sum(
        WIDGET_VIEW in output.get("data", {})
        for cell in stored["cells"]
        for output in cell.get("outputs", [])
    )
    cards = tab.page.locator(".nnlib-widget-card")
    assert cards.count() == widgets, f"{widgets} widgets in the notebook, {cards.count()} cards"
    # Each widget's figure as stored (ipympl's picture of the canvas) is shown with its card.
    state = stored["metadata"].get("widgets", {}).get(site_build.WIDGET_STATE, {}).get("state", {})
    pictures = sum(
        bool(model["state"].get("_data_url"))
        for model in state.values()
        if model.get("model_name") == "MPLCanvasModel"
    )
    missing = tab.page.locator(".nnlib-widget-nofigure").count()
    assert missing == max(0, widgets - pictures), f"{missing} widgets shown without a figure"
    for index in range(widgets):
        assert cards.nth(index).locator(f'a[href="{binder}"]').count() == 1
    assert not tab.page.locator("script[type='application/vnd.jupyter.widget-view+json']").count()
    assert not problems + tab.errors + tab.outside_requests


def test_home_page_maps_every_notebook(site_dir: Path, tab: OfflineTab) -> None:
    tab.open("index.html")
    assert tab.page.evaluate(MATH_JS) >= 1, "no equation typeset by MathJax on the home page"
    for notebook in course_notebooks():
        link = tab.page.locator(f'article a[href="notebooks/{notebook.stem}.html"]')
        assert link.count() >= 1, f"the course map does not link {notebook.name}"
    assert tab.page.locator('article a[href="api/index.html"]').count() >= 1


def public_names(module_name: str) -> list[str]:
    """The public functions and classes of a module: its ``__all__``, else what it defines."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module_name
        ]
    return [
        name
        for name in names
        if inspect.isfunction(getattr(module, name)) or inspect.isclass(getattr(module, name))
    ]


def test_api_reference_covers_every_public_function_with_its_source(site_dir: Path) -> None:
    modules = [name for name in site_build.public_modules() if name != "nnlib"]
    assert "nnlib.layers" in modules and "nnlib.train" in modules
    missing, without_source, checked = [], [], 0
    for module_name in modules:
        html = (site_dir / "api" / f"{module_name}.html").read_text(encoding="utf-8")
        for name in public_names(module_name):
            obj = getattr(importlib.import_module(module_name), name)
            home = obj.__module__
            if home != module_name and home in modules:
                continue  # re-exported: documented (and checked) in its own module
            checked += 1
            entry = re.search(
                rf'<dt class="sig[^"]*" id="{re.escape(f"{module_name}.{name}")}">'
                r"(.*?)</dt>",
                html,
                flags=re.S,
            )
            if entry is None:
                missing.append(f"{module_name}.{name}")
            elif f"_modules/{home.replace('.', '/')}.html#{name}" not in entry[1]:
                without_source.append(f"{module_name}.{name}")
    assert checked > 100, f"only {checked} public functions and classes found: is nnlib importable?"
    assert not missing, f"not in the API reference: {missing}"
    assert not without_source, f"no [source] link: {without_source}"
    assert (site_dir / "_modules" / "nnlib" / "layers.html").is_file()
