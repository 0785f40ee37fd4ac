"""What a class reads beside the charts: each scenario's situation and question, and lesson presets.

The situation and question are read from the scenario's narrative (`scenarios/<name>.md`, the
paragraphs that start "**The situation.**" and "**The question.**"), so the page and the
scenario's results table tell the same story. A lesson preset is a scenario with up to four
strategies that differ in the one thing the lesson is about, and a small grid of the settings
the lesson varies (two axes), which `python -m dashboard export` precomputes for an offline page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from scenarios.registry import HERE

PARAGRAPH = r"\*\*The {}\.\*\*\s*(.*?)(?:\n\s*\n|\Z)"


@cache
def brief(scenario: str) -> tuple[str, str]:
    """(situation, question) of a scenario, in one line each; ("", "") when it has no narrative."""
    path = HERE / f"{scenario}.md"
    if not path.is_file():
        return "", ""
    text = path.read_text(encoding="utf-8")
    found = [re.search(PARAGRAPH.format(part), text, re.DOTALL) for part in ("situation", "question")]
    return tuple(" ".join(m.group(1).split()) if m else "" for m in found)  # type: ignore[return-value]


@dataclass(frozen=True)
class Axis:
    """One thing a lesson varies: its choices, each a label and the config overrides that make it."""

    title: str
    choices: tuple[tuple[str, dict[str, str]], ...]

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.choices]


def lever_axis(title: str, key: str, values: tuple[float, ...]) -> Axis:
    """An axis over one numeric config key, e.g. the focal firm's empathy 0.1 .. 0.9."""
    return Axis(title, tuple((f"{v:.2f}", {key: repr(float(v))}) for v in values))


@dataclass(frozen=True)
class Preset:
    """A lesson: a scenario and strategies A.. that differ in one respect (levers and settings per run).

    `grid` is the lesson's small grid for the exported page: every combination of its axes' choices;
    `start` picks A's and B's grid points (a choice index per axis) as the page opens.
    """

    title: str
    scenario: str
    levers: dict[str, dict[str, float]]  # run -> focal lever -> value
    settings: dict[str, dict[str, str]] = field(default_factory=dict)  # run -> config key -> value
    grid: tuple[Axis, ...] = ()
    start: dict[str, tuple[int, ...]] = field(default_factory=dict)  # "A"/"B" -> choice index per axis


LEVELS = (0.1, 0.3, 0.5, 0.7, 0.9)
RIVALS_MATCH = {"competitors.big_box.pricing": "match_cheapest", "competitors.online.pricing": "match_cheapest"}
PRESETS = {
    "incident": Preset("An incident, with and without empathy", "bakery_recovery",
                       {"A": {"empathy": 0.1}, "B": {"empathy": 0.9}},
                       grid=(lever_axis("Empathy", "firm.empathy", LEVELS),
                             Axis("The incident", (("on", {}), ("off", {"firm.incident_failure_rate": "0"})))),
                       start={"A": (0, 0), "B": (4, 0)}),
    "handover": Preset("Bots with and without hand-over", "online_chatbots",
                       {"A": {"automation": 0.9, "bot_handover": 0.9}, "B": {"automation": 0.9, "bot_handover": 0.0}},
                       grid=(lever_axis("Automation", "firm.automation", (0.2, 0.5, 0.9)),
                             lever_axis("Bot hand-over", "firm.bot_handover", (0.0, 0.3, 0.6, 0.9))),
                       start={"A": (2, 3), "B": (2, 0)}),
    "price_war": Preset("A price war", "commodity_market",
                        {"A": {"price": 1.0}, "B": {"price": 0.8}}, {"A": {}, "B": RIVALS_MATCH},
                        grid=(lever_axis("Price", "firm.price", (0.8, 0.9, 1.0, 1.1, 1.2)),
                              Axis("Rivals' pricing", (("their own", {}), ("match the cheapest", RIVALS_MATCH)))),
                        start={"A": (2, 0), "B": (0, 1)}),
}
