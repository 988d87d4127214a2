"""Calibration from 100 000 stay records: the whole command against the library floor.

Records are generated (engine-independent, :mod:`capaciteit.calibration.synthetic`) from
the example region with its referrals multiplied by ``--scale`` (30 gives about 100 000
stays over 2019-2024 plus the stays still going on at the window start). Two runs on the
same file, one after the other, with the garbage collector collected and then paused in
both, one process each:

``calibrate``
    what ``capaciteit calibrate`` does: read and check the records (every row), estimate
    everything (instroom, seasonality test, routing, Kaplan-Meier and three parametric
    fits per form, provider means), write the model, load it back, and write the report
    (workbook and three charts).
``floor``
    the least any calibration must do with the same libraries: ``pandas.read_csv`` of the
    file and, per care form, a Kaplan-Meier curve and the three parametric fits of
    lifelines on the same durations (no checks, no providers, no files).

It prints both times and their ratio. Target from the issue: calibrate 100 000 stay records
in at most 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import ExponentialFitter, KaplanMeierFitter, LogNormalFitter, WeibullFitter

from capaciteit.calibration.synthetic import generate_records, write_records
from capaciteit.io.model_files import load_model
from capaciteit.pipelines.calibrate import calibrate_records

WINDOW = (dt.date(2019, 1, 1), dt.date(2024, 12, 31))


def floor(path: Path) -> float:
    """Read the file and fit what every calibration fits; return seconds."""
    began = time.perf_counter()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    start = pd.to_datetime(frame["start_date"])
    end = pd.to_datetime(frame["end_date"].where(frame["end_date"] != ""))
    stop = end.fillna(pd.Timestamp(WINDOW[1]))
    days = np.maximum((stop - start).dt.days.to_numpy(dtype=float), 0.5)
    event = end.notna().to_numpy()
    entry = np.maximum((pd.Timestamp(WINDOW[0]) - start).dt.days.to_numpy(dtype=float), 0.0)
    for form in frame["care_form"].unique():
        m = (frame["care_form"] == form).to_numpy()
        KaplanMeierFitter().fit(days[m], event[m], entry=entry[m])
        for fitter in (ExponentialFitter, LogNormalFitter, WeibullFitter):
            fitter().fit(days[m], event[m], entry=entry[m])
    return time.perf_counter() - began


def timed(run: object) -> float:
    """Run ``run()`` with the garbage collector collected and paused; return seconds."""
    gc.collect()
    gc.disable()
    try:
        began = time.perf_counter()
        run()  # type: ignore[operator]
        return time.perf_counter() - began
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    model = load_model("models/voorbeeldregio")
    inflow = model.instroom.copy()
    inflow["arrivals_per_year"] = inflow["arrivals_per_year"] * args.scale
    scaled = dataclasses.replace(model, instroom=inflow)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stays.csv"
        began = time.perf_counter()
        records = generate_records(
            scaled, window_start=WINDOW[0], extract_date=WINDOW[1], seed=args.seed
        )
        write_records(records, path)
        made = time.perf_counter() - began
        print(f"records: {len(records):,} stays (generated in {made:.1f} s)")
        ours = timed(
            lambda: calibrate_records(
                path, Path(tmp) / "model", base_dir=Path("models/voorbeeldregio")
            )
        )
        peer = timed(lambda: floor(path))
    print(f"calibrate (read, check, estimate, write, load, report): {ours:.1f} s")
    print(f"floor (read_csv + Kaplan-Meier + 3 fits per form):     {peer:.1f} s")
    print(f"ratio calibrate / floor: {ours / peer:.2f}  (target: calibrate <= 30 s)")


if __name__ == "__main__":
    main()
