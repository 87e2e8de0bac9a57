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

The package has one module per concept; everything public is importable from
``nnlib.data`` itself:

============================  ==================================================
module                        what it holds
============================  ==================================================
:mod:`nnlib.data.validation`  ``check_finite``, ``check_labels``
:mod:`nnlib.data.toy`         ``make_moons``, ``make_circles``, ``make_spirals``,
                              ``make_xor``, ``make_blobs``
:mod:`nnlib.data.real`        ``load_digits``, ``load_breast_cancer``,
                              ``load_california_housing``, ``Dataset``,
                              ``data_dir``
:mod:`nnlib.data.splits`      ``train_val_test_split``, ``train_test_split``,
                              ``kfold_indices``, ``bootstrap_indices``,
                              ``out_of_bag_mask``
:mod:`nnlib.data.preprocessing`  ``Standardizer``, ``standardize``, ``one_hot``
:mod:`nnlib.data.batching`    ``minibatch_indices``, ``iterate_minibatches``
============================  ==================================================
"""

from __future__ import annotations

from .batching import iterate_minibatches, minibatch_indices
from .preprocessing import Standardizer, one_hot, standardize
from .real import (
    BREAST_CANCER_MEASUREMENTS,
    DATA_DIR,
    HOUSING_NUMERIC_COLUMNS,
    OCEAN_PROXIMITY_CATEGORIES,
    SHA256,
    Dataset,
    data_dir,
    load_breast_cancer,
    load_california_housing,
    load_digits,
)
from .splits import (
    Split,
    TrainTestSplit,
    bootstrap_indices,
    kfold_indices,
    out_of_bag_mask,
    train_test_split,
    train_val_test_split,
)
from .toy import make_blobs, make_circles, make_moons, make_spirals, make_xor
from .validation import SeedLike, check_finite, check_labels

__all__ = [
    "BREAST_CANCER_MEASUREMENTS",
    "DATA_DIR",
    "HOUSING_NUMERIC_COLUMNS",
    "OCEAN_PROXIMITY_CATEGORIES",
    "SHA256",
    "SeedLike",
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
