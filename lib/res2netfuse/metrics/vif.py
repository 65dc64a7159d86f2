"""Visual information fidelity, pixel domain, multi-scale (Sheikh & Bovik 2006, ``vifp_mscale.m``).

**VIF** = VIFp(A, F) + VIFp(B, F), a *sum* as in the toolbox. VIFp(ref, dist) over 4 scales:
Gaussian window N = 2^(5 - s) + 1, sigma = N / 5 ('valid' filtering; from scale 2 on both images
are filtered and decimated by 2 first); local variances s1, s2, covariance s12; gain
g = s12 / (s1 + 1e-10), residual sv = s2 - g s12 (the toolbox's clamps for flat windows and
negative gains kept); VIFp = sum log10(1 + g^2 s1 / (sv + sigma_n^2)) / sum log10(1 + s1 / sigma_n^2),
sigma_n^2 = 2, on [0, 255] values. 0 for a flat reference (the toolbox gives NaN there).
"""

from __future__ import annotations

import numpy as np

from ._common import as_float, filter_valid, gaussian_1d

_WINDOWS = [gaussian_1d(2 ** (5 - s) + 1, (2 ** (5 - s) + 1) / 5) for s in range(1, 5)]


def _pyramid(x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per scale: (image, its local mean, local mean of its square), 'valid' Gaussian filtering;
    from scale 2 on the image is the previous one filtered with this scale's window and decimated."""
    levels = []
    for scale, g in enumerate(_WINDOWS, start=1):
        if scale > 1:
            x = filter_valid(x, g)[::2, ::2]
        levels.append((x, filter_valid(x, g), filter_valid(x * x, g)))
    return levels


def _information(ref: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                 dist: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> float:
    """VIFp from the two pyramids: sum of log10(1 + g^2 s1 / (sv + 2)) over sum of log10(1 + s1 / 2)."""
    num = den = 0.0
    for (x, mu1, xx), (y, mu2, yy), g in zip(ref, dist, _WINDOWS):
        s1 = np.maximum(xx - mu1 * mu1, 0)
        s2 = np.maximum(yy - mu2 * mu2, 0)
        s12 = filter_valid(x * y, g) - mu1 * mu2
        gain = s12 / (s1 + 1e-10)
        sv = s2 - gain * s12
        flat1, flat2 = s1 < 1e-10, s2 < 1e-10
        gain = np.where(flat1, 0, gain)
        sv = np.where(flat1, s2, sv)
        s1 = np.where(flat1, 0, s1)
        gain = np.where(flat2, 0, gain)
        sv = np.where(flat2, 0, sv)
        sv = np.where(gain < 0, s2, sv)
        gain = np.maximum(gain, 0)
        sv = np.maximum(sv, 1e-10)
        num += float(np.log10(1 + gain**2 * s1 / (sv + 2)).sum())
        den += float(np.log10(1 + s1 / 2).sum())
    return num / den if den > 0 else 0.0


def vifp(ref: np.ndarray, dist: np.ndarray) -> float:
    """Pixel-domain multi-scale VIF of ``dist`` against ``ref``; 0 for a flat reference."""
    ref, dist = as_float(ref, dist)
    return _information(_pyramid(ref), _pyramid(dist))


def vif(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """VIF = VIFp(A, F) + VIFp(B, F), F's pyramid computed once."""
    a, b, f = as_float(a, b, f)
    fused = _pyramid(f)
    return _information(_pyramid(a), fused) + _information(_pyramid(b), fused)
