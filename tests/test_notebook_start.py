"""A stage notebook's first cell: run by the runner it gets everything; opened by hand, dvc.yaml fills the gaps."""

from __future__ import annotations

from pathlib import Path

import pytest

from res2netfuse import settings
from res2netfuse.notebook import output_of, start

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def shadow(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository's dvc.yaml, params.yaml and data in a folder of their own (start() writes its out_dir)."""
    for name in ("dvc.yaml", "params.yaml", "data"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.setenv("RES2NETFUSE_ROOT", str(tmp_path))
    monkeypatch.chdir(Path.cwd())  # start() changes to the repository root; undone after each test
    return tmp_path


def test_opened_by_hand_the_stage_gets_what_dvc_would_pass(shadow: Path) -> None:
    params = settings.load(ROOT / "params.yaml")
    run = start("fusion", {"out_dir": None, "inputs": None, "fusion": None, "strategies": {"l1": {"r": 1}},
                           "mapping": None})
    assert Path.cwd() == shadow and run.out == Path("results/fusion") and run.out.is_dir()
    assert run.inputs == {"checkpoint": Path("results/train/checkpoint.pt")}
    assert run.params["fusion"] == params["fusion"] and run.params["mapping"] == params["output"]["mapping"]
    assert run.params["strategies"]["l1"] == {"r": 1} and run.params["strategies"]["mean"] == params["strategies"]["mean"]


def test_run_by_the_runner_the_given_values_are_used(tmp_path: Path) -> None:
    given = {"out_dir": str(tmp_path / "out"), "inputs": {"checkpoint": str(tmp_path / "c.pt")},
             "architecture": {"image": "data/fusion/tno21/vi/01.png", "crop": 32}}
    run = start("architecture", given)
    assert run.out == tmp_path / "out" and run.out.is_dir() and run.input("checkpoint") == tmp_path / "c.pt"
    assert run.params == {"architecture": given["architecture"]}
    with pytest.raises(KeyError, match="stage architecture has no input 'fused'"):
        run.input("fused")


def test_a_parameters_cell_that_misses_a_stage_parameter_is_named(tmp_path: Path) -> None:
    with pytest.raises(NameError, match="must declare strategies, mapping"):
        start("fusion", {"out_dir": str(tmp_path), "inputs": {}, "fusion": {}})


def test_output_of_a_stage_is_its_folder_in_dvc_yaml(shadow: Path) -> None:
    assert output_of("train") == shadow / "results" / "train"
