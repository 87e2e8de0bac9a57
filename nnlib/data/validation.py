"""Checking inputs early, with messages that say how to fix the problem.

Every data function of the course validates what it is given before doing any
work: a NaN in the inputs silently turns every loss and gradient into NaN, and
a label outside ``0 .. C-1`` silently indexes the wrong class. The public
checks are :func:`check_finite` and :func:`check_labels`; the private helpers
below are shared by the other modules of :mod:`nnlib.data`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: A seed: an int, a ``numpy.random.Generator``, or ``None`` (fresh, not reproducible).
SeedLike = int | np.random.Generator | None


def check_finite(X: Any, name: str = "X") -> None:
    """Raise ``ValueError`` if the numeric array ``X`` holds a NaN or an infinity.

    Any shape is accepted. The message counts the bad values, the rows that hold
    them (axis 0) and, for a 2-D array, names the columns, because a NaN in the
    inputs silently turns every loss and gradient into NaN.
    """
    X = np.asarray(X)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
        raise ValueError(
            f"{name} must be a numeric array, got dtype {X.dtype}. Convert it with "
            f"np.asarray({name}, dtype=np.float32) after encoding any text columns."
        )
    if not np.issubdtype(X.dtype, np.inexact):
        return  # integers and booleans are always finite
    bad = ~np.isfinite(X)
    if not bad.any():
        return
    n_nan = int(np.isnan(X).sum())
    n_inf = int(bad.sum()) - n_nan
    where = ""
    if X.ndim >= 1:
        n_rows = int(bad.reshape(X.shape[0], -1).any(axis=1).sum())
        where = f" in {n_rows} of {X.shape[0]} rows"
    if X.ndim == 2:
        columns = np.flatnonzero(bad.any(axis=0)).tolist()
        shown = ", ".join(str(c) for c in columns[:10]) + (", ..." if len(columns) > 10 else "")
        where += f" (columns: {shown})"
    raise ValueError(
        f"{name} contains {n_nan} NaN and {n_inf} infinite values{where}. Models need "
        "finite numbers: fill missing values first (for example with the median of the "
        "column computed on the training rows), drop those rows, or replace them with "
        f"np.nan_to_num({name})."
    )


def check_labels(y: Any, n_classes: int | None = None, name: str = "y") -> np.ndarray:
    """Check that ``y`` holds class indices and return them as ``int64``, shape ``(N,)``.

    Valid labels are whole numbers ``0 <= y[i] < n_classes`` (only ``y[i] >= 0``
    when ``n_classes`` is ``None``) in a 1-D array. Integer and boolean arrays
    are accepted, and so are float arrays whose values are all whole numbers
    (``1.0`` becomes ``1``). Anything else raises ``ValueError`` that shows the
    offending value and the valid range.
    """
    y = np.asarray(y)
    if n_classes is not None:
        if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
            raise ValueError(f"n_classes must be an integer >= 1, got {n_classes!r}.")
        if n_classes < 1:
            raise ValueError(f"n_classes must be an integer >= 1, got {n_classes}.")
    if y.ndim != 1:
        hint = (
            f"use {name}.ravel() for a column of labels"
            if y.ndim == 2 and y.shape[1] == 1
            else f"if the rows are one-hot vectors, use {name}.argmax(axis=1)"
        )
        raise ValueError(
            f"{name} must be a 1-D array of class indices, got shape {y.shape}: {hint}."
        )
    if y.size == 0:
        raise ValueError(f"{name} is empty: need at least one label.")
    valid = "integers >= 0" if n_classes is None else f"0 .. {n_classes - 1}"
    if y.dtype == np.bool_:
        y = y.astype(np.int64)
    elif np.issubdtype(y.dtype, np.floating):
        whole = np.isfinite(y) & (y == np.round(y))
        if not whole.all():
            i = int(np.flatnonzero(~whole)[0])
            raise ValueError(
                f"{name} must hold integer class indices ({valid}), but {name}[{i}] = "
                f"{y[i].item()!r} is not a whole number. Labels are class numbers, not scores: "
                "threshold or argmax predictions first."
            )
        y = y.astype(np.int64)
    elif np.issubdtype(y.dtype, np.integer):
        y = y.astype(np.int64, copy=False)
    else:
        raise ValueError(
            f"{name} must hold integer class indices ({valid}), got dtype {y.dtype}. "
            f"Map class names to 0, 1, 2, ... first, e.g. with np.unique({name}, "
            "return_inverse=True)."
        )
    low, high = int(y.min()), int(y.max())
    if low < 0:
        raise ValueError(
            f"{name} contains the negative label {low}; class indices must be {valid}."
        )
    if n_classes is not None and high >= n_classes:
        raise ValueError(
            f"{name} contains the label {high}, but with n_classes={n_classes} the valid "
            f"range is {valid}. Pass a larger n_classes or relabel the classes."
        )
    return y


def _check_X(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a non-empty, finite NumPy array with at least one axis."""
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError(f"{name} must be an array with one example per row, got a scalar.")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}): need at least one example.")
    check_finite(X, name)
    return X


def _check_same_length(X: np.ndarray, y: np.ndarray) -> None:
    if len(X) != len(y):
        raise ValueError(
            f"X has {len(X)} rows but y has {len(y)} entries: they must have the same "
            "length, one target per example."
        )


def _rng(seed: SeedLike) -> np.random.Generator:
    """A NumPy ``Generator`` from an int seed, an existing generator, or ``None``.

    ``None`` draws fresh entropy from the operating system (not reproducible).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        return np.random.default_rng(seed)
    raise ValueError(
        f"seed must be an int, a numpy.random.Generator or None, got {type(seed).__name__}."
    )


def _float_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise ValueError(f"Unknown dtype {dtype!r}: use 'float32' or 'float64'.") from err
    if dt not in (np.float32, np.float64):
        raise ValueError(
            f"dtype must be float32 or float64, got {dt}. Use 'float32' (default, fast) "
            "or 'float64' (for gradient checks)."
        )
    return dt


def _check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _check_nonnegative(value: Any, name: str) -> float:
    if not (isinstance(value, (int, float, np.number)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}.")
    return float(value)
