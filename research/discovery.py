"""What a decision hinges on: scenario discovery (PRIM) and a tornado of one-at-a-time swings.

Both work on tidy tables, never on a model, so they can be checked on hand-made data.

Scenario discovery: given the table of assumption draws and, per draw, whether the alternative beat
the status quo, PRIM (Friedman & Fisher 1999, as in EMA Workbench; Bryant & Lempert 2010) peels
the box of parameter ranges where the less common verdict concentrates. Of the peeling
trajectory it keeps the box that covers most of those draws while at least `density` of the
draws inside it share the verdict, drops restrictions whose quasi-p value (one-sided binomial
test) is above `max_qp`, and says the box in words: "... pays unless firm.empathy_cost > 210
and market.price_driven_share > 0.6".

Tornado: the KPI gain with every uncertain parameter at its configured value, and with one
parameter at a time moved to the low and the high end of its range; bars sorted by swing.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.config import field_spec


@dataclass(frozen=True)
class Restriction:
    """One side or both of a parameter's range inside the box (None: not restricted on that side)."""

    parameter: str
    lower: float | None
    upper: float | None
    qp: float  # the smaller quasi-p value of the restricted sides

    def words(self) -> str:
        unit = field_spec(self.parameter).metadata.get("doc", "")
        if self.lower is not None and self.upper is not None:
            text = f"{self.parameter} is between {self.lower:.3g} and {self.upper:.3g}"
        elif self.lower is not None:
            text = f"{self.parameter} > {self.lower:.3g}"
        else:
            text = f"{self.parameter} < {self.upper:.3g}"
        return f"{text} ({unit})" if unit else text


@dataclass(frozen=True)
class Box:
    """A region of the assumption space where the less common verdict concentrates."""

    restrictions: tuple[Restriction, ...]
    coverage: float  # share of the draws with that verdict which lie in the box
    density: float  # share of the draws in the box with that verdict
    mass: float  # share of all draws in the box
    n: int


def within(table: pd.DataFrame, restrictions: tuple[Restriction, ...] | list[Restriction]) -> np.ndarray:
    """Which rows of the table satisfy every restriction."""
    inside = np.ones(len(table), dtype=bool)
    for r in restrictions:
        if r.lower is not None:
            inside &= table[r.parameter].to_numpy() >= r.lower
        if r.upper is not None:
            inside &= table[r.parameter].to_numpy() <= r.upper
    return inside


def find_box(x: pd.DataFrame, y: np.ndarray, density: float = 0.75, max_qp: float = 0.05,
             peel_alpha: float = 0.1) -> Box | None:
    """The PRIM box of the draws where `y` is true, or None when no box is dense enough.

    `x` holds one numeric column per parameter, one row per draw.
    """
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any() or len(y) < 10:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    logging.getLogger("EMA").setLevel(logging.WARNING)
    x = x.astype(float).reset_index(drop=True)
    with warnings.catch_warnings():  # EMA Workbench's own deprecation warnings under pandas 3
        warnings.simplefilter("ignore")
        search = prim.Prim(x, y, threshold=density, peel_alpha=peel_alpha)
        box = search.find_box()
    trajectory = box.peeling_trajectory
    dense = trajectory[(trajectory["density"] >= density) & (trajectory["res_dim"] > 0)]
    if dense.empty:
        return None
    best = dense.sort_values(["coverage", "res_dim", "density"], ascending=[False, True, False]).index[0]
    limits, initial, qp = box.box_lims[best], search.box_init, box.qp[best]
    restrictions = []
    for name in x.columns:
        low = limits.loc[0, name] if limits.loc[0, name] > initial.loc[0, name] else None
        high = limits.loc[1, name] if limits.loc[1, name] < initial.loc[1, name] else None
        if low is None and high is None:
            continue
        sides = [v for v in qp.get(name, []) if v >= 0]  # -1 marks an unrestricted side
        p = min(sides) if sides else 1.0
        if p <= max_qp:
            restrictions.append(Restriction(name, None if low is None else float(low),
                                            None if high is None else float(high), float(p)))
    if not restrictions:
        return None
    inside = within(x, restrictions)
    return Box(tuple(restrictions), float(y[inside].sum() / y.sum()), float(y[inside].mean()),
               float(inside.mean()), int(inside.sum()))


def hinges(draws: pd.DataFrame, gain: np.ndarray, alternative: str, kpi: str,
           density: float = 0.75, max_qp: float = 0.05) -> tuple[str, Box | None]:
    """In plain words, where the verdict 'the alternative beats the status quo' flips; and the box.

    `draws` holds the parameter values of each draw, `gain` the alternative's mean gain over the
    status quo in that draw (positive: better).
    """
    beats = np.asarray(gain) > 0
    share = beats.mean()
    head = (f"{alternative} beats the status quo on {kpi} in {share:.0%} of the {len(beats)} assumption draws "
            "(gain averaged over the seeds)")
    if share in (0.0, 1.0):
        return head + "; no draw in the ranges reverses that.", None
    pays = share >= 0.5
    box = find_box(draws, ~beats if pays else beats, density, max_qp)
    if box is None:
        return (head + "; no simple region of the ranges explains where it "
                f"{'does not' if pays else 'does'} (no PRIM box reaches density {density:.0%} "
                f"with quasi-p <= {max_qp}): the verdict turns on many inputs at once, or on seed luck."), None
    cond = " and ".join(r.words() for r in box.restrictions)
    verdict = "it pays unless" if pays else "it pays only if"
    return (f"{head}; {verdict} {cond}. That region holds {box.coverage:.0%} of the draws where it "
            f"{'loses' if pays else 'wins'}, and it {'loses' if pays else 'wins'} in {box.density:.0%} of the "
            f"{box.n} draws inside it."), box


def associated(draws: pd.DataFrame, gain: np.ndarray) -> list[str]:
    """Parameters by how strongly the gain moves with them over the draws (|Spearman rho|); fixed ones left out."""
    rho = draws.astype(float).corrwith(pd.Series(np.asarray(gain, dtype=float), index=draws.index), method="spearman")
    return list(rho.abs().dropna().sort_values(ascending=False, kind="stable").index)


def tornado(oat: pd.DataFrame, status_quo: str, alternative: str, kpi: str, sign: float = 1.0) -> pd.DataFrame:
    """One-at-a-time swings of the gain (alternative minus status quo, paired by seed, mean over seeds).

    `oat` is tidy: parameter ('' for the run with every parameter at its configured value), level
    ('base', 'low', 'high'), value, strategy, seed, and the KPI column. `sign` is -1 for a KPI
    where lower is better, so a positive gain is always an improvement. Rows sorted by swing.
    """
    wide = oat.pivot_table(index=["parameter", "level", "seed"], columns="strategy", values=kpi, aggfunc="first")
    gain = (sign * (wide[alternative] - wide[status_quo])).groupby(level=["parameter", "level"]).mean()
    values = oat.groupby(["parameter", "level"])["value"].first()
    base = float(gain.loc[("", "base")])
    rows = []
    for name in dict.fromkeys(p for p in oat["parameter"] if p):
        rows.append({"parameter": name, "low": values.loc[(name, "low")], "high": values.loc[(name, "high")],
                     "gain_low": gain.loc[(name, "low")], "gain_high": gain.loc[(name, "high")], "gain_base": base})
    table = pd.DataFrame(rows, columns=["parameter", "low", "high", "gain_low", "gain_high", "gain_base"])
    table["swing"] = (table["gain_high"] - table["gain_low"]).abs()
    return table.sort_values("swing", ascending=False, kind="stable", ignore_index=True)


def plot_tornado(table: pd.DataFrame, alternative: str, kpi: str) -> Figure:
    """Horizontal bars from the base gain to the gain at each end of each parameter's range, biggest on top."""
    fig = Figure(figsize=(8, 1.2 + 0.4 * max(len(table), 1)), layout="constrained")
    ax = fig.subplots()
    pos = np.arange(len(table))
    base = float(table["gain_base"].iloc[0]) if len(table) else 0.0
    ax.barh(pos, table["gain_low"] - base, left=base, height=0.6, color="tab:blue", label="parameter at its low end")
    ax.barh(pos, table["gain_high"] - base, left=base, height=0.6, color="tab:orange", alpha=0.8,
            label="parameter at its high end")
    ax.set_yticks(pos, [f"{r.parameter} [{r.low:.3g}, {r.high:.3g}]" for r in table.itertuples()])
    ax.invert_yaxis()
    ax.axvline(base, color="black", linewidth=0.8, label="every parameter at its configured value")
    ax.axvline(0, color="red", linewidth=0.8, linestyle="--", label="no gain")
    ax.set_xlabel(f"gain in {kpi}: {alternative} minus the status quo (mean over seeds)")
    ax.set_title("What the gain swings with, one parameter at a time")
    fig.legend(loc="outside lower center", ncols=2, fontsize="small")
    return fig
