"""Fused images on disk scored the pipeline's way: a pair set's folders with ``params.yaml: scores``, and means.

The published methods' outputs (``peer_scores`` stage) and this project's runs (``metrics`` stage) are
scored by the same call, so both get the same pairs, metrics and convention. Only the data registry and
the metrics are needed: a change to the networks or the training never rescores published outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .datasets import PairSet
from .io import PathLike
from .metrics import ALL_METRICS, evaluate_folders


def score_folders(pairs: PairSet, folders: Mapping[str, PathLike], scores: Mapping[str, Any],
                  metrics: Sequence[str] = ALL_METRICS, max_pairs: int = 0) -> pd.DataFrame:
    """Fused images of ``pairs`` (method -> folder of ``<stem>.png``) scored with ``params.yaml: scores``
    (``convention``; ``jobs`` processes, 0 = all cores) on its first ``max_pairs`` pairs (0: all):
    :func:`res2netfuse.metrics.evaluate_folders`'s tidy table (``method, image, <metrics>``)."""
    stems = [s for s, _ in pairs.pairs()][:max_pairs or None]
    return evaluate_folders(*pairs.folders(), dict(folders), metrics, images=stems, jobs=scores["jobs"] or None,
                            convention=scores["convention"])


def means(scores: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    """Per-method means of ``metrics`` over the images of a tidy score table (methods in order of appearance)."""
    return scores.groupby("method", sort=False)[list(metrics)].mean()
