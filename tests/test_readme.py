"""README.md opens with the two commands, and .ci/run runs the test command verbatim."""

from __future__ import annotations

import re

from conftest import ROOT


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [line for b in blocks[:2] for line in b.splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_reproduce_and_test_commands() -> None:
    reproduce, test = readme_commands()
    assert reproduce.endswith("dvc repro") and "pip install" in reproduce
    assert "pytest" in test and "pip install" in test


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()
