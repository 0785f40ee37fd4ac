"""The Hydra app behind `python -m sim`: compose a config, run it, write and print the results.

Before Hydra composes anything, every command-line override is checked against the schema
(key, type, range, group option), so a typo exits with one line naming the key, the value and
what is allowed, instead of a traceback. Runs whose directory already holds a complete
summary are skipped, so re-running an interrupted sweep completes only what is missing.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from sim import results
from sim.config import ConfigError, SimConfig, check_value, field_spec, validate
from sim.metrics import Progress

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
GROUPS = ("market", "network", "firm", "competitors", "run", "scenario")
FLAGS_WITH_VALUE = {"--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd", "--experimental-rerun"}
KPI_COLUMNS = ("customers", "market_share", "retention_rate", "cltv", "nps", "csat", "revenue", "profit",
               "employee_engagement", "employee_turnover")

ConfigStore.instance().store(name="sim_schema", node=SimConfig)


def fail(message: str) -> None:
    """Print a one-line error and exit non-zero."""
    print(f"sim: error: {message}", file=sys.stderr)
    sys.exit(2)


def check_overrides(args: list[str]) -> None:
    """Check command-line overrides against the schema before Hydra sees them; raise ConfigError."""
    tokens, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in FLAGS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            tokens.append(arg)
    try:
        overrides = OverridesParser.create().parse_overrides(tokens)
    except Exception as err:  # Hydra's parse errors carry the offending text
        raise ConfigError(f"cannot read the command line: {str(err).splitlines()[0]}") from None
    for o in overrides:
        key = o.key_or_group
        if key.startswith("hydra") or o.is_delete() or o.is_add():
            continue
        values = list(o.sweep_iterator()) if o.is_sweep_override() and not o.is_interval_sweep() else [o.value()]
        if key in GROUPS:
            options = sorted(p.stem for p in (CONFIG_DIR / key).glob("*.yaml"))
            for v in values:
                if str(v) not in options:
                    raise ConfigError(f"{key}={v} is not a known {key}: choose one of {', '.join(options)}")
            continue
        spec = field_spec(key)
        for v in values:
            check_value(key, v, spec)


def load_config(overrides: list[str] | None = None) -> SimConfig:
    """Compose and validate a config from Python, as `python -m sim <overrides>` would."""
    from hydra import compose, initialize_config_dir

    check_overrides(list(overrides or []))
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        cfg = compose(config_name="config", overrides=list(overrides or []))
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
    """Run one configuration into its Hydra output directory."""
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    if results.is_done(out_dir):
        print(f"{out_dir}: already complete, skipped")
        return
    try:
        config = validate(OmegaConf.to_object(cfg))
        progress = Progress() if config.run.progress else None
        result = results.simulate(config, progress)
    except ConfigError as err:
        fail(str(err))
    results.save(result, out_dir)
    print(kpi_table(result.summary))
    state = "complete" if result.complete else f"INTERRUPTED at week {result.summary['weeks']} (partial result)"
    print(f"results ({state}): {out_dir}")


def main() -> None:
    """Entry point: pre-check the command line, then run Hydra."""
    try:
        check_overrides(sys.argv[1:])
    except ConfigError as err:
        fail(str(err))
    run()
