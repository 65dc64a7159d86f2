"""Stage runner: execute a stage notebook for DVC, with params from params.yaml, all-or-nothing outputs.

Usage, from the repository root (where DVC runs stage commands)::

    python -m res2netfuse.stage NOTEBOOK OUT_DIR [-p KEY]... [--merge KEY=OTHER]... [--set KEY=VALUE]...
                                [--name NAME] [--params-file params.yaml] [--INPUT PATH]...

* ``-p KEY`` (a dotted path into the params file: ``train``, ``output.mapping``) passes that value,
  scalar, list or mapping, as one notebook parameter named after the path's last component
  (``train = {...}``, ``mapping = "minmax"``). Before that, ``--merge KEY=OTHER`` merges section
  OTHER into section KEY (OTHER's values win, key by key: ``--merge train=many_image`` is ``train``
  with only the data changed), then ``--set KEY=VALUE`` (VALUE read as YAML) replaces an existing
  value, e.g. ``--set train.seed=${item.seed}`` in a ``foreach`` stage. Every section passed is checked
  (:func:`res2netfuse.validation.check`: unknown keys, ids of pairs, images, data sets, strategies) before
  the notebook starts, so a typo costs seconds, not a stage.
* ``--INPUT PATH`` (any other option) names one of the stage's inputs, the outputs of upstream stages it
  reads: dvc.yaml declares them once per stage, ``vars: [inputs: {checkpoint: results/train/...}]``, lists
  ``${inputs.checkpoint}`` in ``deps`` and unpacks ``${inputs}`` into the command (DVC writes a dict as
  ``--checkpoint results/train/...``). The notebook receives them as one parameter, ``inputs =
  {"checkpoint": "results/train/..."}``, and reads no other stage's output.
* The notebook's ``out_dir`` parameter is a fresh folder beside OUT_DIR (``.<name>.partial-<pid>``)
  that replaces OUT_DIR only after every cell has run, so an interrupted or failed stage never
  leaves a partial OUT_DIR.
* The executed copy (a report, not a DVC output) is written to ``results/notebooks/<NAME>``
  (default: the notebook's file name).
* On SIGINT or SIGTERM, or when the parent process (``dvc``) dies — dvc runs the command through
  ``$SHELL -c``, and a shell that does not ``exec`` it (Debian's dash) outlives a killed ``dvc``, so
  such a wrapping shell's own parent is watched too: the running cell is interrupted
  through the kernel manager (the kernel runs in a session of its own, so a terminal's Ctrl-C does
  not reach it), the kernel is killed with its process group if the cell has not stopped within
  :data:`GRACE_S` seconds (at once on a second signal), then shut down; the partial folder is
  removed and the runner exits with 128 + the signal number, with one line on stderr.
* The kernel inherits ``RES2NETFUSE_PROGRESS=lines``: :func:`res2netfuse.progress.bar` then writes
  its bars as throttled lines to the stage's stderr (the ``dvc repro`` output), not into the notebook.

Exit status: 0 done, 1 the notebook failed (or its kernel died), 2 bad arguments/params/notebook,
130 SIGINT, 143 SIGTERM. DVC deletes a stage's previous outputs before it runs the command; after a
failure the runner's last line says how to get them back from DVC's cache (``dvc checkout STAGE``).
:func:`resolve` reads a stage's command from dvc.yaml, so that a notebook opened by hand
(:mod:`res2netfuse.notebook`) and the smoke test get exactly what DVC would pass. Heavy modules (papermill, jupyter_client, pandas) are imported inside the
functions, so that a Ctrl-C in the runner's first seconds also ends in one line.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psutil
import yaml

from . import progress

EXECUTED_DIR = Path("results") / "notebooks"
KERNEL_NAME = "python3"
GRACE_S = 3.0  # an interrupted cell still running after this long is killed with its kernel
PARENT_POLL_S = 0.5  # how often the runner checks that its parent (dvc) is still alive
SHELLS = frozenset({"sh", "dash", "bash", "zsh", "ksh", "mksh", "fish"})


class StageError(Exception):
    """Bad arguments, params or notebook: reported as one line, exit status 2."""


class _Stopped(Exception):
    """Raised before a cell starts once the stage has been asked to stop."""


# --- parameters -------------------------------------------------------------------------------


def _lookup(params: dict[str, Any], key: str) -> Any:
    """:func:`settings.lookup`, with a missing key as a :class:`StageError`."""
    from . import settings

    try:
        return settings.lookup(params, key)
    except KeyError as exc:
        raise StageError(exc.args[0]) from None


def apply_override(params: dict[str, Any], assignment: str) -> None:
    """Apply ``--set KEY=VALUE`` to ``params`` in place; KEY must exist, VALUE is read as YAML."""
    key, sep, text = assignment.partition("=")
    if not sep or not key:
        raise StageError(f"--set {assignment!r}: expected KEY=VALUE")
    parent, _, leaf = key.rpartition(".")
    node = _lookup(params, parent) if parent else params
    if not isinstance(node, dict) or leaf not in node:
        raise StageError(f"--set {key}: params.yaml has no '{key}'")
    try:
        node[leaf] = yaml.safe_load(text)
    except yaml.YAMLError:
        raise StageError(f"--set {key}: {text!r} is not a YAML value") from None


def apply_merge(params: dict[str, Any], merge: str) -> None:
    """Apply ``--merge KEY=OTHER`` to ``params`` in place: section OTHER merged into section KEY."""
    from . import settings

    key, sep, other = merge.partition("=")
    if not sep or not key or not other:
        raise StageError(f"--merge {merge!r}: expected KEY=OTHER (two params.yaml sections)")
    base, update = _lookup(params, key), _lookup(params, other)
    if not isinstance(base, dict) or not isinstance(update, dict):
        raise StageError(f"--merge {merge}: '{key}' and '{other}' must both be sections (mappings)")
    parent, _, leaf = key.rpartition(".")
    (_lookup(params, parent) if parent else params)[leaf] = settings.merged(base, update)


def notebook_parameters(params: dict[str, Any], keys: Sequence[str], assignments: Sequence[str] = (),
                        merges: Sequence[str] = ()) -> dict[str, Any]:
    """``{last component of KEY: value}`` for every ``-p KEY``, after the ``--merge`` and ``--set`` overrides;
    each value checked by :func:`res2netfuse.validation.check` (a :class:`StageError` names the problem)."""
    from . import validation

    params = copy.deepcopy(params)
    for merge in merges:
        apply_merge(params, merge)
    for assignment in assignments:
        apply_override(params, assignment)
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key in keys:
        name = key.rpartition(".")[2]
        if name == "out_dir":
            raise StageError(f"-p {key}: 'out_dir' is set by the runner")
        if name in origin:
            raise StageError(f"-p {origin[name]} and -p {key} both give the notebook parameter '{name}'")
        if not name.isidentifier():
            raise StageError(f"-p {key}: '{name}' is not a valid notebook parameter name")
        values[name] = _lookup(params, key)
        origin[name] = key
        try:
            validation.check(key, values[name])
        except ValueError as exc:
            raise StageError(str(exc)) from None
    return values


def input_pairs(extra: Sequence[str]) -> dict[str, str]:
    """``{NAME: PATH}`` from ``--NAME PATH`` pairs, what dvc.yaml's ``${inputs}`` unpacks to."""
    if len(extra) % 2 or not all(a.startswith("--") for a in extra[::2]):
        raise StageError(f"expected --INPUT PATH pairs after the options, got {' '.join(extra)!r}")
    inputs: dict[str, str] = {}
    for flag, path in zip(extra[::2], extra[1::2]):
        name = flag[2:]
        if not name.isidentifier() or name in inputs:
            raise StageError(f"{flag}: an input needs a unique name that is a Python identifier")
        inputs[name] = path
    return inputs


def parse_inputs(extra: Sequence[str]) -> dict[str, str]:
    """:func:`input_pairs`, each PATH checked to exist."""
    inputs = input_pairs(extra)
    for name, path in inputs.items():
        if not Path(path).exists():
            raise StageError(f"input {name}: {path} not found (an upstream stage's output: run dvc repro)")
    return inputs


def parameters(args: argparse.Namespace, inputs: dict[str, str]) -> dict[str, Any]:
    """What the notebook receives (besides ``out_dir``): the ``-p`` values after overrides, checked, and
    ``inputs`` when the stage has any."""
    from . import settings

    try:
        params = settings.load(args.params_file)
    except (FileNotFoundError, ValueError) as exc:
        raise StageError(" ".join(str(exc).split())) from None
    values = notebook_parameters(params, args.keys, args.assignments, args.merges)
    if "inputs" in values:
        raise StageError("-p inputs: 'inputs' is set by the runner")
    return {**values, "inputs": inputs} if inputs else values


def resolve(stage: str, root: Path | None = None) -> tuple[argparse.Namespace, dict[str, str]]:
    """The runner's arguments and inputs for DVC stage ``stage`` (``fusion``, ``runs@camera``) as dvc.yaml
    defines them (its variables and ``foreach`` resolved by DVC); paths stay relative to the repository root."""
    import shlex

    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    from .report import project_root

    base = root or project_root()
    try:
        with Repo(str(base), uninitialized=True, config={"core": {"no_scm": True}}) as repo:  # reads dvc.yaml only
            command = repo.stage.collect(f"{base / 'dvc.yaml'}:{stage}")[0].cmd
    except DvcException as exc:
        raise StageError(f"dvc.yaml: no stage {stage!r} ({' '.join(str(exc).split())})") from None
    argv = shlex.split(command)
    if argv[:3] != ["python", "-m", __name__]:
        raise StageError(f"dvc.yaml: stage {stage!r} does not run {__name__}: {command}")
    args, extra = build_parser().parse_known_args(argv[3:])
    return args, input_pairs(extra)


def check_declared(notebook: Path, names: Sequence[str]) -> None:
    """Refuse parameters that ``notebook``'s ``parameters`` cell does not declare (they would be ignored)."""
    from papermill import inspect_notebook

    try:
        declared = inspect_notebook(str(notebook))
    except ValueError as exc:  # nbformat's errors for a file that is not a notebook
        raise StageError(f"{notebook}: not a readable notebook ({' '.join(str(exc).split())})") from None
    unknown = sorted(set(names) - set(declared))
    if unknown:
        raise StageError(f"{notebook}: no parameter {', '.join(unknown)} in its 'parameters' cell")


# --- execution --------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    """``41 s``, ``5m12s`` or ``1h02m05s``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    m, s = divmod(s, 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m{s:02d}s"


def publish(partial: Path, out_dir: Path) -> None:
    """Put the finished ``partial`` folder in place of ``out_dir`` (remove the old one, then rename)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(partial, out_dir)


def _remove_stale_partials(out_dir: Path) -> None:
    """Delete partial folders of ``out_dir`` left by runners that were killed outright (SIGKILL).

    A folder is named after its runner's process id; one named after this process is stale too.
    """
    for stale in out_dir.parent.glob(f".{out_dir.name}.partial-*"):
        pid = stale.name.rpartition("-")[2]
        if pid.isdigit() and (int(pid) == os.getpid() or not psutil.pid_exists(int(pid))):
            shutil.rmtree(stale, ignore_errors=True)


def watched_ancestors() -> list[psutil.Process]:
    """The parent, and while it is a shell running a command (``sh -c CMD``), that shell's parent too:
    the process whose death should stop the stage (``dvc``) and the shells between it and us."""
    chain = [psutil.Process().parent()]
    while chain[-1] is not None:
        with contextlib.suppress(psutil.Error):
            if chain[-1].name() in SHELLS and "-c" in chain[-1].cmdline()[1:]:
                chain.append(chain[-1].parent())
                continue
        break
    return [p for p in chain if p is not None]


def is_running(process: psutil.Process) -> bool:
    """Whether a ``psutil.Process`` still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


class StageRun:
    """One execution of a stage notebook: its kernel, its partial output folder, its stop requests."""

    def __init__(self, label: str, notebook: Path, out_dir: Path, executed: Path) -> None:
        import zmq
        from jupyter_client.manager import AsyncKernelManager

        self.label, self.notebook, self.out_dir, self.executed = label, notebook, out_dir, executed
        # the class nbclient would create itself; CurveZMQ-encrypted where the kernel supports it
        self.km = AsyncKernelManager(kernel_name=KERNEL_NAME,
                                     transport_encryption="auto" if zmq.has("curve") else "disabled")
        self.stop_reason: str | None = None
        self.stop_signal = signal.SIGTERM
        self._finished = threading.Event()  # set once the notebook run has returned (or raised)
        self._ancestors = watched_ancestors()

    def stop(self, signum: int, reason: str) -> None:
        """Ask the stage to stop: interrupt the running cell now; kill the kernel after :data:`GRACE_S`
        seconds if it is still busy, or at once on a second request. Safe from a signal handler."""
        first = self.stop_reason is None
        if first:
            self.stop_reason, self.stop_signal = reason, signal.Signals(signum)
        threading.Thread(target=self._stop_kernel, args=(GRACE_S if first else 0.0,), daemon=True).start()

    def _stop_kernel(self, grace: float) -> None:
        from jupyter_core.utils import run_sync

        if grace and self.km.has_kernel:
            run_sync(self.km.interrupt_kernel)()
        if not self._finished.wait(grace) and self.km.has_kernel:
            run_sync(self.km.signal_kernel)(signal.SIGKILL)  # the kernel's whole process group

    def _check_stop(self, **_: Any) -> None:
        """nbclient's ``on_cell_start`` hook: start no further cell once a stop was requested."""
        if self.stop_reason is not None:
            raise _Stopped

    def _watch_parent(self) -> None:
        """Stop the stage if the parent process, or the ``dvc`` above a wrapping shell, exits (e.g.
        ``dvc`` killed with SIGTERM)."""
        while not self._finished.wait(PARENT_POLL_S):
            if not all(map(is_running, self._ancestors)):
                self.stop(signal.SIGTERM, "the exit of its parent process")
                return

    @contextlib.contextmanager
    def _stoppable(self) -> Iterator[None]:
        """SIGINT/SIGTERM and the parent's death call :meth:`stop` while the notebook runs."""
        def on_signal(signum: int, _frame: Any) -> None:
            self.stop(signum, signal.Signals(signum).name)

        def not_stopping(_record: logging.LogRecord) -> bool:  # a stopped kernel's death is expected
            return self.stop_reason is None

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        threading.Thread(target=self._watch_parent, daemon=True).start()
        papermill_log = logging.getLogger("papermill")  # nbclient logs through it
        papermill_log.addFilter(not_stopping)
        try:
            yield
        finally:
            papermill_log.removeFilter(not_stopping)
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _execute(self, parameters: dict[str, Any]) -> str | None:
        """Run the notebook; ``None`` on success, else the one-line reason it failed."""
        import papermill
        from jupyter_core.utils import run_sync

        try:
            papermill.execute_notebook(str(self.notebook), str(self.executed), parameters=parameters,
                                       kernel_name=KERNEL_NAME, progress_bar=False, km=self.km,
                                       on_cell_start=self._check_stop)
        except papermill.PapermillExecutionError as exc:
            evalue = (exc.evalue.strip().splitlines() or [""])[0]
            return f"cell [{exc.exec_count}] raised {exc.ename}: {evalue}"
        except _Stopped:
            return "stopped"
        except Exception as exc:  # the kernel died or did not start: any error of the machinery
            return f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        finally:
            self._finished.set()
            if self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)()
        return None

    def run(self, parameters: dict[str, Any]) -> int:
        """Execute with ``parameters`` (plus ``out_dir``), publish OUT_DIR on success; the exit status."""
        start = time.monotonic()
        self.executed.parent.mkdir(parents=True, exist_ok=True)
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_partials(self.out_dir)
        partial = self.out_dir.parent / f".{self.out_dir.name}.partial-{os.getpid()}"
        os.environ[progress.ENV] = "lines"  # inherited by the kernel
        print(f"stage {self.label}: running {self.notebook} (executed copy: {self.executed})",
              file=sys.stderr, flush=True)
        with self._stoppable():
            try:
                partial.mkdir()
                failure = self._execute({**parameters, "out_dir": str(partial)})
                if failure is None and self.stop_reason is None:
                    publish(partial, self.out_dir)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
        where = f"stage {self.label} ({self.notebook})"
        if self.stop_reason is not None:
            print(f"{where}: interrupted by {self.stop_reason} after {duration(time.monotonic() - start)}; "
                  "no output written, rerun dvc repro to redo it" + restore_hint(self.label), file=sys.stderr,
                  flush=True)
            return 128 + self.stop_signal
        if failure is not None:
            print(f"{where}: failed: {failure}; see {self.executed}" + restore_hint(self.label), file=sys.stderr,
                  flush=True)
            return 1
        print(f"stage {self.label}: done in {duration(time.monotonic() - start)}", file=sys.stderr, flush=True)
        return 0


def restore_hint(label: str) -> str:
    """Run by DVC (``$DVC_STAGE`` set), which deleted the stage's previous outputs before running it: how to
    get them back from its cache."""
    stage = os.environ.get("DVC_STAGE")
    return f"; `dvc checkout {stage}` restores its previous outputs" if stage else ""


# --- command line -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The runner's argument parser (see the module doc)."""
    parser = argparse.ArgumentParser(prog="python -m res2netfuse.stage", allow_abbrev=False,
                                     description="Run a stage notebook with parameters from params.yaml.",
                                     epilog="Any other --INPUT PATH names an input of the stage (an upstream "
                                            "output), handed to the notebook as inputs = {INPUT: PATH, ...}.")
    parser.add_argument("notebook", type=Path, help="the stage notebook (notebooks/NN_*.ipynb)")
    parser.add_argument("out_dir", type=Path, help="the stage's output folder, replaced only on success")
    parser.add_argument("-p", dest="keys", action="append", default=[], metavar="KEY",
                        help="pass params KEY (dotted path) as the parameter named by its last component")
    parser.add_argument("--merge", dest="merges", action="append", default=[], metavar="KEY=OTHER",
                        help="merge params section OTHER into section KEY first (OTHER's values win)")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help="then override an existing params value (VALUE read as YAML)")
    parser.add_argument("--name", help="file name of the executed copy in results/notebooks/ "
                                       "(default: the notebook's)")
    parser.add_argument("--params-file", type=Path, default=Path("params.yaml"), metavar="PATH")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stage described by ``argv``; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    name = args.name or args.notebook.name
    executed = EXECUTED_DIR / (name if name.endswith(".ipynb") else f"{name}.ipynb")
    label = os.environ.get("DVC_STAGE") or args.out_dir.name
    try:
        if not args.notebook.is_file():
            raise StageError(f"{args.notebook}: notebook not found")
        values = parameters(args, parse_inputs(extra))  # imports pandas: inside the try (an early Ctrl-C: one line)
        check_declared(args.notebook, [*values, "out_dir"])
        stage_run = StageRun(label, args.notebook, args.out_dir, executed)
    except StageError as exc:
        print(f"stage {label}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the runner took over SIGINT: nothing started yet
        print(f"stage {label}: interrupted before the notebook started; no output written", file=sys.stderr)
        return 130
    return stage_run.run(values)


if __name__ == "__main__":
    sys.exit(main())
