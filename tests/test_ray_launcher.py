"""The same sweep through Hydra's Ray launcher (a local Ray instance) gives the joblib launcher's results.

Ray starts inside the sweep's own process session (the `ray_local` preset: `address=local`, so it
never joins a cluster that happens to run here) and must be gone when the command returns:
`run_sweep` kills whatever is left and fails the test.
"""

from __future__ import annotations

import pytest

from tests.test_sweeps import run_sweep, summaries

SWEEP = ["firm.empathy=0,1", "seed=range(2)", "market.customers=500", "run.steps=5", "run.burn_in=4",
         "run.progress=false"]
RAY = ["hydra/launcher=ray_local", "hydra.launcher.ray.init.num_cpus=2",
       "hydra.launcher.ray.init.include_dashboard=false"]


@pytest.mark.timeout(300)
def test_ray_launcher_results_are_byte_identical_to_joblib(tmp_path):
    run_sweep(tmp_path / "joblib", *SWEEP)
    output = run_sweep(tmp_path / "ray", *RAY, *SWEEP)
    assert "Ray Launcher is launching 4 jobs" in output
    assert len(summaries(tmp_path / "joblib")) == 4
    assert summaries(tmp_path / "ray") == summaries(tmp_path / "joblib")
