"""Simulate a scenario: load and check it, run its replications, write summary and tables."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from capaciteit.domain.scenario import Scenario
from capaciteit.pipelines import Progress, quiet
from capaciteit.simulation.executors import Executor
from capaciteit.simulation.replications import SimulationResult


@dataclass(frozen=True)
class Simulated:
    """A simulated scenario: its result, ``summary.json`` as a dict, the files written."""

    scenario: Scenario
    result: SimulationResult
    summary: dict[str, Any]
    files: dict[str, Path]
    elapsed_s: float


def simulate(
    scenario_file: Path,
    out: Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    fmt: Literal["csv", "parquet"] = "csv",
    progress: Progress = quiet,
) -> Simulated:
    """Simulate ``scenario_file`` (with optional overrides) and write the results to ``out``."""
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.results.writer import summary_dict, write_results
    from capaciteit.simulation.executors import SerialExecutor
    from capaciteit.simulation.replications import run_replications
    from capaciteit.simulation.spec import compile_spec

    scenario = load_scenario(scenario_file, replications=replications, seed=seed)
    runner = executor or SerialExecutor()
    total = scenario.replications
    progress(0.0, f"{scenario.name}: replicaties ({runner.name})")
    started = time.perf_counter()
    result = run_replications(
        compile_spec(scenario),
        total,
        scenario.seed,
        runner,
        progress=lambda done: progress(done / total, f"simulatie: {done} van {total} replicaties"),
    )
    elapsed = time.perf_counter() - started
    progress(None, "resultaten schrijven")
    summary = summary_dict(scenario, result)
    files = write_results(scenario, result, out, fmt, summary)
    return Simulated(scenario, result, summary, files, elapsed)
