"""Scoring a trained model the paper's way: the same numbers as the CLI path, per strategy and image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from res2netfuse import evaluation, io, pipeline
from res2netfuse.datasets import pair_set
from res2netfuse.methods import METHODS
from res2netfuse.metrics import evaluate
from res2netfuse.reconstruction import scores


@pytest.fixture(scope="module")
def densefuse(data_dir: Path):  # type: ignore[no-untyped-def]
    return pipeline.load_model("densefuse", data_dir / "weights/densefuse_gray.model", "cpu")


def test_fusion_scores_equal_scoring_the_written_fused_files(densefuse, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    strategies = {"l1": {"r": 0}, "addition": {}}
    table = evaluation.fusion_scores(densefuse, pair_set("tno21"), strategies, max_pairs=2, metrics=["SCD", "Qabf"])
    assert list(table.columns) == ["strategy", "image", "SCD", "Qabf"]
    assert sorted(zip(table.strategy, table.image)) == [("addition", "01"), ("addition", "02"), ("l1", "01"), ("l1", "02")]
    for row in table.itertuples():
        ir, vi = dict(pair_set("tno21").pairs())[row.image]
        out = tmp_path / f"{row.strategy}{row.image}.png"
        pipeline.fuse_files(densefuse, ir, vi, out, row.strategy, **strategies[row.strategy])
        expected = evaluate(io.load_gray_uint8(ir), io.load_gray_uint8(vi), io.load_gray_uint8(out), ["SCD", "Qabf"])
        assert (row.SCD, row.Qabf) == pytest.approx((expected["SCD"], expected["Qabf"]), rel=1e-12)


def test_reconstruction_scores_are_table_iii_of_the_mapped_output(densefuse, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    images = {p.stem: p for p in sorted((data_dir / "recon/kodak").glob("*.png"))[:2]}
    table = evaluation.reconstruction_scores(densefuse, images, "clip")
    assert list(table.image) == list(images) and list(table.columns) == ["image", "MSE", "SSIM", "PSNR"]
    original = io.load_gray(images[table.image[0]])
    # reconstructing x is fusing (x, x) with the averaging strategy: the same features, the same output
    fused = pipeline.fuse_arrays(densefuse, original, original, "addition", "clip", average=True).image
    direct = scores(original, fused / 255.0)
    assert table.PSNR[0] == pytest.approx(direct["PSNR"], abs=1e-3) and table.PSNR[0] > 40  # batch of 2 vs 1: rounding


def test_method_registry_names_real_strategies_and_paper_rows() -> None:
    from res2netfuse import paper
    from res2netfuse.fusion import STRATEGIES

    strategies = {"l1": {"r": 1}, "mean": {"temperature": 0.5}}
    for method in METHODS.values():
        assert method.strategy in STRATEGIES and method.model in pipeline.MODELS
        assert method.params(strategies) == strategies.get(method.strategy, {})
        if method.paper:
            assert isinstance(paper.fusion_row(*method.paper), pd.Series)
    runs = [(m.model, m.strategy) for m in METHODS.values()]
    assert len(set(runs)) == len(runs), "two methods fuse the same way: their folders would hold equal images"
    rows = [m.paper for m in METHODS.values() if m.paper]
    assert len(set(rows)) == len(rows), "two methods claim the same paper row"


def test_compare_with_published_finds_equal_files_and_the_rounding(tmp_path: Path) -> None:
    """Identical files: infinite PSNR and no difference; the raw output rounded instead of truncated is reported too."""
    raw = np.linspace(0.2, 0.8, 64 * 64).reshape(64, 64)
    truncated = io.to_uint8(raw, "minmax")
    io.save_image(tmp_path / "published/01.png", truncated)
    io.save_image(tmp_path / "ours/01.png", truncated)
    io.save_image(tmp_path / "other/01.png", np.clip(truncated.astype(int) + 2, 0, 255).astype(np.uint8))
    from res2netfuse.methods import compare_with_published

    row = compare_with_published(tmp_path / "published", {"ours": tmp_path / "ours", "other": tmp_path / "other"},
                                 {"01": raw}).iloc[0]
    assert row["PSNR ours [dB]"] == np.inf and row["max |diff| ours"] == 0 and row["max |diff| other"] == 2
    assert 40 < row["PSNR ours, min-max rounded [dB]"] < np.inf  # rounding moves about half the pixels by 1
