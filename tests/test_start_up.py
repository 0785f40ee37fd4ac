"""What `python -m sim` does before its runs start: the garbage collector off, and no second composition of a sweep."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest
from hydra.plugins.sweeper import Sweeper

from sim.app import Plan, end_start_up, jobs_checked

RUN = """
import gc, runpy, sys
import sim.app
seen = []
def recording():
    seen.append(gc.isenabled())
    original()
    seen.append(gc.isenabled())
original, sim.app.end_start_up = sim.app.end_start_up, recording
sys.argv = ["sim", "market.customers=100", "run.steps=1", "run.burn_in=0", "run.progress=false",
            "hydra.run.dir=" + sys.argv[1]]
gc.enable()  # importing sim.app above is this script's start-up, not python -m sim's
runpy.run_module("sim", run_name="__main__")
print(seen, gc.isenabled(), gc.get_freeze_count() > 0)
"""


def test_python_m_sim_runs_with_the_collector_on_after_a_start_up_without_it(tmp_path):
    done = subprocess.run([sys.executable, "-c", RUN, str(tmp_path / "run")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # off through start-up, on for the run, and start-up's objects frozen (the exit froze the rest)
    assert done.stdout.strip().splitlines()[-1] == "[False, True] True True"
    assert (tmp_path / "run" / "summary.json").exists()


def test_end_start_up_freezes_start_up_and_turns_the_collector_on():
    gc.disable()
    try:
        end_start_up()
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_end_start_up_freezes_nothing_for_a_caller_whose_collector_is_on():
    gc.enable()
    end_start_up()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_sweep_preflight_composed_is_not_composed_again_by_hydras_sweeper():
    hydras_check = Sweeper.validate_batch_is_legal
    with jobs_checked(Plan([], multirun=True, runs=3)):
        assert Sweeper.validate_batch_is_legal is not hydras_check
        assert Sweeper.validate_batch_is_legal(None, [["seed=0"]]) is None  # Hydra's would need a sweeper
    assert Sweeper.validate_batch_is_legal is hydras_check


@pytest.mark.parametrize("plan", [Plan([], multirun=True, runs=0), Plan([], multirun=False, runs=1)],
                         ids=["sweep pre-flight did not compose", "one run"])
def test_hydras_sweeper_checks_what_preflight_did_not(plan):
    hydras_check = Sweeper.validate_batch_is_legal
    with jobs_checked(plan):
        assert Sweeper.validate_batch_is_legal is hydras_check
