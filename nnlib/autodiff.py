"""Scalar reverse-mode automatic differentiation, in one page.

A :class:`Value` wraps one number (a Python ``float``, i.e. float64). Every
arithmetic operation on Values returns a new Value that remembers which Values
it was made from and which operation made it. The result is a *computational
graph*: leaves are the inputs and parameters, the last node is the output::

    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    x2, w2 = Value(0.0, label="x2"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()      # a neuron: o = tanh(x1 w1 + x2 w2 + b)
    o.backward()
    x1.grad, w1.grad                         # (-1.5, 1.0): do/dx1 and do/dw1

**Reverse mode.** ``o.backward()`` fills ``v.grad = do/dv`` for every node ``v``
the output depends on. It walks the graph *backwards*, from the output to the
leaves, so one sweep gives the derivative of one output with respect to *all*
inputs. That is exactly what training needs: one loss, many parameters.

**The chain rule.** If ``z = f(x, y)`` and the output ``o`` depends on ``z``, then

    do/dx = do/dz * dz/dx        do/dy = do/dz * dz/dy

``do/dz`` arrives from above (it is ``z.grad``); ``dz/dx`` and ``dz/dy`` are the
*local* derivatives of one operation, e.g. for ``z = x * y``: ``dz/dx = y``,
``dz/dy = x``. Each operation stores a small closure ``_backward`` that does
this multiplication for its own inputs, and nothing else.

**Why topological order.** A node may pass its gradient down only once it is
complete, i.e. after every node that uses it has passed its share up to it.
Sorting the graph so that every node comes after its inputs (a topological
order) and running ``_backward`` in the reverse of that order guarantees this.
The sort here is iterative (an explicit stack, no recursion), so a graph that is
50,000 operations deep works as well as a small one.

**Why gradients accumulate.** A node used twice influences the output along two
paths, and the multivariable chain rule *sums* over paths: for ``y = x * x``,
``dy/dx = x + x = 2x``. So every ``_backward`` adds into its inputs' grads
(``+=``) instead of overwriting them. The flip side: grads must start at zero,
which is why :meth:`Value.backward` zeroes the whole graph first.

:func:`draw_graph` draws a graph with matplotlib: value nodes as boxes showing
label, data and grad, operations as circles. The drawing code lives in
:mod:`nnlib.graph_drawing`, loaded (with matplotlib) only when ``draw_graph`` is
first used, so this module stays the one-page idea.
"""

from __future__ import annotations

import math
import numbers
from types import NotImplementedType
from typing import Any


def _fmt(x: float) -> str:
    """``x`` rounded to 4 significant digits, written as a float: 0.7616, 1.0, -1.5."""
    return repr(float(f"{x:.4g}"))


def _leaf_backward() -> None:
    """A leaf has no inputs, so it has no gradient to pass on."""


class Value:
    """One scalar in a computational graph, with its gradient.

    Attributes:
        data: the number (float64).
        grad: d(output)/d(this value) after ``output.backward()``; 0.0 before.
        label: an optional name shown by ``repr`` and :func:`draw_graph`.
        _prev: the Values this one was computed from (a tuple; an input used
            twice, as in ``a + a``, appears twice).
        _op: the operation that produced it ("+", "*", "tanh", ...; "" for a leaf).

    ``==`` compares identity (two Values with the same data are different
    nodes); compare ``.data`` to compare numbers.
    """

    def __init__(
        self, data: float, _children: tuple[Value, ...] = (), _op: str = "", label: str = ""
    ) -> None:
        if isinstance(data, Value):
            raise ValueError(
                f"Value(...) got a Value ({data!r}); it expects a plain number. "
                "Use the Value itself, or Value(v.data) for a new leaf with the same number."
            )
        if not isinstance(data, numbers.Real):
            raise ValueError(
                f"Value(...) expects a real number (int or float), got {type(data).__name__} "
                f"{data!r}. Convert it first, e.g. Value(float(x))."
            )
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._op = _op
        self.label = label
        self._backward = _leaf_backward

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={_fmt(self.data)}, grad={_fmt(self.grad)}{label})"

    # ------------------------------------------------------------------ binary ops
    def __add__(self, other: Value | float) -> Value:
        """z = x + y;  dz/dx = 1, dz/dy = 1."""
        other = _as_value(other)
        if other is NotImplemented:
            return NotImplemented
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other: Value | float) -> Value:
        """z = x - y;  dz/dx = 1, dz/dy = -1."""
        other = _as_value(other)
        if other is NotImplemented:
            return NotImplemented
        out = Value(self.data - other.data, (self, other), "-")

        def _backward() -> None:
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        """z = x * y;  dz/dx = y, dz/dy = x."""
        other = _as_value(other)
        if other is NotImplemented:
            return NotImplemented
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other: Value | float) -> Value:
        """z = x / y;  dz/dx = 1/y, dz/dy = -x/y**2.

        Raises ZeroDivisionError (as Python floats do) when y is 0.
        """
        other = _as_value(other)
        if other is NotImplemented:
            return NotImplemented
        if other.data == 0.0:
            raise ZeroDivisionError(
                f"Division by zero: the divisor {other!r} has data 0. "
                "Keep divisors away from 0, e.g. divide by (y + 1e-8) or check y first."
            )
        out = Value(self.data / other.data, (self, other), "/")

        def _backward() -> None:
            self.grad += out.grad / other.data
            other.grad -= self.data / other.data**2 * out.grad

        out._backward = _backward
        return out

    # Plain numbers on the left (2 * v, 1 - v, 3 / v) land here.
    def __radd__(self, other: float) -> Value:
        return self + other

    def __rsub__(self, other: float) -> Value:
        other = _as_value(other)
        return NotImplemented if other is NotImplemented else other - self

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rtruediv__(self, other: float) -> Value:
        other = _as_value(other)
        return NotImplemented if other is NotImplemented else other / self

    # ------------------------------------------------------------------ unary ops
    def __neg__(self) -> Value:
        """z = -x;  dz/dx = -1."""
        out = Value(-self.data, (self,), "neg")

        def _backward() -> None:
            self.grad -= out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Value:
        """z = x**n for a constant number n;  dz/dx = n * x**(n-1).

        Raises ValueError for a Value exponent or a negative x with a
        non-integer n (the result would be complex), and ZeroDivisionError for
        0 to a negative power.
        """
        if isinstance(exponent, Value):
            raise ValueError(
                "Value ** Value is not supported: the exponent must be a constant int or float, "
                f"got {exponent!r}. For a variable exponent use exp and log: "
                "x ** y == (y * x.log()).exp() for x > 0."
            )
        if not isinstance(exponent, numbers.Real):
            return NotImplemented
        n = float(exponent)
        if self.data < 0 and not n.is_integer():
            raise ValueError(
                f"{self!r} ** {exponent}: a negative number to a non-integer power is complex. "
                "Use an integer exponent, or make the base positive first."
            )
        if self.data == 0 and n < 0:
            raise ZeroDivisionError(
                f"{self!r} ** {exponent}: 0 to a negative power divides by zero. "
                "Keep the base away from 0, e.g. (x + 1e-8) ** n."
            )
        out = Value(self.data**n, (self,), f"**{exponent:g}")

        def _backward() -> None:
            self.grad += _power_derivative(self.data, n) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """z = e**x;  dz/dx = e**x = z."""
        try:
            result = math.exp(self.data)
        except OverflowError:
            raise OverflowError(
                f"exp({self.data:g}) is larger than the largest float64 (about 1.8e308): "
                "exp overflows for inputs above about 709.78. Rescale the input, or use "
                "sigmoid()/tanh(), which are stable for large inputs."
            ) from None
        out = Value(result, (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        """z = ln(x) for x > 0;  dz/dx = 1/x.  Raises ValueError for x <= 0."""
        if not self.data > 0:
            raise ValueError(
                f"log is defined only for positive numbers, got {self!r} (data={self.data}). "
                "Make the input positive first, e.g. log(x + 1e-12) for x >= 0, or take "
                "the log of a sigmoid or exp output."
            )
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """z = tanh(x) = (e**x - e**-x) / (e**x + e**-x);  dz/dx = 1 - z**2."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        """z = 1 / (1 + e**-x);  dz/dx = z * (1 - z).

        Computed so that ``exp`` only ever sees a non-positive number, which
        cannot overflow: for x >= 0, z = 1 / (1 + e**-x); for x < 0, the equal
        form z = e**x / (1 + e**x). So sigmoid(1000) = 1.0 and sigmoid(-1000) = 0.0.
        """
        if self.data >= 0:
            z = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            z = e / (1.0 + e)
        out = Value(z, (self,), "sigmoid")

        def _backward() -> None:
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """z = max(0, x);  dz/dx = 1 if x > 0 else 0 (0 at x = 0 by convention)."""
        out = Value(max(0.0, self.data), (self,), "ReLU")

        def _backward() -> None:
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    # ------------------------------------------------------------------ gradients
    def backward(self) -> None:
        """Fill ``v.grad = d(self)/dv`` for this node and every node it depends on.

        Steps: (1) sort the graph topologically, (2) set every node's grad to
        0.0, (3) seed ``self.grad = 1.0`` (d self / d self), (4) call each
        node's ``_backward`` from the output down to the leaves.

        Because of step (2), calling ``backward()`` twice gives the same grads,
        not doubled ones, and grads left over from another output sharing these
        leaves are overwritten. To get the gradient of a sum of outputs, build
        the sum (``total = loss1 + loss2``) and call ``total.backward()``.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Set ``grad = 0.0`` on this node and every node it depends on."""
        for node in topological_order(self):
            node.grad = 0.0


def _as_value(x: Any) -> Value | NotImplementedType:
    """``x`` itself if it is a Value, a new leaf if it is a number, else NotImplemented.

    Returning NotImplemented lets Python raise its usual TypeError for
    ``Value + "text"``.
    """
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real):
        return Value(x)
    return NotImplemented


def _power_derivative(x: float, n: float) -> float:
    """d/dx x**n = n * x**(n-1), with the limits at x = 0 made explicit.

    n = 0 gives 0 (x**0 is constant); 0 < n < 1 at x = 0 gives +inf (as for sqrt).
    """
    if n == 0:
        return 0.0
    if x == 0 and n < 1:
        return math.inf
    return n * x ** (n - 1)


def topological_order(root: Value) -> list[Value]:
    """Every node that ``root`` depends on, each once, inputs before outputs.

    Leaves come first and ``root`` is last, so ``reversed(order)`` is the order
    in which gradients flow. Depth-first search with an explicit stack instead
    of recursion, so the depth of the graph is limited by memory only. Each
    stack entry is ``(node, inputs_done)``: a node is appended to the order the
    second time it is popped, after all its inputs have been appended.
    """
    if not isinstance(root, Value):
        raise ValueError(
            f"topological_order expects a Value, got {type(root).__name__}. "
            "Pass the output node of a computation, e.g. topological_order(loss)."
        )
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for child in reversed(node._prev):  # reversed: inputs are visited left to right
            if child not in visited:
                stack.append((child, False))
    return order


def __getattr__(name: str) -> Any:
    """``nnlib.autodiff.draw_graph``, loaded from :mod:`nnlib.graph_drawing` on first use."""
    if name == "draw_graph":
        from .graph_drawing import draw_graph

        return draw_graph
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
