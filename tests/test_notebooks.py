"""The smoke pipeline: every stage notebook under nbval, with the fast parameters of ``smoke_params.yaml``.

The entries run in dependency order into one temporary results folder, so each notebook reads what its
upstream notebooks wrote (as the DVC stages do) and the pipeline's wiring is tested end to end. Each
notebook is parameterised with papermill, then executed by nbval (``--nbval-lax``: every cell must run
without error). ``RES2NETFUSE_ROOT`` points the kernel at this repository, so data paths resolve.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

ROOT = Path(__file__).resolve().parents[1]
SMOKE: dict[str, dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "notebooks" / "smoke_params.yaml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_notebook_is_in_the_smoke_pipeline() -> None:
    assert {nb.name for nb in NOTEBOOKS} == {entry["notebook"] for entry in SMOKE.values()}
    for name, entry in SMOKE.items():
        assert set(entry.get("needs", [])) <= set(SMOKE), f"{name}: unknown needs"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{notebook.name}: cells {dirty} carry outputs; strip them (jupyter nbconvert --clear-output)"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{notebook.name}: needs exactly one cell tagged 'parameters'"


def _fill(value: Any, results: Path) -> Any:
    """``value`` with ``{results}`` in every string replaced by the smoke pipeline's results folder."""
    if isinstance(value, str):
        return value.replace("{results}", str(results))
    if isinstance(value, dict):
        return {k: _fill(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, results) for v in value]
    return value


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory, data_dir: Path):  # type: ignore[no-untyped-def]
    """``run(name)``: execute smoke entry ``name`` (after its needs) once per session; returns nbval's result."""
    results = tmp_path_factory.mktemp("smoke") / "results"
    done: dict[str, subprocess.CompletedProcess[str]] = {}

    def run(name: str) -> subprocess.CompletedProcess[str]:
        if name in done:
            return done[name]
        entry = SMOKE[name]
        for need in entry.get("needs", []):
            if run(need).returncode != 0:
                pytest.fail(f"{name}: the smoke entry it needs, {need!r}, failed")
        out = results / entry["out"]
        params = {**_fill(entry.get("params", {}), results), "out_dir": str(out)}
        nb = parameterize_notebook(load_notebook_node(str(ROOT / "notebooks" / entry["notebook"])), params)
        work = results.parent / "notebooks" / name
        work.mkdir(parents=True)
        nbformat.write(nb, work / entry["notebook"])
        env = {**os.environ, "RES2NETFUSE_ROOT": str(ROOT), "OMP_WAIT_POLICY": "PASSIVE", "MPLBACKEND": "Agg"}
        done[name] = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider", entry["notebook"]],
            cwd=work, env=env, capture_output=True, text=True, timeout=900,
        )
        return done[name]

    return run, results


@pytest.mark.parametrize("name", list(SMOKE))
def test_notebook_runs_in_the_smoke_pipeline(name: str, smoke_run) -> None:  # type: ignore[no-untyped-def]
    run, results = smoke_run
    proc = run(name)
    notebook = SMOKE[name]["notebook"]
    assert proc.returncode == 0, f"{notebook} ({name}) failed under nbval:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
    out = results / SMOKE[name]["out"]
    assert out.is_dir() and any(out.iterdir()), f"{notebook} ({name}) wrote nothing to its out_dir"
