"""One fusion pipeline for any encoder/decoder (Res2NetFuse, DenseFuse): load -> encode -> fuse -> decode -> 8 bits.

For gray sources ``A`` and ``B`` in ``[0, 1]`` and a model with pixel scale ``s``
(``model.input_scale``: 1 for Res2NetFuse, 255 for the DenseFuse release)::

    phi_A, phi_B = encode(s A), encode(s B)          (one batched forward pass)
    f, w_A, w_B  = strategy(phi_A, phi_B)            (res2netfuse.fusion)
    raw          = decode(f) / s                     (float, nominally [0, 1])
    image        = to_uint8(raw, mapping)            (minmax: the authors' default; clip)

Colour visible images: the luminance ``Y`` of full-range YCbCr is fused with the infrared
image and the visible image's ``Cb``/``Cr`` are kept (``io.rgb_to_ycbcr``/``io.ycbcr_to_rgb``).
Outputs are written atomically (``io.save_image``), so no half-written file is ever left.

Speed (``benchmarks/bench_fusion.py``): the model runs channels-last under
``torch.inference_mode`` with both sources in one batch, and :func:`retain_freed_memory` stops
glibc from returning the ~100-200 MB feature buffers to the OS after every layer; without it
each layer's output is fresh, page-faulting memory, which cost more than the convolutions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import torch

from . import io
from .baselines import DenseFuse, load_densefuse
from .fusion import fuse_features, resolve
from .model import Res2NetFuse, load_checkpoint
from .progress import bar as progress_bar
from .runtime import resolve_device, retain_freed_memory
from .weights import default_weights

ModelName = Literal["res2netfuse", "densefuse"]
MODELS: tuple[ModelName, ...] = ("res2netfuse", "densefuse")
MIN_SIDE: dict[ModelName, int] = {"res2netfuse": Res2NetFuse.min_side, "densefuse": DenseFuse.min_side}


class FusionModel(Protocol):
    """What the pipeline needs from a model: ``encode``, ``decode`` and its pixel scale."""

    input_scale: float

    def encode(self, x: torch.Tensor) -> torch.Tensor: ...

    def decode(self, features: torch.Tensor) -> torch.Tensor: ...

    def parameters(self) -> Any: ...


@dataclass
class FusionResult:
    """One fused pair: the 8-bit image, the float decoder output (``[0, 1]`` scale) and weight maps."""

    image: np.ndarray
    raw: np.ndarray
    weight_a: np.ndarray
    weight_b: np.ndarray




def load_model(name: ModelName, checkpoint: io.PathLike | None = None, device: str = "auto") -> torch.nn.Module:
    """Load a fusion model in eval mode on ``device`` (``auto``: CUDA if present), channels-last.

    ``checkpoint`` defaults to :func:`res2netfuse.weights.default_weights` (the Res2NetFuse_1 model
    shipped with the package; DenseFuse's release weights from ``$RES2NETFUSE_DENSEFUSE_WEIGHTS`` or
    the repository). Also calls :func:`retain_freed_memory` (see the module notes).
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    retain_freed_memory()
    path = checkpoint or default_weights(name)
    if name == "res2netfuse":
        model: torch.nn.Module = load_checkpoint(path)
    else:
        model = load_densefuse(path)
    return model.to(resolve_device(device), memory_format=torch.channels_last).eval()


def model_device(model: FusionModel) -> torch.device:
    """The device holding the model's parameters."""
    return next(iter(model.parameters())).device


def _check_pair(model: FusionModel, a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"sources must be two 2-D gray images of one size, got shapes {a.shape} and {b.shape}")
    side = getattr(model, "min_side", 1)  # a model may declare the smallest side it can process
    if min(a.shape) < side:
        raise ValueError(f"sources are {a.shape[1]}x{a.shape[0]} px; {type(model).__name__} needs at least "
                         f"{side}x{side} px")


def check_min_side(name: ModelName, *paths: io.PathLike) -> None:
    """Raise :class:`io.ImageError` naming the first image smaller than model ``name`` can fuse
    (:data:`MIN_SIDE`); reads only the files' headers, so it runs before any model is loaded."""
    side = MIN_SIDE[name]
    for path in paths:
        width, height = io.image_size(path)
        if min(width, height) < side:
            raise io.ImageError(path, f"is {width}x{height} px; {name} needs images of at least {side}x{side} px")


def encode_pair(model: FusionModel, a: np.ndarray, b: np.ndarray,
                device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Features ``(phi_A, phi_B)``, each ``1 x C x H x W``, of two gray ``[0, 1]`` images in one batch."""
    _check_pair(model, a, b)
    dev = torch.device(device) if device is not None else model_device(model)
    x = torch.from_numpy(np.stack([a, b]).astype(np.float32, copy=False)[:, None]).to(dev)
    x = (x * model.input_scale).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        phi = model.encode(x)
    return phi[:1], phi[1:]


def decode_features(model: FusionModel, fused: torch.Tensor) -> np.ndarray:
    """Decode ``1 x C x H x W`` fused features to an ``H x W`` float32 image on the ``[0, 1]`` scale."""
    with torch.inference_mode():
        out = model.decode(fused)[0, 0] / model.input_scale
    return out.float().cpu().numpy()


def _check_mapping(mapping: str) -> None:
    if mapping not in ("minmax", "clip"):
        raise ValueError(f"unknown output mapping {mapping!r}; expected 'minmax' or 'clip'")


def fuse_encoded(model: FusionModel, phi_a: torch.Tensor, phi_b: torch.Tensor, strategy: str = "l1",
                 mapping: io.Mapping = "minmax", **params: Any) -> FusionResult:
    """Fuse already encoded features (:func:`encode_pair`), decode and map to 8 bits.

    Lets several strategies share one encode of a pair.
    """
    _check_mapping(mapping)
    with torch.inference_mode():
        fused, w_a, w_b = fuse_features(strategy, phi_a, phi_b, **params)
    raw = decode_features(model, fused)
    return FusionResult(io.to_uint8(raw, mapping), raw, w_a[0, 0].float().cpu().numpy(),
                        w_b[0, 0].float().cpu().numpy())


def fuse_arrays(model: FusionModel, a: np.ndarray, b: np.ndarray, strategy: str = "l1",
                mapping: io.Mapping = "minmax", **params: Any) -> FusionResult:
    """Fuse two gray ``[0, 1]`` images of one size; ``params`` go to the strategy."""
    _check_mapping(mapping)
    resolve(strategy, **params)  # fail before the expensive encode
    return fuse_encoded(model, *encode_pair(model, a, b), strategy, mapping, **params)


@dataclass
class Sources:
    """A loaded pair: gray ``a`` (infrared) and ``b`` (visible luminance), plus the visible
    image's YCbCr when it is in colour (``None`` for gray)."""

    a: np.ndarray
    b: np.ndarray
    visible_ycbcr: np.ndarray | None = None


def load_sources(ir_path: io.PathLike, vi_path: io.PathLike) -> Sources:
    """Load a pair, checking sizes; a colour visible image contributes its luminance ``Y``."""
    if not io.is_colour(vi_path):
        return Sources(*io.load_gray_pair(ir_path, vi_path))
    ir = io.load_gray(ir_path)
    ycc = io.rgb_to_ycbcr(io.load_rgb(vi_path))
    io.check_same_size(ir, ycc, ir_path, vi_path)
    return Sources(ir, np.ascontiguousarray(ycc[..., 0]), ycc)


def colourise(image: np.ndarray, sources: Sources) -> np.ndarray:
    """The fused ``uint8`` luminance as it is shown and written: with a colour visible image, merged
    with its chroma (``Y`` = the fused image, ``Cb``/``Cr`` of the visible image) to RGB ``uint8``;
    for gray sources, ``image`` itself."""
    if sources.visible_ycbcr is None:
        return image
    ycc = sources.visible_ycbcr.copy()
    ycc[..., 0] = image.astype(np.float32) / 255.0
    return np.round(io.ycbcr_to_rgb(ycc) * 255.0).astype(np.uint8)


def save_fused(out_path: io.PathLike, image: np.ndarray, sources: Sources) -> Path:
    """Write a fused ``uint8`` luminance atomically, in colour for a colour visible image (:func:`colourise`)."""
    return io.save_image(out_path, colourise(image, sources))


def fuse_files(model: FusionModel, ir_path: io.PathLike, vi_path: io.PathLike, out_path: io.PathLike,
               strategy: str = "l1", mapping: io.Mapping = "minmax", **params: Any) -> FusionResult:
    """Fuse ``ir_path`` with ``vi_path`` and write ``out_path`` atomically.

    A colour visible image is fused through its luminance and keeps its chroma; the written
    file is then RGB. Returns the gray :class:`FusionResult` (the fused luminance for colour).
    """
    sources = load_sources(ir_path, vi_path)
    result = fuse_arrays(model, sources.a, sources.b, strategy, mapping, **params)
    save_fused(out_path, result.image, sources)
    return result


def fuse_directory(model: FusionModel, ir_dir: io.PathLike, vi_dir: io.PathLike, out_dir: io.PathLike,
                   strategy: str = "l1", mapping: io.Mapping = "minmax", progress: bool = True,
                   **params: Any) -> list[Path]:
    """Fuse every pair of same-stem files in ``ir_dir``/``vi_dir`` into ``out_dir/<stem>.png``."""
    pairs = io.paired_files(ir_dir, vi_dir)
    out = Path(out_dir)
    written = []
    for stem, (ir, vi) in progress_bar(pairs, desc=f"fusing ({strategy})", unit="pair", disable=not progress):
        target = out / f"{stem}.png"
        fuse_files(model, ir, vi, target, strategy, mapping, **params)
        written.append(target)
    return written


def time_fusion(model: FusionModel, a: np.ndarray, b: np.ndarray, repeats: int, strategy: str = "l1",
                mapping: io.Mapping = "minmax") -> float:
    """Median seconds of :func:`fuse_arrays` on one pair over ``repeats`` runs, after one untimed warm-up
    (CUDA synchronised around each run)."""
    cuda = model_device(model).type == "cuda"
    fuse_arrays(model, a, b, strategy, mapping)
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        fuse_arrays(model, a, b, strategy, mapping)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
