"""Charts of the dashboard: KPI time series per firm, and churn reasons so far.

Plain matplotlib `Figure`s (no pyplot), so they can be drawn in the stepping thread and shown
by solara as images. Colours are fixed per firm across every chart and the network view; in
side-by-side mode strategy A is drawn solid and strategy B dashed.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from sim.customers import CHURN_REASONS

FIRM_COLOURS = ("#00897b", "#8e24aa", "#f4511e", "#3949ab", "#6d4c41", "#c0ca33", "#d81b60", "#546e7a")
PROSPECT_COLOUR = mcolors.to_rgb("#cfd8dc")
REASON_COLOURS = {"indifference": "#7e57c2", "price": "#ffb300", "poor_service": "#e53935",
                  "bot_frustration": "#1e88e5", "competitor_pull": "#43a047", "other": "#bdbdbd"}
LINESTYLES = {"A": "-", "B": "--"}
PANELS = {  # column -> (title, scale for display, y axis format)
    "market_share": ("Market share", 100, "{:.0f}%"),
    "retention": ("Retention (annualised, last 8 weeks)", 100, "{:.0f}%"),
    "nps": ("NPS", 1, "{:+.0f}"),
    "cltv": ("CLTV (predicted margin per customer)", 1, "{:,.0f}"),
    "engagement": ("Employee engagement", 1, "{:.2f}"),
    "burnout": ("Employee burnout", 1, "{:.2f}"),
}


def firm_colour(index: int) -> tuple[float, float, float]:
    """The fixed colour of the firm at this index (the focal firm is index 0)."""
    return mcolors.to_rgb(FIRM_COLOURS[index % len(FIRM_COLOURS)])


def timeseries(runs: dict[str, pd.DataFrame], firms: list[str]) -> Figure:
    """Six panels of weekly KPIs (from `kpis.weekly`), a line per firm and run."""
    fig = Figure(figsize=(13, 6.2), dpi=90)  # a fixed layout: constrained layout doubles the drawing time
    fig.subplots_adjust(left=0.06, right=0.99, top=0.86, bottom=0.08, wspace=0.22, hspace=0.3)
    axes = fig.subplots(2, 3, sharex=True).ravel()
    for ax, (column, (title, scale, fmt)) in zip(axes, PANELS.items(), strict=True):
        for label, weekly in runs.items():
            for i, name in enumerate(firms):
                t = weekly[weekly["firm"] == name]
                ax.plot(t["step"] + 1, t[column] * scale, color=firm_colour(i), ls=LINESTYLES.get(label, "-"),
                        lw=2.2 if i == 0 else 1.4, marker="o" if len(t) == 1 else None,  # one week: a dot
                        label=name if label == "A" else None)
        ax.set_title(title, fontsize=12, loc="left")
        ax.yaxis.set_major_formatter(StrMethodFormatter(fmt.replace("{:", "{x:")))
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=10)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes[3:]:
        ax.set_xlabel("week", fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    if len(runs) > 1:
        handles += [axes[0].plot([], [], color="#455a64", ls=ls)[0] for ls in LINESTYLES.values()]
        labels += [f"strategy {label}" for label in LINESTYLES]
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=11, frameon=False)
    return fig


def churn_reasons(runs: dict[str, pd.DataFrame], firms: list[str]) -> Figure:
    """Customers lost so far per firm (and run), stacked by the reason they left."""
    bars = [(f"{name} ({label})" if len(runs) > 1 else name, table[table["firm"] == name])
            for name in firms for label, table in runs.items()]
    height = 1.7 + 0.5 * len(bars)
    fig = Figure(figsize=(6.4, height), dpi=90)
    fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.15 / height, bottom=1.25 / height)
    ax = fig.subplots()
    left = np.zeros(len(bars))
    for reason in CHURN_REASONS:
        counts = np.array([0.0 if t.empty else float(t[f"churn_{reason}"].sum()) for _, t in bars])
        ax.barh(range(len(bars)), counts, left=left, color=REASON_COLOURS[reason], label=reason.replace("_", " "))
        left += counts
    for y, total in enumerate(left):
        ax.text(total, y, f" {total:,.0f}", va="center", fontsize=10)
    ax.set_yticks(range(len(bars)), [name for name, _ in bars], fontsize=11)
    ax.invert_yaxis()
    ax.set_xlim(0, max(left.max(), 1) * 1.15)
    ax.set_xlabel("customers lost so far", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(loc="lower center", ncol=3, fontsize=10, frameon=False)
    return fig
