"""Progress bars for long work: one factory used by the library, the notebooks and the CLI.

``bar(...)`` takes tqdm's arguments and returns a tqdm instance, so callers write
``for x in bar(items, desc="fusing", unit="pair")`` or ``with bar(total=n) as b: b.update()``.

Where the bar goes depends on ``$RES2NETFUSE_PROGRESS``:

* unset: ``tqdm.auto`` -- a widget in a notebook, a redrawn line on stderr in a terminal (CLI);
* ``lines`` (set by the stage runner, :mod:`res2netfuse.stage`, for its kernel): plain-text
  lines, at most one per :data:`LINE_INTERVAL_S` seconds per bar plus the final one, written to
  the process's own standard error. In a Jupyter kernel that is the stream the kernel inherited
  from its launcher (``sys.stderr.fileno()``: ipykernel forwards ``sys.stderr`` *writes* to the
  notebook but keeps the launcher's descriptor for ``fileno()``), so during ``dvc repro`` the
  lines appear in DVC's output and never in the executed notebook.
"""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm as text_tqdm
from tqdm.auto import tqdm

T = TypeVar("T")

ENV = "RES2NETFUSE_PROGRESS"
LINE_INTERVAL_S = 5.0  # seconds between two lines of one bar in ``lines`` mode
_CURSOR_MOVES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # what tqdm writes to place nested bars


class _Lines(io.TextIOBase):
    """A text sink for tqdm that turns every redraw (``\\r...``) into one whole line on ``fd``; the
    cursor moves that place nested bars on a terminal are dropped (each bar state is its own line)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def write(self, text: str) -> int:
        lines = [line.strip() for line in _CURSOR_MOVES.sub("", text).replace("\r", "\n").split("\n")]
        if any(lines):
            try:
                os.write(self._fd, "".join(f"{line}\n" for line in lines if line).encode(errors="replace"))
            except OSError:  # the terminal or log went away: lose the display, not the work
                pass
        return len(text)


def _own_stderr() -> int:
    """The descriptor of this process's standard error, bypassing a kernel's forwarding to the notebook."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # a stream without a descriptor: fd 2 is the real one
        return 2


def bar(iterable: Iterable[T] | None = None, *, desc: str = "", unit: str = "it", total: int | None = None,
        disable: bool = False, **kwargs: Any) -> tqdm:
    """A tqdm progress bar over ``iterable`` (or a manual one of ``total`` steps), shown as the module doc says."""
    mode = os.environ.get(ENV, "")
    if mode == "lines":
        options = {"file": _Lines(_own_stderr()), "mininterval": LINE_INTERVAL_S, "ascii": True, "ncols": 100}
        return text_tqdm(iterable, desc=desc, unit=unit, total=total, disable=disable, **{**options, **kwargs})
    if mode:
        raise ValueError(f"${ENV}={mode!r}: expected 'lines' or unset")
    return tqdm(iterable, desc=desc, unit=unit, total=total, disable=disable, **kwargs)
