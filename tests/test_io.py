"""Image I/O: conversion rules, pairing, 8-bit mapping, atomic writes and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from res2netfuse import io


def write(path: Path, arr: np.ndarray, mode: str | None = None) -> Path:
    Image.fromarray(arr, mode=mode).save(path) if mode else Image.fromarray(arr).save(path)
    return path


def test_real_gray_png_loads_as_uint8_and_float(data_dir: Path) -> None:
    path = data_dir / "fusion" / "tno" / "ir" / "01.png"
    raw = np.asarray(Image.open(path))
    u8 = io.load_gray_uint8(path)
    assert u8.dtype == np.uint8 and u8.shape == raw.shape == (576, 768)
    assert np.array_equal(u8, raw)
    f = io.load_gray(path)
    assert f.dtype == np.float32 and np.allclose(f * 255, raw, atol=1e-4)


def test_rgb_is_converted_with_matlab_rgb2gray_weights(tmp_path: Path) -> None:
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    gray = io.load_gray_uint8(write(tmp_path / "c.png", rgb))
    # MATLAB rgb2gray: 0.2989 R + 0.5870 G + 0.1140 B -> 200*.2989 + 100*.587 + 50*.114 = 124.18 -> 124
    assert np.all(gray == 124)
    with pytest.raises(io.ImageError, match="c.png: is a colour"):
        io.load_gray_uint8(tmp_path / "c.png", allow_rgb=False)


def test_rgb_with_equal_channels_is_taken_as_gray_without_loss(tmp_path: Path) -> None:
    g = np.arange(60, dtype=np.uint8).reshape(6, 10)
    path = write(tmp_path / "g.png", np.repeat(g[..., None], 3, axis=2))
    assert np.array_equal(io.load_gray_uint8(path, allow_rgb=False), g)


def test_16bit_is_rescaled_or_refused(tmp_path: Path) -> None:
    v = np.array([[0, 257, 65535, 32896]], dtype=np.uint16)
    path = tmp_path / "d.png"
    Image.fromarray(v).save(path)
    assert io.load_gray_uint8(path).tolist() == [[0, 1, 255, 128]]
    with pytest.raises(io.ImageError, match="d.png: is a 16-bit image"):
        io.load_gray_uint8(path, allow_16bit=False)


def test_missing_corrupt_and_folder_inputs_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(io.ImageError, match="nope.png: file not found"):
        io.load_gray(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(io.ImageError, match="bad.png: cannot be read as an image"):
        io.load_gray(bad)
    with pytest.raises(io.ImageError, match="is a folder"):
        io.load_gray(tmp_path)


def test_pair_size_mismatch_names_both_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.png", np.zeros((4, 6), np.uint8))
    b = write(tmp_path / "b.png", np.zeros((5, 6), np.uint8))
    with pytest.raises(io.ImageError, match=r"b.png: size 6x5 differs from a.png \(6x4\)"):
        io.load_gray_pair(a, b)


def test_paired_files_reports_missing_counterparts(tmp_path: Path) -> None:
    for d, names in (("ir", ["01", "02", "03"]), ("vi", ["01", "03"])):
        (tmp_path / d).mkdir()
        for n in names:
            write(tmp_path / d / f"{n}.png", np.zeros((2, 2), np.uint8))
    with pytest.raises(io.ImageError, match="vi: has no file for 02"):
        io.paired_files(tmp_path / "ir", tmp_path / "vi")
    (tmp_path / "empty").mkdir()
    with pytest.raises(io.ImageError, match="contains no image files"):
        io.paired_files(tmp_path / "empty")


def test_paired_files_on_tno(data_dir: Path) -> None:
    pairs = io.paired_files(data_dir / "fusion/tno/ir", data_dir / "fusion/tno/vi")
    assert len(pairs) == 42 and pairs[0][0] == "01"
    assert pairs[0][1][0].parent.name == "ir" and pairs[0][1][1].parent.name == "vi"


def test_to_uint8_minmax_truncates_like_the_release_code() -> None:
    x = np.array([[-1.0, 0.0, 1.0], [0.5, 0.999, 3.0]])
    # (x - min) / (max - min) * 255 = [0, 63.75, 127.5, 95.625, 127.3725, 255], truncated
    assert io.to_uint8(x, "minmax").tolist() == [[0, 63, 127], [95, 127, 255]]
    assert io.to_uint8(x, "clip").tolist() == [[0, 0, 255], [128, 255, 255]]
    assert io.to_uint8(np.full((2, 2), 0.3), "minmax").tolist() == [[0, 0], [0, 0]]
    with pytest.raises(ValueError, match="unknown output mapping"):
        io.to_uint8(x, "gamma")  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12))))
def test_save_and_load_round_trip_is_lossless(tmp_path_factory, img: np.ndarray) -> None:
    path = tmp_path_factory.mktemp("rt") / "x.png"
    io.save_image(path, img)
    assert np.array_equal(io.load_gray_uint8(path), img)
    assert [p.name for p in path.parent.iterdir()] == ["x.png"]  # no temporary left behind


def test_save_refuses_float_and_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="uint8"):
        io.save_image(tmp_path / "f.png", np.zeros((2, 2), np.float32))
    with pytest.raises(io.ImageError, match="unknown image file extension"):
        io.save_image(tmp_path / "f.xyz", np.zeros((2, 2), np.uint8))


@settings(max_examples=30, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 6), st.just(3)),
              elements=st.floats(0, 1, width=32)))
def test_ycbcr_round_trip(rgb: np.ndarray) -> None:
    ycc = io.rgb_to_ycbcr(rgb)
    assert np.all(ycc[..., 0] >= -1e-6) and np.all(ycc[..., 0] <= 1 + 1e-6)
    np.testing.assert_allclose(io.ycbcr_to_rgb(ycc), rgb, atol=1e-5)


def test_ycbcr_luma_matches_pillow(data_dir: Path) -> None:
    path = next((data_dir / "fusion/roadscene/vi").iterdir())
    rgb = io.load_rgb(path)
    ours = np.round(io.rgb_to_ycbcr(rgb) * 255)
    pil = np.asarray(Image.open(path).convert("RGB").convert("YCbCr")).astype(np.float32)
    assert np.abs(ours - pil).max() <= 1


def test_paired_files_restricted_to_stems_needs_only_those(tmp_path: Path) -> None:
    for folder, stems in (("a", ("01", "02", "03")), ("b", ("01", "02"))):
        (tmp_path / folder).mkdir()
        for stem in stems:
            io.save_image(tmp_path / folder / f"{stem}.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(io.ImageError, match="b: has no file for 03"):
        io.paired_files(tmp_path / "a", tmp_path / "b")
    assert [s for s, _ in io.paired_files(tmp_path / "a", tmp_path / "b", stems=["02", "01"])] == ["01", "02"]
    with pytest.raises(io.ImageError, match="b: has no file for 03"):
        io.paired_files(tmp_path / "a", tmp_path / "b", stems=["03"])
