"""Agreement of res2netfuse.metrics with the MATLAB toolbox, values computed by GNU Octave
(reference/tang/run_reference.m -> expected.csv, expected_ssim.csv, expected.check.csv)."""

from __future__ import annotations

import math
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from res2netfuse import metrics as M
from res2netfuse.io import load_gray_uint8
from res2netfuse.metrics.reference import agreement, agreement_cases, case_paths, change_summary, ssim_convention_change

REF = Path(__file__).resolve().parents[1] / "reference" / "tang"
sys.path.insert(0, str(REF))
from make_cases import REAL, SSIM_REAL, synthetic_cases  # noqa: E402

EXPECTED = pd.read_csv(REF / "expected.csv")
EXPECTED_SSIM = pd.read_csv(REF / "expected_ssim.csv")
CHECK = pd.read_csv(REF / "expected.check.csv")
ROOT = Path(__file__).resolve().parents[1]
TOOLBOX = "_toolbox"
# Values the reference leaves undefined (NaN/inf from 0/0) or makes rounding noise (FMI of a
# constant image: its DCT/DWT off-DC coefficients are ~1e-13 noise); we define them instead.
CONSTANT_FMI = {("syn_const_f", "FMI_dct"), ("syn_const_f", "FMI_w"), ("syn_const_b", "FMI_dct"),
                ("syn_const_b", "FMI_w")}
SSIM_RTOL = 1e-10  # SSIM as MATLAB computes it, to rounding
RTOL, ATOL = 1e-3, 1e-4  # the other metrics (FMI_w: 62-tap dmey on both sides)


def _triple(case: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if case.startswith("syn_"):
        return synthetic_cases()[case]
    return tuple(load_gray_uint8(p) for p in case_paths(case, ROOT / "data"))  # type: ignore[return-value]


@lru_cache(maxsize=None)
def scores(case: str, convention: str) -> dict[str, float]:
    return M.evaluate(*_triple(case), M.ALL_METRICS + M.EXTRA_METRICS, convention=convention)  # type: ignore[arg-type]


def ours(case: str, metric: str) -> float:
    if metric.endswith(TOOLBOX):
        return scores(case, "toolbox")[metric.removesuffix(TOOLBOX)]
    return scores(case, "paper")[metric]


def _comparable() -> list[tuple[str, str, float]]:
    return [(r.case, r.metric, r.value) for r in EXPECTED.itertuples()
            if math.isfinite(r.value) and (r.case, r.metric) not in CONSTANT_FMI]


def test_reference_covers_every_metric_and_convention_on_real_and_synthetic_triples() -> None:
    cases = set(EXPECTED.case)
    assert {f"tno{p}_{m}" for p, m in REAL} <= cases and set(synthetic_cases()) <= cases
    named = set(M.ALL_METRICS) | set(M.EXTRA_METRICS) | {"Qabf" + TOOLBOX, "Nabf" + TOOLBOX}
    assert set(EXPECTED.metric) == named
    assert set(EXPECTED_SSIM.case) == {f"tno{p}_{m}" for p, m in SSIM_REAL} and len(SSIM_REAL) == 42 * 9


@pytest.mark.parametrize("case,metric,expected", _comparable(), ids=lambda v: str(v)[:24])
def test_agrees_with_matlab_reference(case: str, metric: str, expected: float, data_dir: Path) -> None:
    value = ours(case, metric)
    if metric.startswith("SSIM_a"):
        assert abs(value - expected) <= SSIM_RTOL * abs(expected), f"{case} {metric}: {value!r} vs {expected!r}"
    else:
        assert abs(value - expected) <= max(RTOL * abs(expected), ATOL), f"{case} {metric}: {value} vs {expected}"


# every TNO pair once, the peer method rotating: 42 of the 378 triples of expected_ssim.csv
ROTATING = [f"tno{p:02d}_{SSIM_REAL[(p - 1) * 9 + (p - 1) % 9][1]}" for p in range(1, 43)]


@pytest.mark.parametrize("case", ROTATING)
def test_ssim_a_matches_matlab_ssim_on_every_tno_pair(case: str, data_dir: Path) -> None:
    expected = EXPECTED_SSIM[EXPECTED_SSIM.case == case].set_index("metric").value
    value = M.evaluate(*_triple(case), ["SSIM_a", "SSIM_a_wang"])
    for metric in ("SSIM_a", "SSIM_a_wang"):
        assert value[metric] == pytest.approx(expected[metric], rel=SSIM_RTOL, abs=0), (case, metric)


@pytest.mark.parametrize("case,metric", sorted({(r.case, r.metric) for r in EXPECTED.itertuples()
                                               if not math.isfinite(r.value)} | CONSTANT_FMI))
def test_values_the_reference_leaves_undefined_are_finite(case: str, metric: str) -> None:
    assert math.isfinite(ours(case, metric))


def test_constant_fused_image_has_no_feature_information() -> None:
    s = scores("syn_const_f", "paper")
    assert s["FMI_dct"] == pytest.approx(0, abs=1e-12) and s["CC"] == 0 and s["SD"] == 0 and s["EN"] == 0


def _crop(case: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 48x47 centre crop ``run_reference.m ... check`` gives the toolbox's loop code (its r0, c0 rule)."""
    a, b, f = _triple(case)
    r0, c0 = a.shape[0] // 2 - 24, a.shape[1] // 2 - 24
    return tuple(x[r0:r0 + 48, c0:c0 + 47].astype(np.float64) for x in (a, b, f))  # type: ignore[return-value]


LOOP_CHECKS = {  # expected.check.csv's name -> this project's function on the crop (A, B, F on [0, 255])
    "FMI_dct": lambda a, b, f: M.fmi(a, b, f, M.dct_feature),
    "FMI_pixel": lambda a, b, f: M.fmi(a, b, f, lambda x: x),
    "MS_SSIM": M.mef_ssim,
    "Qabf_toolbox": M.qabf,
    "Qabf": lambda a, b, f: M.qabf(a / 255, b / 255, f / 255),
    "Nabf_toolbox": M.nabf,
    "Nabf": lambda a, b, f: M.nabf(a / 255, b / 255, f / 255),
    "SSIM_matlab": lambda a, b, f: M.ssim(f, a),
}


@pytest.mark.parametrize("check", sorted(LOOP_CHECKS))
def test_our_metrics_equal_the_toolbox_loop_code_on_crops(check: str) -> None:
    """The toolbox's own loop code (too slow for whole images) on 48x47 crops of every reference case is the
    strictest oracle: our vectorised metrics agree with it to rounding (and so does the Octave driver's
    vectorised code that made expected.csv)."""
    rows = CHECK[CHECK.check == check]
    assert set(rows.case) == set(EXPECTED.case), f"{check}: the loop-code check must cover every reference case"
    rows = rows[[(case, check) not in CONSTANT_FMI for case in rows.case]]  # rounding noise there, defined as 0 here
    ours_ = np.array([LOOP_CHECKS[check](*_crop(case)) for case in rows.case])
    np.testing.assert_allclose(ours_, rows.loop_code, rtol=1e-9, atol=1e-12, err_msg=check)
    np.testing.assert_allclose(rows.vectorised, rows.loop_code, rtol=1e-7, atol=1e-12, err_msg=check)


def test_agreement_tables_for_the_notebook(data_dir: Path) -> None:
    per_case = agreement_cases(REF / "expected.csv", data_dir, max_cases=1)
    assert set(per_case.case) == {"tno01_DenseFuse"} and per_case.within.all()
    assert set(per_case.metric) == set(EXPECTED.metric)
    summary = agreement(REF / "expected.csv", data_dir, max_cases=1)
    assert summary.loc[summary.metric == "SSIM_a", "max_rel_diff"].item() <= SSIM_RTOL and summary.within.all()
    change = ssim_convention_change(REF / "expected_ssim.csv", data_dir, cases=["tno10_RFN-Nest", "tno01_PMGI"])
    row = change.iloc[0]
    assert row.max_rel_diff <= SSIM_RTOL
    assert row.change_pct == pytest.approx(100 * (row.ref_SSIM_a / row.ref_SSIM_a_wang - 1), rel=1e-8)
    assert ssim_convention_change(REF / "expected.csv", data_dir, max_cases=2).case.tolist() == \
        ["tno01_DenseFuse", "tno01_SeAFusion"]
    overall = change_summary(change).set_index("method").loc["all"]
    assert overall.triples == 2 and overall.max_abs_change_pct == change.change_pct.abs().max()
