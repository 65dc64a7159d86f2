"""Image statistics of the fused image and its correlation with the sources: SD, SF, AG, PSNR, CC, SCD.

All on [0, 255] values; each matches the toolbox function named.

* **SD** = population standard deviation of F (``SD_evaluation.m`` on doubles).
* **SF** = sqrt(RF^2 + CF^2), RF / CF = RMS of the row / column first differences (``SF_evaluation.m``).
* **AG** = sum sqrt((Fx^2 + Fy^2) / 2) / ((M-1)(N-1)) with MATLAB ``gradient`` differences
  (``AG_evaluation.m``).
* **PSNR** = 20 log10(255 / sqrt(MSE)), MSE = (MSE(F,A) + MSE(F,B)) / 2 on images divided by 255
  (``PSNR_evaluation.m``): the conventional PSNR + 20 log10(255) (+48.13 dB), kept for
  comparability with tables made with the toolbox; +inf if F = A = B.
* **CC** = (r(A,F) + r(B,F)) / 2, Pearson correlations (``CC_evaluation.m``; its use of mean(A) in
  the B term is kept; it changes the value only by rounding).
* **SCD** = corr2(F - B, A) + corr2(F - A, B), the sum of the correlations of differences
  (Aslantas & Bendes 2015, ``analysis_SCD.m``).

Degenerate input (zero variance): correlations count as 0, never NaN (the toolbox gives NaN or
-inf there).
"""

from __future__ import annotations

import numpy as np

from ._common import as_float, corr


def standard_deviation(f: np.ndarray) -> float:
    """Population standard deviation of ``f``."""
    (f,) = as_float(f)
    return float(np.std(f))


def spatial_frequency(f: np.ndarray) -> float:
    """sqrt(RF^2 + CF^2) from the RMS row and column first differences."""
    (f,) = as_float(f)
    rf = np.sqrt(np.mean(np.diff(f, axis=0) ** 2))
    cf = np.sqrt(np.mean(np.diff(f, axis=1) ** 2))
    return float(np.sqrt(rf**2 + cf**2))


def average_gradient(f: np.ndarray) -> float:
    """Mean of sqrt((Fx^2 + Fy^2) / 2) over (M-1)(N-1), MATLAB ``gradient`` differences."""
    (f,) = as_float(f)
    dy, dx = np.gradient(f)
    return float(np.sqrt((dx**2 + dy**2) / 2).sum() / ((f.shape[0] - 1) * (f.shape[1] - 1)))


def psnr_toolbox(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """``PSNR_evaluation.m``: 20 log10(255/sqrt(MSE)), MSE of images / 255 (= usual PSNR + 48.13 dB)."""
    a, b, f = as_float(a, b, f)
    mse = 0.5 * np.mean(((f - a) / 255) ** 2) + 0.5 * np.mean(((f - b) / 255) ** 2)
    return float(20 * np.log10(255 / np.sqrt(mse))) if mse > 0 else float("inf")


def cc_toolbox(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """``CC_evaluation.m``: mean of r(A,F) and r(B,F) (its B numerator centres B on mean(A))."""
    a, b, f = as_float(a, b, f)
    fc = f - f.mean()
    sf = (fc * fc).sum()
    terms = []
    for x, centre in ((a, a.mean()), (b, a.mean())):
        den = np.sqrt(((x - x.mean()) ** 2).sum() * sf)
        terms.append(float(((x - centre) * fc).sum() / den) if den > 0 else 0.0)
    return float(np.mean(terms))


def scd(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Sum of the correlations of differences: corr2(F - B, A) + corr2(F - A, B)."""
    a, b, f = as_float(a, b, f)
    return corr(f - b, a) + corr(f - a, b)
