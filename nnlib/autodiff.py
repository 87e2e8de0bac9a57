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

:func:`draw_graph` draws a graph with matplotlib (imported only when called):
value nodes as boxes showing label, data and grad, operations as circles.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from types import NotImplementedType
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # only for type hints; matplotlib is imported inside draw_graph
    from matplotlib.axes import Axes
    from matplotlib.text import Text


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


# ---------------------------------------------------------------------- drawing
_LEAF_COLOR = "#dbe9f6"
_INNER_COLOR = "#f4f4f4"
_ROOT_COLOR = "#fde2c4"
_OP_COLOR = "#ffffff"
_OP_SYMBOLS = {  # how an operation is written in its circle; others as in ``_op``
    "*": "\N{MULTIPLICATION SIGN}",
    "/": "\N{DIVISION SIGN}",
    "-": "\N{MINUS SIGN}",
    "neg": "\N{MINUS SIGN}x",
    "sigmoid": "\N{GREEK SMALL LETTER SIGMA}",
}


def _depths(order: list[Value]) -> dict[Value, int]:
    """Longest path from any leaf: 0 for leaves, 1 + max over inputs otherwise."""
    depth: dict[Value, int] = {}
    for node in order:  # inputs come before the nodes that use them
        depth[node] = 1 + max(depth[c] for c in node._prev) if node._prev else 0
    return depth


def _spread(wanted: list[float], gap: float = 1.0) -> list[float]:
    """Heights close to ``wanted`` (sorted high to low) that are at least ``gap`` apart."""
    ys: list[float] = []
    for w in wanted:
        ys.append(w if not ys else min(w, ys[-1] - gap))
    shift = (sum(wanted) - sum(ys)) / len(ys)  # keep the column centred where it wanted
    return [y + shift for y in ys]


def _layout(order: list[Value]) -> dict[Value, tuple[float, float]]:
    """(x, y) of every value node: x = depth; y spread within each column.

    Leaves are stacked in the order the graph lists them. A later node sits at
    the mean height of its inputs (so arrows stay short and flat), then nodes
    in the column are pushed apart until they are at least 1 unit apart.
    """
    depth = _depths(order)
    columns: dict[int, list[Value]] = {}
    for node in order:
        columns.setdefault(depth[node], []).append(node)
    pos: dict[Value, tuple[float, float]] = {}
    for d in sorted(columns):
        nodes = columns[d]
        if d == 0:
            wanted = {n: (len(nodes) - 1) / 2 - i for i, n in enumerate(nodes)}
        else:
            wanted = {n: sum(pos[c][1] for c in n._prev) / len(n._prev) for n in nodes}
        nodes = sorted(nodes, key=lambda n: -wanted[n])  # stable: ties keep graph order
        for n, y in zip(nodes, _spread([wanted[n] for n in nodes]), strict=True):
            pos[n] = (float(d), y)
    return pos


# Space one column and one row need, in multiples of the font size (em): a box,
# an operation circle and the arrows between them across; three lines and a gap down.
_COLUMN_EM_PER_CHAR = 0.6  # a monospace character is about 0.6 em wide
_COLUMN_EM_EXTRA = 7.0
_ROW_EM = 5.5
# Padding between a node's text and its outline, in multiples of the font size.
_BOX_PAD = 0.4
_CIRCLE_PAD = 0.25


def _value_text(node: Value) -> str:
    lines = [node.label] if node.label else []
    return "\n".join([*lines, f"data {_fmt(node.data)}", f"grad {_fmt(node.grad)}"])


def _size_in_em(order: list[Value], pos: dict[Value, tuple[float, float]]) -> tuple[float, float]:
    """(width, height) the drawing needs, in multiples of the font size."""
    widest = max(len(line) for node in order for line in _value_text(node).split("\n"))
    n_columns = 1 + max(x for x, _ in pos.values())
    n_rows = 1 + max(y for _, y in pos.values()) - min(y for _, y in pos.values())
    column_em = _COLUMN_EM_PER_CHAR * widest + _COLUMN_EM_EXTRA
    return n_columns * column_em, n_rows * _ROW_EM


def _crosses_a_node(
    start: tuple[float, float], end: tuple[float, float], pos: dict[Value, tuple[float, float]]
) -> bool:
    """Would a straight line from ``start`` to ``end`` run through a box or circle between them?"""
    (x0, y0), (x1, y1) = start, end
    for x, y in pos.values():
        for px in (x, x - 0.5):  # the value box and its operation circle
            if x0 < px < x1 and abs(y0 + (y1 - y0) * (px - x0) / (x1 - x0) - y) < 0.45:
                return True
    return False


class _Outline(NamedTuple):
    """The shape drawn around a node: a rectangle with rounded corners, or a circle.

    The centre ``(x, y)`` is in data units; the sizes are in points, like the
    text inside, so the shape keeps its size when the Axes is resized. A circle
    is the special case ``half_width == half_height == corner``.
    """

    x: float
    y: float
    half_width: float
    half_height: float
    corner: float


def _outline(text: Text, pad_em: float, circle: bool = False) -> _Outline:
    """The outline matplotlib draws for ``bbox=dict(boxstyle="round" or "circle", pad=pad_em)``.

    A round box is the text's extent plus ``pad_em`` font sizes on every side,
    with corners of radius ``pad_em`` font sizes; a circle is centred on the
    text and just wide enough for the padded extent.
    """
    extent = text.get_window_extent()  # in pixels; 72 points per inch
    points_per_pixel = 72 / text.figure.dpi
    pad = pad_em * text.get_fontsize()
    half_width = extent.width * points_per_pixel / 2 + pad
    half_height = extent.height * points_per_pixel / 2 + pad
    x, y = text.get_position()
    if circle:
        radius = max(half_width, half_height)
        return _Outline(x, y, radius, radius, radius)
    return _Outline(x, y, half_width, half_height, pad)


def _distance_outside(outline: _Outline, dx: float, dy: float) -> float:
    """How far (points) the point ``(dx, dy)`` points from the centre lies outside the outline.

    Negative inside. Shrinking the shape by its corner radius r leaves a
    rectangle with sharp corners, and the distance to the rounded shape is the
    distance to that rectangle minus r. With q = (|dx|, |dy|) - (inner half
    sizes): |max(q, 0)| + min(max(qx, qy), 0) - r.
    """
    r = outline.corner
    qx = abs(dx) - (outline.half_width - r)  # > 0: beyond the inner rectangle's side
    qy = abs(dy) - (outline.half_height - r)
    return math.hypot(max(qx, 0.0), max(qy, 0.0)) + min(max(qx, qy), 0.0) - r


# An arrow stops this many points short of an outline; its head is this long.
_ARROW_GAP = 1.0
_ARROW_HEAD = 10.0


def _bisect(is_inside: Callable[[float], bool], t_inside: float, t_outside: float) -> float:
    """The t in between where ``is_inside(t)`` flips (40 halvings: to 1e-12 of the interval)."""
    for _ in range(40):
        t = (t_inside + t_outside) / 2
        if is_inside(t):
            t_inside = t
        else:
            t_outside = t
    return (t_inside + t_outside) / 2


def _visible_arc(
    a: tuple[float, float], b: tuple[float, float], rad: float, start: _Outline, end: _Outline
) -> tuple[tuple[float, float], tuple[float, float], float]:
    """The part of matplotlib's ``arc3`` curve from centre a to centre b outside both outlines.

    All in points on screen. The curve is the quadratic Bezier curve
    B(t) = (1-t)^2 a + 2(1-t)t c + t^2 b, pulled towards c = m + rad (dy, -dx),
    with m the midpoint and (dx, dy) = b - a (rad = 0: the straight line).
    Bisection finds t0, where it leaves ``start``, and t1, where it enters
    ``end``, each ``_ARROW_GAP`` short of the outline. The piece from t0 to t1
    is a quadratic Bezier curve too, with the control point
    q = (1-t0)(1-t1) a + ((1-t0) t1 + t0 (1-t1)) c + t0 t1 b.

    Returns (p0, p1, rad'): the ends B(t0), B(t1) and the rad that puts arc3's
    control point as far from the chord p0 p1 as q is.
    """
    (xa, ya), (xb, yb) = a, b
    dx, dy = xb - xa, yb - ya
    xc, yc = (xa + xb) / 2 + rad * dy, (ya + yb) / 2 - rad * dx

    def on_curve(t: float) -> tuple[float, float]:
        s = 1 - t
        return s * s * xa + 2 * s * t * xc + t * t * xb, s * s * ya + 2 * s * t * yc + t * t * yb

    def in_start(t: float) -> bool:
        x, y = on_curve(t)
        return _distance_outside(start, x - xa, y - ya) < _ARROW_GAP

    def in_end(t: float) -> bool:
        x, y = on_curve(t)
        return _distance_outside(end, x - xb, y - yb) < _ARROW_GAP

    t0, t1 = _bisect(in_start, 0.0, 1.0), _bisect(in_end, 1.0, 0.0)
    (x0, y0), (x1, y1) = on_curve(t0), on_curve(t1)
    wa, wc, wb = (1 - t0) * (1 - t1), (1 - t0) * t1 + t0 * (1 - t1), t0 * t1
    xq, yq = wa * xa + wc * xc + wb * xb, wa * ya + wc * yc + wb * yb
    ex, ey = x1 - x0, y1 - y0  # the chord; (ey, -ex) is arc3's sideways direction
    chord_squared = ex * ex + ey * ey or 1.0  # p0 == p1 only if the two outlines overlap
    return (x0, y0), (x1, y1), ((xq - x0) * ey - (yq - y0) * ex) / chord_squared


def _arrow(ax: Axes, start: _Outline, end: _Outline, rad: float = 0.0) -> None:
    """Arrow from the outline of ``start`` to the outline of ``end``, bent by ``rad``.

    ``rad`` as in matplotlib's ``arc3`` connection style (0: straight). Where
    the arrow meets the outlines is computed once, here (see
    :func:`_visible_arc`), so matplotlib draws it without clipping it at the
    boxes, which would be slow. Each end is the node's centre in data units
    plus an offset in points, like the box around the text, so it stays on
    the outline when the Axes is resized.
    """
    from matplotlib.patches import ConnectionPatch
    from matplotlib.transforms import offset_copy

    points_per_pixel = 72 / ax.figure.dpi
    centres = ax.transData.transform([(start.x, start.y), (end.x, end.y)]) * points_per_pixel
    (xa, ya), (xb, yb) = centres.tolist()
    (x0, y0), (x1, y1), rad = _visible_arc((xa, ya), (xb, yb), rad, start, end)
    ax.add_artist(
        ConnectionPatch(
            xyA=(start.x, start.y),
            coordsA=offset_copy(ax.transData, ax.figure, x0 - xa, y0 - ya, units="points"),
            xyB=(end.x, end.y),
            coordsB=offset_copy(ax.transData, ax.figure, x1 - xb, y1 - yb, units="points"),
            arrowstyle="-|>",
            mutation_scale=_ARROW_HEAD,
            color="0.35",
            lw=1.0,
            connectionstyle=f"arc3,rad={rad}",
            zorder=3,  # as the boxes' text: drawn after (over) the boxes, in the order added
            in_layout=False,
        )
    )


def _draw_nodes(
    ax: Axes, root: Value, pos: dict[Value, tuple[float, float]], fontsize: float
) -> tuple[dict[Value, _Outline], dict[Value, _Outline]]:
    """A box per value and a circle per operation; returns their outlines (boxes, circles)."""
    boxes: dict[Value, _Outline] = {}
    circles: dict[Value, _Outline] = {}
    for node, (x, y) in pos.items():
        color = _ROOT_COLOR if node is root else _INNER_COLOR if node._prev else _LEAF_COLOR
        box = ax.text(
            x,
            y,
            _value_text(node),
            ha="center",
            va="center",
            fontsize=fontsize,
            family="monospace",
            bbox=dict(boxstyle=f"round,pad={_BOX_PAD}", fc=color, ec="0.4"),
            in_layout=False,  # see draw_graph: the limits keep every node inside the Axes
        )
        boxes[node] = _outline(box, _BOX_PAD)
        if node._prev:
            circle = ax.text(
                x - 0.5,
                y,
                _OP_SYMBOLS.get(node._op, node._op),
                ha="center",
                va="center",
                fontsize=fontsize,
                bbox=dict(boxstyle=f"circle,pad={_CIRCLE_PAD}", fc=_OP_COLOR, ec="0.4"),
                in_layout=False,
            )
            circles[node] = _outline(circle, _CIRCLE_PAD, circle=True)
    return boxes, circles


def _draw_arrows(
    ax: Axes,
    pos: dict[Value, tuple[float, float]],
    boxes: dict[Value, _Outline],
    circles: dict[Value, _Outline],
) -> None:
    """Input box -> operation circle -> result box, for every operation."""
    for node, circle in circles.items():
        _arrow(ax, circle, boxes[node])
        x, y = pos[node]
        for k, child in enumerate(node._prev):
            repeat = node._prev[:k].count(child)  # a + a: the second arrow bends
            bend = repeat > 0 or _crosses_a_node(pos[child], (x - 0.5, y), pos)
            _arrow(ax, boxes[child], circle, rad=0.3 * max(repeat, 1) if bend else 0.0)


def draw_graph(
    root: Value,
    ax: Axes | None = None,
    *,
    fontsize: float = 9,
    max_nodes: int = 200,
) -> Axes:
    """Draw the computational graph of ``root`` with matplotlib; return the Axes.

    Layout, left to right: column ``d`` holds the value nodes whose longest
    path from a leaf has ``d`` operations; the operation that made a node is a
    small circle just to its left. Boxes show the label (if any), ``data`` and
    ``grad``, rounded to 4 significant digits. Leaves are blue, ``root`` orange.
    An arrow that would run straight through a node is bent around it.

    Args:
        root: the output node; everything it depends on is drawn.
        ax: Axes to draw into. It is cleared first, so calling
            ``draw_graph(root, ax=ax)`` again after ``root.backward()`` or a
            parameter change redraws in place (live widgets then call
            ``ax.figure.canvas.draw_idle()``). If the Axes is too small for the
            graph at ``fontsize``, the text is made smaller so boxes do not
            overlap. None creates a figure sized to the graph.
        fontsize: text size in points (the largest used).
        max_nodes: refuse graphs with more value nodes than this (a drawing of
            thousands of boxes is unreadable and slow).

    matplotlib is imported here, not when ``nnlib.autodiff`` is imported.
    """
    order = topological_order(root)
    if len(order) > max_nodes:
        raise ValueError(
            f"draw_graph draws small graphs: this one has {len(order)} value nodes, more than "
            f"max_nodes={max_nodes}. Draw a smaller expression, or pass a larger max_nodes."
        )
    import matplotlib.pyplot as plt

    pos = _layout(order)
    width_em, height_em = _size_in_em(order, pos)
    if ax is None:
        inches = (width_em * fontsize / 72 + 0.3, height_em * fontsize / 72 + 0.3)
        _, ax = plt.subplots(figsize=inches, layout="constrained")
    else:  # shrink the text to what fits in the Axes (72 points per inch)
        extent = ax.get_window_extent()
        width_in, height_in = extent.width / ax.figure.dpi, extent.height / ax.figure.dpi
        fontsize = min(fontsize, 72 * width_in / width_em, 72 * height_in / height_em)
    ax.clear()
    ys = [y for _, y in pos.values()]
    ax.set_xlim(-0.75, max(x for x, _ in pos.values()) + 0.75)  # limits first: the arrows
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)  # need to know where the nodes are on screen
    ax.set_axis_off()
    # Nodes and arrows stay inside these limits, so they are left out of layout engines
    # (layout="constrained"), which would otherwise measure every text on every draw.
    boxes, circles = _draw_nodes(ax, root, pos, fontsize)
    _draw_arrows(ax, pos, boxes, circles)
    return ax
