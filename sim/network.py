"""The word-of-mouth graph among customers, held as compressed sparse rows.

networkx is the interface (pass any graph, load any edge list or GraphML file, export with
`to_networkx`), but large generated graphs are built straight into arrays: a networkx graph
costs about a kilobyte per edge, the arrays eight bytes.

A user's graph (a networkx graph or a file) is adopted as word of mouth needs it: one node per
customer, node labels numbered 0..n-1 in sorted order (numeric order when every label is a whole
number); a directed edge u->v becomes a tie both ways (people talk both ways); self-loops and
repeated edges are dropped; isolated nodes stay customers who hear and spread no word of mouth
(an edge list names only nodes with an edge, so use GraphML to include them). A graph with no
nodes, or whose node count differs from `market.customers`, is refused with a `ConfigError`, and
so is a `Graph` built by hand whose arrays are not a valid compressed-sparse-row graph.
"""

from __future__ import annotations

import numbers
import os
import re
from dataclasses import dataclass

import networkx as nx
import numpy as np

from sim.config import ConfigError, NetworkConfig

WHOLE = re.compile(r"\s*-?[0-9]+\s*")  # a node label that is a whole number


@dataclass(frozen=True)
class Graph:
    """Undirected simple graph on nodes 0..n-1: neighbours of i are indices[indptr[i]:indptr[i+1]]."""

    indptr: np.ndarray
    indices: np.ndarray

    def __post_init__(self) -> None:
        """Refuse arrays that would make the model read past its customers (a ConfigError naming the fault)."""
        indptr, indices = np.asarray(self.indptr), np.asarray(self.indices)
        for name, a in (("indptr", indptr), ("indices", indices)):
            if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
                raise ConfigError(f"graph.{name}: expected a one-dimensional array of whole numbers, "
                                  f"got {a.dtype} of shape {a.shape}")
        n = len(indptr) - 1
        if n < 1 or indptr[0] != 0 or indptr[-1] != len(indices) or (np.diff(indptr) < 0).any():
            raise ConfigError(f"graph.indptr is not allowed: must start at 0, never decrease and end at "
                              f"len(indices)={len(indices)} (got {n + 1} entries)")
        if len(indices) and (indices.min() < 0 or indices.max() >= n):
            bad = int(indices[(indices < 0) | (indices >= n)][0])
            raise ConfigError(f"graph.indices={bad} is out of range: allowed 0 <= neighbour < {n} (the node count)")

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    @property
    def edges(self) -> int:
        return len(self.indices) // 2

    def neighbours_of(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (source position, neighbour) pairs of the given nodes, vectorised."""
        starts = self.indptr[nodes]
        counts = self.indptr[nodes + 1] - starts
        total = int(counts.sum())
        source = np.repeat(np.arange(len(nodes)), counts)
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        return source, self.indices[offsets]

    def to_networkx(self) -> nx.Graph:
        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        rows = np.repeat(np.arange(self.n), self.degree)
        keep = rows < self.indices
        g.add_edges_from(zip(rows[keep].tolist(), self.indices[keep].tolist(), strict=True))
        return g


def from_edges(n: int, a: np.ndarray, b: np.ndarray) -> Graph:
    """Simple undirected graph from endpoint arrays: self-loops and repeated edges dropped."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    keep = a != b
    a, b = a[keep], b[keep]
    keys = np.concatenate([a * n + b, b * n + a])
    keys.sort()  # np.unique is far slower here
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
    rows = keys // n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return Graph(indptr=indptr, indices=(keys % n).astype(np.int32))


def from_networkx(g: nx.Graph) -> Graph:
    """Adopt any networkx graph (directed, multi-edges, any labels) as described in the module docstring."""
    if g.number_of_nodes() == 0:
        raise ConfigError("network: the graph has no nodes: give a graph with one node per customer")
    index = {v: i for i, v in enumerate(customer_order(list(g.nodes)))}
    pairs = np.array([(index[u], index[v]) for u, v in g.edges()], dtype=np.int64).reshape(-1, 2)
    return from_edges(len(index), pairs[:, 0], pairs[:, 1])


def customer_order(labels: list) -> list:
    """Node labels in customer order: numeric if all are whole numbers (also '7'), else sorted, else as given."""
    if all(isinstance(v, numbers.Integral) or (isinstance(v, str) and WHOLE.fullmatch(v)) for v in labels):
        return sorted(labels, key=int)
    try:
        return sorted(labels)
    except TypeError:  # labels of mixed types have no order
        return labels


def small_world(n: int, mean_degree: float, rewire: float, rng: np.random.Generator) -> Graph:
    """Watts-Strogatz: a ring where each node links to its k/2 nearest on each side, rewired with p.

    An odd or fractional mean degree adds the missing n * (mean_degree / 2 - k/2) ties between
    random pairs, so the built graph has the mean degree asked for.
    """
    half = max(1, int(mean_degree // 2))
    a = np.repeat(np.arange(n, dtype=np.int64), half)
    b = (a + np.tile(np.arange(1, half + 1), n)) % n
    moved = rng.random(len(b)) < rewire
    b[moved] = rng.integers(0, n, int(moved.sum()))
    extra = int(round(n * (mean_degree / 2 - half)))
    if extra > 0:
        a = np.concatenate([a, rng.integers(0, n, extra)])
        b = np.concatenate([b, rng.integers(0, n, extra)])
    return from_edges(n, a, b)


def random_graph(n: int, mean_degree: float, rng: np.random.Generator) -> Graph:
    """Erdos-Renyi G(n, m) with m = n * mean_degree / 2 uniformly drawn pairs."""
    m = int(round(n * mean_degree / 2))
    return from_edges(n, rng.integers(0, n, m), rng.integers(0, n, m))


def scale_free(n: int, mean_degree: float, rng: np.random.Generator) -> Graph:
    """Barabasi-Albert linear preferential attachment, vectorised by edge copying.

    Node t (t > m) makes m = mean_degree / 2 edges (m or m + 1 for an odd or fractional mean).
    Each edge's target is, with probability 1/2, a uniform earlier node and otherwise a uniform
    endpoint of an earlier edge, which picks nodes in proportion to their degree; targets that
    copy an unresolved edge are resolved by pointer jumping. The degree distribution has the
    power-law tail of the BA model.
    """
    m = max(1, int(mean_degree // 2))
    seed_nodes = m + 1
    per_node = np.full(max(n - seed_nodes, 0), m)
    if mean_degree / 2 - m > 1e-9:  # an odd or fractional mean: some nodes make one more edge
        per_node += rng.random(len(per_node)) < mean_degree / 2 - m
    source = np.repeat(np.arange(seed_nodes, n, dtype=np.int64), per_node)
    edges = len(source)
    target = np.full(edges, -1, dtype=np.int64)
    uniform = rng.random(edges) < 0.5
    target[uniform] = (rng.random(int(uniform.sum())) * source[uniform]).astype(np.int64)
    # first edges of the first node link to the seed clique
    first = source == seed_nodes
    target[first] = np.arange(int(first.sum())) % seed_nodes
    copy = np.flatnonzero(target < 0)
    earliest = np.searchsorted(source, source[copy])  # edges made before this node
    pointer = np.full(edges, -1, dtype=np.int64)
    pointer[copy] = (rng.random(len(copy)) * earliest).astype(np.int64)
    use_source = copy[rng.random(len(copy)) < 0.5]
    target[use_source] = source[pointer[use_source]]
    copy = np.flatnonzero(target < 0)
    hop = pointer[copy]
    while len(copy):  # pointers only go back in time, so this ends
        done = target[hop] >= 0
        target[copy[done]] = target[hop[done]]
        copy, hop = copy[~done], pointer[hop[~done]]
    clique_a, clique_b = np.triu_indices(seed_nodes, 1)
    return from_edges(n, np.concatenate([source, clique_a]), np.concatenate([target, clique_b]))


def complete(n: int) -> Graph:
    """Every customer knows every other: the mean-field limit where Bass diffusion is exact.

    `sim.config.validate` bounds n (COMPLETE_GRAPH_LIMIT): the graph has n*(n-1) neighbour entries.
    """
    a, b = np.triu_indices(n, 1)
    return from_edges(n, a, b)


def load(path: str) -> Graph:
    """Read a GraphML (.graphml, .xml) file or a whitespace-separated edge list (any other name).

    Edge-list lines hold two node labels (more columns are ignored; '#' starts a comment).
    """
    if not os.path.exists(path):
        raise ConfigError(f"network.path={path!r}: no such file")
    if not os.path.isfile(path):
        raise ConfigError(f"network.path={path!r}: not a file: give an edge list or GraphML file")
    if os.path.getsize(path) == 0:
        raise ConfigError(f"network.path={path!r}: the file is empty: give an edge list or GraphML file")
    try:
        g = nx.read_graphml(path) if path.endswith((".graphml", ".xml")) else nx.read_edgelist(path, data=False)
    except Exception as err:  # networkx, the XML parser and the codec raise many kinds on malformed input
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"network.path={path!r}: not a readable edge list or GraphML file ({first})") from None
    if g.number_of_nodes() == 0:
        raise ConfigError(f"network.path={path!r}: the file names no nodes: give one edge per line, e.g. '0 1'")
    return from_networkx(g)


def build(cfg: NetworkConfig, n: int, rng: np.random.Generator) -> Graph:
    """The graph the config asks for, on n customers."""
    if cfg.kind == "small_world":
        return small_world(n, cfg.mean_degree, cfg.rewire, rng)
    if cfg.kind == "scale_free":
        return scale_free(n, cfg.mean_degree, rng)
    if cfg.kind == "random":
        return random_graph(n, cfg.mean_degree, rng)
    if cfg.kind == "complete":
        return complete(n)
    graph = load(str(cfg.path))
    check_file_nodes(graph.n, n, str(cfg.path))
    return graph


def check_file_nodes(nodes: int, n: int, path: str) -> None:
    """A graph file's node count must equal the number of customers."""
    if nodes != n:
        raise ConfigError(
            f"market.customers={n} does not match the {nodes} nodes of network.path={path!r}: "
            f"set market.customers={nodes}"
        )


def prepare(graph: nx.Graph | Graph | None, cfg: NetworkConfig, n: int, rng: np.random.Generator) -> Graph:
    """The model's graph: built from the config, or a user's graph checked against the population."""
    if graph is None:
        return build(cfg, n, rng)
    if isinstance(graph, nx.Graph):
        graph = from_networkx(graph)
    elif not isinstance(graph, Graph):
        raise ConfigError(f"graph={type(graph).__name__} is not allowed: give a networkx graph or a sim.network.Graph")
    if graph.n != n:
        raise ConfigError(
            f"market.customers={n} does not match the graph's {graph.n} nodes: set market.customers={graph.n}"
        )
    return graph
