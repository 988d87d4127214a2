"""The afbouw of shared pools: minimal beds from the demand, then who keeps which places.

The demand comes from a national run, not from a formula: each region's requests for the
pool per year (referrals and doorstroom, as the simulation routes them, levers included).
Per pool and year the regions' requests add up to one stream; with the pool's mean stay
that gives the minimal beds under the norm (at most ``max_refused_share`` placed
elsewhere; Erlang B, with the evidence that one bed fewer fails), and each region's
expected occupied beds (Little). The providers' plan
(:func:`~capaciteit.optimisation.shared_pools.plan_pool_afbouw`) then keeps at least those
beds at least cost and travel, small-scale and under the agreed ceiling towards zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from capaciteit._pandas import as_float
from capaciteit.national.model import NationalModel, PoolAfbouwIn
from capaciteit.optimisation.shared_pools import (
    PoolAfbouwPlan,
    PoolAfbouwProblem,
    SolverChoice,
    plan_pool_afbouw,
    pool_minimal_beds,
    region_load_beds,
)


@dataclass(frozen=True)
class PoolAfbouw:
    """One pool's demand, minimal beds and plan."""

    pool: str
    requests: pd.DataFrame
    minimal: pd.DataFrame
    problem: PoolAfbouwProblem
    plan: PoolAfbouwPlan


def pool_requests(model: NationalModel, use: pd.DataFrame, pool: str) -> pd.DataFrame:
    """Mean requests a year per member region (index) and year (columns) of a national run."""
    requests = use.xs(pool, level="pool")["requests"]
    means = requests.groupby(level=["region", "year"]).mean().unstack("year")
    members = [str(r) for r in model.pool_regions.loc[pool].index]
    return means.reindex(index=members, columns=model.years, fill_value=0.0).fillna(0.0)


def pool_mean_los_days(model: NationalModel, pool: str) -> pd.Series:
    """Return the pool's mean stay per year (its form in its first member, with levers)."""
    form = str(model.pools.at[pool, "care_form"])
    first = str(model.pool_regions.loc[pool].index[0])
    scenario = model.scenarios[first]
    return pd.Series(
        [scenario.mean_los_days(form, None, y) for y in model.years],
        index=model.years,
        dtype="float64",
    )


def pool_problem(
    model: NationalModel,
    pool: str,
    requests: pd.DataFrame,
    minimal: pd.DataFrame,
    los: pd.Series,
    settings: PoolAfbouwIn,
) -> PoolAfbouwProblem:
    """Build the data of a pool's afbouw plan from the model, demand and settings."""
    beds = model.pool_beds.loc[pool]
    providers = pd.DataFrame(
        {
            "beds": beds["beds"].astype("int64"),
            "cost_per_bed_day_eur": beds["cost_per_bed_day_eur"].astype("float64"),
            # without a small-scale limit a provider may keep its 0-meting's beds
            "max_beds": beds["max_beds"].fillna(beds["beds"]).astype("int64"),
            "min_beds_open": beds["min_beds_open"].fillna(0).astype("int64"),
        }
    )
    providers.index = pd.Index([str(p) for p in providers.index], name="provider")
    travel = pd.DataFrame(0.0, index=requests.index, columns=providers.index)
    if not model.travel.empty:
        for region in requests.index:
            for provider in providers.index:
                if (region, provider) in model.travel.index:
                    minutes = model.travel.at[(region, provider), "minutes"]
                    travel.loc[region, provider] = as_float(minutes)
    total0 = int(providers["beds"].sum())
    # the first horizon year is the 0-meting's: the plan changes the years after it
    years = model.years[1:]
    ceiling = None
    if settings.ceiling_share_of_baseline:
        ceiling = pd.Series(
            {
                int(y): math.floor(share * total0 + 1e-9)
                for y, share in settings.ceiling_share_of_baseline.items()
                if int(y) in years
            },
            dtype="int64",
        )
    return PoolAfbouwProblem(
        years=years,
        providers=providers,
        required_beds=minimal["beds"].astype("int64").reindex(years),
        load=region_load_beds(requests, los)[years],
        travel_minutes=travel,
        ceiling_beds=ceiling,
        max_change_beds=settings.max_change_beds,
        target_occupancy=settings.target_occupancy,
        small_scale_from=settings.small_scale_from,
        pool=str(model.pools.at[pool, "name"]),
    )


def plan_pools(
    model: NationalModel,
    use: pd.DataFrame,
    settings: PoolAfbouwIn,
    *,
    solver: SolverChoice = "cp-sat",
    extra_beds: dict[tuple[str, int], int] | None = None,
) -> list[PoolAfbouw]:
    """Every pool's minimal beds and afbouw plan from a national run's pool use.

    ``extra_beds``: beds per ``(pool, year)`` on top of the steady-state minimum, where a
    simulation of an earlier plan missed the norm (a year after a large cut starts with
    more young people than beds; the formula does not see that).
    """
    extra = extra_beds or {}
    out = []
    for pool in [str(p) for p in model.pools.index]:
        requests = pool_requests(model, use, pool)
        los = pool_mean_los_days(model, pool)
        minimal = pool_minimal_beds(
            requests.sum(axis=0), los, max_refused=settings.max_refused_share
        )
        # ``formula_beds`` is the steady-state minimum whose evidence the table gives
        minimal["formula_beds"] = minimal["beds"]
        minimal["extra_beds"] = [extra.get((pool, int(y)), 0) for y in minimal.index]
        minimal["beds"] = minimal["formula_beds"] + minimal["extra_beds"]
        problem = pool_problem(model, pool, requests, minimal, los, settings)
        plan = plan_pool_afbouw(problem, time_limit_s=settings.time_limit_s, solver=solver)
        out.append(PoolAfbouw(pool, requests, minimal, problem, plan))
    return out


def pool_capacity(model: NationalModel, plans: list[PoolAfbouw]) -> pd.DataFrame:
    """Return the plans as ``pool_capacity`` rows (pool, provider, year, beds).

    A pool without a plan (infeasible, or no solution in time) keeps its 0-meting's beds:
    it gets no rows.
    """
    rows = []
    for item in plans:
        if item.plan.beds is None:
            continue
        for provider, by_year in item.plan.beds.iterrows():
            for year in item.problem.years:
                rows.append((item.pool, str(provider), int(year), int(by_year[year])))
    return pd.DataFrame(rows, columns=["pool", "provider", "year", "beds"])
