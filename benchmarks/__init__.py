"""Speed and memory of the vectorised model against a plain per-agent Mesa model of the same rules."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the checkout: where `python -m sim` and `-m benchmarks.probe` run
