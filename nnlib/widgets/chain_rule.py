"""Live widgets for notebook 01: derivatives and the computational graph of a neuron.

* :class:`DerivativeWidget`: a function ``f``, its tangent line at ``x`` and
  the secant line through ``x`` and ``x + h``. The tangent's slope is the
  derivative ``f'(x)``; the secant's slope is the difference quotient
  ``(f(x + h) - f(x)) / h``, which approaches ``f'(x)`` as the nudge ``h``
  shrinks. Derivatives are computed by :class:`nnlib.autodiff.Value`.
* :class:`NeuronGraphWidget`: the computational graph of one neuron
  ``o = tanh(w1·x1 + w2·x2 + b)`` and, optionally, of its squared loss
  ``L = (o - y)²``, drawn by :func:`nnlib.autodiff.draw_graph` with every
  node's value and gradient. Move a weight and watch the numbers flow forward
  (``data``) and the gradients flow backward (``grad``).

Usage in a notebook::

    from nnlib.widgets.chain_rule import NeuronGraphWidget
    NeuronGraphWidget()
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autodiff import Value, draw_graph
from .base import LiveWidget, live_figure

# ----------------------------------------------------------------------------- derivatives

#: The functions :class:`DerivativeWidget` offers, written with Value operations so
#: that autodiff can differentiate them. Each is ``Value -> Value``.
FUNCTIONS: dict[str, Callable[[Value], Value]] = {
    "tanh(x)": lambda v: v.tanh(),
    "sigmoid(x)": lambda v: v.sigmoid(),
    "x³ − 2x": lambda v: v**3 - 2 * v,
    "x²": lambda v: v * v,
    "ReLU(x)": lambda v: v.relu(),
}

#: The x range every function is drawn on.
X_RANGE = (-3.0, 3.0)


def value_and_derivative(f: Callable[[Value], Value], x: float) -> tuple[float, float]:
    """``(f(x), f'(x))`` for a scalar ``x``, the derivative by reverse-mode autodiff.

    ``f`` maps a :class:`Value` to a :class:`Value` (see :data:`FUNCTIONS`).
    """
    v = Value(float(x))
    out = f(v)
    out.backward()
    return out.data, v.grad


def curve_and_derivative(
    f: Callable[[Value], Value], xs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``f`` and ``f'`` at every point of ``xs`` (shape ``(n,)``): two float64 arrays ``(n,)``."""
    pairs = [value_and_derivative(f, x) for x in np.asarray(xs, dtype=np.float64)]
    values, slopes = zip(*pairs, strict=True)
    return np.array(values), np.array(slopes)


@dataclass
class DerivativeResult:
    """What one update of :class:`DerivativeWidget` computed (all float64 numbers)."""

    function: str
    x: float
    h: float
    fx: float  # f(x)
    slope: float  # f'(x), by autodiff
    fxh: float  # f(x + h)

    @property
    def difference_quotient(self) -> float:
        """``(f(x + h) - f(x)) / h``: the slope of the secant line."""
        return (self.fxh - self.fx) / self.h


def describe_derivative(result: DerivativeResult) -> str:
    """One line: ``f(x)``, ``f'(x)`` and the difference quotient, rounded to 4 digits."""
    return (
        f"{result.function} at x = {result.x:.3g}: f(x) = {result.fx:.4g}, "
        f"f'(x) = {result.slope:.4g} (autodiff); "
        f"(f(x + h) − f(x)) / h = {result.difference_quotient:.4g} with h = {result.h:.3g}"
    )


class DerivativeWidget(LiveWidget):
    """Controls: x, the nudge h, the function → f with tangent and secant; f' with its value at x.

    Left panel: ``f`` (black), the tangent line at ``x`` (slope ``f'(x)``, red)
    and the secant line through ``x`` and ``x + h`` (dashed). Right panel:
    ``f'`` over the whole range with a dot at ``x``. ``result`` is a
    :class:`DerivativeResult`.
    """

    def __init__(self, x: float = 0.5, h: float = 0.5, function: str = "tanh(x)") -> None:
        import ipywidgets as widgets

        if function not in FUNCTIONS:
            raise ValueError(
                f"Unknown function {function!r}. Choose one of {list(FUNCTIONS)}, "
                "e.g. DerivativeWidget(function='tanh(x)')."
            )
        style = {"description_width": "initial"}
        controls = {
            "x": widgets.FloatSlider(
                value=x, min=X_RANGE[0], max=X_RANGE[1], step=0.05, description="x", style=style
            ),
            "h": widgets.FloatLogSlider(
                value=h,
                base=10,
                min=-4,
                max=0.3,
                step=0.05,
                description="nudge h",
                readout_format=".2g",
                style=style,
            ),
            "function": widgets.Dropdown(
                options=list(FUNCTIONS), value=function, description="f", style=style
            ),
        }
        fig, (self.ax_f, self.ax_slope) = live_figure(figsize=(9, 3.4), ncols=2)
        self._function_drawn: str | None = None
        super().__init__(controls, fig)

    def compute(self, x: float, h: float, function: str) -> DerivativeResult:
        """``f(x)``, ``f'(x)`` and ``f(x + h)`` for the chosen function."""
        if function not in FUNCTIONS:
            raise ValueError(f"Unknown function {function!r}. Choose one of {list(FUNCTIONS)}.")
        f = FUNCTIONS[function]
        fx, slope = value_and_derivative(f, x)
        fxh = f(Value(float(x) + float(h))).data
        return DerivativeResult(function, float(x), float(h), fx, slope, fxh)

    def _draw_function(self, function: str) -> None:
        """Curves of f and f' and empty artists for the lines that move; once per function."""
        xs = np.linspace(*X_RANGE, 241)
        values, slopes = curve_and_derivative(FUNCTIONS[function], xs)
        for ax in (self.ax_f, self.ax_slope):
            ax.clear()
            ax.grid(alpha=0.3)
            ax.axhline(0, color="0.7", lw=0.8)
            ax.set_xlim(*X_RANGE)
            ax.set_xlabel("x")
        (self._curve,) = self.ax_f.plot(xs, values, color="k", lw=1.5, label="f(x)")
        (self._tangent,) = self.ax_f.plot([], [], color="#b2182b", lw=1.5, label="tangent")
        (self._secant,) = self.ax_f.plot([], [], color="#2166ac", ls="--", lw=1.2, label="secant")
        (self._points,) = self.ax_f.plot([], [], "o", color="#2166ac", ms=5)
        (self._point,) = self.ax_f.plot([], [], "o", color="#b2182b", ms=6)
        self.ax_f.set_ylim(*_padded(values))
        self.ax_f.legend(loc="upper left", fontsize="small")
        (self._slope_curve,) = self.ax_slope.plot(
            xs, slopes, color="#b2182b", lw=1.5, label="f'(x) by autodiff"
        )
        (self._slope_point,) = self.ax_slope.plot([], [], "o", color="#b2182b", ms=6)
        (self._quotient_point,) = self.ax_slope.plot(
            [], [], "x", color="#2166ac", ms=8, mew=2, label="(f(x+h) − f(x)) / h"
        )
        self.ax_slope.set_ylim(*_padded(slopes))
        self.ax_slope.legend(loc="upper left", fontsize="small")
        self.ax_slope.set_title("the derivative f'", fontsize="medium")
        self._function_drawn = function

    def redraw(self, result: DerivativeResult) -> None:
        """Move the tangent, the secant and the dots (curves only on a new function)."""
        if self._function_drawn != result.function:
            self._draw_function(result.function)
        xs = np.array(X_RANGE)
        self._tangent.set_data(xs, result.fx + result.slope * (xs - result.x))
        self._secant.set_data(xs, result.fx + result.difference_quotient * (xs - result.x))
        self._points.set_data([result.x, result.x + result.h], [result.fx, result.fxh])
        self._point.set_data([result.x], [result.fx])
        self._slope_point.set_data([result.x], [result.slope])
        self._quotient_point.set_data([result.x], [result.difference_quotient])
        self.ax_f.set_title(
            f"{result.function}: slope at x = {result.x:.3g} is {result.slope:.4g}",
            fontsize="medium",
        )

    def describe(self, result: DerivativeResult) -> str:
        return describe_derivative(result)


def _padded(values: np.ndarray, fraction: float = 0.1) -> tuple[float, float]:
    """``(low, high)`` around the finite ``values`` with a margin, never a zero-height range."""
    finite = values[np.isfinite(values)]
    low, high = float(finite.min()), float(finite.max())
    margin = max(fraction * (high - low), 0.1)
    return low - margin, high + margin


# ----------------------------------------------------------------------------- the neuron

#: ``1 - o²`` below this: tanh is saturated and passes (almost) no gradient back.
SATURATION = 1e-3


@dataclass
class NeuronGraph:
    """The Values of ``o = tanh(w1·x1 + w2·x2 + b)`` and, if built, ``L = (o - y)²``.

    ``leaves`` maps "x1", "x2", "w1", "w2", "b" (and "y") to their leaf Values;
    ``root`` is ``loss`` when the loss was built, else ``o``. After
    ``root.backward()`` every ``.grad`` holds ``d root / d node``.
    """

    leaves: dict[str, Value]
    n: Value
    o: Value
    loss: Value | None

    @property
    def root(self) -> Value:
        """The output that ``backward()`` starts from: ``loss`` if built, else ``o``."""
        return self.loss if self.loss is not None else self.o

    @property
    def grads(self) -> dict[str, float]:
        """``d root / d leaf`` for every leaf, by name."""
        return {name: leaf.grad for name, leaf in self.leaves.items()}


def neuron_graph(
    x1: float, x2: float, w1: float, w2: float, b: float, y: float | None = None
) -> NeuronGraph:
    """Build (forward) and differentiate (backward) one tanh neuron and its squared loss.

    The graph, node by node (labels as drawn)::

        x1*w1 = x1 · w1
        x2*w2 = x2 · w2
        x1*w1 + x2*w2
        n = x1*w1 + x2*w2 + b          (the pre-activation)
        o = tanh(n)                    (the neuron's output)
        L = (o - y)**2                 (only when a target y is given)

    Returns a :class:`NeuronGraph` on which ``root.backward()`` has been called.
    """
    leaves = {
        "x1": Value(float(x1), label="x1"),
        "w1": Value(float(w1), label="w1"),
        "x2": Value(float(x2), label="x2"),
        "w2": Value(float(w2), label="w2"),
        "b": Value(float(b), label="b"),
    }
    x1w1 = leaves["x1"] * leaves["w1"]
    x1w1.label = "x1*w1"
    x2w2 = leaves["x2"] * leaves["w2"]
    x2w2.label = "x2*w2"
    weighted = x1w1 + x2w2
    weighted.label = "x1*w1 + x2*w2"
    n = weighted + leaves["b"]
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    loss = None
    if y is not None:
        leaves["y"] = Value(float(y), label="y")
        error = o - leaves["y"]
        error.label = "o - y"
        loss = error**2
        loss.label = "L"
    graph = NeuronGraph(leaves, n, o, loss)
    graph.root.backward()
    return graph


def describe_neuron(graph: NeuronGraph) -> str:
    """One line: ``o``, ``L`` and the gradients of the root wrt ``w1``, ``w2``, ``b``.

    Adds what is special about the current point: a saturated tanh
    (``1 - o² < SATURATION``) passes almost no gradient back, and ``o = y``
    is the loss's minimum, where every gradient is 0.
    """
    name = "L" if graph.loss is not None else "o"
    parts = [f"o = {graph.o.data:.4g}"]
    if graph.loss is not None:
        parts.append(f"L = {graph.loss.data:.4g}")
    grads = graph.grads
    parts += [f"∂{name}/∂{p} = {grads[p]:.4g}" for p in ("w1", "w2", "b")]
    text = ", ".join(parts)
    local = 1.0 - graph.o.data**2
    if local < SATURATION:
        text += (
            f". tanh is saturated (1 − o² = {local:.2g}): almost no gradient reaches "
            "the weights and the bias"
        )
    elif graph.loss is not None and graph.loss.data < 1e-12:
        text += ". o = y: the loss is at its minimum, so every gradient is 0"
    return text


class NeuronGraphWidget(LiveWidget):
    """Sliders for w1, w2, b, x1, x2 and the target y → the neuron's graph with values and grads.

    The checkbox "show loss" switches between the graph of ``o`` alone (grads
    are ``do/d·``) and the graph of ``L = (o - y)²`` (grads are ``dL/d·``); the
    ``y`` slider is active only while the loss is shown. ``result`` is a
    :class:`NeuronGraph`; the status line gives ``o``, ``L`` and the gradients
    of the weights and the bias.
    """

    def __init__(
        self,
        w1: float = 0.6,
        w2: float = 0.9,
        b: float = 0.1,
        x1: float = 2.0,
        x2: float = -1.0,
        y: float = 1.0,
        show_loss: bool = True,
    ) -> None:
        import ipywidgets as widgets

        style = {"description_width": "initial"}

        def slider(value: float, name: str, low: float = -3.0, high: float = 3.0) -> Any:
            return widgets.FloatSlider(
                value=value,
                min=low,
                max=high,
                step=0.1,
                description=name,
                readout_format=".1f",
                style=style,
                layout=widgets.Layout(width="260px"),
            )

        controls = {  # a weight first: moving it visibly changes the whole graph
            "w1": slider(w1, "w1"),
            "w2": slider(w2, "w2"),
            "b": slider(b, "b"),
            "x1": slider(x1, "x1"),
            "x2": slider(x2, "x2"),
            "y": slider(y, "y", -1.0, 1.0),
            "show_loss": widgets.Checkbox(
                value=show_loss, description="show loss L = (o − y)²", indent=False
            ),
        }
        controls["y"].disabled = not show_loss
        controls["show_loss"].observe(self._enable_target, names="value")
        fig, self.ax = live_figure(figsize=(10, 4.4))
        super().__init__(controls, fig)

    def _enable_target(self, change: dict[str, Any]) -> None:
        self.controls["y"].disabled = not change["new"]

    def compute(
        self, w1: float, w2: float, b: float, x1: float, x2: float, y: float, show_loss: bool
    ) -> NeuronGraph:
        """Forward and backward through the neuron (and the loss when ``show_loss``)."""
        return neuron_graph(x1, x2, w1, w2, b, y if show_loss else None)

    def redraw(self, result: NeuronGraph) -> None:
        """Draw the graph anew into the same Axes (``draw_graph`` clears it first)."""
        draw_graph(result.root, ax=self.ax)
        title = "o = tanh(w1·x1 + w2·x2 + b)"
        if result.loss is not None:
            title += ",  L = (o − y)²"
        self.ax.set_title(title + ";  boxes: label, value (data), gradient (grad)", fontsize=10)

    def describe(self, result: NeuronGraph) -> str:
        return describe_neuron(result)


__all__ = [
    "FUNCTIONS",
    "SATURATION",
    "DerivativeResult",
    "DerivativeWidget",
    "NeuronGraph",
    "NeuronGraphWidget",
    "curve_and_derivative",
    "describe_derivative",
    "describe_neuron",
    "neuron_graph",
    "value_and_derivative",
]
