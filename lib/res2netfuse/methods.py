"""The fusion methods this artifact runs itself: name -> (model, strategy), and the paper row of each.

A method's name is its folder under ``results/fusion/<data set>/`` and its row in the tables.
Strategy parameters are not part of a method: they come from ``params.yaml: strategies`` (one
entry per strategy, named as :mod:`res2netfuse.fusion` names them), so that every method using
a strategy uses the same parameters. Published methods (peers) are folders of images, see
:attr:`res2netfuse.datasets.PairSet.peers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .pipeline import ModelName


@dataclass(frozen=True)
class Method:
    """A model + fusion strategy run here; ``paper`` = (method, strategy) of the paper's row for it."""

    name: str
    model: ModelName
    strategy: str
    label: str
    paper: tuple[str, str] | None = None

    def params(self, strategies: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """This method's strategy parameters from the ``strategies`` section of ``params.yaml``."""
        return dict(strategies.get(self.strategy) or {})


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("Res2NetFuse_l1", "res2netfuse", "l1", "Res2NetFuse_1 (l1-norm)", ("Res2NetFuse_1", "l1")),
    Method("Res2NetFuse_mean", "res2netfuse", "mean", "Res2NetFuse_1 (mean)", ("Res2NetFuse_1", "mean")),
    Method("DenseFuseRun_l1", "densefuse", "l1", "DenseFuse run here (l1-norm)"),
    Method("DenseFuseRun_mean", "densefuse", "mean", "DenseFuse run here (mean)"),
    Method("DenseFuseRun_addition", "densefuse", "addition", "DenseFuse run here (addition)", ("DenseFuse", "")),
)}
