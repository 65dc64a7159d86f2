"""Shared fixtures: the repository root and the DVC-materialised data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

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
