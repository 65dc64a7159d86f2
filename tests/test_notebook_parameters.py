"""Every stage notebook's ``parameters`` cell parses cleanly with papermill's own inspection.

papermill reads the cell line by line: a line it cannot parse is skipped with "Unable to parse
line N", and a ``-p NAME`` for a parameter it did not recognise is then reported as "Passed
unknown parameter". So the names papermill finds must be exactly the names the cell assigns
(read here with Python's own parser), with no warning on the way.
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import nbformat
import papermill
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(ROOT.glob("notebooks/*.ipynb"))


def parameters_cell(path: Path) -> str:
    """The source of the cell tagged ``parameters`` (the test fails when there is none)."""
    cells = [c for c in nbformat.read(path, as_version=4).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected one cell tagged 'parameters', found {len(cells)}"
    return cells[0].source


def assigned_names(source: str) -> set[str]:
    """Names assigned at the top level of ``source`` (plain or annotated assignments)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        else:
            targets = [node.target] if isinstance(node, ast.AnnAssign) else []
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def test_every_notebook_is_checked() -> None:
    """The notebooks checked here are the stage notebooks dvc.yaml runs and the explorer (an empty glob would
    check nothing)."""
    from test_dvc_deps import runner_stages

    stages = {notebook.name for notebook, _, _ in runner_stages().values()}
    assert {p.name for p in NOTEBOOKS} == stages | {"explorer.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_papermill_parses_the_parameters_cell(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="papermill"):
        inspected = papermill.inspect_notebook(str(path))
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not warnings, f"{path.name}: papermill warned: {warnings}"
    assert set(inspected) == assigned_names(parameters_cell(path)), f"{path.name}: papermill misread the cell"
