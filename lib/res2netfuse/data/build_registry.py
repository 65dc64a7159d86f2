"""Maintainer tool: regenerate the data registry (``registry.csv``) from the data's provenance table.

Usage, from the repository root::

    python -m res2netfuse.data.build_registry ../shared/provenance/files.csv [--data DIR] [--out PATH]

``files.csv`` has one row per file of the data (``path, url, sha256, member, transform, shape,
pixels_sha256``: its public origin pinned to a commit, traced and checked by hand). Each row gets the
data set that holds its path (:data:`~res2netfuse.data.registry.SETS`) and the size of the file in the data
folder ``--data`` (default: ``data/`` beside the provenance folder); rows are ordered by set, then path.
A test checks that the committed registry is what this tool makes.
"""

from __future__ import annotations

import argparse
import csv
import os
from pathlib import Path

from .registry import COLUMNS, REGISTRY, SETS, DataError, Entry, check, render

PROVENANCE_COLUMNS = tuple(c for c in COLUMNS if c not in ("set", "size"))


def build(files_csv: str | os.PathLike[str], data: str | os.PathLike[str] | None = None) -> list[Entry]:
    """The registry's entries made from the provenance table ``files_csv`` and the data folder ``data``."""
    source = Path(files_csv)
    folder = Path(data) if data is not None else source.parent.parent / "data"
    with open(source, newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != PROVENANCE_COLUMNS:
            raise DataError(f"{source}: columns {reader.fieldnames}, expected {list(PROVENANCE_COLUMNS)}")
        rows = list(reader)
    order = list(SETS)
    made = []
    for row in rows:
        holders = [s.name for s in SETS.values() if s.holds(row["path"])]
        if len(holders) != 1:
            raise DataError(f"{source}: {row['path']} lies in {len(holders)} data sets ({', '.join(holders)}), not one")
        file = folder / row["path"]
        if not file.is_file():
            raise FileNotFoundError(f"{file}: listed in {source} but not in the data folder")
        made.append(Entry(set=holders[0], size=file.stat().st_size, **row))
    return check(sorted(made, key=lambda e: (order.index(e.set), e.path)), source)


def main(argv: list[str] | None = None) -> int:
    """Write the registry built from the provenance table named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m res2netfuse.data.build_registry",
                                     description="Regenerate the data registry from the provenance table.")
    parser.add_argument("files_csv", help="the provenance table (../shared/provenance/files.csv)")
    parser.add_argument("--data", help="the data folder it describes (default: data/ beside its folder)")
    parser.add_argument("--out", default=str(REGISTRY), help="registry to write (default: the package's)")
    args = parser.parse_args(argv)
    try:
        rows = build(args.files_csv, args.data)
    except (DataError, FileNotFoundError) as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    Path(args.out).write_text(render(rows))
    print(f"wrote {args.out}: {len(rows)} files in {len({e.set for e in rows})} sets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
