"""Command-line entry point ``res2netfuse``: one sub-command per module in ``commands/``.

Every sub-command turns bad input (missing/corrupt files, size mismatches, ...) into a
one-line ``res2netfuse: error: ...`` message and exit status 2 instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from .commands import COMMANDS
from .io import ImageError

DESCRIPTION = ("Res2NetFuse (Song et al.): fuse infrared and visible images with a Res2Net-based auto-encoder, "
               "train it on one image, and score fused images with the paper's fusion metrics. Fusion uses the "
               "Res2NetFuse_1 model shipped with the package unless --checkpoint names another.")
EPILOG = "Run 'res2netfuse COMMAND --help' for a command's options."


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered sub-command."""
    parser = argparse.ArgumentParser(prog="res2netfuse", description=DESCRIPTION, epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen sub-command; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except (ImageError, FileNotFoundError, ValueError) as exc:
        print(f"res2netfuse: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("res2netfuse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
