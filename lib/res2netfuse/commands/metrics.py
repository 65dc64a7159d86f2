"""``res2netfuse metrics``: score fused images (one triple of files, or folders) against IR/VI pairs, write a CSV."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pandas as pd

from ..io import ImageError
from ..metrics import ALL_METRICS, CONVENTIONS, PAPER_METRICS, evaluate_files, evaluate_folders


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``metrics`` (conventions: see ``res2netfuse.metrics``)."""
    p = sub.add_parser(
        "metrics", help="fusion metrics (MATLAB-toolbox conventions) of fused images",
        description="Score fused images against their infrared and visible sources: one triple of files "
                    "(--ir a.png --vi b.png --fused f.png), or folders whose files are paired by name. Prints "
                    "the mean of each metric per method; --out also writes one row per method and image.",
    )
    p.add_argument("--ir", required=True, help="infrared image (A), or a folder of them")
    p.add_argument("--vi", required=True, help="visible image (B), or a folder of them (same file names)")
    p.add_argument("--fused", required=True, action="append",
                   help="fused image, or a folder of fused images named as in --ir; repeat for several methods "
                        "(method = file stem, or folder name)")
    p.add_argument("--out", help="CSV to write, one row per method and image")
    p.add_argument("--metrics", choices=["all", "paper"], default="all",
                   help="all 15 metrics or the paper's six (SSIM_a, Qabf, FMI_dct, FMI_w, SCD, MS_SSIM)")
    p.add_argument("--convention", choices=CONVENTIONS, default="paper",
                   help="paper: Qabf and Nabf on im2double [0,1] images, as the paper's analysis_Reference.m; "
                        "toolbox: every function on [0,255] (default: paper)")
    p.add_argument("--jobs", type=int, default=None,
                   help="parallel processes for folders (default: all cores; 1: this process)")
    p.add_argument("--scheduler", default=None,
                   help="score on a Dask cluster, e.g. tcp://host:8786 (its workers must see the same paths)")
    p.set_defaults(run=run)


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` to ``path`` through a temporary file, so a failure leaves no partial CSV."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.stem}.", suffix=".csv")
    os.close(fd)
    try:
        df.to_csv(tmp, index=False)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def _score_folders(args: argparse.Namespace, metrics: tuple[str, ...]) -> pd.DataFrame:
    """:func:`evaluate_folders` on ``--jobs`` processes, or on the Dask cluster at ``--scheduler``."""
    if args.scheduler is None:
        return evaluate_folders(args.ir, args.vi, args.fused, metrics, convention=args.convention, jobs=args.jobs)
    from distributed import Client

    with Client(args.scheduler) as client:
        return evaluate_folders(args.ir, args.vi, args.fused, metrics, convention=args.convention, client=client)


def run(args: argparse.Namespace) -> int:
    """Score the fused files or folders, print the per-method means, write the per-image table."""
    paths = [Path(args.ir), Path(args.vi), *map(Path, args.fused)]
    for path in paths:
        if not path.exists():
            raise ImageError(path, "file or folder not found")
    files = [p.is_file() for p in paths]
    if any(files) and not all(files):
        odd = next(p for p, f in zip(paths, files) if f != files[0])
        raise ValueError(f"{odd}: give --ir, --vi and --fused all as files (one triple) or all as folders")
    metrics = PAPER_METRICS if args.metrics == "paper" else ALL_METRICS
    if all(files):
        table = evaluate_files(args.ir, args.vi, args.fused, metrics, convention=args.convention)
    else:
        table = _score_folders(args, metrics)
    means = table.groupby("method", sort=False)[list(metrics)].mean()
    print(means.to_string(float_format=lambda v: f"{v:.5f}"))
    if args.out:
        print(f"wrote {write_csv_atomic(table, args.out)} ({len(table)} rows)")
    return 0
