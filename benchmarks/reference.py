"""ReferenceMarket: the rules of sim's EmpathyMarket written as a plain per-agent Mesa model.

Every customer, employee and firm is a `mesa.Agent` with plain attributes, stepped one by one in
Python through AgentSet verbs, on a networkx graph: the way an agent-based model is usually
written. It is the executable specification of sim's rules: each rule is written again here
from docs/ODD.md, the firms' policies too (pricing 7.1, restaffing 7.10, adaptation and the
response to losses 7.11, incidents 7.12, as methods of `Firm`), so that a slip in either model
shows up as a disagreement. It starts from the same draw as the real model (graph, population and
workforce at the same seed); its random draws differ, so the two agree statistically
(tests/test_reference_agreement.py), and the benchmark times one against the other.
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics
from dataclasses import dataclass, replace
from typing import NamedTuple

import mesa
import numpy as np

from sim import customers as cu
from sim import employees as em
from sim import network
from sim.choice import weekly_discount
from sim.config import LOSS_RESPONSES, FirmConfig, SimConfig, all_firms, validate
from sim.rng import Streams


class Terms(NamedTuple):
    """One option's utility to one customer: shortfalls from an ideal firm, and word of mouth."""

    quality: float
    empathy: float
    price: float
    buzz: float

    def utility(self) -> float:
        return self.buzz - self.quality - self.empathy - self.price


GOING_WITHOUT = Terms(0.0, 0.0, 0.0, 0.0)
REASON_OF_TERM = (cu.INDIFFERENCE, cu.PRICE, cu.POOR_SERVICE, cu.COMPETITOR_PULL)


def churn_reason(current: Terms, chosen: Terms, to_rival: bool, last_event: int) -> int:
    """The term that gained most by the move names the reason; none gained: the taste shock ("other").

    Word of mouth pulls a customer only to a rival, not to going without.
    """
    gains = (current.empathy - chosen.empathy, current.price - chosen.price, current.quality - chosen.quality,
             chosen.buzz - current.buzz if to_rival else -math.inf)
    best = max(range(len(gains)), key=gains.__getitem__)
    if gains[best] <= 0:
        return cu.OTHER
    reason = REASON_OF_TERM[best]
    return cu.BOT_FRUSTRATION if reason == cu.POOR_SERVICE and last_event == cu.EVENT_BOT_FRUSTRATION else reason


@dataclass(slots=True)
class Contact:
    """A week's contacts with the firm: how many, their kind, who met them first, and the person serving them."""

    contacts: int
    emotional: bool
    bot: bool
    handed_over: bool
    server: Employee | None


class Firm(mesa.Agent):
    """A firm: its levers and policies (pricing, staffing, adaptation), reputation and books."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, index: int, config: FirmConfig) -> None:
        super().__init__(model)
        self.index, self.config, self.customers, self.active = index, config, 0, True
        self.empathy, self.automation = config.empathy, config.automation
        self.bot_handover, self.bot_quality = config.bot_handover, config.bot_quality
        self.base_price = self.price = config.price
        # reputations start at what the strategy promises; the warm-up replaces them with experience
        self.reputation_quality = model.cfg.behaviour.initial_reputation_quality
        self.reputation_empathy = 0.3 + 0.4 * self.empathy * (1 - self.automation)
        self.profit_since_review, self.losing_reviews, self.loss_stage = 0.0, 0, 0
        self.customers_at_review = self.human_since_restaff = 0
        self.customer_weeks = self.churned_total = self.answers = self.net_promoters = 0
        self.employee_weeks = self.quits_total = self.referrals = 0
        self.burnout_total = self.profit = self.price_total = 0.0
        self.weeks_in_market = 0
        self.relationships = self.closed_value = 0.0
        self.churn_by_reason = [0] * len(cu.CHURN_REASONS)  # over the recorded weeks

    def rivals(self) -> list[Firm]:
        """The other firms still in the market."""
        return [f for f in self.model.firm_list if f is not self and f.active]

    def set_price(self) -> None:
        """7.1: fixed; a promotion's cut in its weeks; or follow the cheapest rival's price of last week
        down, never above the base price nor below the floor."""
        c, week, rivals = self.config, self.model.week, self.rivals()
        if c.pricing == "promotions" and week % c.promo_every < c.promo_weeks:
            self.price = self.base_price * (1 - c.promo_depth)
        elif c.pricing == "match_cheapest" and rivals:
            self.price = max(c.price_floor, min(self.base_price, min(f.price_last_week for f in rivals)))
        else:
            self.price = self.base_price

    def failure_rate(self) -> float:
        """7.12: the market's chance a contact goes wrong, raised while an incident lasts (calendar weeks)."""
        c, base = self.config, self.model.cfg.market.failure_rate
        now = self.model.week - self.model.cfg.run.burn_in
        if c.incident_week is not None and c.incident_week <= now < c.incident_week + c.incident_weeks:
            return min(1.0, base + c.incident_failure_rate)
        return base

    def expected_human_share(self, emotional: float) -> float:
        """Share of encounters that reach a person: those the bot does not take, and emotional ones it hands over."""
        return 1 - self.automation * (1 - emotional * self.bot_handover)

    def staff_needed(self, human_contacts: float) -> int:
        """Headcount serving `human_contacts` a week at the target utilisation; at least one."""
        return max(1, math.ceil(human_contacts / (self.config.capacity * self.model.cfg.behaviour.target_utilisation)))

    def starting_staff(self, customers: int) -> int:
        """Its configured headcount, else sized to the human contacts its starting customers are expected to make."""
        if self.config.staff is not None:
            return self.config.staff
        m = self.model.cfg.market
        return self.staff_needed(customers * m.visit_rate * m.contacts_per_visit
                                 * self.expected_human_share(m.emotional_share + m.failure_rate))

    def restaff(self, jobs: list[Employee]) -> None:
        """7.10: staffed to demand, open vacancies up to the recent human contacts' need, or close vacant ones
        (nobody is laid off); other firms keep their jobs."""
        weekly = self.human_since_restaff / self.model.cfg.behaviour.restaff_every
        self.human_since_restaff = 0
        if not (self.active and self.config.staff_to_demand and self.config.staff is None):
            return
        target = self.staff_needed(weekly)
        vacant = [job for job in jobs if job.status == em.VACANT]
        for job in vacant[: max(len(jobs) - target, 0)]:
            job.remove()
        for _ in range(target - len(jobs)):
            Employee(self.model, self, em.VACANT, refill_at=self.model.week + self.model.search_weeks())

    def review(self, best: Firm, losses_count: bool) -> None:
        """7.11: an adaptive firm that lost customers cuts its base price to the cheapest rival's (not below its
        floor); it moves its automation towards the most profitable firm's; it responds to repeated losses."""
        a, c, rivals = self.model.cfg.adapt, self.config, self.rivals()
        if a.price_matching and self.customers < self.customers_at_review and rivals:
            matched = max(c.price_floor, min(self.base_price, min(f.base_price for f in rivals)))
            if matched < self.base_price:
                self.note(f"cut its base price to {matched:.2f}")
                self.base_price = matched
        if a.imitation and best is not self and abs(best.automation - self.automation) > 1e-9:
            self.automation += a.imitation_rate * (best.automation - self.automation)
            self.note(f"moved automation to {self.automation:.2f}")
        if a.loss_response != "none" and losses_count:
            self.respond_to_losses()

    def respond_to_losses(self) -> None:
        """After `loss_reviews` loss-making reviews running, the next step allowed: cut costs, reprice, exit."""
        a = self.model.cfg.adapt
        if self.profit_since_review >= 0:
            self.losing_reviews = 0
            return
        self.losing_reviews += 1
        if self.losing_reviews < a.loss_reviews or self.loss_stage + 1 > LOSS_RESPONSES.index(a.loss_response):
            return
        self.losing_reviews, self.loss_stage = 0, self.loss_stage + 1
        response = LOSS_RESPONSES[self.loss_stage]
        if response == "cut":
            self.config = replace(self.config, advertising=self.config.advertising * (1 - a.cost_cut),
                                              staff=None, staff_to_demand=True)
        elif response == "reprice":
            rivals = self.rivals()
            if rivals:
                model = max(rivals, key=lambda f: f.profit_since_review)
                self.base_price = max(self.config.price_floor,
                                      self.base_price + a.imitation_rate * (model.base_price - self.base_price))
        else:
            self.active = False
            self.config = replace(self.config, advertising=0.0, fixed_cost=0.0, automation_cost=0.0,
                                              staff=None)
        self.note(response)

    def note(self, change: str) -> None:
        self.model.notes.append(f"week {self.model.week - self.model.cfg.run.burn_in}: {self.config.name} {change}")

    def open_books(self) -> None:
        """Fix this week's failure rate and discounted margin per visit; clear the week's counts."""
        m = self.model
        self.failure = self.failure_rate()
        self.margin = m.cfg.market.basket * (self.price - self.config.unit_cost) / (1 + m.discount) ** m.week
        self.at_start = self.customers
        self.churned = self.visits = self.bot_contacts = self.human_contacts = self.hires = 0
        self.promoters = self.detractors = self.praise = self.quits = 0
        self.week_closed_value = 0.0
        self.acquisitions = [0] * len(cu.CHANNELS)
        self.churn_this_week = [0] * len(cu.CHURN_REASONS)
        self.team: list[Employee] = []

    def serve_with(self) -> Employee | None:
        """A uniformly chosen active employee for a human contact; None when nobody works here."""
        return self.random.choice(self.team) if self.team else None

    def survey(self, members: list[Customer]) -> None:
        """Ask the customers, after this week's service, how good and how caring the firm is."""
        self.surveyed = (statistics.fmean(x.quality for x in members),
                         statistics.fmean(x.felt_empathy for x in members)) if members else None
        b = self.model.cfg.behaviour
        answers = [x.recommendation() for x in members]
        self.promoters = sum(r >= b.promoter_threshold for r in answers)
        self.detractors = sum(r < b.detractor_threshold for r in answers)

    def close_books(self, customers: int, staff: list[Employee], prospects: int) -> None:
        """Take the surveyed reputation, book the profit, record the week's counts."""
        m, c = self.model, self.config
        self.customers = customers
        if self.surveyed:
            self.reputation_quality, self.reputation_empathy = self.surveyed
        basket = m.cfg.market.basket
        costs = (self.visits * basket * c.unit_cost + len(staff) * (c.wage + c.empathy_cost * self.empathy)
                 + self.automation * c.automation_cost + self.bot_contacts * c.bot_contact_cost
                 + c.advertising * prospects * c.ad_cost + self.hires * c.hire_cost
                 + self.acquisitions[cu.REFERRAL] * c.referral_bonus + c.fixed_cost)
        profit = self.visits * basket * self.price - costs
        self.profit_since_review += profit
        if m.week < m.cfg.run.burn_in:
            return
        self.profit += profit
        self.price_total += self.price
        self.weeks_in_market += self.active
        if m.week == m.cfg.run.burn_in:  # the relationships open when recording starts
            self.relationships = self.at_start
        self.customer_weeks += self.at_start
        self.churned_total += self.churned
        self.churn_by_reason = [a + b for a, b in zip(self.churn_by_reason, self.churn_this_week, strict=True)]
        self.answers += customers
        self.net_promoters += self.promoters - self.detractors
        self.employee_weeks += len(staff)
        self.burnout_total += sum(e.burnout for e in staff)
        self.quits_total += self.quits
        self.referrals += self.praise
        self.relationships += sum(self.acquisitions)
        self.closed_value += self.week_closed_value


class Customer(mesa.Agent):
    """A customer: a node of the word-of-mouth graph, with its perceptions of its current firm."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, node: int, segment: int, need: float, firm: Firm | None,
                 quality: float, felt_empathy: float, attachment: float, since: int, response: float) -> None:
        super().__init__(model)
        m = model.cfg.market
        self.node, self.need, self.firm = node, need, firm
        driven = segment == cu.PRICE_DRIVEN
        self.price_sensitivity = m.price_driven_price_sensitivity if driven else m.relationship_price_sensitivity
        self.quality, self.felt_empathy, self.attachment = quality, felt_empathy, attachment
        self.since, self.value, self.last_event, self.response = since, 0.0, cu.EVENT_NONE, response
        self.buzz = [0.0] * len(model.firm_list)
        self.heard = [0] * len(model.firm_list)
        self.contact: Contact | None = None

    def terms(self, firm: Firm) -> Terms:
        """The current firm is judged by own experience, the others by their reputation."""
        b = self.model.cfg.behaviour
        own = firm is self.firm
        quality = self.quality if own else firm.reputation_quality
        empathy = self.felt_empathy if own else firm.reputation_empathy
        return Terms(b.quality_weight * (1 - quality), b.empathy_weight * self.need * (1 - empathy**b.empathy_returns),
                     b.price_weight * self.price_sensitivity * (firm.price - 1),
                     self.model.buzz_weight * self.buzz[firm.index])

    def reconsider(self) -> None:
        """Leave for reasons outside the model, or review: logit over the firms and going without."""
        m, b = self.model, self.model.cfg.behaviour
        if self.firm is None:
            return
        if not self.firm.active:  # the firm left the market
            self.leave(cu.OTHER)
            return
        if self.random.random() < m.cfg.market.base_churn:
            self.leave(cu.OTHER)
            return
        if not b.choice or self.random.random() >= b.review_rate:
            return
        options = [self.terms(f) for f in m.firm_list] + [GOING_WITHOUT]
        utility = [t.utility() if i == len(m.firm_list) or m.firm_list[i].active else -math.inf
                   for i, t in enumerate(options)]
        current = self.firm.index
        utility[current] += b.switching_cost + b.attachment_weight * self.attachment
        utility[-1] += m.cfg.market.outside_utility
        top = max(utility)
        weights = [math.exp((u - top) / b.choice_noise) for u in utility]
        chosen = self.random.choices(range(len(options)), weights)[0]
        if chosen == current:
            return
        to_rival = chosen < len(m.firm_list)
        self.leave(churn_reason(options[current], options[chosen], to_rival, self.last_event))
        if to_rival:
            self.join(m.firm_list[chosen], cu.SWITCHING)

    def leave(self, reason: int) -> None:
        """End the relationship; the firm books its value, discounted to the relationship's start."""
        firm = self.firm
        firm.churned += 1
        firm.churn_this_week[reason] += 1
        firm.week_closed_value += self.value * (1 + self.model.discount) ** self.since
        self.firm, self.attachment = None, 0.0

    def join(self, firm: Firm, channel: int) -> None:
        """Start a relationship, expecting what the firm's reputation promises."""
        self.firm, self.since, self.value, self.attachment = firm, self.model.week, 0.0, 0.0
        self.last_event = cu.EVENT_NONE
        self.quality, self.felt_empathy = firm.reputation_quality, firm.reputation_empathy
        firm.acquisitions[channel] += 1

    def visit(self) -> None:
        """Visit a Poisson number of times; the week's contacts, if any, meet a bot or a person."""
        m, firm, draw = self.model.cfg.market, self.firm, self.random.random
        self.contact, self.purchases = None, 0
        if firm is None:
            return
        self.purchases = int(self.model.rng.poisson(m.visit_rate))
        contacts = sum(draw() < m.contacts_per_visit for _ in range(self.purchases))
        firm.visits += self.purchases
        if contacts == 0:
            return
        emotional = draw() < 1 - (1 - min(m.emotional_share + firm.failure, 1)) ** contacts
        bot = draw() < firm.automation
        handed_over = bot and emotional and draw() < firm.bot_handover
        server = None
        if not bot or handed_over:
            server = firm.serve_with()
            if server is not None:
                server.take(contacts, emotional)
        self.contact = Contact(contacts, emotional, bot, handed_over, server)
        firm.bot_contacts += contacts * bot
        firm.human_contacts += contacts * (not bot or handed_over)

    def experience(self) -> None:
        """Live this week's contact: perceptions, attachment, the relationship's value."""
        b, firm, contact = self.model.cfg.behaviour, self.firm, self.contact
        if firm is None:
            return
        self.attachment *= 1 - b.attachment_decay
        self.value += self.purchases * firm.margin
        if contact is None:
            return
        frustrated = contact.bot and contact.emotional and not contact.handed_over and b.bot_frustration > 0
        human = not contact.bot or contact.handed_over
        empathy, event = 0.0, cu.EVENT_NONE
        if not human:
            quality = firm.bot_quality * (1 - b.bot_frustration if frustrated else 1)
            event = cu.EVENT_BOT_FRUSTRATION if frustrated else cu.EVENT_NONE
        elif contact.server is None:
            quality, event = 0.0, cu.EVENT_FAILED
        else:
            quality = contact.server.quality_now - b.handover_penalty * contact.handed_over
            empathy = contact.server.empathy_now
            if contact.emotional:  # an upset customer who needs empathy is won back by it, others by a fix
                weight = b.recovery_empathy * self.need
                p_recover = (1 - weight) * quality + weight * empathy
                if self.random.random() < p_recover:
                    quality, event = min(quality + b.recovery_bonus, 1.0), cu.EVENT_RECOVERED
                else:
                    quality, event = quality * b.unrecovered_quality, cu.EVENT_FAILED
        quality = min(max(quality, 0.0), 1.0)
        self.quality += b.learning_rate * (quality - self.quality)
        if human or frustrated:  # a routine bot contact says nothing about whether the firm cares
            self.felt_empathy += b.learning_rate * (empathy - self.felt_empathy)
        self.attachment += b.attachment_rate * self.need * empathy * (1 - self.attachment)
        self.last_event = event

    def recommendation(self) -> float:
        """Willingness to recommend: satisfaction lifted by attachment, shifted by the customer's response style."""
        b = self.model.cfg.behaviour
        s = (1 - self.need) * self.quality + self.need * self.felt_empathy**b.empathy_returns
        return min(max(s + b.nps_attachment * self.attachment * (1 - s) + self.response, 0.0), 1.0)

    def forget(self) -> None:
        """Buzz fades; last week's referrals are gone."""
        memory = self.model.cfg.wom.buzz_memory
        self.buzz = [memory * x for x in self.buzz]
        self.heard = [0] * len(self.heard)

    def talk(self) -> None:
        """A promoter may praise its firm to every neighbour, a detractor (more often) warn them."""
        b, wom, firm = self.model.cfg.behaviour, self.model.cfg.wom, self.firm
        if firm is None:
            return
        recommend = self.recommendation()
        u = self.random.random()
        if recommend >= b.promoter_threshold and u < wom.talk_rate:
            sign = 1
        elif recommend < b.detractor_threshold and u < wom.talk_rate * wom.negativity:
            sign = -1
        else:
            return
        if sign > 0:
            firm.praise += len(self.model.graph[self.node])
        for node in self.model.graph[self.node]:
            listener = self.model.customer_at[node]
            listener.buzz[firm.index] += sign
            if sign > 0:
                listener.heard[firm.index] += 1

    def consider_adopting(self) -> None:
        """A prospect may adopt a firm, reached by its adverts or its customers' referrals."""
        m = self.model
        if self.firm is not None:
            return
        m.prospects += 1
        noise, strength = m.cfg.behaviour.choice_noise, m.cfg.wom.referral_strength
        u = self.random.random()
        if u >= 1 - m.unadvertised * math.exp(-strength * sum(self.heard)):
            return  # not reached by any advert or referral: no conversion chance to weigh
        options = []  # (hazard, firm, channel); converts with the chance f beats going without
        for f in m.firm_list:
            gap = (self.terms(f).utility() - m.cfg.market.outside_utility) / noise
            convert = f.active / (1 + math.exp(-min(max(gap, -50), 50)))
            options.append((f.config.advertising * convert, f, cu.ADVERTISING))
            options.append(((1 - math.exp(-strength * self.heard[f.index])) * convert, f, cu.REFERRAL))
        p_adopt = 1 - math.prod(1 - hazard for hazard, _, _ in options)
        if u < p_adopt:  # the same draw names the firm and channel, in proportion to the hazards
            cdf = list(itertools.accumulate(hazard for hazard, _, _ in options))
            _, firm, channel = options[min(bisect.bisect_left(cdf, u / p_adopt * cdf[-1]), len(cdf) - 1)]
            self.join(firm, channel)


class Employee(mesa.Agent):
    """One job at a firm: filled by a person (active) or waiting for a hire (vacant)."""

    model: ReferenceMarket

    def __init__(self, model: ReferenceMarket, employer: Firm, status: int, skill: float = 0.0,
                 engagement: float = 0.0, tenure: int = 0, refill_at: int = 0, disposition: float = 0.0) -> None:
        super().__init__(model)
        self.employer, self.status, self.skill, self.engagement = employer, status, skill, engagement
        self.disposition = disposition
        self.tenure, self.refill_at, self.burnout = tenure, refill_at, 0.0
        self.routine = self.emotional = 0

    def take(self, contacts: int, emotional: bool) -> None:
        """Take a customer's week of contacts: one emotional if the encounter is, the rest routine."""
        self.emotional += emotional
        self.routine += contacts - emotional

    def get_ready(self) -> None:
        """The quality and empathy this person gives this week: competence, engagement, burnout, load."""
        b = self.model.cfg.behaviour
        load = (self.routine + self.emotional) / self.employer.config.capacity
        chain = 1 - b.service_profit_chain * (1 - self.engagement)
        competence = 1 - b.new_hire_gap * math.exp(-self.tenure / b.learning_weeks)
        self.quality_now = competence * chain * min(max(1 - b.overload_quality * max(load - 1, 0), 0), 1)
        self.empathy_now = self.skill * chain * (1 - self.burnout)

    def work(self) -> None:
        """Strain moves burnout; leadership, overload and burnout move engagement; training adds skill."""
        b, empathy = self.model.cfg.behaviour, self.employer.empathy
        capacity = self.employer.config.capacity
        if self.status == em.ACTIVE:
            load = (self.routine + self.emotional) / capacity
            emotional_weight = b.emotional_labour * (b.emotional_strain_base + empathy)
            effort = b.routine_effort * self.routine + emotional_weight * self.emotional
            strain = effort / capacity
            burn_target = min(max((strain - b.burnout_threshold) / (1 - b.burnout_threshold), 0), 1)
            self.burnout += b.burnout_rate * (burn_target - self.burnout)
            demands = b.overload_effect * max(load - 1, 0) + b.burnout_drag * self.burnout
            target = self.model.resources(self.employer) - demands + self.disposition
            self.engagement += b.engagement_rate * (min(max(target, 0), 1) - self.engagement)
            self.skill += b.training_rate * empathy * (1 - self.skill)
            self.tenure += 1
        self.routine = self.emotional = 0

    def quit_or_hire(self) -> None:
        """The disengaged and burnt out quit; a vacancy whose search is over is filled by a new hire."""
        m, b = self.model, self.model.cfg.behaviour
        if self.status == em.ACTIVE:
            push = b.base_quit + b.quit_disengaged * (1 - self.engagement) ** 2 + b.quit_burnout * self.burnout**2
            p_quit = min(push * m.pay(self.employer) ** -b.pay_quit_elasticity, 1)  # the well paid stay
            if self.random.random() < p_quit:
                self.status, self.refill_at = em.VACANT, m.week + m.search_weeks()
                self.employer.quits += 1
        if self.status == em.VACANT and self.refill_at <= m.week:
            self.hire()

    def hire(self) -> None:
        """A new person: skill from the firm's hiring, a disposition of their own, rested, learning the job."""
        b, empathy = self.model.cfg.behaviour, self.employer.empathy
        mean_skill = b.hire_skill_base + b.hire_skill_empathy * empathy
        self.skill = min(max(mean_skill + b.hire_skill_spread * self.random.gauss(0, 1), 0), 1)
        self.disposition = b.engagement_spread * self.random.gauss(0, 1)
        self.engagement = min(max(self.model.resources(self.employer) + self.disposition, 0), 1)
        self.status, self.burnout, self.tenure = em.ACTIVE, 0.0, 0
        self.employer.hires += 1


class ReferenceMarket(mesa.Model):
    """The market stepped agent by agent, in the same weekly schedule as sim.model.EmpathyMarket."""

    def __init__(self, cfg: SimConfig) -> None:
        cfg = validate(cfg)
        super().__init__(seed=cfg.seed)
        self.cfg = cfg
        self.week, self.prospects, self.notes = 0, 0, []
        self.discount = weekly_discount(cfg)
        self.buzz_weight = cfg.wom.buzz_weight if cfg.wom.enabled else 0.0
        self.unadvertised = math.prod(1 - f.advertising for f in all_firms(cfg))  # chance no advert reaches one
        streams = Streams(cfg.seed)
        self.firm_list = [Firm(self, i, c) for i, c in enumerate(all_firms(cfg))]
        reputation = tuple(np.array([getattr(f, k) for f in self.firm_list], dtype=np.float32)
                           for k in ("reputation_quality", "reputation_empathy"))
        start = cu.create(cfg.market, np.array([f.config.initial_share for f in self.firm_list]), reputation,
                          streams.setup("population"))
        self.graph = network.build(cfg.network, cfg.market.customers, streams.setup("graph")).to_networkx()
        served = np.bincount(start.firm[start.firm >= 0], minlength=len(self.firm_list)).tolist()
        for firm, n in zip(self.firm_list, served, strict=True):
            firm.customers = firm.customers_at_review = n
        columns = ("segment", "need", "firm", "quality", "felt_empathy", "attachment", "since", "response")
        self.customer_at = [
            Customer(self, node, segment, need, self.firm_list[f] if f >= 0 else None, q, e, a, since, response)
            for node, (segment, need, f, q, e, a, since, response)
            in enumerate(zip(*(getattr(start, k).tolist() for k in columns), strict=True))
        ]
        self.pay_ratio = em.pay_ratio(np.array([f.config.wage for f in self.firm_list]), cfg.market.market_wage)
        staff = em.create(np.array([f.starting_staff(n) for f, n in zip(self.firm_list, served, strict=True)]),
                          np.array([f.empathy for f in self.firm_list]), self.pay_ratio, cfg.behaviour,
                          streams.setup("workforce"))
        for f, skill, engagement, tenure, disposition in zip(
                staff.firm.tolist(), staff.skill.tolist(), staff.engagement.tolist(), staff.tenure.tolist(),
                staff.disposition.tolist(), strict=True):
            Employee(self, self.firm_list[f], em.ACTIVE, skill, engagement, tenure, disposition=disposition)
        self.firms = self.agents_by_type[Firm]
        self.customers = self.agents_by_type[Customer]
        self.employees = self.agents_by_type[Employee]  # staff_needed keeps at least one job per firm

    def pay(self, firm: Firm) -> float:
        """The firm's wage relative to the market wage."""
        return float(self.pay_ratio[firm.index])

    def resources(self, firm: Firm) -> float:
        """Job resources (Job Demands-Resources): base, empathetic leadership, pay against the market."""
        b = self.cfg.behaviour
        return b.engagement_base + b.leadership_effect * firm.empathy + b.pay_engagement * math.log(self.pay(firm))

    def search_weeks(self) -> int:
        """Weeks a new vacancy stays open: geometric with mean `hire_weeks`."""
        return int(self.rng.geometric(1 / (1 + self.cfg.behaviour.hire_weeks))) - 1

    def step(self) -> None:
        """One week, in EmpathyMarket's schedule order."""
        cfg = self.cfg
        self.set_prices()
        self.firms.do("open_books")
        self.customers.do("reconsider")
        for firm, team in self.employees.select(lambda e: e.status == em.ACTIVE).groupby("employer", "list"):
            firm.team = team
        self.customers.do("visit")
        self.employees.do("get_ready")
        self.customers.do("experience")
        self.employees.do("work").do("quit_or_hire")
        members = self.customers.groupby("firm", "list").groups
        for firm in self.firm_list:
            firm.survey(members.get(firm, []))
        if cfg.wom.enabled:
            self.customers.do("forget").do("talk")
        self.prospects = 0
        self.customers.do("consider_adopting")
        self.close_books()
        self.week += 1
        if self.week % cfg.behaviour.restaff_every == 0:
            self.restaff()
        if cfg.adapt.enabled and self.week % cfg.adapt.every == 0:
            self.review()

    def set_prices(self) -> None:
        """Every firm sets this week's price, those that match reading their rivals' prices of last week."""
        for firm in self.firm_list:
            firm.price_last_week = firm.price
        self.firms.do("set_price")

    def close_books(self) -> None:
        """Each firm counts its customers and staff and books the week."""
        customers = self.customers.groupby("firm", "list").count()
        staff = self.employees.select(lambda e: e.status == em.ACTIVE).groupby("employer", "list").groups
        for firm in self.firm_list:
            firm.human_since_restaff += firm.human_contacts
            firm.close_books(customers.get(firm, 0), staff.get(firm, []), self.prospects)

    def restaff(self) -> None:
        """Each firm re-sizes its jobs to its recent human contacts (if it staffs to demand)."""
        jobs = self.employees.groupby("employer", "list").groups
        for firm in self.firm_list:
            firm.restaff(jobs.get(firm, []))

    def review(self) -> None:
        """Adaptive firms review their strategy, in firm order, against the most profitable firm still in the
        market; then every firm's profit and customer count restart for the next review."""
        best = max((f for f in self.firm_list if f.active), key=lambda f: f.profit_since_review, default=None)
        for firm in self.firm_list:
            if firm.config.adapts and firm.active:
                firm.review(best, losses_count=self.week > self.cfg.run.burn_in)
        for firm in self.firm_list:
            firm.profit_since_review, firm.customers_at_review = 0.0, firm.customers
        self.unadvertised = math.prod(1 - f.config.advertising for f in self.firm_list)
        self.employees.select(lambda e: not e.employer.active).do("remove")  # a firm that left lays everyone off

    def run(self, steps: int | None = None) -> None:
        """Step `steps` weeks (default: burn-in plus run.steps)."""
        for _ in range(self.cfg.run.steps + self.cfg.run.burn_in if steps is None else steps):
            self.step()

    def kpis(self) -> dict[str, dict[str, float | dict[str, int] | None]]:
        """Per firm, as in summary.json: retention, market share, CLTV, NPS, burnout, staff turnover, referrals,
        churn by reason, profit (rates pooled over the recorded weeks; None where there was nothing to measure),
        and customers, active staff, price and automation at the end; from the weekly table, the mean price and
        the recorded weeks in the market."""
        total = max(sum(f.customers for f in self.firm_list), 1)
        open_value = self.customers.groupby("firm", "list").map(
            lambda group: sum(c.value * (1 + self.discount) ** c.since for c in group))
        staff = self.employees.select(lambda e: e.status == em.ACTIVE).groupby("employer", "list").count()
        out = {}
        for f in self.firm_list:
            weeks = f.customer_weeks
            out[f.config.name] = {
                "retention_rate": (1 - f.churned_total / weeks) ** 52 if weeks else None,
                "nps": 100 * f.net_promoters / f.answers if f.answers else None,
                "employee_burnout": f.burnout_total / f.employee_weeks if f.employee_weeks else None,
                "employee_turnover": 52 * f.quits_total / f.employee_weeks if f.employee_weeks else None,
                "referrals_sent": f.referrals,
                "market_share": f.customers / total,
                "cltv": (f.closed_value + open_value.get(f, 0.0)) / max(f.relationships, 1),
                "churn_by_reason": dict(zip(cu.CHURN_REASONS, f.churn_by_reason, strict=True)),
                "profit": f.profit,
                "customers": f.customers,
                "employees": staff.get(f, 0),
                "price": f.price,
                "automation": f.automation,
                "mean_price": f.price_total / max(self.week - self.cfg.run.burn_in, 1),
                "weeks_in_market": f.weeks_in_market,
            }
        return out
