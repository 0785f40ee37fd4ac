"""The business profile's fields, in the owner's units, and how a profile file is read.

A profile is the business as its owner knows it (customers, ticket, staff, rent, rivals' prices),
not the model's indices. Every field carries its allowed range, unit and meaning in its metadata,
so one reader checks a file with one-line errors (`sim.config.check_value`) and one writer
(`sim.profile.template`) documents it. `extends:` lets a file overlay another (e.g. a fitted
overlay on the owner's profile); `model:` sets model keys directly, applied last.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.config import CURRENCIES, PRICING_POLICIES, ConfigError, check_value, field_spec

EXTENDS_DEPTH = 10  # profiles a chain of `extends:` may hold


def _f(default: Any, lo: float | None, hi: float | None, unit: str, doc: str) -> Any:
    meta: dict[str, Any] = {"unit": unit, "doc": doc}
    if lo is not None:
        meta["range"] = (lo, hi)
    return field(default=default, metadata=meta)


def _choice(default: str, choices: tuple[str, ...], doc: str) -> Any:
    return field(default=default, metadata={"choices": choices, "unit": "", "doc": doc})


@dataclass
class Customers:
    """Who buys from you today, and how often."""

    served: int = _f(400, 1, 10_000_000, "customers", "regular customers you serve today (bought in the last 3 months)")
    visits_per_week: float = _f(1.0, 0.01, 50, "visits per customer per week", "how often a regular buys")
    price_driven_share: float = _f(0.5, 0, 1, "share of customers",
                                   "share who buy mainly on price (0.2-0.4 cafes and specialty shops, "
                                   "0.5 mixed, 0.7-0.9 commodity resellers); 0.5 if unsure")
    potential: int | None = _f(None, 10, 50_000_000, "people",
                               "people nearby who could buy from any of these firms; "
                               "null: those served by all firms / 0.6 (assumption: 40% buy from none today)")


@dataclass
class Sales:
    """What a visit brings in and what the goods cost."""

    average_ticket: float = _f(10.0, 0.01, 1_000_000, "currency per visit", "average spend per visit")
    cost_of_goods: float | None = _f(None, 0, 0.95, "share of sales",
                                     "cost of the goods sold; give this or gross_margin")
    gross_margin: float | None = _f(None, 0.05, 1, "share of sales", "1 - cost of goods; give this or cost_of_goods")


@dataclass
class Staff:
    """The people who serve customers and what they cost."""

    count: int = _f(4, 1, 1_000_000, "people", "staff serving customers (full-time equivalents)")
    wage_per_hour: float = _f(15.0, 0.01, 100_000, "currency per hour", "pay per hour, with employer's costs")
    hours_per_week: float = _f(35.0, 1, 80, "hours per week", "hours each person works a week")
    local_wage_per_hour: float | None = _f(None, 0.01, 100_000, "currency per hour",
                                           "what similar jobs pay nearby (pay is judged against it); null: yours")
    hire_cost: float | None = _f(None, 0, 10_000_000, "currency per hire",
                                 "cost of one hire (adverts, interviews, training time); "
                                 "null: 2 weeks' pay (assumption)")
    training_per_week: float | None = _f(None, 0, 1_000_000, "currency per person-week",
                                         "empathy training and leadership at full empathy; "
                                         "null: 12% of a week's pay (assumption, the model's default ratio)")


@dataclass
class Service:
    """Service contacts: how many, what kind, who handles them."""

    contacts_per_visit: float = _f(0.3, 0, 1, "share of visits",
                                   "share of visits with a real conversation (advice, a problem, a chat)")
    emotional_share: float = _f(0.1, 0, 1, "share of contacts", "contacts that are emotionally charged")
    complaint_share: float = _f(0.04, 0, 1, "share of contacts", "contacts where something went wrong")
    contacts_per_staff_hour: float = _f(10.0, 0.05, 2_000, "contacts per staff-hour",
                                        "contacts one person can handle in an hour of work")
    bot_share: float = _f(0.0, 0, 1, "share of contacts", "contacts first handled by a bot or self-service")
    bot_cost_per_contact: float = _f(0.0, 0, 1_000, "currency per bot contact", "what one bot contact costs")
    bot_fee_per_month: float = _f(0.0, 0, 10_000_000, "currency per month", "the bot platform's fee")


@dataclass
class Costs:
    """Fixed costs and marketing, per month."""

    rent_per_month: float = _f(0.0, 0, 100_000_000, "currency per month", "rent of the premises")
    other_fixed_per_month: float = _f(0.0, 0, 100_000_000, "currency per month",
                                      "utilities, insurance, accounting, loan payments, ...")
    marketing_per_month: float = _f(0.0, 0, 100_000_000, "currency per month", "adverts, flyers, online ads")
    cost_per_person_reached: float = _f(0.5, 0.001, 10_000, "currency per person reached",
                                        "what reaching one potential customer once costs (assumption: 0.5)")


@dataclass
class Strategy:
    """Your strategy levers, as the model reads them."""

    empathy: float = _f(0.5, 0, 1, "index", "investment in empathetic hiring, training and leadership")


@dataclass
class Competitor:
    """A rival, as you see it from your shop."""

    name: str = field(default="", metadata={"unit": "", "doc": "the rival's name"})
    price: float = _f(10.0, 0.01, 1_000_000, "currency per visit", "what your average ticket costs there")
    customers: int = _f(400, 1, 50_000_000, "customers", "rough number of customers they serve")
    empathy: float = _f(0.3, 0, 1, "index", "how warm their service is (0.2 chain, 0.5 independent)")
    bot_share: float = _f(0.2, 0, 1, "share of contacts", "contacts their bot or app handles")
    pricing: str = _choice("fixed", PRICING_POLICIES, "fixed, promotions or match_cheapest")


@dataclass
class Profile:
    """A whole business profile."""

    name: str = field(default="MyBusiness", metadata={"unit": "", "doc": "your business's name"})
    currency: str = _choice("EUR", CURRENCIES, "ISO 4217 code of every money figure")
    years: int = _f(2, 1, 20, "years", "how long to simulate")
    customers: Customers = field(default_factory=Customers)
    sales: Sales = field(default_factory=Sales)
    staff: Staff = field(default_factory=Staff)
    service: Service = field(default_factory=Service)
    costs: Costs = field(default_factory=Costs)
    strategy: Strategy = field(default_factory=Strategy)
    competitors: list[Competitor] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)


SECTIONS = {f.name: f.default_factory for f in dataclasses.fields(Profile)
            if f.default_factory is not dataclasses.MISSING and dataclasses.is_dataclass(f.default_factory)}


def read(path: Path | str) -> Profile:
    """A profile file (following its `extends:` chain), every field checked; ConfigError naming file and key."""
    from sim.app import read_user_yaml  # the app's bounded YAML reader (alias bombs refused)

    path = Path(path)
    chain: list[Path] = []
    data: dict[str, Any] = {}
    while True:
        if not path.is_file():
            raise ConfigError(f"business={path}: no such file")
        if path.resolve() in chain or len(chain) >= EXTENDS_DEPTH:
            raise ConfigError(f"{path}: extends: a chain of more than {EXTENDS_DEPTH} profiles, or a loop")
        chain.append(path.resolve())
        text = read_user_yaml(path)
        if not isinstance(text, dict):
            raise ConfigError(f"{path}: expected a mapping of profile fields at the top level")
        data = merge(text, data)
        parent = data.pop("extends", None)
        if parent is None:
            break
        if not isinstance(parent, str):
            raise ConfigError(f"{path}: extends={parent!r} is not allowed: expected the path of a profile file")
        path = (path.parent / parent) if not Path(parent).is_absolute() else Path(parent)
    return build(data, str(chain[0].name))


def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """`top` over `base`: mappings merged key by key, anything else replaced."""
    out = dict(base)
    for key, value in top.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def build(data: dict[str, Any], source: str) -> Profile:
    """A checked profile from plain data; ConfigError `<source>: <key>=<value> ...` on the first bad field."""
    profile = _fill(Profile, data, "", source)
    if (profile.sales.cost_of_goods is None) == (profile.sales.gross_margin is None):
        raise ConfigError(f"{source}: sales: give exactly one of cost_of_goods or gross_margin (a share of sales), "
                          "e.g. cost_of_goods: 0.3")
    names = [c.name for c in profile.competitors]
    if len(set(map(slug, names))) != len(names) or slug(profile.name) in map(slug, names):
        raise ConfigError(f"{source}: competitors: names must differ from each other and from name={profile.name!r}")
    for key, value in profile.model.items():
        try:
            check_value(model_key(key), value)
        except ConfigError as err:
            raise ConfigError(f"{source}: model: {err}") from None
    return profile


def _fill(cls: type, data: Any, prefix: str, source: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'the file'}={data!r} is not allowed: expected a mapping")
    known = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{source}: {prefix}{key}: unknown field (known: {', '.join(known)})")
        spec, path = known[key], f"{prefix}{key}"
        if key == "competitors" and cls is Profile:
            if not isinstance(value, list):
                raise ConfigError(f"{source}: competitors={value!r} is not allowed: expected a list of rivals")
            values[key] = [_competitor(item, f"competitors[{i}].", source) for i, item in enumerate(value)]
        elif key == "model" and cls is Profile:
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: model={value!r} is not allowed: expected a mapping of model keys")
            values[key] = dict(value)
        elif key in SECTIONS and cls is Profile:
            values[key] = _fill(SECTIONS[key], value, f"{path}.", source)
        else:
            try:
                values[key] = check_value(path, value, spec)
            except ConfigError as err:
                raise ConfigError(f"{source}: {err}") from None
    return cls(**values)


def _competitor(item: Any, prefix: str, source: str) -> Competitor:
    competitor = _fill(Competitor, item, prefix, source)
    if not competitor.name.strip() or not slug(competitor.name):
        raise ConfigError(f"{source}: {prefix}name={competitor.name!r} is not allowed: a rival needs a name")
    for key in ("price", "customers"):
        if key not in item:
            doc = Competitor.__dataclass_fields__[key].metadata["doc"]
            raise ConfigError(f"{source}: {prefix}{key}: required ({doc})")
    return competitor


def model_key(key: Any) -> str:
    """A `model:` key, checked to name one value of the model's schema (e.g. behaviour.switching_cost)."""
    spec = field_spec(key) if isinstance(key, str) else None
    if spec is None or spec.default_factory is not dataclasses.MISSING:
        raise ConfigError(f"{key!r} is not allowed: expected a model key with a value, e.g. behaviour.switching_cost")
    return key


def slug(name: str) -> str:
    """A firm's config key from its name: lower case, words joined by underscores."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
