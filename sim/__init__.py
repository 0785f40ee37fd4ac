"""sim: an agent-based simulation of empathy-driven small-business growth."""

from __future__ import annotations

__version__ = "0.1.0"
