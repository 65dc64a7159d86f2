"""The first cell of every stage notebook: its DVC stage's settings, inputs and output folder.

A stage notebook's ``parameters`` cell declares what the stage runner (:mod:`res2netfuse.stage`) passes:
``out_dir``, ``inputs`` (the stage's named inputs: ``${inputs}`` in dvc.yaml) and one parameter per
``params.yaml`` key the stage passes (``-p fusion`` -> ``fusion``), all ``None``, plus the notebook's
own knobs (``max_pairs = 0``). The next cell is::

    from res2netfuse.notebook import start
    stage = start("fusion", globals())

Run by DVC (or by the smoke test) every value is given: :func:`start` changes to the repository root
and hands them back. Opened in Jupyter, the values left ``None`` come from the stage's command in
dvc.yaml -- the sections, inputs and output folder DVC would pass (:func:`res2netfuse.stage.resolve`),
and a section given as a dict overrides that section key by key (``train = {"iterations": 50}``).
Either way, nothing in a notebook names another stage's output: each path is declared once, in dvc.yaml.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report import project_root


@dataclass(frozen=True)
class Stage:
    """A stage notebook's run: its DVC stage name, output folder (created), inputs and params sections."""

    name: str
    out: Path
    inputs: dict[str, Path]
    params: dict[str, Any]

    def input(self, name: str) -> Path:
        """The path of input ``name``; ``KeyError`` naming the stage's inputs otherwise."""
        if name not in self.inputs:
            raise KeyError(f"stage {self.name} has no input {name!r} (its inputs: {', '.join(self.inputs) or 'none'}); "
                           "declare it in dvc.yaml")
        return self.inputs[name]


def start(stage: str, given: Mapping[str, Any]) -> Stage:
    """Change to the repository root and return the run of DVC stage ``stage`` (see the module doc).

    ``given`` is the notebook's namespace (``globals()``): its ``out_dir``, ``inputs`` and the parameters the
    stage passes; the ``None`` ones are filled in from dvc.yaml and params.yaml.
    """
    from . import settings, stage as runner

    os.chdir(project_root())
    args, declared = runner.resolve(stage)
    names = [key.rpartition(".")[2] for key in args.keys]
    missing = [n for n in ("out_dir", *names) if n not in given]
    if missing:
        raise NameError(f"the parameters cell must declare {', '.join(missing)} (stage {stage}'s parameters)")
    values = {n: given[n] for n in names}
    if any(v is None or isinstance(v, dict) for v in values.values()):  # opened by hand: params.yaml + overrides
        defaults = runner.notebook_parameters(settings.load(args.params_file), args.keys, args.assignments,
                                              args.merges)
        values = {n: defaults[n] if v is None else settings.merged(defaults[n], v) if isinstance(v, dict) else v
                  for n, v in values.items()}
    inputs = given.get("inputs") or declared
    out = Path(given["out_dir"] or args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return Stage(stage, out, {k: Path(v) for k, v in inputs.items()}, values)


def output_of(stage: str) -> Path:
    """The output folder of DVC stage ``stage`` (absolute; it exists once ``dvc repro`` has made it)."""
    from . import stage as runner

    root = project_root()
    return root / runner.resolve(stage, root)[0].out_dir
