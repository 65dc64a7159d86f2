"""Objective fusion metrics, vectorised, agreeing with the field's MATLAB toolbox.

The oracle is the MATLAB evaluation code of the public VIF toolbox (L. Tang et al.) kept in
``../shared/reference/fusion-metrics-matlab/``; ``tests/reference/`` holds the GNU Octave
driver that ran it and the expected values the tests compare against.

Input convention (all metrics): ``a`` = infrared, ``b`` = visible, ``f`` = fused; 2-D arrays
of equal size on the **[0, 255] scale** -- ``uint8`` (recommended: what ``imread`` gives the
toolbox and what :func:`res2netfuse.io.load_gray_uint8` returns) or float. Float input is
used as is (not rescaled); values outside [0, 255] or non-finite values are refused.
EN and MI work on 256-bin histograms of the values rounded to integers. Images must be at
least 44 px on each side (MEF-SSIM's three scales with an 11x11 window).

Conventions (each matches the toolbox function named; quirks are reproduced on purpose):

* **SSIM_a** = (SSIM(F,A) + SSIM(F,B)) / 2 -- the paper's eq. (12), a *mean*. SSIM is Wang
  et al. 2004 (``ssim_index.m``): 11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03,
  data range L = 255, mean over the 'valid' region (scikit-image). The toolbox wrapper calls
  MATLAB's ``ssim`` on [0,255] doubles, whose default dynamic range for doubles is 1 (much
  lower values); Octave has no ``ssim``; the paper's SSIM_a values match L = 255, used here.
* **Qabf** (Xydeas & Petrovic 2000, ``analysis_Qabf.m``): Sobel gradients with zero padding,
  Tg=0.9994, kg=-15, Dg=0.5, Ta=0.9879, ka=-22, Da=0.8. Computed on the [0,255] values;
  quirks kept: orientation pi/2 where the x-gradient is exactly 0, and G^{AF} = g_F (not 1)
  where g_A == g_F exactly (on integer input these tests are exact).
* **FMI_dct**, **FMI_w** (Haghighat & Razian 2014 fast-FMI, ``analysis_fmi.m``, window 3):
  features = orthonormal 2-D DCT (``dct2``) / one-level 'dmey' DWT mosaic [cA cH; cV cD]
  rescaled to [0,1]; per 3x3 window, the joint pdf mixes the Frechet bound and independence
  with weight corr/corr_bound; FMI = mean over windows of (FMI_AF + FMI_BF)/2. Quirk kept:
  the B-window equality test compares against the F window already normalised for A.
  A constant image gets its exact transform (the computed one is ~1e-13 rounding noise that
  the per-window rescaling would turn into arbitrary values, in the reference too).
  The 'dmey' filter is PyWavelets' 62-tap approximation; MATLAB's has 102 taps (PyWavelets
  issue #261), so FMI_w cannot agree exactly with MATLAB. The Octave reference uses the same
  62 taps (agreement ~3e-6); padding them to 102 taps changes FMI_w by 0.03-0.9 % on the 9
  reference TNO triples (notebook 05), the expected order of the difference to MATLAB.
* **SCD** = corr2(F-B, A) + corr2(F-A, B) (Aslantas & Bendes 2015).
* **MS_SSIM** = MEF-SSIM of Ma et al. 2015 (``analysis_ms_ssim.m``) with [A, B] as the
  stack: K = 0.03, 11x11 Gaussian sigma 1.5, 3 scales (2x2 mean, symmetric border, decimate),
  weights (0.0448, 0.2856, 0.3001)/sum, geometric mean; C = (0.03*255)^2 needs [0,255] input.
  A negative scale score makes the toolbox's geometric mean complex: its real part is kept.
* **EN** = Shannon entropy (bits) of the 256-bin histogram of F.
* **SD** = population standard deviation of F (``SD_evaluation.m`` on doubles).
* **SF** = sqrt(RF^2 + CF^2), RF/CF = RMS of row/column first differences, [0,255] units.
* **AG** = sum sqrt((Fx^2 + Fy^2)/2) / ((M-1)(N-1)) with MATLAB ``gradient`` differences.
* **MI** = MI(A,F) + MI(B,F) in bits (``MI_evaluation.m`` on uint8). Quirk kept: the joint
  histogram indexes ``uint8 + 1``, which saturates, so grey levels 254 and 255 share a bin in
  the joint (not the marginal) histograms.
* **VIF** = VIFp(A,F) + VIFp(B,F), a *sum* (``vifp_mscale.m``, Sheikh & Bovik, 4 scales,
  sigma_n^2 = 2).
* **PSNR** = 20 log10(255 / sqrt(MSE)) with MSE = (MSE(F,A) + MSE(F,B))/2 computed on images
  divided by 255 (``PSNR_evaluation.m``): this is the conventional PSNR + 20 log10(255)
  (+48.13 dB), kept for comparability with tables made with the toolbox; +inf if F = A = B.
* **CC** = (r(A,F) + r(B,F))/2, Pearson correlations (``CC_evaluation.m``; its use of
  mean(A) in the B term is kept; it changes the value only by rounding).
* **Nabf** (Shreyamsha Kumar 2013 modified artefact measure, ``analysis_nabf.m``): Sobel/8
  with mirrored borders, Td = 2, wt_min = 0.001, L = 1.5, computed on [0,255] values.

Scale of the toolbox wrapper (``analysis_Reference.m``, not part of the reference folder): it
passes ``im2double`` ([0,1]) images to Qabf, Nabf, SF, PSNR, CC and SCD. Here every function
gets [0,255] values, as their own headers (vifp, mef_ssim) and the reference README specify:
identical for the scale-free CC, SCD, FMI; SF is 255x the wrapper's; Qabf differs slightly
(0.41359 vs 0.41306 on TNO 01/DenseFuse: its exact-zero and g_A == g_F tests) and Nabf's
threshold Td = 2 never fires on [0,1] input (1.03e-4 vs 1.22e-3); notebook 05 tabulates both.

Degenerate input (zero variance): correlations (SCD, CC) count as 0, Qabf with no gradient
anywhere is 0, a VIF term whose reference has no variance is 0 -- never NaN (the reference
gives NaN or -inf there).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pywt
import torch
from scipy import fft, ndimage
from skimage.metrics import structural_similarity
from tqdm.auto import tqdm

from .io import ImageError, check_same_size, load_gray_uint8, paired_files

PAPER_METRICS = ("SSIM_a", "Qabf", "FMI_dct", "FMI_w", "SCD", "MS_SSIM")
ALL_METRICS = PAPER_METRICS + ("EN", "SD", "SF", "AG", "MI", "VIF", "PSNR", "CC", "Nabf")
HIGHER_IS_BETTER = {m: m != "Nabf" for m in ALL_METRICS}
MIN_SIDE = 44
_EPS = np.finfo(np.float64).eps


# ----------------------------------------------------------------------------- helpers
def _gaussian_1d(size: int, sigma: float) -> np.ndarray:
    """1-D factor of MATLAB ``fspecial('gaussian', size, sigma)`` (normalised to sum 1)."""
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Separable 2-D correlation with ``k`` (x) ``k``, 'valid' part (MATLAB ``filter2(.,'valid')``)."""
    r = len(k) // 2
    y = ndimage.correlate1d(x, k, axis=0, mode="constant")[r:-r]
    return ndimage.correlate1d(y, k, axis=1, mode="constant")[:, r:-r]


def _box_sum_valid(x: np.ndarray, n: int) -> np.ndarray:
    """Sums over every n x n window ('valid'), from an integral image (exact for integers)."""
    s = np.zeros((x.shape[0] + 1, x.shape[1] + 1))
    s[1:, 1:] = x.cumsum(0).cumsum(1)
    return s[n:, n:] - s[:-n, n:] - s[n:, :-n] + s[:-n, :-n]


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation (MATLAB ``corr2``); 0 when either image has zero variance."""
    xc, yc = x - x.mean(), y - y.mean()
    den = np.sqrt((xc * xc).sum() * (yc * yc).sum())
    return float((xc * yc).sum() / den) if den > 0 else 0.0


def _entropy_bits(hist: np.ndarray) -> float:
    p = hist[hist > 0] / hist.sum()
    return float(-(p * np.log2(p)).sum())


# ----------------------------------------------------------------------------- SSIM family
def ssim(x: np.ndarray, y: np.ndarray) -> float:
    """SSIM of Wang et al. 2004: Gaussian 11x11 sigma 1.5, K1 0.01, K2 0.03, L 255, 'valid' mean."""
    return float(structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                       data_range=255.0, K1=0.01, K2=0.03))


def _mef_ssim_scale(x1: np.ndarray, x2: np.ndarray, f: np.ndarray, k: float = 0.03) -> float:
    """One scale of MEF-SSIM (Ma et al. 2015, ``mef_ssim.m``) for a 2-image stack, vectorised.

    Per 11x11 window the reference patch is r = sum_k alpha_k (x_k - mu_k), with
    alpha_k = w_k/ed_k * maxEd/||sum_j w_j (x_j - mu_j)/ed_j||, so its Gaussian-weighted
    statistics follow from filtered products of the sources and F.
    """
    n = 11
    g = _gaussian_1d(n, 1.5)
    # box statistics: c_kl = sum over window of (x_k - mu_k)(x_l - mu_l)
    s1, s2 = _box_sum_valid(x1, n), _box_sum_valid(x2, n)
    c11 = _box_sum_valid(x1 * x1, n) - s1 * s1 / n**2
    c22 = _box_sum_valid(x2 * x2, n) - s2 * s2 / n**2
    c12 = _box_sum_valid(x1 * x2, n) - s1 * s2 / n**2
    n1, n2 = np.sqrt(np.maximum(c11, 0)), np.sqrt(np.maximum(c22, 0))
    ed1, ed2 = n1 + 0.001, n2 + 0.001
    r = (np.sqrt(np.maximum(c11 + c22 + 2 * c12, 0)) + _EPS) / (n1 + n2 + _EPS)
    r = np.where(r > 1, 1 - _EPS, r)
    p = np.minimum(np.tan(np.pi / 2 * r), 10.0)
    w1, w2 = (ed1 / n) ** p + _EPS, (ed2 / n) ** p + _EPS
    w1, w2 = w1 / (w1 + w2), w2 / (w1 + w2)
    b1, b2 = w1 / ed1, w2 / ed2
    rnorm = np.sqrt(np.maximum(b1 * b1 * c11 + b2 * b2 * c22 + 2 * b1 * b2 * c12, 0))
    scale = np.where(rnorm > 0, np.maximum(ed1, ed2) / np.where(rnorm > 0, rnorm, 1), 1.0)
    a1, a2 = b1 * scale, b2 * scale
    # Gaussian-weighted (co)variances
    m1, m2, mf = _filter_valid(x1, g), _filter_valid(x2, g), _filter_valid(f, g)
    v11 = _filter_valid(x1 * x1, g) - m1 * m1
    v22 = _filter_valid(x2 * x2, g) - m2 * m2
    v12 = _filter_valid(x1 * x2, g) - m1 * m2
    v1f = _filter_valid(x1 * f, g) - m1 * mf
    v2f = _filter_valid(x2 * f, g) - m2 * mf
    vff = _filter_valid(f * f, g) - mf * mf
    sig_r = a1 * a1 * v11 + a2 * a2 * v22 + 2 * a1 * a2 * v12
    sig_rf = a1 * v1f + a2 * v2f
    c = (k * 255) ** 2
    return float(np.mean((2 * sig_rf + c) / (sig_r + vff + c)))


def _half(x: np.ndarray) -> np.ndarray:
    """2x2 mean filter with symmetric border, keep odd (1-based) samples (``analysis_ms_ssim.m``)."""
    x = np.pad(x, ((0, x.shape[0] % 2), (0, x.shape[1] % 2)), mode="edge")
    return 0.25 * (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2])


def mef_ssim(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """MEF-SSIM (Ma, Zeng & Wang 2015), 3 scales, the paper's MS_SSIM with [A, B] as the stack.

    Quirk kept: a negative single-scale score makes the toolbox's weighted geometric mean
    complex; like the value the toolbox prints, the real part is returned.
    """
    weights = np.array([0.0448, 0.2856, 0.3001])
    weights = weights / weights.sum()
    q = []
    for level in range(3):
        if level:
            a, b, f = _half(a), _half(b), _half(f)
        q.append(_mef_ssim_scale(a, b, f))
    return float(np.prod(np.asarray(q, dtype=complex) ** weights).real)


# ----------------------------------------------------------------------------- gradient metrics
def _sobel_conv2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Sx, Sy) = conv2(x, [-1 0 1;-2 0 2;-1 0 1], 'same'), conv2(x, [1 2 1;0 0 0;-1 -2 -1], 'same')."""
    smooth_c = ndimage.correlate1d(x, [1.0, 2.0, 1.0], axis=0, mode="constant")
    sx = ndimage.correlate1d(smooth_c, [1.0, 0.0, -1.0], axis=1, mode="constant")
    smooth_r = ndimage.correlate1d(x, [1.0, 2.0, 1.0], axis=1, mode="constant")
    sy = ndimage.correlate1d(smooth_r, [-1.0, 0.0, 1.0], axis=0, mode="constant")
    return sx, sy


def qabf(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Q^{AB/F} of Xydeas & Petrovic (2000) with ``analysis_Qabf.m``'s constants and quirks."""
    tg, kg, dg, ta, ka, da = 0.9994, -15.0, 0.5, 0.9879, -22.0, 0.8

    def strength_angle(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sx, sy = _sobel_conv2(x)
        angle = np.where(sx == 0, np.pi / 2, np.arctan(sy / np.where(sx == 0, 1.0, sx)))
        return np.sqrt(sx * sx + sy * sy), angle

    gf, af = strength_angle(f)

    def preservation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gx, ax = strength_angle(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(gx > gf, gf / gx, np.where(gx == gf, gf, gx / gf))
        orient = 1 - np.abs(ax - af) / (np.pi / 2)
        q = tg / (1 + np.exp(kg * (rel - dg))) * ta / (1 + np.exp(ka * (orient - da)))
        return q, gx

    qa, ga = preservation(a)
    qb, gb = preservation(b)
    den = float((ga + gb).sum())
    return float((qa * ga + qb * gb).sum() / den) if den > 0 else 0.0


def nabf(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Modified fusion-artefact measure N^{AB/F} (Shreyamsha Kumar 2013, ``analysis_nabf.m``)."""
    td, wt_min, lg = 2.0, 0.001, 1.5
    nrg, kg, sg, nra, ka, sa = 0.9999, 19.0, 0.5, 0.9995, 22.0, 0.5

    def sobel8(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        gv = ndimage.sobel(x, axis=1, mode="mirror") / 8
        gh = ndimage.sobel(x, axis=0, mode="mirror") / 8
        g = np.sqrt(gh * gh + gv * gv)
        with np.errstate(divide="ignore", invalid="ignore"):
            angle = np.where((gv == 0) & (gh == 0), 0.0, np.arctan(gv / gh))
        return g, angle, np.where(g >= td, g**lg, wt_min)

    gf, af, _ = sobel8(f)

    def preservation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        gx, ax, wt = sobel8(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where((gx == 0) | (gf == 0), 0.0, np.where(gx > gf, gf / gx, gx / gf))
        orient = np.abs(np.abs(ax - af) - np.pi / 2) * 2 / np.pi
        q = np.sqrt(nrg / (1 + np.exp(-kg * (rel - sg))) * nra / (1 + np.exp(-ka * (orient - sa))))
        return q, gx, wt

    qa, ga, wa = preservation(a)
    qb, gb, wb = preservation(b)
    artefact = (gf > ga) & (gf > gb)
    return float((artefact * ((1 - qa) * wa + (1 - qb) * wb)).sum() / (wa + wb).sum())


# ----------------------------------------------------------------------------- FMI
def _windows3(x: np.ndarray) -> np.ndarray:
    """All 3x3 windows as columns of a (9, P) array, rows in MATLAB column-major order ``sub(:)``."""
    m, n = x.shape[0] - 2, x.shape[1] - 2
    return np.stack([x[r:r + m, c:c + n].ravel() for c in range(3) for r in range(3)])


def _minmax(x: torch.Tensor) -> torch.Tensor:
    """Per window (column) (x - min)/(max - min); all ones for a constant window (``analysis_fmi.m``)."""
    lo, hi = x.amin(0), x.amax(0)
    span = hi - lo
    return torch.where(span == 0, 1.0, (x - lo) / torch.where(span == 0, 1.0, span))


def _txlog2x(p: torch.Tensor) -> torch.Tensor:
    """-p log2|p| with 0 at p = 0 (MATLAB's ``real(-p.*log2(p))`` also for p < 0)."""
    ap = p.abs()
    return -p * torch.log2(torch.where(ap > 0, ap, 1.0))


class _WindowPdf(NamedTuple):
    """A window's pdf over positions 1..9 and the statistics fast-FMI needs, per column."""

    p: torch.Tensor  # (9, P) pdf
    centred: torch.Tensor  # p - mean(p)
    mean: torch.Tensor  # sum_i i p_i
    sd: torch.Tensor  # population sd of the position
    entropy: torch.Tensor  # bits


def _window_pdf(normalised: torch.Tensor) -> _WindowPdf:
    idx = torch.arange(1.0, 10.0, dtype=normalised.dtype)[:, None]
    p = normalised / normalised.sum(0)
    mean = (p * idx).sum(0)
    sd = torch.sqrt(torch.clamp((p * idx**2).sum(0) - mean**2, min=0))
    return _WindowPdf(p, p - p.mean(0), mean, sd, _txlog2x(p).sum(0))


def _fmi_windows(x: torch.Tensor, f: _WindowPdf, equal: torch.Tensor) -> torch.Tensor:
    """Per-window fast-FMI between raw source windows x (9, P) and the fused windows' pdf f.

    The joint pdf of the two window "distributions" over positions 1..9 is
    phi*U + (1-phi)*f_i x_j, U the upper (corr c >= 0) or lower (c < 0) Frechet coupling and
    phi = c / corr_U. U is the comonotone coupling of F's pdf with x's pdf (reversed for the lower
    bound): it is non-zero only on the 17 cells met while merging the two cdfs, so the joint
    entropy is the independent part in closed form plus corrections on those cells, and
    corr_U follows from the same cells (Hoeffding's covariance identity).
    """
    xs = _window_pdf(_minmax(x))
    px, pf = xs.p, f.p
    s = (xs.centred * f.centred).sum(0)
    den = torch.sqrt((xs.centred**2).sum(0) * (f.centred**2).sum(0))
    c = torch.where(s == 0, 0.0, s / torch.where(den > 0, den, 1.0))
    neg = c < 0  # lower Frechet bound = comonotone coupling with x's pdf reversed (value 10 - j)
    py = torch.where(neg, px.flip(0), px)
    cf, cy = torch.cumsum(pf, 0), torch.cumsum(py, 0)
    zero = torch.zeros((1, cf.shape[1]), dtype=x.dtype)
    cf0, cy0 = torch.cat([zero, cf[:8]]), torch.cat([zero, cy[:8]])
    # merge the 8 inner breakpoints of each cdf (ties: F first); segment ending at F_i lies in
    # cell (i, #{Y_j < F_i}), segment ending at Y_j in cell (#{F_i <= Y_j}, j), last one in (8, 8)
    cf_rows, cy_rows = cf[:8].T.contiguous(), cy[:8].T.contiguous()
    jf = torch.searchsorted(cy_rows, cf_rows).T
    iy = torch.searchsorted(cf_rows, cy_rows, right=True).T
    rows8 = torch.arange(8)[:, None].expand_as(jf)
    eight = torch.full((1, jf.shape[1]), 8)
    cell_i = torch.cat([rows8, iy, eight])
    cell_j = torch.cat([jf, rows8, eight])
    start_f = torch.maximum(cf0[:8], torch.gather(cy0, 0, jf))
    start_y = torch.maximum(cy0[:8], torch.gather(cf0, 0, iy))
    length = torch.cat([cf[:8] - start_f, cy[:8] - start_y, 1 - torch.maximum(cf[7:8], cy[7:8])])
    j1 = cell_j.to(x.dtype) + 1
    yval = torch.where(neg, 10 - j1, j1)
    cov = (length * (cell_i.to(x.dtype) + 1) * yval).sum(0) - f.mean * xs.mean
    ok = (xs.sd > 0) & (f.sd > 0) & (neg | (c > 0))
    bound_corr = cov / torch.where(ok, f.sd * xs.sd, 1.0)
    phi = torch.where(ok, c / torch.where(ok & (bound_corr != 0), bound_corr, 1.0), 0.0)
    rest = 1 - phi
    cell_indep = rest * torch.gather(pf, 0, cell_i) * torch.gather(py, 0, cell_j)
    hsum = xs.entropy + f.entropy
    joint = (_txlog2x(rest) + rest * hsum
             + (_txlog2x(phi * length + cell_indep) - _txlog2x(cell_indep)).sum(0))
    mi = hsum - joint
    fmi = torch.where((mi == 0) | (hsum == 0), 0.0, 2 * mi / torch.where(hsum == 0, 1.0, hsum))
    return torch.where(equal, 1.0, fmi)


def _fmi(fa: np.ndarray, fb: np.ndarray, ff: np.ndarray, chunk: int = 1 << 16) -> float:
    """Mean over 3x3 windows of (FMI_AF + FMI_BF)/2 on feature maps (``analysis_fmi.m``, w = 3)."""
    rows = max(1, chunk // (ff.shape[1] - 2))
    total = 0.0
    with torch.inference_mode():
        for r in range(0, ff.shape[0] - 2, rows):
            a, b, f = (torch.from_numpy(_windows3(x[r:r + rows + 2])) for x in (fa, fb, ff))
            fn = _minmax(f)
            fpdf = _window_pdf(fn)
            eq_a = (a == f).all(0)
            # quirk: the reference normalises F in place for A, then tests B against that copy
            eq_b = torch.where(eq_a, (b == f).all(0), (b == fn).all(0))
            total += float((_fmi_windows(a, fpdf, eq_a) + _fmi_windows(b, fpdf, eq_b)).sum()) / 2
    return total / ((ff.shape[0] - 2) * (ff.shape[1] - 2))


def _rerange(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(), x.max()
    return np.ones_like(x) if hi == lo else (x - lo) / (hi - lo)


def dct_feature(x: np.ndarray) -> np.ndarray:
    """Orthonormal 2-D DCT-II (MATLAB ``dct2``).

    A constant image gets its exact transform (DC term only): computed, its other
    coefficients are rounding noise (~1e-13) that FMI's per-window rescaling would amplify.
    """
    if np.ptp(x) == 0:
        out = np.zeros_like(x)
        out[0, 0] = x[0, 0] * np.sqrt(x.size)
        return out
    return fft.dctn(x, type=2, norm="ortho")


def wavelet_feature(x: np.ndarray, wavelet: str | pywt.Wavelet = "dmey") -> np.ndarray:
    """One-level DWT mosaic [cA cH; cV cD] ('symmetric' = MATLAB 'sym' border), rescaled to [0,1].

    A constant image gets its exact transform (constant cA, zero details), as in :func:`dct_feature`.
    """
    ca, (ch, cv, cd) = pywt.dwt2(x, wavelet, mode="symmetric")
    if np.ptp(x) == 0:
        ca, ch, cv, cd = np.full_like(ca, ca.mean()), 0 * ch, 0 * cv, 0 * cd
    return _rerange(np.block([[ca, ch], [cv, cd]]))


def fmi(a: np.ndarray, b: np.ndarray, f: np.ndarray, feature: Callable[[np.ndarray], np.ndarray]) -> float:
    """Fast feature mutual information (Haghighat & Razian 2014) with a 3x3 window."""
    return _fmi(feature(a), feature(b), feature(f))


# ----------------------------------------------------------------------------- VIF
def vifp(ref: np.ndarray, dist: np.ndarray) -> float:
    """Pixel-domain multi-scale VIF (Sheikh & Bovik 2006, ``vifp_mscale.m``); 0 for a flat reference."""
    num = den = 0.0
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        g = _gaussian_1d(n, n / 5)
        if scale > 1:
            ref, dist = _filter_valid(ref, g)[::2, ::2], _filter_valid(dist, g)[::2, ::2]
        mu1, mu2 = _filter_valid(ref, g), _filter_valid(dist, g)
        s1 = _filter_valid(ref * ref, g) - mu1 * mu1
        s2 = _filter_valid(dist * dist, g) - mu2 * mu2
        s12 = _filter_valid(ref * dist, g) - mu1 * mu2
        s1, s2 = np.maximum(s1, 0), np.maximum(s2, 0)
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


# ----------------------------------------------------------------------------- simple metrics
def entropy(f: np.ndarray) -> float:
    """Shannon entropy (bits) of the 256-bin grey-level histogram."""
    return _entropy_bits(np.bincount(_levels(f).ravel(), minlength=256))


def mutual_information(x: np.ndarray, f: np.ndarray) -> float:
    """MI(X,F) in bits, ``MI_evaluation.m`` on uint8: joint histogram with 254/255 merged."""
    xi, fi = _levels(x).ravel(), _levels(f).ravel()
    joint = np.bincount(np.minimum(fi, 254) * 256 + np.minimum(xi, 254), minlength=256 * 256)
    return entropy(x) + entropy(f) - _entropy_bits(joint)


def _levels(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.int64)


def spatial_frequency(f: np.ndarray) -> float:
    rf = np.sqrt(np.mean(np.diff(f, axis=0) ** 2))
    cf = np.sqrt(np.mean(np.diff(f, axis=1) ** 2))
    return float(np.sqrt(rf**2 + cf**2))


def average_gradient(f: np.ndarray) -> float:
    dy, dx = np.gradient(f)
    return float(np.sqrt((dx**2 + dy**2) / 2).sum() / ((f.shape[0] - 1) * (f.shape[1] - 1)))


def psnr_toolbox(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """``PSNR_evaluation.m``: 20 log10(255/sqrt(MSE)), MSE of images / 255 (= usual PSNR + 48.13 dB)."""
    mse = 0.5 * np.mean(((f - a) / 255) ** 2) + 0.5 * np.mean(((f - b) / 255) ** 2)
    return float(20 * np.log10(255 / np.sqrt(mse))) if mse > 0 else float("inf")


def cc_toolbox(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """``CC_evaluation.m``: mean of r(A,F) and r(B,F) (its B numerator centres B on mean(A))."""
    fc = f - f.mean()
    sf = (fc * fc).sum()
    terms = []
    for x, centre in ((a, a.mean()), (b, a.mean())):
        den = np.sqrt(((x - x.mean()) ** 2).sum() * sf)
        terms.append(float(((x - centre) * fc).sum() / den) if den > 0 else 0.0)
    return float(np.mean(terms))


# ----------------------------------------------------------------------------- public API
def _check(x: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D gray image, got shape {arr.shape} "
                         "(convert RGB with res2netfuse.io.rgb_to_gray_uint8 / load_gray_uint8)")
    if arr.dtype == np.uint8:
        return arr.astype(np.float64)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name}: unsupported pixel type {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    if arr.min() < 0 or arr.max() > 255:
        raise ValueError(f"{name}: values outside [0, 255] (min {arr.min():g}, max {arr.max():g}); "
                         "the metrics expect the [0, 255] scale")
    return arr


_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
    "SSIM_a": lambda a, b, f: (ssim(f, a) + ssim(f, b)) / 2,
    "Qabf": qabf,
    "FMI_dct": lambda a, b, f: fmi(a, b, f, dct_feature),
    "FMI_w": lambda a, b, f: fmi(a, b, f, wavelet_feature),
    "SCD": lambda a, b, f: _corr(f - b, a) + _corr(f - a, b),
    "MS_SSIM": mef_ssim,
    "EN": lambda a, b, f: entropy(f),
    "SD": lambda a, b, f: float(f.std()),
    "SF": lambda a, b, f: spatial_frequency(f),
    "AG": lambda a, b, f: average_gradient(f),
    "MI": lambda a, b, f: mutual_information(a, f) + mutual_information(b, f),
    "VIF": lambda a, b, f: vifp(a, f) + vifp(b, f),
    "PSNR": psnr_toolbox,
    "CC": cc_toolbox,
    "Nabf": lambda a, b, f: nabf(a, b, f),
}


def evaluate(a: np.ndarray, b: np.ndarray, f: np.ndarray, metrics: Sequence[str] = ALL_METRICS) -> dict[str, float]:
    """Metrics of fused image ``f`` for infrared ``a`` and visible ``b`` ([0,255] scale, see module doc).

    ``metrics`` selects a subset (e.g. :data:`PAPER_METRICS`); the result keeps that order.
    Raises ``ValueError`` for non-2-D input, size mismatch, values off the [0,255] scale,
    images smaller than 44 px, or unknown metric names.
    """
    unknown = [m for m in metrics if m not in _METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; choose from {list(ALL_METRICS)}")
    a, b, f = _check(a, "A (infrared)"), _check(b, "B (visible)"), _check(f, "F (fused)")
    if not a.shape == b.shape == f.shape:
        raise ValueError(f"sizes differ: A {a.shape}, B {b.shape}, F {f.shape} (rows, columns)")
    if min(a.shape) < MIN_SIDE:
        raise ValueError(f"images are {a.shape}; the metrics need at least {MIN_SIDE} px per side")
    return {m: _METRICS[m](a, b, f) for m in metrics}


PathLike = str | os.PathLike[str]


def evaluate_folders(ir_dir: PathLike, vi_dir: PathLike,
                     fused_dirs: Mapping[str, PathLike] | Sequence[PathLike],
                     metrics: Sequence[str] = ALL_METRICS, progress: bool = True,
                     images: Sequence[str] | None = None) -> pd.DataFrame:
    """Score every fused folder on the pairs in ``ir_dir``/``vi_dir`` (files paired by stem).

    ``fused_dirs`` maps method name -> folder, or is a list of folders (method = folder name);
    ``images`` optionally restricts the pairs to these file stems (e.g. ``["01", "02"]``).
    Returns a tidy frame with columns ``method, image, <metrics>``. All files are paired
    before any is scored, so a missing file fails fast; any unreadable or mismatched file
    raises :class:`~res2netfuse.io.ImageError` naming it.
    """
    named = dict(fused_dirs) if isinstance(fused_dirs, Mapping) else {Path(d).name: d for d in fused_dirs}
    if not named:
        raise ValueError("no fused folder given")
    methods = list(named)
    pairs = paired_files(ir_dir, vi_dir, *named.values())
    if images is not None:
        unknown = sorted(set(images) - {stem for stem, _ in pairs})
        if unknown:
            raise ImageError(ir_dir, f"has no pair for {', '.join(unknown)}")
        pairs = [p for p in pairs if p[0] in set(images)]
    rows = []
    with tqdm(total=len(pairs) * len(methods), desc="metrics", unit="image", disable=not progress) as bar:
        for stem, (ir_path, vi_path, *fused_paths) in pairs:
            a, b = load_gray_uint8(ir_path), load_gray_uint8(vi_path)
            check_same_size(a, b, ir_path, vi_path)
            for method, path in zip(methods, fused_paths):
                f = load_gray_uint8(path)
                check_same_size(a, f, ir_path, path)
                try:
                    values = evaluate(a, b, f, metrics)
                except ValueError as exc:
                    raise ImageError(path, str(exc)) from None
                rows.append({"method": method, "image": stem, **values})
                bar.update()
    return pd.DataFrame(rows, columns=["method", "image", *metrics])
