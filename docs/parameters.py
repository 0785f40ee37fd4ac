"""Parameter tables of docs/ODD.md, generated from the schema in sim/config.py.

Defaults are still being tuned, so the tables are written by this script, never by hand:
`python docs/parameters.py` rewrites them between the markers in ODD.md, and
`python docs/parameters.py --check` exits 1 when ODD.md is out of date. Key, default, range and
meaning come from the schema; the one thing the schema cannot know, where a value comes from,
is kept in `SOURCES` below, keyed by dotted path (competitors share the `firm.*` entries).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # document this checkout's schema, whichever `sim` is installed

from research.priors import DEFAULT as PRIORS  # noqa: E402
from research.priors import load as load_priors  # noqa: E402
from sim.app import load_config  # noqa: E402
from sim.config import BEHAVIOUR_GROUPS, FirmConfig, SimConfig, canonical_path, to_dict  # noqa: E402
from sim.results import atomic_write  # noqa: E402

ODD = ROOT / "docs" / "ODD.md"
START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"
GROUP_ORDER = ("market", "firm", *(f"behaviour.{g}" for g in BEHAVIOUR_GROUPS), "wom", "network", "adapt", "run", "")
HEADINGS = {
    "firm": "`firm.*`, and the same keys for each competitor `competitors.<name>.*`",
    "": "Top level",
}

LEVER = "lever: the user's decision"
SCENARIO = "scenario input: set it to the business at hand"
COSTS = "scenario input: illustrative shop economics, not from a source"
ASSUMPTION = "assumption, not calibrated"
CALIBRATED = ("calibrated (python -m research.calibrate, configs/research/calibration.yaml) to {}; "
              "see data/stylized_facts.yaml for the source and its firmness")
SWITCH = "switch: turns a mechanism on or off"
RUN = "run control: no effect on behaviour"
NPS = "definition after Reichheld 2003 ({}); the cut-off on the continuous 0..1 scale is an assumption"

SOURCES: dict[str, str] = {
    "seed": "run control: same seed, same population, graph and shocks (common random numbers)",
    "scenario": "run control: selects an overlay in configs/scenario/",
    "run.steps": RUN,
    "run.progress": RUN,
    "run.burn_in": "run control: the warm-up into a steady state (section 5); no effect on the rules",
    "market.customers": SCENARIO,
    "market.price_driven_share": SCENARIO + "; the unsourced 72% 'empathy shapes my loyalty' claim would suggest ~0.3",
    "market.initial_adoption": SCENARIO,
    "market.relationship_need": ASSUMPTION,
    "market.price_driven_need": ASSUMPTION,
    "market.need_spread": ASSUMPTION,
    "market.response_spread": ASSUMPTION + "; response styles: Baumgartner & Steenkamp 2001; the value keeps the "
    "most empathetic shops' NPS below saturation (about 70 rather than 97)",
    "market.relationship_price_sensitivity": ASSUMPTION,
    "market.price_driven_price_sensitivity": ASSUMPTION,
    "market.visit_rate": SCENARIO + " (mean purchases per customer per week; before this version a weekly chance)",
    "market.contacts_per_visit": SCENARIO + " (a counter shop: ~1; an online shop: the share of orders that need "
    "service)",
    "market.market_wage": SCENARIO + "; pay relative to it drives engagement and quits",
    "market.currency": "label: printed with every money figure (no conversion)",
    "market.basket": SCENARIO,
    "market.emotional_share": ASSUMPTION,
    "market.failure_rate": ASSUMPTION,
    "market.base_churn": ASSUMPTION + "; compare total retention with Reichheld 1996 and the retail band (~63%/yr)",
    "market.discount_rate": "convention: an annual cost of capital, as in Gupta & Lehmann 2003",
    "market.outside_utility": ASSUMPTION,
    "firm.name": "label",
    "firm.empathy": LEVER,
    "firm.automation": LEVER,
    "firm.bot_handover": LEVER,
    "firm.bot_quality": SCENARIO,
    "firm.price": LEVER,
    "firm.pricing": LEVER,
    "firm.promo_every": LEVER,
    "firm.promo_weeks": LEVER,
    "firm.promo_depth": LEVER,
    "firm.price_floor": LEVER,
    "firm.initial_share": SCENARIO,
    "firm.staff": LEVER,
    "firm.staff_to_demand": LEVER,
    "firm.capacity": ASSUMPTION,
    "firm.wage": COSTS,
    "firm.empathy_cost": COSTS,
    "firm.hire_cost": COSTS,
    "firm.advertising": LEVER + "; Bass 1969 innovation p (mean ~0.03/yr for durables) is a reference, not a target",
    "firm.ad_cost": COSTS,
    "firm.referral_bonus": LEVER,
    "firm.automation_cost": COSTS,
    "firm.bot_contact_cost": COSTS,
    "firm.unit_cost": COSTS,
    "firm.fixed_cost": COSTS,
    "firm.adapts": LEVER + " (a competitor's behaviour)",
    "firm.incident_week": "scenario input: a what-if event",
    "firm.incident_weeks": "scenario input: a what-if event",
    "firm.incident_failure_rate": "scenario input: a what-if event",
    "behaviour.perception.learning_rate": ASSUMPTION,
    "behaviour.reconsider.review_rate": ASSUMPTION,
    "behaviour.reconsider.choice_noise": "method: logit scale (McFadden 1974); value an assumption",
    "behaviour.reconsider.choice": SWITCH,
    "behaviour.reconsider.quality_weight": ASSUMPTION,
    "behaviour.reconsider.empathy_weight": ASSUMPTION + "; claim of the business articles (its 68% figure is folklore)",
    "behaviour.reconsider.empathy_returns": ASSUMPTION + "; diminishing returns is a qualitative claim",
    "behaviour.reconsider.price_weight": ASSUMPTION,
    "behaviour.reconsider.switching_cost": CALIBRATED.format("steady-state annual retail customer retention ~63% "
                                                  "(python -m research.patterns: 0.64 in years 1 to 4)"),
    "behaviour.reconsider.attachment_weight": ASSUMPTION,
    "behaviour.perception.attachment_rate": ASSUMPTION,
    "behaviour.perception.attachment_decay": ASSUMPTION,
    "behaviour.service.bot_frustration": ASSUMPTION + "; claim of the business articles",
    "behaviour.service.handover_penalty": ASSUMPTION,
    "behaviour.service.recovery_bonus": ASSUMPTION,
    "behaviour.service.recovery_empathy": ASSUMPTION + "; interactional justice (empathy) is one of three recovery "
    "dimensions (Smith, Bolton & Wagner 1999); weighted by the customer's need",
    "behaviour.service.expect_person": ASSUMPTION + "; relationship-driven customers want a person "
    "(the business articles)",
    "behaviour.service.unrecovered_quality": ASSUMPTION,
    "behaviour.staff.emotional_strain_base": ASSUMPTION,
    "behaviour.service.service_profit_chain": "chosen so that across 200 firms engagement vs CSAT r = .38, inside "
    ".25-.40 (Harter et al. 2002; python -m research.patterns); direction: Heskett et al. 1994, Brown & Lam 2008",
    "behaviour.service.overload_quality": ASSUMPTION,
    "behaviour.staff.emotional_labour": ASSUMPTION + "; direction and band: Hulsheger & Schewe 2011 (rho .39 to .48)",
    "behaviour.staff.routine_effort": ASSUMPTION,
    "behaviour.staff.burnout_threshold": ASSUMPTION,
    "behaviour.staff.burnout_rate": ASSUMPTION,
    "behaviour.staff.engagement_base": ASSUMPTION,
    "behaviour.staff.leadership_effect": ASSUMPTION + "; claim of the business articles",
    "behaviour.staff.overload_effect": ASSUMPTION,
    "behaviour.staff.burnout_drag": ASSUMPTION,
    "behaviour.staff.engagement_rate": ASSUMPTION,
    "behaviour.staff.engagement_spread": ASSUMPTION + "; trait engagement differs between people "
    "(Job Demands-Resources, Bakker & Demerouti 2007)",
    "behaviour.staff.pay_engagement": ASSUMPTION + "; pay level relates weakly to job satisfaction, r ~.15 "
    "(Judge et al. 2010)",
    "behaviour.staff.pay_quit_elasticity": ASSUMPTION + "; quits fall as pay rises above the going rate "
    "(efficiency wages, Shapiro & Stiglitz 1984); separation elasticities of about -1 to -2 are reviewed by "
    "Manning 2003",
    "behaviour.staff.training_rate": ASSUMPTION,
    "behaviour.staff.hire_skill_base": ASSUMPTION,
    "behaviour.staff.hire_skill_empathy": ASSUMPTION,
    "behaviour.staff.hire_skill_spread": ASSUMPTION,
    "behaviour.staff.new_hire_gap": ASSUMPTION,
    "behaviour.staff.learning_weeks": ASSUMPTION,
    "behaviour.staff.base_quit": CALIBRATED.format("retail staff turnover ~60% a year at steady state "
                                            "(python -m research.patterns)"),
    "behaviour.staff.quit_disengaged": ASSUMPTION + "; direction and band: engagement vs turnover r ~-.30 "
    "(Harter et al. 2002)",
    "behaviour.staff.quit_burnout": ASSUMPTION,
    "behaviour.staff.hire_weeks": ASSUMPTION,
    "behaviour.staff.target_utilisation": ASSUMPTION + " (every firm's staffing policy)",
    "behaviour.staff.restaff_every": ASSUMPTION + " (every firm's staffing policy)",
    "behaviour.perception.initial_reputation_quality": ASSUMPTION + "; only the start of the warm-up sees it",
    "behaviour.survey.promoter_threshold": NPS.format("promoters answer 9 or 10"),
    "behaviour.survey.detractor_threshold": NPS.format("detractors answer 0 to 6"),
    "behaviour.survey.nps_attachment": CALIBRATED.format("US retail NPS ~28 (Qualtrics XM Institute 2022)"),
    "behaviour.survey.csat_threshold": ASSUMPTION + " (where 'satisfied' begins)",
    "wom.enabled": SWITCH,
    "wom.talk_rate": ASSUMPTION,
    "wom.negativity": ASSUMPTION + " (that unhappy customers talk more is common lore, not in our sources)",
    "wom.referral_strength": ASSUMPTION + "; Bass imitation q (mean ~0.38/yr, Sultan, Farley & Lehmann 1990, "
    "secondary) is a reference, not a target",
    "wom.buzz_weight": ASSUMPTION,
    "wom.buzz_memory": ASSUMPTION,
    "network.kind": "method: Watts & Strogatz 1998, Barabasi & Albert 1999, Erdos & Renyi 1959, or input data",
    "network.mean_degree": ASSUMPTION,
    "network.rewire": ASSUMPTION,
    "network.path": "input data (section 6)",
    "adapt.enabled": SWITCH,
    "adapt.every": ASSUMPTION,
    "adapt.price_matching": SWITCH,
    "adapt.imitation": SWITCH,
    "adapt.imitation_rate": ASSUMPTION,
    "plan.changes": LEVER + ": dated changes of strategy after the warm-up (section 7.17)",
    "plan.training_hours": ASSUMPTION + ": a three-day course per employee to raise empathy from 0 to 1",
    "plan.training_cost": "ATD State of the Industry: direct learning expenditure 1,208-1,308 USD per employee and "
    "31.5-34.7 learning hours a year (2013-2019), about 37 an hour (secondary, in USD; no conversion)",
    "plan.hours_per_week": "convention: a full-time employee-week",
    "plan.bot_setup_cost": ASSUMPTION + ": integration, content and tuning of a small business's bot at automation 1 "
    "(vendor guides quote a few hours on a platform to tens of thousands for a custom build)",
    "plan.bot_launch_gap": ASSUMPTION,
    "plan.bot_ramp_weeks": ASSUMPTION,
    "adapt.loss_response": "switch: how far the response to losses goes (none turns it off); the order "
    "retrench, turn round, exit follows the turnaround literature (Robbins & Pearce 1992, SMJ 13(4))",
    "adapt.loss_reviews": ASSUMPTION + "; 2 quarterly reviews = half a year of losses before each step, so a "
    "firm closes after 18 months of losses",
    "adapt.cost_cut": ASSUMPTION,
}


def schema_fields() -> list[tuple[str, str, dataclasses.Field]]:
    """Every value of the schema as (group, dotted key, field); the top level's group is ''.

    A group of groups (`behaviour`) gives one group per subgroup (`behaviour.reconsider`);
    `competitors` maps names to `FirmConfig`, whose fields the `firm` group already lists.
    """
    def values(node: Any, group: str) -> list[tuple[str, str, dataclasses.Field]]:
        rows = []
        for spec in dataclasses.fields(node):
            key = f"{group}.{spec.name}" if group else spec.name
            if spec.default_factory is dataclasses.MISSING:
                rows.append((group, key, spec))
            elif dataclasses.is_dataclass(sub := spec.default_factory()):
                rows += values(sub, key)
        return rows

    return values(SimConfig, "")


def group_doc(group: str) -> str:
    """The docstring's first line of a group's class (`behaviour.staff`: `StaffConfig`)."""
    node: Any = SimConfig()
    for part in group.split("."):
        node = getattr(node, part)
    return (type(node).__doc__ or "").strip().splitlines()[0].rstrip(".")


def literal(value: Any) -> str:
    """A value as it is written on the command line or in YAML."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    text = repr(value) if isinstance(value, float) else str(value)
    return text.removesuffix(".0")


def number(value: float) -> str:
    """A range bound, with thousands separators where it is a large whole number."""
    return f"{int(value):,}" if float(value).is_integer() and abs(value) >= 10_000 else f"{value:g}"


def allowed(spec: dataclasses.Field) -> str:
    """What the validator accepts for this field, in words."""
    kind = str(spec.type)
    if "range" in spec.metadata:
        lo, hi = spec.metadata["range"]
        text = f"{number(lo)} to {number(hi)}" + (", whole" if kind.startswith("int") else "")
    elif "choices" in spec.metadata:
        text = ", ".join(f"`{c}`" for c in spec.metadata["choices"])
    elif kind.startswith("bool"):
        text = "`true`, `false`"
    elif kind.startswith("list"):
        text = "a list of dated changes (section 7.17)"
    else:
        text = "text"
    return text + (", or `null`" if "None" in kind else "")


def row(cells: list[str]) -> str:
    """One Markdown table row; a `|` inside a cell is escaped."""
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def plausible_ranges() -> dict[str, str]:
    """Each uncertain key's plausible range in words, from the priors file (research.robust draws from them)."""
    return {canonical_path(p.path): p.describe() for p in load_priors(PRIORS).priors}


def group_table(group: str, rows: list[tuple[str, dataclasses.Field]], plausible: dict[str, str]) -> str:
    """One Markdown table: key, default, allowed values, plausible range, meaning, source or status."""
    if group in HEADINGS:
        heading = HEADINGS[group]
    else:
        heading = f"`{group}.*`: {group_doc(group)}"
    columns = ["key", "default", "allowed", "plausible range", "meaning", "source / status"]
    lines = [f"### {heading}", "", row(columns), "|---" * len(columns) + "|"]
    for key, spec in rows:
        meaning = spec.metadata.get("doc") or "(no doc in sim/config.py)"
        source = SOURCES.get(key, "(no entry in docs/parameters.py)")
        default = spec.default if spec.default is not dataclasses.MISSING else spec.default_factory()
        lines.append(row([f"`{key}`", f"`{literal(default)}`", allowed(spec), plausible.get(key, ""), meaning, source]))
    return "\n".join(lines)


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as one dict keyed by dotted path."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def configured_tables() -> str:
    """Where `python -m sim` without overrides departs from the schema defaults: its firms, then the rest."""
    run = load_config([])
    firms = {"firm": to_dict(run.firm)} | {f"competitors.{k}": to_dict(v) for k, v in run.competitors.items()}
    default = to_dict(FirmConfig())
    lines = ["### Set by the default config files (`configs/`)", "",
             "`python -m sim` without overrides composes `configs/config.yaml`. Its firms depart from the schema "
             "defaults in these keys:", "",
             row(["key", "schema default"] + [f"`{name}`" for name in firms]),
             "|---" * (len(firms) + 2) + "|"]
    for key, value in default.items():
        if any(f[key] != value for f in firms.values()):
            lines.append(row([f"`{key}`", f"`{literal(value)}`"] + [f"`{literal(f[key])}`" for f in firms.values()]))
    schema = flatten(to_dict(SimConfig()))
    others = [(k, v) for k, v in flatten(to_dict(run)).items()
              if k.split(".")[0] not in ("firm", "competitors") and v != schema.get(k)]
    lines += ["", "Other keys it sets differently:" if others else "Every other key keeps its schema default."]
    lines += [f"- `{k}={literal(v)}`" for k, v in others]
    return "\n".join(lines)


def render() -> str:
    """Everything between the markers: one table per config group, then the default run's departures."""
    groups: dict[str, list[tuple[str, dataclasses.Field]]] = {}
    for group, key, spec in schema_fields():
        groups.setdefault(group, []).append((key, spec))
    order = sorted(groups, key=lambda g: GROUP_ORDER.index(g) if g in GROUP_ORDER else len(GROUP_ORDER))
    plausible = plausible_ranges()
    intro = ("The plausible range of an uncertain key comes from `configs/priors/default.yaml`, with its source "
             "there (`firm.*` ranges apply to the focal firm); `python -m research.robust` draws from them. "
             "An empty cell: a lever, a scenario input or a switch, not treated as uncertain. "
             "The `behaviour.*` keys are grouped by submodel, each heading naming its ODD sections; each key also "
             "answers to its flat name as before the grouping, everywhere a key is written: "
             "`behaviour.empathy_weight=2` is `behaviour.reconsider.empathy_weight=2`.")
    body = "\n\n".join([intro] + [group_table(g, groups[g], plausible) for g in order] + [configured_tables()])
    note = "<!-- generated by `python docs/parameters.py` from sim/config.py: edit there, not here -->"
    return f"{START}\n{note}\n\n{body}\n\n{END}"


def splice(text: str, block: str, path: Path) -> str:
    """The document with the text between the markers (markers included) replaced by `block`."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{path}: markers {START} and {END} not found in that order")
    return text[:start] + block + text[end + len(END):]


def main(argv: list[str] | None = None, odd: Path = ODD) -> int:
    """Write the tables into ODD.md, or with --check report whether they are current."""
    parser = argparse.ArgumentParser(description="Generate the parameter tables of docs/ODD.md from sim/config.py.")
    parser.add_argument("--check", action="store_true", help="exit 1 if ODD.md is out of date; write nothing")
    args = parser.parse_args(argv)
    try:
        text = odd.read_text(encoding="utf-8")
        updated = splice(text, render(), odd)
    except (OSError, ValueError) as err:
        print(f"parameters: error: {err}", file=sys.stderr)
        return 1
    if args.check:
        if updated != text:
            print(f"parameters: {odd} is out of date with sim/config.py: run python docs/parameters.py",
                  file=sys.stderr)
            return 1
        return 0
    if updated != text:
        atomic_write(odd, lambda tmp: Path(tmp).write_text(updated, encoding="utf-8"))
    print(f"parameters: {odd} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
