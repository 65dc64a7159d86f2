"""Explorer latency: control change -> updated image widgets, with and without the encoder-feature cache.

Baseline (cache miss): a new pair, i.e. encoder + fusion + decoder + display, which is what every
change would cost without the per-(model, pair) feature cache. Cache hit: a strategy switch on the
same pair (fusion layer + decoder + display). Both are measured through ``FusionExplorer.update``
(PNG encoding and widget updates included) on TNO pairs (768 x 576), once with the metrics of the
previous change finished ("idle") and once while they are still being computed on the low-priority
worker thread ("metrics running"). Prints medians and the miss/hit ratio.

    OMP_WAIT_POLICY=PASSIVE python benchmarks/bench_explorer.py --checkpoint /tmp/ckpt_dev/checkpoint.pt
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from res2netfuse.explorer import FusionExplorer
from res2netfuse.report import project_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="res2netfuse", choices=["res2netfuse", "densefuse"])
    parser.add_argument("--checkpoint", default="results/train/checkpoint.pt")
    parser.add_argument("--dataset", default="tno", help="a res2netfuse.datasets name (tno: 768x576 pairs)")
    parser.add_argument("--pairs", nargs="+", default=["01", "02", "03"], help="pair stems of the dataset")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (the target is 2 cores)")
    args = parser.parse_args()
    os.chdir(project_root())
    torch.set_num_threads(args.threads)
    ex = FusionExplorer(args.dataset, args.pairs[0], args.model, args.checkpoint, "l1", "addition", device="cpu")
    print(ex.model_note.value)
    ex.wait_metrics()
    times: dict[str, list[tuple[float, float]]] = {
        "miss (new pair), idle": [], "hit (strategy switch), idle": [],
        "hit (strategy switch), metrics running": []}

    def change(case: str, control: object, value: object) -> None:
        """Set a control; record the explorer's wall latency and the process CPU time it used."""
        cpu, decodes = time.process_time(), ex.engine.decodes
        control.value = value  # type: ignore[attr-defined]
        times[case].append((ex.last_latency, time.process_time() - cpu))
        assert ex.last_view is not None and ex.engine.decodes > decodes  # fused, not looked up

    radii = iter(range(1, 9))  # never repeated, so the fused-result cache cannot answer
    for stem in args.pairs[1:]:
        ex.c.strategy.value = "l1"
        ex.wait_metrics()
        change("miss (new pair), idle", ex.c.pair, stem)
        assert not ex.last_view.features_cached
        for name in ("mean", "max"):  # not the reference (addition): the metrics job has already fused it
            ex.wait_metrics()
            change("hit (strategy switch), idle", ex.c.strategy, name)
            assert ex.last_view.features_cached
        for _ in range(3):
            ex.c.strategy.value = "l1"
            change("hit (strategy switch), metrics running", ex.c.param_widgets["r"], next(radii))
    ex.wait_metrics()
    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f} "
          f"(on {os.cpu_count()} cores; other processes slow the wall times down)")
    med = {}
    for k, v in times.items():
        med[k] = statistics.median(w for w, _ in v)
        cpu = statistics.median(c for _, c in v)
        print(f"{k:42s} wall median {med[k]:.3f} s, process CPU median {cpu:.3f} s  "
              f"(n={len(v)}; wall {', '.join(f'{w:.3f}' for w, _ in v)})")
    print(f"ratio miss / hit (idle, wall): {med['miss (new pair), idle'] / med['hit (strategy switch), idle']:.1f}x")

if __name__ == "__main__":
    main()
