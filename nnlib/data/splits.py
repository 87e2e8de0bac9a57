"""Splitting data, and resampling it: train/validation/test, k-fold, bootstrap.

Split first, then fit anything that learns from data (a scaler, a model) on the
training rows only; the test rows are looked at once, at the very end.
``stratify=True`` keeps the class proportions in every part. Every function
takes a ``seed``: same seed, same split.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .validation import (
    SeedLike,
    _check_positive_int,
    _check_same_length,
    _check_X,
    _rng,
    check_labels,
)


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
