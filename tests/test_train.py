"""Training: determinism, divergence as a result, early stopping, bad inputs, digits."""

from __future__ import annotations

import inspect
import subprocess
import sys
from dataclasses import fields

import numpy as np
import pytest

from nnlib import data, metrics
from nnlib.model import mlp
from nnlib.train import FitOptions, evaluate, fit, fit_steps


def _xor_like(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)).astype(np.float32)
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.float32)


def test_fit_learns_a_nonlinear_boundary() -> None:
    X, y = _xor_like()
    model = mlp([2, 16, 16, 1], "tanh")
    result = fit(model, model.init(0), X, y, loss="bce", lr=0.5, epochs=400)
    h = result.history
    assert not h.diverged
    assert h.train_loss[-1] < 0.2 * h.train_loss[0]
    assert evaluate(model, result.params, X, y, "bce")["accuracy"] > 0.95


def test_same_seed_same_history_with_dropout_batchnorm_and_shuffling() -> None:
    X, y = _xor_like()
    model = mlp([2, 8, 8, 1], "relu", dropout=0.3, batchnorm=True)

    def run(seed: int, **validation: np.ndarray):
        return fit(
            model,
            model.init(1),
            X,
            y,
            loss="bce",
            optimizer="adam",
            lr=0.01,
            epochs=5,
            batch_size=32,
            seed=seed,
            **validation,
        )

    runs = [run(7, X_val=X, y_val=y) for _ in range(2)]
    assert runs[0].history.step_loss == runs[1].history.step_loss
    assert runs[0].history.val_loss == runs[1].history.val_loss
    other = run(8)
    assert other.history.step_loss != runs[0].history.step_loss


def test_divergence_is_a_result_not_a_crash() -> None:
    X, y = _xor_like()
    y_reg = 100 * X[:, :1]
    model = mlp([2, 8, 1], "relu")
    with np.errstate(all="raise"):  # fit must silence its own overflow, not leak warnings
        result = fit(model, model.init(0), X, y_reg, loss="mse", lr=10.0, epochs=100)
    h = result.history
    assert h.diverged
    assert isinstance(h.diverged_at_step, int) and 0 < h.diverged_at_step < 100
    assert "diverged at step" in h.message and "learning rate" in h.message
    assert all(np.isfinite(h.step_loss)) and len(h.step_loss) == h.diverged_at_step
    assert all(np.all(np.isfinite(np.asarray(v))) for p in result.params for v in p.values())


def test_early_stopping_restores_the_best_epoch() -> None:
    X, y = _xor_like(300)
    Xv, yv = _xor_like(100, seed=1)
    model = mlp([2, 64, 64, 1], "relu")
    result = fit(
        model,
        model.init(0),
        X,
        y,
        loss="bce",
        optimizer="adam",
        lr=0.05,
        epochs=300,
        batch_size=16,
        X_val=Xv,
        y_val=yv,
        early_stopping=5,
    )
    h = result.history
    assert h.stopped_early and len(h.epoch) < 300
    best = int(np.argmin(h.val_loss))
    assert h.best_epoch == h.epoch[best]
    restored = evaluate(model, result.params, Xv, yv, "bce")["loss"]
    assert restored == pytest.approx(h.val_loss[best], rel=1e-5)


def test_gradient_norms_are_recorded_per_layer() -> None:
    X, y = _xor_like()
    model = mlp([2, 8, 8, 8, 1], "sigmoid")
    h = fit(
        model, model.init(0), X, y, loss="bce", lr=0.1, epochs=3, record_grad_norms=True
    ).history
    assert len(h.grad_norms) == 3
    assert list(h.grad_norms[0]) == ["0.W", "2.W", "4.W", "6.W"]
    assert all(v > 0 for v in h.grad_norms[0].values())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"X": np.zeros((0, 2))}, "empty"),
        ({"X": np.full((4, 2), np.nan)}, "NaN or inf"),
        ({"y": np.zeros(3)}, "X has 4 examples but y has 3"),
        ({"X": np.zeros(4)}, "2-D array"),
        ({"lr": 0.0}, "learning rate must be a positive"),
        ({"lr": -1.0}, "learning rate must be a positive"),
        ({"optimizer": "adagrad"}, "Valid optimisers"),
        ({"loss": "hinge"}, "Valid losses"),
        ({"batch_size": 0}, "batch_size must be a positive"),
        ({"epochs": 0}, "epochs must be a positive"),
        ({"y": np.array([0.0, 1.0, 2.0, 1.0])}, "0/1 labels"),
        ({"y": np.array([0.0, np.inf, 1.0, 1.0])}, "0/1 labels"),
        ({"early_stopping": 3}, "needs a validation set"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs: dict, match: str) -> None:
    model = mlp([2, 4, 1], "tanh")
    args = {
        "X": np.zeros((4, 2)),
        "y": np.array([0.0, 1.0, 1.0, 0.0]),
        "loss": "bce",
        "lr": 0.1,
        "epochs": 2,
    }
    args.update(kwargs)
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(ValueError, match=match):
        fit(model, model.init(0), X, y, **args)


def test_out_of_range_class_label_anywhere_in_the_data_is_caught() -> None:
    model = mlp([2, 4, 3], "tanh")
    y = np.zeros(50, dtype=int)
    y[-1] = 3  # only the last example is wrong
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes"):
        fit(model, model.init(0), np.zeros((50, 2)), y, loss="cross_entropy", batch_size=10)


def test_small_mlp_reaches_97_percent_on_held_out_digits() -> None:
    X, y = data.load_digits()
    split = data.train_val_test_split(X, y, val=0.15, test=0.2, seed=0, stratify=True)
    scaler = data.Standardizer().fit(split.X_train)
    model = mlp([64, 128, 10], "relu")
    result = fit(
        model,
        model.init(0),
        scaler.transform(split.X_train),
        split.y_train,
        loss="cross_entropy",
        optimizer="adam",
        lr=1e-3,
        epochs=30,
        batch_size=32,
        seed=0,
        X_val=scaler.transform(split.X_val),
        y_val=split.y_val,
    )
    logits = model.predict(result.params, scaler.transform(split.X_test))
    accuracy = metrics.accuracy(split.y_test, logits.argmax(axis=1))
    assert accuracy >= 0.97, f"test accuracy {accuracy:.4f}"


def _fit_steps_options(epochs: int) -> dict:
    """200 rows in equal mini-batches of 40 and a validation set: one block per epoch."""
    Xv, yv = _xor_like(80, seed=1)
    return dict(loss="bce", optimizer="adam", lr=0.01, epochs=epochs, batch_size=40, seed=3,
                X_val=Xv, y_val=yv)  # fmt: skip


def test_fit_steps_run_to_the_end_gives_fits_result() -> None:
    X, y = _xor_like()
    model = mlp([2, 8, 8, 1], "relu", dropout=0.2, batchnorm=True)
    options = _fit_steps_options(6) | {"early_stopping": 2}
    expected = fit(model, model.init(1), X, y, **options)
    results = list(fit_steps(model, model.init(1), X, y, **options))
    # One result per block (here one block per epoch), then the final one.
    assert len(results) == len(expected.history.epoch) + (not expected.history.stopped_early)
    final = results[-1]
    assert final.history.to_dict() == expected.history.to_dict()
    assert final.history.message == expected.history.message
    for got, want in zip(final.params, expected.params, strict=True):
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])


def test_stopping_fit_steps_after_k_blocks_leaves_the_run_after_k_epochs() -> None:
    X, y = _xor_like()
    model = mlp([2, 8, 1], "tanh")
    run = fit_steps(model, model.init(0), X, y, **_fit_steps_options(20))
    for k, result in enumerate(run, start=1):
        assert result.history.epoch == list(range(k))  # a validation set: a block per epoch
        if k == 3:
            break
    run.close()
    assert next(run, None) is None  # a closed run trains no further
    three_epochs = fit(model, model.init(0), X, y, **_fit_steps_options(3))
    assert result.history.step_loss == three_epochs.history.step_loss
    assert result.history.val_loss == three_epochs.history.val_loss
    for got, want in zip(result.params, three_epochs.params, strict=True):
        for name in want:
            np.testing.assert_array_equal(got[name], want[name])


def test_fit_steps_reports_divergence_in_its_last_result() -> None:
    X, _ = _xor_like()
    model = mlp([2, 8, 1], "relu")
    results = list(fit_steps(model, model.init(0), X, 100 * X[:, :1], lr=10.0, epochs=100))
    last = results[-1].history
    assert last.diverged and "diverged at step" in last.message
    assert all(not r.history.message for r in results[:-1])  # only the finished run has one


def test_fit_steps_checks_its_arguments_when_called() -> None:
    model = mlp([2, 4, 1], "tanh")
    with pytest.raises(ValueError, match="epochs must be a positive"):
        fit_steps(model, model.init(0), np.zeros((4, 2)), np.zeros(4), epochs=0)


def test_an_unknown_keyword_names_itself_and_the_valid_ones() -> None:
    model = mlp([2, 4, 1], "tanh")
    with pytest.raises(TypeError, match=r"\['learning_rate'\].*'lr'"):
        fit(model, model.init(0), np.zeros((4, 2)), np.zeros(4), learning_rate=0.1)


def test_fits_signature_shows_every_option_with_its_default() -> None:
    parameters = inspect.signature(fit).parameters
    assert list(parameters)[:4] == ["model", "params", "X", "y"]
    assert [p for p in parameters if p not in ("model", "params", "X", "y")] == [
        f.name for f in fields(FitOptions)
    ]
    assert parameters["lr"].default == 0.1 and parameters["loss"].default == "mse"
    assert parameters["epochs"].kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.signature(fit_steps).parameters.keys() == parameters.keys()


def test_the_step_the_records_and_the_jax_runner_load_without_the_training_loop() -> None:
    code = (
        "import importlib.util, sys, nnlib.step, nnlib.history\n"
        "if importlib.util.find_spec('jax'):\n"
        "    import nnlib.jax_backend\n"
        "assert 'nnlib.train' not in sys.modules, 'nnlib.train was imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
