"""The Hydra app behind `python -m sim`: compose a config, run it, write and print the results.

The whole command line is checked before Hydra starts (`preflight`): every override against the
schema (key, type, range, group option), then each run's composed config against the cross-field
rules (every job of a sweep), then the output directory. A user error exits with status 2 and one
line naming the key, the value and what is allowed, before any run starts or any directory is
made. Hydra's, OmegaConf's and YAML's own errors (override syntax, a bad value in a user's YAML
file, a broken interpolation) are reduced to one line the same way; a bug in the model still shows
its traceback (`HYDRA_FULL_ERROR=1` shows Hydra's full errors too). Ctrl-C saves a partial result
and exits with status 130. Runs whose directory already holds a complete summary are skipped, so
re-running an interrupted sweep completes only what is missing.
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import hydra
import yaml
from hydra import compose, initialize_config_dir
from hydra._internal.utils import get_args_parser  # Hydra's own parser, so flags read exactly as Hydra reads them
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Glob, Override
from hydra.errors import HydraException, MissingConfigException
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from sim import results
from sim.config import ConfigError, SimConfig, check_value, field_spec, validate
from sim.metrics import Progress

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
GROUPS = ("market", "network", "firm", "competitors", "run", "scenario")
KPI_COLUMNS = ("customers", "market_share", "retention_rate", "cltv", "nps", "csat", "revenue", "profit",
               "employee_engagement", "employee_turnover")
USER_ERROR, INTERRUPTED = 2, 130  # exit statuses: a bad command line; Ctrl-C (128 + SIGINT, as shells report)
OMEGACONF_DETAIL = ("full_key:", "reference_type=", "object_type=")  # indented detail lines of OmegaConf errors
SHOW_HYDRA_ERRORS = os.environ.get("HYDRA_FULL_ERROR") == "1"  # the user asked for Hydra's full errors

ConfigStore.instance().store(name="sim_schema", node=SimConfig)


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
    if isinstance(o.value(), Glob):
        return o.value().filter(options)
    return list(o.sweep_iterator())


def check_overrides(overrides: list[str], config_dir: str | None = None, multirun: bool = True) -> None:
    """Check command-line overrides against the schema before Hydra composes them; raise ConfigError."""
    for o in parse_overrides(overrides):
        key = o.key_or_group
        if key.startswith("hydra"):
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


def preflight(argv: list[str]) -> None:
    """Check a whole `python -m sim` command line before Hydra starts anything; raise ConfigError."""
    parser = get_args_parser()

    def refuse(message: str) -> NoReturn:
        hint = "flags such as -m go before the overrides" if "unrecognized" in message else "see python -m sim --help"
        raise ConfigError(f"{message} ({hint})")

    parser.error = refuse  # one line instead of argparse's usage text
    args = parser.parse_args(argv)
    if args.help or args.hydra_help or args.shell_completion or args.cfg or args.info or args.experimental_rerun:
        return  # Hydra only shows something, or re-runs a saved config
    if args.config_dir and not os.path.isdir(args.config_dir):
        raise ConfigError(f"--config-dir={args.config_dir} is not allowed: no such directory")
    multirun = args.multirun or "hydra.mode=MULTIRUN" in args.overrides
    check_overrides(args.overrides, args.config_dir, multirun=multirun)
    if args.config_path and not os.path.isabs(args.config_path):
        return  # Hydra reads a relative --config-path against the package: leave those to the run's own checks
    dir_key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    with initialize_config_dir(config_dir=args.config_path or str(CONFIG_DIR), version_base=None), one_line_errors():
        for i, job in enumerate(job_configs(args.overrides, args.config_dir, args.config_name or "config")):
            if i == 0:
                check_output_dir(dir_key, str(OmegaConf.select(HydraConfig.get(), dir_key.removeprefix("hydra."))))
            validate(OmegaConf.to_object(job))


def load_config(overrides: list[str] | None = None) -> SimConfig:
    """Compose and validate a config from Python, as `python -m sim <overrides>` would; raise ConfigError."""
    overrides = list(overrides or [])
    check_overrides(overrides, multirun=False)
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None), one_line_errors():
        cfg = compose(config_name="config", overrides=overrides)
        return validate(OmegaConf.to_object(cfg))


def kpi_table(summary: dict) -> str:
    """The per-firm KPI table printed after a run."""
    import pandas as pd

    rows = {name: {k: f[k] for k in KPI_COLUMNS} for name, f in summary["firms"].items()}
    table = pd.DataFrame(rows).T
    table.index.name = "firm"
    return table.to_string(float_format=lambda x: f"{x:,.3f}" if abs(x) < 10 else f"{x:,.0f}")


@hydra.main(version_base=None, config_path=str(CONFIG_DIR), config_name="config")
def run(cfg: DictConfig) -> None:
    """Run one configuration into its Hydra output directory; exit 130 after saving a partial result."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    if results.is_done(out_dir):
        print(f"{out_dir}: already complete, skipped")
        return
    try:
        with one_line_errors():
            config = validate(OmegaConf.to_object(cfg))
        progress = Progress() if config.run.progress else None
        result = results.simulate(config, progress)
    except ConfigError as err:  # e.g. a graph file that does not fit the market
        fail(str(err))
    try:
        results.save(result, out_dir)
    except OSError as err:
        fail(f"cannot write the results into {out_dir}: {err.strerror or err}")
    if progress and not result.complete:
        print(file=sys.stderr)  # end the progress line
    if HydraConfig.get().mode == RunMode.MULTIRUN:  # one line per run keeps a sweep's log readable
        focal = next(iter(result.summary["firms"].values()))
        print(f"{out_dir.name}: " + ", ".join(f"{k}={focal[k]:.3g}" for k in ("retention_rate", "cltv", "profit")))
    else:
        print(kpi_table(result.summary))
    state = "complete" if result.complete else f"INTERRUPTED at week {result.summary['weeks']}, partial"
    print(f"results ({state}): {out_dir}")
    if not result.complete:
        sys.exit(INTERRUPTED)


def main() -> None:
    """Entry point: check the whole command line, then run Hydra; user errors end in one line."""
    os.environ["HYDRA_FULL_ERROR"] = "1"  # Hydra then raises its errors to us instead of printing them
    try:
        preflight(sys.argv[1:])
        with one_line_errors():
            run()
    except ConfigError as err:
        fail(str(err))
    except KeyboardInterrupt:
        fail("interrupted before a result was saved", INTERRUPTED)
    except OSError as err:  # e.g. an output directory Hydra could not make
        if err.filename is None:
            raise
        fail(f"cannot write {err.filename}: {err.strerror}")
