"""The two files of ``data/`` that are not downloaded: ``README.md`` and ``fusion/tno21/pairs.csv``.

* ``README.md`` (package data beside this file) lists the folders, their origins and the licence notes.
* ``fusion/tno21/pairs.csv`` is computed from the registry: tno21 pair ``NN`` (Li & Wu's ``IR{k}.png`` /
  ``VIS{k}.png``) has a twin among the 42 TNO pairs when both its images have exactly the pixels of that
  pair's (same shape and pixel SHA-256): 16 of the 21 do. ``in_paper_test_set`` marks the paper's 20
  (:data:`res2netfuse.datasets.PAIR_SETS` ``tno21``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path, PurePosixPath

from ..datasets import PAIR_SETS
from .registry import Entry

README_TEXT = Path(__file__).with_name("README.md")
PAIRS_CSV = "fusion/tno21/pairs.csv"
PAIRS_COLUMNS = ("pair", "source_files", "width", "height", "in_paper_test_set", "tno42_pair")


def tno21_pairs(entries: tuple[Entry, ...] | list[Entry]) -> bytes:
    """The bytes of ``fusion/tno21/pairs.csv``, from the registry ``entries`` (which must hold tno21 and tno)."""
    by_path = {e.path: e for e in entries}

    def images(folder: str, stem: str) -> tuple[Entry, Entry]:
        return by_path[f"{folder}/ir/{stem}.png"], by_path[f"{folder}/vi/{stem}.png"]

    def key(pair: tuple[Entry, Entry]) -> tuple[str, ...]:
        return tuple(x for e in pair for x in (e.shape, e.pixels_sha256))

    tno = {key(images("fusion/tno", PurePosixPath(p).stem)): PurePosixPath(p).stem
           for p in by_path if p.startswith("fusion/tno/ir/")}
    paper = set(PAIR_SETS["tno21"].stems or ())
    out = io.StringIO()
    writer = csv.writer(out)  # csv's own "\r\n" line ends, as in the reference copy of the data
    writer.writerow(PAIRS_COLUMNS)
    for stem in sorted(PurePosixPath(p).stem for p in by_path if p.startswith("fusion/tno21/ir/")):
        ir, vi = images("fusion/tno21", stem)
        height, width = ir.shape.split("x")[:2]
        writer.writerow([stem, f"{PurePosixPath(ir.upstream_path).name}, {PurePosixPath(vi.upstream_path).name}",
                         width, height, "yes" if stem in paper else "no", tno.get(key((ir, vi)), "")])
    return out.getvalue().encode()
