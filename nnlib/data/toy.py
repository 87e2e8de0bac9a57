"""Toy 2-D data sets: moons, circles, spirals, XOR and blobs.

Each is a random sample from a known 2-D distribution, so it can be drawn and
its decision boundary plotted. Each takes a ``seed``: the same seed gives the
same points, a different seed a different sample. Classes are balanced (their
sizes differ by at most one) and rows come in random order. Every function
returns ``X`` ``(n_samples, 2)`` of ``dtype`` and ``y`` ``(n_samples,)``
``int64`` in ``0 .. C-1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .validation import (
    SeedLike,
    _check_nonnegative,
    _check_positive_int,
    _float_dtype,
    _rng,
    check_finite,
)


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
