"""Information metrics: fast feature mutual information (FMI), mutual information (MI), entropy (EN).

**FMI_dct**, **FMI_w** (Haghighat & Razian 2014, "Fast-FMI", ``analysis_fmi.m`` with window 3):
FMI = mean over the 3x3 windows of (FMI_AF + FMI_BF) / 2 computed on feature maps -- the
orthonormal 2-D DCT (MATLAB ``dct2``) for FMI_dct, the one-level 'dmey' DWT mosaic
[cA cH; cV cD] rescaled to [0, 1] for FMI_w. The per-window formula is in
:mod:`res2netfuse.metrics._fmi_kernel` (compiled; row blocks run on several threads). FMI is
scale-free, so the paper's [0, 1] input and [0, 255] give the same value up to rounding.
The 'dmey' filter is PyWavelets' 62-tap approximation; MATLAB's has 102 taps (PyWavelets issue
#261), so FMI_w cannot agree exactly with MATLAB (0.03-0.9 % on TNO triples, the metrics stage). The DWT
is computed here (:func:`dwt2_symmetric`, compiled; PyWavelets' ``dwt2`` gives the same
coefficients to rounding but takes ~10x longer with 62 taps). A
constant image gets its exact transform (the computed one is ~1e-13 rounding noise that the
per-window rescaling would turn into arbitrary values, in the reference too).

**MI** = MI(A, F) + MI(B, F) in bits (``MI_evaluation.m`` / ``analysis_MI.m`` on uint8), with
MI(X, F) = H(X) + H(F) - H(X, F) from 256-bin histograms. Quirk kept: the joint histogram indexes
``uint8 + 1``, which saturates, so grey levels 254 and 255 share a bin in the joint (not the
marginal) histograms.

**EN** = Shannon entropy (bits) of the 256-bin histogram of F.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

import numba
import numpy as np
import pywt
from scipy import fft

from ._common import JIT, as_float, entropy_bits, levels
from ._fmi_kernel import fmi_row_sums


def dct_feature(x: np.ndarray) -> np.ndarray:
    """Orthonormal 2-D DCT-II (MATLAB ``dct2``).

    A constant image gets its exact transform (DC term only): computed, its other
    coefficients are rounding noise (~1e-13) that FMI's per-window rescaling would amplify.
    """
    if np.ptp(x) == 0:
        out = np.zeros_like(x, dtype=np.float64)
        out[0, 0] = x[0, 0] * np.sqrt(x.size)
        return out
    return fft.dctn(as_float(x)[0], type=2, norm="ortho")


def _rerange(x: np.ndarray) -> np.ndarray:
    lo, hi = x.min(), x.max()
    return np.ones_like(x) if hi == lo else (x - lo) / (hi - lo)


@numba.njit("UniTuple(f8[:, ::1], 2)(f8[:, ::1], f8[::1], f8[::1])", **JIT)
def _dwt_rows(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    """One DWT level along each row: out[k] = sum_j f[j] x[s(2k + 1 - j)], half-point symmetric s."""
    n, taps = x.shape[1], lo.size
    size = (n + taps - 1) // 2
    out_lo, out_hi = np.zeros((x.shape[0], size)), np.zeros((x.shape[0], size))
    half = size + taps  # ext[e] = x[s(e - taps)], split by parity: phase[p][m] = ext[2m + p]
    phase = np.empty((2, half + 1))
    source = np.empty(2 * half + 2, np.int64)
    for e in range(source.size):
        t = (e - taps) % (2 * n)
        source[e] = t if t < n else 2 * n - 1 - t
    for r in range(x.shape[0]):
        for e in range(source.size):
            phase[e % 2, e // 2] = x[r, source[e]]
        row_lo, row_hi = out_lo[r], out_hi[r]
        for j in range(taps):
            e0 = 1 - j + taps  # ext index of k = 0
            src = phase[e0 % 2]
            m0 = np.uint64(e0 // 2)  # unsigned: no negative-index wraparound, so LLVM vectorises
            for k in range(size):
                v = src[m0 + np.uint64(k)]
                row_lo[k] += lo[j] * v
                row_hi[k] += hi[j] * v
    return out_lo, out_hi


def dwt2_symmetric(x: np.ndarray, wavelet: str | pywt.Wavelet = "dmey") -> tuple[np.ndarray, ...]:
    """(cA, cH, cV, cD) of one 2-D DWT level with symmetric borders (PyWavelets ``dwt2(x, w, 'symmetric')``)."""
    w = wavelet if isinstance(wavelet, pywt.Wavelet) else pywt.Wavelet(wavelet)
    lo, hi = np.asarray(w.dec_lo, np.float64), np.asarray(w.dec_hi, np.float64)
    row_lo, row_hi = _dwt_rows(np.ascontiguousarray(as_float(x)[0]), lo, hi)
    ca, ch = (np.ascontiguousarray(c.T) for c in _dwt_rows(np.ascontiguousarray(row_lo.T), lo, hi))
    cv, cd = (np.ascontiguousarray(c.T) for c in _dwt_rows(np.ascontiguousarray(row_hi.T), lo, hi))
    return ca, ch, cv, cd


def wavelet_feature(x: np.ndarray, wavelet: str | pywt.Wavelet = "dmey") -> np.ndarray:
    """One-level DWT mosaic [cA cH; cV cD] ('symmetric' = MATLAB 'sym' border), rescaled to [0,1].

    A constant image gets its exact transform (constant cA, zero details), as in :func:`dct_feature`.
    """
    ca, ch, cv, cd = dwt2_symmetric(x, wavelet)
    if np.ptp(x) == 0:
        ca, ch, cv, cd = np.full_like(ca, ca.mean()), 0 * ch, 0 * cv, 0 * cd
    return _rerange(np.block([[ca, ch], [cv, cd]]))


FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {"FMI_dct": dct_feature, "FMI_w": wavelet_feature}


def fmi_start(fa: np.ndarray, fb: np.ndarray, ff: np.ndarray, pool: Executor | None = None,
              blocks: int = 1) -> Callable[[], float]:
    """Start FMI on feature maps ``fa``, ``fb``, ``ff``; the returned function waits and gives its value.

    With a ``pool`` the rows are split into ``blocks`` parts run as its tasks; the value is the
    same for any split (per-row sums in a fixed order, summed in row order).
    """
    fa, fb, ff = (np.ascontiguousarray(x, dtype=np.float64) for x in (fa, fb, ff))
    rows, cols = ff.shape[0] - 2, ff.shape[1] - 2
    sums = np.zeros(rows)
    if pool is None:
        fmi_row_sums(fa, fb, ff, 0, rows, sums)
        futures = []
    else:
        edges = np.linspace(0, rows, max(1, blocks) + 1).astype(int)
        futures = [pool.submit(fmi_row_sums, fa, fb, ff, int(r0), int(r1), sums)
                   for r0, r1 in zip(edges[:-1], edges[1:]) if r1 > r0]

    def finish() -> float:
        for fut in futures:
            fut.result()
        return float(sums.sum() / (rows * cols))

    return finish


def fmi(a: np.ndarray, b: np.ndarray, f: np.ndarray, feature: Callable[[np.ndarray], np.ndarray]) -> float:
    """Fast feature mutual information (Haghighat & Razian 2014) with a 3x3 window, on ``feature`` maps."""
    return fmi_start(feature(a), feature(b), feature(f))()


def entropy(f: np.ndarray) -> float:
    """Shannon entropy (bits) of the 256-bin grey-level histogram."""
    return entropy_bits(np.bincount(levels(f).ravel(), minlength=256))


def mutual_information(x: np.ndarray, f: np.ndarray) -> float:
    """MI(X,F) in bits, ``MI_evaluation.m`` on uint8: joint histogram with 254/255 merged."""
    xi, fi = levels(x).ravel(), levels(f).ravel()
    joint = np.bincount(np.minimum(fi, 254) * 256 + np.minimum(xi, 254), minlength=256 * 256)
    return entropy(x) + entropy(f) - entropy_bits(joint)
