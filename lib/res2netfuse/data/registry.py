"""The registry of every data file: where it comes from (a URL pinned to a commit), its hashes, its transform.

``registry.csv`` (package data, one row per file of ``data/``) is made from the provenance table of the
data (``files.csv``: one row per file, traced to its public origin) by :mod:`res2netfuse.data.build_registry`.
Columns:

============== ===================================================================================
``set``        the data set the file belongs to (:data:`SETS`; what ``res2netfuse data fetch NAME``
               takes)
``path``       the file's path under ``data/``
``url``        the upstream file, ``https://raw.githubusercontent.com/OWNER/REPO/COMMIT/PATH``
``sha256``     SHA-256 of the bytes that URL serves (the zip's, for a zip member)
``member``     for a zip: the member that is the file (21 RFN-Nest outputs share one zip)
``transform``  ``copy`` (the bytes as they are), ``gray`` or ``squeeze`` (:mod:`.transform`)
``shape``      numpy shape of the decoded image, ``HxW`` or ``HxWx3`` (empty for ``copy``)
``pixels_sha256`` SHA-256 of the decoded image as a C-contiguous ``uint8`` array (empty for ``copy``)
``size``       bytes of the file as it lies in ``data/``
============== ===================================================================================

Every URL starts with :data:`UPSTREAM`; ``$RES2NETFUSE_DATA_URL`` replaces that prefix (a mirror, or a
local server in the tests: :func:`download_url`).
"""

from __future__ import annotations

import csv
import functools
import io
import os
import urllib.parse
from dataclasses import dataclass, fields
from pathlib import Path

REGISTRY = Path(__file__).with_name("registry.csv")
UPSTREAM = "https://raw.githubusercontent.com/"
MIRROR_ENV = "RES2NETFUSE_DATA_URL"
TRANSFORMS = ("copy", "gray", "squeeze")


class DataError(ValueError):
    """A data file that cannot be had as the registry pins it (changed upstream, unreachable, differs)."""


@dataclass(frozen=True)
class DataSet:
    """A set of data files fetched together: every registry file under one of ``folders`` (paths under
    ``data/``, folders or single files)."""

    name: str
    folders: tuple[str, ...]
    title: str
    licence: str  # what the origins allow, and what must be cited

    def holds(self, path: str) -> bool:
        """Whether the file ``path`` (under ``data/``) belongs to this set."""
        return any(path == f or path.startswith(f + "/") for f in self.folders)


TNO_LICENCE = "TNO Image Fusion Dataset (A. Toet, figshare): CC BY 4.0, cite it"
SETS: dict[str, DataSet] = {s.name: s for s in (
    DataSet("train", ("train",), "training images: camera.png and 100 MS-COCO train2014 images (224x224 gray); "
            "coco/000000000086.png is the paper's", "camera.png CC0 (scikit-image); COCO images under their "
            "Flickr licences"),
    DataSet("kodak", ("recon/kodak",), "20 Kodak images, 256x256 gray (reconstruction test set)",
            "Kodak suite, released for unrestricted usage"),
    DataSet("tno", ("fusion/tno", "peers/tno"), "42 TNO infrared/visible pairs and 9 published methods' outputs "
            "on them (L. Tang's toolbox)", TNO_LICENCE),
    DataSet("tno21", ("fusion/tno21", "peers/tno21"), "the paper's TNO pairs (Li & Wu's 21; 01-20 are the paper's "
            "20) and the rivals' own outputs on them", TNO_LICENCE),
    DataSet("roadscene", ("fusion/roadscene",), "50 RoadScene pairs (visible in colour)",
            "derives from FLIR ADAS: its terms"),
    DataSet("mri_ct", ("fusion/mri_ct",), "21 MRI-CT pairs", "from the Harvard Whole Brain Atlas"),
    DataSet("vifb", ("fusion/vifb", "peers/vifb"), "VIFB: 21 visible-infrared pairs and 25 methods' published "
            "fused images (JPEG as published)", "research benchmark: cite Zhang et al. 2020"),
    DataSet("weights", ("weights/densefuse_gray.model",), "DenseFuse's released gray weights (Li & Wu, TIP 2019)",
            "no licence stated: download, do not redistribute"),
    DataSet("rival_weights", ("weights/peers",), "released weights of the paper's rivals (AT-GAN, CUFD, MSDNet, "
            "MUFusion)", "no licence stated (MUFusion: MIT): download, do not redistribute"),
)}
README = "README.md"  # data/README.md: the origins and licence notes (package data), written with every set


@dataclass(frozen=True)
class Entry:
    """One row of the registry: one file of ``data/``."""

    set: str
    path: str
    url: str
    sha256: str
    member: str
    transform: str
    shape: str
    pixels_sha256: str
    size: int

    @property
    def upstream_path(self) -> str:
        """The URL's path after :data:`UPSTREAM`, decoded: ``OWNER/REPO/COMMIT/PATH`` (the cache's layout)."""
        return urllib.parse.unquote(self.url.removeprefix(UPSTREAM))

    @property
    def origin(self) -> str:
        """``OWNER/REPO@COMMIT`` (commit shortened to 8 digits)."""
        owner, repo, commit = self.upstream_path.split("/")[:3]
        return f"{owner}/{repo}@{commit[:8]}"

    @property
    def where(self) -> str:
        """The URL, and the zip member when there is one (for messages)."""
        return f"{self.url} (zip member {self.member})" if self.member else self.url


COLUMNS = tuple(f.name for f in fields(Entry))


def check(rows: list[Entry], source: str | os.PathLike[str]) -> list[Entry]:
    """``rows`` if each is consistent (its set holds its path, a known transform, a pinned upstream URL, pixel
    hashes exactly for decoded images) and no path repeats; ``DataError`` naming ``source`` and the row."""
    seen: set[str] = set()
    for e in rows:
        if e.set not in SETS or not SETS[e.set].holds(e.path) or e.transform not in TRANSFORMS \
                or not e.url.startswith(UPSTREAM) or (e.transform == "copy") == bool(e.pixels_sha256) or e.path in seen:
            raise DataError(f"{source}: bad or repeated row for {e.path} (set {e.set}, transform {e.transform})")
        seen.add(e.path)
    return rows


def read(path: str | os.PathLike[str] = REGISTRY) -> list[Entry]:
    """The entries of a registry CSV, checked (``DataError`` naming the row otherwise)."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise DataError(f"{path}: columns {reader.fieldnames}, expected {list(COLUMNS)}")
        rows = [Entry(**{**row, "size": int(row["size"])}) for row in reader]  # type: ignore[arg-type]
    return check(rows, path)


def render(rows: list[Entry]) -> str:
    """The registry CSV text of ``rows`` (what :func:`read` reads back)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows([getattr(e, c) for c in COLUMNS] for e in rows)
    return out.getvalue()


@functools.cache
def entries() -> tuple[Entry, ...]:
    """Every entry of the registry shipped with the package."""
    return tuple(read())


def select(names: list[str] | tuple[str, ...] = ()) -> list[Entry]:
    """The shipped registry's entries of the sets ``names`` (all when empty); ``ValueError`` naming the choices
    for an unknown set."""
    unknown = [n for n in names if n not in SETS]
    if unknown:
        raise ValueError(f"unknown data set {', '.join(unknown)}; choose from {', '.join(SETS)}")
    return [e for e in entries() if not names or e.set in names]


def download_url(entry: Entry) -> str:
    """The URL to download ``entry`` from: its pinned URL, with :data:`UPSTREAM` replaced by
    ``$RES2NETFUSE_DATA_URL`` when that is set (a mirror laid out like the upstream host)."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return entry.url
    return mirror.rstrip("/") + "/" + entry.url.removeprefix(UPSTREAM)
