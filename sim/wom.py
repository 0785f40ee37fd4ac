"""Word of mouth: promoters refer their neighbours, detractors warn them.

Each week a promoter of firm f (willingness to recommend >= promoter threshold) talks with
probability `talk_rate`, a detractor with probability `talk_rate * negativity`; a talker reaches
every neighbour in the graph. Messages add to each listener's remembered buzz about f
(+1 praise, -1 warning, fading by `buzz_memory` a week), which enters their utility; praise
reaching a prospect is a referral that may win it for f (see `sim.acquisition`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import BehaviourConfig, WomConfig
from sim.customers import Customers
from sim.network import Graph
from sim.rng import cutoff, shocks

F32 = np.float32


@dataclass
class Talk:
    """This week's word of mouth."""

    praise: tuple[np.ndarray, np.ndarray]  # (listener, firm praised) of every praise message
    praised: np.ndarray  # int (firms,): praise messages sent about each firm
    warned: np.ndarray  # int (firms,): warning messages sent about each firm


def spread(c: Customers, graph: Graph, recommend: np.ndarray, cfg: WomConfig, b: BehaviourConfig,
           rng: np.random.Generator) -> Talk:
    """Promoters and detractors talk; listeners update their buzz."""
    nf = len(c.buzz)
    u = shocks(rng, 1, c.n)[0]
    served = c.firm >= 0
    praising = np.flatnonzero(served & (recommend >= b.promoter_threshold) & (u < cutoff(cfg.talk_rate)))
    warning = np.flatnonzero(served & (recommend < b.detractor_threshold)
                             & (u < cutoff(cfg.talk_rate * cfg.negativity)))
    speakers = np.concatenate([praising, warning])
    source, listener = graph.neighbours_of(speakers)
    about = c.firm[speakers][source].astype(np.int64)
    is_praise = source < len(praising)
    c.buzz *= F32(cfg.buzz_memory)
    np.add.at(c.buzz.reshape(-1), about * c.n + listener, np.where(is_praise, F32(1), F32(-1)))
    return Talk(
        praise=(listener[is_praise], about[is_praise]),
        praised=np.bincount(about[is_praise], minlength=nf),
        warned=np.bincount(about[~is_praise], minlength=nf),
    )
