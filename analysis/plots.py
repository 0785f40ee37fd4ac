"""Figures of a sweep, drawn from the aggregated tables of `analysis.aggregate`.

Each function returns a matplotlib `Figure` built without pyplot (no global state, no display
needed: the Agg canvas renders it), so a report can embed or save it and nothing is left open.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

WIDE, TALL = 7.5, 4.2


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def colours(n: int) -> list:
    """The first n distinct colours, from a qualitative palette while it lasts."""
    palette = colormaps["tab10" if n <= 10 else "tab20"]
    return [palette(i % palette.N) for i in range(n)]


def time_series(series: pd.DataFrame, label: str) -> Figure:
    """One line per strategy over the weeks, with its 95% confidence band across seeds."""
    fig = Figure(figsize=(WIDE, TALL))
    ax = fig.add_subplot()
    strategies = list(dict.fromkeys(series["strategy"]))
    for strategy, colour in zip(strategies, colours(len(strategies)), strict=True):
        s = series[series["strategy"] == strategy]
        ax.plot(s["step"], s["mean"], color=colour, label=strategy, lw=1.6)
        ax.fill_between(s["step"], s["ci_low"], s["ci_high"], color=colour, alpha=0.18, lw=0)
    ax.set(xlabel="week", ylabel=label, title=f"{label} of the focal business (mean, 95% CI over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


def heatmap(cells: pd.DataFrame, label: str) -> Figure:
    """A parameter x parameter grid of a KPI's mean, each cell labelled with its value."""
    fig = Figure(figsize=(WIDE * 0.8, TALL))
    ax = fig.add_subplot()
    values = cells.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="viridis", aspect="auto")
    ax.set_xticks(range(cells.shape[1]), [f"{v:g}" for v in cells.columns])
    ax.set_yticks(range(cells.shape[0]), [f"{v:g}" for v in cells.index])
    ax.set(xlabel=cells.columns.name, ylabel=cells.index.name, title=f"{label} (mean over seeds)")
    middle = np.nanmean(values)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, number(v), ha="center", va="center", fontsize=8, color="black" if v > middle else "white")
    fig.colorbar(image, ax=ax, label=label)
    return fig


def churn_bars(reasons: pd.DataFrame) -> Figure:
    """Customers lost per strategy, stacked by the reason they left (means over seeds)."""
    counts = reasons.set_index("strategy")[[c for c in reasons.columns[1:] if not c.endswith(" share")]]
    fig = Figure(figsize=(WIDE, max(2.5, 0.32 * len(counts) + 1.2)))
    ax = fig.add_subplot()
    left = np.zeros(len(counts))
    for reason, colour in zip(counts.columns, colours(len(counts.columns)), strict=True):
        ax.barh(counts.index, counts[reason], left=left, color=colour, label=reason.replace("_", " "))
        left += counts[reason].to_numpy()
    ax.invert_yaxis()
    ax.set(xlabel="customers lost (mean over seeds)", title="Why customers left the focal business")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.tick_params(axis="y", labelsize=7)
    return fig


def differences(diffs: pd.DataFrame, label: str, baseline: str) -> Figure:
    """Each strategy's paired difference from the baseline, with its 95% CI (a forest plot)."""
    fig = Figure(figsize=(WIDE, max(2.5, 0.32 * len(diffs) + 1.2)))
    ax = fig.add_subplot()
    y = np.arange(len(diffs))
    shade = {True: "tab:green", False: "tab:red", None: "tab:gray"}
    for yi, mean, half, better in zip(y, diffs["mean"], diffs["half_width"].fillna(0), diffs["better"], strict=True):
        ax.errorbar(mean, yi, xerr=half, fmt="o", color=shade[better], capsize=3)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, diffs["strategy"], fontsize=7)
    ax.invert_yaxis()
    ax.set(xlabel=f"difference in {label} (paired by seed, 95% CI)", title=f"{label} vs baseline: {baseline}")
    ax.grid(axis="x", alpha=0.3)
    return fig


def number(value: float) -> str:
    """A KPI value short enough for a table cell or a heatmap cell."""
    if not np.isfinite(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"
