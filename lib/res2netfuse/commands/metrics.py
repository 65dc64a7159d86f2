"""``res2netfuse metrics``: score fused folders against IR/VI pairs, write a per-image CSV."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pandas as pd

from ..metrics import ALL_METRICS, PAPER_METRICS, evaluate_folders


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``metrics`` (conventions: see ``res2netfuse.metrics``)."""
    p = sub.add_parser("metrics", help="fusion metrics (MATLAB-toolbox conventions) for fused folders")
    p.add_argument("--ir", required=True, help="folder of infrared images (A)")
    p.add_argument("--vi", required=True, help="folder of visible images (B)")
    p.add_argument("--fused", required=True, action="append",
                   help="folder of fused images, files named as in --ir; repeat for several methods "
                        "(method = folder name)")
    p.add_argument("--out", required=True, help="CSV with one row per method and image")
    p.add_argument("--metrics", choices=["all", "paper"], default="all",
                   help="all 15 metrics or the paper's six (SSIM_a, Qabf, FMI_dct, FMI_w, SCD, MS_SSIM)")
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


def run(args: argparse.Namespace) -> int:
    """Score every fused folder, print the per-method means, write the per-image table."""
    names = [Path(d).name for d in args.fused]
    if len(set(names)) != len(names):
        raise ValueError(f"--fused folders must have distinct names (the method column): {names}")
    metrics = PAPER_METRICS if args.metrics == "paper" else ALL_METRICS
    table = evaluate_folders(args.ir, args.vi, args.fused, metrics=metrics)
    means = table.groupby("method", sort=False)[list(metrics)].mean()
    print(means.to_string(float_format=lambda v: f"{v:.5f}"))
    print(f"wrote {write_csv_atomic(table, args.out)} ({len(table)} rows)")
    return 0
