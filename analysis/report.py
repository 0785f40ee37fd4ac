"""The report of a sweep: tables (parquet, CSV, Markdown), figures (PNG) and one self-contained HTML page.

`build` takes a gathered sweep, computes every table with `analysis.aggregate`, draws every figure
with `analysis.plots`, and writes them into one folder. `report.html` embeds its figures as base64
PNG, so it opens from disk, travels by e-mail and needs no server. Every file is written under a
temporary name and renamed into place, so a reader never sees half a report.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis import aggregate, plots
from analysis.gather import Sweep, kpi_columns
from sim.results import atomic_write

WEEKLY = {  # metrics.parquet columns drawn over time, and their labels
    "market_share": "market share",
    "retention_rate": "weekly retention",
    "nps": "NPS",
    "profit": "weekly profit",
    "engagement": "employee engagement",
    "turnover": "weekly employee turnover",
}
MAX_LINES = 8  # strategies drawn over time: the baseline and the best-ranked ones
HEATMAP_AXES = ("firm.empathy", "firm.automation")


@dataclass
class Section:
    """One part of the HTML page: a heading, paragraphs, figures and a table."""

    title: str
    notes: list[str] = field(default_factory=list)
    figures: list[tuple[str, Figure]] = field(default_factory=list)  # (file stem, figure)
    table: pd.DataFrame | None = None


def label(kpi: str) -> str:
    """The reader's name of a KPI."""
    return aggregate.RANKING_KPIS.get(kpi, kpi.replace("_", " ").replace(".", ": "))


def build(sweep: Sweep, out: Path | str, kpi: str = "profit", baseline: str | None = None) -> Path:
    """Write the sweep's tables, figures and report.html into `out`; return the report's path."""
    out = Path(out)
    aggregate.check_kpi(kpi, kpi_columns(sweep.runs))
    base = aggregate.find_strategy(sweep.runs, sweep.swept, baseline)
    kpis = [k for k in dict.fromkeys([kpi, *aggregate.RANKING_KPIS]) if k in sweep.runs]
    ranking = aggregate.ranking(sweep.runs, kpi, kpis)
    diffs = aggregate.paired_differences(sweep.runs, base, kpis)
    reasons = aggregate.churn_reasons(sweep.runs)

    write_parquet(out / "runs.parquet", sweep.runs)
    write_parquet(out / "steps.parquet", sweep.steps)
    write_text(out / "ranking.csv", ranking.to_csv(index=False))
    write_text(out / "ranking.md", markdown(ranking_view(ranking, kpis, kpi)))
    write_text(out / "paired_differences.csv", diffs.assign(baseline=base).to_csv(index=False))
    write_text(out / "churn_reasons.csv", reasons.to_csv(index=False))

    sections = [
        Section(f"Ranking of strategies by {label(kpi)}", table=ranking_view(ranking, kpis, kpi),
                notes=[f"Focal business, mean ± 95% CI half-width over seeds (t-based); best first on {label(kpi)}"
                       f"{' (lower is better)' if aggregate.lower_is_better(kpi) else ''}."]),
        differences_section(diffs, kpi, base),
        heatmap_section(sweep, kpi),
        time_series_section(sweep, ranking, base),
        Section("Why customers left", figures=[("churn_reasons", plots.churn_bars(reasons))],
                table=churn_view(reasons),
                notes=["Customers the focal business lost over the run, by the reason they left: mean over seeds "
                       "(share of all its losses). Also in churn_reasons.csv."]),
    ]
    images = {}
    for section in sections:
        for stem, fig in section.figures:
            images[stem] = plots.png(fig)
            write_bytes(out / "figures" / f"{stem}.png", images[stem])
    page = out / "report.html"
    write_text(page, render(sweep, sections, images, kpi, base, ranking))
    return page


def differences_section(diffs: pd.DataFrame, kpi: str, baseline: str) -> Section:
    """Paired differences from the baseline: a forest plot of the chosen KPI and a table of all."""
    section = Section(f"Differences from the baseline ({baseline})",
                      notes=["Each strategy minus the baseline, run by run on the same seed (same customers, "
                             "graph and shocks), then mean ± 95% CI half-width over seeds. ▲ better, ▼ worse: "
                             "the whole interval is on that side of zero."])
    if diffs.empty:
        section.notes.append("Only one strategy: nothing to compare.")
        return section
    chosen = diffs[diffs["metric"] == kpi]
    section.figures.append(("differences", plots.differences(chosen, label(kpi), baseline)))
    marks = diffs["better"].map({True: " ▲", False: " ▼"}).fillna("")
    cells = diffs.assign(cell=[estimate(m, h) + mark for m, h, mark in
                               zip(diffs["mean"], diffs["half_width"], marks, strict=True)])
    table = cells.pivot(index="strategy", columns="metric", values="cell").rename_axis(columns=None)
    section.table = table.reindex(index=list(dict.fromkeys(diffs["strategy"])),
                                  columns=list(dict.fromkeys(diffs["metric"]))).rename(columns=label).reset_index()
    return section


def heatmap_section(sweep: Sweep, kpi: str) -> Section:
    """Empathy x automation heatmap of the KPI, when the sweep varies both."""
    section = Section(f"{label(kpi)} by empathy and automation")
    rows, columns = HEATMAP_AXES
    if not set(HEATMAP_AXES) <= set(sweep.swept):
        section.notes.append(f"Skipped: this sweep does not vary both {rows} and {columns}.")
        return section
    cells = aggregate.grid(sweep.runs, kpi, rows, columns)
    section.figures.append(("heatmap", plots.heatmap(cells, label(kpi))))
    others = [k for k in sweep.swept if k not in HEATMAP_AXES]
    if others:
        section.notes.append(f"Each cell also averages over the other swept parameters: {', '.join(others)}.")
    return section


def time_series_section(sweep: Sweep, ranking: pd.DataFrame, baseline: str) -> Section:
    """Weekly metrics over time per strategy with confidence bands (the baseline and the best-ranked)."""
    shown = list(dict.fromkeys([baseline, *ranking["strategy"]]))[:MAX_LINES]
    steps = sweep.steps[sweep.steps["strategy"].isin(shown)]
    section = Section("Over time", notes=["Focal business, week by week: mean and 95% CI band over seeds."])
    if len(shown) < len(ranking):
        section.notes.append(f"Showing the baseline and the best-ranked strategies ({len(shown)} of {len(ranking)}).")
    for metric, name in WEEKLY.items():
        if metric in steps:
            section.figures.append((f"weekly_{metric}", plots.time_series(aggregate.time_series(steps, metric), name)))
    return section


def churn_view(reasons: pd.DataFrame) -> pd.DataFrame:
    """Churn reasons as a reader sees them: 'count (share%)' per reason."""
    counts = [c for c in reasons.columns[1:] if not c.endswith(" share")]
    view = reasons[["strategy"]].copy()
    for c in counts:
        view[c.replace("_", " ")] = [f"{n:.1f} ({share:.0%})" for n, share in
                                     zip(reasons[c], reasons[f"{c} share"], strict=True)]
    view["total"] = reasons[counts].sum(axis=1).round(1)
    return view


def ranking_view(ranking: pd.DataFrame, kpis: list[str], kpi: str) -> pd.DataFrame:
    """The ranking as a reader sees it: one 'mean ± half-width' cell per KPI."""
    view = ranking[["rank", "strategy", "n"]].copy()
    for k in kpis:
        mean, low, high = (ranking[f"{k}_{s}"] for s in ("mean", "ci_low", "ci_high"))
        name = f"{label(k)} (ranked)" if k == kpi else label(k)
        view[name] = [estimate(m, (h - lo) / 2) for m, lo, h in zip(mean, low, high, strict=True)]
    return view


def estimate(mean: float, half_width: float) -> str:
    """'mean ± half-width', both to the precision of two significant digits of the half-width."""
    if not np.isfinite(half_width) or half_width == 0:
        return plots.number(mean)
    decimals = int(np.clip(1 - np.floor(np.log10(half_width)), 0, 6))
    return f"{mean:,.{decimals}f} ± {half_width:,.{decimals}f}"


def markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = [" | ".join(map(str, table.columns)), " | ".join("---" for _ in table.columns)]
    lines += [" | ".join(str(v).replace("|", "\\|") for v in row) for row in table.itertuples(index=False)]
    return "".join(f"| {line} |\n" for line in lines)


def render(sweep: Sweep, sections: list[Section], images: dict[str, bytes], kpi: str, baseline: str,
           ranking: pd.DataFrame) -> str:
    """The HTML page: overview, sections with embedded figures, provenance."""
    best = ranking.iloc[0]
    n = ranking["n"]
    parts = [
        f"<h1>Sweep report: {esc(sweep.root.resolve().name)}</h1>",
        f"<p class=headline>Best on {esc(label(kpi))}: <b>{esc(best['strategy'])}</b>, "
        f"{esc(ranking_view(ranking.head(1), [kpi], kpi).iloc[0, -1])} (focal business, 95% CI).</p>",
        "<ul>",
        f"<li>Folder: <code>{esc(str(sweep.root.resolve()))}</code></li>",
        f"<li>Runs analysed: {sweep.runs['run'].nunique()} ({len(ranking)} strategies × "
        f"{n.min() if n.min() == n.max() else f'{n.min()}–{n.max()}'} seeds)</li>",
        f"<li>Swept: {esc(', '.join(sweep.swept) or 'nothing but the seed')}; baseline: {esc(baseline)}</li>",
        *[f"<li>Skipped, {esc(reason)}: {len(runs)} <details><summary>which</summary>"
          f"{'<br>'.join(esc(r) for r in runs)}</details></li>" for reason, runs in sweep.skipped.items()],
        f"<li>To reproduce, or to finish the missing runs: <code>{esc(sweep.command)}</code></li>"
        if sweep.command else "",
        "</ul>",
    ]
    for section in sections:
        parts.append(f"<h2>{esc(section.title)}</h2>")
        parts += [f"<p>{esc(note)}</p>" for note in section.notes]
        parts += [f'<img alt="{esc(stem)}" src="data:image/png;base64,{base64.b64encode(images[stem]).decode()}">'
                  for stem, _ in section.figures]
        if section.table is not None:
            parts.append(section.table.to_html(index=False, border=0, classes="table", float_format=plots.number))
    parts.append("<h2>Provenance</h2>")
    if len(sweep.provenance) > 1:
        parts.append(f"<p><b>Warning:</b> the runs come from {len(sweep.provenance)} different code or "
                     "dependency versions.</p>")
    parts += [f"<pre>{esc(pd.json_normalize(p, sep='.').T.to_string(header=False))}</pre>" for p in sweep.provenance]
    return PAGE.format(title=esc(f"Sweep report: {sweep.root.resolve().name}"), body="\n".join(parts))


def esc(text: object) -> str:
    """Text made safe for HTML."""
    return html.escape(str(text))


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically (all of it or nothing under its final name)."""
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """Write a binary file atomically."""
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def write_parquet(path: Path, table: pd.DataFrame) -> None:
    """Write a table as parquet atomically."""
    atomic_write(path, lambda tmp: table.to_parquet(tmp, index=False))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
h2 {{ border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem; }}
.headline {{ font-size: 1.15rem; }}
img {{ max-width: 100%; display: block; margin: 1rem 0; }}
table.table {{ border-collapse: collapse; font-size: .85rem; }}
table.table th, table.table td {{ padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; }}
table.table td {{ font-variant-numeric: tabular-nums; }}
code, pre {{ background: #f5f5f5; padding: .1rem .3rem; font-size: .85rem; white-space: pre-wrap; }}
details {{ display: inline; }}
</style></head>
<body>
{body}
</body></html>
"""
