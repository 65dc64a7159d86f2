"""Compiled per-window kernel of fast-FMI (``analysis_fmi.m``, window 3): sums of (FMI_AF + FMI_BF) / 2 per row.

For each 3x3 window (elements in MATLAB column-major order, positions 1..9) of the feature maps
A, B, F: the window's values, min-max normalised (all ones if constant) and divided by their sum,
are a "pdf" over the 9 positions. Between F's pdf f and a source's pdf x, with Pearson correlation
c of the two pdf vectors, the joint pdf is phi U + (1 - phi) f_i x_j: U the upper Frechet bound
(comonotone coupling, c >= 0) or the lower one (c < 0, = comonotone with x reversed), phi = c /
corr(U), and FMI_XF = 2 MI / (H(f) + H(x)) (0 where MI = 0; 1 for a window equal to F's).

U is non-zero only on the 17 cells met while merging the two cdfs (breakpoints F_1..F_8 and
X_1..X_8, ties: F first): the segment ending at F_i lies in cell (i, #{X_j < F_i}), the one ending
at X_j in (#{F_i <= X_j}, j), the last one in (9, 9). So the joint entropy is the independent part
in closed form, -(1-phi) log2|1-phi| + (1-phi)(H(f) + H(x)), plus a correction on those cells;
corr(U) follows from the same cells (Hoeffding's covariance identity). -p log2|p| is used for
p < 0 (MATLAB's ``real(-p.*log2(p))``). Quirk kept: B's equality test compares with F's window
already normalised for A (the reference normalises F in place), unless A's window equalled F's.

Speed: the windows of a row segment are processed as a structure of arrays -- one loop over the
windows per stage, every quantity a row of a scratch buffer at compile-time offsets, the merge as
comparison counts and selects, log2 as arithmetic (:func:`_log2`) -- so LLVM vectorises every stage
(8 windows per AVX-512 instruction). That needs the 8x8 comparison loops fully unrolled, above
LLVM's default unroll budget: the kernels are compiled at import with a raised threshold, which
is put back to numba's -O3 default right after (numba has no per-function setting). Results
do not depend on the segmentation or on the threads running row blocks (each row is summed in a
fixed order); they differ from a scalar evaluation of the same formulas by rounding (~1e-16).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import llvmlite.binding as llvm
import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._common import JIT

SEG = 256  # scratch columns: a row is processed in segments of at most SEG - 2 windows
STRIDE = SEG + 16  # scratch row length: not a power of two, so the ~50 rows a stage touches do not
# all fall into the same few L1 cache sets (1.2x faster than a stride of 256)
# scratch rows (offsets are compile-time constants: LLVM proves the stages free of dependences)
RA, RB, RF, RX = 0, 3, 6, 9  # the segment's 3 rows of A, B, F, and of the current source X
FN, PF, CF = 12, 21, 30  # F: normalised window (9), pdf (9), cdf (8)
EF, SDF, MF, HF, SFF, EQA, EQB = 38, 39, 40, 41, 42, 43, 44  # F: mean, sd, mean pdf, entropy, sum sq dev; A=F, B=F
PX, PY, CY = 45, 54, 63  # X: pdf (9), pdf reversed for c < 0 (9), cdf of that (8)
EX, SDX, MX, HX, NEG, CORR, EQX = 71, 72, 73, 74, 75, 76, 77  # X: mean, sd, mean pdf, entropy, c < 0, c, X=F
LEN, JF, IY, PHI = 78, 95, 103, 111  # cells: lengths (17), column of F-cells (8), row of X-cells (8), phi
NX, OUT, ROWS = 112, 121, 122  # X's normalised window (9); sum of the two sides' FMI


@intrinsic
def _bits(typingctx, x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The IEEE-754 bits of a float64 as int64 (a bit cast)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, x):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """The float64 with the given IEEE-754 bits (a bit cast)."""
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


_SQRT2, _TWO_LOG2E = math.sqrt(2.0), 2.0 / math.log(2.0)


@numba.njit(inline="always", **JIT)
def _log2(x: float) -> float:  # pragma: no cover - compiled
    """log2 of a positive normal float64 to ~1 ulp, vectorisable (libm's log2 is a call LLVM cannot).

    x = 2^e m with m in [sqrt(1/2), sqrt(2)); log2(m) = (2 / ln 2) atanh(t), t = (m - 1) / (m + 1),
    |t| < 0.172, atanh(t) = t (1 + t^2/3 + t^4/5 + ... + t^20/21) (the next term is < 2^-56 t).
    """
    bits = _bits(x)
    e = ((bits >> 52) & 0x7FF) - 1023
    m = _from_bits((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > _SQRT2
    m = 0.5 * m if big else m
    exponent = e + 1.0 if big else e + 0.0
    t = (m - 1.0) / (m + 1.0)
    t2 = t * t
    p = 1.0 / 21
    for k in range(9, -1, -1):
        p = p * t2 + 1.0 / (2 * k + 1)
    return exponent + _TWO_LOG2E * t * p


@numba.njit(inline="always", **JIT)
def _xlog2x(p: float) -> float:  # pragma: no cover - compiled
    """p log2|p|, 0 at p = 0."""
    v = p * _log2(abs(p))
    return 0.0 if p == 0 else v


@numba.njit(inline="always", **JIT)
def _at(row: int, w: int) -> np.uint64:  # pragma: no cover - compiled
    """Scratch index of (row, window w); unsigned, so numba emits no negative-index wraparound."""
    return np.uint64(row * STRIDE + w)


@numba.njit(**JIT)
def _pdf_stage(m: int, s: np.ndarray) -> None:  # pragma: no cover - compiled
    """The windows of rows RX min-max normalised (rows NX; all ones if flat) and divided by their sum
    (rows PX): the pdf over the 9 positions, its mean and sd position, mean value and entropy (bits)."""
    for w in range(m):
        lo = hi = s[_at(RX, w)]
        for k in range(9):
            v = s[_at(RX + k % 3, w + k // 3)]
            lo = min(lo, v)
            hi = max(hi, v)
        flat = hi == lo
        span = 1.0 if flat else hi - lo
        total = 0.0
        for k in range(9):
            q = (s[_at(RX + k % 3, w + k // 3)] - lo) / span
            q = 1.0 if flat else q
            s[_at(NX + k, w)] = q
            total += q
        mean = e2 = mp = h = 0.0
        for k in range(9):
            p = s[_at(NX + k, w)] / total
            s[_at(PX + k, w)] = p
            mean += (k + 1) * p
            e2 += (k + 1) * (k + 1) * p
            mp += p
            h -= _xlog2x(p)
        s[_at(EX, w)] = mean
        s[_at(SDX, w)] = math.sqrt(max(e2 - mean * mean, 0.0))
        s[_at(MX, w)] = mp / 9
        s[_at(HX, w)] = h


@numba.njit(**JIT)
def _f_stage(m: int, s: np.ndarray) -> None:  # pragma: no cover - compiled
    """F's cdfs and the equality flags of A's and B's windows (after F's pdfs are in FN, PF, EF..HF)."""
    for w in range(m):
        mf = s[_at(MF, w)]
        eq_a = eq_b = eq_bn = True
        sff = run = 0.0
        for k in range(9):
            v, bv = s[_at(RF + k % 3, w + k // 3)], s[_at(RB + k % 3, w + k // 3)]
            eq_a = eq_a & (s[_at(RA + k % 3, w + k // 3)] == v)
            eq_b = eq_b & (bv == v)
            eq_bn = eq_bn & (bv == s[_at(FN + k, w)])
            d = s[_at(PF + k, w)] - mf
            sff += d * d
            if k < 8:
                run += s[_at(PF + k, w)]
                s[_at(CF + k, w)] = run
        s[_at(SFF, w)] = sff
        s[_at(EQA, w)] = 1.0 if eq_a else 0.0
        s[_at(EQB, w)] = 1.0 if (eq_b if eq_a else eq_bn) else 0.0


@numba.njit(**JIT)
def _x_stage(m: int, s: np.ndarray) -> None:  # pragma: no cover - compiled
    """The source X's correlation with F's pdf, and its pdf and cdf as merged with F's (reversed for c < 0)."""
    for w in range(m):
        mx, mf = s[_at(MX, w)], s[_at(MF, w)]
        sxy = sxx = 0.0
        for k in range(9):
            d = s[_at(PX + k, w)] - mx
            sxy += d * (s[_at(PF + k, w)] - mf)
            sxx += d * d
        den = math.sqrt(sxx * s[_at(SFF, w)])
        corr = sxy / (den if den > 0 else 1.0)
        corr = 0.0 if sxy == 0 else corr
        neg = corr < 0
        run = 0.0
        for k in range(9):
            reverse, forward = s[_at(PX + 8 - k, w)], s[_at(PX + k, w)]
            py = reverse if neg else forward
            s[_at(PY + k, w)] = py
            if k < 8:
                run += py
                s[_at(CY + k, w)] = run
        s[_at(NEG, w)] = 1.0 if neg else 0.0
        s[_at(CORR, w)] = corr


@numba.njit(**JIT)
def _cell_stage(m: int, s: np.ndarray) -> None:  # pragma: no cover - compiled
    """The 17 cells of the Frechet coupling (lengths, positions) and phi = c / corr(U)."""
    for w in range(m):
        neg = s[_at(NEG, w)] != 0
        cov = prev = 0.0
        for i in range(8):  # segments ending at F_i: cell (i, jf)
            cfi = s[_at(CF + i, w)]
            jf = below = 0.0
            for j in range(8):
                cyj = s[_at(CY + j, w)]
                lt = cyj < cfi
                jf += 1.0 if lt else 0.0
                below = cyj if lt else below
            length = cfi - max(prev, below)
            prev = cfi
            cov += length * (i + 1) * (9.0 - jf if neg else jf + 1.0)
            s[_at(LEN + i, w)] = length
            s[_at(JF + i, w)] = jf
        prev = 0.0
        for j in range(8):  # segments ending at X_j: cell (iy, j)
            cyj = s[_at(CY + j, w)]
            iy = below = 0.0
            for i in range(8):
                cfi = s[_at(CF + i, w)]
                le = cfi <= cyj
                iy += 1.0 if le else 0.0
                below = cfi if le else below
            length = cyj - max(prev, below)
            prev = cyj
            cov += length * (iy + 1.0) * (9.0 - j if neg else j + 1.0)
            s[_at(LEN + 8 + j, w)] = length
            s[_at(IY + j, w)] = iy
        length = 1.0 - max(s[_at(CF + 7, w)], s[_at(CY + 7, w)])
        cov += length * 9.0 * (1.0 if neg else 9.0) - s[_at(EF, w)] * s[_at(EX, w)]
        s[_at(LEN + 16, w)] = length
        sdf, sdx, corr = s[_at(SDF, w)], s[_at(SDX, w)], s[_at(CORR, w)]
        ok = (sdx > 0) & (sdf > 0) & (neg | (corr > 0))
        bound = cov / (sdf * sdx if ok else 1.0)
        phi = corr / (bound if bound != 0 else 1.0)
        s[_at(PHI, w)] = phi if ok else 0.0


@numba.njit(**JIT)
def _joint_stage(m: int, s: np.ndarray) -> None:  # pragma: no cover - compiled
    """FMI_XF from the entropies and the joint entropy's correction on the cells; added to OUT."""
    for w in range(m):
        phi = s[_at(PHI, w)]
        rest = 1.0 - phi
        hsum = s[_at(HX, w)] + s[_at(HF, w)]
        joint = rest * hsum - _xlog2x(rest)
        for c in range(17):
            if c < 8:  # F-cell (c, jf): x's pdf at column jf, selected by products with 0/1 (exact)
                pf, jf, py = s[_at(PF + c, w)], s[_at(JF + c, w)], 0.0
                for j in range(9):
                    py += s[_at(PY + j, w)] * (1.0 if jf == j else 0.0)
            elif c < 16:  # X-cell (iy, c - 8)
                py, iy, pf = s[_at(PY + c - 8, w)], s[_at(IY + c - 8, w)], 0.0
                for i in range(9):
                    pf += s[_at(PF + i, w)] * (1.0 if iy == i else 0.0)
            else:
                pf, py = s[_at(PF + 8, w)], s[_at(PY + 8, w)]
            ind = rest * pf * py
            joint += _xlog2x(ind) - _xlog2x(phi * s[_at(LEN + c, w)] + ind)
        mi = hsum - joint
        fmi = 2 * mi / (hsum if hsum != 0 else 1.0)
        fmi = 0.0 if (mi == 0) | (hsum == 0) else fmi
        s[_at(OUT, w)] += 1.0 if s[_at(EQX, w)] != 0 else fmi


@numba.njit(inline="always", **JIT)
def _copy(s: np.ndarray, src: int, dst: int, rows: int, m: int) -> None:  # pragma: no cover - compiled
    """Scratch rows src..src+rows-1 (first m columns) to rows dst..dst+rows-1."""
    for r in range(rows):
        for w in range(m):
            s[_at(dst + r, w)] = s[_at(src + r, w)]


@contextmanager
def _unroll_budget(threshold: int) -> Iterator[None]:
    """LLVM's loop-unroll threshold raised while compiling, then set back to the -O3 default (300)."""
    llvm.set_option("", f"-unroll-threshold={threshold}")
    try:
        yield
    finally:
        llvm.set_option("", "-unroll-threshold=300")


with _unroll_budget(3000):
    @numba.njit("void(f8[:, ::1], f8[:, ::1], f8[:, ::1], i8, i8, f8[::1])", **JIT)  # compiled at import
    def fmi_row_sums(fa: np.ndarray, fb: np.ndarray, ff: np.ndarray, r0: int, r1: int,
                     out: np.ndarray) -> None:  # pragma: no cover - compiled
        """``out[r] = sum over the 3x3 windows of row r of (FMI_AF + FMI_BF) / 2``, for r0 <= r < r1."""
        s = np.zeros(ROWS * STRIDE)
        cols = ff.shape[1] - 2
        parts = -(-cols // (SEG - 2))
        width = -(-cols // parts)
        for r in range(r0, r1):
            acc = 0.0
            for c0 in range(0, cols, width):
                m = min(width, cols - c0)
                for dr in range(3):
                    for w in range(m + 2):
                        s[_at(RA + dr, w)] = fa[r + dr, c0 + w]
                        s[_at(RB + dr, w)] = fb[r + dr, c0 + w]
                        s[_at(RF + dr, w)] = ff[r + dr, c0 + w]
                _copy(s, RF, RX, 3, m + 2)
                _pdf_stage(m, s)
                _copy(s, NX, FN, 9, m)
                _copy(s, PX, PF, 9, m)
                _copy(s, EX, EF, 4, m)  # mean, sd, mean pdf, entropy
                _f_stage(m, s)
                for w in range(m):
                    s[_at(OUT, w)] = 0.0
                for src, eq in ((RA, EQA), (RB, EQB)):
                    _copy(s, src, RX, 3, m + 2)
                    _copy(s, eq, EQX, 1, m)
                    _pdf_stage(m, s)
                    _x_stage(m, s)
                    _cell_stage(m, s)
                    _joint_stage(m, s)
                for w in range(m):
                    acc += s[_at(OUT, w)] / 2
            out[r] = acc
