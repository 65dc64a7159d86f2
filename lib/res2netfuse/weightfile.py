"""Reading weight files: ``torch.load(weights_only=True)`` with one-line errors, and state-dict checks.

The bottom of the house for every network (Res2NetFuse, DenseFuse, the rivals): it depends on torch
only, so importing a network class loads neither the data registry nor pandas. torch's own
messages for a bad file span many lines and suggest unsafe loading; :func:`read` turns every
failure into one line naming the file, and :func:`state_dict_problems` says how a state dict
differs from a network's parameters.
"""

from __future__ import annotations

import os
import pickle
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch


def read(path: str | os.PathLike[str], what: str, missing_hint: str = "",
         map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(path, weights_only=True)``; a missing or unreadable file raises one line naming it.

    ``FileNotFoundError`` ("<path>: <what> not found; <missing_hint>") for a missing file,
    ``ValueError`` for a folder, an empty file, a file that is not a PyTorch file (or is corrupt or
    truncated), or one that holds Python objects besides tensors (never unpickled, for safety).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: {what} not found" + (f"; {missing_hint}" if missing_hint else ""))
    if p.is_dir():
        raise ValueError(f"{p}: is a folder, expected a {what} file")
    if p.stat().st_size == 0:
        raise ValueError(f"{p}: is empty, expected a {what} file")
    try:
        with warnings.catch_warnings():  # e.g. pickle-protocol notes on files that are refused anyway
            warnings.simplefilter("ignore")
            return torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types (pickle, zip, EOF, Runtime) with multi-line texts
        if isinstance(exc, pickle.UnpicklingError) and zipfile.is_zipfile(p):
            problem = "holds Python objects besides tensors, which are never loaded (torch.load weights_only)"
        else:
            problem = "cannot be read as a PyTorch file (corrupt, truncated, or another kind of file)"
    raise ValueError(f"{p}: {problem}; expected a {what} file")


def state_dict_problems(model: torch.nn.Module, state: Mapping[str, object]) -> list[str]:
    """Human-readable differences between ``model``'s parameters and ``state`` (empty: compatible)."""
    expected = model.state_dict()
    problems = []
    for kind, keys in (("missing", [k for k in expected if k not in state]),
                       ("unexpected", [k for k in state if k not in expected])):
        if keys:
            problems.append(f"{kind} keys {keys[:3]}" + (f" and {len(keys) - 3} more" if len(keys) > 3 else ""))
    for key, ref in expected.items():
        value = state.get(key)
        if value is None:
            continue
        if not isinstance(value, torch.Tensor):
            problems.append(f"{key} is a {type(value).__name__}, not a tensor")
        elif value.shape != ref.shape:
            problems.append(f"{key} has shape {tuple(value.shape)}, expected {tuple(ref.shape)}")
    return problems
