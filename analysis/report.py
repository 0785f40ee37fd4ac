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


def build(sweep: Sweep, out: Path | str, kpi: str = "profit", baseline: str | None = None,
          correction: str = "auto", target_halfwidth: float | None = None) -> Path:
    """Write the sweep's tables, figures and report.html into `out`; return the report's path."""
    out = Path(out)
    aggregate.check_kpi(kpi, kpi_columns(sweep.runs))
    aggregate.check_correction(correction)
    base = aggregate.find_strategy(sweep.runs, sweep.swept, baseline)
    kpis = [k for k in dict.fromkeys([kpi, *aggregate.RANKING_KPIS]) if k in sweep.runs]
    ranking = aggregate.ranking(sweep.runs, kpi, kpis, correction)
    diffs = aggregate.paired_differences(sweep.runs, base, kpis, correction)
    reasons = aggregate.churn_reasons(sweep.runs)
    used = aggregate.correction_used(correction, len(ranking))

    write_parquet(out / "runs.parquet", sweep.runs)
    write_parquet(out / "steps.parquet", sweep.steps)
    write_text(out / "ranking.csv", ranking.to_csv(index=False))
    write_text(out / "ranking.md", markdown(ranking_view(ranking, kpis, kpi)))
    write_text(out / "paired_differences.csv", diffs.assign(baseline=base).to_csv(index=False))
    write_text(out / "churn_reasons.csv", reasons.to_csv(index=False))
    by_year = aggregate.years(sweep.runs)
    write_text(out / "years.csv", by_year.to_csv(index=False))

    sections = [
        Section(f"Ranking of strategies by {label(kpi)}", table=ranking_view(ranking, kpis, kpi),
                notes=[f"Focal business, mean and 95% CI over seeds; best first on {label(kpi)}"
                       f"{' (lower is better)' if aggregate.lower_is_better(kpi) else ''}. {INTERVALS}",
                       ties_note(ranking, kpi, used), seeds_note(sweep, ranking, kpi, target_halfwidth)]),
        differences_section(diffs, kpi, base, used),
        heatmap_section(sweep, kpi),
        time_series_section(sweep, ranking, base),
        years_section(by_year, currency(sweep.runs)),
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


INTERVALS = ("Rates and shares (0 to 1) and NPS (-100 to 100) get a t-interval built on the logit scale of the "
             "mean and transformed back, so it stays inside the bounds (shown as [low, high] when not symmetric); "
             "other KPIs get mean ± t half-width.")
CORRECTION_TEXT = {"holm": "Holm-adjusted", "bonferroni": "Bonferroni-adjusted", "none": "not adjusted"}


def currency(runs: pd.DataFrame) -> str:
    """The currency the runs' money is in (summary.json `units.currency`), or "currency units" for old results."""
    codes = runs["currency"].dropna().unique() if "currency" in runs else []
    return str(codes[0]) if len(codes) == 1 else "currency units"


def years_section(by_year: pd.DataFrame, money: str) -> Section:
    """The focal business's accounts, customers, retention and staff turnover year by year, per strategy."""
    view = by_year.rename(columns={"revenue": f"revenue ({money}/year)", "costs": f"costs ({money}/year)",
                                   "profit": f"profit ({money}/year)", "customers_end": "customers at year end",
                                   "retention_rate": "retention (per year)",
                                   "employee_turnover": "staff turnover (quits per employee-year)"})
    return Section("Year by year", table=view,
                   notes=["Focal business, mean over seeds, each recorded year of 52 weeks after the warm-up (a "
                          "shorter last year says its weeks). Also in years.csv; costs by category are in each "
                          "run's summary.json (`years`)."])


def ties_note(ranking: pd.DataFrame, kpi: str, correction: str) -> str:
    """Which strategies cannot be told apart from the best, and how that was decided."""
    tied = ranking[ranking["tied_with_best"]]["strategy"].iloc[1:].tolist()
    how = (f"paired t-test by seed against the best strategy, p-values {CORRECTION_TEXT[correction]} over "
           f"{len(ranking) - 1} comparisons, 5% level")
    if not tied:
        return f"Every other strategy is significantly worse than the best on {label(kpi)} ({how})."
    return (f"Rank =1: {len(tied)} strateg{'y' if len(tied) == 1 else 'ies'} not significantly different from the "
            f"best on {label(kpi)} ({how}); treat them as tied, not as a ranking.")


def seeds_note(sweep: Sweep, ranking: pd.DataFrame, kpi: str, target: float | None) -> str:
    """How many seeds the chosen (or half the widest present) half-width on the ranked KPI would need."""
    stats = aggregate.mean_ci(aggregate.focal(sweep.runs), ["strategy"], [kpi], bounded=False)
    widest = stats.loc[stats["half_width"].idxmax()] if stats["half_width"].notna().any() else None
    if widest is None:
        return "Seeds: one seed per strategy gives no interval; run at least two."
    goal = target if target is not None else widest["half_width"] / 2
    needed = aggregate.seeds_needed(float(widest["sd"]), goal)
    chosen = "the --target-halfwidth" if target is not None else "half today's widest"
    return (f"Seeds: the widest 95% half-width of {label(kpi)} is ±{plots.number(widest['half_width'])} with "
            f"{int(widest['n'])} seeds ({widest['strategy']}); {chosen} half-width, ±{plots.number(goal)}, would "
            f"need about {needed} seeds per strategy (t-based, from that strategy's spread across seeds).")


def pairing_note(chosen: pd.DataFrame, kpi: str) -> str:
    """Paired against unpaired half-widths on the chosen KPI, as measured on this sweep."""
    ratio = (chosen["half_width"] / chosen["unpaired_half_width"]).replace([np.inf, -np.inf], np.nan).dropna()
    if ratio.empty:
        return "Pairing: too few seeds to compare paired and unpaired intervals."
    r = chosen["seed_correlation"].dropna()
    corr = f", per-seed correlation with the baseline median {r.median():.2f}" if not r.empty else ""
    return (f"Pairing by seed, measured on {label(kpi)}: the paired half-width is {ratio.median():.2f} times the "
            f"unpaired (Welch) one, median over strategies (range {ratio.min():.2f} to {ratio.max():.2f}){corr}. "
            "Below 1 pairing helps; above 1 it costs (a strategy's runs move against the baseline's). "
            "Both are in paired_differences.csv.")


def differences_section(diffs: pd.DataFrame, kpi: str, baseline: str, correction: str = "none") -> Section:
    """Paired differences from the baseline: a forest plot of the chosen KPI and a table of all."""
    section = Section(f"Differences from the baseline ({baseline})",
                      notes=["Each strategy minus the baseline, run by run on the same seed (same customers, "
                             "graph and shocks), then mean ± 95% t half-width over seeds (per comparison). "
                             "▲ better, ▼ worse: a paired t-test rejects no difference at 5%, p-values "
                             f"{CORRECTION_TEXT[correction]} over all {len(diffs)} comparisons of the table."])
    if diffs.empty:
        section.notes.append("Only one strategy: nothing to compare.")
        return section
    section.notes.append(pairing_note(diffs[diffs["metric"] == kpi], kpi))
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
    """The ranking as a reader sees it: rank ('=1' when tied with the best), one interval cell per KPI."""
    view = ranking[["rank", "strategy", "n"]].copy()
    if "tied_with_best" in ranking:
        view["rank"] = ["=1" if tied and r > 1 else str(r) for r, tied in
                        zip(ranking["rank"], ranking["tied_with_best"], strict=True)]
    for k in kpis:
        mean, low, high = (ranking[f"{k}_{s}"] for s in ("mean", "ci_low", "ci_high"))
        name = f"{label(k)} (ranked)" if k == kpi else label(k)
        view[name] = [estimate(m, (h - lo) / 2, lo, h) for m, lo, h in zip(mean, low, high, strict=True)]
    return view


def estimate(mean: float, half_width: float, low: float | None = None, high: float | None = None) -> str:
    """'mean ± half-width', or 'mean [low, high]' for an interval off-centre; to two digits of the width."""
    if not np.isfinite(half_width) or half_width == 0:
        return plots.number(mean)
    decimals = int(np.clip(1 - np.floor(np.log10(half_width)), 0, 6))
    if low is not None and high is not None and abs((low + high) / 2 - mean) > 0.05 * half_width:
        return f"{mean:,.{decimals}f} [{low:,.{decimals}f}, {high:,.{decimals}f}]"
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
        reproduce(sweep.commands),
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


def reproduce(commands: list[str]) -> str:
    """The list item giving the command(s) that made every run of the folder."""
    if not commands:
        return ""
    if len(commands) == 1:
        return f"<li>To reproduce, or to finish the missing runs: <code>{esc(commands[0])}</code></li>"
    items = "".join(f"<li><code>{esc(c)}</code></li>" for c in commands)
    return (f"<li>This folder holds runs of {len(commands)} different sweeps (manifest.jsonl); to reproduce all of "
            f"them, or to finish the missing runs, run in this order:<ol>{items}</ol></li>")


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
