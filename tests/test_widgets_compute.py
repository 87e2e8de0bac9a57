"""The widgets' computation runs without widgets or figures, and no widget module grows too big.

Each widget module of ``nnlib.widgets`` builds controls and draws; what it
computes (training, measuring, the verdict of its status line) lives in a
module that needs NumPy only, so it can be read, called and tested alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_layout import KNOWN_LONG

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "ipywidgets", "IPython", "jax")

#: compute module -> a call that exercises it (small sizes).
COMPUTE_CALLS = {
    "nnlib.widgets.gradient_diagnosis": "m.diagnose([1e-6, 1.0], [0.7, 0.69]).status()",
    "nnlib.widgets.gradient_flow": (
        "m.describe_result(m.run_experiment(depth=3, steps=3, n_samples=32))"
    ),
    "nnlib.widgets.decision_threshold": (
        "m.describe_threshold(m.threshold_metrics([0, 1, 1], [0.2, 0.6, 0.4], 0.5), "
        "m.DIAGNOSIS_CLASSES)"
    ),
    "nnlib.widgets.housing_regression": "m.linear_least_squares(np.ones((4, 2)), np.ones((4, 1)))",
    "nnlib.widgets.batch_training": "m.batch_options(300)",
    "nnlib.widgets.pruning_sweep": "m.all_weights([{'W': np.ones((2, 2)), 'b': np.zeros(2)}])",
    "nnlib.widgets.decision_regions": (
        "m.describe_result(m.train_playground(dataset='xor', steps=3, n_samples=40, grid=8))"
    ),
}


@pytest.mark.parametrize("module", sorted(COMPUTE_CALLS))
def test_widget_computation_needs_no_widget_or_figure(module: str) -> None:
    code = (
        f"import importlib, sys; import numpy as np; m = importlib.import_module({module!r}); "
        f"out = {COMPUTE_CALLS[module]}; "
        f"heavy = [h for h in {HEAVY!r} if h in sys.modules]; "
        "assert not heavy, heavy"
    )
    env = {key: value for key, value in os.environ.items() if key != "NNLIB_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{module}:\n{result.stderr}"


@pytest.mark.parametrize(
    "path",
    sorted(
        p.relative_to(ROOT).as_posix()
        for folder in ("widgets", "plots")
        for p in (ROOT / "nnlib" / folder).glob("*.py")
    ),
)
def test_widget_and_plot_modules_stay_readable(path: str) -> None:
    lines = (ROOT / path).read_text(encoding="utf-8").count("\n")
    module = path.removesuffix(".py").replace("/", ".")
    limit = KNOWN_LONG.get(module, 400)  # modules waiting to be split may not grow
    assert lines <= limit, f"{path} has {lines} lines; split it by concept (at most about 400)"
