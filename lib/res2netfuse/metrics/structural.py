"""Structural similarity: SSIM (MATLAB's ``ssim``, and Wang's ``ssim_index.m``) and MEF-SSIM.

**SSIM_a** = (SSIM(F, A) + SSIM(F, B)) / 2, the paper's eq. (12) (a *mean*), with SSIM computed as
the paper's wrapper ``analysis_Reference.m`` does: MATLAB's built-in ``ssim`` (Image Processing
Toolbox, documented defaults) on ``im2double`` images:

    SSIM map = ((2 mu_x mu_y + C1)(2 s_xy + C2)) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))

with mu, s^2, s_xy local statistics from ``imfilter(., fspecial('gaussian', 11, 1.5), 'replicate')``
at full image size (border pixels included), C1 = (0.01 L)^2, C2 = (0.03 L)^2 (C3 = C2/2 and unit
exponents reduce the three-term form to this one), and SSIM = mean of the whole map. L = 1 on
``im2double`` input is L = 255 on the [0, 255] values used here (the same numbers up to rounding).

:func:`ssim_wang` is Wang et al. 2004 (``ssim_index.m``): the same window and constants, but the
map is averaged over the 'valid' region only (no border pixels). It was this project's SSIM_a
until it adopted MATLAB's; it differs from MATLAB's by ~0.3 % (up to ~2 %) per TNO image. ``evaluate``
offers it as the extra metric ``SSIM_a_wang``.

**MEF-SSIM** (Ma, Zeng & Wang, IEEE TIP 2015; ``mef_ssim.m`` via ``analysis_ms_ssim.m``), which the
paper's tables call **MS_SSIM**: the fused image against the "structure" of the stack [A, B],
3 scales (2x2 mean with symmetric border, keep every other sample), scale scores combined by a
weighted geometric mean with weights (0.0448, 0.2856, 0.3001) / sum; C = (0.03 * 255)^2, so it
needs [0, 255] input (the wrapper passes the raw 8-bit values).
"""

from __future__ import annotations

import numba
import numpy as np

from ._common import EPS, JIT, SSIM_WINDOW, Triple, as_float, box_sum_valid

_K1, _K2, _L = 0.01, 0.03, 255.0
_C1, _C2 = (_K1 * _L) ** 2, (_K2 * _L) ** 2
_MAPS = "f8[:, :], " * 5


@numba.njit(f"f8[::1]({_MAPS}f8, f8)", **JIT)  # compiled at import
def _ssim_row_sums(mux: np.ndarray, muy: np.ndarray, gxx: np.ndarray, gyy: np.ndarray, gxy: np.ndarray,
                   c1: float, c2: float) -> np.ndarray:  # pragma: no cover - compiled
    """Per row, the sum of the SSIM map from the filtered images and products (MATLAB ``ssim``'s formula)."""
    out = np.zeros(mux.shape[0])
    for i in range(mux.shape[0]):
        total = 0.0
        for j in range(mux.shape[1]):
            muxy, mux2, muy2 = mux[i, j] * muy[i, j], mux[i, j] * mux[i, j], muy[i, j] * muy[i, j]
            sx2, sy2, sxy = gxx[i, j] - mux2, gyy[i, j] - muy2, gxy[i, j] - muxy
            total += ((2 * muxy + c1) * (2 * sxy + c2)) / ((mux2 + muy2 + c1) * (sx2 + sy2 + c2))
        out[i] = total
    return out


def _ssim(t: Triple, x: str, y: str, valid: bool) -> float:
    """Mean SSIM map of images ``x``, ``y`` of ``t`` (names "a", "b", "f"); full size or 'valid' part."""
    g = t.gauss_valid if valid else t.gauss
    rows = _ssim_row_sums(g(x), g(y), g(x + x), g(y + y), g("".join(sorted(x + y))), _C1, _C2)
    return float(rows.sum() / (rows.size * g(x).shape[1]))


def ssim_a(t: Triple) -> float:
    """SSIM_a = (SSIM(F, A) + SSIM(F, B)) / 2 with MATLAB's ``ssim`` (full-size map, replicate border)."""
    return (_ssim(t, "f", "a", False) + _ssim(t, "f", "b", False)) / 2


def ssim_a_wang(t: Triple) -> float:
    """SSIM_a with Wang's ``ssim_index.m`` (mean over the 'valid' region); see :func:`ssim_wang`."""
    return (_ssim(t, "f", "a", True) + _ssim(t, "f", "b", True)) / 2


def ssim(x: np.ndarray, y: np.ndarray) -> float:
    """MATLAB ``ssim(x, y)`` of two [0, 255] images (L = 255; mean of the full-size map)."""
    x, y = as_float(x, y)
    return _ssim(Triple(x, y, y), "a", "b", False)


def ssim_wang(x: np.ndarray, y: np.ndarray) -> float:
    """Wang et al. 2004 ``ssim_index.m`` of two [0, 255] images (L = 255; mean over the 'valid' map)."""
    x, y = as_float(x, y)
    return _ssim(Triple(x, y, y), "a", "b", True)


@numba.njit(f"f8[:, :, ::1]({_MAPS}i8)", **JIT)  # compiled at import
def _mef_patch_statistics(s1: np.ndarray, s2: np.ndarray, b11: np.ndarray, b22: np.ndarray, b12: np.ndarray,
                          n: int) -> np.ndarray:  # pragma: no cover - compiled
    """Per window, from the n x n box sums of x1, x2 and their products: (c11, c22, c12, ed1, ed2, R).

    c_kl = sum (x_k - mu_k)(x_l - mu_l); ed_k = ||x_k - mu_k|| + 0.001 (signal strength);
    R = (||sum_k (x_k - mu_k)|| + eps) / (sum_k ||x_k - mu_k|| + eps), 1 - eps where above 1.
    """
    out = np.empty((6, s1.shape[0], s1.shape[1]))
    for i in range(s1.shape[0]):
        for j in range(s1.shape[1]):
            c11 = b11[i, j] - s1[i, j] * s1[i, j] / n**2
            c22 = b22[i, j] - s2[i, j] * s2[i, j] / n**2
            c12 = b12[i, j] - s1[i, j] * s2[i, j] / n**2
            n1, n2 = np.sqrt(max(c11, 0.0)), np.sqrt(max(c22, 0.0))
            r = (np.sqrt(max(c11 + c22 + 2 * c12, 0.0)) + EPS) / (n1 + n2 + EPS)
            out[0, i, j], out[1, i, j], out[2, i, j] = c11, c22, c12
            out[3, i, j], out[4, i, j] = n1 + 0.001, n2 + 0.001
            out[5, i, j] = 1 - EPS if r > 1 else r
    return out


@numba.njit(f"f8[::1](f8[:, :, ::1], f8[:, ::1], f8[:, ::1], {'f8[:, :], ' * 9}f8)", **JIT)  # compiled at import
def _mef_row_sums(stats: np.ndarray, w1: np.ndarray, w2: np.ndarray, m1: np.ndarray, m2: np.ndarray,
                  mf: np.ndarray, g11: np.ndarray, g22: np.ndarray, g12: np.ndarray, g1f: np.ndarray,
                  g2f: np.ndarray, gff: np.ndarray, c: float) -> np.ndarray:  # pragma: no cover - compiled
    """Per row, the sum of the MEF-SSIM quality map (structure of the desired patch vs F's)."""
    out = np.zeros(w1.shape[0])
    for i in range(w1.shape[0]):
        total = 0.0
        for j in range(w1.shape[1]):
            c11, c22, c12, ed1, ed2 = stats[0, i, j], stats[1, i, j], stats[2, i, j], stats[3, i, j], stats[4, i, j]
            v1, v2 = w1[i, j] / (w1[i, j] + w2[i, j]), w2[i, j] / (w1[i, j] + w2[i, j])
            b1, b2 = v1 / ed1, v2 / ed2
            rnorm = np.sqrt(max(b1 * b1 * c11 + b2 * b2 * c22 + 2 * b1 * b2 * c12, 0.0))
            scale = max(ed1, ed2) / rnorm if rnorm > 0 else 1.0
            a1, a2 = b1 * scale, b2 * scale
            mu1, mu2, muf = m1[i, j], m2[i, j], mf[i, j]
            v11, v22, v12 = g11[i, j] - mu1 * mu1, g22[i, j] - mu2 * mu2, g12[i, j] - mu1 * mu2
            v1f, v2f, vff = g1f[i, j] - mu1 * muf, g2f[i, j] - mu2 * muf, gff[i, j] - muf * muf
            sig_r = a1 * a1 * v11 + a2 * a2 * v22 + 2 * a1 * a2 * v12
            sig_rf = a1 * v1f + a2 * v2f
            total += (2 * sig_rf + c) / (sig_r + vff + c)
        out[i] = total
    return out


def _mef_ssim_scale(t: Triple, k: float = 0.03) -> float:
    """One scale of MEF-SSIM for the stack [A, B] and fused F of ``t``, vectorised ``mef_ssim.m``.

    Per 11x11 window the desired patch is r = sum_k alpha_k (x_k - mu_k), with
    alpha_k = w_k/ed_k * maxEd/||sum_j w_j (x_j - mu_j)/ed_j|| and weights w_k = (ed_k / 11)^p,
    p = min(tan(pi/2 R), 10), normalised; its Gaussian-weighted statistics follow from filtered
    products of the sources and F (shared with SSIM at scale 1); quality = mean of
    (2 s_rf + C) / (s_r^2 + s_f^2 + C).
    """
    n = len(SSIM_WINDOW)
    x1, x2 = t.a, t.b
    stats = _mef_patch_statistics(box_sum_valid(x1, n), box_sum_valid(x2, n), box_sum_valid(x1 * x1, n),
                                  box_sum_valid(x2 * x2, n), box_sum_valid(x1 * x2, n), n)
    p = np.minimum(np.tan(np.pi / 2 * stats[5]), 10.0)
    w1, w2 = (stats[3] / n) ** p + EPS, (stats[4] / n) ** p + EPS
    g = t.gauss_valid
    rows = _mef_row_sums(stats, w1, w2, g("a"), g("b"), g("f"), g("aa"), g("bb"), g("ab"), g("af"), g("bf"),
                         g("ff"), (k * 255) ** 2)
    return float(rows.sum() / w1.size)


def _half(x: np.ndarray) -> np.ndarray:
    """2x2 mean filter with symmetric border, keep odd (1-based) samples (``analysis_ms_ssim.m``)."""
    x = np.pad(x, ((0, x.shape[0] % 2), (0, x.shape[1] % 2)), mode="edge")
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


_MEF_WEIGHTS = np.array([0.0448, 0.2856, 0.3001]) / (0.0448 + 0.2856 + 0.3001)


def mef_ssim_triple(t: Triple) -> float:
    """MEF-SSIM of ``t`` (its scale-1 Gaussian statistics are shared with SSIM_a)."""
    q = [_mef_ssim_scale(t)]
    for _ in range(2):
        t = Triple(_half(t.a), _half(t.b), _half(t.f))
        q.append(_mef_ssim_scale(t))
    # a negative scale score makes the toolbox's geometric mean complex: it prints the real part
    return float(np.prod(np.asarray(q, dtype=complex) ** _MEF_WEIGHTS).real)


def mef_ssim(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """MEF-SSIM (Ma, Zeng & Wang 2015) of fused ``f`` for the stack [a, b], [0, 255] images.

    This is the metric the paper calls MS_SSIM (column ``MS_SSIM``).
    """
    return mef_ssim_triple(Triple(*as_float(a, b, f)))
