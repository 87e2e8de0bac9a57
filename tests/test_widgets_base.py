"""The machinery shared by every live widget (nnlib/widgets/base.py)."""

from __future__ import annotations

import base64
import io

import pytest

pytest.importorskip("ipympl")
from matplotlib.image import imread  # noqa: E402

from nnlib.widgets.gradient_descent import GradientDescentWidget  # noqa: E402

PREFIX = "data:image/png;base64,"


def test_a_picture_of_the_figure_is_kept_for_readers_without_a_kernel() -> None:
    widget = GradientDescentWidget()
    assert widget.fig.canvas._data_url is None
    assert widget.keep_picture() is True
    data_url = widget.fig.canvas._data_url
    assert data_url.startswith(PREFIX)
    image = imread(io.BytesIO(base64.b64decode(data_url[len(PREFIX) :])), format="png")
    width, height = widget.fig.get_size_inches() * widget.fig.dpi
    assert image.shape[:2] == (round(height), round(width))
    assert image[..., :3].std() > 0.05, "the picture is blank"


def test_with_a_front_end_connected_ipympl_keeps_the_picture_itself() -> None:
    widget = GradientDescentWidget()
    widget.fig.canvas.syncing_data_url = False  # what ipympl does once JupyterLab renders it
    assert widget.keep_picture() is False
    assert widget.fig.canvas._data_url is None
