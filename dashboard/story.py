"""What a class reads beside the charts: each scenario's situation and question, and lesson presets.

The situation and question are read from the scenario's narrative (`scenarios/<name>.md`, the
paragraphs that start "**The situation.**" and "**The question.**"), so the page and the
scenario's results table tell the same story. A lesson preset is a scenario with up to four
strategies that differ in the one thing the lesson is about.
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
class Preset:
    """A lesson: a scenario and strategies A.. that differ in one respect (levers and settings per run)."""

    title: str
    scenario: str
    levers: dict[str, dict[str, float]]  # run -> focal lever -> value
    settings: dict[str, dict[str, str]] = field(default_factory=dict)  # run -> config key -> value


PRESETS = {
    "incident": Preset("An incident, with and without empathy", "bakery_recovery",
                       {"A": {"empathy": 0.1}, "B": {"empathy": 0.9}}),
    "handover": Preset("Bots with and without hand-over", "online_chatbots",
                       {"A": {"automation": 0.9, "bot_handover": 0.9}, "B": {"automation": 0.9, "bot_handover": 0.0}}),
    "price_war": Preset("A price war", "commodity_market",
                        {"A": {"price": 1.0}, "B": {"price": 0.8}},
                        {"A": {}, "B": {"competitors.big_box.pricing": "match_cheapest",
                                        "competitors.online.pricing": "match_cheapest"}}),
}
