"""What a national run says: per region, per pool with its cost split, and nationally.

From every task's KPIs (per group form and year) and pool use (per pool, home region and
year), per replication:

*Regions*
    The KPIs of each region's own forms, as in a region run.
*Pools*
    The KPIs of each shared pool (beds, occupancy, waiting, refusals, costs), and each
    member region's use of it: requests, admissions, occupied beds (bed-days of its young
    people over the year's days), its share of the pool's bed-days, mean wait and mean
    travel time of its admissions.
*Cost split*
    The pool's cost each year (``cost_eur`` of the pool, occupied or available beds times
    the tariffs) split over its regions by the pool's key: ``use`` (the region's share of
    the bed-days that year), ``inhabitants`` (its share of the members' inhabitants) or
    ``fixed`` (its agreed share). A year in which nobody used the pool is split by
    inhabitants under the ``use`` key, and said so. The shares of a year add up to 1 in
    every replication, so the regions' costs add up to the pool's exactly.
*National*
    Per care form (a pool counts as its form, e.g. JeugdzorgPlus) the sums over regions and
    pools of the quantities that add up (beds, occupied beds, requests, admissions,
    refusals, waiting lists, blocked bed-days, costs), and the occupancy of all those beds
    together.

Every figure is a mean over replications with its 95% interval (:mod:`capaciteit.core.stats`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from capaciteit._pandas import as_int
from capaciteit.core.stats import at_least, share
from capaciteit.national.compose import split
from capaciteit.national.model import NationalModel
from capaciteit.national.run import NationalOutcome
from capaciteit.simulation.kpis import INPUTS, SHARES, summarise

ADDITIVE = (
    "capacity_beds",
    "occupied_beds",
    "over_capacity_beds",
    "requests",
    "admissions",
    "overflow_count",
    "waiting_at_year_end",
    "aged_out_waiting_count",
    "waiting_mean",
    "waiting_in_bed_mean",
    "diverted_count",
    "blocked_bed_days",
    "cost_eur",
)
"""KPIs that add up over regions and pools."""

NATIONAL_COLUMNS = (*ADDITIVE[:2], "occupancy_rate", *ADDITIVE[2:])

USE_MEASURES = (
    "requests",
    "admissions",
    "occupied_beds",
    "use_share",
    "mean_wait_days",
    "mean_travel_minutes",
    "overflow_count",
)
"""A region's use of a pool per year (see the module doc)."""


@dataclass(frozen=True)
class NationalResults:
    """The summaries of a national run (long tables: ``mean``, ``ci_low``, ``ci_high``).

    Attributes
    ----------
    regions
        ``region``, ``care_form``, ``year``, ``kpi``: each region's own forms.
    pools
        ``pool``, ``year``, ``kpi``: each pool as one system.
    use
        ``pool``, ``region``, ``year``, ``measure`` (:data:`USE_MEASURES`).
    costs
        ``pool``, ``region``, ``year``: ``cost_key``, ``key_share`` (mean),
        ``cost_eur`` (mean, interval), ``note``.
    region_costs
        ``region``, ``year``: own forms, share of pools and total (means, EUR).
    national
        ``care_form``, ``year``, ``kpi`` (:data:`NATIONAL_COLUMNS`).
    per_replication
        The per-replication tables behind them (kpis, use, costs) for recounts.
    """

    regions: pd.DataFrame
    pools: pd.DataFrame
    use: pd.DataFrame
    costs: pd.DataFrame
    region_costs: pd.DataFrame
    national: pd.DataFrame
    per_replication: dict[str, pd.DataFrame]


def national_results(outcome: NationalOutcome) -> NationalResults:
    """Summarise ``outcome`` per region, per pool, per cost key and nationally."""
    model = outcome.scenario.model
    kpis = outcome.kpis
    forms = kpis.index.get_level_values("care_form")
    regions_of = np.array([split(str(f))[0] for f in forms])
    summary = summarise(kpis)
    parts = summary["care_form"].map(lambda f: split(str(f)))
    summary.insert(0, "region", [p[0] for p in parts])
    summary["care_form"] = [p[1] for p in parts]
    regions = summary[summary["region"] != ""].reset_index(drop=True)
    pools = (
        summary[summary["region"] == ""]
        .drop(columns="region")
        .rename(columns={"care_form": "pool"})
    ).reset_index(drop=True)

    use = _use(outcome)
    costs = _costs(model, kpis[regions_of == ""], use)
    region_costs = _region_costs(model, kpis, regions_of, costs)
    return NationalResults(
        regions=regions,
        pools=pools,
        use=_summarise_long(use, ["pool", "region", "year"], USE_MEASURES, shares={"use_share"}),
        costs=_summarise_costs(costs),
        region_costs=region_costs,
        national=_national(model, kpis),
        per_replication={"kpis": kpis, "use": use, "costs": costs},
    )


def _use(outcome: NationalOutcome) -> pd.DataFrame:
    """Per replication, pool, region and year: the measures of :data:`USE_MEASURES`."""
    use = outcome.use.copy()
    if use.empty:
        return pd.DataFrame(columns=list(USE_MEASURES))
    bounds = outcome.groups[0].spec.year_start_day
    days = pd.Series(np.diff(bounds.to_numpy()), index=bounds.index[:-1])
    year = use.index.get_level_values("year")
    total = use.groupby(level=["replication", "pool", "year"])["bed_days"].transform("sum")
    admissions = use["admissions"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        use["occupied_beds"] = use["bed_days"].to_numpy() / days.reindex(year).to_numpy()
        use["use_share"] = np.where(total > 0, use["bed_days"] / total, math.nan)
        use["mean_wait_days"] = np.where(admissions > 0, use["wait_days"] / admissions, math.nan)
        use["mean_travel_minutes"] = np.where(
            admissions > 0, use["travel_minutes"] / admissions, math.nan
        )
    return use


def _costs(model: NationalModel, pool_kpis: pd.DataFrame, use: pd.DataFrame) -> pd.DataFrame:
    """Per replication, pool, region and year: the region's key share and cost."""
    rows = []
    inhabitants = model.regions["inhabitants"].astype("float64")
    for index, cost in pool_kpis["cost_eur"].items():
        replication, pool, year = cast(tuple[int, str, int], index)
        key = str(model.pools.at[pool, "cost_key"])
        members = model.pool_regions.loc[pool]
        people = inhabitants.reindex(members.index)
        by_people = people / people.sum() if people.sum() > 0 else people * 0 + 1 / len(people)
        note = ""
        if key == "fixed":
            shares = members["fixed_share"].astype("float64")
        elif key == "inhabitants":
            shares = by_people
        else:
            days = use.xs((replication, pool, year), level=["replication", "pool", "year"])[
                "bed_days"
            ].reindex(members.index, fill_value=0.0)
            if days.sum() > 0:
                shares = days / days.sum()
            else:
                shares, note = by_people, "geen gebruik: naar inwoners verdeeld"
        for region, key_share in shares.items():
            rows.append(
                {
                    "replication": replication,
                    "pool": pool,
                    "region": region,
                    "year": year,
                    "cost_key": key,
                    "key_share": float(key_share),
                    "cost_eur": float(cost) * float(key_share),
                    "note": note,
                }
            )
    return pd.DataFrame(rows)


COST_COLUMNS = [
    "pool",
    "region",
    "year",
    "cost_key",
    "key_share",
    "mean",
    "ci_low",
    "ci_high",
    "note",
]


def _summarise_costs(costs: pd.DataFrame) -> pd.DataFrame:
    """Mean cost per pool, region and year with its interval; the share of the mean cost.

    ``key_share`` is the region's mean cost over the pool's mean cost, so that share times
    the pool's cost is the euros shown (a mean of shares would not be, under ``use``).
    """
    if costs.empty:
        return pd.DataFrame(columns=COST_COLUMNS)
    pool_cost = costs.groupby(["replication", "pool", "year"])["cost_eur"].sum()
    pool_mean = {
        (str(k[0]), int(k[1])): float(v)  # type: ignore[index]
        for k, v in pool_cost.groupby(level=["pool", "year"]).mean().items()
    }
    rows = []
    for (pool, region, year), group in costs.groupby(["pool", "region", "year"], sort=False):
        est = at_least(group["cost_eur"].to_numpy(dtype="float64"), 0.0)
        notes = sorted({n for n in group["note"] if n})
        total = pool_mean[(str(pool), as_int(year))]
        rows.append(
            {
                "pool": pool,
                "region": region,
                "year": year,
                "cost_key": group["cost_key"].iloc[0],
                "key_share": est.mean / total if total > 0 else float(group["key_share"].mean()),
                "mean": est.mean,
                "ci_low": est.low,
                "ci_high": est.high,
                "note": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows, columns=COST_COLUMNS)


def _region_costs(
    model: NationalModel, kpis: pd.DataFrame, regions_of: np.ndarray, costs: pd.DataFrame
) -> pd.DataFrame:
    """Per region and year: own forms' cost, its share of its pools and the total.

    Means over replications (euros); the total with its 95% interval. Every region is
    there, also one that buys everything in pools.
    """
    replications = sorted(set(kpis.index.get_level_values("replication")))
    index = pd.MultiIndex.from_product(
        [replications, model.region_ids, model.years], names=["replication", "region", "year"]
    )
    own = kpis.loc[regions_of != "", "cost_eur"].reset_index()
    own["region"] = [split(str(f))[0] for f in own["care_form"]]
    own_sum = own.groupby(["replication", "region", "year"])["cost_eur"].sum()
    frame = pd.DataFrame({"own_eur": own_sum.reindex(index, fill_value=0.0)})
    pooled = (
        costs.groupby(["replication", "region", "year"])["cost_eur"].sum()
        if not costs.empty
        else pd.Series(dtype="float64")
    )
    frame["pools_eur"] = pooled.reindex(index, fill_value=0.0)
    frame["total_eur"] = frame["own_eur"] + frame["pools_eur"]
    rows = []
    for (region, year), group in frame.groupby(level=["region", "year"], sort=False):
        total = at_least(group["total_eur"].to_numpy(dtype="float64"), 0.0)
        rows.append(
            {
                "region": region,
                "year": year,
                "own_eur": float(group["own_eur"].mean()),
                "pools_eur": float(group["pools_eur"].mean()),
                "total_eur": total.mean,
                "total_ci_low": total.low,
                "total_ci_high": total.high,
                "replications": total.n,
            }
        )
    return pd.DataFrame(rows)


def _national(model: NationalModel, kpis: pd.DataFrame) -> pd.DataFrame:
    """Per base care form: sums over regions and pools; occupancy of all beds together."""
    frame = kpis.reset_index()
    pool_form = {str(p): str(f) for p, f in model.pools["care_form"].items()}
    frame["care_form"] = [
        split(str(f))[1] if split(str(f))[0] else pool_form[str(f)] for f in frame["care_form"]
    ]
    # occupied beds counted up to the beds (occupancy_rate x beds), to add them up
    frame["_within"] = frame["occupancy_rate"].fillna(0.0) * frame["capacity_beds"]
    sums = frame.groupby(["replication", "care_form", "year"], sort=False)[
        [*ADDITIVE, "_within"]
    ].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        sums["occupancy_rate"] = np.where(
            sums["capacity_beds"] > 0, sums["_within"] / sums["capacity_beds"], math.nan
        )
    return summarise(sums.drop(columns="_within"), NATIONAL_COLUMNS)


def _summarise_long(
    frame: pd.DataFrame, keys: list[str], measures: tuple[str, ...], shares: set[str]
) -> pd.DataFrame:
    """Mean and 95% interval per ``keys`` of each measure over replications."""
    rows = []
    if frame.empty:
        return pd.DataFrame(columns=[*keys, "measure", "mean", "ci_low", "ci_high", "replications"])
    for key, group in frame.groupby(level=keys, sort=False):
        for measure in measures:
            values = group[measure].to_numpy(dtype="float64")
            est = share(values) if measure in shares else at_least(values, 0.0)
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "measure": measure,
                    "mean": est.mean,
                    "ci_low": est.low,
                    "ci_high": est.high,
                    "replications": est.n,
                }
            )
    return pd.DataFrame(rows)


__all__ = ["ADDITIVE", "INPUTS", "SHARES", "NationalResults", "national_results"]
