"""The paper's fusion tables (II and IV) rebuilt from measured per-image scores, beside the published rows.

Input everywhere: a tidy table of per-image scores (``method, image`` and one column per metric), as
:func:`res2netfuse.metrics.evaluate_folders` writes it; methods run here are named as in
:data:`res2netfuse.methods.METHODS`, whose ``paper`` field names the paper's row of each
(:mod:`res2netfuse.paper`). Deviations are ``(measured - paper) / paper`` in %.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from . import paper
from .methods import METHODS
from .scoring import means


def beside_paper(means: pd.DataFrame, methods: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """For each run-here method in ``means`` (indexed by method) that has a paper row: its measured row, the
    paper's row and the deviation row (columns ``method, strategy, source`` and ``metrics``)."""
    rows = []
    for name in methods:
        if name not in means.index or METHODS[name].paper is None:
            continue
        measured = means.loc[name, list(metrics)].astype(float)
        published = paper.fusion_row(*METHODS[name].paper)[list(metrics)]
        label = {"method": METHODS[name].paper[0], "strategy": METHODS[name].strategy}
        rows += [{**label, "source": "run here", **measured}, {**label, "source": "paper", **published},
                 {**label, "source": "deviation [%]", **(100 * (measured - published) / published)}]
    return pd.DataFrame(rows)


def table2(means: pd.DataFrame, metrics: Sequence[str] = paper.FUSION_METRICS) -> pd.DataFrame:
    """Table II: Res2NetFuse_1 (l1, mean) and DenseFuse (addition) run here beside the paper's rows, DenseFuse's
    other strategies run here (no paper row), and MSDNet and Res2NetFuse_80000 as reported."""
    measured = beside_paper(means, ["Res2NetFuse_l1", "Res2NetFuse_mean", "DenseFuseRun_addition"], metrics)
    extra = [{"method": "DenseFuse", "strategy": METHODS[m].strategy, "source": "run here (no paper row)",
              **means.loc[m, list(metrics)]} for m in ("DenseFuseRun_l1", "DenseFuseRun_mean") if m in means.index]
    reported = [{**r, "source": "paper: reported, not re-run"} for r in paper.table2().to_dict("records")
                if r["method"] in ("MSDNet", "Res2NetFuse_80000")]
    return pd.concat([measured, pd.DataFrame(extra), pd.DataFrame(reported)], ignore_index=True)


def deviations(table: pd.DataFrame) -> pd.DataFrame:
    """The deviation rows of a table made by :func:`beside_paper` / :func:`table2`."""
    return table[table.source == "deviation [%]"].drop(columns="source").reset_index(drop=True)


def as_twins(scores: pd.DataFrame, twins: Mapping[str, str], label: str) -> pd.DataFrame:
    """Per-image scores on the 42-pair TNO set restricted to the twins of the paper's pairs (``twins``: tno21 stem
    -> tno stem), renamed to the tno21 stems and with `` (label)`` appended to each method."""
    back = {tno: paper_pair for paper_pair, tno in twins.items()}
    on = scores[scores.image.isin(back)]
    return on.assign(image=on.image.map(back), method=on.method + f" ({label})")


def convention_change(paper_scores: pd.DataFrame, toolbox_scores: pd.DataFrame,
                      metrics: Sequence[str] = ("Qabf", "Nabf")) -> pd.DataFrame:
    """Per-method means of ``metrics`` under the paper's wrapper ([0, 1] input) and the toolbox's [0, 255]
    input, side by side, with the change of the first metric in %."""
    both = (paper_scores.groupby("method")[list(metrics)].mean().add_suffix(" (paper: [0,1])")
            .join(toolbox_scores.groupby("method")[list(metrics)].mean().add_suffix(" (toolbox: [0,255])")))
    first = metrics[0]
    both[f"Δ{first} [%]"] = 100 * (both[f"{first} (paper: [0,1])"] / both[f"{first} (toolbox: [0,255])"] - 1)
    return both.reset_index()


def ranks(means: pd.DataFrame, higher_is_better: Mapping[str, bool]) -> pd.DataFrame:
    """Rank of each method's mean per metric (1 = best; ties share the lowest rank)."""
    return pd.DataFrame({m: means[m].rank(ascending=not higher_is_better[m], method="min") for m in means.columns})


def on_twin_pairs(paper_pairs: pd.DataFrame, twins: Mapping[str, str],
                  metrics: Sequence[str] = paper.FUSION_METRICS) -> tuple[list[str], pd.DataFrame]:
    """The paper's pairs that have a TNO twin (and were scored), and every method's mean over exactly those pairs
    -- the TNO toolbox's methods once, through their twins, not their own releases -- followed by the paper's
    FusionGAN row (a 20-pair mean, labelled as not comparable)."""
    stems = sorted(set(twins) & set(paper_pairs.image))
    on = paper_pairs[paper_pairs.image.isin(stems) & ~paper_pairs.method.str.endswith("(own release)")]
    table = pd.concat([means(on, metrics).reset_index(),
                       pd.DataFrame([{"method": "FusionGAN (paper, 20 pairs: not comparable)",
                                      **paper.fusion_row("FusionGAN")[list(metrics)]}])], ignore_index=True)
    return stems, table
