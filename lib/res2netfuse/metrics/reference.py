"""Agreement with the MATLAB toolbox run under GNU Octave, and the size of the change to MATLAB's SSIM.

``reference/tang/expected.csv`` (``run_reference.m``) holds the toolbox's values per case and
metric; ``expected_ssim.csv`` holds SSIM_a (MATLAB ``ssim``) and SSIM_a_wang for every TNO pair x
peer method. Metric names are :func:`~res2netfuse.metrics.evaluate`'s under the paper's
convention; ``<name>_toolbox`` rows are the same function under ``convention="toolbox"``.
Real cases are named ``tno<pair>_<method>`` (``data/fusion/tno/{ir,vi}/<pair>.png``,
``data/peers/tno/<method>/<pair>.png``); synthetic ones (``syn_*``) are rebuilt by the tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..datasets import data_root as default_data_root
from ..datasets import pair_set
from ..io import PathLike, load_gray_uint8
from .core import ALL_METRICS, EXTRA_METRICS, evaluate

TOOLBOX_SUFFIX = "_toolbox"
# relative tolerance of the tests per metric (absolute 1e-4 as well where the value is small)
SSIM_TOLERANCE = 1e-10
DEFAULT_TOLERANCE = 1e-3


def case_paths(case: str, data_root: PathLike | None = None) -> list[Path]:
    """(IR, VI, fused) files of a real reference case ``tno<pair>_<method>`` (data root: see
    :func:`res2netfuse.datasets.data_root`)."""
    if not case.startswith("tno") or case[5:6] != "_":
        raise ValueError(f"{case!r} is not a real TNO case (tno<pair>_<method>)")
    pair, method, tno = case[3:5], case[6:], pair_set("tno")
    root = Path(data_root) if data_root is not None else default_data_root()
    ir_dir, vi_dir = tno.folders(root)
    return [ir_dir / f"{pair}.png", vi_dir / f"{pair}.png", root / str(tno.peers) / method / f"{pair}.png"]


def load_expected(path: PathLike) -> pd.DataFrame:
    """The reference values: columns ``case, metric, value`` (real and synthetic cases)."""
    return pd.read_csv(path)[["case", "metric", "value"]]


def _ours(case: str, data_root: PathLike, metrics: list[str]) -> dict[str, float]:
    a, b, f = (load_gray_uint8(p) for p in case_paths(case, data_root))
    paper = [m for m in metrics if not m.endswith(TOOLBOX_SUFFIX)]
    toolbox = [m.removesuffix(TOOLBOX_SUFFIX) for m in metrics if m.endswith(TOOLBOX_SUFFIX)]
    values = evaluate(a, b, f, paper)
    values.update({m + TOOLBOX_SUFFIX: v for m, v in evaluate(a, b, f, toolbox, convention="toolbox").items()})
    return values


def tolerance(metric: str) -> float:
    """The relative tolerance the tests hold ``metric`` to."""
    return SSIM_TOLERANCE if metric.startswith("SSIM_a") else DEFAULT_TOLERANCE


def agreement_cases(expected_csv: PathLike, data_root: PathLike = "data", max_cases: int = 0) -> pd.DataFrame:
    """Ours next to the reference for every real case of ``expected_csv`` and every metric in it.

    Columns ``case, metric, ours, reference, rel_diff, tolerance, within``; ``rel_diff`` is
    |ours - reference| / |reference| (absolute where the reference is 0); ``within`` applies
    :func:`tolerance` (or 1e-4 absolute). ``max_cases`` > 0 keeps the first that many cases.
    """
    ref = load_expected(expected_csv)
    known = set(ALL_METRICS + EXTRA_METRICS)
    ref = ref[ref.case.str.startswith("tno") & ref.metric.str.removesuffix(TOOLBOX_SUFFIX).isin(known)]
    cases = list(dict.fromkeys(ref.case))[: max_cases or None]
    rows = []
    for case in cases:
        expected = ref[ref.case == case].set_index("metric").value
        ours = _ours(case, data_root, list(expected.index))
        for metric, value in expected.items():
            diff = abs(ours[metric] - value)
            rel = diff / abs(value) if value else diff
            tol = tolerance(metric)
            rows.append({"case": case, "metric": metric, "ours": ours[metric], "reference": value, "rel_diff": rel,
                         "tolerance": tol, "within": bool(rel <= tol or (tol > SSIM_TOLERANCE and diff <= 1e-4))})
    return pd.DataFrame(rows)


def agreement(expected_csv: PathLike, data_root: PathLike = "data", max_cases: int = 0) -> pd.DataFrame:
    """The agreement table: per metric, the number of real cases, mean ours and reference, the max
    relative difference, the tests' tolerance and whether every case is within it
    (from :func:`agreement_cases`; ``max_cases`` > 0 keeps the first that many cases)."""
    per_case = agreement_cases(expected_csv, data_root, max_cases)
    return (per_case.groupby("metric", sort=False)
            .agg(cases=("case", "size"), ours=("ours", "mean"), reference=("reference", "mean"),
                 max_rel_diff=("rel_diff", "max"), tolerance=("tolerance", "first"), within=("within", "all"))
            .reset_index())


def ssim_convention_change(reference_csv: PathLike, data_root: PathLike = "data", max_cases: int = 0,
                           cases: list[str] | None = None) -> pd.DataFrame:
    """Per real triple of ``reference_csv`` (``expected.csv`` or ``expected_ssim.csv``): SSIM_a by Wang's
    convention (this project's SSIM_a until it adopted MATLAB's) and by MATLAB's ``ssim`` (the paper wrapper's, now).

    Columns ``case, pair, method, SSIM_a_wang, SSIM_a, change_pct`` with change_pct =
    100 (SSIM_a / SSIM_a_wang - 1), then the reference values (``ref_SSIM_a_wang``, ``ref_SSIM_a``)
    and the larger relative difference of ours to them (``max_rel_diff``). ``cases`` or
    ``max_cases`` > 0 restrict the triples.
    """
    expected = load_expected(reference_csv)
    ref = expected[expected.case.str.startswith("tno") & expected.metric.isin(["SSIM_a", "SSIM_a_wang"])]
    ref = ref.pivot(index="case", columns="metric", values="value")
    chosen = cases if cases is not None else list(dict.fromkeys(expected.case))
    chosen = [c for c in chosen if c in ref.index][: max_cases or None]
    rows = []
    for case in chosen:
        a, b, f = (load_gray_uint8(p) for p in case_paths(case, data_root))
        ours = evaluate(a, b, f, ["SSIM_a_wang", "SSIM_a"])
        rows.append({"case": case, "pair": case[3:5], "method": case[6:], **ours,
                     "change_pct": 100 * (ours["SSIM_a"] / ours["SSIM_a_wang"] - 1),
                     "ref_SSIM_a_wang": ref.at[case, "SSIM_a_wang"], "ref_SSIM_a": ref.at[case, "SSIM_a"],
                     "max_rel_diff": max(abs(ours[m] / ref.at[case, m] - 1) for m in ("SSIM_a", "SSIM_a_wang"))})
    return pd.DataFrame(rows)


def change_summary(per_case: pd.DataFrame) -> pd.DataFrame:
    """Per method and overall, from :func:`ssim_convention_change`: mean SSIM_a under both conventions,
    the change of the mean and the median / max per-triple |change|, in %."""
    def stats(g: pd.DataFrame) -> pd.Series:
        return pd.Series({"triples": len(g), "SSIM_a_wang": g.SSIM_a_wang.mean(), "SSIM_a": g.SSIM_a.mean(),
                          "mean_change_pct": 100 * (g.SSIM_a.mean() / g.SSIM_a_wang.mean() - 1),
                          "median_abs_change_pct": float(np.median(np.abs(g.change_pct))),
                          "max_abs_change_pct": float(np.abs(g.change_pct).max())})
    per_method = per_case.groupby("method", sort=True).apply(stats, include_groups=False)
    overall = stats(per_case).rename("all").to_frame().T
    return pd.concat([per_method, overall]).rename_axis("method").reset_index()
