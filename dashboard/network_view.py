"""The word-of-mouth network, drawn live from a fixed sample of customers.

A large market cannot be drawn node by node, so the view keeps a fixed sample: whole
neighbourhoods grown breadth-first from a few random customers, so the ties word of mouth
travels along stay visible. The layout is computed once per sample, so nodes stay put while
their colours change: colour is the firm, paleness is low satisfaction, and the marker is the
customer's NPS answer (promoter, passive, detractor).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import networkx as nx
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from dashboard.charts import PROSPECT_COLOUR, firm_colour
from sim import customers as cu
from sim.model import EmpathyMarket
from sim.network import Graph

PROMOTER, PASSIVE, DETRACTOR = 1, 0, -1
MARKERS = {PROMOTER: ("^", "promoter"), PASSIVE: ("o", "passive"), DETRACTOR: ("v", "detractor")}
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


def colours(nodes: Nodes) -> np.ndarray:
    """RGB per node: the firm's colour, paler the less satisfied; prospects grey."""
    rgb = np.array([firm_colour(f) if f >= 0 else PROSPECT_COLOUR for f in nodes.firm.tolist()]).reshape(-1, 3)
    strength = np.where(nodes.firm >= 0, 0.2 + 0.8 * nodes.satisfaction, 1.0)[:, None]
    return 1 - strength * (1 - rgb)


def figure(s: Sample, views: dict[str, Nodes], firms: list[str]) -> Figure:
    """One panel per run (A, or A and B side by side) of the sampled network."""
    fig = Figure(figsize=(7.2 if len(views) == 1 else 10.4, 5.6), dpi=90)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.94 if len(views) > 1 else 0.99, bottom=0.15, wspace=0.04)
    axes = fig.subplots(1, len(views), squeeze=False)[0]
    segments = s.pos[s.edges] if len(s.edges) else np.empty((0, 2, 2))
    for ax, (label, nodes) in zip(axes, views.items(), strict=True):
        ax.add_collection(LineCollection(segments, colors="#b0bec5", linewidths=0.5, alpha=0.6, zorder=1))
        rgb = colours(nodes)
        for stance, (marker, _) in MARKERS.items():
            mask = (nodes.stance == stance) & (nodes.firm >= 0)
            ax.scatter(*s.pos[mask].T, c=rgb[mask], marker=marker, s=46, linewidths=0.4, edgecolors="#37474f",
                       zorder=2)
        none = nodes.firm < 0
        ax.scatter(*s.pos[none].T, c=rgb[none], marker=".", s=24, linewidths=0, zorder=2)
        ax.set_axis_off()
        if len(views) > 1:
            ax.set_title(f"Strategy {label}", fontsize=13)
    handles = [Line2D([], [], ls="", marker="s", ms=10, color=firm_colour(i), label=name)
               for i, name in enumerate(firms)]
    handles.append(Line2D([], [], ls="", marker=".", ms=10, color=PROSPECT_COLOUR, label="no firm yet"))
    handles += [Line2D([], [], ls="", marker=m, ms=9, mfc="white", mec="#37474f", label=word)
                for m, word in MARKERS.values()]
    fig.legend(handles=handles, loc="lower center", ncol=(len(handles) + 1) // 2, fontsize=11,
               frameon=False)
    return fig
