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

F32 = np.float32


@dataclass
class Talk:
    """This week's word of mouth."""

    referrals: np.ndarray  # float32 (n, firms): praise messages each customer heard about each firm
    praise: np.ndarray  # int (firms,): messages of praise sent about each firm
    warnings: np.ndarray  # int (firms,): warning messages sent about each firm


def spread(c: Customers, graph: Graph, recommend: np.ndarray, cfg: WomConfig, b: BehaviourConfig,
           rng: np.random.Generator) -> Talk:
    """Promoters and detractors talk; listeners update their buzz."""
    nf = c.buzz.shape[1]
    u = rng.random(c.n, dtype=F32)
    served = c.firm >= 0
    promoter = served & (recommend >= b.promoter_threshold)
    detractor = served & (recommend < b.detractor_threshold)
    praising = promoter & (u < cfg.talk_rate)
    warning = detractor & (u < cfg.talk_rate * cfg.negativity)
    c.buzz *= F32(cfg.buzz_memory)
    heard = np.zeros((c.n, nf), dtype=F32)
    sent = []
    for speakers, sign in ((np.flatnonzero(praising), 1), (np.flatnonzero(warning), -1)):
        source, listener = graph.neighbours_of(speakers)
        about = c.firm[speakers][source].astype(np.int64)
        messages = np.bincount(listener * nf + about, minlength=c.n * nf).reshape(c.n, nf).astype(F32)
        c.buzz += sign * messages
        if sign > 0:
            heard = messages
        sent.append(np.bincount(about, minlength=nf))
    return Talk(referrals=heard, praise=sent[0], warnings=sent[1])
