"""Build the course website from the notebooks as they are stored.

    python docs/build.py                  # -> build/site/, then:
    python -m http.server --directory build/site

Nothing is executed: every output on the site is the one stored in
``notebooks/*.ipynb`` (the outputs ``pytest --nbval`` compares). The build

1. stages a Sphinx source folder (``build/site-src/``): ``index.md`` (the
   course map, one row per notebook found in ``notebooks/``), a copy of every
   notebook under ``notebooks/`` (so each page's Binder link opens the same
   ``notebooks/NN_name.ipynb`` path as the README's badge) and the API
   reference pages (one per public ``nnlib`` module, found by walking the
   package);
2. replaces each live widget's output, which needs a running kernel, with a
   static card: the widget's stored initial figure (when the notebook stored
   one), its initial settings and status line from the stored widget state,
   and a link to launch the notebook on Binder;
3. runs Sphinx (myst-nb reads the notebooks with execution off) with the
   configuration in ``docs/conf.py``. MathJax is served from the site itself.

Options: ``--out DIR`` (default ``build/site``), ``--clean`` (rebuild every page).
"""

from __future__ import annotations

import argparse
import html
import importlib
import inspect
import json
import pkgutil
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
DEFAULT_OUT = ROOT / "build" / "site"

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
BINDER_LINK = re.compile(r"https://mybinder\.org/v2/gh/([\w.-]+)/([\w.-]+)/([\w.-]+)\?")
COURSE_MAP_MARKER = "<!-- course map -->"
PNG_BASE64 = "iVBORw0KGgo"  # the PNG signature, base64-encoded
NBVAL_MARKER = re.compile(r"^\s*#\s*NBVAL_\w+\s*$")


# --- where the course lives on Binder ---------------------------------------------


def binder_slug(readme: Path = README) -> tuple[str, str, str]:
    """``(org, repo, ref)`` of the README's Binder badge: the one place forks change."""
    match = BINDER_LINK.search(readme.read_text(encoding="utf-8"))
    if match is None:
        raise ValueError(
            f"{readme} has no https://mybinder.org/v2/gh/ORG/REPO/REF?... link; the site's "
            "launch links are made from it, so add the Binder badge back to the README."
        )
    return match[1], match[2], match[3]


def binder_url(notebook: str, readme: Path = README) -> str:
    """Binder URL that opens ``notebook`` (a path from the repository root) in JupyterLab."""
    org, repo, ref = binder_slug(readme)
    return f"https://mybinder.org/v2/gh/{org}/{repo}/{ref}?urlpath=lab/tree/{notebook}"


# --- the course map --------------------------------------------------------------


def course_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """Every notebook of the course, in course order (file names start with a number)."""
    return sorted(folder.glob("*.ipynb"))


def cell_text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def title_and_summary(notebook: dict[str, Any]) -> tuple[str, str]:
    """The first ``# heading`` of a notebook and the paragraph that follows it."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        lines = cell_text(cell).strip().splitlines()
        if not lines or not lines[0].startswith("# "):
            continue
        title = lines[0][2:].strip()
        paragraph = []
        for line in lines[1:]:
            if not line.strip():
                if paragraph:
                    break
                continue
            paragraph.append(line.strip())
        return title, " ".join(paragraph)
    raise ValueError("the notebook has no markdown cell starting with a '# Title' line")


def course_map(paths: list[Path]) -> str:
    """A MyST table: one row per notebook, its title linking to its page, and its summary."""
    rows = ["| | notebook | what it is about |", "|---|---|---|"]
    for path in paths:
        title, summary = title_and_summary(json.loads(path.read_text(encoding="utf-8")))
        number = path.stem.split("_", 1)[0]
        plain_title = re.sub(r"^\d+\s*·\s*", "", title).replace("|", r"\|")
        summary = summary.replace("|", r"\|")
        rows.append(f"| {number} | [{plain_title}](notebooks/{path.stem}.ipynb) | {summary} |")
    return "\n".join(rows)


# --- widgets -----------------------------------------------------------------------


def widget_state(notebook: dict[str, Any]) -> dict[str, Any]:
    """``{model_id: model}`` of the widget state stored in the notebook's metadata."""
    stored = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {})
    return stored.get("state", {})


def _model_refs(value: Any) -> list[str]:
    """Model ids referenced as ``IPY_MODEL_<id>`` in a state value (a string or list)."""
    items = value if isinstance(value, list) else [value]
    return [item[len("IPY_MODEL_") :] for item in items if str(item).startswith("IPY_MODEL_")]


def _walk(state: dict[str, Any], model_id: str) -> list[dict[str, Any]]:
    """The model ``model_id`` and every model inside it (children first to last)."""
    model = state.get(model_id)
    if model is None:
        return []
    found = [model]
    for ref in _model_refs(model.get("state", {}).get("children", [])):
        found.extend(_walk(state, ref))
    return found


def _format_value(model: dict[str, Any]) -> str | None:
    """A control's initial value as the learner would read it on the control, or None."""
    values = model.get("state", {})
    name = model.get("model_name", "")
    if name in ("HTMLModel", "LabelModel", "HTMLMathModel"):
        return None
    labels = values.get("_options_labels")
    if labels and isinstance(values.get("index"), int):  # Dropdown, ToggleButtons, ...
        return str(labels[values["index"]])
    if "value" not in values:
        return None
    value = values["value"]
    if name == "FloatLogSliderModel":
        return f"{value:.3g}"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def widget_card(model_id: str, state: dict[str, Any], launch_url: str) -> dict[str, str]:
    """Output data that stands in for a live widget on the static site.

    ``image/png`` is the widget's figure as stored in the notebook, when it
    has one (ipympl keeps it as ``_data_url`` in the canvas model, and
    ``LiveWidget.keep_picture`` stores it when the notebook is executed
    without a front end); ``text/html`` lists the settings and the status line
    as stored and links to Binder.
    """
    models = _walk(state, model_id)
    settings, status, image = [], [], None
    for model in models:
        values = model.get("state", {})
        if model.get("model_name") == "HTMLModel" and values.get("value"):
            status.append(values["value"])
        elif model.get("model_name") == "MPLCanvasModel":
            data_url = values.get("_data_url") or ""
            if data_url.startswith("data:image/png;base64,"):
                image = data_url.split(",", 1)[1]
            elif data_url.startswith(PNG_BASE64):  # ipympl's own picture: no prefix
                image = data_url
        elif values.get("description") and _format_value(model) is not None:
            label = html.escape(values["description"])
            settings.append(f"{label} <b>{html.escape(_format_value(model))}</b>")
    parts = [
        '<div class="nnlib-widget-card">',
        '<p class="nnlib-widget-note"><b>Live widget.</b> In a running notebook this cell shows '
        "controls that redraw the figure as you move them. They need a running Python: "
        f'<a class="nnlib-launch" href="{html.escape(launch_url)}">launch this notebook on '
        "Binder</a>, or run it on your computer (see the README).</p>",
    ]
    if settings:
        parts.append(f"<p>Settings as saved: {' · '.join(settings)}</p>")
    if status:
        parts.append(f'<p class="nnlib-widget-status">{"<br>".join(status)}</p>')
    if image is None:
        parts.append(
            '<p class="nnlib-widget-nofigure">(This notebook was saved without a picture of '
            "the widget's figure; launch it to see the figure.)</p>"
        )
    parts.append("</div>")
    data = {"text/html": "\n".join(parts), "text/plain": "(live widget: launch to use it)"}
    if image is not None:
        data["image/png"] = image
    return data


def static_notebook(notebook: dict[str, Any], launch_url: str) -> dict[str, Any]:
    """A copy of ``notebook`` whose widget outputs are static cards (see :func:`widget_card`).

    The stored widget state is dropped, so no page loads the widget JavaScript.
    """
    notebook = json.loads(json.dumps(notebook))
    state = widget_state(notebook)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            # Test markers (``# NBVAL_IGNORE_OUTPUT``) mean nothing to a reader.
            lines = cell_text(cell).splitlines(keepends=True)
            cell["source"] = "".join(line for line in lines if not NBVAL_MARKER.match(line))
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is not None:
                card = widget_card(view.get("model_id", ""), state, launch_url)
                if "image/png" in card:
                    # The picture first, then the note (two outputs of the cell).
                    output["data"] = {"image/png": card.pop("image/png"), "text/plain": "figure"}
                    cell["outputs"].insert(
                        cell["outputs"].index(output) + 1,
                        {"output_type": "display_data", "data": card, "metadata": {}},
                    )
                else:
                    output["data"] = card
    notebook.get("metadata", {}).pop("widgets", None)
    notebook.setdefault("cells", []).insert(1, launch_note(launch_url))
    return notebook


def launch_note(launch_url: str) -> dict[str, Any]:
    """A markdown cell that says how to run this notebook live."""
    text = (
        ":::{note}\n"
        "This page shows the notebook with the outputs stored in the course's repository. "
        f"To run it and move its widgets, [launch it on Binder]({launch_url}) "
        "(nothing to install, a minute to start) or run the course on your computer "
        "(see the README).\n"
        ":::"
    )
    return {"cell_type": "markdown", "metadata": {}, "source": text}


# --- the API reference ----------------------------------------------------------------


def public_modules(package: str = "nnlib") -> list[str]:
    """Every public module of ``package`` (names without a leading underscore), sorted."""
    module = __import__(package)
    names = [package]
    for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def api_pages(modules: list[str]) -> dict[str, str]:
    """``{file name: MyST text}``: an index and one page per module (autodoc + source links)."""
    pages = {
        "index.md": "\n".join(
            [
                "# API reference",
                "",
                "Every public function and class of `nnlib`, from its docstring. Each entry "
                "has a **[source]** link to the code itself: the library is written to be read.",
                "",
                "```{toctree}",
                ":maxdepth: 1",
                "",
                *modules,
                "```",
                "",
            ]
        )
    }
    for name in modules:
        own, elsewhere = _members(name)
        if name == "nnlib":  # the package itself only re-exports: list, don't document
            own = []
        body = [".. automodule:: " + name]
        # Each object is documented once, in the module that defines it; a module that
        # re-exports names (a package's __init__, a widget module) lists them as links.
        body += (
            ["   :members: " + ", ".join(own), "   :undoc-members:", "   :show-inheritance:"]
            if own
            else ["   :no-members:"]
        )
        if elsewhere:
            body += ["", *_shortcuts(name, elsewhere)]
        pages[f"{name}.md"] = "\n".join([f"# `{name}`", "", "```{eval-rst}", *body, "```", ""])
    return pages


def _members(module_name: str) -> tuple[list[str], dict[str, str]]:
    """Public names of a module: those it defines, and ``{name: defining module}`` of the rest.

    The public names are ``__all__`` where the module has one, else every name
    without a leading underscore. Names without a ``__module__`` (constants)
    count as the module's own when it has a ``#:`` comment for them or lists
    them in ``__all__``; autodoc then documents them there.
    """
    module = importlib.import_module(module_name)
    listed = list(getattr(module, "__all__", []))
    names = listed + [n for n in vars(module) if not n.startswith("_") and n not in listed]
    own: list[str] = []
    elsewhere: dict[str, str] = {}
    for attr in names:
        obj = getattr(module, attr, None)
        if inspect.ismodule(obj):
            continue
        defined_in = getattr(obj, "__module__", None)
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            defined_in = _assigned_in(module_name, attr)  # a constant: where it is written
        if defined_in == module_name:
            own.append(attr)
        elif defined_in and defined_in.startswith("nnlib.") and attr in listed:
            elsewhere[attr] = defined_in
    return own, elsewhere


def _assigned_in(module_name: str, attr: str) -> str | None:
    """The module of nnlib whose source assigns ``attr`` at the top level, searching
    ``module_name`` itself, then the modules of its package."""
    module = importlib.import_module(module_name)
    candidates = [module_name]
    package = module_name if hasattr(module, "__path__") else module_name.rpartition(".")[0]
    package_module = importlib.import_module(package)
    candidates += [
        f"{package}.{info.name}" for info in pkgutil.iter_modules(package_module.__path__)
    ]
    pattern = re.compile(rf"^{re.escape(attr)}\s*(:[^=]*)?=", flags=re.MULTILINE)
    for name in candidates:
        source = inspect.getsource(importlib.import_module(name))
        if pattern.search(source):
            return name
    return None


def _shortcuts(module_name: str, names: dict[str, str]) -> list[str]:
    """reST lines listing names that ``module_name`` offers but other modules define, as links."""
    lines = [f"Also available as ``{module_name}.NAME``, documented where they are defined:", ""]
    for attr, home in names.items():
        lines.append(f"* ``{module_name}.{attr}``: :py:obj:`{home}.{attr}`")
    return lines


# --- staging and building ---------------------------------------------------------------


def write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps Sphinx's incremental build)."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def stage(staging: Path) -> list[Path]:
    """Write the Sphinx source folder; return the notebooks it holds."""
    paths = course_notebooks()
    if not paths:
        raise ValueError(f"no notebooks (*.ipynb) in {NOTEBOOKS}: nothing to publish")
    staging.mkdir(parents=True, exist_ok=True)
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    index = index.replace(COURSE_MAP_MARKER, course_map(paths))
    toctree = "\n".join(f"notebooks/{path.stem}" for path in paths)
    index = index.replace("<!-- notebook pages -->", toctree)
    write_if_changed(staging / "index.md", index)

    wanted = {f"{path.stem}.ipynb" for path in paths}
    for old in (staging / "notebooks").glob("*.ipynb"):
        if old.name not in wanted:
            old.unlink()
    for path in paths:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        launch = binder_url(f"notebooks/{path.name}")
        text = json.dumps(static_notebook(notebook, launch), indent=1, ensure_ascii=False)
        write_if_changed(staging / "notebooks" / path.name, text + "\n")

    modules = public_modules()
    api = api_pages(modules)
    for old in (staging / "api").glob("*.md"):
        if old.name not in api:
            old.unlink()
    for name, text in api.items():
        write_if_changed(staging / "api" / name, text)
    return paths


def build(out: Path = DEFAULT_OUT, clean: bool = False) -> int:
    """Stage into ``<out>-src/`` and run Sphinx into ``out``; return Sphinx's exit status.

    Sphinx keeps its cache in ``<out>-doctrees/``: a second build re-reads only
    the pages whose sources changed.
    """
    from sphinx.cmd.build import build_main

    staging = out.parent / f"{out.name}-src"
    doctrees = out.parent / f"{out.name}-doctrees"
    if clean:
        for folder in (staging, doctrees, out):
            shutil.rmtree(folder, ignore_errors=True)
    sys.path.insert(0, str(ROOT))  # autodoc and viewcode import this checkout's nnlib
    stage(staging)
    return build_main(
        ["-b", "html", "-q", "-c", str(DOCS), "-d", str(doctrees), str(staging), str(out)]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--clean", action="store_true", help="rebuild every page")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    status = build(args.out.resolve(), clean=args.clean)
    if status == 0:
        print(
            f"site built in {time.perf_counter() - start:.1f} s: {args.out}/index.html\n"
            f"serve it with: python -m http.server --directory {args.out}"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
