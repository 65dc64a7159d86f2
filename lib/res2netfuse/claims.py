"""Verdicts on the paper's claims from paired comparisons and the spread over training runs.

Every between-method claim is judged on a row of :func:`res2netfuse.stats.compare` (mean difference
``first - second`` over the test images, its bootstrap CI and Holm-corrected Wilcoxon p) and on the
*spread* of the same metric over Res2NetFuse_1 models trained on different single images (range of
their means): a difference smaller than what the choice of the one training image changes is not a
finding. With significance level ``alpha``:

``higher`` ("first scores higher than second", all metrics here are higher-is-better)
    supported      -- significant (p_holm < alpha, CI above 0) and larger than the spread;
    inconclusive   -- significant but not larger than the spread;
    not supported  -- no significant difference, or significant in the other direction.
``similar`` ("first is comparable to second")
    supported      -- |difference| not larger than the spread (as close as two single-image models);
    not supported  -- significant and larger than the spread;
    inconclusive   -- larger than the spread but not significant.

A claim with several parts (metrics, strategies) is supported when every part is, not supported
when any part is not, and inconclusive otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pandas as pd

Verdict = Literal["supported", "not supported", "inconclusive", "not testable here"]
Kind = Literal["higher", "similar"]
ALPHA = 0.05


def judge(row: Mapping[str, Any], spread: float, kind: Kind, alpha: float = ALPHA) -> Verdict:
    """The verdict on one comparison row (``difference, ci_low, ci_high, p_holm``) against ``spread``."""
    significant = row["p_holm"] < alpha and (row["ci_low"] > 0 or row["ci_high"] < 0)
    beyond = abs(row["difference"]) > spread
    if kind == "higher":
        if significant and row["difference"] > 0:
            return "supported" if beyond else "inconclusive"
        return "not supported"
    if kind == "similar":
        if not beyond:
            return "supported"
        return "not supported" if significant else "inconclusive"
    raise ValueError(f"unknown claim kind {kind!r}; expected 'higher' or 'similar'")


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """One verdict for a claim made of several parts (see the module docstring)."""
    parts = list(verdicts)
    if not parts:
        raise ValueError("no parts to combine")
    if all(v == "supported" for v in parts):
        return "supported"
    if any(v == "not supported" for v in parts):
        return "not supported"
    return "inconclusive"


def oriented(row: Mapping[str, Any], sign: int) -> dict[str, Any]:
    """``row`` seen in the direction a claim states: difference and CI times ``sign`` (+1: ``first >
    second``, -1: ``second > first``), so that :func:`judge`'s ``higher`` tests either direction."""
    if sign not in (1, -1):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    low, high = sign * row["ci_low"], sign * row["ci_high"]
    return {**row, "difference": sign * row["difference"], "ci_low": min(low, high), "ci_high": max(low, high)}


def judged(comparison: pd.DataFrame, spreads: Mapping[str, float], kind: Kind, alpha: float = ALPHA,
           signs: Mapping[str, int] | None = None) -> pd.DataFrame:
    """``comparison`` (rows of ``stats.compare``) with columns ``spread``, ``claimed`` and ``verdict`` added.

    ``signs`` (``higher`` claims only) gives per metric the direction claimed: +1 (default) ``first >
    second``, -1 ``second > first`` (e.g. the paper's Table II has l1 above mean on some metrics)."""
    signs = signs or {}
    if kind != "higher" and any(v != 1 for v in signs.values()):
        raise ValueError("signs apply to 'higher' claims only")
    out = comparison.copy()
    out["spread"] = [spreads[m] for m in out.metric]
    out["claimed"] = ["|first - second| <= spread" if kind == "similar" else
                      "first > second" if signs.get(m, 1) == 1 else "second > first" for m in out.metric]
    out["verdict"] = [judge(oriented(r, signs.get(r["metric"], 1)), s, kind, alpha)
                      for r, s in zip(out.to_dict("records"), out.spread)]
    return out


def evidence(comparison: pd.DataFrame, label: str = "") -> str:
    """A compact text of judged comparison rows: ``metric: Δ +0.0123 [+0.0050, +0.0190], p_holm 0.003, spread 0.010``."""
    parts = [f"{r.metric}: Δ {r.difference:+.4g} [{r.ci_low:+.4g}, {r.ci_high:+.4g}], p_holm {r.p_holm:.2g}, "
             f"spread {r.spread:.3g} → {r.verdict}" for r in comparison.itertuples()]
    return (f"{label}: " if label else "") + "; ".join(parts)


def ledger_markdown(ledger: pd.DataFrame, caption: str) -> str:
    """The ledger (columns ``claim, section, paper says, verdict, evidence``) as markdown: a summary table,
    then one section per claim with the paper's words and the evidence, one bullet per part."""
    rows = ledger.to_dict("records")
    lines = [caption, "", "| claim | section | verdict |", "|:--|:--|:--|"]
    lines += [f"| [{r['claim']}](#{r['claim']}) | {r['section']} | **{r['verdict']}** |" for r in rows]
    for r in rows:
        lines += ["", f"## {r['claim']}", "", f"*{r['section']}* — the paper: “{r['paper says']}”", "",
                  f"**Verdict: {r['verdict']}.**", ""]
        lines += [f"* {part.strip()}" for part in str(r["evidence"]).split(" | ")]
    return "\n".join(lines) + "\n"
