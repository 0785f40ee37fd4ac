"""Word of mouth: promoters refer their neighbours, detractors warn them.

Each week a promoter of firm f (willingness to recommend >= promoter threshold) talks with
probability `talk_rate`, a detractor with probability `talk_rate * negativity`; a talker reaches
every neighbour in the graph. Messages add to each listener's remembered buzz about f
(+1 praise, -1 warning, fading by `buzz_memory` a week), which enters their utility; praise
reaching a prospect is a referral that may win it for f (see `sim.acquisition`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.jit import kernel
from sim.rng import cutoff

if TYPE_CHECKING:
    from sim.model import EmpathyMarket, Week

F32 = np.float32


@dataclass
class Talk:
    """This week's word of mouth."""

    praise: tuple[np.ndarray, np.ndarray]  # (listener, firm praised) of every praise message a prospect heard
    praised: np.ndarray  # int (firms,): praise messages sent about each firm
    warned: np.ndarray  # int (firms,): warning messages sent about each firm


SHOCKS = 1  # per customer and week: whether it talks


def spread(m: EmpathyMarket, week: Week) -> None:
    """6. If word of mouth is on, promoters and detractors talk and listeners update their buzz.

    Whether each customer talks is its shock in the week's `SHOCKS` row of `wom`.
    """
    c, graph, cfg, b = m.customers, m.graph, m.cfg.wom, m.cfg.behaviour
    if not cfg.enabled:
        return
    c.buzz *= F32(cfg.buzz_memory)
    listener, about, praised, warned = talk(m.shocks("wom", week.t)[0], c.firm, week.survey.recommend, graph.indptr,
                                            graph.indices, c.buzz, F32(b.promoter_threshold),
                                            F32(b.detractor_threshold), int(cutoff(cfg.talk_rate)),
                                            int(cutoff(cfg.talk_rate * cfg.negativity)))
    week.talk = Talk(praise=(listener, about), praised=praised, warned=warned)


def talk(u: np.ndarray, firm: np.ndarray, recommend: np.ndarray, indptr: np.ndarray, indices: np.ndarray,
         buzz: np.ndarray, promoter: float, detractor: float, praise_cut: int, warn_cut: int
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every talker tells all its neighbours; returns the praise prospects heard, and the messages per firm.

    A customer of firm f praises f if a promoter and u < cutoff(talk_rate), warns against it if a
    detractor and u < cutoff(talk_rate * negativity). Each message adds +1 (praise) or -1 (warning)
    to its listener's buzz about f, praise first; praise a prospect hears is returned as (listener,
    f) for acquisition, the only listeners it can win.
    """
    n, firms = len(firm), buzz.shape[0]
    speakers = np.empty(n + 1, np.int64)
    praisers = 0
    for i in range(n):  # branch-free: whether a customer talks is a coin toss
        speakers[praisers] = i
        praisers += (firm[i] >= 0) & (recommend[i] >= promoter) & (u[i] < praise_cut)
    total = praisers
    for i in range(n):  # then the detractors: listeners hear praise before any warning
        speakers[total] = i
        total += (firm[i] >= 0) & (recommend[i] < detractor) & (u[i] < warn_cut)
    sent = np.zeros((2, firms), np.int64)  # praise, warnings
    for s in range(total):
        sent[np.int64(s >= praisers), np.int64(firm[speakers[s]])] += indptr[speakers[s] + 1] - indptr[speakers[s]]
    flat = buzz.reshape(-1)  # buzz about firm f of customer j at f * n + j
    for s in range(total):
        f = np.int64(firm[speakers[s]])
        sign = np.float32(1) if s < praisers else np.float32(-1)
        for k in range(indptr[speakers[s]], indptr[speakers[s] + 1]):
            flat[f * n + indices[k]] += sign
    listener, about = np.empty(sent[0].sum() + 1, np.int64), np.empty(sent[0].sum() + 1, np.int64)
    heard = 0
    for s in range(praisers):
        f = np.int64(firm[speakers[s]])
        for k in range(indptr[speakers[s]], indptr[speakers[s] + 1]):
            listener[heard], about[heard] = indices[k], f
            heard += firm[indices[k]] < 0  # branch-free: kept if a prospect heard it
    return listener[:heard], about[:heard], sent[0], sent[1]


talk = kernel(talk)
