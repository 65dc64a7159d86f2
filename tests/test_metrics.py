"""Fusion metrics, one triple at a time: conventions, independent oracles, properties, bad input.
Agreement with the MATLAB toolbox: test_metrics_reference.py; folders, CLI, parallel: test_metrics_folders.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from res2netfuse import metrics as M


def _image(seed: int, shape: tuple[int, int] = (48, 52)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = np.cumsum(np.cumsum(rng.normal(size=shape), 0), 1)
    return np.clip(128 + 100 * smooth / np.abs(smooth).max(), 0, 253).round().astype(np.uint8)


def _ssim_by_loops(x: np.ndarray, y: np.ndarray, valid: bool) -> float:
    """SSIM written out pixel by pixel (Gaussian 11x11 sigma 1.5, L = 255): MATLAB's ssim averages the
    map over every pixel with replicated borders, Wang's ssim_index.m over the 'valid' windows only."""
    g = np.exp(-(np.arange(-5, 6) ** 2) / (2 * 1.5**2))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    h, wd = x.shape
    rows = range(5, h - 5) if valid else range(h)
    cols = range(5, wd - 5) if valid else range(wd)
    values = []
    for i in rows:
        for j in cols:
            ii = np.clip(np.arange(i - 5, i + 6), 0, h - 1)[:, None]
            jj = np.clip(np.arange(j - 5, j + 6), 0, wd - 1)[None, :]
            px, py = x[ii, jj].astype(float), y[ii, jj].astype(float)
            mx, my = (w * px).sum(), (w * py).sum()
            vx, vy, cxy = (w * px * px).sum() - mx**2, (w * py * py).sum() - my**2, (w * px * py).sum() - mx * my
            values.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
    return float(np.mean(values))


def test_ssim_is_matlabs_full_map_with_replicated_borders_and_wang_the_valid_part() -> None:
    x, y = _image(11, (23, 19)), _image(12, (23, 19))
    assert M.ssim(x, y) == pytest.approx(_ssim_by_loops(x, y, valid=False), rel=1e-12)
    assert M.ssim_wang(x, y) == pytest.approx(_ssim_by_loops(x, y, valid=True), rel=1e-12)
    assert abs(M.ssim(x, y) - M.ssim_wang(x, y)) > 1e-3  # two different algorithms


def test_ssim_a_is_the_mean_of_the_two_ssims_in_either_convention() -> None:
    a, b = _image(8), _image(9)
    s = M.evaluate(a, b, a, ["SSIM_a", "SSIM_a_wang"])
    assert s["SSIM_a"] == pytest.approx((1 + M.ssim(a, b)) / 2, rel=1e-13)
    assert s["SSIM_a_wang"] == pytest.approx((1 + M.ssim_wang(a, b)) / 2, rel=1e-13)


def test_wang_variant_is_available_but_not_in_the_tables() -> None:
    assert "SSIM_a_wang" in M.EXTRA_METRICS and "SSIM_a_wang" not in M.ALL_METRICS
    assert M.ALL_METRICS[:6] == M.PAPER_METRICS and len(set(M.ALL_METRICS)) == 15


def test_paper_convention_feeds_qabf_and_nabf_im2double_images() -> None:
    a, b, f = _image(1), _image(2), _image(3)
    paper = M.evaluate(a, b, f)
    toolbox = M.evaluate(a, b, f, convention="toolbox")
    unit = [x / 255 for x in (a, b, f)]
    assert paper["Qabf"] == M.qabf(*unit) and toolbox["Qabf"] == M.qabf(a.astype(float), b.astype(float), f)
    assert paper["Nabf"] == M.nabf(*unit) and toolbox["Nabf"] == M.nabf(a.astype(float), b.astype(float), f)
    assert paper["Nabf"] != toolbox["Nabf"]  # Td = 2 grey levels never fires on [0, 1]
    assert {k: v for k, v in paper.items() if k not in ("Qabf", "Nabf")} == \
           {k: v for k, v in toolbox.items() if k not in ("Qabf", "Nabf")}


def test_values_do_not_depend_on_the_number_of_threads() -> None:
    a, b, f = _image(4, (60, 70)), _image(5, (60, 70)), _image(6, (60, 70))
    assert M.evaluate(a, b, f, threads=1) == M.evaluate(a, b, f, threads=3)


def test_uint8_and_float_input_give_the_same_values() -> None:
    a, b, f = _image(1), _image(2), _image(3)
    assert M.evaluate(a, b, f) == M.evaluate(a.astype(np.float32), b.astype(float), f.astype(float))


def test_mi_is_in_bits_and_en_is_the_histogram_entropy() -> None:
    a = _image(4)
    p = np.bincount(a.ravel(), minlength=256) / a.size
    h_bits = -sum(v * math.log2(v) for v in p if v > 0)
    assert M.entropy(a) == pytest.approx(h_bits, rel=1e-12)
    assert M.mutual_information(a, a) == pytest.approx(h_bits, rel=1e-12)  # no 254/255 levels here


def test_mi_merges_levels_254_and_255_in_the_joint_histogram_like_the_toolbox() -> None:
    a = np.tile(np.array([254, 255], np.uint8), (50, 25))
    assert M.entropy(a) == pytest.approx(1.0)
    assert M.mutual_information(a, a) == pytest.approx(2.0)  # H(A) + H(A) - H_joint(merged: 0 bits)


def test_psnr_is_the_toolbox_formula_48_db_above_the_usual_one() -> None:
    a, b, f = (_image(s).astype(float) for s in (5, 6, 7))
    mse = (np.mean((f - a) ** 2) + np.mean((f - b) ** 2)) / 2
    assert M.psnr_toolbox(a, b, f) == pytest.approx(10 * math.log10(255**2 / mse) + 20 * math.log10(255))


def test_subset_keeps_the_requested_order() -> None:
    out = M.evaluate(_image(1), _image(2), _image(3), metrics=M.PAPER_METRICS[::-1])
    assert tuple(out) == M.PAPER_METRICS[::-1]


images = arrays(np.uint8, (46, 45), elements=st.integers(0, 255))


@settings(max_examples=15, deadline=None, derandomize=True)
@given(images, images, images)
def test_ranges_and_source_symmetry(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> None:
    s = M.evaluate(a, b, f, M.ALL_METRICS + M.EXTRA_METRICS)
    assert all(math.isfinite(v) for k, v in s.items() if k != "PSNR")
    assert 0 <= s["EN"] <= 8 and s["MI"] >= -1e-9 and -1 <= s["SSIM_a"] <= 1 and -1 <= s["SSIM_a_wang"] <= 1
    assert 0 <= s["Qabf"] <= 1 and s["Nabf"] >= 0
    symmetric = ["SSIM_a", "SSIM_a_wang", "Qabf", "SCD", "MS_SSIM", "MI", "VIF", "PSNR", "Nabf"]
    swapped = M.evaluate(b, a, f, symmetric)
    for k, v in swapped.items():
        assert v == pytest.approx(s[k], rel=1e-9, abs=1e-12), k


@settings(max_examples=10, deadline=None, derandomize=True)
@given(images)
def test_fused_image_equal_to_both_sources_scores_perfectly(x: np.ndarray) -> None:
    s = M.evaluate(x, x, x, ["SSIM_a", "SSIM_a_wang", "FMI_dct", "FMI_w"])
    assert s["SSIM_a"] == s["SSIM_a_wang"] == 1.0  # identical local statistics, exactly
    assert s["FMI_dct"] == s["FMI_w"] == 1.0  # every window equals F's


@pytest.mark.parametrize("value", [0, 255])
def test_constant_images_give_no_nan(value: int) -> None:
    c = np.full((50, 50), value, np.uint8)
    s = M.evaluate(c, c, c)
    assert not any(math.isnan(v) for v in s.values())
    assert s["PSNR"] == math.inf  # F equals both sources
    assert all(math.isfinite(v) for v in M.evaluate(_image(1, (50, 50)), c, c).values())


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("a,b,f,message", [
    (np.zeros((50, 50)), np.zeros((50, 50)), np.zeros((50, 51)), "sizes differ"),
    (np.zeros((50, 50, 3)), np.zeros((50, 50)), np.zeros((50, 50)), "2-D"),
    (np.zeros((50, 50)), np.full((50, 50), 300.0), np.zeros((50, 50)), r"outside \[0, 255\]"),
    (np.zeros((50, 50)), np.zeros((50, 50)), np.full((50, 50), np.nan), "NaN"),
    (np.zeros((40, 50)), np.zeros((40, 50)), np.zeros((40, 50)), "at least 44"),
    (np.zeros((50, 50), bool), np.zeros((50, 50)), np.zeros((50, 50)), "unsupported pixel type"),
])
def test_bad_arrays_are_refused(a: np.ndarray, b: np.ndarray, f: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        M.evaluate(a, b, f)


@pytest.mark.parametrize("kwargs,message", [
    ({"metrics": ["SSIM"]}, "unknown metric"),
    ({"metrics": "SSIM_a"}, "sequence of names"),
    ({"convention": "matlab"}, "unknown convention"),
])
def test_unknown_names_are_refused(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        M.evaluate(_image(1), _image(2), _image(3), **kwargs)
