"""Minimal beds: load and check a scenario, search the minima per year, write the report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.beds_model import SolverName
from capaciteit.optimisation.minimal_beds import MinimalBedsResult
from capaciteit.pipelines import BEDS_STAGES, Progress, quiet, staged
from capaciteit.simulation.executors import Executor


@dataclass(frozen=True)
class BedsReport:
    """Minimal beds of a scenario and the files written."""

    scenario: Scenario
    result: MinimalBedsResult
    files: dict[str, Path]
    elapsed_s: float


def minimal_beds_report(
    scenario_file: Path,
    out: Path,
    *,
    solver: SolverName = "ortools",
    replications: int | None = None,
    max_iterations: int | None = None,
    time_limit_s: float | None = None,
    executor: Executor | None = None,
    progress: Progress = quiet,
) -> BedsReport:
    """Compute the minimal beds of ``scenario_file`` per form and year; write them to ``out``."""
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.optimisation.minimal_beds import minimal_beds
    from capaciteit.results.beds_report import write_beds

    scenario = load_scenario(scenario_file)
    started = time.perf_counter()
    result = minimal_beds(
        scenario,
        executor=executor,
        solver=solver,
        replications=replications,
        max_iterations=max_iterations,
        time_limit_s=time_limit_s,
        progress=staged(progress, BEDS_STAGES),
    )
    elapsed = time.perf_counter() - started
    files = write_beds(scenario, result, out)
    return BedsReport(scenario, result, files, elapsed)
