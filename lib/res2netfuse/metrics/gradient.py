"""Edge-based metrics: Q^{AB/F} (Xydeas & Petrovic 2000) and N^{AB/F} (Shreyamsha Kumar 2013).

**Qabf** (``analysis_Qabf.m``): per pixel, Sobel strength g and orientation alpha of A, B, F;
edge preservation Q^{XF} = Q_g Q_alpha with sigmoids Q_g = Tg / (1 + exp(kg (G^{XF} - Dg))),
Q_alpha = Ta / (1 + exp(ka (A^{XF} - Da))), G^{XF} = min(g_X, g_F) / max(g_X, g_F),
A^{XF} = 1 - |alpha_X - alpha_F| / (pi/2); Tg = 0.9994, kg = -15, Dg = 0.5, Ta = 0.9879, ka = -22,
Da = 0.8; Q_abf = sum(Q^{AF} g_A + Q^{BF} g_B) / sum(g_A + g_B). Sobel gradients ``conv2(., 'same')``
(zero padding). Quirks kept: alpha = pi/2 where the x-gradient is exactly 0, and G^{XF} = g_F
(not 1) where g_X == g_F exactly -- so the value depends on the input scale.

**Nabf** (``analysis_nabf.m``, modified artefact measure): Sobel / 8 with mirrored borders;
N_abf = sum over pixels where g_F > g_A and g_F > g_B of ((1 - Q^{AF}) w_A + (1 - Q^{BF}) w_B)
/ sum(w_A + w_B), w = g^L where g >= Td else wt_min; Td = 2, wt_min = 0.001, L = 1.5,
Q from sigmoids with Nrg = 0.9999, kg = 19, sigmag = 0.5, Nra = 0.9995, ka = 22, sigmaa = 0.5.
The threshold Td = 2 is in grey levels: on [0, 1] input it never fires.

Scale: the paper's wrapper (``analysis_Reference.m``) passes ``im2double`` images, i.e. [0, 1];
``evaluate(..., convention="paper")`` does the same, ``"toolbox"`` passes [0, 255] (each
function's own documented range). On integer-valued [0, 255] input the gradients are exact and so
are the quirks' equality tests. On [0, 1] input those tests see last-bit rounding, so the Sobel
sums are done in the toolbox's order: Q_abf's ``conv2(., 'same')`` as GNU Octave 7 sums it
(columns of the flipped kernel left to right, rows bottom to top, one running sum), N_abf's
``sobel_fn.m`` as its ``sum(sum(window .* mask))`` does (each column top to bottom, then the
column sums). With that, Q_abf and N_abf on [0, 1] agree with the toolbox under Octave to
rounding; MATLAB's own ``conv2`` may sum in another order, which moves Q_abf by up to ~1 % on some
TNO images (exact arithmetic vs Octave's order, measured on the reference triples). N_abf on
[0, 1] is mostly such rounding artefacts (its Td never fires): treat it with care.
"""

from __future__ import annotations

import numba
import numpy as np

from ._common import JIT, as_float

_SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])  # analysis_Qabf.m h3, sobel_fn vtemp * 8
_SOBEL_Y = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])  # analysis_Qabf.m h1


@numba.njit("f8[:, ::1](f8[:, ::1], f8[:, ::1], b1)", **JIT)  # compiled at import
def _correlate3x3(xp: np.ndarray, k: np.ndarray, column_sums: bool) -> np.ndarray:  # pragma: no cover
    """``out[r, c] = sum(xp[r:r+3, c:c+3] * k)`` ('valid'), summed in a fixed order from +0.

    ``column_sums=False``: one running sum over columns left to right, rows bottom to top (Octave's
    ``conv2`` with the flipped kernel); ``True``: each column top to bottom, then the column sums
    left to right (MATLAB ``sum(sum(.))``).
    """
    out = np.empty((xp.shape[0] - 2, xp.shape[1] - 2))
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            total = 0.0
            for q in range(3):
                if column_sums:
                    col = 0.0
                    for p in range(3):
                        col += xp[r + p, c + q] * k[p, q]
                    total += col
                else:
                    for p in range(2, -1, -1):
                        total += k[p, q] * xp[r + p, c + q]
            out[r, c] = total
    return out


def _sobel_conv2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Sx, Sy) = conv2(x, h3, 'same'), conv2(x, h1, 'same') (zero padding; a convolution flips the kernel)."""
    xp = np.pad(x, 1)
    return (_correlate3x3(xp, np.ascontiguousarray(_SOBEL_X[::-1, ::-1]), False),
            _correlate3x3(xp, np.ascontiguousarray(_SOBEL_Y[::-1, ::-1]), False))


def _sobel_fn(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sobel_fn.m``: (gv, gh) = the /8 Sobel masks on the image reflected by one pixel (``per_extn_im_fn``)."""
    xp = np.pad(x, 1, mode="reflect")
    return _correlate3x3(xp, _SOBEL_X / 8, True), _correlate3x3(xp, np.ascontiguousarray(-_SOBEL_Y) / 8, True)


def qabf(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Q^{AB/F} of Xydeas & Petrovic (2000) with ``analysis_Qabf.m``'s constants and quirks."""
    tg, kg, dg, ta, ka, da = 0.9994, -15.0, 0.5, 0.9879, -22.0, 0.8
    a, b, f = as_float(a, b, f)

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
    a, b, f = as_float(a, b, f)

    def sobel8(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        gv, gh = _sobel_fn(x)
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
