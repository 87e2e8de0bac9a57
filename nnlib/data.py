"""Data for the course: toy 2-D sets, real data sets, splits, scaling and batching.

Everything here is plain NumPy. A data set is a pair of arrays:

* ``X``: shape ``(N, D)``, one example per row, floating point;
* ``y``: shape ``(N,)``, an ``int64`` class index ``0 .. C-1`` for
  classification, a float target for regression.

Toy sets (``make_moons``, ``make_circles``, ``make_spirals``, ``make_xor``,
``make_blobs``) are random samples from a known 2-D distribution, so they can be
drawn and their decision boundaries plotted. Each takes a ``seed``: the same
seed gives the same points, a different seed a different sample. Classes are
balanced (their sizes differ by at most one) and rows come in random order.

Real sets (``load_digits``, ``load_breast_cancer``, ``load_california_housing``)
are read from the project's ``data/`` folder, never from the network, and their
SHA-256 checksum is verified first, so every learner trains on the same bytes.

Good practice the functions below encode:

* split first (``train_val_test_split``), then fit anything that learns from
  data (``Standardizer``) on the training rows only;
* shuffle minibatches with a seeded generator (``iterate_minibatches``);
* validate inputs early (``check_finite``, ``check_labels``) with messages that
  say how to fix the problem.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "BREAST_CANCER_MEASUREMENTS",
    "DATA_DIR",
    "HOUSING_NUMERIC_COLUMNS",
    "OCEAN_PROXIMITY_CATEGORIES",
    "SHA256",
    "Dataset",
    "Standardizer",
    "Split",
    "TrainTestSplit",
    "bootstrap_indices",
    "check_finite",
    "check_labels",
    "data_dir",
    "iterate_minibatches",
    "kfold_indices",
    "load_breast_cancer",
    "load_california_housing",
    "load_digits",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "minibatch_indices",
    "one_hot",
    "out_of_bag_mask",
    "standardize",
    "train_test_split",
    "train_val_test_split",
]

SeedLike = int | np.random.Generator | None

# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Toy 2-D data sets
# --------------------------------------------------------------------------------------


def _class_sizes(n_samples: int, n_classes: int) -> np.ndarray:
    """Balanced class sizes: ``n_samples`` split into ``n_classes`` parts differing by <= 1."""
    n_samples = _check_positive_int(n_samples, "n_samples")
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples={n_samples} is smaller than the number of classes ({n_classes}): "
            "ask for at least one example per class."
        )
    sizes = np.full(n_classes, n_samples // n_classes)
    sizes[: n_samples % n_classes] += 1
    return sizes


def _finish(
    X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator, dtype: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Add Gaussian noise of standard deviation ``noise``, shuffle rows, cast."""
    X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(X))
    return X[order].astype(_float_dtype(dtype)), y[order].astype(np.int64)


def make_moons(
    n_samples: int = 200, noise: float = 0.1, seed: SeedLike = 0, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles ("moons"): not separable by a straight line.

    Class 0 lies on the upper half of the unit circle, class 1 on a lower half
    circle shifted right and up::

        class 0:  (cos t,     sin t),          t ~ Uniform(0, pi)
        class 1:  (1 - cos t, 1/2 - sin t),    t ~ Uniform(0, pi)

    then every coordinate gets Gaussian noise of standard deviation ``noise``.
    Returns ``X`` of shape ``(n_samples, 2)`` and ``dtype``, and ``y`` of shape
    ``(n_samples,)``, ``int64`` in ``{0, 1}``.
    """
    noise = _check_nonnegative(noise, "noise")
    sizes = _class_sizes(n_samples, 2)
    rng = _rng(seed)
    t0, t1 = rng.uniform(0, np.pi, sizes[0]), rng.uniform(0, np.pi, sizes[1])
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    y = np.repeat([0, 1], sizes)
    return _finish(np.vstack([upper, lower]), y, noise, rng, dtype)


def make_circles(
    n_samples: int = 200,
    noise: float = 0.05,
    factor: float = 0.5,
    seed: SeedLike = 0,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle inside a large one: separable only by a curved boundary.

    Class 0 lies on the unit circle, class 1 on the circle of radius ``factor``
    (``0 < factor < 1``), at angles ``t ~ Uniform(0, 2 pi)``; then Gaussian noise of
    standard deviation ``noise`` is added to every coordinate.
    Returns ``X`` ``(n_samples, 2)`` of ``dtype`` and ``y`` ``(n_samples,)`` ``int64``.
    """
    noise = _check_nonnegative(noise, "noise")
    if not (isinstance(factor, (int, float, np.number)) and 0 < factor < 1):
        raise ValueError(
            f"factor is the inner radius relative to the outer one and must be in (0, 1), "
            f"got {factor!r}."
        )
    sizes = _class_sizes(n_samples, 2)
    rng = _rng(seed)
    radius = np.repeat([1.0, float(factor)], sizes)
    t = rng.uniform(0, 2 * np.pi, len(radius))
    X = radius[:, None] * np.column_stack([np.cos(t), np.sin(t)])
    return _finish(X, np.repeat([0, 1], sizes), noise, rng, dtype)


def make_spirals(
    n_samples: int = 300,
    n_classes: int = 2,
    noise: float = 0.05,
    turns: float = 1.0,
    seed: SeedLike = 0,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms starting at the origin.

    A point of class ``k`` at distance ``r ~ Uniform(0, 1)`` from the centre sits at
    angle ``theta = 2 pi k / n_classes + 2 pi turns r``::

        x = (r cos theta, r sin theta) + noise * N(0, I)

    so every arm winds ``turns`` times around the centre. More turns and more
    classes make the set harder. Returns ``X`` ``(n_samples, 2)`` of ``dtype`` and
    ``y`` ``(n_samples,)`` ``int64`` in ``0 .. n_classes-1``.
    """
    n_classes = _check_positive_int(n_classes, "n_classes", minimum=2)
    noise = _check_nonnegative(noise, "noise")
    turns = _check_nonnegative(turns, "turns")
    sizes = _class_sizes(n_samples, n_classes)
    rng = _rng(seed)
    y = np.repeat(np.arange(n_classes), sizes)
    r = rng.uniform(0, 1, len(y))
    theta = 2 * np.pi * y / n_classes + 2 * np.pi * turns * r
    X = r[:, None] * np.column_stack([np.cos(theta), np.sin(theta)])
    return _finish(X, y, noise, rng, dtype)


def make_xor(
    n_samples: int = 200, noise: float = 0.1, seed: SeedLike = 0, dtype: Any = np.float32
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: the label is 1 when the two coordinates have opposite signs.

    Points are uniform in one quadrant of the square ``[-1, 1]^2``; class 0 uses
    the quadrants where ``x1 * x2 > 0``, class 1 those where ``x1 * x2 < 0``, each
    quadrant drawn with probability 1/2. Gaussian noise of standard deviation
    ``noise`` is added afterwards (so a few points near the axes cross over).
    No single line separates the classes; one hidden layer of two units can.
    Returns ``X`` ``(n_samples, 2)`` of ``dtype`` and ``y`` ``(n_samples,)`` ``int64``.
    """
    noise = _check_nonnegative(noise, "noise")
    sizes = _class_sizes(n_samples, 2)
    rng = _rng(seed)
    y = np.repeat([0, 1], sizes)
    sign_x = rng.choice([-1.0, 1.0], len(y))
    sign_y = np.where(y == 0, sign_x, -sign_x)
    X = rng.uniform(0, 1, (len(y), 2)) * np.column_stack([sign_x, sign_y])
    return _finish(X, y, noise, rng, dtype)


def make_blobs(
    n_samples: int = 300,
    n_classes: int = 3,
    std: float = 0.5,
    centers: Any = None,
    seed: SeedLike = 0,
    dtype: Any = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters, one per class: ``x ~ N(center_k, std^2 I)``.

    ``centers`` is an array ``(C, 2)`` of cluster centres (then ``n_classes`` is
    taken from it); by default ``n_classes`` centres are spread evenly on a circle
    of radius 2 around the origin. Returns ``X`` ``(n_samples, 2)`` of ``dtype``
    and ``y`` ``(n_samples,)`` ``int64`` in ``0 .. C-1``.
    """
    std = _check_nonnegative(std, "std")
    if centers is None:
        n_classes = _check_positive_int(n_classes, "n_classes")
        angle = 2 * np.pi * np.arange(n_classes) / n_classes
        centers = 2.0 * np.column_stack([np.cos(angle), np.sin(angle)])
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2 or centers.shape[1] != 2 or len(centers) == 0:
            raise ValueError(
                f"centers must have shape (n_classes, 2), got {centers.shape}: one 2-D "
                "point per class."
            )
        check_finite(centers, "centers")
    sizes = _class_sizes(n_samples, len(centers))
    rng = _rng(seed)
    y = np.repeat(np.arange(len(centers)), sizes)
    return _finish(centers[y], y, std, rng, dtype)


# --------------------------------------------------------------------------------------
# Real data sets
# --------------------------------------------------------------------------------------

#: The project's ``data/`` folder (next to the ``nnlib`` package).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

#: SHA-256 checksums of the data files, as documented in ``data/README.md``.
SHA256 = {
    "breast_cancer.csv": "fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed",
    "california_housing.csv": "8a3727f4cf54ac1a327f69b1d5b4db54c5834ea81c6e4efc0d163300022a685e",
    "digits.csv.gz": "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22",
}


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded data set: arrays plus the names that make them readable.

    Attributes:
        X: inputs, shape ``(N, D)``, float.
        y: targets, shape ``(N,)``: ``int64`` class indices or float values.
        feature_names: ``D`` column names of ``X``.
        target_names: class names (index ``k`` names class ``k``), or the name of
            the regression target.
        description: where the data comes from and what it means.

    ``X, y = load_digits()`` works: iterating yields ``X`` then ``y``.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    description: str

    def __iter__(self) -> Iterator[np.ndarray]:
        yield self.X
        yield self.y

    def __repr__(self) -> str:
        return (
            f"Dataset(X: {self.X.shape} {self.X.dtype}, y: {self.y.shape} {self.y.dtype}, "
            f"targets: {list(self.target_names)})"
        )


def data_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    """The folder the loaders read from.

    In order of priority: the ``directory`` argument, the environment variable
    ``NNLIB_DATA_DIR``, then the project's ``data/`` folder (:data:`DATA_DIR`).
    """
    if directory is not None:
        return Path(directory)
    from_env = os.environ.get("NNLIB_DATA_DIR")
    return Path(from_env) if from_env else DATA_DIR


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified_path(filename: str, directory: str | os.PathLike[str] | None) -> Path:
    """Path of ``filename`` in the data folder, after checking its SHA-256 checksum."""
    path = data_dir(directory) / filename
    restore = (
        f"Restore it from the repository with `git checkout data/{filename}` (run in the "
        "project root), or point data_dir / NNLIB_DATA_DIR at a folder holding the original."
    )
    if not path.is_file():
        raise FileNotFoundError(f"Data file {path} not found. {restore}")
    actual = _sha256(path)
    if actual != SHA256[filename]:
        raise ValueError(
            f"Data file {path} is corrupted or was changed: its SHA-256 checksum is "
            f"{actual}, expected {SHA256[filename]}. {restore}"
        )
    return path


_DIGITS_DESCRIPTION = """\
Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak, 1998; UCI Machine
Learning Repository, CC BY 4.0), the 1,797-image test split. Each row of X is an 8x8
grey image read row by row (feature "pixel_r_c" is row r, column c); a pixel counts
the dark cells in a 4x4 block of the original 32x32 bitmap, so values are whole
numbers 0 (white) .. 16 (black). y is the digit 0-9; classes are nearly balanced
(174 to 183 images each). Reshape a row with X[i].reshape(8, 8) to draw it."""


def load_digits(data_dir: str | os.PathLike[str] | None = None, dtype: Any = np.float32) -> Dataset:
    """Load the 8x8 handwritten digits: ``X`` ``(1797, 64)``, ``y`` ``(1797,)`` ``int64``.

    Pixel values are whole numbers ``0 .. 16`` stored as ``dtype`` (not rescaled:
    divide by 16 or standardize). ``y`` is the digit ``0 .. 9``. The file
    ``digits.csv.gz`` holds one image per row, 64 pixels then the label.
    """
    path = _verified_path("digits.csv.gz", data_dir)
    with gzip.open(path, "rt", encoding="ascii") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    X = table[:, :64].astype(_float_dtype(dtype))
    y = table[:, 64].astype(np.int64)
    names = tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8))
    return Dataset(X, y, names, tuple(str(d) for d in range(10)), _DIGITS_DESCRIPTION)


BREAST_CANCER_MEASUREMENTS = (
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal dimension",
)

_BREAST_CANCER_DESCRIPTION = """\
Breast Cancer Wisconsin (Diagnostic) (W. Wolberg, W. Street, O. Mangasarian, 1995;
UCI Machine Learning Repository, CC BY 4.0). 569 tumours, 30 features computed from a
digitised image of a fine needle aspirate: for each of ten cell-nucleus measurements
(radius, texture, perimeter, area, smoothness, compactness, concavity, concave points,
symmetry, fractal dimension) the mean (columns 0-9), the standard error (10-19) and
the worst, i.e. largest, value (20-29). Features have very different scales (area is
in the hundreds, smoothness about 0.1): standardize before training.
y: 0 = malignant (212 tumours), 1 = benign (357)."""


def load_breast_cancer(
    data_dir: str | os.PathLike[str] | None = None, dtype: Any = np.float32
) -> Dataset:
    """Load the Wisconsin breast cancer set: ``X`` ``(569, 30)``, ``y`` ``(569,)`` ``int64``.

    ``y = 0`` means malignant, ``y = 1`` benign. ``feature_names`` lists the 30
    columns: ``"mean radius" ... "mean fractal dimension"``, then
    ``"radius standard error" ...``, then ``"worst radius" ...``.
    The file's first line is ``569,30,malignant,benign`` (rows, features, class names).
    """
    path = _verified_path("breast_cancer.csv", data_dir)
    with path.open(encoding="ascii") as f:
        n_rows, n_features, *target_names = f.readline().strip().split(",")
        table = np.loadtxt(f, delimiter=",", dtype=np.float64)
    if table.shape != (int(n_rows), int(n_features) + 1):
        raise ValueError(f"{path}: expected {n_rows} rows of {n_features} features + label.")
    names = (
        tuple(f"mean {m}" for m in BREAST_CANCER_MEASUREMENTS)
        + tuple(f"{m} standard error" for m in BREAST_CANCER_MEASUREMENTS)
        + tuple(f"worst {m}" for m in BREAST_CANCER_MEASUREMENTS)
    )
    X = table[:, :-1].astype(_float_dtype(dtype))
    y = table[:, -1].astype(np.int64)
    return Dataset(X, y, names, tuple(target_names), _BREAST_CANCER_DESCRIPTION)


HOUSING_NUMERIC_COLUMNS = (
    "longitude",
    "latitude",
    "housing_median_age",
    "total_rooms",
    "total_bedrooms",
    "population",
    "households",
    "median_income",
)
#: Categories of ``ocean_proximity``, in the order of their one-hot columns.
OCEAN_PROXIMITY_CATEGORIES = ("<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN")

_HOUSING_DESCRIPTION = """\
California housing, 1990 US census, one row per block group (R. K. Pace, R. Barry,
"Sparse Spatial Autoregressions", Statistics & Probability Letters 33, 1997; StatLib).
20,640 rows. Features: longitude, latitude, housing_median_age (years, capped at 52),
total_rooms and total_bedrooms (totals over the block group), population, households,
median_income (tens of thousands of US dollars, 0.5 .. 15), and ocean_proximity, a
category one-hot encoded as the columns "ocean_proximity=<category>" (<1H OCEAN 9136,
INLAND 6551, ISLAND 5, NEAR BAY 2290, NEAR OCEAN 2658 rows). total_bedrooms is missing
in 207 rows. Target y: median_house_value in US dollars, capped at 500,001
(965 rows sit at the cap)."""


def _float_or_nan(field: str) -> float:
    """A CSV field as a float; an empty field is a missing value: NaN."""
    return float(field) if field else math.nan


def load_california_housing(
    impute: str | None = "median",
    missing_indicator: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    dtype: Any = np.float32,
) -> Dataset:
    """Load California housing for regression: ``X`` ``(20640, 13)``, ``y`` ``(20640,)``.

    Columns of ``X`` (see ``feature_names``): the 8 numeric census columns, then
    the categorical ``ocean_proximity`` one-hot encoded as 5 columns
    ``"ocean_proximity=<1H OCEAN"``, ... (exactly one of them is 1 in each row).
    ``y`` is the median house value in US dollars (capped at 500,001), of ``dtype``.

    Missing values: ``total_bedrooms`` is empty in 207 rows.

    * ``impute="median"`` (default) fills them with the median of the 20,433
      known values (435.0);
    * ``impute=None`` keeps them as NaN, so you can impute with statistics of
      your training split only (``np.nanmedian(X_train[:, 4])``); check_finite and
      training will refuse NaN until you do;
    * ``missing_indicator=True`` appends a column ``"total_bedrooms_missing"``
      (1.0 where the value was missing, else 0.0), so a model can learn whether
      missingness itself matters; ``X`` then has 14 columns.

    The default imputation uses all rows, a small leak of test information that
    is harmless here; compute the median on the training rows for a strict protocol.
    """
    if impute not in ("median", None):
        raise ValueError(
            f"impute must be 'median' (fill the 207 missing total_bedrooms with the median) "
            f"or None (keep them as NaN), got {impute!r}."
        )
    path = _verified_path("california_housing.csv", data_dir)
    with path.open(newline="", encoding="ascii") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    column = {name: j for j, name in enumerate(header)}
    numeric = np.array(
        [[_float_or_nan(r[column[c]]) for c in HOUSING_NUMERIC_COLUMNS] for r in rows]
    )
    categories = np.array([r[column["ocean_proximity"]] for r in rows])
    one_hot_columns = categories[:, None] == np.array(OCEAN_PROXIMITY_CATEGORIES)[None, :]
    y = np.array([float(r[column["median_house_value"]]) for r in rows])

    bedrooms = numeric[:, HOUSING_NUMERIC_COLUMNS.index("total_bedrooms")].copy()
    missing = np.isnan(bedrooms)
    if impute == "median":
        bedrooms[missing] = np.median(bedrooms[~missing])
    numeric[:, HOUSING_NUMERIC_COLUMNS.index("total_bedrooms")] = bedrooms

    parts = [numeric, one_hot_columns.astype(np.float64)]
    names = HOUSING_NUMERIC_COLUMNS + tuple(
        f"ocean_proximity={c}" for c in OCEAN_PROXIMITY_CATEGORIES
    )
    if missing_indicator:
        parts.append(missing[:, None].astype(np.float64))
        names += ("total_bedrooms_missing",)
    dt = _float_dtype(dtype)
    X = np.hstack(parts).astype(dt)
    return Dataset(X, y.astype(dt), names, ("median_house_value",), _HOUSING_DESCRIPTION)


# --------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------


class Split(NamedTuple):
    """Train, validation and test arrays, grouped as ``(X, y)`` pairs."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


class TrainTestSplit(NamedTuple):
    """Train and test arrays, grouped as ``(X, y)`` pairs."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _check_fractions(fractions: Sequence[float], names: Sequence[str]) -> None:
    for value, name in zip(fractions, names, strict=True):
        if not (isinstance(value, (int, float, np.number)) and 0 < value < 1):
            raise ValueError(
                f"{name} is a fraction of the data and must be in (0, 1), got {value!r}."
            )
    if sum(fractions) >= 1:
        total = " + ".join(f"{name}={value}" for name, value in zip(names, fractions, strict=True))
        raise ValueError(
            f"{total} = {sum(fractions):g} leaves nothing to train on: the fractions must "
            "sum to less than 1."
        )


def _split_indices(
    n: int, fractions: Sequence[float], rng: np.random.Generator, labels: np.ndarray | None
) -> list[np.ndarray]:
    """Random disjoint index sets: the first holds the rest, the others ``round(f * n)``.

    With ``labels`` the split is stratified: the fractions are applied within
    every class, so each part keeps the class proportions (up to rounding).
    """
    groups = (
        [np.arange(n)]
        if labels is None
        else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    )
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for group in groups:
        group = rng.permutation(group)
        sizes = [int(round(f * len(group))) for f in fractions]
        bounds = np.cumsum([len(group) - sum(sizes), *sizes])[:-1]
        for part, chunk in zip(parts, np.split(group, bounds), strict=True):
            part.append(chunk)
    return [rng.permutation(np.concatenate(p)) for p in parts]


def _prepare_split(
    X: Any, y: Any, stratify: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    X = _check_X(X)
    y = np.asarray(y)
    _check_same_length(X, y)
    labels = check_labels(y, name="y (stratify=True needs class labels)") if stratify else None
    return X, y, labels


def _check_nonempty_parts(parts: Sequence[np.ndarray], names: Sequence[str], n: int) -> None:
    for part, name in zip(parts, names, strict=True):
        if len(part) == 0:
            raise ValueError(
                f"The {name} part of the {n} examples is empty: use more data or a larger "
                f"{name} fraction."
            )


def train_val_test_split(
    X: Any,
    y: Any,
    val: float = 0.15,
    test: float = 0.15,
    seed: SeedLike = 0,
    stratify: bool = False,
) -> Split:
    """Shuffle and cut ``(X, y)`` into disjoint train, validation and test parts.

    The validation part has ``round(val * N)`` rows, the test part ``round(test * N)``
    and training gets the rest. With ``stratify=True`` (classification only) the
    fractions are applied within each class, so every part keeps the class
    proportions of ``y``. Train on the first part, choose hyper-parameters on the
    second, report the third once at the end.

    Returns ``Split(X_train, y_train, X_val, y_val, X_test, y_test)``; rows keep
    their dtype and trailing shape.
    """
    _check_fractions([val, test], ["val", "test"])
    X, y, labels = _prepare_split(X, y, stratify)
    train, val_idx, test_idx = _split_indices(len(X), [val, test], _rng(seed), labels)
    _check_nonempty_parts([train, val_idx, test_idx], ["train", "val", "test"], len(X))
    return Split(X[train], y[train], X[val_idx], y[val_idx], X[test_idx], y[test_idx])


def train_test_split(
    X: Any, y: Any, test: float = 0.2, seed: SeedLike = 0, stratify: bool = False
) -> TrainTestSplit:
    """Shuffle and cut ``(X, y)`` into disjoint train and test parts.

    The test part has ``round(test * N)`` rows (per class with ``stratify=True``).
    Returns ``TrainTestSplit(X_train, y_train, X_test, y_test)``.
    """
    _check_fractions([test], ["test"])
    X, y, labels = _prepare_split(X, y, stratify)
    train, test_idx = _split_indices(len(X), [test], _rng(seed), labels)
    _check_nonempty_parts([train, test_idx], ["train", "test"], len(X))
    return TrainTestSplit(X[train], y[train], X[test_idx], y[test_idx])


def kfold_indices(
    n: int, k: int = 5, seed: SeedLike = 0, shuffle: bool = True
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Indices for k-fold cross-validation: ``k`` pairs ``(train_idx, val_idx)``.

    The ``n`` indices (shuffled when ``shuffle`` is true) are cut into ``k`` folds
    whose sizes differ by at most one. Fold ``i`` validates and the other ``k - 1``
    train, so every index is validated exactly once. Index arrays are ``int64``
    and sorted within each pair.
    """
    n = _check_positive_int(n, "n")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
        raise ValueError(
            f"k-fold cross-validation needs an integer k with 2 <= k <= n = {n}, got k={k!r}."
        )
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    folds = np.array_split(order, k)
    return [
        (np.sort(np.concatenate(folds[:i] + folds[i + 1 :])), np.sort(fold))
        for i, fold in enumerate(folds)
    ]


def bootstrap_indices(n: int, n_boot: int, seed: SeedLike = 0) -> np.ndarray:
    """Bootstrap resamples: an ``int64`` array ``(n_boot, n)``, each row ``n`` draws
    with replacement from ``0 .. n-1``.

    Row ``b`` indexes the ``b``-th resampled data set ``X[idx[b]]``. On average a
    resample contains about ``1 - 1/e ~ 63%`` of the distinct examples; the others
    are its *out-of-bag* examples (see :func:`out_of_bag_mask`).
    """
    n = _check_positive_int(n, "n")
    n_boot = _check_positive_int(n_boot, "n_boot")
    return _rng(seed).integers(0, n, size=(n_boot, n), dtype=np.int64)


def out_of_bag_mask(indices: Any, n: int) -> np.ndarray:
    """Boolean mask ``(n_boot, n)``: True where example ``j`` is absent from resample ``b``.

    ``indices`` is the output of :func:`bootstrap_indices` (or one row of it).
    Out-of-bag examples act as a free validation set for the model fitted on
    that resample.
    """
    n = _check_positive_int(n, "n")
    indices = np.atleast_2d(np.asarray(indices))
    if not np.issubdtype(indices.dtype, np.integer) or indices.min() < 0 or indices.max() >= n:
        raise ValueError(f"indices must be integers in 0 .. {n - 1} (n={n}).")
    drawn = np.zeros((len(indices), n), dtype=bool)
    drawn[np.arange(len(indices))[:, None], indices] = True
    return ~drawn


# --------------------------------------------------------------------------------------
# Scaling and encoding
# --------------------------------------------------------------------------------------


class Standardizer:
    """Rescale every column to mean 0 and standard deviation 1::

        z = (x - mean) / std        (transform)
        x = z * std + mean          (inverse_transform)

    ``mean`` and ``std`` are computed by :meth:`fit` on the *training* data only
    and reused for validation and test data, exactly as a deployed model would
    see new data. A column whose training values are all equal has ``std = 0``;
    its ``std`` is replaced by 1, so it becomes a column of zeros instead of
    ``0 / 0 = NaN``. Statistics are computed in float64; ``transform`` returns
    the input's float dtype (float64 for integer input).
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, X: Any) -> Standardizer:
        """Learn ``mean`` and ``std`` of each column of ``X`` ``(N, ...)``; returns ``self``."""
        X = _check_X(X).astype(np.float64)
        self.mean = X.mean(axis=0)
        std = X.std(axis=0)
        constant = np.ptp(X, axis=0) == 0
        self.std = np.where(constant, 1.0, std)
        return self

    def _check(self, X: Any, name: str) -> tuple[np.ndarray, np.dtype]:
        if self.mean is None or self.std is None:
            raise ValueError(
                f"This Standardizer is not fitted yet: call fit(X_train) first, then {name}(X)."
            )
        X = _check_X(X)
        if X.shape[1:] != self.mean.shape:
            raise ValueError(
                f"X has shape {X.shape} but the Standardizer was fitted on rows of shape "
                f"{self.mean.shape}: use data with the same columns."
            )
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float64)
        return X.astype(np.float64), dtype

    def transform(self, X: Any) -> np.ndarray:
        """Return ``(X - mean) / std``, same shape as ``X``."""
        X, dtype = self._check(X, "transform")
        return ((X - self.mean) / self.std).astype(dtype)

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """Undo :meth:`transform`: return ``Z * std + mean``."""
        Z, dtype = self._check(Z, "inverse_transform")
        return (Z * self.std + self.mean).astype(dtype)

    def __repr__(self) -> str:
        if self.mean is None:
            return "Standardizer(not fitted)"
        return f"Standardizer(fitted on rows of shape {self.mean.shape})"


def standardize(X_train: Any, *others: Any) -> tuple[Any, ...]:
    """Fit a :class:`Standardizer` on ``X_train`` and apply it to all arrays given.

    Returns the transformed arrays in the order given, then the fitted scaler::

        X_train, X_val, X_test, scaler = standardize(X_train, X_val, X_test)
    """
    scaler = Standardizer().fit(X_train)
    return (scaler.transform(X_train), *(scaler.transform(X) for X in others), scaler)


def one_hot(y: Any, n_classes: int | None = None, dtype: Any = np.float32) -> np.ndarray:
    """One-hot encode class indices: ``Y[i, k] = 1`` if ``y[i] == k`` else 0.

    ``y`` is ``(N,)`` with integers in ``0 .. n_classes-1``; ``n_classes``
    defaults to ``max(y) + 1``. Returns ``(N, n_classes)`` of ``dtype``.
    """
    y = check_labels(y, n_classes)
    n_classes = int(y.max()) + 1 if n_classes is None else int(n_classes)
    return (y[:, None] == np.arange(n_classes)[None, :]).astype(_float_dtype(dtype))


# --------------------------------------------------------------------------------------
# Minibatches
# --------------------------------------------------------------------------------------


def minibatch_indices(
    n: int,
    batch_size: int,
    seed: SeedLike = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> list[np.ndarray]:
    """Cut ``0 .. n-1`` (shuffled when ``shuffle``) into consecutive batches of indices.

    Every batch has ``batch_size`` indices except possibly the last, which is
    dropped when ``drop_last`` is true (if that leaves nothing, ``ValueError``).
    ``seed`` is an int or a ``numpy.random.Generator``: pass the same generator
    every epoch to get a new but reproducible order each time. ``None`` draws
    fresh, non-reproducible randomness.
    """
    n = _check_positive_int(n, "n (number of examples)")
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, (int, np.integer))
        or batch_size <= 0
    ):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if drop_last and batch_size > n:
        raise ValueError(
            f"batch_size={batch_size} is larger than the {n} examples and drop_last=True "
            "would drop every batch: use a smaller batch_size or drop_last=False."
        )
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    return [order[i : i + batch_size] for i in range(0, stop, batch_size)]


def iterate_minibatches(
    X: Any,
    y: Any,
    batch_size: int,
    seed: SeedLike = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Minibatches ``(X[idx], y[idx])`` that together cover one epoch, as an iterator.

    Batches have ``batch_size`` rows (the last may be smaller unless
    ``drop_last``); see :func:`minibatch_indices` for ``seed`` and ``shuffle``.
    ``X`` is ``(N, ...)`` and ``y`` is ``(N, ...)``; each batch keeps their dtypes.
    Bad arguments raise ``ValueError`` at the call, before the first batch.
    """
    X = _check_X(X)
    y = np.asarray(y)
    _check_same_length(X, y)
    batches = minibatch_indices(len(X), batch_size, seed, shuffle, drop_last)
    return ((X[idx], y[idx]) for idx in batches)  # checked now, sliced lazily
