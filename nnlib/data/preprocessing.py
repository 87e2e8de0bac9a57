"""Preprocessing: standardising columns and one-hot encoding labels.

:class:`Standardizer` learns each column's mean and standard deviation on the
*training* rows only and reuses them for validation and test rows, exactly as a
deployed model would see new data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import _check_X, _float_dtype, check_labels


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
