"""``res2netfuse fuse``: single pair, directory mode, and one-line errors (exit 2) on bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from res2netfuse import io, pipeline
from res2netfuse.cli import main


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    for folder in ("ir", "vi"):
        for stem in ("p1", "p2"):
            io.save_image(tmp_path / folder / f"{stem}.png", (rng.random((15, 22)) * 255).astype(np.uint8))
    return tmp_path / "ir", tmp_path / "vi"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_single_pair_matches_the_library(pair: tuple[Path, Path], checkpoint: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    ir, vi = pair
    out = tmp_path / "fused.png"
    code, stdout, _ = run_cli(["fuse", str(ir / "p1.png"), str(vi / "p1.png"), "-o", str(out), "--checkpoint", checkpoint,
                               "--strategy", "mean", "--param", "temperature=0.5", "--device", "cpu"], capsys)
    assert code == 0 and "wrote" in stdout
    model = pipeline.load_model("res2netfuse", checkpoint, "cpu")
    expected = pipeline.fuse_files(model, ir / "p1.png", vi / "p1.png", tmp_path / "lib.png", "mean", temperature=0.5)
    np.testing.assert_array_equal(io.load_gray_uint8(out), expected.image)


def test_directory_mode_fuses_every_pair(pair: tuple[Path, Path], checkpoint: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    ir, vi = pair
    code, stdout, _ = run_cli(["fuse", "--ir-dir", str(ir), "--vi-dir", str(vi), "--out-dir", str(tmp_path / "o"),
                               "--checkpoint", checkpoint, "--strategy", "max", "--mapping", "clip"], capsys)
    assert code == 0 and "wrote 2 fused images" in stdout
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["p1.png", "p2.png"]


@pytest.mark.parametrize(("make_args", "message"), [
    (lambda d: [str(d / "ir" / "p1.png"), str(d / "missing.png"), "-o", str(d / "o.png")], "missing.png: file not found"),
    (lambda d: [str(d / "ir" / "p1.png"), str(d / "corrupt.png"), "-o", str(d / "o.png")], "corrupt.png: cannot be read"),
    (lambda d: [str(d / "ir" / "p1.png"), str(d / "big.png"), "-o", str(d / "o.png")], "big.png: size 30x15 differs"),
    (lambda d: ["--ir-dir", str(d / "empty"), "--vi-dir", str(d / "vi"), "--out-dir", str(d / "o")], "contains no image files"),
    (lambda d: ["--ir-dir", str(d / "ir"), "--vi-dir", str(d / "vi_partial"), "--out-dir", str(d / "o")], "has no file for p2"),
    (lambda d: ["--ir-dir", str(d / "ir"), "--out-dir", str(d / "o")], "needs all of --ir-dir"),
    (lambda d: [str(d / "ir" / "p1.png"), str(d / "vi" / "p1.png")], "give IR VI -o OUT"),
    (lambda d: [str(d / "ir" / "p1.png"), str(d / "vi" / "p1.png"), "-o", str(d / "o.png"), "--param", "r"], "expected NAME=VALUE"),
    (lambda d: [str(d / "ir" / "p1.png"), str(d / "vi" / "p1.png"), "-o", str(d / "o.png"), "--param", "q=1"], "has no parameter q"),
    (lambda d: [str(d / "ir" / "p1.png"), str(d / "vi" / "p1.png"), "-o", str(d / "o.txt")], "output must end in"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(pair: tuple[Path, Path], checkpoint: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str], make_args, message) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG truncated")
    io.save_image(tmp_path / "big.png", np.zeros((15, 30), np.uint8))
    (tmp_path / "empty").mkdir()
    io.save_image(tmp_path / "vi_partial" / "p1.png", np.zeros((15, 22), np.uint8))
    code, _, err = run_cli(["fuse", *make_args(tmp_path), "--checkpoint", checkpoint], capsys)
    assert code == 2
    assert err.startswith("res2netfuse: error:") and message in err and err.count("\n") == 1
    assert not (tmp_path / "o.png").exists() and not (tmp_path / "o.txt").exists() and not (tmp_path / "o").exists()


def test_missing_checkpoint_is_a_one_line_error(pair: tuple[Path, Path], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    ir, vi = pair
    code, _, err = run_cli(["fuse", str(ir / "p1.png"), str(vi / "p1.png"), "-o", str(tmp_path / "o.png"),
                            "--checkpoint", str(tmp_path / "none.pt")], capsys)
    assert code == 2 and "none.pt: checkpoint not found" in err and err.count("\n") == 1
