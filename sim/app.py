"""The Hydra app behind `python -m sim`: compose a config, run it, write and print the results.

The whole command line is checked before Hydra starts (`preflight`): every override against the
schema (key, type, range, group option), then each run's composed config against the cross-field
rules (every job of a sweep), then the output directory. A user error exits with status 2 and one
line naming the key, the value and what is allowed, before any run starts or any directory is
made. Hydra's, OmegaConf's and YAML's own errors (override syntax, a bad value in a user's YAML
file, a broken interpolation) are reduced to one line the same way; a bug in the model still shows
its traceback (`HYDRA_FULL_ERROR=1` shows Hydra's full errors too). The pre-flight also reads
every graph file a run will use, and parses the YAML of a `--config-dir` with a bound on alias
expansion (an "alias bomb" is refused, not expanded). Ctrl-C (SIGINT) and SIGTERM (what SLURM and
Kubernetes send at a time limit) save a partial result and exit with status 130 or 143; a stopped
sweep says which runs finished and how to finish the rest. Runs whose directory already holds a
complete summary are skipped, so re-running an interrupted sweep completes only what is missing.
"""

from __future__ import annotations

import argparse
import copy
import gc
import hashlib
import itertools
import json
import logging
import os
import re
import shlex
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import hydra
import yaml
from hydra import compose, initialize_config_dir
from hydra._internal.config_repository import ConfigRepository  # reads every config file (grouped_file)
from hydra._internal.utils import get_args_parser  # Hydra's own parser, so flags read exactly as Hydra reads them
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob, Override
from hydra.errors import HydraException, MissingConfigException
from hydra.plugins.config_source import ConfigResult
from hydra.plugins.sweeper import Sweeper
from hydra.types import RunMode
from omegaconf import DictConfig, ListConfig, OmegaConf, open_dict
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from sim import manifest, network, results
from sim.config import (
    BEHAVIOUR_KEYS,
    ConfigError,
    SimConfig,
    canonical_path,
    check_value,
    field_spec,
    group_behaviour,
    validate,
)
from sim.metrics import Progress
from sim.profile import derive, fields

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
GROUPS = ("market", "network", "firm", "competitors", "run", "scenario", "plan")
KPI_COLUMNS = ("customers", "market_share", "retention_rate", "cltv", "nps", "csat", "revenue", "profit",
               "employee_engagement", "employee_turnover")
USER_ERROR = 2  # exit status of a bad command line; a signal ends a run with 128 + its number, as shells report
COORDINATOR = "SIM_COORDINATOR_PID"  # environment: the process that runs the sweep (workers inherit it)
YAML_NODE_LIMIT = 100_000  # nodes a user's YAML file may expand to through aliases (real configs: hundreds)
OMEGACONF_DETAIL = ("full_key:", "reference_type=", "object_type=")  # indented detail lines of OmegaConf errors
SHOW_HYDRA_ERRORS = os.environ.get("HYDRA_FULL_ERROR") == "1"  # the user asked for Hydra's full errors
BUSINESS = "business"  # business=<profile.yaml>: a business profile (sim.profile), a config group held in memory
RUN_NAME_CHARS = 60  # readable part of a sweep's run folder name; a hash of all its overrides follows
UNITS_OF_MONEY = ("revenue", "costs", "profit")  # per-firm totals shown with their currency and period

ConfigStore.instance().store(name="sim_schema", node=SimConfig)


def grouped_file(result: ConfigResult | None, config_path: str) -> ConfigResult | None:
    """A config file as Hydra loaded it, its flat behaviour keys moved into their groups (`group_behaviour`).

    Each file is rewritten as it is read, before Hydra merges it, so files and overrides still
    apply in Hydra's order: a flat key in a scenario and a grouped key on the command line name
    the same value, and the later wins.
    """
    cfg = result.config if result is not None else None  # ConfigStore nodes too: a business profile's overlay
    node = cfg._get_node("behaviour") if isinstance(cfg, DictConfig) and "behaviour" in cfg else None
    if isinstance(node, DictConfig) and any(key in BEHAVIOUR_KEYS for key in node):
        try:
            cfg.behaviour = group_behaviour(OmegaConf.to_container(node, resolve=False))
        except ConfigError as err:
            raise ConfigError(f"{config_path}.yaml: {err}") from None
    return result


def _read_grouped(read: Any) -> Any:
    """Hydra's `ConfigRepository.load_config`, each file it returns passed through `grouped_file`."""

    def load_config(self: ConfigRepository, config_path: str) -> ConfigResult | None:
        return grouped_file(read(self, config_path), config_path)

    load_config.grouped = True
    return load_config


if not getattr(ConfigRepository.load_config, "grouped", False):  # Hydra has no hook for rewriting a file it reads
    ConfigRepository.load_config = _read_grouped(ConfigRepository.load_config)


def run_dir_name(readable: str, task: ListConfig | list[str]) -> str:
    """A sweep run's folder: its swept values (readable, cut short) and a short hash of all its overrides.

    The hash keeps names unique and stable (re-running a sweep finds its finished runs) whatever
    the number or length of the overrides; the full list is written into the folder (overrides.txt).
    """
    overrides = sorted(str(o) for o in task if not str(o).startswith("run.progress="))
    digest = hashlib.sha1("\n".join(overrides).encode()).hexdigest()[:10]
    prefix = re.sub(r"[^A-Za-z0-9._=,+-]+", "_", readable)[:RUN_NAME_CHARS].strip("_,")
    return f"{prefix}-{digest}" if prefix else digest


OmegaConf.register_new_resolver("sim_run_dir", run_dir_name, replace=True)  # configs/config.yaml, hydra.sweep.subdir


def fail(message: str, status: int = USER_ERROR) -> NoReturn:
    """Print a one-line error and exit non-zero."""
    print(f"sim: error: {message}", file=sys.stderr)
    sys.exit(status)


def one_line(err: BaseException) -> str:
    """A Hydra, OmegaConf or YAML error as one line: the key it concerns, then what went wrong."""
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        mark = err.problem_mark
        return f"{mark.name}, line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {err.problem}"
    if isinstance(err, MissingConfigException) and err.options:
        return f"{str(err).splitlines()[0]}: choose one of {', '.join(err.options)}"
    cause = err.__cause__ if isinstance(err.__cause__, OmegaConfBaseException) else err
    if isinstance(cause, ConfigKeyError | ConfigAttributeError) and isinstance(cause.parent_node, DictConfig):
        known = ", ".join(sorted(str(k) for k in cause.parent_node)) or "none"
        return f"{cause.full_key}: unknown key '{cause.key}' (known: {known})"
    lines = [line.strip().rstrip(":") for line in str(cause).splitlines()]
    key = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("full_key:")), None)
    text = "; ".join(line for line in lines if line and not line.startswith(OMEGACONF_DETAIL))
    text = text or type(cause).__name__
    return f"{key}: {text}" if key else text


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Raise Hydra's, OmegaConf's and YAML's errors about the user's input as a one-line ConfigError."""
    try:
        yield
    except (HydraException, OmegaConfBaseException, yaml.YAMLError) as err:
        if SHOW_HYDRA_ERRORS:
            raise
        raise ConfigError(one_line(err)) from None


def parse_overrides(overrides: list[str]) -> list[Override]:
    """Hydra's reading of the overrides; a syntax error is a ConfigError."""
    try:
        return OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as err:  # the parser's message carries the offending text
        raise ConfigError(f"cannot read the command line: {one_line(err)}") from None


def grouped_overrides(overrides: list[str]) -> list[str]:
    """Overrides naming a behaviour key by its flat name (behaviour.empathy_weight=2) written with its group.

    Each keeps its place on the command line, so Hydra applies them in the order typed; sweeps too.
    """
    out = []
    for text, o in zip(overrides, parse_overrides(overrides), strict=True):
        key, grouped = o.key_or_group, canonical_path(o.key_or_group)
        if grouped != key:
            start = text.index(key)  # after any +, ++ or ~
            text = text[:start] + grouped + text[start + len(key):]
        out.append(text)
    return out


def business_overrides(overrides: list[str]) -> tuple[list[str], list[derive.Derived]]:
    """`business=<profile.yaml>` read, checked and derived; the overrides with it as `+business=<name>`.

    The derived configuration is stored in Hydra's ConfigStore (group `business`, global package),
    which Hydra hands to every launcher's workers, so a profile composes with any override and
    sweep like a config file; the user's own overrides win over what the profile derives.
    """
    out, derived = [], []
    for text, o in zip(overrides, parse_overrides(overrides), strict=True):
        if o.key_or_group != BUSINESS:
            out.append(text)
            continue
        if o.is_sweep_override() or o.is_delete() or not isinstance(o.value(), str):
            raise ConfigError(f"{o.input_line} is not allowed: give one profile file, e.g. business=my_shop.yaml "
                              "(compare strategies on it with a sweep: python -m sim -m business=my_shop.yaml "
                              "firm.empathy=0.3,0.6)")
        try:
            d = derive.derive(fields.read(o.value()))
        except ConfigError as err:
            source = Path(o.value()).name
            raise ConfigError(str(err) if str(err).startswith(source) else f"{source}: {err}") from None
        name = fields.slug(Path(o.value()).stem) or "profile"
        ConfigStore.instance().store(group=BUSINESS, name=name, node=d.overlay(), package="_global_")
        out.append(f"+{BUSINESS}={name}")
        derived.append(d)
    return out, derived


def group_options(group: str, config_dir: str | None = None) -> list[str]:
    """The options of a config group (its YAML files), ours and those of a `--config-dir`."""
    folders = [CONFIG_DIR / group] + ([Path(config_dir) / group] if config_dir else [])
    return sorted({path.stem for folder in folders for path in folder.glob("*.yaml")})


def sweep_values(o: Override, options: list[str]) -> list[Any]:
    """The values an override takes: its value, each of a sweep, a glob's matching options, an interval's ends."""
    if not o.is_sweep_override():
        return [o.value()]
    if o.is_interval_sweep():
        return [o.value().start, o.value().end]
    try:
        values = o.value().filter(options) if isinstance(o.value(), Glob) else list(o.sweep_iterator())
    except (ValueError, TypeError) as err:  # e.g. range(0,10,0): Python's range refuses a zero step
        raise ConfigError(f"{o.input_line} is not allowed: {err}") from None
    if not values:
        raise ConfigError(f"{o.input_line} is an empty sweep, it would run nothing: "
                          "give at least one value, e.g. seed=range(0,5) (start < stop for a positive step)")
    return values


def check_overrides(overrides: list[str], config_dir: str | None = None, multirun: bool = True) -> None:
    """Check command-line overrides against the schema before Hydra composes them; raise ConfigError."""
    for o in parse_overrides(overrides):
        key = o.key_or_group
        if key == "hydra.sweeper.params" or key.startswith("hydra.sweeper.params."):
            raise ConfigError(f"{o.input_line} is not allowed: give sweeps on the command line, where they are "
                              "checked, e.g. python -m sim -m seed=0,1 firm.empathy=0,1")
        if key.startswith("hydra") or (key == BUSINESS and o.is_add()):  # business: stored by business_overrides
            continue
        if o.is_sweep_override() and not multirun:
            raise ConfigError(f"{o.input_line} is a sweep: sweeps run with -m, e.g. python -m sim -m {o.input_line}")
        if key in GROUPS:
            options = group_options(key, config_dir)
            for value in sweep_values(o, options) if not o.is_delete() else []:
                if value is None:
                    raise ConfigError(f"{key}=null is not allowed: choose one of {', '.join(options)} (~{key}: none)")
                if str(value) not in options:
                    raise ConfigError(f"{key}={value} is not a known {key}: choose one of {', '.join(options)}")
            continue
        spec = field_spec(key)
        if o.is_delete():
            raise ConfigError(f"~{key}: keys cannot be removed, the model needs every one: set it, e.g. {key}=<value>")
        if o.is_add():
            raise ConfigError(f"{o.input_line}: '+' adds a new key, but {key} exists: write {o.input_line[1:]}")
        if isinstance(o.value(), Glob):
            raise ConfigError(f"{o.input_line}: glob() picks config files, for the groups {', '.join(GROUPS)}")
        for value in sweep_values(o, []):
            text = spec.type.startswith("str") and value is not None and not isinstance(value, str)
            check_value(key, str(value) if text else value, spec)  # firm.name=2024 is text, as OmegaConf reads it


def job_configs(overrides: list[str], config_dir: str | None, config_name: str) -> Iterator[DictConfig]:
    """Each run's composed config: one for a run, one per job of a sweep; `HydraConfig` holds Hydra's part.

    A sweep over config groups (scenario=a,b) is composed option by option; sweeps over values
    (seed=0,1,2) are then set on the composition as Hydra sets an override, far faster than
    composing every job. Interval sweeps are drawn by an optimiser: their ends were checked.
    """
    parsed = parse_overrides(overrides)
    sweeps = [o for o in parsed if o.is_sweep_override() and not o.is_interval_sweep()
              and not o.key_or_group.startswith("hydra")]
    searchpath = [f"file://{os.path.abspath(config_dir)}"] if config_dir else []  # where --config-dir puts it
    fixed = []
    for o in parsed:
        if o.key_or_group == "hydra.searchpath":
            searchpath += list(o.value())
        elif not o.is_sweep_override():
            fixed.append(o.input_line)
    if searchpath:
        fixed.append(f"hydra.searchpath={json.dumps(searchpath)}")
    layouts = [[f"{o.get_key_element()}={v}" for v in sweep_values(o, group_options(o.key_or_group, config_dir))]
               for o in sweeps if o.key_or_group in GROUPS]
    values = [[(o.key_or_group, v) for v in o.sweep_iterator()] for o in sweeps if o.key_or_group not in GROUPS]
    for layout in itertools.product(*layouts):
        base = compose(config_name=config_name, overrides=fixed + list(layout), return_hydra_config=True)
        HydraConfig.instance().set_config(copy.deepcopy(base))  # Hydra's part, whole: ${hydra:...} resolve as in a run
        with open_dict(base):
            del base["hydra"]
        for assignment in itertools.product(*values):  # each sets the same keys: no copy needed
            for key, value in assignment:
                OmegaConf.update(base, key, value, merge=True)
            yield base


def whole_numbers(overrides: list[str]) -> list[str]:
    """Overrides of whole-number keys written as 5e6 or 5000.0, rewritten as 5000000 and 5000.

    Hydra reads 5e6 as a float and OmegaConf refuses a float for an int key, though the schema's
    check (`check_value`) accepts any whole number; call after `check_overrides`.
    """
    out = []
    for text, o in zip(overrides, parse_overrides(overrides), strict=True):
        key = o.key_or_group
        plain = not (key.startswith("hydra") or key in (*GROUPS, BUSINESS) or o.is_delete() or o.is_interval_sweep()
                     or isinstance(o.value(), Glob))
        values = sweep_values(o, []) if plain and field_spec(key).type.replace("| None", "").strip() == "int" else []
        if any(isinstance(v, float) for v in values) and all(
                isinstance(v, int | float) and not isinstance(v, bool) and float(v).is_integer() for v in values):
            text = f"{o.get_key_element()}={','.join(str(int(v)) for v in values)}"
        out.append(text)
    return out


def read_user_yaml(path: Path | str) -> Any:
    """A user's YAML file, parsed safely with alias expansion bounded; ConfigError if malformed or too large.

    An "alias bomb" (a few lines of nested aliases that expand to billions of nodes) is refused
    from its node graph, which PyYAML builds without expanding the aliases.
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:
            loader = yaml.SafeLoader(stream)
            try:
                node = loader.get_single_node()
                if node is not None:
                    expanded_size(node, path)
                return None if node is None else loader.construct_document(node)
            finally:
                loader.dispose()
    except yaml.YAMLError as err:
        raise ConfigError(one_line(err) if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark
                          else f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid YAML: not UTF-8 text") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror})") from None


def expanded_size(root: yaml.Node, path: Path) -> int:
    """Nodes a YAML document has once its aliases are expanded, counted without expanding them."""
    sizes: dict[int, int] = {}  # id(node) -> expanded size; -1 while being counted

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            if known < 0:
                raise ConfigError(f"{path}: a YAML alias refers to the node that contains it: not allowed in a config")
            return known
        sizes[id(node)] = -1
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        total = 1 + sum(size(child) for child in children)
        if total > YAML_NODE_LIMIT:
            raise ConfigError(f"{path}: YAML aliases expand to more than {YAML_NODE_LIMIT:,} values: "
                              "not allowed in a config (an alias bomb?)")
        sizes[id(node)] = total
        return total

    return size(root)


def check_user_configs(folder: str) -> None:
    """No YAML file of a `--config-dir` (or absolute `--config-path`) expands past the alias bound.

    Only the aliases are checked here, on the unexpanded node graph; a file that is not valid YAML
    is reported by Hydra if a run uses it (one line, see `one_line`).
    """
    for path in sorted(Path(folder).rglob("*.y*ml")):
        try:
            with path.open("rb") as stream:
                node = yaml.compose(stream, Loader=yaml.SafeLoader)
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            continue
        if node is not None:
            expanded_size(node, path)


def check_graph_file(cfg: SimConfig, nodes: dict[str, int]) -> None:
    """A run's graph file reads and fits its market (`nodes` caches each file's node count)."""
    if cfg.network.kind != "file":
        return
    path = str(cfg.network.path)
    if path not in nodes:
        nodes[path] = network.load(path).n
    network.check_file_nodes(nodes[path], cfg.market.customers, path)


def check_output_dir(key: str, value: str) -> None:
    """The run or sweep directory can be created and written, without creating it."""
    path = Path(value).absolute()
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{key}={value} is not allowed: {existing} is a file, not a directory")
    try:
        tempfile.TemporaryDirectory(dir=existing).cleanup()
    except OSError as err:
        raise ConfigError(f"{key}={value} is not allowed: cannot write in {existing} ({err.strerror})") from None


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (`prog: error: ...`, exit 2), not a page of usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(USER_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


@dataclass
class Plan:
    """What a checked command line will do: a run or a sweep of `runs` runs, and its arguments for Hydra."""

    argv: list[str]
    multirun: bool = False
    runs: int = 0
    typed: list[str] = field(default_factory=list)  # the command line as the user typed it
    profiles: list[derive.Derived] = field(default_factory=list)  # business profiles it runs


def preflight(argv: list[str]) -> Plan:
    """Check a whole `python -m sim` command line before Hydra starts anything; raise ConfigError.

    Returns the plan, with the arguments Hydra is to get (whole numbers such as 5e6 rewritten).
    """
    parser = get_args_parser()

    def refuse(message: str) -> NoReturn:
        hint = "flags such as -m go before the overrides" if "unrecognized" in message else "see python -m sim --help"
        raise ConfigError(f"{message} ({hint})")

    parser.error = refuse  # one line instead of argparse's usage text
    args = parser.parse_args(argv)
    typed = list(argv)
    with_business, profiles = business_overrides(args.overrides)
    swapped = dict(zip(args.overrides, with_business, strict=True))
    argv, args.overrides = [swapped.get(arg, arg) for arg in argv], with_business
    if args.help or args.hydra_help or args.shell_completion or args.cfg or args.info or args.experimental_rerun:
        grouped = dict(zip(args.overrides, grouped_overrides(args.overrides), strict=True))
        return Plan([grouped.get(arg, arg) for arg in argv], typed=typed, profiles=profiles)  # Hydra only shows
    if args.config_dir and not os.path.isdir(args.config_dir):
        raise ConfigError(f"--config-dir={args.config_dir} is not allowed: no such directory")
    multirun = args.multirun or "hydra.mode=MULTIRUN" in args.overrides
    check_overrides(args.overrides, args.config_dir, multirun=multirun)  # errors name keys as typed
    rewritten = dict(zip(args.overrides, whole_numbers(grouped_overrides(args.overrides)), strict=True))
    overrides = [rewritten[o] for o in args.overrides]
    plan = Plan([rewritten.get(arg, arg) for arg in argv] + (run_names(overrides) if multirun else []), multirun,
                typed=typed, profiles=profiles)
    for folder in (args.config_dir, args.config_path):
        if folder and os.path.isabs(folder) and os.path.isdir(folder):
            check_user_configs(folder)
    if args.config_path and not os.path.isabs(args.config_path):
        return plan  # Hydra reads a relative --config-path against the package: leave those to the run's own checks
    dir_key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    graph_nodes: dict[str, int] = {}
    with initialize_config_dir(config_dir=args.config_path or str(CONFIG_DIR), version_base=None), one_line_errors():
        for job in job_configs(overrides, args.config_dir, args.config_name or "config"):
            if plan.runs == 0:
                check_output_dir(dir_key, str(OmegaConf.select(HydraConfig.get(), dir_key.removeprefix("hydra."))))
            check_graph_file(validate(OmegaConf.to_object(job)), graph_nodes)
            plan.runs += 1
    return plan


def run_names(overrides: list[str]) -> list[str]:
    """The override that leaves a sweep's fixed keys out of its run folders' readable names (sweeps show)."""
    parsed = [o for o in parse_overrides(overrides) if not o.key_or_group.startswith("hydra")]
    excluded = ["run.progress"]
    if any(o.is_sweep_override() for o in parsed):
        excluded += [o.key_or_group for o in parsed if not o.is_sweep_override()]
    if any(o.key_or_group == "hydra.job.config.override_dirname.exclude_keys" for o in parse_overrides(overrides)):
        return []  # the user chose
    return [f"hydra.job.config.override_dirname.exclude_keys=[{','.join(dict.fromkeys(excluded))}]"]


def load_config(overrides: list[str] | None = None) -> SimConfig:
    """Compose and validate a config from Python, as `python -m sim <overrides>` would; raise ConfigError.

    A `business=<profile.yaml>` among the overrides is read and derived as on the command line.
    """
    overrides, _ = business_overrides(list(overrides or []))
    check_overrides(overrides, multirun=False)
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None), one_line_errors():
        cfg = compose(config_name="config", overrides=whole_numbers(grouped_overrides(overrides)))
        return validate(OmegaConf.to_object(cfg))


def period(weeks: int) -> str:
    """A run's length in words: '2 years', '1 year', '30 weeks'."""
    if weeks % 52 == 0:
        return f"{weeks // 52} year{'s' if weeks > 52 else ''}"
    return f"{weeks} weeks"


def _number(x: Any) -> str:
    if x is None:
        return "n/a"
    return f"{x:,.3f}" if abs(x) < 10 else f"{x:,.0f}"


def kpi_table(summary: dict) -> str:
    """The per-firm totals printed after a run, money columns naming their currency and period."""
    import pandas as pd

    money, over = summary["units"]["currency"], period(summary["weeks"])
    columns = {"customers": "customers", "market_share": "market share", "retention_rate": "retention (/year)",
               "cltv": f"cltv ({money}/relationship)", "nps": "nps", "csat": "csat",
               **{k: f"{k} ({money}, {over})" for k in UNITS_OF_MONEY},
               "employee_engagement": "engagement", "employee_turnover": "staff turnover (/year)"}
    rows = {name: {label: f[k] for k, label in columns.items()} for name, f in summary["firms"].items()}
    table = pd.DataFrame(rows).T
    table.index.name = "firm"
    return table.to_string(float_format=_number)


def years_table(summary: dict) -> str:
    """The focal firm's year-by-year accounts and rates (cost lines that are 0 every year left out)."""
    import pandas as pd

    name, focal = next((n, f) for n, f in summary["firms"].items() if f["role"] == "focal")
    money = summary["units"]["currency"]
    years = focal["years"]
    if not years:
        return ""
    per_year = f"{money}/year"
    lines = {f"revenue ({per_year})": [y["revenue"] for y in years]}
    for item in years[0]["costs_by_category"]:
        values = [y["costs_by_category"][item] for y in years]
        if any(values):
            lines[f"  {item.replace('_', ' ')} ({per_year})"] = values
    lines[f"costs ({per_year})"] = [y["costs"] for y in years]
    lines[f"profit ({per_year})"] = [y["profit"] for y in years]
    lines["customers at year end"] = [y["customers_end"] for y in years]
    lines["retention (/year)"] = [y["retention_rate"] for y in years]
    lines["staff turnover (/year)"] = [y["employee_turnover"] for y in years]
    heads = [f"year {y['year']}" + ("" if y["weeks"] == 52 else f" ({y['weeks']} weeks)") for y in years]
    table = pd.DataFrame(lines, index=heads).T
    return f"{name}, year by year:\n" + table.to_string(float_format=_number)


def record_overrides(out_dir: Path, hydra_cfg: DictConfig) -> None:
    """Every override of a run (overrides.txt) and any business profile's derived configuration (business.yaml)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "overrides.txt").write_text("".join(f"{o}\n" for o in hydra_cfg.overrides.task), encoding="utf-8")
    business = hydra_cfg.runtime.choices.get(BUSINESS)
    if business:
        node = ConfigStore.instance().load(f"{BUSINESS}/{business}.yaml").node
        (out_dir / "business.yaml").write_text(OmegaConf.to_yaml(node), encoding="utf-8")


@hydra.main(version_base=None, config_path=str(CONFIG_DIR), config_name="config")
def run(cfg: DictConfig) -> None:
    """Run one configuration into its Hydra output directory; exit 128 + signal after saving a partial result."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    sweeping = hydra_cfg.mode == RunMode.MULTIRUN
    worker = sweeping and os.environ.get(COORDINATOR) != str(os.getpid())
    if worker:  # a sweep's worker process: between runs a SIGTERM is the coordinator's to act on
        results.ignore_sigterm()
    record = manifest.Record(Path(hydra_cfg.sweep.dir), out_dir, list(hydra_cfg.overrides.task)) if sweeping else None
    if results.is_done(out_dir):
        if record:
            record.end("skipped")
        print(f"{out_dir}: already complete, skipped")
        return
    if record:
        record.start(cfg.get("seed"))
    try:
        record_overrides(out_dir, hydra_cfg)
    except OSError as err:
        fail(f"cannot write into {out_dir}: {err.strerror or err}")
    try:
        with one_line_errors():
            config = validate(OmegaConf.to_object(cfg))
        progress = Progress() if config.run.progress else None
        with results.stop_on_sigterm():
            result = results.simulate(config, progress)
    except ConfigError as err:  # checked before Hydra started: only a file changed since could get here
        if record:
            record.end("refused")
        fail(str(err))
    try:
        results.save(result, out_dir)
    except OSError as err:
        fail(f"cannot write the results into {out_dir}: {err.strerror or err}")
    if record:
        record.end("complete" if result.complete else "partial", result.summary["weeks"])
    if progress and not result.complete:
        print(file=sys.stderr)  # end the progress line
    if sweeping:  # one line per run keeps a sweep's log readable
        focal = next(iter(result.summary["firms"].values()))
        print(f"{out_dir.name}: " + ", ".join(f"{k}={focal[k]:.3g}" for k in ("retention_rate", "cltv", "profit")))
    else:
        print(kpi_table(result.summary))
        print(years_table(result.summary))
    state = "complete" if result.complete else (
        f"INTERRUPTED by {result.stopped_by.name} at week {result.summary['weeks']}, partial")
    print(f"results ({state}): {out_dir}")
    if result.stopped_by and not worker:  # a worker returns: its coordinator got the signal too and stops the sweep
        if sweeping:
            raise results.Terminated() if result.stopped_by == signal.SIGTERM else KeyboardInterrupt()
        sys.exit(128 + result.stopped_by)


def sweep_stopped(plan: Plan, sig: signal.Signals) -> str:
    """What a stopped sweep finished, and the command that finishes the rest."""
    try:
        sweep_dir = Path(HydraConfig.get().sweep.dir)
    except ValueError:  # stopped before Hydra set up the sweep: nothing ran
        return f"sweep stopped by {sig.name} before any run started"
    done = sum(results.is_done(p.parent) for p in sweep_dir.glob("**/summary.json"))
    argv = [a for a in plan.typed if not a.startswith("hydra.sweep.dir=")] + [f"hydra.sweep.dir={sweep_dir}"]
    return (f"sweep stopped by {sig.name}: {done} of {plan.runs} runs finished in {sweep_dir}; "
            f"to finish the rest, run the same command again: python -m sim {shlex.join(argv)}")


@contextmanager
def jobs_checked(plan: Plan) -> Iterator[None]:
    """A sweep whose every job pre-flight composed and checked: Hydra's sweeper does not compose them all again.

    Hydra's sweepers compose each job's config before launching any (`Sweeper.validate_batch_is_legal`),
    one after another, 0.1 s a job: a 1,000-run sweep would wait 100 s for a check already made.
    """
    if not (plan.multirun and plan.runs):
        yield
        return
    check = Sweeper.validate_batch_is_legal
    Sweeper.validate_batch_is_legal = lambda self, batch: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        Sweeper.validate_batch_is_legal = check  # type: ignore[method-assign]


def end_start_up() -> None:
    """Turn the garbage collector back on for the runs (`python -m sim` starts with it off), past what start-up built.

    What start-up built (modules, configs) lives as long as the process: frozen, collections skip it.
    Where the collector is on (a caller in Python), nothing is frozen.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def main() -> None:
    """Entry point: check the whole command line, then run Hydra; user errors end in one line."""
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra then raises its errors to us instead of printing them
    os.environ[COORDINATOR] = str(os.getpid())
    plan = None
    try:
        with results.stop_on_sigterm():
            plan = preflight(sys.argv[1:])
            os.environ[manifest.TYPED] = shlex.join(plan.typed)  # the manifest records the command as typed
            for profile in plan.profiles:
                print(derive.table(profile), flush=True)
            sys.argv[1:] = plan.argv
            end_start_up()
            with one_line_errors(), jobs_checked(plan):
                run()
    except ConfigError as err:
        fail(str(err))
    except KeyboardInterrupt as err:
        sig = results.stop_signal(err)
        if plan and plan.multirun:
            print(f"sim: {sweep_stopped(plan, sig)}", file=sys.stderr)
            sys.exit(128 + sig)
        fail(f"interrupted by {sig.name} before a result was saved", 128 + sig)
    except OSError as err:  # e.g. an output directory Hydra could not make
        if err.filename is None:
            raise
        fail(f"cannot write {err.filename}: {err.strerror}")
