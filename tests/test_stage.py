"""The stage runner (``python -m res2netfuse.stage``): parameters, all-or-nothing outputs, progress, interrupts.

The end-to-end tests use a throwaway DVC project in ``tmp_path`` whose one stage runs a small
notebook: it writes ``work.n`` files into ``out_dir``, each followed by ``$STAGE_TEST_DELAY``
seconds of sleep (0 unless a test wants a long-running stage), with a ``progress.bar``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml

from res2netfuse import progress, stage

PARAMS = {"work": {"n": 4, "fail": False}, "output": {"mapping": "minmax"}, "other": {"mapping": "clip"},
          "bigger": {"n": 100}}
NOTEBOOK_CELLS = [
    'out_dir = "out"\nwork = {}\nmapping = ""\ninputs = {}',
    "import json, os, pathlib, time\nfrom res2netfuse.progress import bar\n"
    'pathlib.Path(out_dir, "params.json").write_text(json.dumps({"work": work, "mapping": mapping, "inputs": inputs}))\n'
    'for i in bar(range(work["n"]), desc="work", unit="file"):\n'
    '    pathlib.Path(out_dir, f"{i}.txt").write_text(str(i))\n'
    '    time.sleep(float(os.environ.get("STAGE_TEST_DELAY", "0")))',
    'if work["fail"]:\n    raise ValueError("work failed on purpose\\nsecond line")',
]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A folder with ``params.yaml`` and ``stage.ipynb`` (a parameters cell, then the work)."""
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(PARAMS))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK_CELLS])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "stage.ipynb")
    return tmp_path


def env(delay: float = 0.0) -> dict[str, str]:
    return {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "STAGE_TEST_DELAY": str(delay)}


ROOT = Path(__file__).resolve().parents[1]
RUNNER = [sys.executable, "-m", "res2netfuse.stage"]


def run_stage(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNNER, "stage.ipynb", "results/work", *args], cwd=project, env=env(),
                          capture_output=True, text=True, timeout=120)


# --- parameters -------------------------------------------------------------------------------


def test_each_key_becomes_one_parameter_named_by_its_last_component() -> None:
    values = stage.notebook_parameters(PARAMS, ["work", "output.mapping"])
    assert values == {"work": {"n": 4, "fail": False}, "mapping": "minmax"}


def test_set_overrides_an_existing_value_read_as_yaml_without_changing_the_input() -> None:
    values = stage.notebook_parameters(PARAMS, ["work"], ["work.n=12", "work.fail=true"])
    assert values == {"work": {"n": 12, "fail": True}}
    assert PARAMS["work"] == {"n": 4, "fail": False}
    assert stage.notebook_parameters(PARAMS, ["work.n"], ["work.n=[1, 2]"]) == {"n": [1, 2]}


def test_merge_puts_one_section_over_another_before_set() -> None:
    values = stage.notebook_parameters(PARAMS, ["work"], ["work.fail=true"], ["work=bigger"])
    assert values == {"work": {"n": 100, "fail": True}}
    assert PARAMS["work"] == {"n": 4, "fail": False}


@pytest.mark.parametrize(("merges", "message"), [
    (["work"], "expected KEY=OTHER"),
    (["work=missing"], "params.yaml has no 'missing'"),
    (["work=output.mapping"], "'work' and 'output.mapping' must both be sections"),
])
def test_bad_merges_are_one_line_errors(merges: list[str], message: str) -> None:
    with pytest.raises(stage.StageError, match=re.escape(message)):
        stage.notebook_parameters(PARAMS, ["work"], merges=merges)


@pytest.mark.parametrize(("keys", "assignments", "message"), [
    (["work.size"], [], "params.yaml has no 'work.size'"),
    (["nothing"], [], "params.yaml has no 'nothing'"),
    (["output.mapping", "other.mapping"], [], "-p output.mapping and -p other.mapping both give the notebook "
                                             "parameter 'mapping'"),
    (["work.n", "work.n"], [], "both give the notebook parameter 'n'"),
    (["work", "out_dir"], [], "'out_dir' is set by the runner"),
    (["work"], ["work.size=3"], "--set work.size: params.yaml has no 'work.size'"),
    (["work"], ["nothing.n=3"], "params.yaml has no 'nothing'"),
    (["work"], ["work.n"], "expected KEY=VALUE"),
    (["work"], ["work.n=[1"], "'[1' is not a YAML value"),
])
def test_bad_keys_are_one_line_errors(keys: list[str], assignments: list[str], message: str) -> None:
    with pytest.raises(stage.StageError) as info:
        stage.notebook_parameters(PARAMS, keys, assignments)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("args", "message"), [
    (["missing.ipynb", "results/work"], "missing.ipynb: notebook not found"),
    (["stage.ipynb", "results/work", "-p", "work.size"], "params.yaml has no 'work.size'"),
    (["stage.ipynb", "results/work", "-p", "other"], "stage.ipynb: no parameter other in its 'parameters' cell"),
    (["stage.ipynb", "results/work", "--params-file", "none.yaml"], "none.yaml: settings file not found"),
])
def test_command_line_errors_exit_2_with_one_line(project: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str], args: list[str],
                                                  message: str) -> None:
    monkeypatch.chdir(project)
    monkeypatch.delenv("DVC_STAGE", raising=False)
    assert stage.main(args) == 2
    assert capsys.readouterr().err == f"stage work: error: {message}\n"


def test_durations_read_naturally() -> None:
    assert [stage.duration(s) for s in (0.4, 41, 312, 3725)] == ["0 s", "41 s", "5m12s", "1h02m05s"]


# --- progress -----------------------------------------------------------------------------------


def test_progress_lines_mode_writes_throttled_whole_lines_to_stderr(monkeypatch: pytest.MonkeyPatch,
                                                                    capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(progress.ENV, "lines")
    b = progress.bar(range(1000), desc="scoring", unit="triple")
    for i in b:
        if i == 500:
            b.set_postfix(loss="0.1", refresh=False)
    out, err = capfd.readouterr()
    assert out == "" and "\r" not in err
    lines = err.splitlines()
    assert len(lines) == 2  # the first and the final state: the rest falls within LINE_INTERVAL_S
    assert lines[-1].startswith("scoring: 100%|") and "1000/1000" in lines[-1] and "triple/s" in lines[-1]


def test_nested_bars_in_lines_mode_are_plain_lines(monkeypatch: pytest.MonkeyPatch,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    """tqdm places an inner bar with cursor-up escapes, which a log shows as ``[A``."""
    monkeypatch.setenv(progress.ENV, "lines")
    for _ in progress.bar(range(2), desc="models", unit="model"):
        for _ in progress.bar(range(3), desc="pairs", unit="pair"):
            pass
    _, err = capfd.readouterr()
    assert "\x1b" not in err and "\r" not in err
    lines = err.splitlines()
    assert all(line.startswith(("models:", "pairs:")) for line in lines), lines
    assert sum(line.startswith("pairs: 100%|") for line in lines) == 2


def test_progress_mode_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(progress.ENV, "fancy")
    with pytest.raises(ValueError, match="RES2NETFUSE_PROGRESS='fancy'"):
        progress.bar(range(3))
    monkeypatch.delenv(progress.ENV)
    from tqdm.auto import tqdm
    assert isinstance(progress.bar(range(3), disable=True), tqdm)


def test_inputs_are_named_path_pairs_that_must_exist(tmp_path: Path) -> None:
    (tmp_path / "ckpt.pt").write_text("x")
    assert stage.parse_inputs(["--checkpoint", str(tmp_path / "ckpt.pt")]) == {"checkpoint": str(tmp_path / "ckpt.pt")}
    for extra, message in ((["--checkpoint"], "expected --INPUT PATH pairs"), (["checkpoint", "x"], "expected --INPUT"),
                           (["--a-b", "x"], "--a-b: an input needs a unique name"),
                           (["--checkpoint", str(tmp_path / "none.pt")], "input checkpoint: ")):
        with pytest.raises(stage.StageError, match=message):
            stage.parse_inputs(extra)


def test_resolve_reads_a_stage_of_dvc_yaml_as_dvc_does() -> None:
    """The fusion stage's inputs come from its vars; a foreach instance gets its item's values."""
    args, inputs = stage.resolve("fusion", ROOT)
    assert (str(args.notebook), str(args.out_dir)) == ("notebooks/04_fusion.ipynb", "results/fusion")
    assert args.keys == ["fusion", "strategies", "output.mapping"] and inputs == {"checkpoint": "results/train/checkpoint.pt"}
    args, inputs = stage.resolve("runs@camera", ROOT)
    assert "train.image=data/train/camera.png" in args.assignments and inputs == {}
    with pytest.raises(stage.StageError, match="no stage 'nosuch'"):
        stage.resolve("nosuch", ROOT)


# --- running a notebook -------------------------------------------------------------------------


def test_success_publishes_out_dir_and_progress_goes_to_stderr_not_the_notebook(project: Path) -> None:
    old = project / "results" / "work"
    old.mkdir(parents=True)
    (old / "stale.txt").write_text("from an earlier run")
    (project / "results" / ".work.partial-999999999").mkdir()  # left by a runner killed with SIGKILL
    (project / "upstream.csv").write_text("an upstream stage's output")
    proc = run_stage(project, "-p", "work", "-p", "output.mapping", "--set", "work.n=3", "--name", "run1",
                     "--table", "upstream.csv")
    assert proc.returncode == 0, proc.stderr
    out = project / "results" / "work"
    assert sorted(p.name for p in out.iterdir()) == ["0.txt", "1.txt", "2.txt", "params.json"]
    assert json.loads((out / "params.json").read_text()) == {"work": {"n": 3, "fail": False}, "mapping": "minmax",
                                                             "inputs": {"table": "upstream.csv"}}
    assert sorted(p.name for p in (project / "results").iterdir()) == ["notebooks", "work"]  # no partial folder

    lines = proc.stderr.splitlines()
    assert lines[0] == "stage work: running stage.ipynb (executed copy: results/notebooks/run1.ipynb)"
    assert any(line.startswith("work: 100%|") and "3/3" in line for line in lines)
    assert lines[-1].startswith("stage work: done in ")
    executed = (project / "results" / "notebooks" / "run1.ipynb").read_text()
    assert "file/s" not in executed and "100%" not in executed


def test_failing_cell_exits_1_with_one_line_and_keeps_the_previous_output(project: Path) -> None:
    old = project / "results" / "work"
    old.mkdir(parents=True)
    (old / "kept.txt").write_text("from an earlier, complete run")
    proc = run_stage(project, "-p", "work", "--set", "work.fail=true")
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1] == ("stage work (stage.ipynb): failed: cell [4] raised ValueError: work failed "
                                            "on purpose; see results/notebooks/stage.ipynb")
    assert [p.name for p in old.iterdir()] == ["kept.txt"]
    assert sorted(p.name for p in (project / "results").iterdir()) == ["notebooks", "work"]


def test_a_real_stage_notebook_with_its_smoke_parameters(data_dir: Path, tmp_path: Path) -> None:
    """The training notebook through the runner, as dvc.yaml's train stage runs it but with the smoke settings:
    the library's training bar, with its loss, reaches stderr and not the executed notebook."""
    from res2netfuse import settings

    smoke = yaml.safe_load((ROOT / "tests" / "notebooks" / "smoke_params.yaml").read_text())["params"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(settings.merged(settings.load(ROOT / "params.yaml"), smoke)))
    (tmp_path / "data").symlink_to(data_dir)
    args, _ = stage.resolve("train", ROOT)
    proc = subprocess.run([*RUNNER, str(ROOT / args.notebook), str(tmp_path / args.out_dir),
                           *[a for key in args.keys for a in ("-p", key)]],
                          cwd=tmp_path, env={**env(), "RES2NETFUSE_ROOT": str(ROOT), "MPLBACKEND": "Agg"},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / args.out_dir / "checkpoint.pt").is_file()
    assert any(line.startswith("train: 100%|") and "loss=" in line for line in proc.stderr.splitlines()), proc.stderr
    assert "it/s" not in (tmp_path / "results" / "notebooks" / args.notebook.name).read_text()


# --- interrupting dvc repro -----------------------------------------------------------------------


def dvc(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dvc", *args], cwd=project, env=env(), capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("shell", [s for s in ("/bin/sh", "/bin/bash") if Path(s).exists()])
def test_interrupted_dvc_repro_stops_within_seconds_and_leaves_nothing(project: Path, shell: str) -> None:
    """Ctrl-C (SIGINT to the process group) and SIGTERM to ``dvc`` each stop
    the stage within seconds, no process of it survives, no output folder appears, the stage
    stays changed; then ``dvc repro`` completes. dvc runs the command through ``$SHELL -c``; dash
    (Debian's /bin/sh) does not exec it, so its shell outlives a killed dvc: both kinds are tried."""
    cmd = " ".join([*map(shlex.quote, RUNNER), "stage.ipynb", "results/work", "-p", "work", "-p", "output.mapping"])
    stages = {"work": {"cmd": cmd, "deps": ["stage.ipynb"], "params": ["work", "output"], "outs": ["results/work"]}}
    (project / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}))
    assert dvc(project, "init", "--no-scm", "-q").returncode == 0
    results = project / "results"

    for sig, to_group in ((signal.SIGINT, True), (signal.SIGTERM, False)):
        repro = subprocess.Popen([sys.executable, "-m", "dvc", "repro"], cwd=project,
                                 env={**env(delay=60), "SHELL": shell},
                                 start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90
        while not list(results.glob(".work.partial-*/0.txt")):  # the stage's cell is running
            assert repro.poll() is None and time.monotonic() < deadline, repro.communicate()
            time.sleep(0.1)
        processes = psutil.Process(repro.pid).children(recursive=True)
        assert any("ipykernel" in " ".join(p.cmdline()) for p in processes)
        start = time.monotonic()
        if to_group:
            os.killpg(repro.pid, sig)  # what a terminal's Ctrl-C does
        else:
            repro.send_signal(sig)
        _, err = repro.communicate(timeout=30)
        _, alive = psutil.wait_procs(processes, timeout=15)
        stopped_after = time.monotonic() - start
        print(f"{sig.name}: every process of the stage gone after {stopped_after:.2f} s")
        assert not alive, f"survivors: {[p.cmdline() for p in alive]}"
        assert stopped_after < 10
        assert repro.returncode != 0
        assert f"interrupted by {'SIGINT' if to_group else 'the exit of its parent process'} after" in err, err
        assert sorted(p.name for p in results.iterdir()) == ["notebooks"]  # no output, no partial folder
        status = dvc(project, "status")
        assert "work:" in status.stdout and "deleted:            results/work" in status.stdout, status.stdout

    assert dvc(project, "repro").returncode == 0
    assert sorted(p.name for p in (results / "work").iterdir()) == ["0.txt", "1.txt", "2.txt", "3.txt", "params.json"]
    assert "up to date" in dvc(project, "status").stdout


def test_a_failed_dvc_stage_says_how_to_restore_its_previous_outputs(project: Path) -> None:
    """DVC deletes a stage's outputs before running it; the runner's failure line names the command that brings
    the previous ones back from DVC's cache, and that command works."""
    cmd = " ".join([*map(shlex.quote, RUNNER), "stage.ipynb", "results/work", "-p", "work"])
    stages = {"work": {"cmd": cmd, "deps": ["stage.ipynb"], "params": ["work"], "outs": ["results/work"]}}
    (project / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}))
    assert dvc(project, "init", "--no-scm", "-q").returncode == 0
    assert dvc(project, "repro").returncode == 0
    made = sorted(p.name for p in (project / "results" / "work").iterdir())
    (project / "params.yaml").write_text(yaml.safe_dump({**PARAMS, "work": {"n": 2, "fail": True}}))
    failed = dvc(project, "repro")
    assert failed.returncode != 0 and not (project / "results" / "work").exists()
    assert "failed: cell [4] raised ValueError: work failed on purpose" in failed.stderr
    assert "; `dvc checkout work` restores its previous outputs" in failed.stderr
    assert dvc(project, "checkout", "work").returncode == 0
    assert sorted(p.name for p in (project / "results" / "work").iterdir()) == made
