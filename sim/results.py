"""Run results: simulate a config, and write summary.json and metrics.parquet atomically.

A file is written under a temporary name in the same directory and renamed into place, so a
reader (or a resumed sweep) never sees a half-written result; summary.json is removed first and
written last, so whenever it exists it and metrics.parquet come from the same complete run. A run
stopped by Ctrl-C (SIGINT) or SIGTERM leaves summary.partial.json (with `stopped_by`) and a
PARTIAL marker instead. Each summary carries its
provenance: resolved config, seed, package, Python and dependency versions, the model code's
fingerprint and the git commit.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim import metrics
from sim.config import SimConfig, to_dict
from sim.model import EmpathyMarket

SUMMARY, METRICS, PARTIAL, PARTIAL_SUMMARY = "summary.json", "metrics.parquet", "PARTIAL", "summary.partial.json"
KEY_PACKAGES = ("mesa", "numpy", "scipy", "networkx", "pandas", "hydra-core", "pyarrow")


@dataclass
class RunResult:
    """What one run produced."""

    summary: dict[str, Any]
    table: pd.DataFrame
    model: EmpathyMarket
    complete: bool = True
    stopped_by: signal.Signals | None = None  # the signal that stopped an incomplete run


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as Ctrl-C raises KeyboardInterrupt, so that one code path saves a partial result."""


def stop_signal(err: KeyboardInterrupt) -> signal.Signals:
    """The signal behind a KeyboardInterrupt: SIGTERM for `Terminated`, else SIGINT."""
    return signal.SIGTERM if isinstance(err, Terminated) else signal.SIGINT


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Inside, SIGTERM stops the code as Ctrl-C does (raising `Terminated`); the old handler is restored after.

    Only the main thread can take signals; elsewhere (a thread pool's worker) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def ignore_sigterm() -> None:
    """Ignore SIGTERM outside `stop_on_sigterm` (a sweep's worker process, where the coordinator decides).

    A worker killed between runs would leave its pool's queue unread, and the pool's shutdown waits
    on it for ever; an ignoring worker is stopped by the pool (SIGKILL) once the coordinator aborts.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


@contextmanager
def stop_at_week_end() -> Iterator[list[signal.Signals]]:
    """Inside, Ctrl-C (and SIGTERM, where `stop_on_sigterm` takes it) is noted, not raised.

    The run stops at the end of the week it is in, so that no exception lands inside a compiled
    kernel (numba would turn it into a SystemError) and the model is never left half-way through a week.

    Only the main thread can take signals; a handler that ignores a signal is left as it is.
    """
    noted: list[signal.Signals] = []
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    taken = [sig for sig in (signal.SIGINT, signal.SIGTERM)
             if signal.getsignal(sig) in (signal.default_int_handler, _raise_terminated)]
    previous = {sig: signal.signal(sig, lambda signum, frame: noted.append(signal.Signals(signum))) for sig in taken}
    try:
        yield noted
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def simulate(cfg: SimConfig, progress: metrics.Progress | None = None) -> RunResult:
    """Run one simulation; Ctrl-C (or SIGTERM, inside `stop_on_sigterm`) stops it early, marked incomplete.

    The model is collected once the caller drops the result (`sim.agents` keeps Mesa 3.3's class-level
    agent-id table from holding every model alive).
    """
    model = EmpathyMarket(cfg)
    stopped_by = None
    try:
        with stop_at_week_end() as noted:
            model.run(progress=progress, stop=lambda: bool(noted))
        stopped_by = noted[0] if noted else None
    except KeyboardInterrupt as err:  # a signal this process does not note (e.g. off the main thread)
        stopped_by = stop_signal(err)
    table = model.recorder.table()
    summary = {
        "seed": cfg.seed,
        "complete": stopped_by is None,
        "weeks": max(model.calendar_week, 0),  # recorded weeks; the warm-up is run.burn_in
        "config": to_dict(cfg),
        "units": metrics.units(cfg, len(table) // max(model.firms.n, 1)),
        "firms": metrics.summarise(model, table),
        "provenance": provenance(),
    }
    if stopped_by is not None:
        summary["stopped_by"] = stopped_by.name
    return RunResult(summary=summary, table=table, model=model, complete=stopped_by is None, stopped_by=stopped_by)


def provenance() -> dict[str, Any]:
    """Package, Python and key dependency versions, and the git commit when run from a checkout.

    `git_dirty` says the checkout had uncommitted changes to tracked files: the commit alone
    then does not pin the code that ran.
    """
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    commit = git_commit()
    return {"package": "sim", "version": sim.__version__, "python": platform.python_version(),
            "model_fingerprint": model_fingerprint(), "git_commit": commit,
            "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")) if commit else None,
            "dependencies": versions}


@functools.cache
def model_fingerprint() -> str:
    """A hash of the model's source (sim/*.py): a resumed sweep reuses only results this code made.

    Unlike the git commit it is the same in any copy of the same code, and it changes with every
    edit to the model, committed or not.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(sim.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def git_commit() -> str | None:
    """The checkout's commit, or None outside a git checkout."""
    return git("rev-parse", "HEAD") or None


def git(*args: str) -> str:
    """The output of a git command in the package's checkout; empty outside one (or without git)."""
    root = Path(sim.__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call write(tmp_name), then rename tmp into path: readers see all of it or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; results are for sharing
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save(result: RunResult, out_dir: Path) -> None:
    """Write metrics.parquet, then summary.json last: a summary means the run's files are complete.

    An interrupted run writes its partial results plus a PARTIAL marker, and no summary.json
    under the final name, so a sweep treats it as not done.
    """
    out_dir = Path(out_dir)
    (out_dir / SUMMARY).unlink(missing_ok=True)  # an older summary must not vouch for the new metrics
    atomic_write(out_dir / METRICS, lambda tmp: result.table.to_parquet(tmp, index=False))
    text = json.dumps(result.summary, indent=2, sort_keys=True) + "\n"

    def write_text(tmp: str) -> None:
        Path(tmp).write_text(text, encoding="utf-8")

    if result.complete:
        (out_dir / PARTIAL).unlink(missing_ok=True)
        (out_dir / PARTIAL_SUMMARY).unlink(missing_ok=True)
        atomic_write(out_dir / SUMMARY, write_text)
    else:
        atomic_write(out_dir / PARTIAL_SUMMARY, write_text)
        by = f" by {result.stopped_by.name}" if result.stopped_by else ""
        marker = f"stopped at week {result.summary['weeks']}{by}\n"
        atomic_write(out_dir / PARTIAL, lambda tmp: Path(tmp).write_text(marker))


def is_done(out_dir: Path) -> bool:
    """A run directory holds a complete, readable result of this model code.

    That is a valid summary saying so, made by code with this fingerprint, and its metrics; a
    result of other model code is run again.
    """
    try:
        summary = json.loads((Path(out_dir) / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, unreadable, truncated or not UTF-8
        return False
    if not isinstance(summary, dict) or summary.get("complete") is not True:
        return False
    made = summary.get("provenance")
    made_by = made.get("model_fingerprint") if isinstance(made, dict) else None
    return made_by == model_fingerprint() and (Path(out_dir) / METRICS).is_file()
