"""Each scenario's economics at steady state, to check its preset against its industry's bands.

`python -m scenarios.economics [name ...] [--seeds N]` runs each scenario as it is, at its own size,
104 recorded weeks after the warm-up, and prints per firm and recorded year the figures the preset's
sources bound: gross margin, labour and fixed costs as shares of sales, net margin, CAC, annual
customer retention and staff turnover (means over seeds), and any firm's response to losses.
"""

from __future__ import annotations

import argparse
import statistics

from scenarios.registry import SCENARIOS
from sim.app import load_config
from sim.results import simulate


def year_figures(year: dict) -> dict[str, float | None]:
    """One firm-year's shares of sales and rates; None where there was nothing to measure."""
    revenue, costs = year["revenue"], year["costs_by_category"]

    def share(x: float) -> float | None:
        return x / revenue if revenue else None

    return {
        "revenue": revenue,
        "gross_margin": share(revenue - costs["goods"]),
        "labour": share(costs["wages"] + costs["empathy_programme"] + costs["hiring"]),
        "fixed": share(costs["fixed"]),
        "net_margin": share(year["profit"]),
        "customers_end": year["customers_end"],
        "retention": year["retention_rate"],
        "staff_turnover": year["employee_turnover"],
    }


def measure(name: str, seeds: int) -> tuple[list[dict], list[str]]:
    """Rows (firm, year, figures as means over seeds, CAC over the run) and the notes of seed 0."""
    runs = [simulate(load_config([f"scenario={name}", f"seed={s}", "run.progress=false"])) for s in range(seeds)]
    rows = []
    for firm in runs[0].summary["firms"]:
        summaries = [r.summary["firms"][firm] for r in runs]
        for y in range(len(summaries[0]["years"])):
            per_seed = [year_figures(s["years"][y]) for s in summaries]
            row = {"firm": firm, "year": y + 1}
            for key in per_seed[0]:
                values = [p[key] for p in per_seed if p[key] is not None]
                row[key] = statistics.fmean(values) if values else None
            cac = [s["cac"] for s in summaries if s["cac"] is not None]
            row["cac"] = statistics.fmean(cac) if cac else None
            rows.append(row)
    notes = [n for n in runs[0].model.notes if "automation to" not in n]
    return rows, notes


def table(rows: list[dict], currency: str) -> str:
    """The rows as a markdown table."""
    def fmt(x: float | None, kind: str) -> str:
        if x is None:
            return "n/a"
        return {"pct": f"{100 * x:.0f}%", "rate": f"{x:.2f}", "money": f"{x:,.0f}", "int": f"{x:,.0f}"}[kind]

    head = (f"| firm | year | sales ({currency}/yr) | gross margin | labour | fixed | net margin | "
            f"CAC ({currency}) | customers at end | retention/yr | staff turnover/yr |\n|" + "---|" * 11)
    lines = [head]
    for r in rows:
        lines.append(f"| {r['firm']} | {r['year']} | {fmt(r['revenue'], 'money')} | {fmt(r['gross_margin'], 'pct')} | "
                     f"{fmt(r['labour'], 'pct')} | {fmt(r['fixed'], 'pct')} | {fmt(r['net_margin'], 'pct')} | "
                     f"{fmt(r['cac'], 'rate')} | {fmt(r['customers_end'], 'int')} | {fmt(r['retention'], 'rate')} | "
                     f"{fmt(r['staff_turnover'], 'rate')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print each named scenario's (default: all) economics table."""
    parser = argparse.ArgumentParser(prog="python -m scenarios.economics", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[[], *SCENARIOS], default=[], metavar="name")
    parser.add_argument("--seeds", type=int, default=2, choices=range(1, 101), metavar="N",
                        help="seeds 0..N-1 (default 2)")
    args = parser.parse_args(argv)
    for name in args.names or SCENARIOS:
        rows, notes = measure(name, args.seeds)
        currency = load_config([f"scenario={name}"]).market.currency
        print(f"## {name} ({args.seeds} seeds)\n\n{table(rows, currency)}\n")
        print("".join(f"- {n}\n" for n in notes) or "- no firm responded to losses\n")


if __name__ == "__main__":
    main()
