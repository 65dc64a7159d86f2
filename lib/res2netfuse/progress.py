"""Progress bars for long work: one factory used by the library, the notebooks and the CLI.

``bar(...)`` takes tqdm's arguments and returns a tqdm instance, so callers write
``for x in bar(items, desc="fusing", unit="pair")`` or ``with bar(total=n) as b: b.update()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def bar(iterable: Iterable[T] | None = None, *, desc: str = "", unit: str = "it", total: int | None = None,
        disable: bool = False, **kwargs: Any) -> tqdm:
    """A tqdm progress bar over ``iterable`` (or a manual one of ``total`` steps)."""
    return tqdm(iterable, desc=desc, unit=unit, total=total, disable=disable, **kwargs)
