"""Business profiles: templates read back, a profile maps to one config, money per visit is the owner's ticket.

Also the command line around them: one-line errors for bad fields (nothing written), the derived
table, the currency and period on every money column, and sweep folders for long overrides.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from research.space import value_at
from sim.app import load_config, run_dir_name
from sim.model import EmpathyMarket
from sim.profile import derive, fields, template

ROOT = Path(__file__).resolve().parent.parent
SHOP = {"name": "Shop", "currency": "USD", "customers": {"served": 300, "visits_per_week": 2.5, "potential": 300},
        "sales": {"average_ticket": 5.5, "cost_of_goods": 0.3},
        "staff": {"count": 3, "wage_per_hour": 16, "hours_per_week": 35},
        "service": {"contacts_per_visit": 0.3, "contacts_per_staff_hour": 8},
        "costs": {"rent_per_month": 3500}}


def write(tmp_path: Path, data: dict, name: str = "shop.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("industry", template.industries())
def test_every_industry_template_reads_back_as_its_example_and_cites_a_source_per_range(tmp_path, industry):
    path = tmp_path / "my.yaml"
    path.write_text(template.text(industry))
    data = template.load(industry)
    assert derive.derive(fields.read(path)).values == derive.derive(fields.build(data["example"], "x")).values
    assert data["ranges"] and all(len(r) == 3 and r[0] <= r[1] and r[2] for r in data["ranges"].values())
    for key in data["ranges"]:  # every range belongs to a real field
        section, name = key.split(".")
        assert name in fields.SECTIONS[section].__dataclass_fields__


def test_a_profile_round_trips_to_the_derived_config(tmp_path):
    profile = {**SHOP, "customers": {**SHOP["customers"], "potential": 2000},
               "competitors": [{"name": "Big Chain", "price": 4.95, "customers": 900, "pricing": "promotions"}]}
    path = write(tmp_path, profile)
    d = derive.derive(fields.read(path))
    assert d.values == derive.derive(fields.read(path)).values  # deterministic
    cfg = load_config([f"business={path}", "run.progress=false"])
    for key, value in d.values.items():
        assert value_at(cfg, key) == value, key
    assert list(cfg.competitors) == ["big_chain"]  # the profile's rivals replace the default competitors
    reference = (300 * 5.5 + 900 * 4.95) / 1200
    assert cfg.market.basket == pytest.approx(reference)
    assert cfg.firm.price * cfg.market.basket == pytest.approx(5.5)  # your ticket, in currency
    assert cfg.competitors["big_chain"].price * cfg.market.basket == pytest.approx(4.95)
    assert cfg.firm.unit_cost * cfg.market.basket == pytest.approx(0.3 * 5.5)
    assert (cfg.firm.wage, cfg.firm.capacity, cfg.firm.staff) == (16 * 35, 8 * 35, 3)
    assert cfg.firm.fixed_cost == pytest.approx(3500 * 12 / 52)
    assert (cfg.market.customers, cfg.market.initial_adoption) == (2000, pytest.approx(1200 / 2000))
    assert cfg.market.currency == "USD" and cfg.run.steps == 104
    # the user's own overrides win over the profile
    assert load_config([f"business={path}", "firm.empathy=0.9", "market.customers=5000"]).market.customers == 5000


def test_an_overlay_extends_a_profile_and_sets_model_keys(tmp_path):
    base = write(tmp_path, SHOP)
    top = write(tmp_path, {"extends": base.name, "model": {"behaviour.base_quit": 0.02},
                           "customers": {"visits_per_week": 1.5}}, "fitted.yaml")
    cfg = load_config([f"business={top}"])
    assert cfg.behaviour.base_quit == 0.02 and cfg.market.visit_rate == 1.5 and cfg.firm.wage == 16 * 35


def test_visits_per_week_above_one_give_ticket_times_visits_exactly():
    """A micro-market with no churn and no rivals: every week's revenue is visits x basket x price, visits x ticket."""
    cfg = load_config(["business=" + str(ROOT / "tests" / "data" / "profile_micro.yaml"), "behaviour.choice=false",
                       "market.base_churn=0", "run.burn_in=0", "run.steps=6", "run.progress=false"])
    model = EmpathyMarket(cfg)
    visits = []
    for _ in range(cfg.run.steps):
        model.step()
        visits.append(int(model.purchases.sum()))
    t = model.recorder.table()
    assert t["customers"].tolist() == [300] * 6  # nobody leaves
    assert t["visits"].tolist() == visits  # the model's own visit counts
    assert np.array_equal(t["revenue"].to_numpy(), t["visits"].to_numpy() * cfg.market.basket * cfg.firm.price)
    assert t["revenue"].to_numpy() == pytest.approx(np.array(visits) * 5.5)
    assert sum(visits) / (300 * 6) == pytest.approx(2.5, abs=0.15)  # Poisson mean 2.5; sd of this mean 0.03


@pytest.mark.parametrize(("change", "message"), [
    ({"sales": {"average_ticket": -2, "cost_of_goods": 0.3}},
     "shop.yaml: sales.average_ticket=-2.0 is out of range: allowed 0.01 <= sales.average_ticket <= 1e+06"),
    ({"sales": {"average_ticket": 5.5}}, "shop.yaml: sales: give exactly one of cost_of_goods or gross_margin"),
    ({"customers": {"served": 300, "visits": 2}}, "shop.yaml: customers.visits: unknown field (known: served, "),
    ({"currency": "ZZZ"}, "shop.yaml: currency='ZZZ' is not allowed: choose one of EUR, USD"),
    ({"competitors": [{"name": "X", "price": 4}]}, "shop.yaml: competitors[0].customers: required"),
    ({"competitors": [{"name": "X", "price": 40, "customers": 10}], "customers": {"served": 300, "potential": 900}},
     "shop.yaml: competitors[X].price / basket gives competitors.x.price=6.04"),
    ({"model": {"behaviour.nope": 1}}, "shop.yaml: model: behaviour.nope: unknown key 'nope' in behaviour"),
    ({"customers": {"served": 300, "potential": 100}},
     "shop.yaml: customers.potential=100 is not allowed: must be >= "),
])
def test_a_bad_field_is_one_line_exit_2_and_nothing_written(tmp_path, change, message):
    path = write(tmp_path, {**SHOP, **change})
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "sim", f"business={path}", f"hydra.run.dir={out}"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert not out.exists() and not (tmp_path / "outputs").exists()


def test_a_profile_run_prints_the_derivation_and_money_with_currency_and_period(tmp_path):
    path = write(tmp_path, SHOP)
    out = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "sim", f"business={path}", "run.steps=60", "run.burn_in=4",
                           "run.progress=false", f"hydra.run.dir={out}"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "sales.average_ticket / basket" in done.stdout and "-> firm.price" in done.stdout
    assert "revenue (USD, 60 weeks)" in done.stdout and "profit (USD, 60 weeks)" in done.stdout
    assert "revenue (USD/year)" in done.stdout and "year 2 (8 weeks)" in done.stdout
    assert "staff turnover (/year)" in done.stdout
    assert "+business=shop" in (out / "overrides.txt").read_text()
    assert yaml.safe_load((out / "business.yaml").read_text())["firm"]["wage"] == 16 * 35


def test_init_writes_a_template_and_refuses_an_unknown_industry():
    done = subprocess.run([sys.executable, "-m", "sim.profile", "init", "--industry", "bakery"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "typical" in done.stdout and "stylized facts" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "sim.profile", "init", "--industry", "zoo"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--industry=zoo is not known" in bad.stderr


def test_sweep_folder_names_stay_short_valid_and_unique_for_long_values():
    long = ["firm.name=" + "x" * 5000, "market.customers=1000", "seed=1"]
    name = run_dir_name("firm.name=" + "x" * 5000 + ",seed=1", long)
    assert len(name.encode()) < 100 and "/" not in name and name.startswith("firm.name=xxx")
    assert name != run_dir_name("firm.name=" + "x" * 5000 + ",seed=1", [*long[:2], "seed=2"])
    assert run_dir_name("a/b=../c", ["a/b=../c"]).count("/") == 0
    assert run_dir_name("", ["seed=1", "run.progress=false"]) == run_dir_name("", ["seed=1"])  # progress: same run
