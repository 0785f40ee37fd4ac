"""Calibration to a business's own figures recovers a parameter the figures were generated with (small and fast)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from research import calibrate, priors
from research.evaluate import on_seeds
from sim.app import load_config

TRUE_QUIT = 0.02  # weekly base quit chance the "owner's" staff turnover comes from
SET = ["run.burn_in=10", "run.steps=52", "market.customers=1500"]


def test_staff_turnover_figure_recovers_the_base_quit_chance(tmp_path):
    shop = {"name": "Shop", "currency": "EUR", "customers": {"served": 1000, "visits_per_week": 1.0, "potential": 1500},
            "sales": {"average_ticket": 8.0, "gross_margin": 0.6}, "staff": {"count": 20, "wage_per_hour": 15},
            "service": {"contacts_per_visit": 0.3, "contacts_per_staff_hour": 10}}
    profile = tmp_path / "shop.yaml"
    profile.write_text(yaml.safe_dump(shop))
    truth = load_config([f"business={profile}", *SET, f"behaviour.base_quit={TRUE_QUIT}", "run.progress=false"])
    turnover = np.mean([s["firms"]["Shop"]["employee_turnover"] for s in on_seeds([truth], [0, 1], 2)[0]])
    figures = tmp_path / "figures.yaml"
    figures.write_text(yaml.safe_dump({"staff_turnover": float(turnover)}))
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"profile": {"base": [], "parameters": {
        "customers": {"behaviour.empathy_weight": [1.4, 1.6]},
        "staff_turnover": {"behaviour.base_quit": [0.001, 0.05]}}}}))
    out = calibrate.main(["--profile", str(profile), "--targets", str(figures), "--params", str(params),
                          "--trials", "10", "--seeds", "2", "--fresh-seeds", "2", "--batch", "5", "--jobs", "2",
                          "--out", str(tmp_path / "cal"), "--set", *SET])
    overlay = yaml.safe_load((out / "fitted.yaml").read_text())
    assert overlay["extends"] == str(profile.resolve())
    assert overlay["model"]["behaviour.base_quit"] == pytest.approx(TRUE_QUIT, rel=0.35)
    assert load_config([f"business={out / 'fitted.yaml'}"]).behaviour.base_quit == overlay["model"][
        "behaviour.base_quit"]  # the overlay runs directly
    report = (out / "report.md").read_text()
    assert "to your figures" in report and "staff_turnover" in report
    narrowed = priors.load(out / "priors.yaml")  # the fit's uncertainty as the robust comparison's range
    fitted_quit = overlay["model"]["behaviour.base_quit"]
    prior = narrowed.get("behaviour.base_quit")
    assert prior.kind == "range" and prior.low * (1 - 1e-5) <= fitted_quit <= prior.high * (1 + 1e-5)  # 6 digits
    assert "calibrated" in prior.source
    assert narrowed.get("firm.empathy_cost") == priors.load().get("firm.empathy_cost")  # others keep theirs


def test_bad_figures_are_one_line_errors(tmp_path):
    bad = tmp_path / "f.yaml"
    bad.write_text("staff_turnovr: 0.7\n")
    with pytest.raises(calibrate.ConfigError, match=r"unknown key 'staff_turnovr' \(known: annual_retention"):
        calibrate.load_figures(bad)
    bad.write_text("nps: {value: high}\n")
    with pytest.raises(calibrate.ConfigError, match=r"nps.value='high' is not allowed: expected a number"):
        calibrate.load_figures(bad)
