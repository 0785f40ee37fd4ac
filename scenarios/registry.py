"""The scenarios and the sweeps that answer their questions: the one place a sweep is written down.

A scenario is a Hydra preset (`configs/scenario/<name>.yaml`: the business situation) plus a
narrative (`scenarios/<name>.md`: situation, question, results). Its sweep is the list of Hydra
sweep overrides over the focal business's strategy (and, where the question asks, the market);
seeds are added by `python -m scenarios`, which runs the sweep and writes its results into the
narrative.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PRESETS = HERE.parent / "configs" / "scenario"


KPIS = ("customers", "retention_rate", "nps", "profit")  # what every question is answered in


@dataclass(frozen=True)
class Scenario:
    """A ready business situation, the sweep that answers its question, and the choice the question is about."""

    name: str
    sweep: tuple[str, ...]  # Hydra sweep overrides, e.g. "firm.empathy=0.1,0.5,0.9"
    choice: str  # the swept key whose effect answers the question (paired by seed, per setting of the others)
    kpis: tuple[str, ...] = KPIS  # summary.json KPIs the effect is shown in ("churn_by_reason.price" for nested)

    @property
    def preset(self) -> Path:
        return PRESETS / f"{self.name}.yaml"

    @property
    def narrative(self) -> Path:
        return HERE / f"{self.name}.md"


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("coffee_shop", ("firm.empathy=0.1,0.3,0.5,0.7,0.9", "firm.price=1.0,1.2"), "firm.empathy"),
        Scenario("hardware_store", ("firm.empathy=0.2,0.5,0.8", "firm.price=1.0,1.2,1.4,1.6,1.8,2.0"), "firm.price",
                 (*KPIS, "market_share", "churn_by_reason.price")),
        Scenario("bakery_recovery", ("firm.empathy=0.2,0.5,0.8", "firm.incident_failure_rate=0,0.6"),
                 "firm.incident_failure_rate", (*KPIS, "employee_burnout")),
        Scenario("online_chatbots", ("firm.automation=0,0.3,0.6,0.9", "firm.bot_handover=0,0.9"), "firm.automation",
                 (*KPIS, "churn_by_reason.bot_frustration")),
        Scenario("roaster_scaling", ("firm.automation=0,0.2,0.4,0.6,0.8",), "firm.automation",
                 (*KPIS, "churn_by_reason.indifference")),
        Scenario("commodity_market", ("firm.empathy=0,0.25,0.5,0.75,1", "market.price_driven_share=0.5,0.9"),
                 "firm.empathy", (*KPIS, "market_share")),
    )
}
