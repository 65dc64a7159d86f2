"""Score folders of fused images: serially, on all cores (processes), or on a Dask cluster; or one
pair of files with its fused files.

Tasks are (pair, method) triples of *paths*; each worker reads its three files, so memory stays
bounded by the number of workers, whatever the number of images. With a Dask
``distributed.Client`` the paths must be readable by the workers (a shared file system, or the
same data at the same paths on every machine), and ``res2netfuse`` must be installed there.
Values are identical to a serial run: the metrics are deterministic and do not depend on the
number of threads or processes (``tests/test_metrics_folders.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from ..io import ImageError, PathLike, check_same_size, load_gray_uint8, paired_files
from ..progress import bar
from ._common import Convention
from .core import ALL_METRICS, available_cores, check_names, evaluate

if TYPE_CHECKING:
    from distributed import Client


class Task(NamedTuple):
    """One triple to score: method name, image stem and the three files."""

    method: str
    image: str
    ir: str
    vi: str
    fused: str


Outcome = tuple[dict[str, float], None] | tuple[None, tuple[str, str]]


def score_task(task: Task, metrics: Sequence[str], convention: Convention, threads: int | None = 1) -> Outcome:
    """Read and score one triple: ``(values, None)``, or ``(None, (path, problem))`` for bad input.

    Bad input comes back as data, not as an exception, so that it crosses process and cluster
    boundaries unchanged (the caller raises :class:`~res2netfuse.io.ImageError`).
    """
    try:
        a, b = load_gray_uint8(task.ir), load_gray_uint8(task.vi)
        check_same_size(a, b, task.ir, task.vi)
        f = load_gray_uint8(task.fused)
        check_same_size(a, f, task.ir, task.fused)
        try:
            return evaluate(a, b, f, metrics, convention=convention, threads=threads), None
        except ValueError as exc:
            raise ImageError(task.fused, str(exc)) from None
    except ImageError as exc:
        return None, (str(exc.path), exc.problem)


def worker_task(task: Task, metrics: Sequence[str], convention: Convention) -> Outcome:
    """:func:`score_task` in a worker process that only scores: glibc keeps freed memory for reuse.

    A triple's ~100 arrays of 3.5 MB would otherwise be fresh zero-filled pages each time -- twice the
    CPU on Dask workers, which start with ``MALLOC_TRIM_THRESHOLD_`` set
    (:func:`res2netfuse.runtime.retain_freed_memory`; imported here, not at the top: it loads torch).
    """
    from ..runtime import retain_freed_memory

    retain_freed_memory()
    return score_task(task, metrics, convention)


def _tasks(ir_dir: PathLike, vi_dir: PathLike, named: Mapping[str, PathLike],
           images: Sequence[str] | None) -> list[Task]:
    pairs = paired_files(ir_dir, vi_dir, *named.values(), stems=images)
    return [Task(method, stem, str(ir), str(vi), str(fused))
            for stem, (ir, vi, *fused_paths) in pairs for method, fused in zip(named, fused_paths)]


def _serial(tasks: list[Task], metrics: Sequence[str], convention: Convention) -> Iterator[tuple[int, Outcome]]:
    for i, task in enumerate(tasks):
        yield i, score_task(task, metrics, convention, threads=None)


def _worker_context() -> BaseContext:
    """Fresh worker processes forked from a server that has imported the metrics once (``spawn`` where
    there is no ``forkserver``); not ``fork``, which is unsafe in a process with threads (notebooks)."""
    if "forkserver" not in get_all_start_methods():
        return get_context("spawn")
    context = get_context("forkserver")
    context.set_forkserver_preload([__name__, "res2netfuse.runtime"])
    return context


def _processes(tasks: list[Task], metrics: Sequence[str], convention: Convention,
               jobs: int) -> Iterator[tuple[int, Outcome]]:
    with ProcessPoolExecutor(jobs, mp_context=_worker_context()) as pool:
        futures = {pool.submit(worker_task, t, metrics, convention): i for i, t in enumerate(tasks)}
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _dask(tasks: list[Task], metrics: Sequence[str], convention: Convention,
          client: Client) -> Iterator[tuple[int, Outcome]]:
    from distributed import as_completed as dask_completed

    futures = client.map(worker_task, tasks, metrics=tuple(metrics), convention=convention)
    index = {fut.key: i for i, fut in enumerate(futures)}
    try:
        for fut, outcome in dask_completed(futures, with_results=True):
            yield index[fut.key], outcome
    finally:
        client.cancel(futures)


def _method_names(paths: Sequence[PathLike], name: Callable[[Path], str]) -> dict[str, PathLike]:
    """Method name -> path; two paths with the same name would merge their rows, so they are refused."""
    names = [name(Path(p)) for p in paths]
    if len(set(names)) != len(names):
        raise ValueError(f"fused files or folders need distinct names (they name the method column): {names}")
    return dict(zip(names, paths))


def evaluate_files(ir: PathLike, vi: PathLike, fused: Sequence[PathLike], metrics: Sequence[str] = ALL_METRICS, *,
                   convention: Convention = "paper") -> pd.DataFrame:
    """The table of :func:`evaluate_folders` for one IR/VI pair of files and its fused files (method =
    file stem), scored in this process."""
    names = check_names(metrics, convention)
    rows = []
    for method, path in _method_names(fused, lambda p: p.stem).items():
        values, problem = score_task(Task(method, Path(ir).stem, str(ir), str(vi), str(path)), names, convention,
                                     threads=None)
        if problem is not None:
            raise ImageError(*problem)
        rows.append({"method": method, "image": Path(ir).stem, **values})
    return pd.DataFrame(rows, columns=["method", "image", *names])


def evaluate_folders(ir_dir: PathLike, vi_dir: PathLike, fused_dirs: Mapping[str, PathLike] | Sequence[PathLike],
                     metrics: Sequence[str] = ALL_METRICS, progress: bool = True,
                     images: Sequence[str] | None = None, *, convention: Convention = "paper",
                     jobs: int | None = None, client: Client | None = None) -> pd.DataFrame:
    """Score every fused folder on the pairs in ``ir_dir``/``vi_dir`` (files paired by stem).

    ``fused_dirs`` maps method name -> folder, or is a list of folders (method = folder name);
    ``images`` optionally restricts the pairs to these file stems (e.g. ``["01", "02"]``);
    ``convention`` as in :func:`~res2netfuse.metrics.evaluate`. Parallelism: ``client`` (a
    ``dask.distributed.Client``) scores on that cluster; otherwise ``jobs`` processes (default:
    all cores; ``jobs=1`` scores in this process). Returns a tidy frame with columns
    ``method, image, <metrics>``, rows in (image, method) order whatever the parallelism. All
    files are paired before any is scored, so a missing file fails fast; an unreadable or
    mismatched file raises :class:`~res2netfuse.io.ImageError` naming it.
    """
    names = check_names(metrics, convention)
    named = dict(fused_dirs) if isinstance(fused_dirs, Mapping) else _method_names(fused_dirs, lambda p: p.name)
    if not named:
        raise ValueError("no fused folder given")
    tasks = _tasks(ir_dir, vi_dir, named, images)
    jobs = available_cores() if jobs is None else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if client is not None:
        outcomes = _dask(tasks, names, convention, client)
    elif jobs == 1 or len(tasks) == 1:
        outcomes = _serial(tasks, names, convention)
    else:
        outcomes = _processes(tasks, names, convention, min(jobs, len(tasks)))
    rows: list[dict[str, float] | None] = [None] * len(tasks)
    with closing(outcomes), bar(total=len(tasks), desc="metrics", unit="triple", disable=not progress) as progress_bar:
        for i, (values, problem) in outcomes:  # closing: a failure stops the pool or cancels the cluster's tasks
            if problem is not None:
                raise ImageError(*problem)
            rows[i] = values
            progress_bar.update()
    return pd.DataFrame([{"method": t.method, "image": t.image, **row} for t, row in zip(tasks, rows)],
                        columns=["method", "image", *names])
