"""Plausible ranges of the model's uncertain inputs: loaded from YAML, checked, narrowed, resolved, sampled.

Most behavioural and cost parameters are assumptions, so an answer that holds only at their
defaults is an answer about the defaults. `configs/priors/default.yaml` gives each uncertain key a
range (absolute, relative to the configured value, or a band around it), a distribution and its
source. A range relative to the configured value follows the scenario (a coffee shop's wage is not
a hardware store's); `resolve` turns every range into absolute bounds for one base config, and
`sample` draws a space-filling design over them (Latin hypercube or scrambled Sobol, seeded).
A calibrated business profile narrows the ranges (`Priors.narrow`); `Priors.collapse` fixes each
key at its configured value, where a robust comparison must equal the plain paired one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.stats import qmc

from research.space import value_at
from sim.config import ConfigError, SimConfig, canonical_path, check_distinct, check_value, field_spec

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "configs" / "priors" / "default.yaml"
KINDS = ("range", "relative", "around")
DISTRIBUTIONS = ("uniform", "loguniform")
ENTRY_KEYS = (*KINDS, "distribution", "source")
SAMPLERS = ("lhs", "sobol")


@dataclass(frozen=True)
class Prior:
    """One uncertain key: how its range is given (kind and bounds or band), its distribution and source."""

    path: str
    kind: str
    low: float
    high: float  # for "around": the band's half-width in `low` and `high` alike
    distribution: str = "uniform"
    source: str = "assumption"

    @property
    def entry(self) -> dict[str, Any]:
        """The prior as a priors file writes it (the inverse of `parse_entry`)."""
        given = self.low if self.kind == "around" else [self.low, self.high]
        return {self.kind: given, "distribution": self.distribution, "source": self.source}

    def bounds(self, value: float) -> tuple[float, float]:
        """Absolute bounds given the base config's value of the key, cut to the schema's range."""
        if self.kind == "range":
            lo, hi = self.low, self.high
        elif self.kind == "relative":
            lo, hi = self.low * value, self.high * value
        else:
            lo, hi = value - self.low, value + self.high
        smin, smax = field_spec(self.path).metadata["range"]
        return max(lo, smin), min(hi, smax)

    def describe(self) -> str:
        """The range in words, for tables: '30 to 300, log-uniform', 'x0.85 to x1.2 of the configured value'."""
        if self.kind == "range":
            text = f"{self.low:g} to {self.high:g}"
        elif self.kind == "relative":
            text = f"x{self.low:g} to x{self.high:g} of the configured value"
        else:
            text = f"configured value +-{self.low:g}"
        return text + (", log-uniform" if self.distribution == "loguniform" else "")


@dataclass(frozen=True)
class Priors:
    """An ordered set of priors, by key."""

    priors: tuple[Prior, ...]

    @property
    def names(self) -> list[str]:
        return [p.path for p in self.priors]

    def __len__(self) -> int:
        return len(self.priors)

    def get(self, path: str) -> Prior | None:
        """The prior of a key, named flat (behaviour.base_quit) or grouped (behaviour.staff.base_quit)."""
        return next((p for p in self.priors if canonical_path(p.path) == canonical_path(path)), None)

    def subset(self, names: Sequence[str], source: str) -> Priors:
        """The priors named, in that order; a name without a prior is a one-line error."""
        for name in names:
            if self.get(name) is None:
                raise ConfigError(f"{name} has no prior in {source} (have: {', '.join(self.names)})")
        return Priors(tuple(self.get(n) for n in names))  # type: ignore[misc]

    def narrow(self, ranges: Mapping[str, Sequence[float]], source: str = "calibrated profile") -> Priors:
        """These priors with some keys' ranges replaced by absolute [low, high] (e.g. a fit's uncertainty).

        Keys without a prior yet are added; each new range is checked against the schema.
        """
        new = {canonical_path(p.path): p for p in self.priors}
        for path, bounds in ranges.items():
            new[canonical_path(path)] = parse_entry(path, {"range": list(bounds), "source": source}, source)
        return Priors(tuple(new.values()))

    def collapse(self, base: SimConfig) -> Priors:
        """Every key fixed at the base config's value: no uncertainty left but the seeds'."""
        return self.narrow({p.path: (v, v) for p, v in zip(self.priors, self.values_in(base), strict=True)},
                           "fixed at the configured value")

    def values_in(self, base: SimConfig) -> list[float]:
        return [float(value_at(base, p.path)) for p in self.priors]

    def resolve(self, base: SimConfig) -> pd.DataFrame:
        """Absolute bounds for this base config: one row per key (parameter, value, low, high, distribution, source)."""
        rows = []
        for prior, value in zip(self.priors, self.values_in(base), strict=True):
            lo, hi = prior.bounds(value)
            if lo > hi:
                raise ConfigError(f"{prior.path}: prior {prior.describe()} is empty at the configured value {value:g}")
            if prior.distribution == "loguniform" and lo <= 0:
                raise ConfigError(f"{prior.path}: log-uniform prior needs low > 0, got {lo:g}")
            rows.append({"parameter": prior.path, "value": value, "low": lo, "high": hi,
                         "distribution": prior.distribution, "source": prior.source})
        return pd.DataFrame(rows, columns=["parameter", "value", "low", "high", "distribution", "source"])

    def sample(self, base: SimConfig, n: int, seed: int = 0, sampler: str = "lhs") -> pd.DataFrame:
        """`n` draws of every key (rows, typed as the schema types them), from a seeded LHS or Sobol design."""
        if n < 1:
            raise ConfigError(f"draws={n} is not allowed: need at least 1 draw")
        if sampler not in SAMPLERS:
            raise ConfigError(f"sampler={sampler} is not allowed: choose one of {', '.join(SAMPLERS)}")
        if sampler == "sobol" and n & (n - 1):
            raise ConfigError(f"draws={n} is not allowed with the sobol sampler: use a power of 2 (16, 32, 64, ...)")
        table = self.resolve(base)
        if not len(table):
            return pd.DataFrame(index=pd.RangeIndex(n))
        engine = (qmc.LatinHypercube(len(table), rng=np.random.default_rng(seed)) if sampler == "lhs"
                  else qmc.Sobol(len(table), rng=np.random.default_rng(seed)))
        u = engine.random(n)
        columns = {}
        for j, row in enumerate(table.itertuples(index=False)):
            if row.distribution == "loguniform":
                x = np.exp(np.log(row.low) + u[:, j] * (np.log(row.high) - np.log(row.low)))
            else:
                x = row.low + u[:, j] * (row.high - row.low)
            columns[row.parameter] = [coerce(row.parameter, v) for v in x]
        return pd.DataFrame(columns)


def coerce(path: str, value: float) -> float | int:
    """A drawn value as the schema types it (whole numbers for integer keys), checked."""
    kind = field_spec(path).type
    name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    return check_value(path, round(value) if name.replace("| None", "").strip() == "int" else float(value))


def parse_entry(path: str, entry: Any, source: str) -> Prior:
    """One prior from its YAML entry, every field checked, with one-line errors naming the key."""
    where = f"{source}: {path}"
    try:
        spec = field_spec(path)
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None
    if "range" not in spec.metadata or str(spec.type).split("|")[0].strip() not in ("int", "float"):
        raise ConfigError(f"{where}: not a numeric key of the schema with a range: only those can be uncertain")
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}={entry!r} is not allowed: expected a mapping with one of {', '.join(KINDS)}")
    for key in entry:
        if key not in ENTRY_KEYS:
            raise ConfigError(f"{where}: unknown field '{key}' (known: {', '.join(ENTRY_KEYS)})")
    kinds = [k for k in KINDS if k in entry]
    if len(kinds) != 1:
        raise ConfigError(f"{where}: give exactly one of {', '.join(KINDS)} (got {', '.join(kinds) or 'none'})")
    kind, given = kinds[0], entry[kinds[0]]
    distribution = entry.get("distribution", "uniform")
    if distribution not in DISTRIBUTIONS:
        raise ConfigError(f"{where}: distribution={distribution!r} is not allowed: choose one of "
                          f"{', '.join(DISTRIBUTIONS)}")
    text = entry.get("source", "assumption")
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where}: source={text!r} is not allowed: say where the range comes from, or 'assumption'")
    if kind == "around":
        if not _number(given) or given < 0:
            raise ConfigError(f"{where}: around={given!r} is not allowed: expected a half-width >= 0")
        return Prior(path, kind, float(given), float(given), distribution, text)
    pair = isinstance(given, Sequence) and not isinstance(given, str) and len(given) == 2
    if not (pair and all(map(_number, given))):
        raise ConfigError(f"{where}: {kind}={given!r} is not allowed: expected [low, high]")
    low, high = float(given[0]), float(given[1])
    if low > high:
        raise ConfigError(f"{where}: {kind}=[{low:g}, {high:g}] is not allowed: need low <= high")
    if kind == "range":
        smin, smax = spec.metadata["range"]
        if not smin <= low <= high <= smax:
            raise ConfigError(f"{where}: range=[{low:g}, {high:g}] is not allowed: must lie within the schema range "
                              f"{smin:g} <= {path} <= {smax:g}")
    elif low < 0:
        raise ConfigError(f"{where}: relative=[{low:g}, {high:g}] is not allowed: factors must be >= 0")
    if distribution == "loguniform" and low <= 0:
        raise ConfigError(f"{where}: distribution=loguniform is not allowed with low={low:g}: needs low > 0")
    return Prior(path, kind, low, high, distribution, text)


def parse(mapping: Any, source: str) -> Priors:
    """Priors from ``{key: entry}``."""
    if not isinstance(mapping, Mapping) or not mapping:
        raise ConfigError(f"{source}: expected a mapping of config keys to priors under 'parameters'")
    check_distinct(map(str, mapping), source)
    return Priors(tuple(parse_entry(str(path), entry, source) for path, entry in mapping.items()))


def load(path: Path | str = DEFAULT) -> Priors:
    """The priors file: a YAML mapping with one key, `parameters`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--priors={path}: no such file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"--priors={path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, Mapping) or set(data) != {"parameters"}:
        raise ConfigError(f"--priors={path}: expected exactly one top-level key, 'parameters'")
    return parse(data["parameters"], str(path))


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x)
