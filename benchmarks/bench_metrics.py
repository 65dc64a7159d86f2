"""Speed of ``res2netfuse.metrics``: per metric before/after, a DenseFuse fusion as yardstick, folder throughput.

Run: ``OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_metrics.py [--threads 2] [--repeats 5] [--throughput 12]``

All in the same run, on one 768x576 triple (TNO pair 01, DenseFuse) unless said otherwise:

* **before**: the implementation before the metrics were vectorised and compiled (``git show <--baseline>:lib/res2netfuse/metrics.py``,
  loaded as a temporary module; torch FMI engine), its ``evaluate`` for each metric alone and for all
  15 / the paper's six, with ``torch.set_num_threads(--threads)``; **after**: :func:`res2netfuse.metrics.evaluate` with
  ``threads=--threads`` (each metric alone, then the sets) and with one thread (CPU cost). Medians of
  ``--repeats`` after a warm-up; wall and CPU seconds (CPU = all threads of this process, robust to
  other jobs on a shared machine). The baseline's SSIM_a is Wang's (MATLAB's ssim replaced it later), its Qabf
  and Nabf get [0, 255] input: the same work, so the times compare;
* **yardstick**: one DenseFuse fusion of the same pair (``bench_fusion.py``'s ``pipeline`` variant,
  fresh process, ``--threads``) and the ratio metrics / fusion;
* **throughput** (``--throughput N`` triples, 0 to skip): ``evaluate_folders`` on the first TNO pairs
  x 3 peer methods with ``jobs=1`` on one core and on all (threads), ``jobs=2`` processes (their start-up
  included) and a Dask ``LocalCluster`` of 2 single-threaded worker processes (without and with
  the cluster's start-up), in triples per second;
* ``--octave``: the Octave reference driver on the same triple (``reference/tang/run_reference.m``).

The machine's load average is printed before and after: on a shared machine rerun when it is low.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--baseline", default="5f0d74f", help="commit of the implementation before the vectorised metrics")
    p.add_argument("--pair", default="01")
    p.add_argument("--method", default="DenseFuse")
    p.add_argument("--throughput", type=int, default=12, help="triples for the folder throughput (0: skip)")
    p.add_argument("--octave", action="store_true", help="also time the Octave reference driver")
    return p.parse_args()


def load_avg() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn()`` over ``repeats`` calls after one warm-up."""
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def baseline_module(commit: str) -> ModuleType:
    """The metrics module as of ``commit``, imported as ``res2netfuse._metrics_baseline``."""
    source = subprocess.run(["git", "show", f"{commit}:lib/res2netfuse/metrics.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as tmp:
        tmp.write(source)
    spec = importlib.util.spec_from_file_location("res2netfuse._metrics_baseline", tmp.name)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "res2netfuse"  # its relative imports (.io) resolve to the installed package
    spec.loader.exec_module(module)
    os.unlink(tmp.name)
    return module


def densefuse_seconds(threads: int, repeats: int) -> tuple[float, float]:
    """(wall, CPU) seconds of one DenseFuse fusion of TNO pair 01, from ``bench_fusion.py`` in a fresh process."""
    cmd = [sys.executable, str(ROOT / "benchmarks/bench_fusion.py"), "--child", "densefuse", "pipeline",
           "--threads", str(threads), "--repeats", str(repeats)]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    m = json.loads(out.strip().splitlines()[-1])
    return m["seconds"], m["cpu_seconds"]


def octave_seconds(paths: list[Path]) -> dict[str, float] | None:
    """Seconds per metric of the Octave reference driver on one triple, as it reports them."""
    if shutil.which("octave") is None:
        print("octave not found: reference not timed (apt-get install octave octave-image)")
        return None
    import numpy as np
    import pandas as pd
    import pywt

    from res2netfuse.io import load_gray_uint8, save_image

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for role, p in zip("abf", paths):
            save_image(d / f"case_{role}.png", load_gray_uint8(p))
        (d / "cases.txt").write_text("case\n")
        w = pywt.Wavelet("dmey")
        np.savetxt(d / "dmey_filters.txt", np.array([w.dec_lo, w.dec_hi]), fmt="%.17g")
        subprocess.run(["octave", "--no-gui", "-q", str(ROOT / "reference/tang/run_reference.m"), str(d),
                        str(d / "out.csv")], check=True, capture_output=True, cwd=ROOT)
        per = pd.read_csv(d / "out.csv")
        return dict(zip(per.metric, per.seconds))


def throughput(n: int, threads: int) -> list[tuple[str, float, int]]:
    """Triples per second of ``evaluate_folders`` serially, on 2 processes and on a 2-worker LocalCluster."""
    from distributed import Client, LocalCluster

    from res2netfuse import metrics as M

    tno, peers = ROOT / "data/fusion/tno", ROOT / "data/peers/tno"
    methods = sorted(d for d in peers.iterdir() if d.is_dir())[:3]
    stems = sorted(p.stem for p in (tno / "ir").glob("*.png"))[: -(-n // len(methods))]
    args = (tno / "ir", tno / "vi", {d.name: d for d in methods}, M.ALL_METRICS, False, stems)
    rows = []
    cores = os.sched_getaffinity(0)
    for label, kwargs, affinity in (("1 process on 1 core", {"jobs": 1}, {min(cores)}),
                                    (f"1 process, {threads} threads", {"jobs": 1}, cores),
                                    ("2 processes", {"jobs": 2}, cores)):
        os.sched_setaffinity(0, affinity)  # the per-triple threads follow the cores available
        start = time.perf_counter()
        df = M.evaluate_folders(*args, **kwargs)
        rows.append((label, len(df) / (time.perf_counter() - start), len(df)))
        os.sched_setaffinity(0, cores)
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        started = time.perf_counter()
        df = M.evaluate_folders(*args, client=client)
        done = time.perf_counter()
    rows.append(("Dask LocalCluster, 2 workers", len(df) / (done - started), len(df)))
    rows.append((f"  the same, cluster start-up ({started - start:.1f} s) included", len(df) / (done - start), len(df)))
    return rows


def main() -> None:
    args = parse()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    from res2netfuse import metrics as M
    from res2netfuse.io import load_gray_uint8

    torch.set_num_threads(args.threads)
    print(f"load average at start: {load_avg()} ({os.cpu_count()} CPUs)")
    paths = [ROOT / "data/fusion/tno/ir" / f"{args.pair}.png", ROOT / "data/fusion/tno/vi" / f"{args.pair}.png",
             ROOT / "data/peers/tno" / args.method / f"{args.pair}.png"]
    a, b, f = (load_gray_uint8(p) for p in paths)
    old = baseline_module(args.baseline)
    print(f"triple: TNO {args.pair} / {args.method}, {a.shape[1]}x{a.shape[0]}; {args.threads} threads; "
          f"baseline {args.baseline}")

    rows = []
    for m in M.ALL_METRICS:
        before = timed(lambda m=m: old.evaluate(a, b, f, [m]), args.repeats)
        after = timed(lambda m=m: M.evaluate(a, b, f, [m], threads=args.threads), args.repeats)
        rows.append((m, *before, *after))
    for label, names in (("paper's six", M.PAPER_METRICS), ("all 15", M.ALL_METRICS)):
        before = timed(lambda names=names: old.evaluate(a, b, f, names), args.repeats)
        after = timed(lambda names=names: M.evaluate(a, b, f, names, threads=args.threads), args.repeats)
        one = timed(lambda names=names: M.evaluate(a, b, f, names, threads=1), args.repeats)
        rows.append((label, *before, *after))
        rows.append((f"{label}, 1 thread", float("nan"), float("nan"), *one))
    fusion_wall, fusion_cpu = densefuse_seconds(args.threads, args.repeats)
    print(f"\nDenseFuse fusion of the same pair ({args.threads} threads): {fusion_wall:.3f} s wall, "
          f"{fusion_cpu:.3f} s CPU")
    print("\n| metric | before wall [s] | before CPU [s] | after wall [s] | after CPU [s] | speed-up (wall) | "
          "after / DenseFuse fusion (wall) |\n|---|---|---|---|---|---|---|")
    for name, bw, bc, aw, ac in rows:
        speed = f"{bw / aw:.1f}x" if bw == bw else "-"
        print(f"| {name} | {bw:.3f} | {bc:.3f} | {aw:.3f} | {ac:.3f} | {speed} | {aw / fusion_wall:.2f} |")
    if args.octave:
        ref = octave_seconds(paths)
        if ref:
            print("\nOctave reference driver: " + ", ".join(f"{m} {ref[m]:.2f} s" for m in M.ALL_METRICS if m in ref))
    if args.throughput:
        print(f"\nfolder throughput, {args.throughput} triples (TNO pairs x 3 peer methods), all 15 metrics:")
        for label, rate, count in throughput(args.throughput, args.threads):
            print(f"| {label} | {count} | {rate:.2f} triples/s |")
    print(f"\nload average at end: {load_avg()}")


if __name__ == "__main__":
    sys.exit(main())
