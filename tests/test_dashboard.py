"""The dashboard without a browser: event log on hand-made tables, KPIs, sessions, network sample, charts."""

from __future__ import annotations

import json
import re
import socket

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from dashboard import __main__ as cli
from dashboard import app, assets, charts, events, export, kpis, network_view, story
from dashboard.session import Market, Session, compose, default_levers, firm_keys, scenarios, set_lever
from sim import survey
from sim.app import CONFIG_DIR
from sim.config import ConfigError
from sim.customers import CHURN_REASONS
from sim.model import EmpathyMarket, Week
from sim.results import simulate

SMALL = Market(customers=1000, seed=3)


# --- hand-made tables -------------------------------------------------------------------------


def steady_table(weeks: int = 30, firms: tuple[str, ...] = ("Focal", "Rival")) -> pd.DataFrame:
    """A calm market: every firm keeps 500 customers and loses 5 a week (2 indifference, 2 price, 1 other)."""
    rows = []
    for step in range(weeks):
        for name in firms:
            row = {"step": step, "firm": name, "customers": 500, "market_share": 1 / len(firms), "churned": 5,
                   "retention_rate": 0.99, "price": 1.0, "empathy": 0.5, "automation": 0.2,
                   "bot_frustrations": 10, "service_failures": 5, "felt_empathy": 0.6, "referrals_sent": 20,
                   "engagement": 0.7, "burnout": 0.05, "utilisation": 0.8, "quits": 0, "employees": 10, "vacancies": 0,
                   "service_recoveries": 3,
                   "acquisitions_advertising": 3, "acquisitions_referral": 1, "acquisitions_switching": 1,
                   "gross_margin": 2500.0, "profit": 100.0, "nps": 10.0}
            row.update({f"churn_{r}": 0 for r in CHURN_REASONS})
            row.update(churn_indifference=2, churn_price=2, churn_other=1)
            rows.append(row)
    return pd.DataFrame(rows)


def put(table: pd.DataFrame, firm: str, steps, **values) -> None:
    """Overwrite some cells of one firm in the given steps."""
    mask = (table.firm == firm) & table.step.isin(list(steps))
    for column, value in values.items():
        table.loc[mask, column] = value


def churn_week(table: pd.DataFrame, firm: str, step: int, churned: int, reason: str) -> None:
    """A week where `churned` customers leave, most of them (70%) for `reason`."""
    main = int(0.7 * churned)
    put(table, firm, [step], churned=churned, retention_rate=1 - churned / 500,
        **{f"churn_{r}": 0 for r in CHURN_REASONS})
    put(table, firm, [step], **{f"churn_{reason}": main, "churn_other": churned - main})


# --- event log ----------------------------------------------------------------------------------


def test_a_calm_market_has_no_events():
    assert events.explain(steady_table()) == []


def test_churn_spike_is_reported_with_its_main_reason_and_what_led_up_to_it():
    t = steady_table()
    put(t, "Focal", range(15, 30), automation=0.6)
    put(t, "Focal", range(16, 20), bot_frustrations=40)
    churn_week(t, "Focal", 20, churned=20, reason="bot_frustration")
    spikes = events.churn_spikes(t)
    assert [(e.step, e.firm) for e in spikes] == [(20, "Focal")]
    text = spikes[0].text
    assert text.startswith("Week 21: churn at Focal jumped to 4.0% (4.0x its average); most who left did so because "
                           "they were fed up with the bot (70%)")
    assert "bot frustrations rose from 10 to 40 a week" in text
    assert "after Focal raised automation from 0.20 to 0.60 in week 16" in text


def test_a_driver_that_moved_the_other_way_is_not_offered_as_the_cause():
    t = steady_table()
    put(t, "Focal", range(16, 20), bot_frustrations=2)
    churn_week(t, "Focal", 20, churned=20, reason="bot_frustration")
    (spike,) = events.churn_spikes(t)
    assert "bot frustrations" not in spike.text and "after" not in spike.text


def test_a_tiny_strategy_change_is_not_blamed_for_a_spike():
    t = steady_table()
    put(t, "Focal", range(17, 30), automation=0.22)
    churn_week(t, "Focal", 20, churned=20, reason="indifference")
    (spike,) = events.churn_spikes(t)
    assert "because they felt uncared for (70%)" in spike.text and "after" not in spike.text


def test_price_churn_names_the_cheapest_rival():
    t = steady_table()
    put(t, "Rival", [20], price=0.7)
    churn_week(t, "Focal", 20, churned=20, reason="price")
    (spike,) = events.churn_spikes(t)
    assert "because it was too dear for them (70%); it charged 1.00 against 0.70 at Rival" in spike.text


def test_a_run_of_high_churn_weeks_is_reported_once_at_its_onset():
    t = steady_table()
    for step in (20, 21, 22):
        churn_week(t, "Focal", step, churned=25, reason="poor_service")
    assert [e.step for e in events.churn_spikes(t)] == [20]


@pytest.mark.parametrize("churned", [9, 11])
def test_noise_is_not_a_spike(churned):
    t = steady_table()
    churn_week(t, "Focal", 20, churned=churned, reason="price")  # 1.8x, and 2.2x but within 3 sd of Poisson
    assert events.churn_spikes(t) == []


def test_a_small_firm_losing_a_handful_is_not_a_spike():
    t = steady_table()
    put(t, "Focal", range(30), customers=50, churned=1, retention_rate=0.98)
    put(t, "Focal", [20], churned=4, retention_rate=0.92)
    assert events.churn_spikes(t) == []


def test_share_shift_is_told_once_per_four_points_with_the_flows_behind_it():
    t = steady_table()
    put(t, "Focal", range(10, 30), market_share=0.52)  # +2 points: not yet
    put(t, "Focal", range(20, 30), market_share=0.55)  # +5 points since week 1
    shifts = [e for e in events.share_shifts(t) if e.firm == "Focal"]
    assert [e.step for e in shifts] == [20]
    assert "Focal's market share rose to 55.0% (+5.0 points since week 1): 100 customers won (20 by referral), " \
           "100 lost." in shifts[0].text


def test_burnout_and_a_burst_of_quits_are_reported():
    t = steady_table()
    put(t, "Focal", range(10, 20), burnout=0.4, utilisation=1.3)
    put(t, "Focal", [11], quits=1)  # one quit is no burst
    put(t, "Focal", [13], quits=2)
    found = events.workforce_alerts(t)
    assert [e.step for e in found] == [10, 13, 20]
    assert found[0].text == ("Week 11: burnout at Focal reached 0.40, with staff at 130% of capacity "
                             "and engagement 0.70.")
    assert found[1].text.startswith("Week 14: 3 of Focal's 13 employees quit in the last 4 weeks")
    assert found[2].text == "Week 21: burnout at Focal eased to 0.05."


def test_promotions_are_not_price_changes_but_a_lasting_change_is():
    t = steady_table()
    put(t, "Rival", [5, 6, 18, 19], price=0.8)  # two-week promotions
    put(t, "Rival", range(25, 30), price=1.2)
    put(t, "Focal", range(12, 30), empathy=0.8)
    found = [(e.step, e.text) for e in events.lever_changes(t)]
    assert found == [(12, "Week 13: Focal raised empathy from 0.50 to 0.80."),
                     (25, "Week 26: Rival raised its price from 1.00 to 1.20.")]


def test_adaptation_notes_replace_the_bare_change_they_explain():
    t = steady_table()
    put(t, "Rival", range(13, 30), automation=0.5)
    notes = ["week 13: Rival moved automation to 0.50, imitating Focal"]
    told = events.explain(t, notes)
    assert [(e.step, e.firm, e.kind) for e in told] == [(13, "Rival", "adaptation")]
    assert told[0].text == "Week 14: Rival moved automation to 0.50, imitating Focal."


# --- KPIs ------------------------------------------------------------------------------------


def test_weekly_kpis_annualise_retention_and_predict_cltv():
    weekly = kpis.weekly(steady_table(weeks=10), discount=0.002)
    last = kpis.latest(weekly, "Focal")
    r, m = 0.99, 2500 / 500
    assert last["retention"] == pytest.approx(r**52)
    assert last["cltv"] == pytest.approx(m * r / (1 + 0.002 - r))
    assert last["profit_to_date"] == pytest.approx(1000)
    assert kpis.difference(last, {**last, "nps": 25.0})["nps"] == pytest.approx(15)
    assert kpis.show("market_share", 0.246, "EUR") == "24.6%" and kpis.show("nps", -3, "EUR", diff=True) == "-3"


def test_money_is_written_with_its_currencys_symbol_or_code_sign_first():
    assert kpis.show("profit_to_date", 1234.4, "EUR") == "€1,234" and kpis.show("cltv", -56.6, "GBP") == "-£57"
    assert kpis.show("profit_to_date", 7, "CHF", diff=True) == "+CHF 7" and kpis.money(-0.3, "USD") == "$0"
    assert kpis.money(5e6, "JPY") == "¥5,000,000" and kpis.money(-12, "SEK", signed=True) == "-SEK 12"


def test_kpis_of_an_empty_table_are_empty():
    assert kpis.latest(kpis.weekly(pd.DataFrame(columns=["step", "firm"]), 0.002), "Focal") == {}


# --- sessions --------------------------------------------------------------------------------


def test_scenario_picker_lists_the_config_tree():
    names = scenarios()
    assert names[0] == "default"
    assert names[1:] == sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))


def test_every_scenario_composes_with_its_own_levers():
    for name in scenarios():
        cfg = compose(Market(scenario=name, customers=1000))
        levers = default_levers(cfg)
        assert list(levers) == list(firm_keys(cfg))
        assert set(levers["firm"]) == {"empathy", "automation", "bot_handover", "price"}
        assert compose(Market(scenario=name, customers=1000), levers).firm.empathy == levers["firm"]["empathy"]


def test_a_session_reproduces_the_batch_run():
    levers = default_levers(compose(SMALL))
    session = Session(SMALL, {"A": levers})
    session.step(12)
    cfg = compose(SMALL, levers)
    cfg.run.steps = 12
    pd.testing.assert_frame_equal(session.frame().runs["A"].table, simulate(cfg).table)


def test_side_by_side_runs_share_customers_and_graph_so_only_the_strategy_differs():
    levers = default_levers(compose(SMALL))
    twin = Session(SMALL, {"A": levers, "B": levers})
    twin.step(8)
    same = twin.frame().runs
    pd.testing.assert_frame_equal(same["A"].table, same["B"].table)

    other = {**levers, "firm": {**levers["firm"], "automation": 0.9}}
    pair = Session(SMALL, {"A": levers, "B": other})
    a, b = pair.models["A"], pair.models["B"]
    assert np.array_equal(a.graph.indices, b.graph.indices) and np.array_equal(a.customers.need, b.customers.need)
    pair.step(8)
    runs = pair.frame().runs
    focal_a = runs["A"].table.query("firm == 'Focal'")
    focal_b = runs["B"].table.query("firm == 'Focal'")
    def bot_share(t):
        return t["bot_contacts"].sum() / t["contacts"].sum()

    assert bot_share(focal_b) > 2 * bot_share(focal_a)
    gap = kpis.difference(kpis.latest(runs["A"].weekly, "Focal"), kpis.latest(runs["B"].weekly, "Focal"))
    assert gap["customers"] != 0


def test_a_lever_moved_live_acts_from_the_next_week():
    levers = default_levers(compose(SMALL))
    moved, kept = Session(SMALL, {"A": levers}), Session(SMALL, {"A": levers})
    moved.step(5)
    kept.step(5)
    moved.set_lever(["A"], "firm", "automation", 0.9)
    moved.set_lever(["A"], "competitors.big_box", "price", 1.3)
    moved.step(1)
    kept.step(1)
    now, before = moved.frame().runs["A"].table, kept.frame().runs["A"].table
    week5 = now.query("step == 5").set_index("firm")
    assert week5.loc["Focal", "automation"] == 0.9 and week5.loc["BigBox", "price"] == 1.3
    assert now.query("step < 5").equals(before.query("step < 5"))
    focal_bot = {name: t.query("step == 5 and firm == 'Focal'")["bot_contacts"].item()
                 for name, t in (("moved", now), ("kept", before))}
    assert focal_bot["moved"] > 2 * focal_bot["kept"]


def test_competitors_adapting_their_own_levers_are_shown_beside_the_sliders():
    levers = default_levers(compose(SMALL))
    session = Session(SMALL, {"A": levers})
    session.step(52)
    running = session.frame().runs["A"].levers
    notes = {key: app.adapted(levers[key], running[key]) for key in levers if key != "firm"}
    assert any(notes.values()), "no default competitor adapted within a year"
    assert all((notes[key] == "") == (running[key] == levers[key]) for key in notes)  # a note only for a change
    assert running["firm"] == levers["firm"]  # the focal firm moves only when the user does


def test_a_lever_outside_its_range_is_refused_with_its_key():
    model = EmpathyMarket(compose(SMALL))
    with pytest.raises(ConfigError, match=r"firm.automation=1.5 is out of range"):
        set_lever(model, "firm", "automation", 1.5)


def test_stepping_stops_at_the_horizon():
    session = Session(Market(customers=500), {"A": default_levers(compose(Market(customers=500)))})
    session.step(session.horizon + 10)
    assert session.week == session.horizon and session.done


# --- network view ----------------------------------------------------------------------------


def test_network_sample_is_fixed_made_of_real_ties_and_laid_out_once():
    model = EmpathyMarket(compose(SMALL))
    s = network_view.sample(model.graph, 300, seed=3)
    again = network_view.sample(model.graph, 300, seed=3)
    assert len(s.nodes) == 300 == len(set(s.nodes.tolist()))
    assert np.array_equal(s.nodes, again.nodes) and np.allclose(s.pos, again.pos)
    ties = model.graph.to_networkx()
    assert len(s.edges) > 300
    assert all(ties.has_edge(int(s.nodes[i]), int(s.nodes[j])) for i, j in s.edges)
    tiny = EmpathyMarket(compose(Market(customers=60)))
    assert sorted(network_view.sample(tiny.graph, 300, seed=3).nodes.tolist()) == list(range(60))


def test_network_markers_are_the_customers_nps_answers():
    model = EmpathyMarket(compose(SMALL))
    model.run(6)
    n = model.graph.n
    everyone = network_view.Sample(nodes=np.arange(n), edges=np.empty((0, 2), dtype=int), pos=np.zeros((n, 2)))
    nodes = network_view.observe(model, everyone)
    asked = Week(model.week)
    survey.survey(model, asked)
    answers = asked.survey
    for firm in range(model.firms.n):
        mine = nodes.firm == firm
        assert np.count_nonzero(mine & (nodes.stance == network_view.PROMOTER)) == answers.promoters[firm]
        assert np.count_nonzero(mine & (nodes.stance == network_view.DETRACTOR)) == answers.detractors[firm]


def test_less_satisfied_customers_are_drawn_paler():
    nodes = network_view.Nodes(firm=np.array([0, 0, -1]), satisfaction=np.array([0.9, 0.2, 0.5]),
                               stance=np.zeros(3, dtype=int))
    shade = [[int(c[k:k + 2], 16) for k in (1, 3, 5)] for c in charts.colours(nodes)]
    assert sum(shade[1]) > sum(shade[0])  # paler = closer to white
    assert charts.colours(nodes)[2] == charts.PROSPECT_COLOUR


# --- charts ----------------------------------------------------------------------------------


def test_churn_bars_add_up_to_the_customers_lost_by_reason():
    t = steady_table(weeks=4)
    option = charts.churn_reasons({"A": t}, ["Focal", "Rival"])
    widths = np.array([s["data"] for s in option["series"]])
    assert widths.shape == (len(CHURN_REASONS), 2)
    assert widths.sum(axis=0).tolist() == [20, 20]
    assert widths[CHURN_REASONS.index("price")].tolist() == [8, 8]
    assert option["series"][CHURN_REASONS.index("price")]["name"] == "found it too dear"


def test_timeseries_draws_a_line_per_firm_and_run():
    weekly = kpis.weekly(steady_table(weeks=6), 0.002)
    option = charts.timeseries({"A": weekly, "B": weekly}, ["Focal", "Rival"], 104, "EUR",
                               {"B": [(3, "raised empathy")]})
    assert len(option["grid"]) == len(charts.PANELS) == len(option["yAxis"])
    assert len(option["series"]) == len(charts.PANELS) * 4  # a line per panel, run and firm
    share = [s for s in option["series"] if s["xAxisIndex"] == 0]
    assert [s["lineStyle"]["type"] for s in share] == ["solid", "solid", [8, 4], [8, 4]]
    assert share[0]["data"][0] == [1, 50.0]  # week 1, a share of 0.5 shown in percent
    assert "markLine" in share[2] and share[2]["markLine"]["data"] == [{"xAxis": 3, "name": "raised empathy"}]
    units = [y["axisLabel"]["formatter"] for y in option["yAxis"]]
    assert units[0] == "{value} %" and units[list(charts.PANELS).index("profit_to_date")] == "€{value}"
    assert option["xAxis"][0]["max"] == 104  # the axis holds the whole run, so lines grow without rescaling


def test_chart_data_exports_as_csv_with_run_and_week():
    weekly = kpis.weekly(steady_table(weeks=3), 0.002)
    text = charts.csv({"A": weekly, "B": weekly})
    lines = text.splitlines()
    assert lines[0].startswith("run,week,firm,customers,market_share")
    assert len(lines) == 1 + 2 * 3 * 2 and lines[1].startswith("A,1,Focal,500,0.5")


# --- the page's actions, without a browser ---------------------------------------------------


def test_page_actions_step_change_levers_and_compare_up_to_four():
    st = app.State()
    app.pick_market(st, SMALL)
    assert st.frame.value.week == 0 and list(st.frame.value.runs) == ["A"]
    app.set_lever(st, ["A"], "firm", "automation", 0.6)
    assert st.strategies.value["A"]["firm"]["automation"] == 0.6
    assert st.session.value.models["A"].firms.automation[0] == 0.6
    app.advance(st, 2)
    assert st.frame.value.week == 2
    assert "you raised automation from 0.20 to 0.60 at Focal" in st.frame.value.runs["A"].events[0].text
    app.set_runs(st, 4)
    frame = st.frame.value
    assert frame.week == 0 and list(frame.runs) == ["A", "B", "C", "D"]
    assert st.strategies.value["D"]["firm"]["automation"] == 0.6  # new runs start as a copy of A
    app.advance(st, 1)
    assert "D − A" in app.tile("nps", st.frame.value)
    app.pick_market(st, Market(scenario="coffee_shop", customers=1000))
    assert st.frame.value.firms[0] == "CoffeeShop" and st.problem.value == ""


def test_a_usd_scenario_shows_dollars_in_its_tiles_chart_axes_and_verdict():
    market, fast = Market("hardware_store", customers=500, seed=1), {"run.burn_in": "0"}
    levers = default_levers(compose(market))
    session = Session(market, {"A": levers, "B": levers}, sample_size=20, settings={"A": fast, "B": fast})
    session.set_lever(["B"], "firm", "price", 1.3)
    session.step(4)
    frame = session.frame()
    assert frame.currency == "USD"
    for kpi in kpis.MONEY:
        tile = app.tile(kpi, frame)
        assert re.search(r'run">A</span>-?\$[\d,]+<span class="run">B</span>-?\$[\d,]+<', tile), tile
        assert re.search(r"B − A: [+-]\$[\d,]+<", tile) and "€" not in tile, tile
    weekly = {run: view.weekly for run, view in frame.runs.items()}
    option = charts.timeseries(weekly, frame.firms, frame.horizon, frame.currency)
    money = [list(charts.PANELS).index(column) for column in kpis.MONEY]
    assert [option["yAxis"][i]["axisLabel"]["formatter"] for i in money] == ["${value}"] * 2
    assert [option["title"][i]["text"] for i in money] == ["CLTV per customer, $", "Profit to date, $"]
    assert charts.profit_gap(weekly, frame.firms[0], frame.horizon, frame.currency)["yAxis"]["axisLabel"][
        "formatter"] == "${value}"
    verdict = events.verdict({run: view.table for run, view in frame.runs.items()}, frame.firms[0], frame.currency)
    assert "beat strategy" in verdict and len(re.findall(r"\$[\d,]+", verdict)) >= 4 and "€" not in verdict


def test_a_setting_is_posed_as_a_b_from_week_0():
    st = app.State()
    app.pick_market(st, Market(scenario="bakery_recovery", customers=500))
    app.set_runs(st, 2)
    app.set_setting(st, "B", "firm.incident_failure_rate", "0")
    models = st.session.value.models
    assert models["A"].cfg.firm.incident_failure_rate == 0.6 and models["B"].cfg.firm.incident_failure_rate == 0
    app.set_setting(st, "B", "competitors.supermarket.pricing", "match_cheapest")
    assert st.session.value.models["B"].cfg.competitors["supermarket"].pricing == "match_cheapest"
    assert st.session.value.models["A"].cfg.competitors["supermarket"].pricing == "promotions"


def test_a_lesson_preset_sets_its_scenario_at_its_own_size_and_its_strategies():
    st = app.State()
    app.apply_preset(st, "handover")
    frame = st.frame.value
    assert st.market.value.scenario == "online_chatbots" and st.market.value.customers is None
    assert frame.customers == compose(Market("online_chatbots")).market.customers == 20_000
    assert [st.strategies.value[r]["firm"]["bot_handover"] for r in "AB"] == [0.9, 0.0]


def test_scenarios_run_at_their_own_size_and_tell_their_situation_and_question():
    for name in scenarios()[1:]:
        cfg = compose(Market(scenario=name))
        own = OmegaConf.load(CONFIG_DIR / "scenario" / f"{name}.yaml")["market"]["customers"]
        assert cfg.market.customers == own
        situation, question = story.brief(name)
        assert len(situation) > 80 and question.endswith("?"), name
    assert story.brief("default") == ("", "")


# --- command line and front-end files --------------------------------------------------------


def test_a_bad_port_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--port", "99999"])
    assert stop.value.code == 2
    assert "--port=99999 is not allowed: give a whole number 1..65535" in capsys.readouterr().err


def test_a_busy_port_is_one_line_and_exit_2(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as stop:
            cli.main(["--port", str(port)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--port={port} cannot be used" in err


def test_front_end_packages_are_read_from_solaras_page_template(tmp_path):
    specs = assets.packages()
    assert any(s.startswith("requirejs@") for s in specs)
    assert any("solara-vuetify" in s for s in specs)
    (tmp_path / specs[0]).mkdir(parents=True)
    (tmp_path / specs[0] / "package.json").write_text("{}")
    assert assets.missing(tmp_path, specs) == specs[1:]


def test_without_npm_the_page_falls_back_to_the_cdn_with_a_one_line_notice(tmp_path, monkeypatch):
    monkeypatch.setattr(assets, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(assets.shutil, "which", lambda _: None)
    notice = assets.ensure({})
    assert notice.startswith("npm (Node.js) not found, so ") and "\n" not in notice
    for spec in assets.packages():
        (tmp_path / spec).mkdir(parents=True)
        (tmp_path / spec / "package.json").write_text("{}")
    assert assets.ensure({}) is None


def test_a_slider_dragged_within_a_week_is_told_as_one_change():
    session = Session(SMALL, {"A": default_levers(compose(SMALL))})
    for value in (0.25, 0.3, 0.35, 0.4):
        session.set_lever(["A"], "firm", "automation", value)
    session.set_lever(["A"], "firm", "bot_handover", 0.0)
    session.step(1)
    told = [e.text for e in session.frame().runs["A"].events if e.kind == "strategy"]
    assert told == ["Week 1: you raised automation from 0.20 to 0.40 at Focal.",
                    "Week 1: you cut bot hand-over from 0.50 to 0.00 at Focal."]


# --- the exported lesson page ------------------------------------------------------------------

TINY = {"market.customers": "400", "run.steps": "30", "run.burn_in": "4"}  # reaches the bakery's incident (week 26)


def test_each_lessons_strategies_are_points_of_its_grid():
    for name, preset in story.PRESETS.items():
        assert len(export.points(preset)) == np.prod([len(axis.choices) for axis in preset.grid]) <= 15, name
        for label in "AB":
            made = {f"firm.{k}": repr(float(v)) for k, v in preset.levers[label].items()}
            made |= preset.settings.get(label, {})
            assert export.settings_of(preset, preset.start[label]) == made, (name, label)


def test_an_exported_lesson_holds_every_run_and_every_ordered_verdict_and_its_charts_draw_its_data():
    data = export.build("incident", seeds=1, n_jobs=1, extra=TINY)
    assert len(data["runs"]) == 10 and len(data["verdicts"]) == 10 * 9
    assert data["horizon"] == 30 and data["customers"] == 400 and data["firms"] == ["Bakery", "Supermarket"]
    a, b = data["runs"]["0:0-0"], data["runs"]["0:4-0"]  # the preset's A (empathy 0.1) and B (0.9), incident on
    for series in data["charts"]["timeseries"]["series"]:  # the page refills these from the runs' data
        column, label, firm = series["id"].split("|")
        assert [v for _, v in series["data"]] == {"A": a, "B": b}[label]["kpi"][column][int(firm)]
    assert len(a["kpi"]["profit_to_date"][0]) == 30
    kinds = {k: {kind for kind, _, _ in data["runs"][k]["events"]} for k in ("0:0-0", "0:0-1")}
    assert "incident" in kinds["0:0-0"] and "incident" not in kinds["0:0-1"]  # on / off
    forward, back = data["verdicts"]["0:0-0|0:4-0"], data["verdicts"]["0:4-0|0:0-0"]
    winner = "B" if "strategy B beat strategy A" in forward else "A"
    assert f"strategy {'A' if winner == 'B' else 'B'} beat strategy {winner}" in back
    lost = sum(sum(a["churn"][r]) for r in data["reasons"])
    assert lost > 0 and len(a["tiles"]) == len(kpis.KPIS)
    assert data["currency"] == compose(Market("bakery_recovery")).market.currency == "EUR"  # the lesson's scenario
    assert "€" in a["tiles"][list(kpis.KPIS).index("profit_to_date")] and forward.count("€") >= 3
    page = export.page(data | {"title": "<i>"}, "/*echarts*/")
    assert page.count("</script>") == 3 and "<title>Empathy market: &lt;i&gt;</title>" in page
    assert json.loads(page.split('id="data">')[1].split("</script>")[0])["verdicts"][
        "0:0-0|0:4-0"] == forward


def test_the_profit_gap_is_cumulative_b_minus_a_with_its_payback_week_marked():
    weekly = {label: pd.DataFrame({"step": range(6), "firm": "Focal", "profit_to_date": profit})
              for label, profit in (("A", [0, 10, 20, 30, 40, 50]), ("B", [0, 5, 15, 31, 45, 60]))}
    option = charts.profit_gap(weekly, "Focal", 6, "GBP")
    assert option["yAxis"]["axisLabel"]["formatter"] == "£{value}"
    line = option["series"][0]
    assert [v for _, v in line["data"]] == [0, -5, -5, 1, 5, 10]
    assert line["markPoint"]["data"] == [{"name": "B pays back: week 4", "coord": [4, 1]}]
    assert charts.payback([0, -3, 0, -1]) is None


@pytest.mark.parametrize("args, message", [
    (["--preset", "nope", "--out", "x.html"], "argument --preset: invalid choice: 'nope'"),
    (["--preset", "incident", "--out", "missing/x.html"], "--out=missing/x.html: the folder missing does not exist"),
    (["--preset", "incident", "--out", "."], "--out=. is a folder: give a file name"),
    (["--preset", "incident", "--out", "x.html", "--seeds", "0"], "--seeds=0 is not allowed: give a whole"),
    (["--preset", "incident", "--out", "x.html", "--weeks", "-3"], "--weeks=-3 is not allowed"),
    (["--preset", "incident"], "the following arguments are required: --out"),
])
def test_a_bad_export_is_one_line_exit_2_and_writes_nothing(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        cli.main(["export", *args])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1 and message in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_lever_changed_live_shows_its_cumulative_cash_difference_from_that_week():
    session = Session(SMALL, {label: default_levers(compose(SMALL)) for label in "AB"})
    session.step(5)
    session.set_lever(["B"], "firm", "empathy", 0.95)
    session.step(15)
    frame = session.frame()
    weekly = {label: view.weekly for label, view in frame.runs.items()}
    gap = [v for _, v in charts.profit_gap(weekly, "Focal", frame.horizon, frame.currency)["series"][0]["data"]]
    assert gap[:5] == [0] * 5 and any(v != 0 for v in gap[5:])  # the same market until the change in week 6
    mark = charts.profit_gap(weekly, "Focal", frame.horizon, frame.currency)["series"][0].get("markPoint")
    week = charts.payback(gap)
    assert (mark is None) == (week is None) and (week is None or week > 5)
