"""Sphinx configuration of the course website (built by ``python docs/build.py``).

The source folder is ``build/site-src/``, which ``docs/build.py`` stages from
``notebooks/`` and ``nnlib/``; this file only configures how it is rendered.
The site is self-contained: the theme's files and MathJax are copied into it,
and no page loads anything from another host.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # autodoc and viewcode read this checkout's nnlib


def _binder_slug() -> tuple[str, str, str]:
    """``(org, repo, ref)`` of the README's Binder badge, read by docs/build.py."""
    spec = importlib.util.spec_from_file_location("course_site_build", DOCS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.binder_slug()


ORG, REPO, REF = _binder_slug()

project = "nnlib: how neural networks learn"
author = "nnlib contributors"
copyright = "nnlib contributors, MIT licence"
html_title = "How neural networks learn"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx-mathjax-offline",
]

# --- notebooks: published as stored, never executed -------------------------------
nb_execution_mode = "off"
# No ipywidgets JavaScript (it would come from a CDN): docs/build.py turns each
# widget into a static card before Sphinx sees the notebook.
nb_ipywidgets_js = {}
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

# --- API reference ----------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}

# --- maths: MathJax 3.2.2 with its fonts, from the pinned sphinx-mathjax-offline -------
# The extension points Sphinx at _static/mathjax/tex-chtml.js and copies MathJax
# there after each build, so formulas are typeset without any other host.

# --- theme: Jupyter Book's, with a Binder launch button on every notebook page -------
html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": f"https://github.com/{ORG}/{REPO}",
    "repository_branch": REF,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": False,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "notebook_interface": "jupyterlab"},
}
html_static_path = [str(DOCS / "_static")]
html_css_files = ["nnlib.css"]
html_favicon = str(DOCS / "_static" / "favicon.svg")
html_context = {"default_mode": "light"}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False

# Source pages link back to where each object is documented, in its own module;
# following imports would point them at the modules that only re-export a name.
viewcode_follow_imported_members = False
