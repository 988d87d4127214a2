"""Where replications run: in this process, in local worker processes, or on Dask.

Concepts
--------
A **task** is one call ``fn(*args)`` of a picklable, module-level function. A task is a
pure function of its arguments: a replication gets the spec and its own
``numpy.random.SeedSequence`` and nothing about where it runs, so the same seed gives the
same numbers on every executor, in any order of completion.

An **executor** runs a list of tasks somewhere and **streams** the results back:
:meth:`Executor.stream` yields ``(index, result)`` as each task finishes, in completion
order, so a caller can fold results into totals as they arrive and never hold them all
(a national run: 42 regions times the replications). :meth:`Executor.map` collects the
stream into a list in input order, for callers that want everything at once.

Think of a launderette: you hand in numbered bags and collect each one as it is done,
whatever the order. When a machine breaks down, the bags that were in it are washed
again in another machine; a bag that ruins every machine is handed back with an apology
after a few tries, and the other bags are not lost.

**Lost workers and retries.** A worker can be lost while a task runs: the out-of-memory
killer, a crashed machine, an ``os.kill``. Such a task is run again, up to ``retries``
times, without losing the results that already came back:

- :class:`ProcessExecutor`: a lost process breaks the whole pool
  (``BrokenProcessPool``, every unfinished task fails with it). A new pool is started
  and only the unfinished tasks are submitted again; after ``retries`` new pools
  :class:`~capaciteit.errors.ExecutorError` is raised. An exception raised by the task
  itself (a bug or bad input) is not retried: it is re-raised at once.
- :class:`DaskExecutor`: Dask reschedules the tasks of a lost worker by itself (a result
  held only by the lost worker is computed again too); the scheduler gives up on a task
  when its worker died more than ``allowed-failures`` times
  (``distributed.scheduler.allowed-failures``, 3 by default; ``retries`` on a local
  cluster), and this executor then raises ``ExecutorError``. Tasks are submitted with
  ``retries=``, which in Dask also re-runs a task that *raised*: an exception from the
  task itself is re-raised only after ``retries`` more attempts failed the same way.

**Executors.** :class:`SerialExecutor` (this process), :class:`ProcessExecutor` (local
processes started with ``forkserver``, so no thread state of the parent is copied) and
:class:`DaskExecutor` (a scheduler at ``dask://HOST:PORT``, or a ``LocalCluster`` that
lives for one stream: ``dask-local`` or ``dask-local:N``). :func:`make_executor` builds
one from such a name. As with every start method but ``fork``, a script that runs
replications on processes or on a local Dask cluster must keep its top-level code under
``if __name__ == "__main__":``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from capaciteit.core import nl
from capaciteit.errors import ExecutorError

T = TypeVar("T")
Progress = Callable[[int], None]
"""Called with ``k`` after the ``k``-th task finished (1, 2, ..., n)."""

DEFAULT_RETRIES = 2
"""Times a task whose worker was lost is run again."""


class Executor(Protocol):
    """Runs ``fn(*args)`` for every argument tuple; streams or collects the results."""

    name: str

    def stream(
        self,
        fn: Callable[..., T],
        args: Sequence[tuple[Any, ...]],
        progress: Progress | None = None,
    ) -> Generator[tuple[int, T], None, None]:
        """Yield ``(index, result)`` as each task finishes, in completion order.

        Every index of ``args`` is yielded exactly once; ``progress(k)`` is called just
        before the ``k``-th result is yielded. Nothing runs until the first ``next``.
        Closing the generator early (``close()``, or dropping it after a ``break``)
        cancels the tasks not yet started and shuts the pool or local cluster down.
        """
        ...

    def map(
        self,
        fn: Callable[..., T],
        args: Sequence[tuple[Any, ...]],
        progress: Progress | None = None,
    ) -> list[T]:
        """Run all tasks; return their results in input order (built on :meth:`stream`)."""
        results: list[Any] = [None] * len(args)
        for index, result in self.stream(fn, args, progress):
            results[index] = result
        return results


class SerialExecutor(Executor):
    """Everything in this process, one after the other."""

    name = "serial"

    def stream(
        self,
        fn: Callable[..., T],
        args: Sequence[tuple[Any, ...]],
        progress: Progress | None = None,
    ) -> Generator[tuple[int, T], None, None]:
        """Run the tasks in input order; an exception from ``fn`` propagates at once."""
        for index, a in enumerate(args):
            result = fn(*a)
            if progress:
                progress(index + 1)
            yield index, result


class ProcessExecutor(Executor):
    """Local worker processes (forkserver), with a new pool when a worker is lost.

    Parameters
    ----------
    workers
        Processes at most (default: one per CPU). With one worker, or one task, the tasks
        run in this process, which nothing replaces if it is killed.
    retries
        New pools started after a lost worker before :class:`ExecutorError` is raised.
    """

    name = "processes"

    def __init__(self, workers: int | None = None, retries: int = DEFAULT_RETRIES) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.retries = retries

    def stream(
        self,
        fn: Callable[..., T],
        args: Sequence[tuple[Any, ...]],
        progress: Progress | None = None,
    ) -> Generator[tuple[int, T], None, None]:
        """Run the tasks on up to ``workers`` processes; yield each result as it arrives.

        Raises
        ------
        ExecutorError
            Workers were lost more than ``retries`` times.
        Exception
            Whatever ``fn`` raised, at once (other running tasks finish first).
        """
        if len(args) <= 1 or self.workers == 1:
            yield from SerialExecutor().stream(fn, args, progress)
            return
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["capaciteit.simulation.replications"])
        unfinished = dict(enumerate(args))
        finished = 0
        lost: BaseException | None = None
        for _ in range(self.retries + 1):
            pool = ProcessPoolExecutor(
                max_workers=min(self.workers, len(unfinished)), mp_context=ctx
            )
            try:
                futures = _submit(pool, fn, unfinished)
                pending = set(futures)
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = futures.pop(future)
                        if isinstance(future.exception(), BrokenProcessPool):
                            lost = future.exception()
                            continue  # stays unfinished: runs again in the next pool
                        result = future.result()  # re-raises an exception of fn as is
                        del unfinished[index]
                        finished += 1
                        if progress:
                            progress(finished)
                        yield index, result
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            if not unfinished:
                return
        raise ExecutorError(
            "een werkproces ging verloren (gestopt, bijvoorbeeld omdat het geheugen op was, "
            f"of het kon niet starten) en {len(unfinished)} van de {len(args)} taken waren "
            f"na {nl.plural(self.retries, 'nieuwe poging', 'nieuwe pogingen')} niet klaar. "
            "Gebruik minder werkprocessen (--workers) of een machine met meer geheugen."
        ) from lost


def _submit(
    pool: ProcessPoolExecutor, fn: Callable[..., T], tasks: dict[int, tuple[Any, ...]]
) -> dict[Future[T], int]:
    """Submit every task; stop quietly if the pool breaks while submitting.

    The tasks submitted before the break fail with ``BrokenProcessPool``; the others were
    never submitted. Both stay unfinished and run again in the next pool.
    """
    futures: dict[Future[T], int] = {}
    try:
        for index, a in tasks.items():
            futures[pool.submit(fn, *a)] = index
    except BrokenProcessPool:
        pass
    return futures


class DaskExecutor(Executor):
    """A Dask cluster: a scheduler's address, or a ``LocalCluster`` for one stream.

    Parameters
    ----------
    address
        Scheduler address (``tcp://HOST:PORT``); ``None`` starts a
        ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)`` when a
        stream starts and closes it when the stream ends.
    timeout_s
        Seconds to wait for the scheduler at ``address``.
    workers
        Workers of the local cluster (default: one per CPU); ignored with ``address``.
    retries
        Passed to ``Client.submit``: a task that raised runs again up to this many times.
        On the local cluster also the scheduler's ``allowed_failures``: a task whose
        worker died more often fails with :class:`ExecutorError`.
    """

    def __init__(
        self,
        address: str | None = None,
        timeout_s: float = 10.0,
        *,
        workers: int | None = None,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self.workers = workers or os.cpu_count() or 1
        self.retries = retries
        if address is None:
            self.name = f"dask-local:{self.workers}"
        else:
            self.name = f"dask://{address.removeprefix('tcp://')}"

    def stream(
        self,
        fn: Callable[..., T],
        args: Sequence[tuple[Any, ...]],
        progress: Progress | None = None,
    ) -> Generator[tuple[int, T], None, None]:
        """Submit every task; yield each result as it arrives, then close the client.

        Only the keys of the tasks not yet yielded are held here, so the cluster frees a
        result once it has been yielded.

        Raises
        ------
        ExecutorError
            The scheduler cannot be reached, or a task's workers died too often.
        Exception
            Whatever ``fn`` raised, after ``retries`` more attempts.
        """
        from distributed import KilledWorker, as_completed

        with self._client() as client:
            futures = [client.submit(fn, *a, pure=False, retries=self.retries) for a in args]
            index = {future.key: i for i, future in enumerate(futures)}
            completed = as_completed(futures, loop=client.loop)
            del futures
            for finished, future in enumerate(completed, start=1):
                try:
                    result = future.result()
                except KilledWorker as exc:
                    attempts = nl.plural(exc.allowed_failures + 1, "poging", "pogingen")
                    raise ExecutorError(
                        f"een Dask-werker stopte elke keer dat hij taak {index[future.key] + 1} "
                        f"van {len(args)} uitvoerde ({attempts}; bijvoorbeeld omdat het "
                        "geheugen op was). Geef de werkers meer geheugen of gebruik er "
                        "minder per machine."
                    ) from exc
                if progress:
                    progress(finished)
                yield index.pop(future.key), result

    @contextmanager
    def _client(self) -> Iterator[Any]:
        """Connect to the scheduler at ``address``, or to a new local cluster; close after.

        The client is not made Dask's default client: a caller's own client (a notebook,
        a test watching the cluster) keeps working, and nothing here looks up the default.
        """
        from distributed import Client, LocalCluster

        if self.address is None:
            with (
                _quiet_dask_logs(),
                LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.WARNING,
                    # no dashboard; its HTTP routes on a free port, not 8787
                    scheduler_kwargs={"allowed_failures": self.retries, "dashboard_address": ":0"},
                ) as cluster,
                Client(cluster, set_as_default=False) as client,
            ):
                yield client
            return
        try:
            client = Client(self.address, timeout=f"{self.timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"de Dask-scheduler op {self.address} is niet bereikbaar ({exc}). "
                "Controleer het adres (dask://HOST:PORT) en of de scheduler draait."
            ) from exc
        try:
            yield client
        finally:
            client.close()


@contextmanager
def _quiet_dask_logs() -> Iterator[None]:
    """Raise the ``distributed`` logger to WARNING for a while (no INFO on a CLI run)."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def make_executor(
    spec: str = "processes", workers: int | None = None, retries: int = DEFAULT_RETRIES
) -> Executor:
    """Build an executor from its name.

    Parameters
    ----------
    spec
        ``serial``, ``processes``, ``dask-local`` or ``dask-local:N`` (a local Dask
        cluster of ``N`` worker processes for each run) or ``dask://HOST:PORT``.
    workers
        Local processes, or workers of ``dask-local`` without ``:N`` (default: one per
        CPU). The command line reads the defaults from the settings
        (``CAPACITEIT_EXECUTOR``, ``CAPACITEIT_WORKERS``).
    retries
        Times a task whose worker was lost runs again (see the module docstring).
    """
    if spec == "serial":
        return SerialExecutor()
    if spec == "processes":
        return ProcessExecutor(workers, retries)
    if spec == "dask-local":
        return DaskExecutor(workers=workers, retries=retries)
    if spec.startswith("dask-local:"):
        count = spec.removeprefix("dask-local:")
        if not (count.isdecimal() and int(count) > 0):
            raise ExecutorError(
                f"'{count}' is geen aantal werkers. Gebruik dask-local of dask-local:N "
                "met N minstens 1, bijvoorbeeld dask-local:4."
            )
        return DaskExecutor(workers=int(count), retries=retries)
    if spec.startswith("dask://"):
        address = spec.removeprefix("dask://")
        if not address:
            raise ExecutorError("geef de scheduler op als dask://HOST:PORT")
        return DaskExecutor(
            f"tcp://{address}" if "://" not in address else address, retries=retries
        )
    raise ExecutorError(
        f"onbekende uitvoerder '{spec}'. Gebruik serial, processes, dask-local[:N] of "
        "dask://HOST:PORT."
    )
