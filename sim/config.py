"""Typed configuration schema of the model: `SimConfig` and its parts.

Every value carries its allowed range or set in the field metadata, so one validator
(`validate`) serves the Hydra app, the command-line pre-check, the dashboard and scripts.
The schema is also registered in Hydra's ConfigStore, so composed configs are typed.
Defaults describe a neighbourhood shop; `configs/` and `scenarios` override them.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PRICING_POLICIES = ("fixed", "promotions", "match_cheapest")
LOSS_RESPONSES = ("none", "cut", "reprice", "exit")  # how far a firm that keeps losing money goes, in order
NETWORK_KINDS = ("small_world", "scale_free", "random", "complete", "file")
CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK",  # ISO 4217
              "HUF", "INR", "CNY", "BRL", "MXN", "ZAR", "SGD", "HKD", "KRW", "TRY", "ILS")
GENERATED_KINDS = ("small_world", "scale_free", "random")  # graphs drawn with network.mean_degree
COMPLETE_GRAPH_LIMIT = 20_000  # a complete graph on n customers holds n*(n-1) neighbour entries


class ConfigError(ValueError):
    """A user-facing configuration error, printed as one line."""


def _num(default: float, lo: float, hi: float, doc: str = "") -> Any:
    return field(default=default, metadata={"range": (lo, hi), "doc": doc})


def _choice(default: str, choices: tuple[str, ...], doc: str = "") -> Any:
    return field(default=default, metadata={"choices": choices, "doc": doc})


def _plain(default: Any, doc: str) -> Any:
    """A value with no range or choices: a switch, a name, a path."""
    return field(default=default, metadata={"doc": doc})


@dataclass
class FirmConfig:
    """One firm's strategy levers and cost structure (focal business or competitor)."""

    name: str = _plain("Focal", "name shown in tables and plots")
    empathy: float = _num(0.5, 0, 1, "investment in empathetic hiring, training, leadership")
    automation: float = _num(0.2, 0, 1, "share of contacts first handled by a bot")
    bot_handover: float = _num(0.5, 0, 1, "chance a bot hands an emotional contact to a person")
    bot_quality: float = _num(0.75, 0, 1, "quality of a routine contact solved by the bot")
    price: float = _num(1.0, 0.2, 5.0, "price index, 1.0 = market reference")
    pricing: str = _choice("fixed", PRICING_POLICIES, "pricing policy")
    promo_every: int = _num(13, 1, 520, "weeks between promotions")
    promo_weeks: int = _num(2, 1, 52, "length of a promotion in weeks")
    promo_depth: float = _num(0.15, 0, 0.9, "price cut during a promotion")
    price_floor: float = _num(0.6, 0.1, 5.0, "lowest price a matching policy goes to")
    initial_share: float = _num(0.3, 0, 1, "share of the initially served customers")
    staff: int | None = field(
        default=None,
        metadata={"range": (1, 1_000_000), "doc": "headcount; null sizes it to demand"},
    )
    staff_to_demand: bool = _plain(True, "re-size headcount to recent human contacts (when staff is null)")
    capacity: float = _num(200.0, 1, 100_000, "contacts one employee serves per week")
    wage: float = _num(500.0, 0, 1e6, "wage per employee-week (currency per week)")
    empathy_cost: float = _num(60.0, 0, 1e6, "training+leadership cost per employee-week at empathy 1")
    hire_cost: float = _num(1500.0, 0, 1e7, "cost of one hire")
    advertising: float = _num(0.01, 0, 1, "share of prospects reached by adverts per week")
    ad_cost: float = _num(1.0, 0, 1e5, "cost of reaching one prospect once")
    referral_bonus: float = _num(0.0, 0, 1e5, "reward paid per referral acquisition")
    automation_cost: float = _num(400.0, 0, 1e7, "weekly bot running cost at automation 1")
    bot_contact_cost: float = _num(0.05, 0, 1e3, "cost of one bot contact")
    unit_cost: float = _num(0.5, 0, 10, "cost of goods per unit of reference basket")
    fixed_cost: float = _num(0.0, 0, 1e8, "weekly fixed cost")
    adapts: bool = _plain(False, "review price and automation every adapt.every weeks")
    incident_week: int | None = field(
        default=None, metadata={"range": (0, 100_000), "doc": "week an incident (e.g. spoiled orders) starts"}
    )
    incident_weeks: int = _num(2, 1, 520, "weeks the incident lasts")
    incident_failure_rate: float = _num(0.3, 0, 1, "extra chance a contact goes wrong during the incident")


@dataclass
class MarketConfig:
    """The customer population: size, segments, purchase and contact patterns."""

    customers: int = _num(10_000, 10, 50_000_000, "customers in the market (graph nodes)")
    price_driven_share: float = _num(0.5, 0, 1, "share of price-driven customers")
    initial_adoption: float = _num(0.6, 0, 1, "share of customers served by some firm at start")
    relationship_need: float = _num(0.7, 0, 1, "mean empathy need, relationship-driven")
    price_driven_need: float = _num(0.02, 0, 1, "mean empathy need, price-driven")
    need_spread: float = _num(0.1, 0, 0.45, "std of individual empathy need at a mean need of 0.5 (Beta)")
    response_spread: float = _num(0.15, 0, 0.5, "std of customers' personal offset when rating a firm")
    relationship_price_sensitivity: float = _num(0.5, 0, 50, "price weight, relationship-driven")
    price_driven_price_sensitivity: float = _num(2.5, 0, 50, "price weight, price-driven")
    visit_rate: float = _num(0.6, 0, 50, "mean visits (purchases) per customer per week")
    contacts_per_visit: float = _num(1.0, 0, 1, "chance a visit involves a service contact (a person or a bot)")
    basket: float = _num(10.0, 0, 1e6, "spend per visit at reference price")
    emotional_share: float = _num(0.1, 0, 1, "share of contacts that are emotionally charged")
    failure_rate: float = _num(0.04, 0, 1, "chance a contact goes wrong and needs recovery")
    base_churn: float = _num(0.002, 0, 1, "exogenous churn per week (moves, life events)")
    discount_rate: float = _num(0.1, 0, 10, "annual discount rate for CLTV")
    outside_utility: float = _num(-1.2, -10, 10, "utility of buying from none of the firms")
    market_wage: float = _num(500.0, 1, 1e6, "local market wage per employee-week, against which pay is judged")
    currency: str = _choice("EUR", CURRENCIES, "ISO 4217 code of every money figure (a label: no conversion)")


@dataclass
class ReconsiderConfig:
    """Customers reconsider their firm: the utility of each firm and the logit choice (ODD 7.2)."""

    review_rate: float = _num(0.1, 0, 1, "weekly chance a customer reconsiders its firm")
    choice_noise: float = _num(0.25, 0.001, 100, "logit scale of choice")
    choice: bool = _plain(True, "customers reconsider their firm (false: only exogenous churn)")
    quality_weight: float = _num(1.0, 0, 100, "utility weight of perceived quality")
    empathy_weight: float = _num(1.5, 0, 100, "claim: empathy builds loyalty (0 = off)")
    empathy_returns: float = _num(0.7, 0.05, 5, "exponent on felt empathy; <1 diminishing returns")
    price_weight: float = _num(1.0, 0, 100, "utility weight of price (times segment sensitivity)")
    switching_cost: float = _num(0.7, 0, 100, "habit bonus of the current firm")
    attachment_weight: float = _num(0.5, 0, 100, "utility of emotional attachment")


@dataclass
class PerceptionConfig:
    """What customers learn from encounters and feel for a firm (ODD 7.3), and assume of one not met (5, 7.13)."""

    learning_rate: float = _num(0.3, 0, 1, "weight of the latest encounter in perceptions")
    attachment_rate: float = _num(0.08, 0, 1, "attachment built per empathetic encounter, times need")
    attachment_decay: float = _num(0.01, 0, 1, "weekly attachment decay")
    initial_reputation_quality: float = _num(0.7, 0, 1, "quality a firm is reputed for before anyone has met it")


@dataclass
class ServiceConfig:
    """Service encounters: bots and hand-overs, failures and recovery, overload (ODD 7.3)."""

    bot_frustration: float = _num(1.0, 0, 1, "claim: bot on an emotional contact frustrates")
    handover_penalty: float = _num(0.1, 0, 1, "quality lost waiting for a hand-over")
    recovery_bonus: float = _num(0.1, 0, 1, "quality gained by a well-recovered failure")
    unrecovered_quality: float = _num(0.3, 0, 1, "share of a contact's quality left when its failure is not recovered")
    recovery_empathy: float = _num(0.6, 0, 1, "weight of empathy (vs quality) in recovering a contact")
    expect_person: float = _num(1.0, 0, 1, "how much a bot contact disappoints a customer who wants a person (CSAT)")
    service_profit_chain: float = _num(0.12, 0, 1, "claim: engaged employees serve better")
    overload_quality: float = _num(0.5, 0, 10, "quality lost per unit of overload")


@dataclass
class StaffConfig:
    """Employees: strain, burnout, engagement and training (ODD 7.4), quits and hiring (7.9), restaffing (7.10)."""

    emotional_labour: float = _num(1.0, 0, 10, "claim: emotional labour burns employees out")
    emotional_strain_base: float = _num(0.5, 0, 10, "strain of an emotional contact at empathy 0, relative")
    routine_effort: float = _num(0.5, 0, 10, "strain of a routine contact, relative")
    burnout_threshold: float = _num(0.6, 0, 0.99, "strain employees absorb without burning out")
    burnout_rate: float = _num(0.1, 0, 1, "weekly speed of burnout change")
    engagement_base: float = _num(0.6, 0, 1, "engagement without leadership empathy")
    leadership_effect: float = _num(0.15, 0, 1, "engagement from empathetic leadership")
    overload_effect: float = _num(0.6, 0, 10, "engagement lost per unit of overload")
    burnout_drag: float = _num(0.4, 0, 10, "engagement lost per unit of burnout")
    engagement_rate: float = _num(0.1, 0, 1, "weekly speed of engagement change")
    engagement_spread: float = _num(0.1, 0, 1, "std of employees' personal engagement disposition")
    pay_engagement: float = _num(0.1, 0, 10, "engagement per unit of log pay relative to the market wage")
    pay_quit_elasticity: float = _num(1.0, 0, 10, "elasticity of the quit chance to pay relative to the market wage")
    training_rate: float = _num(0.02, 0, 1, "weekly skill growth at empathy 1")
    hire_skill_base: float = _num(0.3, 0, 1, "empathy skill of a hire at empathy 0")
    hire_skill_empathy: float = _num(0.4, 0, 1, "extra skill from empathetic hiring")
    hire_skill_spread: float = _num(0.1, 0, 1, "std of a new hire's empathy skill")
    new_hire_gap: float = _num(0.3, 0, 1, "competence missing in a brand-new hire")
    learning_weeks: float = _num(12.0, 0.1, 520, "weeks for a new hire to learn the job")
    base_quit: float = _num(0.006, 0, 1, "weekly quit chance, engaged and rested")
    quit_disengaged: float = _num(0.03, 0, 1, "extra weekly quit chance when fully disengaged")
    quit_burnout: float = _num(0.06, 0, 1, "extra weekly quit chance when fully burnt out")
    hire_weeks: float = _num(4.0, 0, 104, "mean weeks a vacancy stays open")
    target_utilisation: float = _num(0.8, 0.05, 2, "utilisation firms staff for")
    restaff_every: int = _num(4, 1, 520, "weeks between headcount reviews of firms that staff to demand")


@dataclass
class SurveyConfig:
    """The survey: satisfaction and willingness to recommend, CSAT and NPS (ODD 7.5)."""

    promoter_threshold: float = _num(0.8, 0, 1, "recommendation level of a promoter (9-10)")
    detractor_threshold: float = _num(0.6, 0, 1, "recommendation level below which a detractor (0-6)")
    nps_attachment: float = _num(0.2, 0, 1, "weight of attachment in willingness to recommend")
    csat_threshold: float = _num(0.65, 0, 1, "experience counted as satisfied")


@dataclass(init=False)
class BehaviourConfig:
    """Uncertain behavioural parameters, grouped by the ODD's submodels; a claim's strength at 0 turns it off.

    Each key also answers to its flat name, as before the grouping (`BEHAVIOUR_KEYS`):
    `b.empathy_weight` reads and writes `b.reconsider.empathy_weight`, `BehaviourConfig(choice=False)`
    and `dataclasses.replace(b, base_quit=0.01)` set a key in its group, and `canonical_path` and
    `group_behaviour` read flat keys on the command line and in YAML.
    """

    reconsider: ReconsiderConfig = field(default_factory=ReconsiderConfig)
    perception: PerceptionConfig = field(default_factory=PerceptionConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    staff: StaffConfig = field(default_factory=StaffConfig)
    survey: SurveyConfig = field(default_factory=SurveyConfig)

    def __init__(self, **values: Any) -> None:
        """The groups given (copied: changing this config never changes the one they came from), then flat keys."""
        flat = {key: values.pop(key) for key in list(values) if key in BEHAVIOUR_KEYS}
        for spec in dataclasses.fields(self):
            group = values.pop(spec.name, None)
            setattr(self, spec.name, spec.default_factory() if group is None else copy.copy(group))
        if values:
            raise TypeError(f"BehaviourConfig() got an unexpected keyword argument '{next(iter(values))}'")
        for key, value in flat.items():
            setattr(self, key, value)


BEHAVIOUR_GROUPS = tuple(group.name for group in dataclasses.fields(BehaviourConfig))  # each maps to ODD submodels
BEHAVIOUR_KEYS: dict[str, str] = {key.name: group.name for group in dataclasses.fields(BehaviourConfig)
                                  for key in dataclasses.fields(group.default_factory())}
"""Every behaviour key by its flat name (`empathy_weight`), with the group that holds it (`reconsider`)."""


def _flat_key(key: str, group: str) -> property:
    def get(self: BehaviourConfig) -> Any:
        return getattr(getattr(self, group), key)

    def put(self: BehaviourConfig, value: Any) -> None:
        setattr(getattr(self, group), key, value)

    return property(get, put, doc=f"behaviour.{group}.{key}, by its flat name")


for _key, _group in BEHAVIOUR_KEYS.items():
    setattr(BehaviourConfig, _key, _flat_key(_key, _group))


def canonical_path(path: str) -> str:
    """A key's path in the schema: a flat behaviour key is written with its group, any other as given.

    `behaviour.empathy_weight` becomes `behaviour.reconsider.empathy_weight`.
    """
    head, _, rest = path.partition(".")
    group = BEHAVIOUR_KEYS.get(rest) if head == "behaviour" else None
    return f"behaviour.{group}.{rest}" if group else path


def check_distinct(paths: Iterable[str], where: str) -> None:
    """No key named twice, once flat and once grouped (a space or priors file lists each key once)."""
    seen: dict[str, str] = {}
    for path in paths:
        if (first := seen.setdefault(canonical_path(path), path)) != path:
            raise ConfigError(f"{where}: {first} and {path} name the same key: keep one")


def group_behaviour(values: Mapping[str, Any], where: str = "behaviour") -> dict[str, Any]:
    """A `behaviour` mapping (as in YAML) with its flat keys moved into their groups.

    The same key given both flat and grouped in one mapping is a ConfigError: which one is meant
    cannot be told. Other keys are left for the schema to check.
    """
    out = {key: dict(value) if key in BEHAVIOUR_GROUPS and isinstance(value, Mapping) else value
           for key, value in values.items() if key not in BEHAVIOUR_KEYS}
    for key, value in values.items():
        group = BEHAVIOUR_KEYS.get(key)
        if group is None:
            continue
        target = out.setdefault(group, {})
        if not isinstance(target, dict):  # e.g. `reconsider: null`: the schema reports the group
            continue
        if key in target:
            raise ConfigError(f"{where}.{key} and {where}.{group}.{key} are both given: keep one "
                              f"(behaviour.{key} is the flat name of behaviour.{group}.{key})")
        target[key] = value
    return out

@dataclass
class WomConfig:
    """Word of mouth: promoters refer, detractors warn (Bass-like adoption)."""

    enabled: bool = _plain(True, "word of mouth on (false: no referrals, no buzz)")
    talk_rate: float = _num(0.1, 0, 1, "weekly chance a promoter talks to its neighbours")
    negativity: float = _num(2.0, 0, 100, "detractors talk this many times more")
    referral_strength: float = _num(0.05, 0, 10, "adoption hazard per referral message")
    buzz_weight: float = _num(0.03, 0, 100, "utility per unit of word-of-mouth buzz")
    buzz_memory: float = _num(0.7, 0, 0.999, "share of buzz remembered a week later")


@dataclass
class NetworkConfig:
    """The word-of-mouth graph among customers."""

    kind: str = _choice("small_world", NETWORK_KINDS, "graph generator or 'file'")
    mean_degree: float = _num(10.0, 1, 1000, "mean number of neighbours")
    rewire: float = _num(0.1, 0, 1, "small-world rewiring probability")
    path: str | None = _plain(None, "edge list or GraphML file read when kind is 'file'")


@dataclass
class AdaptConfig:
    """How competitors with `adapts: true` react to the market."""

    enabled: bool = _plain(True, "adaptive firms review their strategy")
    every: int = _num(13, 1, 520, "weeks between strategy reviews")
    price_matching: bool = _plain(True, "a firm that lost customers matches the cheapest rival's price")
    imitation: bool = _plain(True, "a firm moves its automation towards the most profitable firm's")
    imitation_rate: float = _num(0.5, 0, 1, "share of the gap to the best rival's automation (and, for a losing "
                                 "firm, price) closed")
    loss_response: str = _choice("exit", LOSS_RESPONSES, "how far a firm that keeps losing money goes: none; "
                                 "cut costs; then also reprice; then also exit the market")
    loss_reviews: int = _num(2, 1, 520, "consecutive loss-making reviews (after the warm-up) before each next "
                             "response to losses")
    cost_cut: float = _num(0.5, 0, 1, "share of its advertising a losing firm cuts")


@dataclass
class RunConfig:
    """Length and reporting of one run."""

    steps: int = _num(104, 1, 100_000, "weeks to simulate")
    progress: bool = _plain(True, "print weeks per second and time left while running")
    burn_in: int = _num(104, 0, 10_000, "warm-up weeks before week 0, unrecorded: week 0 starts near steady state")


# --- The plan: dated changes of strategy after the warm-up (sim.plan; ODD 7.17) ---------------------
PLAN_LEVERS = ("empathy", "automation", "bot_handover", "bot_quality", "price", "pricing", "promo_every", "promo_weeks",
               "promo_depth", "price_floor", "wage", "advertising", "referral_bonus", "fixed_cost")
PLAN_COST = "cost"  # a change's explicit one-off cost to the focal firm (a refit, a consultant)


@dataclass
class PlanConfig:
    """A plan: dated changes of strategy after the warm-up, what a change costs once, and how long a bot takes."""

    changes: list[dict[str, Any]] = _plain((), "dated changes, e.g. [{week: 0, firm.empathy: 0.8}, {week: 26, "
                                                "firm.automation: 0.7, cost: 2000}] (ODD 7.17)")
    training_hours: float = _num(24.0, 0, 2000, "hours of training per employee to raise firm.empathy by 1 (one-off)")
    training_cost: float = _num(37.0, 0, 1e5, "direct cost of one employee-hour of training (trainer, materials), "
                                              "besides the trainee's pay")
    hours_per_week: float = _num(40.0, 1, 168, "paid hours of an employee-week: a training hour also costs "
                                               "wage / hours_per_week")
    bot_setup_cost: float = _num(5000.0, 0, 1e8, "one-off cost of implementing a bot, per unit of automation added")
    bot_launch_gap: float = _num(0.3, 0, 1, "share of the bot's quality missing on contacts it has just taken on")
    bot_ramp_weeks: float = _num(8.0, 0.1, 520, "weeks for a new bot's missing quality to shrink by a factor e")


def plan_target(cfg: SimConfig, key: str, where: str) -> tuple[int, str]:
    """The firm (0: focal, then competitors in config order) and lever a plan's key names."""
    parts = key.split(".") if isinstance(key, str) else []
    names = list(cfg.competitors)
    if len(parts) == 2 and parts[0] == "firm":
        index, lever = 0, parts[1]
    elif len(parts) == 3 and parts[0] == "competitors":
        if parts[1] not in names:
            raise ConfigError(f"{where}.{key}: no competitor '{parts[1]}' (have: {', '.join(names) or 'none'})")
        index, lever = 1 + names.index(parts[1]), parts[2]
    else:
        raise ConfigError(f"{where}: {key!r} is not a key a plan can change: give week, {PLAN_COST}, "
                          "firm.<lever> or competitors.<name>.<lever>")
    if lever not in PLAN_LEVERS:
        raise ConfigError(f"{where}.{key}: '{lever}' is not a lever a plan changes: "
                          f"choose one of {', '.join(PLAN_LEVERS)}")
    return index, lever


def check_plan(cfg: SimConfig) -> None:
    """Check every dated change (week, keys, values) and the firms it leaves; store the values typed."""
    changes = cfg.plan.changes
    if not isinstance(changes, list | tuple):
        raise ConfigError(f"plan.changes={changes!r} is not allowed: expected a list of dated changes, "
                          "e.g. [{week: 0, firm.empathy: 0.8}]")
    checked = []
    for i, change in enumerate(changes):
        where = f"plan.changes[{i}]"
        if not isinstance(change, dict):
            raise ConfigError(f"{where}={change!r} is not allowed: expected {{week: W, <key>: <value>, ...}}")
        week = change.get("week")
        if week is None:
            raise ConfigError(f"{where}: no week: say when it takes effect, e.g. {{week: 26, firm.price: 1.1}}")
        if isinstance(week, bool) or not isinstance(week, numbers.Integral):
            raise ConfigError(f"{where}.week={week!r} is not allowed: expected a whole number")
        if not 0 <= week < cfg.run.steps:
            raise ConfigError(f"{where}.week={week} is out of range: allowed 0 <= week < run.steps={cfg.run.steps} "
                              "(calendar weeks after the warm-up)")
        if len(change) < 2:
            raise ConfigError(f"{where}: nothing changes in week {week}: add a lever, e.g. firm.empathy: 0.8, "
                              f"or a {PLAN_COST}")
        typed: dict[str, Any] = {"week": int(week)}
        for key, value in change.items():
            if key == "week":
                continue
            if key == PLAN_COST:
                if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < math.inf:
                    raise ConfigError(f"{where}.{PLAN_COST}={value!r} is not allowed: expected a one-off amount >= 0")
                typed[key] = float(value)
                continue
            _, lever = plan_target(cfg, key, where)
            typed[key] = check_value(f"{where}.{key}", value, field_spec(f"firm.{lever}"))
        checked.append(typed)
    cfg.plan.changes = tuple(checked)  # as the schema's default (): a checked plan compares equal to no plan
    firms = {"firm": cfg.firm, **{f"competitors.{k}": v for k, v in cfg.competitors.items()}}
    for week in sorted({c["week"] for c in checked}):
        for change in (c for c in checked if c["week"] == week):
            for key, value in change.items():
                if key not in ("week", PLAN_COST):
                    owner, lever = key.rsplit(".", 1)
                    firms[owner] = dataclasses.replace(firms[owner], **{lever: value})
        after = dataclasses.replace(cfg, firm=firms["firm"], plan=PlanConfig(),
                                    competitors={k: firms[f"competitors.{k}"] for k in cfg.competitors})
        try:
            validate(after)
        except ConfigError as err:
            raise ConfigError(f"plan.changes in week {week}: {err}") from None

@dataclass
class SimConfig:
    """Everything one run needs; plain values, so the model runs without Hydra."""

    seed: int = _num(0, 0, 2**32 - 1, "random seed")
    scenario: str | None = _plain(None, "ready business situation from configs/scenario/ (null: none)")
    run: RunConfig = field(default_factory=RunConfig)
    market: MarketConfig = field(default_factory=MarketConfig)
    firm: FirmConfig = field(default_factory=FirmConfig)
    competitors: dict[str, FirmConfig] = field(default_factory=dict)
    wom: WomConfig = field(default_factory=WomConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)
    adapt: AdaptConfig = field(default_factory=AdaptConfig)
    plan: PlanConfig = field(default_factory=PlanConfig)


def field_spec(path: str) -> dataclasses.Field:
    """The schema field at a dotted path such as ``firm.empathy`` or ``competitors.big_box.price``.

    A flat behaviour key (``behaviour.empathy_weight``) names its grouped field (`canonical_path`).
    """
    node: Any = SimConfig
    parts = canonical_path(path).split(".")
    i = 0
    while True:
        fields = {f.name: f for f in dataclasses.fields(node)}
        if parts[i] not in fields:
            where = ".".join(parts[:i]) or "the top level"
            raise ConfigError(f"{path}: unknown key '{parts[i]}' in {where} ({_known(node, parts[i], fields)})")
        spec = fields[parts[i]]
        i += 1
        if i == len(parts):
            return spec
        if node is SimConfig and spec.name == "competitors":
            i += 1  # skip the competitor's name
            if i == len(parts):
                raise ConfigError(f"{path}: name a competitor's key, e.g. {path}.price")
            node = FirmConfig
        else:
            node = _group_type(spec, path)


def _known(node: type, key: str, fields: Mapping[str, Any]) -> str:
    """The keys a group knows, for an error; behaviour's flat keys too, with the nearest to a misspelt one."""
    if node is not BehaviourConfig:
        return f"known: {', '.join(sorted(fields))}"
    near = difflib.get_close_matches(key, BEHAVIOUR_KEYS, n=1)
    hint = f"did you mean {near[0]} (behaviour.{BEHAVIOUR_KEYS[near[0]]}.{near[0]})? " if near else ""
    return (f"{hint}known: the groups {', '.join(BEHAVIOUR_GROUPS)}, or any of their keys by its flat name: "
            f"{', '.join(sorted(BEHAVIOUR_KEYS))}")


def _group_type(spec: dataclasses.Field, path: str) -> type:
    default = spec.default_factory() if spec.default_factory is not dataclasses.MISSING else None
    if not dataclasses.is_dataclass(default):
        raise ConfigError(f"{path}: '{spec.name}' is a value, not a group of keys")
    return type(default)


def check_value(path: str, value: Any, spec: dataclasses.Field | None = None) -> Any:
    """Check one value against its field's type and range; return it converted."""
    spec = spec or field_spec(path)
    kind = spec.type if isinstance(spec.type, str) else getattr(spec.type, "__name__", str(spec.type))
    optional = "None" in kind
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{path}=null is not allowed: a value is required")
    base = kind.replace("| None", "").strip()
    # numbers.Integral/Real also admit numpy scalars (a seed from np.arange); values leave as plain Python
    if base == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{path}={value!r} is not allowed: expected true or false")
    elif base == "int":
        if isinstance(value, bool) or not (
            isinstance(value, numbers.Integral) or (isinstance(value, numbers.Real) and float(value).is_integer())
        ):
            raise ConfigError(f"{path}={value!r} is not allowed: expected a whole number")
        value = int(value)
    elif base == "float":
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{path}={value!r} is not allowed: expected a number")
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{path}={value!r} is not allowed: expected a finite number")
    elif base == "str" and not isinstance(value, str):
        raise ConfigError(f"{path}={value!r} is not allowed: expected text")
    meta = spec.metadata
    if "range" in meta:
        lo, hi = meta["range"]
        if not lo <= value <= hi:
            raise ConfigError(f"{path}={value!r} is out of range: allowed {_bound(lo)} <= {path} <= {_bound(hi)}")
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(f"{path}={value!r} is not allowed: choose one of {', '.join(meta['choices'])}")
    return value


def _bound(x: float) -> str:
    """A range bound, short (5e+07) unless that would round it (a seed's 4294967295)."""
    short = f"{x:g}"
    return short if float(short) == x else str(x)


def _check_dataclass(obj: Any, prefix: str) -> None:
    for spec in dataclasses.fields(obj):
        path = f"{prefix}{spec.name}"
        value = getattr(obj, spec.name)
        if spec.default_factory is dataclasses.MISSING:
            setattr(obj, spec.name, check_value(path, value, spec))
        elif isinstance(spec.default_factory(), dict):  # competitors: name -> FirmConfig
            if not isinstance(value, dict):
                raise ConfigError(f"{path}={value!r} is not allowed: expected a mapping of name to firm")
            for name, sub in value.items():
                if not isinstance(name, str):
                    raise ConfigError(f"{path}: the key {name!r} is not allowed: "
                                      "a competitor's key is its name, as text")
                _check_group(sub, FirmConfig, f"{path}.{name}")
        else:  # behaviour's groups: their keys named by their flat names, shorter and valid everywhere
            _check_group(value, type(spec.default_factory()), path, prefix if isinstance(obj, BehaviourConfig) else "")


def _check_group(value: Any, group: type, path: str, keys_prefix: str = "") -> None:
    if not isinstance(value, group):
        raise ConfigError(f"{path}={value!r} is not allowed: expected a group of keys ({group.__name__})")
    _check_dataclass(value, keys_prefix or path + ".")


def validate(cfg: SimConfig) -> SimConfig:
    """Check every value and the cross-field rules; raise `ConfigError` naming the key."""
    if not isinstance(cfg, SimConfig):
        raise ConfigError(f"cfg={type(cfg).__name__} is not allowed: give a sim.config.SimConfig "
                          "(e.g. sim.app.load_config([...]) or sim.config.from_dict({...}))")
    _check_dataclass(cfg, "")
    firms = all_firms(cfg)
    names = [f.name for f in firms]
    if len(set(names)) != len(names):
        raise ConfigError(f"firm names must differ: got {names}")
    if len(firms) > 100:
        raise ConfigError(f"competitors: {len(firms) - 1} competitors is too many: allowed at most 99")
    for key, f in _firm_keys(cfg):
        if not key.removeprefix("competitors.").strip() or not f.name.strip():
            raise ConfigError(f"{key}.name={f.name!r} is not allowed: a firm needs a name (and a non-empty key)")
        if f.promo_weeks > f.promo_every:
            raise ConfigError(
                f"{key}.promo_weeks={f.promo_weeks} is not allowed: must be <= {key}.promo_every={f.promo_every}"
            )
        if f.pricing == "match_cheapest" and f.price_floor > f.price:
            raise ConfigError(
                f"{key}.price_floor={f.price_floor:g} is not allowed with {key}.pricing=match_cheapest: "
                f"must be <= {key}.price={f.price:g} (matching never raises a price)"
            )
    if sum(f.initial_share for f in firms) <= 0 and cfg.market.initial_adoption > 0:
        raise ConfigError("firm.initial_share: all firms have initial_share 0 but market.initial_adoption > 0")
    survey = cfg.behaviour.survey
    if survey.detractor_threshold > survey.promoter_threshold:
        raise ConfigError(
            f"behaviour.detractor_threshold={survey.detractor_threshold} is not allowed: "  # flat names: shorter
            f"must be <= behaviour.promoter_threshold={survey.promoter_threshold}"
        )
    if cfg.network.kind == "file" and not cfg.network.path:
        raise ConfigError("network.path=null is not allowed when network.kind=file: give a graph file")
    if cfg.network.kind in GENERATED_KINDS and cfg.network.mean_degree >= cfg.market.customers:
        raise ConfigError(
            f"network.mean_degree={cfg.network.mean_degree:g} is not allowed: "
            f"must be < market.customers={cfg.market.customers}"
        )
    if cfg.network.kind == "complete" and cfg.market.customers > COMPLETE_GRAPH_LIMIT:
        raise ConfigError(
            f"market.customers={cfg.market.customers} is too large for network.kind=complete: "
            f"allowed at most {COMPLETE_GRAPH_LIMIT} (use small_world, scale_free or random)"
        )
    check_plan(cfg)
    return cfg


def _firm_keys(cfg: SimConfig) -> list[tuple[str, FirmConfig]]:
    return [("firm", cfg.firm)] + [(f"competitors.{k}", v) for k, v in cfg.competitors.items()]


def all_firms(cfg: SimConfig) -> list[FirmConfig]:
    """The focal firm first, then the competitors in config order, named by their keys."""
    firms = [cfg.firm]
    for key, comp in cfg.competitors.items():
        firms.append(dataclasses.replace(comp, name=key if comp.name == "Focal" else comp.name))
    return firms


def from_dict(data: dict[str, Any]) -> SimConfig:
    """Build and validate a `SimConfig` from nested plain dicts (e.g. a saved summary's config).

    `behaviour` may hold flat keys (as saved before the grouping) as well as groups.
    """

    def build(cls: type, values: dict[str, Any], prefix: str) -> Any:
        if not isinstance(values, dict):
            where = f"{prefix[:-1]}={values!r} is" if prefix else f"a config of type {type(values).__name__} is"
            raise ConfigError(f"{where} not allowed: expected a group of keys")
        if cls is BehaviourConfig:
            values = group_behaviour(values, prefix[:-1])
        known = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{prefix}{key}: unknown key ({_known(cls, key, known)})")
            default = known[key].default_factory() if known[key].default_factory is not dataclasses.MISSING else None
            if key == "competitors" and cls is SimConfig:
                value = {n: build(FirmConfig, v or {}, f"competitors.{n}.") for n, v in competitor_items(value)}
            elif dataclasses.is_dataclass(default):
                value = build(type(default), value, f"{prefix}{key}.")
            kwargs[key] = value
        return cls(**kwargs)

    def competitor_items(value: Any) -> Any:
        if not isinstance(value or {}, dict):
            raise ConfigError(f"competitors={value!r} is not allowed: expected a mapping of name to firm")
        return (value or {}).items()

    return validate(build(SimConfig, data, ""))


def to_dict(cfg: SimConfig) -> dict[str, Any]:
    """The config as nested plain dicts and lists, as JSON holds it (a tuple such as plan.changes becomes a list)."""
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return plain(dataclasses.asdict(cfg))
