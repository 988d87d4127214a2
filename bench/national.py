"""One national-scale run: 42 regions x 8 years (2023-2030) x 20 replications.

What is measured
----------------
The Netherlands has 42 jeugdregio's. There is one example region in the repository, so the
42 regions are variants of it: ``simulations/voorbeeldregio-basis.yaml`` is loaded and
compiled once (horizon 2023-2030, warm-up and initial state as in that file), and
region ``r`` gets a size factor ``f_r`` drawn deterministically from U(0.6, 1.6) (numpy
generator seeded with ``--seed``). Its referral rates (``arrival_segments.children_per_day``),
beds (``capacity``) and initial occupants (``initial_occupied``, capped at the beds) are
multiplied by ``f_r`` (beds and occupants rounded), via ``dataclasses.replace`` on the
frozen :class:`SimSpec`.

All 42 x 20 = 840 replications are submitted at once to the local process executor
(``make_executor("processes")``: forkserver workers, one per CPU unless ``--workers``), one
task per replication: ``run_replication(spec, seed, replication)``, which simulates the stays
and computes the KPIs and sends both back to this process (so pickling the spec and the
results is part of the time). Seeds: ``replication_seeds(seed + r, replications)`` for
region ``r``.

Printed: total wall time of the executor run, replications per second, stays simulated
(rows of all stays tables) and stays per second, and peak memory. Peak memory is given as
``resource.getrusage`` of this process (``RUSAGE_SELF``) and of its reaped children
(``RUSAGE_CHILDREN``), and, because the forkserver keeps running (so the workers it forks
and reaps are never reported to us by ``RUSAGE_CHILDREN``), also as the largest peak RSS
(``VmHWM`` in ``/proc``) of any worker process, sampled every 0.2 s while the run lasts.

Before the parallel run, ``--calibrate`` replications (default 12) run serially in this
process to give the single-core cost per replication and so the ideal time on the workers;
the ratio ideal / measured is printed as the parallel efficiency. ``--profile`` adds a
cProfile of one replication of an average-size region.

Target (from the issue): the whole run in at most 60 s on 2 cores.

Run ``python bench/national.py`` (about 1 minute on 2 idle cores) or ``--quick``.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import os
import pstats
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from capaciteit.io.scenario_files import load_scenario
from capaciteit.simulation import engine
from capaciteit.simulation.executors import make_executor
from capaciteit.simulation.kpis import replication_kpis
from capaciteit.simulation.replications import replication_seeds, run_replication
from capaciteit.simulation.spec import SimSpec, compile_spec

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "simulations" / "voorbeeldregio-basis.yaml"


def region_spec(base: SimSpec, region: int, factor: float) -> SimSpec:
    """Scale the example region by ``factor``: referrals, beds and initial occupants."""
    segments = base.arrival_segments.copy()
    segments["children_per_day"] = segments["children_per_day"] * factor
    capacity = (base.capacity * factor).round().astype("int64")
    occupied = (base.initial_occupied * factor).round().astype("int64")
    occupied = occupied.clip(upper=capacity[base.start_year]).astype("int64")
    return dataclasses.replace(
        base,
        name=f"{base.name} – regio {region + 1:02d} (x{factor:.2f})",
        arrival_segments=segments,
        capacity=capacity,
        initial_occupied=occupied,
    )


def region_factors(regions: int, seed: int) -> np.ndarray:
    """Deterministic size factors, uniform on [0.6, 1.6]."""
    return np.random.default_rng(seed).uniform(0.6, 1.6, regions)


class PeakRss:
    """Sample peak RSS (``VmHWM``) and CPU time of the worker processes from ``/proc``.

    Workers are all descendants of this process except the forkserver and the resource
    tracker of multiprocessing.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_kib: dict[int, int] = {}
        self.cpu_ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _descendants(self) -> list[tuple[int, int]]:
        children: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
        out, todo = [], [os.getpid()]
        while todo:
            parent = todo.pop()
            for child in children.get(parent, []):
                out.append((child, parent))
                todo.append(child)
        return out

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if not os.path.isdir("/proc"):
                return
            me = os.getpid()
            for pid, parent in self._descendants():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as fb:
                        cmdline = fb.read()
                    forkserver = parent == me and b"forkserver import main" in cmdline
                    if forkserver or b"resource_tracker" in cmdline:
                        continue  # helpers, not workers (workers inherit the cmdline)
                    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                    self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
                    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                        for line in fh:
                            if line.startswith("VmHWM:"):
                                kib = int(line.split()[1])
                                self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), kib)
                                break
                except (OSError, ValueError):
                    continue

    @property
    def cpu_seconds(self) -> float:
        """CPU seconds used by descendants, as last sampled (misses < ``interval`` each)."""
        return sum(self.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")

    @property
    def max_mib(self) -> float:
        """Largest peak RSS of any one worker, MiB."""
        return max(self.peak_kib.values(), default=0) / 1024


def phases(spec: SimSpec, seed: np.random.SeedSequence, repeat: int = 5) -> list[tuple[str, float]]:
    """Seconds of the parts of one replication (the repeat with the lowest total).

    ``simulate_stays`` is timed with a subclass of the engine's ``_Run`` swapped in for the
    duration, which times its constructor and ``run``; the engine itself is not changed.
    """
    times: dict[str, float] = {}

    class TimedRun(engine._Run):
        def __init__(self, *a: object) -> None:
            t = time.perf_counter()
            super().__init__(*a)  # type: ignore[arg-type]
            times["init"] = time.perf_counter() - t

        def run(self) -> list[list[object]]:
            t = time.perf_counter()
            out = super().run()
            times["run"] = time.perf_counter() - t
            return out

    original = engine._Run
    best: list[tuple[str, float]] = []
    best_total = float("inf")
    try:
        engine._Run = TimedRun  # type: ignore[misc]
        for _ in range(repeat):
            t0 = time.perf_counter()
            stays = engine.simulate_stays(spec, seed)
            t1 = time.perf_counter()
            replication_kpis(spec, stays)
            t2 = time.perf_counter()
            if t2 - t0 < best_total:
                best_total = t2 - t0
                best = [
                    ("_Run.__init__ (spec tables -> lists, rngs)", times["init"]),
                    ("_Run.run (SimPy event loop)", times["run"]),
                    ("stays list -> DataFrame", (t1 - t0) - times["init"] - times["run"]),
                    ("replication_kpis", t2 - t1),
                ]
    finally:
        engine._Run = original  # type: ignore[misc]
    return best


def profile_one(spec: SimSpec, seed: np.random.SeedSequence, top: int) -> str:
    """Return the cProfile of one replication, by internal time."""
    prof = cProfile.Profile()
    prof.enable()
    run_replication(spec, seed, 0)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(top)
    return buf.getvalue()


def environment() -> str:
    """One line: versions, git commit of the checkout (``+dirty`` if src/ has changes)."""
    import platform
    import subprocess

    import simpy

    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        rev += "+dirty" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        rev = "unknown"
    return (
        f"python {platform.python_version()}, simpy {simpy.__version__}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, commit {rev}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 regions x 4 replications")
    parser.add_argument("--regions", type=int, default=None, help="regions (default 42)")
    parser.add_argument(
        "--replications", type=int, default=None, help="replications per region (default 20)"
    )
    parser.add_argument("--executor", default="processes", help="serial, processes, dask://…")
    parser.add_argument("--workers", type=int, default=None, help="worker processes")
    parser.add_argument("--seed", type=int, default=20230101)
    parser.add_argument(
        "--calibrate", type=int, default=12, help="serial replications timed first (0: skip)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile one replication")
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    args = parser.parse_args(argv)
    regions = args.regions or (6 if args.quick else 42)
    reps = args.replications or (4 if args.quick else 20)

    t0 = time.perf_counter()
    base = compile_spec(load_scenario(args.scenario))
    factors = region_factors(regions, args.seed)
    specs = [region_spec(base, r, f) for r, f in enumerate(factors)]
    tasks = [
        (spec, seed, k)
        for r, spec in enumerate(specs)
        for k, seed in enumerate(replication_seeds(args.seed + r, reps))
    ]
    t_setup = time.perf_counter() - t0
    executor = make_executor(args.executor, args.workers)
    workers = getattr(executor, "workers", 1)
    n_tasks = len(tasks)
    print(
        f"{regions} regions x {base.start_year}-{base.end_year} ({len(base.years)} years, "
        f"warm-up {base.warm_up_days:g} days) x {reps} replications = {n_tasks} replications "
        f"on '{executor.name}' ({workers} workers, {os.cpu_count()} CPUs); size factors "
        f"{factors.min():.2f}-{factors.max():.2f} (mean {factors.mean():.2f}); "
        f"setup {t_setup:.2f} s",
        flush=True,
    )

    # ------------------------------------------------------------ serial calibration
    per_rep = float("nan")
    if args.calibrate > 0:
        sample = tasks[:: max(1, n_tasks // args.calibrate)][: args.calibrate]
        c0 = time.perf_counter()
        for task in sample:
            run_replication(*task)
        per_rep = (time.perf_counter() - c0) / len(sample)
        print(
            f"serial calibration: {len(sample)} replications, {per_rep * 1000:.0f} ms each "
            "(regions of mixed size)",
            flush=True,
        )

    # ------------------------------------------------------------ the national run
    load_before = os.getloadavg()[0]
    done = [0]

    def progress(k: int) -> None:
        done[0] = k
        if k % max(1, n_tasks // 10) == 0 or k == n_tasks:
            print(f"  {k}/{n_tasks} done, {time.perf_counter() - w0:.1f} s", flush=True)

    with PeakRss() as peak:
        w0 = time.perf_counter()
        c_self0 = resource.getrusage(resource.RUSAGE_SELF)
        outputs = executor.map(run_replication, tasks, progress)
        wall = time.perf_counter() - w0
    load_after = os.getloadavg()[0]

    stays = sum(len(s) for s, _ in outputs)
    kpi_rows = sum(len(k) for _, k in outputs)
    per_region = np.array([len(s) for s, _ in outputs]).reshape(regions, reps).mean(axis=1)
    self_usage = resource.getrusage(resource.RUSAGE_SELF)
    child_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Only now start subprocesses (git): a forked child reports its parent's RSS at fork
    # time as its own peak, which would pollute RUSAGE_CHILDREN.
    env_line = environment()
    self_cpu = (self_usage.ru_utime + self_usage.ru_stime) - (c_self0.ru_utime + c_self0.ru_stime)
    ideal = per_rep * n_tasks / max(1, min(workers, os.cpu_count() or 1))

    # A small table per region size band.
    bands = pd.cut(factors, [0.6, 0.85, 1.1, 1.35, 1.6], include_lowest=True)
    table = (
        pd.DataFrame({"size factor": bands, "stays per replication": per_region})
        .groupby("size factor", observed=True)["stays per replication"]
        .agg(["count", "mean"])
        .rename(columns={"count": "regions", "mean": "stays/replication"})
    )
    print()
    print(table.to_string(float_format=lambda x: f"{x:,.0f}"))
    print()
    rows = [
        ("environment", env_line),
        ("replications", f"{n_tasks:,d}"),
        ("wall time (executor.map)", f"{wall:.1f} s"),
        ("replications/s", f"{n_tasks / wall:.2f}"),
        ("stays simulated", f"{stays:,d}"),
        ("stays/s", f"{stays / wall:,.0f}"),
        ("KPI rows returned", f"{kpi_rows:,d}"),
        ("serial cost per replication", f"{per_rep * 1000:.0f} ms"),
        ("ideal wall on the workers", f"{ideal:.1f} s (efficiency {ideal / wall:.0%})"),
        ("CPU of this process during run", f"{self_cpu:.1f} s"),
        (
            "CPU of the workers (sampled)",
            f"{peak.cpu_seconds:.1f} s = {peak.cpu_seconds / n_tasks * 1000:.0f} ms/replication"
            f" -> {peak.cpu_seconds / max(1, workers):.1f} s on {workers} free cores",
        ),
        ("peak RSS, this process", f"{self_usage.ru_maxrss / 1024:,.0f} MiB (getrusage SELF)"),
        (
            "peak RSS, reaped children",
            f"{child_usage.ru_maxrss / 1024:,.0f} MiB (getrusage CHILDREN)",
        ),
        ("peak RSS, largest worker", f"{peak.max_mib:,.0f} MiB (/proc VmHWM, sampled)"),
        ("1-min load before/after", f"{load_before:.2f} / {load_after:.2f}"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")

    if args.profile:
        mid = int(np.argmin(np.abs(factors - 1.0)))
        seed = replication_seeds(args.seed + mid, 1)[0]
        print(f"\nOne replication of region {mid + 1} (x{factors[mid]:.2f}), serial, best of 5:")
        parts = phases(specs[mid], seed)
        total = sum(v for _, v in parts)
        for key, value in parts:
            print(f"  {key:<44} {value * 1000:7.1f} ms  {value / total:5.1%}")
        print(f"  {'total':<44} {total * 1000:7.1f} ms")
        print("\ncProfile of the same replication (top 20 by internal time):")
        print(profile_one(specs[mid], seed, 20))

    target = "met" if wall <= 60 else "NOT met"
    print(
        f"RESULT national {regions}x{len(base.years)}y x{reps}: {wall:.1f} s wall, "
        f"{n_tasks / wall:.2f} replications/s, {stays:,d} stays, {stays / wall:,.0f} stays/s, "
        f"peak RSS {self_usage.ru_maxrss / 1024:,.0f} MiB main / {peak.max_mib:,.0f} MiB worker "
        f"(target <= 60 s: {target})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
