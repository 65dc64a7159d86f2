"""``res2netfuse train``: train the auto-encoder on one image (or a folder), write checkpoint.pt and losses.csv.

The options are generated from :class:`~res2netfuse.train.TrainConfig` (and its nested
:class:`~res2netfuse.model.ModelConfig`), field by field: the same settings as ``params.yaml``'s
``train`` and ``model`` sections, with their defaults, ``Literal`` choices and help texts.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from pathlib import Path
from typing import Any

from ..datasets import PAPER_TRAINING_IMAGE, data_file, data_root, fetch_hint
from ..train import TrainConfig, save_training, stabilisation_iteration, train


def _config_fields(cls: type) -> list[tuple[dataclasses.Field[Any], Any, type]]:
    """``(field, default, type)`` of every field of dataclass ``cls``, nested dataclasses flattened."""
    defaults, hints = cls(), typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            out += _config_fields(hints[f.name])
        else:
            out.append((f, getattr(defaults, f.name), hints[f.name]))
    return out


def _add_option(p: argparse.ArgumentParser, f: dataclasses.Field[Any], default: Any, hint: Any) -> None:
    """One ``--field-name`` option typed after ``hint`` (bool, Literal, tuple[str, ...], int/float/str)."""
    flag, text = "--" + f.name.replace("_", "-"), f.metadata["help"]
    if hint is bool:
        p.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
    elif typing.get_origin(hint) is typing.Literal:
        p.add_argument(flag, choices=typing.get_args(hint), default=default, help=text)
    elif typing.get_origin(hint) is tuple:
        p.add_argument(flag, nargs="*", type=typing.get_args(hint)[0], default=default, metavar="STEM", help=text)
    elif hint in (int, float, str):
        p.add_argument(flag, type=hint, default=default, help=text)
    else:
        raise TypeError(f"TrainConfig.{f.name}: no command-line option for type {hint}")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``train``; defaults are the paper's settings (``params.yaml``)."""
    p = sub.add_parser(
        "train", help="train the auto-encoder on one image (paper Sec. III-B)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description="Train Res2NetFuse on one image (the paper's Res2NetFuse_1) or a folder of images, and write "
                    "checkpoint.pt and losses.csv into --out-dir. The options are the settings of params.yaml's "
                    "train and model sections; the defaults are the paper's.",
    )
    for f, default, hint in _config_fields(TrainConfig):
        _add_option(p, f, default, hint)
    p.add_argument("--out-dir", default="results/train", help="folder for checkpoint.pt and losses.csv")
    p.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The :class:`TrainConfig` of parsed options (nested configs rebuilt from their own fields)."""
    def build(cls: type) -> Any:
        hints = typing.get_type_hints(cls)
        return cls(**{f.name: build(hints[f.name]) if dataclasses.is_dataclass(hints[f.name]) else getattr(args, f.name)
                      for f in dataclasses.fields(cls)})
    return build(TrainConfig)


def _default_image(image: str) -> str:
    """The default (the paper's image, part of the project's data) is found in the data folder
    (:func:`~res2netfuse.datasets.data_root`); any other path is relative to the current folder."""
    if image != TrainConfig.image or Path(image).exists():
        return image
    found = data_file(PAPER_TRAINING_IMAGE)
    if found is None:
        raise FileNotFoundError(f"{image}: the default training image is part of the project's data, not found in "
                                f"{data_root()}: run `{fetch_hint('train')}`, or give --image PATH")
    return str(found)


def run(args: argparse.Namespace) -> int:
    """Train and report the final losses and timing."""
    args.image = _default_image(args.image)
    config = config_from_args(args)
    result = train(config)
    paths = save_training(result, config, args.out_dir)
    last = result.losses.iloc[-1]
    print(f"final losses: pixel {last.pixel:.6f}  ssim {last.ssim:.6f}  total {last.total:.6f}")
    print(f"stabilises at iteration {stabilisation_iteration(result.losses.total)}; "
          f"{result.seconds:.1f} s on {result.device} ({result.seconds_per_iteration * 1000:.1f} ms/it)")
    print(f"wrote {paths['checkpoint']} and {paths['losses']}")
    return 0
