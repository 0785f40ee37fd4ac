"""The decision report: a recommendation in plain words with its uncertainty, charts, tables, assumptions.

One Markdown text is written twice: as report.md next to its PNG figures, and as report.html with
the figures embedded (one self-contained file to send to a partner or a bank). Every figure in the
text is computed from the runs (`decide.compare`), never typed in.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

import markdown
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from decide import cash
from decide.assumptions import Robust
from decide.compare import Runs, Verdict, interval, quantiles
from research.cli import markdown_table

BAND = (0.1, 0.9)  # the band of runs drawn and quoted: 80% of the runs lie inside


def money(x: float, currency: str, sign: bool = False) -> str:
    """An amount with its currency: '+38,200 EUR'."""
    if not np.isfinite(x):
        return "n/a"
    return f"{x:{'+' if sign else ''},.0f} {currency}"


def months(week: float) -> str:
    """Weeks as whole months."""
    return f"{week * cash.MONTHS_PER_WEEK:.0f}"


def payback_words(v: Verdict, horizon: int) -> str:
    """When the plan pays back, over the seeds, in words."""
    n = len(v.paybacks)
    paid = [p for p in v.paybacks if p is not None]
    never = n - len(paid)
    if not paid:
        return f"does not pay back within {months(horizon)} months in any of the {n} runs"
    median, low, high = quantiles(paid, *BAND)
    if max(paid) == 0 and not never:
        text = "never falls behind the status quo in any run (pays back at once)"
    else:
        text = (f"pays back in about {months(median)} months (week {median:.0f}; 80% of the runs that pay back do so "
                f"between months {months(low)} and {months(high)})")
    if never:
        text += f"; {never} of {n} runs ({never / n:.0%}) do not pay back within {months(horizon)} months"
    return text


def call(v: Verdict) -> str:
    """The verdict on the NPV interval: worth doing, not worth doing, or too close to call."""
    _, low, high = interval(v.npv)
    if low > 0:
        return "On these assumptions it is worth doing: its NPV is above zero with 95% confidence."
    if high < 0:
        return "On these assumptions it is not worth doing: its NPV is below zero with 95% confidence."
    return ("Too close to call: the 95% interval of its NPV spans zero; more seeds narrow it, the assumptions "
            "may not (see the risks).")


def recommendation(v: Verdict, how: str, horizon: int, rate: float, currency: str) -> str:
    """The paragraph for one alternative."""
    npv, low, high = interval(v.npv)
    gain, glow, ghigh = interval(v.gain)
    roi, rlow, rhigh = quantiles(v.roi, *BAND)
    cust, clow, chigh = interval(v.customers)
    worst = int(np.argmax(v.at_risk))
    defined = int(np.isfinite(v.roi).sum())
    roi_text = (f"ROI on the cash it ties up: {roi:.1f} (median; 80% of runs {rlow:.1f} to {rhigh:.1f}; defined in "
                f"the {defined} of {len(v.roi)} runs that fall behind at some point)"
                if np.isfinite(roi) else "it never ties up cash, so ROI is not defined")
    return (f"**{v.name}** ({how}) {payback_words(v, horizon)}. "
            f"NPV over {months(horizon)} months at {rate:.0%} a year: {money(npv, currency, True)} "
            f"(95% interval {money(low, currency, True)} to {money(high, currency, True)}); cash at month "
            f"{months(horizon)}: {money(gain, currency, True)} (95% interval {money(glow, currency, True)} to "
            f"{money(ghigh, currency, True)}). It ties up at most {money(v.at_risk.mean(), currency)} on average "
            f"({money(v.at_risk[worst], currency)} in the worst run), of which {money(v.one_off.mean(), currency)} "
            f"are one-off costs; {roi_text}. You end with about {cust:+,.0f} customers against the status quo "
            f"(95% interval {clow:+,.0f} to {chigh:+,.0f}); customer retention {100 * np.nanmean(v.retention):+.1f} "
            f"percentage points a year, NPS {np.nanmean(v.nps):+.0f} points, staff turnover "
            f"{100 * np.nanmean(v.turnover):+.0f} points a year. {call(v)}")


def risks(v: Verdict, robust_text: str | None, currency: str) -> list[str]:
    """What could go wrong, in plain words, from the runs."""
    out = []
    if v.never > 0:
        out.append(f"In {v.never:.0%} of the runs it has not paid back by the end of the horizon.")
    worst = int(np.argmax(v.at_risk))
    if v.at_risk[worst] > 0:
        deepest = int(np.argmin(v.cumulative[worst]))
        out.append(f"In the worst run it is {money(v.at_risk[worst], currency)} behind the status quo at week "
                   f"{deepest}: that cash must be available.")
    turnover = np.nanmean(v.turnover)
    if turnover > 0.02:
        out.append(f"Staff turnover rises by {100 * turnover:.0f} points a year (quits per employee-year).")
    nps = np.nanmean(v.nps)
    if nps < -2:
        out.append(f"NPS falls by {-nps:.0f} points: customers recommend the business less.")
    out.append(robust_text or "The intervals above are over seeds (luck) only: costs and behaviour are held at "
               "their configured values. Run with --robust N to vary the uncertain assumptions.")
    return out


def cash_figure(verdicts: Sequence[Verdict], currency: str) -> Figure:
    """Cumulative cash difference against the status quo: mean, the band of 80% of runs, payback marked."""
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.subplots()
    for i, v in enumerate(verdicts):
        colour = f"C{i}"
        cum = v.cumulative
        weeks = np.arange(cum.shape[1])
        ax.fill_between(weeks, np.quantile(cum, BAND[0], axis=0), np.quantile(cum, BAND[1], axis=0),
                        color=colour, alpha=0.2, label=f"{v.name}: 80% of runs")
        ax.plot(weeks, cum.mean(axis=0), color=colour, label=f"{v.name}: mean over runs")
        if v.mean_payback is not None:
            ax.axvline(v.mean_payback, color=colour, linestyle="--", linewidth=1,
                       label=f"{v.name}: payback of the mean, week {v.mean_payback}")
        paid = [p for p in v.paybacks if p is not None]
        ax.plot(paid, np.zeros(len(paid)), "|", color=colour, markersize=14, markeredgewidth=2,
                label=f"{v.name}: payback week of each run")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("week after the change starts (week 0 = first week of the plan)")
    ax.set_ylabel(f"cumulative cash difference ({currency})")
    ax.set_title("Cash against the status quo, week by week")
    ax.legend(fontsize="small", loc="best")
    return fig


def paths_figure(paths: dict[str, pd.DataFrame]) -> Figure:
    """Customers, retention, NPS and staff turnover of every option (13-week windows, pooled over the runs)."""
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    labels = {"customers": "customers", "retention_rate": "customer retention (a year)", "nps": "NPS (points)",
              "employee_turnover": "staff turnover (quits per employee-year)"}
    for ax, (key, label) in zip(axes, labels.items(), strict=True):
        for name, table in paths.items():
            ax.plot(table.index, table[key], label=name)
        ax.set_title(label)
        ax.set_xlabel("week")
    axes[0].legend(fontsize="small")
    return fig


@dataclass
class Report:
    """The report's Markdown with its figures, by file name."""

    text: str
    figures: dict[str, Figure]

    def html(self, title: str) -> str:
        """One self-contained HTML page: the Markdown rendered, figures embedded as data URIs."""
        body = markdown.markdown(self.text, extensions=["tables"])
        for name, fig in self.figures.items():
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
            data = base64.b64encode(buffer.getvalue()).decode("ascii")
            body = body.replace(f'src="{name}"', f'src="data:image/png;base64,{data}"')
        style = ("body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;line-height:1.45}"
                 "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 7px}"
                 "img{max-width:100%}")
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
                f"<style>{style}</style></head><body>\n{body}\n</body></html>\n")


def years_markdown(years: pd.DataFrame, currency: str) -> str:
    """The year-by-year table, money with its currency, rates as percentages."""
    t = years.copy()
    for k in ("revenue", "costs", "profit", "profit_gain", "gain_ci_low", "gain_ci_high"):
        t[k] = [money(x, currency, sign=k.startswith(("profit_gain", "gain"))) for x in t[k]]
    t["customers_end"] = [f"{x:,.0f}" for x in t["customers_end"]]
    for k in ("retention_rate", "employee_turnover"):
        t[k] = [f"{x:.0%}" if np.isfinite(x) else "n/a" for x in t[k]]
    t = t.rename(columns={"customers_end": "customers at year end", "retention_rate": "retention",
                          "employee_turnover": "staff turnover", "profit_gain": "profit vs status quo",
                          "gain_ci_low": "95% low", "gain_ci_high": "95% high"})
    return markdown_table(t)


def build(runs: Runs, verdicts: Sequence[Verdict], years: pd.DataFrame, paths: dict[str, pd.DataFrame],
          sources: pd.DataFrame, robust_result: Robust | None, context: dict[str, str]) -> Report:
    """The whole report. `context` holds the title, currency, discount rate, horizon and the command line."""
    currency, horizon = context["currency"], int(context["weeks"])
    rate = float(context["discount_rate"])
    figures: dict[str, Figure] = {"cash_difference.png": cash_figure(verdicts, currency),
                                  "paths.png": paths_figure(paths)}
    robust_words: dict[str, str] = {}
    if robust_result is not None:
        s = robust_result.comparison.summary
        for row, finding in zip(s.itertuples(), robust_result.findings, strict=True):
            robust_words[row.alternative] = (
                f"Across {row.draws} draws of the uncertain assumptions x {row.seeds} seeds it beats the status quo "
                f"on profit over the horizon in {row.p_beats:.0%} of runs; {row.share_assumptions:.0%} of the spread "
                f"comes from the assumptions. {finding}")
        for i, fig in enumerate(robust_result.figures):
            figures[f"tornado_{i + 1}.png"] = fig
    hows = {o.name: o.how for o in runs.options}
    lines = [f"# {context['title']}", "",
             f"Status quo: {runs.status_quo.how}. Horizon {horizon} weeks ({months(horizon)} months) after a "
             f"{context['burn_in']}-week warm-up; {len(runs.seeds)} runs per option (seeds {runs.seeds[0]} to "
             f"{runs.seeds[-1]}), each paired with the status quo on the same seed. Money in {currency}.", "",
             "## Recommendation", ""]
    for v in verdicts:
        lines += [recommendation(v, hows[v.name], horizon, rate, currency), "", "Risks:", ""]
        lines += [f"- {r}" for r in risks(v, robust_words.get(v.name), currency)] + [""]
    lines += ["## Cash against the status quo", "",
              "Cumulative difference in profit (the plan's cash minus the status quo's, same seed), week by week: "
              "the line is the mean over runs, the band holds 80% of the runs, ticks on zero mark each run's "
              "payback week. Payback is the first week after which the cumulative difference never falls below "
              "zero again within the horizon.", "", "![cash difference](cash_difference.png)", ""]
    summary = pd.DataFrame([{
        "alternative": v.name,
        "payback month (median)": months(quantiles([p for p in v.paybacks if p is not None])[0])
        if v.never < 1 else "never",
        "no payback in horizon": f"{v.never:.0%}",
        f"NPV ({currency})": money(interval(v.npv)[0], currency, True),
        "NPV 95% low": money(interval(v.npv)[1], currency, True),
        "NPV 95% high": money(interval(v.npv)[2], currency, True),
        "ROI (median)": f"{quantiles(v.roi)[0]:.2f}" if np.isfinite(quantiles(v.roi)[0]) else "n/a",
        f"one-off costs ({currency})": money(v.one_off.mean(), currency),
    } for v in verdicts])
    lines += [markdown_table(summary), "## Year by year", "",
              f"Means over the runs; profit vs status quo with its 95% interval over seeds. Money in {currency} "
              "per year of 52 weeks.", "", years_markdown(years, currency),
              "## Customers, retention, NPS and staff", "",
              "13-week windows, pooled over the runs (rates a year).", "", "![paths](paths.png)", ""]
    if robust_result is not None:
        c = robust_result.comparison
        lines += ["## How robust is it to the assumptions", "",
                  f"Each option on {len(c.draws)} draws of {len(c.bounds)} uncertain parameters x seeds "
                  f"{sorted(set(c.runs['seed']))}, the same draws and seeds for every option; KPI: profit over the "
                  f"horizon ({currency}, undiscounted).", "",
                  markdown_table(c.summary.drop(columns=["kpi"])), *[f"- {f}" for f in robust_result.findings], ""]
        for i, _ in enumerate(robust_result.figures):
            lines += [f"![tornado](tornado_{i + 1}.png)", ""]
    lines += ["## Assumptions and where they come from", "",
              "The values this decision rests on, with their source (docs/ODD.md section 9); 'assumption' marks a "
              "value nothing backs. The plausible range is what --robust varies.", "", markdown_table(sources),
              "## How this was computed", "",
              f"- NPV discounts each week's cash difference to the start of week 0 at {rate:.0%} a year "
              "(market.discount_rate), booked at the end of its week.",
              "- ROI = cash difference at the horizon / the most cash the plan ties up (the deepest point of the "
              "cumulative difference); not defined for a plan that never falls behind.",
              "- Intervals of means are Student-t over seeds; ranges of single runs are their 10th to 90th "
              "percentiles.",
              f"- Command: `{context['command']}`", ""]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return Report(text, figures)
