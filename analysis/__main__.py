"""`python -m analysis SWEEP_DIR`: gather a sweep's runs and write its tables, figures and report.html."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.gather import AnalysisError, gather
from analysis.report import build


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, write the report, print where it is; one-line errors, exit 2."""
    parser = argparse.ArgumentParser(prog="python -m analysis",
                                     description="Gather a sweep's runs into tables, figures and report.html.")
    parser.add_argument("sweep", type=Path, help="a sweep directory (hydra.sweep.dir) or any folder of runs")
    parser.add_argument("--out", type=Path, help="where to write (default: SWEEP/analysis)")
    parser.add_argument("--kpi", default="profit", help="KPI to rank, compare and map (default: profit)")
    parser.add_argument("--baseline", help="strategy to compare against, e.g. firm.empathy=0,firm.automation=0 "
                                           "(default: the lowest swept values)")
    args = parser.parse_args(argv)
    try:
        sweep = gather(args.sweep)
        page = build(sweep, args.out or args.sweep / "analysis", args.kpi, args.baseline)
    except (AnalysisError, OSError) as err:
        print(f"analysis: error: {err}", file=sys.stderr)
        return 2
    print((page.parent / "ranking.md").read_text(encoding="utf-8"))
    skipped = ", ".join(f"{len(v)} {k}" for k, v in sweep.skipped.items())
    print(f"{sweep.runs['run'].nunique()} runs analysed" + (f" ({skipped} skipped)" if skipped else ""))
    print(f"report: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
