"""The smoke pipeline: every notebook under nbval, run as dvc.yaml runs it, with the fast settings of ``smoke_params.yaml``.

Each DVC stage listed there is resolved from dvc.yaml by the stage runner's own code
(:func:`res2netfuse.stage.resolve` and :func:`res2netfuse.stage.parameters`): its notebook, its params
sections (from params.yaml with the smoke settings merged in, checked as the runner checks them) and its
named inputs. Outputs go to one temporary folder; each notebook runs against a *shadow* of the repository
(every top-level entry linked, except ``results/`` and ``params.yaml``), so it sees its declared inputs and
nothing else of the pipeline: reading an undeclared stage output fails here. Stages run after the stages
whose outputs they take as inputs. nbval (``--nbval-lax``) requires every cell to run without error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from res2netfuse import settings
from res2netfuse import stage as runner

ROOT = Path(__file__).resolve().parents[1]
SMOKE: dict[str, Any] = yaml.safe_load((Path(__file__).parent / "notebooks" / "smoke_params.yaml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_notebook_is_in_the_smoke_pipeline(shadow: Path) -> None:
    """Every stage notebook is run by a smoke stage, and the explorer by its own entry."""
    run = {runner.resolve(name, shadow)[0].notebook.name for name in SMOKE["stages"]} | {"explorer.ipynb"}
    assert {nb.name for nb in NOTEBOOKS} == run


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{notebook.name}: cells {dirty} carry outputs; strip them (jupyter nbconvert --clear-output)"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{notebook.name}: needs exactly one cell tagged 'parameters'"


@pytest.fixture(scope="session")
def shadow(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """The repository without results/: its entries linked, params.yaml with the smoke settings merged in."""
    root = tmp_path_factory.mktemp("shadow")
    for entry in ROOT.iterdir():
        if entry.name not in ("results", "params.yaml"):
            (root / entry.name).symlink_to(entry)
    params = settings.merged(settings.load(ROOT / "params.yaml"), SMOKE["params"])
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return root


def _needs(name: str, inputs: dict[str, str], outs: dict[str, Path]) -> list[str]:
    """The smoke stages whose output is, holds or lies inside one of ``inputs``."""
    return [other for other, out in outs.items() if other != name and any(
        Path(i) == out or out in Path(i).parents or Path(i) in out.parents for i in inputs.values())]


@pytest.fixture(scope="session")
def smoke_run(shadow: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Callable[[str], Any], Path]:
    """``run(name)``: execute smoke entry ``name`` (after the stages it takes inputs from) once per session."""
    outputs = tmp_path_factory.mktemp("smoke")
    resolved = {name: runner.resolve(name, shadow) for name in SMOKE["stages"]}
    outs = {name: args.out_dir for name, (args, _) in resolved.items()}
    done: dict[str, subprocess.CompletedProcess[str]] = {}

    def run(name: str) -> subprocess.CompletedProcess[str]:
        if name in done:
            return done[name]
        if name == "explorer":
            notebook, params, out = ROOT / "notebooks" / "explorer.ipynb", dict(SMOKE["explorer"]), Path("explorer")
        else:
            args, inputs = resolved[name]
            for need in _needs(name, inputs, outs):
                if run(need).returncode != 0:
                    pytest.fail(f"{name}: the smoke stage it takes inputs from, {need!r}, failed")
            args.params_file = shadow / "params.yaml"
            cwd = Path.cwd()
            os.chdir(shadow)  # params name paths relative to the repository root
            try:
                params = runner.parameters(args, {k: str(outputs / v) for k, v in inputs.items()})
            finally:
                os.chdir(cwd)
            notebook, out = ROOT / args.notebook, args.out_dir
            params.update(SMOKE["stages"][name])
        params["out_dir"] = str(outputs / out)
        nb = parameterize_notebook(load_notebook_node(str(notebook)), params)
        work = outputs.parent / "notebooks" / name.replace("@", "_")
        work.mkdir(parents=True)
        nbformat.write(nb, work / notebook.name)
        env = {**os.environ, "RES2NETFUSE_ROOT": str(shadow), "OMP_WAIT_POLICY": "PASSIVE", "MPLBACKEND": "Agg"}
        done[name] = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider", notebook.name],
            cwd=work, env=env, capture_output=True, text=True, timeout=900,
        )
        done[name].out = outputs / out  # type: ignore[attr-defined]
        return done[name]

    return run, outputs


@pytest.mark.parametrize("name", [*SMOKE["stages"], "explorer"])
def test_notebook_runs_in_the_smoke_pipeline(name: str, smoke_run) -> None:  # type: ignore[no-untyped-def]
    run, _ = smoke_run
    proc = run(name)
    assert proc.returncode == 0, f"{name} failed under nbval:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
    assert proc.out.is_dir() and any(proc.out.iterdir()), f"{name} wrote nothing to its out_dir"
