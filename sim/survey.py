"""The survey (ODD 7.5): every customer's satisfaction and willingness to recommend, and NPS per firm.

Asked each week after service and work, before word of mouth: promoters talk on what they answer
here. Satisfaction is `sim.customers.satisfaction_of`, willingness to recommend `recommend_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import customers as cu
from sim.jit import kernel

if TYPE_CHECKING:
    from sim.model import EmpathyMarket, Week

F32 = np.float32


@dataclass
class Survey:
    """What the customers think this week, per customer and summed up per firm."""

    recommend: np.ndarray  # float32 (customers,): willingness to recommend
    customers: np.ndarray  # int (firms,)
    promoters: np.ndarray  # int (firms,)
    detractors: np.ndarray  # int (firms,)
    satisfaction: np.ndarray  # (firms,) mean over the firm's customers
    quality: np.ndarray  # (firms,) mean perceived quality
    felt_empathy: np.ndarray  # (firms,) mean felt empathy


def survey(m: EmpathyMarket, week: Week) -> None:
    """5. Satisfaction and willingness to recommend of every customer; NPS counts per firm."""
    c, firms, b = m.customers, m.firms.n, m.cfg.behaviour
    recommend, counts, sums = ask(c.firm, c.quality, c.felt_empathy, cu.felt_all(c.felt_empathy, b.empathy_returns),
                                  c.need, c.attachment, c.response, firms, F32(b.nps_attachment),
                                  F32(b.promoter_threshold), F32(b.detractor_threshold))
    customers = counts[:, 0]
    mean = np.divide(sums, customers[:, None], out=np.zeros(sums.shape), where=customers[:, None] > 0)
    week.survey = Survey(recommend=recommend, customers=customers, promoters=counts[:, 1], detractors=counts[:, 2],
                         satisfaction=mean[:, 0], quality=mean[:, 1], felt_empathy=mean[:, 2])


def ask(firm: np.ndarray, quality: np.ndarray, felt_empathy: np.ndarray, warmth: np.ndarray, need: np.ndarray,
        attachment: np.ndarray, response: np.ndarray, firms: int, nps_attachment: float, promoter: float,
        detractor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every customer's willingness to recommend, and per firm its answers summed up.

    Per firm: customers, promoters (>= promoter) and detractors (< detractor); and the sums of
    satisfaction, perceived quality and felt empathy.
    """
    recommend = np.empty(len(firm), np.float32)
    counts, sums = np.zeros((firms + 1, 3), np.int64), np.zeros((firms + 1, 3))  # row 0: prospects, not asked
    for i in range(len(firm)):
        satisfied = cu.satisfaction_of(quality[i], warmth[i], need[i])
        r = cu.recommend_of(satisfied, attachment[i], response[i], nps_attachment)
        recommend[i] = r
        f = firm[i] + 1
        counts[f, 0] += 1
        counts[f, 1] += r >= promoter
        counts[f, 2] += r < detractor
        sums[f, 0] += satisfied
        sums[f, 1] += quality[i]
        sums[f, 2] += felt_empathy[i]
    return recommend, counts[1:], sums[1:]

ask = kernel(ask)
