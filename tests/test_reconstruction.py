"""Reconstruction helpers: metrics against scikit-image, model scaling, 8-bit mapping, overlap check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity
from skimage.transform import resize
from torch import nn

from res2netfuse import reconstruction as R
from res2netfuse.io import load_gray
from res2netfuse.model import Res2NetFuse
from res2netfuse.reconstruction import (jpeg_round_trip, mapped, mse, psnr, reconstruct, reconstruct_all, scores,
                                        ssim, training_overlap)


def skimage_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al. 2004 as configured in scikit-image (Gaussian sigma 1.5, population covariance)."""
    return float(structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=1.0))


@pytest.fixture(scope="module")
def kodak(data_dir: Path) -> dict[str, np.ndarray]:
    return {n: load_gray(data_dir / "recon" / "kodak" / f"{n}.png").astype(np.float64)
            for n in ("kodim01", "kodim02", "kodim23")}


unit_images = st.tuples(st.integers(11, 40), st.integers(11, 40), st.integers(0, 2**32 - 1))


@settings(max_examples=25, deadline=None)
@given(unit_images, st.floats(0.0, 0.5))
def test_metrics_equal_skimage_on_random_images(shape_seed: tuple[int, int, int], noise: float) -> None:
    h, w, seed = shape_seed
    rng = np.random.default_rng(seed)
    a = rng.random((h, w))
    b = np.clip(a + noise * rng.standard_normal((h, w)), 0, 1)
    assert mse(a, b) == pytest.approx(mean_squared_error(a, b), rel=1e-12, abs=1e-15)
    if mse(a, b) > 0:
        assert psnr(a, b) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=1.0), rel=1e-9)
    assert ssim(a, b) == pytest.approx(skimage_ssim(a, b), abs=1e-5)


def test_metrics_equal_skimage_on_real_images(kodak: dict[str, np.ndarray]) -> None:
    a = kodak["kodim01"]
    for b in (kodak["kodim02"], np.clip(a + 0.02 * np.random.default_rng(1).standard_normal(a.shape), 0, 1),
              resize(resize(a, (128, 128), anti_aliasing=True), a.shape)):
        got = scores(a, b)
        assert list(got) == ["MSE", "SSIM", "PSNR"]
        assert got["MSE"] == pytest.approx(mean_squared_error(a, b), rel=1e-12)
        assert got["PSNR"] == pytest.approx(peak_signal_noise_ratio(a, b, data_range=1.0), rel=1e-9)
        assert got["SSIM"] == pytest.approx(skimage_ssim(a, b), abs=1e-5)


@settings(max_examples=20, deadline=None)
@given(arrays(np.float64, (16, 13), elements=st.floats(0, 1)))
def test_identical_images_score_perfectly(a: np.ndarray) -> None:
    assert mse(a, a) == 0 and psnr(a, a) == float("inf")
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-6)


def test_bad_metric_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="differ in size"):
        mse(np.zeros((12, 12)), np.zeros((12, 13)))
    with pytest.raises(ValueError, match="differ in size"):
        ssim(np.zeros((12, 12)), np.zeros((13, 12)))
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(np.zeros((10, 30)), np.zeros((10, 30)))
    with pytest.raises(ValueError, match="2-D"):
        psnr(np.zeros((12, 12, 3)), np.zeros((12, 12, 3)))


class ScaleProbe(nn.Module):
    """Identity auto-encoder that records the largest value it is fed."""

    def __init__(self, input_scale: float) -> None:
        super().__init__()
        self.input_scale = input_scale
        self.seen = 0.0

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        self.seen = float(x.max())
        return x

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        return features


@pytest.mark.parametrize("scale", [1.0, 255.0])
def test_reconstruct_feeds_input_scale_and_divides_it_back(scale: float, kodak: dict[str, np.ndarray]) -> None:
    img = kodak["kodim02"]
    probe = ScaleProbe(scale)
    rec = reconstruct(probe, img)
    assert probe.seen == pytest.approx(scale * img.max(), rel=1e-6)
    np.testing.assert_allclose(rec.output, img, atol=1e-6)
    assert rec.output.dtype == np.float32 and rec.seconds > 0


def test_reconstruct_res2netfuse_keeps_odd_sizes() -> None:
    torch.manual_seed(0)
    img = np.random.default_rng(0).random((23, 17)).astype(np.float32)
    assert reconstruct(Res2NetFuse().eval(), img).output.shape == (23, 17)
    with pytest.raises(ValueError, match="2-D"):
        reconstruct(Res2NetFuse().eval(), img[None])


def test_reconstruct_refuses_pixels_outside_unit_range(kodak: dict[str, np.ndarray]) -> None:
    img = kodak["kodim01"]
    with pytest.raises(TypeError, match="float image"):
        reconstruct(ScaleProbe(255.0), np.round(img * 255).astype(np.uint8))
    with pytest.raises(ValueError, match=r"in \[0, 1\].*255"):
        reconstruct(ScaleProbe(255.0), img * 255)


def test_reconstruct_all_keeps_names_and_times_each(kodak: dict[str, np.ndarray]) -> None:
    out = reconstruct_all({"a": ScaleProbe(1.0), "b": ScaleProbe(255.0)}, kodak)
    assert list(out) == ["a", "b"] and all(list(rs) == list(kodak) for rs in out.values())
    assert all(r.seconds > 0 for rs in out.values() for r in rs.values())
    np.testing.assert_allclose(out["b"]["kodim23"].output, kodak["kodim23"], atol=1e-6)


def test_mapping_and_jpeg_round_trip(kodak: dict[str, np.ndarray]) -> None:
    img = kodak["kodim23"]
    squeezed = 0.25 + 0.5 * img  # an output that does not span [0, 1]
    assert psnr(squeezed, mapped(squeezed, "clip")) > 50  # clip keeps values (8-bit rounding only)
    assert psnr(squeezed, mapped(squeezed, "minmax")) < 20  # minmax stretches to the full range
    u8 = np.round(img * 255).astype(np.uint8)
    q95, q10 = jpeg_round_trip(u8, 95), jpeg_round_trip(u8, 10)
    assert q95.dtype == np.uint8 and q95.shape == u8.shape
    assert psnr(img, q95 / 255.0) > psnr(img, q10 / 255.0) + 5
    assert psnr(img, mapped(img, "clip", jpeg_quality=75)) < psnr(img, mapped(img, "clip"))
    with pytest.raises(TypeError, match="uint8"):
        jpeg_round_trip(img)


def test_training_overlap_flags_identical_and_rescaled_copies(data_dir: Path, kodak: dict[str, np.ndarray]) -> None:
    camera = load_gray(data_dir / "train" / "camera.png").astype(np.float64)
    tests = {**kodak, "same": camera.copy(), "half": resize(camera, (256, 256), anti_aliasing=True)}
    table = training_overlap(camera, tests).set_index("image")
    assert table.loc["same", "identical"] and table.loc["same", "max_abs_diff"] == 0
    assert table.loc["half", "correlation"] > 0.99 and not table.loc["half", "identical"]
    assert not table.loc[list(kodak), "identical"].any()
    assert (table.loc[list(kodak), "correlation"].abs() < 0.9).all()


def test_table3_puts_measured_rows_beside_the_paper_with_deviations() -> None:
    from res2netfuse import paper

    published = paper.table3().set_index("method")
    per_image = pd.DataFrame([{"model": "Res2NetFuseRecon_1", "image": str(i), "MSE": published.loc["Res2NetFuseRecon_1",
                              "MSE"] * 2, "SSIM": published.loc["Res2NetFuseRecon_1", "SSIM"],
                               "PSNR": published.loc["Res2NetFuseRecon_1", "PSNR"] - 3} for i in range(3)])
    table = R.table3(per_image, "3 test images")
    ours = table[table.source == "run here (3 test images)"].iloc[0]
    assert ours.Methods == "Res2NetFuseRecon_1"
    assert ours["ΔMSE vs paper [%]"] == pytest.approx(100) and ours["ΔSSIM vs paper [%]"] == pytest.approx(0)
    assert ours["ΔPSNR vs paper [dB]"] == pytest.approx(-3)
    assert (table.source == "paper: reported, not re-run (no public weights)").sum() == len(published) - 1


def test_mapping_sensitivity_of_a_perfect_reconstruction_is_the_mapping_alone() -> None:
    ramp = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (32, 1))  # spans [0, 1]: minmax maps it to itself
    dim = (0.25 + 0.5 * ramp).astype(np.float32)  # spans [0.25, 0.75]: minmax stretches it
    originals = {"s": {"ramp": ramp, "dim": dim}}
    per_image, table = R.mapping_sensitivity({"s": {"m": {"ramp": ramp, "dim": dim}}}, originals, 90, "minmax")
    perfect = table[table.model == R.PERFECT].set_index("output")
    assert perfect.loc["float (unmapped)", "exact images"] == 2 and perfect.loc["minmax", "exact images"] == 0
    stretched = per_image[(per_image.model == R.PERFECT) & (per_image.output == "minmax") & (per_image.image == "dim")]
    assert stretched.MSE.item() > 0.01  # the stretch alone costs PSNR
    assert table.set_index(["model", "output"]).loc[("m", "minmax"), "ΔPSNR vs table [dB]"] == 0


def test_timing_table_and_example_picks() -> None:
    per_image = pd.DataFrame({"set": ["a"] * 4, "model": ["base", "base", "new", "new"], "image": ["1", "2", "1", "2"],
                              "seconds": [0.1, 0.3, 0.4, 0.8], "PSNR": [30, 40, 20, 50]})
    timing = R.timing_table(per_image, {"base": 10, "new": 20}, "base").set_index("model")
    assert timing.loc["new", "median [ms]"] == pytest.approx(600) and timing.loc["new", "time ratio vs base"] == pytest.approx(3)
    assert R.example_images(per_image, "new", 2) == ["1", "2"] and R.example_images(per_image, "new", 5) == ["1", "2"]


def test_test_set_overlap_refuses_the_training_image_in_a_test_set() -> None:
    rng = np.random.default_rng(1)
    train, other = rng.random((32, 32)), rng.random((32, 32))
    overlap = R.test_set_overlap(train, train[::2, ::2], {"set": {"other": other}})
    assert len(overlap) == 2 and not overlap.identical.any()
    with pytest.raises(ValueError, match="appears in a test set: set/copy"):
        R.test_set_overlap(train, train[::2, ::2], {"set": {"other": other, "copy": train.copy()}})
