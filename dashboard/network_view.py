"""The word-of-mouth network, drawn live from a fixed sample of customers.

A large market cannot be drawn node by node, so the view keeps a fixed sample: whole
neighbourhoods grown breadth-first from a few random customers, so the ties word of mouth
travels along stay visible. The layout is computed once per sample, so nodes stay put while
their colours change (drawn by `charts.network`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import networkx as nx
import numpy as np

from sim import customers as cu
from sim.model import EmpathyMarket
from sim.network import Graph

PROMOTER, PASSIVE, DETRACTOR = 1, 0, -1
SEEDS = 4  # neighbourhoods in a sample


@dataclass(frozen=True, eq=False)
class Sample:
    """Customers drawn, the ties among them (pairs of positions), and where each is drawn."""

    nodes: np.ndarray
    edges: np.ndarray
    pos: np.ndarray


@dataclass(frozen=True, eq=False)
class Nodes:
    """The sampled customers' state at one moment."""

    firm: np.ndarray  # firm index, -1 for a prospect
    satisfaction: np.ndarray  # 0..1
    stance: np.ndarray  # PROMOTER, PASSIVE or DETRACTOR


def sample(graph: Graph, size: int = 300, seed: int = 0) -> Sample:
    """Up to `size` customers in `SEEDS` breadth-first neighbourhoods, with a layout computed once."""
    rng = np.random.default_rng(seed)
    size = min(size, graph.n)
    chosen: dict[int, None] = {}  # insertion-ordered set
    while len(chosen) < size:
        queue = deque([int(rng.integers(graph.n))])
        quota = len(chosen) + max(1, size // SEEDS)
        while queue and len(chosen) < min(quota, size):
            node = queue.popleft()
            if node in chosen:
                continue
            chosen[node] = None
            queue.extend(int(v) for v in graph.indices[graph.indptr[node]:graph.indptr[node + 1]] if v not in chosen)
    nodes = np.fromiter(chosen, dtype=np.int64)
    position = {node: i for i, node in enumerate(nodes.tolist())}
    edges = [(position[u], position[int(v)]) for u in nodes.tolist()
             for v in graph.indices[graph.indptr[u]:graph.indptr[u + 1]] if int(v) in position and u < v]
    g = nx.Graph()
    g.add_nodes_from(range(len(nodes)))
    g.add_edges_from(edges)
    layout = nx.spring_layout(g, seed=seed, iterations=60)
    return Sample(nodes=nodes, edges=np.array(edges, dtype=np.int64).reshape(-1, 2),
                  pos=np.array([layout[i] for i in range(len(nodes))]))


def observe(model: EmpathyMarket, s: Sample) -> Nodes:
    """Firm, satisfaction and NPS answer of the sampled customers now, from the model's state."""
    c, b = model.customers, model.cfg.behaviour
    satisfied = cu.satisfaction(c, slice(None), b.empathy_returns)
    recommend = cu.recommendation(c, satisfied, b)[s.nodes]
    satisfied = satisfied[s.nodes]
    stance = np.where(recommend >= b.promoter_threshold, PROMOTER,
                      np.where(recommend < b.detractor_threshold, DETRACTOR, PASSIVE))
    return Nodes(firm=c.firm[s.nodes].astype(int), satisfaction=np.clip(satisfied, 0, 1), stance=stance)
