"""dvc.yaml's hand-written ``deps`` cover every ``lib/`` module a stage runs, so a code change reruns it.

For each stage run by the stage runner, the modules its notebook imports and the runner's own
modules are followed transitively through ``lib/res2netfuse`` (``ast``, no import executed);
each must be a dependency of the stage, itself or through a folder that contains it.
"""

from __future__ import annotations

import ast
import functools
import shlex
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from res2netfuse import stage as runner

LIB = ROOT / "lib"
PACKAGE = "res2netfuse"
RUNNER = f"{PACKAGE}.stage"
# checks settings before a stage runs and computes nothing a stage writes: a change to it (or to the modules it
# consults) cannot change any output, so it is not followed
CHECKS_ONLY = {f"{PACKAGE}.validation"}


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
        if path is None or name in seen or name in CHECKS_ONLY:
            continue
        seen[name] = path
        todo.extend(imported_modules(path.read_text(), name, path.name == "__init__.py"))
    return set(seen.values())


def notebook_imports(path: Path) -> set[str]:
    nb = nbformat.read(path, as_version=4)
    code = "\n".join(line for c in nb.cells if c.cell_type == "code" for line in c.source.splitlines()
                     if not line.lstrip().startswith(("%", "!")))
    return imported_modules(code, "__notebook__", False)


@functools.cache
def runner_stages() -> dict[str, tuple[Path, list[str], dict[str, str]]]:
    """Stage name -> (notebook, deps, inputs) for every stage run by the stage runner, as DVC resolves dvc.yaml
    (variables and ``foreach`` expanded): what ``dvc repro`` runs."""
    from dvc.repo import Repo

    found = {}
    with Repo(str(ROOT)) as repo:
        for stage in repo.index.stages:
            words = shlex.split(stage.cmd or "")
            if RUNNER in words:
                args, inputs = runner.resolve(stage.addressing, ROOT)
                found[stage.addressing] = (ROOT / args.notebook, [str(d.def_path) for d in stage.deps], inputs)
    return found


@functools.cache
def stage_outputs() -> dict[str, str]:
    """Every output of a stage downstream of the data -> the stage that makes it (data/ is read through the
    data registry, res2netfuse.datasets, and the paths in params.yaml)."""
    from dvc.repo import Repo

    with Repo(str(ROOT)) as repo:
        return {str(o.def_path): s.addressing for s in repo.index.stages for o in s.outs
                if Path(str(o.def_path)).parts[0] != "data"}


def covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(ROOT)
    return any(rel == Path(d) or Path(d) in rel.parents for d in deps)


def test_every_stage_notebook_is_run_by_a_stage_and_no_other_notebook_is() -> None:
    """The numbered notebooks are exactly the ones dvc.yaml runs (the explorer is apart, unnumbered)."""
    numbered = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert {nb.name for nb, _, _ in runner_stages().values()} == numbered


@pytest.mark.parametrize("stage", sorted(runner_stages()))
def test_stage_inputs_are_its_declared_upstream_deps(stage: str) -> None:
    """Every input handed to the notebook is a dep, and every dep made by another stage is an input (or the
    value of a parameter, such as a run's training image): so a notebook gets no path DVC does not track, and
    tracks none it is not given."""
    _, deps, inputs = runner_stages()[stage]
    assert set(inputs.values()) <= set(deps), f"{stage}: inputs not listed in deps: {set(inputs.values()) - set(deps)}"
    made = stage_outputs()
    upstream = {d for d in deps if any(Path(d) == Path(o) or Path(o) in Path(d).parents or Path(d) in Path(o).parents
                                       for o in made)}
    assigned = {a.partition("=")[2] for a in runner.resolve(stage, ROOT)[0].assignments}  # --set train.image=...
    loose = sorted(d for d in upstream - set(inputs.values()) if d not in assigned)
    assert not loose, f"{stage}: reads upstream outputs that are not named inputs: {loose}"


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_name_no_stage_output(notebook: Path) -> None:
    """Paths between stages are written once, in dvc.yaml: a notebook reads its inputs, never a results/ path."""
    outputs = {Path(o).parts[0] + "/" for o in stage_outputs()}
    code = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    assert not [o for o in outputs if f'"{o}' in code or f"'{o}" in code], f"{notebook.name} names a stage output"


@pytest.mark.parametrize("stage", sorted(runner_stages()))
def test_stage_deps_list_every_lib_module_it_runs(stage: str) -> None:
    notebook, deps, _ = runner_stages()[stage]
    assert covered(notebook, deps), f"{stage}: the notebook {notebook.name} is not a dependency"
    needed = closure(notebook_imports(notebook) | {RUNNER})
    missing = sorted(str(p.relative_to(ROOT)) for p in needed if not covered(p, deps))
    assert not missing, f"dvc.yaml stage {stage!r} runs these modules but does not list them in deps: {missing}"


def test_the_check_finds_a_missing_dependency() -> None:
    """The closure sees indirect imports: the fusion pipeline reaches the model through pipeline.py."""
    needed = {p.name for p in closure({f"{PACKAGE}.pipeline"})}
    assert {"model.py", "densefuse.py", "fusion.py", "io.py", "runtime.py"} <= needed
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
