"""Maintainers: ship the ``train`` stage's checkpoint as the package's default Res2NetFuse_1 model.

From the repository root, after ``dvc repro train``::

    python -m res2netfuse.ship_model results/train/checkpoint.pt [--commit REV]

copies the checkpoint to the package's ``res2netfuse_1.pt`` and writes ``res2netfuse_1.json``:
the training settings stored in the checkpoint, the training image's path and MD5, the commit
(``--commit``, default ``HEAD``), the torch version, when it was trained and packaged, the
iterations and final losses (``losses.csv`` beside the checkpoint; device and duration from
``summary.json`` when present), and the *reference fusion*: what the model gives on TNO pair 01
(l1, minmax) -- MD5 and mean of the fused image and metrics that do not depend on a scoring
convention. ``tests/test_weights.py`` checks the shipped model
against that record. Commit both files.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from .io import load_gray_uint8
from .metrics import evaluate
from .pipeline import fuse_files, load_model
from .weightfile import read
from .weights import PROVENANCE, RES2NETFUSE_1

REFERENCE_PAIR = ("data/fusion/tno/ir/01.png", "data/fusion/tno/vi/01.png")
REFERENCE_METRICS = ("EN", "SD", "SF", "AG", "MI", "SCD", "MS_SSIM")  # defined alike by every convention and version


def md5(path: str | os.PathLike[str]) -> str:
    """MD5 of a file's bytes."""
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def _utc(timestamp: float | None = None) -> str:
    moment = datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc) if timestamp else \
        datetime.datetime.now(datetime.timezone.utc)
    return moment.isoformat(timespec="seconds")


def reference_fusion(checkpoint: str | os.PathLike[str]) -> dict[str, Any]:
    """What ``checkpoint`` gives on :data:`REFERENCE_PAIR` (l1, minmax): inputs' and output's MD5, mean, metrics."""
    ir, vi = REFERENCE_PAIR
    with tempfile.TemporaryDirectory() as scratch:
        fused = Path(scratch) / "fused.png"
        fuse_files(load_model("res2netfuse", checkpoint, "cpu"), ir, vi, fused, "l1", "minmax")
        image = load_gray_uint8(fused)
    metrics = evaluate(load_gray_uint8(ir), load_gray_uint8(vi), image, REFERENCE_METRICS)
    return {"ir": ir, "ir_md5": md5(ir), "vi": vi, "vi_md5": md5(vi), "strategy": "l1", "mapping": "minmax",
            "fused_pixels_md5": hashlib.md5(np.ascontiguousarray(image).tobytes()).hexdigest(),
            "fused_mean": float(image.mean()), "metrics": {k: float(v) for k, v in metrics.items()}}


def provenance_record(checkpoint: Path, commit: str) -> dict[str, Any]:
    """The provenance of ``checkpoint`` (see the module doc); run from the repository root."""
    blob = read(checkpoint, "checkpoint")
    train = blob.get("train_config")
    if train is None:
        raise ValueError(f"{checkpoint}: has no train_config; package a checkpoint of the train stage")
    losses = pd.read_csv(checkpoint.with_name("losses.csv")).iloc[-1]
    summary_file = checkpoint.with_name("summary.json")  # the stage's summary: device and duration
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return {
        "model": "Res2NetFuse_1: Res2NetFuse trained on the paper's single COCO image (paper Sec. III-B)",
        "file": RES2NETFUSE_1.name, "md5": md5(checkpoint), "bytes": checkpoint.stat().st_size,
        "made_by": "the dvc stage 'train' (notebooks/01_training.ipynb), params.yaml train + model",
        "commit": commit, "torch": torch.__version__,
        "trained_utc": _utc(checkpoint.stat().st_mtime), "packaged_utc": _utc(),
        "trained_on": summary.get("device"), "training_seconds": summary.get("seconds"),
        "train_config": train,
        "training_image": {"path": train["image"], "md5": md5(train["image"])},
        "iterations": int(losses["iteration"]),
        "final_losses": {k: float(losses[k]) for k in ("pixel", "ssim", "total")},
        "reference_fusion": reference_fusion(checkpoint),
    }


def package(checkpoint: Path, commit: str) -> None:
    """Copy ``checkpoint`` into the package and write its provenance next to it."""
    record = provenance_record(checkpoint, commit)
    shutil.copyfile(checkpoint, RES2NETFUSE_1)
    PROVENANCE.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {RES2NETFUSE_1} ({record['bytes']} bytes) and {PROVENANCE}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m res2netfuse.ship_model", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="the train stage's checkpoint.pt (losses.csv beside it)")
    parser.add_argument("--commit", default="HEAD", help="commit that produced it (default: HEAD)")
    args = parser.parse_args(argv)
    try:
        commit = subprocess.run(["git", "rev-parse", "--verify", f"{args.commit}^{{commit}}"], check=True,
                                capture_output=True, text=True).stdout.strip()
        package(args.checkpoint, commit)
    except (FileNotFoundError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"python -m res2netfuse.ship_model: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
