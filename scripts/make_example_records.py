"""Write synthetic stay records of the example region (models/voorbeeldregio-records/).

Run from the repository root::

    .venv/bin/python scripts/make_example_records.py [--out models/voorbeeldregio-records]

The records are made by :func:`capaciteit.calibration.synthetic.generate_records` from
``models/voorbeeldregio`` with unlimited beds (nobody waits), so the example model's
instroom, routing, lengths of stay and ages are what the records show; the simulation
engine is not used. The call, its seed and what the file holds are in the README next to
the output; change both together. Next to it, ``beds-2023-01-01.csv`` is the 0-meting the
example backtest starts from (:func:`zero_count`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from pathlib import Path

import pandas as pd

from capaciteit.calibration.synthetic import generate_records, write_records
from capaciteit.io.model_files import load_model

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "voorbeeldregio"
OUT = ROOT / "models" / "voorbeeldregio-records"
WINDOW_START = dt.date(2019, 1, 1)
EXTRACT_DATE = dt.date(2024, 12, 31)
SEED = 20241231
REFERRAL_WAIT_DAYS = {"pleegzorg": 60.0, "gezinshuis": 45.0}
BACKTEST_CUT = dt.date(2023, 1, 1)
HEADROOM = 0.25
"""Beds of the backtest's 0-meting: the occupants at the cut plus 25% and 3."""


def make() -> pd.DataFrame:
    """Return the example records (the call the README quotes)."""
    return generate_records(
        load_model(MODEL),
        window_start=WINDOW_START,
        extract_date=EXTRACT_DATE,
        seed=SEED,
        referral_wait_days=REFERRAL_WAIT_DAYS,
    )


def zero_count(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Return a 0-meting on ``day``: the occupants per provider and form, beds with room.

    The records have unlimited beds, so their region has no bed count; the example's
    backtest needs one on its cut. Beds are the young people in care that day plus
    :data:`HEADROOM` and 3 more, so the beds seldom bind, as in the records.
    """
    start = pd.to_datetime(frame["start_date"])
    end = pd.to_datetime(frame["end_date"].where(frame["end_date"] != ""))
    cut = pd.Timestamp(day)
    inside = (start < cut) & (end.isna() | (end >= cut))
    occupied = frame[inside].groupby(["provider", "care_form"]).size()
    pairs = frame.groupby(["provider", "care_form"]).size().index
    rows = []
    for provider, form in pairs:
        occ = int(occupied.get((provider, form), 0))
        beds = math.ceil(occ * (1 + HEADROOM)) + 3
        rows.append({"provider": provider, "care_form": form, "beds": beds, "occupied": occ})
    return pd.DataFrame(rows)


def main() -> None:
    """Write stays.csv to --out and print what it holds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    frame = make()
    path = write_records(frame, args.out / "stays.csv")
    beds = zero_count(frame, BACKTEST_CUT)
    beds.to_csv(args.out / f"beds-{BACKTEST_CUT.isoformat()}.csv", index=False)
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {len(frame)} stays")
    summary = frame.assign(
        ongoing=frame["end_date"] == "", referred=frame["referral_date"] != ""
    ).groupby("care_form")[["ongoing", "referred"]]
    print(pd.concat([summary.size().rename("stays"), summary.sum()], axis=1))


if __name__ == "__main__":
    main()
