"""The command-line shell the research tools share: common arguments, one-line errors, output files.

Bad input (a bad option, a missing file, a key the schema does not know, bounds outside their
range, an output folder that cannot be made) ends a tool with one line naming what is wrong and
exit status 2, before any run starts. Output files are written atomically
(`sim.results.atomic_write`), so a reader never sees half a file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from research.evaluate import seeds
from sim.app import OneLineParser, check_output_dir, load_config, read_user_yaml
from sim.config import ConfigError, SimConfig, to_dict
from sim.results import atomic_write, provenance

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs" / "research"


class Failed(Exception):
    """The tool ran and wrote its outputs, but its verdict is negative (a validation check failed)."""


SEED_MAX = 2**32 - 1
LIMITS = {  # whole-number options of the tools, by dest: (lowest, highest) allowed
    "seed": (0, SEED_MAX), "sample_seed": (0, SEED_MAX), "sampler_seed": (0, SEED_MAX),
    "samples": (1, 1_000_000), "trials": (1, 1_000_000), "batch": (1, 10_000), "seeds": (1, 10_000),
    "fresh_seeds": (1, 10_000),
}


class ToolParser(OneLineParser):
    """The tools' parser: one-line errors, and whole-number options checked against `LIMITS` at parse time."""

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        parsed = super().parse_args(args, namespace)
        for dest, (lo, hi) in LIMITS.items():
            value = getattr(parsed, dest, None)
            if value is not None and not lo <= value <= hi:
                flag = "--" + dest.replace("_", "-")
                self.error(f"argument {flag}: {value} is out of range: allowed {lo} <= {flag} <= {hi}")
        return parsed


def jobs(text: str) -> int:
    """--jobs: a number of processes, or -1 for all cores (-2 all but one, ...), as joblib counts; not 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--jobs={text} is not allowed: expected a whole number") from None
    if value == 0:
        raise argparse.ArgumentTypeError("--jobs=0 is not allowed: give a number of processes, or -1 for all cores")
    return value


def out_folder(text: str) -> Path:
    """--out: a folder that can be made and written, checked before any run starts."""
    try:
        check_output_dir("--out", text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return Path(text)


def parser(tool: str, doc: str) -> argparse.ArgumentParser:
    """An argument parser with the options every tool has: --set, --jobs, --out."""
    p = ToolParser(prog=f"python -m research.{tool}", description=doc)
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                   help="overrides of the base configuration, as for `python -m sim` (e.g. market.customers=5000)")
    p.add_argument("--jobs", type=jobs, default=-1,
                   help="parallel processes (-1: all cores); the results do not depend on it")
    p.add_argument("--out", type=out_folder, help="output folder (default: outputs/research/<tool>/<date>/<time>)")
    return p


def run(tool: str, main: Callable[[Sequence[str] | None], Path], argv: Sequence[str] | None = None) -> int:
    """Call a tool's main: a configuration error becomes one line on stderr and exit status 2, a failed verdict 1."""
    try:
        main(argv)
    except ConfigError as err:
        print(f"research.{tool}: error: {err}", file=sys.stderr)
        return 2
    except Failed as err:
        print(f"research.{tool}: {err}", file=sys.stderr)
        return 1
    return 0


def load_yaml(path: Path | str, flag: str) -> dict[str, Any]:
    """A YAML mapping from a file, with one-line errors for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{flag}={path}: no such file")
    try:
        data = read_user_yaml(path)  # aliases bounded: an alias bomb is refused, not expanded
    except ConfigError as err:
        raise ConfigError(f"{flag}={path}: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{flag}={path}: expected a mapping at the top level")
    return data


def check_keys(data: Mapping[str, Any], allowed: Sequence[str], source: str) -> None:
    """Reject keys a spec file does not use, so a typo is not silently ignored."""
    for key in data:
        if key not in allowed:
            raise ConfigError(f"{source}: unknown key '{key}' (known: {', '.join(allowed)})")


def load_spec(path: Path, flag: str, allowed: Sequence[str]) -> dict[str, Any]:
    """A tool's spec file: a YAML mapping using only the keys the tool knows."""
    spec = load_yaml(path, flag)
    check_keys(spec, allowed, str(path))
    return spec


@dataclass(frozen=True)
class Budget:
    """How a search spends its runs: candidates, batch size, search seeds, fresh seeds, sampler seed."""

    trials: int
    batch: int
    seeds: list[int]
    fresh: list[int]
    sampler_seed: int


BUDGET_KEYS = ("trials", "batch", "seeds", "fresh_seeds")


def add_budget_options(p: argparse.ArgumentParser) -> None:
    """Options of an Optuna search; defaults come from the tool's spec file."""
    p.add_argument("--trials", type=int, help="candidates to try")
    p.add_argument("--seeds", type=int, help="seeds every candidate is averaged over (common random numbers)")
    p.add_argument("--fresh-seeds", type=int, help="unseen seeds for the report's re-evaluation")
    p.add_argument("--batch", type=int, help="candidates asked at once and run together (part of what fixes a search)")
    p.add_argument("--sampler-seed", type=int, default=0, help="seed of the TPE sampler")


def pick(given: Any, spec: Mapping[str, Any], key: str, default: Any) -> Any:
    """A setting from the command line if given, else from the spec file, else the default."""
    return given if given is not None else spec.get(key, default)


def budget(args: argparse.Namespace, spec: Mapping[str, Any]) -> Budget:
    """The budget from the command line, else the spec file, else small defaults."""
    trials, batch = pick(args.trials, spec, "trials", 20), pick(args.batch, spec, "batch", 4)
    if trials < 1 or batch < 1:
        raise ConfigError(f"--trials={trials} --batch={batch} is not allowed: both must be at least 1")
    search = seeds(pick(args.seeds, spec, "seeds", 2))
    return Budget(trials, batch, search, seeds(pick(args.fresh_seeds, spec, "fresh_seeds", 5), start=len(search)),
                  args.sampler_seed)


def base_config(overrides: Sequence[str]) -> SimConfig:
    """The base configuration, composed exactly as `python -m sim <overrides>` would, without progress output."""
    return load_config([*overrides, "run.progress=false"])


def output_dir(out: Path | None, tool: str) -> Path:
    """The folder a tool writes into, created."""
    folder = out or ROOT / "outputs" / "research" / tool / datetime.now().strftime("%Y-%m-%d/%H-%M-%S")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically."""
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (NumPy numbers as floats)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=float) + "\n")


def write_csv(path: Path, table: pd.DataFrame) -> None:
    """Write a table as CSV atomically."""
    atomic_write(path, lambda tmp: table.to_csv(tmp, index=False))


def save_figure(fig: Figure, path: Path) -> None:
    """Save a figure atomically, in the format its suffix names."""
    atomic_write(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=120, bbox_inches="tight"))


def record_run(out: Path, tool: str, args: argparse.Namespace, base: SimConfig, started: float,
               **details: Any) -> float:
    """Write run.json (arguments, base config, seeds, versions, wall time); return the wall time in seconds."""
    seconds = time.perf_counter() - started
    write_json(out / "run.json", {
        "tool": f"research.{tool}",
        "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "base_config": to_dict(base),
        "wall_seconds": round(seconds, 2),
        "provenance": provenance(),
        **details,
    })
    return seconds


def markdown_table(table: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table of a data frame, numbers to `digits` significant figures."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            if v != v:
                return "n/a"
            return f"{v:,.0f}" if abs(v) >= 10**digits else f"{v:.{digits}g}"
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"
