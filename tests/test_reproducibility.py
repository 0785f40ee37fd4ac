"""Same config and seed, same results: in one process, in two processes, serial or parallel, single or swept.

Each summary.json records what is needed to repeat the run: the resolved config, the seed, the
package, Python and key dependency versions and the git commit.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import platform
import subprocess
import sys
from pathlib import Path

import pandas as pd

import sim
from sim.app import load_config
from sim.batch import run_many
from sim.config import from_dict, to_dict
from sim.results import KEY_PACKAGES, METRICS, SUMMARY, git_commit, save, simulate

OVERRIDES = ["market.customers=500", "run.steps=8", "run.burn_in=4", "run.progress=false"]
ROOT = Path(__file__).resolve().parent.parent


def config(seed: int):
    return load_config([*OVERRIDES, f"seed={seed}"])


def summary_bytes(run_dir: Path) -> bytes:
    return (run_dir / SUMMARY).read_bytes()


def assert_same_summary(a: bytes, b: bytes) -> None:
    """Byte-identical, unless a commit landed in the checkout between the two runs (then all else is)."""
    if a == b:
        return
    one, two = json.loads(a), json.loads(b)
    assert one["provenance"]["git_commit"] != two["provenance"]["git_commit"], "summaries differ"
    for s in (one, two):
        del s["provenance"]["git_commit"], s["provenance"]["git_dirty"]
    assert one == two


def python_m_sim(cwd: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, timeout=600)
    assert done.returncode == 0, done.stderr


def test_same_process_same_results():
    a, b = simulate(config(4)), simulate(config(4))
    assert a.summary == b.summary
    pd.testing.assert_frame_equal(a.table, b.table)
    assert simulate(config(5)).summary["firms"] != a.summary["firms"]


def test_two_processes_write_identical_files(tmp_path):
    for name in ("a", "b"):
        python_m_sim(tmp_path, *OVERRIDES, "seed=3", f"hydra.run.dir={tmp_path / name}")
    save(simulate(config(3)), tmp_path / "here")
    assert_same_summary(summary_bytes(tmp_path / "a"), summary_bytes(tmp_path / "b"))
    assert_same_summary(summary_bytes(tmp_path / "a"), summary_bytes(tmp_path / "here"))
    tables = [pd.read_parquet(tmp_path / name / METRICS) for name in ("a", "b", "here")]
    pd.testing.assert_frame_equal(tables[0], tables[1])
    pd.testing.assert_frame_equal(tables[0], tables[2])


def test_parallel_batch_equals_serial(tmp_path):
    configs = [config(seed) for seed in range(4)]
    serial = run_many(configs, n_jobs=1)
    parallel = run_many(configs, n_jobs=2, out_dirs=[tmp_path / str(s) for s in range(4)])
    assert parallel == serial
    for seed, summary in enumerate(serial):
        assert json.loads(summary_bytes(tmp_path / str(seed))) == summary


def test_multirun_equals_single_runs(tmp_path):
    sweep = tmp_path / "sweep"
    python_m_sim(tmp_path, "-m", *OVERRIDES, "seed=0,1", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}")
    swept = {json.loads(p.read_bytes())["seed"]: p.parent for p in sweep.glob(f"*/{SUMMARY}")}
    assert sorted(swept) == [0, 1]
    for seed, run_dir in swept.items():
        save(simulate(config(seed)), tmp_path / f"single{seed}")
        assert_same_summary(summary_bytes(run_dir), summary_bytes(tmp_path / f"single{seed}"))
        pd.testing.assert_frame_equal(pd.read_parquet(run_dir / METRICS),
                                      pd.read_parquet(tmp_path / f"single{seed}" / METRICS))


def test_summary_records_its_provenance_and_reruns_from_it():
    cfg = load_config([*OVERRIDES, "seed=9", "firm.empathy=0.8"])
    summary = simulate(cfg).summary
    assert summary["seed"] == 9 and summary["config"] == to_dict(cfg)
    p = summary["provenance"]
    assert p["package"] == "sim" and p["version"] == sim.__version__ == importlib.metadata.version("sim")
    assert p["python"] == platform.python_version()
    assert p["dependencies"] == {name: importlib.metadata.version(name) for name in KEY_PACKAGES}
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode == 0:  # run from a checkout
        assert p["git_commit"] == head.stdout.strip() == git_commit()
        assert isinstance(p["git_dirty"], bool)
    rerun = simulate(from_dict(json.loads(json.dumps(summary["config"]))))
    assert rerun.summary == summary


def test_provenance_outside_a_checkout(monkeypatch, tmp_path):
    fake_package = tmp_path / "sim" / "__init__.py"
    fake_package.parent.mkdir()
    fake_package.write_text("")
    monkeypatch.setattr(sim, "__file__", str(fake_package))
    assert git_commit() is None
    p = simulate(dataclasses.replace(config(1), run=dataclasses.replace(config(1).run, steps=1))).summary["provenance"]
    assert p["git_commit"] is None and p["git_dirty"] is None
