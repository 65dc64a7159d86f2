"""The real download path, end to end and offline: a local HTTP server answers like the upstream host for the sample
of raw upstream files in ``../shared/provenance/upstream``, ``$RES2NETFUSE_DATA_URL`` points at it, the cache starts
empty and there is no local copy of the data. Then the bad cases: no network, a corrupt cache file, an upstream file
that changed, and Ctrl-C or SIGTERM in the middle of a download."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

import res2netfuse
from conftest import closed_port_url, shared
from res2netfuse import datasets
from res2netfuse.cli import main
from res2netfuse.data import entries, fetch
from res2netfuse.data.registry import MIRROR_ENV, Entry

LIB = Path(res2netfuse.__file__).resolve().parents[1]


class Server(http.server.ThreadingHTTPServer):
    """A static server over a folder laid out like the upstream host; it records the paths it sends and, with
    ``delay_s``, streams 1 KiB per ``delay_s`` seconds (for at most 30 s)."""

    daemon_threads = True

    def __init__(self, folder: Path, delay_s: float) -> None:
        super().__init__(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.delay_s = delay_s
        self.sent: list[str] = []
        self.streaming = threading.Event()
        self.url = f"http://127.0.0.1:{self.server_port}"

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client that hung up mid-file
        pass


class Handler(http.server.SimpleHTTPRequestHandler):
    server: Server

    def log_message(self, *args: Any) -> None:
        pass

    def copyfile(self, source: Any, outputfile: Any) -> None:
        self.server.sent.append(urllib.parse.unquote(self.path))
        if not self.server.delay_s:
            return super().copyfile(source, outputfile)
        deadline = time.monotonic() + 30
        while (chunk := source.read(1024)) and time.monotonic() < deadline:
            outputfile.write(chunk)
            outputfile.flush()
            self.server.streaming.set()
            time.sleep(self.server.delay_s)
        return None


@contextlib.contextmanager
def upstream(folder: Path, delay_s: float = 0.0) -> Iterator[Server]:
    server = Server(folder, delay_s)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def sample_upstream() -> Path:
    return shared("provenance/upstream", "the download path")


@pytest.fixture()
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user outside any checkout, with no local copy of the data and an empty cache (``tmp_path/cache``)."""
    for name in (datasets.DATA_ENV, "RES2NETFUSE_ROOT", MIRROR_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def error_line(err: str) -> str:
    """The one error line that ends a failed run's stderr (after the progress lines; no traceback)."""
    assert "Traceback" not in err and err.endswith("\n"), err
    return err.splitlines()[-1]


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def weights_entry() -> Entry:
    return next(e for e in entries() if e.set == "weights")


def test_the_upstream_sample_downloads_with_the_registry_pixels(outside: Path, sample_upstream: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    sample = [e for e in entries() if (sample_upstream / e.upstream_path).is_file()]
    upstream_files = {e.upstream_path for e in sample}
    assert len(upstream_files) == 17 and len(sample) == 37  # one of every origin and transform; 21 zip members
    with upstream(sample_upstream) as server:
        monkeypatch.setenv(MIRROR_ENV, server.url)
        fetch(chosen=sample, to=outside / "out")
    assert sorted(server.sent) == sorted(f"/{p}" for p in upstream_files)  # each file once, the zip once
    out = outside / "out"
    assert files_under(out) == sorted([e.path for e in sample] + ["README.md", "fusion/tno21/pairs.csv"])
    for e in sample:  # checked here with hashlib and Pillow, not through the code under test
        if e.transform == "copy":
            assert hashlib.sha256((out / e.path).read_bytes()).hexdigest() == e.sha256, e.path
        else:
            arr = np.asarray(Image.open(out / e.path))
            assert "x".join(map(str, arr.shape)) == e.shape, e.path
            assert hashlib.sha256(arr.tobytes()).hexdigest() == e.pixels_sha256, e.path
    reference = shared("data", "the downloaded pixels against the reference copy")
    for e in (e for e in sample if e.transform != "copy"):  # the pixels of the reference copy
        np.testing.assert_array_equal(np.asarray(Image.open(out / e.path)), np.asarray(Image.open(reference / e.path)))
    assert (out / "fusion/tno21/pairs.csv").read_bytes() == (reference / "fusion/tno21/pairs.csv").read_bytes()
    cache = outside / "cache/downloads"
    assert files_under(cache) == sorted(upstream_files)
    monkeypatch.setenv(MIRROR_ENV, closed_port_url())  # from the cache now: no network needed
    fetch(["tno21"], to=outside / "again", chosen=sample)
    assert files_under(outside / "again") == sorted(f for f in files_under(out) if f.startswith(("README", "fusion/tno21",
                                                                                                  "peers/tno21")))


def test_no_network_and_no_local_copy_is_one_line_that_says_what_to_set(
        outside: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    mirror = closed_port_url()
    monkeypatch.setenv(MIRROR_ENV, mirror)
    assert main(["data", "fetch", "weights", "--to", "out"]) == 2
    err = error_line(capsys.readouterr().err)
    assert err.startswith("res2netfuse: error: weights/densefuse_gray.model: cannot download "
                          f"{mirror}/hli1221/densefuse-pytorch/"), err
    assert "set RES2NETFUSE_DATA to a copy of the data" in err and "RES2NETFUSE_DATA_URL to a mirror" in err
    assert files_under(outside / "out") == [] and files_under(outside / "cache") == []


def test_a_corrupt_cache_file_is_detected_and_fetched_again(outside: Path, sample_upstream: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    weights = weights_entry()
    with upstream(sample_upstream) as server:
        monkeypatch.setenv(MIRROR_ENV, server.url)
        fetch(["weights"], outside / "first")
        cached = outside / "cache/downloads" / weights.upstream_path
        data = bytearray(cached.read_bytes())
        data[1000] ^= 0xFF
        cached.write_bytes(bytes(data))
        capsys.readouterr()
        fetch(["weights"], outside / "second")
    assert server.sent == [f"/{weights.upstream_path}"] * 2
    assert f"the cached {cached} is corrupt" in capsys.readouterr().err
    for out in ("first", "second"):
        assert hashlib.sha256((outside / out / weights.path).read_bytes()).hexdigest() == weights.sha256
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == weights.sha256


def test_an_upstream_file_that_changed_is_refused_naming_it_and_its_url(
        outside: Path, sample_upstream: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    weights = weights_entry()
    changed = outside / "changed" / weights.upstream_path
    changed.parent.mkdir(parents=True)
    data = bytearray((sample_upstream / weights.upstream_path).read_bytes())
    data[-1] ^= 0x01
    changed.write_bytes(bytes(data))
    with upstream(outside / "changed") as server:
        monkeypatch.setenv(MIRROR_ENV, server.url)
        assert main(["data", "fetch", "weights", "--to", "out"]) == 2
    err = error_line(capsys.readouterr().err)
    url = f"{server.url}/{weights.url.removeprefix('https://raw.githubusercontent.com/')}"
    assert err.startswith(f"res2netfuse: error: weights/densefuse_gray.model: refused {url}: its SHA-256 differs")
    assert files_under(outside / "out") == [] and files_under(outside / "cache") == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopping_a_download_leaves_no_partial_file(outside: Path, sample_upstream: Path, signum: int) -> None:
    env = {k: v for k, v in os.environ.items() if k not in (datasets.DATA_ENV, "RES2NETFUSE_ROOT")}
    env.update(PYTHONPATH=str(LIB), OMP_WAIT_POLICY="PASSIVE", **{datasets.CACHE_ENV: str(outside / "cache")})
    shutil.copytree(sample_upstream / "hli1221", outside / "upstream/hli1221")  # the weights and the tno21 pairs
    with upstream(outside / "upstream", delay_s=0.02) as server:  # the 300 KB weights take about 6 s
        env[MIRROR_ENV] = server.url
        proc = subprocess.Popen([sys.executable, "-m", "res2netfuse.data", "fetch", "weights", "--to", "out"],
                                cwd=outside, env=env, stderr=subprocess.PIPE, text=True)
        try:
            assert server.streaming.wait(60), "the download did not start"
            time.sleep(0.5)
            proc.send_signal(signum)
            code = proc.wait(30)
        finally:
            proc.kill()
        err = proc.stderr.read() if proc.stderr else ""
    assert code == 128 + signum, err
    assert "nothing half-written" in err.splitlines()[-1]
    assert files_under(outside / "out") == [] and files_under(outside / "cache") == [], err
