"""`python -m dashboard export`: a lesson as one self-contained page that students open offline.

The lesson's grid (`story.Preset.grid`, two axes such as empathy x incident on/off) is run on
common seeds in parallel processes with joblib, the pool `sim.batch.run_many` uses; each run is a
dashboard `Session` stepped to its horizon, so the page shows what the live dashboard would, event
log included (`run_many` returns summaries, and the log needs each run's table and its adaptive
competitors' notes). The page holds each run's weekly KPIs as the charts draw them, its churn
reasons, its final KPIs and event log, the verdict of every ordered pair of grid points on a seed,
and ECharts itself, inlined from the dashboard's front-end cache; a few lines of plain JavaScript
pick A's and B's grid points and the seed and redraw the charts. The page makes no request.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import os
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from joblib import Parallel, delayed

import sim
from dashboard import assets, charts, events, kpis, story
from dashboard.session import Market, Session, Settings, compose, small_staff
from sim.customers import CHURN_REASONS

SEEDS = 3
MAX_SEEDS = 10
Point = tuple[int, ...]  # a choice index per axis of the lesson's grid


@dataclass(frozen=True, eq=False)
class Run:
    """One grid point on one seed, run to its horizon: what the page and the verdicts need of it."""

    table: pd.DataFrame
    weekly: pd.DataFrame
    events: list[events.Event]
    staff: dict[str, int]


def run_point(market: Market, settings: Settings) -> Run:
    """Warm up, then step a one-strategy session to its horizon (in a worker process)."""
    session = Session(market, {"A": {}}, sample_size=20, settings={"A": settings})
    session.step(session.horizon)
    view = session.frame().runs["A"]
    return Run(view.table, view.weekly, view.events, session.staff)


def points(preset: story.Preset) -> list[Point]:
    """Every combination of the grid's choices, first axis slowest."""
    return list(itertools.product(*(range(len(axis.choices)) for axis in preset.grid)))


def settings_of(preset: story.Preset, point: Point) -> Settings:
    """The config overrides of a grid point: its choices' overrides together."""
    out: Settings = {}
    for axis, index in zip(preset.grid, point, strict=True):
        out.update(axis.choices[index][1])
    return out


def key(seed: int, point: Point) -> str:
    """A run's name in the page's data, e.g. '0:4-1' (seed 0, choices 4 and 1)."""
    return f"{seed}:{'-'.join(map(str, point))}"


def payload(run: Run, firms: list[str], currency: str) -> dict[str, Any]:
    """What the page keeps of a run: panel values per firm, churn by reason per firm, final KPIs, the log."""
    final = kpis.latest(run.weekly, firms[0])
    return {
        "kpi": {column: [charts.panel_values(run.weekly, firm, column) for firm in firms] for column in charts.PANELS},
        "churn": {reason: [int(run.table.loc[run.table["firm"] == firm, f"churn_{reason}"].sum()) for firm in firms]
                  for reason in CHURN_REASONS},
        "tiles": [kpis.show(k, final[k], currency) for k in kpis.KPIS],
        "events": [[e.kind, *e.text.split(": ", 1)] for e in run.events],
    }


def build(name: str, seeds: int = SEEDS, n_jobs: int = -1, extra: Settings | None = None) -> dict[str, Any]:
    """Run the lesson's grid on seeds 0..seeds-1 and gather everything the page shows.

    `extra` are config overrides for every run (e.g. {"run.steps": "52"}).
    """
    preset, extra = story.PRESETS[name], dict(extra or {})
    grid = points(preset)
    jobs = [(seed, point) for seed in range(seeds) for point in grid]
    done = Parallel(n_jobs=n_jobs)(delayed(run_point)(Market(preset.scenario, None, seed),
                                                      {**settings_of(preset, point), **extra})
                                   for seed, point in jobs)
    runs = {key(seed, point): run for (seed, point), run in zip(jobs, done, strict=True)}
    cfg = compose(Market(preset.scenario), settings=extra)
    firms = list(runs[key(0, grid[0])].staff)
    fewest = {firm: min(run.staff[firm] for run in runs.values()) for firm in firms}
    focal, horizon, currency = firms[0], cfg.run.steps, cfg.market.currency
    verdicts = {f"{key(seed, p)}|{key(seed, q)}": events.verdict({"A": runs[key(seed, p)].table,
                                                                  "B": runs[key(seed, q)].table}, focal, currency)
                for seed in range(seeds) for p, q in itertools.permutations(grid, 2)}
    a, b = (runs[key(0, preset.start[label])] for label in "AB")
    situation, question = story.brief(preset.scenario)
    return {
        "lesson": name, "title": preset.title, "scenario": preset.scenario, "customers": cfg.market.customers,
        "horizon": horizon, "burn_in": cfg.run.burn_in, "currency": currency, "firms": firms,
        "staff_note": small_staff(fewest), "situation": situation, "question": question,
        "axes": [{"title": axis.title, "labels": axis.labels} for axis in preset.grid],
        "seeds": list(range(seeds)), "start": {label: list(preset.start[label]) for label in "AB"},
        "kpis": list(kpis.KPIS.values()), "reasons": list(CHURN_REASONS),
        "runs": {k: payload(run, firms, currency) for k, run in runs.items()}, "verdicts": verdicts,
        "charts": {"timeseries": charts.timeseries({"A": a.weekly, "B": b.weekly}, firms, horizon, currency),
                   "gap": charts.profit_gap({"A": a.weekly, "B": b.weekly}, focal, horizon, currency),
                   "churn": charts.churn_reasons({"A": a.table, "B": b.table}, firms)},
        "payback_mark": charts.PAYBACK_MARK,
        "made": f"python -m dashboard export --preset {name} --seeds {seeds} --weeks {horizon} · "
                f"sim {sim.__version__} · {time.strftime('%Y-%m-%d')}",
    }


def echarts_js() -> str:
    """ECharts' minified build from the dashboard's front-end cache (fetched with npm if missing)."""
    folder = assets.cache_dir() / assets.ECHARTS / "dist"
    if not any((folder / f).is_file() for f in ("echarts.min.js", "echarts.js")):
        assets.fetch(assets.ECHARTS, assets.cache_dir())
    found = next(folder / f for f in ("echarts.min.js", "echarts.js") if (folder / f).is_file())
    return found.read_text(encoding="utf-8")


def page(data: dict[str, Any], library: str) -> str:
    """The page: its data and ECharts inlined, so it opens from a file with no network."""
    blob = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    page = (Path(__file__).parent / "export.html").read_text(encoding="utf-8")
    return (page.replace("/*ECHARTS*/", library.replace("</script", "<\\/script"))
            .replace("/*DATA*/", blob).replace("{{TITLE}}", html.escape(data["title"])))


def write(path: Path, text: str) -> None:
    """Write the page whole or not at all (a temporary file in the same folder, renamed into place)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def out_problem(out: Path) -> str:
    """Why the page cannot be written to `out` ("" if it can): checked before anything runs."""
    if out.is_dir():
        return f"--out={out} is a folder: give a file name, e.g. {out / 'lesson.html'}"
    if not out.parent.is_dir():
        return f"--out={out}: the folder {out.parent} does not exist"
    if not os.access(out.parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        return f"--out={out} cannot be written (no permission)"
    return ""


def seed_count(text: str) -> int:
    """An argparse type: how many seeds, 1..MAX_SEEDS."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_SEEDS:
        raise argparse.ArgumentTypeError(f"--seeds={text} is not allowed: give a whole number 1..{MAX_SEEDS}")
    return int(text)


def week_count(text: str) -> int:
    """An argparse type: weeks recorded after the warm-up, 1..520."""
    if not text.isdigit() or not 1 <= int(text) <= 520:
        raise argparse.ArgumentTypeError(f"--weeks={text} is not allowed: give a whole number 1..520")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The export command's arguments."""
    parser.add_argument("--preset", required=True, choices=list(story.PRESETS),
                        help="the lesson: " + "; ".join(f"{k}: {p.title}" for k, p in story.PRESETS.items()))
    parser.add_argument("--out", type=Path, required=True, help="the page to write, e.g. incident.html")
    parser.add_argument("--seeds", type=seed_count, default=SEEDS, help=f"seeds 0..N-1 (default {SEEDS})")
    parser.add_argument("--weeks", type=week_count, help="weeks after the warm-up (default: the scenario's run.steps)")


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Check the output path, run the grid, write the page and say what was written."""
    if problem := out_problem(args.out):
        parser.exit(2, f"{parser.prog}: error: {problem}\n")
    preset = story.PRESETS[args.preset]
    count = len(points(preset)) * args.seeds
    print(f"Running {args.preset} ({preset.title}): {len(points(preset))} grid points x {args.seeds} seeds = {count} "
          f"runs of {preset.scenario}", flush=True)
    start = time.perf_counter()
    try:
        library = echarts_js()
    except (OSError, subprocess.SubprocessError, tarfile.TarError, IndexError, StopIteration) as err:
        parser.exit(2, f"{parser.prog}: error: ECharts ({assets.ECHARTS}) is not in the front-end cache and could "
                       f"not be fetched with npm ({type(err).__name__}); run `python -m dashboard` once online\n")
    extra = {} if args.weeks is None else {"run.steps": str(args.weeks)}
    text = page(build(args.preset, args.seeds, extra=extra), library)
    write(args.out, text)
    print(f"Wrote {args.out} ({len(text.encode()) / 1e6:.1f} MB) in {time.perf_counter() - start:.0f} s: "
          "open it in any browser, no Python or network needed", flush=True)
