"""The record of a sweep folder: `manifest.jsonl`, one JSON line per event, only ever appended to.

Hydra's `multirun.yaml` describes only the last sweep written into a folder; the manifest keeps
every launch (`"event": "sweep"`, with the command that reproduces it) and every run launched
(`"event": "start"`, then `"event": "end"` with its status: complete, partial, skipped or refused),
each with its overrides, seed, model fingerprint, times and host. A run with a start and no end
was killed. Each event is one `write` to a file opened for appending, so runs ending together on
one machine never interleave their lines.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sim.results import model_fingerprint

NAME = "manifest.jsonl"
HIDDEN_HYDRA = ("hydra.mode=", "hydra.sweep.dir=")  # implied by the command `sweep_command` writes
TYPED = "SIM_TYPED_ARGS"  # environment: the command line as the user typed it (python -m sim sets it)


def now() -> str:
    """The time in UTC, ISO 8601 to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def append(sweep_dir: Path, event: dict[str, Any]) -> None:
    """Append one event (with host, process and model fingerprint) to the folder's manifest."""
    line = json.dumps({**event, "host": socket.gethostname(), "pid": os.getpid(),
                       "model_fingerprint": model_fingerprint()}, sort_keys=True) + "\n"
    sweep_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(sweep_dir / NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read(sweep_dir: Path) -> list[dict[str, Any]]:
    """The folder's events, oldest first; lines that are not JSON objects (a disk that filled up) are left out."""
    path = Path(sweep_dir) / NAME
    if not path.is_file():
        return []
    events = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def sweep_command(task: list[str], hydra: list[str], sweep_dir: Path, typed: list[str] | None = None) -> str:
    """The `python -m sim -m ...` that reproduces a launch into `sweep_dir` (run again, it finishes what is missing).

    From the command as typed where known (a business profile is rewritten into internal overrides
    on its way to Hydra); else rebuilt from Hydra's overrides.
    """
    if typed:
        args = [a for a in typed if a not in ("-m", "--multirun") and not a.startswith("hydra.sweep.dir=")]
    else:
        args = [*task, *(o for o in hydra if not o.startswith(HIDDEN_HYDRA))]
    args.append(f"hydra.sweep.dir={sweep_dir.resolve()}")
    return " ".join(["python -m sim -m", *map(shlex.quote, args)])


class SweepRecord(Callback):
    """Hydra callback (configs/config.yaml) writing the launch event when a sweep starts."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        overrides = config.hydra.overrides
        typed = shlex.split(os.environ.get(TYPED, ""))
        append(sweep_dir, {"event": "sweep", "time": now(),
                           "command": sweep_command(list(overrides.task), list(overrides.hydra), sweep_dir, typed)})


class Record:
    """The start and end events of one run of a sweep."""

    def __init__(self, sweep_dir: Path, out_dir: Path, overrides: list[str]) -> None:
        self.sweep_dir = Path(sweep_dir)
        out_dir, top = Path(out_dir).resolve(), self.sweep_dir.resolve()
        run = out_dir.relative_to(top).as_posix() if out_dir.is_relative_to(top) else str(out_dir)
        self.base: dict[str, Any] = {"run": run, "overrides": overrides}
        self.started: str | None = None

    def start(self, seed: int | None) -> None:
        self.started = now()
        self.base["seed"] = seed
        append(self.sweep_dir, {"event": "start", **self.base, "started": self.started})

    def end(self, status: str, weeks: int | None = None) -> None:
        append(self.sweep_dir, {"event": "end", **self.base, "status": status, "weeks": weeks,
                                "started": self.started, "ended": now()})
