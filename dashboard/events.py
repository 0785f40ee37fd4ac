"""Plain-language event log: what happened in the market, and why, read from the metrics table.

Pure functions over the tidy table (one row per step and firm, columns of `sim.metrics`), so
they are tested on hand-made tables. Each detector reports the onset of something unusual with
the figures behind it: incidents and what followed them, churn spikes with the customers' main
reason and what led up to them, market-share shifts, staff shortages and what followed, burnout
and quits, lever changes made on the page, lasting strategy and price changes of every firm, and
adaptive competitors' notes, each only when it moves a lever by at least `MATERIAL`. `verdict`
says which strategy did best and why. Table step s is shown as "Week s+1", the week counter's
count after that week; nothing is told beyond the last recorded week.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from itertools import pairwise

import pandas as pd

from dashboard import kpis
from sim.customers import CHURN_REASONS

REASON_WORDS = {"indifference": "they felt uncared for", "price": "it was too dear for them",
                "poor_service": "the service let them down", "bot_frustration": "they were fed up with the bot",
                "competitor_pull": "a friend steered them to a rival",
                "other": "they moved away or had no single reason"}
MATERIAL = 0.05  # the smallest lever move worth telling (levers are 0..1, prices an index around 1)
AFTER = 8  # weeks after an incident or a shortage over which its consequences are told
# what leads up to a churn reason: (column, words, whose: own firm or its rivals summed, direction that explains it)
DRIVERS = {"bot_frustration": ("bot_frustrations", "bot frustrations", "own", +1),
           "poor_service": ("service_failures", "service failures", "own", +1),
           "indifference": ("felt_empathy", "felt empathy", "own", -1),
           "competitor_pull": ("referrals_sent", "rivals' referrals", "rivals", +1)}
LEVER_WORDS = {"empathy": "empathy", "automation": "automation", "bot_handover": "bot hand-over",
               "price": "its price"}
KIND_ORDER = ("incident", "adaptation", "strategy", "churn", "share", "workforce")


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


@dataclass(frozen=True)
class Change:
    """A lever moved on the page: it acts from table step `step` (the week counter when it was moved)."""

    step: int
    firm: str
    lever: str
    old: float
    new: float


@dataclass(frozen=True)
class Incident:
    """A scheduled incident: from table step `step`, for `weeks`, contacts go wrong `rate` more often."""

    firm: str
    step: int
    weeks: int
    rate: float


def page_changes(changes: list[Change]) -> list[Event]:
    """Every lever change made on the page, however small: the user asked for it."""
    return [Event(c.step, c.firm, "strategy", f"{week(c.step)}: you {Move(c.firm, c.step, c.lever, c.old, c.new)}"
                  f" at {c.firm}.".replace(" its price", " the price")) for c in changes]


def lever_changes(table: pd.DataFrame, hold: int = 3, told: set[tuple[int, str, str]] | None = None) -> list[Event]:
    """Empathy and automation changes, and price changes that last `hold` weeks (not promotions).

    Moves smaller than `MATERIAL` are not told, nor those in `told` ((step, firm, lever) already told).
    """
    return [Event(m.step, m.firm, "strategy", f"{week(m.step)}: {m.firm} {m}.") for m in _lever_moves(table, hold)
            if abs(m.new - m.old) >= MATERIAL and (m.step, m.firm, m.lever) not in (told or set())]


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
            text = (f"{week(step)}: churn at {firm} jumped to {rate[step]:.1%} ({times}); most who left did so because "
                    f"{REASON_WORDS[main]} ({reasons.max() / churned[step]:.0%})")
            if main == "other":  # name the firm's own part too, when there is one
                own = reasons.drop("churn_other")
                if own.max() >= 0.15 * churned[step]:
                    second = own.idxmax().removeprefix("churn_")
                    text += f", and {own.max() / churned[step]:.0%} because {REASON_WORDS[second]}"
                    main = second
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


LEVEL = re.compile(r"(?:price from [\d.]+ to|automation to) ([\d.]+)")


def adaptation_notes(notes: list[str], firms: list[str], last_step: int | None = None,
                     start: dict[tuple[str, str], float] | None = None) -> list[Event]:
    """The model's notes on adaptive competitors ("week 13: BigBox cut its price ..."), as events.

    A note written after calendar week w (the model counts weeks from the end of its warm-up; notes of
    the warm-up have negative weeks and are not told) describes a change in force from table step w
    on; one in force only after `last_step` is not told. A note is told when its lever has moved `MATERIAL`
    since it was last told (from `start`, (firm, "price"/"automation") -> level at the first step).
    """
    out, told = [], dict(start or {})
    for note in notes:
        match = NOTE.match(note)
        if not match:
            continue
        step, text = int(match.group(1)), match.group(2)
        if step < 0 or (last_step is not None and step > last_step):
            continue
        firm = next((f for f in sorted(firms, key=len, reverse=True) if text.startswith(f + " ")), "")
        level = LEVEL.search(text)
        if level:
            lever = "price" if "price" in text else "automation"
            new = float(level.group(1))
            if abs(new - told.get((firm, lever), math.inf)) < MATERIAL:
                continue
            told[(firm, lever)] = new
        out.append(Event(step, firm, "adaptation", f"{week(step)}: {text}."))
    return out


def incident_story(table: pd.DataFrame, incident: Incident, after: int = AFTER) -> list[Event]:
    """An incident when it starts and, once `after` weeks have passed since it ended, what it did."""
    t = _firms(table).get(incident.firm)
    if t is None or incident.step > int(t.index.max()):
        return []
    out = [Event(incident.step, incident.firm, "incident",
                 f"{week(incident.step)}: an incident hits {incident.firm}: for {incident.weeks} weeks a contact is "
                 f"{incident.rate:.0%} more likely to go wrong, and each one that does is emotionally charged.")]
    end = incident.step + incident.weeks
    if int(t.index.max()) < end + after - 1:
        return out
    during = t.loc[incident.step:end - 1]
    before = t.loc[max(0, incident.step - after):incident.step - 1]
    later = t.loc[end:end + after - 1]
    failures, recovered = int(during["service_failures"].sum()), int(during["service_recoveries"].sum())
    churn_before = 1 - before["retention_rate"].mean() if not before.empty else math.nan
    nps_before = before["nps"].mean() if not before.empty else math.nan
    churn_during, churn_after = 1 - during["retention_rate"].mean(), 1 - later["retention_rate"].mean()
    out.append(Event(end + after - 1, incident.firm, "incident",
                     f"{week(end + after - 1)}: after the incident at {incident.firm}: {failures} contacts went wrong "
                     f"in its {incident.weeks} weeks and staff put {recovered} of them right "
                     f"({recovered / max(failures, 1):.0%}); churn was {churn_during:.1%} a week during it and "
                     f"{churn_after:.1%} in the {after} weeks after, against {churn_before:.1%} before; NPS went "
                     f"from {nps_before:+.0f} to {later['nps'].mean():+.0f}."))
    return out


def staff_shortages(table: pd.DataFrame, load: float = 1.0, vacant: float = 0.1, after: int = AFTER) -> list[Event]:
    """Onsets of a staff shortage (staff at `load` of capacity or more, or `vacant` of posts empty).

    Once `after` weeks have passed, the shortage's consequences are told with it: service failures
    per week after against before, and customers who left over poor service in those weeks.
    """
    out = []
    for firm, t in _firms(table).items():
        posts = t["employees"] + t["vacancies"]
        short = (t["utilisation"] >= load) | ((t["vacancies"] >= 1) & (t["vacancies"] >= vacant * posts))
        quiet_until = -1
        for step in t.index[short.to_numpy()]:
            if step <= quiet_until:
                continue
            quiet_until = step + after
            row = t.loc[step]
            text = (f"{week(step)}: {firm} is short of staff: {row['vacancies']:.0f} of {posts[step]:.0f} posts empty, "
                    f"staff working at {row['utilisation']:.0%} of capacity")
            if int(t.index.max()) >= step + after - 1:
                before = t.loc[max(0, step - after):step - 1, "service_failures"]
                later = t.loc[step:step + after - 1]
                text += (f"; over the next {after} weeks contacts gone wrong went "
                         f"{'from' if not before.empty else 'to'} "
                         + (f"{before.mean():.0f} to " if not before.empty else "")
                         + f"{later['service_failures'].mean():.0f} a week and "
                         f"{int(later['churn_poor_service'].sum())} customers left because the service let them down")
            out.append(Event(int(step), firm, "workforce", text + "."))
    return out


def explain(table: pd.DataFrame, notes: list[str] | tuple[str, ...] = (),
            changes: list[Change] | tuple[Change, ...] = (), incidents: list[Incident] | tuple[Incident, ...] = ()
            ) -> list[Event]:
    """Every event, in time order; a change already told (on the page, or in a note) is told once."""
    if table.empty:
        return []
    last = int(table["step"].max())
    firms = _firms(table)
    start = {(f, lever): float(t[lever].iloc[0]) for f, t in firms.items() for lever in ("price", "automation")}
    adapted = adaptation_notes(list(notes), list(firms), last, start)
    told = {(c.step, c.firm, c.lever) for c in changes}
    noted = {(e.step, e.firm) for e in adapted}
    found = adapted + page_changes([c for c in changes if c.step <= last])
    found += [e for e in lever_changes(table, told=told) if (e.step, e.firm) not in noted]
    found += [e for i in incidents for e in incident_story(table, i)]
    found += churn_spikes(table) + share_shifts(table) + workforce_alerts(table) + staff_shortages(table)
    return sorted(found, key=lambda e: (e.step, KIND_ORDER.index(e.kind)))


COST_WORDS = {"cost_goods": "goods", "cost_wages": "wages", "cost_empathy_programme": "empathy training",
              "cost_automation": "bots", "cost_advertising": "advertising", "cost_hiring": "hiring",
              "cost_referral_bonus": "referral bonuses", "cost_fixed": "fixed costs",
              "cost_one_off": "one-off costs of a change"}


def verdict(tables: dict[str, pd.DataFrame], focal: str, currency: str) -> str:
    """Which strategy made the focal firm the most profit so far, by how much, and where the gap came from.

    The gap is split into revenue and each cost line; the two largest parts are named, with the
    customers each strategy ended with and the reason for leaving whose count differs most.
    Money is written in `currency`, the scenario's ISO 4217 code (see `kpis.money`).
    """
    runs = {label: t[t["firm"] == focal] for label, t in tables.items() if not t.empty}
    if len(runs) < 2:
        return ""
    profit = {label: float(t["profit"].sum()) for label, t in runs.items()}
    ranked = sorted(profit, key=profit.get, reverse=True)
    best, worst = ranked[0], ranked[-1]
    b, w = runs[best], runs[worst]
    weeks = int(b["step"].max()) + 1
    parts = {"more revenue" if b["revenue"].sum() > w["revenue"].sum() else "less revenue":
             float(b["revenue"].sum() - w["revenue"].sum())}
    parts |= {(f"less spent on {words}" if b[c].sum() < w[c].sum() else f"more spent on {words}"):
              float(w[c].sum() - b[c].sum()) for c, words in COST_WORDS.items() if c in b}
    named = sorted(parts, key=lambda k: abs(parts[k]), reverse=True)[:2]
    because = " and ".join(f"{name} ({kpis.money(parts[name], currency, signed=True)} to profit)" for name in named)
    reasons = {r: int(b[f"churn_{r}"].sum()) - int(w[f"churn_{r}"].sum()) for r in CHURN_REASONS if r != "other"}
    moved = max(reasons, key=lambda r: abs(reasons[r]))
    ended = {label: int(t["customers"].iloc[-1]) for label, t in runs.items()}
    kept = f"Strategy {best} ended with {ended[best]:,} customers against {ended[worst]:,}"
    if reasons[moved]:
        kept += (f"; {abs(reasons[moved]):,} {'fewer' if reasons[moved] < 0 else 'more'} customers left because "
                 f"{REASON_WORDS[moved]}")
    others = f" ({', '.join(f'{k}: {kpis.money(profit[k], currency)}' for k in ranked)})" if len(runs) > 2 else ""
    gap, first, last = (kpis.money(v, currency) for v in (profit[best] - profit[worst], profit[best], profit[worst]))
    return (f"After {weeks} weeks, strategy {best} beat strategy {worst} by {gap} of profit{others}"
            f" ({first} against {last}), because of {because}. {kept}.")
