"""The explorer's source pairs: a pair of a registered data set or two uploaded files.

Both routes end in :func:`res2netfuse.pipeline.load_sources`, the loader of the CLI, so a colour
visible image (RoadScene, or a colour upload for source B) is fused through its luminance ``Y``
and keeps its chroma for display (:func:`res2netfuse.pipeline.colourise`). The data sets come
from :mod:`res2netfuse.datasets` (``PAIR_SETS``).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .. import io
from ..datasets import pair_set
from ..pipeline import Sources, colourise, load_sources

MAX_UPLOAD_PIXELS = 2_000_000  # per image; 2 x 64 float32 features per pixel = 1 GB of cached features
Upload = tuple[str, bytes]  # (file name as the user chose it, content)


@dataclass(frozen=True, eq=False)
class Pair:
    """Loaded :class:`~res2netfuse.pipeline.Sources`, the ``key`` naming them in the caches, and labels."""

    key: str
    sources: Sources
    label_a: str = "IR"
    label_b: str = "VI"

    @property
    def colour(self) -> bool:
        """True when source B is a colour visible image (fused through its luminance)."""
        return self.sources.visible_ycbcr is not None

    @cached_property
    def gray_a(self) -> np.ndarray:
        """Source A as ``uint8`` (what the metrics score)."""
        return io.to_uint8(self.sources.a, "clip")

    @cached_property
    def gray_b(self) -> np.ndarray:
        """Source B's luminance as ``uint8`` (what the network fuses and the metrics score)."""
        return io.to_uint8(self.sources.b, "clip")

    @cached_property
    def shown_b(self) -> np.ndarray:
        """Source B as shown: in colour (RGB ``uint8``) when it is a colour image, else gray."""
        return colourise(self.gray_b, self.sources)


def list_pairs(dataset: str) -> list[str]:
    """Stems of the pairs of the registered data set ``dataset`` (in the registry's order)."""
    return [stem for stem, _ in pair_set(dataset).pairs()]


def load_pair(dataset: str, stem: str) -> Pair:
    """Load pair ``stem`` of the registered data set ``dataset`` (``ValueError`` naming the choices)."""
    registered = pair_set(dataset)
    files = dict(registered.pairs())
    if stem not in files:
        raise ValueError(f"{dataset} has no pair {stem!r}; choose one of {', '.join(files)}")
    return Pair(f"{dataset}/{stem}", load_sources(*files[stem]), registered.label_a, registered.label_b)


def upload_pair(a: Upload | None, b: Upload | None) -> Pair:
    """A :class:`Pair` from two uploads: images of one size, at most :data:`MAX_UPLOAD_PIXELS` each.

    Raises :class:`~res2netfuse.io.ImageError` naming the uploaded file (not a temporary copy).
    """
    if a is None or b is None:
        raise ValueError("choose one file for each source (A = infrared/CT, B = visible/MRI) before fusing")
    for name, content in (a, b):
        if not content:
            raise io.ImageError(name, "is empty")
    with tempfile.TemporaryDirectory(prefix="explorer-upload-") as tmp:
        paths = [Path(tmp, side, Path(name).name or "upload") for side, (name, _) in (("a", a), ("b", b))]
        for path, (_, content) in zip(paths, (a, b)):
            path.parent.mkdir()
            path.write_bytes(content)
        try:
            sources = load_sources(*paths)
        except io.ImageError as exc:
            name = a[0] if exc.path == paths[0] else b[0]
            raise io.ImageError(name, exc.problem.replace(str(exc.path), name)) from None
    height, width = sources.a.shape
    if height * width > MAX_UPLOAD_PIXELS:
        raise io.ImageError(a[0], f"is {width}x{height} px; the explorer takes pairs of up to "
                                  f"{MAX_UPLOAD_PIXELS / 1e6:g} megapixels (its cached features need "
                                  f"{2 * 64 * 4} bytes per pixel): downscale both images first")
    digests = "+".join(hashlib.sha1(content).hexdigest()[:12] for _, content in (a, b))
    return Pair(f"upload/{a[0]}+{b[0]}/{digests}", sources, "A", "B")
