"""Speed of ``res2netfuse.metrics`` vs the MATLAB toolbox run under GNU Octave, same triple, same run.

Run: ``OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_metrics.py [--threads 2] [--repeats 3] [--full]``

* one 768x576 triple (TNO pair 01, DenseFuse): all 15 metrics, median of ``--repeats`` after a
  warm-up, wall and CPU seconds, plus the per-metric split;
* the Octave reference (``tests/reference/run_reference.m``: the toolbox functions, with the loops of
  FMI, MEF-SSIM, Qabf and Nabf vectorised -- the loop code itself takes minutes per image) on the
  same triple in the same run, and the ratio; skipped with a message when ``octave`` is missing;
* ``--loop-code``: the toolbox's own loop code (``tests/reference/time_loop_code.m``): Qabf, Nabf and
  MI on the whole image; FMI_dct and MEF-SSIM on a centred crop (``--crop`` px), scaled to the full
  image by the number of windows (an extrapolation, reported as such);
* ``--full``: the whole TNO set (42 pairs x 9 peer methods) through ``evaluate_folders``.

Threads: ``torch.set_num_threads`` and the BLAS/OpenMP variables are set to ``--threads`` before
the libraries load (the issue's budget is 2 cores).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--pair", default="01")
    p.add_argument("--method", default="DenseFuse")
    p.add_argument("--full", action="store_true", help="also time all 42 pairs x 9 peers")
    p.add_argument("--loop-code", action="store_true", help="also time the toolbox's loop code (slow)")
    p.add_argument("--crop", type=int, default=64, help="crop side for the loop-code FMI / MEF-SSIM [px]")
    return p.parse_args()


def timed(fn, repeats: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median wall and CPU seconds of ``fn()`` over ``repeats`` calls after one warm-up."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def _write_case(paths: list[Path], d: Path) -> None:
    from res2netfuse.io import load_gray_uint8, save_image

    for role, p in zip("abf", paths):
        save_image(d / f"case_{role}.png", load_gray_uint8(p))


def loop_code_seconds(paths: list[Path], crop: int) -> dict[str, float]:
    """Seconds of the toolbox's loop code per metric; FMI/MEF-SSIM scaled from a crop by window count."""
    from res2netfuse.io import load_gray_uint8

    h, w = load_gray_uint8(paths[0]).shape
    with tempfile.TemporaryDirectory() as tmp:
        _write_case(paths, Path(tmp))
        out = subprocess.run(["octave", "--no-gui", "-q", str(ROOT / "tests/reference/time_loop_code.m"), tmp,
                              str(crop)], check=True, capture_output=True, text=True).stdout
    seconds = {}
    for line in out.split():
        metric, region, s = line.split(",")
        if region == "crop" and metric == "FMI_dct":  # 3x3 windows
            seconds[metric] = float(s) * (h - 2) * (w - 2) / (crop - 2) ** 2
        elif region == "crop":  # MEF-SSIM: 11x11 windows at 3 scales
            full = sum((h // 2**k - 10) * (w // 2**k - 10) for k in range(3))
            seconds[metric] = float(s) * full / sum((crop // 2**k - 10) ** 2 for k in range(3))
        else:
            seconds[metric] = float(s)
    return seconds


def octave_seconds(paths: list[Path]) -> tuple[float, dict[str, float]] | None:
    """Wall seconds of the Octave reference on one triple (total, and per metric as it reports)."""
    if shutil.which("octave") is None:
        print("octave not found: reference not timed (apt-get install octave octave-image)")
        return None
    import numpy as np
    import pandas as pd
    import pywt

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _write_case(paths, d)
        (d / "cases.txt").write_text("case\n")
        w = pywt.Wavelet("dmey")
        np.savetxt(d / "dmey_filters.txt", np.array([w.dec_lo, w.dec_hi]), fmt="%.17g")
        start = time.perf_counter()
        subprocess.run(["octave", "--no-gui", "-q", str(ROOT / "tests/reference/run_reference.m"), str(d),
                        str(d / "out.csv")], check=True, capture_output=True)
        total = time.perf_counter() - start
        per = pd.read_csv(d / "out.csv")
        per = per[~per.metric.str.endswith("_unit_scale")]
        return total, dict(zip(per.metric, per.seconds))


def main() -> None:
    args = parse()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from res2netfuse import metrics as M
    from res2netfuse.io import load_gray_uint8

    torch.set_num_threads(args.threads)
    tno = ROOT / "data/fusion/tno"
    paths = [tno / "ir" / f"{args.pair}.png", tno / "vi" / f"{args.pair}.png",
             ROOT / "data/peers/tno" / args.method / f"{args.pair}.png"]
    a, b, f = (load_gray_uint8(p) for p in paths)
    print(f"triple: TNO {args.pair} / {args.method}, {a.shape[1]}x{a.shape[0]}, {args.threads} threads")
    wall, cpu = timed(lambda: M.evaluate(a, b, f), args.repeats)
    paper_wall, _ = timed(lambda: M.evaluate(a, b, f, M.PAPER_METRICS), args.repeats)
    print(f"ours, all 15 metrics: {wall:.3f} s wall, {cpu:.3f} s CPU; the paper's six: {paper_wall:.3f} s wall")
    af, bf, ff = (x.astype(float) for x in (a, b, f))
    per_metric = {m: timed(lambda m=m: M._METRICS[m](af, bf, ff), 1)[0] for m in M.ALL_METRICS}
    ref = octave_seconds(paths)
    print(f"{'metric':8s} {'ours [s]':>9s} {'octave [s]':>11s}")
    for m in M.ALL_METRICS:
        o = f"{ref[1][m]:11.3f}" if ref else f"{'-':>11s}"
        print(f"{m:8s} {per_metric[m]:9.3f} {o}")
    if ref:
        print(f"Octave reference (whole script incl. start-up): {ref[0]:.1f} s; metrics alone "
              f"{sum(ref[1].values()):.1f} s -> ratio {sum(ref[1].values()) / wall:.1f}x "
              f"(start-up included: {ref[0] / wall:.1f}x)")
    if ref and args.loop_code:
        loops = loop_code_seconds(paths, args.crop)
        print("toolbox loop code (FMI_dct, MS_SSIM extrapolated from a crop by window count): "
              + ", ".join(f"{m} {v:.1f} s ({v / per_metric[m]:.0f}x ours)" for m, v in loops.items()))
        slowest = {**ref[1], **loops, "FMI_w": loops["FMI_dct"]}  # FMI_w runs the same loop as FMI_dct
        print(f"reference with its loop code: ~{sum(slowest.values()):.0f} s per triple "
              f"-> ratio ~{sum(slowest.values()) / wall:.0f}x")
    if args.full:
        peers = ROOT / "data/peers/tno"
        dirs = sorted(d for d in peers.iterdir() if d.is_dir())
        start = time.perf_counter()
        df = M.evaluate_folders(tno / "ir", tno / "vi", dirs)
        total = time.perf_counter() - start
        print(f"whole TNO set: {len(df)} triples in {total:.0f} s ({total / len(df):.2f} s per triple)")


if __name__ == "__main__":
    sys.exit(main())
