"""Pattern checks: the model, at its steady state, behaves as the literature says.

Three patterns (docs/ODD.md, section 1), each measured from runs at the defaults:

* segments: raising empathy from 0.1 to 0.9 lowers the odds of leaving far more for
  relationship-driven customers than for price-driven ones, and at price parity a cold firm keeps
  nearly as many price-driven customers as a warm one;
* steady state: year-by-year retention after the warm-up stays level, inside the retail band;
* engagement as an outcome: across many firms that differ in empathy, staffing, pay and demand,
  engagement correlates with customer satisfaction at about .33 and with staff turnover at about
  -.30 (Harter, Schmidt & Hayes 2002), not at the .8 to .99 of a lever.

    python -m research.patterns --out outputs/patterns [--firms 200] [--seeds 6]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from research import cli
from sim.app import load_config
from sim.batch import run_many
from sim.config import ConfigError

PARITY = ["firm.price=0.9", "competitors.big_box.price=0.9", "competitors.online.price=0.9",
          "competitors.big_box.pricing=fixed", "competitors.online.pricing=fixed", "adapt.enabled=false"]
SEGMENTS = ("price_driven", "relationship_driven")
HARTER = {"csat": (0.25, 0.40), "employee_turnover": (-0.40, -0.20)}  # bands around r = .33 and -.30


def log_odds(p: np.ndarray) -> np.ndarray:
    """ln(p / (1 - p)): retention gains compared where they are not squeezed against 0 or 1."""
    return np.log(p / (1 - p))


def _focal(overrides: Sequence[str], seeds: Sequence[int], n_jobs: int) -> list[dict]:
    configs = [load_config([*overrides, f"seed={s}", "run.progress=false"]) for s in seeds]
    return [summary["firms"][next(iter(summary["firms"]))] for summary in run_many(configs, n_jobs=n_jobs)]


def segment_effect(seeds: Sequence[int], base: Sequence[str] = (), n_jobs: int = -1) -> pd.DataFrame:
    """Per segment: retention at empathy 0.1 and 0.9 and the mean paired log-odds gain; plus the parity gap.

    Rows: `defaults` (the default market) and `parity` (every firm at price 0.9, fixed, no
    adaptation, 90% price-driven customers).
    """
    rows = []
    for name, extra in (("defaults", []), ("parity", [*PARITY, "market.price_driven_share=0.9"])):
        cold = _focal([*base, *extra, "firm.empathy=0.1"], seeds, n_jobs)
        warm = _focal([*base, *extra, "firm.empathy=0.9"], seeds, n_jobs)
        for g in SEGMENTS:
            c = np.array([f["segments"][g]["retention_rate"] for f in cold])
            w = np.array([f["segments"][g]["retention_rate"] for f in warm])
            rows.append({"market": name, "segment": g, "cold": c.mean(), "warm": w.mean(),
                         "gain_points": 100 * (w - c).mean(), "log_odds_gain": (log_odds(w) - log_odds(c)).mean()})
    return pd.DataFrame(rows)


def steady_state(seeds: Sequence[int], base: Sequence[str] = (), years: int = 4, n_jobs: int = -1) -> pd.DataFrame:
    """The focal firm's retention year by year after the warm-up (mean over seeds)."""
    focal = _focal([*base, f"run.steps={52 * years}"], seeds, n_jobs)
    table = np.array([[y["retention_rate"] for y in f["years"]] for f in focal])
    return pd.DataFrame({"year": np.arange(1, years + 1), "retention_rate": table.mean(axis=0),
                         "sd_over_seeds": table.std(axis=0, ddof=1)})


def firm_sample(firms: int, base: Sequence[str] = (), seed: int = 0, n_jobs: int = -1) -> pd.DataFrame:
    """Focal firms that differ in empathy, staffing, pay and demand: their engagement and outcomes.

    Each firm is the focal business of its own market (seed i): empathy U(0, 1), wage
    U(0.7, 1.3) x the market wage, a fixed team of 3 to 8 (sizes from lean to ample for its
    demand), emotional share U(0.05, 0.25), failure rate U(0.02, 0.08), automation U(0, 0.6) and a
    customer mix of U(0.2, 0.8) price-driven: the variety of business units behind Harter et al.'s
    correlations.
    """
    rng = np.random.default_rng(seed)
    draws = pd.DataFrame({
        "empathy": rng.uniform(0, 1, firms), "pay": rng.uniform(0.7, 1.3, firms),
        "staff": rng.integers(3, 9, firms), "emotional_share": rng.uniform(0.05, 0.25, firms),
        "failure_rate": rng.uniform(0.02, 0.08, firms), "automation": rng.uniform(0, 0.6, firms),
        "price_driven_share": rng.uniform(0.2, 0.8, firms),
    })
    wage = load_config(list(base)).market.market_wage
    configs = [load_config([*base, f"seed={i}", "run.progress=false", f"firm.empathy={d.empathy:.4f}",
                            f"firm.wage={wage * d.pay:.2f}", f"firm.staff={int(d.staff)}",
                            f"market.emotional_share={d.emotional_share:.4f}",
                            f"market.failure_rate={d.failure_rate:.4f}", f"firm.automation={d.automation:.4f}",
                            f"market.price_driven_share={d.price_driven_share:.4f}"])
               for i, d in enumerate(draws.itertuples())]
    focal = [s["firms"][next(iter(s["firms"]))] for s in run_many(configs, n_jobs=n_jobs)]
    for key in ("employee_engagement", "csat", "employee_turnover", "nps", "retention_rate"):
        draws[key] = [f[key] for f in focal]
    return draws


def engagement_links(sample: pd.DataFrame, boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Pearson correlations of engagement with CSAT, staff turnover and the empathy lever, with 95% bootstrap CIs."""
    rng = np.random.default_rng(seed)
    rows = []
    for other in ("csat", "employee_turnover", "empathy"):
        pair = sample[["employee_engagement", other]].dropna().to_numpy()
        r = np.corrcoef(pair.T)[0, 1]
        idx = rng.integers(0, len(pair), (boot, len(pair)))
        rs = np.array([np.corrcoef(pair[i].T)[0, 1] for i in idx])
        band = HARTER.get(other)
        rows.append({"with": other, "r": r, "low": np.nanpercentile(rs, 2.5), "high": np.nanpercentile(rs, 97.5),
                     "published_band": f"{band[0]:.2f} to {band[1]:.2f}" if band else "",
                     "in_band": bool(band[0] <= r <= band[1]) if band else None})
    return pd.DataFrame(rows)


def report(segments: pd.DataFrame, steady: pd.DataFrame, links: pd.DataFrame, firms: int, seconds: float) -> str:
    """The three checks as Markdown."""
    return "\n\n".join([
        "# Pattern checks",
        f"{firms} firms for the engagement links; wall time {seconds:.0f} s.",
        "## Segments: empathy 0.1 -> 0.9", cli.markdown_table(segments),
        "## Steady state: focal retention by year after the warm-up", cli.markdown_table(steady),
        "## Engagement across firms (Harter, Schmidt & Hayes 2002)", cli.markdown_table(links),
    ]) + "\n"


def main(argv: Sequence[str] | None = None) -> Path:
    """Run the three checks and write their tables and report into the output folder."""
    p = cli.parser("patterns", __doc__)
    p.add_argument("--firms", type=int, default=200, help="firms in the engagement sample (default 200)")
    p.add_argument("--seeds", type=int, default=6, help="seeds per setting for segments and steady state")
    p.add_argument("--customers", type=int, default=4000, help="customers per market (default 4000)")
    args = p.parse_args(argv)
    for flag, value in (("--firms", args.firms), ("--seeds", args.seeds), ("--customers", args.customers)):
        if value < 2:
            raise ConfigError(f"{flag}={value} is not allowed: at least 2")
    if args.jobs == 0 or args.jobs < -1:
        raise ConfigError(f"--jobs={args.jobs} is not allowed: a positive count, or -1 for all cores")
    base = [f"market.customers={args.customers}", *args.set]
    base_cfg = cli.base_config(base)
    out = cli.output_dir(args.out, "patterns")
    started = time.perf_counter()
    seeds = list(range(args.seeds))
    segments = segment_effect(seeds, [*base, "run.steps=52"], args.jobs)
    steady = steady_state(seeds, base, n_jobs=args.jobs)
    sample = firm_sample(args.firms, [*base, "run.steps=52"], n_jobs=args.jobs)
    links = engagement_links(sample)
    cli.write_csv(out / "segments.csv", segments)
    cli.write_csv(out / "steady_state.csv", steady)
    cli.write_csv(out / "firms.csv", sample)
    cli.write_csv(out / "engagement_links.csv", links)
    seconds = cli.record_run(out, "patterns", args, base_cfg, started, seeds=seeds)
    cli.write_text(out / "report.md", report(segments, steady, links, args.firms, seconds))
    return out


if __name__ == "__main__":
    sys.exit(cli.run("patterns", main))
