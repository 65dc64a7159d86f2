"""The explorer's cached fusion engine: encode once per (model, pair), fuse + decode per strategy.

A strategy or parameter change re-runs only the fusion layer and the decoder on cached encoder
features (:func:`res2netfuse.pipeline.encode_pair` once per pair, then
:func:`res2netfuse.pipeline.fuse_encoded`); fused results (:class:`~res2netfuse.pipeline.FusionResult`)
and metric values are cached per (model, pair, strategy, parameters) as well. All caches are
thread-safe LRUs: the page's metrics thread shares the engine with the image updates.

The metrics are the paper's six (``PAPER_METRICS``, all higher-is-better), computed on the gray
sources and the fused luminance (for a colour pair: the visible image's luminance), as the
metrics require 2-D gray images.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from .. import io
from ..fusion import resolve
from ..metrics import PAPER_METRICS, evaluate
from ..pipeline import FusionResult, ModelName, encode_pair, fuse_encoded, load_model
from ..weights import default_weights
from .pairs import Pair


class LRU:
    """A small thread-safe least-recently-used cache ``key -> value``."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class Settings:
    """A strategy with its complete, validated parameter set (hashable, so it keys the caches)."""

    strategy: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, strategy: str, **params: Any) -> Settings:
        """Validate ``params`` with :func:`res2netfuse.fusion.resolve` and fill in the defaults."""
        _, full = resolve(strategy, **params)
        return cls(strategy, tuple(sorted(full.items())))

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)

    @property
    def label(self) -> str:
        inner = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.params)
        return f"{self.strategy} ({inner})" if inner else self.strategy


class FusionEngine:
    """Encode once per (model, pair), then fuse + decode per strategy; cache every stage.

    ``model_key`` must change whenever the weights do (see :func:`load_explorer_model`). Features
    of a 768 x 576 pair take 2 x 64 x 768 x 576 float32 = 226 MB, hence ``feature_pairs = 2``.
    ``encodes`` and ``decodes`` count encoder and fusion + decoder runs (cache misses).
    """

    def __init__(self, model: torch.nn.Module, model_key: Hashable, mapping: io.Mapping = "minmax",
                 feature_pairs: int = 2, results: int = 32) -> None:
        self.model, self.model_key, self.mapping = model, model_key, mapping
        self._features = LRU(feature_pairs)
        self._fused = LRU(results)
        self._metrics = LRU(results)
        self.encodes = self.decodes = 0

    def features_cached(self, pair: Pair) -> bool:
        """Whether the encoder features of ``pair`` are in the cache (the next fusion skips the encoder)."""
        return (self.model_key, pair.key) in self._features

    def features(self, pair: Pair) -> tuple[torch.Tensor, torch.Tensor]:
        """``(phi_a, phi_b)`` of ``pair``; runs the encoder only on a cache miss."""
        key = (self.model_key, pair.key)
        phi = self._features.get(key)
        if phi is None:
            phi = encode_pair(self.model, pair.sources.a, pair.sources.b)
            self.encodes += 1
            self._features.put(key, phi)
        return phi

    def fuse(self, pair: Pair, settings: Settings) -> FusionResult:
        """Fuse ``pair`` with ``settings``: fusion layer + decoder on the cached encoder features."""
        key = (self.model_key, pair.key, settings)
        result = self._fused.get(key)
        if result is None:
            result = fuse_encoded(self.model, *self.features(pair), settings.strategy, self.mapping,
                                  **settings.kwargs)
            self.decodes += 1
            self._fused.put(key, result)
        return result

    def metric(self, pair: Pair, settings: Settings, name: str) -> float:
        """Metric ``name`` of the gray sources and the fused luminance of ``pair`` with ``settings`` (cached)."""
        key = (self.model_key, pair.key, settings, name)
        value = self._metrics.get(key)
        if value is None:
            value = evaluate(pair.gray_a, pair.gray_b, self.fuse(pair, settings).image, metrics=(name,))[name]
            self._metrics.put(key, value)
        return value


def metric_rows(engine: FusionEngine, pair: Pair, settings: Settings, reference: Settings,
                names: tuple[str, ...] = PAPER_METRICS) -> Iterator[dict[str, Any]]:
    """One row per metric: its value for the current and the reference strategy, ``delta = current - reference``."""
    for name in names:
        cur, ref = engine.metric(pair, settings, name), engine.metric(pair, reference, name)
        yield {"metric": name, "current": cur, "reference": ref, "delta": cur - ref}


def metrics_table(engine: FusionEngine, pair: Pair, settings: Settings, reference: Settings,
                  names: tuple[str, ...] = PAPER_METRICS) -> pd.DataFrame:
    """:func:`metric_rows` as a table (columns metric, current, reference, delta)."""
    return pd.DataFrame(list(metric_rows(engine, pair, settings, reference, names)),
                        columns=["metric", "current", "reference", "delta"])


def load_explorer_model(name: ModelName, checkpoint: str | None = None,
                        device: str = "auto") -> tuple[torch.nn.Module, tuple[str, str, float], str]:
    """``(model, cache key, note)``; a missing or invalid Res2NetFuse checkpoint falls back to the model
    shipped with the package (trained on the paper's image).

    The key holds the resolved weight file and its modification time, so a retrained checkpoint
    is never served from stale caches. ``note`` says what was loaded and, after a fallback, why
    and how to make the checkpoint (``dvc repro train``).
    """
    path = checkpoint or str(default_weights(name))
    note = ""
    try:
        model = load_model(name, path, device)
    except (FileNotFoundError, ValueError) as exc:
        if name != "res2netfuse" or path == str(default_weights(name)):
            raise
        path = str(default_weights(name))
        note = (f"{exc}. Showing the Res2NetFuse_1 model shipped with the package instead (trained on the "
                "paper's image); make your own with `dvc repro train`. ")
        model = load_model(name, path, device)
    resolved = Path(path).resolve()
    return model, (name, str(resolved), resolved.stat().st_mtime), note + f"Model: {name} ({path})."
