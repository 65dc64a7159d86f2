"""Fusion speed and peak memory per 768x576 pair, Res2NetFuse vs DenseFuse, optimisations ablated.

Run: ``OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_fusion.py [--threads 2] [--repeats 5] [--checkpoint P]``

A pair costs two encodes and one decode (l1 strategy, minmax mapping) on TNO pair 01 (768x576).
Every (model, variant) runs in its own fresh process (the memory setting is process-wide and
peak RSS is per process) with ``torch.set_num_threads(--threads)``; the time is the median of
``--repeats`` pairs after one warm-up pair, all in the same run. Variants:

* ``plain``: the first version -- NCHW, ``torch.no_grad``, two separate encodes, default malloc;
* ``pipeline``: ``res2netfuse.pipeline.fuse_arrays`` as shipped (channels-last, inference mode,
  one batched encode, :func:`retain_freed_memory`);
* ``pipeline - X``: the pipeline without one of its optimisations, to show what each brings.

Prints wall seconds per pair, CPU seconds (all threads; less sensitive to other processes on a
shared machine), minor page faults per pair, the speed-ups over ``plain``, the ratio Res2NetFuse /
DenseFuse, the peak RSS of the process and the achieved GFLOP/s (2 x multiply-adds of the three passes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from res2netfuse import io, pipeline, runtime
from res2netfuse.baselines import load_densefuse
from res2netfuse.fusion import fuse_features
from res2netfuse.model import load_checkpoint
from res2netfuse.weights import default_weights

VARIANTS = {  # name: (channels_last, batched encode, inference_mode, retain freed memory)
    "plain": (False, False, False, False),
    "pipeline": (True, True, True, True),
    "pipeline - retain_freed_memory": (True, True, True, False),
    "pipeline - channels_last": (False, True, True, True),
    "pipeline - batched encode": (True, False, True, True),
    "pipeline - inference_mode": (True, True, False, True),
}


@dataclass
class Measurement:
    seconds: float  # wall clock, median
    cpu_seconds: float  # user + system time of all threads, median (robust to other load on the machine)
    page_faults: float  # minor page faults per pair, median
    peak_rss_mib: float
    gflop: float


def gflop_per_pair(model: torch.nn.Module, h: int, w: int) -> float:
    """``2 x`` the multiply-adds of two encodes and one decode of an h x w pair (stride-1 convs,
    so counted per pixel on an 8 x 8 input with forward hooks, which also count reused layers)."""
    macs = {"n": 0}

    def hook(mod: torch.nn.Conv2d, _inp: object, out: torch.Tensor) -> None:
        macs["n"] += out.numel() * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1] // mod.groups

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        phi = model.encode(torch.zeros(1, 1, 8, 8))
        encode = macs["n"]
        model.decode(phi)
    for handle in handles:
        handle.remove()
    decode = macs["n"] - encode
    return 2 * (2 * encode + decode) / 64 * h * w / 1e9


def measure(model_name: str, variant: str, checkpoint: str | None, repeats: int) -> Measurement:
    """Time one (model, variant) in this process (called in a fresh subprocess)."""
    channels_last, batched, inference, retain = VARIANTS[variant]
    ir, vi = io.load_gray_pair("data/fusion/tno/ir/01.png", "data/fusion/tno/vi/01.png")
    if variant == "pipeline":
        model = pipeline.load_model(model_name, checkpoint, device="cpu")  # type: ignore[arg-type]

        def fuse() -> None:
            pipeline.fuse_arrays(model, ir, vi, "l1", "minmax")
    else:
        if retain:
            runtime.retain_freed_memory()
        path = checkpoint or default_weights(model_name)
        model = load_checkpoint(path) if model_name == "res2netfuse" else load_densefuse(path)
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        model = model.to(memory_format=fmt).eval()
        s = model.input_scale

        def fuse() -> None:
            ctx = torch.inference_mode() if inference else torch.no_grad()
            with ctx:
                if batched:
                    x = (torch.from_numpy(np.stack([ir, vi])[:, None]) * s).contiguous(memory_format=fmt)
                    phi = model.encode(x)
                    phi_a, phi_b = phi[:1], phi[1:]
                else:
                    phi_a = model.encode((torch.from_numpy(ir)[None, None] * s).contiguous(memory_format=fmt))
                    phi_b = model.encode((torch.from_numpy(vi)[None, None] * s).contiguous(memory_format=fmt))
                fused, _, _ = fuse_features("l1", phi_a, phi_b)
                raw = (model.decode(fused)[0, 0] / s).numpy()
            io.to_uint8(raw, "minmax")

    fuse()  # warm-up
    wall, cpu, faults = [], [], []
    for _ in range(repeats):
        before, start, cpu_start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter(), time.process_time()
        fuse()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before.ru_minflt)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Measurement(statistics.median(wall), statistics.median(cpu), statistics.median(faults), peak,
                       gflop_per_pair(model, *ir.shape))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--checkpoint", default=None,
                        help="Res2NetFuse checkpoint (default: the model shipped with the package)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:
        print(json.dumps(measure(*args.child, args.checkpoint, args.repeats).__dict__))
        return
    rows = []
    for model_name in ("res2netfuse", "densefuse"):
        for variant in args.variants:
            cmd = [sys.executable, __file__, "--child", model_name, variant, "--threads", str(args.threads),
                   "--repeats", str(args.repeats)]
            if args.checkpoint and model_name == "res2netfuse":
                cmd += ["--checkpoint", args.checkpoint]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=os.environ).stdout
            m = json.loads(out.strip().splitlines()[-1])
            rows.append({"model": model_name, "variant": variant, **m})
            print(f"{model_name:12s} {variant:32s} {m['seconds']:.3f} s/pair (cpu {m['cpu_seconds']:.3f} s, "
                  f"{m['page_faults']:.0f} faults)  peak {m['peak_rss_mib']:.0f} MiB", flush=True)
    df = pd.DataFrame(rows)
    plain = df[df.variant == "plain"].set_index("model").seconds
    df["speedup_vs_plain"] = [plain.get(m, np.nan) / s for m, s in zip(df.model, df.seconds)]
    plain_cpu = df[df.variant == "plain"].set_index("model").cpu_seconds
    df["cpu_speedup_vs_plain"] = [plain_cpu.get(m, np.nan) / s for m, s in zip(df.model, df.cpu_seconds)]
    df["gflop_per_s"] = df.gflop / df.seconds
    dense = df[df.model == "densefuse"].set_index("variant").seconds
    df["ratio_to_densefuse"] = [s / dense.get(v, np.nan) for v, s in zip(df.variant, df.seconds)]
    dense_cpu = df[df.model == "densefuse"].set_index("variant").cpu_seconds
    df["cpu_ratio_to_densefuse"] = [s / dense_cpu.get(v, np.nan) for v, s in zip(df.variant, df.cpu_seconds)]
    print(f"\n{args.threads} threads, median of {args.repeats} pairs (768x576, l1, minmax), {os.cpu_count()} CPUs visible")
    print(df.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
