"""Verdict rules of the claims ledger on constructed comparisons, and the paper's claim list."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from res2netfuse import claims, paper


def row(difference: float, low: float, high: float, p: float) -> dict[str, float]:
    return {"difference": difference, "ci_low": low, "ci_high": high, "p_holm": p}


@pytest.mark.parametrize("comparison,spread,expected", [
    (row(0.05, 0.03, 0.07, 0.001), 0.02, "supported"),        # significant, beyond the training-image spread
    (row(0.01, 0.005, 0.015, 0.001), 0.02, "inconclusive"),   # significant, but another single image moves it more
    (row(0.05, -0.01, 0.11, 0.20), 0.02, "not supported"),    # no significant difference
    (row(-0.05, -0.07, -0.03, 0.001), 0.02, "not supported"), # significant the other way
    (row(0.05, 0.03, 0.07, 0.06), 0.02, "not supported"),     # p above alpha after Holm
])
def test_higher_claims(comparison: dict[str, float], spread: float, expected: str) -> None:
    assert claims.judge(comparison, spread, "higher") == expected


@pytest.mark.parametrize("comparison,spread,expected", [
    (row(0.01, -0.02, 0.04, 0.5), 0.02, "supported"),
    (row(0.01, 0.005, 0.015, 0.001), 0.02, "supported"),      # significant but within the spread: still comparable
    (row(-0.05, -0.07, -0.03, 0.001), 0.02, "not supported"),
    (row(0.05, -0.01, 0.11, 0.20), 0.02, "inconclusive"),
])
def test_similar_claims(comparison: dict[str, float], spread: float, expected: str) -> None:
    assert claims.judge(comparison, spread, "similar") == expected


def test_parts_combine_conservatively() -> None:
    assert claims.combine(["supported", "supported"]) == "supported"
    assert claims.combine(["supported", "inconclusive"]) == "inconclusive"
    assert claims.combine(["supported", "not supported", "inconclusive"]) == "not supported"
    with pytest.raises(ValueError):
        claims.combine([])
    with pytest.raises(ValueError, match="unknown claim kind"):
        claims.judge(row(0, 0, 0, 1), 0.1, "lower")  # type: ignore[arg-type]


def test_judged_table_and_evidence_text() -> None:
    comparison = pd.DataFrame([{"metric": "Qabf", **row(0.05, 0.03, 0.07, 0.001)},
                               {"metric": "SCD", **row(0.001, -0.01, 0.012, 0.7)}])
    out = claims.judged(comparison, {"Qabf": 0.02, "SCD": 0.05}, "higher")
    assert list(out.verdict) == ["supported", "not supported"] and list(out.spread) == [0.02, 0.05]
    text = claims.evidence(out, "l1")
    assert text.startswith("l1: Qabf: Δ +0.05 [+0.03, +0.07], p_holm 0.001, spread 0.02 → supported")


PAPER_TEXT = Path(__file__).resolve().parents[2] / "shared/paper/res2netfuse.txt"


@pytest.mark.skipif(not PAPER_TEXT.exists(), reason="../shared/paper not beside the clone")
def test_claim_texts_quote_the_paper() -> None:
    words = " ".join(PAPER_TEXT.read_text().split()).lower()
    assert len({c.id for c in paper.CLAIMS}) == len(paper.CLAIMS) >= 8
    for claim in paper.CLAIMS:
        quote = claim.text.split(" (")[0].split(":")[0]
        for piece in quote.split("[...]"):
            if claim.id not in ("mean_vs_l1",):  # a summary of Table II's orderings, not a sentence
                assert piece.strip().lower() in words, f"{claim.id}: {piece!r} is not in the paper"


def test_ledger_markdown_has_a_summary_and_one_section_per_claim() -> None:
    ledger = pd.DataFrame([{"claim": "a", "section": "Sec. 1", "paper says": "it works", "verdict": "supported",
                            "evidence": "part one | part two"},
                           {"claim": "b", "section": "Sec. 2", "paper says": "it is fast", "verdict": "not supported",
                            "evidence": "slow"}])
    text = claims.ledger_markdown(ledger, "# Title")
    assert text.startswith("# Title\n\n| claim | section | verdict |")
    assert "| [a](#a) | Sec. 1 | **supported** |" in text and "| [b](#b) | Sec. 2 | **not supported** |" in text
    section_a = text[text.index("## a"):text.index("## b")]
    assert "“it works”" in section_a and "**Verdict: supported.**" in section_a
    assert "* part one\n* part two" in section_a


def test_a_claim_in_the_other_direction_is_judged_on_the_flipped_difference() -> None:
    """The paper claims l1 > mean on some metrics while the comparison is ``mean - l1``."""
    comparison = pd.DataFrame([{"metric": "Qabf", **row(-0.02, -0.03, -0.01, 0.001)},
                               {"metric": "SCD", **row(0.08, 0.05, 0.11, 0.001)}])
    out = claims.judged(comparison, {"Qabf": 0.0, "SCD": 0.0}, "higher", signs={"Qabf": -1})
    assert list(out.verdict) == ["supported", "supported"]
    assert list(out.claimed) == ["second > first", "first > second"]
    assert list(claims.judged(comparison, {"Qabf": 0.0, "SCD": 0.0}, "higher").verdict) == ["not supported", "supported"]
    flipped = claims.oriented(comparison.iloc[0].to_dict(), -1)
    assert (flipped["difference"], flipped["ci_low"], flipped["ci_high"]) == (0.02, 0.01, 0.03)
    assert claims.oriented(flipped, -1)["ci_low"] == -0.03
    with pytest.raises(ValueError):
        claims.oriented(flipped, 0)
    with pytest.raises(ValueError):
        claims.judged(comparison, {"Qabf": 0.0, "SCD": 0.0}, "similar", signs={"Qabf": -1})
