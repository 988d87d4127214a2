"""Independent replications of a simulation, on any executor, with one seed.

``numpy.random.SeedSequence(seed).spawn(n)`` gives each replication its own stream; a
replication's result depends on nothing else, so results are identical on every executor
and in any order of completion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.executors import Executor, SerialExecutor
from capaciteit.simulation.kpis import replication_kpis, summarise
from capaciteit.simulation.spec import SimSpec


@dataclass(frozen=True)
class SimulationResult:
    """All replications of one spec.

    Attributes
    ----------
    stays
        Every stay of every replication (column ``replication`` added).
    kpis
        KPIs per (replication, care_form, year).
    summary
        Long table of KPI means with 95% CIs per (care_form, year, kpi).
    """

    spec: SimSpec
    seed: int
    replications: int
    executor: str
    stays: pd.DataFrame
    kpis: pd.DataFrame
    summary: pd.DataFrame

    def kpi(self, name: str) -> pd.DataFrame:
        """One KPI as a (care_form, year) table of mean, ci_low, ci_high."""
        table = self.summary[self.summary["kpi"] == name]
        return table.set_index(["care_form", "year"])[["mean", "ci_low", "ci_high"]]


def run_replication(
    spec: SimSpec, seed: np.random.SeedSequence, replication: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate one replication; return its stays and its KPIs."""
    stays = simulate_stays(spec, seed)
    stays.insert(0, "replication", replication)
    return stays, replication_kpis(spec, stays)


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """One independent ``SeedSequence`` per replication, from one seed."""
    return np.random.SeedSequence(seed).spawn(replications)


def run_replications(
    spec: SimSpec,
    replications: int,
    seed: int,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Run ``replications`` independent replications of ``spec`` on ``executor``."""
    executor = executor or SerialExecutor()
    seeds = replication_seeds(seed, replications)
    outputs = executor.map(run_replication, [(spec, s, r) for r, s in enumerate(seeds)], progress)
    stays = pd.concat([o[0] for o in outputs], ignore_index=True)
    kpis = pd.concat([o[1] for o in outputs], keys=range(replications), names=["replication"])
    return SimulationResult(
        spec=spec,
        seed=seed,
        replications=replications,
        executor=executor.name,
        stays=stays,
        kpis=kpis,
        summary=summarise(kpis),
    )
