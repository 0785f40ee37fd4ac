"""Graph generators: the graph built is the graph asked for."""

from __future__ import annotations

import numpy as np
import pytest

from sim import network

N = 20_000


@pytest.mark.parametrize("kind", ["small_world", "random", "scale_free"])
@pytest.mark.parametrize("degree", [4, 5, 10])
def test_generators_build_simple_undirected_graphs_of_the_asked_mean_degree(kind, degree):
    cfg = network.NetworkConfig(kind=kind, mean_degree=degree)
    g = network.build(cfg, N, np.random.default_rng(1))
    rows = np.repeat(np.arange(g.n), g.degree)
    assert not (rows == g.indices).any()  # no self-loops
    pairs = set(zip(rows.tolist(), g.indices.tolist(), strict=True))
    assert all((b, a) in pairs for a, b in list(pairs)[:2000])  # symmetric
    assert g.degree.mean() == pytest.approx(degree, rel=0.05)


def test_scale_free_has_hubs_and_small_world_has_none():
    sf = network.build(network.NetworkConfig(kind="scale_free"), N, np.random.default_rng(2))
    sw = network.build(network.NetworkConfig(kind="small_world"), N, np.random.default_rng(2))
    assert sf.degree.max() > 8 * sf.degree.mean()
    assert sw.degree.max() < 2 * sw.degree.mean()


def test_same_seed_same_graph_and_networkx_round_trip():
    cfg = network.NetworkConfig(kind="small_world")
    a = network.build(cfg, 500, np.random.default_rng(3))
    b = network.build(cfg, 500, np.random.default_rng(3))
    assert np.array_equal(a.indices, b.indices)
    back = network.from_networkx(a.to_networkx())
    assert np.array_equal(back.indptr, a.indptr) and np.array_equal(back.indices, a.indices)
