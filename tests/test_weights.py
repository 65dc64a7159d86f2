"""The Res2NetFuse_1 model shipped with the package: its provenance, what it gives on a TNO pair, the packager.

The reference values were recorded in ``res2netfuse_1.json`` when the model was packaged
(``python -m res2netfuse.ship_model``); the test recomputes them with the current code.
Tolerances: the fused image's mean within 0.05 gray levels and each metric within a relative
1e-3 (room for float differences between CPUs and BLAS builds, far below any change of weights,
fusion or metrics).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from res2netfuse import io
from res2netfuse.metrics import evaluate
from res2netfuse.model import load_checkpoint
from res2netfuse.pipeline import fuse_files, load_model
from res2netfuse.train import TrainConfig, save_training, train
from res2netfuse.weights import RES2NETFUSE_1, provenance
from res2netfuse import ship_model as packager

MEAN_TOLERANCE = 0.05  # gray levels
METRIC_RTOL = 1e-3


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_shipped_file_is_the_one_recorded() -> None:
    record = provenance()
    assert RES2NETFUSE_1.stat().st_size == record["bytes"] < 1_000_000
    assert md5(RES2NETFUSE_1) == record["md5"]
    assert len(record["commit"]) == 40 and record["torch"]
    assert record["iterations"] == record["train_config"]["iterations"]


def test_shipped_model_was_trained_with_the_pipeline_settings(root: Path, data_dir: Path) -> None:
    """params.yaml's train + model sections (the paper's recipe) and the very training image file."""
    params = yaml.safe_load((root / "params.yaml").read_text())
    expected = dataclasses.asdict(TrainConfig.from_params(params["train"], params["model"]))
    assert provenance()["train_config"] == {**expected, "exclude": list(expected["exclude"])}
    image = provenance()["training_image"]
    assert md5(root / image["path"]) == image["md5"]
    assert load_checkpoint(RES2NETFUSE_1).config == TrainConfig.from_params(params["train"], params["model"]).model


def test_shipped_model_fuses_the_reference_pair_as_recorded(root: Path, data_dir: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ref = provenance()["reference_fusion"]
    ir, vi = root / ref["ir"], root / ref["vi"]
    assert (md5(ir), md5(vi)) == (ref["ir_md5"], ref["vi_md5"]), "the reference pair's files changed"
    monkeypatch.chdir(tmp_path)  # the default weights do not depend on the current folder
    result = fuse_files(load_model("res2netfuse", device="cpu"), ir, vi, "fused.png", ref["strategy"], ref["mapping"])
    image = io.load_gray_uint8(tmp_path / "fused.png")
    np.testing.assert_array_equal(image, result.image)
    assert abs(float(image.mean()) - ref["fused_mean"]) <= MEAN_TOLERANCE
    metrics = evaluate(io.load_gray_uint8(ir), io.load_gray_uint8(vi), image, list(ref["metrics"]))
    for name, recorded in ref["metrics"].items():
        assert metrics[name] == pytest.approx(recorded, rel=METRIC_RTOL), name


def test_train_stage_output_holds_the_shipped_weights(root: Path) -> None:
    produced = root / "results/train/checkpoint.pt"
    if not produced.exists():
        pytest.skip("results/train/checkpoint.pt not made yet (dvc repro train)")
    shipped, made = (torch.load(p, map_location="cpu", weights_only=True) for p in (RES2NETFUSE_1, produced))
    assert shipped["config"] == made["config"] and shipped["train_config"] == made["train_config"]
    differ = [k for k in shipped["state_dict"] if not torch.equal(shipped["state_dict"][k], made["state_dict"][k])]
    assert not differ, ("results/train/checkpoint.pt differs from the shipped model in " + ", ".join(differ) +
                        ": ship it with `python -m res2netfuse.ship_model results/train/checkpoint.pt`")


def test_packager_copies_the_checkpoint_and_records_its_provenance(
        root: Path, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = TrainConfig(size=32, iterations=3, device="cpu")
    save_training(train(config, progress=False), config, tmp_path / "train")
    monkeypatch.setattr(packager, "RES2NETFUSE_1", tmp_path / "pkg/res2netfuse_1.pt")
    monkeypatch.setattr(packager, "PROVENANCE", tmp_path / "pkg/res2netfuse_1.json")
    (tmp_path / "pkg").mkdir()
    monkeypatch.chdir(root)
    assert packager.main([str(tmp_path / "train/checkpoint.pt"), "--commit", "HEAD"]) == 0
    assert md5(tmp_path / "pkg/res2netfuse_1.pt") == md5(tmp_path / "train/checkpoint.pt")
    record = yaml.safe_load((tmp_path / "pkg/res2netfuse_1.json").read_text())
    assert record["train_config"]["size"] == 32 and record["iterations"] == 3
    assert record["training_image"]["md5"] == md5(root / config.image)
    assert set(record["reference_fusion"]["metrics"]) == set(packager.REFERENCE_METRICS)


def test_packager_refuses_a_checkpoint_without_training_settings(root: Path, checkpoint: str,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(root)
    assert packager.main([checkpoint]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no train_config" in err
