"""The data registry: it covers every file of the reference copy of the data with its hashes, the maintainer tool
makes it, the local copy is checked and copied without network, ``verify`` finds tampered files, the data stage of
dvc.yaml has one output per set and every stage reads data through them, and the data root is found anywhere."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import ROOT, closed_port_url, shared
from res2netfuse import datasets
from res2netfuse.cli import main
from res2netfuse.data import SETS, DataError, Entry, entries, fetch, verify
from res2netfuse.data import registry, transform
from res2netfuse.data.build_registry import build
from res2netfuse.data.build_registry import main as build_main
from res2netfuse.data.derived import PAIRS_CSV, tno21_pairs
from test_dvc_deps import closure, covered

GENERATED = {"README.md", PAIRS_CSV}  # files of data/ that are made here, not downloaded


def pixels_digest(path: Path) -> tuple[str, str]:
    """(shape, SHA-256 of the decoded uint8 pixels) of an image file, computed here as the provenance table does."""
    arr = np.asarray(Image.open(path))
    return "x".join(map(str, arr.shape)), hashlib.sha256(arr.tobytes()).hexdigest()


# --- the registry against the reference copy -----------------------------------------------------------------


def test_registry_covers_every_file_of_the_reference_data_with_its_hashes() -> None:
    reference = shared("data", "the registry against the reference copy of the data")
    files = {p.relative_to(reference).as_posix() for p in reference.rglob("*") if p.is_file()}
    listed = {e.path for e in entries()}
    assert files - listed == GENERATED, "files of the data that the registry does not make"
    assert listed <= files, "registry files that the reference copy does not have"
    for e in entries():  # hashes computed here, not through the code under test
        path = reference / e.path
        if e.transform == "copy":
            assert hashlib.sha256(path.read_bytes()).hexdigest() == e.sha256, e.path
        else:
            assert pixels_digest(path) == (e.shape, e.pixels_sha256), e.path
        assert path.stat().st_size == e.size, e.path


def test_verify_finds_no_difference_in_the_reference_data() -> None:
    assert verify(shared("data", "the registry against the reference copy of the data")) == []


def test_the_committed_registry_is_what_the_maintainer_tool_makes(tmp_path: Path) -> None:
    files_csv = shared("provenance/files.csv", "the registry against its provenance table")
    assert registry.render(build(files_csv)) == registry.REGISTRY.read_text()
    assert build_main([str(files_csv), "--out", str(tmp_path / "registry.csv")]) == 0
    assert (tmp_path / "registry.csv").read_text() == registry.REGISTRY.read_text()


def test_the_maintainer_tool_refuses_a_file_outside_every_set(tmp_path: Path) -> None:
    (tmp_path / "provenance").mkdir()
    (tmp_path / "data" / "elsewhere").mkdir(parents=True)
    (tmp_path / "data" / "elsewhere" / "x.png").write_bytes(b"x")
    files_csv = tmp_path / "provenance" / "files.csv"
    files_csv.write_text("path,url,sha256,member,transform,shape,pixels_sha256\n"
                         f"elsewhere/x.png,{registry.UPSTREAM}o/r/c/x.png,00,,copy,,\n")
    with pytest.raises(DataError, match="elsewhere/x.png lies in 0 data sets"):
        build(files_csv)


def test_pairs_csv_is_computed_from_the_registry_pixels() -> None:
    reference = shared("data/fusion/tno21/pairs.csv", "the tno21 twins table")
    assert tno21_pairs(entries()) == reference.read_bytes()
    twins = datasets.tno21_twins(reference.parents[2])
    assert len(twins) == 15 and twins["06"] == "01"  # the paper's pairs with a TNO twin


def test_sets_hold_disjoint_folders_and_every_entry_lies_in_its_set() -> None:
    folders = [f for s in SETS.values() for f in s.folders]
    assert all(not (a == b or b.startswith(a + "/")) for a in folders for b in folders if a is not b)
    assert {e.set for e in entries()} == set(SETS)
    assert all(SETS[e.set].holds(e.path) for e in entries())
    assert sum(e.set == "tno21" for e in entries()) == 154 and len(entries()) == 1459


def test_the_registry_refuses_bad_rows(tmp_path: Path) -> None:
    good = entries()[0]
    for bad in (Entry(**{**good.__dict__, "set": "kodak"}), Entry(**{**good.__dict__, "transform": "blur"}),
                Entry(**{**good.__dict__, "url": "https://example.org/x.png"}),
                Entry(**{**good.__dict__, "pixels_sha256": ""})):
        (tmp_path / "r.csv").write_text(registry.render([bad]))
        with pytest.raises(DataError, match=f"bad or repeated row for {good.path}"):
            registry.read(tmp_path / "r.csv")
    (tmp_path / "r.csv").write_text(registry.render([good, good]))
    with pytest.raises(DataError, match="repeated"):
        registry.read(tmp_path / "r.csv")


def test_unknown_set_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown data set tno42; choose from train, kodak"):
        registry.select(["tno42"])


def test_the_mirror_switch_replaces_the_upstream_host(monkeypatch: pytest.MonkeyPatch) -> None:
    e = next(x for x in entries() if "%20" in x.url)  # a path with spaces stays as the URL writes it
    monkeypatch.delenv(registry.MIRROR_ENV, raising=False)
    assert registry.download_url(e) == e.url
    for mirror in ("http://127.0.0.1:9/mirror", "http://127.0.0.1:9/mirror/"):
        monkeypatch.setenv(registry.MIRROR_ENV, mirror)
        assert registry.download_url(e) == "http://127.0.0.1:9/mirror/" + e.url[len("https://raw.githubusercontent.com/"):]


# --- transforms ------------------------------------------------------------------------------------------------


def png(arr: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format="PNG")
    return out.getvalue()


def entry_for(arr: np.ndarray, transform_name: str) -> Entry:
    return Entry("tno", "fusion/tno/ir/99.png", registry.UPSTREAM + "o/r/c/99.png", "", "", transform_name,
                 "x".join(map(str, arr.shape)), hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest(), 0)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_squeeze_keeps_equal_channels_as_one_and_colour_as_colour(h: int, w: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    gray = rng.integers(0, 256, (h, w), dtype=np.uint8)
    made = transform.produce(entry_for(gray, "squeeze"), png(np.stack([gray] * 3, axis=-1)))
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(made))), gray)
    colour = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    colour[0, 0] = (0, 1, 2)  # at least one pixel whose channels differ
    made = transform.produce(entry_for(colour, "squeeze"), png(colour))
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(made))), colour)


def test_gray_is_pillows_luma_and_a_wrong_pixel_is_refused() -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 200, 30]]], dtype=np.uint8)
    luma = np.array([[76, 150, 29, 124]], dtype=np.uint8)  # ITU-R 601-2: 0.299 R + 0.587 G + 0.114 B, rounded
    made = transform.produce(entry_for(luma, "gray"), png(rgb))
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(made))), luma)
    with pytest.raises(DataError, match=r"fusion/tno/ir/99.png: made from .*99.png, its pixels differ"):
        transform.produce(entry_for(luma + 1, "gray"), png(rgb))
    with pytest.raises(DataError, match="is not a readable image"):
        transform.produce(entry_for(luma, "gray"), b"not an image")


# --- the local copy and verify ---------------------------------------------------------------------------------


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Downloads point at a closed loopback port: any attempt to download fails."""
    monkeypatch.setenv(registry.MIRROR_ENV, closed_port_url())


def test_the_local_copy_is_checked_and_copied_without_network(data_dir: Path, tmp_path: Path, no_network: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(datasets.DATA_ENV, str(data_dir))
    fetch(["mri_ct", "weights"], tmp_path / "out")
    made = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file())
    expected = sorted(e.path for e in entries() if e.set in ("mri_ct", "weights"))
    assert made == sorted(expected + ["README.md"])
    assert all((tmp_path / "out" / p).read_bytes() == (data_dir / p).read_bytes() for p in expected)


def test_a_local_copy_that_differs_is_refused_and_nothing_is_written(data_dir: Path, tmp_path: Path,
                                                                     no_network: None,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(data_dir / "fusion/mri_ct", copy / "fusion/mri_ct")
    arr = np.asarray(Image.open(copy / "fusion/mri_ct/ct/15.png")).copy()
    arr[0, 0] ^= 1
    Image.fromarray(arr).save(copy / "fusion/mri_ct/ct/15.png")
    monkeypatch.setenv(datasets.DATA_ENV, str(copy))
    with pytest.raises(DataError, match=r"copy/fusion/mri_ct/ct/15.png: its pixels differ .*named by \$RES2NETFUSE_DATA"):
        fetch(["mri_ct"], tmp_path / "out")
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


@pytest.fixture()
def data_copy(data_dir: Path, tmp_path: Path) -> Path:
    """A copy of the sets mri_ct and weights, laid out like data/."""
    for part in ("fusion/mri_ct", "weights/densefuse_gray.model"):
        source = data_dir / part
        (tmp_path / part).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / part)
    return tmp_path


def test_verify_reports_tampered_missing_and_unknown_files(data_copy: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(data_copy)
    assert main(["data", "verify", ".", "mri_ct", "weights"]) == 0
    assert "all 43 registry files match" in capsys.readouterr().out
    image = data_copy / "fusion/mri_ct/mri/12.png"
    Image.open(image).save(image, compress_level=1)  # other PNG bytes, the same pixels: not a difference
    assert main(["data", "verify", ".", "mri_ct"]) == 0
    arr = np.asarray(Image.open(image)).copy()
    arr[5, 5] = 255 - arr[5, 5]
    Image.fromarray(arr).save(image)
    with open(data_copy / "weights/densefuse_gray.model", "ab") as f:
        f.write(b"\0")
    (data_copy / "fusion/mri_ct/ct/13.png").unlink()
    (data_copy / "fusion/mri_ct/ct/extra.png").write_bytes(b"")
    capsys.readouterr()
    assert main(["data", "verify", ".", "mri_ct", "weights"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["./fusion/mri_ct/ct/13.png: missing",
                   "./fusion/mri_ct/mri/12.png: its pixels differ from the registry's (SHA-256 of the decoded image)",
                   "./weights/densefuse_gray.model: its bytes differ from the registry's",
                   "./fusion/mri_ct/ct/extra.png: not in the registry",
                   "4 of 43 registry files differ"]


def test_verify_of_a_missing_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "verify", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere: no such folder" in err


def test_list_shows_every_set_with_its_size_origins_and_licence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in SETS:
        assert f"\n{name} " in "\n" + out
    assert "CC BY 4.0" in out and "Linfeng-Tang/Image-Fusion@53f5542f" in out and "1459 files" in out


# --- where the data is found -------------------------------------------------------------------------------------


def test_the_data_root_is_the_variable_then_the_checkout_then_the_user_data_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RES2NETFUSE_ROOT", raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(datasets.DATA_ENV, str(tmp_path / "mine"))
    monkeypatch.chdir(ROOT / "notebooks")
    assert datasets.data_root() == tmp_path / "mine"
    assert datasets.fetch_hint("weights") == f"res2netfuse data fetch weights --to {tmp_path / 'mine'}"
    monkeypatch.delenv(datasets.DATA_ENV)
    assert datasets.data_root() == ROOT / "data"
    monkeypatch.chdir(tmp_path)
    assert datasets.data_root() == tmp_path / "cache" / "data" == datasets.user_data_folder()
    assert datasets.fetch_hint("train") == "res2netfuse data fetch train"


def test_the_cli_finds_fetched_weights_from_any_folder(data_dir: Path, tmp_path: Path, no_network: None,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """``res2netfuse data fetch weights`` (here from a local copy) puts the weights where ``fuse --model densefuse``
    looks outside the repository; before that, the error says to run it."""
    from res2netfuse.weights import DENSEFUSE_ENV, densefuse_weights

    monkeypatch.delenv(DENSEFUSE_ENV, raising=False)
    monkeypatch.delenv("RES2NETFUSE_ROOT", raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="run `res2netfuse data fetch weights`"):
        densefuse_weights()
    monkeypatch.setenv(datasets.DATA_ENV, str(data_dir))  # the local copy to fetch from
    assert main(["data", "fetch", "weights"]) == 0
    monkeypatch.delenv(datasets.DATA_ENV)
    assert densefuse_weights() == tmp_path / "cache/data/weights/densefuse_gray.model"
    assert "fetched into" in capsys.readouterr().out


# --- the data stage in dvc.yaml -----------------------------------------------------------------------------------


def _stages() -> dict[str, tuple[list[str], list[str]]]:
    """Stage -> (deps, outs) as DVC resolves dvc.yaml."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        return {s.addressing: ([str(d.def_path) for d in s.deps], [str(o.def_path) for o in s.outs])
                for s in repo.index.stages}


@pytest.fixture(scope="module")
def stages() -> dict[str, tuple[list[str], list[str]]]:
    return _stages()


def test_the_data_stage_has_one_output_per_set_folder(stages: dict[str, tuple[list[str], list[str]]]) -> None:
    _, outs = stages["data"]
    assert sorted(outs) == sorted(["data/README.md", *(f"data/{f}" for s in SETS.values() for f in s.folders)])


def test_every_stage_reads_data_through_the_data_stage_outputs(
        stages: dict[str, tuple[list[str], list[str]]]) -> None:
    _, outs = stages["data"]
    reads = {(name, d) for name, (deps, _) in stages.items() for d in deps if Path(d).parts[0] == "data"}
    loose = sorted(f"{name}: {d}" for name, d in reads
                   if not any(Path(d) == Path(o) or Path(o) in Path(d).parents for o in outs))
    assert reads and not loose, f"data deps outside the data stage's outputs: {loose}"


def test_the_data_stage_depends_on_its_code_and_the_registry(stages: dict[str, tuple[list[str], list[str]]]) -> None:
    deps, _ = stages["data"]
    needed = closure({"res2netfuse.data.__main__"})
    assert not sorted(str(p.relative_to(ROOT)) for p in needed if not covered(p, deps))
    assert covered(registry.REGISTRY, deps)
