"""Simulate a national scenario: load and check every region and pool, run, report.

The groups' replications run as tasks on the executor (local processes by default, a Dask
cluster with ``dask://HOST:PORT``) and are aggregated as they finish; the stays stay in the
workers unless asked for, and then go to Parquet files (one per task) under
``OUT/stays/``.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capaciteit.errors import CapaciteitError
from capaciteit.national.model import NationalScenario
from capaciteit.national.results import NationalResults
from capaciteit.pipelines import Progress, quiet
from capaciteit.simulation.executors import Executor


@dataclass(frozen=True)
class NationalSimulated:
    """A simulated national scenario, its results and the files written."""

    scenario: NationalScenario
    results: NationalResults
    files: dict[str, Path]
    elapsed_s: float
    stays: int
    tasks: int
    executor: str


def simulate_national(
    scenario_file: Path,
    out: Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    keep_stays: bool = False,
    progress: Progress = quiet,
) -> NationalSimulated:
    """Simulate ``scenario_file`` (a national scenario) and write its report to ``out``."""
    from capaciteit.io.national_files import load_national_scenario
    from capaciteit.national.results import national_results
    from capaciteit.national.run import run_national
    from capaciteit.results.cells import write_csv
    from capaciteit.results.national_report import write_national_report
    from capaciteit.simulation.executors import SerialExecutor

    progress(None, "regio's en pools lezen")
    scenario = load_national_scenario(scenario_file, replications=replications, seed=seed)
    runner = executor or SerialExecutor()
    started = time.perf_counter()
    count = {"tasks": 0}

    def tick(done: int, total: int) -> None:
        count["tasks"] = total
        progress(done / total, f"simulatie: {done} van {total} taken")

    stays_dir = out / "stays"
    _clear_stays(stays_dir)
    progress(0.0, f"simulatie ({runner.name})")
    outcome = run_national(
        scenario,
        runner,
        stays_dir=stays_dir if keep_stays else None,
        progress=tick,
    )
    elapsed = time.perf_counter() - started
    progress(None, "resultaten schrijven")
    results = national_results(outcome)
    files = write_national_report(
        results, scenario, out, elapsed_s=elapsed, executor=runner.name, stays=outcome.stays
    )
    if keep_stays:
        groups = pd.DataFrame(
            [
                (f"group={g.index:03d}", " ".join(g.regions), " ".join(g.pools))
                for g in outcome.groups
            ],
            columns=["group", "regions", "pools"],
        )
        write_csv(groups, stays_dir / "groups.csv")
        files["stays"] = stays_dir
    return NationalSimulated(
        scenario, results, files, elapsed, outcome.stays, count["tasks"], runner.name
    )


def _clear_stays(folder: Path) -> None:
    """Remove the stays of an earlier run in ``folder``, so that it holds this run's only.

    Only what a national run writes there is removed (``group=NNN/replication=NNNN.parquet``
    and ``groups.csv``); anything else in it refuses the run.
    """
    if not folder.exists():
        return
    ours = [folder / "groups.csv", *folder.glob("group=*/replication=*.parquet")]
    others = [p for p in folder.rglob("*") if p.is_file() and p not in ours]
    if others or not folder.is_dir():
        raise CapaciteitError(
            f"de map '{folder}' bevat bestanden die niet van een landelijke simulatie zijn "
            f"(zoals {others[0].name if others else folder.name}). Kies een andere map met --out."
        )
    shutil.rmtree(folder)
