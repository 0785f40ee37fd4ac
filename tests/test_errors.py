"""Bad input, on the command line and from Python, ends in one line naming the key, the value and what is allowed.

Command-line cases call `sim.app.main` in-process (each is refused before any run starts, so this is
fast); a few run `python -m sim` for real to show the exit status, the single line and that nothing
was written.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.app import load_config, main
from sim.config import (
    ConfigError,
    SimConfig,
    check_value,
    from_dict,
    to_dict,
)
from sim.model import EmpathyMarket

DATA = Path(__file__).parent / "data"
USER_CONFIGS = DATA / "user_configs"
SMALL = ["market.customers=200", "run.steps=2", "run.progress=false"]


def command_line(*args: str) -> list[str]:
    """Flags (up to the first override), then the small run, then the overrides: later overrides win."""
    first = next((i for i, arg in enumerate(args) if "=" in arg), len(args))
    return [*args[:first], *SMALL, *args[first:]]


def cli_error(monkeypatch, capsys, tmp_path, *args: str) -> str:
    """The one line `python -m sim <args>` prints when it refuses them; checks status 2 and nothing written."""
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["sim", *command_line(*args), f"hydra.run.dir={out}", f"hydra.sweep.dir={out}"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")  # main sets it for Hydra; restored after the test
    with pytest.raises(SystemExit) as stop:
        main()
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert err.startswith("sim: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert not out.exists()
    return err.removeprefix("sim: error: ").strip()


@pytest.mark.parametrize(("args", "message"), [
    (["firm.empathy=1.7"], "firm.empathy=1.7 is out of range: allowed 0 <= firm.empathy <= 1"),
    (["firm.empathy=nan"], "firm.empathy=nan is not allowed: expected a finite number"),
    (["firm.empathy=inf"], "firm.empathy=inf is not allowed: expected a finite number"),
    (["firm.empathy=-inf"], "firm.empathy=-inf is not allowed: expected a finite number"),
    (["firm.empathy=abc"], "firm.empathy='abc' is not allowed: expected a number"),
    (["firm.empathy="], "firm.empathy='' is not allowed: expected a number"),
    (["firm.empathy=${oops}"], "firm.empathy='${oops}' is not allowed: expected a number"),
    (["run.steps=0"], "run.steps=0 is out of range: allowed 1 <= run.steps <= 100000"),
    (["run.steps=2.5"], "run.steps=2.5 is not allowed: expected a whole number"),
    (["seed=-1"], "seed=-1 is out of range: allowed 0 <= seed <= 4294967295"),
    (["seed=nan"], "seed=nan is not allowed: expected a whole number"),
    (["market.customers=5"], "market.customers=5 is out of range: allowed 10 <= market.customers <= 5e+07"),
    (["wom.enabled=maybe"], "wom.enabled='maybe' is not allowed: expected true or false"),
    (["firm.pricing=cheap"], "firm.pricing='cheap' is not allowed: choose one of fixed, promotions, match_cheapest"),
    (["firm.staff=0"], "firm.staff=0 is out of range: allowed 1 <= firm.staff <= 1e+06"),
    (["firm.capacity=0"], "firm.capacity=0.0 is out of range: allowed 1 <= firm.capacity <= 100000"),
    (["competitors.big_box.price=9"], "competitors.big_box.price=9.0 is out of range"),
    (["firm.empathyy=0.5"], "firm.empathyy: unknown key 'empathyy' in firm (known: ad_cost, adapts,"),
    (["+new.key=1"], "new.key: unknown key 'new' in the top level (known: adapt, behaviour,"),
    (["+firm.empathy=0.3"], "+firm.empathy=0.3: '+' adds a new key, but firm.empathy exists: write firm.empathy=0.3"),
    (["~firm.empathy"], "~firm.empathy: keys cannot be removed, the model needs every one"),
    (["~seed"], "~seed: keys cannot be removed"),
    (["competitors.nobody.price=1"], "competitors.nobody: unknown key 'nobody' (known: big_box, online)"),
    (["firm.empathy=[1"], "cannot read the command line: no viable alternative at input '[1'"),
    (["foo"], "cannot read the command line: Error parsing override 'foo'"),
    (["seed=0,1"], "seed=0,1 is a sweep: sweeps run with -m, e.g. python -m sim -m seed=0,1"),
    (["scenario=cofee_shop"], "scenario=cofee_shop is not a known scenario: choose one of "),
    (["scenario=null"], "scenario=null is not allowed: choose one of "),
    (["firm=nope"], "firm=nope is not a known firm: choose one of default"),
    (["market.customers=10"], "network.mean_degree=10 is not allowed: must be < market.customers=10"),
    (["network.kind=complete", "market.customers=30000"],
     "market.customers=30000 is too large for network.kind=complete: allowed at most 20000"),
    (["firm.promo_weeks=20"], "firm.promo_weeks=20 is not allowed: must be <= firm.promo_every=13"),
    (["behaviour.detractor_threshold=0.9"],
     "behaviour.detractor_threshold=0.9 is not allowed: must be <= behaviour.promoter_threshold=0.8"),
    (["firm.pricing=match_cheapest", "firm.price_floor=2"],
     "firm.price_floor=2 is not allowed with firm.pricing=match_cheapest: must be <= firm.price=1"),
    (["competitors.big_box.name=Shop", "competitors.online.name=Shop"], "firm names must differ"),
    (["firm.name="], "firm.name='' is not allowed: a firm needs a name"),
    (["network=file"], "network.path=null is not allowed when network.kind=file: give a graph file"),
    (["hydra.launcher.n_jobs=abc"], "hydra.launcher.n_jobs: Value 'abc' of type 'str' could not be converted"),
    (["hydra/launcher=nope"], "In 'hydra/config': Could not find 'hydra/launcher/nope': choose one of basic, joblib"),
    (["seed=1", "-m", "seed=2"], "unrecognized arguments: seed=2 "),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["-m", "firm.empathy=0,2"], "firm.empathy=2.0 is out of range: allowed 0 <= firm.empathy <= 1"),
    (["-m", "firm.empathy=interval(0,2)"], "firm.empathy=2.0 is out of range"),
    (["-m", "market.customers=1000,10"], "network.mean_degree=10 is not allowed: must be < market.customers=10"),
    (["-m", "scenario=coffee_shop,cofee_shop"], "scenario=cofee_shop is not a known scenario"),
    (["-m", "firm.empathy=glob(*)"], "firm.empathy=glob(*): glob() picks config files, for the groups market,"),
    (["--config-dir", "/no/such/dir"], "--config-dir=/no/such/dir is not allowed: no such directory"),
    (["--config-dir", str(USER_CONFIGS), "firm=out_of_range"],
     "firm.empathy=1.7 is out of range: allowed 0 <= firm.empathy <= 1"),
    (["--config-dir", str(USER_CONFIGS), "firm=not_a_number"],
     "firm.empathy: In 'firm/not_a_number': ValidationError raised while composing config; "
     "Value 'abc' of type 'str' could not be converted to Float"),
    (["--config-dir", str(USER_CONFIGS), "firm=typo"], "firm.empathyy: In 'firm/typo': ConfigKeyError"),
    (["--config-dir", str(USER_CONFIGS), "firm=broken_interpolation"],
     "firm.empathy: Interpolation key 'nowhere' not found"),
    (["--config-dir", str(USER_CONFIGS), "firm=not_yaml"],
     f"{USER_CONFIGS}/firm/not_yaml.yaml, line 2, column 1: not valid YAML: expected ',' or ']'"),
])
def test_command_line_errors_are_one_line(monkeypatch, capsys, tmp_path, args, message):
    assert cli_error(monkeypatch, capsys, tmp_path, *args).startswith(message)


def test_an_output_directory_that_cannot_be_made_is_refused(monkeypatch, capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    monkeypatch.setattr(sys, "argv", ["sim", *SMALL, f"hydra.run.dir={blocker}/run"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    with pytest.raises(SystemExit) as stop:
        main()
    assert stop.value.code == 2
    assert capsys.readouterr().err == (
        f"sim: error: hydra.run.dir={blocker}/run is not allowed: {blocker} is a file, not a directory\n"
    )


def test_a_user_config_dir_adds_options(monkeypatch, capsys, tmp_path):
    """A --config-dir's own files are valid options (the pre-check must not refuse them)."""
    err = cli_error(monkeypatch, capsys, tmp_path, "--config-dir", str(USER_CONFIGS), "firm=good", "firm.empathy=2")
    assert err.startswith("firm.empathy=2.0 is out of range")


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *command_line(*args)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)


def test_real_command_line_exits_2_with_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "run"
    done = run_cli(tmp_path, "firm.empathy=1.7", f"hydra.run.dir={out}")
    assert done.returncode == 2
    assert done.stderr == "sim: error: firm.empathy=1.7 is out of range: allowed 0 <= firm.empathy <= 1\n"
    assert not out.exists()


def test_real_command_line_reduces_hydra_errors_to_one_line(tmp_path):
    done = run_cli(tmp_path, "--config-dir", str(USER_CONFIGS), "firm=not_a_number", f"hydra.run.dir={tmp_path}/r")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "could not be converted to Float" in done.stderr


def test_real_command_line_graph_file_errors_are_one_line(tmp_path):
    """Graph files are read when the run starts: still one line, status 2, and no result files."""
    out = tmp_path / "run"
    done = run_cli(tmp_path, "network=file", f"network.path={DATA / 'graphs' / 'town.edgelist'}",
                   "market.customers=20", f"hydra.run.dir={out}")
    assert done.returncode == 2
    assert done.stderr.endswith("does not match the 12 nodes of network.path="
                                f"'{DATA / 'graphs' / 'town.edgelist'}': set market.customers=12\n")
    assert done.stderr.count("\n") == 1
    assert not (out / "summary.json").exists() and not (out / "metrics.parquet").exists()


@pytest.mark.parametrize(("overrides", "message"), [
    (["firm.empathy=1.7"], "firm.empathy=1.7 is out of range"),
    (["firm.empathyy=1"], "firm.empathyy: unknown key 'empathyy' in firm"),
    (["competitors.nobody.price=1"], "competitors.nobody: unknown key 'nobody' (known: big_box, online)"),
    (["seed=0,1"], "seed=0,1 is a sweep"),
    (["market.customers=10"], "network.mean_degree=10 is not allowed"),
    (["firm.name=${nowhere}"], "firm.name: Interpolation key 'nowhere' not found"),
])
def test_load_config_raises_the_same_one_line_error(overrides, message):
    with pytest.raises(ConfigError) as err:
        load_config(overrides)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("data", "message"), [
    ({"firm": {"empathy": 2}}, "firm.empathy=2.0 is out of range: allowed 0 <= firm.empathy <= 1"),
    ({"firm": {"empathy": float("nan")}}, "firm.empathy=nan is not allowed: expected a finite number"),
    ({"firm": {"empathy": "0.5"}}, "firm.empathy='0.5' is not allowed: expected a number"),
    ({"firm": {"empathyy": 0.5}}, "firm.empathyy: unknown key"),
    ({"firm": 3}, "firm=3 is not allowed: expected a group of keys"),
    ({"competitors": [1]}, "competitors=[1] is not allowed: expected a mapping of name to firm"),
    ({"competitors": {"x": 5}}, "competitors.x=5 is not allowed: expected a group of keys"),
    ({"competitors": {"x": {"price": 0}}}, "competitors.x.price=0.0 is out of range"),
    ({"seed": True}, "seed=True is not allowed: expected a whole number"),
    ({"wom": {"enabled": 1}}, "wom.enabled=1 is not allowed: expected true or false"),
    ({"network": {"kind": "file"}}, "network.path=null is not allowed when network.kind=file"),
    ({"scenario": 3}, "scenario=3 is not allowed: expected text"),
])
def test_from_dict_names_the_key(data, message):
    with pytest.raises(ConfigError) as err:
        from_dict(data)
    assert str(err.value).startswith(message)


def test_from_dict_refuses_a_config_that_is_not_a_mapping():
    with pytest.raises(ConfigError, match="a config of type list is not allowed: expected a group of keys"):
        from_dict([1, 2])


def test_a_saved_config_round_trips():
    cfg = load_config(["firm.empathy=0.8", "scenario=coffee_shop"])
    assert from_dict(to_dict(cfg)) == cfg


def test_the_model_validates_a_config_built_in_python():
    cfg = SimConfig()
    cfg.firm.empathy = 2
    with pytest.raises(ConfigError, match=r"^firm.empathy=2.0 is out of range"):
        EmpathyMarket(cfg)


def test_the_model_validates_the_seed_before_using_it():
    """A bad seed is a ConfigError, and a numpy seed (from np.arange) is made a plain int."""
    small = dataclasses.replace(SimConfig().market, customers=50)
    with pytest.raises(ConfigError, match=r"^seed=-1 is out of range"):
        EmpathyMarket(dataclasses.replace(SimConfig(), seed=-1, market=small))
    assert type(EmpathyMarket(dataclasses.replace(SimConfig(), seed=np.int64(7), market=small)).cfg.seed) is int


def test_python_graph_of_the_wrong_size_is_refused():
    cfg = load_config(["market.customers=50"])
    with pytest.raises(ConfigError, match=r"^market.customers=50 does not match the graph's 40 nodes: "
                                          r"set market.customers=40$"):
        EmpathyMarket(cfg, graph=nx.path_graph(40))
    with pytest.raises(ConfigError, match=r"^graph=list is not allowed: give a networkx graph"):
        EmpathyMarket(cfg, graph=[(0, 1)])
    with pytest.raises(ConfigError, match="the graph has no nodes"):
        EmpathyMarket(cfg, graph=nx.Graph())


def test_every_field_has_a_type_and_a_range_or_a_set():
    """The schema is complete: every number has a range, every text a set of choices or a stated reason."""
    free_text = {"name", "path", "scenario"}  # a firm's name, a graph file, a scenario's label

    def fields(cls):
        for f in dataclasses.fields(cls):
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else None
            if dataclasses.is_dataclass(default):
                yield from fields(type(default))
            elif f.name not in ("competitors", "changes"):  # a plan's changes: checked by check_plan (test_plan)
                yield f

    for f in fields(SimConfig):
        kind = f.type.replace("| None", "").strip()
        assert kind in ("bool", "int", "float", "str"), (f.name, f.type)
        if kind in ("int", "float"):
            assert "range" in f.metadata, f.name
        if kind == "str" and f.name not in free_text:
            assert f.metadata.get("choices"), f.name


def test_range_bounds_are_printed_exactly():
    with pytest.raises(ConfigError, match=r"allowed 0 <= seed <= 4294967295$"):
        check_value("seed", 2**32)


def test_a_bug_in_the_model_still_shows_its_traceback(monkeypatch, tmp_path):
    """Only user errors are reduced to one line: an exception from the model reaches the caller whole."""

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("sim.results.simulate", broken)
    monkeypatch.setattr(sys, "argv", ["sim", *SMALL, f"hydra.run.dir={tmp_path}", "hydra/job_logging=disabled",
                                      "hydra/hydra_logging=disabled"])
    monkeypatch.setenv("HYDRA_FULL_ERROR", "0")
    with pytest.raises(ZeroDivisionError, match="a bug"):
        main()
