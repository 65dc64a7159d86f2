"""nbval smoke run of every notebook with the fast parameters of ``smoke_params.yaml``.

Each notebook is parameterised with papermill (out_dir -> a temporary folder, plus the smoke
parameters) and then executed by nbval (``--nbval-lax``: every cell must run without error).
``RES2NETFUSE_ROOT`` points the kernel at this repository, so relative data paths resolve.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

ROOT = Path(__file__).resolve().parents[1]
SMOKE = yaml.safe_load((Path(__file__).parent / "notebooks" / "smoke_params.yaml").read_text())
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_notebook_has_smoke_parameters() -> None:
    assert {nb.name for nb in NOTEBOOKS} <= set(SMOKE), "add the notebook to tests/notebooks/smoke_params.yaml"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{notebook.name}: cells {dirty} carry outputs; strip them (jupyter nbconvert --clear-output)"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{notebook.name}: needs exactly one cell tagged 'parameters'"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_with_smoke_parameters(notebook: Path, data_dir: Path, tmp_path: Path) -> None:
    params = {"out_dir": str(tmp_path / "out"), **(SMOKE.get(notebook.name) or {})}
    nb = parameterize_notebook(load_notebook_node(str(notebook)), params)
    target = tmp_path / notebook.name
    nbformat.write(nb, target)
    env = {**os.environ, "RES2NETFUSE_ROOT": str(ROOT), "OMP_WAIT_POLICY": "PASSIVE", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider", str(target)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, f"{notebook.name} failed under nbval:\n{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}"
    assert any((tmp_path / "out").iterdir()), f"{notebook.name} wrote nothing to out_dir"
