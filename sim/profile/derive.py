"""From a business profile (owner's units) to the model's configuration (indices and weekly figures).

The market is the focal business and the rivals the profile names: its size is the people who
could buy from any of them, its reference price the customer-weighted average price, so every
firm's price becomes an index around 1 and the basket (spend per visit at reference price) is
that average price. Money per month becomes money per week (x 12/52), pay per hour becomes pay
per employee-week (x hours), contacts per staff-hour become contacts per employee-week. The same
profile always gives the same configuration (a pure function).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.config import ConfigError, FirmConfig, check_value
from sim.profile.fields import Profile, slug

WEEKS_PER_MONTH = 12 / 52
UNSERVED_DEFAULT = 0.4  # share of the potential market buying from none of the firms, when not given (assumption)
HIRE_WEEKS_OF_PAY = 2.0  # cost of a hire in weeks of pay, when not given (assumption)
TRAINING_SHARE_OF_PAY = 0.12  # empathy programme per person-week at full empathy, share of a week's pay (model default)


@dataclass(frozen=True)
class Row:
    """One derived model value: where it comes from, the model key, the value and its unit."""

    source: str
    key: str
    value: Any
    unit: str


@dataclass
class Derived:
    """The model configuration a profile gives: overrides by model key, the rows shown, and checks to read."""

    values: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def set(self, source: str, key: str, value: Any, unit: str) -> None:
        try:
            self.values[key] = check_value(key, value)
        except ConfigError as err:
            raise ConfigError(f"{source} gives {err}") from None
        self.rows.append(Row(source, key, self.values[key], unit))

    def overlay(self) -> dict[str, Any]:
        """The configuration as a Hydra config node: nested keys, the rivals replacing the default competitors."""
        node: dict[str, Any] = {"defaults": [{"override /competitors": "none"}]}
        for key, value in self.values.items():
            *parents, leaf = key.split(".")
            at = node
            for part in parents:
                at = at.setdefault(part, {})
            at[leaf] = value
        return node


def derive(p: Profile) -> Derived:
    """The model configuration of a profile; ConfigError naming the profile field if a derived value is out of range."""
    d = Derived()
    money = p.currency
    served = [p.customers.served, *(c.customers for c in p.competitors)]
    prices = [p.sales.average_ticket, *(c.price for c in p.competitors)]
    total = sum(served)
    reference = sum(s * q for s, q in zip(served, prices, strict=True)) / total
    potential = p.customers.potential or round(total / (1 - UNSERVED_DEFAULT))
    if potential < total:
        raise ConfigError(f"customers.potential={potential} is not allowed: must be >= the customers all firms "
                          f"serve ({total}: yours plus the rivals')")
    goods_share = p.sales.cost_of_goods if p.sales.cost_of_goods is not None else 1 - p.sales.gross_margin
    hours = p.staff.hours_per_week
    wage = p.staff.wage_per_hour * hours

    d.set("name", "firm.name", p.name, "")
    d.set("currency", "market.currency", money, "")
    d.set("years", "run.steps", 52 * p.years, "weeks")
    d.set("customers.potential (or served / 0.6)", "market.customers", potential, "people")
    d.set("served by all firms / potential", "market.initial_adoption", total / potential, "share")
    d.set("customers.price_driven_share", "market.price_driven_share", p.customers.price_driven_share, "share")
    d.set("customers.visits_per_week", "market.visit_rate", p.customers.visits_per_week, "visits per customer-week")
    d.set("customer-weighted average ticket", "market.basket", reference, f"{money} per visit at reference price")
    d.set("service.contacts_per_visit", "market.contacts_per_visit", p.service.contacts_per_visit, "share of visits")
    d.set("service.emotional_share", "market.emotional_share", p.service.emotional_share, "share of contacts")
    d.set("service.complaint_share", "market.failure_rate", p.service.complaint_share, "share of contacts")
    local = (p.staff.local_wage_per_hour or p.staff.wage_per_hour) * hours
    d.set("staff.local_wage_per_hour x hours", "market.market_wage", local, f"{money} per employee-week")

    d.set("customers.served / all served", "firm.initial_share", p.customers.served / total, "share")
    d.set("sales.average_ticket / basket", "firm.price", p.sales.average_ticket / reference, "price index")
    d.set("cost of goods x price index", "firm.unit_cost", goods_share * p.sales.average_ticket / reference,
          "share of the basket")
    d.set("strategy.empathy", "firm.empathy", p.strategy.empathy, "index 0..1")
    d.set("staff.count", "firm.staff", p.staff.count, "people")
    d.set("staff.wage_per_hour x hours", "firm.wage", wage, f"{money} per employee-week")
    d.set("contacts_per_staff_hour x hours", "firm.capacity", p.service.contacts_per_staff_hour * hours,
          "contacts per employee-week")
    d.set("staff.hire_cost (or 2 weeks' pay)", "firm.hire_cost",
          p.staff.hire_cost if p.staff.hire_cost is not None else HIRE_WEEKS_OF_PAY * wage, f"{money} per hire")
    d.set("staff.training_per_week (or 12% of pay)", "firm.empathy_cost",
          p.staff.training_per_week if p.staff.training_per_week is not None else TRAINING_SHARE_OF_PAY * wage,
          f"{money} per employee-week at empathy 1")
    d.set("costs: rent + other, x 12/52", "firm.fixed_cost",
          (p.costs.rent_per_month + p.costs.other_fixed_per_month) * WEEKS_PER_MONTH, f"{money} per week")
    d.set("service.bot_share", "firm.automation", p.service.bot_share, "share of contacts")
    fee_week = p.service.bot_fee_per_month * WEEKS_PER_MONTH
    d.set("bot fee x 12/52 / bot share", "firm.automation_cost",
          fee_week / p.service.bot_share if p.service.bot_share > 0 else fee_week, f"{money} per week at automation 1")
    d.set("service.bot_cost_per_contact", "firm.bot_contact_cost", p.service.bot_cost_per_contact,
          f"{money} per bot contact")
    prospects = max(potential - total, 1)
    reach = p.costs.marketing_per_month * WEEKS_PER_MONTH / p.costs.cost_per_person_reached / prospects
    d.set("marketing / cost per person / prospects", "firm.advertising", min(reach, 1.0), "share of prospects a week")
    d.set("costs.cost_per_person_reached", "firm.ad_cost", p.costs.cost_per_person_reached, f"{money} per person")

    for c, share in zip(p.competitors, served[1:], strict=True):
        key = f"competitors.{slug(c.name)}"
        where = f"competitors[{c.name}]"
        d.set(f"{where}.name", f"{key}.name", c.name, "")
        d.set(f"{where}.customers / all served", f"{key}.initial_share", share / total, "share")
        d.set(f"{where}.price / basket", f"{key}.price", c.price / reference, "price index")
        d.set(f"{where}.empathy", f"{key}.empathy", c.empathy, "index 0..1")
        d.set(f"{where}.bot_share", f"{key}.automation", c.bot_share, "share of contacts")
        d.set(f"{where}.pricing", f"{key}.pricing", c.pricing, "")
        if c.pricing == "match_cheapest":
            d.set(f"{where}: lowest price", f"{key}.price_floor", min(c.price / reference, min(prices) / reference),
                  "price index")
        for same in ("wage", "capacity", "unit_cost"):  # same goods, same labour market: as yours
            unit = next(r.unit for r in d.rows if r.key == f"firm.{same}")
            d.set(f"as yours ({same})", f"{key}.{same}", d.values[f"firm.{same}"], unit)
        d.set("as yours (fixed costs unknown: 0)", f"{key}.fixed_cost", 0.0, f"{money} per week")
    for key, value in p.model.items():
        d.set(f"model.{key}", key, value, "set directly")

    _notes(d, p, reference, total)
    return d


def _notes(d: Derived, p: Profile, reference: float, total: int) -> None:
    """Checks in the owner's units: turnover at the start, staff load, cost of a person's contact."""
    money, v = p.currency, d.values
    weekly_visits = p.customers.served * p.customers.visits_per_week
    d.notes.append(f"revenue at the start: {weekly_visits:,.0f} visits a week x {p.sales.average_ticket:,.2f} "
                   f"= {weekly_visits * p.sales.average_ticket:,.0f} {money}/week "
                   f"({weekly_visits * p.sales.average_ticket * 52:,.0f} {money}/year)")
    handover = FirmConfig().bot_handover  # bots hand this share of emotional or failed contacts to a person
    emotional = min(p.service.emotional_share + p.service.complaint_share, 1)
    human = weekly_visits * p.service.contacts_per_visit * (1 - p.service.bot_share * (1 - emotional * handover))
    load = human / (p.staff.count * v["firm.capacity"])
    d.notes.append(f"staff load at the start: about {human:,.0f} contacts a week with people for "
                   f"{p.staff.count} x {v['firm.capacity']:,.0f} = {load:.0%} of capacity"
                   + (" (over 100%: service suffers; check contacts_per_staff_hour)" if load > 1 else ""))
    d.notes.append(f"a contact with a person costs {v['firm.wage'] / v['firm.capacity']:,.2f} {money} at full load "
                   f"(pay per week / contacts per week); a bot contact {p.service.bot_cost_per_contact:,.2f} {money}")
    d.notes.append(f"reference price {reference:,.2f} {money} (customer-weighted average over {total:,} customers "
                   "of all firms): prices are indices around 1")
    d.notes.append("the run starts after a warm-up (run.burn_in weeks), so customers at week 0 are where this "
                   "market settles from these starting shares, not necessarily the figures above")


def table(d: Derived) -> str:
    """The derivation as a short text table: profile field -> model key = value, with units."""
    width = max(len(r.source) for r in d.rows)
    key_width = max(len(r.key) for r in d.rows)
    lines = ["what the profile sets in the model:"]
    for r in d.rows:
        value = f"{r.value:,.4g}" if isinstance(r.value, float) else str(r.value)
        lines.append(f"  {r.source:<{width}} -> {r.key:<{key_width}} = {value} {r.unit}".rstrip())
    return "\n".join(lines + [f"  note: {n}" for n in d.notes])
