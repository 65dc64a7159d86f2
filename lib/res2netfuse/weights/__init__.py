"""Where model weights are: the Res2NetFuse_1 model shipped with the package, DenseFuse's release.

* ``res2netfuse_1.pt`` (package data, ~360 KB) is the ``train`` stage's checkpoint: Res2NetFuse_1,
  trained on the paper's single COCO image with ``params.yaml``'s ``train`` and ``model`` settings.
  ``res2netfuse_1.json`` records its provenance (settings, the training image's MD5, the commit,
  torch version, date, final losses) and what it gives on one TNO pair, which ``tests/test_weights.py``
  checks. Maintainers regenerate both from a new ``train`` stage output with
  ``python -m res2netfuse.ship_model results/train/checkpoint.pt`` (:mod:`res2netfuse.ship_model`).
* DenseFuse's released weights are not ours to ship. Unless a path is given, they are
  ``$RES2NETFUSE_DENSEFUSE_WEIGHTS``, else ``weights/densefuse_gray.model`` in the data
  (:func:`res2netfuse.datasets.data_root`: the repository's ``data/`` inside it, else the folder that
  ``res2netfuse data fetch weights`` fills); otherwise the error says how to get them.
* Reading a weight file is :func:`res2netfuse.weightfile.read` (one-line errors).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..datasets import data_file, data_root, fetch_hint

RES2NETFUSE_1 = Path(__file__).with_name("res2netfuse_1.pt")
PROVENANCE = RES2NETFUSE_1.with_suffix(".json")

DENSEFUSE_ENV = "RES2NETFUSE_DENSEFUSE_WEIGHTS"
DENSEFUSE_FILE = "densefuse_gray.model"
DENSEFUSE_RELEASE = "https://github.com/hli1221/densefuse-pytorch"
DENSEFUSE_HOW_TO = (f"`res2netfuse data fetch weights` downloads models/{DENSEFUSE_FILE} of the densefuse-pytorch "
                    f"release ({DENSEFUSE_RELEASE}); or pass --checkpoint PATH or set {DENSEFUSE_ENV}=PATH")


def densefuse_weights() -> Path:
    """The DenseFuse weights to use when none are named: ``$RES2NETFUSE_DENSEFUSE_WEIGHTS``, else the
    copy in the project's data (``weights/`` under :func:`~res2netfuse.datasets.data_root`);
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
        raise FileNotFoundError(f"DenseFuse weights ({DENSEFUSE_FILE}) not found in {data_root()}: run "
                                f"`{fetch_hint('weights')}` (downloads models/{DENSEFUSE_FILE} of {DENSEFUSE_RELEASE}), "
                                f"or pass --checkpoint PATH or set {DENSEFUSE_ENV}=PATH")
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
