"""params.yaml is checked before any heavy work: the real file passes; each kind of mistake is one line naming
the key and the valid choices, from the library and from the stage runner (exit 2, before any kernel starts)."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from res2netfuse import settings, validation

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def params(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(ROOT)  # params.yaml names paths relative to the repository root
    return settings.load(ROOT / "params.yaml")


def test_the_repository_params_pass(params: dict) -> None:
    for key in validation.SCHEMAS:
        validation.check(key, settings.lookup(params, key))


@pytest.mark.parametrize("key,change,message", [
    ("fusion", {"grid_pairs": ["99"]}, "params.yaml fusion.grid_pairs: item 0: '99' is not a pair of tno21"),
    ("fusion", {"grid_pair": ["06"]}, "params.yaml fusion: unknown key(s) grid_pair (its keys: densefuse_weights"),
    ("fusion", {"datasets": ["tno", "kaist"]}, "params.yaml fusion.datasets: item 1: 'kaist' is not one of tno21"),
    ("strategies", {"l1": {"r": -1}}, "params.yaml strategies: l1: window radius r must be an integer >= 0"),
    ("strategies", {"mean": {"temperature": 0}}, "params.yaml strategies: mean: temperature must be > 0"),
    ("strategies", {"median": {}}, "params.yaml strategies: unknown fusion strategy 'median'"),
    ("train", {"iterations": 0}, "params.yaml train: need iterations >= 1"),
    ("train", {"image": "data/train/missing.png"}, "params.yaml train: image data/train/missing.png is not an existing"),
    ("train", {"epochs": 3}, "params.yaml train: unknown training setting(s) ['epochs']"),
    ("scores", {"convention": "matlab"}, "params.yaml scores.convention: 'matlab' is not one of paper, toolbox"),
    ("reconstruction", {"coco_images": ["000000000086x"]}, "params.yaml reconstruction.coco_images: item 0:"),
    ("claims", {"alpha": 1.5}, "params.yaml claims.alpha: 1.5 must be < 1"),
    ("architecture", {"crop": "big"}, "params.yaml architecture.crop: 'big' is not an integer"),
])
def test_each_mistake_is_one_line_naming_the_key(params: dict, key: str, change: dict, message: str) -> None:
    value = settings.merged(copy.deepcopy(settings.lookup(params, key)), change)
    with pytest.raises(ValueError) as caught:
        validation.check(key, value)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_the_runner_refuses_bad_params_before_any_kernel_starts(params: dict, tmp_path: Path) -> None:
    """A pair that no data set has, in the fusion stage: refused in seconds (the stage itself takes minutes)."""
    bad = settings.merged(params, {"fusion": {"grid_pairs": ["99"]}})
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(bad))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "res2netfuse.stage", "notebooks/04_fusion.ipynb", str(tmp_path / "out"),
                           "-p", "fusion", "--params-file", str(tmp_path / "params.yaml")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "stage out: error: params.yaml fusion.grid_pairs: item 0: '99' is not a pair of tno21 (its pairs: 01 ... 20, "
        "20 in all)"]
    assert not (tmp_path / "out").exists() and time.monotonic() - start < 60
