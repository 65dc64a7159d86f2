"""``res2netfuse train``: single-image training, writes checkpoint.pt and losses.csv."""

from __future__ import annotations

import argparse

from ..model import ModelConfig
from ..train import TrainConfig, save_training, stabilisation_iteration, train


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``train``; defaults are the paper's settings (see ``params.yaml``)."""
    d = TrainConfig()
    p = sub.add_parser("train", help="train the auto-encoder on one image (paper Sec. III-B)")
    p.add_argument("--image", default=d.image, help="training image (gray; RGB is converted to luma)")
    p.add_argument("--size", type=int, default=d.size, help="side of the square training image [px]")
    p.add_argument("--resample", choices=["bilinear", "nearest"], default=d.resample)
    p.add_argument("--iterations", type=int, default=d.iterations)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--structural-loss", choices=["ssim", "ms_ssim"], default=d.structural_loss)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto (CUDA if present), cpu or cuda[:N]")
    p.add_argument("--kernel", choices=["shared", "per_group"], default=d.model.kernel)
    p.add_argument("--no-residual", action="store_true", help="drop the residual around the Res2Net block")
    p.add_argument("--out-dir", default="results/train", help="folder for checkpoint.pt and losses.csv")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Train and report the final losses and timing."""
    config = TrainConfig(
        image=args.image, size=args.size, resample=args.resample, iterations=args.iterations, lr=args.lr,
        structural_loss=args.structural_loss, seed=args.seed, device=args.device,
        model=ModelConfig(kernel=args.kernel, residual=not args.no_residual),
    )
    result = train(config)
    paths = save_training(result, config, args.out_dir)
    last = result.losses.iloc[-1]
    print(f"final losses: pixel {last.pixel:.6f}  ssim {last.ssim:.6f}  total {last.total:.6f}")
    print(f"stabilises at iteration {stabilisation_iteration(result.losses.total)}; "
          f"{result.seconds:.1f} s on {result.device} ({result.seconds_per_iteration * 1000:.1f} ms/it)")
    print(f"wrote {paths['checkpoint']} and {paths['losses']}")
    return 0
