"""The benchmark's plumbing (not its figures: no timed assertions): probes, best-of-N, options."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks import ROOT
from benchmarks.__main__ import fastest, parse


@pytest.mark.parametrize("model", [[], ["--reference"]])
def test_probe_prints_one_json_object_for_either_model(model):
    done = subprocess.run([sys.executable, "-m", "benchmarks.probe", "--customers=300", "--steps=2", *model],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout)
    assert figures["customers"] == 300 and figures["steps"] == 2
    assert figures["customer_steps_per_s"] > 0 and figures["step_s"] > 0


def test_fastest_keeps_the_fastest_timing_and_the_largest_memory():
    runs = [{"customers": 10, "customer_steps_per_s": 5.0, "peak_bytes": 100},
            {"customers": 10, "customer_steps_per_s": 7.0, "peak_bytes": 50},
            {"customers": 10, "customer_steps_per_s": 6.0, "peak_bytes": 80}]
    best = fastest(runs)
    assert best["customer_steps_per_s"] == 7.0 and best["peak_bytes"] == 100
    assert best["bytes_per_customer"] == 10 and best["repeats"] == 3


def test_bad_option_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        parse(["--repeats", "0"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.strip().count("\n") == 0


def test_robust_timing_runs_the_design_and_extrapolates_from_its_throughput():
    from benchmarks.robust import time_robust

    timing = time_robust(draws=2, seeds=1, customers=300, steps=2, jobs=1, cores=(4,))
    assert timing["runs"] == 4 and timing["wall_s"] > 0
    assert timing["extrapolated_wall_s"]["4"] == pytest.approx(timing["wall_s"] / 4)
    assert parse(["--robust"]).robust is True


def test_batched_replications_give_the_results_of_one_process_per_run():
    from benchmarks.batch import time_batch

    timing = time_batch(seeds=2, customers=300, steps=2, jobs=2)
    assert timing["results_equal"] and timing["batched_wall_s"] > 0 and timing["one_process_per_run_wall_s"] > 0
    assert parse(["--batch"]).batch is True


def test_startup_times_a_compiling_and_a_cached_run():
    from benchmarks.startup import time_startup

    timing = time_startup(repeats=2)  # every timed run runs the model (none resumes an earlier one's folder)
    assert timing["compiling_s"] > 0 and timing["cached_s"] > 0
