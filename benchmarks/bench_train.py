"""Training speed: seconds per iteration at 256x256 (paper setting), variants vs a baseline.

Run: ``OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_train.py [--iterations 30] [--device auto]``

Each variant trains a fresh model for ``--iterations`` steps after ``--warmup`` steps on the
same image; the baseline is the plain NCHW loop with torch's default thread count, measured in
the same run. The last variant also keeps freed heap memory for reuse (glibc ``mallopt``, see
``res2netfuse.runtime.retain_freed_memory``), as ``res2netfuse.train.train`` does. Prints a table with s/iteration, the ratio to the baseline and the projected time
of the paper's 2000 iterations.
"""

from __future__ import annotations

import argparse
import os
import time

import pandas as pd
import torch

from res2netfuse.model import Res2NetFuse
from res2netfuse.runtime import retain_freed_memory
from res2netfuse.runtime import resolve_device
from res2netfuse.train import prepare_training_image, reconstruction_loss


def seconds_per_iteration(device: torch.device, channels_last: bool, iterations: int, warmup: int,
                          image: str, size: int) -> float:
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = prepare_training_image(image, size).to(device).contiguous(memory_format=fmt)
    model = Res2NetFuse().to(device).to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        total, _, _ = reconstruction_loss(model(x), x)
        total.backward()
        opt.step()

    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / iterations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--image", default="data/train/camera.png")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    default_threads = torch.get_num_threads()
    variants = [("baseline NCHW", False, default_threads), ("channels_last", True, default_threads)]
    if device.type == "cpu" and default_threads > 1:
        variants.append(("channels_last, 1 thread", True, 1))
    if device.type == "cpu":  # process-wide and irreversible: must stay the last variant
        variants.append(("channels_last + retain_freed_memory", True, default_threads))
    rows = []
    for name, cl, threads in variants:
        torch.set_num_threads(threads)
        if "retain_freed_memory" in name:
            retain_freed_memory()
        spi = seconds_per_iteration(device, cl, args.iterations, args.warmup, args.image, args.size)
        rows.append({"variant": name, "threads": threads, "s/iteration": spi, "projected 2000 it [min]": spi * 2000 / 60})
    torch.set_num_threads(default_threads)
    df = pd.DataFrame(rows)
    df["speed-up vs baseline"] = df["s/iteration"].iloc[0] / df["s/iteration"]
    print(f"device {device}, {args.size}x{args.size}, {args.iterations} timed iterations, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}")
    print(df.to_markdown(index=False, floatfmt=".3f"))


if __name__ == "__main__":
    main()
