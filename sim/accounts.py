"""The money (ODD 7.14): each week's revenue and cost lines per firm, and the accounts over a span of weeks.

Every figure is in `market.currency`: cost lines per week as recorded, accounts summed over the
recorded weeks (`summary.json`'s revenue, costs_by_category, costs and profit, in total and in `years`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import customers as cu
from sim.firms import COST_ITEMS

if TYPE_CHECKING:
    from sim.acquisition import Adoptions
    from sim.model import EmpathyMarket
    from sim.service import Encounters


def revenue(model: EmpathyMarket, enc: Encounters) -> np.ndarray:
    """This week's revenue per firm: visits times the basket at the firm's price."""
    return enc.visits * model.cfg.market.basket * model.firms.price


def costs(model: EmpathyMarket, enc: Encounters, staff: np.ndarray, hires: np.ndarray,
          adopted: Adoptions) -> dict[str, np.ndarray]:
    """This week's cost lines per firm (`COST_ITEMS`), from what the firms did and the week's events."""
    fs, basket = model.firms, model.cfg.market.basket
    per = fs.per_firm
    return {
        "goods": enc.visits * basket * per("unit_cost"),
        "wages": staff * per("wage"),
        "empathy_programme": staff * per("empathy_cost") * fs.empathy,
        "automation": fs.automation * per("automation_cost") + enc.bot_contacts * per("bot_contact_cost"),
        "advertising": per("advertising") * adopted.prospects * per("ad_cost"),
        "hiring": hires * per("hire_cost"),
        "referral_bonus": adopted.by_channel[:, cu.REFERRAL] * per("referral_bonus"),
        "fixed": per("fixed_cost"),
        "one_off": model.plan.one_off,  # a plan's training courses, bot set-ups and explicit costs (sim.plan)
    }


def totals(t: pd.DataFrame) -> dict[str, Any]:
    """Revenue, each cost line, costs and profit over the rows of `t`."""
    return {"revenue": float(t["revenue"].sum()),
            "costs_by_category": {k: float(t[f"cost_{k}"].sum()) for k in COST_ITEMS},
            "costs": float(t["costs"].sum()), "profit": float(t["profit"].sum())}
