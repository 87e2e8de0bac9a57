"""Real data sets shipped with the course, read from disk and checksum-verified.

``load_digits``, ``load_breast_cancer`` and ``load_california_housing`` read
small CSV files, never the network, and verify each file's SHA-256 checksum
first, so every learner trains on the same bytes. :func:`data_dir` says where
the files are looked for (see its docstring); the originals and their
provenance are described in the repository's ``data/README.md``. Nothing is
ever loaded with pickle.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .validation import _float_dtype

#: Where the data files are, found once at import:
#:
#: * ``nnlib/data/files/`` inside an installed package (``pip install .`` or a
#:   wheel: ``pyproject.toml`` packages the repository's ``data/`` folder there);
#: * otherwise the repository's ``data/`` folder next to the ``nnlib`` package (a
#:   source checkout, or ``pip install -e .``).
DATA_DIR = next(
    (
        folder
        for folder in (
            Path(__file__).resolve().parent / "files",
            Path(__file__).resolve().parents[2] / "data",
        )
        if (folder / "digits.csv.gz").is_file()
    ),
    Path(__file__).resolve().parents[2] / "data",
)

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
    ``NNLIB_DATA_DIR``, then the files shipped with nnlib (:data:`DATA_DIR`: the
    installed package's copy, or the repository's ``data/`` folder).
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
        "project root) or reinstall nnlib, or point data_dir / NNLIB_DATA_DIR at a folder "
        "holding the original."
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
