"""Every bad input, at every entry point, is refused cleanly: one line naming it, exit 2, nothing written.

A table of bad inputs across the command line (values of every schema key, sweeps, Hydra's own
keys, config dirs, graph files), `python -m analysis`, the research tools and the Python API. The
command-line entry points are called in-process (each refusal happens before any run, so this is
fast); `test_errors.py` shows the same for a real `python -m sim` process. A hypothesis fuzz of
`sim.config.from_dict` checks that any nested input either builds a config or raises ConfigError.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import ConfigError, SimConfig, from_dict
from sim.model import EmpathyMarket
from sim.network import Graph

GRAPHS = Path(__file__).parent / "data" / "graphs"
SMALL = ["market.customers=200", "run.steps=2", "run.progress=false"]
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))


def leaves(cls: type = SimConfig, prefix: str = "") -> Iterator[tuple[str, dataclasses.Field]]:
    """Every value key of the schema (competitors aside), with its field."""
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(default):
            yield from leaves(type(default), f"{prefix}{f.name}.")
        elif f.name != "competitors":
            yield f"{prefix}{f.name}", f


def schema_cases() -> Iterator[tuple[list[str], str]]:
    """For every key: a value outside its range, a value of the wrong type, or a choice it does not offer."""
    for key, f in leaves():
        kind = f.type.replace("| None", "").strip()
        if "range" in f.metadata:
            hi = f.metadata["range"][1]
            yield [f"{key}={hi * 3 + 7}"], f"{key}="
        if kind in ("int", "float"):
            yield [f"{key}=lots"], f"{key}='lots' is not allowed: expected a"
        if kind == "int":
            yield [f"{key}=1.5"], f"{key}=1.5 is not allowed: expected a whole number"
        if kind == "bool":
            yield [f"{key}=maybe"], f"{key}='maybe' is not allowed: expected true or false"
        if "choices" in f.metadata:
            yield [f"{key}=nonesuch"], f"{key}='nonesuch' is not allowed: choose one of"


def graph_files(tmp: Path) -> dict[str, Path]:
    """Bad graph files: the shipped ones and a few made here (in `tmp`, before the test's own check of it)."""
    (tmp / "one_node.edgelist").write_text("0 0\n")
    (tmp / "garbage.graphml").write_bytes(b"<graphml><graph><node id='a'/><edge source='a'")
    (tmp / "folder").mkdir()
    return {"missing": tmp / "missing.edgelist", "empty": GRAPHS / "empty.edgelist",
            "comments only": GRAPHS / "comments_only.edgelist", "truncated": GRAPHS / "truncated.graphml",
            "binary": GRAPHS / "binary.edgelist", "garbage": tmp / "garbage.graphml",
            "a folder": tmp / "folder", "one node": tmp / "one_node.edgelist",
            "wrong node count": GRAPHS / "town.edgelist"}


HAND_CASES: list[tuple[list[str], str]] = [
    (["-m", "seed=range(0,10,0)"], "seed=range(0,10,0) is not allowed: range() arg 3 must not be zero"),
    (["-m", "seed=range(5,1)"], "seed=range(5,1) is an empty sweep, it would run nothing"),
    (["-m", "seed=range(0)"], "seed=range(0) is an empty sweep"),
    (["-m", "scenario=glob(zzz*)"], "scenario=glob(zzz*) is an empty sweep"),
    (["-m", "hydra.sweeper.params={seed:1}"], "hydra.sweeper.params={seed:1} is not allowed: give sweeps on the"),
    (["-m", "hydra.sweeper.params={seed:'0,1'}"], "hydra.sweeper.params={seed:'0,1'} is not allowed"),
    (["-m", "hydra.sweeper.params.seed=0,1"], "hydra.sweeper.params.seed=0,1 is not allowed"),
    (["market.customers=5e9"], "market.customers=5000000000 is out of range"),
    (["market.customers=1234.5"], "market.customers=1234.5 is not allowed: expected a whole number"),
    (["seed=1e20"], "seed=100000000000000000000 is out of range"),
    (["-m", "seed=0,1e20"], "seed=100000000000000000000 is out of range"),
    (["firm.empathy=0.5", "firm.empathy=2"], "firm.empathy=2.0 is out of range"),
    (["competitors.big_box.empathy=-1"], "competitors.big_box.empathy=-1.0 is out of range"),
    (["competitors.big_box.pricing=free"], "competitors.big_box.pricing='free' is not allowed"),
    (["competitors.online=none"], "competitors.online: name a competitor's key, e.g. competitors.online.price"),
    (["competitors.big_box=3"], "competitors.big_box: name a competitor's key"),
    (["firm=3"], "firm=3 is not a known firm"),
    (["run=long"], "run=long is not a known run"),
    (["network=grid"], "network=grid is not a known network"),
    (["market=village"], "market=village is not a known market"),
    (["~market.customers"], "~market.customers: keys cannot be removed"),
    (["market.customers"], "cannot read the command line"),
    (["=1"], ": unknown key '' in the top level"),
    (["firm.empathy=0.5)"], "cannot read the command line"),
    (["hydra.run.dir=/dev/null/run"], "hydra.run.dir=/dev/null/run is not allowed: /dev/null is a file"),
    (["-m", "hydra.sweep.dir=/dev/null/sweep"], "hydra.sweep.dir=/dev/null/sweep is not allowed"),
    (["hydra/launcher=slurm_nowhere"], "Could not find 'hydra/launcher/slurm_nowhere'"),
    (["hydra.launcher.n_jobs=abc"], "hydra.launcher.n_jobs: Value 'abc' of type 'str' could not be converted"),
    (["hydra.job.chdir=maybe"], "hydra.job.chdir: Value 'maybe' is not a valid bool"),
    (["--multirun-please"], "unrecognized arguments: --multirun-please"),
    (["--config-name", "nowhere"], "Cannot find primary config 'nowhere'"),
    (["-m", "seed=0,1", "firm.pricing=promotions,cheap"], "firm.pricing='cheap' is not allowed"),
    (["-m", "firm.promo_weeks=1,30"], "firm.promo_weeks=30 is not allowed: must be <= firm.promo_every=13"),
    (["-m", "network.kind=complete,small_world", "market.customers=30000"], "is too large for network.kind=complete"),
    (["scenario=coffee_shop", "firm.empathy=3"], "firm.empathy=3.0 is out of range"),
]


@pytest.fixture
def sim_cli(monkeypatch, capsys, tmp_path) -> Callable[..., str]:
    """Call `python -m sim <args>` in-process; return its one error line after checking status 2 and no output dir."""
    from sim.app import main

    def call(*args: str) -> str:
        before = [p.name for p in tmp_path.iterdir()]
        out = tmp_path / "out"
        first = next((i for i, arg in enumerate(args) if "=" in arg), len(args))
        argv = [*args[:first], *SMALL, *args[first:], f"hydra.run.dir={out}/run", f"hydra.sweep.dir={out}/sweep"]
        if any(a.startswith(("hydra.run.dir=", "hydra.sweep.dir=")) for a in args):
            argv = [*args[:first], *SMALL, *args[first:]]
        monkeypatch.setattr(sys, "argv", ["sim", *argv])
        monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit) as stop:
            main()
        err = capsys.readouterr().err
        assert stop.value.code == 2, err
        assert err.startswith("sim: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
        assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == sorted(before), "something written"
        return err.removeprefix("sim: error: ").strip()

    return call


@pytest.mark.parametrize(("args", "message"), [*schema_cases(), *HAND_CASES],
                         ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_command_line_refuses(sim_cli, args, message):
    assert message in sim_cli(*args)


@pytest.mark.parametrize("name", ["missing", "empty", "comments only", "truncated", "binary", "garbage", "a folder",
                                  "one node", "wrong node count"])
@pytest.mark.parametrize("sweep", [False, True], ids=["run", "sweep"])
def test_graph_file_errors_are_found_before_any_folder_is_made(sim_cli, tmp_path, name, sweep):
    path = graph_files(tmp_path)[name]
    args = ["-m", "seed=0,1"] if sweep else []
    err = sim_cli(*args, "network=file", f"network.path={path}")
    assert err.startswith((f"network.path={str(path)!r}", "market.customers=200 does not match the"))


def test_an_alias_bomb_in_a_config_dir_is_refused_unexpanded(sim_cli, tmp_path):
    (tmp_path / "conf" / "firm").mkdir(parents=True)
    (tmp_path / "conf" / "firm" / "bomb.yaml").write_text(ALIAS_BOMB)
    err = sim_cli("--config-dir", str(tmp_path / "conf"), "firm=default")
    assert err.endswith("bomb.yaml: YAML aliases expand to more than 100,000 values: not allowed in a config "
                        "(an alias bomb?)")


def test_a_self_referring_alias_is_refused(sim_cli, tmp_path):
    (tmp_path / "conf" / "firm").mkdir(parents=True)
    (tmp_path / "conf" / "firm" / "loop.yaml").write_text("a: &a [1, *a]\n")
    assert "a YAML alias refers to the node that contains it" in sim_cli("--config-dir", str(tmp_path / "conf"))


@pytest.mark.parametrize(("given", "rewritten"), [
    ("market.customers=5e6", "market.customers=5000000"), ("market.customers=5000.0", "market.customers=5000"),
    ("market.customers=1e3,2e3", "market.customers=1000,2000"), ("seed=range(0,3)", "seed=range(0,3)"),
    ("firm.empathy=1e-1", "firm.empathy=1e-1"), ("firm.staff=null", "firm.staff=null"),
])
def test_whole_numbers_written_as_floats_are_accepted(given, rewritten):
    from sim.app import load_config, whole_numbers

    assert whole_numbers([given]) == [rewritten]
    assert load_config(["market.customers=5e3"]).market.customers == 5000


# --- python -m analysis -------------------------------------------------------------------------------------------


def write_run(run_dir: Path, summary: object = None, metrics: bytes | None = None) -> None:
    run_dir.mkdir(parents=True)
    good = {"seed": 0, "complete": True, "config": {"seed": 0}, "firms": {"Focal": {"role": "focal", "profit": 1.0}}}
    (run_dir / "summary.json").write_text(json.dumps(good if summary is None else summary))
    if metrics is None:
        pd.DataFrame({"step": [0], "firm": ["Focal"], "profit": [1.0]}).to_parquet(run_dir / "metrics.parquet")
    else:
        (run_dir / "metrics.parquet").write_bytes(metrics)


ANALYSIS_CASES = {
    "summary is a list": ({"summary": []}, [], "no finished runs to analyse (1 unreadable)"),
    "summary has no firms": ({"summary": {"seed": 0, "complete": True, "config": {}}}, [], "1 unreadable"),
    "firms is not a mapping": ({"summary": {"seed": 0, "complete": True, "config": {}, "firms": [1]}}, [],
                               "1 unreadable"),
    "summary is a number": ({"summary": 3}, [], "1 unreadable"),
    "corrupt metrics.parquet": ({"metrics": b"PAR1 not really parquet"}, [], "1 unreadable"),
    "empty metrics.parquet": ({"metrics": b""}, [], "1 unreadable"),
    "bad --correction": ({}, ["--correction", "tukey"], "argument --correction: invalid choice: 'tukey'"),
    "bad --target-halfwidth": ({}, ["--target-halfwidth", "-1"], "argument --target-halfwidth: invalid positive"),
    "zero --target-halfwidth": ({}, ["--target-halfwidth", "0"], "argument --target-halfwidth: invalid positive"),
    "unknown option": ({}, ["--kpis", "profit"], "unrecognized arguments: --kpis profit"),
    "--out onto a file": ({}, ["--out", "{tmp}/a_file"], "--out={tmp}/a_file is not allowed: {tmp}/a_file is a file"),
    "--out under a file": ({}, ["--out", "{tmp}/a_file/x"], "is not allowed: {tmp}/a_file is a file"),
    "bad --kpi": ({}, ["--kpi", "profitt"], "--kpi=profitt is not a KPI of these runs"),
}


@pytest.mark.parametrize("case", list(ANALYSIS_CASES))
def test_analysis_refuses(tmp_path, capsys, case):
    from analysis.__main__ import main

    run, args, message = ANALYSIS_CASES[case]
    write_run(tmp_path / "sweep" / "seed=0", **run)
    (tmp_path / "a_file").write_text("x")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    try:
        status = main([str(tmp_path / "sweep"), *args])
    except SystemExit as stop:
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and err.startswith("python -m analysis: error: " if "argument" in
                                                                      message or "unrecognized" in message
                                                                      else "analysis: error: "), err
    assert message.replace("{tmp}", str(tmp_path)) in err
    assert not (tmp_path / "sweep" / "analysis").exists()


# --- research tools -----------------------------------------------------------------------------------------------

RESEARCH_CASES = [
    ("sensitivity", ["--sample-seed", "-1"], "argument --sample-seed: -1 is out of range: allowed 0 <="),
    ("sensitivity", ["--samples", "0"], "argument --samples: 0 is out of range"),
    ("sensitivity", ["--seeds", "0"], "argument --seeds: 0 is out of range"),
    ("sensitivity", ["--method", "fast"], "argument --method: invalid choice: 'fast'"),
    ("sensitivity", ["--jobs", "0"], "argument --jobs: --jobs=0 is not allowed"),
    ("sensitivity", ["--jobs", "many"], "argument --jobs: --jobs=many is not allowed: expected a whole number"),
    ("sensitivity", ["--out", "{tmp}/a_file"], "argument --out: --out={tmp}/a_file is not allowed"),
    ("sensitivity", ["--out", "{tmp}/a_file/deeper"], "{tmp}/a_file is a file, not a directory"),
    ("sensitivity", ["--space", "{tmp}/nowhere.yaml"], "--space={tmp}/nowhere.yaml: no such file"),
    ("sensitivity", ["--space", "{tmp}/bomb.yaml"], "YAML aliases expand to more than 100,000 values"),
    ("sensitivity", ["--space", "{tmp}/a_file"], "expected a mapping at the top level"),
    ("sensitivity", ["--bogus"], "unrecognized arguments: --bogus"),
    ("sensitivity", ["--set", "firm.empathy=2"], "firm.empathy=2.0 is out of range"),
    ("optimise", ["--jobs", "0"], "argument --jobs: --jobs=0 is not allowed"),
    ("optimise", ["--trials", "0"], "argument --trials: 0 is out of range"),
    ("optimise", ["--batch", "-3"], "argument --batch: -3 is out of range"),
    ("optimise", ["--sampler-seed", "-1"], "argument --sampler-seed: -1 is out of range"),
    ("optimise", ["--fresh-seeds", "0"], "argument --fresh-seeds: 0 is out of range"),
    ("optimise", ["--out", "{tmp}/a_file"], "argument --out: --out={tmp}/a_file is not allowed"),
    ("optimise", ["--spec", "{tmp}/bomb.yaml"], "YAML aliases expand to more than 100,000 values"),
    ("calibrate", ["--jobs", "0"], "argument --jobs: --jobs=0 is not allowed"),
    ("calibrate", ["--out", "{tmp}/a_file/x"], "{tmp}/a_file is a file"),
    ("calibrate", ["--targets", "{tmp}/bomb.yaml"], "YAML aliases expand to more than 100,000 values"),
    ("validate", ["--seed", "-1"], "argument --seed: -1 is out of range"),
    ("validate", ["--checks", "nothing"], "argument --checks: invalid choice: 'nothing'"),
    ("validate", ["--out", "{tmp}/a_file"], "argument --out: --out={tmp}/a_file is not allowed"),
]


@pytest.mark.parametrize(("tool", "args", "message"), RESEARCH_CASES, ids=lambda v: " ".join(v) if isinstance(
    v, list) else v)
def test_research_tools_refuse_before_any_run(tmp_path, capsys, monkeypatch, tool, args, message):
    import importlib

    from research import cli

    module = importlib.import_module(f"research.{tool}")
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB)
    monkeypatch.setattr("sim.batch.run_many", lambda *a, **k: pytest.fail("a run started"))
    monkeypatch.setattr("research.evaluate.run_many", lambda *a, **k: pytest.fail("a run started"))
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    try:
        status = cli.run(tool, module.main, args)
    except SystemExit as stop:
        status = stop.code
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith((f"python -m research.{tool}: error: ", f"research.{tool}: error: ")), err
    assert message.replace("{tmp}", str(tmp_path)) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "bomb.yaml"]


# --- the Python API -----------------------------------------------------------------------------------------------

def small() -> SimConfig:
    return dataclasses.replace(SimConfig(), market=dataclasses.replace(SimConfig().market, customers=30),
                               network=dataclasses.replace(SimConfig().network, mean_degree=4))


GRAPH_CASES = {
    "neighbour past the node count": (np.array([0, 1, 2]), np.array([1, 5])),
    "negative neighbour": (np.array([0, 1, 2]), np.array([1, -1])),
    "indptr not starting at 0": (np.array([1, 1, 2]), np.array([1, 0])),
    "indptr decreasing": (np.array([0, 2, 1, 2]), np.array([1, 0])),
    "indptr ending short": (np.array([0, 1, 1]), np.array([1, 0])),
    "no nodes": (np.array([0]), np.array([], dtype=np.int64)),
    "float indices": (np.array([0, 1, 2]), np.array([1.0, 0.0])),
    "two-dimensional indptr": (np.array([[0, 1, 2]]), np.array([1, 0])),
}


@pytest.mark.parametrize("case", list(GRAPH_CASES))
def test_a_hand_made_graph_with_bad_arrays_is_refused(case):
    indptr, indices = GRAPH_CASES[case]
    with pytest.raises(ConfigError, match=r"^graph\.(indptr|indices)"):
        Graph(indptr=indptr, indices=indices)


@pytest.mark.parametrize(("data", "message"), [
    ({"firm": {"empathy": [0.5]}}, "firm.empathy=[0.5] is not allowed: expected a number"),
    ({"firm": {"staff": 2.5}}, "firm.staff=2.5 is not allowed: expected a whole number"),
    ({"run": {"steps": "10"}}, "run.steps='10' is not allowed: expected a whole number"),
    ({"market": None}, "market=None is not allowed: expected a group of keys"),
    ({"network": {"path": 3, "kind": "file"}}, "network.path=3 is not allowed: expected text"),
    ({"competitors": {"x": {"name": ""}}}, "competitors.x.name='' is not allowed: a firm needs a name"),
    ({"seed": 2**40}, "seed=1099511627776 is out of range"),
    ({"behaviour": {"choice_noise": 0}}, "behaviour.choice_noise=0.0 is out of range"),
    ({"adapt": {"every": 0}}, "adapt.every=0 is out of range"),
    ({"wom": {"buzz_memory": 1}}, "wom.buzz_memory=1.0 is out of range"),
    ({"": 1}, ": unknown key"),
])
def test_from_dict_refuses(data, message):
    with pytest.raises(ConfigError) as err:
        from_dict(data)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("data", [{"competitors": {3: {"price": 1.0}}}, {"competitors": {None: {}}}])
def test_from_dict_refuses_a_competitor_key_that_is_not_text(data):
    with pytest.raises(ConfigError, match=r"^competitors: the key 3|^competitors: the key None"):
        from_dict(data)


@pytest.mark.parametrize("cfg", [None, {"seed": 1}, "config.yaml"])
def test_the_model_refuses_what_is_not_a_config(cfg):
    with pytest.raises(ConfigError, match=r"^cfg=\w+ is not allowed: give a sim.config.SimConfig"):
        EmpathyMarket(cfg)


@pytest.mark.parametrize("graph", [{"a": "b"}, np.eye(30), "town.edgelist"])
def test_the_model_refuses_what_is_not_a_graph(graph):
    with pytest.raises(ConfigError, match=r"^graph=\w+ is not allowed: give a networkx graph"):
        EmpathyMarket(small(), graph=graph)


def test_the_model_refuses_a_graph_with_neighbours_past_its_customers():
    with pytest.raises(ConfigError, match=r"^graph.indices=40 is out of range: allowed 0 <= neighbour < 30"):
        EmpathyMarket(small(), graph=Graph(indptr=np.r_[0, np.full(30, 1)], indices=np.array([40])))


# --- hypothesis: any nested input builds a config or raises ConfigError ----------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=6), st.sampled_from(["fixed", "small_world", "file", "Focal"]))
KEYS = [key for key, _ in leaves()]


@st.composite
def configs(draw) -> dict:
    data: dict = {}
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=6)):
        *groups, leaf = key.split(".")
        node = data
        for g in groups:
            node = node.setdefault(g, {}) if isinstance(node.get(g, {}), dict) else node
        node[leaf] = draw(scalars)
    if draw(st.booleans()):
        data[draw(st.sampled_from(["firm", "market", "competitors", "bogus"]))] = draw(
            st.one_of(scalars, st.dictionaries(st.text(max_size=4), scalars, max_size=3)))
    return data


@settings(derandomize=True, database=None, max_examples=300, deadline=None)
@given(configs())
def test_fuzzed_configs_build_or_raise_config_error(data):
    try:
        cfg = from_dict(data)
    except ConfigError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(cfg, SimConfig)
