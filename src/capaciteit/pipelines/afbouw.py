"""Afbouw plan: load and check a scenario, plan beds per provider and year, write the plan.

With an agreed plan (the scenario's ``afbouw.reference.file``, relative to the scenario,
or the ``reference`` given here, which overrides it), the plan is made close to it and
the outputs list every cell that changed against it, with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.afbouw_plan import AfbouwResult
from capaciteit.optimisation.beds_model import SolverName
from capaciteit.pipelines import AFBOUW_STAGES, Progress, quiet, staged
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
    reference: Path | None = None,
) -> AfbouwReport:
    """Plan afbouw and opbouw for ``scenario_file``; write the plan and workbook to ``out``.

    ``reference``: a plan.csv of the agreed plan to re-plan close to; it overrides the
    scenario's ``afbouw.reference.file`` (the weight and limit stay the scenario's, or the
    defaults).
    """
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.optimisation.afbouw_plan import afbouw_plan
    from capaciteit.plans.table import read_reference
    from capaciteit.results.afbouw_report import write_afbouw

    scenario = load_scenario(scenario_file)
    started = time.perf_counter()
    source = reference
    if source is None and scenario.afbouw.reference is not None:
        source = Path(scenario.afbouw.reference.file)
        if not source.is_absolute() and scenario.path is not None:
            source = scenario.path.parent / source
    agreed = read_reference(source) if source is not None else None
    result = afbouw_plan(
        scenario,
        solver=solver,
        executor=executor,
        replications=replications,
        time_limit_s=time_limit_s,
        lp_file=lp_file,
        progress=staged(progress, AFBOUW_STAGES),
        reference=agreed,
        reference_source=source.name if source is not None else "referentieplan",
    )
    elapsed = time.perf_counter() - started
    files = write_afbouw(scenario, result, out)
    return AfbouwReport(scenario, result, files, elapsed)
