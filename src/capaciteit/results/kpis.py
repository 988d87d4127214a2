"""KPIs per care form and year, from the stays of each replication, with 95% CIs.

Definitions (per care form, per calendar year of the horizon, per replication):

``occupied_beds``
    time-average number of occupied beds (blocked beds included).
``capacity_beds``, ``occupancy_rate``
    beds that year; occupied_beds / capacity_beds.
``requests``, ``admissions``
    requests for a bed made that year (referrals and doorstroom); admissions that year.
``mean_wait_days``, ``p90_wait_days``
    over requests resolved that year (admitted or sent outside the region), the wait from
    request to admission or departure.
``placed_within_24h_share``
    among requests resolved that year, the share admitted within one day.
``overflow_count``, ``refused_share``
    requests that ended outside the region (``buiten_regio``) that year; their share of the
    requests resolved that year.
``aged_out_waiting_count``
    requests that ended that year because the young person reached the form's age limit
    while waiting (e.g. 18 on the residential waiting list).
``waiting_mean``
    time-average length of the waiting list (at home and in other beds).
``blocked_bed_days``
    bed-days of young people whose stay was over and who waited in this bed for the next.
``mean_los_days``
    realised mean stay (admission to leaving the bed, blocking included) of stays ended
    that year.
``stays_over_max_share``
    share of stays ended that year longer than the form's ``max_stay_days`` (crisis: 28).
``cost_eur``
    occupied bed-days x tariff, or for availability-funded forms beds x days x tariff.

Across replications, each KPI gets a mean and a 95% confidence interval (Student t). A
t-interval of a skewed quantity can reach past what the quantity can be (a negative wait);
the interval is then cut at that bound (0, or 1 for shares), which only removes impossible
values. Years with no resolved request give no wait figures (``NaN``) rather than a
made-up zero.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from capaciteit._pandas import as_float
from capaciteit.results.intervals import area, mean_count
from capaciteit.simulation.spec import SimSpec

KPI_COLUMNS = (
    "capacity_beds",
    "occupied_beds",
    "occupancy_rate",
    "requests",
    "admissions",
    "mean_wait_days",
    "p90_wait_days",
    "placed_within_24h_share",
    "overflow_count",
    "refused_share",
    "aged_out_waiting_count",
    "waiting_mean",
    "blocked_bed_days",
    "mean_los_days",
    "stays_over_max_share",
    "cost_eur",
)


def replication_kpis(spec: SimSpec, stays: pd.DataFrame) -> pd.DataFrame:
    """KPIs of one replication: one row per (care_form, year), columns :data:`KPI_COLUMNS`."""
    years = spec.years
    bounds = spec.year_start_day.to_numpy(dtype="float64")
    days = np.diff(bounds)
    rows: list[dict[str, float | int | str]] = []
    max_stay = spec.care_forms["max_stay_days"]
    funding = spec.care_forms["funding"]
    for fid in spec.care_forms.index:
        s = stays[stays["care_form"] == fid]
        start = s["start_day"].to_numpy()
        end = s["end_day"].to_numpy()
        service_end = s["service_end_day"].to_numpy()
        requested = s["requested_day"].to_numpy()
        admitted = ~np.isnan(start)
        bed_end = np.where(np.isnan(end), np.inf, end)

        has_beds = fid in spec.capacity.index.get_level_values("care_form")
        cap = pd.DataFrame(spec.capacity.xs(fid, level="care_form")) if has_beds else None
        tariffs: pd.Series | None = (
            spec.cost_per_bed_day.xs(fid, level="care_form") if has_beds else None
        )
        # occupied bed-days per provider and year (for costs), and in total
        bed_days = np.zeros(len(years))
        cost = np.zeros(len(years))
        providers = s["provider"].to_numpy()
        if cap is not None and tariffs is not None:
            for provider in cap.index:
                mask = admitted & (providers == provider)
                a = area(start[mask], bed_end[mask], bounds)
                used = np.maximum(np.diff(a), 0.0)
                bed_days += used
                tariff = as_float(tariffs.at[provider])
                if funding[fid] == "availability":
                    beds = cap.loc[[provider]].to_numpy(dtype="float64")[0]
                    cost += beds * days * tariff
                else:
                    cost += used * tariff
        capacity = cap.sum().to_numpy(dtype="float64") if cap is not None else np.zeros(len(years))

        # waiting list: from request until admission / departure / end of run
        wait_end = np.where(admitted, start, np.where(np.isnan(end), np.inf, end))
        waiting = mean_count(requested, wait_end, bounds)
        blocked_start = np.where(admitted & ~np.isnan(service_end), service_end, np.inf)
        has_block = np.isfinite(blocked_start)
        blocked = np.maximum(np.diff(area(blocked_start[has_block], bed_end[has_block], bounds)), 0)

        resolved_at = np.where(admitted, start, end)  # NaN while still waiting
        wait = resolved_at - requested
        overflow = (s["outcome"] == "overflow").to_numpy()
        aged_out = (s["outcome"] == "aged_out").to_numpy()
        los = end - start
        resolved_year = np.searchsorted(bounds, resolved_at, side="right") - 1
        request_year = np.searchsorted(bounds, requested, side="right") - 1
        start_year_idx = np.searchsorted(bounds, start, side="right") - 1
        end_year_idx = np.searchsorted(bounds, end, side="right") - 1
        norm = float(max_stay[fid]) if pd.notna(max_stay[fid]) else math.nan
        for k, year in enumerate(years):
            res = (resolved_year == k) & ~np.isnan(resolved_at)
            n_res = int(res.sum())
            w = wait[res]
            ended = admitted & (end_year_idx == k) & ~np.isnan(end)
            n_ended = int(ended.sum())
            n_overflow = int((overflow & res).sum())
            rows.append(
                {
                    "care_form": str(fid),
                    "year": year,
                    "capacity_beds": capacity[k],
                    "occupied_beds": bed_days[k] / days[k],
                    "occupancy_rate": bed_days[k] / days[k] / capacity[k]
                    if capacity[k] > 0
                    else math.nan,
                    "requests": int((request_year == k).sum()),
                    "admissions": int(((start_year_idx == k) & admitted).sum()),
                    "mean_wait_days": float(w.mean()) if n_res else math.nan,
                    "p90_wait_days": float(np.quantile(w, 0.9)) if n_res else math.nan,
                    "placed_within_24h_share": float(((w <= 1.0) & admitted[res]).mean())
                    if n_res
                    else math.nan,
                    "overflow_count": n_overflow,
                    "refused_share": n_overflow / n_res if n_res else math.nan,
                    "aged_out_waiting_count": int((aged_out & res).sum()),
                    "waiting_mean": waiting[k],
                    "blocked_bed_days": blocked[k],
                    "mean_los_days": float(los[ended].mean()) if n_ended else math.nan,
                    "stays_over_max_share": float((los[ended] > norm).mean())
                    if n_ended and not math.isnan(norm)
                    else math.nan,
                    "cost_eur": cost[k],
                }
            )
    return pd.DataFrame(rows).set_index(["care_form", "year"])


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of independent replications (NaNs dropped)."""
    x = values[~np.isnan(values)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


SHARES = frozenset(
    {"occupancy_rate", "placed_within_24h_share", "refused_share", "stays_over_max_share"}
)


def summarise(per_replication: pd.DataFrame) -> pd.DataFrame:
    """Long table of KPI means and 95% CIs over replications.

    ``per_replication`` has index (replication, care_form, year) and the KPI columns; the
    result has columns care_form, year, kpi, mean, ci_low, ci_high, replications.
    """
    rows = []
    for (fid, year), group in per_replication.groupby(level=["care_form", "year"], sort=False):
        for kpi in KPI_COLUMNS:
            values = group[kpi].to_numpy(dtype="float64")
            mean, low, high = confidence_interval(values)
            low = max(low, 0.0)
            if kpi in SHARES and kpi != "occupancy_rate":
                high = min(high, 1.0)
            rows.append(
                {
                    "care_form": fid,
                    "year": year,
                    "kpi": kpi,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "replications": int((~np.isnan(values)).sum()),
                }
            )
    return pd.DataFrame(rows)
