"""Where replications run: in this process, in local worker processes, or on Dask.

Every executor maps one picklable function over a list of argument tuples and returns the
results in input order, whatever order they finished in. A replication's result depends
only on its arguments (the spec and its own ``SeedSequence``), so the same seed gives the
same numbers on every executor.

Local processes are started with ``forkserver`` (no thread state of the parent is copied).
As with every start method but ``fork``, a script that runs replications on processes must
keep its top-level code under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from capaciteit.errors import ExecutorError

T = TypeVar("T")
Progress = Callable[[int], None]


class Executor(Protocol):
    """Runs ``fn(*args)`` for every argument tuple; results in input order."""

    name: str

    def map(
        self, fn: Callable[..., T], args: Sequence[tuple[Any, ...]], progress: Progress | None
    ) -> list[T]:
        """Run all tasks; call ``progress(k)`` after each of them finishes."""
        ...


class SerialExecutor:
    """Everything in this process, one after the other."""

    name = "serial"

    def map(
        self, fn: Callable[..., T], args: Sequence[tuple[Any, ...]], progress: Progress | None
    ) -> list[T]:
        """Run all tasks in order."""
        out = []
        for i, a in enumerate(args):
            out.append(fn(*a))
            if progress:
                progress(i + 1)
        return out


class ProcessExecutor:
    """Local worker processes (forkserver, so that no thread state is copied)."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map(
        self, fn: Callable[..., T], args: Sequence[tuple[Any, ...]], progress: Progress | None
    ) -> list[T]:
        """Run all tasks on up to ``workers`` processes."""
        if len(args) <= 1 or self.workers == 1:
            return SerialExecutor().map(fn, args, progress)
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["capaciteit.simulation.replications"])
        results: list[Any] = [None] * len(args)
        with ProcessPoolExecutor(max_workers=min(self.workers, len(args)), mp_context=ctx) as pool:
            futures = {pool.submit(fn, *a): i for i, a in enumerate(args)}
            pending = set(futures)
            done_count = 0
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    results[futures[fut]] = fut.result()
                    done_count += 1
                    if progress:
                        progress(done_count)
        return results


class DaskExecutor:
    """A Dask distributed cluster, given the scheduler address (``dask://HOST:PORT``)."""

    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self.name = f"dask://{address.removeprefix('tcp://')}"

    def map(
        self, fn: Callable[..., T], args: Sequence[tuple[Any, ...]], progress: Progress | None
    ) -> list[T]:
        """Submit every task to the cluster and gather the results in input order."""
        try:
            from distributed import Client, as_completed
        except ImportError as exc:  # pragma: no cover - distributed is a dependency
            raise ExecutorError("the Dask executor needs the package 'distributed'") from exc
        try:
            client = Client(self.address, timeout=f"{self.timeout_s}s")
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {self.address} ({exc}). "
                "Check the address (dask://HOST:PORT) and that the scheduler runs."
            ) from exc
        try:
            futures = [client.submit(fn, *a, pure=False) for a in args]
            index = {f.key: i for i, f in enumerate(futures)}
            results: list[Any] = [None] * len(args)
            for k, fut in enumerate(as_completed(futures), start=1):
                results[index[fut.key]] = fut.result()
                if progress:
                    progress(k)
            return results
        finally:
            client.close()


def make_executor(spec: str = "processes", workers: int | None = None) -> Executor:
    """Build an executor from ``serial``, ``processes`` or ``dask://HOST:PORT``.

    ``workers``: local processes (default: one per CPU). The command line reads the
    defaults from the settings (``CAPACITEIT_EXECUTOR``, ``CAPACITEIT_WORKERS``).
    """
    if spec == "serial":
        return SerialExecutor()
    if spec == "processes":
        return ProcessExecutor(workers)
    if spec.startswith("dask://"):
        address = spec.removeprefix("dask://")
        if not address:
            raise ExecutorError("give the scheduler as dask://HOST:PORT")
        return DaskExecutor(f"tcp://{address}" if "://" not in address else address)
    raise ExecutorError(f"unknown executor '{spec}'. Use serial, processes or dask://HOST:PORT.")
