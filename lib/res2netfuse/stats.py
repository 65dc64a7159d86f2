"""Paired statistics on per-image values: bootstrap CIs, Wilcoxon signed-rank tests, Holm correction, spread.

Two methods scored on the same images give paired values ``x_i``, ``y_i``; the comparison is on the
differences ``d_i = x_i - y_i``:

* mean difference ``mean(d)`` with a bootstrap confidence interval (Efron & Tibshirani 1993): the
  images are resampled with replacement ``n_resamples`` times, which resamples *pairs*; the interval
  is scipy's BCa interval (``scipy.stats.bootstrap``) from a generator seeded with ``seed``;
* the two-sided Wilcoxon signed-rank test of ``median(d) = 0`` (Wilcoxon 1945; ``scipy.stats.wilcoxon``,
  exact for small samples without ties, normal approximation otherwise; zero differences are dropped);
* Holm's step-down correction (Holm 1979) of the p-values of a family of tests (here: the six metrics
  of one comparison): with ``p_(1) <= ... <= p_(m)``, ``p~_(k) = max_{j<=k} min(1, (m - j + 1) p_(j))``.

:func:`spread` summarises a value over repeated trainings (mean, sd, min, max), the yardstick a
between-method difference is compared with.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

N_RESAMPLES = 10_000
CONFIDENCE = 0.95


def bootstrap_ci(differences: Sequence[float] | np.ndarray, n_resamples: int = N_RESAMPLES,
                 confidence: float = CONFIDENCE, seed: int = 0) -> tuple[float, float]:
    """BCa bootstrap interval of the mean of paired differences (pairs resampled, seeded).

    Differences equal up to rounding (spread <= 1e-12 of their size): the interval is their mean,
    as no resample can differ (BCa is undefined there).
    """
    d = _differences(differences)
    if np.ptp(d) <= 1e-12 * max(1.0, float(np.abs(d).max())):
        return float(d.mean()), float(d.mean())
    result = scipy_stats.bootstrap((d,), np.mean, n_resamples=n_resamples, confidence_level=confidence,
                                   method="BCa", rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def wilcoxon_p(differences: Sequence[float] | np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences; 1.0 when every difference is 0."""
    d = _differences(differences)
    if not np.any(d):
        return 1.0
    return float(scipy_stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (same order as given) of one family of tests."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or np.any((p < 0) | (p > 1)) or np.any(~np.isfinite(p)):
        raise ValueError(f"p-values must be a 1-D sequence in [0, 1], got {p_values!r}")
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted


def compare(values: pd.DataFrame, first: str, second: str, metrics: Sequence[str], *, by: str = "method",
            on: str = "image", n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE,
            seed: int = 0) -> pd.DataFrame:
    """Paired comparison ``first - second`` per metric on the images both have, Holm across ``metrics``.

    ``values`` is tidy: one row per (``by``, ``on``) with one column per metric. Returns one row per
    metric: ``mean_first, mean_second, difference, ci_low, ci_high, p, p_holm, n``.
    """
    a = _indexed(values, by, first, on)
    b = _indexed(values, by, second, on)
    common = a.index.intersection(b.index)
    if len(common) < 2:
        raise ValueError(f"{first!r} and {second!r} share {len(common)} {on}(s); a paired comparison needs >= 2")
    rows = []
    for metric in metrics:
        x, y = a.loc[common, metric].to_numpy(float), b.loc[common, metric].to_numpy(float)
        d = x - y
        low, high = bootstrap_ci(d, n_resamples, confidence, seed)
        rows.append({"metric": metric, "first": first, "second": second, "mean_first": x.mean(),
                     "mean_second": y.mean(), "difference": d.mean(), "ci_low": low, "ci_high": high,
                     "p": wilcoxon_p(d), "n": len(common)})
    table = pd.DataFrame(rows)
    table.insert(table.columns.get_loc("p") + 1, "p_holm", holm(table.p))
    return table


def spread(values: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Mean, sd (ddof 1), min, max and range of each metric over the rows of ``values`` (e.g. one per run)."""
    v = values[list(metrics)].astype(float)
    return pd.DataFrame({"metric": list(metrics), "mean": v.mean().to_numpy(), "sd": v.std(ddof=1).to_numpy(),
                         "min": v.min().to_numpy(), "max": v.max().to_numpy(),
                         "range": (v.max() - v.min()).to_numpy(), "runs": len(v)})


def _differences(values: Sequence[float] | np.ndarray) -> np.ndarray:
    d = np.asarray(values, dtype=np.float64)
    if d.ndim != 1 or d.size < 2:
        raise ValueError(f"need a 1-D sequence of at least 2 paired differences, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise ValueError("paired differences contain NaN or infinite values")
    return d


def _indexed(values: pd.DataFrame, by: str, name: str, on: str) -> pd.DataFrame:
    rows = values[values[by] == name]
    if rows.empty:
        raise ValueError(f"no rows with {by} == {name!r}; present: {sorted(values[by].unique())}")
    if rows[on].duplicated().any():
        raise ValueError(f"{by} == {name!r} has several rows per {on}")
    return rows.set_index(on)
