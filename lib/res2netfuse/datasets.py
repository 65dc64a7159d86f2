"""One registry of the image sets the artifact uses: where they are, how they pair, which are colour.

Fusion sets hold two folders of same-stem source images (``a`` = infrared or CT, ``b`` = visible
or MRI); the notebooks, the explorer and the CLI all look them up here instead of writing paths:

========== ===================================== ============================================
name       folders (under ``data/``)             what
========== ===================================== ============================================
tno21      fusion/tno21/{ir,vi}, stems 01-20     the paper's 20 test pairs (Tables II, IV,
                                                 Fig. 5): Li & Wu's 21 TNO pairs, k = 1..20
tno        fusion/tno/{ir,vi}                    42 TNO pairs (extended evaluation, 9 peers)
roadscene  fusion/roadscene/{ir,vi}              50 pairs, visible images in colour
mri_ct     fusion/mri_ct/{ct,mri}                21 medical pairs (CT first, MRI second)
========== ===================================== ============================================

A colour visible image is fused through its luminance (full-range YCbCr ``Y``) and keeps its
chroma (:func:`res2netfuse.pipeline.load_sources`). Paths are relative to the data root
(:func:`data_root`): ``$RES2NETFUSE_DATA``, else the checkout's ``data/`` (made by ``dvc repro data``), else
the user data folder that ``res2netfuse data fetch`` fills (:mod:`res2netfuse.data` fetches and verifies
every file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import io
from .report import project_root


@dataclass(frozen=True)
class PairSet:
    """Registered source pairs: two folders of same-stem images, optionally restricted to ``stems``."""

    name: str
    title: str
    folder_a: str
    folder_b: str
    label_a: str = "IR"
    label_b: str = "VI"
    colour: bool = False  # visible images are RGB: fused through their luminance
    stems: tuple[str, ...] | None = None  # None: every stem present in both folders
    peers: str | None = None  # published methods' outputs, <peers>/<Method>/<stem>.png

    def folders(self, root: io.PathLike | None = None) -> tuple[Path, Path]:
        """The two source folders under the data root ``root``."""
        base = Path(root) if root is not None else data_root()
        return base / self.folder_a, base / self.folder_b

    def pairs(self, root: io.PathLike | None = None) -> list[tuple[str, tuple[Path, Path]]]:
        """``[(stem, (path_a, path_b)), ...]`` sorted by stem; missing files raise ``ImageError``."""
        folder_a, folder_b = self.folders(root)
        paired = {stem: (a, b) for stem, (a, b) in io.paired_files(folder_a, folder_b)}
        if self.stems is None:
            return sorted(paired.items())
        missing = [s for s in self.stems if s not in paired]
        if missing:
            raise io.ImageError(folder_a, f"has no pair for {', '.join(missing)} (data set {self.name})")
        return [(s, paired[s]) for s in self.stems]

    def peer_folders(self, root: io.PathLike | None = None) -> dict[str, Path]:
        """Method name -> folder of that method's published outputs (empty when there are none)."""
        if self.peers is None:
            return {}
        folder = (Path(root) if root is not None else data_root()) / self.peers
        return {d.name: d for d in sorted(folder.iterdir()) if d.is_dir()} if folder.is_dir() else {}


PAIR_SETS: dict[str, PairSet] = {s.name: s for s in (
    PairSet("tno21", "TNO, the paper's 20 pairs", "fusion/tno21/ir", "fusion/tno21/vi",
            stems=tuple(f"{k:02d}" for k in range(1, 21)), peers="peers/tno21"),
    PairSet("tno", "TNO, 42 pairs", "fusion/tno/ir", "fusion/tno/vi", peers="peers/tno"),
    PairSet("roadscene", "RoadScene, 50 pairs", "fusion/roadscene/ir", "fusion/roadscene/vi", colour=True),
    PairSet("mri_ct", "MRI-CT, 21 pairs", "fusion/mri_ct/ct", "fusion/mri_ct/mri", "CT", "MRI"),
)}


DATA_ENV = "RES2NETFUSE_DATA"  # a folder laid out like data/: read from, and the local copy `data fetch` copies
CACHE_ENV = "RES2NETFUSE_CACHE"  # replaces the user cache folder (downloads and the fetched data)


def cache_folder() -> Path:
    """``$RES2NETFUSE_CACHE``, else the user cache folder ``pooch.os_cache("res2netfuse")``
    (``~/.cache/res2netfuse`` on Linux, ``~/Library/Caches/res2netfuse`` on macOS)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import pooch  # only here: importing the image sets should not load the downloader

    return Path(pooch.os_cache("res2netfuse")).expanduser()


def user_data_folder() -> Path:
    """The folder that ``res2netfuse data fetch`` fills by default: ``data/`` in :func:`cache_folder`."""
    return cache_folder() / "data"


def data_root() -> Path:
    """``$RES2NETFUSE_DATA`` if set, else ``<repository root>/data`` inside a checkout, else
    :func:`user_data_folder`."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    try:
        return project_root() / "data"
    except FileNotFoundError:
        return user_data_folder()


def fetch_hint(name: str) -> str:
    """The command that puts data set ``name`` where :func:`data_root` looks."""
    root = data_root()
    return f"res2netfuse data fetch {name}" + ("" if root == user_data_folder() else f" --to {root}")


def data_file(relative: str) -> Path | None:
    """``relative`` under :func:`data_root` if that file exists, else ``None``."""
    path = data_root() / relative
    return path if path.exists() else None


def pair_set(name: str) -> PairSet:
    """The registered :class:`PairSet` ``name`` (``ValueError`` naming the choices otherwise)."""
    if name not in PAIR_SETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(PAIR_SETS)}")
    return PAIR_SETS[name]


def tno21_twins(root: io.PathLike | None = None) -> dict[str, str]:
    """tno21 stem -> the stem of the pixel-identical pair in ``tno`` (``fusion/tno21/pairs.csv``).

    Only the paper's pairs (01-20) that have a twin are listed (15 of them).
    """
    table = pd.read_csv((Path(root) if root is not None else data_root()) / "fusion/tno21/pairs.csv",
                        dtype=str, keep_default_na=False)
    paper = set(PAIR_SETS["tno21"].stems or ())
    return {r.pair: r.tno42_pair for r in table.itertuples() if r.tno42_pair and r.pair in paper}


def published_outputs(stem: str, root: io.PathLike | None = None) -> dict[str, Path]:
    """Every published fused image of tno21 pair ``stem``, labelled by method: the methods' own outputs on the
    paper's pairs (``peers/tno21``, "<Method> (own release)") and, when the pair has a pixel-identical twin among
    the 42 TNO pairs, the TNO toolbox's outputs of that twin ("<Method> (TNO toolbox)")."""
    files = {f"{m} (own release)": d / f"{stem}.png" for m, d in PAIR_SETS["tno21"].peer_folders(root).items()
             if (d / f"{stem}.png").exists()}
    twin = tno21_twins(root).get(stem)
    if twin is not None:
        files.update({f"{m} (TNO toolbox)": d / f"{twin}.png" for m, d in PAIR_SETS["tno"].peer_folders(root).items()})
    return files


COCO_FOLDER = "train/coco"  # 100 MS-COCO train2014 images, 224x224 gray, file name = COCO id
PAPER_TRAINING_IMAGE = "train/coco/000000000086.png"  # the authors' train script's image


def coco_ids(root: io.PathLike | None = None) -> list[str]:
    """Sorted COCO ids (file stems) of the images in ``train/coco``."""
    return sorted(io.list_images((Path(root) if root is not None else data_root()) / COCO_FOLDER))


def seeded_choice(names: list[str] | tuple[str, ...], n: int, seed: int) -> list[str]:
    """``n`` distinct names drawn from ``sorted(names)`` with ``numpy.random.default_rng(seed)``, sorted.

    How the listed image choices in ``params.yaml`` were made (a test re-draws them).
    """
    pool = sorted(names)
    if not 0 <= n <= len(pool):
        raise ValueError(f"cannot choose {n} of {len(pool)} names")
    picked = np.random.default_rng(seed).choice(len(pool), size=n, replace=False)
    return sorted(pool[i] for i in picked)


def noise_image(size: int = 256, seed: int = 0) -> np.ndarray:
    """A ``size`` x ``size`` 8-bit image of i.i.d. uniform noise (``default_rng(seed).integers(0, 256)``).

    The claims study's training image that is *not* a natural photograph: no edges, no objects, no
    1/f spectrum -- none of the internal patch statistics the paper's argument relies on.
    """
    if size < 11:
        raise ValueError(f"size must be >= 11 px (the SSIM window), got {size}")
    return np.random.default_rng(seed).integers(0, 256, size=(size, size), dtype=np.uint8)


def main(argv: list[str] | None = None) -> int:
    """``python -m res2netfuse.datasets noise OUT.png [--size N] [--seed S]``: write :func:`noise_image`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m res2netfuse.datasets",
                                     description="Write the claims study's synthetic (non-natural) training image.")
    parser.add_argument("kind", choices=["noise"], help="noise: i.i.d. uniform 8-bit noise")
    parser.add_argument("out", help="PNG file to write")
    parser.add_argument("--size", type=int, default=256, help="side in pixels (default 256)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    io.save_image(args.out, noise_image(args.size, args.seed))
    print(f"wrote {args.out} ({args.size}x{args.size} px uniform noise, seed {args.seed})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
