"""DenseFuse (Li & Wu, "DenseFuse: A Fusion Approach to Infrared and Visible Images",
IEEE TIP 28(5), 2019), grayscale network loading the public densefuse-pytorch weights.

Every layer is a 3x3 convolution, stride 1, reflection padding 1, followed by ReLU except the
last one. With ``D_k(x) = concat(x, ReLU(Conv3(pad(x))))`` a dense layer::

    encoder:  phi = D_3(D_2(D_1(ReLU(Conv3 1->16 (x)))))       16 -> 32 -> 48 -> 64 channels
    decoder:  y   = Conv3 16->1 (ReLU(Conv3 32->16 (ReLU(Conv3 64->32 (ReLU(Conv3 64->64 (phi)))))))

The module and parameter names equal the release's (``conv1.conv2d``,
``DB1.denseblock.{0,1,2}.dense_conv.conv2d``, ``conv2..conv5.conv2d``), so its state_dict loads
strictly. The release was trained on pixel values in ``[0, 255]``: ``input_scale = 255``, i.e.
callers feed ``255 x`` for an image ``x`` in ``[0, 1]`` and divide the output by 255.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ..io import PathLike
from ..weightfile import read, state_dict_problems
from ..weights import DENSEFUSE_HOW_TO, densefuse_weights


class ConvLayer(nn.Module):
    """Reflection pad 1, 3x3 conv (attribute ``conv2d`` as in the release), ReLU unless ``is_last``."""

    def __init__(self, cin: int, cout: int, is_last: bool = False) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv2d = nn.Conv2d(cin, cout, 3, stride=1)
        self.is_last = is_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2d(self.pad(x))
        return out if self.is_last else torch.relu(out)


class DenseConv2d(nn.Module):
    """One dense layer: ``concat(x, ConvLayer(x))`` (adds ``growth`` channels)."""

    def __init__(self, cin: int, growth: int) -> None:
        super().__init__()
        self.dense_conv = ConvLayer(cin, growth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.dense_conv(x)], dim=1)


class DenseBlock(nn.Module):
    """Three dense layers of growth 16 (16 -> 64 channels)."""

    def __init__(self, cin: int = 16, growth: int = 16, layers: int = 3) -> None:
        super().__init__()
        self.denseblock = nn.Sequential(*(DenseConv2d(cin + i * growth, growth) for i in range(layers)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.denseblock(x)


class DenseFuse(nn.Module):
    """DenseFuse auto-encoder with separately callable ``encode``/``decode`` (like :class:`Res2NetFuse`).

    Input and output are ``N x 1 x H x W`` tensors on the ``[0, input_scale]`` pixel scale.
    """

    input_scale: float = 255.0  # the release feeds gray pixel values in [0, 255]
    min_side: int = 2  # reflection padding of 1 px needs at least 2 px per side

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = ConvLayer(1, 16)
        self.DB1 = DenseBlock(16)
        self.conv2 = ConvLayer(64, 64)
        self.conv3 = ConvLayer(64, 32)
        self.conv4 = ConvLayer(32, 16)
        self.conv5 = ConvLayer(16, 1, is_last=True)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Features phi (N x 64 x H x W) fed to the fusion layer."""
        return self.DB1(self.conv1(x))

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        """Reconstruct an N x 1 x H x W image from (fused) 64-channel features."""
        return self.conv5(self.conv4(self.conv3(self.conv2(features))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def load_densefuse(path: PathLike | None = None, map_location: str | torch.device = "cpu") -> DenseFuse:
    """Load the released DenseFuse grayscale weights (a plain state_dict) strictly, in eval mode.

    ``path`` defaults to :func:`res2netfuse.weights.densefuse_weights` (``$RES2NETFUSE_DENSEFUSE_WEIGHTS``,
    else the repository's copy). Raises ``FileNotFoundError`` for a missing file (saying how to get
    it) and ``ValueError`` naming the file and the problem (unreadable, not a state_dict,
    missing/unexpected keys, shape mismatches), each in one line.
    """
    p = Path(path) if path is not None else densefuse_weights()
    state = read(p, "DenseFuse weights", DENSEFUSE_HOW_TO, map_location)
    if not isinstance(state, Mapping):
        raise ValueError(f"{p}: holds a {type(state).__name__}, expected a DenseFuse state_dict")
    model = DenseFuse()
    problems = state_dict_problems(model, state)
    if problems:
        raise ValueError(f"{p}: not the DenseFuse grayscale weights: " + "; ".join(problems))
    model.load_state_dict(state, strict=True)
    return model.to(map_location).eval()
