"""dvc.yaml's hand-written ``deps`` cover every ``lib/`` module a stage runs, so a code change reruns it.

For each stage run by the stage runner, the modules its notebook imports and the runner's own
modules are followed transitively through ``lib/res2netfuse`` (``ast``, no import executed);
each must be a dependency of the stage, itself or through a folder that contains it.
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import ROOT

LIB = ROOT / "lib"
PACKAGE = "res2netfuse"
RUNNER = f"{PACKAGE}.stage"


def module_file(name: str) -> Path | None:
    """The source file of module ``name`` (``res2netfuse.x.y``) under lib/, or None outside the package."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = LIB.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute names of the modules ``source`` (the code of ``module``) imports, packages included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                anchor = parts if is_package else parts[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    parents = {".".join(n.split(".")[:i]) for n in found for i in range(1, n.count(".") + 1)}
    return {n for n in found | parents if module_file(n) is not None}


def closure(modules: set[str]) -> set[Path]:
    """Every lib/ file reached from ``modules`` by imports."""
    seen: dict[str, Path] = {}
    todo = list(modules)
    while todo:
        name = todo.pop()
        path = module_file(name)
        if path is None or name in seen:
            continue
        seen[name] = path
        todo.extend(imported_modules(path.read_text(), name, path.name == "__init__.py"))
    return set(seen.values())


def notebook_imports(path: Path) -> set[str]:
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(line for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines()
                     if not line.lstrip().startswith(("%", "!")))
    return imported_modules(code, "__notebook__", False)


def runner_stages() -> dict[str, tuple[Path, list[str]]]:
    """Stage name -> (notebook, deps) for every stage (and foreach template) run by the stage runner."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    found = {}
    for name, stage in stages.items():
        body = stage.get("do", stage)
        words = shlex.split(body["cmd"])
        if RUNNER in words:
            found[name] = (ROOT / words[words.index(RUNNER) + 1], body.get("deps", []))
    return found


def covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT)
    return any(rel == Path(d) or Path(d) in rel.parents for d in deps)


def test_every_notebook_stage_uses_the_runner() -> None:
    assert len(runner_stages()) >= 5


@pytest.mark.parametrize("stage", sorted(runner_stages()))
def test_stage_deps_list_every_lib_module_it_runs(stage: str) -> None:
    notebook, deps = runner_stages()[stage]
    assert covered(notebook, deps), f"{stage}: the notebook {notebook.name} is not a dependency"
    needed = closure(notebook_imports(notebook) | {RUNNER})
    missing = sorted(str(p.relative_to(ROOT)) for p in needed if not covered(p, deps))
    assert not missing, f"dvc.yaml stage {stage!r} runs these modules but does not list them in deps: {missing}"


def test_the_check_finds_a_missing_dependency() -> None:
    """The closure sees indirect imports: the fusion pipeline reaches the model through pipeline.py."""
    needed = {p.name for p in closure({f"{PACKAGE}.pipeline"})}
    assert {"model.py", "baselines.py", "fusion.py", "io.py", "runtime.py"} <= needed
    assert not covered(LIB / PACKAGE / "model.py", ["lib/res2netfuse/pipeline.py"])


def test_caches_inside_folder_deps_do_not_count() -> None:
    """A folder dep (``lib/res2netfuse/metrics``) holds ``__pycache__`` with .pyc and numba's cache files,
    which differ between machines and runs: DVC must ignore them, or running the tests would make the
    stages that score look changed."""
    import subprocess
    import sys

    caches = ["lib/res2netfuse/metrics/__pycache__/core.cpython-311.pyc",
              "lib/res2netfuse/metrics/__pycache__/_common.kernel-40.py311.nbi",
              "lib/res2netfuse/metrics/__pycache__/_common.kernel-40.py311.1.nbc"]
    sources = ["lib/res2netfuse/metrics/core.py"]
    done = subprocess.run([sys.executable, "-m", "dvc", "check-ignore", *caches, *sources], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == caches, done.stdout + done.stderr
