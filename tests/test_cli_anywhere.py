"""The CLI as a user outside the repository meets it: run as a subprocess from a temporary folder.

Defaults that work anywhere (the shipped model, DenseFuse weights from an environment variable),
paths relative to the current folder, and one-line errors for the rough edges: images too small
for the model, corrupt or foreign checkpoints, metrics of single files, user-facing help texts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytest
import torch

import res2netfuse
from res2netfuse import io
from res2netfuse.baselines import DenseFuse
from res2netfuse.cli import build_parser, main
from res2netfuse.metrics import PAPER_METRICS, evaluate
from res2netfuse.model import Res2NetFuse, save_checkpoint
from res2netfuse.pipeline import fuse_files, load_model
from res2netfuse.weights import DENSEFUSE_ENV, RES2NETFUSE_1

LIB = Path(res2netfuse.__file__).resolve().parents[1]


class Run(NamedTuple):
    code: int
    out: str
    err: str  # stderr, followed by any Python warning (the real CLI would print it there too)


@pytest.fixture()
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """``cli(args, cwd, **env)``: ``res2netfuse ARGS`` run in ``cwd`` with only ``env`` of its variables set."""
    def run(args: list[str], cwd: Path, **env: str) -> Run:
        monkeypatch.chdir(cwd)
        for name in (DENSEFUSE_ENV, "RES2NETFUSE_ROOT", "RES2NETFUSE_DATA"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                code = main(args)
            except SystemExit as stop:  # argparse: --help, usage errors
                code = int(stop.code or 0)
        out, err = capsys.readouterr()
        return Run(code, out, err + "".join(f"{w.category.__name__}: {w.message}\n" for w in caught))
    return run


def subprocess_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``res2netfuse ARGS`` as a fresh process in ``cwd``, from the code under test."""
    env = {k: v for k, v in os.environ.items() if k not in (DENSEFUSE_ENV, "RES2NETFUSE_ROOT")}
    env.update(PYTHONPATH=str(LIB), OMP_WAIT_POLICY="PASSIVE")
    return subprocess.run([sys.executable, "-m", "res2netfuse.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def one_line_error(done: Run) -> str:
    """The single error line of a failed run (the test fails on a traceback or a multi-line message)."""
    assert done.code == 2, done
    assert done.err.startswith("res2netfuse: error: ") and done.err.count("\n") == 1, done.err
    assert "pytorch.org" not in done.err
    return done.err


@pytest.fixture()
def pair(data_dir: Path, tmp_path: Path) -> Path:
    """A small TNO pair (a 96 x 80 crop of pair 01) as ir.png / vi.png in a folder outside the repository."""
    for name in ("ir", "vi"):
        crop = io.load_gray_uint8(data_dir / "fusion/tno" / name / "01.png")[200:280, 300:396]
        io.save_image(tmp_path / f"{name}.png", crop)
    return tmp_path


def test_fuse_uses_the_shipped_model_from_any_folder(cli: Callable[..., Run], pair: Path) -> None:
    done = cli(["fuse", "ir.png", "vi.png", "-o", "out/fused.png", "--device", "cpu"], cwd=pair)
    assert done.code == 0, done.err
    expected = fuse_files(load_model("res2netfuse", RES2NETFUSE_1, "cpu"), pair / "ir.png", pair / "vi.png",
                          pair / "lib.png")
    np.testing.assert_array_equal(io.load_gray_uint8(pair / "out/fused.png"), expected.image)


def test_checkpoint_option_overrides_the_shipped_model(cli: Callable[..., Run], pair: Path, checkpoint: str) -> None:
    done = cli(["fuse", "ir.png", "vi.png", "-o", "f.png", "--checkpoint", checkpoint, "--device", "cpu"], cwd=pair)
    assert done.code == 0, done.err
    shipped = fuse_files(load_model("res2netfuse", RES2NETFUSE_1, "cpu"), pair / "ir.png", pair / "vi.png",
                         pair / "lib.png")
    assert not np.array_equal(io.load_gray_uint8(pair / "f.png"), shipped.image)


def test_densefuse_weights_come_from_the_environment_variable(cli: Callable[..., Run], pair: Path,
                                                              data_dir: Path) -> None:
    weights = shutil.copy(data_dir / "weights/densefuse_gray.model", pair / "dense.model")
    done = cli(["fuse", "ir.png", "vi.png", "-o", "f.png", "--model", "densefuse"], cwd=pair,
               **{DENSEFUSE_ENV: str(weights)})
    assert done.code == 0 and (pair / "f.png").exists(), done.err


def test_densefuse_weights_inside_the_repository(cli: Callable[..., Run], pair: Path, root: Path) -> None:
    done = cli(["fuse", str(pair / "ir.png"), str(pair / "vi.png"), "-o", str(pair / "f.png"), "--model", "densefuse"],
               cwd=root / "notebooks")
    assert done.code == 0 and (pair / "f.png").exists(), done.err


def test_densefuse_weights_in_the_data_folder_named_by_its_variable(cli: Callable[..., Run], pair: Path,
                                                                    data_dir: Path) -> None:
    done = cli(["fuse", "ir.png", "vi.png", "-o", "f.png", "--model", "densefuse"], cwd=pair,
               RES2NETFUSE_DATA=str(data_dir))
    assert done.code == 0 and (pair / "f.png").exists(), done.err


def test_missing_densefuse_weights_say_how_to_get_them(cli: Callable[..., Run], pair: Path) -> None:
    err = one_line_error(cli(["fuse", "ir.png", "vi.png", "-o", "f.png", "--model", "densefuse"], cwd=pair))
    for hint in ("densefuse_gray.model", "https://github.com/hli1221/densefuse-pytorch", DENSEFUSE_ENV, "--checkpoint"):
        assert hint in err
    err = one_line_error(cli(["fuse", "ir.png", "vi.png", "-o", "f.png", "--model", "densefuse"], cwd=pair,
                             **{DENSEFUSE_ENV: "nowhere.model"}))
    assert err.startswith("res2netfuse: error: nowhere.model: DenseFuse weights not found") and DENSEFUSE_ENV in err
    assert not (pair / "f.png").exists()


@pytest.mark.parametrize(("model", "shape", "side"), [("densefuse", (1, 1), 2), ("densefuse", (1, 40), 2)])
def test_too_small_image_is_refused_before_the_model_loads(cli: Callable[..., Run], tmp_path: Path, model: str,
                                                           shape: tuple[int, int], side: int) -> None:
    io.save_image(tmp_path / "ir.png", np.full(shape, 90, np.uint8))
    io.save_image(tmp_path / "vi.png", np.full(shape, 30, np.uint8))
    (tmp_path / "corrupt.model").write_bytes(b"\x00" * 64)  # the size check comes first: the model is never read
    err = one_line_error(cli(["fuse", "ir.png", "vi.png", "-o", "f.png", "--model", model,
                              "--checkpoint", "corrupt.model"], cwd=tmp_path))
    assert f"ir.png: is {shape[1]}x{shape[0]} px; {model} needs images of at least {side}x{side} px" in err


def test_res2netfuse_fuses_the_smallest_image(cli: Callable[..., Run], tmp_path: Path) -> None:
    """Zero padding: Res2NetFuse runs on 1 x 1 images, so its minimum is 1 px and nothing is refused."""
    io.save_image(tmp_path / "ir.png", np.full((1, 1), 90, np.uint8))
    io.save_image(tmp_path / "vi.png", np.full((1, 1), 30, np.uint8))
    done = cli(["fuse", "ir.png", "vi.png", "-o", "f.png", "--device", "cpu"], cwd=tmp_path)
    assert done.code == 0 and io.load_gray_uint8(tmp_path / "f.png").shape == (1, 1), done.err


def _bad_checkpoints(folder: Path, data_dir: Path) -> dict[str, str]:
    """File name -> what the one-line error must say about it."""
    torch.manual_seed(0)
    save_checkpoint(Res2NetFuse(), str(folder / "good.pt"))
    good = (folder / "good.pt").read_bytes()
    (folder / "truncated.pt").write_bytes(good[: len(good) // 2])
    (folder / "random.pt").write_bytes(np.random.default_rng(0).bytes(4096))
    (folder / "empty.pt").write_bytes(b"")
    io.save_image(folder / "image.png", np.zeros((8, 8), np.uint8)).rename(folder / "image.pt")
    torch.save({"state_dict": np.zeros(3), "config": {}}, folder / "objects.pt")
    shutil.copy(data_dir / "weights/densefuse_gray.model", folder / "densefuse.pt")
    torch.save({"state_dict": {"conv1.weight": torch.zeros(1)}, "config": {}}, folder / "mismatch.pt")
    return {"truncated.pt": "cannot be read as a PyTorch file", "random.pt": "cannot be read as a PyTorch file",
            "empty.pt": "is empty", "image.pt": "cannot be read as a PyTorch file",
            "objects.pt": "holds Python objects besides tensors", "densefuse.pt": "not a Res2NetFuse checkpoint",
            "mismatch.pt": "weights do not match"}


def test_bad_checkpoints_give_one_line(cli: Callable[..., Run], pair: Path, data_dir: Path) -> None:
    for name, problem in _bad_checkpoints(pair, data_dir).items():
        err = one_line_error(cli(["fuse", "ir.png", "vi.png", "-o", "f.png", "--checkpoint", name], cwd=pair))
        assert err.startswith(f"res2netfuse: error: {name}: ") and problem in err, err
    err = one_line_error(cli(["fuse", "ir.png", "vi.png", "-o", "f.png", "--model", "densefuse",
                              "--checkpoint", "truncated.pt"], cwd=pair))
    assert "truncated.pt: cannot be read as a PyTorch file" in err
    assert not (pair / "f.png").exists()


def test_metrics_of_one_triple_of_files(cli: Callable[..., Run], pair: Path) -> None:
    fused = fuse_files(load_model("res2netfuse", RES2NETFUSE_1, "cpu"), pair / "ir.png", pair / "vi.png",
                       pair / "ours.png").image
    done = cli(["metrics", "--ir", "ir.png", "--vi", "vi.png", "--fused", "ours.png", "--metrics", "paper",
                "--out", "m.csv"], cwd=pair)
    assert done.code == 0, done.err
    table = pd.read_csv(pair / "m.csv")
    assert list(table.method) == ["ours"] and list(table.image) == ["ir"]
    expected = evaluate(io.load_gray_uint8(pair / "ir.png"), io.load_gray_uint8(pair / "vi.png"), fused, PAPER_METRICS)
    np.testing.assert_allclose(table.loc[0, list(PAPER_METRICS)].to_numpy(float), list(expected.values()), rtol=1e-9)
    assert all(name in done.out for name in PAPER_METRICS)


def test_metrics_refuses_files_mixed_with_folders_and_small_images(cli: Callable[..., Run], pair: Path) -> None:
    (pair / "folder").mkdir()
    err = one_line_error(cli(["metrics", "--ir", "ir.png", "--vi", "folder", "--fused", "vi.png"], cwd=pair))
    assert "folder: give --ir, --vi and --fused all as files" in err
    for name in ("a", "b", "f"):
        io.save_image(pair / f"{name}.png", np.full((20, 30), 99, np.uint8))
    err = one_line_error(cli(["metrics", "--ir", "a.png", "--vi", "b.png", "--fused", "f.png"], cwd=pair))
    assert "f.png: " in err and "44 px" in err


def _options(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    """``(command, action)`` for every option of the top-level parser and of each sub-command."""
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = [("res2netfuse", a) for a in parser._actions if a is not subs]
    for name, sub in subs.choices.items():
        found += [(name, a) for a in sub._actions]
    return found


def test_every_option_has_a_help_text() -> None:
    undocumented = [f"{cmd} {a.option_strings or a.dest}" for cmd, a in _options(build_parser()) if not a.help]
    assert not undocumented, f"options without help: {undocumented}"


def test_help_texts_are_for_users(cli: Callable[..., Run], tmp_path: Path) -> None:
    top = subprocess_cli(["--help"], cwd=tmp_path)
    assert top.returncode == 0 and top.stdout.startswith("usage: res2netfuse"), top.stderr
    texts = {"res2netfuse --help": top.stdout}
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in subs.choices:
        done = cli([name, "--help"], cwd=tmp_path)
        assert done.code == 0 and done.out.startswith(f"usage: res2netfuse {name}"), done
        texts[f"res2netfuse {name} --help"] = done.out
    for command, text in texts.items():
        for internal in ("commands/", "module", "``", "sub-command per"):
            assert internal not in text, f"{command}: {internal!r} in the help text"


@pytest.mark.parametrize("network", [Res2NetFuse, DenseFuse], ids=["res2netfuse", "densefuse"])
def test_min_side_is_the_smallest_image_the_network_runs_on(network: type[torch.nn.Module]) -> None:
    model, side = network().eval(), network.min_side  # type: ignore[attr-defined]
    with torch.inference_mode():
        assert model(torch.rand(1, 1, side, side)).shape == (1, 1, side, side)
        if side > 1:
            with pytest.raises(RuntimeError):
                model(torch.rand(1, 1, side - 1, 8))
