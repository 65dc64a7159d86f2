"""Explorer latency: control change -> updated image widgets, with and without the encoder-feature cache.

Baseline (cache miss): a new pair, i.e. encoder + fusion + decoder + display, which is what every
change would cost without the per-(model, pair) feature cache. Cache hit: a strategy switch on the
same pair (fusion layer + decoder + display). Both are measured through ``FusionExplorer.update``
(PNG encoding and widget updates included) on TNO pairs (768 x 576), once with the metrics of the
previous change finished ("idle") and once while they are still being computed on the low-priority
worker thread ("metrics running"). Prints medians and the miss/hit ratio.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/explorer_latency.py --checkpoint /tmp/ckpt_dev/checkpoint.pt
"""

from __future__ import annotations

import argparse
import os
import statistics

import torch

from res2netfuse.explorer import FusionExplorer
from res2netfuse.report import project_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="res2netfuse", choices=["res2netfuse", "densefuse"])
    parser.add_argument("--checkpoint", default="results/train/checkpoint.pt")
    parser.add_argument("--pairs", nargs="+", default=["01", "02", "03"], help="TNO pair stems")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (the target is 2 cores)")
    args = parser.parse_args()
    os.chdir(project_root())
    torch.set_num_threads(args.threads)
    ex = FusionExplorer("TNO", args.pairs[0], args.model, args.checkpoint, "l1", "addition", device="cpu")
    print(ex.model_note.value)
    ex.wait_metrics()
    times: dict[str, list[float]] = {"miss (new pair), idle": [], "hit (strategy switch), idle": [],
                                     "hit (strategy switch), metrics running": []}
    radii = iter(range(1, 9))  # never repeated, so the fused-result cache cannot answer
    for stem in args.pairs[1:]:
        ex.c.strategy.value = "l1"
        ex.wait_metrics()
        ex.c.pair.value = stem
        assert not ex.last_view.fused.features_cached
        times["miss (new pair), idle"].append(ex.last_latency)
        for name in ("mean", "max"):  # not the reference (addition): the metrics job has already fused it
            ex.wait_metrics()
            ex.c.strategy.value = name
            assert ex.last_view.fused.features_cached and ex.last_view.fused.seconds > 0  # fused, not looked up
            times["hit (strategy switch), idle"].append(ex.last_latency)
        for _ in range(3):
            ex.c.strategy.value = "l1"
            ex.c.param_widgets["r"].value = next(radii)
            assert ex.last_view.fused.seconds > 0
            times["hit (strategy switch), metrics running"].append(ex.last_latency)
    ex.wait_metrics()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    for k, v in times.items():
        print(f"{k:42s} median {med[k]:.3f} s  (n={len(v)}: {', '.join(f'{t:.3f}' for t in v)})")
    print(f"ratio miss / hit (idle): {med['miss (new pair), idle'] / med['hit (strategy switch), idle']:.1f}x")


if __name__ == "__main__":
    main()
