"""Paired statistics on cases with known answers (exact Wilcoxon tails, Holm's textbook example, coverage)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from res2netfuse import stats


def test_wilcoxon_all_positive_distinct_differences_has_the_exact_extreme_tail() -> None:
    # W+ takes its maximum only when every sign is +: P = 2^-n one-sided, twice that two-sided
    for n in (6, 12, 20):
        assert stats.wilcoxon_p(np.arange(1, n + 1) * 0.01) == pytest.approx(2 * 0.5**n, rel=1e-9)


def test_wilcoxon_is_symmetric_in_sign_and_one_for_no_difference() -> None:
    d = np.array([0.3, -0.1, 0.25, 0.05, -0.2, 0.4, 0.15])
    assert stats.wilcoxon_p(d) == pytest.approx(stats.wilcoxon_p(-d))
    assert stats.wilcoxon_p(np.zeros(10)) == 1.0


def test_holm_on_the_textbook_example() -> None:
    # sorted p: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.06, 0.04*1) = 0.06
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm([0.5, 0.9]), [1.0, 1.0])
    with pytest.raises(ValueError, match="p-values must be"):
        stats.holm([0.1, 1.5])


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_never_lowers_a_p_value_and_keeps_their_order(p: list[float]) -> None:
    adjusted = stats.holm(p)
    assert np.all(adjusted >= np.asarray(p) - 1e-15) and np.all(adjusted <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= -1e-15)


def test_bootstrap_ci_of_a_constant_shift_is_that_shift_and_brackets_the_mean_otherwise() -> None:
    assert stats.bootstrap_ci(np.full(20, 0.25)) == (0.25, 0.25)
    d = np.random.default_rng(3).normal(1.0, 0.5, 20)
    low, high = stats.bootstrap_ci(d, n_resamples=2000)
    assert low < d.mean() < high
    assert stats.bootstrap_ci(d, n_resamples=2000, seed=1) == stats.bootstrap_ci(d, n_resamples=2000, seed=1)


def test_bootstrap_ci_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(11)
    trials = 200
    hits = sum(lo <= 0.3 <= hi for lo, hi in
               (stats.bootstrap_ci(rng.normal(0.3, 1.0, 20), n_resamples=1000, seed=s) for s in range(trials)))
    # binomial(200, ~0.93-0.95): 0.86..0.99 holds with overwhelming probability for a correct interval
    assert 0.86 <= hits / trials <= 0.99


def test_compare_pairs_by_image_and_corrects_across_metrics() -> None:
    images = [f"{i:02d}" for i in range(10)]
    rng = np.random.default_rng(0)
    base = rng.random(10)
    rows = [{"method": "A", "image": i, "m1": v + 0.1, "m2": v} for i, v in zip(images, base)]
    rows += [{"method": "B", "image": i, "m1": v, "m2": v + rng.normal(0, 0.01)} for i, v in zip(images, base)]
    shuffled = pd.DataFrame(rows).sample(frac=1, random_state=1)  # pairing must follow the image, not the row
    table = stats.compare(shuffled, "A", "B", ["m1", "m2"], n_resamples=2000)
    m1 = table.set_index("metric").loc["m1"]
    assert m1.difference == pytest.approx(0.1) and m1.ci_low == m1.ci_high == pytest.approx(0.1)
    assert m1.p == pytest.approx(2 * 0.5**10) and m1.n == 10
    np.testing.assert_allclose(table.p_holm, stats.holm(table.p))
    with pytest.raises(ValueError, match="no rows with method == 'C'"):
        stats.compare(shuffled, "A", "C", ["m1"])


def test_spread_summarises_runs() -> None:
    runs = pd.DataFrame({"run": ["a", "b", "c"], "m": [1.0, 2.0, 4.0]})
    s = stats.spread(runs, ["m"]).iloc[0]
    assert (s["mean"], s["min"], s["max"], s["range"], s["runs"]) == (pytest.approx(7 / 3), 1.0, 4.0, 3.0, 3)
    assert s["sd"] == pytest.approx(math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2))


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 paired differences"):
        stats.wilcoxon_p([0.1])
    with pytest.raises(ValueError, match="NaN or infinite"):
        stats.bootstrap_ci([0.1, float("nan"), 0.2])
