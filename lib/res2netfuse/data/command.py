"""``res2netfuse data fetch|verify|list`` and ``python -m res2netfuse.data`` (the data stage's command).

The same actions serve both: :func:`add_actions` adds them to a parser (the CLI's ``data`` sub-command,
:mod:`res2netfuse.commands.data`, or :func:`main`'s own). :func:`main` is what ``dvc repro data`` runs
(``python -m res2netfuse.data fetch --to data``): it loads neither the network nor the rest of the CLI,
and shows progress as plain lines (:mod:`res2netfuse.progress`), which appear in the ``dvc repro``
output. Bad input and failed files end in one line and exit status 2; Ctrl-C or SIGTERM in 128 + the
signal number, with nothing half-written.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict

from .. import progress
from ..datasets import CACHE_ENV, DATA_ENV
from .registry import MIRROR_ENV, SETS, UPSTREAM, entries

SET_NAMES = ", ".join(SETS)


def add_actions(parser: argparse.ArgumentParser) -> None:
    """Add the ``fetch``, ``verify`` and ``list`` actions to ``parser``."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION",
                                    help="fetch, verify or list (ACTION --help for its options)")
    f = actions.add_parser(
        "fetch", help="download (or copy) data sets, check them and put them in a folder",
        description="Put data sets into a folder laid out like the repository's data/: each file from the local "
                    f"copy (${DATA_ENV}, else ../shared/data beside the checkout when there is one) or downloaded "
                    f"from its pinned upstream URL ({UPSTREAM}..., or the mirror ${MIRROR_ENV}) into the user cache, "
                    "then transformed and checked against the registry's hashes. A set appears only when all its "
                    "files are there and checked.")
    f.add_argument("names", nargs="*", metavar="NAME", help=f"data sets to fetch (default: all): {SET_NAMES}")
    f.add_argument("--to", metavar="DIR", help=f"folder to fill (default: data/ in the user cache folder, ${CACHE_ENV} "
                                               "or ~/.cache/res2netfuse on Linux: where res2netfuse looks outside "
                                               "the repository)")
    f.set_defaults(run=run_fetch)
    v = actions.add_parser("verify", help="list the files of a data folder that differ from the registry",
                           description="Check every file of a data folder (laid out like data/) against the "
                                       "registry: decoded pixels for images, bytes for the rest. Exit status 1 "
                                       "when a file is missing, differs, or is not in the registry.")
    v.add_argument("folder", metavar="DIR", help="the data folder to check")
    v.add_argument("names", nargs="*", metavar="NAME", help=f"data sets to check (default: all): {SET_NAMES}")
    v.set_defaults(run=run_verify)
    listing = actions.add_parser("list", help="the data sets: files, sizes, origins, licence notes",
                                 description="List the data sets with their file counts, sizes, origins and "
                                             "licence notes.")
    listing.set_defaults(run=run_list)


def run_fetch(args: argparse.Namespace) -> int:
    """Fetch the named sets."""
    from .folder import fetch  # the downloader loads only when data is fetched

    folder = fetch(args.names, args.to)
    print(f"fetched into {folder.resolve()}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Report the files that differ; exit status 1 if any."""
    from .folder import verify

    problems = verify(args.folder, args.names)
    for path, problem in problems:
        print(f"{os.path.join(args.folder, path)}: {problem}")
    checked = sum(1 for e in entries() if not args.names or e.set in args.names)
    print(f"{len(problems)} of {checked} registry files differ" if problems else
          f"all {checked} registry files match")
    return 1 if problems else 0


def run_list(_args: argparse.Namespace) -> int:
    """Print every set: file count, size, origins, licence note."""
    files: dict[str, int] = defaultdict(int)
    size: dict[str, int] = defaultdict(int)
    origins: dict[str, set[str]] = defaultdict(set)
    for e in entries():
        files[e.set] += 1
        size[e.set] += e.size
        origins[e.set].add(e.origin)
    for s in SETS.values():
        print(f"{s.name:<14}{files[s.name]:>5} files {size[s.name] / 1e6:7.1f} MB  {s.title}")
        print(f"{'':<14}from {', '.join(sorted(origins[s.name]))}")
        print(f"{'':<14}licence: {s.licence}")
    print(f"{'all':<14}{sum(files.values()):>5} files {sum(size.values()) / 1e6:7.1f} MB (in data/; the upstream "
          "files are fetched from GitHub, pinned to commits). No upstream repository states a licence for its files: "
          "they are downloaded for research use, never redistributed; README.md in the data folder has the "
          "attributions.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m res2netfuse.data ACTION ...``: the data stage's command (progress as plain lines)."""
    os.environ.setdefault(progress.ENV, "lines")
    parser = argparse.ArgumentParser(prog="python -m res2netfuse.data",
                                     description="Fetch, verify or list the project's data.")
    add_actions(parser)
    args = parser.parse_args(argv)
    from .folder import Stopped

    try:
        return int(args.run(args))
    except (FileNotFoundError, ValueError) as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    except Stopped as stop:
        print(f"{parser.prog}: stopped by {stop}; nothing half-written", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted; nothing half-written", file=sys.stderr)
        return 130
