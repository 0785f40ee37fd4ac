"""Decisions over time: a plan against the status quo, paired by seed, and a report an owner can show a bank."""
