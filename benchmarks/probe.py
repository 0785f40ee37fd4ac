"""One timed run in a fresh interpreter: graph build, set-up, stepping, peak memory.

`python -m benchmarks.probe --customers N --degree D --steps S` times the real model,
`--reference` the per-agent Mesa model; each prints one JSON object. It runs in a process of its
own so that its timing and peak memory belong to this run alone (a per-agent model left behind by
an earlier run would slow the next through Python's garbage collector): after the imports, the
config and the compiled kernels are loaded (`load_kernels`), the kernel's peak-memory mark is reset
(Linux /proc/self/clear_refs), so the peak minus the resident memory at that moment is what the
graph, the model and its stepping cost. Where the mark cannot be reset, the baseline is the interpreter's peak so far.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import sys
import time
from pathlib import Path

from benchmarks.reference import ReferenceMarket
from sim import network
from sim.app import load_config
from sim.config import ConfigError, SimConfig
from sim.model import EmpathyMarket
from sim.rng import Streams

STATUS = Path("/proc/self/status")


def memory() -> tuple[int, int]:
    """(resident, peak resident) memory of this process in bytes."""
    fields = dict(line.split(":", 1) for line in STATUS.read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


def reset_peak() -> bool:
    """Set the peak-memory mark to the current resident memory; False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def load_kernels(cfg: SimConfig) -> None:
    """Step a small market of the same config once, so the compiled kernels are loaded before anything is timed.

    Loading them is a cost of the process, not of the market's size: the start-up benchmark
    (`benchmarks.startup`) times it.
    """
    EmpathyMarket(dataclasses.replace(cfg, market=dataclasses.replace(cfg.market, customers=200))).step()


def measure(customers: int, degree: float, steps: int) -> dict[str, float | int | str]:
    """Time the default scenario at this size and graph degree; graph and model memory included."""
    cfg = load_config([f"market.customers={customers}", f"network.mean_degree={degree}", "run.progress=false"])
    load_kernels(cfg)
    gc.collect()
    reset = reset_peak()
    resident, peak = memory()
    baseline = resident if reset else peak
    start = time.perf_counter()
    graph = network.build(cfg.network, customers, Streams(cfg.seed).setup("graph"))
    built = time.perf_counter()
    model = EmpathyMarket(cfg, graph)
    ready = time.perf_counter()
    for _ in range(steps):
        model.step()
    done = time.perf_counter()
    peak = memory()[1]
    return {
        "customers": customers,
        "mean_degree": degree,
        "mean_degree_actual": 2 * graph.edges / customers,
        "edges": graph.edges,
        "employees": int(model.workforce.n),
        "steps": steps,
        "graph_build_s": built - start,
        "setup_s": ready - built,
        "stepping_s": done - ready,
        "step_s": (done - ready) / steps,
        "customer_steps_per_s": customers * steps / (done - ready),
        "peak_bytes": peak - baseline,
        "bytes_per_customer": (peak - baseline) / customers,
        "memory_baseline": "resident after imports (peak mark reset)" if reset else "peak after imports",
    }


def measure_reference(customers: int, steps: int) -> dict[str, float | int]:
    """Time the per-agent Mesa model of the same rules, default scenario, at this size."""
    cfg = load_config([f"market.customers={customers}", "run.progress=false"])
    gc.collect()
    start = time.perf_counter()
    model = ReferenceMarket(cfg)
    ready = time.perf_counter()
    model.run(steps)
    done = time.perf_counter()
    return {"customers": customers, "steps": steps, "setup_s": ready - start, "step_s": (done - ready) / steps,
            "customer_steps_per_s": customers * steps / (done - ready)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.probe", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--degree", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=52)
    parser.add_argument("--reference", action="store_true", help="time the per-agent Mesa model instead")
    args = parser.parse_args(argv)
    try:
        figures = measure_reference(args.customers, args.steps) if args.reference \
            else measure(args.customers, args.degree, args.steps)
        print(json.dumps(figures))
    except ConfigError as err:
        print(f"benchmarks.probe: error: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
