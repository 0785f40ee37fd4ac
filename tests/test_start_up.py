"""`python -m sim` starts with the garbage collector off and turns it back on, past start-up's objects, for the runs."""

from __future__ import annotations

import gc
import subprocess
import sys

from sim.app import end_start_up

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
