"""A user's word-of-mouth graph, from a file or from networkx: adopted as documented, or refused in one line.

Documented (sim.network): nodes numbered in label order (numeric when labels are whole numbers);
directed edges become ties both ways; self-loops and repeated edges dropped; isolated nodes are
customers who hear no word of mouth; no nodes, or a node count other than market.customers, refused.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim import network
from sim.app import load_config
from sim.config import ConfigError
from sim.model import EmpathyMarket
from sim.results import simulate

GRAPHS = Path(__file__).parent / "data" / "graphs"


def edges(graph: network.Graph) -> set[tuple[int, int]]:
    return {tuple(sorted(e)) for e in graph.to_networkx().edges()}


def test_edge_list_drops_self_loops_and_repeats_and_ignores_extra_columns():
    g = network.load(str(GRAPHS / "town.edgelist"))
    ring = {tuple(sorted((i, (i + 1) % 12))) for i in range(12)}
    assert g.n == 12
    assert edges(g) == ring | {(0, 6)}
    assert g.degree.sum() == 2 * g.edges  # every tie is held both ways
    assert not any(i in g.indices[g.indptr[i]:g.indptr[i + 1]] for i in range(g.n))  # no self-loop


def test_directed_graphml_is_symmetrised_and_keeps_isolated_nodes():
    g = network.load(str(GRAPHS / "directed.graphml"))
    assert g.n == 5
    assert edges(g) == {(0, 1), (1, 2)}
    assert g.degree.tolist() == [1, 2, 1, 0, 0]  # node 3 had only a self-loop, node 4 nothing


def test_whole_number_labels_keep_their_numeric_order():
    g = network.load(str(GRAPHS / "eleven.graphml"))  # GraphML labels are text: "10" must not sort before "2"
    assert edges(g) == {(0, 1), (9, 10)}


@pytest.mark.parametrize(("name", "message"), [
    ("missing.edgelist", "no such file"),
    ("", "not a file"),
    ("empty.edgelist", "the file is empty"),
    ("comments_only.edgelist", "the file names no nodes"),
    ("truncated.graphml", "not a readable edge list or GraphML file"),
    ("binary.edgelist", "not a readable edge list or GraphML file"),
])
def test_unusable_files_are_refused_naming_the_path(name, message):
    path = str(GRAPHS / name)
    with pytest.raises(ConfigError) as err:
        network.load(path)
    assert str(err.value).startswith(f"network.path={path!r}: {message}")
    assert "\n" not in str(err.value)


def file_config(name: str, customers: int, *more: str):
    return load_config(["network=file", f"network.path={GRAPHS / name}", f"market.customers={customers}",
                        "run.steps=6", "run.progress=false", *more])


def test_a_graph_file_must_match_the_market():
    with pytest.raises(ConfigError, match=r"^market.customers=30 does not match the 12 nodes of network.path=.*: "
                                          r"set market.customers=12$"):
        EmpathyMarket(file_config("town.edgelist", 30))


def test_a_model_runs_on_a_graph_file():
    model = simulate(file_config("town.edgelist", 12)).model
    assert edges(model.graph) == edges(network.load(str(GRAPHS / "town.edgelist")))


def test_isolated_customers_hear_no_word_of_mouth():
    """Everyone isolated: no word of mouth reaches anyone, though promoters exist and word of mouth is on."""
    r = simulate(file_config("isolated.graphml", 40, "wom.talk_rate=1", "wom.referral_strength=10"))
    assert r.table["promoters"].sum() > 0
    assert r.table["acquisitions_referral"].sum() == 0
    assert not r.model.customers.buzz.any()


def test_word_of_mouth_reaches_only_connected_customers():
    g = nx.path_graph(30)
    g.add_nodes_from(range(30, 60))  # 30 customers who know nobody
    cfg = load_config(["market.customers=60", "run.steps=8", "run.progress=false", "wom.talk_rate=1"])
    model = EmpathyMarket(cfg, graph=g)
    model.run()
    heard = model.customers.buzz.any(axis=1)
    assert heard[:30].any() and not heard[30:].any()


def python_config(customers: int):
    return load_config([f"market.customers={customers}", "run.steps=4", "run.progress=false"])


def test_a_directed_python_graph_is_the_same_as_its_undirected_twin():
    directed = nx.gnp_random_graph(50, 0.1, seed=1, directed=True)
    cfg = python_config(50)
    one, two = EmpathyMarket(cfg, graph=directed), EmpathyMarket(cfg, graph=directed.to_undirected())
    assert edges(one.graph) == edges(two.graph)
    one.run(), two.run()
    assert one.recorder.table().equals(two.recorder.table())


def test_python_graph_labels_multi_edges_and_self_loops():
    g = nx.MultiGraph()
    g.add_edges_from([("ann", "bob"), ("ann", "bob"), ("bob", "cat"), ("cat", "cat")])
    g.add_nodes_from(f"z{i}" for i in range(9))  # nine isolated customers, 12 in all
    graph = EmpathyMarket(python_config(12), graph=g).graph
    assert graph.n == 12
    assert edges(graph) == {(0, 1), (1, 2)}  # ann, bob, cat are customers 0, 1, 2 (sorted labels)


def test_mixed_labels_keep_the_graphs_order():
    g = nx.Graph([(1, "a"), ("a", 2.5)])
    g.add_nodes_from(range(10, 17))
    assert network.customer_order(list(g.nodes)) == list(g.nodes)
    assert edges(network.from_networkx(g)) == {(0, 1), (1, 2)}


@pytest.mark.parametrize("kind", ["small_world", "scale_free", "random", "complete"])
def test_generated_graphs_are_simple_and_undirected(kind):
    cfg = python_config(300)
    cfg = dataclasses.replace(cfg, network=dataclasses.replace(cfg.network, kind=kind, mean_degree=6))
    g = EmpathyMarket(cfg).graph
    rows = np.repeat(np.arange(g.n), g.degree)
    assert g.n == 300 and not (rows == g.indices).any()
    pairs = set(zip(rows.tolist(), g.indices.tolist(), strict=True))
    assert len(pairs) == len(rows) and all((b, a) in pairs for a, b in pairs)
