"""Mini-batches: cutting an epoch into shuffled batches of rows.

Shuffle with a seeded generator and pass the same generator every epoch to get
a new but reproducible order each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .validation import SeedLike, _check_positive_int, _check_same_length, _check_X, _rng


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
