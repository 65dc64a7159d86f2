"""Tables (CSV + markdown with captions and best/second/third marks) and figure saving.

Every stage notebook writes its results through these helpers so that tables and figures
look the same across the artifact.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

RANK_MARKS = (("**", "**"), ("_", "_"), ("<u>", "</u>"))  # best bold, second italic, third underlined


def project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The repository root: ``$RES2NETFUSE_ROOT`` if set, else the first parent holding ``dvc.yaml``."""
    env = os.environ.get("RES2NETFUSE_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "dvc.yaml").exists():
            return d
    raise FileNotFoundError(f"no dvc.yaml found above {here}; run from inside the repository")


def rank_marks(df: pd.DataFrame, columns: Iterable[str], higher_is_better: bool = True) -> pd.DataFrame:
    """Per column, 1/2/3 for the best/second/third value (ties share a rank), else 0."""
    ranks = pd.DataFrame(0, index=df.index, columns=list(columns))
    for col in ranks.columns:
        values = pd.to_numeric(df[col], errors="coerce")
        order = values.rank(method="min", ascending=not higher_is_better)
        ranks[col] = order.where(order <= 3, 0).fillna(0).astype(int)
    return ranks


def _format_cell(value: object, floatfmt: str) -> object:
    """Floats (numpy ones too, also inside mixed-type columns) with ``floatfmt``; NaN as an em dash."""
    if isinstance(value, (float, np.floating)):
        return "—" if value != value else format(value, floatfmt)
    return value


def to_markdown(df: pd.DataFrame, caption: str, ranks: pd.DataFrame | None = None, floatfmt: str = ".5f") -> str:
    """Render ``df`` as a markdown table under ``caption``; ranked cells: **best**, _second_, <u>third</u>."""
    shown = df.copy().astype(object)
    for col in df.columns:
        shown[col] = [_format_cell(v, floatfmt) for v in df[col]]
    if ranks is not None:
        for col in ranks.columns:
            for idx, r in ranks[col].items():
                if r:
                    opening, closing = RANK_MARKS[r - 1]
                    shown.at[idx, col] = f"{opening}{shown.at[idx, col]}{closing}"
    legend = "\n\nMarks per column: **best**, _second_, <u>third</u>." if ranks is not None else ""
    # disable_numparse: keep the formatted strings (tabulate would re-format them as numbers)
    align = ["right" if pd.api.types.is_numeric_dtype(df[c]) else "left" for c in df.columns]
    table = shown.to_markdown(index=False, disable_numparse=True, colalign=align)
    return f"{caption}\n\n{table}{legend}\n"


def save_table(df: pd.DataFrame, out_dir: str | os.PathLike[str], stem: str, caption: str,
               ranks: pd.DataFrame | None = None, floatfmt: str = ".5f") -> tuple[Path, Path]:
    """Write ``stem.csv`` (full precision) and ``stem.md`` (caption + rounded, marked table)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv, md = out / f"{stem}.csv", out / f"{stem}.md"
    df.to_csv(csv, index=False)
    md.write_text(to_markdown(df, caption, ranks, floatfmt))
    return csv, md


def save_figure(fig, out_dir: str | os.PathLike[str], stem: str, dpi: int = 150) -> Path:  # type: ignore[no-untyped-def]
    """Save a matplotlib figure as ``stem.png`` (tight bounding box)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    return path


def _plain(value: object) -> object:
    """JSON-ready copy of ``value``: numpy scalars/arrays to Python numbers/lists, paths to strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def save_summary(out_dir: str | os.PathLike[str], values: dict[str, object]) -> Path:
    """Write ``summary.json`` (the stage's headline numbers, listed as DVC metrics) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "summary.json"
    path.write_text(json.dumps(_plain(values), indent=2) + "\n")
    return path
