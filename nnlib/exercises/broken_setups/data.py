"""The data of the broken setups: digits, tumours and spirals, split the way each case needs.

Every function returns fresh arrays in float64 (labels ``int64``), the same on
every call: the splits are seeded.
"""

from __future__ import annotations

import functools

import numpy as np

from ...data import Standardizer, load_breast_cancer, load_digits, make_spirals, train_test_split


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_digits(dtype="float64")
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8x8 digits, 75 % / 25 % stratified split (seed 0), raw pixels ``0 .. 16``.

    Returns fresh copies ``(X_train, y_train, X_test, y_test)`` with 1347 and 450 rows.
    """
    X, y = _digits()
    split = train_test_split(X, y, test=0.25, seed=0, stratify=True)
    return split.X_train, split.y_train, split.X_test, split.y_test


def standardized_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`digits_split`, every pixel standardised with the training rows' mean and std."""
    X_train, y_train, X_test, y_test = digits_split()
    scaler = Standardizer().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def sorted_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits sorted by label: every 0 first, then every 1, …, then every 9."""
    X, y = _digits()
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


#: How many of the 1797 digits case 8 starts from; the other 1497 are the "fresh" images.
COLLECTED = 300


def collected_digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Case 8's data: ``(X, y)``, 300 digits drawn at random (seed 0), and the other 1497.

    Returns ``(X, y, X_fresh, y_fresh)``. The fresh images play the new data a
    model meets after it has been evaluated.
    """
    X, y = _digits()
    order = np.random.default_rng(0).permutation(len(X))
    mine, fresh = order[:COLLECTED], order[COLLECTED:]
    return X[mine], y[mine], X[fresh], y[fresh]


def tumour_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Breast-cancer features as measured (not rescaled), 75 % / 25 % stratified split, seed 0.

    ``y = 1`` is benign, ``0`` malignant. 427 training rows and 142 test rows of 30 features.
    """
    X, y = load_breast_cancer(dtype="float64")
    split = train_test_split(X, y, test=0.25, seed=0, stratify=True)
    return split.X_train, split.y_train, split.X_test, split.y_test


def spiral_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two spirals of 1.5 turns (600 points, seed 0), 75 % / 25 % stratified split."""
    X, y = make_spirals(600, noise=0.05, turns=1.5, seed=0, dtype="float64")
    split = train_test_split(X, y, test=0.25, seed=0, stratify=True)
    return split.X_train, split.y_train, split.X_test, split.y_test
