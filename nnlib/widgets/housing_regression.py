"""California house prices: the prepared data and a small network trained on them.

The computation behind :class:`nnlib.widgets.case_studies.HousingWidget`
(notebook 06): :func:`prepare_housing` (split, fill, standardise),
:func:`linear_least_squares` (the linear baseline) and :func:`train_housing`
(one width and learning rate, validation error in dollars per epoch).
NumPy only: no widget, no figure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import (
    Standardizer,
    load_california_housing,
    train_val_test_split,
)
from ..model import mlp
from ..train import History, fit


@dataclass
class HousingData:
    """California housing, ready for a network (notebook 06, section 3).

    ``X_*`` are standardised features, float64 ``(N, 13)``, with the scaler
    ``x_scaler`` fitted on the training rows; ``z_train`` and ``z_val`` are the
    standardised targets, float64 ``(N, 1)`` (``y_scaler``, fitted on training targets);
    ``y_*`` are the targets in dollars, float64 ``(N,)``. ``bedrooms_median``
    is the training median that filled the missing ``total_bedrooms``.
    """

    X_train: np.ndarray
    z_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    z_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    x_scaler: Standardizer
    y_scaler: Standardizer
    bedrooms_median: float
    feature_names: tuple[str, ...]

    def to_dollars(self, z: Any) -> np.ndarray:
        """Standardised predictions ``(N,)`` or ``(N, 1)`` back in dollars: ``y = z σ + μ``."""
        z = np.asarray(z, dtype=np.float64).reshape(-1, 1)
        return self.y_scaler.inverse_transform(z).reshape(-1)


def prepare_housing(n_train: int = 3000, seed: int = 0) -> HousingData:
    """Load, split, impute and scale California housing as in notebook 06.

    1. Load with ``impute=None`` (the 207 missing ``total_bedrooms`` stay NaN);
       ``ocean_proximity`` arrives one-hot encoded by the loader.
    2. Split the *row numbers* 70/15/15 into train, validation and test
       (``seed``); keep a random ``n_train`` of the training rows (fast training).
    3. Fill the missing ``total_bedrooms`` with the median of the training rows.
    4. Standardise features and the target with statistics of the training rows.

    Everything is float64, as in the notebook.
    """
    data = load_california_housing(impute=None)
    X, y = data.X.astype(np.float64), data.y.astype(np.float64)
    rows = train_val_test_split(np.arange(len(y)), y, val=0.15, test=0.15, seed=seed)
    if not 1 <= n_train <= len(rows.X_train):
        raise ValueError(f"n_train must be between 1 and {len(rows.X_train)}, got {n_train!r}.")
    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(rows.X_train, size=n_train, replace=False))
    column = data.feature_names.index("total_bedrooms")
    median = float(np.nanmedian(X[train, column]))

    def filled(idx: np.ndarray) -> np.ndarray:
        part = X[idx].copy()
        part[np.isnan(part[:, column]), column] = median
        return part

    X_train, X_val, X_test = filled(train), filled(rows.X_val), filled(rows.X_test)
    x_scaler = Standardizer().fit(X_train)
    y_scaler = Standardizer().fit(y[train, None])
    return HousingData(
        X_train=x_scaler.transform(X_train),
        z_train=y_scaler.transform(y[train, None]),
        y_train=y[train],
        X_val=x_scaler.transform(X_val),
        z_val=y_scaler.transform(y[rows.X_val, None]),
        y_val=y[rows.X_val],
        X_test=x_scaler.transform(X_test),
        y_test=y[rows.X_test],
        x_scaler=x_scaler,
        y_scaler=y_scaler,
        bedrooms_median=median,
        feature_names=data.feature_names,
    )


def linear_least_squares(X_train: np.ndarray, z_train: np.ndarray) -> np.ndarray:
    """Closed-form linear regression: ``w = argmin ||A w - z||²`` with ``A = [X, 1]``.

    ``X_train`` ``(N, D)``, ``z_train`` ``(N,)`` or ``(N, 1)``. Returns float64
    weights ``(D + 1,)``, the last one the intercept; predict with
    ``X @ w[:-1] + w[-1]``. Solved by ``numpy.linalg.lstsq`` (stable even when
    columns are collinear, as the five one-hot columns plus an intercept are).
    """
    A = np.column_stack([np.asarray(X_train, dtype=np.float64), np.ones(len(X_train))])
    z = np.asarray(z_train, dtype=np.float64).reshape(-1)
    return np.linalg.lstsq(A, z, rcond=None)[0]


@dataclass
class HousingResult:
    """One training run of the housing widget: settings, history and validation MAE per epoch."""

    width: int
    learning_rate: float
    history: History
    val_mae: np.ndarray  # dollars, one per completed epoch

    @property
    def final_mae(self) -> float:
        """Validation MAE after the last completed epoch (NaN if none completed)."""
        return float(self.val_mae[-1]) if len(self.val_mae) else math.nan


def train_housing(
    data: HousingData,
    width: int,
    learning_rate: float,
    epochs: int = 20,
    batch_size: int = 64,
    seed: int = 0,
) -> HousingResult:
    """Train ``mlp([13, width, 1])`` (ReLU, MSE on standardised targets, Adam) on ``data``.

    The network is float64, like the data (as fast as float32 at this size).

    After every epoch the validation predictions are converted to dollars and
    their mean absolute error recorded. A run whose loss becomes NaN/inf stops
    (``history.diverged``) and keeps the epochs completed before.
    """
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}.")
    if not (
        isinstance(learning_rate, (int, float))
        and not isinstance(learning_rate, bool)
        and math.isfinite(learning_rate)
        and learning_rate > 0
    ):
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}.")
    model = mlp([data.X_train.shape[1], int(width), 1], activation="relu", dtype="float64")
    val_mae: list[float] = []

    def record(epoch: int, params: Any, history: History) -> None:
        z = model.predict(params, data.X_val)
        with np.errstate(all="ignore"):
            predicted = data.to_dollars(z)
        error = np.mean(np.abs(predicted - data.y_val))
        val_mae.append(float(error) if np.isfinite(error) else math.inf)

    result = fit(
        model,
        model.init(seed),
        data.X_train,
        data.z_train,
        loss="mse",
        optimizer="adam",
        lr=float(learning_rate),
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        callback=record,
    )
    return HousingResult(int(width), float(learning_rate), result.history, np.array(val_mae))


#: Hidden widths offered by the housing widget.
