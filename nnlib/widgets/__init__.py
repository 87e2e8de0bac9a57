"""Live widgets for the course notebooks, one module per notebook.

Each widget is a :class:`~nnlib.widgets.base.LiveWidget`: a row of controls, a
figure that is created once and redrawn in place, and a status line that says
what happened (for example "diverged at step 12") instead of raising into the
notebook. Display one by putting it last in a cell.

The modules load lazily, so ``import nnlib`` does not import ipywidgets or
matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as err:
        if err.name == f"{__name__}.{name}":
            raise AttributeError(f"module 'nnlib.widgets' has no attribute {name!r}") from err
        raise
