"""``res2netfuse fuse``: fuse one infrared/visible pair, or every same-named pair of two folders."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..fusion import STRATEGIES, resolve
from ..io import IMAGE_SUFFIXES, paired_files
from ..pipeline import MODELS, check_min_side, fuse_directory, fuse_files, load_model
from ..weights import DENSEFUSE_ENV, DENSEFUSE_FILE


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``fuse``; see ``res2netfuse fuse -h``."""
    p = sub.add_parser(
        "fuse", help="fuse infrared/visible images (paper Sec. III-C)",
        description="Fuse IR with VI into OUT, or (directory mode) every pair of files with the same "
                    "name in --ir-dir and --vi-dir into --out-dir/<name>.png. A colour visible image "
                    "is fused through its luminance and keeps its chroma. Paths are relative to the current folder. "
                    "Every source is checked against the model's minimum size before the model is loaded; files are "
                    "written atomically, and directory mode stops at the first bad pair (the files written before "
                    "it are complete).",
    )
    p.add_argument("ir", nargs="?", help="infrared (first) source image")
    p.add_argument("vi", nargs="?", help="visible (second) source image")
    p.add_argument("-o", "--output", help="fused image to write (PNG recommended)")
    p.add_argument("--ir-dir", help="directory mode: folder of infrared images")
    p.add_argument("--vi-dir", help="directory mode: folder of visible images (same file names)")
    p.add_argument("--out-dir", help="directory mode: folder for the fused images")
    p.add_argument("--strategy", choices=list(STRATEGIES), default="l1", help="fusion strategy (default l1)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="strategy parameter, repeatable (e.g. --param r=1, --param temperature=0.5)")
    p.add_argument("--model", choices=list(MODELS), default="res2netfuse",
                   help="res2netfuse (default) or densefuse (Li & Wu's released DenseFuse weights)")
    p.add_argument("--checkpoint", metavar="PATH",
                   help="weights file. Default for res2netfuse: the Res2NetFuse_1 model shipped with the package "
                        f"(trained on the paper's image); for densefuse: ${DENSEFUSE_ENV}, else the repository's "
                        f"data/weights/{DENSEFUSE_FILE} when run inside it, else the copy that "
                        "'res2netfuse data fetch weights' downloads")
    p.add_argument("--mapping", choices=["minmax", "clip"], default="minmax",
                   help="decoder output to 8 bits: minmax (authors' code, default) or clip")
    p.add_argument("--device", default="auto", help="auto (CUDA if present), cpu or cuda[:N]")
    p.set_defaults(run=run)


def _params(items: list[str], strategy: str) -> dict[str, Any]:
    """Parse ``NAME=VALUE`` items and check them against the strategy (``ValueError`` if wrong)."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--param {item!r}: expected NAME=VALUE")
        params[key.strip()] = value.strip()
    return resolve(strategy, **params)[1]


def run(args: argparse.Namespace) -> int:
    """Validate the mode and arguments before loading the model, then fuse."""
    single = (args.ir, args.vi, args.output)
    folders = (args.ir_dir, args.vi_dir, args.out_dir)
    if any(folders) and any(single):
        raise ValueError("give either IR VI -o OUT or --ir-dir/--vi-dir/--out-dir, not both")
    if any(folders) and not all(folders):
        raise ValueError("directory mode needs all of --ir-dir, --vi-dir and --out-dir")
    if not any(folders) and not all(single):
        raise ValueError("give IR VI -o OUT (or --ir-dir/--vi-dir/--out-dir)")
    if args.output and Path(args.output).suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"{args.output}: output must end in one of {', '.join(IMAGE_SUFFIXES)}")
    params = _params(args.param, args.strategy)
    pairs = paired_files(args.ir_dir, args.vi_dir) if all(folders) else [("", [args.ir, args.vi])]
    check_min_side(args.model, *(path for _, pair in pairs for path in pair))  # before any model code runs
    model = load_model(args.model, args.checkpoint, args.device)
    if all(folders):
        written = fuse_directory(model, args.ir_dir, args.vi_dir, args.out_dir, args.strategy, args.mapping,
                                 **params)
        print(f"wrote {len(written)} fused images to {args.out_dir}")
    else:
        fuse_files(model, args.ir, args.vi, args.output, args.strategy, args.mapping, **params)
        print(f"wrote {args.output}")
    return 0
