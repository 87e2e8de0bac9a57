"""Eight training setups that do not learn, each because of one realistic bug.

Notebook 10 ("why won't it learn?") hands these to the learner as a
colleague's code. Each case is two functions:

* ``caseK_<piece>``: the one small piece of the setup that holds the bug (an
  optimiser, an input transformation, a model, a shuffle, a prediction
  function or a train/test split), written the way it is found in practice;
* ``run_caseK(<piece>=caseK_<piece>, seed=0)``: the rest of the setup, which is
  correct. It loads the data, calls the piece, trains with :func:`nnlib.train.fit`
  and returns a :class:`Run` with everything a diagnosis needs.

A fix is a corrected piece: ``run_caseK(my_piece)`` retrains with it.
:mod:`nnlib.exercises.debugging` checks the learner's diagnosis and fix and
holds the worked solutions. The bugs are not named here on purpose.

The pieces carry no type hints on purpose: the learner copies one into a
notebook cell and edits it there (notebook 10 imports every name they use).
The helpers :class:`Softmax`, :func:`trainable_only` and :func:`add_noisy_copies`
are correct and tested; whether a setup uses them *appropriately* is part of
the puzzle. Everything runs in float64, so that the printed numbers do not hang
on the last bits of float32 arithmetic, and everything random takes a seed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import optim
from ..data import Standardizer, load_breast_cancer, load_digits, make_spirals, train_test_split
from ..layers import Layer, Params
from ..losses import softmax
from ..model import Sequential, mlp
from ..optim import Optimizer
from ..train import FitResult, evaluate, fit
from ..tree import tree_map

Array = Any


# --- what a run returns ----------------------------------------------------------------


@dataclass
class Run:
    """One training run of a case: the model, its parameters before and after, the data.

    ``params0`` are the initial parameters and ``result`` the :class:`~nnlib.train.FitResult`
    (``result.params``, ``result.state``, ``result.history``). ``X_train`` … ``y_test``
    are the arrays the model was trained and tested on, exactly as ``fit`` saw
    them. ``scores`` holds what the setup measured after training, e.g.
    ``{"test_accuracy": 0.97, "final_loss": 0.06}``; some cases add more.
    """

    model: Sequential
    params0: Any
    result: FitResult
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    loss: str
    scores: dict[str, Any] = field(default_factory=dict)

    @property
    def history(self) -> Any:
        """The training :class:`~nnlib.train.History` (``run.result.history``)."""
        return self.result.history

    @property
    def params(self) -> Any:
        """The trained parameters (``run.result.params``)."""
        return self.result.params


def _train(
    model: Sequential,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    loss: str,
    optimizer: Any,
    epochs: int,
    batch_size: int | None,
    seed: int,
    validate: bool = False,
) -> Run:
    """Initialise ``model`` from ``seed``, train it with ``fit`` and measure it on the test set."""
    X_train, y_train, X_test, y_test = data
    params0 = model.init(seed)
    val = {"X_val": X_test, "y_val": y_test} if validate else {}
    with np.errstate(all="ignore"):  # an exploding run is a result to look at, not a warning
        result = fit(
            model,
            params0,
            X_train,
            y_train,
            loss=loss,
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            record_grad_norms=True,
            **val,
        )
        test = evaluate(model, result.params, X_test, y_test, loss, result.state)
    history = result.history
    scores = {
        "test_accuracy": test["accuracy"],
        "first_loss": history.train_loss[0] if history.train_loss else float("nan"),
        "final_loss": history.train_loss[-1] if history.train_loss else float("nan"),
    }
    return Run(model, params0, result, X_train, y_train, X_test, y_test, loss, scores)


# --- data ------------------------------------------------------------------------------


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


#: How many digits case 8 starts from; the other 1497 are the "fresh" images.
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

    ``y = 1`` is benign, ``0`` malignant. 426 training rows and 143 test rows of 30 features.
    """
    X, y = load_breast_cancer(dtype="float64")
    split = train_test_split(X, y, test=0.25, seed=0, stratify=True)
    return split.X_train, split.y_train, split.X_test, split.y_test


def spiral_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two spirals of 1.5 turns (600 points, seed 0), 75 % / 25 % stratified split."""
    X, y = make_spirals(600, noise=0.05, turns=1.5, seed=0, dtype="float64")
    split = train_test_split(X, y, test=0.25, seed=0, stratify=True)
    return split.X_train, split.y_train, split.X_test, split.y_test


def show_case(number: int) -> None:
    """Print what case ``number``'s setup does (``run_caseK``'s docstring) and its buggy piece."""
    if number not in range(1, 9):
        raise ValueError(f"There are cases 1 to 8, got {number!r}.")
    run = globals()[f"run_case{number}"]
    piece = next(iter(inspect.signature(run).parameters.values())).default
    print(f"run_case{number}: {inspect.getdoc(run)}\n")
    print(inspect.getsource(piece))


# --- correct helpers the setups use ----------------------------------------------------------


class Softmax(Layer):
    """Row-wise softmax as a layer: ``y_k = e^{x_k} / Σ_j e^{x_j}``; each output row sums to 1.

    Forward: :func:`nnlib.losses.softmax` (stable: the row maximum is subtracted).
    Backward, from the Jacobian ``∂y_k/∂x_j = y_k (δ_kj - y_j)``::

        dx = y ⊙ (dy - Σ_k dy_k y_k)        (the sum is over each row)

    Shapes: ``x``, ``y``, ``dy``, ``dx`` are ``(N, C)``.
    """

    def forward(
        self,
        params: Params,
        x: Array,
        train: bool = False,
        *,
        state: Params | None = None,
        key: Any = None,
    ) -> tuple[Array, Array]:
        """``y = softmax(x)``; the cache is ``y``."""
        y = softmax(x)
        return y, y

    def backward(self, params: Params, cache: Array, dy: Array) -> tuple[Array, Params]:
        """``dx = y ⊙ (dy - Σ_k dy_k y_k)``."""
        y = cache
        return y * (dy - (dy * y).sum(axis=1, keepdims=True)), {}


def trainable_only(optimizer: Optimizer, layers: Sequence[int]) -> Optimizer:
    """``optimizer``, but only the parameters of the top-level ``layers`` (indices) change.

    The gradients of every other layer are replaced by zeros before the update,
    so those layers stay *frozen* at their current values, which is what
    fine-tuning does with the lower layers of a network trained before. (With
    zero gradients SGD, momentum and Adam all leave a parameter exactly as it is.)
    """
    keep = {int(i) for i in layers}

    def update(params: Any, grads: Any, state: dict) -> tuple[Any, dict]:
        masked = [g if i in keep else tree_map(lambda a: a * 0, g) for i, g in enumerate(grads)]
        return optimizer.update(params, masked, state)

    return Optimizer(optimizer.init, update, f"{optimizer.name}, layers {sorted(keep)} only")


def add_noisy_copies(
    X: Array, y: Array, copies: int = 4, noise: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Data augmentation: the images ``X`` ``(N, 64)`` followed by ``copies`` noisy copies of each.

    Copy ``c`` is ``clip(X + noise · ε, 0, 16)`` with ``ε ~ N(0, 1)`` per pixel (pixel values
    stay in the digits' range ``0 .. 16``). Returns ``(N · (copies + 1), 64)`` images
    and their labels: the originals first, then copy 1 of every image, and so on.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    noisy = [np.clip(X + noise * rng.standard_normal(X.shape), 0.0, 16.0) for _ in range(copies)]
    return np.concatenate([X, *noisy]), np.tile(y, copies + 1)


def origins(rows: Array, originals: Array) -> np.ndarray:
    """For every row, the index of the nearest of ``originals`` (Euclidean distance).

    A noisy copy made by :func:`add_noisy_copies` (noise 1) is much closer to its
    own original than to any other of case 8's images, so this recovers which
    image each row was made from.
    """
    rows = np.asarray(rows, dtype=np.float64)
    originals = np.asarray(originals, dtype=np.float64)
    d2 = (rows**2).sum(1)[:, None] - 2.0 * rows @ originals.T + (originals**2).sum(1)[None, :]
    return d2.argmin(axis=1)


def _arrays(value: Any, names: Sequence[str], piece: str) -> list[np.ndarray]:
    """``value`` as ``len(names)`` float arrays (a tuple), or a ``ValueError`` that says why not."""
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        raise ValueError(
            f"{piece} must return {len(names)} arrays ({', '.join(names)}), got {value!r:.80}."
        )
    return [np.asarray(v) for v in value]


# --- case 1 ------------------------------------------------------------------------------


def case1_make_optimizer():
    """Plain SGD, the simplest optimiser."""
    return optim.sgd(lr=3.0)


def run_case1(make_optimizer: Callable[[], Any] = case1_make_optimizer, seed: int = 0) -> Run:
    """Digits: the setup that calls ``make_optimizer``.

    Data: the 8x8 digits, 1347 training and 450 test images, every pixel
    standardised with the training images' mean and standard deviation.
    Model: 64 → 32 → 10, ReLU. Loss: softmax cross-entropy. Training: 10 epochs
    of mini-batches of 64 with the optimiser ``make_optimizer()`` returns.
    """
    model = mlp([64, 32, 10], activation="relu", dtype="float64")
    return _train(
        model,
        standardized_digits(),
        loss="cross_entropy",
        optimizer=_optimizer(make_optimizer(), "make_optimizer"),
        epochs=10,
        batch_size=64,
        seed=seed,
    )


# --- case 2 ------------------------------------------------------------------------------


def case2_prepare_inputs(X_train, X_test):
    """Tame outliers: clip every feature at the 99th percentile of the training rows."""
    high = np.percentile(X_train, 99, axis=0)
    return np.minimum(X_train, high), np.minimum(X_test, high)


def run_case2(
    prepare_inputs: Callable[[Array, Array], Any] = case2_prepare_inputs, seed: int = 0
) -> Run:
    """Tumours: the setup that calls ``prepare_inputs``.

    Data: 30 measurements of 569 tumours (426 for training, 143 for testing),
    labelled benign (1) or malignant (0); ``prepare_inputs(X_train, X_test)``
    turns the measurements into the network's inputs. Model: 30 → 16 → 1, tanh.
    Loss: binary cross-entropy. Training: 50 epochs of SGD (learning rate 0.1),
    mini-batches of 32.
    """
    X_train, y_train, X_test, y_test = tumour_split()
    shapes = (X_train.shape, X_test.shape)
    prepared = _arrays(prepare_inputs(X_train, X_test), ["X_train", "X_test"], "prepare_inputs")
    for name, got, want in zip(("X_train", "X_test"), prepared, shapes, strict=True):
        if got.shape != want:
            raise ValueError(
                f"prepare_inputs returned {name} of shape {got.shape}, but it must keep the "
                f"shape {want}: one row per tumour, one column per feature."
            )
    model = mlp([30, 16, 1], activation="tanh", dtype="float64")
    data = (prepared[0].astype(np.float64), y_train, prepared[1].astype(np.float64), y_test)
    return _train(
        model, data, loss="bce", optimizer=optim.sgd(lr=0.1), epochs=50, batch_size=32, seed=seed
    )


# --- case 3 ------------------------------------------------------------------------------


def case3_build_model():
    """Four hidden ReLU layers of 64 units; small random starting weights, N(0, 0.01²)."""
    return mlp(
        [64, 64, 64, 64, 64, 10],
        activation="relu",
        init="normal",
        init_kwargs={"std": 0.01},
        dtype="float64",
    )


def run_case3(build_model: Callable[[], Any] = case3_build_model, seed: int = 0) -> Run:
    """A deeper digit classifier: the setup that calls ``build_model``.

    Data: the digits of case 1, standardised. Model: ``build_model()``. Loss:
    softmax cross-entropy. Training: 20 epochs of SGD (learning rate 0.1),
    mini-batches of 64.
    """
    return _train(
        _model(build_model(), "build_model"),
        standardized_digits(),
        loss="cross_entropy",
        optimizer=optim.sgd(lr=0.1),
        epochs=20,
        batch_size=64,
        seed=seed,
    )


# --- case 4 ------------------------------------------------------------------------------


def case4_build_model():
    """A digit classifier whose outputs are probabilities: every row sums to 1."""
    network = mlp([64, 32, 10], activation="relu", dtype="float64")
    return Sequential([*network.layers, Softmax()])


def run_case4(build_model: Callable[[], Any] = case4_build_model, seed: int = 0) -> Run:
    """Digit probabilities: the setup that calls ``build_model``.

    Data: the digits of case 1, standardised. Model: ``build_model()``. Loss:
    softmax cross-entropy (``loss="cross_entropy"``). Training: 30 epochs of SGD
    (learning rate 0.1), mini-batches of 64.
    """
    return _train(
        _model(build_model(), "build_model"),
        standardized_digits(),
        loss="cross_entropy",
        optimizer=optim.sgd(lr=0.1),
        epochs=30,
        batch_size=64,
        seed=seed,
    )


def _optimizer(value: Any, piece: str) -> Optimizer:
    if not isinstance(value, Optimizer):
        raise ValueError(
            f"{piece} must return an nnlib optimiser such as optim.sgd(lr=0.1) or "
            f"optim.adam(lr=1e-3), got {value!r:.80}."
        )
    return value


def _model(value: Any, piece: str) -> Sequential:
    if not isinstance(value, Sequential):
        raise ValueError(
            f"{piece} must return a model (an nnlib Sequential, e.g. from mlp(...)), "
            f"got {value!r:.80}."
        )
    return value


# --- case 5 ------------------------------------------------------------------------------


def case5_shuffle(X, y, seed):
    """Shuffle the rows before splitting: the images arrive sorted by digit."""
    rng = np.random.default_rng(seed)
    X, y = X.copy(), y.copy()
    rng.shuffle(X)
    rng.shuffle(y)
    return X, y


#: Case 5 trains on the first 75 % of the shuffled rows and tests on the rest.
TRAIN_FRACTION = 0.75


def run_case5(shuffle: Callable[[Array, Array, int], Any] = case5_shuffle, seed: int = 0) -> Run:
    """Digits that arrive sorted: the setup that calls ``shuffle``.

    Data: all 1797 digits, sorted by label (every 0 first, then every 1, …).
    ``shuffle(X, y, seed)`` puts them in random order; the first 75 % of the
    rows train, the last 25 % test. Pixels standardised with the training rows'
    statistics. Model: 64 → 32 → 10, ReLU. Loss: softmax cross-entropy. Training:
    30 epochs of SGD (learning rate 0.1), mini-batches of 64, with the test
    accuracy recorded after every epoch (``history.val_accuracy``).
    """
    X, y = sorted_digits()
    X_s, y_s = _arrays(shuffle(X.copy(), y.copy(), seed), ["X", "y"], "shuffle")
    if X_s.shape != X.shape or y_s.shape != y.shape:
        raise ValueError(
            f"shuffle returned X {X_s.shape} and y {y_s.shape}; it must return every row "
            f"once: X {X.shape} and y {y.shape}."
        )
    n_train = int(TRAIN_FRACTION * len(X))
    scaler = Standardizer().fit(X_s[:n_train])
    data = (
        scaler.transform(X_s[:n_train]),
        y_s[:n_train].astype(np.int64),
        scaler.transform(X_s[n_train:]),
        y_s[n_train:].astype(np.int64),
    )
    model = mlp([64, 32, 10], activation="relu", dtype="float64")
    run = _train(
        model,
        data,
        loss="cross_entropy",
        optimizer=optim.sgd(lr=0.1),
        epochs=30,
        batch_size=64,
        seed=seed,
        validate=True,
    )
    return run


# --- case 6 ------------------------------------------------------------------------------


def case6_predict_one(model, params, state, x):
    """The digit in one image ``x`` (64 pixels), run through the model as the training step does."""
    out, _ = model.forward(params, x.reshape(1, -1), train=True, state=state)
    return int(out.argmax())


def run_case6(
    predict_one: Callable[[Sequential, Any, Any, Array], Any] = case6_predict_one, seed: int = 0
) -> Run:
    """A digit reader in production: the setup that calls ``predict_one``.

    Data: the digits of case 1, raw pixels 0 … 16 (batch normalisation after the
    first layer rescales them). Model: 64 → 32 → batch norm → ReLU → 10. Loss:
    softmax cross-entropy. Training: 20 epochs of SGD (learning rate 0.1),
    mini-batches of 64, validated on the 450 test images after every epoch.
    Production: then each test image is sent on its own through
    ``predict_one(model, params, state, x)``, as a service answers one request
    at a time. ``scores["production_accuracy"]`` is the fraction of right
    answers, ``scores["answers"]`` the answers themselves and
    ``scores["agreement"]`` the fraction equal to the validated model's answers
    (``model.predict`` on all test images at once, with the running statistics).
    """
    model = mlp([64, 32, 10], activation="relu", batchnorm=True, dtype="float64")
    run = _train(
        model,
        digits_split(),
        loss="cross_entropy",
        optimizer=optim.sgd(lr=0.1),
        epochs=20,
        batch_size=64,
        seed=seed,
        validate=True,
    )
    answers = np.array(
        [_class_index(predict_one(model, run.params, run.result.state, x)) for x in run.X_test]
    )
    validated = model.predict(run.params, run.X_test, run.result.state).argmax(axis=1)
    run.scores["production_accuracy"] = float(np.mean(answers == run.y_test))
    run.scores["agreement"] = float(np.mean(answers == validated))
    run.scores["answers"] = answers
    return run


def _class_index(value: Any) -> int:
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "iuf" or not np.isfinite(array).all():
        raise ValueError(f"predict_one must return one class index (an int), got {value!r:.80}.")
    return int(array.reshape(()))


# --- case 7 ------------------------------------------------------------------------------


def case7_make_optimizer():
    """Adam on the weight layers, as in our fine-tuning script (layer 0 is the input)."""
    return trainable_only(optim.adam(lr=0.01), layers=[2, 4])


def run_case7(make_optimizer: Callable[[], Any] = case7_make_optimizer, seed: int = 0) -> Run:
    """Spirals: the setup that calls ``make_optimizer``.

    Data: two spirals of 1.5 turns, 450 training and 150 test points. Model:
    2 → 8 → 8 → 1, ReLU. Loss: binary cross-entropy. Training: 300 full-batch
    steps with the optimiser ``make_optimizer()`` returns.
    """
    model = mlp([2, 8, 8, 1], activation="relu", dtype="float64")
    return _train(
        model,
        spiral_split(),
        loss="bce",
        optimizer=_optimizer(make_optimizer(), "make_optimizer"),
        epochs=300,
        batch_size=None,
        seed=seed,
    )


# --- case 8 ------------------------------------------------------------------------------


def case8_make_split(X, y, seed):
    """More data from the same images: four noisy copies of each, then a 75 % / 25 % split."""
    X_all, y_all = add_noisy_copies(X, y, copies=4, seed=seed)
    split = train_test_split(X_all, y_all, test=0.25, seed=seed)
    return split.X_train, split.y_train, split.X_test, split.y_test


def run_case8(
    make_split: Callable[[Array, Array, int], Any] = case8_make_split, seed: int = 0
) -> Run:
    """More data from 300 digits: the setup that calls ``make_split``.

    Data: 300 digits collected for the project; ``make_split(X, y, seed)`` turns
    them into training and test rows. Pixels standardised with the training
    rows' statistics. Model: 64 → 64 → 10, ReLU. Loss: softmax cross-entropy.
    Training: 40 epochs of Adam (learning rate 0.001), mini-batches of 32.
    Afterwards the model also meets 1497 new digits that no part of the setup
    has seen: ``scores["fresh_accuracy"]`` is its accuracy on them.
    """
    X, y, X_fresh, y_fresh = collected_digits()
    names = ["X_train", "y_train", "X_test", "y_test"]
    X_train, y_train, X_test, y_test = _arrays(
        make_split(X.copy(), y.copy(), seed), names, "make_split"
    )
    for name, a in zip(("X_train", "X_test"), (X_train, X_test), strict=True):
        if a.ndim != 2 or a.shape[1] != X.shape[1] or len(a) == 0:
            raise ValueError(f"make_split returned {name} of shape {a.shape}; expected (rows, 64).")
    scaler = Standardizer().fit(X_train)
    data = (
        scaler.transform(X_train),
        y_train.astype(np.int64),
        scaler.transform(X_test),
        y_test.astype(np.int64),
    )
    model = mlp([64, 64, 10], activation="relu", dtype="float64")
    run = _train(
        model,
        data,
        loss="cross_entropy",
        optimizer=optim.adam(lr=1e-3),
        epochs=40,
        batch_size=32,
        seed=seed,
    )
    fresh = evaluate(model, run.params, scaler.transform(X_fresh), y_fresh, "cross_entropy")
    run.scores["fresh_accuracy"] = fresh["accuracy"]
    return run
