"""Tests for nnlib.autodiff: gradients against finite differences, graph walking, drawing."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib.autodiff import Value, draw_graph, topological_order

REPO_ROOT = Path(__file__).resolve().parents[1]
H = 1e-5  # finite-difference step
RTOL = 1e-6

fd_settings = settings(max_examples=60)  # determinism and deadline: tests/conftest.py

# Numbers with |x| in [0.2, 5]: away from 0, where 1/x, log and relu have trouble.
nonzero = st.tuples(st.floats(0.2, 5.0), st.sampled_from([1.0, -1.0])).map(lambda t: t[0] * t[1])
positive = st.floats(0.2, 5.0)


def relative_error(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-12)


def numerical_grads(f: Callable[..., Value], xs: list[float]) -> list[float]:
    """Centred differences (f(x + h) - f(x - h)) / 2h for each input, in float64."""
    grads = []
    for i in range(len(xs)):
        up = [Value(x + H if j == i else x) for j, x in enumerate(xs)]
        down = [Value(x - H if j == i else x) for j, x in enumerate(xs)]
        grads.append((f(*up).data - f(*down).data) / (2 * H))
    return grads


def check_grads(f: Callable[..., Value], xs: list[float]) -> None:
    inputs = [Value(x) for x in xs]
    f(*inputs).backward()
    for i, (v, expected) in enumerate(zip(inputs, numerical_grads(f, xs), strict=True)):
        assert relative_error(v.grad, expected) < RTOL, (i, xs, v.grad, expected)


# ---------------------------------------------------------------- each operation


@pytest.mark.parametrize(
    ("op", "forward"),
    [
        (lambda x, y: x + y, lambda x, y: x + y),
        (lambda x, y: x - y, lambda x, y: x - y),
        (lambda x, y: x * y, lambda x, y: x * y),
        (lambda x, y: x / y, lambda x, y: x / y),
    ],
    ids=["add", "sub", "mul", "div"],
)
@fd_settings
@given(x=nonzero, y=nonzero)
def test_binary_ops_values_and_grads(op, forward, x: float, y: float) -> None:
    assert op(Value(x), Value(y)).data == forward(x, y)
    check_grads(op, [x, y])


@pytest.mark.parametrize(
    ("op", "forward", "xs"),
    [
        (lambda x: -x, lambda x: -x, nonzero),
        (lambda x: x.exp(), math.exp, st.floats(-5.0, 5.0)),
        (lambda x: x.log(), math.log, positive),
        (lambda x: x.tanh(), math.tanh, st.floats(-3.0, 3.0)),
        (lambda x: x.sigmoid(), lambda x: 1 / (1 + math.exp(-x)), st.floats(-5.0, 5.0)),
        (lambda x: x.relu(), lambda x: max(x, 0.0), nonzero),
    ],
    ids=["neg", "exp", "log", "tanh", "sigmoid", "relu"],
)
@fd_settings
@given(data=st.data())
def test_unary_ops_values_and_grads(op, forward, xs, data) -> None:
    x = data.draw(xs)
    assert math.isclose(op(Value(x)).data, forward(x), rel_tol=1e-12, abs_tol=1e-300)
    check_grads(op, [x])


@fd_settings
@given(x=nonzero, n=st.integers(-3, 4))
def test_pow_integer_exponent(x: float, n: int) -> None:
    assert math.isclose((Value(x) ** n).data, x**n, rel_tol=1e-12)
    check_grads(lambda v: v**n, [x])


@fd_settings
@given(x=positive, n=st.floats(0.1, 2.5) | st.floats(-2.5, -0.1))  # n = 0: tested below
def test_pow_float_exponent(x: float, n: float) -> None:
    assert math.isclose((Value(x) ** n).data, x**n, rel_tol=1e-12)
    check_grads(lambda v: v**n, [x])


@fd_settings
@given(a=nonzero, b=st.floats(-3.0, 3.0), c=nonzero)
def test_composite_expression_grads(a: float, b: float, c: float) -> None:
    def f(a: Value, b: Value, c: Value) -> Value:
        top = (a * b - c / a) ** 2 + (b.tanh() + 1).log() * c.sigmoid() - (-a).relu()
        return (top + (0.1 * c).exp()) / (1 + b * b)

    check_grads(f, [a, b, c])


def test_reflected_ops_with_plain_numbers() -> None:
    v = Value(4.0)
    cases = {  # expression -> (value, d/dv)
        "2 * v": (2 * v, 8.0, 2.0),
        "v * 2": (v * 2, 8.0, 2.0),
        "1 - v": (1 - v, -3.0, -1.0),
        "v - 1": (v - 1, 3.0, 1.0),
        "3 / v": (3 / v, 0.75, -3 / 16),
        "v / 2": (v / 2, 2.0, 0.5),
        "1 + v": (1 + v, 5.0, 1.0),
    }
    for name, (out, value, grad) in cases.items():
        out.backward()
        assert out.data == value, name
        assert v.grad == grad, name


def test_relu_gradient_at_zero_is_zero() -> None:
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert (y.data, x.grad) == (0.0, 0.0)


def test_pow_zero_exponent_and_sqrt_at_zero() -> None:
    x = Value(3.0)
    (x**0).backward()
    assert x.grad == 0.0
    z = Value(0.0)
    (z**0.5).backward()
    assert z.grad == math.inf


# ---------------------------------------------------------------- graph and accumulation


@fd_settings
@given(x=nonzero)
def test_node_used_twice_gets_sum_of_both_paths(x: float) -> None:
    v = Value(x)
    (v * v).backward()
    assert v.grad == 2 * x

    v = Value(x)
    (v + v).backward()
    assert v.grad == 2.0

    a, b = Value(x), Value(3.0)
    (a * b + a).backward()  # two paths from a: through a*b (b) and directly (1)
    assert a.grad == 3.0 + 1.0
    assert b.grad == x


def test_backward_twice_gives_the_same_grads() -> None:
    a, b = Value(1.5), Value(-2.0)
    out = (a * b + a.exp()).tanh()
    out.backward()
    first = (a.grad, b.grad, out.grad)
    out.backward()
    assert (a.grad, b.grad, out.grad) == first
    assert a.grad != 0.0


def test_backward_of_another_output_overwrites_shared_leaves() -> None:
    x = Value(2.0)
    square, triple = x * x, 3 * x
    square.backward()
    assert x.grad == 4.0
    triple.backward()
    assert x.grad == 3.0


def test_zero_grad_clears_the_whole_graph() -> None:
    a, b = Value(1.0), Value(2.0)
    mid = a * b
    out = mid + a
    out.backward()
    assert all(v.grad != 0.0 for v in (a, b, mid, out))
    out.zero_grad()
    assert all(v.grad == 0.0 for v in (a, b, mid, out))


def test_topological_order_puts_inputs_first_and_each_node_once() -> None:
    a = Value(1.0, label="a")
    b, c = a * 2, a + 1  # a diamond: a feeds b and c, both feed d
    d = b * c + a
    order = topological_order(d)
    assert order[-1] is d
    assert len(order) == len({id(v) for v in order})
    position = {id(v): i for i, v in enumerate(order)}
    for node in order:
        assert all(position[id(child)] < position[id(node)] for child in node._prev)
    assert {id(v) for v in (a, b, c, d)} <= set(position)


def test_deep_chain_without_recursion_error() -> None:
    x = Value(0.7)
    y = x
    n = 25_000  # 25,000 multiplications and 25,000 additions: y <- 0.5 * y + x
    for _ in range(n):
        y = y * 0.5 + x
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # far below the depth, so recursion would fail
    try:
        y.backward()
        assert len(topological_order(y)) == 1 + 3 * n  # x, and per step a constant, y*c, +
    finally:
        sys.setrecursionlimit(limit)
    # dy_k/dx = 0.5 dy_{k-1}/dx + 1 with dy_0/dx = 1, whose limit is 1 / (1 - 0.5) = 2
    assert math.isclose(x.grad, 2.0, rel_tol=1e-12)
    assert math.isclose(y.data, 1.4, rel_tol=1e-12)


def test_neuron_against_hand_computed_values() -> None:
    # b = 6 + asinh(1) makes n = x1 w1 + x2 w2 + b = -6 + 0 + b = asinh(1),
    # and tanh(asinh(1)) = 1/sqrt(2), so do/dn = 1 - o^2 = 1/2 exactly (up to rounding).
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    x2, w2 = Value(0.0, label="x2"), Value(1.0, label="w2")
    b = Value(6.0 + math.asinh(1.0), label="b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    assert math.isclose(o.data, 1 / math.sqrt(2), rel_tol=1e-12)
    expected = {  # do/dv = do/dn * dn/dv
        "x1": 0.5 * -3.0,
        "w1": 0.5 * 2.0,
        "x2": 0.5 * 1.0,
        "w2": 0.5 * 0.0,
        "b": 0.5,
    }
    for v in (x1, w1, x2, w2, b):
        assert math.isclose(v.grad, expected[v.label], rel_tol=1e-12, abs_tol=1e-15), v


@pytest.mark.filterwarnings("error")  # an overflow warning would fail the test
def test_sigmoid_is_stable_for_large_inputs() -> None:
    for x, value in [(1000.0, 1.0), (-1000.0, 0.0)]:
        v = Value(x)
        s = v.sigmoid()
        s.backward()
        assert s.data == value
        assert v.grad == 0.0
    # far in the left tail the result keeps its relative precision
    tail = Value(-40.0).sigmoid().data
    assert math.isclose(tail, math.exp(-40.0) / (1 + math.exp(-40.0)), rel_tol=1e-12)


# ---------------------------------------------------------------- errors and repr


@pytest.mark.parametrize("x", [0.0, -1.0, -1e-300])
def test_log_of_nonpositive_raises_helpful_error(x: float) -> None:
    with pytest.raises(ValueError, match=r"log is defined only for positive numbers") as err:
        Value(x).log()
    assert repr(x) in str(err.value)


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="constant int or float"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="complex"):
        Value(-8.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="negative power"):
        Value(0.0) ** -1
    with pytest.raises(ZeroDivisionError, match="divisor"):
        Value(1.0) / 0
    with pytest.raises(OverflowError, match="709"):
        Value(1000.0).exp()
    with pytest.raises(ValueError, match="real number"):
        Value("2.0")
    with pytest.raises(ValueError, match="plain number"):
        Value(Value(2.0))
    with pytest.raises(TypeError):
        Value(1.0) + "1"
    with pytest.raises(ValueError, match="expects a Value"):
        topological_order(3.0)


def test_repr_rounds_to_four_significant_digits() -> None:
    v = Value(1.0).tanh()
    v.backward()
    assert repr(v) == "Value(data=0.7616, grad=1.0)"
    assert repr(Value(-1234.5678, label="w")) == "Value(data=-1235.0, grad=0.0, label='w')"


# ---------------------------------------------------------------- drawing


def neuron() -> tuple[Value, list[Value]]:
    """o = tanh(x1 w1 + x2 w2 + b), every node labelled; returns (o, all nodes)."""
    x1, w1 = Value(2.0, label="x1"), Value(-3.0, label="w1")
    x2, w2 = Value(0.0, label="x2"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1, x2w2 = x1 * w1, x2 * w2
    s = x1w1 + x2w2
    n = s + b
    o = n.tanh()
    nodes = {"x1*w1": x1w1, "x2*w2": x2w2, "s": s, "n": n, "o": o}
    for name, node in nodes.items():
        node.label = name
    return o, [x1, w1, x2, w2, b, *nodes.values()]


def new_axes(figsize: tuple[float, float] = (10, 5)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig.subplots()


def node_texts(ax) -> list:
    """The boxes and circles: every Text in the Axes (the arrows are patches, not texts)."""
    return list(ax.texts)


def arrows(ax) -> list:
    """The arrows: one ConnectionPatch per edge of the graph."""
    from matplotlib.patches import ConnectionPatch

    return [p for p in ax.patches if isinstance(p, ConnectionPatch)]


def distance_to_outline(point, text) -> float:
    """Pixels from ``point`` to the outline matplotlib drew around ``text`` (after a draw)."""
    patch = text.get_bbox_patch()
    outline = patch.get_transform().transform_path(patch.get_path())
    distances = []
    for polygon in outline.to_polygons(closed_only=False):  # curves become short segments
        a, b = polygon[:-1], polygon[1:]
        t = np.clip(np.sum((point - a) * (b - a), axis=1) / np.sum((b - a) ** 2, axis=1), 0, 1)
        distances.append(np.hypot(*(a + t[:, None] * (b - a) - point).T).min())
    return min(distances)


def drawn_edges(ax, tolerance: float = 2.5) -> Counter:
    """(i, j) for every arrow, counted: it starts on the outline of node_texts(ax)[i] and its
    tip touches node_texts(ax)[j] (the nearest outlines, within ``tolerance`` pixels)."""
    texts = node_texts(ax)
    edges = Counter()
    for arrow in arrows(ax):
        ends = arrow.coords1.transform(arrow.xy1), arrow.coords2.transform(arrow.xy2)
        nearest = []
        for end in ends:
            distances = [distance_to_outline(end, t) for t in texts]
            assert min(distances) <= tolerance, (end, distances)  # on an outline
            nearest.append(int(np.argmin(distances)))
        edges[tuple(nearest)] += 1
    return edges


def graph_edges(root: Value, ax) -> Counter:
    """(i, j) indices into node_texts(ax) of every edge the graph has: input box -> operation
    circle (once per use of the input), circle -> result box. Nodes need distinct labels."""
    texts = node_texts(ax)
    box = {t.get_text().split("\n")[0]: i for i, t in enumerate(texts) if "\n" in t.get_text()}
    at = {tuple(t.get_position()): i for i, t in enumerate(texts)}
    edges = Counter()
    for v in topological_order(root):
        if v._prev:
            x, y = texts[box[v.label]].get_position()
            circle = at[(x - 0.5, y)]  # the operation is drawn half a column to the left
            edges[(circle, box[v.label])] += 1
            for child in v._prev:
                edges[(box[child.label], circle)] += 1
    return edges


def reused_and_crossing() -> Value:
    """out = (x + x) * a + x: x is used twice by one operation (the second arrow bends), and
    its straight arrow to the last + would run through the box of x + x (it bends around)."""
    x, a = Value(1.5, label="x"), Value(-2.0, label="a")
    twice = x + x
    twice.label = "x + x"
    scaled = twice * a
    scaled.label = "(x + x) * a"
    out = scaled + x
    out.label = "out"
    out.backward()
    return out


def boxes_by_label(ax) -> dict[str, tuple[float, float, float]]:
    """label -> (x position, data, grad) read back from the drawn value boxes."""
    out = {}
    for t in node_texts(ax):
        lines = t.get_text().split("\n")
        if len(lines) == 3:
            label, data, grad = lines
            out[label] = (t.get_position()[0], float(data.split()[1]), float(grad.split()[1]))
    return out


def test_draw_graph_shows_every_node_with_data_and_grad() -> None:
    from matplotlib.axes import Axes

    o, nodes = neuron()
    o.backward()
    ax = draw_graph(o, ax=new_axes())
    assert isinstance(ax, Axes)
    inner = [v for v in nodes if v._prev]
    assert len(node_texts(ax)) == len(nodes) + len(inner)  # a box per value, a circle per op
    shown = boxes_by_label(ax)
    assert set(shown) == {v.label for v in nodes}
    for v in nodes:  # rounded to 4 significant digits
        _, data, grad = shown[v.label]
        assert math.isclose(data, v.data, rel_tol=5e-4), v
        assert math.isclose(grad, v.grad, rel_tol=5e-4), v
    assert shown["o"][1:] == (0.7071, 1.0)
    ops = {t.get_text() for t in node_texts(ax) if "\n" not in t.get_text()}
    assert {"tanh", "+"} <= ops
    assert len(arrows(ax)) == sum(1 + len(v._prev) for v in inner)


@pytest.mark.parametrize("graph", ["neuron", "reused_and_crossing"])
def test_draw_graph_arrows_run_from_outline_to_outline_along_every_edge(graph: str) -> None:
    root = neuron()[0] if graph == "neuron" else reused_and_crossing()
    ax = draw_graph(root, ax=new_axes())
    ax.figure.canvas.draw()
    expected = graph_edges(root, ax)
    assert drawn_edges(ax) == expected
    bent = [arrow for arrow in arrows(ax) if abs(arrow.get_connectionstyle().rad) > 0.01]
    assert len(bent) == (0 if graph == "neuron" else 2)
    # The ends sit at fixed offsets in points from the node centres, like the boxes
    # around the text, so a resized figure still has every arrow touching its outlines.
    ax.figure.set_size_inches(12, 7)
    ax.figure.canvas.draw()
    assert drawn_edges(ax) == expected


def test_draw_graph_redraws_in_place() -> None:
    o, _ = neuron()
    ax = new_axes()
    draw_graph(o, ax=ax)
    before = [t.get_text() for t in ax.texts]
    n_arrows = len(arrows(ax))
    assert "x1\ndata 2.0\ngrad 0.0" in before
    o.backward()
    assert draw_graph(o, ax=ax) is ax
    after = [t.get_text() for t in ax.texts]
    assert len(after) == len(before)  # cleared, not drawn on top
    assert len(arrows(ax)) == n_arrows
    assert "x1\ndata 2.0\ngrad -1.5" in after


@pytest.mark.parametrize("figsize", [None, (10, 5), (5, 2.5)], ids=["own", "given", "small"])
def test_draw_graph_layout_is_readable(figsize) -> None:
    import matplotlib.pyplot as plt

    o, _ = neuron()
    o.backward()
    ax = draw_graph(o, ax=None if figsize is None else new_axes(figsize))
    try:
        ax.figure.canvas.draw()
        renderer = ax.figure.canvas.get_renderer()
        boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in node_texts(ax)]
        x_of = {label: x for label, (x, _, _) in boxes_by_label(ax).items()}
        inside = ax.get_window_extent(renderer)
    finally:
        plt.close(ax.figure)
    for i, a in enumerate(boxes):  # no box or circle overlaps another
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    for box in boxes:  # nothing is cut off
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1
    # left to right: every value is drawn right of the values it was computed from
    for v in topological_order(o):
        assert all(x_of[v.label] > x_of[child.label] for child in v._prev), v


def test_draw_graph_refuses_huge_graphs() -> None:
    y = Value(1.0)
    for _ in range(300):
        y = y + 1
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(y, ax=new_axes())


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )


def test_importing_autodiff_does_not_import_matplotlib() -> None:
    result = run_python("import nnlib.autodiff, sys; assert 'matplotlib' not in sys.modules")
    assert result.returncode == 0, result.stderr


def test_autodiff_module_itself_imports_neither_numpy_nor_matplotlib() -> None:
    # Load the file on its own, so imports made by the nnlib package do not count.
    path = REPO_ROOT / "nnlib" / "autodiff.py"
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('autodiff', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert 'numpy' not in sys.modules, 'numpy'\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib'\n"
        "assert module.Value(2.0) * 3 is not None\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
