"""A data folder (laid out like ``data/``) assembled from the registry, and checked against it.

:func:`fetch` fills a folder set by set. Each file comes from the **local copy** when it has the file
(``$RES2NETFUSE_DATA``, else ``../shared/data`` beside the checkout when run inside one; checked against
the registry like a download, then copied as it is), else from the **download cache** (downloaded when
missing: :class:`~res2netfuse.data.download.Downloads`), then transformed and checked
(:mod:`~res2netfuse.data.transform`). A set is assembled in a hidden folder beside its place
(``.<set>.partial-<pid>``) and its folders are renamed into place only when every file is there and
checked: a failed file, Ctrl-C or SIGTERM leaves the previous folders as they were and no partial file,
here or in the cache. :func:`verify` lists the files of a folder that differ from the registry.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import psutil

from .. import progress
from ..datasets import DATA_ENV, user_data_folder
from ..report import project_root
from ..stage import PARENT_POLL_S, is_running, watched_ancestors
from . import derived
from .download import Downloads
from .registry import MIRROR_ENV, README, SETS, UPSTREAM, DataError, DataSet, Entry, entries, select
from .transform import file_problem, produce

PARTIAL = ".{name}.partial-{pid}"


def local_copy() -> tuple[Path, str] | None:
    """The local copy of the data and what named it: ``$RES2NETFUSE_DATA``, else ``../shared/data`` beside the
    checkout (when run inside one and it exists), else None."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser(), f"${DATA_ENV}"
    try:
        shared = project_root().parent / "shared" / "data"
    except FileNotFoundError:
        return None
    return (shared, "../shared/data beside the checkout") if shared.is_dir() else None


class Sources:
    """Where the files come from: the local copy when it has the file, else the download cache."""

    def __init__(self, chosen: list[Entry]) -> None:
        self.local = local_copy()
        self.downloads = Downloads(chosen)
        self.counts: Counter[str] = Counter()

    def file_bytes(self, entry: Entry) -> bytes:
        """The checked bytes of ``entry``'s file in ``data/`` (``DataError`` naming the file otherwise)."""
        if self.local is not None and (self.local[0] / entry.path).is_file():
            path = self.local[0] / entry.path
            data = path.read_bytes()
            problem = file_problem(entry, data)
            if problem is not None:
                raise DataError(f"{path}: {problem} (the local copy of the data, named by {self.local[1]})")
            self.counts["copied"] += 1
            return data
        self.counts["downloaded"] += 1
        return produce(entry, self.downloads.upstream_bytes(entry))

    def describe(self) -> str:
        """Where files come from, in words."""
        local = f"the local copy {self.local[0]} ({self.local[1]}), else " if self.local else ""
        return f"{local}{_host()} through the cache {self.downloads.folder}"


def _host() -> str:
    mirror = os.environ.get(MIRROR_ENV)
    return f"the mirror {mirror} (${MIRROR_ENV})" if mirror else UPSTREAM


class Stopped(KeyboardInterrupt):
    """SIGTERM (or SIGINT) while a folder is assembled: raised in the main thread so that cleanup runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _watch_parent(done: threading.Event) -> None:
    """Under DVC: SIGTERM this process when ``dvc`` (or the shell between it and us) exits, as the stage runner
    does (:func:`res2netfuse.stage.watched_ancestors`): ``kill`` on ``dvc`` does not reach its command."""
    ancestors = watched_ancestors()
    while not done.wait(PARENT_POLL_S):
        if not all(map(is_running, ancestors)):
            _thread.interrupt_main(signal.SIGTERM)
            return


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM (and, under DVC, the exit of ``dvc``) stops the work like Ctrl-C does: an exception in the main
    thread, so that ``finally`` blocks remove partial files."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        raise Stopped(signum)

    previous = signal.signal(signal.SIGTERM, on_signal)
    done = threading.Event()
    if os.environ.get("DVC_STAGE"):
        threading.Thread(target=_watch_parent, args=(done,), daemon=True).start()
    try:
        yield
    finally:
        done.set()
        signal.signal(signal.SIGTERM, previous)


def _remove_stale_partials(to: Path, name: str) -> None:
    """Delete partial folders of set ``name`` left in ``to`` by a process killed outright (SIGKILL)."""
    for stale in to.glob(PARTIAL.format(name=name, pid="*")):
        pid = stale.name.rpartition("-")[2]
        if pid.isdigit() and (int(pid) == os.getpid() or not psutil.pid_exists(int(pid))):
            shutil.rmtree(stale, ignore_errors=True)


def _publish(made: Path, place: Path, trash: Path) -> None:
    """Put ``made`` (a folder or file) at ``place``; what was there goes to ``trash`` (removed by the caller)."""
    if place.exists() or place.is_symlink():
        trash.parent.mkdir(parents=True, exist_ok=True)
        os.replace(place, trash)
    if made.exists():
        place.parent.mkdir(parents=True, exist_ok=True)
        os.replace(made, place)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def assemble(dataset: DataSet, chosen: list[Entry], to: Path, sources: Sources) -> None:
    """Assemble set ``dataset`` (its ``chosen`` entries) in a partial folder in ``to``, then rename its folders
    into place."""
    to.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(to, dataset.name)
    partial = to / PARTIAL.format(name=dataset.name, pid=os.getpid())
    try:
        partial.mkdir()
        for entry in progress.bar(chosen, desc=f"data {dataset.name}", unit="file"):
            _write(partial / entry.path, sources.file_bytes(entry))
        if dataset.holds(derived.PAIRS_CSV):
            _write(partial / derived.PAIRS_CSV, derived.tno21_pairs(entries()))
        for folder in dataset.folders:
            _publish(partial / folder, to / folder, partial / ".previous" / folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _install_readme(to: Path) -> None:
    """Write ``README.md`` (origins, licence notes) into ``to`` atomically."""
    tmp = to / f".{README}.partial-{os.getpid()}"
    try:
        shutil.copyfile(derived.README_TEXT, tmp)
        os.replace(tmp, to / README)
    finally:
        tmp.unlink(missing_ok=True)


def fetch(names: list[str] | tuple[str, ...] = (), to: str | os.PathLike[str] | None = None, *,
          chosen: list[Entry] | None = None) -> Path:
    """Fill ``to`` (default: :func:`res2netfuse.datasets.user_data_folder`) with the data sets ``names`` (all by
    default) and ``README.md``; returns the folder. ``chosen`` restricts the files to those entries of the
    registry (the tests fetch the upstream sample). ``DataError`` names the file and the URL that failed;
    :class:`Stopped` (a ``KeyboardInterrupt``) on SIGTERM."""
    chosen = select(names) if chosen is None else [e for e in chosen if not names or e.set in names]
    folder = Path(to) if to is not None else user_data_folder()
    start = time.monotonic()
    with _interruptible():
        sources = Sources(chosen)
        print(f"data: {len(chosen)} file(s) into {folder}, from {sources.describe()}", file=sys.stderr, flush=True)
        for dataset in SETS.values():
            members = [e for e in chosen if e.set == dataset.name]
            if members:
                assemble(dataset, members, folder, sources)
        folder.mkdir(parents=True, exist_ok=True)
        _install_readme(folder)
    counts = sources.counts
    print(f"data: done in {time.monotonic() - start:.0f} s: {counts['copied']} files copied from the local copy, "
          f"{counts['downloaded']} made from upstream files ({sources.downloads.downloaded_bytes / 1e6:.1f} MB "
          "downloaded now)", file=sys.stderr, flush=True)
    return folder


def verify(folder: str | os.PathLike[str], names: list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """``[(path, problem), ...]`` for every file of the sets ``names`` (all by default) that is missing from
    ``folder``, differs from the registry (pixels, or bytes for ``copy``), or lies in a set's folder without
    being in the registry; empty when ``folder`` holds exactly the registry's data."""
    base = Path(folder)
    if not base.is_dir():
        raise FileNotFoundError(f"{base}: no such folder")
    chosen = select(names)
    problems = []
    for entry in progress.bar(chosen, desc="verifying", unit="file"):
        path = base / entry.path
        problem = file_problem(entry, path.read_bytes()) if path.is_file() else "missing"
        if problem is not None:
            problems.append((entry.path, problem))
    known = {e.path for e in chosen}
    for dataset in (SETS[n] for n in (names or SETS)):
        if dataset.holds(derived.PAIRS_CSV):
            known.add(derived.PAIRS_CSV)
            pairs = base / derived.PAIRS_CSV
            if not pairs.is_file() or pairs.read_bytes() != derived.tno21_pairs(entries()):
                problems.append((derived.PAIRS_CSV, "missing" if not pairs.is_file() else
                                 "differs from the pairs the registry's pixels give"))
        for top in dataset.folders:
            extra = sorted(p for p in (base / top).rglob("*") if p.is_file()) if (base / top).is_dir() else []
            problems += [(p.relative_to(base).as_posix(), "not in the registry") for p in extra
                         if p.relative_to(base).as_posix() not in known]
    return problems

