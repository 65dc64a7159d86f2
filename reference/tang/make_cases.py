"""Write the triples scored by ``run_reference.m`` (GNU Octave) into a folder.

Real cases: TNO pairs x peer methods from ``data/`` (copied as 8-bit gray PNGs, RGB peers
converted with res2netfuse.io's MATLAB ``rgb2gray`` rule). Synthetic cases: small integer
images from :func:`synthetic_cases` (also used by the tests, which rebuild them instead of
reading files). Also writes PyWavelets' 'dmey' filters for the driver's ``dwt2``. With ``--ssim``:
every TNO pair x every peer method (:data:`SSIM_REAL`), for the SSIM-only reference
``expected_ssim.csv``.

    python reference/tang/make_cases.py /tmp/metrics_ref
    octave --no-gui -q reference/tang/run_reference.m /tmp/metrics_ref reference/tang/expected.csv
    python reference/tang/make_cases.py --ssim /tmp/metrics_ssim
    octave --no-gui -q reference/tang/run_reference.m /tmp/metrics_ssim reference/tang/expected_ssim.csv ssim
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pywt

from res2netfuse.io import load_gray_uint8, save_image
from res2netfuse.metrics.reference import case_paths

REAL = [(pair, method) for pair in ("01", "07", "15") for method in ("DenseFuse", "SeAFusion", "FusionGAN")]
PEERS = ("DenseFuse", "FusionGAN", "IFCNN", "PIAFusion", "PMGI", "RFN-Nest", "SDNet", "SeAFusion", "U2Fusion")
SSIM_REAL = [(f"{pair:02d}", method) for pair in range(1, 43) for method in PEERS]


def synthetic_cases() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Small deterministic (A, B, F) uint8 triples, odd sizes and degenerate content on purpose."""
    rng = np.random.default_rng(20240501)
    h, w = 61, 67
    yy, xx = np.mgrid[0:h, 0:w]
    a = (128 + 100 * np.sin(xx / 5.0) * np.cos(yy / 7.0)).round()
    a = np.clip(a + rng.integers(-8, 9, (h, w)), 0, 255).astype(np.uint8)
    b = np.where((xx // 16 + yy // 16) % 2 == 0, 60, 190).astype(np.int64)  # flat blocks
    b = np.clip(b + (xx > 40) * rng.integers(-20, 21, (h, w)), 0, 255).astype(np.uint8)
    f_avg = ((a.astype(np.int64) + b) // 2).astype(np.uint8)
    f_max = np.maximum(a, b)
    noise = rng.integers(0, 256, (h, w)).astype(np.uint8)
    return {
        "syn_mean": (a, b, f_avg),
        "syn_max": (a, b, f_max),
        "syn_f_is_a": (a, b, a.copy()),
        "syn_const_f": (a, b, np.full((h, w), 77, np.uint8)),
        "syn_noise_f": (a, b, noise),
        "syn_const_b": (a, np.full((h, w), 200, np.uint8), f_avg),
    }


def main(out: Path, ssim_only: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for pair, method in SSIM_REAL if ssim_only else REAL:
        case = f"tno{pair}_{method}"
        for role, p in zip("abf", case_paths(case)):
            save_image(out / f"{case}_{role}.png", load_gray_uint8(p))
        lines.append(case)
    for case, images in {} if ssim_only else synthetic_cases().items():
        for role, img in zip("abf", images):
            save_image(out / f"{case}_{role}.png", img)
        lines.append(case)
    (out / "cases.txt").write_text("\n".join(lines) + "\n")
    w = pywt.Wavelet("dmey")
    np.savetxt(out / "dmey_filters.txt", np.array([w.dec_lo, w.dec_hi]), fmt="%.17g")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--ssim"]
    main(Path(args[0] if args else "/tmp/metrics_ref"), ssim_only="--ssim" in sys.argv[1:])
