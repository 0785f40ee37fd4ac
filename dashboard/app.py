"""The live dashboard page (solara): controls on the left, the market stepping week by week on the right.

Built from solara components rather than Mesa's `SolaraViz`: SolaraViz drives one model made
from keyword arguments and draws a Mesa space, while this page steps two models side by side,
builds them from the Hydra config tree (scenarios), and draws a sample of a graph held as arrays.
Strategy sliders act live: they change the running model's levers from the next week on, and a
reset starts again from week 0 with the sliders' values. Each browser tab has its own session.
"""

from __future__ import annotations

import copy
import html
import io
import time
from collections.abc import Callable
from dataclasses import replace

import solara
import solara.lab
from matplotlib.figure import Figure

from dashboard import charts, kpis, network_view
from dashboard.session import (
    COMPETITOR_LEVERS,
    FOCAL_LEVERS,
    Frame,
    Levers,
    Market,
    Session,
    compose,
    default_levers,
    firm_keys,
    scenarios,
    strategies_for,
)
from sim.config import ConfigError

MARKET_SIZES = [1_000, 2_000, 5_000, 10_000, 20_000]
LEVER_RANGES = {"empathy": (0.0, 1.0), "automation": (0.0, 1.0), "bot_handover": (0.0, 1.0), "price": (0.5, 2.0)}
LEVER_LABELS = {"empathy": "Empathy", "automation": "Automation", "bot_handover": "Bot hand-over", "price": "Price"}
BETTER = {"burnout": -1}  # KPIs where lower is better; all others: higher is better
PAUSE = 0.05  # seconds between updates while playing, so clicks get through
EVENTS_SHOWN = 14
CSS = """
.v-application { font-size: 16px; }
.v-toolbar, .v-app-bar { background: #00695c !important; color: #fff !important; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(115px, 1fr)); gap: 10px; width: 100%; }
.kpis.compare { grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); }
.kpi-value .run { font-size: 13px; color: #78909c; margin: 0 3px 0 8px; }
.kpi-value .run:first-child { margin-left: 0; }
.kpi { background: #fff; border-radius: 8px; padding: 8px 12px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
.kpi-label { color: #546e7a; font-size: 14px; }
.kpi-value { font-size: 24px; font-weight: 600; color: #263238; white-space: nowrap; }
.kpi-diff { font-size: 15px; font-weight: 600; }
.kpi-diff.good { color: #2e7d32; } .kpi-diff.bad { color: #c62828; } .kpi-diff.same { color: #546e7a; }
.week-counter { font-size: 30px; font-weight: 700; color: #263238; }
.subtle { color: #607d8b; font-size: 14px; }
.event-log li { margin-bottom: 6px; font-size: 15px; line-height: 1.35; }
.tag { display: inline-block; border-radius: 4px; padding: 0 6px; margin-right: 6px; font-size: 12px;
       color: #fff; text-transform: uppercase; letter-spacing: .03em; }
.tag-churn { background: #c62828; } .tag-share { background: #1565c0; } .tag-workforce { background: #6a1b9a; }
.tag-strategy { background: #00897b; } .tag-adaptation { background: #ef6c00; }
img.chart { width: 100%; height: auto; }
.lever .v-slider__label { min-width: 150px; }
"""

market = solara.reactive(Market())
compare = solara.reactive(False)
strategies: solara.Reactive[dict[str, Levers]] = solara.reactive({})
names: solara.Reactive[dict[str, str]] = solara.reactive({})
session: solara.Reactive[Session | None] = solara.reactive(None)
frame: solara.Reactive[Frame | None] = solara.reactive(None)
playing = solara.reactive(False)
speed = solara.reactive(1)
problem = solara.reactive("")


def build(new_market: Market, new_strategies: dict[str, Levers]) -> None:
    """Start (again) at week 0; a bad configuration is shown as one line, the old run stays."""
    playing.set(False)
    try:
        built = Session(new_market, new_strategies)
    except ConfigError as err:
        problem.set(str(err))
        return
    problem.set("")
    market.set(new_market)
    strategies.set(new_strategies)
    names.set(firm_keys(next(iter(built.models.values())).cfg))
    session.set(built)
    frame.set(built.frame())


def pick_market(new_market: Market) -> None:
    """A new scenario brings its own firms and levers; a new size or seed keeps the sliders."""
    if new_market.scenario == market.value.scenario and strategies.value:
        build(new_market, strategies.value)
        return
    try:
        levers = default_levers(compose(new_market))
    except ConfigError as err:
        problem.set(str(err))
        return
    build(new_market, strategies_for(levers, compare.value))


def set_compare(on: bool) -> None:
    """Switch side-by-side mode: B starts as a copy of A, on the same seed."""
    compare.set(on)
    build(market.value, strategies_for(strategies.value["A"], on))


def set_lever(labels: list[str], key: str, lever: str, value: float) -> None:
    """Move a slider: remembered for the next reset, and applied live to the running models."""
    new = copy.deepcopy(strategies.value)
    for label in labels:
        new[label][key][lever] = value
    strategies.set(new)
    if session.value is not None:
        session.value.set_lever(labels, key, lever, value)


def advance(weeks: int) -> None:
    """Step the running session and show the new frame (unless a reset replaced it meanwhile)."""
    running = session.value
    if running is None:
        return
    running.step(weeks)
    if session.value is running:
        frame.set(running.frame())


def play() -> None:
    """The play loop, run in a thread while `playing` is on."""
    while playing.value and session.value is not None and not session.value.done:
        advance(speed.value)
        time.sleep(PAUSE)
    playing.set(False)


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes, for an <img> the browser can show and a test can watch change."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@solara.component
def Chart(make: Callable[[], Figure], key: object, name: str) -> None:
    """A matplotlib figure as an image, redrawn only when `key` (the frame) changes."""
    image = solara.use_memo(lambda: png(make()), [key])
    solara.Image(image, classes=["chart", f"chart-{name}"])


@solara.component
def LeverSlider(label: str, value: float, lever: str, on_value: Callable[[float], None]) -> None:
    """A lever's slider, its value in the label (readable from the back of a classroom)."""
    lo, hi = LEVER_RANGES[lever]
    with solara.Div(classes=["lever", f"lever-{label.lower().replace(' ', '-')}-{lever}"]):
        solara.SliderFloat(f"{LEVER_LABELS[lever]}: {value:.2f}", value=value, min=min(lo, value),
                           max=max(hi, value), step=0.05, on_value=on_value, thumb_label=False)


@solara.component
def Controls() -> None:
    """The sidebar: market, run buttons, the focal strategy (A, or A and B) and the competitors."""
    m = market.value
    with solara.Card("Market", margin=0):
        solara.Select("Scenario", values=scenarios(), value=m.scenario,
                      on_value=lambda v: pick_market(replace(m, scenario=v)))
        solara.Select("Customers", values=MARKET_SIZES, value=m.customers,
                      on_value=lambda v: pick_market(replace(m, customers=v)))
        solara.InputInt("Seed", value=m.seed, on_value=lambda v: pick_market(replace(m, seed=max(0, v or 0))))
        solara.Switch(label="Compare two strategies (same seed)", value=compare.value, on_value=set_compare)
    with solara.Card("Run", margin=0):
        with solara.Row(gap="8px"):
            solara.Button("Pause" if playing.value else "Play", icon_name="mdi-pause" if playing.value else "mdi-play",
                          color="#00897b", on_click=lambda: playing.set(not playing.value),
                          disabled=session.value is None or session.value.done, classes=["play"])
            solara.Button("Step", icon_name="mdi-skip-next", on_click=lambda: advance(1),
                          disabled=playing.value or session.value is None or session.value.done, classes=["step"])
            solara.Button("Reset", icon_name="mdi-restart", on_click=lambda: build(market.value, strategies.value),
                          classes=["reset"])
        solara.SliderInt(f"Speed: {speed.value} week{'s' if speed.value > 1 else ''} per update", value=speed,
                         min=1, max=8, thumb_label=False)
    levers, firm_names = strategies.value, names.value
    for label, chosen in levers.items():
        title = f"{firm_names.get('firm', 'Focal')}: strategy {label}" if compare.value else \
            f"{firm_names.get('firm', 'Focal')}'s strategy"
        with solara.Card(title, subtitle="solid lines" if label == "A" and compare.value else
                         "dashed lines" if label == "B" else "acts live; Reset restarts", margin=0):
            for lever in FOCAL_LEVERS:
                LeverSlider(f"focal-{label}", chosen["firm"][lever], lever,
                            lambda v, label=label, lever=lever: set_lever([label], "firm", lever, v))
    if levers:
        running = frame.value.runs["A"].levers if frame.value is not None else {}
        with solara.Card("Competitors", margin=0):
            for key in [k for k in levers["A"] if k != "firm"]:
                with solara.Details(firm_names.get(key, key), expand=False):
                    for lever in COMPETITOR_LEVERS:
                        LeverSlider(key.split(".")[-1], levers["A"][key][lever], lever,
                                    lambda v, key=key, lever=lever: set_lever(list(levers), key, lever, v))
                    if moved := adapted(levers["A"][key], running.get(key, {})):
                        solara.Text(f"Now, adapting: {moved}", classes=["adapted", f"adapted-{key.split('.')[-1]}"])


def adapted(chosen: dict[str, float], running: dict[str, float]) -> str:
    """The levers an adaptive competitor has moved away from its sliders, e.g. "price 0.81" ("" if none)."""
    return ", ".join(f"{LEVER_LABELS[lever].lower()} {value:.2f}" for lever, value in running.items()
                     if abs(value - chosen.get(lever, value)) > 1e-9)


def tile(kpi: str, f: Frame) -> str:
    """One KPI tile of the focal firm: its value, or A, B and the gap B - A."""
    label = kpis.KPIS[kpi][0]
    values = {run: kpis.latest(view.weekly, f.firms[0]) for run, view in f.runs.items()}
    if not values["A"]:
        body = '<div class="kpi-value">–</div>'
    elif not f.compare:
        body = f'<div class="kpi-value">{kpis.show(kpi, values["A"][kpi])}</div>'
    else:
        gap = kpis.difference(values["A"], values["B"])[kpi]
        mood = "same" if abs(gap) < 1e-12 else "good" if gap * BETTER.get(kpi, 1) > 0 else "bad"
        body = (f'<div class="kpi-value"><span class="run">A</span>{kpis.show(kpi, values["A"][kpi])}'
                f'<span class="run">B</span>{kpis.show(kpi, values["B"][kpi])}</div>'
                f'<div class="kpi-diff {mood}">B − A: {kpis.show(kpi, gap, diff=True)}</div>')
    return f'<div class="kpi-label">{html.escape(label)}</div>{body}'


def event_list(f: Frame, run: str) -> str:
    """The latest events, newest first, as an HTML list."""
    items = []
    for e in reversed(f.runs[run].events[-EVENTS_SHOWN:]):
        when, text = e.text.split(": ", 1)
        items.append(f'<li><span class="tag tag-{e.kind}">{e.kind}</span><b>{html.escape(when)}</b>: '
                     f"{html.escape(text)}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else '<p class="subtle">Nothing unusual yet.</p>'


@solara.component
def NetworkCard(f: Frame) -> None:
    """The sampled word-of-mouth network of each run, with how to read it."""
    with solara.Card("Word-of-mouth network", margin=0):
        nodes = {run: view.nodes for run, view in f.runs.items()}
        Chart(lambda: network_view.figure(f.sample, nodes, f.firms), f, "network")
        solara.Text(f"{len(f.sample.nodes)} of {market.value.customers:,} customers, in whole "
                    "neighbourhoods. Colour: firm (paler = less satisfied). Marker: NPS answer.", classes=["subtle"])


@solara.component
def ChurnCard(f: Frame) -> None:
    """Customers lost so far, by reason, per firm (and run)."""
    with solara.Card("Why customers left (so far)", margin=0):
        with solara.Div(style={"max-width": "760px"}):
            Chart(lambda: charts.churn_reasons({run: view.table for run, view in f.runs.items()}, f.firms), f, "churn")


@solara.component
def TimeseriesCard(f: Frame) -> None:
    """The six KPI charts, week by week."""
    with solara.Card("KPIs week by week", margin=0):
        Chart(lambda: charts.timeseries({run: view.weekly for run, view in f.runs.items()}, f.firms), f, "timeseries")


@solara.component
def EventsCard(f: Frame) -> None:
    """The plain-language event log of each run, newest first."""
    with solara.Card("What is happening", margin=0):
        with solara.Columns([1] * len(f.runs)):
            for run in f.runs:
                with solara.Column():
                    if f.compare:
                        solara.Text(f"Strategy {run}", style={"font-weight": "600"})
                    solara.HTML(tag="div", unsafe_innerHTML=event_list(f, run), classes=["event-log", f"events-{run}"])


@solara.component
def Dashboard(f: Frame) -> None:
    """The main area: week counter, KPI tiles, network, churn reasons, KPI charts, event log."""
    focal = f.firms[0]
    with solara.Row(gap="24px", style={"align-items": "center"}):
        solara.Text(f"Week {f.week} of {f.horizon}", classes=["week-counter"])
        solara.Text(f"{market.value.scenario} market · {market.value.customers:,} customers · seed "
                    f"{market.value.seed} · KPIs of {focal}" + (" (A | B)" if f.compare else ""), classes=["subtle"])
    solara.ProgressLinear(100 * f.week / max(f.horizon, 1), color=charts.FIRM_COLOURS[0])
    with solara.Div(classes=["kpis", "compare"] if f.compare else ["kpis"]):
        for kpi in kpis.KPIS:
            solara.HTML(tag="div", unsafe_innerHTML=tile(kpi, f), classes=["kpi", f"kpi-{kpi}"])
    if f.compare:  # two networks side by side need the full width; churn reasons go beside the event log
        NetworkCard(f)
        TimeseriesCard(f)
        with solara.Columns([2, 3]):
            ChurnCard(f)
            EventsCard(f)
    else:
        with solara.Columns([3, 2]):
            NetworkCard(f)
            ChurnCard(f)
        TimeseriesCard(f)
        EventsCard(f)


@solara.component
def Page() -> None:
    """The page solara serves; builds the default market on first load."""
    solara.Title("Empathy market: live")
    solara.Style(CSS)
    solara.use_effect(lambda: pick_market(market.value) if session.value is None else None, [])
    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)
    with solara.AppBarTitle():
        solara.Text("Empathy market: service strategy, live")
    with solara.Sidebar(), solara.Column(gap="10px"):
        Controls()
    if problem.value:
        solara.Error(problem.value, classes=["problem"])
    if frame.value is None:
        solara.Info("Building the market…")
    else:
        Dashboard(frame.value)
