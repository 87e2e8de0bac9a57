"""Time every course notebook and every live widget's update.

Usage (from the repository root, in the course's environment)::

    python benchmarks/notebooks.py            # all notebooks and widgets
    python benchmarks/notebooks.py --repeat 5 --skip-notebooks

Notebooks: each is executed top to bottom in a fresh kernel (as nbval does);
the table gives the wall time of the whole run, kernel start included.

Widgets: every ``LiveWidget`` subclass in ``nnlib.widgets`` is built with its
default settings; then each control is moved (to a neighbouring value and
back) and ``widget.update()`` is timed: recompute (train the model) plus redraw
of the figure. Redrawing is measured by rendering the canvas with Agg, as
JupyterLab's ipympl front end would request it. Medians and minimums over all
moves are reported; the machine is shared, so medians are the figure to quote.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import pkgutil
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def time_notebooks(names: list[str] | None) -> list[tuple[str, float]]:
    import nbformat
    from nbclient import NotebookClient

    rows = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if names and path.stem not in names:
            continue
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        start = time.perf_counter()
        client.execute()
        rows.append((path.name, time.perf_counter() - start))
        print(f"  {path.name}: {rows[-1][1]:.1f} s", flush=True)
    return rows


def _neighbour(control) -> object | None:
    """A different valid value for ``control`` (the next option or slider step)."""
    value = control.value
    if hasattr(control, "options") and control.options:
        labels = [o[1] if isinstance(o, tuple) else o for o in control.options]
        i = labels.index(value) if value in labels else 0
        return labels[(i + 1) % len(labels)]
    if isinstance(value, bool):
        return not value
    if hasattr(control, "base"):  # FloatLogSlider: step is in the exponent
        import math

        exponent = math.log(value, control.base) + control.step
        if exponent > control.max:
            exponent = math.log(value, control.base) - control.step
        return control.base**exponent
    if hasattr(control, "step") and hasattr(control, "max"):
        step = control.step or 1
        return value + step if value + step <= control.max else value - step
    return None


def time_widgets(repeat: int) -> list[tuple[str, str, float, float, int]]:
    import matplotlib

    matplotlib.use("Agg")
    import nnlib.widgets
    from nnlib.widgets.base import LiveWidget

    rows = []
    for info in pkgutil.iter_modules(nnlib.widgets.__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"nnlib.widgets.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                not issubclass(cls, LiveWidget)
                or cls is LiveWidget
                or cls.__module__ != module.__name__
            ):
                continue
            widget = cls()
            times = []
            for _ in range(repeat):
                for control in widget.controls.values():
                    original = control.value
                    other = _neighbour(control)
                    if other is None or other == original:
                        continue
                    for value in (other, original):
                        start = time.perf_counter()
                        control.value = value  # triggers widget.update()
                        widget.fig.canvas.draw()
                        times.append(time.perf_counter() - start)
            rows.append(
                (
                    module.__name__.rsplit(".", 1)[1],
                    name,
                    statistics.median(times),
                    min(times),
                    len(times),
                )
            )
            print(f"  {name}: median {rows[-1][2] * 1000:.0f} ms", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of control moves")
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--skip-widgets", action="store_true")
    parser.add_argument("--only", nargs="*", help="notebook stems to run, e.g. 02_gradient_descent")
    args = parser.parse_args()
    os.chdir(ROOT)
    print(f"CPU cores: {os.cpu_count()}")
    if not args.skip_notebooks:
        print("Executing notebooks...")
        rows = time_notebooks(args.only)
        print("\n| notebook | execution time (s) |\n|---|---:|")
        for name, seconds in rows:
            print(f"| `{name}` | {seconds:.1f} |")
        print(f"| **all** | {sum(s for _, s in rows):.1f} |")
    if not args.skip_widgets:
        print("\nTiming widget updates...")
        rows = time_widgets(args.repeat)
        print("\n| module | widget | median update (ms) | min (ms) | moves |")
        print("|---|---|---:|---:|---:|")
        for module, name, med, low, n in rows:
            print(f"| `{module}` | `{name}` | {med * 1000:.0f} | {low * 1000:.0f} | {n} |")


if __name__ == "__main__":
    main()
