"""Replications that advance year by year, and try other beds for the coming year.

A search for the fewest beds per year needs, for every candidate, the service levels of one
year *from the state the earlier years left behind*. Re-simulating from the 0-meting for
every candidate would cost the whole history each time; instead every replication is a run
paused at 1 January of the year being decided (:class:`Shard` holds a group of them). A
candidate is tried on a :meth:`~capaciteit.simulation.engine._Run.fork` of each paused run:
same young people, same open stays and waiting lists, same random streams (common random
numbers), so two candidates differ only by their beds. When the year is decided, the paused
runs go on through it with the chosen beds (:meth:`Shard.commit`). Running on in steps gives
exactly the stays one uninterrupted run with those beds gives (tested).

Shards run in this process, in worker processes that keep their runs between calls
(:class:`ProcessShards`), or as Dask actors (:class:`DaskShards`); a replication's numbers
depend only on its seed and the beds, so every way gives the same results.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from capaciteit.domain.norms import Norm
from capaciteit.simulation.engine import _Run, collector_paused
from capaciteit.simulation.measures import StayColumns, blocking_days, measure_norms
from capaciteit.simulation.spec import SimSpec

Beds = dict[str, list[int]]
"""Beds per care form for one year, per provider slot (in the spec's provider order)."""


@dataclass(frozen=True)
class Trial:
    """What one candidate gave in each replication of a shard.

    ``values``, ``trials`` and ``intrinsic`` are (replications x norms) (see
    :func:`~capaciteit.simulation.measures.measure_norms`); ``blocking`` is
    (replications x forms x forms): days young people of the first form spent in its beds
    waiting for the second, within the year.
    """

    values: np.ndarray
    trials: np.ndarray
    intrinsic: np.ndarray
    blocking: np.ndarray


class Shard:
    """Paused runs of some replications, all at 1 January of the same year."""

    def __init__(self, spec: SimSpec, seeds: Sequence[np.random.SeedSequence]) -> None:
        self.spec = spec
        self.forms = [str(f) for f in spec.care_forms.index]
        self.bounds = spec.year_start_day.to_numpy(dtype="float64")
        self.runs = [_Run(spec, s) for s in seeds]
        for run in self.runs:
            run.run_until(float(self.bounds[0]))
        self.year = 0

    def _apply(self, run: _Run, beds: Beds) -> None:
        for fid, slots in beds.items():
            rows = run.capacity_by_year[run.form_index[fid]]
            for slot, value in enumerate(slots):
                rows[slot][self.year] = int(value)

    def evaluate(self, candidates: Sequence[Beds], norms: Sequence[Norm]) -> list[Trial]:
        """Try each candidate's beds for the current year; measure the norms over it."""
        a, b = float(self.bounds[self.year]), float(self.bounds[self.year + 1])
        n_forms = len(self.forms)
        out = []
        for beds in candidates:
            totals = {f: float(sum(v)) for f, v in beds.items()}
            values = np.full((len(self.runs), len(norms)), np.nan)
            trials = np.zeros((len(self.runs), len(norms)))
            intrinsic = np.full((len(self.runs), len(norms)), np.nan)
            blocking = np.zeros((len(self.runs), n_forms, n_forms))
            for r, run in enumerate(self.runs):
                with collector_paused():
                    fork = run.fork()
                    self._apply(fork, beds)
                    fork.run_until(b)
                cols = StayColumns.from_records(fork.stays)
                values[r], trials[r], intrinsic[r] = measure_norms(
                    cols, norms, self.forms, (a, b), totals
                )
                blocking[r] = blocking_days(cols, n_forms, a, b)
            out.append(Trial(values, trials, intrinsic, blocking))
        return out

    def commit(self, beds: Beds) -> None:
        """Go on through the current year with ``beds``; pause at the next 1 January."""
        b = float(self.bounds[self.year + 1])
        for run in self.runs:
            self._apply(run, beds)
            with collector_paused():
                run.run_until(b)
            run.compact()
        self.year += 1


class Shards(Protocol):
    """All replications, split into shards that may live elsewhere."""

    def evaluate(self, candidates: Sequence[Beds], norms: Sequence[Norm]) -> list[Trial]:
        """Try every candidate in every replication; rows in replication order."""
        ...

    def commit(self, beds: Beds) -> None:
        """Go on through the current year with ``beds``."""
        ...

    def close(self) -> None:
        """Free the workers."""
        ...


def _join(parts: list[list[Trial]]) -> list[Trial]:
    """Stack the shards' trials per candidate, in replication order."""
    return [
        Trial(
            np.concatenate([p[i].values for p in parts]),
            np.concatenate([p[i].trials for p in parts]),
            np.concatenate([p[i].intrinsic for p in parts]),
            np.concatenate([p[i].blocking for p in parts]),
        )
        for i in range(len(parts[0]))
    ]


class LocalShards:
    """One shard with every replication, in this process."""

    def __init__(self, spec: SimSpec, seeds: Sequence[np.random.SeedSequence]) -> None:
        self.shard = Shard(spec, seeds)

    def evaluate(self, candidates: Sequence[Beds], norms: Sequence[Norm]) -> list[Trial]:
        """Try every candidate in every replication."""
        return self.shard.evaluate(candidates, norms)

    def commit(self, beds: Beds) -> None:
        """Go on through the current year with ``beds``."""
        self.shard.commit(beds)

    def close(self) -> None:
        """Nothing to free."""


_WORKER_SHARD: Shard | None = None


def _worker_start(spec: SimSpec, seeds: Sequence[np.random.SeedSequence]) -> int:
    global _WORKER_SHARD
    _WORKER_SHARD = Shard(spec, seeds)
    return len(seeds)


def _worker_evaluate(candidates: Sequence[Beds], norms: Sequence[Norm]) -> list[Trial]:
    assert _WORKER_SHARD is not None
    return _WORKER_SHARD.evaluate(candidates, norms)


def _worker_commit(beds: Beds) -> None:
    assert _WORKER_SHARD is not None
    _WORKER_SHARD.commit(beds)


def _split(seeds: Sequence[np.random.SeedSequence], parts: int) -> list[list[Any]]:
    """Consecutive groups of seeds (replication order is kept when joined)."""
    chunks = np.array_split(np.arange(len(seeds)), parts)
    return [[seeds[i] for i in c] for c in chunks if len(c)]


class ProcessShards:
    """Shards in local worker processes, one process per shard, kept for the whole search.

    Each worker is its own one-process pool, so a shard's runs stay in the same process
    from call to call.
    """

    def __init__(
        self, spec: SimSpec, seeds: Sequence[np.random.SeedSequence], workers: int
    ) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["capaciteit.simulation.stepping"])
        groups = _split(seeds, max(1, min(workers, len(seeds))))
        self.pools = [ProcessPoolExecutor(max_workers=1, mp_context=ctx) for _ in groups]
        started = [
            p.submit(_worker_start, spec, g) for p, g in zip(self.pools, groups, strict=True)
        ]
        for f in started:
            f.result()

    def evaluate(self, candidates: Sequence[Beds], norms: Sequence[Norm]) -> list[Trial]:
        """Try every candidate in every replication (shards in parallel)."""
        futures = [p.submit(_worker_evaluate, list(candidates), list(norms)) for p in self.pools]
        return _join([f.result() for f in futures])

    def commit(self, beds: Beds) -> None:
        """Go on through the current year with ``beds`` (shards in parallel)."""
        for f in [p.submit(_worker_commit, beds) for p in self.pools]:
            f.result()

    def close(self) -> None:
        """Stop the worker processes."""
        for p in self.pools:
            p.shutdown(wait=True, cancel_futures=True)


class DaskShards:
    """Shards as Dask actors on a cluster (each actor keeps its runs between calls)."""

    def __init__(
        self, spec: SimSpec, seeds: Sequence[np.random.SeedSequence], address: str
    ) -> None:
        from distributed import Client

        self.client = Client(address, timeout="10s")
        workers = max(1, len(self.client.scheduler_info().get("workers", {})))
        groups = _split(seeds, max(1, min(workers, len(seeds))))
        futures = [self.client.submit(Shard, spec, g, actor=True, pure=False) for g in groups]
        self.actors = [f.result() for f in futures]

    def evaluate(self, candidates: Sequence[Beds], norms: Sequence[Norm]) -> list[Trial]:
        """Try every candidate in every replication (actors in parallel)."""
        # an actor's method returns a future of its result
        actors: list[Any] = self.actors
        calls = [a.evaluate(list(candidates), list(norms)) for a in actors]
        return _join([c.result() for c in calls])

    def commit(self, beds: Beds) -> None:
        """Go on through the current year with ``beds``."""
        actors: list[Any] = self.actors
        calls = [a.commit(beds) for a in actors]
        for c in calls:
            c.result()

    def close(self) -> None:
        """Let the actors go and disconnect."""
        self.actors = []
        self.client.close()


def measure_whole_run(
    spec: SimSpec,
    seed: np.random.SeedSequence,
    norms: Sequence[Norm],
    window: tuple[float, float],
    beds: dict[str, float],
) -> Trial:
    """Simulate one replication of ``spec`` and measure the norms over ``window``."""
    run = _Run(spec, seed)
    with collector_paused():
        records = run.run()
    forms = [str(f) for f in spec.care_forms.index]
    cols = StayColumns.from_records(records)
    values, trials, intrinsic = measure_norms(cols, norms, forms, window, beds)
    blocking = blocking_days(cols, len(forms), *window)
    return Trial(values[None], trials[None], intrinsic[None], blocking[None])


def stack(trials: Sequence[Trial]) -> Trial:
    """One trial from the trials of single replications (in their order)."""
    return _join([[t] for t in trials])[0]
