"""The website's build steps that need no browser (docs/build.py).

The built site itself is tested in a real browser in tests/browser/test_site.py.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_site_build():
    """docs/build.py as a module (by path: the name ``build`` belongs to PyPA's build tool)."""
    spec = importlib.util.spec_from_file_location("course_site_build", ROOT / "docs" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load_site_build()

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def notebook(title: str, widget_state: dict | None = None, outputs: list | None = None) -> dict:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": f"# {title}\n\nWhat it teaches.\n"},
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": "# NBVAL_IGNORE_OUTPUT\nw = Widget()\nw",
            "outputs": outputs or [],
        },
    ]
    metadata = {}
    if widget_state is not None:
        metadata["widgets"] = {build.WIDGET_STATE: {"state": widget_state}}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def test_binder_links_use_the_readme_badge(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("[![b](x)](https://mybinder.org/v2/gh/fork/course/main?urlpath=lab)")
    assert build.binder_url("notebooks/01_x.ipynb", readme) == (
        "https://mybinder.org/v2/gh/fork/course/main?urlpath=lab/tree/notebooks/01_x.ipynb"
    )
    readme.write_text("no badge")
    with pytest.raises(ValueError, match="mybinder"):
        build.binder_slug(readme)


def test_course_map_lists_every_notebook_including_new_ones(tmp_path: Path) -> None:
    for name, title in [("00_start.ipynb", "Welcome"), ("09_new.ipynb", "09 · Something new")]:
        (tmp_path / name).write_text(json.dumps(notebook(title)))
    table = build.course_map(build.course_notebooks(tmp_path))
    assert "| 00 | [Welcome](notebooks/00_start.ipynb) | What it teaches. |" in table
    assert "| 09 | [Something new](notebooks/09_new.ipynb) | What it teaches. |" in table


def test_a_notebook_without_a_title_is_an_error() -> None:
    with pytest.raises(ValueError, match="# Title"):
        build.title_and_summary({"cells": [{"cell_type": "markdown", "source": "no title"}]})


def test_widget_becomes_a_card_with_its_settings_status_figure_and_launch_link() -> None:
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_c"]}},
        "s": {"model_name": "FloatLogSliderModel", "state": {"description": "lr", "value": 0.08}},
        "c": {"model_name": "MPLCanvasModel", "state": {"_data_url": "data:image/png;base64,QUJD"}},
        "d": {
            "model_name": "DropdownModel",
            "state": {"description": "optimiser", "index": 1, "_options_labels": ["sgd", "adam"]},
        },
        "h": {"model_name": "HTMLModel", "state": {"value": "loss 0.1 after 10 steps"}},
    }
    state["box"]["state"]["children"] += ["IPY_MODEL_d", "IPY_MODEL_h"]
    output = {
        "output_type": "display_data",
        "metadata": {},
        "data": {WIDGET_VIEW: {"model_id": "box"}},
    }
    static = build.static_notebook(notebook("T", state, [output]), "https://binder/x")
    code = static["cells"][2]
    assert "NBVAL" not in code["source"] and "w = Widget()" in code["source"]
    figure, card = code["outputs"]
    assert figure["data"]["image/png"] == "QUJD"
    html = card["data"]["text/html"]
    assert 'href="https://binder/x"' in html
    assert "Settings as saved: lr <b>0.08</b>" in html and "optimiser <b>adam</b>" in html
    assert "loss 0.1 after 10 steps" in html
    assert "widgets" not in static["metadata"]
    assert "https://binder/x" in static["cells"][1]["source"]  # the launch note


def test_widget_without_a_stored_figure_says_so() -> None:
    state = {"c": {"model_name": "MPLCanvasModel", "state": {"_data_url": None}}}
    output = {
        "output_type": "display_data",
        "metadata": {},
        "data": {WIDGET_VIEW: {"model_id": "c"}},
    }
    static = build.static_notebook(notebook("T", state, [output]), "https://binder/x")
    (card,) = static["cells"][2]["outputs"]
    assert "image/png" not in card["data"]
    assert "without a picture" in card["data"]["text/html"]


def test_api_pages_cover_every_public_module() -> None:
    modules = build.public_modules()
    assert {"nnlib", "nnlib.layers", "nnlib.widgets.base", "nnlib.exercises.chain_rule"} <= set(
        modules
    )
    assert not [name for name in modules if "._" in name]
    pages = build.api_pages(modules)
    assert ".. automodule:: nnlib.layers" in pages["nnlib.layers.md"]
    assert all(name in pages["index.md"] for name in modules)
