"""``res2netfuse data fetch|verify|list``: the project's data sets, fetched from their public origins."""

from __future__ import annotations

import argparse

from ..data.command import add_actions


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``data``; see ``res2netfuse data -h``."""
    p = sub.add_parser(
        "data", help="fetch, verify or list the data sets (images, published outputs, weights)",
        description="The data the paper's experiments use, from public repositories pinned to commits: 'fetch' "
                    "downloads and checks sets into a folder (by default the user data folder, where the other "
                    "commands find the DenseFuse weights and the default training image), 'verify' checks a "
                    "folder, 'list' shows the sets, their sizes, origins and licence notes.",
    )
    add_actions(p)
