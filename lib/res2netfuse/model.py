"""Res2NetFuse encoder/decoder (Song et al., "Res2NetFuse", paper Table I), grayscale input.

Encoder::

    c  = ReLU(Conv3 32->64 (ReLU(Conv3 1->32 (x))))
    u  = ReLU(Conv1 64->64 (c));  split u into s = 4 groups x_1..x_4 of 16 channels
    y_1 = x_1,  y_2 = K(x_2),  y_i = K(x_i + y_{i-1})  (i = 3, 4)        (paper eq. 4)
    b  = ReLU(Conv1 64->64 (concat(y_1..y_4)))
    phi = c + b   (residual around the block, authors' code)  or  phi = b

Decoder: Conv3 64->64, 64->32, 32->16 (each + ReLU), Conv3 16->1 (no activation).

``K`` is "(Conv3) x 2, 16->16, two identical layers" in Table I. The authors' public code
implements it as ONE 3x3 conv + ReLU applied twice, with the same weights for every group
(``kernel="shared"``, the default). ``kernel="per_group"`` is the textbook Res2Net reading:
each group has its own two distinct 3x3 convs. All convs use zero padding so that the output
has the input's size for any H x W.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from .weightfile import read, state_dict_problems

KernelMode = Literal["shared", "per_group"]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture options; the defaults reproduce the authors' public code."""

    kernel: KernelMode = field(default="shared", metadata={
        "help": "group kernel K: shared (one 3x3 conv applied twice for every group, authors' code) or "
                "per_group (two distinct convs per group, textbook Res2Net)"})
    residual: bool = field(default=True, metadata={
        "help": "feed the decoder c + Res2Net(c) (authors' code) instead of Res2Net(c)"})
    scales: int = field(default=4, metadata={"help": "scale groups s of the Res2Net block"})
    width: int = field(default=64, metadata={"help": "channels of the encoder output (divisible by scales)"})

    def __post_init__(self) -> None:
        if self.kernel not in ("shared", "per_group"):
            raise ValueError(f"kernel must be 'shared' or 'per_group', got {self.kernel!r}")
        if self.scales < 2 or self.width % self.scales:
            raise ValueError(f"width {self.width} must split evenly into scales={self.scales} >= 2 groups")


def conv(cin: int, cout: int, k: int) -> nn.Conv2d:
    """k x k convolution, stride 1, zero padding k // 2 (size preserving)."""
    return nn.Conv2d(cin, cout, k, stride=1, padding=k // 2)


class GroupKernel(nn.Module):
    """``K`` of eq. 4: (Conv3 16->16 + ReLU) twice; ``shared_weights`` reuses one conv for both."""

    def __init__(self, channels: int, shared_weights: bool) -> None:
        super().__init__()
        self.conv_a = conv(channels, channels, 3)
        self.conv_b = self.conv_a if shared_weights else conv(channels, channels, 3)
        self.act = nn.ReLU(inplace=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv_b(self.act(self.conv_a(x))))


class Res2NetBlock(nn.Module):
    """Conv1 + ReLU, hierarchical split into ``scales`` groups (eq. 4), concat, Conv1 + ReLU."""

    def __init__(self, width: int, scales: int, kernel: KernelMode) -> None:
        super().__init__()
        self.scales = scales
        self.group = width // scales
        self.conv_in = conv(width, width, 1)
        if kernel == "shared":
            shared = GroupKernel(self.group, shared_weights=True)
            self.kernels = nn.ModuleList([shared] * (scales - 1))
        else:
            self.kernels = nn.ModuleList(GroupKernel(self.group, False) for _ in range(scales - 1))
        self.conv_out = conv(width, width, 1)
        self.act = nn.ReLU(inplace=False)

    def groups(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The per-scale outputs y_1..y_s of eq. 4 (before concatenation)."""
        xs = torch.split(self.act(self.conv_in(x)), self.group, dim=1)
        ys = [xs[0]]
        for i, kernel in enumerate(self.kernels, start=1):
            ys.append(kernel(xs[i] if i == 1 else xs[i] + ys[-1]))
        return ys

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv_out(torch.cat(self.groups(x), dim=1)))


class Res2NetFuse(nn.Module):
    """Auto-encoder of Table I; ``encode`` and ``decode`` are separately callable for fusion.

    Input and output are ``N x 1 x H x W`` tensors; images are in ``[0, 1]``.
    """

    input_scale: float = 1.0  # pixel scale the weights expect (DenseFuse uses 255)
    min_side: int = 1  # zero padding: any image of at least 1 x 1 px

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        w = self.config.width
        self.conv1 = conv(1, w // 2, 3)
        self.conv2 = conv(w // 2, w, 3)
        self.block = Res2NetBlock(w, self.config.scales, self.config.kernel)
        self.decoder = nn.Sequential(
            conv(w, 64, 3), nn.ReLU(),
            conv(64, 32, 3), nn.ReLU(),
            conv(32, 16, 3), nn.ReLU(),
            conv(16, 1, 3),
        )
        self.act = nn.ReLU(inplace=False)

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        """``c``: the two 3x3 convolutions before the Res2Net block."""
        return self.act(self.conv2(self.act(self.conv1(x))))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Features phi (N x 64 x H x W) fed to the fusion layer."""
        c = self.stem(x)
        b = self.block(c)
        return c + b if self.config.residual else b

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        """Reconstruct an N x 1 x H x W image from (fused) features."""
        return self.decoder(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def scale_groups(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps y_1..y_s of the Res2Net block's scale groups for input ``x``."""
        return self.block.groups(self.stem(x))


def describe(model: Res2NetFuse) -> list[dict[str, Any]]:
    """Table I regenerated from the model object: one row per distinct conv layer.

    Rows give part, layer name, kernel, stride, in/out channels, activation and the number of
    parameters; a layer applied several times with the same weights (the shared ``K``) is
    listed once with its number of applications.
    """
    block = model.block
    rows: list[dict[str, Any]] = []

    def add(part: str, name: str, layer: nn.Conv2d, act: str, uses: int = 1) -> None:
        rows.append({
            "part": part, "layer": name, "kernel": f"{layer.kernel_size[0]}x{layer.kernel_size[1]}",
            "stride": layer.stride[0], "in": layer.in_channels, "out": layer.out_channels,
            "activation": act, "applications": uses,
            "parameters": sum(p.numel() for p in layer.parameters()),
        })

    add("encoder", "conv1", model.conv1, "ReLU")
    add("encoder", "conv2", model.conv2, "ReLU")
    add("res2net block", "conv_in (1x1)", block.conv_in, "ReLU")
    seen: dict[int, dict[str, Any]] = {}
    for g, kernel in enumerate(block.kernels, start=2):
        for which in ("conv_a", "conv_b"):
            layer = getattr(kernel, which)
            if id(layer) in seen:
                seen[id(layer)]["applications"] += 1
                continue
            add("res2net block", f"K group {g} {which}", layer, "ReLU")
            seen[id(layer)] = rows[-1]
    if model.config.kernel == "shared":
        seen_row = next(iter(seen.values()))
        seen_row["layer"] = "K (shared by all groups, applied twice)"
    add("res2net block", "conv_out (1x1)", block.conv_out, "ReLU")
    convs = [m for m in model.decoder if isinstance(m, nn.Conv2d)]
    for i, layer in enumerate(convs, start=1):
        add("decoder", f"conv{i}", layer, "ReLU" if i < len(convs) else "none")
    return rows


def count_parameters(model: nn.Module) -> int:
    """Number of distinct trainable parameters (shared weights counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def receptive_field(model: Res2NetFuse) -> int:
    """Receptive field (pixels, one side) of one output pixel along the deepest path.

    Each 3x3 conv adds 2; the deepest path passes conv1, conv2, ``scales - 1`` applications of
    ``K`` (two 3x3 convs each) and the four decoder convs.
    """
    stem = 2
    block = 2 * (model.config.scales - 1)
    decoder = sum(1 for m in model.decoder if isinstance(m, nn.Conv2d))
    return 1 + 2 * (stem + block + decoder)


def scale_receptive_fields(model: Res2NetFuse) -> list[int]:
    """Receptive field (pixels, one side) of each scale group y_1..y_s at the Res2Net block output.

    y_1 sees the stem's two 3x3 convs (5 px); each later group adds one application of ``K``
    (two 3x3 convs, +4 px), which is what makes the block multi-scale.
    """
    return [5 + 4 * i for i in range(model.config.scales)]


def summary(model: Res2NetFuse) -> dict[str, Any]:
    """Parameter counts (whole, encoder, decoder; shared weights once) and receptive fields [px] of ``model``."""
    return {
        "total_parameters": count_parameters(model),
        "encoder_parameters": sum(p.numel() for n, p in model.named_parameters() if not n.startswith("decoder")),
        "decoder_parameters": sum(p.numel() for p in model.decoder.parameters()),
        "receptive_field_px": receptive_field(model),
        "scale_group_receptive_fields_px": scale_receptive_fields(model),
    }


def scale_group_activity(model: Res2NetFuse, image: np.ndarray, crop: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The centre ``crop`` x ``crop`` square of a [0, 1] gray ``image`` (smaller if the image is) and, per scale
    group y_i of the Res2Net block, its mean absolute activation over the group's channels."""
    h, w = image.shape
    c = min(crop, h, w)
    top, left = (h - c) // 2, (w - c) // 2
    x = np.ascontiguousarray(image[top:top + c, left:left + c], dtype=np.float32)
    with torch.inference_mode():
        groups = model.scale_groups(torch.from_numpy(x)[None, None])
    return x, [g[0].abs().mean(0).numpy() for g in groups]


def save_checkpoint(model: Res2NetFuse, path: str, **extra: Any) -> None:
    """Save weights together with the architecture config (and any extra metadata)."""
    torch.save({"state_dict": model.state_dict(), "config": asdict(model.config), **extra}, path)


def load_checkpoint(path: str | os.PathLike[str], map_location: str | torch.device = "cpu") -> Res2NetFuse:
    """Rebuild a :class:`Res2NetFuse` from :func:`save_checkpoint` output; strict key check.

    Every problem (missing, unreadable or wrong file, unknown config, mismatched weights) raises
    ``FileNotFoundError``/``ValueError`` in one line naming the file.
    """
    p = Path(path)
    blob = read(p, "checkpoint", "make one with `res2netfuse train` (or `dvc repro train`)", map_location)
    if not (isinstance(blob, Mapping) and {"state_dict", "config"} <= set(blob)
            and isinstance(blob["state_dict"], Mapping) and isinstance(blob["config"], Mapping)):
        kind = "mapping without 'state_dict' and 'config'" if isinstance(blob, Mapping) else type(blob).__name__
        raise ValueError(f"{p}: holds a {kind}, not a Res2NetFuse checkpoint (as written by "
                         "`res2netfuse train`; for DenseFuse weights use the densefuse model)")
    try:
        model = Res2NetFuse(ModelConfig(**blob["config"]))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{p}: invalid model config in the checkpoint ({exc})") from None
    problems = state_dict_problems(model, blob["state_dict"])
    if problems:
        raise ValueError(f"{p}: weights do not match the checkpoint's model config: " + "; ".join(problems))
    model.load_state_dict(blob["state_dict"], strict=True)
    return model.eval()
