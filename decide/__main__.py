"""`python -m decide`: compare the status quo with alternatives and write a decision report."""

import sys

from decide.cli import run

sys.exit(run())
