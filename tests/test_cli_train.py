"""``res2netfuse train`` exposes exactly the training settings: TrainConfig's fields = params.yaml's keys = options."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest
import yaml

from res2netfuse.cli import build_parser, main
from res2netfuse.commands.train import config_from_args
from res2netfuse.model import ModelConfig, load_checkpoint
from res2netfuse.train import TrainConfig


def train_options() -> dict[str, argparse.Action]:
    """``dest -> action`` of the ``train`` sub-command's options (help and --out-dir left out)."""
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a for a in subs.choices["train"]._actions if a.dest not in ("help", "out_dir")}


def settings() -> set[str]:
    """The settings TrainConfig defines: its own fields and those of its nested ModelConfig."""
    own = {f.name for f in dataclasses.fields(TrainConfig)} - {"model"}
    return own | {f.name for f in dataclasses.fields(ModelConfig)}


def test_every_setting_has_an_option_and_every_option_a_setting() -> None:
    assert set(train_options()) == settings()
    for name in ("channels_last", "exclude", "scales", "width"):
        assert name in train_options()


def test_params_yaml_sections_are_the_same_settings(root: Path) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert set(params["train"]) == {f.name for f in dataclasses.fields(TrainConfig)} - {"model"}
    assert set(params["model"]) <= {f.name for f in dataclasses.fields(ModelConfig)}
    assert set(params["train"]) | set(params["model"]) <= set(train_options())


def test_options_are_typed_after_the_fields() -> None:
    opts = train_options()
    assert opts["resample"].choices == ("bilinear", "nearest")
    assert opts["structural_loss"].choices == ("ssim", "ms_ssim")
    assert opts["kernel"].choices == ("shared", "per_group")
    assert isinstance(opts["channels_last"], argparse.BooleanOptionalAction)
    assert isinstance(opts["residual"], argparse.BooleanOptionalAction)
    assert opts["size"].type is int and opts["lr"].type is float and opts["exclude"].nargs == "*"


def parse(args: list[str]) -> TrainConfig:
    return config_from_args(build_parser().parse_args(["train", *args]))


def test_defaults_are_the_dataclass_defaults() -> None:
    assert parse([]) == TrainConfig()


def test_every_option_reaches_the_config() -> None:
    config = parse(["--image", "pool", "--exclude", "a", "b", "--size", "200", "--resample", "nearest",
                    "--iterations", "7", "--lr", "0.01", "--structural-loss", "ms_ssim", "--seed", "3",
                    "--device", "cpu", "--no-channels-last", "--kernel", "per_group", "--no-residual",
                    "--scales", "2", "--width", "32"])
    assert config == TrainConfig(image="pool", exclude=("a", "b"), size=200, resample="nearest", iterations=7,
                                 lr=0.01, structural_loss="ms_ssim", seed=3, device="cpu", channels_last=False,
                                 model=ModelConfig(kernel="per_group", residual=False, scales=2, width=32))


def test_train_runs_from_another_folder(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    image = data_dir / "train/coco/000000000086.png"
    code = main(["train", "--image", str(image), "--size", "32", "--iterations", "2", "--device", "cpu",
                 "--no-channels-last", "--scales", "2", "--out-dir", "run"])
    assert code == 0
    assert load_checkpoint(tmp_path / "run/checkpoint.pt").config == ModelConfig(scales=2)


def test_default_training_image_outside_the_repository_is_a_one_line_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RES2NETFUSE_ROOT", raising=False)
    monkeypatch.delenv("RES2NETFUSE_DATA", raising=False)
    assert main(["train", "--iterations", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--image" in err and TrainConfig.image in err


def test_default_training_image_is_found_in_the_data_folder_named_by_its_variable(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RES2NETFUSE_ROOT", raising=False)
    monkeypatch.setenv("RES2NETFUSE_DATA", str(data_dir))
    assert main(["train", "--iterations", "1", "--size", "16", "--device", "cpu", "--out-dir", "run"]) == 0
    assert (tmp_path / "run" / "checkpoint.pt").exists()


def test_default_training_image_is_found_from_inside_the_repository(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root / "notebooks")
    monkeypatch.delenv("RES2NETFUSE_ROOT", raising=False)
    assert main(["train", "--iterations", "1", "--size", "16", "--device", "cpu", "--out-dir", str(tmp_path)]) == 0
    assert (tmp_path / "checkpoint.pt").exists()
