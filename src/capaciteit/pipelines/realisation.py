"""Quarterly realisation: read the plan and the filled-in templates, simulate, compare, report.

The use case of an ontwikkeltafel's quarterly meeting: the agreed afbouw plan
(``plan.csv``) and the providers' realisation (one or more filled-in templates) are read
and checked (every problem listed, nothing partial); the scenario is simulated with the
plan's beds to get the band of what each quarter may look like (:mod:`capaciteit.
realisation.band`); every care form and quarter, and every provider's places, are judged
(:mod:`capaciteit.realisation.compare`); the comparison, the fan charts, the workbook and
the PDF report are written to ``out``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capaciteit.domain.scenario import Scenario
from capaciteit.pipelines import Progress, quiet
from capaciteit.realisation.band import Band
from capaciteit.simulation.executors import Executor


@dataclass(frozen=True)
class RealisationReport:
    """A quarterly realisation report and the files written.

    Attributes
    ----------
    files
        The files written by name (``comparison``, ``band``, ``realisation``,
        ``chart_<care_form>``, ``workbook``, ``html``, ``pdf``).
    comparison
        :func:`~capaciteit.realisation.compare.compare`'s frame: per care form and quarter,
        then per provider, care form and quarter, with ``verdict`` and ``reason``.
    elapsed_s
        Wall time from reading the inputs to the last file.
    pdf_s
        The part of it spent laying out the PDF.
    """

    scenario: Scenario
    realised: pd.DataFrame
    band: Band
    comparison: pd.DataFrame
    files: dict[str, Path]
    elapsed_s: float
    pdf_s: float


def realisation_report(
    scenario_file: Path,
    plan_csv: Path,
    actuals: list[Path],
    out: Path,
    *,
    replications: int | None = None,
    executor: Executor | None = None,
    progress: Progress = quiet,
) -> RealisationReport:
    """Compare the realisation ``actuals`` with the plan ``plan_csv``; write the report to ``out``.

    ``replications`` of the band default to
    :data:`~capaciteit.realisation.band.DEFAULT_REPLICATIONS`. Raises
    :class:`~capaciteit.errors.InvalidInputError` (every problem listed) for an invalid
    scenario, plan or realisation, or a realisation that leaves out a provider the plan
    gives places that quarter.
    """
    from capaciteit.errors import InvalidInputError, Problem
    from capaciteit.io.scenario_files import load_scenario
    from capaciteit.realisation.band import (
        DEFAULT_REPLICATIONS,
        MIN_REPLICATIONS,
        simulate_band,
    )
    from capaciteit.realisation.compare import compare
    from capaciteit.realisation.plan import read_plan
    from capaciteit.realisation.quarters import Quarter, quarters_of
    from capaciteit.realisation.reader import check_complete, read_realisations
    from capaciteit.realisation.report import write_report
    from capaciteit.simulation.executors import SerialExecutor

    started = time.perf_counter()
    if replications is not None and replications < MIN_REPLICATIONS:
        raise InvalidInputError(
            "De instellingen",
            [
                Problem(
                    "--replications",
                    f"{replications} replicaties zijn te weinig voor een band van 95%.",
                    f"Gebruik er minstens {MIN_REPLICATIONS} (standaard {DEFAULT_REPLICATIONS}).",
                )
            ],
        )
    progress(None, "scenario, plan en realisatie inlezen")
    scenario = load_scenario(scenario_file)
    plan = read_plan(plan_csv, scenario)
    realised = read_realisations(actuals, scenario)
    sources = [p.name for p in actuals]
    check_complete(realised, plan, sources)
    # the band over every quarter of the years reported: the fan shows what lies ahead
    quarters = quarters_of(Quarter.of(q).year for q in realised.index.get_level_values("quarter"))
    count = replications or DEFAULT_REPLICATIONS
    runner = executor or SerialExecutor()
    progress(0.0, f"band: {count} replicaties ({runner.name})")
    band = simulate_band(
        scenario,
        plan,
        quarters,
        replications=count,
        executor=runner,
        progress=lambda done: progress(done / count, f"band: {done} van {count} replicaties"),
    )
    progress(None, "vergelijken en rapport schrijven")
    comparison = compare(realised, plan, band.table)
    written = write_report(
        scenario, realised, band, comparison, out, sources=sources, plan_name=plan_csv.name
    )
    return RealisationReport(
        scenario=scenario,
        realised=realised,
        band=band,
        comparison=comparison,
        files=written.files,
        elapsed_s=time.perf_counter() - started,
        pdf_s=written.pdf_s,
    )
