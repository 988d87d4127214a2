"""Executors stream results, rerun the tasks of a lost worker and give one answer per seed.

Real components only: the example region's replications on serial, local processes,
a Dask ``LocalCluster`` (started by the executor, and one given by its address), with
workers killed for real (SIGKILL) while they run.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from capaciteit.errors import ExecutorError
from capaciteit.io.model_writer import write_scenario_file
from capaciteit.io.scenario_files import load_scenario
from capaciteit.simulation.executors import (
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
)
from capaciteit.simulation.replications import replication_seeds, run_replication
from capaciteit.simulation.spec import SimSpec, compile_spec
from tests.conftest import EXAMPLE_MODEL

Output = tuple[pd.DataFrame, pd.DataFrame]

# --- tasks: module-level, picklable, pure functions of their arguments (and run files) ---


def _record_run(run_dir: str, index: int) -> None:
    """Leave one file per run of task ``index``: the test counts how often each ran."""
    (Path(run_dir) / f"run-{index}-{uuid.uuid4().hex}").touch()


def _runs(run_dir: Path) -> Counter[int]:
    return Counter(int(p.name.split("-")[1]) for p in run_dir.glob("run-*"))


def _slow_replication(delay_s: float, spec: SimSpec, seed: Any, replication: int) -> Output:
    time.sleep(delay_s)
    return run_replication(spec, seed, replication)


def _echo_after(delay_s: float, value: int) -> int:
    time.sleep(delay_s)
    return value


def _after_first_result(run_dir: str, wait: bool, value: int) -> int:
    """Return ``value``; with ``wait``, only once the caller has seen a result (30 s at most)."""
    seen = Path(run_dir) / "seen"
    deadline = time.monotonic() + 30.0
    while wait and not seen.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return value


def _dies_first_time(
    run_dir: str, dying: Sequence[int], spec: SimSpec, seed: Any, replication: int
) -> Output:
    """A replication whose worker process is killed the first time it runs, if ``dying``."""
    _record_run(run_dir, replication)
    if replication in dying:
        try:  # O_EXCL: exactly one run finds the marker missing
            os.close(os.open(Path(run_dir) / f"died-{replication}", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            pass
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    return run_replication(spec, seed, replication)


def _raises_on(run_dir: str, bad: int, value: int) -> int:
    _record_run(run_dir, value)
    if value == bad:
        raise ValueError(f"bad input {value}")
    return value


# --- fixtures and helpers ---


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> SimSpec:
    """The example region from its 0-meting, one year: ~0,02 s a replication."""
    folder = tmp_path_factory.mktemp("scenario")
    file = write_scenario_file(
        folder / "kort.yaml", EXAMPLE_MODEL, end_year=2023, initial_state="occupied"
    )
    return compile_spec(load_scenario(file))


def replication_args(spec: SimSpec, n: int, seed: int = 7) -> list[tuple[Any, ...]]:
    return [(spec, s, r) for r, s in enumerate(replication_seeds(seed, n))]


def assert_same_outputs(expected: Sequence[Output], actual: Sequence[Output]) -> None:
    assert len(actual) == len(expected)
    for (stays, kpis), (other_stays, other_kpis) in zip(expected, actual, strict=True):
        pd.testing.assert_frame_equal(stays, other_stays, check_exact=True)
        pd.testing.assert_frame_equal(kpis, other_kpis, check_exact=True)


# --- one seed, one answer ---


def test_same_seed_same_results_on_every_executor(spec: SimSpec, dask_cluster: Any) -> None:
    args = replication_args(spec, 6)
    serial = SerialExecutor().map(run_replication, args)
    # the replications differ from each other: equal results are not trivially equal
    assert not serial[0][0]["end_day"].equals(serial[1][0]["end_day"])
    for name in ("processes", "dask-local:2", f"dask://{dask_cluster.scheduler_address}"):
        assert_same_outputs(serial, make_executor(name, workers=2).map(run_replication, args))
    # streamed in completion order, put back by index: the same again
    streamed = dict(ProcessExecutor(2).stream(run_replication, args))
    assert_same_outputs(serial, [streamed[i] for i in range(len(args))])


# --- stream, map, progress ---


@pytest.mark.parametrize("name", ["serial", "processes", "dask-local:2"])
def test_stream_yields_every_index_once_in_completion_order(
    name: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # on two workers, task 0 finishes only after the caller saw another task's result
    parallel = name != "serial"
    args = [(str(tmp_path), parallel and i == 0, i * 10) for i in range(6)]
    executor = make_executor(name, workers=2)
    calls: list[int] = []

    def progress(k: int) -> None:
        calls.append(k)
        (tmp_path / "seen").touch()

    streamed = list(executor.stream(_after_first_result, args, progress))
    assert sorted(i for i, _ in streamed) == list(range(6))
    assert all(value == i * 10 for i, value in streamed)
    assert calls == [1, 2, 3, 4, 5, 6]
    if parallel:
        assert streamed[0][0] != 0  # completion order, not input order
    calls.clear()
    assert executor.map(_after_first_result, args, calls.append) == [i * 10 for i in range(6)]
    assert calls == [1, 2, 3, 4, 5, 6]
    err = capfd.readouterr().err
    assert "INFO" not in err, err  # a local Dask cluster keeps quiet on a CLI run


@pytest.mark.parametrize("name", ["processes", "dask-local:2"])
def test_stopping_a_stream_early_closes_the_workers(name: str) -> None:
    importlib.import_module("distributed")  # sets its logger's level on import
    children = set(multiprocessing.active_children())
    level = logging.getLogger("distributed").level
    stream = make_executor(name, workers=2).stream(_echo_after, [(0.05, i) for i in range(20)])
    next(stream)
    assert set(multiprocessing.active_children()) > children
    stream.close()
    assert set(multiprocessing.active_children()) <= children  # pool or local cluster gone
    assert logging.getLogger("distributed").level == level


# --- lost workers ---


def test_lost_worker_process_reruns_only_unfinished_tasks(spec: SimSpec, tmp_path: Path) -> None:
    args = replication_args(spec, 8)
    serial = SerialExecutor().map(run_replication, args)
    # the first task kills its worker at once; the last when the others are done
    dying = (0, 7)
    tasks = [(str(tmp_path), dying, *a) for a in args]
    calls: list[int] = []
    results: dict[int, Output] = {}
    runs_when_yielded: Counter[int] = Counter()
    for index, output in ProcessExecutor(2, retries=2).stream(
        _dies_first_time, tasks, calls.append
    ):
        results[index] = output
        runs_when_yielded[index] = _runs(tmp_path)[index]
    assert_same_outputs(serial, [results[i] for i in range(8)])
    assert calls == list(range(1, 9))
    assert all((tmp_path / f"died-{i}").exists() for i in dying)
    runs = _runs(tmp_path)
    assert runs[0] >= 2 and runs[7] >= 2  # two pools broke: three pools ran
    # a result once yielded is kept: its task never ran again in a later pool
    assert runs == runs_when_yielded


def test_lost_worker_process_without_retries_is_an_executor_error(
    spec: SimSpec, tmp_path: Path
) -> None:
    tasks = [(str(tmp_path), (2,), *a) for a in replication_args(spec, 4)]
    with pytest.raises(ExecutorError, match=r"werkproces ging verloren .* na 0 nieuwe pogingen"):
        ProcessExecutor(2, retries=0).map(_dies_first_time, tasks)


def test_dask_worker_killed_mid_run_loses_no_result(spec: SimSpec, dask_cluster: Any) -> None:
    from distributed import Client

    args = replication_args(spec, 40)
    serial = SerialExecutor().map(run_replication, args)
    with Client(dask_cluster) as client:
        client.wait_for_workers(2)
        pids = client.run(os.getpid)
        victim = next(iter(pids.values()))
        results: dict[int, Output] = {}
        executor = make_executor(f"dask://{dask_cluster.scheduler_address}")
        for index, output in executor.stream(_slow_replication, [(0.2, *a) for a in args]):
            results[index] = output
            if len(results) == 5:
                os.kill(victim, signal.SIGKILL)
        assert victim not in client.run(os.getpid).values()  # it died; the nanny restarted it
    assert sorted(results) == list(range(40))
    assert_same_outputs(serial, [results[i] for i in range(40)])


def test_local_dask_cluster_gives_up_after_retries_lost_workers(
    spec: SimSpec, tmp_path: Path
) -> None:
    tasks = [(str(tmp_path), (2,), *a) for a in replication_args(spec, 4)]
    # task 3 kills its worker; a task queued on that worker beside it counts a loss too
    with pytest.raises(ExecutorError, match=r"Dask-werker stopte elke keer dat hij taak \d van 4"):
        DaskExecutor(workers=2, retries=0).map(_dies_first_time, tasks)


# --- errors of the task itself ---


@pytest.mark.parametrize("executor", [SerialExecutor(), ProcessExecutor(2)], ids=lambda e: e.name)
def test_exception_of_the_task_propagates_without_retry(executor: Executor, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad input 3"):
        executor.map(_raises_on, [(str(tmp_path), 3, i) for i in range(6)])
    assert _runs(tmp_path)[3] == 1


def test_dask_retries_an_exception_of_the_task_then_raises_it(tmp_path: Path) -> None:
    executor = DaskExecutor(workers=2, retries=1)
    with pytest.raises(ValueError, match="bad input 3"):
        executor.map(_raises_on, [(str(tmp_path), 3, i) for i in range(6)])
    assert _runs(tmp_path)[3] == 2  # once, and once more for retries=1


# --- names ---


def test_make_executor_understands_local_dask_clusters() -> None:
    assert make_executor("dask-local:3").name == "dask-local:3"
    assert make_executor("dask-local", workers=2).name == "dask-local:2"
    assert make_executor("dask-local").name == f"dask-local:{os.cpu_count() or 1}"
    assert make_executor("dask://10.0.0.1:8786").name == "dask://10.0.0.1:8786"
    for bad in ("dask-local:0", "dask-local:x", "dask-local:"):
        with pytest.raises(ExecutorError, match="dask-local:N"):
            make_executor(bad)
    with pytest.raises(ExecutorError, match=r"dask-local\[:N\]"):
        make_executor("threads")
