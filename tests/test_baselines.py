"""DenseFuse baseline: structure against the released weights, reconstruction quality, bad files."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from res2netfuse.baselines import DenseFuse, load_densefuse
from res2netfuse.io import load_gray
from res2netfuse.model import Res2NetFuse, save_checkpoint
from res2netfuse.reconstruction import psnr, reconstruct

# First run (kodim01, float output): 65.1 dB. Deliberately broken variants measured in the same
# run: input in [0, 1] instead of [0, 255] 28.7 dB, zero instead of reflection padding 38.6 dB,
# conv1 kernels mirrored (wrong orientation) 24.0 dB. 55 dB separates them with margin.
PSNR_THRESHOLD_DB = 55.0


@pytest.fixture(scope="module")
def weights(data_dir: Path) -> Path:
    return data_dir / "weights" / "densefuse_gray.model"


@pytest.fixture(scope="module")
def densefuse(weights: Path) -> DenseFuse:
    return load_densefuse(weights)


@pytest.fixture(scope="module")
def kodim01(data_dir: Path) -> np.ndarray:
    return load_gray(data_dir / "recon" / "kodak" / "kodim01.png")


def reference_forward(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Independent functional DenseFuse (data/README.md): reflect-pad 1, conv3, ReLU but last; dense concat."""

    def layer(name: str, t: torch.Tensor, relu: bool = True) -> torch.Tensor:
        out = F.conv2d(F.pad(t, (1, 1, 1, 1), mode="reflect"), state[f"{name}.weight"], state[f"{name}.bias"])
        return F.relu(out) if relu else out

    t = layer("conv1.conv2d", x)
    for i in range(3):
        t = torch.cat([t, layer(f"DB1.denseblock.{i}.dense_conv.conv2d", t)], dim=1)
    for name in ("conv2", "conv3", "conv4"):
        t = layer(f"{name}.conv2d", t)
    return layer("conv5.conv2d", t, relu=False)


def test_key_names_and_shapes_equal_the_release(weights: Path) -> None:
    state = torch.load(weights, map_location="cpu", weights_only=True)
    ours = DenseFuse().state_dict()
    assert list(ours) == list(state)
    assert all(ours[k].shape == state[k].shape for k in state)


def test_loaded_model_is_in_eval_mode_and_matches_released_tensors(densefuse: DenseFuse, weights: Path) -> None:
    state = torch.load(weights, map_location="cpu", weights_only=True)
    assert not densefuse.training
    for key, value in densefuse.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_forward_equals_independent_functional_network(densefuse: DenseFuse, weights: Path) -> None:
    state = torch.load(weights, map_location="cpu", weights_only=True)
    x = torch.rand(2, 1, 19, 26, generator=torch.Generator().manual_seed(0)) * 255
    with torch.inference_mode():
        ours = densefuse(x)
        assert torch.allclose(ours, reference_forward(state, x), atol=1e-3, rtol=1e-5)
        assert torch.equal(ours, densefuse.decode(densefuse.encode(x)))


def test_encoder_gives_64_channels(densefuse: DenseFuse) -> None:
    with torch.inference_mode():
        assert densefuse.encode(torch.zeros(1, 1, 12, 9)).shape == (1, 64, 12, 9)


@settings(max_examples=15, deadline=None)
@given(h=st.integers(2, 37), w=st.integers(2, 37))
def test_output_size_equals_input_size(h: int, w: int) -> None:
    torch.manual_seed(0)
    model = DenseFuse().eval()
    with torch.inference_mode():
        assert model(torch.rand(1, 1, h, w)).shape == (1, 1, h, w)


def test_reconstructs_a_real_kodak_image(densefuse: DenseFuse, kodim01: np.ndarray) -> None:
    out = reconstruct(densefuse, kodim01).output
    assert out.shape == kodim01.shape
    assert psnr(kodim01, out) > PSNR_THRESHOLD_DB


def test_threshold_rejects_the_wrong_input_scale(densefuse: DenseFuse, kodim01: np.ndarray) -> None:
    with torch.inference_mode():
        out = densefuse(torch.from_numpy(kodim01)[None, None])[0, 0].numpy()  # [0, 1] input, no scaling
    assert psnr(kodim01, out) < PSNR_THRESHOLD_DB


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.model"):
        load_densefuse(tmp_path / "nope.model")


@pytest.mark.parametrize("content", [b"", b"not a torch file at all", b"PK\x03\x04garbage"])
def test_corrupt_file_names_the_path(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.model"
    bad.write_bytes(content)
    with pytest.raises(ValueError, match="bad.model"):
        load_densefuse(bad)


def test_truncated_release_is_rejected(tmp_path: Path, weights: Path) -> None:
    bad = tmp_path / "truncated.model"
    bad.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated.model"):
        load_densefuse(bad)


def _release_state(weights: Path) -> "OrderedDict[str, torch.Tensor]":
    return torch.load(weights, map_location="cpu", weights_only=True)


def test_missing_key_is_named(tmp_path: Path, weights: Path) -> None:
    state = _release_state(weights)
    del state["conv3.conv2d.bias"]
    torch.save(state, tmp_path / "missing.model")
    with pytest.raises(ValueError, match=r"missing.model.*missing keys.*conv3\.conv2d\.bias"):
        load_densefuse(tmp_path / "missing.model")


def test_unexpected_key_is_named(tmp_path: Path, weights: Path) -> None:
    state = _release_state(weights)
    state["extra.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "extra.model")
    with pytest.raises(ValueError, match=r"unexpected keys.*extra\.weight"):
        load_densefuse(tmp_path / "extra.model")


def test_shape_mismatch_is_named(tmp_path: Path, weights: Path) -> None:
    state = _release_state(weights)
    state["conv1.conv2d.weight"] = torch.zeros(16, 3, 3, 3)  # an RGB model's first layer
    torch.save(state, tmp_path / "rgb.model")
    with pytest.raises(ValueError, match=r"conv1\.conv2d\.weight has shape \(16, 3, 3, 3\), expected \(16, 1, 3, 3\)"):
        load_densefuse(tmp_path / "rgb.model")


def test_res2netfuse_checkpoint_is_not_densefuse(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(Res2NetFuse(), str(path))
    with pytest.raises(ValueError, match="checkpoint.pt.*DenseFuse"):
        load_densefuse(path)
