"""`behaviour.*` grouped by submodel, every flat key still working wherever a key is written.

Flat and grouped names must give the same config on the command line, in YAML files, in sweeps,
in Python (attributes, constructor, `dataclasses.replace`), in saved configs and in research
spaces and priors; an unknown key or a key given both ways is one clear line, exit status 2.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hydra import initialize_config_dir
from omegaconf import OmegaConf

from research.priors import parse as parse_priors
from research.space import parse_space, with_values
from sim.app import CONFIG_DIR, COORDINATOR, job_configs, load_config, main, preflight
from sim.config import (
    BEHAVIOUR_GROUPS,
    BEHAVIOUR_KEYS,
    BehaviourConfig,
    ConfigError,
    SimConfig,
    canonical_path,
    field_spec,
    from_dict,
    to_dict,
    validate,
)
from sim.manifest import TYPED
from tests.test_errors import cli_error

ROOT = Path(__file__).resolve().parent.parent
# one key of every group, and a switch and a whole number, each with a value away from its default
FLAT = {"empathy_weight": 2.5, "choice": False, "learning_rate": 0.45, "handover_penalty": 0.2, "base_quit": 0.01,
        "restaff_every": 8, "csat_threshold": 0.7}


def overrides(grouped: bool) -> list[str]:
    """FLAT as command-line overrides, by flat or by grouped name."""
    return [f"{canonical_path('behaviour.' + k) if grouped else 'behaviour.' + k}={str(v).lower()}"
            for k, v in FLAT.items()]


def test_every_key_is_in_exactly_one_group_that_names_its_odd_sections():
    assert set(BEHAVIOUR_GROUPS) == {"reconsider", "perception", "service", "staff", "survey"}
    held = [f.name for g in dataclasses.fields(BehaviourConfig) for f in dataclasses.fields(g.default_factory())]
    assert len(held) == len(set(held)) == len(BEHAVIOUR_KEYS) == 50
    for group in dataclasses.fields(BehaviourConfig):
        assert "ODD" in group.default_factory().__doc__


def test_flat_and_grouped_overrides_give_the_same_config():
    flat, grouped = load_config(overrides(grouped=False)), load_config(overrides(grouped=True))
    assert flat == grouped != load_config([])
    assert {k: getattr(flat.behaviour, k) for k in FLAT} == FLAT
    assert flat.behaviour.staff.restaff_every == 8 and isinstance(flat.behaviour.restaff_every, int)


def test_the_later_of_a_flat_and_a_grouped_override_wins():
    assert load_config(["behaviour.empathy_weight=2", "behaviour.reconsider.empathy_weight=3"]).behaviour \
        .empathy_weight == 3
    assert load_config(["behaviour.reconsider.empathy_weight=3", "behaviour.empathy_weight=2"]).behaviour \
        .empathy_weight == 2


def test_python_reads_writes_and_builds_by_flat_name():
    b = BehaviourConfig(choice_noise=1.0, base_quit=0.05)
    assert b.reconsider.choice_noise == 1.0 and b.staff.base_quit == 0.05
    assert b == BehaviourConfig(reconsider=dataclasses.replace(BehaviourConfig().reconsider, choice_noise=1.0),
                                staff=dataclasses.replace(BehaviourConfig().staff, base_quit=0.05))
    changed = dataclasses.replace(b, empathy_weight=3.0)
    assert changed.empathy_weight == 3.0 and b.empathy_weight == 1.5  # the original keeps its groups
    b.empathy_weight = 4.0
    assert b.reconsider.empathy_weight == 4.0
    with pytest.raises(TypeError, match="empathy_wieght"):
        BehaviourConfig(empathy_wieght=1.0)


def test_a_research_space_and_priors_take_either_name():
    base = load_config([])
    flat = with_values(base, {"behaviour.base_quit": 0.02, "behaviour.empathy_weight": 2.0})
    grouped = with_values(base, {"behaviour.staff.base_quit": 0.02, "behaviour.reconsider.empathy_weight": 2.0})
    assert flat == grouped and flat.behaviour.base_quit == 0.02
    space = parse_space({"behaviour.empathy_weight": [0.5, 3.0]}, "space.yaml")
    assert space.subset(["behaviour.reconsider.empathy_weight"], "space.yaml").names == ["behaviour.empathy_weight"]
    priors = parse_priors({"behaviour.staff.base_quit": {"range": [0.004, 0.008]}}, "priors.yaml")
    assert priors.get("behaviour.base_quit") is priors.priors[0]
    with pytest.raises(ConfigError, match="behaviour.empathy_weight and behaviour.reconsider.empathy_weight name the"):
        parse_space({"behaviour.empathy_weight": [0, 1], "behaviour.reconsider.empathy_weight": [0, 2]}, "space.yaml")


def test_saved_configs_reload_grouped_and_in_the_old_flat_layout():
    cfg = load_config(overrides(grouped=False))
    saved = json.loads(json.dumps(to_dict(cfg)))
    assert set(saved["behaviour"]) == set(BEHAVIOUR_GROUPS)
    assert from_dict(saved) == cfg
    old = {**saved, "behaviour": {k: v for group in saved["behaviour"].values() for k, v in group.items()}}
    assert from_dict(old) == cfg  # a summary.json written before the grouping
    with pytest.raises(ConfigError, match="^behaviour.base_quit and behaviour.staff.base_quit are both given"):
        from_dict({"behaviour": {"base_quit": 0.01, "staff": {"base_quit": 0.02}}})


def test_yaml_files_may_use_flat_or_grouped_keys_and_files_and_overrides_apply_in_order(tmp_path):
    scenario = tmp_path / "conf" / "scenario"
    scenario.mkdir(parents=True)
    for name, behaviour in {"flat": FLAT,
                            "grouped": {g: {k: v for k, v in FLAT.items() if BEHAVIOUR_KEYS[k] == g}
                                        for g in BEHAVIOUR_GROUPS}}.items():
        (scenario / f"{name}.yaml").write_text("# @package _global_\n" + yaml.safe_dump({"behaviour": behaviour}))
    conf = str(tmp_path / "conf")
    for name in ("flat", "grouped"):  # the whole command-line check accepts both files
        assert preflight(["--config-dir", conf, f"scenario={name}", f"hydra.run.dir={tmp_path / 'out'}"]).runs == 1

    def composed(*args: str) -> SimConfig:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
            return validate(OmegaConf.to_object(next(job_configs(list(args), conf, "config"))))

    flat, grouped = composed("scenario=flat"), composed("scenario=grouped")
    assert flat == grouped == load_config(overrides(grouped=True))
    assert composed("scenario=flat", "behaviour.reconsider.empathy_weight=1").behaviour.empathy_weight == 1


def test_an_unknown_behaviour_key_is_one_line_with_the_nearest_name(monkeypatch, capsys, tmp_path):
    err = cli_error(monkeypatch, capsys, tmp_path, "behaviour.empathy_wieght=2")
    assert err.startswith("behaviour.empathy_wieght: unknown key 'empathy_wieght' in behaviour "
                          "(did you mean empathy_weight (behaviour.reconsider.empathy_weight)?")
    err = cli_error(monkeypatch, capsys, tmp_path, "behaviour.staff.empathy_weight=2")
    assert err.startswith("behaviour.staff.empathy_weight: unknown key 'empathy_weight' in behaviour.staff (known:")
    assert cli_error(monkeypatch, capsys, tmp_path, "behaviour.empathy_weight=200") == \
        "behaviour.empathy_weight=200.0 is out of range: allowed 0 <= behaviour.empathy_weight <= 100"


def test_a_yaml_file_giving_a_key_both_ways_is_one_line(monkeypatch, capsys, tmp_path):
    (tmp_path / "conf" / "scenario").mkdir(parents=True)
    (tmp_path / "conf" / "scenario" / "both.yaml").write_text(
        "# @package _global_\nbehaviour:\n  base_quit: 0.01\n  staff:\n    base_quit: 0.02\n")
    err = cli_error(monkeypatch, capsys, tmp_path, "--config-dir", str(tmp_path / "conf"), "scenario=both")
    assert err.startswith("scenario/both.yaml: behaviour.base_quit and behaviour.staff.base_quit are both given")


def test_field_spec_answers_both_names():
    for key, group in BEHAVIOUR_KEYS.items():
        assert field_spec(f"behaviour.{key}") is field_spec(f"behaviour.{group}.{key}")


@pytest.mark.timeout(120)
def test_a_sweep_over_a_flat_key_runs_and_resumes_by_the_same_command(tmp_path):
    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "sim", "-m", "hydra/launcher=basic", "behaviour.empathy_weight=0,3",  # in-process
               "market.customers=300", "run.steps=3", "run.burn_in=2", "run.progress=false", f"hydra.sweep.dir={sweep}"]
    first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=100)
    assert first.returncode == 0, first.stderr
    summaries = {p.parent.name: json.loads(p.read_text()) for p in sweep.glob("*/summary.json")}
    assert sorted(s["config"]["behaviour"]["reconsider"]["empathy_weight"] for s in summaries.values()) == [0, 3]
    assert all(name.startswith("behaviour.reconsider.empathy_weight=") for name in summaries)
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=100)
    assert again.returncode == 0 and again.stdout.count("already complete, skipped") == 2, again.stdout
    reproduce = [json.loads(line) for line in (sweep / "manifest.jsonl").read_text().splitlines()]
    assert any("behaviour.empathy_weight=0,3" in json.dumps(event) for event in reproduce)  # recorded as typed


def test_main_runs_a_flat_override(monkeypatch, tmp_path, capsys):
    out = tmp_path / "run"
    for name in ("HYDRA_FULL_ERROR", COORDINATOR, TYPED):  # main sets these: restored after the test
        monkeypatch.setenv(name, "")
    monkeypatch.setattr(sys, "argv", ["sim", "behaviour.base_quit=0.02", "market.customers=200", "run.steps=2",
                                      "run.burn_in=0", "run.progress=false", f"hydra.run.dir={out}"])
    main()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["behaviour"]["staff"]["base_quit"] == 0.02
    assert (out / ".hydra" / "overrides.yaml").read_text().count("behaviour.staff.base_quit=0.02") == 1
