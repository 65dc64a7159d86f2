"""Shared fixtures: the repository root and the DVC-materialised data folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from res2netfuse.model import Res2NetFuse, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = ROOT / "data"
    if not (d / "train" / "camera.png").exists():
        pytest.fail("data/ is missing: run `dvc update data.dvc` (it imports ../shared/data)")
    return d


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A seeded, untrained Res2NetFuse checkpoint (for code paths that need one, not for quality)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    save_checkpoint(Res2NetFuse(), str(path))
    return str(path)
