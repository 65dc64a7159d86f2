"""Shared building blocks of the metrics: compiled separable filters, the per-triple cache, small statistics.

* :func:`gaussian_1d` is the 1-D factor of MATLAB ``fspecial('gaussian', n, sigma)``;
  ``fspecial`` = ``outer(g, g)`` up to rounding.
* :func:`filter_valid` is MATLAB ``filter2(k * k', x, 'valid')`` for a separable kernel, compiled
  with numba (about 10x faster than ``scipy.ndimage.correlate1d``); :func:`filter_same_replicate`
  is ``imfilter(x, k * k', 'replicate')`` (the 'same' size with replicated borders), i.e.
  ``filter_valid`` of the edge-padded image, so its interior equals ``filter_valid`` bit for bit.
* :class:`Triple` holds one checked (A, B, F) triple and caches what several metrics share
  (Gaussian-filtered images and products for SSIM, MEF-SSIM; the [0,1] copies for the paper's
  Q_abf / N_abf).
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Literal

import numba
import numpy as np

Convention = Literal["paper", "toolbox"]
CONVENTIONS: tuple[Convention, ...] = ("paper", "toolbox")
EPS = float(np.finfo(np.float64).eps)
JIT = dict(cache=True, nogil=True, error_model="numpy")  # numba options of every compiled kernel


def as_float(*images: np.ndarray) -> tuple[np.ndarray, ...]:
    """The images as float64 arrays (uint8 arithmetic would wrap around)."""
    return tuple(np.asarray(x, dtype=np.float64) for x in images)


def gaussian_1d(size: int, sigma: float) -> np.ndarray:
    """1-D factor of MATLAB ``fspecial('gaussian', size, sigma)``, normalised to sum 1."""
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


@numba.njit("f8[:, ::1](f8[:, ::1], f8[::1])", **JIT)  # signature: compiled (or loaded) at import
def _correlate_rows_cols(x: np.ndarray, k: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    n = k.size
    rows, cols = x.shape[0] - n + 1, x.shape[1] - n + 1
    tmp = np.zeros((rows, x.shape[1]))
    for i in range(rows):
        for t in range(n):
            for j in range(x.shape[1]):
                tmp[i, j] += k[t] * x[i + t, j]
    out = np.zeros((rows, cols))
    for i in range(rows):
        for t in range(n):
            for j in range(cols):
                out[i, j] += k[t] * tmp[i, j + t]
    return out


def filter_valid(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable 2-D correlation with ``k`` (x) ``k``, 'valid' part (MATLAB ``filter2(.,'valid')``)."""
    return _correlate_rows_cols(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(k, dtype=np.float64))


def filter_same_replicate(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``imfilter(x, k * k', 'replicate')``: full-size correlation, borders replicated."""
    r = len(k) // 2
    return filter_valid(np.pad(x, r, mode="edge"), k)


def box_sum_valid(x: np.ndarray, n: int) -> np.ndarray:
    """Sums over every n x n window ('valid'); exact for the integer (and quarter-integer) pixel
    values and products that MEF-SSIM sums, whatever the order."""
    return filter_valid(x, np.ones(n))


def corr(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation (MATLAB ``corr2``); 0 when either image has zero variance."""
    xc, yc = x - x.mean(), y - y.mean()
    den = np.sqrt((xc * xc).sum() * (yc * yc).sum())
    return float((xc * yc).sum() / den) if den > 0 else 0.0


def entropy_bits(hist: np.ndarray) -> float:
    """Shannon entropy in bits of a histogram (counts)."""
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


def levels(x: np.ndarray) -> np.ndarray:
    """Grey levels 0..255 as integers (values rounded, as ``uint8`` conversion does)."""
    return np.clip(np.rint(x), 0, 255).astype(np.int64)


SSIM_WINDOW = gaussian_1d(11, 1.5)  # SSIM, MEF-SSIM: fspecial('gaussian', 11, 1.5)


class Triple:
    """One (A = infrared, B = visible, F = fused) triple of float64 [0, 255] images, with shared work cached.

    ``convention`` says which scale the paper-wrapper-dependent metrics see (see
    :func:`res2netfuse.metrics.evaluate`). Metrics may run on several threads at once: each cached
    item is computed once, under its own lock.
    """

    def __init__(self, a: np.ndarray, b: np.ndarray, f: np.ndarray, convention: Convention = "paper") -> None:
        self.a, self.b, self.f = a, b, f
        self.convention = convention
        self._gauss: dict[str, np.ndarray] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def image(self, name: str) -> np.ndarray:
        """``"a"``, ``"b"``, ``"f"`` or a product of two of them (``"af"`` = A * F)."""
        if len(name) == 1:
            return getattr(self, name)
        return getattr(self, name[0]) * getattr(self, name[1])

    def gauss(self, name: str) -> np.ndarray:
        """:data:`SSIM_WINDOW` filtered :meth:`image` at full size, replicated borders (cached)."""
        with self._lock:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._gauss:
                self._gauss[name] = filter_same_replicate(self.image(name), SSIM_WINDOW)
        return self._gauss[name]

    def gauss_valid(self, name: str) -> np.ndarray:
        """The 'valid' part of :meth:`gauss` (= ``filter2(w, ., 'valid')``)."""
        r = len(SSIM_WINDOW) // 2
        return self.gauss(name)[r:-r, r:-r]

    @cached_property
    def unit(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(A, B, F) / 255: MATLAB ``im2double`` of the 8-bit images."""
        return self.a / 255, self.b / 255, self.f / 255
