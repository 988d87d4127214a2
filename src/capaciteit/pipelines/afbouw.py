"""Afbouw plan: load and check a scenario, plan beds per provider and year, write the plan."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.afbouw_plan import AfbouwResult
from capaciteit.optimisation.beds_model import SolverName
from capaciteit.pipelines import Progress, quiet
from capaciteit.simulation.executors import Executor


@dataclass(frozen=True)
class AfbouwReport:
    """The afbouw plan of a scenario and the files written."""

    scenario: Scenario
    result: AfbouwResult
    files: dict[str, Path]
    elapsed_s: float


def afbouw_report(
    scenario_file: Path,
    out: Path,
    *,
    solver: SolverName = "ortools",
    replications: int | None = None,
    time_limit_s: float | None = None,
    lp_file: Path | None = None,
    executor: Executor | None = None,
    progress: Progress = quiet,
) -> AfbouwReport:
    """Plan afbouw and opbouw for ``scenario_file``; write the plan and workbook to ``out``."""
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.optimisation.afbouw_plan import afbouw_plan
    from capaciteit.results.afbouw_report import write_afbouw

    scenario = load_scenario(scenario_file)
    started = time.perf_counter()
    result = afbouw_plan(
        scenario,
        solver=solver,
        executor=executor,
        replications=replications,
        time_limit_s=time_limit_s,
        lp_file=lp_file,
        progress=lambda text: progress(None, text),
    )
    elapsed = time.perf_counter() - started
    files = write_afbouw(scenario, result, out)
    return AfbouwReport(scenario, result, files, elapsed)
