"""Interactive fusion-strategy explorer: plain state -> images/metrics functions plus thin ipywidgets wiring.

The logic (everything above :class:`FusionExplorer`) is ordinary Python on numpy arrays, so it is
tested without a browser:

* :class:`FusionEngine` encodes a pair once per (model, pair) -- the encoder features are kept in
  an LRU cache -- so a change of strategy or parameter only re-runs the fusion layer and the
  decoder (``pipeline.encode_pair`` once per pair, then ``pipeline.fuse_encoded``);
  fused results and metric values are cached per (model, pair, strategy, parameters) as well.
* :func:`render` maps a :class:`ViewState` to a :class:`View`: the fused image (optionally split
  with or blended towards the reference strategy or a source), the two weight maps as heat maps
  and a zoomed strip of one region.
* :func:`metrics_table` gives the paper's six metrics for the current and the reference strategy
  and their difference ``delta = current - reference`` (all six are higher-is-better).

:class:`FusionExplorer` wires ipywidgets controls to these functions. Images update synchronously
inside the control's callback (with a busy indicator); metrics are computed afterwards on one
worker thread and shown when ready, so they never delay the images; a newer control change makes
a pending metrics job obsolete.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import html
import io as bytes_io
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import ipywidgets as widgets
import matplotlib
import numpy as np
import pandas as pd
import torch
from matplotlib import cm, colors
from matplotlib.figure import Figure
from PIL import Image

from . import io, report
from .fusion import STRATEGIES, resolve
from .metrics import PAPER_METRICS, evaluate
from .pipeline import DEFAULT_CHECKPOINTS, ModelName, encode_pair, fuse_encoded, load_model

Compare = Literal["none", "reference", "a", "b"]
SplitMode = Literal["split", "blend"]
UPLOAD = "your own pair (upload)"
HEATMAP = "inferno"
ZOOM_TILE = 192  # px, side of each tile of the zoom strip
MAX_UPLOAD_PIXELS = 2_000_000  # per image; 2 x 64 float32 features per pixel = 1 GB of cached features
DISPLAY_FORMAT = {"heat_a": "jpeg", "heat_b": "jpeg"}  # every other view is lossless PNG
BUSY = ("<style>@keyframes explorer-spin{to{transform:rotate(360deg)}}</style><span style='display:inline-block;"
        "width:0.8em;height:0.8em;margin-right:0.4em;border:2px solid #888;border-top-color:transparent;"
        "border-radius:50%;animation:explorer-spin 0.8s linear infinite'></span>")  # busy indicator (CSS spinner)


@dataclass(frozen=True)
class Dataset:
    """Two folders of same-stem source images and what their modalities are called."""

    folder_a: str
    folder_b: str
    label_a: str
    label_b: str


DATASETS: dict[str, Dataset] = {
    "TNO": Dataset("data/fusion/tno/ir", "data/fusion/tno/vi", "IR", "VI"),
    "RoadScene": Dataset("data/fusion/roadscene/ir", "data/fusion/roadscene/vi", "IR", "VI"),
    "MRI-CT": Dataset("data/fusion/mri_ct/ct", "data/fusion/mri_ct/mri", "CT", "MRI"),
}


@dataclass(frozen=True, eq=False)
class Pair:
    """Two registered ``uint8`` gray sources of one size; ``key`` identifies them in the caches."""

    key: str
    a: np.ndarray
    b: np.ndarray
    label_a: str = "IR"
    label_b: str = "VI"


def list_pairs(dataset: str) -> list[str]:
    """File stems of the pairs of ``dataset`` (sorted)."""
    d = _dataset(dataset)
    return [stem for stem, _ in io.paired_files(d.folder_a, d.folder_b)]


def load_pair(dataset: str, stem: str) -> Pair:
    """Load pair ``stem`` of ``dataset`` as gray ``uint8`` (colour visible images -> BT.601 luma)."""
    d = _dataset(dataset)
    files = dict(io.paired_files(d.folder_a, d.folder_b))
    if stem not in files:
        raise ValueError(f"{dataset} has no pair {stem!r}; choose one of {', '.join(sorted(files))}")
    path_a, path_b = files[stem]
    a, b = io.load_gray_uint8(path_a), io.load_gray_uint8(path_b)
    io.check_same_size(a, b, path_a, path_b)
    return Pair(f"{dataset}/{stem}", a, b, d.label_a, d.label_b)


def _dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def decode_upload(name: str, content: bytes) -> np.ndarray:
    """Decode an uploaded file to a gray ``uint8`` image with the rules of :mod:`res2netfuse.io`.

    Raises :class:`~res2netfuse.io.ImageError` naming the uploaded file (not a temporary path).
    """
    if not content:
        raise io.ImageError(name, "is empty")
    with tempfile.TemporaryDirectory(prefix="explorer-upload-") as tmp:
        path = Path(tmp) / (Path(name).name or "upload")
        path.write_bytes(content)
        try:
            return io.load_gray_uint8(path)
        except io.ImageError as exc:
            raise io.ImageError(name, exc.problem.replace(str(path), name)) from None


def upload_pair(a: tuple[str, bytes] | None, b: tuple[str, bytes] | None) -> Pair:
    """A :class:`Pair` from two uploads ``(file name, content)``; both must be images of one size."""
    if a is None or b is None:
        raise ValueError("choose one file for each source (A = infrared/CT, B = visible/MRI) before fusing")
    img_a, img_b = decode_upload(*a), decode_upload(*b)
    io.check_same_size(img_a, img_b, a[0], b[0])
    if img_a.size > MAX_UPLOAD_PIXELS:
        raise io.ImageError(a[0], f"is {img_a.shape[1]}x{img_a.shape[0]} px; the explorer takes pairs of up to "
                                  f"{MAX_UPLOAD_PIXELS / 1e6:g} megapixels (its cached features need "
                                  f"{2 * 64 * 4} bytes per pixel): downscale both images first")
    digest = hashlib.sha1(img_a.tobytes() + img_b.tobytes()).hexdigest()[:12]
    return Pair(f"upload/{a[0]}+{b[0]}/{digest}", img_a, img_b, "A", "B")


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


@dataclass
class Fused:
    """One fused result: ``uint8`` image, weight maps and how it was obtained."""

    image: np.ndarray
    weight_a: np.ndarray
    weight_b: np.ndarray
    seconds: float = 0.0
    features_cached: bool = False


class LRU:
    """A small thread-safe least-recently-used cache ``key -> value``."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

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


class FusionEngine:
    """Encode once per (model, pair), then fuse + decode per strategy; cache every stage.

    ``model_key`` must change whenever the weights do (see :func:`load_explorer_model`). Features
    of a 768 x 576 pair take 2 x 64 x 768 x 576 float32 = 226 MB, hence ``feature_pairs = 2``.
    ``encodes`` counts encoder runs (cache misses).
    """

    def __init__(self, model: torch.nn.Module, model_key: Hashable, mapping: io.Mapping = "minmax",
                 feature_pairs: int = 2, results: int = 32) -> None:
        self.model, self.model_key, self.mapping = model, model_key, mapping
        self._features = LRU(feature_pairs)
        self._fused = LRU(results)
        self._metrics = LRU(results)
        self.encodes = 0

    def features(self, pair: Pair) -> tuple[tuple[torch.Tensor, torch.Tensor], bool]:
        """``((phi_a, phi_b), cached)`` for ``pair``; runs the encoder only on a cache miss."""
        key = (self.model_key, pair.key)
        hit = self._features.get(key)
        if hit is not None:
            return hit, True
        phi = encode_pair(self.model, pair.a.astype(np.float32) / 255.0, pair.b.astype(np.float32) / 255.0)
        self.encodes += 1
        self._features.put(key, phi)
        return phi, False

    def fuse(self, pair: Pair, settings: Settings) -> Fused:
        """Fuse ``pair`` with ``settings``: fusion layer + decoder on cached encoder features."""
        key = (self.model_key, pair.key, settings)
        hit = self._fused.get(key)
        if hit is not None:
            return replace(hit, seconds=0.0, features_cached=True)
        start = time.perf_counter()
        (phi_a, phi_b), cached = self.features(pair)
        out = fuse_encoded(self.model, phi_a, phi_b, settings.strategy, self.mapping, **settings.kwargs)
        result = Fused(out.image, out.weight_a, out.weight_b, time.perf_counter() - start, cached)
        self._fused.put(key, result)
        return result

    def metric(self, pair: Pair, settings: Settings, name: str) -> float:
        """Metric ``name`` of ``evaluate(a, b, fused)`` for ``pair`` fused with ``settings`` (cached)."""
        key = (self.model_key, pair.key, settings, name)
        hit = self._metrics.get(key)
        if hit is None:
            hit = evaluate(pair.a, pair.b, self.fuse(pair, settings).image, metrics=(name,))[name]
            self._metrics.put(key, hit)
        return hit


def load_explorer_model(name: ModelName, checkpoint: str | None = None,
                        device: str = "auto") -> tuple[torch.nn.Module, tuple[str, str, float], str]:
    """``(model, cache key, note)``; a missing or invalid Res2NetFuse checkpoint falls back to DenseFuse.

    The key holds the resolved weight file and its modification time, so a retrained checkpoint
    is never served from stale caches. ``note`` says what was loaded and, after a fallback, why
    and how to get the checkpoint (``dvc repro train``).
    """
    path = checkpoint or DEFAULT_CHECKPOINTS[name]
    note = ""
    if name == "res2netfuse":
        try:
            model = load_model("res2netfuse", path, device)
        except (FileNotFoundError, ValueError) as exc:
            note = (f"Res2NetFuse unavailable: {exc}. Showing DenseFuse instead; make the checkpoint with "
                    f"`dvc repro train` (or `res2netfuse train --out-dir results/train`). ")
            name, path = "densefuse", DEFAULT_CHECKPOINTS["densefuse"]
    if name == "densefuse":
        model = load_model("densefuse", path, device)
    resolved = Path(path).resolve()
    return model, (name, str(resolved), resolved.stat().st_mtime), note + f"Model: {name} ({path})."


@dataclass(frozen=True)
class ViewState:
    """Everything the views depend on besides the pair and the model.

    ``compare`` picks what the fused image is split with / blended towards: the reference
    strategy's result or source ``a``/``b``; ``position`` in ``[0, 1]`` is the share of it
    (split: the right ``position`` of the columns; blend: ``(1 - t) F + t G``).
    ``zoom`` = (centre x, centre y) as fractions of the width/height and the side in pixels.
    """

    settings: Settings
    reference: Settings
    compare: Compare = "none"
    mode: SplitMode = "split"
    position: float = 0.5
    zoom: tuple[float, float, int] = (0.5, 0.5, 96)


@dataclass
class View:
    """What the page shows: the composite fused view (RGB, zoom box drawn), heat maps, zoom strip."""

    fused: Fused
    shown: np.ndarray
    heat_a: np.ndarray
    heat_b: np.ndarray
    zoom: np.ndarray
    box: tuple[int, int, int, int]


def composite(current: np.ndarray, other: np.ndarray | None, position: float, mode: SplitMode) -> np.ndarray:
    """Split (right ``position`` of the columns from ``other``) or blend ``(1-t) current + t other``."""
    if mode not in ("split", "blend"):
        raise ValueError(f"mode must be 'split' or 'blend', got {mode!r}")
    if not 0 <= position <= 1:
        raise ValueError(f"position must be in [0, 1], got {position}")
    if other is None or position == 0:
        return current
    if mode == "split":
        out = current.copy()
        cut = int(round((1 - position) * current.shape[1]))
        out[:, cut:] = other[:, cut:]
        return out
    mixed = (1 - position) * current.astype(np.float32) + position * other.astype(np.float32)
    return np.round(mixed).astype(np.uint8)


def zoom_box(shape: tuple[int, ...], cx: float, cy: float, side: int) -> tuple[int, int, int, int]:
    """``(top, left, height, width)`` of a ``side`` square centred at fractions ``(cx, cy)``, inside the image."""
    h, w = shape[:2]
    sh, sw = min(side, h), min(side, w)
    top = int(np.clip(round(cy * h - sh / 2), 0, h - sh))
    left = int(np.clip(round(cx * w - sw / 2), 0, w - sw))
    return top, left, sh, sw


def zoom_strip(images: list[np.ndarray], box: tuple[int, int, int, int], tile: int = ZOOM_TILE) -> np.ndarray:
    """The ``box`` region of each gray image, enlarged (nearest neighbour) to ``tile`` px and put side by side."""
    top, left, h, w = box
    scale = tile / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    tiles = [np.asarray(Image.fromarray(im[top:top + h, left:left + w]).resize(size, Image.Resampling.NEAREST))
             for im in images]
    gap = np.full((size[1], 4), 255, np.uint8)
    return np.hstack([x for t in tiles for x in (t, gap)][:-1])


def heatmap(weights: np.ndarray, cmap: str = HEATMAP) -> np.ndarray:
    """RGB ``uint8`` heat map of a weight map on the fixed scale ``[0, 1]`` (values outside are clipped)."""
    rgba = matplotlib.colormaps[cmap](np.clip(weights, 0.0, 1.0))
    return np.round(rgba[..., :3] * 255).astype(np.uint8)


def outline(gray: np.ndarray, box: tuple[int, int, int, int], colour: tuple[int, int, int] = (0, 255, 255),
            width: int = 2) -> np.ndarray:
    """RGB copy of ``gray`` with the rectangle ``box`` drawn ``width`` px wide in ``colour``."""
    rgb = np.repeat(gray[..., None], 3, axis=2)
    top, left, h, w = box
    for sl in (np.s_[top:top + width, left:left + w], np.s_[top + h - width:top + h, left:left + w],
               np.s_[top:top + h, left:left + width], np.s_[top:top + h, left + w - width:left + w]):
        rgb[sl] = colour
    return rgb


def render(engine: FusionEngine, pair: Pair, state: ViewState) -> View:
    """State -> images: fuse (cached features), compose with the comparison, heat maps, zoom."""
    current = engine.fuse(pair, state.settings)
    if state.compare == "reference":
        other: np.ndarray | None = engine.fuse(pair, state.reference).image
    else:
        other = {"none": None, "a": pair.a, "b": pair.b}[state.compare]
    shown = composite(current.image, other, state.position, state.mode)
    box = zoom_box(shown.shape, *state.zoom)
    return View(current, outline(shown, box), heatmap(current.weight_a), heatmap(current.weight_b),
                zoom_strip([pair.a, pair.b, shown], box), box)


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


def metrics_html(rows: list[dict[str, Any]], names: tuple[str, ...] = PAPER_METRICS) -> str:
    """HTML table of :func:`metric_rows` output; metrics not computed yet show an ellipsis.

    A positive delta (current better than the reference: all six paper metrics are
    higher-is-better) is green, a negative one red.
    """
    df = pd.DataFrame(rows + [{"metric": m} for m in names[len(rows):]],
                      columns=["metric", "current", "reference", "delta"])

    def delta(v: float) -> str:
        if pd.isna(v):
            return "&hellip;"
        colour = "#1b5e20" if v > 0 else "#b00020" if v < 0 else "inherit"
        return f"<span style='color:{colour}'>{v:+.4f}</span>"

    style = "<style>.explorer-metrics td, .explorer-metrics th {text-align: right; padding: 1px 10px}</style>"
    return style + df.to_html(index=False, border=0, na_rep="&hellip;", escape=False, formatters={"delta": delta},
                              float_format=lambda v: f"{v:.4f}")


def encode(image: np.ndarray, fmt: str = "png") -> bytes:
    """Display bytes of a gray or RGB ``uint8`` image: lossless PNG (fast zlib level 1) or JPEG (quality 90).

    Images whose pixels are judged (sources, fused, zoom) are PNG; the heat maps, pure
    visualisations, are JPEG, which encodes about 30x faster at 768 x 576.
    """
    buf = bytes_io.BytesIO()
    if fmt == "png":
        Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    elif fmt == "jpeg":
        Image.fromarray(image).save(buf, format="JPEG", quality=90)
    else:
        raise ValueError(f"unknown display format {fmt!r}; expected 'png' or 'jpeg'")
    return buf.getvalue()


def colourbar_png(cmap: str = HEATMAP) -> bytes:
    """A labelled horizontal colour bar for the weight heat maps (scale 0-1, dimensionless)."""
    fig = Figure(figsize=(4.0, 0.7), dpi=100)
    ax = fig.add_axes((0.05, 0.55, 0.9, 0.3))
    fig.colorbar(cm.ScalarMappable(colors.Normalize(0, 1), cmap), cax=ax,
                 orientation="horizontal")
    ax.set_xlabel("fusion weight w (dimensionless, 0 to 1)", fontsize=8)
    ax.tick_params(labelsize=7)
    buf = bytes_io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# Widget wiring: controls -> ViewState -> render() / metrics_table() -> image and HTML widgets.
# ----------------------------------------------------------------------------------------------


def parameter_widget(name: str, default: Any) -> widgets.ValueWidget:
    """A control for one strategy parameter, chosen by the type of its default value."""
    common: dict[str, Any] = {"description": name, "continuous_update": False,
                              "style": {"description_width": "initial"}}
    if isinstance(default, bool):
        return widgets.Checkbox(value=default, description=name)
    if isinstance(default, int):
        return widgets.IntSlider(value=default, min=0, max=max(8, 4 * default), **common)
    if isinstance(default, float) and default > 0:
        exp = float(np.log10(default))
        return widgets.FloatLogSlider(value=default, base=10, min=exp - 2, max=exp + 2, step=0.05,
                                      readout_format=".3g", **common)
    if isinstance(default, float):
        return widgets.FloatText(value=default, description=name)
    return widgets.Text(value=str(default), **common)


@dataclass
class _Controls:
    dataset: widgets.Dropdown
    pair: widgets.Dropdown
    model: widgets.Dropdown
    checkpoint: widgets.Text
    strategy: widgets.Dropdown
    params: widgets.VBox
    reference: widgets.Dropdown
    compare: widgets.Dropdown
    mode: widgets.ToggleButtons
    position: widgets.FloatSlider
    zoom_x: widgets.FloatSlider
    zoom_y: widgets.FloatSlider
    zoom_side: widgets.IntSlider
    upload_a: widgets.FileUpload
    upload_b: widgets.FileUpload
    upload_go: widgets.Button
    param_widgets: dict[str, widgets.ValueWidget] = field(default_factory=dict)


class FusionExplorer:
    """The explorer UI (``.ui``); every control change re-renders through the cached engine.

    ``last_view``, ``last_latency`` (seconds from control change to updated image widgets) and
    ``wait_metrics()`` make it scriptable from a notebook or a test.
    """

    def __init__(self, dataset: str = "TNO", pair: str | None = None, model: ModelName = "res2netfuse",
                 checkpoint: str = DEFAULT_CHECKPOINTS["res2netfuse"], strategy: str = "l1",
                 reference: str = "addition", device: str = "auto") -> None:
        self.device = device
        self._engines: dict[Hashable, FusionEngine] = {}  # per model key: features stay cached across switches
        self._generation = 0  # bumped by every update; a metrics job of an older one is obsolete
        self._lock = threading.Lock()  # makes "is this job current? then show its table" atomic
        self._suspended = False
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="explorer-metrics", initializer=_background_priority)
        self._metrics_future: concurrent.futures.Future[pd.DataFrame | None] | None = None
        self.last_view: View | None = None
        self.last_latency = float("nan")
        self._shown_pair: str | None = None
        self._build(dataset, model, checkpoint, strategy, reference)
        self._pair = load_pair(dataset, pair if pair is not None else self.c.pair.value)
        with self._suspend():
            self.c.pair.value = self._pair.key.split("/", 1)[1]
        self._load_model()
        self.update()

    # ---- layout --------------------------------------------------------------------------
    def _build(self, dataset: str, model: str, checkpoint: str, strategy: str, reference: str) -> None:
        names = list(STRATEGIES)
        wide = {"style": {"description_width": "90px"}, "layout": widgets.Layout(width="320px")}
        self.c = _Controls(
            dataset=widgets.Dropdown(options=[*DATASETS, UPLOAD], value=dataset, description="dataset", **wide),
            pair=widgets.Dropdown(options=list_pairs(dataset), description="pair", **wide),
            model=widgets.Dropdown(options=[("Res2NetFuse", "res2netfuse"), ("DenseFuse", "densefuse")],
                                   value=model, description="model", **wide),
            checkpoint=widgets.Text(value=checkpoint, description="checkpoint", continuous_update=False, **wide),
            strategy=widgets.Dropdown(options=names, value=strategy, description="strategy", **wide),
            params=widgets.VBox(),
            reference=widgets.Dropdown(options=names, value=reference, description="reference", **wide),
            compare=widgets.Dropdown(options=[("nothing", "none"), ("reference strategy", "reference"),
                                              ("source A", "a"), ("source B", "b")],
                                     value="none", description="compare with", **wide),
            mode=widgets.ToggleButtons(options=["split", "blend"], value="split", style={"button_width": "70px"}),
            position=widgets.FloatSlider(value=0.5, min=0, max=1, step=0.01, description="share",
                                         continuous_update=False, **wide),
            zoom_x=widgets.FloatSlider(value=0.5, min=0, max=1, step=0.01, description="zoom x",
                                       continuous_update=False, **wide),
            zoom_y=widgets.FloatSlider(value=0.5, min=0, max=1, step=0.01, description="zoom y",
                                       continuous_update=False, **wide),
            zoom_side=widgets.IntSlider(value=96, min=16, max=256, step=8, description="zoom side px",
                                        continuous_update=False, **wide),
            upload_a=widgets.FileUpload(accept="image/*", multiple=False, description="source A"),
            upload_b=widgets.FileUpload(accept="image/*", multiple=False, description="source B"),
            upload_go=widgets.Button(description="fuse uploaded pair", icon="upload"),
        )
        self.c.checkpoint.disabled = model != "res2netfuse"
        self._strategy_params(strategy)
        self.status = widgets.HTML()
        self.status.add_class("explorer-status")
        self.model_note = widgets.HTML()
        self.upload_msg = widgets.HTML()
        self.upload_msg.add_class("explorer-upload-msg")
        self.description = widgets.HTML()
        self.table = widgets.HTML("<i>metrics pending</i>")
        self.table.add_class("explorer-metrics")
        self.images = {k: widgets.Image(format=DISPLAY_FORMAT.get(k, "png"), layout=widgets.Layout(width="100%"))
                       for k in ("a", "b", "fused", "heat_a", "heat_b", "zoom")}
        self.captions = {k: widgets.HTML() for k in self.images}
        for k, im in self.images.items():
            im.add_class(f"explorer-{k.replace('_', '-')}")
        self.c.strategy.add_class("explorer-strategy")
        bar = widgets.Image(value=colourbar_png(), format="png", layout=widgets.Layout(width="320px"))

        def view(k: str) -> widgets.VBox:
            return widgets.VBox([self.captions[k], self.images[k]],
                                layout=widgets.Layout(width="100%", min_width="0", overflow="hidden"))

        grid = widgets.GridBox([view(k) for k in self.images],
                               layout=widgets.Layout(grid_template_columns="repeat(3, 1fr)", grid_gap="6px",
                                                     width="100%"))
        c = self.c
        controls = widgets.VBox([
            widgets.HTML("<b>Source pair</b>"), c.dataset, c.pair,
            widgets.HTML("<small>or upload your own registered pair:</small>"),
            widgets.HBox([c.upload_a, c.upload_b]), c.upload_go, self.upload_msg,
            widgets.HTML("<b>Model</b>"), c.model, c.checkpoint, self.model_note,
            widgets.HTML("<b>Fusion strategy</b>"), c.strategy, self.description, c.params, c.reference,
            widgets.HTML("<b>Compare</b>"), c.compare, c.mode, c.position,
            widgets.HTML("<b>Zoom region</b>"), c.zoom_x, c.zoom_y, c.zoom_side,
        ], layout=widgets.Layout(width="340px", min_width="340px"))
        right = widgets.VBox([self.status, grid, bar, widgets.HTML("<b>Paper metrics</b> (higher is better; "
                              "delta = current - reference)"), self.table], layout=widgets.Layout(flex="1"))
        self.ui = widgets.HBox([controls, right], layout=widgets.Layout(width="100%"))

        c.dataset.observe(self._on_dataset, "value")
        c.pair.observe(self._on_pair, "value")
        c.model.observe(self._on_model, "value")
        c.checkpoint.observe(self._on_model, "value")
        c.strategy.observe(self._on_strategy, "value")
        for w in (c.reference, c.compare, c.mode, c.position, c.zoom_x, c.zoom_y, c.zoom_side):
            w.observe(self._on_view, "value")
        c.upload_go.on_click(self._on_upload)

    def _strategy_params(self, name: str) -> None:
        self.c.param_widgets = {k: parameter_widget(k, v) for k, v in STRATEGIES[name].defaults.items()}
        for w in self.c.param_widgets.values():
            w.observe(self._on_view, "value")
        self.c.params.children = list(self.c.param_widgets.values())

    @contextmanager
    def _suspend(self) -> Iterator[None]:
        """Apply several control changes without re-rendering after each."""
        self._suspended, before = True, self._suspended
        try:
            yield
        finally:
            self._suspended = before

    # ---- callbacks -------------------------------------------------------------------------
    def _on_dataset(self, change: dict[str, Any]) -> None:
        if self._suspended:
            return
        if change["new"] == UPLOAD:
            self.upload_msg.value = "Choose a file for source A and for source B, then press 'fuse uploaded pair'."
            return
        with self._suspend():
            self.c.pair.options = list_pairs(change["new"])
        self._set_pair(lambda: load_pair(change["new"], self.c.pair.value))

    def _on_pair(self, change: dict[str, Any]) -> None:
        if not self._suspended and change["new"] is not None and self.c.dataset.value != UPLOAD:
            self._set_pair(lambda: load_pair(self.c.dataset.value, change["new"]))

    def _on_model(self, _: dict[str, Any]) -> None:
        self.c.checkpoint.disabled = self.c.model.value != "res2netfuse"
        if not self._suspended and self._guard(self._load_model):
            self.update()

    def _on_strategy(self, change: dict[str, Any]) -> None:
        if self._suspended:
            return
        with self._suspend():
            self._strategy_params(change["new"])
        self.update()

    def _on_view(self, _: dict[str, Any]) -> None:
        if not self._suspended:
            self.update()

    def _on_upload(self, _: Any) -> None:
        files = [(f["name"], bytes(f["content"])) if (f := next(iter(u.value), None)) else None
                 for u in (self.c.upload_a, self.c.upload_b)]
        try:
            pair = upload_pair(*files)
        except ValueError as exc:  # ImageError is a ValueError
            self.upload_msg.value = f"<span style='color:#b00020'>Upload not used: {html.escape(str(exc))}</span>"
            return
        names = " + ".join(html.escape(f[0]) for f in files if f)
        self.upload_msg.value = f"<span style='color:#1b5e20'>Using {names}.</span>"
        with self._suspend():
            self.c.dataset.value = UPLOAD
        self._pair = pair
        self.update()

    def _set_pair(self, load: Callable[[], Pair]) -> None:
        if self._guard(lambda: setattr(self, "_pair", load())):
            self.update()

    def _guard(self, action: Callable[[], None]) -> bool:
        """Run ``action``; show a ValueError/FileNotFoundError in the status line instead of raising."""
        try:
            action()
            return True
        except (ValueError, FileNotFoundError) as exc:
            self.status.value = f"<span style='color:#b00020'>{html.escape(str(exc))}</span>"
            return False

    def _load_model(self) -> None:
        """(Re)load the chosen weights (cheap) and reuse the engine, with its caches, of identical weights."""
        name = self.c.model.value
        model, model_key, note = load_explorer_model(name, self.c.checkpoint.value if name == "res2netfuse" else None,
                                                     self.device)
        self.engine = self._engines.setdefault(model_key, FusionEngine(model, model_key))
        colour = "inherit" if model_key[0] == name else "#b26a00"  # fallback to DenseFuse: warn
        self.model_note.value = f"<small style='color:{colour}'>{html.escape(note)}</small>"

    # ---- rendering ------------------------------------------------------------------------
    def state(self) -> ViewState:
        """The current controls as a :class:`ViewState` (raises ValueError for invalid parameters)."""
        c = self.c
        return ViewState(Settings.of(c.strategy.value, **{k: w.value for k, w in c.param_widgets.items()}),
                         Settings.of(c.reference.value), c.compare.value, c.mode.value, c.position.value,
                         (c.zoom_x.value, c.zoom_y.value, c.zoom_side.value))

    def update(self) -> None:
        """Re-render the images now (busy indicator meanwhile), then schedule the metrics table."""
        start = time.perf_counter()
        with self._lock:
            self._generation += 1
            self.table.value = f"{BUSY}<i>metrics pending&hellip;</i>"
        self.status.value = f"{BUSY}<span class='explorer-busy'>computing the fused image&hellip;</span>"
        try:
            state = self.state()
            view = render(self.engine, self._pair, state)
        except (ValueError, FileNotFoundError) as exc:
            self.status.value = f"<span style='color:#b00020'>{html.escape(str(exc))}</span>"
            self.table.value = "<i>no metrics until the error above is fixed</i>"
            self._metrics_future = None
            return
        self._show(view, state)
        self.last_view, self.last_latency = view, time.perf_counter() - start
        source = "encoder features cached" if view.fused.features_cached else "encoder run for this pair"
        self.status.value = (f"<span class='explorer-done'>&#10003; {html.escape(state.settings.label)} on "
                             f"{html.escape(self._pair.key)}: updated in {self.last_latency:.2f} s ({source})</span>")
        self._metrics_future = self._executor.submit(self._metrics_job, self._generation, self.engine, self._pair,
                                                     state)

    def _show(self, view: View, state: ViewState) -> None:
        p, im, cap = self._pair, self.images, self.captions
        for k, source, label in (("a", p.a, p.label_a), ("b", p.b, p.label_b)):
            if self._shown_pair != p.key:
                im[k].value = encode(source)
            cap[k].value = f"<b>{label}</b> (source {k.upper()}), {source.shape[1]}x{source.shape[0]} px"
        other = {"none": "", "reference": f"reference {state.reference.label}", "a": p.label_a, "b": p.label_b}
        mix = f" | {state.mode} with {other[state.compare]} ({state.position:.0%})" if state.compare != "none" else ""
        cap["fused"].value = (f"<b>fused: {html.escape(state.settings.label)}</b>{html.escape(mix)}; "
                              "cyan box = zoom region")
        im["fused"].value = encode(view.shown)
        cap["heat_a"].value = f"<b>weight w_{p.label_a}</b> (heat map, 0-1)"
        cap["heat_b"].value = f"<b>weight w_{p.label_b}</b> (heat map, 0-1)"
        im["heat_a"].value, im["heat_b"].value = encode(view.heat_a, "jpeg"), encode(view.heat_b, "jpeg")
        top, left, h, w = view.box
        cap["zoom"].value = f"<b>zoom</b> {p.label_a} | {p.label_b} | fused, {w}x{h} px at x={left}, y={top}"
        im["zoom"].value = encode(view.zoom)
        self._shown_pair = p.key
        about = STRATEGIES[state.settings.strategy].description.replace("``", "")
        self.description.value = f"<small>{html.escape(about)}</small>"

    def _metrics_job(self, generation: int, engine: FusionEngine, pair: Pair, state: ViewState) -> pd.DataFrame | None:
        """Worker thread: fill the table metric by metric; stop as soon as a newer change arrived."""
        caption = (f"<small>{html.escape(pair.key)}; current = {html.escape(state.settings.label)}, "
                   f"reference = {html.escape(state.reference.label)}</small>")
        rows: list[dict[str, Any]] = []
        pending = metric_rows(engine, pair, state.settings, state.reference)
        try:
            while generation == self._generation and (row := next(pending, None)) is not None:
                rows.append(row)
                self._publish(generation, caption + metrics_html(rows))
        except (ValueError, FileNotFoundError) as exc:
            self._publish(generation, f"<span style='color:#b00020'>metrics failed: {html.escape(str(exc))}</span>")
            return None
        return pd.DataFrame(rows) if len(rows) == len(PAPER_METRICS) else None

    def _publish(self, generation: int, table: str) -> None:
        """Show ``table`` unless a newer update has started (atomically with :meth:`update`'s reset)."""
        with self._lock:
            if generation == self._generation:
                self.table.value = table

    def wait_metrics(self, timeout: float = 300.0) -> pd.DataFrame | None:
        """Block until the metrics of the latest update are shown; their table (None if superseded)."""
        return self._metrics_future.result(timeout) if self._metrics_future else None

    def snapshot(self, out_dir: str) -> list[Path]:
        """Write the current fused image (``fused.png``) and metrics table (``metrics.csv``/``.md``)."""
        if self.last_view is None:
            raise ValueError("nothing rendered yet: the explorer has no valid state")
        state, df = self.state(), self.wait_metrics()
        if df is None:
            raise ValueError("the metrics were superseded by a newer change; call snapshot again")
        caption = (f"Paper metrics of {state.settings.label} vs the reference {state.reference.label} on "
                   f"{self._pair.key} ({self.engine.model_key[0]}); delta = current - reference, "
                   f"higher is better for all six. Image update latency {self.last_latency:.2f} s.")
        paths = list(report.save_table(df, out_dir, "metrics", caption))
        return [io.save_image(Path(out_dir) / "fused.png", self.last_view.fused.image), *paths]



def _background_priority() -> None:
    """Give the calling (metrics) thread the lowest CPU priority, so image updates win the cores.

    On Linux ``setpriority`` on a thread id changes only that thread (and the threads it starts);
    elsewhere this is a no-op.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass
