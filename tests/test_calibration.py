"""Calibration: reliability tables, expected calibration error and temperature scaling."""

from __future__ import annotations

import numpy as np
import pytest

from nnlib import calibration as cal


def _calibrated_sample(n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and labels drawn so that P(y = 1 | p) = p exactly."""
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    return (rng.random(n) < p).astype(np.int64), p


def test_reliability_table_counts_and_averages_by_hand() -> None:
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.05, 0.15, 0.95, 0.92, 1.0])
    t = cal.reliability_table(y, p, n_bins=2)
    np.testing.assert_allclose(t.edges, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(t.counts, [2, 3])
    np.testing.assert_allclose(t.predicted, [0.1, (0.95 + 0.92 + 1.0) / 3])
    np.testing.assert_allclose(t.observed, [0.5, 2 / 3])
    empty = cal.reliability_table(y, p, n_bins=10)
    assert empty.counts.sum() == 5 and np.isnan(empty.predicted[5])


def test_ece_is_zero_for_a_perfect_table_and_weights_bins_by_count() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.0, 0.0, 1.0, 1.0])
    assert cal.expected_calibration_error(y, p) == 0.0
    # one bin of 4 at p = 0.25 with 1 positive (gap 0), one of 1 at p = 0.95 that is negative
    y = np.array([1, 0, 0, 0, 0])
    p = np.array([0.25, 0.25, 0.25, 0.25, 0.95])
    assert cal.expected_calibration_error(y, p) == pytest.approx(0.95 / 5)


def test_calibrated_probabilities_have_a_small_ece_and_overconfident_ones_a_large_one() -> None:
    y, p = _calibrated_sample()
    assert cal.expected_calibration_error(y, p) < 0.02
    s = cal.logits_from_probabilities(p)
    overconfident = cal.apply_temperature(s, 1 / 3)  # logits three times too large
    assert cal.expected_calibration_error(y, overconfident) > 0.1


def test_temperature_scaling_recovers_the_temperature_that_spoiled_calibration() -> None:
    y, p = _calibrated_sample()
    s = cal.logits_from_probabilities(p)
    for spoil in (0.4, 1.0, 2.5):
        assert cal.fit_temperature(s / spoil, y) == pytest.approx(1 / spoil, rel=0.05)


def test_fit_temperature_minimises_the_log_loss() -> None:
    y, p = _calibrated_sample(n=2000, seed=1)
    s = 3.0 * cal.logits_from_probabilities(p)
    t = cal.fit_temperature(s, y)

    def log_loss(temperature):
        q = np.clip(cal.apply_temperature(s, temperature), 1e-15, 1 - 1e-15)
        return -np.mean(y * np.log(q) + (1 - y) * np.log(1 - q))

    assert log_loss(t) < min(log_loss(0.97 * t), log_loss(1.03 * t))


def test_temperature_keeps_the_ranking_and_maps_logits_through_the_sigmoid() -> None:
    s = np.array([-40.0, -2.0, 0.0, 1.0, 700.0])
    q = cal.apply_temperature(s, 2.0)
    np.testing.assert_allclose(q[1:4], 1 / (1 + np.exp(-s[1:4] / 2)), rtol=1e-12)
    assert np.all(np.diff(q) >= 0) and np.all(np.isfinite(q))
    np.testing.assert_allclose(cal.logits_from_probabilities(q[1:4]), s[1:4] / 2, rtol=1e-9)
    assert cal.logits_from_probabilities(np.array([0.0, 1.0])) == pytest.approx(
        [-34.54, 34.54], abs=0.01
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: cal.reliability_table([0, 1], [0.2, 1.2]), "probabilities in \\[0, 1\\]"),
        (lambda: cal.reliability_table([0, 1, 1], [0.2, 0.3]), "one label per prediction"),
        (lambda: cal.reliability_table([0, 2], [0.2, 0.3]), "y_true"),
        (lambda: cal.reliability_table([0, 1], [0.2, 0.3], n_bins=0), "n_bins"),
        (lambda: cal.fit_temperature([0.0, np.inf], [0, 1]), "finite"),
        (lambda: cal.apply_temperature([0.0], -1.0), "temperature must be a positive"),
    ],
)
def test_bad_input_is_refused_clearly(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_plot_reliability_draws_one_line_per_table() -> None:
    pytest.importorskip("matplotlib")
    from nnlib.plots import plot_reliability

    y, p = _calibrated_sample(n=500)
    tables = {"raw": cal.reliability_table(y, p), "sharper": cal.reliability_table(y, p**2)}
    ax = plot_reliability(tables)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["calibrated", "raw", "sharper"]
    with pytest.raises(ValueError, match="at least one"):
        plot_reliability({})
