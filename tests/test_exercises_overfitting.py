"""Exercise checks of notebook 05: solutions pass, typical mistakes get graded hints."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib.exercises import overfitting as ex
from nnlib.gradcheck import numerical_gradient
from nnlib.losses import l2_penalty
from nnlib.metrics import confusion_matrix, precision, recall
from nnlib.model import mlp
from nnlib.train import fit
from nnlib.widgets.overfitting import digits_split


def _labels_from_confusion(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label pairs whose confusion matrix is ``cm``."""
    i, j = np.indices(cm.shape)
    return np.repeat(i.ravel(), cm.ravel()), np.repeat(j.ravel(), cm.ravel())


def test_solution_precision_recall_matches_nnlib_metrics() -> None:
    rng = np.random.default_rng(0)
    cm = rng.integers(0, 5, size=(6, 6)) + np.diag(rng.integers(10, 30, size=6))
    y_true, y_pred = _labels_from_confusion(cm)
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, n_classes=6), cm)
    p_all = precision(y_true, y_pred, average=None, n_classes=6)
    r_all = recall(y_true, y_pred, average=None, n_classes=6)
    for k in range(6):
        p, r = ex.solution_precision_recall(cm, k)
        assert p == pytest.approx(p_all[k]) and r == pytest.approx(r_all[k])


def test_solution_l2_gradient_matches_finite_differences_and_the_library() -> None:
    rng = np.random.default_rng(1)
    W, lam = rng.normal(size=(4, 3)), 0.3
    numeric = numerical_gradient(lambda w: 0.5 * lam * float((w**2).sum()), W)
    np.testing.assert_allclose(ex.solution_l2_gradient(W, lam), numeric, rtol=1e-7)
    _, grads = l2_penalty([{"W": W, "b": np.zeros(3)}], lam)
    np.testing.assert_allclose(ex.solution_l2_gradient(W, lam), grads[0]["W"])


def test_solution_early_stopping_epoch_agrees_with_fit() -> None:
    data = digits_split(0)
    model = mlp([64, 128, 10], activation="relu")
    options = dict(
        loss="cross_entropy", optimizer="adam", lr=0.01, seed=0, X_val=data.X_val, y_val=data.y_val
    )
    X, y = data.X_train[:80], data.y_train[:80]
    full = fit(model, model.init(0), X, y, epochs=60, **options).history
    triggered = 0
    for patience in (2, 4, 8):
        stopped = fit(model, model.init(0), X, y, epochs=60, early_stopping=patience, **options)
        h = stopped.history
        assert ex.solution_early_stopping_epoch(full.val_loss, patience) == h.best_epoch
        triggered += h.stopped_early
    assert triggered >= 1  # the comparison covered a run that really stopped early


def test_example_losses_make_patience_matter() -> None:
    assert ex.solution_early_stopping_epoch(ex.EXAMPLE_VAL_LOSSES, 2) == 3
    assert ex.solution_early_stopping_epoch(ex.EXAMPLE_VAL_LOSSES, 5) == int(
        np.argmin(ex.EXAMPLE_VAL_LOSSES)
    )


@pytest.mark.parametrize(
    ("check", "solution"),
    [
        (ex.check_precision_recall, ex.solution_precision_recall),
        (ex.check_l2_gradient, ex.solution_l2_gradient),
        (ex.check_early_stopping_epoch, ex.solution_early_stopping_epoch),
    ],
)
def test_checks_accept_the_solution_and_hint_at_a_stub(say, check, solution) -> None:
    assert say(check, solution).startswith("Correct!")
    out = say(check, lambda *args: None)
    assert out.startswith("Not yet") and "None" in out
    assert "ZeroDivisionError" in say(check, lambda *args: 1 / 0)
    assert "pass your function itself" in say(check, "not a function")


def test_precision_recall(say) -> None:
    check = ex.check_precision_recall
    swapped = lambda cm, k: ex.solution_precision_recall(cm, k)[::-1]  # noqa: E731
    first = say(check, swapped)
    assert "swapped" in first and "row" not in first.split("swapped")[1]
    assert "Rows are the true classes" in say(check, swapped)
    wrong_recall = say(check, lambda cm, k: (ex.solution_precision_recall(cm, k)[0], 0.5))
    assert "the recall is not" in wrong_recall and "row k" not in wrong_recall
    assert "pair" in say(check, lambda cm, k: 0.5)
    assert "pair" in say(check, lambda cm, k: ("0.8", "0.9"))


def test_l2_gradient(say) -> None:
    check = ex.check_l2_gradient
    assert "twice the right one" in say(check, lambda W, lam: 2 * lam * W)
    assert "½" in say(check, lambda W, lam: 2 * lam * W)  # the same mistake again
    assert "L1" in say(check, lambda W, lam: lam * np.sign(W))
    assert "λ is missing" in say(check, lambda W, lam: W)
    assert "sign is flipped" in say(check, lambda W, lam: -lam * W)
    assert "a list" in say(check, lambda W, lam: (lam * W).tolist())

    def in_place(W, lam):
        W *= lam
        return W

    assert "in place" in say(check, in_place)


def test_early_stopping_epoch(say) -> None:
    check = ex.check_early_stopping_epoch
    assert "overall minimum" in say(check, lambda losses, patience: int(np.argmin(losses)))
    off = lambda losses, patience: ex.solution_early_stopping_epoch(losses, patience) + 1  # noqa: E731
    assert "one too many" in say(check, off)
    assert "count from 0" in say(check, off, hint=2)
    assert "integer" in say(check, lambda losses, patience: 2.0)
    assert "integer" in say(check, lambda losses, patience: "3")


def test_show_solution_prints_the_source(capsys) -> None:
    ex.show_solution("l2_gradient")
    assert "def solution_l2_gradient" in capsys.readouterr().out
    with pytest.raises(ValueError, match="precision_recall"):
        ex.show_solution("no such exercise")
