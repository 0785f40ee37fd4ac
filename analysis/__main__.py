"""`python -m analysis SWEEP_DIR`: gather a sweep's runs and write its tables, figures and report.html."""

from __future__ import annotations

import sys
from pathlib import Path

from analysis import more_seeds
from analysis.aggregate import CORRECTIONS, FEW
from analysis.gather import AnalysisError, gather
from analysis.report import build
from sim.app import OneLineParser, check_output_dir
from sim.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, write the report, print where it is; one-line errors, exit 2."""
    parser = OneLineParser(prog="python -m analysis",
                           description="Gather a sweep's runs into tables, figures and report.html.")
    parser.add_argument("sweep", type=Path, help="a sweep directory (hydra.sweep.dir) or any folder of runs")
    parser.add_argument("--out", type=Path, help="where to write (default: SWEEP/analysis)")
    parser.add_argument("--kpi", default="profit", help="KPI to rank, compare and map (default: profit)")
    parser.add_argument("--baseline", help="strategy to compare against, e.g. firm.empathy=0,firm.automation=0 "
                                           "(default: the lowest swept values)")
    parser.add_argument("--correction", choices=CORRECTIONS, default="auto",
                        help=f"multiple-comparison correction of the tests (default auto: holm with more than {FEW} "
                             "strategies, else none)")
    parser.add_argument("--target-halfwidth", type=positive, metavar="H",
                        help="report how many seeds a 95%% half-width of H on --kpi needs")
    parser.add_argument("--add-seeds", action="store_true",
                        help="with --target-halfwidth: relaunch the sweep (its recorded command) with more seeds, "
                             "into the same folder, until every strategy reaches it or --max-seeds")
    parser.add_argument("--max-seeds", type=whole, default=30, metavar="N",
                        help="most seeds --add-seeds runs per strategy (default 30)")
    args = parser.parse_args(argv)
    out = args.out or args.sweep / "analysis"
    if args.add_seeds and args.target_halfwidth is None:
        parser.error("--add-seeds needs --target-halfwidth H: the half-width to reach")
    try:
        check_output_dir("--out", str(out))
        sweep = (more_seeds.until_target(args.sweep, args.kpi, args.target_halfwidth, args.max_seeds)
                 if args.add_seeds else gather(args.sweep))
        page = build(sweep, out, args.kpi, args.baseline, args.correction, args.target_halfwidth)
    except (AnalysisError, ConfigError, OSError) as err:
        print(f"analysis: error: {err}", file=sys.stderr)
        return 2
    print((page.parent / "ranking.md").read_text(encoding="utf-8"))
    skipped = ", ".join(f"{len(v)} {k}" for k, v in sweep.skipped.items())
    print(f"{sweep.runs['run'].nunique()} runs analysed" + (f" ({skipped} skipped)" if skipped else ""))
    print(f"report: {page}")
    return 0


def whole(text: str) -> int:
    """A whole number of at least 2 (argparse type)."""
    value = int(text)
    if value < 2:
        raise ValueError(text)
    return value


def positive(text: str) -> float:
    """A positive finite number (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise ValueError(text)
    return value


if __name__ == "__main__":
    sys.exit(main())
