"""A national run gives identical results on every executor, also when a worker is killed."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from capaciteit.domain.scenario import Horizon
from capaciteit.io.national_files import load_national
from capaciteit.national.model import NationalScenario, PoolAfbouwIn
from capaciteit.national.run import NationalOutcome, run_national
from capaciteit.simulation.executors import SerialExecutor, make_executor
from tests.national_models import example_pool


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> NationalScenario:
    folder = example_pool(tmp_path_factory.mktemp("national"))
    model = load_national(folder, Horizon(start_year=2023, end_year=2026))
    return NationalScenario("drie regio's", "", None, model, 6, 99, PoolAfbouwIn())


@pytest.fixture(scope="module")
def serial(scenario: NationalScenario) -> NationalOutcome:
    return run_national(scenario, SerialExecutor())


def same(expected: NationalOutcome, actual: NationalOutcome) -> None:
    pd.testing.assert_frame_equal(expected.kpis, actual.kpis, check_exact=True)
    pd.testing.assert_frame_equal(expected.use, actual.use, check_exact=True)
    assert expected.stays == actual.stays


def test_replications_differ_so_equality_means_something(serial: NationalOutcome) -> None:
    admissions = serial.kpis["admissions"].unstack("replication")
    assert admissions.nunique(axis=1).max() > 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["processes", "dask-local:2"])
def test_same_seed_same_national_results(
    scenario: NationalScenario, serial: NationalOutcome, name: str
) -> None:
    same(serial, run_national(scenario, make_executor(name, workers=2)))


@pytest.mark.slow
def test_a_killed_dask_worker_changes_nothing(
    scenario: NationalScenario, serial: NationalOutcome, dask_cluster: Any, tmp_path: Path
) -> None:
    from distributed import Client

    with Client(dask_cluster) as client:
        victim = next(iter(client.run(os.getpid).values()))
        killed = []

        def kill_once(done: int, total: int) -> None:
            if done == 2 and not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        executor = make_executor(f"dask://{dask_cluster.scheduler_address}")
        outcome = run_national(scenario, executor, progress=kill_once)
        assert killed
        assert victim not in client.run(os.getpid).values()
    same(serial, outcome)
