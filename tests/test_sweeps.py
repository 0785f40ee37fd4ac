"""Sweeps through the real command line: one directory per run, common random numbers, resume after a kill.

Each sweep is a real `python -m sim -m ...` subprocess with tiny runs. The interrupted sweep is
started in its own session and its whole process group is killed (SIGINT, as Ctrl-C would, or
SIGKILL) once some runs have finished; re-running the same command must then finish only the
missing runs and end with exactly the summaries of a sweep that was never interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.gather import gather
from sim.config import from_dict
from sim.model import EmpathyMarket

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ["firm.empathy=0,1", "firm.automation=0,0.9", "seed=range(3)", "market.customers=1000", "run.steps=10",
         "run.progress=false"]
RUNS = 2 * 2 * 3

pytestmark = pytest.mark.timeout(300)


def sweep_command(sweep_dir: Path, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "sim", "-m", *(overrides or SWEEP), f"hydra.sweep.dir={sweep_dir}"]


@contextlib.contextmanager
def sweep_process(sweep_dir: Path, *overrides: str) -> Iterator[subprocess.Popen]:
    """A sweep running in its own session, output to <sweep_dir>.log; on exit, fail if it left a process behind."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}  # a Ray sweep sends no usage report anywhere
    with sweep_dir.with_suffix(".log").open("w") as log:
        proc = subprocess.Popen(sweep_command(sweep_dir, *overrides), cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
            proc.wait(timeout=60)
            deadline = time.monotonic() + 30
            while session_processes(proc.pid) and time.monotonic() < deadline:  # workers end with their sweep
                time.sleep(0.1)
            assert not session_processes(proc.pid), "processes left running after the sweep"
        finally:
            if proc.poll() is None or session_processes(proc.pid):
                os.killpg(proc.pid, signal.SIGKILL)


def run_sweep(sweep_dir: Path, *overrides: str) -> str:
    """Run a sweep to its end; return what it printed."""
    with sweep_process(sweep_dir, *overrides) as proc:
        proc.wait(timeout=240)
    output = sweep_dir.with_suffix(".log").read_text()
    assert proc.returncode == 0, output[-3000:]
    return output


def summaries(sweep_dir: Path) -> dict[str, bytes]:
    """Every run's summary.json, by the hash of its overrides (the end of its directory name)."""
    return {p.parent.name.rsplit("-", 1)[-1]: p.read_bytes() for p in sweep_dir.glob("*/summary.json")}


def session_processes(sid: int) -> list[int]:
    """Live processes of a session (zombies are already dead)."""
    out = subprocess.run(["ps", "-eo", "pid=,sid=,stat="], capture_output=True, text=True).stdout
    rows = (line.split() for line in out.splitlines())
    return [int(pid) for pid, s, stat in rows if int(s) == sid and "Z" not in stat]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, str]:
    """An uninterrupted sweep and what it printed."""
    sweep_dir = tmp_path_factory.mktemp("reference")
    return sweep_dir, run_sweep(sweep_dir)


def test_sweep_puts_every_run_in_its_own_directory_with_progress(reference):
    sweep_dir, output = reference
    runs = sorted(sweep_dir.glob("*/summary.json"))
    assert len(runs) == RUNS
    for path in runs:
        summary = json.loads(path.read_text())
        name, digest = path.parent.name.rsplit("-", 1)  # swept values and a hash: firm.automation=0,...,seed=2-<hash>
        params = dict(item.split("=") for item in name.split(","))
        assert set(params) == {"firm.automation", "firm.empathy", "seed"} and re.fullmatch("[0-9a-f]{10}", digest)
        overrides = (path.parent / "overrides.txt").read_text().splitlines()
        assert {"market.customers=1000", "run.steps=10", f"seed={params['seed']}"} <= set(overrides)
        assert summary["complete"] and summary["seed"] == int(params["seed"])
        assert summary["config"]["firm"]["empathy"] == float(params["firm.empathy"])
        assert summary["config"]["firm"]["automation"] == float(params["firm.automation"])
        assert len(pd.read_parquet(path.parent / "metrics.parquet")["step"].unique()) == 10
    assert re.search(rf"\[Parallel\(n_jobs=-1\)\]: Done +{RUNS} out of +{RUNS}", output)  # joblib's progress


def test_replications_share_customers_and_graph_across_strategies(reference):
    sweep_dir, _ = reference
    configs = {p.parent.name.rsplit("-", 1)[0]: json.loads(p.read_text())["config"]
               for p in sweep_dir.glob("*/summary.json")}

    def model(empathy: int, automation: str, seed: int) -> EmpathyMarket:
        return EmpathyMarket(from_dict(configs[f"firm.automation={automation},firm.empathy={empathy},seed={seed}"]))

    a, b, other_seed = model(0, "0", 1), model(1, "0.9", 1), model(0, "0", 2)
    assert (a.cfg.firm.empathy, a.cfg.firm.automation) != (b.cfg.firm.empathy, b.cfg.firm.automation)
    for state in ("segment", "need", "firm"):
        assert np.array_equal(getattr(a.customers, state), getattr(b.customers, state)), state
    assert np.array_equal(a.graph.indptr, b.graph.indptr) and np.array_equal(a.graph.indices, b.graph.indices)
    assert not np.array_equal(a.customers.need, other_seed.customers.need)
    assert not np.array_equal(a.graph.indices, other_seed.graph.indices)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_killed_sweep_resumes_without_loss_or_rework(reference, tmp_path, sig):
    sweep_dir = tmp_path / "sweep"
    with sweep_process(sweep_dir) as first:
        deadline = time.monotonic() + 200
        while len(list(sweep_dir.glob("*/summary.json"))) < 2 and first.poll() is None:
            assert time.monotonic() < deadline, "the sweep finished no run in time"
            time.sleep(0.02)
        os.killpg(first.pid, sig)
    if sig != signal.SIGKILL:  # a signal the sweep can catch: it says what finished and how to finish the rest
        assert first.returncode == 128 + sig
        said = sweep_dir.with_suffix(".log").read_text().splitlines()[-1]
        assert re.fullmatch(rf"sim: sweep stopped by {sig.name}: \d+ of {RUNS} runs finished in {sweep_dir}; "
                            r"to finish the rest, run the same command again: python -m sim -m .*", said), said
        assert said.endswith(f"hydra.sweep.dir={sweep_dir}")

    # After the kill: every result under its final name is complete; nothing else is taken for one.
    finished = sorted(sweep_dir.glob("*/summary.json"))
    assert 2 <= len(finished) < RUNS, "kill the sweep mid-way"
    for path in finished:
        assert json.loads(path.read_text())["complete"] is True
        assert len(pd.read_parquet(path.parent / "metrics.parquet")) > 0
    gathered = gather(sweep_dir)
    assert gathered.runs["run"].nunique() == len(finished)
    before = {p: (p.stat().st_mtime_ns, (p.parent / "metrics.parquet").stat().st_mtime_ns) for p in finished}

    # Re-run the same command: only the missing runs are done; the finished ones are not touched.
    output = run_sweep(sweep_dir)
    assert output.count("already complete, skipped") == len(finished)
    assert {p: (p.stat().st_mtime_ns, (p.parent / "metrics.parquet").stat().st_mtime_ns) for p in finished} == before
    assert summaries(sweep_dir) == summaries(reference[0])
    assert not list(sweep_dir.glob("*/PARTIAL"))

    # The manifest kept both launches and every run's start and end; a run with a start and no end was killed.
    events = [json.loads(line) for line in (sweep_dir / "manifest.jsonl").read_text().splitlines()]
    launches = [e for e in events if e["event"] == "sweep"]
    assert len(launches) == 2 and launches[0]["command"] == launches[1]["command"]
    ends = {}
    for e in events:
        if e["event"] == "end":
            ends.setdefault(e["status"], set()).add(e["run"])
    written = {p.parent.name for p in sweep_dir.glob("*/summary.json")}
    # SIGKILL can land between a run's last file and its end event: such a run is complete without an end
    unrecorded = written - ends["complete"]
    assert ends["complete"] <= written and unrecorded <= {p.parent.name for p in finished}
    assert not unrecorded or sig == signal.SIGKILL
    assert len(ends["skipped"]) == len(finished)
    assert all({"host", "model_fingerprint", "overrides", "seed", "started", "ended"} <= set(e) for e in events
               if e["event"] == "end" and e["status"] == "complete")


def test_sweep_analysis_writes_the_report_with_its_figures(reference, tmp_path):
    sweep_dir, _ = reference
    out = tmp_path / "analysis"
    command = [sys.executable, "-m", "analysis", str(sweep_dir), "--out", str(out), "--kpi", "market_share"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"{RUNS} runs analysed" in done.stdout and f"report: {out / 'report.html'}" in done.stdout
    html = (out / "report.html").read_text()
    figures = re.findall(r'<img alt="(\w+)" src="data:image/png;base64,', html)
    assert sorted(figures) == sorted(p.stem for p in (out / "figures").glob("*.png"))
    assert {"differences", "heatmap", "churn_reasons", "weekly_market_share", "weekly_profit"} <= set(figures)
    ranking = pd.read_csv(out / "ranking.csv")
    assert len(ranking) == 4 and set(ranking["n"]) == {3}
    assert ranking["market_share_mean"].is_monotonic_decreasing
    assert len(pd.read_parquet(out / "runs.parquet")) == RUNS * 3  # three firms per run


def test_the_slurm_path_tried_locally_gives_joblibs_results(reference, tmp_path):
    """hydra/launcher=slurm_local: each run a separate submitit job, as an array task on SLURM; same bytes as joblib."""
    sweep_dir = tmp_path / "slurm"
    run_sweep(sweep_dir, "hydra/launcher=slurm_local", "firm.empathy=0", "firm.automation=0,0.9", "seed=range(2)",
              *SWEEP[3:])
    got = summaries(sweep_dir)
    assert len(got) == 4
    assert got == {name: data for name, data in summaries(reference[0]).items() if name in got}


def test_the_manifest_records_a_profile_sweep_as_typed(tmp_path):
    """A business profile reaches Hydra as internal overrides; the reproduce command is the one the user typed."""
    profile = Path(__file__).parent / "data" / "profile_micro.yaml"
    sweep_dir = tmp_path / "s"
    subprocess.run([sys.executable, "-m", "sim", "-m", f"business={profile}", "seed=0,1", "run.steps=2",
                    "run.burn_in=0", f"hydra.sweep.dir={sweep_dir}"], check=True, capture_output=True)
    events = [json.loads(line) for line in (sweep_dir / "manifest.jsonl").read_text().splitlines()]
    command = next(e["command"] for e in events if e["event"] == "sweep")
    typed = f"business={profile} seed=0,1 run.steps=2 run.burn_in=0 hydra.sweep.dir={sweep_dir}"
    assert command == f"python -m sim -m {typed}"
