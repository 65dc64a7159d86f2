"""The explorer's views as numpy images: state -> fused composite, heat maps, zoom strip, metrics HTML.

:func:`render` maps a :class:`ViewState` to a :class:`View`: the fused image (optionally split
with or blended towards the reference strategy or a source), the two weight maps as heat maps
and a zoomed strip of one region. A colour pair is shown in colour: the fused luminance merged
with the visible image's chroma (:func:`res2netfuse.pipeline.colourise`, as the CLI writes it);
the heat maps and the metrics stay on the gray luminance. The other functions are pure numpy,
gray (``H x W``) or RGB (``H x W x 3``) ``uint8`` in and out; :func:`to_png`/:func:`to_jpeg`
encode a view for display.
"""

from __future__ import annotations

import io as bytes_io
from dataclasses import dataclass
from typing import Any, Literal

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import cm, colors
from matplotlib.figure import Figure
from PIL import Image

from ..metrics import PAPER_METRICS
from ..pipeline import FusionResult, colourise
from .engine import FusionEngine, Settings
from .pairs import Pair

Compare = Literal["none", "reference", "a", "b"]
SplitMode = Literal["split", "blend"]
Box = tuple[int, int, int, int]  # top, left, height, width
HEATMAP = "inferno"
ZOOM_TILE = 192  # px, side of each tile of the zoom strip


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
    """What the page shows: the composite fused view (RGB, zoom box drawn), heat maps, zoom strip.

    ``fused`` is the engine's gray result (the fused luminance for a colour pair);
    ``features_cached`` says whether the encoder was skipped for it.
    """

    fused: FusionResult
    shown: np.ndarray
    heat_a: np.ndarray
    heat_b: np.ndarray
    zoom: np.ndarray
    box: Box
    features_cached: bool


def render(engine: FusionEngine, pair: Pair, state: ViewState) -> View:
    """State -> images: fuse (cached features), compose with the comparison, heat maps, zoom."""
    cached = engine.features_cached(pair)
    current = engine.fuse(pair, state.settings)
    if state.compare == "reference":
        other: np.ndarray | None = colourise(engine.fuse(pair, state.reference).image, pair.sources)
    else:
        other = {"none": None, "a": pair.gray_a, "b": pair.shown_b}[state.compare]
    shown = composite(colourise(current.image, pair.sources), other, state.position, state.mode)
    box = zoom_box(shown.shape, *state.zoom)
    return View(current, outline(shown, box), heatmap(current.weight_a), heatmap(current.weight_b),
                zoom_strip([pair.gray_a, pair.shown_b, shown], box), box, cached)


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An RGB ``H x W x 3`` image: gray is replicated into three channels, RGB returned as is."""
    return image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)


def composite(current: np.ndarray, other: np.ndarray | None, position: float, mode: SplitMode) -> np.ndarray:
    """Split (right ``position`` of the columns from ``other``) or blend ``(1-t) current + t other``.

    A gray and an RGB image are composed in RGB.
    """
    if mode not in ("split", "blend"):
        raise ValueError(f"mode must be 'split' or 'blend', got {mode!r}")
    if not 0 <= position <= 1:
        raise ValueError(f"position must be in [0, 1], got {position}")
    if other is None or position == 0:
        return current
    if current.ndim != other.ndim:
        current, other = as_rgb(current), as_rgb(other)
    if mode == "split":
        out = current.copy()
        cut = int(round((1 - position) * current.shape[1]))
        out[:, cut:] = other[:, cut:]
        return out
    mixed = (1 - position) * current.astype(np.float32) + position * other.astype(np.float32)
    return np.round(mixed).astype(np.uint8)


def zoom_box(shape: tuple[int, ...], cx: float, cy: float, side: int) -> Box:
    """``(top, left, height, width)`` of a ``side`` square centred at fractions ``(cx, cy)``, inside the image."""
    h, w = shape[:2]
    sh, sw = min(side, h), min(side, w)
    top = int(np.clip(round(cy * h - sh / 2), 0, h - sh))
    left = int(np.clip(round(cx * w - sw / 2), 0, w - sw))
    return top, left, sh, sw


def zoom_strip(images: list[np.ndarray], box: Box, tile: int = ZOOM_TILE) -> np.ndarray:
    """The ``box`` region of each image, enlarged (nearest neighbour) to ``tile`` px, side by side.

    RGB as soon as one of the images is.
    """
    if any(im.ndim == 3 for im in images):
        images = [as_rgb(im) for im in images]
    top, left, h, w = box
    scale = tile / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    tiles = [np.asarray(Image.fromarray(im[top:top + h, left:left + w]).resize(size, Image.Resampling.NEAREST))
             for im in images]
    gap = np.full((size[1], 4, *tiles[0].shape[2:]), 255, np.uint8)
    return np.hstack([x for t in tiles for x in (t, gap)][:-1])


def heatmap(weights: np.ndarray, cmap: str = HEATMAP) -> np.ndarray:
    """RGB ``uint8`` heat map of a weight map on the fixed scale ``[0, 1]`` (values outside are clipped)."""
    rgba = matplotlib.colormaps[cmap](np.clip(weights, 0.0, 1.0))
    return np.round(rgba[..., :3] * 255).astype(np.uint8)


def outline(image: np.ndarray, box: Box, colour: tuple[int, int, int] = (0, 255, 255), width: int = 2) -> np.ndarray:
    """RGB copy of a gray or RGB ``image`` with the rectangle ``box`` drawn ``width`` px wide in ``colour``."""
    rgb = as_rgb(image).copy()
    top, left, h, w = box
    for sl in (np.s_[top:top + width, left:left + w], np.s_[top + h - width:top + h, left:left + w],
               np.s_[top:top + h, left:left + width], np.s_[top:top + h, left + w - width:left + w]):
        rgb[sl] = colour
    return rgb


def metrics_html(rows: list[dict[str, Any]], names: tuple[str, ...] = PAPER_METRICS) -> str:
    """HTML table of :func:`~res2netfuse.explorer.engine.metric_rows` output; rows not computed yet show an ellipsis.

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


def to_png(image: np.ndarray) -> bytes:
    """Lossless PNG bytes (fast zlib level 1) of a gray or RGB ``uint8`` image: for views whose pixels are judged."""
    buf = bytes_io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def to_jpeg(image: np.ndarray) -> bytes:
    """JPEG bytes (quality 90) of a gray or RGB ``uint8`` image: for pure visualisations such as the heat
    maps, about 30x faster to encode than PNG at 768 x 576."""
    buf = bytes_io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def colourbar_png(cmap: str = HEATMAP) -> bytes:
    """A labelled horizontal colour bar for the weight heat maps (scale 0-1, dimensionless)."""
    fig = Figure(figsize=(4.0, 0.7), dpi=100)
    ax = fig.add_axes((0.05, 0.55, 0.9, 0.3))
    fig.colorbar(cm.ScalarMappable(colors.Normalize(0, 1), cmap), cax=ax, orientation="horizontal")
    ax.set_xlabel("fusion weight w (dimensionless, 0 to 1)", fontsize=8)
    ax.tick_params(labelsize=7)
    buf = bytes_io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
