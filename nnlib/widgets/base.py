"""The common machinery of the course's live widgets.

A :class:`LiveWidget` owns

* ``controls``: a dict of ipywidgets (sliders, dropdowns, toggles) by name,
* ``fig``: one matplotlib figure, created once; ``redraw`` updates it in place,
* ``status``: a label for what happened ("diverged at step 12", "saturated").

Moving any control calls :meth:`LiveWidget.update`, which reads the control
values, recomputes (``compute``) and redraws (``redraw``). Errors never escape
into the notebook: they are shown in the status line, so extreme settings
(learning rate 10, depth 20, width 1) show what happened instead of a traceback.

The figure uses ipympl's interactive canvas when ipympl is installed (smooth,
in-place updates in JupyterLab); otherwise a plain figure that is re-displayed.
Either way ``fig`` is an ordinary matplotlib ``Figure``, so tests can drive a
widget from Python and read the data of its artists::

    w = GradientDescentWidget()
    w.controls["learning_rate"].value = 0.5     # same as moving the slider
    w.result                                    # what compute() returned

The drawing pieces several widgets share live here too: :func:`freeze_layout`,
:func:`set_log_ticks`, :func:`log_drawable` (NaN-safe values for a log axis)
and the slider declarations that repeat (:func:`learning_rate_slider`).
"""

from __future__ import annotations

import base64
import io
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Lowest value drawn on a log-scale axis (a value of exactly 0 sits here).
LOG_FLOOR = 1e-30
#: Where an infinite value is drawn on a log-scale axis (a bar off the top).
LOG_CEILING = 1e30


def _import_ipympl_keeping_backend() -> bool:
    """Import ipympl without changing pyplot's backend; False if ipympl is missing.

    ipympl's first import switches pyplot's global backend to ipympl (its
    ``__init__`` calls ``matplotlib.use``). Left alone, every static figure a
    notebook draws after its first widget would become an interactive canvas
    instead of an inline image. So the previous backend is restored right away,
    *before* any live figure exists (switching backends closes pyplot's
    figures). In a notebook the inline backend is restored the way a learner
    would, with ``%matplotlib inline``, which also re-registers inline images.
    """
    import matplotlib

    backend = matplotlib.get_backend()
    try:
        import ipympl.backend_nbagg  # noqa: F401  (the import that may switch the backend)
    except ImportError:  # pragma: no cover - ipympl is in the course requirements
        return False
    if matplotlib.get_backend() != backend:
        shell = _ipython_shell()
        if shell is not None and backend in ("inline", INLINE_BACKEND):
            shell.run_line_magic("matplotlib", "inline")
        else:
            matplotlib.use(backend)
    return True


def _ipython_shell() -> Any:
    """The running IPython shell, or ``None`` outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    return get_ipython()


def live_figure(
    figsize: tuple[float, float] = (9, 3.5), nrows: int = 1, ncols: int = 1, **subplot_kw: Any
) -> tuple[Any, Any]:
    """Create ``(fig, axes)`` that can be redrawn in place.

    With ipympl installed the figure gets an interactive ipympl canvas (a
    widget), without changing the notebook's global plotting backend, so
    static figures elsewhere in the notebook stay ordinary inline images.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    if _import_ipympl_keeping_backend():
        from ipympl.backend_nbagg import Canvas, FigureManager

        with warnings.catch_warnings():
            # ipympl's toolbar passes an argument traitlets deprecates; harmless, and not ours.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="traitlets")
            canvas = Canvas(fig)
            FigureManager(canvas, 0)
        canvas.header_visible = False
        canvas.toolbar_visible = False
        canvas.resizable = False
    else:  # pragma: no cover - ipympl is in the course requirements
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=True, subplot_kw=subplot_kw or None)
    return fig, axes


def learning_rate_slider(
    value: float,
    min_exponent: float = -4,
    max_exponent: float = 1,
    step: float = 0.1,
    **kwargs: Any,
) -> Any:
    """A log-scale slider for a learning rate from ``10**min_exponent`` to ``10**max_exponent``.

    Learning rates that matter differ by orders of magnitude (1e-4 crawls, 10
    diverges), so the slider moves the exponent. Its description is "learning
    rate" in every widget of the course. Extra keyword arguments (``style``,
    ``continuous_update``) go to ``ipywidgets.FloatLogSlider``.
    """
    import ipywidgets as widgets

    return widgets.FloatLogSlider(
        value=value,
        base=10,
        min=min_exponent,
        max=max_exponent,
        step=step,
        description="learning rate",
        readout_format=".3g",
        **kwargs,
    )


def freeze_layout(fig: Any) -> None:
    """Lay ``fig`` out once (constrained layout), then keep it: re-laying out every draw is slow."""
    fig.set_layout_engine("constrained")
    fig.get_layout_engine().execute(fig)
    fig.set_layout_engine("none")


def set_log_ticks(ax: Any, low: float, high: float) -> None:
    """Readable ticks on a log-scale y axis spanning ``[low, high]``.

    Up to four decades: plain numbers at 1, 2 and 5 times each power of ten
    (0.2, 0.5, 1, 2); wider ranges: powers of ten written as ``10ⁿ``.
    """
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator

    if high / low < 1e4:
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=12))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        ax.yaxis.set_major_locator(LogLocator(numticks=7))
        ax.yaxis.set_major_formatter(LogFormatterSciNotation())


def log_drawable(values: Any) -> np.ndarray:
    """Values for a log axis: NaN stays NaN, the rest is at least :data:`LOG_FLOOR`.

    Infinite values are capped at :data:`LOG_CEILING` so they show as a bar
    off the top. Matplotlib leaves NaN out of a line or a scatter without a
    word, so a caller that may have NaN must mark those places itself (the
    vanishing-gradients widget draws a red × at the top of the axis).
    """
    values = np.asarray(values, dtype=np.float64)
    capped = np.where(np.isinf(values), LOG_CEILING, values)
    return np.where(np.isnan(capped), np.nan, np.maximum(capped, LOG_FLOOR))


class LiveWidget:
    """Base class: controls + a figure redrawn in place + a status line.

    Subclasses implement ``compute(**values) -> result`` (the model work, no
    drawing) and ``redraw(result)`` (update the figure from ``result``), and
    call ``super().__init__(controls, fig)`` at the end of their ``__init__``.
    """

    def __init__(self, controls: Mapping[str, Any], fig: Any) -> None:
        import ipywidgets as widgets

        self.controls = dict(controls)
        self.fig = fig
        self.status = widgets.HTML(value="")
        self.result: Any = None
        self.error: str | None = None
        self.last_update_seconds = 0.0
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    # -- to implement ------------------------------------------------------------
    def compute(self, **values: Any) -> Any:
        """Do the model work for the current control values; return a result."""
        raise NotImplementedError

    def redraw(self, result: Any) -> None:
        """Update ``self.fig`` from ``result`` (in place)."""
        raise NotImplementedError

    def describe(self, result: Any) -> str:
        """One line for the status label (e.g. final loss, or 'diverged at step k')."""
        return ""

    # -- machinery -----------------------------------------------------------------
    @property
    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change: Mapping[str, Any]) -> None:
        self.update()

    def update(self) -> None:
        """Recompute and redraw; show problems in the status line instead of raising."""
        start = time.perf_counter()
        try:
            self.result = self.compute(**self.values)
            self.redraw(self.result)
            self.error = None
            self.status.value = self.describe(self.result)
        except Exception as err:  # shown to the learner, never raised into the notebook
            self.error = f"{type(err).__name__}: {err}"
            self.status.value = f"<b>Could not update:</b> {self.error}"
        self.fig.canvas.draw_idle()
        self.last_update_seconds = time.perf_counter() - start

    def layout(self) -> Any:
        """The controls, the figure and the status line, arranged for display."""
        import ipywidgets as widgets

        controls = widgets.HBox(
            list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")
        )
        canvas = self.fig.canvas
        figure = canvas if isinstance(canvas, widgets.DOMWidget) else self._static_figure()
        return widgets.VBox([controls, figure, self.status])

    def _static_figure(self) -> Any:  # pragma: no cover - only without ipympl
        import ipywidgets as widgets
        from IPython.display import display

        out = widgets.Output()
        with out:
            display(self.fig)
        return out

    def keep_picture(self) -> bool:
        """Store the figure as a PNG in the saved notebook; True if it did.

        ipympl keeps a picture of its canvas (the ``_data_url`` of the canvas
        widget) for readers without a running kernel, such as the course
        website and notebook viewers, but only updates it on a redraw that a
        front end asked for. When the notebook runs without one (``jupyter
        nbconvert --execute``), this stores the figure as it is now. With a
        front end connected ipympl manages the picture itself.
        """
        canvas = self.fig.canvas
        if not getattr(canvas, "syncing_data_url", False):
            return False
        with io.BytesIO() as png:
            self.fig.savefig(png, format="png")
            canvas._data_url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
        return True

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self.keep_picture()
        display(self.layout())
