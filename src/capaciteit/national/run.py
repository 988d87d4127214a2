"""A national run: every group's replications as tasks, aggregated as they arrive.

A task is one replication of one group of regions (regions linked by pools run together,
the others alone): it simulates the stays, computes the KPIs per form and year and the use
of each pool per home region, optionally writes its stays to one Parquet file, and sends
back only those small tables. The stays never travel and are never all in memory: memory
stays that of one replication of one group per worker, whatever the number of regions.

Each task's random numbers come from its own ``SeedSequence`` (the run's seed, the group's
key, the replication), so a national run gives the same numbers on every executor, in any
order of completion, and again when a lost task is run a second time.
"""

from __future__ import annotations

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


def task_seed(seed: int, group_key: int, replication: int) -> np.random.SeedSequence:
    """Return the random numbers of one replication of one group (``Group.key``)."""
    return np.random.SeedSequence(seed, spawn_key=(group_key, replication))


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
    group_key: int,
    replication: int,
    stays_dir: str | None,
) -> TaskResult:
    """Simulate one replication of one group; write its stays when asked; count."""
    with collector_paused():
        stays = simulate_stays(spec, task_seed(seed, group_key, replication))
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
    n_homes, n_years = len(spec.homes), len(years)
    index = pd.MultiIndex.from_product([pools, spec.homes, years], names=["pool", "region", "year"])
    out = np.zeros((len(pools), n_homes, n_years, len(USE_COLUMNS)))
    travel = spec.travel_minutes
    for i, pool in enumerate(pools):
        mine = stays[stays["care_form"] == pool]
        if mine.empty:
            continue
        home = mine["home"].cat.codes.to_numpy()
        start = mine["start_day"].to_numpy()
        end = mine["end_day"].to_numpy()
        requested = mine["requested_day"].to_numpy()
        admitted = ~np.isnan(start)
        overflow = (mine["outcome"] == "overflow").to_numpy()
        minutes = np.zeros(len(mine))
        if not travel.empty:
            of_pool = travel.xs(pool, level=0) if pool in travel.index.get_level_values(0) else None
            if of_pool is not None:
                keys = zip(mine["provider"].astype(str), home.tolist(), strict=True)
                minutes = np.array([float(of_pool.get(k, 0.0)) for k in keys])
        stay_end = np.where(np.isnan(end), bounds[-1], end)
        for k in range(n_years):
            a, b = bounds[k], bounds[k + 1]
            started = admitted & (start >= a) & (start < b)
            days = np.where(admitted, np.minimum(stay_end, b) - np.maximum(start, a), 0.0)
            columns = (
                (requested >= a) & (requested < b),
                started,
                None,
                overflow & (end >= a) & (end < b),
                None,
                None,
            )
            for c, mask in enumerate(columns):
                if mask is not None:
                    out[i, :, k, c] = np.bincount(home[mask], minlength=n_homes)
            out[i, :, k, 2] = np.bincount(home, weights=np.clip(days, 0.0, None), minlength=n_homes)
            out[i, :, k, 4] = np.bincount(
                home[started], weights=(start - requested)[started], minlength=n_homes
            )
            out[i, :, k, 5] = np.bincount(
                home[started], weights=minutes[started], minlength=n_homes
            )
    return pd.DataFrame(out.reshape(-1, len(USE_COLUMNS)), index=index, columns=list(USE_COLUMNS))


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
        (g.spec, g.pools, scenario.seed, g.index, g.key, r, str(stays_dir) if stays_dir else None)
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
