"""Daily tables derived from the stays: occupancy per provider, waiting lists per form.

Each value is the time-average over the day (see :mod:`capaciteit.core.intervals`),
averaged over replications, with a 95% confidence interval across replications.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy import stats

from capaciteit.core.intervals import mean_count
from capaciteit.simulation.spec import SimSpec


def _day_bounds(spec: SimSpec) -> tuple[np.ndarray, pd.DatetimeIndex]:
    n_days = round(spec.end_day)
    bounds = np.arange(n_days + 1, dtype="float64")
    dates = pd.date_range(dt.date(spec.start_year, 1, 1), periods=n_days, freq="D")
    return bounds, dates


def _mean_ci(
    per_rep: np.ndarray, beds: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% CI over axis 0 (replications), cut to what occupied beds can be.

    Occupied beds are at least 0 and at most the beds (``beds``, per day), unless young
    people stayed above the beds after a cut: then at most the most seen in a replication.
    """
    n = per_rep.shape[0]
    mean = per_rep.mean(axis=0)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan
    half = stats.t.ppf(0.975, n - 1) * per_rep.std(axis=0, ddof=1) / np.sqrt(n)
    low, high = np.maximum(mean - half, 0.0), mean + half
    if beds is not None:
        high = np.minimum(high, np.maximum(beds, per_rep.max(axis=0)))
    return mean, low, high


def daily_occupancy(spec: SimSpec, stays: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Occupied beds per day, care form and provider, with capacity.

    Columns: date, care_form, provider, occupied_beds, occupied_beds_ci_low,
    occupied_beds_ci_high, capacity_beds.
    """
    bounds, dates = _day_bounds(spec)
    admitted = stays[stays["start_day"].notna()]
    groups = {
        key: g
        for key, g in admitted.groupby(["care_form", "provider", "replication"], observed=True)
    }
    year_of_day = dates.year.to_numpy()
    frames = []
    for care_form, provider in spec.capacity.index:
        per_rep = np.zeros((replications, len(dates)))
        for rep in range(replications):
            g = groups.get((care_form, provider, rep))
            if g is None:
                continue
            end = g["end_day"].to_numpy()
            per_rep[rep] = mean_count(
                g["start_day"].to_numpy(), np.where(np.isnan(end), np.inf, end), bounds
            )
        capacity = spec.capacity.loc[(care_form, provider)]
        mean, low, high = _mean_ci(per_rep, capacity.reindex(year_of_day).to_numpy(float))
        frames.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "care_form": care_form,
                    "provider": provider,
                    "occupied_beds": mean,
                    "occupied_beds_ci_low": low,
                    "occupied_beds_ci_high": high,
                    "capacity_beds": capacity.reindex(year_of_day).to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def daily_occupancy_totals(spec: SimSpec, stays: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Occupied beds per day and care form (all providers), with beds.

    The confidence interval is that of each replication's total, not a sum of provider
    intervals. Columns as :func:`daily_occupancy`, without ``provider``.
    """
    bounds, dates = _day_bounds(spec)
    admitted = stays[stays["start_day"].notna()]
    year_of_day = dates.year.to_numpy()
    frames = []
    for care_form in spec.care_forms.index:
        per_rep = np.zeros((replications, len(dates)))
        s_form = admitted[admitted["care_form"] == care_form]
        for rep, g in s_form.groupby("replication"):
            end = g["end_day"].to_numpy()
            per_rep[int(str(rep))] = mean_count(
                g["start_day"].to_numpy(), np.where(np.isnan(end), np.inf, end), bounds
            )
        at_form = spec.capacity[spec.capacity.index.get_level_values("care_form") == care_form]
        beds = pd.Series(at_form.sum(axis=0), index=spec.years)
        mean, low, high = _mean_ci(per_rep, beds.reindex(year_of_day).to_numpy(float))
        frames.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "care_form": care_form,
                    "occupied_beds": mean,
                    "occupied_beds_ci_low": low,
                    "occupied_beds_ci_high": high,
                    "capacity_beds": beds.reindex(year_of_day).to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def daily_queues(spec: SimSpec, stays: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Return waiting lists and blocked beds per day and care form.

    Columns: date, care_form, waiting_home, waiting_in_placement (waiting for this form
    in a bed of another form), blocked_beds (beds of this form held by young people
    waiting for their next form); means over replications.
    """
    bounds, dates = _day_bounds(spec)
    frames = []
    for care_form in spec.care_forms.index:
        s_form = stays[stays["care_form"] == care_form]
        values = {k: np.zeros((replications, len(dates))) for k in ("home", "bed", "blocked")}
        for rep, g in s_form.groupby("replication"):
            start = g["start_day"].to_numpy()
            end = g["end_day"].to_numpy()
            admitted = ~np.isnan(start)
            wait_end = np.where(admitted, start, np.where(np.isnan(end), np.inf, end))
            home = (g["waited_in"] == "home").to_numpy()
            requested = g["requested_day"].to_numpy()
            r = int(str(rep))
            values["home"][r] = mean_count(requested[home], wait_end[home], bounds)
            other = ~home & (g["waited_in"] != "initial").to_numpy()
            values["bed"][r] = mean_count(requested[other], wait_end[other], bounds)
            service_end = g["service_end_day"].to_numpy()
            blocked = admitted & ~np.isnan(service_end)
            bed_end = np.where(np.isnan(end), np.inf, end)
            values["blocked"][r] = mean_count(service_end[blocked], bed_end[blocked], bounds)
        frames.append(
            pd.DataFrame(
                {
                    "date": dates,
                    "care_form": care_form,
                    "waiting_home": values["home"].mean(axis=0),
                    "waiting_in_placement": values["bed"].mean(axis=0),
                    "blocked_beds": values["blocked"].mean(axis=0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
