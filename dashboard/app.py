"""The live dashboard page (solara): controls on the left, the market stepping week by week on the right.

Built from solara components rather than Mesa's `SolaraViz`: SolaraViz drives one model made
from keyword arguments and draws a Mesa space, while this page steps up to four models side by
side, builds them from the Hydra config tree (scenarios), and draws a sample of a graph held as
arrays. Charts are ECharts options drawn by the browser. Strategy sliders act live: they change
the running model's levers from the next week on; settings (the incident, the price-driven share,
competitors' pricing) and a reset start again from week 0. Each browser session (its cookie) has
its own run, kept on the server, so a reload shows the same run at the same week.
"""

from __future__ import annotations

import copy
import html
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import solara
import solara.lab

from dashboard import charts, events, kpis, story
from dashboard.session import (
    COMPETITOR_LEVERS,
    FOCAL_LEVERS,
    RUN_LABELS,
    Frame,
    Levers,
    Market,
    Session,
    Settings,
    compose,
    default_levers,
    firm_keys,
    scenarios,
    small_staff,
    strategies_for,
)
from sim.config import PRICING_POLICIES, ConfigError, SimConfig

MARKET_SIZES = [None, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000]  # None: the scenario's own size
RATES = [1, 2, 5, 10, 20, 50]  # weeks per second the Play button aims at
LEVER_HELP = {
    "empathy": "Investment in hiring, training and leading staff to care (0 none .. 1 the most). Costs wages "
               "and training; customers who need care stay longer and recommend more.",
    "automation": "Share of contacts a bot handles first (0 all human .. 1 all bot). Saves staff time; a bot "
                  "can frustrate a customer whose problem is emotional.",
    "bot_handover": "Chance the bot passes an emotionally charged contact to a person (0 never .. 1 always).",
    "price": "Price index: 1.00 is the market's reference price, 0.80 is 20% cheaper.",
}
LEVER_RANGES = {"empathy": (0.0, 1.0), "automation": (0.0, 1.0), "bot_handover": (0.0, 1.0), "price": (0.5, 2.0)}
LEVER_LABELS = {"empathy": "Empathy", "automation": "Automation", "bot_handover": "Bot hand-over", "price": "Price"}
BETTER = {"burnout": -1}  # KPIs where lower is better; all others: higher is better
PAUSE = 0.02  # seconds between updates while playing, so clicks get through
EVENTS_SHOWN = 12
CSS = """
.v-application { font-size: 16px; }
.v-toolbar, .v-app-bar { background: #00695c !important; color: #fff !important; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(94px, 1fr)); gap: 6px; width: 100%; }
.kpis.compare { grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); }
.kpis.compare .kpi-value { font-size: 15px; } .kpis.compare .kpi-diff { font-size: 13px; }
.kpi-value .run { font-size: 12px; color: #78909c; margin: 0 2px 0 6px; }
.kpi-value .run:first-child { margin-left: 0; }
.kpi { background: #fff; border-radius: 8px; padding: 4px 8px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
.kpi-label { color: #546e7a; font-size: 12.5px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.kpi-value { font-size: 20px; font-weight: 600; color: #263238; white-space: nowrap; }
.kpi-diff { font-size: 15px; font-weight: 600; }
.kpi-diff.good { color: #2e7d32; } .kpi-diff.bad { color: #c62828; } .kpi-diff.same { color: #546e7a; }
.week-counter { font-size: 28px; font-weight: 700; color: #263238; line-height: 1.2; }
.subtle { color: #607d8b; font-size: 14px; }
.event-log li { margin-bottom: 6px; font-size: 15px; line-height: 1.35; }
.tag { display: inline-block; border-radius: 4px; padding: 0 6px; margin-right: 6px; font-size: 12px;
       color: #fff; text-transform: uppercase; letter-spacing: .03em; }
.tag-churn { background: #c62828; } .tag-share { background: #1565c0; } .tag-workforce { background: #6a1b9a; }
.tag-strategy { background: #00897b; } .tag-adaptation { background: #ef6c00; }
.tag-incident { background: #b71c1c; }
.lever .v-slider__label { min-width: 150px; }
.brief { font-size: 14px; color: #37474f; line-height: 1.35; margin: 0; }
.verdict { font-size: 16px; font-weight: 600; color: #1b5e20; background: #e8f5e9; padding: 8px 12px;
           border-radius: 6px; }
.fold { display: flex; flex-direction: column; gap: 6px; height: calc(100vh - 108px); min-height: 500px; }
.fold > * { flex: 0 0 auto; }
.fold > .main-chart { flex: 1 1 0; min-height: 300px; background: #fff; border-radius: 8px;
                      box-shadow: 0 1px 3px rgba(0,0,0,.15); padding: 4px; }
.main-chart .chart-timeseries { height: 100%; }
.staff-note { color: #8d6e63; }
.chart-network, .chart-churn, .chart-gap { height: 330px; }
"""


class State:
    """One browser session's page state; kept in `SAVED` by session id, so a reload finds it again."""

    def __init__(self) -> None:
        self.market = solara.reactive(Market())
        self.runs = solara.reactive(1)
        self.strategies: solara.Reactive[dict[str, Levers]] = solara.reactive({})
        self.settings: solara.Reactive[dict[str, Settings]] = solara.reactive({})
        self.names: solara.Reactive[dict[str, str]] = solara.reactive({})
        self.session: solara.Reactive[Session | None] = solara.reactive(None)
        self.frame: solara.Reactive[Frame | None] = solara.reactive(None)
        self.playing = solara.reactive(False)  # asked for by the Play/Pause button
        self.looping = solara.reactive(False)  # the play loop is still stepping (a pause waits for its last week)
        self.rate = solara.reactive(10)
        self.measured = solara.reactive(0.0)  # weeks per second of the last play
        self.problem = solara.reactive("")
        self.loops = 0  # play loops started: only the latest may step
        self.kept: dict[str, object] = {}  # plain copies: reactive values live per kernel, a reload is a new one

    FIELDS = ("market", "runs", "strategies", "settings", "names", "session", "frame", "rate")

    def keep(self) -> None:
        """Remember the run outside the kernel, for a reload of the page."""
        self.kept = {name: getattr(self, name).value for name in self.FIELDS}

    def restore(self) -> bool:
        """Show the remembered run in a new kernel (after a reload); False if there is none."""
        for name, value in self.kept.items():
            getattr(self, name).set(value)
        return bool(self.kept)


SAVED: dict[str, State] = {}
_saved_lock = threading.Lock()


def state() -> State:
    """This browser session's state (a reload of the page keeps the session cookie, so its run)."""
    sid = solara.get_session_id()
    with _saved_lock:
        return SAVED.setdefault(sid, State())


def build(st: State, new_market: Market, new_strategies: dict[str, Levers],
          new_settings: dict[str, Settings] | None = None) -> None:
    """Start (again) at week 0; a bad configuration is shown as one line, the old run stays."""
    st.playing.set(False)
    new_settings = {label: dict((new_settings or {}).get(label, {})) for label in new_strategies}
    try:
        built = Session(new_market, new_strategies, settings=new_settings)
    except ConfigError as err:
        st.problem.set(str(err))
        return
    st.problem.set("")
    st.market.set(new_market)
    st.strategies.set(new_strategies)
    st.settings.set(new_settings)
    st.runs.set(len(new_strategies))
    st.names.set(firm_keys(next(iter(built.models.values())).cfg))
    st.session.set(built)
    st.frame.set(built.frame())
    st.keep()


def pick_market(st: State, new_market: Market) -> None:
    """A new scenario brings its own firms, levers and size; a new size or seed keeps the sliders."""
    if new_market.scenario == st.market.value.scenario and st.strategies.value:
        build(st, new_market, st.strategies.value, st.settings.value)
        return
    try:
        levers = default_levers(compose(new_market))
    except ConfigError as err:
        st.problem.set(str(err))
        return
    build(st, new_market, strategies_for(levers, st.runs.value))


def set_runs(st: State, n: int) -> None:
    """Run 1..4 strategies side by side; new ones start as copies of A, on the same seed."""
    old = st.strategies.value
    levers = {label: copy.deepcopy(old.get(label, old["A"])) for label in RUN_LABELS[:n]}
    settings = {label: dict(st.settings.value.get(label, st.settings.value.get("A", {}))) for label in levers}
    build(st, st.market.value, levers, settings)


def apply_preset(st: State, name: str) -> None:
    """A lesson preset: its scenario at its own size, its strategies and settings, from week 0."""
    preset = story.PRESETS[name]
    new_market = Market(preset.scenario, None, st.market.value.seed)
    base = default_levers(compose(new_market))
    levers = {}
    for label, focal in preset.levers.items():
        levers[label] = copy.deepcopy(base)
        levers[label]["firm"].update(focal)
    build(st, new_market, levers, preset.settings)


def set_lever(st: State, labels: list[str], key: str, lever: str, value: float) -> None:
    """Move a slider: remembered for the next reset, and applied live to the running models."""
    new = copy.deepcopy(st.strategies.value)
    for label in labels:
        new[label][key][lever] = value
    st.strategies.set(new)
    if st.session.value is not None:
        st.session.value.set_lever(labels, key, lever, value)
        st.frame.set(st.session.value.frame())  # the change shows in the log at once
    st.keep()


def set_setting(st: State, label: str, key: str, value: str | None) -> None:
    """Change a setting of one strategy (None: the scenario's own); settings apply from week 0."""
    new = copy.deepcopy(st.settings.value)
    if value is None:
        new[label].pop(key, None)
    else:
        new[label][key] = value
    build(st, st.market.value, st.strategies.value, new)


def advance(st: State, weeks: int) -> None:
    """Step the running session and show the new frame (unless a reset replaced it meanwhile)."""
    running = st.session.value
    if running is None:
        return
    running.step(weeks)
    if st.session.value is running:
        st.frame.set(running.frame())
        st.keep()


def play(st: State) -> None:
    """The play loop, run in a thread while `playing` is on: keeps to `rate` weeks per second.

    Each update steps as many weeks as the time since the last one allows at that rate (at least
    one), so the charts update as often as the browser keeps up and the pace holds.
    """
    if not st.playing.value:
        return  # paused: the loop that was playing finishes its week and says so
    st.loops += 1
    loop = st.loops  # a newer loop (Play clicked again) stops this one
    st.looping.set(True)
    start, begun = time.perf_counter(), st.session.value.week if st.session.value else 0
    while st.playing.value and loop == st.loops and st.session.value is not None and not st.session.value.done:
        due = begun + int((time.perf_counter() - start) * st.rate.value) + 1
        advance(st, max(1, due - st.session.value.week))
        elapsed = time.perf_counter() - start
        if elapsed > 0:
            st.measured.set((st.session.value.week - begun) / elapsed)
        time.sleep(max(PAUSE, (due - begun) / st.rate.value - (time.perf_counter() - start)))
    if loop == st.loops:
        st.playing.set(False)
        st.looping.set(False)  # the button shows Play only now: every week stepped is on the page


@solara.component
def Chart(option: dict, name: str) -> None:
    """An ECharts chart; the browser redraws it when the option changes."""
    solara.FigureEcharts(option=option, responsive=True, attributes={"class": f"chart chart-{name}"})


@solara.component
def LeverSlider(label: str, value: float, lever: str, on_value: Callable[[float], None]) -> None:
    """A lever's slider, its value in the label (readable from the back of a classroom), help on hover."""
    lo, hi = LEVER_RANGES[lever]
    with solara.Tooltip(LEVER_HELP[lever]):
        with solara.Div(classes=["lever", f"lever-{label.lower().replace(' ', '-')}-{lever}"]):
            solara.SliderFloat(f"{LEVER_LABELS[lever]}: {value:.2f}", value=value, min=min(lo, value),
                               max=max(hi, value), step=0.05, on_value=on_value, thumb_label=False)


@solara.component
def SettingsPanel(st: State, label: str, cfg: SimConfig) -> None:
    """Settings of one strategy fixed at a reset: the incident, the price-driven share, competitors' pricing."""
    chosen = st.settings.value.get(label, {})
    if cfg.firm.incident_week is not None:
        on = chosen.get("firm.incident_failure_rate") != "0"
        solara.Switch(label=f"Incident in week {cfg.firm.incident_week + 1}", value=on,
                      on_value=lambda v: set_setting(st, label, "firm.incident_failure_rate", None if v else "0"),
                      classes=[f"incident-{label}"])
    share = float(chosen.get("market.price_driven_share", cfg.market.price_driven_share))
    with solara.Tooltip("Share of customers who choose mostly on price"):
        solara.SliderFloat(f"Price-driven customers: {share:.0%}", value=share, min=0, max=1, step=0.05,
                           on_value=lambda v: set_setting(st, label, "market.price_driven_share", f"{v:.2f}"),
                           thumb_label=False)
    for key in cfg.competitors:
        setting = f"competitors.{key}.pricing"
        solara.Select(f"{cfg.competitors[key].name}'s pricing", values=list(PRICING_POLICIES),
                      value=chosen.get(setting, cfg.competitors[key].pricing),
                      on_value=lambda v, setting=setting: set_setting(st, label, setting, v))


@solara.component
def Controls(st: State) -> None:
    """The sidebar: lessons, market, run buttons, each strategy's levers and settings, the competitors."""
    m, running = st.market.value, st.session.value
    with solara.Card("Lesson", margin=0):
        solara.Select("Start a lesson", values=[""] + list(story.PRESETS), value="",
                      on_value=lambda v: apply_preset(st, v) if v else None, classes=["preset"])
        solara.Text(" · ".join(f"{k}: {p.title}" for k, p in story.PRESETS.items()), classes=["subtle"])
    with solara.Card("Market", margin=0):
        solara.Select("Scenario", values=scenarios(), value=m.scenario,
                      on_value=lambda v: pick_market(st, replace(m, scenario=v, customers=None)))
        solara.Select("Customers (empty: the scenario's own size)", values=MARKET_SIZES, value=m.customers,
                      on_value=lambda v: pick_market(st, replace(m, customers=v)))
        solara.InputInt("Seed", value=m.seed, on_value=lambda v: pick_market(st, replace(m, seed=max(0, v or 0))))
        solara.ToggleButtonsSingle(value=st.runs.value, values=[1, 2, 3, 4], on_value=lambda n: set_runs(st, n),
                                   classes=["runs"])
        solara.Text("strategies side by side, same seed", classes=["subtle"])
    with solara.Card("Run", margin=0):
        with solara.Row(gap="8px"):
            busy = st.playing.value or st.looping.value
            solara.Button("Pause" if busy else "Play", icon_name="mdi-pause" if busy else "mdi-play", color="#00897b",
                          on_click=lambda: st.playing.set(not st.playing.value),
                          disabled=running is None or running.done, classes=["play"])
            solara.Button("Step", icon_name="mdi-skip-next", on_click=lambda: advance(st, 1),
                          disabled=busy or running is None or running.done, classes=["step"])
            solara.Button("Reset", icon_name="mdi-restart",
                          on_click=lambda: build(st, st.market.value, st.strategies.value, st.settings.value),
                          classes=["reset"])
        solara.Select("Weeks per second", values=RATES, value=st.rate.value, on_value=st.rate.set, classes=["rate"])
        if st.measured.value:
            solara.Text(f"last play: {st.measured.value:.1f} weeks/s", classes=["subtle", "measured"])
    levers, firm_names = st.strategies.value, st.names.value
    cfg = next(iter(running.models.values())).cfg if running else None
    for label, chosen in levers.items():
        title = f"{firm_names.get('firm', 'Focal')}: strategy {label}" if len(levers) > 1 else \
            f"{firm_names.get('firm', 'Focal')}'s strategy"
        subtitle = f"{charts.STYLE_WORDS[label]} lines" if len(levers) > 1 else "acts live; Reset restarts"
        with solara.Card(title, subtitle=subtitle, margin=0):
            for lever in FOCAL_LEVERS:
                LeverSlider(f"focal-{label}", chosen["firm"][lever], lever,
                            lambda v, label=label, lever=lever: set_lever(st, [label], "firm", lever, v))
            if cfg is not None:
                with solara.Details("Settings (from week 0)", expand=False):
                    SettingsPanel(st, label, cfg)
    if levers:
        now = st.frame.value.runs["A"].levers if st.frame.value is not None else {}
        with solara.Card("Competitors (all strategies)", margin=0):
            for key in [k for k in levers["A"] if k != "firm"]:
                with solara.Details(firm_names.get(key, key), expand=False):
                    for lever in COMPETITOR_LEVERS:
                        LeverSlider(key.split(".")[-1], levers["A"][key][lever], lever,
                                    lambda v, key=key, lever=lever: set_lever(st, list(levers), key, lever, v))
                    if moved := adapted(levers["A"][key], now.get(key, {})):
                        solara.Text(f"Now, adapting: {moved}", classes=["adapted", f"adapted-{key.split('.')[-1]}"])


def adapted(chosen: dict[str, float], running: dict[str, float]) -> str:
    """The levers an adaptive competitor has moved away from its sliders, e.g. "price 0.81" ("" if none)."""
    return ", ".join(f"{LEVER_LABELS[lever].lower()} {value:.2f}" for lever, value in running.items()
                     if abs(value - chosen.get(lever, value)) > 1e-9)


def tile(kpi: str, f: Frame) -> str:
    """One KPI tile of the focal firm: its value, or each run's and the gap of each to A."""
    label = kpis.KPIS[kpi]
    values = {run: kpis.latest(view.weekly, f.firms[0]) for run, view in f.runs.items()}
    if not values["A"]:
        body = '<div class="kpi-value">–</div>'
    elif not f.compare:
        body = f'<div class="kpi-value">{kpis.show(kpi, values["A"][kpi], f.currency)}</div>'
    else:
        shown = "".join(f'<span class="run">{run}</span>{kpis.show(kpi, v[kpi], f.currency)}'
                        for run, v in values.items())
        gaps = []
        for run in list(values)[1:]:
            gap = kpis.difference(values["A"], values[run])[kpi]
            mood = "same" if abs(gap) < 1e-12 else "good" if gap * BETTER.get(kpi, 1) > 0 else "bad"
            gaps.append(f'<span class="{mood}">{run} − A: {kpis.show(kpi, gap, f.currency, diff=True)}</span>')
        body = f'<div class="kpi-value">{shown}</div><div class="kpi-diff">{" · ".join(gaps)}</div>'
    return f'<div class="kpi-label">{html.escape(label)}</div>{body}'


def event_list(f: Frame, run: str) -> str:
    """The latest events, newest first, as an HTML list."""
    items = []
    for e in reversed(f.runs[run].events[-EVENTS_SHOWN:]):
        when, text = e.text.split(": ", 1)
        items.append(f'<li><span class="tag tag-{e.kind}">{e.kind}</span><b>{html.escape(when)}</b>: '
                     f"{html.escape(text)}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else '<p class="subtle">Nothing unusual yet.</p>'


def markers(f: Frame) -> dict[str, list[tuple[int, str]]]:
    """Lever changes of the focal firm per run (page changes and lasting moves), for the charts' markers."""
    return {run: [(e.step + 1, e.text.split(": ", 1)[1].split(" from ")[0].removeprefix("you "))
                  for e in view.events if e.kind == "strategy" and e.firm == f.firms[0]]
            for run, view in f.runs.items()}


@solara.component
def Dashboard(st: State, f: Frame) -> None:
    """The main area: header, KPI tiles and KPI charts in one screen; verdict, network, churn, profit gap, log below."""
    m, focal = st.market.value, f.firms[0]
    situation, question = story.brief(m.scenario)
    own = "the scenario's own size" if m.customers is None else "size set by hand"
    weekly = {run: view.weekly for run, view in f.runs.items()}
    with solara.Div(classes=["fold"]):
        with solara.Row(gap="20px", style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text(f"Week {f.week} of {f.horizon}", classes=["week-counter"])
            solara.Text(f"{m.scenario} · {f.customers:,} customers ({own}) · seed {m.seed} · KPIs of {focal}"
                        + (f" ({' | '.join(f.runs)})" if f.compare else "") + f" · money in {f.currency}",
                        classes=["subtle", "header"])
            if note := small_staff(f.staff):
                solara.Text(note, classes=["subtle", "staff-note"])
        if situation:
            with solara.Details("The situation and the question", expand=False):
                solara.HTML(tag="p", unsafe_innerHTML=f"<b>Situation.</b> {html.escape(situation)}<br>"
                                                      f"<b>Question.</b> {html.escape(question)}", classes=["brief"])
        solara.ProgressLinear(100 * f.week / max(f.horizon, 1), color=charts.FIRM_COLOURS[0])
        with solara.Div(classes=["kpis", "compare"] if f.compare else ["kpis"]):
            for kpi in kpis.KPIS:
                solara.HTML(tag="div", unsafe_innerHTML=tile(kpi, f), classes=["kpi", f"kpi-{kpi}"])
        with solara.Div(classes=["main-chart"]):
            Chart(charts.timeseries(weekly, f.firms, f.horizon, f.currency, markers(f)), "timeseries")
    with solara.Row(gap="12px", style={"align-items": "center"}):
        solara.FileDownload(lambda: charts.csv(weekly).encode(), filename=f"{m.scenario}-week{f.week}.csv",
                            label="Chart data (CSV)")
        if f.compare and (text := events.verdict({run: v.table for run, v in f.runs.items()}, focal, f.currency)):
            solara.Text(text, classes=["verdict"])
    with solara.Columns([3, 2, 2] if f.compare else [3, 2]):
        with solara.Card("Word-of-mouth network", margin=0):
            Chart(charts.network(f.sample, {run: v.nodes for run, v in f.runs.items()}, f.firms), "network")
        with solara.Card("Why customers left, in their words", margin=0):
            Chart(charts.churn_reasons({run: v.table for run, v in f.runs.items()}, f.firms), "churn")
        if f.compare:
            with solara.Card(f"Profit, cumulative: each − A ({f.currency})", margin=0):
                Chart(charts.profit_gap(weekly, focal, f.horizon, f.currency), "gap")
    with solara.Card("What is happening", margin=0):
        with solara.Columns([1] * len(f.runs)):
            for run in f.runs:
                with solara.Column():
                    if f.compare:
                        solara.Text(f"Strategy {run}", style={"font-weight": "600"})
                    solara.HTML(tag="div", unsafe_innerHTML=event_list(f, run), classes=["event-log", f"events-{run}"])


@solara.component
def Page() -> None:
    """The page solara serves; builds the default market on first load, or shows the session's run."""
    st = state()
    solara.Title("Empathy market: live")
    solara.Style(CSS)
    solara.use_effect(lambda: None if st.session.value is not None or st.restore() else
                      pick_market(st, st.market.value), [])
    solara.lab.use_task(lambda: play(st), dependencies=[st.playing.value], prefer_threaded=True)
    with solara.AppBarTitle():
        solara.Text("Empathy market: service strategy, live")
    with solara.Sidebar(), solara.Column(gap="10px"):
        Controls(st)
    if st.problem.value:
        solara.Error(st.problem.value, classes=["problem"])
    if st.frame.value is None:
        solara.Info("Building the market…")
    else:
        Dashboard(st, st.frame.value)
