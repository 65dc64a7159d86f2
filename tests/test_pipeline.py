"""Fusion pipeline: shapes/dtypes, reconstruction identity, colour path, DenseFuse vs published, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from res2netfuse import io, pipeline, runtime


@pytest.fixture(scope="module")
def res2net(checkpoint: str) -> torch.nn.Module:
    return pipeline.load_model("res2netfuse", checkpoint, device="cpu")


@pytest.fixture(scope="module")
def densefuse(data_dir: Path) -> torch.nn.Module:
    return pipeline.load_model("densefuse", str(data_dir / "weights" / "densefuse_gray.model"), device="cpu")


def psnr(x: np.ndarray, y: np.ndarray) -> float:
    mse = np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=st.integers(3, 41), w=st.integers(3, 41), strategy=st.sampled_from(["l1", "mean", "addition", "max"]),
       mapping=st.sampled_from(["minmax", "clip"]))
def test_output_size_and_dtype_match_the_input(res2net: torch.nn.Module, h: int, w: int, strategy: str,
                                                mapping: str) -> None:
    rng = np.random.default_rng(h * 100 + w)
    a, b = rng.random((h, w), dtype=np.float32), rng.random((h, w), dtype=np.float32)
    r = pipeline.fuse_arrays(res2net, a, b, strategy, mapping)
    assert r.image.shape == r.raw.shape == r.weight_a.shape == r.weight_b.shape == (h, w)
    assert r.image.dtype == np.uint8 and r.raw.dtype == np.float32


@pytest.mark.parametrize("model_name", ["res2net", "densefuse"])
@pytest.mark.parametrize("strategy", ["l1", "mean", "max"])
def test_fusing_an_image_with_itself_returns_its_reconstruction(request: pytest.FixtureRequest, model_name: str,
                                                                strategy: str) -> None:
    model = request.getfixturevalue(model_name)
    a = np.random.default_rng(1).random((33, 47), dtype=np.float32)
    result = pipeline.fuse_arrays(model, a, a, strategy)
    x = torch.from_numpy(a)[None, None] * model.input_scale
    with torch.no_grad():
        recon = (model.decode(model.encode(x)) / model.input_scale)[0, 0].numpy()
    np.testing.assert_allclose(result.raw, recon, atol=1e-4)
    np.testing.assert_allclose(result.weight_a, 0.5)


def test_batched_encode_equals_separate_encodes(res2net: torch.nn.Module) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.random((20, 31), dtype=np.float32), rng.random((20, 31), dtype=np.float32)
    phi_a, phi_b = pipeline.encode_pair(res2net, a, b)
    with torch.no_grad():
        for img, phi in ((a, phi_a), (b, phi_b)):
            torch.testing.assert_close(phi, res2net.encode(torch.from_numpy(img)[None, None]), atol=1e-5, rtol=1e-5)


def test_densefuse_addition_minmax_reproduces_the_published_outputs(densefuse: torch.nn.Module,
                                                                    data_dir: Path) -> None:
    # The published DenseFuse TNO results (data/peers/tno/DenseFuse) come from the same weights,
    # the addition strategy and a min-max stretch; the attention strategy must not match them.
    tno = data_dir / "fusion" / "tno"
    ir, vi = io.load_gray_pair(tno / "ir" / "11.png", tno / "vi" / "11.png")
    published = io.load_gray_uint8(data_dir / "peers" / "tno" / "DenseFuse" / "11.png")
    assert psnr(pipeline.fuse_arrays(densefuse, ir, vi, "addition", "minmax").image, published) > 45
    assert psnr(pipeline.fuse_arrays(densefuse, ir, vi, "l1", "minmax").image, published) < 30


def test_colour_visible_keeps_its_chroma(res2net: torch.nn.Module, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    h, w = 24, 35
    ycc = np.stack([rng.uniform(0.3, 0.7, (h, w)), rng.uniform(0.45, 0.55, (h, w)), rng.uniform(0.45, 0.55, (h, w))], -1)
    vi = np.round(io.ycbcr_to_rgb(ycc.astype(np.float32)) * 255).astype(np.uint8)
    io.save_image(tmp_path / "vi.png", vi)
    io.save_image(tmp_path / "ir.png", (rng.random((h, w)) * 255).astype(np.uint8))
    result = pipeline.fuse_files(res2net, tmp_path / "ir.png", tmp_path / "vi.png", tmp_path / "out.png", "mean")
    out = io.load_rgb(tmp_path / "out.png")
    assert out.shape == (h, w, 3)
    out_ycc = io.rgb_to_ycbcr(out)
    in_ycc = io.rgb_to_ycbcr(io.load_rgb(tmp_path / "vi.png"))
    unclipped = (out > 1 / 255).all(-1) & (out < 254 / 255).all(-1)
    assert unclipped.mean() > 0.9
    np.testing.assert_allclose(out_ycc[unclipped, 1:], in_ycc[unclipped, 1:], atol=2.5 / 255)
    np.testing.assert_allclose(out_ycc[unclipped, 0], result.image[unclipped] / 255, atol=2.5 / 255)


def test_gray_files_and_directory_mode(res2net: torch.nn.Module, tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    for folder, stems in (("ir", ["x1", "x2"]), ("vi", ["x1", "x2"])):
        for stem in stems:
            io.save_image(tmp_path / folder / f"{stem}.png", (rng.random((17, 23)) * 255).astype(np.uint8))
    written = pipeline.fuse_directory(res2net, tmp_path / "ir", tmp_path / "vi", tmp_path / "out", "l1",
                                      progress=False)
    assert [p.name for p in written] == ["x1.png", "x2.png"]
    direct = pipeline.fuse_files(res2net, tmp_path / "ir" / "x2.png", tmp_path / "vi" / "x2.png",
                                 tmp_path / "single.png", "l1")
    np.testing.assert_array_equal(io.load_gray_uint8(written[1]), direct.image)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x1.png", "x2.png"]  # no temp files left


def test_bad_inputs_raise_clear_errors_and_write_nothing(res2net: torch.nn.Module, tmp_path: Path) -> None:
    io.save_image(tmp_path / "a.png", np.zeros((10, 12), np.uint8))
    io.save_image(tmp_path / "b.png", np.zeros((10, 13), np.uint8))
    (tmp_path / "bad.png").write_bytes(b"not a png")
    out = tmp_path / "out" / "f.png"
    with pytest.raises(io.ImageError, match="b.png: size 13x10 differs"):
        pipeline.fuse_files(res2net, tmp_path / "a.png", tmp_path / "b.png", out)
    with pytest.raises(io.ImageError, match="missing.png: file not found"):
        pipeline.fuse_files(res2net, tmp_path / "a.png", tmp_path / "missing.png", out)
    with pytest.raises(io.ImageError, match="bad.png: cannot be read"):
        pipeline.fuse_files(res2net, tmp_path / "bad.png", tmp_path / "a.png", out)
    with pytest.raises(ValueError, match="unknown fusion strategy"):
        pipeline.fuse_files(res2net, tmp_path / "a.png", tmp_path / "a.png", out, strategy="nope")
    with pytest.raises(ValueError, match="unknown output mapping"):
        pipeline.fuse_files(res2net, tmp_path / "a.png", tmp_path / "a.png", out, mapping="nope")  # type: ignore[arg-type]
    assert not out.exists() and not list(tmp_path.glob("out/*"))
    with pytest.raises(ValueError, match="two 2-D gray images of one size"):
        pipeline.fuse_arrays(res2net, np.zeros((4, 4), np.float32), np.zeros((4, 5), np.float32))
    (tmp_path / "empty").mkdir()
    with pytest.raises(io.ImageError, match="contains no image files"):
        pipeline.fuse_directory(res2net, tmp_path / "empty", tmp_path / "empty", tmp_path / "o", progress=False)


def test_load_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        pipeline.load_model("nope")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        pipeline.load_model("res2netfuse", str(tmp_path / "missing.pt"))
    (tmp_path / "junk.model").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.model"):
        pipeline.load_model("densefuse", str(tmp_path / "junk.model"))


def test_retain_freed_memory_applies_on_glibc() -> None:
    assert runtime.retain_freed_memory() is True


def test_strategies_can_share_one_encode(res2net: torch.nn.Module) -> None:
    rng = np.random.default_rng(5)
    a, b = rng.random((19, 26), dtype=np.float32), rng.random((19, 26), dtype=np.float32)
    phi = pipeline.encode_pair(res2net, a, b)
    for strategy in ("l1", "mean"):
        shared = pipeline.fuse_encoded(res2net, *phi, strategy, "clip")
        np.testing.assert_array_equal(shared.image, pipeline.fuse_arrays(res2net, a, b, strategy, "clip").image)


def test_sources_smaller_than_the_model_takes_are_a_value_error(densefuse: torch.nn.Module) -> None:
    tiny = np.zeros((1, 6), np.float32)  # DenseFuse's reflection padding needs 2 px per side
    with pytest.raises(ValueError, match="sources are 6x1 px; DenseFuse needs at least 2x2 px"):
        pipeline.fuse_arrays(densefuse, tiny, tiny)
