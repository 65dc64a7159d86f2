"""Model weights: the Res2NetFuse_1 model shipped with the package, DenseFuse's release, and reading weight files.

* ``res2netfuse_1.pt`` (package data, ~360 KB) is the ``train`` stage's checkpoint: Res2NetFuse_1,
  trained on the paper's single COCO image with ``params.yaml``'s ``train`` and ``model`` settings.
  ``res2netfuse_1.json`` records its provenance (settings, the training image's MD5, the commit,
  torch version, date, final losses) and what it gives on one TNO pair, which ``tests/test_weights.py``
  checks. Maintainers regenerate both from a new ``train`` stage output with
  ``python -m res2netfuse.weights package results/train/checkpoint.pt`` (see ``__main__``).
* DenseFuse's released weights are not ours to ship. Unless a path is given, they are
  ``$RES2NETFUSE_DENSEFUSE_WEIGHTS``, else the repository's ``data/weights/densefuse_gray.model``
  when run inside the repository; otherwise the error says how to get them.
* :func:`read` loads a weight file with ``torch.load(weights_only=True)`` and turns every failure
  into one line naming the file (torch's own messages span many lines and suggest unsafe loading).
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ..datasets import data_file

RES2NETFUSE_1 = Path(__file__).with_name("res2netfuse_1.pt")
PROVENANCE = RES2NETFUSE_1.with_suffix(".json")

DENSEFUSE_ENV = "RES2NETFUSE_DENSEFUSE_WEIGHTS"
DENSEFUSE_FILE = "densefuse_gray.model"
DENSEFUSE_RELEASE = "https://github.com/hli1221/densefuse-pytorch"
DENSEFUSE_HOW_TO = (f"download models/{DENSEFUSE_FILE} from the densefuse-pytorch release ({DENSEFUSE_RELEASE}) "
                    f"and pass --checkpoint PATH or set {DENSEFUSE_ENV}=PATH")


def densefuse_weights() -> Path:
    """The DenseFuse weights to use when none are named: ``$RES2NETFUSE_DENSEFUSE_WEIGHTS``, else the
    copy in the project's data (``weights/`` under ``$RES2NETFUSE_DATA`` or the repository's ``data/``);
    ``FileNotFoundError`` saying how to get them otherwise."""
    env = os.environ.get(DENSEFUSE_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{path}: DenseFuse weights not found (named by ${DENSEFUSE_ENV}); "
                                    f"{DENSEFUSE_HOW_TO}")
        return path
    found = data_file(f"weights/{DENSEFUSE_FILE}")
    if found is None:
        raise FileNotFoundError(f"DenseFuse weights ({DENSEFUSE_FILE}) not found: {DENSEFUSE_HOW_TO}")
    return found


def default_weights(model: str) -> Path:
    """The weights of ``model`` (``res2netfuse`` or ``densefuse``) when the caller names none."""
    if model == "res2netfuse":
        return RES2NETFUSE_1
    if model == "densefuse":
        return densefuse_weights()
    raise ValueError(f"unknown model {model!r}; choose res2netfuse or densefuse")


def provenance() -> dict[str, Any]:
    """The shipped model's provenance record (``res2netfuse_1.json``)."""
    return json.loads(PROVENANCE.read_text())


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
