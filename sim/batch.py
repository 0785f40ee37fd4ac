"""Many runs in parallel: the engine shared by sweeps and the research tools.

Hydra sweeps run through the joblib launcher; scripts and the research tools (sensitivity,
optimisation, calibration) call `run_many`, which uses the same joblib process pool. Each run
is a pure function of its config, so results are identical serial or parallel, in any order.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from joblib import Parallel, delayed

from sim.config import SimConfig
from sim.results import is_done, save, simulate


def run_one(cfg: SimConfig, out_dir: Path | None = None) -> dict[str, Any]:
    """Run one config quietly; write its files if `out_dir` is given. Returns the summary."""
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, progress=False))
    result = simulate(cfg)
    if out_dir is not None:
        save(result, Path(out_dir))
    return result.summary


def run_many(configs: list[SimConfig], n_jobs: int = -1, out_dirs: list[Path] | None = None,
             skip_done: bool = True) -> list[dict[str, Any] | None]:
    """Run every config on `n_jobs` processes (-1: all cores); summaries in input order.

    With `out_dirs`, runs whose directory already holds a complete result are skipped (their
    entry is None) unless `skip_done` is false, so an interrupted batch resumes where it stopped.
    """
    dirs = list(out_dirs) if out_dirs is not None else [None] * len(configs)
    todo = [i for i, d in enumerate(dirs) if not (skip_done and d is not None and is_done(d))]
    done = Parallel(n_jobs=n_jobs)(delayed(run_one)(configs[i], dirs[i]) for i in todo)
    out: list[dict[str, Any] | None] = [None] * len(configs)
    for i, summary in zip(todo, done, strict=True):
        out[i] = summary
    return out
