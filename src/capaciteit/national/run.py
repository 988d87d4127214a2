"""A national run: every group's replications as tasks, aggregated as they arrive.

A task is one replication of one group of regions (regions linked by pools run together,
the others alone): it simulates the stays, computes the KPIs per form and year and the use
of each pool per home region, optionally writes its stays to one Parquet file, and sends
back only those small tables. The stays never travel and are never all in memory: memory
stays that of one replication of one group per worker, whatever the number of regions.

Each task's random numbers come from its own ``SeedSequence`` (the run's seed, the group,
the replication), so a national run gives the same numbers on every executor, in any
order of completion, and again when a lost task is run a second time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from capaciteit.national.compose import Group, groups
from capaciteit.national.model import NationalScenario
from capaciteit.simulation.engine import collector_paused, simulate_stays
from capaciteit.simulation.executors import Executor, SerialExecutor
from capaciteit.simulation.kpis import replication_kpis
from capaciteit.simulation.spec import SimSpec

USE_COLUMNS = (
    "requests",
    "admissions",
    "bed_days",
    "overflow_count",
    "wait_days",
    "travel_minutes",
)
"""What a task counts of each pool per home region and year (sums over the year).

``requests`` and ``admissions`` by the year of the request and of the admission;
``bed_days`` in the year; ``overflow_count`` requests placed elsewhere, by the year it
happened; ``wait_days`` of the admissions that year (request to admission);
``travel_minutes`` summed over the admissions that year (the region's travel time to the
provider that took the young person in).
"""


def task_seed(seed: int, group: int, replication: int) -> np.random.SeedSequence:
    """Return the random numbers of one replication of one group."""
    return np.random.SeedSequence(seed, spawn_key=(group, replication))


@dataclass(frozen=True)
class TaskResult:
    """What one task sends back: KPIs per form and year, and pool use per home region."""

    group: int
    replication: int
    kpis: pd.DataFrame
    use: pd.DataFrame
    stays: int


def run_task(
    spec: SimSpec,
    pools: tuple[str, ...],
    seed: int,
    group: int,
    replication: int,
    stays_dir: str | None,
) -> TaskResult:
    """Simulate one replication of one group; write its stays when asked; count."""
    with collector_paused():
        stays = simulate_stays(spec, task_seed(seed, group, replication))
        kpis = replication_kpis(spec, stays)
        use = pool_use(spec, pools, stays)
    if stays_dir is not None:
        folder = Path(stays_dir) / f"group={group:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        # one file per task, written whole: a task run twice writes the same bytes again
        stays.assign(replication=replication).to_parquet(
            folder / f"replication={replication:04d}.parquet", index=False
        )
    return TaskResult(group, replication, kpis, use, len(stays))


def pool_use(spec: SimSpec, pools: tuple[str, ...], stays: pd.DataFrame) -> pd.DataFrame:
    """Use of each pool per home region and year (:data:`USE_COLUMNS`), from the stays."""
    years = spec.years
    bounds = spec.year_start_day.to_numpy(dtype="float64")
    index = pd.MultiIndex.from_product([pools, spec.homes, years], names=["pool", "region", "year"])
    out = pd.DataFrame(0.0, index=index, columns=list(USE_COLUMNS))
    if not pools:
        return out
    travel = spec.travel_minutes
    for pool in pools:
        of_pool = stays[stays["care_form"] == pool]
        for h, region in enumerate(spec.homes):
            mine = of_pool[of_pool["home"] == region]
            if mine.empty:
                continue
            start = mine["start_day"].to_numpy()
            end = np.where(np.isnan(mine["end_day"]), bounds[-1], mine["end_day"])
            requested = mine["requested_day"].to_numpy()
            admitted = ~np.isnan(start)
            overflow = (mine["outcome"] == "overflow").to_numpy()
            provider = mine["provider"].astype(str).to_numpy()
            minutes = np.array(
                [
                    float(travel.get((pool, p, h), math.nan)) if a else math.nan
                    for p, a in zip(provider, admitted, strict=True)
                ]
            )
            for k, year in enumerate(years):
                a, b = bounds[k], bounds[k + 1]
                in_year = admitted & (start >= a) & (start < b)
                row = (pool, region, year)
                out.loc[row, "requests"] = float(((requested >= a) & (requested < b)).sum())
                out.loc[row, "admissions"] = float(in_year.sum())
                days = np.clip(np.minimum(end, b) - np.maximum(start, a), 0.0, None)
                out.loc[row, "bed_days"] = float(days[admitted].sum())
                ended = np.where(np.isnan(mine["end_day"]), np.inf, mine["end_day"])
                out.loc[row, "overflow_count"] = float(
                    (overflow & (ended >= a) & (ended < b)).sum()
                )
                out.loc[row, "wait_days"] = float((start - requested)[in_year].sum())
                out.loc[row, "travel_minutes"] = float(np.nansum(minutes[in_year]))
    return out


@dataclass(frozen=True)
class NationalOutcome:
    """Every task's KPIs and pool use, by group and replication (stays stay on disk)."""

    scenario: NationalScenario
    groups: list[Group]
    kpis: pd.DataFrame
    use: pd.DataFrame
    stays: int
    executor: str


def run_national(
    scenario: NationalScenario,
    executor: Executor | None = None,
    *,
    replications: int | None = None,
    stays_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> NationalOutcome:
    """Run every group's replications on ``executor``; aggregate as the tasks finish.

    ``progress(done, total)`` is called after each task.
    """
    executor = executor or SerialExecutor()
    n = replications or scenario.replications
    composed = groups(scenario.model)
    # largest groups first: the last tasks to finish are short ones
    order = sorted(composed, key=lambda g: -len(g.regions))
    args = [
        (g.spec, g.pools, scenario.seed, g.index, r, str(stays_dir) if stays_dir else None)
        for g in order
        for r in range(n)
    ]
    total = len(args)
    kpis: list[pd.DataFrame] = []
    use: list[pd.DataFrame] = []
    stays = 0
    for done, (_, result) in enumerate(executor.stream(run_task, args, None), start=1):
        kpis.append(result.kpis.assign(replication=result.replication))
        if len(result.use):
            use.append(result.use.assign(replication=result.replication))
        stays += result.stays
        if progress:
            progress(done, total)
    return NationalOutcome(
        scenario=scenario,
        groups=composed,
        kpis=_sorted(pd.concat(kpis), ["replication", "care_form", "year"]),
        use=_sorted(pd.concat(use), ["replication", "pool", "region", "year"])
        if use
        else pd.DataFrame(columns=list(USE_COLUMNS)),
        stays=stays,
        executor=executor.name,
    )


def _sorted(frame: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Completion order forgotten: the same table whatever order the tasks finished in."""
    return frame.reset_index().sort_values(key, kind="stable").set_index(key)
