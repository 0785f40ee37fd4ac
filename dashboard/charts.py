"""Charts of the dashboard as ECharts options: KPI time series per firm, churn reasons, the network.

The browser draws them (solara's `FigureEcharts`), so a new week costs the server a small JSON
option instead of a matplotlib PNG, and the same options go into an exported offline page.
Colours are fixed per firm across every chart; runs A..D are told apart by line style. Every
axis says its unit: money in the dashboard's currency, shares in percent, NPS in points.
Each chart has a toolbox to save it as PNG; `csv` gives the data behind the charts.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from dashboard import kpis, network_view
from sim.customers import CHURN_REASONS

FIRM_COLOURS = ("#00897b", "#8e24aa", "#f4511e", "#3949ab", "#6d4c41", "#c0ca33", "#d81b60", "#546e7a")
PROSPECT_COLOUR = "#cfd8dc"
REASON_COLOURS = {"indifference": "#7e57c2", "price": "#ffb300", "poor_service": "#e53935",
                  "bot_frustration": "#1e88e5", "competitor_pull": "#43a047", "other": "#bdbdbd"}
REASON_LABELS = {"indifference": "felt uncared for", "price": "found it too dear", "poor_service": "poor service",
                 "bot_frustration": "fed up with the bot", "competitor_pull": "a friend's tip for a rival",
                 "other": "moved away / no single reason"}
LINE_STYLES = {"A": "solid", "B": [8, 4], "C": [2, 3], "D": [10, 3, 2, 3]}
STYLE_WORDS = {"A": "solid", "B": "dashed", "C": "dotted", "D": "dash-dot"}
PANELS = {  # column -> (title, scale for display, axis label template, decimals); ¤: the currency, see `priced`
    "market_share": ("Market share", 100, "{value} %", 1),
    "retention": ("Retention, % a year", 100, "{value} %", 0),
    "nps": ("NPS, points", 1, "{value}", 0),
    "cltv": ("CLTV per customer, ¤", 1, "¤{value}", 0),
    "profit_to_date": ("Profit to date, ¤", 1, "¤{value}", 0),
    "employees": ("Employees", 1, "{value}", 0),
    "engagement": ("Engagement (0–1)", 1, "{value}", 2),
    "burnout": ("Burnout (0–1)", 1, "{value}", 2),
}
SYMBOLS = {network_view.PROMOTER: "triangle", network_view.PASSIVE: "circle", network_view.DETRACTOR: "diamond"}
COLUMNS = 4
TOOLBOX = {"right": 8, "top": 0, "itemSize": 16, "feature": {"saveAsImage": {"title": "Save as PNG", "pixelRatio": 2}}}
TEXT = {"fontSize": 13}
PAYBACK_MARK = {"symbol": "pin", "symbolSize": 34, "animation": False,
                "label": {"formatter": "{b}", "fontSize": 11, "position": "top", "distance": 4}}


def priced(text: str, currency: str) -> str:
    """A title or axis label template with its ¤ made the currency's prefix, e.g. '¤{value}' -> '$' + '{value}'.

    ¤ is the generic currency sign, the placeholder CLDR's number patterns use for the same purpose.
    """
    return text.replace("¤", kpis.prefix(currency)).rstrip()


def firm_colour(index: int) -> str:
    """The fixed colour of the firm at this index (the focal firm is index 0)."""
    return FIRM_COLOURS[index % len(FIRM_COLOURS)]


def colours(nodes: network_view.Nodes) -> list[str]:
    """A colour per sampled customer: the firm's colour, paler the less satisfied; prospects grey."""
    rgb = np.array([[int(FIRM_COLOURS[f % len(FIRM_COLOURS)][k:k + 2], 16) / 255 for k in (1, 3, 5)] if f >= 0
                    else [int(PROSPECT_COLOUR[k:k + 2], 16) / 255 for k in (1, 3, 5)] for f in nodes.firm.tolist()])
    strength = np.where(nodes.firm >= 0, 0.2 + 0.8 * nodes.satisfaction, 1.0)[:, None]
    paled = 1 - strength * (1 - rgb.reshape(-1, 3))
    return ["#" + "".join(f"{round(255 * v):02x}" for v in row) for row in paled]


def _round(values: pd.Series, decimals: int) -> list:
    return [None if not np.isfinite(v) else round(float(v), decimals) for v in values]


def panel_values(weekly: pd.DataFrame, firm: str, column: str) -> list:
    """A firm's weekly values of one panel as drawn (scaled, rounded), from week 1 on."""
    _, scale, _, decimals = PANELS[column]
    return _round(weekly.loc[weekly["firm"] == firm, column] * scale, decimals)


def timeseries(runs: dict[str, pd.DataFrame], firms: list[str], horizon: int, currency: str,
               markers: dict[str, list[tuple[int, str]]] | None = None) -> dict:
    """Eight panels of weekly KPIs (from `kpis.weekly`), a line per firm and run, in one ECharts option.

    Money is labelled in `currency`, the scenario's ISO 4217 code.
    `markers` are lever changes per run, (week, words), drawn as vertical lines on the focal firm's lines.
    """
    rows = -(-len(PANELS) // COLUMNS)
    width, height = 100 / COLUMNS, 92 / rows
    grids, xs, ys, titles, series = [], [], [], [], []
    for i, (column, (title, _, template, _)) in enumerate(PANELS.items()):
        row, col = divmod(i, COLUMNS)
        grids.append({"left": f"{col * width + 0.5:.1f}%", "width": f"{width - 2:.1f}%", "containLabel": True,
                      "top": f"{7 + row * height + 5:.1f}%", "height": f"{height - 11:.1f}%"})
        titles.append({"text": priced(title, currency), "left": f"{col * width + 0.5:.1f}%",
                       "top": f"{7 + row * height:.1f}%", "textStyle": {"fontSize": 13, "fontWeight": 600}})
        xs.append({"gridIndex": i, "type": "value", "min": 1, "max": max(horizon, 2), "minInterval": 1,
                   "name": "week" if row == rows - 1 else "", "nameLocation": "middle", "nameGap": 22,
                   "axisLabel": TEXT})
        ys.append({"gridIndex": i, "type": "value", "scale": column not in ("employees",),
                   "axisLabel": {**TEXT, "formatter": priced(template, currency)}, "splitNumber": 4})
        for label, weekly in runs.items():
            for f, name in enumerate(firms):
                values = panel_values(weekly, name, column)
                line = {"type": "line", "id": f"{column}|{label}|{f}", "name": name, "xAxisIndex": i, "yAxisIndex": i,
                        "showSymbol": len(values) == 1, "symbolSize": 6, "animation": False, "color": firm_colour(f),
                        "lineStyle": {"width": 2.6 if f == 0 else 1.5, "type": LINE_STYLES[label]},
                        "data": [[w, v] for w, v in enumerate(values, start=1)]}
                if f == 0 and markers and markers.get(label):
                    line["markLine"] = {"symbol": "none", "silent": True, "animation": False,
                                        "lineStyle": {"color": "#455a64", "type": LINE_STYLES[label], "width": 1},
                                        "label": {"show": i == 0, "formatter": "{b}", "fontSize": 11},
                                        "data": [{"xAxis": w, "name": words} for w, words in markers[label]]}
                series.append(line)
    legend = [{"data": firms, "top": 0, "left": "center", "textStyle": TEXT}]
    if len(runs) > 1:
        titles.append({"text": "   ".join(f"{label}: {STYLE_WORDS[label]}" for label in runs), "right": 40,
                       "top": 2, "textStyle": {"fontSize": 13, "fontWeight": 400}})
    return {"animation": False, "title": titles, "legend": legend, "grid": grids, "xAxis": xs, "yAxis": ys,
            "series": series, "tooltip": {"trigger": "axis", "textStyle": TEXT}, "toolbox": TOOLBOX}


def payback(gap: list[float]) -> int | None:
    """The first week (1-based) in which a cumulative profit gap is above zero: B has paid back; None if never."""
    return next((week for week, value in enumerate(gap, start=1) if value is not None and value > 0), None)


def profit_gap(runs: dict[str, pd.DataFrame], focal: str, horizon: int, currency: str) -> dict:
    """The focal firm's profit to date of each run minus A's, week by week, with its payback week marked.

    The runs share the seed, so before a lever changes the gap is exactly zero; after it, the gap
    is what the change has earned so far (cumulative), and payback is the first week it is positive.
    """
    base = runs["A"][runs["A"]["firm"] == focal]["profit_to_date"].to_numpy()
    series = []
    for label, weekly in list(runs.items())[1:]:
        own = weekly[weekly["firm"] == focal]["profit_to_date"].to_numpy()
        gap = _round(pd.Series(own[:len(base)] - base[:len(own)]), 0)
        week = payback(gap)
        line = {"type": "line", "id": f"gap|{label}", "name": f"{label} − A", "showSymbol": False, "animation": False,
                "color": FIRM_COLOURS[0], "lineStyle": {"width": 2.4, "type": LINE_STYLES[label]},
                "data": [[w, v] for w, v in enumerate(gap, start=1)]}
        if week is not None:
            line["markPoint"] = {**PAYBACK_MARK, "data": [{"name": f"{label} pays back: week {week}",
                                                           "coord": [week, gap[week - 1]]}]}
        series.append(line)
    return {"animation": False, "legend": {"top": 0, "textStyle": TEXT},
            "grid": {"left": 8, "right": 24, "top": 34, "bottom": 30, "containLabel": True},
            "xAxis": {"type": "value", "min": 1, "max": max(horizon, 2), "name": "week", "nameLocation": "middle",
                      "nameGap": 22, "axisLabel": TEXT},
            "yAxis": {"type": "value", "axisLabel": {**TEXT, "formatter": priced("¤{value}", currency)}},
            "series": series, "tooltip": {"trigger": "axis", "textStyle": TEXT}, "toolbox": TOOLBOX}


def churn_reasons(runs: dict[str, pd.DataFrame], firms: list[str]) -> dict:
    """Customers lost so far per firm (and run), stacked by the customer's reason for leaving."""
    bars = [(f"{name} ({label})" if len(runs) > 1 else name, table[table["firm"] == name])
            for name in firms for label, table in runs.items()]
    series = [{"type": "bar", "stack": "lost", "name": REASON_LABELS[reason], "color": REASON_COLOURS[reason],
               "animation": False, "barMaxWidth": 26,
               "data": [0 if t.empty else int(t[f"churn_{reason}"].sum()) for _, t in bars]}
              for reason in CHURN_REASONS]
    return {"animation": False, "legend": {"bottom": 0, "textStyle": {"fontSize": 12}, "itemWidth": 14},
            "grid": {"left": 8, "right": 24, "top": 28, "bottom": 76, "containLabel": True},
            "xAxis": {"type": "value", "name": "customers lost so far", "nameLocation": "middle", "nameGap": 24,
                      "axisLabel": TEXT},
            "yAxis": {"type": "category", "inverse": True, "data": [name for name, _ in bars], "axisLabel": TEXT},
            "series": series, "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}}, "toolbox": TOOLBOX}


def network(s: network_view.Sample, views: dict[str, network_view.Nodes], firms: list[str]) -> dict:
    """One panel per run of the sampled word-of-mouth network: colour = firm, paler = less satisfied."""
    lo, hi = s.pos.min(axis=0), s.pos.max(axis=0)
    pos = (s.pos - lo) / np.where(hi > lo, hi - lo, 1)
    links = [{"source": int(a), "target": int(b)} for a, b in s.edges]
    width = 100 / len(views)
    series, titles = [], []
    for k, (label, nodes) in enumerate(views.items()):
        shade = colours(nodes)
        data = [{"name": str(int(c)), "x": round(float(x) * 100, 2), "y": round(float(y) * 100, 2),
                 "symbol": SYMBOLS[int(stance)] if f >= 0 else "circle", "symbolSize": 9 if f >= 0 else 5,
                 "itemStyle": {"color": colour, "borderColor": "#37474f", "borderWidth": 0.4 if f >= 0 else 0}}
                for c, (x, y), f, stance, colour in zip(s.nodes, pos, nodes.firm, nodes.stance, shade, strict=True)]
        series.append({"type": "graph", "layout": "none", "animation": False, "silent": True, "data": data,
                       "links": links, "left": f"{k * width + 2:.1f}%", "width": f"{width - 4:.1f}%", "top": 30,
                       "bottom": 40, "lineStyle": {"color": "#b0bec5", "width": 0.6, "opacity": 0.7}})
        if len(views) > 1:
            titles.append({"text": f"Strategy {label}", "left": f"{k * width + 1:.1f}%", "top": 0,
                           "textStyle": {"fontSize": 13}})
    key = "  ".join(f"{name} ■" for name in firms)
    titles.append({"text": f"{key}   ▲ promoter  ● passive  ◆ detractor  · no firm yet", "bottom": 0, "left": "center",
                   "textStyle": {"fontSize": 12, "fontWeight": 400, "rich": {}}})
    return {"animation": False, "title": titles, "series": series, "toolbox": TOOLBOX}


def csv(runs: dict[str, pd.DataFrame]) -> str:
    """The weekly KPIs behind the charts, one row per run, week and firm, as CSV text."""
    frames = [w.assign(run=label, week=w["step"] + 1).drop(columns="step") for label, w in runs.items()]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    first = ["run", "week", "firm"]
    buffer = io.StringIO()
    table[first + [c for c in table.columns if c not in first]].to_csv(buffer, index=False, float_format="%.6g")
    return buffer.getvalue()
