"""Tests for nnlib.data: toy sets, real data loaders, splits, scaling, batching, checks."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlib import data

TOY_SETS = [data.make_moons, data.make_circles, data.make_spirals, data.make_xor, data.make_blobs]

# --------------------------------------------------------------------------------------
# Toy 2-D sets
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", TOY_SETS)
def test_toy_set_shapes_dtypes_and_balance(make):
    X, y = make(n_samples=101, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.sum() == 101 and counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(X))
    assert make(n_samples=10, dtype="float64")[0].dtype == np.float64


@pytest.mark.parametrize("make", TOY_SETS)
def test_toy_set_is_deterministic_by_seed(make):
    X1, y1 = make(seed=7)
    X2, y2 = make(seed=7)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make(seed=8)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", TOY_SETS)
def test_toy_set_rows_are_shuffled(make):
    _, y = make(n_samples=200, seed=0)
    assert np.any(np.diff(y) < 0)  # not sorted by class


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = data.make_moons(n_samples=50, noise=0.0, dtype="float64")
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0)
    assert np.all(upper[:, 1] >= 0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert np.all(lower[:, 1] <= 0.5)


def test_circles_without_noise_have_the_two_radii():
    X, y = data.make_circles(n_samples=60, noise=0.0, factor=0.3, dtype="float64")
    radius = np.hypot(*X.T)
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)


def test_xor_without_noise_labels_by_sign():
    X, y = data.make_xor(n_samples=200, noise=0.0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert np.abs(X).max() <= 1


def test_spirals_have_n_classes_arms_inside_unit_disc():
    X, y = data.make_spirals(n_samples=301, n_classes=3, noise=0.0)
    assert set(np.unique(y)) == {0, 1, 2}
    assert np.hypot(*X.T).max() <= 1 + 1e-6


def test_spiral_arms_are_rotated_copies():
    X, y = data.make_spirals(n_samples=400, n_classes=2, noise=0.0, dtype="float64")
    r = np.hypot(*X.T)
    theta = np.arctan2(X[:, 1], X[:, 0])
    expected = 2 * np.pi * y / 2 + 2 * np.pi * 1.0 * r  # default turns=1
    np.testing.assert_allclose(np.cos(theta - expected), 1.0, atol=1e-9)


def test_blobs_cluster_around_given_centers():
    centers = np.array([[5.0, 5.0], [-5.0, 0.0]])
    X, y = data.make_blobs(n_samples=2000, centers=centers, std=0.5, seed=1)
    assert set(np.unique(y)) == {0, 1}
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.1)
        np.testing.assert_allclose(X[y == k].std(axis=0), 0.5, atol=0.05)


# --------------------------------------------------------------------------------------
# Real data sets
# --------------------------------------------------------------------------------------


def test_load_digits():
    ds = data.load_digits()
    assert ds.X.shape == (1797, 64) and ds.X.dtype == np.float32
    assert ds.y.shape == (1797,) and ds.y.dtype == np.int64
    assert ds.X.min() == 0 and ds.X.max() == 16
    np.testing.assert_array_equal(ds.X, np.round(ds.X))  # whole numbers
    counts = np.bincount(ds.y)
    assert len(counts) == 10 and counts.min() >= 170
    assert len(ds.feature_names) == 64 and ds.feature_names[9] == "pixel_1_1"
    X, y = ds  # unpacks like a tuple
    assert X is ds.X and y is ds.y


def test_load_breast_cancer():
    ds = data.load_breast_cancer(dtype="float64")
    assert ds.X.shape == (569, 30) and ds.X.dtype == np.float64
    assert ds.y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(ds.y), [212, 357])
    assert ds.target_names == ("malignant", "benign")
    assert ds.feature_names[0] == "mean radius"
    assert ds.feature_names[10] == "radius standard error"
    assert ds.feature_names[29] == "worst fractal dimension"
    assert len(set(ds.feature_names)) == 30
    assert ds.X[0, 0] == 17.99  # first value of the first row of the file
    # "worst" is the largest value, so it is at least the mean
    assert np.all(ds.X[:, 20:30] >= ds.X[:, 0:10])


def test_load_california_housing_imputes_and_one_hot_encodes():
    ds = data.load_california_housing()
    assert ds.X.shape == (20640, 13) and ds.y.shape == (20640,)
    assert not np.isnan(ds.X).any()
    names = ds.feature_names
    category_columns = [j for j, name in enumerate(names) if name.startswith("ocean_proximity=")]
    assert [names[j] for j in category_columns] == [
        f"ocean_proximity={c}" for c in ("<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN")
    ]
    one_hot = ds.X[:, category_columns]
    assert set(np.unique(one_hot)) == {0.0, 1.0}
    np.testing.assert_array_equal(one_hot.sum(axis=1), 1.0)
    np.testing.assert_array_equal(one_hot.sum(axis=0), [9136, 6551, 5, 2290, 2658])
    assert ds.y.max() == 500_001 and ds.y.min() > 0
    assert ds.target_names == ("median_house_value",)


def test_load_california_housing_keeps_nan_without_imputation():
    raw = data.load_california_housing(impute=None, missing_indicator=True, dtype="float64")
    bedrooms = raw.feature_names.index("total_bedrooms")
    missing = np.isnan(raw.X)
    assert missing.sum() == 207 and missing[:, bedrooms].sum() == 207
    assert raw.feature_names[-1] == "total_bedrooms_missing"
    np.testing.assert_array_equal(raw.X[:, -1], missing[:, bedrooms])
    filled = data.load_california_housing(dtype="float64")
    median = np.nanmedian(raw.X[:, bedrooms])
    np.testing.assert_array_equal(filled.X[missing[:, bedrooms], bedrooms], median)
    known = ~missing[:, bedrooms]
    np.testing.assert_array_equal(filled.X[known], raw.X[known, :-1])


def _copy_data(tmp_path, name):
    shutil.copyfile(data.DATA_DIR / name, tmp_path / name)
    return tmp_path / name


def test_loader_reads_from_data_dir_argument_and_environment(tmp_path, monkeypatch):
    _copy_data(tmp_path, "breast_cancer.csv")
    assert data.load_breast_cancer(data_dir=tmp_path).X.shape == (569, 30)
    monkeypatch.setenv("NNLIB_DATA_DIR", str(tmp_path))
    assert data.data_dir() == tmp_path
    (tmp_path / "breast_cancer.csv").unlink()
    with pytest.raises(FileNotFoundError, match="git checkout data/breast_cancer.csv"):
        data.load_breast_cancer()  # the environment variable points at the emptied folder


@pytest.mark.parametrize(
    ("name", "load"),
    [
        ("breast_cancer.csv", data.load_breast_cancer),
        ("california_housing.csv", data.load_california_housing),
        ("digits.csv.gz", data.load_digits),
    ],
)
def test_changed_file_fails_the_checksum(tmp_path, name, load):
    path = _copy_data(tmp_path, name)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 1  # flip one bit
    path.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="corrupted or was changed") as err:
        load(data_dir=tmp_path)
    assert f"git checkout data/{name}" in str(err.value)
    assert data.SHA256[name] in str(err.value)


# --------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------


def test_train_val_test_split_sizes_and_disjointness():
    X = np.arange(200, dtype=np.float32).reshape(100, 2)
    y = np.arange(100)
    s = data.train_val_test_split(X, y, val=0.2, test=0.1, seed=0)
    assert (len(s.X_train), len(s.X_val), len(s.X_test)) == (70, 20, 10)
    ids = [part[:, 0] / 2 for part in (s.X_train, s.X_val, s.X_test)]
    for part_ids, labels in zip(ids, (s.y_train, s.y_val, s.y_test), strict=True):
        np.testing.assert_array_equal(part_ids, labels)  # rows keep their labels
    all_ids = np.concatenate(ids)
    np.testing.assert_array_equal(np.sort(all_ids), np.arange(100))  # disjoint, complete
    assert not np.array_equal(s.y_train, np.sort(s.y_train))  # shuffled


def test_split_is_deterministic_by_seed():
    X, y = data.make_moons(n_samples=50)
    a = data.train_val_test_split(X, y, seed=1)
    b = data.train_val_test_split(X, y, seed=1)
    c = data.train_val_test_split(X, y, seed=2)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.y_train, c.y_train) or not np.array_equal(a.X_train, c.X_train)


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1], [80, 20])
    X = np.zeros((100, 1))
    s = data.train_val_test_split(X, y, val=0.25, test=0.25, stratify=True, seed=0)
    np.testing.assert_array_equal(np.bincount(s.y_val), [20, 5])
    np.testing.assert_array_equal(np.bincount(s.y_test), [20, 5])
    np.testing.assert_array_equal(np.bincount(s.y_train), [40, 10])


def test_train_test_split():
    X, y = np.arange(10.0)[:, None], np.arange(10)
    X_train, y_train, X_test, y_test = data.train_test_split(X, y, test=0.3, seed=4)
    assert len(X_test) == 3 and len(X_train) == 7
    assert set(y_train).isdisjoint(set(y_test))
    np.testing.assert_array_equal(X_test[:, 0], y_test)


@given(st.integers(3, 200), st.floats(0.05, 0.45), st.floats(0.05, 0.45))
def test_split_parts_partition_the_rows(n, val, test):
    y = np.arange(n)
    try:
        s = data.train_val_test_split(np.zeros((n, 1)), y, val=val, test=test, seed=0)
    except ValueError as err:  # a part would be empty for tiny n
        assert "is empty" in str(err)
        return
    assert len(s.y_val) == round(val * n) and len(s.y_test) == round(test * n)
    np.testing.assert_array_equal(np.sort(np.concatenate([s.y_train, s.y_val, s.y_test])), y)


def test_kfold_validates_every_index_exactly_once():
    folds = data.kfold_indices(23, k=5, seed=0)
    assert len(folds) == 5
    val = np.concatenate([v for _, v in folds])
    np.testing.assert_array_equal(np.sort(val), np.arange(23))
    for train, v in folds:
        assert np.intersect1d(train, v).size == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([train, v])), np.arange(23))
    assert sorted(len(v) for _, v in folds) == [4, 4, 5, 5, 5]


def test_kfold_without_shuffle_uses_consecutive_blocks():
    folds = data.kfold_indices(6, k=3, shuffle=False)
    np.testing.assert_array_equal(folds[1][1], [2, 3])
    np.testing.assert_array_equal(folds[1][0], [0, 1, 4, 5])


@given(st.integers(2, 60).flatmap(lambda n: st.tuples(st.just(n), st.integers(2, n))))
def test_kfold_partition_property(n_k):
    n, k = n_k
    sizes = [len(v) for _, v in data.kfold_indices(n, k, seed=1)]
    assert sum(sizes) == n and max(sizes) - min(sizes) <= 1


def test_bootstrap_indices_shape_range_and_determinism():
    idx = data.bootstrap_indices(50, n_boot=200, seed=0)
    assert idx.shape == (200, 50) and idx.dtype == np.int64
    assert idx.min() >= 0 and idx.max() < 50
    np.testing.assert_array_equal(idx, data.bootstrap_indices(50, n_boot=200, seed=0))
    assert not np.array_equal(idx, data.bootstrap_indices(50, n_boot=200, seed=1))
    # every resample has repeats, and about 1 - 1/e of the rows appear in each
    distinct = np.array([len(np.unique(row)) for row in idx])
    assert distinct.max() < 50
    assert abs(distinct.mean() / 50 - (1 - np.exp(-1))) < 0.03


def test_out_of_bag_mask_marks_undrawn_rows():
    mask = data.out_of_bag_mask(np.array([[0, 0, 2, 2], [1, 2, 3, 0]]), n=4)
    np.testing.assert_array_equal(mask, [[False, True, False, True], [False, False, False, False]])


# --------------------------------------------------------------------------------------
# Scaling and encoding
# --------------------------------------------------------------------------------------


def test_standardizer_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_train = rng.normal(3.0, 2.0, size=(200, 3))
    X_test = rng.normal(3.0, 2.0, size=(50, 3))
    scaler = data.Standardizer().fit(X_train)
    Z_train, Z_test = scaler.transform(X_train), scaler.transform(X_test)
    np.testing.assert_allclose(Z_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z_train.std(axis=0), 1.0)
    np.testing.assert_allclose(Z_test, (X_test - X_train.mean(0)) / X_train.std(0))
    assert np.all(np.abs(Z_test.mean(axis=0)) > 1e-6)  # the test set is not re-centred
    np.testing.assert_allclose(scaler.inverse_transform(Z_test), X_test)


def test_standardizer_zero_variance_column_becomes_zeros():
    X = np.array([[1.0, 0.1], [2.0, 0.1], [3.0, 0.1]], dtype=np.float32)
    scaler = data.Standardizer().fit(X)
    Z = scaler.transform(X)
    assert Z.dtype == np.float32 and np.all(np.isfinite(Z))
    np.testing.assert_array_equal(Z[:, 1], 0.0)
    assert scaler.std[1] == 1.0


def test_standardize_returns_arrays_and_scaler():
    X_train, X_test = np.array([[0.0], [2.0]]), np.array([[4.0]])
    Z_train, Z_test, scaler = data.standardize(X_train, X_test)
    np.testing.assert_allclose(Z_train[:, 0], [-1, 1])
    np.testing.assert_allclose(Z_test[:, 0], [3.0])
    assert isinstance(scaler, data.Standardizer)


@given(st.integers(2, 30), st.integers(1, 4), st.integers(0, 1000))
def test_standardizer_round_trip(n, d, seed):
    X = np.random.default_rng(seed).normal(size=(n, d)) * 10 + 5
    scaler = data.Standardizer().fit(X)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X, atol=1e-9)


def test_one_hot():
    Y = data.one_hot([2, 0, 1, 2])
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    assert Y.dtype == np.float32
    assert data.one_hot([0, 1], n_classes=4).shape == (2, 4)


# --------------------------------------------------------------------------------------
# Minibatches
# --------------------------------------------------------------------------------------


def test_minibatches_cover_an_epoch_once():
    X, y = np.arange(23.0)[:, None], np.arange(23)
    batches = list(data.iterate_minibatches(X, y, batch_size=5, seed=0))
    assert [len(yb) for _, yb in batches] == [5, 5, 5, 5, 3]
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)  # rows stay paired
    seen = np.concatenate([yb for _, yb in batches])
    np.testing.assert_array_equal(np.sort(seen), np.arange(23))
    assert not np.array_equal(seen, np.arange(23))  # shuffled


def test_minibatches_drop_last_and_no_shuffle():
    X, y = np.zeros((23, 1)), np.arange(23)
    batches = list(data.iterate_minibatches(X, y, 5, shuffle=False, drop_last=True))
    assert len(batches) == 4
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), np.arange(20))


def test_minibatch_order_is_reproducible_and_changes_per_epoch_with_a_generator():
    a = data.minibatch_indices(30, 7, seed=3)
    b = data.minibatch_indices(30, 7, seed=3)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    rng = np.random.default_rng(3)
    epoch1 = np.concatenate(data.minibatch_indices(30, 7, seed=rng))
    epoch2 = np.concatenate(data.minibatch_indices(30, 7, seed=rng))
    np.testing.assert_array_equal(epoch1, np.concatenate(a))  # same start as seed=3
    assert not np.array_equal(epoch1, epoch2)


# --------------------------------------------------------------------------------------
# Checks and bad input
# --------------------------------------------------------------------------------------


def test_check_finite_reports_rows_and_columns():
    X = np.ones((5, 3))
    X[1, 2] = np.nan
    X[3, 0] = np.inf
    with pytest.raises(ValueError) as err:
        data.check_finite(X, "X_train")
    message = str(err.value)
    for words in ("X_train", "1 NaN", "1 infinite", "2 of 5 rows", "columns: 0, 2", "nan_to_num"):
        assert words in message
    data.check_finite(np.ones((2, 2)))  # finite: no error
    data.check_finite(np.arange(3))


def test_check_labels_converts_and_validates():
    y = data.check_labels(np.array([0.0, 2.0, 1.0]), n_classes=3)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [0, 2, 1])
    np.testing.assert_array_equal(data.check_labels([True, False]), [1, 0])


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: data.check_labels([0, 3], n_classes=3), "label 3.*0 .. 2"),
        (lambda: data.check_labels([0, -2]), "negative label -2"),
        (lambda: data.check_labels([0.0, 0.5]), r"y\[1\] = 0.5"),
        (lambda: data.check_labels(["a", "b"]), "integer class indices"),
        (lambda: data.check_labels(np.zeros((3, 1), int)), r"ravel"),
        (lambda: data.check_labels(np.eye(3)), "argmax"),
        (lambda: data.check_labels([]), "empty"),
        (lambda: data.check_labels([0], n_classes=0), "n_classes"),
        (lambda: data.check_finite(np.array(["a"]), "X"), "numeric"),
        (lambda: data.make_moons(n_samples=0), "n_samples"),
        (lambda: data.make_moons(n_samples=1), "at least one example per class"),
        (lambda: data.make_moons(noise=-0.1), "noise"),
        (lambda: data.make_moons(dtype="int32"), "float32 or float64"),
        (lambda: data.make_moons(seed="abc"), "seed"),
        (lambda: data.make_circles(factor=1.5), r"factor.*\(0, 1\)"),
        (lambda: data.make_spirals(n_classes=1), "n_classes"),
        (lambda: data.make_blobs(centers=[1.0, 2.0]), r"\(n_classes, 2\)"),
        (lambda: data.load_california_housing(impute="mean"), "impute"),
        (lambda: data.train_test_split(np.zeros((0, 2)), []), "empty"),
        (lambda: data.train_test_split(np.zeros((4, 2)), [0, 1, 0]), "4 rows.*3 entries"),
        (lambda: data.train_test_split([[np.nan], [1.0]], [0, 1]), "NaN"),
        (lambda: data.train_test_split(np.zeros((4, 1)), [0, 1, 0, 1], test=1.2), r"\(0, 1\)"),
        (lambda: data.train_test_split(np.zeros((4, 1)), [0, 1, 0, 1], test=0), r"\(0, 1\)"),
        (
            lambda: data.train_val_test_split(np.zeros((9, 1)), np.zeros(9), val=0.5, test=0.5),
            "sum to less than 1",
        ),
        (
            lambda: data.train_test_split(np.zeros((3, 1)), np.zeros(3), test=0.1),
            "test part.*empty",
        ),
        (
            lambda: data.train_test_split(np.zeros((3, 1)), [0.5, 1, 2], stratify=True),
            "stratify",
        ),
        (lambda: data.iterate_minibatches(np.zeros((4, 1)), np.zeros(4), 0), "batch_size"),
        (lambda: data.iterate_minibatches(np.zeros((4, 1)), np.zeros(4), -3), "positive"),
        (lambda: data.iterate_minibatches(np.zeros((4, 1)), np.zeros(5), 2), "same length"),
        (lambda: data.minibatch_indices(3, 5, drop_last=True), "drop_last"),
        (lambda: data.kfold_indices(10, k=1), "2 <= k <= n"),
        (lambda: data.kfold_indices(3, k=4), "2 <= k <= n"),
        (lambda: data.bootstrap_indices(5, n_boot=0), "n_boot"),
        (lambda: data.out_of_bag_mask([[0, 7]], n=4), "0 .. 3"),
        (lambda: data.Standardizer().transform(np.zeros((2, 2))), "fit"),
        (lambda: data.Standardizer().fit(np.zeros((2, 2))).transform(np.zeros((2, 3))), "shape"),
        (lambda: data.Standardizer().fit(np.zeros((0, 2))), "empty"),
        (lambda: data.one_hot([0, 2], n_classes=2), "0 .. 1"),
    ],
)
def test_bad_input_raises_value_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()
