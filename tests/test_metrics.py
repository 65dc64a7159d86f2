"""Fusion metrics: agreement with the MATLAB toolbox (values computed by GNU Octave, committed in
tests/reference/expected.csv by tests/reference/run_reference.m), conventions, bad input, CLI."""

from __future__ import annotations

import math
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from res2netfuse import metrics as M
from res2netfuse.cli import main
from res2netfuse.io import ImageError, load_gray_uint8

REF = Path(__file__).parent / "reference"
sys.path.insert(0, str(REF))
from make_cases import REAL, synthetic_cases  # noqa: E402

EXPECTED = pd.read_csv(REF / "expected.csv")
CHECK = pd.read_csv(REF / "expected.check.csv")
ROOT = Path(__file__).resolve().parents[1]
# Values the reference leaves undefined (NaN/inf from 0/0) or makes rounding noise (FMI of a
# constant image: its DCT/DWT off-DC coefficients are ~1e-13 noise); we define them instead.
CONSTANT_FMI = {("syn_const_f", "FMI_dct"), ("syn_const_f", "FMI_w"), ("syn_const_b", "FMI_dct"),
                ("syn_const_b", "FMI_w")}


@lru_cache(maxsize=None)
def scores(case: str) -> dict[str, float]:
    if case.startswith("syn_"):
        a, b, f = synthetic_cases()[case]
    else:
        pair, method = case[3:5], case[6:]
        a, b, f = (load_gray_uint8(ROOT / p) for p in (f"data/fusion/tno/ir/{pair}.png",
                                                        f"data/fusion/tno/vi/{pair}.png",
                                                        f"data/peers/tno/{method}/{pair}.png"))
    return M.evaluate(a, b, f)


def _comparable() -> list[tuple[str, str, float]]:
    rows = EXPECTED[EXPECTED.metric.isin(M.ALL_METRICS)]
    return [(r.case, r.metric, r.value) for r in rows.itertuples()
            if math.isfinite(r.value) and (r.case, r.metric) not in CONSTANT_FMI]


def test_reference_covers_every_metric_on_real_and_synthetic_triples() -> None:
    cases = set(EXPECTED.case)
    assert {f"tno{p}_{m}" for p, m in REAL} <= cases and set(synthetic_cases()) <= cases
    assert set(M.ALL_METRICS) <= set(EXPECTED.metric)


@pytest.mark.parametrize("case,metric,expected", _comparable(), ids=lambda v: str(v)[:24])
def test_agrees_with_matlab_reference(case: str, metric: str, expected: float, data_dir: Path) -> None:
    ours = scores(case)[metric]
    assert abs(ours - expected) <= max(1e-3 * abs(expected), 1e-4), f"{case} {metric}: {ours} vs {expected}"


@pytest.mark.parametrize("case,metric", sorted({(r.case, r.metric) for r in EXPECTED.itertuples()
                                               if r.metric in M.ALL_METRICS and not math.isfinite(r.value)}
                                              | CONSTANT_FMI))
def test_values_the_reference_leaves_undefined_are_finite(case: str, metric: str) -> None:
    assert math.isfinite(scores(case)[metric])


def test_constant_fused_image_has_no_feature_information() -> None:
    s = scores("syn_const_f")
    assert s["FMI_dct"] == pytest.approx(0, abs=1e-12) and s["CC"] == 0 and s["SD"] == 0 and s["EN"] == 0


def test_octave_vectorised_driver_matches_the_loop_code() -> None:
    """The driver's vectorised FMI / MEF-SSIM / Qabf / Nabf equal the toolbox loops on 48x47 crops."""
    assert len(CHECK) >= 6 * len(synthetic_cases())
    np.testing.assert_allclose(CHECK.vectorised, CHECK.loop_code, rtol=1e-7, atol=1e-12)


# ----------------------------------------------------------------------------- conventions
def _image(seed: int, shape: tuple[int, int] = (48, 52)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = np.cumsum(np.cumsum(rng.normal(size=shape), 0), 1)
    return np.clip(128 + 100 * smooth / np.abs(smooth).max(), 0, 253).round().astype(np.uint8)


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


def test_ssim_a_is_the_mean_of_the_two_ssims() -> None:
    a, b = _image(8), _image(9)
    assert M.evaluate(a, b, a, ["SSIM_a"])["SSIM_a"] == pytest.approx((1 + M.ssim(a.astype(float), b.astype(float))) / 2)


def test_subset_keeps_the_requested_order() -> None:
    out = M.evaluate(_image(1), _image(2), _image(3), metrics=M.PAPER_METRICS[::-1])
    assert tuple(out) == M.PAPER_METRICS[::-1]
    assert M.ALL_METRICS[:6] == M.PAPER_METRICS and len(set(M.ALL_METRICS)) == 15


images = arrays(np.uint8, (46, 45), elements=st.integers(0, 255))


@settings(max_examples=15, deadline=None, derandomize=True)
@given(images, images, images)
def test_ranges_and_source_symmetry(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> None:
    s = M.evaluate(a, b, f)
    assert all(math.isfinite(v) for k, v in s.items() if k != "PSNR")
    assert 0 <= s["EN"] <= 8 and s["MI"] >= -1e-9 and -1 <= s["SSIM_a"] <= 1
    assert 0 <= s["Qabf"] <= 1 and s["Nabf"] >= 0
    swapped = M.evaluate(b, a, f, ["SSIM_a", "Qabf", "SCD", "MS_SSIM", "MI", "VIF", "PSNR", "Nabf"])
    for k, v in swapped.items():
        assert v == pytest.approx(s[k], rel=1e-9, abs=1e-12), k


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
])
def test_bad_arrays_are_refused(a: np.ndarray, b: np.ndarray, f: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        M.evaluate(a, b, f)


def test_unknown_metric_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown metric"):
        M.evaluate(_image(1), _image(2), _image(3), ["SSIM"])


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    for name, seed in (("ir", 1), ("vi", 2), ("MethodX", 3), ("MethodY", 4)):
        (tmp_path / name).mkdir()
        for stem in ("01", "02"):
            Image.fromarray(_image(seed + int(stem) * 10)).save(tmp_path / name / f"{stem}.png")
    return tmp_path


def test_evaluate_folders_is_tidy(folders: Path) -> None:
    df = M.evaluate_folders(folders / "ir", folders / "vi", [folders / "MethodX", folders / "MethodY"],
                            progress=False)
    assert list(df.columns) == ["method", "image", *M.ALL_METRICS]
    assert sorted(zip(df.method, df.image)) == [("MethodX", "01"), ("MethodX", "02"), ("MethodY", "01"), ("MethodY", "02")]
    named = M.evaluate_folders(folders / "ir", folders / "vi", {"X": folders / "MethodX"}, M.PAPER_METRICS, False)
    assert set(named.method) == {"X"} and list(named.columns[2:]) == list(M.PAPER_METRICS)


def _cli(folders: Path, out: Path) -> int:
    return main(["metrics", "--ir", str(folders / "ir"), "--vi", str(folders / "vi"), "--fused",
                 str(folders / "MethodX"), "--fused", str(folders / "MethodY"), "--out", str(out)])


def test_cli_writes_per_image_rows_and_prints_means(folders: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = folders / "table.csv"
    assert _cli(folders, out) == 0
    df = pd.read_csv(out, dtype={"image": str})
    assert list(df.columns) == ["method", "image", *M.ALL_METRICS] and len(df) == 4
    assert "MethodX" in capsys.readouterr().out


@pytest.mark.parametrize("damage,named", [
    (lambda d: (d / "MethodY" / "02.png").unlink(), "MethodY"),
    (lambda d: (d / "MethodX" / "01.png").write_bytes(b"not a png"), "01.png"),
    (lambda d: Image.fromarray(_image(5, (60, 52))).save(d / "vi" / "02.png"), "02.png"),
])
def test_cli_bad_input_exits_nonzero_without_partial_csv(folders: Path, damage, named: str,  # type: ignore[no-untyped-def]
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    damage(folders)
    out = folders / "table.csv"
    assert _cli(folders, out) == 2
    assert not out.exists() and not list(folders.glob(".table*"))
    assert named in capsys.readouterr().err


def test_evaluate_folders_names_the_bad_file(folders: Path) -> None:
    Image.fromarray(_image(5, (60, 52))).save(folders / "MethodX" / "02.png")
    with pytest.raises(ImageError, match="MethodX/02.png"):
        M.evaluate_folders(folders / "ir", folders / "vi", [folders / "MethodX"], progress=False)
