"""Notebook 10's debugging cases (nnlib.exercises.broken_setups) and their checks.

* Every broken setup really fails to learn, and every worked solution really
  learns, measured by the case's own criterion, for several seeds.
* Every solution passes its check; typical wrong answers (at least two per
  case) are rejected with the hint that belongs to them, graded: a pointer
  first, a narrower pointer next.
* A check never raises or hangs, whatever the learner's code does.
* The claims of the notebook's prose and of the worked solutions' explanations
  hold.
* The notebook's stubs show "not done yet", and with the worked solutions
  pasted into the stubs every check of the notebook says "Correct!".
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import io
import json
import math
import re
import signal
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from nnlib import diagnostics, gradcheck, optim
from nnlib.data import Standardizer, train_test_split
from nnlib.exercises import broken_setups as setups
from nnlib.exercises import debugging
from nnlib.exercises.debugging import hints, learner_code, pipeline_cases
from nnlib.exercises.debugging.case import dense_sizes
from nnlib.layers import Activation
from nnlib.model import Sequential, mlp

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "10_why_wont_it_learn.ipynb"
CASES = range(1, 9)


@pytest.fixture(autouse=True)
def _fresh_hints():
    debugging.reset_hints()
    yield
    debugging.reset_hints()


def _check(number: int, diagnosis, fix) -> str:
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        getattr(debugging, f"check_case{number}")(diagnosis, fix)
    return buffer.getvalue()


def _broken_piece(number: int):
    return getattr(setups, f"case{number}_{debugging.CASES[number].piece}")


def _solution(number: int):
    return debugging.SOLUTIONS[f"case{number}"]


def _cause(number: int) -> str:
    return debugging.CASES[number].cause


# --- the setups: broken ones fail, fixed ones learn -----------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("number", CASES)
def test_every_broken_setup_fails_its_criterion(number: int, seed: int) -> None:
    case = debugging.CASES[number]
    piece = _broken_piece(number)
    run = case.run(piece, seed=seed)
    assert case.judge(run, piece).problem is not None


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("number", CASES)
def test_every_worked_solution_meets_its_criterion(number: int, seed: int) -> None:
    case = debugging.CASES[number]
    run = case.run(_solution(number), seed=seed)
    outcome = case.judge(run, _solution(number))
    assert outcome.problem is None, outcome.summary


def test_the_broken_setups_do_not_learn_by_the_measures_the_notebook_prints() -> None:
    run1 = setups.run_case1()
    assert run1.history.train_loss[0] > 1e4
    assert np.all(np.diff(run1.history.train_loss) > 0)  # the loss grows every epoch
    run2 = setups.run_case2()
    assert run2.scores["test_accuracy"] == pytest.approx(run2.y_test.mean())  # always "benign"
    run3 = setups.run_case3()
    assert abs(run3.scores["final_loss"] - math.log(10)) < 0.01
    assert run3.scores["test_accuracy"] <= 0.11
    run4 = setups.run_case4()
    assert run4.scores["final_loss"] > math.log(1 + 9 / math.e)  # the floor of softmax twice
    run5 = setups.run_case5()
    assert max(run5.history.val_accuracy) < 0.15  # chance level: 10 %
    run6 = setups.run_case6()
    assert run6.history.val_accuracy[-1] > 0.95 and run6.scores["production_accuracy"] < 0.15
    run7 = setups.run_case7()
    assert run7.scores["test_accuracy"] < 0.7
    run8 = setups.run_case8()
    assert run8.scores["test_accuracy"] > run8.scores["fresh_accuracy"] + 0.04


def test_the_worked_solutions_learn_clearly_better_than_the_broken_setups() -> None:
    for number in (1, 2, 3, 5, 6, 7):
        broken = debugging.CASES[number].run(_broken_piece(number))
        fixed = debugging.CASES[number].run(_solution(number))
        key = "production_accuracy" if number == 6 else "test_accuracy"
        assert fixed.scores[key] > broken.scores[key] + 0.25, number
    fixed4 = setups.run_case4(_solution(4))
    assert fixed4.scores["final_loss"] < 0.5 < setups.run_case4().scores["final_loss"]


# --- the checks: solutions pass, stubs are "not done yet" -------------------------------------


@pytest.mark.parametrize("number", CASES)
def test_the_worked_solution_passes_the_check(number: int) -> None:
    text = _check(number, _cause(number), _solution(number))
    assert text.startswith(f"Diagnosis: right, {_cause(number)}")
    assert "Fix: works." in text
    assert text.rstrip().endswith(f"Correct! Case {number} is solved.")


@pytest.mark.parametrize("number", CASES)
def test_an_unanswered_stub_is_not_done_yet_and_states_the_criterion(number: int) -> None:
    def stub(*args):
        return None

    text = _check(number, None, stub)
    lines = text.strip().split("\n")
    assert lines[0].startswith("Diagnosis: not done yet.")
    assert lines[1].startswith("Fix: not done yet.")
    assert debugging.CRITERIA[number] in lines[1]
    assert "Correct!" not in text
    assert hints.wrong_answers == {}  # a stub is not a wrong answer


def test_the_diagnosis_is_read_generously_but_must_be_a_listed_cause() -> None:
    fix = _solution(1)
    assert "Correct!" in _check(1, "Learning rate too high", fix)
    assert "Correct!" in _check(1, " learning-rate-too-high ", fix)
    for bad in ("lr", 3, ["learning_rate_too_high"]):
        text = _check(1, bad, fix)
        assert "is not one of the CAUSES" in text and "learning_rate_too_high" in text
        assert "Correct!" not in text


# --- graded hints ----------------------------------------------------------------------------


@pytest.mark.parametrize("number", CASES)
def test_a_wrong_diagnosis_gets_a_pointer_then_a_narrower_one(number: int) -> None:
    case = debugging.CASES[number]
    wrong = next(cause for cause in debugging.CAUSES if cause != case.cause)
    first = _check(number, wrong, _solution(number))
    assert f"Diagnosis: not yet, it is not {wrong}." in first
    assert f"Hint: {hints.in_notebook(case, case.diagnosis_hints[0])}" in first
    assert "Correct!" not in first and "show_solution" not in first
    second = _check(number, wrong, _solution(number))
    assert f"Narrower hint: {hints.in_notebook(case, case.diagnosis_hints[1])}" in second
    assert f"debugging.show_solution('case{number}')" in second
    assert "Fix: works." in second  # the fix is judged on its own


@pytest.mark.parametrize("number", CASES)
def test_a_typical_confusion_gets_its_own_remark(number: int) -> None:
    case = debugging.CASES[number]
    for wrong, remark in case.confusions.items():
        assert hints.in_notebook(case, remark) in _check(number, wrong, _solution(number))


def _sigmoid_outputs():
    layers = mlp([64, 32, 10], activation="relu", dtype="float64").layers
    return Sequential([*layers, Activation("sigmoid")])


def _no_shuffle(X, y, seed):
    return X, y


def _shuffle_X_only(X, y, seed):
    return np.random.default_rng(seed).permutation(X), y


def _own_statistics(X_train, X_test):
    return Standardizer().fit_transform(X_train), Standardizer().fit_transform(X_test)


def _only_train_scaled(X_train, X_test):
    return Standardizer().fit_transform(X_train), X_test


def _split_by_position(X, y, seed):
    X_all, y_all = setups.add_noisy_copies(X, y, copies=4, seed=seed)
    cut = int(0.75 * len(X_all))
    return X_all[:cut], y_all[:cut], X_all[cut:], y_all[cut:]


def _draw_with_replacement(X, y, seed):
    rows = np.random.default_rng(seed).choice(len(X), len(X))
    return X[rows], y[rows]


def _augment_both_sides(X, y, seed):
    split = train_test_split(X, y, test=0.25, seed=seed)
    X_train, y_train = setups.add_noisy_copies(split.X_train, split.y_train, seed=seed)
    X_test, y_test = setups.add_noisy_copies(split.X_test, split.y_test, seed=seed)
    return X_train, y_train, X_test, y_test


def _predict_without_running_statistics(model, params, state, x):
    return int(model.forward(params, x.reshape(1, -1), train=False)[0].argmax())


#: Typical wrong fixes, and a piece of the hint each one must get.
WRONG_FIXES = {
    1: [
        (setups.case1_make_optimizer, "The loss still grows"),
        (lambda: optim.sgd(lr=1e-5), "The loss hardly moved"),
        (lambda: optim.adam(lr=3.0), "That does not meet the criterion yet"),
    ],
    2: [
        (setups.case2_prepare_inputs, "answering the training set's class frequencies"),
        (_only_train_scaled, "the test rows do not get the same transformation"),
        (_own_statistics, "scaled with statistics of the test set"),
        (lambda a, b: (a / a.max(), b / a.max()), "That does not meet the criterion yet"),
    ],
    3: [
        (setups.case3_build_model, "The loss still sits at 2.303, ln 10"),
        (
            lambda: mlp([64] * 5 + [10], init="normal", init_kwargs={"std": 1.0}, dtype="float64"),
            "It diverged; the losses of its first steps were",
        ),
        (lambda: mlp([64, 64, 10], dtype="float64"), "Keep the layer sizes"),
    ],
    4: [
        (setups.case4_build_model, "Every output of your model lies between"),
        (_sigmoid_outputs, "Every output of your model lies between"),
    ],
    5: [
        (setups.case5_shuffle, "still carry their own label"),
        (_shuffle_X_only, "still carry their own label"),
        (_no_shuffle, "a network cannot recognise a digit it has never seen"),
        (_draw_with_replacement, "of the 1797 images come back from your shuffle"),
    ],
    6: [
        (setups.case6_predict_one, "gives the same answer, 8, for every image"),
        (_predict_without_running_statistics, "Your answers differ from the validated model's"),
    ],
    7: [
        (setups.case7_make_optimizer, "the weights 0.W never changed"),
        (lambda: setups.trainable_only(optim.adam(lr=0.05), [2, 4]), "0.W never changed"),
        (lambda: setups.trainable_only(optim.adam(lr=0.01), [0, 2]), "4.W never changed"),
    ],
    8: [
        (setups.case8_make_split, "375 of your 375 test rows are made from an image"),
        (_split_by_position, "test rows are made from an image that also has rows"),
        (_augment_both_sides, "375 test rows are noisy copies, not images as they were"),
    ],
}


def test_every_case_has_at_least_two_typical_wrong_fixes() -> None:
    assert sorted(WRONG_FIXES) == list(CASES)
    assert all(len(fixes) >= 2 for fixes in WRONG_FIXES.values())


@pytest.mark.parametrize(
    ("number", "index"), [(n, i) for n, fixes in WRONG_FIXES.items() for i in range(len(fixes))]
)
def test_a_typical_wrong_fix_is_rejected_with_its_hint(number: int, index: int) -> None:
    fix, expected = WRONG_FIXES[number][index]
    case = debugging.CASES[number]
    first = _check(number, case.cause, fix)
    assert "Fix: not yet. Retrained with your" in first
    assert expected in first, first
    assert f"Hint: {hints.in_notebook(case, case.fix_hints[0])}" in first
    assert "Correct!" not in first
    second = _check(number, case.cause, fix)
    assert expected in second
    assert f"Narrower hint: {hints.in_notebook(case, case.fix_hints[1])}" in second


def test_hints_name_the_notebooks_run_of_the_case() -> None:
    text = _check(1, "overfitting", _solution(1))
    assert "run1.history.step_loss[:5]" in text and "run.history" not in text
    assert "setups.run_case1" in _check(1, "learning_rate_too_high", lambda: optim.sgd(1e-5))


def test_hints_are_graded_per_case_and_part_and_reset() -> None:
    broken = setups.case1_make_optimizer
    assert "Hint:" in _check(1, "overfitting", broken)
    assert "Hint:" in _check(2, "overfitting", _solution(2))  # another case starts afresh
    assert _check(1, "overfitting", broken).count("Narrower hint:") == 2
    debugging.reset_hints()
    assert "Narrower hint" not in _check(1, "overfitting", broken)


def test_only_a_wrong_cause_or_a_fix_that_misses_the_criterion_counts_as_wrong() -> None:
    def crash():
        raise ZeroDivisionError("division by zero")

    text = _check(1, "no_such_cause", crash)  # not a cause, and a fix that raises
    assert "Hint" not in text and "is not one of the CAUSES" in text
    assert "it raised ZeroDivisionError" in text
    assert hints.wrong_answers == {}
    text = _check(1, "overfitting", setups.case1_make_optimizer)
    assert text.count("Hint:") == 2
    assert hints.wrong_answers == {(1, "diagnosis"): 1, (1, "fix"): 1}


# --- the learner's code never crashes or hangs the check -------------------------------------


def test_an_exception_in_the_fix_becomes_a_hint() -> None:
    def broken():
        raise ZeroDivisionError("division by zero")

    text = _check(1, "learning_rate_too_high", broken)
    assert "it raised ZeroDivisionError: division by zero." in text


def test_an_error_while_retraining_becomes_a_hint() -> None:
    text = _check(1, "learning_rate_too_high", lambda: "adam")
    assert "Retraining with your make_optimizer failed: it raised ValueError" in text
    text = _check(4, "softmax_twice", lambda: mlp([64, 32, 8], dtype="float64"))
    assert "it raised ValueError" in text and "out of range for 8 classes" in text


def _fails_from_call(piece, first_failing_call: int):
    """``piece``, but raising ``ValueError`` from its ``first_failing_call``-th call on."""
    calls = []

    def flaky(*args):
        calls.append(1)
        if len(calls) >= first_failing_call:
            raise ValueError("no more calls")
        return piece(*args)

    return flaky


@pytest.mark.parametrize("number", [2, 5, 8])
def test_a_fix_that_fails_when_the_check_calls_it_again_gets_its_error(number: int) -> None:
    # calls: 1 the probe, 2 the retraining, 3 the judge's own call
    text = _check(number, _cause(number), _fails_from_call(_solution(number), 3))
    piece = debugging.CASES[number].piece
    assert (
        f"Called again by the check, your {piece} failed: it raised ValueError: no more "
        "calls. " in text
    )
    assert "None" not in text and not re.search(r"[^.]\.\.(?!\.)", text)


def test_a_prepare_inputs_that_fails_on_half_the_test_rows_gets_its_error() -> None:
    def only_full_test_sets(X_train, X_test):
        if len(X_test) < 100:
            raise ValueError("expected 142 test rows")
        return _solution(2)(X_train, X_test)

    text = _check(2, "inputs_not_scaled", only_full_test_sets)
    assert (
        "Called with half of the test rows, your prepare_inputs failed: it raised ValueError: "
        "expected 142 test rows. " in text
    )
    assert "None" not in text and ".." not in text


@pytest.mark.parametrize("number", CASES)
def test_no_check_message_ends_a_sentence_twice(number: int) -> None:
    texts = [_check(number, "overfitting", fix) for fix, _ in WRONG_FIXES[number]]
    texts.append(_check(number, "overfitting", lambda *args: 1 / 0))
    for text in texts:
        assert not re.search(r"[^.]\.\.(?!\.)", text), text


def test_a_value_instead_of_a_function_is_explained() -> None:
    text = _check(1, "learning_rate_too_high", optim.sgd(lr=0.1))
    assert "Pass your function make_optimizer itself (without calling it), got a Optimizer" in text
    assert "0x" not in text


def test_a_fix_that_runs_forever_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(learner_code, "TIME_LIMIT_S", 0.5)

    def forever():
        while True:
            pass

    started = time.monotonic()
    text = _check(1, "learning_rate_too_high", forever)
    assert time.monotonic() - started < 5
    assert "it ran for more than 0.5 seconds and was stopped" in text


def test_the_time_limit_escapes_a_broad_except_in_the_learners_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(learner_code, "TIME_LIMIT_S", 0.5)

    def stubborn():
        while True:
            try:
                time.sleep(10)
            except Exception:
                pass

    assert "was stopped" in _check(7, "frozen_layer", stubborn)


def test_the_time_limit_puts_a_running_outer_timer_back() -> None:
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30.0)
        with debugging.time_limit(5.0):
            pass
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25.0 < left <= 30.0
        with debugging.time_limit(60.0):  # the outer timer fires first: no new one is set
            assert 25.0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == []


# --- worked solutions ----------------------------------------------------------------------


@pytest.mark.parametrize("number", CASES)
def test_show_solution_prints_the_diagnosis_and_the_fix_under_the_stubs_name(
    number: int, capsys: pytest.CaptureFixture
) -> None:
    debugging.show_solution(f"case{number}")
    text = capsys.readouterr().out
    piece = debugging.CASES[number].piece
    assert text.startswith(f'diagnosis = "{_cause(number)}"\n')
    assert re.search(rf"^def {piece}\(", text, flags=re.M)
    assert debugging.solution_source(number) == text.rstrip("\n") + "\n" or text.startswith(
        debugging.solution_source(number)
    )


def test_show_solution_rejects_an_unknown_name() -> None:
    with pytest.raises(ValueError, match="Valid names are"):
        debugging.show_solution("case9")


# --- the helpers the setups use ------------------------------------------------------------


def test_the_softmax_layer_passes_a_gradient_check() -> None:
    x = np.random.default_rng(0).normal(size=(5, 4))
    assert gradcheck.check_layer(setups.Softmax(), x).passed()
    y, _ = setups.Softmax().forward({}, x)
    np.testing.assert_allclose(y.sum(axis=1), 1.0)


def test_trainable_only_leaves_the_other_layers_exactly_as_they_are() -> None:
    model = mlp([3, 4, 2], dtype="float64")
    params = model.init(0)
    grads = [{k: np.ones_like(v) for k, v in p.items()} for p in params]
    for base in (optim.sgd(0.1), optim.momentum(0.1), optim.adam(0.1)):
        frozen = setups.trainable_only(base, [2])
        new, _ = frozen.update(params, grads, frozen.init(params))
        np.testing.assert_array_equal(new[0]["W"], params[0]["W"])
        assert not np.allclose(new[2]["W"], params[2]["W"])


def test_noisy_copies_stay_in_range_follow_the_originals_and_are_seeded() -> None:
    X, y = setups.collected_digits()[:2]
    X_all, y_all = setups.add_noisy_copies(X, y, copies=4, seed=3)
    assert X_all.shape == (5 * len(X), 64) and X_all.min() >= 0 and X_all.max() <= 16
    np.testing.assert_array_equal(X_all[: len(X)], X)
    np.testing.assert_array_equal(y_all, np.tile(y, 5))
    np.testing.assert_array_equal(X_all, setups.add_noisy_copies(X, y, copies=4, seed=3)[0])
    np.testing.assert_array_equal(setups.origins(X_all, X), np.tile(np.arange(len(X)), 5))


def test_a_piece_that_returns_the_wrong_thing_gets_a_clear_error() -> None:
    with pytest.raises(ValueError, match="prepare_inputs must return 2 arrays"):
        setups.run_case2(lambda a, b: a)
    with pytest.raises(ValueError, match="must keep the shape"):
        setups.run_case2(lambda a, b: (a[:, :3], b[:, :3]))
    with pytest.raises(ValueError, match="build_model must return a model"):
        setups.run_case3(lambda: None)
    with pytest.raises(ValueError, match="predict_one must return one class index"):
        setups.run_case6(lambda m, p, s, x: "eight")


def test_show_case_prints_the_setup_and_its_piece(capsys: pytest.CaptureFixture) -> None:
    setups.show_case(7)
    text = capsys.readouterr().out
    assert text.startswith("run_case7: Spirals")
    assert "def case7_make_optimizer()" in text
    with pytest.raises(ValueError, match="cases 1 to 8"):
        setups.show_case(9)


# --- what the notebook and the explanations say ---------------------------------------------


def test_the_causes_outnumber_the_cases_and_each_case_has_its_own() -> None:
    causes = [debugging.CASES[n].cause for n in CASES]
    assert len(set(causes)) == len(causes) == 8
    assert set(causes) < set(debugging.CAUSES)
    assert len(debugging.CAUSES) > len(causes)


def test_what_the_worked_solutions_explain() -> None:
    # case 1: a healthy start, then every step overshoots
    run = setups.run_case1()
    assert abs(run.history.step_loss[0] - math.log(10)) < 1.0
    assert run.history.train_loss[0] > 1e4
    loss, grads, _, _ = run.model.loss_and_grads(
        run.params0, run.X_train, run.y_train, "cross_entropy"
    )
    opt = setups.case1_make_optimizer()
    after, _ = opt.update(run.params0, grads, opt.init(run.params0))
    ratios = diagnostics.update_ratios(run.params0, after)
    assert f"{ratios['0.W']:.2f}, {ratios['2.W']:.2f}" == "0.45, 0.63"  # about half their size
    # case 2: column sizes, saturated tanh units, the loss stops at the label entropy
    run = setups.run_case2()
    means = setups.tumour_split()[0].mean(axis=0)
    assert means.min() < 0.01 and 800 < means.max() < 900
    assert 0.15 < run.params0[0]["W"].std() < 0.25
    assert np.median(np.abs(setups.tumour_split()[0] @ run.params0[0]["W"])) > 100
    (hidden,) = diagnostics.activation_stats(run.model, run.params0, run.X_train)
    assert hidden["saturated"] > 0.95
    p = run.y_train.mean()
    assert abs(run.scores["final_loss"] + p * np.log(p) + (1 - p) * np.log(1 - p)) < 0.02
    # case 3: the spread shrinks by about 0.06 per hidden layer, to about 1e-5
    run = setups.run_case3()
    stds = [s["std"] for s in diagnostics.activation_stats(run.model, run.params0, run.X_train)]
    assert len(stds) == 4
    factors = np.array(stds[1:]) / np.array(stds[:-1])
    assert np.all((0.04 < factors) & (factors < 0.08))
    assert 1e-6 < stds[-1] / run.X_train.std() < 1e-4
    # case 4: rows sum to 1, the loss cannot go below ln(1 + 9/e)
    run = setups.run_case4()
    out = run.model.predict(run.params, run.X_test)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    assert run.scores["final_loss"] > math.log(1 + 9 / math.e) == pytest.approx(1.4612, abs=1e-4)
    assert run.scores["final_loss"] > 1.5  # "above 1.5 after 30 epochs" (notebook)
    # case 5: the loss falls a little, the training accuracy rises (to 30 % after 30 epochs),
    # the test accuracy stays at chance
    run = setups.run_case5()
    assert run.history.train_loss[-1] < run.history.train_loss[0]
    assert f"{run.history.train_accuracy[-1]:.0%}" == "30%"
    assert run.history.train_accuracy[-1] > run.history.train_accuracy[0] + 0.1
    assert run.history.train_loss[-1] > 1.5  # "even the training loss stays high"
    assert run.scores["test_accuracy"] < 0.15
    # case 6: one answer for every image
    run = setups.run_case6()
    assert len(set(run.scores["answers"].tolist())) == 1
    # case 7: the first Dense layer gets gradient but never moves
    run = setups.run_case7()
    ratios = diagnostics.update_ratios(run.params0, run.params)
    assert ratios["0.W"] == 0 and run.history.grad_norms[-1]["0.W"] > 0
    assert ratios["2.W"] > 0 and ratios["4.W"] > 0
    assert [type(layer).__name__ for layer in run.model.layers] == [
        "Dense",
        "Activation",
        "Dense",
        "Activation",
        "Dense",
    ]
    # case 8: better on the test set than on fresh images; every test row is shared
    run = setups.run_case8()
    X = setups.collected_digits()[0]
    split = setups.case8_make_split(X, setups.collected_digits()[1], 0)
    assert pipeline_cases.shared_images(split[0], split[2], X) == len(split[2])
    assert run.scores["test_accuracy"] > run.scores["fresh_accuracy"]


def test_the_confusion_remarks_are_true() -> None:
    # case 2: after the first epochs the loss settles and stays (within mini-batch noise)
    losses = setups.run_case2().history.train_loss
    assert np.ptp(losses[10:]) < 0.02 and max(losses[10:]) < losses[0]
    # case 3: the loss does not move
    losses = setups.run_case3().history.train_loss
    assert np.ptp(losses) < 0.01
    # case 4: SGD with lr 0.1 trains case 1's network (the fixed case 4) to a low loss
    assert setups.run_case1(lambda: optim.sgd(lr=0.1)).scores["final_loss"] < 0.5
    # case 6: validation used the images that production got wrong
    run = setups.run_case6()
    assert len(run.scores["answers"]) == len(run.X_test) == 450


def _one_line(fn) -> str:
    return " ".join(inspect.getdoc(fn).split())


def _stated_model(doc: str) -> list[int] | None:
    """The layer sizes a docstring states as ``Model: 64 → 32 → 10, ...``, or None."""
    match = re.search(r"Model: ((?:[^→.]+→ )+[^,.]+)", doc)
    return [int(n) for n in re.findall(r"\d+", match.group(1))] if match else None


def test_every_data_function_states_the_shapes_it_returns() -> None:
    X_tr, _, X_te, _ = setups.digits_split()
    assert f"with {len(X_tr)} and {len(X_te)} rows" in _one_line(setups.digits_split)
    X_tr, _, X_te, _ = setups.tumour_split()
    assert (
        f"{len(X_tr)} training rows and {len(X_te)} test rows of {X_tr.shape[1]} features"
        in _one_line(setups.tumour_split)
    )
    X, _, X_fresh, _ = setups.collected_digits()
    assert len(X) == setups.COLLECTED and len(X) + len(X_fresh) == 1797
    assert f"{len(X)} digits drawn at random (seed 0), and the other {len(X_fresh)}" in (
        _one_line(setups.collected_digits)
    )
    assert f"of the {len(X) + len(X_fresh)} digits" in inspect.getsource(setups.data)
    assert f"the other {len(X_fresh)} are" in inspect.getsource(setups.data)
    X_sorted = setups.sorted_digits()[0]
    assert f"All {len(X_sorted)} digits" in _one_line(setups.sorted_digits)
    # case 5's check counts images by their bytes: that needs every image to be different
    assert len({row.tobytes() for row in X_sorted}) == len(X_sorted)
    X_tr, _, X_te, _ = setups.spiral_split()
    assert f"({len(X_tr) + len(X_te)} points" in _one_line(setups.spiral_split)


def test_every_setup_states_the_shapes_of_its_arrays_and_model() -> None:
    runs = {number: setups.RUNS[number]() for number in CASES}
    docs = {number: _one_line(setups.RUNS[number]) for number in CASES}
    for number, run in runs.items():
        stated = _stated_model(docs[number])
        assert stated is None or stated == dense_sizes(run.model), number
    assert [n for n in CASES if _stated_model(docs[n]) is None] == [3, 4]  # build_model()
    n_train, n_test = len(runs[1].X_train), len(runs[1].X_test)
    assert f"{n_train} training and {n_test} test images" in docs[1]
    X_train, X_test = runs[2].X_train, runs[2].X_test
    assert (
        f"{X_train.shape[1]} measurements of {len(X_train) + len(X_test)} tumours "
        f"({len(X_train)} for training, {len(X_test)} for testing)" in docs[2]
    )
    for number in (3, 4):  # "the digits of case 1, standardised"
        np.testing.assert_array_equal(runs[number].X_train, runs[1].X_train)
        np.testing.assert_array_equal(runs[number].X_test, runs[1].X_test)
    n_all = len(runs[5].X_train) + len(runs[5].X_test)
    assert f"all {n_all} digits" in docs[5] and "the first 75 % of the rows train" in docs[5]
    assert len(runs[5].X_train) == int(setups.TRAIN_FRACTION * n_all)
    assert f"the {len(runs[6].X_test)} test images" in docs[6]
    np.testing.assert_array_equal(runs[6].X_test, setups.digits_split()[2])  # raw pixels
    assert f"{len(runs[7].X_train)} training and {len(runs[7].X_test)} test points" in docs[7]
    fresh = runs[8].scores["fresh_images"]
    assert fresh == 1797 - setups.COLLECTED == 1497
    assert f"{setups.COLLECTED} digits collected" in docs[8]
    assert f"the other {fresh} digits of the data set" in docs[8]


def test_the_learning_rates_of_case_1_do_what_the_notebook_and_the_solution_say() -> None:
    """The table of section 10 and the worked solution of case 1 (seed 0)."""
    runs, ratios = {}, {}
    for lr in (3.0, 1.0, 0.3, 0.1, 0.01):
        run = runs[lr] = setups.run_case1(lambda lr=lr: optim.sgd(lr=lr))
        _, grads, _, _ = run.model.loss_and_grads(
            run.params0, run.X_train, run.y_train, "cross_entropy"
        )
        opt = optim.sgd(lr=lr)
        after, _ = opt.update(run.params0, grads, opt.init(run.params0))
        ratios[lr] = diagnostics.update_ratios(run.params0, after)
    shown = {lr: f"{r['0.W']:.2g}, {r['2.W']:.2g}" for lr, r in ratios.items()}
    assert shown == {
        3.0: "0.45, 0.63",
        1.0: "0.15, 0.21",
        0.3: "0.045, 0.063",
        0.1: "0.015, 0.021",
        0.01: "0.0015, 0.0021",
    }
    falls = {lr: bool(np.all(np.diff(run.history.train_loss) < 0)) for lr, run in runs.items()}
    assert falls == {3.0: False, 1.0: False, 0.3: True, 0.1: True, 0.01: True}
    assert np.all(np.diff(runs[3.0].history.train_loss) > 0)  # it grows every epoch
    judge = debugging.CASES[1].judge
    meets = {lr: judge(run, None).problem is None for lr, run in runs.items()}
    assert meets == {3.0: False, 1.0: True, 0.3: True, 0.1: True, 0.01: False}
    assert runs[1.0].scores["final_loss"] < runs[0.3].scores["final_loss"]  # "ends lower still"
    assert min(runs[lr].scores["test_accuracy"] for lr in (1.0, 0.3, 0.1)) >= 0.97
    # the worked solution is lr = 0.3: of 1, 0.3, 0.1, ... the largest whose loss falls every epoch
    solved = setups.run_case1(_solution(1))
    assert solved.history.train_loss == runs[0.3].history.train_loss
    # section 1's step by hand starts from the same network, data and weights as case 1
    model = mlp([64, 32, 10], activation="relu", dtype="float64")
    for mine, theirs in zip(model.init(0), runs[3.0].params0, strict=True):
        for key in mine:
            np.testing.assert_array_equal(mine[key], theirs[key])
    np.testing.assert_array_equal(setups.standardized_digits()[0], runs[3.0].X_train)


def test_the_start_of_the_loss_as_section_1_and_the_checklist_describe_it() -> None:
    X_train, y_train = setups.standardized_digits()[:2]
    he = mlp([64, 32, 10], activation="relu", dtype="float64")
    big = mlp([64, 32, 10], init="normal", init_kwargs={"std": 1.0}, dtype="float64")
    loss_he = he.loss_and_grads(he.init(0), X_train, y_train, "cross_entropy")[0]
    loss_big = big.loss_and_grads(big.init(0), X_train, y_train, "cross_entropy")[0]
    assert math.log(10) < loss_he < 1.3 * math.log(10) and loss_big > 10 * math.log(10)
    run = setups.run_case3()  # exactly at ln 10, and it stays there
    assert abs(run.history.step_loss[0] - math.log(10)) < 1e-6
    assert np.all(np.abs(np.array(run.history.train_loss) - math.log(10)) < 1e-3)


def test_case_8s_fix_makes_the_test_estimate_honest_not_the_model_better() -> None:
    broken, fixed = setups.run_case8(), setups.run_case8(_solution(8))
    numbers = [
        f"{run.scores[key]:.1%}"
        for run in (broken, fixed)
        for key in ("fresh_accuracy", "test_accuracy")
    ]
    assert numbers == ["94.2%", "99.7%", "94.1%", "96.0%"]  # as solution_case8 says
    gaps = []
    for seed in range(10):
        run = setups.run_case8(_solution(8), seed=seed)
        gaps.append(abs(run.scores["test_accuracy"] - run.scores["fresh_accuracy"]))
    assert max(gaps) < pipeline_cases.HONEST_GAP - 0.02  # the solution passes with room to spare
    broken_gap = broken.scores["test_accuracy"] - broken.scores["fresh_accuracy"]
    assert broken_gap > 0.04  # the leak shows as a test score above the fresh one


def test_the_layer_sizes_are_read_inside_residual_blocks_too() -> None:
    assert dense_sizes(mlp([64] * 5 + [10], residual=True)) == [64, 64, 64, 64, 64, 10]
    text = _check(3, "bad_weight_scale", lambda: mlp([64, 64, 10], residual=True, dtype="float64"))
    assert "(yours has [64, 64, 10])" in text


# --- the notebook ----------------------------------------------------------------------------

_CHECK_CALL = re.compile(r"^debugging\.check_case(\d)\((\w+), (\w+)\)$", flags=re.M)


def _code_cells() -> list[dict]:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def _source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def test_the_stored_notebook_shows_every_stub_not_done_yet() -> None:
    checks = [cell for cell in _code_cells() if _CHECK_CALL.search(_source(cell))]
    assert [int(_CHECK_CALL.search(_source(c)).group(1)) for c in checks] == list(CASES)
    for cell in checks:
        assert "return None  # your code here" in _source(cell)
        text = "".join("".join(o.get("text", "")) for o in cell["outputs"])
        assert text.startswith("Diagnosis: not done yet.")
        assert "\nFix: not done yet." in text


@pytest.mark.slow
def test_the_notebook_with_the_worked_solutions_pasted_in_solves_every_case() -> None:
    """Run every code cell of the notebook, each stub replaced by its worked solution."""
    namespace: dict = {"__name__": "__main__"}
    verdicts = {}
    try:
        for cell in _code_cells():
            source = _source(cell)
            call = _CHECK_CALL.search(source)
            if call:
                number = int(call.group(1))
                assert call.group(3) == debugging.CASES[number].piece
                source = f"{debugging.solution_source(number)}\n\n{call.group(0)}\n"
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                exec(compile(source, str(NOTEBOOK), "exec"), namespace)
            if call:
                verdicts[number] = output.getvalue()
    finally:
        plt.close("all")
    assert sorted(verdicts) == list(CASES)
    for number, text in verdicts.items():
        assert text.rstrip().endswith(f"Correct! Case {number} is solved."), text
    # Code copied from a case's piece finds every name it uses in the notebook.
    for number in CASES:
        piece = _broken_piece(number)
        copy = dict(namespace)
        exec(compile(inspect.getsource(piece), "<copied piece>", "exec"), copy)
        used = set(copy[piece.__name__].__code__.co_names)
        missing = {name for name in used - set(copy) if not hasattr(builtins, name)}
        # attributes (np.percentile, rng.shuffle, ...) appear in co_names too: keep globals only
        missing = {name for name in missing if name in piece.__globals__}
        assert not missing, (number, missing)
