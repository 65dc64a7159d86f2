"""Tables II and IV rebuilt beside the paper's rows: measured, published and deviation rows, from constructed means."""

from __future__ import annotations

import pandas as pd
import pytest

from res2netfuse import paper, tables
from res2netfuse.scoring import means

SIX = list(paper.FUSION_METRICS)


def constructed_means(factor: float) -> pd.DataFrame:
    """Every run-here method at ``factor`` times its paper row (DenseFuse l1/mean, which have none: 0.5)."""
    rows = {"Res2NetFuse_l1": paper.fusion_row("Res2NetFuse_1", "l1") * factor,
            "Res2NetFuse_mean": paper.fusion_row("Res2NetFuse_1", "mean") * factor,
            "DenseFuseRun_addition": paper.fusion_row("DenseFuse") * factor,
            "DenseFuseRun_l1": pd.Series(0.5, index=SIX), "DenseFuseRun_mean": pd.Series(0.5, index=SIX)}
    return pd.DataFrame(rows).T


def test_table2_puts_each_measured_row_beside_the_paper_and_its_deviation() -> None:
    table = tables.table2(constructed_means(1.1))
    assert list(table.source) == ["run here", "paper", "deviation [%]"] * 3 + ["run here (no paper row)"] * 2 + \
        ["paper: reported, not re-run"] * 4
    assert list(table.method[:9]) == ["Res2NetFuse_1"] * 6 + ["DenseFuse"] * 3
    deviation = tables.deviations(table)
    assert deviation[SIX].to_numpy() == pytest.approx(10.0)
    assert set(table.method[table.source.str.startswith("paper: reported")]) == {"MSDNet", "Res2NetFuse_80000"}


def test_a_method_without_scores_is_left_out() -> None:
    table = tables.table2(constructed_means(1.0).drop(index=["Res2NetFuse_mean", "DenseFuseRun_l1"]))
    assert ("Res2NetFuse_1", "mean") not in set(zip(table.method, table.strategy))
    assert tables.deviations(table)[SIX].abs().max().max() == 0


def test_twins_are_renamed_to_the_paper_pairs_and_labelled() -> None:
    scores = pd.DataFrame({"method": ["A", "A", "B"], "image": ["01", "07", "01"], "SCD": [1.0, 2.0, 3.0]})
    twins = tables.as_twins(scores, {"06": "01", "12": "17"}, "TNO toolbox")
    assert list(zip(twins.method, twins.image, twins.SCD)) == [("A (TNO toolbox)", "06", 1.0), ("B (TNO toolbox)", "06", 3.0)]


def test_convention_change_and_ranks() -> None:
    ours = pd.DataFrame({"method": ["A", "A", "B"], "image": ["1", "2", "1"], "Qabf": [0.4, 0.6, 0.3], "Nabf": [0.1, 0.1, 0.2]})
    toolbox = ours.assign(Qabf=ours.Qabf * 2)
    change = tables.convention_change(ours, toolbox).set_index("method")
    assert change.loc["A", "ΔQabf [%]"] == pytest.approx(-50.0) and change.loc["B", "Qabf (paper: [0,1])"] == 0.3
    ranked = tables.ranks(means(ours, ["Qabf", "Nabf"]), {"Qabf": True, "Nabf": False})
    assert ranked.loc["A"].tolist() == [1.0, 1.0] and ranked.loc["B"].tolist() == [2.0, 2.0]


def test_twin_pair_table_averages_exactly_the_twin_pairs() -> None:
    scores = pd.DataFrame({"method": ["ours", "ours", "ours", "X (TNO toolbox)", "Y (own release)"],
                           "image": ["01", "06", "12", "06", "06"], **{m: [1.0, 2.0, 4.0, 8.0, 16.0] for m in SIX}})
    stems, table = tables.on_twin_pairs(scores, {"06": "01", "12": "17", "19": "30"})
    assert stems == ["06", "12"]
    assert table.set_index("method").SCD.to_dict() == {"ours": 3.0, "X (TNO toolbox)": 8.0,
                                                       "FusionGAN (paper, 20 pairs: not comparable)":
                                                       paper.fusion_row("FusionGAN")["SCD"]}
