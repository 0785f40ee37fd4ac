"""Long research sessions: SIGTERM ends a run like Ctrl-C, and finished models do not pile up in memory."""

from __future__ import annotations

import collections
import dataclasses
import functools
import gc
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import weakref
from pathlib import Path

import mesa
import pytest

from sim.agents import WeakIds
from sim.app import load_config
from sim.results import Terminated, simulate, stop_on_sigterm

ROOT = Path(__file__).resolve().parent.parent


def finished_models(n: int) -> list[weakref.ref]:
    cfg = load_config(["market.customers=300", "run.steps=3", "run.burn_in=4", "run.progress=false"])
    refs = []
    for seed in range(n):
        result = simulate(dataclasses.replace(cfg, seed=seed))
        result.model.customer(0), result.model.employee(0)  # agent views register with Mesa too
        refs.append(weakref.ref(result.model))
    return refs


def test_twenty_in_process_runs_leave_no_model_alive():
    refs = finished_models(20)
    gc.collect()
    assert sum(r() is not None for r in refs) == 0
    assert isinstance(mesa.Agent._ids, WeakIds)


def test_without_the_work_around_mesa_keeps_every_model(monkeypatch):
    """The control: Mesa 3.3's own table (a defaultdict keyed by model) keeps all of them alive."""
    monkeypatch.setattr(mesa.Agent, "_ids", collections.defaultdict(functools.partial(itertools.count, 1)))
    refs = finished_models(3)
    gc.collect()
    assert sum(r() is not None for r in refs) == 3


def test_agent_ids_still_count_from_one_per_model():
    cfg = load_config(["market.customers=300", "run.steps=1", "run.burn_in=4", "run.progress=false"])
    a, b = simulate(cfg).model, simulate(cfg).model
    assert [f.unique_id for f in a.firm_agents] == [f.unique_id for f in b.firm_agents] == [1, 2, 3]


def test_sigterm_handler_is_restored_and_raises_terminated():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), stop_on_sigterm():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert signal.getsignal(signal.SIGTERM) == before


def test_sigterm_saves_a_marked_partial_result_and_exits_143(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "market.customers=2000", "run.steps=100000",
                             "run.progress=false", f"hydra.run.dir={out}"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out / ".hydra").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2)  # a few weeks into the run
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "results (INTERRUPTED by SIGTERM at week " in stdout
    partial = json.loads((out / "summary.partial.json").read_text())
    assert partial["complete"] is False and partial["stopped_by"] == "SIGTERM" and 0 < partial["weeks"] < 100000
    assert (out / "PARTIAL").read_text() == f"stopped at week {partial['weeks']} by SIGTERM\n"
    assert not (out / "summary.json").exists() and (out / "metrics.parquet").exists()
