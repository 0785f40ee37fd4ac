"""The benchmark's figures as a Markdown report, with the machine they were measured on."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.results import git_commit

Results = dict[str, Any]


def machine() -> dict[str, Any]:
    """CPU model, cores, versions and commit: what a reader needs to compare figures."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((x.split(":", 1)[1].strip() for x in lines if x.startswith("model name")), platform.processor())
    return {"cpu": cpu or "unknown", "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "mesa": mesa.__version__, "system": platform.platform(),
            "git_commit": git_commit()}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: how busy the machine was while timing."""
    return [round(x, 2) for x in os.getloadavg()]


def si(x: float) -> str:
    """A rate in thousands or millions, e.g. 4.1 M."""
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.0f} k"


def _table(header: list[str], rows: list[list[str]], text_columns: int = 0) -> list[str]:
    """A Markdown table; the first `text_columns` columns left-aligned, the numbers right-aligned."""
    rule = "|" + ":---|" * text_columns + "---:|" * (len(header) - text_columns)
    return ["| " + " | ".join(header) + " |", rule] + ["| " + " | ".join(r) + " |" for r in rows]


def markdown(r: Results) -> str:
    """The report: speed and memory by size, scaling, the Hydra sweep, and the targets."""
    m, o = r["machine"], r["options"]
    lines = [
        "## Benchmark: the model (compiled kernels) vs a per-agent Mesa model" + (" (quick)" if o["quick"] else ""),
        "",
        f"Default scenario (all mechanisms on, small-world graph of mean degree 10), {o['steps']} weekly steps per "
        f"size, each size in a fresh process; every timing is the fastest of {o.get('repeats', 1)} (the least "
        "disturbed by other load), for both models. Machine: "
        f"{m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}, Mesa {m['mesa']}; "
        f"load average {r['load_average_start'][0]} at start, {r['load_average_end'][0]} at end; "
        f"{r['date']}, commit {str(m['git_commit'])[:10]}.",
        "",
    ]
    reference = {x["customers"]: x for x in r["reference"]}
    rows = []
    for s in r["sizes"]:
        ref = reference.get(s["customers"])
        rows.append([f"{s['customers']:,}", si(s["customer_steps_per_s"]), f"{1e3 * s['step_s']:.1f}",
                     f"{s['graph_build_s']:.2f}", f"{s['setup_s']:.2f}", f"{s['bytes_per_customer']:.0f}",
                     si(ref["customer_steps_per_s"]) if ref else "-", f"{ref['speedup']:.0f}x" if ref else "-"])
    lines += _table(["customers", "customer-steps/s", "ms per step", "graph build (s)", "set-up (s)",
                     "peak memory per customer (bytes)", "per-agent Mesa customer-steps/s", "speed-up"], rows)
    ref_steps = {x["steps"] for x in r["reference"]}
    lines += ["", f"Per-agent Mesa model (`benchmarks/reference.py`): {', '.join(map(str, sorted(ref_steps)))} steps "
              "per size, in a fresh process like the model; speed-up = customer-steps/s of the model "
              "/ of the per-agent one. "
              "Peak memory: the run's peak resident memory above the interpreter's after imports (graph, model and "
              "stepping included), per customer."]
    if start := r.get("startup"):
        lines += ["", f"Start-up (`python -m sim` at 1,000 customers for one week, wall): {start['cached_s']:.1f} s "
                  f"with the kernels cached; {start['compiling_s']:.1f} s for the first run of this version on a "
                  "machine, which compiles them (sim.jit)."]
    scaling = r["scaling"]
    if "customers_slope" in scaling:
        lines += ["", f"Cost against customers: slope of log(step time) vs log(customers) = "
                  f"{scaling['customers_slope']:.2f} (1 = linear)."]
    if r["degrees"]:
        lines += [""] + _table(
            ["customers", "mean degree (asked / built)", "edges", "ms per step", "customer-steps/s"],
            [[f"{d['customers']:,}", f"{d['mean_degree']:g} / {d['mean_degree_actual']:.1f}", f"{d['edges']:,}",
              f"{1e3 * d['step_s']:.1f}", si(d["customer_steps_per_s"])] for d in r["degrees"]])
    if "edges_fit" in scaling:
        e = scaling["edges_fit"]
        lines += ["", f"Cost against edges: slope of log(step time) vs log(edges) = {scaling['edges_slope']:.2f} "
                  f"(1 = linear); as a straight line, step time = {1e3 * e['intercept_s']:.1f} ms + "
                  f"{1e9 * e['seconds_per_edge']:.1f} ns x edges (largest residual "
                  f"{100 * e['max_relative_residual']:.1f}% of the step time: the edges' share is small "
                  "against the timing noise)."]
    if r.get("sweep"):
        w = r["sweep"]
        lines += ["", f"Hydra multirun: {w['runs']} runs x {w['customers']:,} customers x {w['steps']} weeks "
                  f"(`python -m sim -m seed='range({w['runs']})' ...`, joblib launcher, {w['jobs']} jobs): "
                  f"wall {w['wall_s']:.0f} s; a run takes {w['run_s_mean']:.1f} s inside the launcher "
                  f"({w['in_process_s']:.1f} s in-process alone); the launcher adds "
                  f"{w['launcher_overhead_per_run_s']:.2f} s per run."]
    if r.get("robust"):
        b = r["robust"]
        guess = ", ".join(f"about {v:.0f} s on {n} cores" for n, v in b["extrapolated_wall_s"].items())
        lines += ["", f"Robust comparison: 2 strategies x {b['draws']} draws x {b['seeds']} seeds = {b['runs']} runs "
                  f"of {b['customers']:,} customers x {b['steps']} weeks (`python -m research.robust`, {b['jobs']} "
                  f"jobs): wall {b['wall_s']:.0f} s, {b['runs_per_s']:.2f} runs/s. Extrapolated from that "
                  f"throughput, not measured: {guess} (e.g. a Ray cluster), plus each pool's start-up."]
    if r.get("batch"):
        b = r["batch"]
        lines += ["", f"Batched replications: {b['seeds']} seeds x {b['customers']:,} customers x {b['steps']} weeks "
                  f"(after the warm-up). Batched (`python -m sim -m seed='range({b['seeds']})' ...`, {b['jobs']} "
                  f"joblib worker processes, each running many seeds): wall {b['batched_wall_s']:.0f} s. One "
                  f"`python -m sim seed=i ...` process per run, {b['jobs']} at a time: wall "
                  f"{b['one_process_per_run_wall_s']:.0f} s. Speed-up {b['speedup']:.1f}x; every run's results "
                  "equal in both (summary.json without provenance)."]
    lines += ["", *_table(["target", "measured", "met"],
                          [[t["target"], t["measured"], "yes" if t["met"] else "**no**"] for t in r["targets"]], 3)]
    return "\n".join(lines) + "\n"
