"""Plan the afbouw of the shared pools of a national scenario, and check the plan by simulation.

1. A national run gives each region's requests for each pool per year (referrals and
   doorstroom, levers included).
2. Per pool: the minimal beds per year (with the evidence that one fewer fails) and the
   providers' plan (:mod:`capaciteit.national.afbouw`).
3. The plans become ``pool_capacity.csv``, which a national scenario can simulate
   (``pool_plan:``); the plan is simulated here at once, with the same seed, and each pool
   and year is judged against the norm.
4. A steady-state minimum is a starting point: a year after a large cut starts with more
   young people than beds, and refuses more than the formula says. Where the simulation
   misses the norm, those years get the beds for the share refused above the norm and
   the pools are planned and simulated again, at most ``max_rounds`` times; what is still
   missed is said.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capaciteit._pandas import as_float, as_int
from capaciteit.national.afbouw import PoolAfbouw
from capaciteit.national.model import NationalScenario
from capaciteit.national.results import NationalResults
from capaciteit.optimisation.shared_pools import SolverChoice
from capaciteit.pipelines import Progress, quiet
from capaciteit.simulation.executors import Executor


@dataclass(frozen=True)
class NationalAfbouwRun:
    """The plans of every pool, the plan simulated, and the files written."""

    scenario: NationalScenario
    plans: list[PoolAfbouw]
    checked: NationalResults
    check: pd.DataFrame
    files: dict[str, Path]
    elapsed_s: float


def plan_national_afbouw(
    scenario_file: Path,
    out: Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    solver: SolverChoice = "cp-sat",
    progress: Progress = quiet,
) -> NationalAfbouwRun:
    """Plan every pool of ``scenario_file`` and simulate the plan; write both to ``out``."""
    from capaciteit.io.national_files import load_national_scenario
    from capaciteit.national.afbouw import plan_pools, pool_capacity
    from capaciteit.national.results import national_results
    from capaciteit.national.run import run_national
    from capaciteit.results.cells import write_csv
    from capaciteit.results.national_afbouw import check_table, write_national_afbouw
    from capaciteit.simulation.executors import SerialExecutor

    started = time.perf_counter()
    progress(None, "regio's en pools lezen")
    scenario = load_national_scenario(scenario_file, replications=replications, seed=seed)
    runner = executor or SerialExecutor()

    def tick(what: str) -> Callable[[int, int], None]:
        def say(done: int, total: int) -> None:
            progress(done / total, f"{what}: {done} van {total} taken")

        return say

    demand = run_national(scenario, runner, progress=tick("vraag"))
    out.mkdir(parents=True, exist_ok=True)
    plan_file = out / "pool_capacity.csv"
    extra: dict[tuple[str, int], int] = {}
    rounds = scenario.pool_afbouw.max_rounds
    for round_no in range(1, rounds + 1):
        progress(None, f"minimale bedden en afbouw per pool (plan {round_no})")
        plans = plan_pools(
            scenario.model, demand.use, scenario.pool_afbouw, solver=solver, extra_beds=extra
        )
        write_csv(pool_capacity(scenario.model, plans), plan_file)
        planned = load_national_scenario(
            scenario_file, replications=replications, seed=seed, pool_plan=str(plan_file.resolve())
        )
        checked = national_results(
            run_national(planned, runner, progress=tick(f"plan {round_no} nagerekend"))
        )
        check = check_table(scenario, plans, checked)
        missed = check[check["verdict"] == "missed"]
        if missed.empty or round_no == rounds:
            break
        # a year that missed the norm gets beds for the share refused above it
        for row in missed.itertuples():
            key = (str(row.pool), as_int(row.year))
            share = as_float(row.refused_share) - as_float(row.max_refused_share)
            above = share * as_float(row.beds)
            extra[key] = extra.get(key, 0) + max(1, math.ceil(above))
    progress(None, "resultaten schrijven")
    files = write_national_afbouw(scenario, plans, check, out)
    files["pool_capacity"] = plan_file
    return NationalAfbouwRun(scenario, plans, checked, check, files, time.perf_counter() - started)
