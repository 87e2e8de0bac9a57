"""Drawing a computational graph of :class:`~nnlib.autodiff.Value` nodes with matplotlib.

:func:`draw_graph` lays the graph out left to right: column ``d`` holds the
value nodes whose longest path from a leaf has ``d`` operations, each shown as a
box with its label, ``data`` and ``grad``; the operation that made a node is a
small circle just to its left; arrows run from inputs to operations to outputs.

Most of this module is geometry that a learner can skip: sizing boxes in units
of the font size, bending an arrow around a node it would cross, and finding
where an arrow leaves one outline and enters another (by bisection along the
arc, so arrow heads touch the outlines exactly). The autodiff itself is in
:mod:`nnlib.autodiff`; this module only reads ``data``, ``grad``, ``_prev``
and ``_op`` of the nodes.

matplotlib is imported inside the functions that draw, so importing this module
is cheap; ``nnlib.autodiff.draw_graph`` loads it on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from .autodiff import Value, _fmt, topological_order

if TYPE_CHECKING:  # only for type hints; matplotlib is imported inside draw_graph
    from matplotlib.axes import Axes
    from matplotlib.text import Text

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
