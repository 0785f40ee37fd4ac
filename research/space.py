"""Declared parameter spaces: config keys with bounds, checked against the schema and applied to configs.

A space is written in YAML as ``{key: [low, high]}`` with keys as on the command line
(``firm.price``, ``behaviour.empathy_weight`` or ``behaviour.reconsider.empathy_weight``,
``competitors.big_box.price``). Bounds must lie inside the schema's range for the key
(sim/config.py), so no tool ever samples a value the model would reject.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.config import (
    ConfigError,
    SimConfig,
    canonical_path,
    check_distinct,
    check_value,
    field_spec,
    validate,
)


@dataclass(frozen=True)
class Parameter:
    """One config key varied between two bounds."""

    path: str
    low: float
    high: float

    def coerce(self, value: float) -> float | int:
        """The value as the schema types it (whole numbers for integer keys)."""
        return check_value(self.path, round(value) if _type_name(self.path) == "int" else float(value))


@dataclass(frozen=True)
class Space:
    """An ordered set of parameters."""

    parameters: tuple[Parameter, ...]

    @property
    def names(self) -> list[str]:
        return [p.path for p in self.parameters]

    def __len__(self) -> int:
        return len(self.parameters)

    def salib_problem(self) -> dict[str, Any]:
        """The space as SALib's problem dict."""
        return {"num_vars": len(self), "names": self.names, "bounds": [[p.low, p.high] for p in self.parameters]}

    def point(self, row: Sequence[float]) -> dict[str, float | int]:
        """A sampled row as ``{key: typed value}``."""
        return {p.path: p.coerce(v) for p, v in zip(self.parameters, row, strict=True)}

    def values_in(self, cfg: SimConfig) -> dict[str, Any]:
        """The values the config gives these keys (e.g. the status-quo policy)."""
        return {p.path: value_at(cfg, p.path) for p in self.parameters}

    def contains(self, values: Mapping[str, float]) -> bool:
        return all(p.low <= values[p.path] <= p.high for p in self.parameters)

    def subset(self, names: Sequence[str], source: str) -> Space:
        """The parameters named, in that order; a name not declared is a one-line error."""
        declared = {canonical_path(p.path): p for p in self.parameters}  # a behaviour key named flat or grouped
        for name in names:
            if canonical_path(name) not in declared:
                raise ConfigError(f"{name} is not declared in {source} "
                                  f"(declared: {', '.join(p.path for p in self.parameters)})")
        return Space(tuple(declared[canonical_path(n)] for n in names))


def parse_space(mapping: Mapping[str, Any], source: str) -> Space:
    """A space from ``{key: [low, high]}``, every key and bound checked against the schema."""
    if not isinstance(mapping, Mapping) or not mapping:
        raise ConfigError(f"{source}: expected a mapping of config keys to [low, high] bounds")
    check_distinct(map(str, mapping), source)
    return Space(tuple(_parameter(path, bounds, source) for path, bounds in mapping.items()))


def _parameter(path: str, bounds: Any, source: str) -> Parameter:
    spec = field_spec(path)
    if _type_name(path) not in ("int", "float"):
        raise ConfigError(f"{source}: {path} is not numeric: only numeric keys can be varied")
    if not (isinstance(bounds, Sequence) and len(bounds) == 2 and all(isinstance(b, (int, float)) for b in bounds)):
        raise ConfigError(f"{source}: {path}={bounds!r} is not allowed: expected [low, high]")
    low, high = float(bounds[0]), float(bounds[1])
    lo, hi = spec.metadata["range"]
    if not lo <= low < high <= hi:
        raise ConfigError(
            f"{source}: {path} bounds [{low:g}, {high:g}] are not allowed: "
            f"need low < high within the schema range {lo:g} <= {path} <= {hi:g}"
        )
    return Parameter(path, low, high)


def _type_name(path: str) -> str:
    kind = field_spec(path).type
    name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    return name.replace("| None", "").strip()


def value_at(cfg: SimConfig, path: str) -> Any:
    """The value of a dotted key such as ``competitors.big_box.price`` in a config."""
    node: Any = cfg
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def with_values(cfg: SimConfig, values: Mapping[str, Any]) -> SimConfig:
    """A copy of cfg with each dotted key set to its value, validated as a whole."""
    for path, value in values.items():
        cfg = _set(cfg, path.split("."), value, path)
    return validate(cfg)


def _set(node: Any, parts: list[str], value: Any, path: str) -> Any:
    head, rest = parts[0], parts[1:]
    if not rest:
        return dataclasses.replace(node, **{head: value})
    child = getattr(node, head)
    if isinstance(child, dict):  # competitors.<name>.<key>
        if rest[0] not in child:
            raise ConfigError(f"{path}: no competitor '{rest[0]}' in the base config (have: {', '.join(child)})")
        return dataclasses.replace(node, **{head: {**child, rest[0]: _set(child[rest[0]], rest[1:], value, path)}})
    return dataclasses.replace(node, **{head: _set(child, rest, value, path)})
