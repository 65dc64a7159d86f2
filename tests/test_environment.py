"""environment.yml (conda users) pins exactly the dependencies of pyproject.toml (pip users)."""

from __future__ import annotations

import tomllib

import yaml

from conftest import ROOT


def test_environment_yml_pins_the_same_dependencies_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = set(project["dependencies"]) | {d for deps in project["optional-dependencies"].values() for d in deps}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(pip_section) - {"-e ."} == pinned
    assert all("==" in d for d in pinned), "every dependency is pinned to one version"
