"""Plain-language event log: what happened in the market, and why, read from the metrics table.

Pure functions over the tidy table (one row per step and firm, columns of `sim.metrics`), so
they are tested on hand-made tables. Each detector reports the onset of something unusual with
the figures behind it: churn spikes with their main reason and what led up to them, market-share
shifts, burnout and quits, lasting strategy and price changes, and adaptive competitors' notes.
Table step s is shown as "Week s+1", the week counter's count after that week.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import pairwise

import pandas as pd

from sim.customers import CHURN_REASONS

REASON_WORDS = {"indifference": "feeling uncared for", "price": "price",
                "poor_service": "poor service", "bot_frustration": "bot frustration",
                "competitor_pull": "a rival's word of mouth", "other": "no single reason"}
# what leads up to a churn reason: (column, words, whose: own firm or its rivals summed, direction that explains it)
DRIVERS = {"bot_frustration": ("bot_frustrations", "bot frustrations", "own", +1),
           "poor_service": ("service_failures", "service failures", "own", +1),
           "indifference": ("felt_empathy", "felt empathy", "own", -1),
           "competitor_pull": ("referrals_sent", "rivals' referrals", "rivals", +1)}
LEVER_WORDS = {"empathy": "empathy", "automation": "automation", "price": "its price"}
KIND_ORDER = ("adaptation", "strategy", "churn", "share", "workforce")


@dataclass(frozen=True)
class Event:
    """Something worth telling, at a step of one firm (firm '' for the whole market)."""

    step: int
    firm: str
    kind: str
    text: str


def week(step: int) -> str:
    """How a table step is shown: step s is 'Week s+1'."""
    return f"Week {step + 1}"


def _firms(table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {name: t.sort_values("step").set_index("step") for name, t in table.groupby("firm", sort=False)}


@dataclass(frozen=True)
class Move:
    """A lasting change of one lever of one firm."""

    firm: str
    step: int
    lever: str
    old: float
    new: float

    def __str__(self) -> str:
        verb = "raised" if self.new > self.old else "cut"
        return f"{verb} {LEVER_WORDS[self.lever]} from {self.old:.2f} to {self.new:.2f}"


def lever_changes(table: pd.DataFrame, hold: int = 3) -> list[Event]:
    """Empathy and automation changes, and price changes that last `hold` weeks (not promotions)."""
    return [Event(m.step, m.firm, "strategy", f"{week(m.step)}: {m.firm} {m}.") for m in _lever_moves(table, hold)]


def _lever_moves(table: pd.DataFrame, hold: int) -> list[Move]:
    moves = [Move(firm, step, lever, old, new) for firm, t in _firms(table).items()
             for lever in ("empathy", "automation", "price")
             for step, old, new in _lasting_changes(t[lever], hold if lever == "price" else 1)]
    return sorted(moves, key=lambda m: m.step)


def _lasting_changes(series: pd.Series, hold: int) -> list[tuple[int, float, float]]:
    """(step, old, new) where the value moved away from its last lasting level and stayed `hold` steps."""
    values, steps = series.to_numpy(dtype=float), series.index.to_numpy()
    lasting = [i for i in range(len(values) - hold + 1) if (values[i:i + hold] == values[i]).all()]
    changes = []
    for before, i in pairwise(lasting):
        if not math.isclose(values[i], values[before], abs_tol=1e-9):
            changes.append((int(steps[i]), float(values[before]), float(values[i])))
    return changes


def churn_spikes(table: pd.DataFrame, ratio: float = 2.0, z: float = 3.0, min_churned: int = 5,
                 warmup: int = 8, lookback: int = 4, min_move: float = 0.05) -> list[Event]:
    """Weeks whose churn is `ratio` times the firm's average so far and beyond Poisson noise (z).

    The first `warmup` weeks only set the average: customers first re-sort among the firms.

    Only the first week of a run of spikes is reported, with its main reason, how that reason's
    driver moved over the `lookback` weeks before, and the last strategy change of at least
    `min_move` in the `2 * lookback` weeks before.
    """
    out = []
    firms = _firms(table)
    moves = _lever_moves(table, hold=3)
    for firm, t in firms.items():
        rate = 1 - t["retention_rate"]
        average = rate.expanding().mean().shift(1)
        expected = average * t["customers"].shift(1)
        churned = t["churned"]
        spike = ((churned >= min_churned) & (churned >= ratio * expected)
                 & (churned >= expected + z * expected.clip(lower=0) ** 0.5)
                 & (pd.Series(range(len(t)), index=t.index) >= warmup))
        onset = spike & ~spike.shift(1, fill_value=False)
        for step in t.index[onset]:
            reasons = t.loc[step, [f"churn_{r}" for r in CHURN_REASONS]]
            main = CHURN_REASONS[int(reasons.to_numpy().argmax())]
            times = f"{rate[step] / average[step]:.1f}x its average" if average[step] > 0 else "none before"
            text = (f"{week(step)}: churn at {firm} jumped to {rate[step]:.1%} ({times}), "
                    f"mostly {REASON_WORDS[main]} ({reasons.max() / churned[step]:.0%})")
            lead_up = _lead_up(firms, firm, main, step, lookback)
            before = [m for m in moves if m.firm == firm and step - 2 * lookback <= m.step <= step
                      and abs(m.new - m.old) >= min_move]
            if lead_up:
                text += f"; {lead_up}"
            if before:
                text += f"{',' if lead_up else ';'} after {firm} {before[-1]} in {week(before[-1].step).lower()}"
            out.append(Event(int(step), firm, "churn", text + "."))
    return out


def _lead_up(firms: dict[str, pd.DataFrame], firm: str, reason: str, step: int, lookback: int) -> str:
    """What led up to churn for this reason: the price gap, or its driver's move over `lookback` weeks.

    A driver is reported only when it moved the way that explains the churn (more bot
    frustrations, less felt empathy, ...): the mean of the `lookback` weeks before the spike
    against the `lookback` weeks before those.
    """
    t, rival_names = firms[firm], [n for n in firms if n != firm]
    if reason == "price":
        rivals = {n: firms[n].loc[step, "price"] for n in rival_names if step in firms[n].index}
        if not rivals:
            return ""
        cheapest = min(rivals, key=rivals.get)
        return f"it charged {t.loc[step, 'price']:.2f} against {rivals[cheapest]:.2f} at {cheapest}"
    if reason not in DRIVERS:
        return ""
    column, words, whose, direction = DRIVERS[reason]
    series = t[column] if whose == "own" else sum(firms[n][column] for n in rival_names)
    recent = series[(series.index >= step - lookback) & (series.index < step)]
    before = series[(series.index >= step - 2 * lookback) & (series.index < step - lookback)]
    if recent.empty or before.empty:
        return ""
    a, b = float(before.mean()), float(recent.mean())
    counts = column != "felt_empathy"
    big = abs(b - a) >= 0.25 * abs(a) and abs(b - a) >= (2 if counts else 0.02)
    if not big or (b - a) * direction <= 0:
        return ""
    shown = "{:.0f}" if counts else "{:.2f}"
    return (f"over the {lookback} weeks before, {words} {'rose' if b > a else 'fell'} from {shown.format(a)} "
            f"to {shown.format(b)}{' a week' if counts else ''}")


def share_shifts(table: pd.DataFrame, points: float = 0.04) -> list[Event]:
    """Each time a firm's market share has moved `points` away from where it was last reported."""
    out = []
    for firm, t in _firms(table).items():
        ref_step, ref = int(t.index[0]), float(t["market_share"].iloc[0])
        for step, share in t["market_share"].items():
            if abs(share - ref) < points:
                continue
            span = t.loc[ref_step + 1:step]
            won = int(span[["acquisitions_advertising", "acquisitions_referral", "acquisitions_switching"]].sum().sum())
            out.append(Event(int(step), firm, "share",
                             f"{week(step)}: {firm}'s market share {'rose' if share > ref else 'fell'} to {share:.1%} "
                             f"({100 * (share - ref):+.1f} points since week {ref_step + 1}): {won} customers won "
                             f"({int(span['acquisitions_referral'].sum())} by referral), "
                             f"{int(span['churned'].sum())} lost."))
            ref_step, ref = int(step), float(share)
    return out


def workforce_alerts(table: pd.DataFrame, high: float = 0.3, low: float = 0.2, window: int = 4,
                     quit_share: float = 0.15, min_quits: int = 2) -> list[Event]:
    """Burnout crossing `high` (and easing below `low` again), and bursts of quits in `window` weeks."""
    out = []
    for firm, t in _firms(table).items():
        burnt, quiet_until = False, -1
        quits = t["quits"].rolling(window, min_periods=1).sum()
        for step, row in t.iterrows():
            if not burnt and row["burnout"] >= high:
                burnt = True
                out.append(Event(int(step), firm, "workforce",
                                 f"{week(step)}: burnout at {firm} reached {row['burnout']:.2f}, with staff at "
                                 f"{row['utilisation']:.0%} of capacity and engagement {row['engagement']:.2f}."))
            elif burnt and row["burnout"] < low:
                burnt = False
                out.append(Event(int(step), firm, "workforce",
                                 f"{week(step)}: burnout at {firm} eased to {row['burnout']:.2f}."))
            staff = row["employees"] + quits[step]
            if step > quiet_until and quits[step] >= max(min_quits, quit_share * staff):
                quiet_until = step + window
                out.append(Event(int(step), firm, "workforce",
                                 f"{week(step)}: {quits[step]:.0f} of {firm}'s {staff:.0f} employees quit in the last "
                                 f"{window} weeks (burnout {row['burnout']:.2f}, engagement {row['engagement']:.2f})."))
    return out


NOTE = re.compile(r"week (\d+): (.*)", re.DOTALL)


def adaptation_notes(notes: list[str], firms: list[str], burn_in: int = 0) -> list[Event]:
    """The model's notes on adaptive competitors ("week 13: BigBox cut its price ..."), as events.

    A note written after week w describes a change in force from table step w - burn_in on.
    """
    out = []
    for note in notes:
        match = NOTE.match(note)
        if not match:
            continue
        step, text = int(match.group(1)) - burn_in, match.group(2)
        firm = next((f for f in sorted(firms, key=len, reverse=True) if text.startswith(f + " ")), "")
        out.append(Event(step, firm, "adaptation", f"{week(step)}: {text}."))
    return out


def explain(table: pd.DataFrame, notes: list[str] | tuple[str, ...] = (), burn_in: int = 0) -> list[Event]:
    """Every event, in time order; a strategy change a competitor's note already explains is told once."""
    if table.empty:
        return []
    adapted = adaptation_notes(list(notes), table["firm"].unique().tolist(), burn_in)
    told = {(e.step, e.firm) for e in adapted}
    found = adapted + [e for e in lever_changes(table) if (e.step, e.firm) not in told]
    found += churn_spikes(table) + share_shifts(table) + workforce_alerts(table)
    return sorted(found, key=lambda e: (e.step, KIND_ORDER.index(e.kind)))
