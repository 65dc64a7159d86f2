"""params.yaml sections with overrides (what notebooks and the stage runner read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from res2netfuse import settings
from res2netfuse.train import TrainConfig


def test_overrides_merge_key_by_key_and_leave_the_rest(tmp_path: Path) -> None:
    f = tmp_path / "params.yaml"
    f.write_text("train:\n  size: 256\n  iterations: 2000\nstrategies:\n  l1: {r: 0}\n  mean: {temperature: 1.0}\n")
    assert settings.section("train", {"iterations": 20}, f) == {"size": 256, "iterations": 20}
    assert settings.section("strategies", {"l1": {"r": 1}}, f) == {"l1": {"r": 1}, "mean": {"temperature": 1.0}}
    assert settings.section("train.size", None, f) == 256
    assert settings.section("train.size", 64, f) == 64
    assert settings.section("train", {}, f) == {"size": 256, "iterations": 2000}


def test_missing_keys_and_bad_files_are_named(tmp_path: Path) -> None:
    f = tmp_path / "params.yaml"
    f.write_text("train:\n  size: 256\n")
    with pytest.raises(KeyError, match="no 'train.sizes'"):
        settings.section("train.sizes", None, f)
    f.write_text("train: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        settings.load(f)
    with pytest.raises(FileNotFoundError, match="settings file not found"):
        settings.load(tmp_path / "missing.yaml")


def test_the_repository_params_build_the_training_config() -> None:
    config = TrainConfig.from_params(settings.section("train"), settings.section("model"))
    assert config.iterations == 2000 and config.size == 256 and config.image.endswith("000000000086.png")
