"""Scoring folders: the tidy table, bad files named, the CLI, and identical values serially, on
several processes and on a Dask LocalCluster (tiny images: the point is the plumbing, not speed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from res2netfuse import metrics as M
from res2netfuse.cli import main
from res2netfuse.io import ImageError


def _image(seed: int, shape: tuple[int, int] = (48, 52)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = np.cumsum(np.cumsum(rng.normal(size=shape), 0), 1)
    return np.clip(128 + 100 * smooth / np.abs(smooth).max(), 0, 253).round().astype(np.uint8)


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    for name, seed in (("ir", 1), ("vi", 2), ("MethodX", 3), ("MethodY", 4)):
        (tmp_path / name).mkdir()
        for stem in ("01", "02"):
            Image.fromarray(_image(seed + int(stem) * 10)).save(tmp_path / name / f"{stem}.png")
    return tmp_path


def _score(folders: Path, **kwargs) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return M.evaluate_folders(folders / "ir", folders / "vi", [folders / "MethodX", folders / "MethodY"],
                              progress=False, **kwargs)


def test_evaluate_folders_is_tidy(folders: Path) -> None:
    df = _score(folders, jobs=1)
    assert list(df.columns) == ["method", "image", *M.ALL_METRICS]
    assert list(zip(df.image, df.method)) == [("01", "MethodX"), ("01", "MethodY"), ("02", "MethodX"), ("02", "MethodY")]
    named = M.evaluate_folders(folders / "ir", folders / "vi", {"X": folders / "MethodX"}, M.PAPER_METRICS, False,
                               jobs=1)
    assert set(named.method) == {"X"} and list(named.columns[2:]) == list(M.PAPER_METRICS)


def test_rows_are_evaluate_of_each_triple_in_the_chosen_convention(folders: Path) -> None:
    df = _score(folders, jobs=1, convention="toolbox", images=["02"])
    a, b, f = (np.asarray(Image.open(folders / d / "02.png")) for d in ("ir", "vi", "MethodY"))
    row = df[df.method == "MethodY"].iloc[0]
    assert row[list(M.ALL_METRICS)].to_dict() == M.evaluate(a, b, f, convention="toolbox")


def test_processes_give_the_serial_values(folders: Path) -> None:
    pd.testing.assert_frame_equal(_score(folders, jobs=2), _score(folders, jobs=1), check_exact=True)


def test_bad_file_is_named_from_a_worker_process(folders: Path) -> None:
    Image.fromarray(_image(5, (60, 52))).save(folders / "MethodX" / "02.png")
    with pytest.raises(ImageError, match="MethodX/02.png"):
        _score(folders, jobs=2)


def test_evaluate_folders_names_the_bad_file(folders: Path) -> None:
    (folders / "MethodY" / "01.png").write_bytes(b"not a png")
    with pytest.raises(ImageError, match="MethodY/01.png.*cannot be read"):
        _score(folders, jobs=1)


@pytest.mark.parametrize("kwargs,message", [({"jobs": 0}, "jobs must be at least 1"),
                                            ({"metrics": ["nope"]}, "unknown metric"),
                                            ({"images": ["03"]}, "has no file for 03")])
def test_bad_arguments_are_refused(folders: Path, kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        _score(folders, **kwargs)


def test_folders_or_files_with_the_same_name_are_refused_not_merged(folders: Path) -> None:
    """Two folders named alike would share the method column and one method's scores would vanish."""
    (folders / "other" / "MethodX").mkdir(parents=True)
    for stem in ("01", "02"):
        (folders / "other" / "MethodX" / f"{stem}.png").write_bytes((folders / "MethodY" / f"{stem}.png").read_bytes())
    with pytest.raises(ValueError, match="distinct names"):
        M.evaluate_folders(folders / "ir", folders / "vi", [folders / "MethodX", folders / "other" / "MethodX"],
                           progress=False, jobs=1)
    with pytest.raises(ValueError, match="distinct names"):
        M.evaluate_files(folders / "ir" / "01.png", folders / "vi" / "01.png",
                         [folders / "MethodX" / "01.png", folders / "other" / "MethodX" / "01.png"])


def test_evaluate_files_gives_the_folder_rows_of_that_pair(folders: Path) -> None:
    fused = []
    for method in ("MethodX", "MethodY"):  # one pair's fused files, named by their method
        fused.append(folders / f"{method}.png")
        fused[-1].write_bytes((folders / method / "02.png").read_bytes())
    files = M.evaluate_files(folders / "ir" / "02.png", folders / "vi" / "02.png", fused, M.PAPER_METRICS)
    from_folders = _score(folders, jobs=1, images=["02"], metrics=M.PAPER_METRICS)
    pd.testing.assert_frame_equal(files, from_folders, check_exact=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as local:
        yield local


def test_dask_cluster_gives_the_serial_values(folders: Path, cluster) -> None:  # type: ignore[no-untyped-def]
    from distributed import Client

    with Client(cluster) as client:
        on_cluster = _score(folders, client=client)
        assert len(client.scheduler_info()["workers"]) == 2
    pd.testing.assert_frame_equal(on_cluster, _score(folders, jobs=1), check_exact=True)


def _cli(folders: Path, out: Path, *extra: str) -> int:
    return main(["metrics", "--ir", str(folders / "ir"), "--vi", str(folders / "vi"), "--fused",
                 str(folders / "MethodX"), "--fused", str(folders / "MethodY"), "--out", str(out), *extra])


def test_cli_writes_per_image_rows_and_prints_means(folders: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = folders / "table.csv"
    assert _cli(folders, out, "--jobs", "2") == 0
    df = pd.read_csv(out, dtype={"image": str})
    assert list(df.columns) == ["method", "image", *M.ALL_METRICS] and len(df) == 4
    assert "MethodX" in capsys.readouterr().out


def test_cli_on_a_dask_scheduler_and_in_the_toolbox_convention(folders: Path, cluster) -> None:  # type: ignore[no-untyped-def]
    out, serial = folders / "cluster.csv", folders / "serial.csv"
    assert _cli(folders, out, "--scheduler", cluster.scheduler_address, "--convention", "toolbox") == 0
    assert _cli(folders, serial, "--jobs", "1", "--convention", "toolbox") == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(serial), check_exact=True)
    expected = M.evaluate(*(np.asarray(Image.open(folders / d / "01.png")) for d in ("ir", "vi", "MethodX")),
                          ["Nabf"], convention="toolbox")["Nabf"]
    assert pd.read_csv(out).Nabf.iloc[0] == expected


@pytest.mark.parametrize("damage,named", [
    (lambda d: (d / "MethodY" / "02.png").unlink(), "MethodY"),
    (lambda d: (d / "MethodX" / "01.png").write_bytes(b"not a png"), "01.png"),
    (lambda d: Image.fromarray(_image(5, (60, 52))).save(d / "vi" / "02.png"), "02.png"),
])
def test_cli_bad_input_exits_nonzero_without_partial_csv(folders: Path, damage, named: str,  # type: ignore[no-untyped-def]
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    damage(folders)
    out = folders / "table.csv"
    assert _cli(folders, out, "--jobs", "1") == 2
    assert not out.exists() and not list(folders.glob(".table*"))
    assert named in capsys.readouterr().err
