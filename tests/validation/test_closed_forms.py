"""The model reproduces closed forms where they hold, and each check fails when its premise is broken.

Tolerances are 99% family-wise statistical bands (see research/validate.py); the seeds are fixed,
so each test is deterministic. The negative controls switch on one mechanism the closed form
leaves out and show the check then fails: the bands are tight enough to see a real deviation.
"""

from __future__ import annotations

from research import validate


def show(check):
    return f"{check.name}\n{check.comparisons.sort_values('ok').head().to_string()}"


def test_constant_churn_gives_geometric_retention_and_closed_form_cltv():
    check = validate.geometric_retention(customers=10_000, weeks=104)
    assert check.passed, show(check)


def test_extra_churn_from_choice_breaks_the_geometric_check():
    check = validate.geometric_retention(customers=10_000, weeks=104,
                                         extra=["behaviour.choice=true", "market.outside_utility=0"])
    assert not check.passed


def test_adoption_on_a_complete_graph_follows_the_bass_model():
    check = validate.bass_diffusion(customers=1_000, weeks=25, replicates=1_000)
    assert check.passed, show(check)


def test_fewer_talkers_than_assumed_break_the_bass_check():
    check = validate.bass_diffusion(customers=1_000, weeks=25, replicates=1_000, extra=["wom.talk_rate=0.7"])
    assert not check.passed


def test_market_shares_are_the_logit_shares_of_the_population():
    check = validate.logit_shares(customers=5_000, weeks=6)
    assert check.passed, show(check)


def test_loyalty_breaks_the_logit_check():
    check = validate.logit_shares(customers=5_000, weeks=6, extra=["behaviour.switching_cost=0.3"])
    assert not check.passed


def test_cli_writes_a_report(tmp_path):
    out = validate.main(["--checks", "logit", "--out", str(tmp_path)])
    assert "Multinomial logit market shares: pass" in (out / "report.md").read_text()
    assert (out / "validation.png").stat().st_size > 0 and (out / "comparisons.csv").stat().st_size > 0
