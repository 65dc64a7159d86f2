"""Single-image training of the Res2NetFuse auto-encoder (paper Sec. III-B, eqs. 5-7).

Loss (paper eq. 5-7), for output O and input I in ``[0, 1]``::

    L = L_ssim + L_pixel,   L_ssim = 1 - SSIM(O, I),   L_pixel = ||O - I||^2 / (B C H W)

``SSIM`` is Wang et al. (2004) with an 11x11 Gaussian window (sigma 1.5), K1 = 0.01,
K2 = 0.03 and data range 1, from the maintained ``pytorch_msssim`` package. The paper says
SSIM; the authors' public code uses ``1 - MS-SSIM`` instead: ``structural_loss="ms_ssim"``
selects that (``pytorch_msssim.ms_ssim``; it needs images of at least 161 x 161 pixels).

The paper trains on one 256 x 256 gray natural image, batch 1, 2000 iterations, Adam with
learning rate 5e-4. The image is centre-cropped to a square and resized with PIL
(``bilinear``, antialiased, default; ``nearest`` as in the authors' code).

Many-image training (the stand-in for the paper's Res2NetFuse_80000) uses the same recipe with
only the data changed: ``image`` names a folder, every image of it (minus ``exclude``) is
prepared the same way, and iteration ``t`` trains on one of them (batch 1), visiting them in a
seeded random order that is reshuffled after every pass.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image
from pytorch_msssim import ms_ssim, ssim

from .io import ImageError, PathLike, list_images, load_gray_uint8
from .model import ModelConfig, Res2NetFuse, save_checkpoint
from .progress import bar as progress_bar
from .runtime import resolve_device, retain_freed_memory, seed_everything
from .weightfile import read

StructuralLoss = Literal["ssim", "ms_ssim"]
Resample = Literal["bilinear", "nearest"]
MS_SSIM_MIN_SIZE = 161  # pytorch_msssim: (win_size - 1) * 2**4 + 1 for 5 scales


@dataclass
class TrainConfig:
    """Every knob of training: ``params.yaml: train`` field by field, and ``res2netfuse train``'s options.

    ``image`` is one image file (the paper's single-image training) or a folder of images
    (many-image training, with the file stems in ``exclude`` left out).
    """

    image: str = field(default="data/train/coco/000000000086.png", metadata={
        "help": "training image (gray; RGB is converted to luma), or a folder of images for many-image training"})
    exclude: tuple[str, ...] = field(default=(), metadata={"help": "file stems left out when image is a folder"})
    size: int = field(default=256, metadata={
        "help": "side of the square training image [px] (centre crop, then resize)"})
    resample: Resample = field(default="bilinear", metadata={
        "help": "resize filter: bilinear (antialiased) or nearest (authors' code)"})
    iterations: int = field(default=2000, metadata={"help": "training iterations, one image each (batch 1)"})
    lr: float = field(default=5e-4, metadata={"help": "Adam learning rate"})
    structural_loss: StructuralLoss = field(default="ssim", metadata={
        "help": "structural loss term: 1 - SSIM (paper eq. 6) or 1 - MS-SSIM (authors' code; needs size >= 161)"})
    seed: int = field(default=0, metadata={"help": "random seed (initial weights, image order)"})
    device: str = field(default="auto", metadata={"help": "auto (CUDA if present), cpu or cuda[:N]"})
    channels_last: bool = field(default=True, metadata={
        "help": "run the network in channels-last memory format (faster on CPU)"})
    model: ModelConfig = field(default_factory=ModelConfig, metadata={"help": "architecture (params.yaml: model)"})

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = ModelConfig(**self.model)
        self.exclude = tuple(str(stem) for stem in self.exclude)
        if self.structural_loss not in ("ssim", "ms_ssim"):
            raise ValueError(f"structural_loss must be 'ssim' or 'ms_ssim', got {self.structural_loss!r}")
        if self.resample not in ("bilinear", "nearest"):
            raise ValueError(f"resample must be 'bilinear' or 'nearest', got {self.resample!r}")
        if self.iterations < 1 or self.size < 11:
            raise ValueError(f"need iterations >= 1 and size >= 11 (SSIM window), got {self.iterations}, {self.size}")
        if self.structural_loss == "ms_ssim" and self.size < MS_SSIM_MIN_SIZE:
            raise ValueError(f"structural_loss='ms_ssim' needs size >= {MS_SSIM_MIN_SIZE}, got {self.size}")

    @classmethod
    def from_params(cls, train: dict[str, Any], model: dict[str, Any] | None = None) -> TrainConfig:
        """The config of ``params.yaml``'s ``train`` (and ``model``) sections; unknown keys are refused."""
        known = {f.name for f in fields(cls)} - {"model"}
        unknown = sorted(set(train) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s) {unknown}; known: {sorted(known)}")
        return cls(**train, model=ModelConfig(**(model or {})))


@dataclass
class TrainResult:
    """The trained model (eval mode, on CPU), the per-iteration loss log and timings."""

    model: Res2NetFuse
    losses: pd.DataFrame
    seconds: float
    device: str

    @property
    def seconds_per_iteration(self) -> float:
        return self.seconds / max(len(self.losses), 1)


def training_images(config: TrainConfig) -> list[Path]:
    """The image files ``config`` trains on: ``[image]``, or the folder's images minus ``exclude``."""
    path = Path(config.image)
    if not path.is_dir():
        if config.exclude:
            raise ValueError(f"{path}: 'exclude' applies to a folder of training images, not to one file")
        return [path]
    images = list_images(path)
    unknown = sorted(set(config.exclude) - set(images))
    if unknown:
        raise ImageError(path, f"has no image {', '.join(unknown[:5])} to exclude")
    kept = [p for stem, p in images.items() if stem not in set(config.exclude)]
    if not kept:
        raise ImageError(path, "has no training image left after 'exclude'")
    return kept


def prepare_training_image(path: PathLike, size: int, resample: Resample = "bilinear") -> torch.Tensor:
    """Load ``path`` as gray, centre-crop to a square, resize to ``size``; ``1x1xSxS`` in ``[0,1]``."""
    gray = load_gray_uint8(path)
    h, w = gray.shape
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    square = Image.fromarray(np.ascontiguousarray(gray[top:top + s, left:left + s]))
    method = Image.Resampling.BILINEAR if resample == "bilinear" else Image.Resampling.NEAREST
    resized = np.asarray(square.resize((size, size), method), dtype=np.float32) / 255.0
    return torch.from_numpy(resized)[None, None]


def reconstruction_loss(output: torch.Tensor, target: torch.Tensor,
                        structural: StructuralLoss = "ssim") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(total, pixel, structural)`` of paper eqs. 5-7 for N x 1 x H x W tensors in ``[0, 1]``."""
    pixel = F.mse_loss(output, target)
    similarity = ssim if structural == "ssim" else ms_ssim
    structural_term = 1.0 - similarity(output, target, data_range=1.0, size_average=True)
    return pixel + structural_term, pixel, structural_term


def train(config: TrainConfig, progress: bool = True) -> TrainResult:
    """Train a fresh :class:`Res2NetFuse` on one image; log all three losses every iteration."""
    seed_everything(config.seed)
    retain_freed_memory()
    device = resolve_device(config.device)
    fmt = torch.channels_last if config.channels_last else torch.contiguous_format
    images = torch.cat([prepare_training_image(p, config.size, config.resample) for p in training_images(config)])
    images = images.to(device).contiguous(memory_format=fmt)
    order = visiting_order(len(images), config.iterations, config.seed)
    model = Res2NetFuse(config.model).to(device).to(memory_format=fmt).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)

    log = np.zeros((config.iterations, 3), dtype=np.float64)
    start = time.perf_counter()
    bar = progress_bar(range(config.iterations), desc="train", unit="it", disable=not progress)
    for it in bar:
        target = images[order[it]:order[it] + 1]
        optimizer.zero_grad(set_to_none=True)
        total, pixel, structural = reconstruction_loss(model(target), target, config.structural_loss)
        total.backward()
        optimizer.step()
        log[it] = (pixel.item(), structural.item(), total.item())
        if it % 50 == 0 or it == config.iterations - 1:
            bar.set_postfix(loss=f"{log[it, 2]:.4f}", refresh=False)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start

    losses = pd.DataFrame(log, columns=["pixel", "ssim", "total"])
    losses.insert(0, "iteration", np.arange(1, config.iterations + 1))
    model = model.to("cpu").to(memory_format=torch.contiguous_format).eval()
    return TrainResult(model=model, losses=losses, seconds=seconds, device=str(device))


def visiting_order(n_images: int, iterations: int, seed: int) -> np.ndarray:
    """Index of the image trained on at each iteration: seeded random passes over ``n_images``.

    One image: always 0 (no random numbers drawn, so single-image training is unchanged).
    """
    if n_images == 1:
        return np.zeros(iterations, dtype=np.int64)
    rng = np.random.default_rng(seed)
    passes = -(-iterations // n_images)
    return np.concatenate([rng.permutation(n_images) for _ in range(passes)])[:iterations]


def stabilisation_iteration(total: pd.Series | np.ndarray, tolerance: float = 0.05, window: int = 25) -> int:
    """First iteration after which the smoothed loss stays within ``tolerance`` of its total drop.

    With ``s`` the centred running median (``window`` iterations) of the total loss, the result
    is the first 1-based iteration ``t`` with ``s[t'] - s[-1] <= tolerance * (s[0] - s[-1])`` for
    every ``t' >= t``: from there on, at most ``tolerance`` of the overall decrease remains.
    """
    values = pd.Series(np.asarray(total, dtype=np.float64))
    smooth = values.rolling(window, center=True, min_periods=1).median().to_numpy()
    drop = smooth[0] - smooth[-1]
    if drop <= 0:
        return 1
    above = np.nonzero(smooth - smooth[-1] > tolerance * drop)[0]
    return int(above[-1] + 2) if above.size else 1


def save_training(result: TrainResult, config: TrainConfig, out_dir: PathLike) -> dict[str, Path]:
    """Write ``checkpoint.pt`` (weights + configs) and ``losses.csv`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"checkpoint": out / "checkpoint.pt", "losses": out / "losses.csv"}
    cfg = asdict(config)
    save_checkpoint(result.model, str(paths["checkpoint"]), train_config=cfg)
    result.losses.to_csv(paths["losses"], index=False, float_format="%.8g")
    return paths


def checkpoint_config(checkpoint: PathLike) -> dict[str, Any]:
    """The training settings recorded in a checkpoint written by :func:`save_training` (``{}`` if none)."""
    blob = read(checkpoint, "checkpoint")
    return dict(blob.get("train_config") or {}) if isinstance(blob, dict) else {}


def summary(result: TrainResult, config: TrainConfig, images: int) -> dict[str, Any]:
    """The training stage's headline numbers (``summary.json``): final losses, the stabilisation iteration
    (:func:`stabilisation_iteration`), time per iteration and what it trained on."""
    last = result.losses.iloc[-1]
    return {
        "final_pixel": float(last.pixel), "final_ssim": float(last.ssim), "final_total": float(last.total),
        "stabilisation_iteration": stabilisation_iteration(result.losses["total"]), "iterations": config.iterations,
        "images": images, "seconds": round(result.seconds, 2),
        "seconds_per_iteration": round(result.seconds_per_iteration, 5), "device": result.device,
        "structural_loss": config.structural_loss, "image": config.image, "seed": config.seed,
    }


def loss_table(losses: pd.DataFrame) -> pd.DataFrame:
    """First and final value of each loss term (``pixel``, ``ssim``, ``total``)."""
    return pd.DataFrame([{"loss": k, "first iteration": losses[k].iloc[0], "final": losses[k].iloc[-1]}
                         for k in ("pixel", "ssim", "total")])


def loss_titles(structural_loss: StructuralLoss) -> dict[str, str]:
    """Fig. 4's panel titles: the loss column -> its name in the paper's notation."""
    return {"pixel": "(a) $L_{pixel}$ (MSE)",
            "ssim": f"(b) $L_{{ssim}}$ (1 - {structural_loss.upper().replace('_', '-')})", "total": "(c) total loss"}
