"""KPIs per care form and year, from the stays of each replication, with 95% CIs.

Definitions (per care form, per calendar year of the horizon, per replication):

``occupied_beds``
    time-average number of occupied beds (blocked beds included).
``capacity_beds``
    beds that year (an input: no interval).
``occupancy_rate``
    time-average of the occupied beds, at most the beds, over the beds: in [0, 1]
    (no value when there are no beds).
``over_capacity_beds``
    time-average of the young people in a bed above the beds (after beds were cut, the
    young people already there stay; the excess closes as they leave).
``requests``, ``admissions``
    requests for a bed made that year (referrals and doorstroom); admissions that year.
``mean_wait_days``, ``p90_wait_days``
    over admissions that year, the wait from request to admission (young people still
    waiting are counted in ``waiting_at_year_end``; those placed outside the region in
    ``overflow_count``).
``waiting_at_year_end``
    young people on the waiting list on 31 December (at home or in another bed).
``placed_within_24h_share``
    among requests decided that year, the share admitted within one day (a request is
    decided when it is placed or given up, or when a day has passed without a bed; see
    :mod:`capaciteit.domain.norms`).
``overflow_count``, ``refused_share``
    requests that ended outside the region (``buiten_regio``) that year; their share of the
    requests resolved that year.
``aged_out_waiting_count``
    requests that ended that year because the young person reached the form's age limit
    while waiting (e.g. 18 on the residential waiting list).
``waiting_mean``
    time-average length of the waiting list (at home and in other beds).
``waiting_in_bed_mean``
    the part of ``waiting_mean`` that waits in a bed of another form (bed blocking); for
    a housing form (kind ``woonplek``) this is "18+ wachtend op woonplek".
``diverted_count``
    ambulant forms: referrals substitution sent here that found every place taken and
    went to the form they were referred to after all.
``blocked_bed_days``
    bed-days of young people whose stay was over and who waited in this bed for the next.
``mean_los_days``
    realised mean stay (admission to leaving the bed, blocking included) of stays ended
    that year.
``stays_over_max_share``
    of the stays decided that year (ended, or reached ``max_stay_days``), the share longer
    than the form's ``max_stay_days`` (crisis: 28).
``cost_eur``
    occupied bed-days x tariff, or for availability-funded forms beds x days x tariff, or
    for a form priced per trajectory (ambulant) the trajectories started x the price.

Across replications, each KPI gets a mean and a 95% interval that stays within what the
KPI can be (:mod:`capaciteit.core.stats`): shares get the Wilson interval on the effective
sample size (inside [0, 1]); counts, days, beds and euros the Student-t interval cut at 0;
``capacity_beds`` is an input and has no interval. Years with no resolved request give no
wait figures (``NaN``, shown to people as "geen opnames") rather than a made-up zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from capaciteit._pandas import as_float
from capaciteit.core.intervals import area, count_at, mean_count
from capaciteit.core.stats import at_least, share
from capaciteit.simulation.measures import StayColumns, occupancy, placed_within, stays_over
from capaciteit.simulation.spec import SimSpec

KPI_COLUMNS = (
    "capacity_beds",
    "occupied_beds",
    "occupancy_rate",
    "over_capacity_beds",
    "requests",
    "admissions",
    "mean_wait_days",
    "p90_wait_days",
    "placed_within_24h_share",
    "overflow_count",
    "waiting_at_year_end",
    "refused_share",
    "aged_out_waiting_count",
    "waiting_mean",
    "waiting_in_bed_mean",
    "diverted_count",
    "blocked_bed_days",
    "mean_los_days",
    "stays_over_max_share",
    "cost_eur",
)


def _year_index(times: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Horizon year index of each time; -1 outside the horizon or for NaN."""
    idx = np.searchsorted(bounds, times, side="right") - 1
    outside = np.isnan(times) | (times < bounds[0]) | (times >= bounds[-1])
    idx[outside] = -1
    return idx


def _per_year(idx: np.ndarray, mask: np.ndarray, n_years: int) -> np.ndarray:
    """Count ``mask`` per year index."""
    sel = idx[mask]
    return np.bincount(sel[sel >= 0], minlength=n_years)[:n_years]


def replication_kpis(spec: SimSpec, stays: pd.DataFrame) -> pd.DataFrame:
    """KPIs of one replication: one row per (care_form, year), columns :data:`KPI_COLUMNS`."""
    years = spec.years
    n_years = len(years)
    bounds = spec.year_start_day.to_numpy(dtype="float64")
    days = np.diff(bounds)
    form_ids = [str(f) for f in spec.care_forms.index]
    form_code = stays["care_form"].cat.codes.to_numpy()
    form_of_code = [form_ids.index(str(c)) for c in stays["care_form"].cat.categories]
    form_idx = np.asarray(form_of_code, dtype=np.int64)[form_code]
    provider_cats = [str(c) for c in stays["provider"].cat.categories]
    provider_code = stays["provider"].cat.codes.to_numpy()
    outcome_cats = [str(c) for c in stays["outcome"].cat.categories]
    outcome_code = stays["outcome"].cat.codes.to_numpy()
    overflow_all = outcome_code == outcome_cats.index("overflow")
    aged_out_all = outcome_code == outcome_cats.index("aged_out")
    diverted_all = outcome_code == outcome_cats.index("diverted")
    waited_cats = [str(c) for c in stays["waited_in"].cat.categories]
    waited_code = stays["waited_in"].cat.codes.to_numpy()
    in_bed_all = ~np.isin(
        waited_code, [waited_cats.index(c) for c in ("home", "initial") if c in waited_cats]
    )
    requested_all = stays["requested_day"].to_numpy()
    start_all = stays["start_day"].to_numpy()
    service_end_all = stays["service_end_day"].to_numpy()
    end_all = stays["end_day"].to_numpy()
    capacity = spec.capacity[years]
    max_stay = spec.care_forms["max_stay_days"]
    funding = spec.care_forms["funding"]
    rows: list[dict[str, float | int | str]] = []
    columns = StayColumns.from_frame(stays, form_ids)
    for f, fid in enumerate(form_ids):
        sf = columns.of_form(f)
        m = form_idx == f
        start, end = start_all[m], end_all[m]
        service_end, requested = service_end_all[m], requested_all[m]
        providers, overflow, aged_out = provider_code[m], overflow_all[m], aged_out_all[m]
        diverted, in_bed = diverted_all[m], in_bed_all[m]
        admitted = ~np.isnan(start)
        bed_end = np.where(np.isnan(end), np.inf, end)

        bed_days = np.zeros(n_years)
        cost = np.zeros(n_years)
        beds = np.zeros(n_years)
        pairs = [
            (p, row)
            for (cf, p), row in zip(capacity.index, capacity.to_numpy(), strict=True)
            if cf == fid
        ]
        for provider, cap_row in pairs:
            beds += cap_row
            code = provider_cats.index(str(provider)) if str(provider) in provider_cats else -2
            mask = admitted & (providers == code)
            used = np.maximum(np.diff(area(start[mask], bed_end[mask], bounds)), 0.0)
            bed_days += used
            tariff = as_float(spec.cost_per_bed_day.at[(fid, provider)])
            price = (
                as_float(spec.trajectory_price.get((fid, provider)))
                if len(spec.trajectory_price)
                else math.nan
            )
            if funding[fid] == "availability":
                cost += cap_row * days * tariff
            elif not math.isnan(price):  # paid per trajectory started
                cost += (
                    _per_year(_year_index(start[mask], bounds), np.ones(mask.sum(), bool), n_years)
                    * price
                )
            else:
                cost += used * tariff

        # waiting list: from request until admission / departure / end of run
        wait_end = np.where(admitted, start, bed_end)
        waiting = mean_count(requested, wait_end, bounds)
        waiting_in_bed = mean_count(requested[in_bed], wait_end[in_bed], bounds)
        at_year_end = count_at(requested, wait_end, bounds[1:] - 1e-9)
        has_block = admitted & ~np.isnan(service_end)
        blocked = np.maximum(np.diff(area(service_end[has_block], bed_end[has_block], bounds)), 0.0)
        resolved_at = np.where(admitted, start, end)  # NaN while still waiting
        wait = resolved_at - requested
        los = end - start
        resolved_y = _year_index(resolved_at, bounds)
        ended_y = _year_index(np.where(admitted, end, np.nan), bounds)
        # a diverted attempt (ambulant care full) is counted on its own, not as a request
        requests = _per_year(_year_index(requested, bounds), ~diverted, n_years)
        admissions = _per_year(_year_index(start, bounds), admitted, n_years)
        overflow_n = _per_year(resolved_y, overflow, n_years)
        aged_out_n = _per_year(resolved_y, aged_out, n_years)
        diverted_n = _per_year(resolved_y, diverted, n_years)
        norm = as_float(max_stay[fid])
        admitted_y = _year_index(start, bounds)
        for k, year in enumerate(years):
            a, b = float(bounds[k]), float(bounds[k + 1])
            res = (resolved_y == k) & ~diverted
            n_res = int(res.sum())
            w_admitted = wait[admitted_y == k]
            ended = ended_y == k
            n_ended = int(ended.sum())
            stay_lengths = los[ended]
            _, rate, above = occupancy(sf, float(beds[k]), a, b)
            rows.append(
                {
                    "care_form": fid,
                    "year": year,
                    "capacity_beds": beds[k],
                    "occupied_beds": bed_days[k] / days[k],
                    "occupancy_rate": rate,
                    "over_capacity_beds": above,
                    "requests": int(requests[k]),
                    "admissions": int(admissions[k]),
                    "mean_wait_days": float(w_admitted.mean()) if len(w_admitted) else math.nan,
                    "p90_wait_days": float(np.quantile(w_admitted, 0.9))
                    if len(w_admitted)
                    else math.nan,
                    "placed_within_24h_share": placed_within(sf, 1.0, a, b)[0],
                    "overflow_count": int(overflow_n[k]),
                    "waiting_at_year_end": int(at_year_end[k]),
                    "refused_share": int(overflow_n[k]) / n_res if n_res else math.nan,
                    "aged_out_waiting_count": int(aged_out_n[k]),
                    "waiting_mean": waiting[k],
                    "waiting_in_bed_mean": waiting_in_bed[k],
                    "diverted_count": int(diverted_n[k]),
                    "blocked_bed_days": blocked[k],
                    "mean_los_days": float(stay_lengths.mean()) if n_ended else math.nan,
                    "stays_over_max_share": stays_over(sf, norm, a, b)[0]
                    if not math.isnan(norm)
                    else math.nan,
                    "cost_eur": cost[k],
                }
            )
    return pd.DataFrame(rows).set_index(["care_form", "year"])


SHARES = frozenset(
    {"occupancy_rate", "placed_within_24h_share", "refused_share", "stays_over_max_share"}
)


INPUTS = frozenset({"capacity_beds"})
"""KPIs that are inputs, not outcomes: shown without an interval."""


def summarise(per_replication: pd.DataFrame, columns: Sequence[str] = KPI_COLUMNS) -> pd.DataFrame:
    """Long table of KPI means and 95% intervals over replications (see the module doc).

    ``per_replication`` has index (replication, care_form, year) and the KPI ``columns``;
    the result has columns care_form, year, kpi, mean, ci_low, ci_high, replications. An
    input's interval is empty (``NaN``).
    """
    rows = []
    for (fid, year), group in per_replication.groupby(level=["care_form", "year"], sort=False):
        for kpi in columns:
            values = group[kpi].to_numpy(dtype="float64")
            est = share(values) if kpi in SHARES else at_least(values, 0.0)
            low, high = (math.nan, math.nan) if kpi in INPUTS else (est.low, est.high)
            rows.append(
                {
                    "care_form": fid,
                    "year": year,
                    "kpi": kpi,
                    "mean": est.mean,
                    "ci_low": low,
                    "ci_high": high,
                    "replications": int((~np.isnan(values)).sum()),
                }
            )
    return pd.DataFrame(rows)
