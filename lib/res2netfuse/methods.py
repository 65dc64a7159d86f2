"""The fusion methods this artifact runs itself: name -> (model, strategy), the paper row of each, and running them.

A method's name is its folder under ``results/fusion/<data set>/`` and its row in the tables.
Strategy parameters are not part of a method: they come from ``params.yaml: strategies`` (one
entry per strategy, named as :mod:`res2netfuse.fusion` names them), so that every method using
a strategy uses the same parameters. Published methods (peers) are folders of images, see
:attr:`res2netfuse.datasets.PairSet.peers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import io, pipeline
from .datasets import PairSet
from .io import PathLike
from .pipeline import FusionModel, ModelName
from .progress import bar
from .reconstruction import psnr


@dataclass(frozen=True)
class Method:
    """A model + fusion strategy run here; ``paper`` = (method, strategy) of the paper's row for it."""

    name: str
    model: ModelName
    strategy: str
    label: str
    paper: tuple[str, str] | None = None

    def params(self, strategies: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """This method's strategy parameters from the ``strategies`` section of ``params.yaml``."""
        return dict(strategies.get(self.strategy) or {})


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("Res2NetFuse_l1", "res2netfuse", "l1", "Res2NetFuse_1 (l1-norm)", ("Res2NetFuse_1", "l1")),
    Method("Res2NetFuse_mean", "res2netfuse", "mean", "Res2NetFuse_1 (mean)", ("Res2NetFuse_1", "mean")),
    Method("DenseFuseRun_l1", "densefuse", "l1", "DenseFuse run here (l1-norm)"),
    Method("DenseFuseRun_mean", "densefuse", "mean", "DenseFuse run here (mean)"),
    Method("DenseFuseRun_addition", "densefuse", "addition", "DenseFuse run here (addition)", ("DenseFuse", "")),
)}


def fuse_pair_set(models: Mapping[ModelName, FusionModel], pairs: PairSet, strategies: Mapping[str, dict[str, Any]],
                  mapping: io.Mapping, out_dir: PathLike, max_pairs: int = 0,
                  keep_raw: str | None = None) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Fuse every pair of ``pairs`` with every method of :data:`METHODS` into ``out_dir/<method>/<stem>.png``.

    Each pair is encoded once per model (both sources in one batch) and the model's strategies share the
    features. Returns the mean infrared weight ``mean_w_A`` per (pair, method) and, for method ``keep_raw``,
    the float decoder output of every pair (``{stem: raw}``, for checks against published files).
    """
    rows, raw = [], {}
    for stem, (path_a, path_b) in bar(pairs.pairs()[:max_pairs or None], desc=f"fusing {pairs.name}", unit="pair"):
        sources = pipeline.load_sources(path_a, path_b)
        features = {name: pipeline.encode_pair(model, sources.a, sources.b) for name, model in models.items()}
        for method in METHODS.values():
            result = pipeline.fuse_encoded(models[method.model], *features[method.model], method.strategy, mapping,
                                           **method.params(dict(strategies)))
            pipeline.save_fused(Path(out_dir) / method.name / f"{stem}.png", result.image, sources)
            rows.append({"dataset": pairs.name, "pair": stem, "method": method.name,
                         "mean_w_A": float(result.weight_a.mean())})
            if method.name == keep_raw:
                raw[stem] = result.raw
        del features
    return pd.DataFrame(rows), raw


def compare_with_published(published: PathLike, ours: Mapping[str, PathLike], raw: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Per pair stem of ``raw``: PSNR (peak 255) and the largest pixel difference between each of ``ours``
    (label -> folder of ``<stem>.png``) and the published file ``published/<stem>.png``, and the PSNR of the
    float output ``raw[stem]`` stretched to [0, 255] and *rounded* (as ``scipy.misc.imsave``'s ``bytescale``
    did) instead of truncated."""
    rows = []
    for stem, output in sorted(raw.items()):
        reference = io.load_gray_uint8(Path(published) / f"{stem}.png")
        row: dict[str, Any] = {"pair": stem}
        for label, folder in ours.items():
            image = io.load_gray_uint8(Path(folder) / f"{stem}.png")
            row[f"PSNR {label} [dB]"] = psnr(reference, image, data_range=255.0)
            row[f"max |diff| {label}"] = int(np.abs(image.astype(int) - reference.astype(int)).max())
        lo, hi = output.min(), output.max()
        rounded = np.round((output - lo) / (hi - lo) * 255).astype(np.uint8)
        row[f"PSNR {next(iter(ours))}, min-max rounded [dB]"] = psnr(reference, rounded, data_range=255.0)
        rows.append(row)
    return pd.DataFrame(rows)
