"""A commented starting profile per industry: every field with its unit, what is allowed, typical range and source.

Industry templates live in configs/profiles/<industry>.yaml: a worked example and, per field,
a typical range with its source (a stylized fact or a stated assumption). The text written
here reads back as exactly that example (`sim.profile.fields.read`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from sim.config import ConfigError
from sim.profile.fields import SECTIONS, Competitor, Profile, build

FOLDER = Path(__file__).resolve().parents[2] / "configs" / "profiles"
COMMENT_AT = 34  # column where a field's comment starts


def industries() -> list[str]:
    """The industries with a template."""
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))


def load(industry: str) -> dict[str, Any]:
    """An industry's template: title, example profile (checked) and ranges."""
    if industry not in industries():
        raise ConfigError(f"--industry={industry} is not known: choose one of {', '.join(industries())}")
    data = yaml.safe_load((FOLDER / f"{industry}.yaml").read_text(encoding="utf-8"))
    build(data["example"], f"{industry} template")  # a template that does not read back is a bug: fail loudly
    return data


def _allowed(spec: dataclasses.Field) -> str:
    meta = spec.metadata
    unit = f"{meta['unit']}; " if meta.get("unit") else ""
    if "range" in meta:
        lo, hi = meta["range"]
        return f"{unit}{lo:g}..{hi:g}"
    if "choices" in meta:
        return f"{unit}one of {', '.join(meta['choices'][:6])}{', ...' if len(meta['choices']) > 6 else ''}"
    return unit.rstrip("; ")


def _value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, str):
        return yaml.safe_dump(v, default_style=None).splitlines()[0]
    return f"{v:g}" if isinstance(v, float) else str(v)


def _line(indent: str, key: str, value: Any, spec: dataclasses.Field, typical: list | None) -> str:
    head = f"{indent}{key}: {_value(value)}"
    allowed = _allowed(spec)
    note = f"{spec.metadata['doc']} ({allowed})" if allowed else spec.metadata["doc"]
    if typical:
        note += f"; typical {typical[0]:g}-{typical[1]:g}: {typical[2]}"
    return f"{head:<{COMMENT_AT}}# {note}"


def text(industry: str) -> str:
    """The commented profile of an industry, ready to edit."""
    data = load(industry)
    example, ranges = data["example"], data.get("ranges", {})
    lines = [f"# Business profile: {data['title']} (template: {industry}).",
             "# Change the values to your own business. Each line: what it is (unit; allowed), and where known",
             "# the typical range for this industry with its source ('assumption' = a guess, not data).",
             "# Run it:  python -m sim business=<this file>      Check it:  python -m sim.profile show <this file>"]
    for spec in dataclasses.fields(Profile):
        if spec.name in SECTIONS:
            lines.append(f"{spec.name}:  # {SECTIONS[spec.name].__doc__.strip()}")
            given = example.get(spec.name, {})
            for sub in dataclasses.fields(SECTIONS[spec.name]):
                default = sub.default if sub.default is not dataclasses.MISSING else None
                lines.append(_line("  ", sub.name, given.get(sub.name, default), sub,
                                   ranges.get(f"{spec.name}.{sub.name}")))
        elif spec.name == "competitors":
            lines.append("competitors:  # your rivals, as you see them; [] for none")
            for rival in example.get("competitors", []):
                for i, sub in enumerate(dataclasses.fields(Competitor)):
                    lines.append(_line("  - " if i == 0 else "    ", sub.name, rival.get(sub.name, sub.default), sub,
                                       None))
        elif spec.name == "model":
            lines.append("model: {}  # expert: model keys set directly, applied last (e.g. behaviour.base_quit: 0.01)")
        else:
            lines.append(_line("", spec.name, example.get(spec.name, spec.default), spec, None))
    return "\n".join(lines) + "\n"
