"""nnlib: a small, readable neural-network library for learning how networks learn.

Importing ``nnlib`` is fast: only NumPy is loaded. Submodules (and the
plotting and widget code, which need matplotlib and ipywidgets) load the first
time you use them::

    import nnlib
    model = nnlib.mlp([2, 16, 1], activation="tanh")   # loads nnlib.model
    nnlib.plots.plot_history(...)                      # loads matplotlib now

Backends: ``nnlib.set_backend("jax")`` runs the same code on JAX.
"""

from __future__ import annotations

import importlib
from typing import Any

from .backend import get_backend, set_backend, use_backend

__version__ = "0.1.0"

_SUBMODULES = {
    "activations",
    "allreduce",
    "autodiff",
    "backend",
    "calibration",
    "data",
    "diagnostics",
    "exercises",
    "gradcheck",
    "graph_drawing",
    "history",
    "information",
    "init",
    "jax_backend",
    "layers",
    "losses",
    "metrics",
    "model",
    "optim",
    "parallel",
    "plots",
    "precision",
    "pruning",
    "step",
    "surfaces",
    "train",
    "tree",
    "widgets",
}

# Convenient top-level names and the module each lives in.
_NAMES = {
    "Value": "autodiff",
    "draw_graph": "graph_drawing",
    "Dense": "layers",
    "Activation": "layers",
    "Dropout": "layers",
    "BatchNorm": "layers",
    "Residual": "layers",
    "Sequential": "model",
    "mlp": "model",
    "save_params": "model",
    "load_params": "model",
    "mse": "losses",
    "binary_cross_entropy_with_logits": "losses",
    "softmax_cross_entropy": "losses",
    "l2_penalty": "losses",
    "sgd": "optim",
    "momentum": "optim",
    "rmsprop": "optim",
    "adam": "optim",
    "fit": "train",
    "evaluate": "train",
    "History": "train",
}

__all__ = ["get_backend", "set_backend", "use_backend", "__version__", *sorted(_NAMES)]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _NAMES:
        return getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'nnlib' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | set(_NAMES))
