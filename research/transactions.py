"""Transaction logs: read what a till or web shop exports (customer, date, amount) and summarise it by week.

A *purchase* is a customer-day with at least one transaction (same-day rows are merged, their
amounts summed), the convention of Fader, Hardie & Lee (2005), so a basket split over several
receipts counts once. Weeks are counted from the log's first date (week 0). A customer is
*active* in a week or period when it makes at least one purchase in it; its *cohort* is the
period of its first purchase, and a purchase after the first is a *repeat* purchase. Amounts are
in the log's own currency, which the log does not name.

    python -m research.transactions --log shop.csv --period 4     # weekly.csv, cohorts.csv
    python -m research.transactions --cdnow master --period 13
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from research import cli, datasets
from sim.config import ConfigError

DAYS_PER_WEEK = 7


@dataclass(frozen=True)
class Columns:
    """The names of the log's customer, date and amount columns, and the date format (None: ISO-like, inferred)."""

    customer: str = "customer_id"
    date: str = "date"
    amount: str = "amount"
    date_format: str | None = None


def read_log(path: Path | str, columns: Columns = Columns(), flag: str = "--log") -> pd.DataFrame:
    """A CSV transaction log as purchases: one row per customer-day (customer, date, amount), sorted by date.

    Bad input (no such file, a missing column, an empty id, a date or amount that does not parse,
    a negative amount) raises a one-line ConfigError naming the column and the file's line number.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{flag}={path}: no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ConfigError(f"{flag}={path}: not a readable CSV ({str(err).splitlines()[0]})") from None
    wanted = {"customer": columns.customer, "date": columns.date, "amount": columns.amount}
    for role, name in wanted.items():
        if name not in raw.columns:
            raise ConfigError(f"{flag}={path}: no column '{name}' for the {role} (columns: {', '.join(raw.columns)}); "
                              f"name yours with --{role}-column")
    return purchases(raw[list(wanted.values())].set_axis(list(wanted), axis=1), columns, f"{flag}={path}")


def purchases(raw: pd.DataFrame, columns: Columns = Columns(), source: str = "log") -> pd.DataFrame:
    """Validate transactions (columns customer, date, amount, as text or typed) and merge them into customer-days.

    Errors name the original column and the CSV line (header on line 1).
    """
    if raw.empty:
        raise ConfigError(f"{source}: no transactions")
    line = raw.index.to_numpy() + 2
    customer = raw["customer"].astype(str).str.strip()
    _check(customer == "", raw["customer"], line, source, columns.customer, "is empty: every row needs a customer id")
    dates = pd.to_datetime(raw["date"], format=columns.date_format, errors="coerce")
    expected = "e.g. 2024-03-31" if columns.date_format is None else f"as {columns.date_format}"
    _check(dates.isna().to_numpy(), raw["date"], line, source, columns.date,
           f"is not a date (expected {expected}; set --date-format)")
    amount = pd.to_numeric(raw["amount"], errors="coerce")
    _check(~np.isfinite(amount.to_numpy(dtype=float)), raw["amount"], line, source, columns.amount, "is not a number")
    _check(amount.to_numpy() < 0, raw["amount"], line, source, columns.amount,
           "is negative: remove refunds or net them against their purchase first")
    log = pd.DataFrame({"customer": customer.to_numpy(), "date": dates.dt.normalize().to_numpy(),
                        "amount": amount.to_numpy(dtype=float)})
    return log.groupby(["customer", "date"], as_index=False)["amount"].sum().sort_values(
        ["date", "customer"], ignore_index=True)


def _check(bad: np.ndarray, values: pd.Series, line: np.ndarray, source: str, column: str, problem: str) -> None:
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        i = int(np.argmax(bad))
        more = f" (and {bad.sum() - 1} more rows)" if bad.sum() > 1 else ""
        raise ConfigError(f"{source}: line {line[i]}: {column}={values.iloc[i]!r} {problem}{more}")


def with_weeks(log: pd.DataFrame, start: pd.Timestamp | None = None) -> pd.DataFrame:
    """The log with `day` (days since `start`, default the first date), `week`, `first_day` and `repeat` columns."""
    start = log["date"].min() if start is None else start
    day = (log["date"] - start).dt.days.to_numpy()
    first_day = pd.Series(day).groupby(log["customer"].to_numpy()).transform("min").to_numpy()
    return log.assign(day=day, week=day // DAYS_PER_WEEK, first_day=first_day, repeat=day > first_day)


def weeks_covered(log: pd.DataFrame) -> int:
    """Whole or part weeks from the log's first to its last date."""
    return int((log["date"].max() - log["date"].min()).days // DAYS_PER_WEEK + 1)


def weekly(log: pd.DataFrame, weeks: int | None = None) -> pd.DataFrame:
    """Per week: purchases, active and new customers, repeat purchases (and cumulative), visit frequency, ticket.

    `purchases_per_active` is purchases per active customer in the week (visit frequency);
    `average_ticket` is the mean amount of a purchase in the log's currency.
    """
    w = with_weeks(log)
    weeks = weeks_covered(log) if weeks is None else weeks
    by = w.groupby("week")
    table = pd.DataFrame({
        "purchases": by.size(), "active_customers": by["customer"].nunique(),
        "new_customers": w[~w["repeat"]].groupby("week").size(),
        "repeat_purchases": w[w["repeat"]].groupby("week").size(),
        "revenue": by["amount"].sum(),
    }).reindex(range(weeks), fill_value=0).fillna(0)
    table = table.astype({c: int for c in ("purchases", "active_customers", "new_customers", "repeat_purchases")})
    table.index.name = "week"
    start = log["date"].min()
    return table.assign(
        week_start=[start + pd.Timedelta(days=DAYS_PER_WEEK * k) for k in table.index],
        cumulative_repeat_purchases=table["repeat_purchases"].cumsum(),
        purchases_per_active=table["purchases"] / table["active_customers"].replace(0, np.nan),
        average_ticket=table["revenue"] / table["purchases"].replace(0, np.nan),
    ).reset_index()


def cohort_retention(log: pd.DataFrame, period_weeks: int, periods: int | None = None) -> pd.DataFrame:
    """Share of each acquisition cohort active k periods after its first, as a table cohort x k (k=0 is 1).

    Cohort c holds the customers whose first purchase falls in period c (periods of `period_weeks`
    weeks from the log's start); cell (c, k) is the share of them buying at least once in period
    c + k. Periods past the log's end (or past `periods`) are NaN; column `customers` is the cohort size.
    """
    if period_weeks < 1:
        raise ConfigError(f"--period={period_weeks} is not allowed: a period is at least 1 week")
    w = with_weeks(log)
    periods = -(-weeks_covered(log) // period_weeks) if periods is None else periods
    period = w["week"].to_numpy() // period_weeks
    cohort = w["first_day"].to_numpy() // (DAYS_PER_WEEK * period_weeks)
    active = pd.DataFrame({"customer": w["customer"], "cohort": cohort, "k": period - cohort}).drop_duplicates()
    active = active[active["cohort"] < periods]
    sizes = active[active["k"] == 0].groupby("cohort").size()
    counts = active.groupby(["cohort", "k"]).size().unstack(fill_value=0)
    counts = counts.reindex(index=range(periods), columns=range(periods), fill_value=0)
    share = counts.div(sizes.reindex(range(periods)), axis=0)
    horizon = np.arange(periods)[:, None] + np.arange(periods)[None, :] >= periods
    share = share.mask(horizon)
    share.insert(0, "customers", sizes.reindex(range(periods), fill_value=0))
    share.index.name = "cohort"
    share.columns.name = None
    return share


def rfm(log: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Per customer first buying by `end`: repeat purchases x, time of the last t_x and age T, in weeks.

    The summary BG/NBD is fitted on: x counts the purchases after the first up to and including
    day `end`, t_x is the weeks from the first purchase to the last (0 if none), and T the weeks
    from the first purchase to `end` (day differences / 7, as in the CDNOW benchmark data).
    """
    seen = log[log["date"] <= end]
    by = seen.groupby("customer")["date"]
    first, last = by.min(), by.max()
    return pd.DataFrame({
        "x": by.size() - 1,
        "t_x": (last - first).dt.days / DAYS_PER_WEEK,
        "T": (end - first).dt.days / DAYS_PER_WEEK,
    })


def add_log_options(p: argparse.ArgumentParser) -> None:
    """Options naming the log and its columns, shared by the tools that read one."""
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--log", type=Path, help="CSV with one row per transaction (customer, date, amount)")
    source.add_argument("--cdnow", choices=list(datasets.CDNOW_FILES),
                        help="the CDNOW log shipped in the lifetimes wheel (master: 23,570 customers; sample: 2,357)")
    p.add_argument("--customer-column", default=Columns.customer, help="column of customer ids (default: %(default)s)")
    p.add_argument("--date-column", default=Columns.date, help="column of dates (default: %(default)s)")
    p.add_argument("--amount-column", default=Columns.amount, help="column of amounts (default: %(default)s)")
    p.add_argument("--date-format", help="strftime format of the dates, e.g. %%d/%%m/%%Y (default: ISO-like, inferred)")
    p.add_argument("--period", type=int, default=4, help="weeks per cohort period (default: %(default)s)")


def log_from(args: argparse.Namespace) -> pd.DataFrame:
    """The purchases of the log the options name."""
    if args.cdnow:
        return purchases(datasets.cdnow(args.cdnow), source=f"--cdnow={args.cdnow}")
    return read_log(args.log, Columns(args.customer_column, args.date_column, args.amount_column, args.date_format))


def main(argv: Sequence[str] | None = None) -> Path:
    """Command line: summarise a log into weekly.csv and cohorts.csv (and run.json), and print the headline figures."""
    p = argparse.ArgumentParser(prog="python -m research.transactions", description=__doc__.split("\n\n")[0])
    add_log_options(p)
    p.add_argument("--out", type=Path, help="output folder (default: outputs/research/transactions/<date>/<time>)")
    args = p.parse_args(argv)
    started = time.perf_counter()
    log = log_from(args)
    table, cohorts = weekly(log), cohort_retention(log, args.period)
    out = cli.output_dir(args.out, "transactions")
    cli.write_csv(out / "weekly.csv", table)
    cli.write_csv(out / "cohorts.csv", cohorts.reset_index())
    cli.record_run(out, "transactions", args, cli.base_config([]), started,
                   customers=int(log["customer"].nunique()), purchases=len(log), weeks=len(table))
    print(f"{log['customer'].nunique():,} customers, {len(log):,} purchases (customer-days) in {len(table)} weeks "
          f"from {log['date'].min():%Y-%m-%d}; purchases per active customer per week "
          f"{table['purchases'].sum() / table['active_customers'].sum():.3f}; average ticket "
          f"{log['amount'].mean():,.2f} (log currency)")
    print(f"cohort retention by {args.period}-week period (share active k periods after the first):")
    print(cohorts.iloc[:, : min(cohorts.shape[1], 9)].dropna(how="all", subset=cohorts.columns[1:2])
          .to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"results: {out}")
    return out


if __name__ == "__main__":
    sys.exit(cli.run("transactions", main))
