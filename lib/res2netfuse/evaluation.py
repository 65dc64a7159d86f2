"""Score one trained auto-encoder the way the paper does: fusion on its test pairs, reconstruction on its images.

Used by the claims study for every training run (single image, other seeds, many images), so that
every model is measured by exactly the same code:

* :func:`fusion_scores` -- fuse each pair of a :class:`~res2netfuse.datasets.PairSet` with each
  strategy (one encode per pair, shared by the strategies; ``pipeline.fuse_encoded``) and score the
  8-bit result with :func:`res2netfuse.metrics.evaluate` (the paper's six metrics by default);
* :func:`reconstruction_scores` -- Table III's MSE, SSIM and PSNR of the mapped 8-bit
  reconstruction of each image (``reconstruction.reconstruct`` / ``scores``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import io, pipeline
from .datasets import PairSet
from .metrics import PAPER_METRICS, evaluate
from .progress import bar
from .reconstruction import mapped, reconstruct, scores


def fusion_scores(model: torch.nn.Module, pairs: PairSet, strategies: Mapping[str, Mapping[str, Any]],
                  mapping: io.Mapping = "minmax", metrics: Sequence[str] = PAPER_METRICS, max_pairs: int = 0,
                  desc: str = "fusion scores", **evaluate_options: Any) -> pd.DataFrame:
    """One row per (strategy, pair): ``strategy, image`` and the metric values of the fused image.

    ``strategies`` maps strategy name -> its parameters (``params.yaml: strategies``). Colour
    visible images are scored on their luminance, as the metrics require gray images.
    """
    rows = []
    for stem, (path_a, path_b) in bar(pairs.pairs()[:max_pairs or None], desc=desc, unit="pair"):
        sources = pipeline.load_sources(path_a, path_b)
        phi = pipeline.encode_pair(model, sources.a, sources.b)
        a, b = (np.round(x * 255.0).astype(np.uint8) for x in (sources.a, sources.b))
        for name, params in strategies.items():
            fused = pipeline.fuse_encoded(model, *phi, name, mapping, **params).image
            rows.append({"strategy": name, "image": stem, **evaluate(a, b, fused, metrics, **evaluate_options)})
        del phi
    return pd.DataFrame(rows, columns=["strategy", "image", *metrics])


def reconstruction_scores(model: torch.nn.Module, images: Mapping[str, io.PathLike], mapping: io.Mapping = "minmax",
                          jpeg_quality: int | None = None) -> pd.DataFrame:
    """One row per image: ``image, MSE, SSIM, PSNR`` of the ``mapping``-mapped reconstruction (Table III)."""
    device = pipeline.model_device(model)
    rows = []
    for name, path in images.items():
        original = io.load_gray(path)
        output = reconstruct(model, original, device).output
        rows.append({"image": name, **scores(original, mapped(output, mapping, jpeg_quality))})
    return pd.DataFrame(rows, columns=["image", "MSE", "SSIM", "PSNR"])

