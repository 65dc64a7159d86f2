"""Shared fixtures: the repository root, the DVC-materialised data folder, a user cache of the tests' own."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from res2netfuse.datasets import CACHE_ENV
from res2netfuse.model import Res2NetFuse, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def shared(relative: str, needed_for: str) -> Path:
    """``../shared/<relative>`` beside the clone. Where it is absent the test is skipped with the reason, except
    under CI (``$CI`` set), which always has it: there it fails."""
    path = SHARED / relative
    if not path.exists():
        message = f"{path} not beside the clone: {needed_for} cannot be checked"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def closed_port_url() -> str:
    """A loopback URL where nothing listens: every download attempt fails at once (no network)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session", autouse=True)
def user_cache_of_the_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``$RES2NETFUSE_CACHE`` for the whole session (subprocesses inherit it): no test reads or fills the user's
    own cache (downloads, fetched data), where a file found by chance would change what the CLI does."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("user_cache")
        patch.setenv(CACHE_ENV, str(folder))
        yield folder


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    d = ROOT / "data"
    if not (d / "train" / "camera.png").exists():
        pytest.fail("data/ is missing: run `dvc repro data` (it fetches the data, or copies ../shared/data)")
    return d


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A seeded, untrained Res2NetFuse checkpoint (for code paths that need one, not for quality)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    save_checkpoint(Res2NetFuse(), str(path))
    return str(path)
