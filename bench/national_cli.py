"""The national run as users run it: 42 regions with 11 shared pools, through the CLI.

What is measured
----------------
1. **The CLI** (``capaciteit national simulate simulations/nederland-basis.yaml
   --replications 20``): 42 jeugdregio's x 8 years x 20 replications, JeugdzorgPlus in 11
   bovenregionale pools, on local processes (``--workers``, default 2), from reading the
   42 region models to the written report (workbook, CSVs, charts, summary.json). Wall
   time of the command, and the peak of the summed resident memory (RSS) of the command
   and every process under it (workers, forkserver), sampled every 0.1 s from ``/proc``:
   what the machine must have free, not one process's share.
2. **The peer**, in the same run under the same conditions (the same workers, the
   collector paused in the tasks as in the national tasks): the same 42 regions, each
   simulated *alone* (its JeugdzorgPlus as its own form, no pools), one task per region and
   replication, returning its KPIs only. That is the simulation's floor; the ratio CLI /
   peer is what loading, pooling, per-pool counting, aggregation and the report add.
3. **Dask scaling** (``--dask``): ``run_national`` with 100 replications (``--dask-reps``)
   on a ``LocalCluster`` of 1 and of 2 worker processes (``dask-local:1`` and
   ``dask-local:2``, one thread each), each started for its run; parallel efficiency
   T1 / (2 x T2). The same seed gives the same KPIs on both (checked).

Targets (issue 16): the CLI run at most 60 s and 1 GB on 2 cores.

Run ``python bench/national_cli.py`` (about 2 minutes), ``--dask`` adds about 10 minutes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "simulations" / "nederland-basis.yaml"
CLI = Path(sys.executable).parent / "capaciteit"


class TreeRss:
    """Sample the summed RSS of a process and all its descendants; keep the peak."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[int]:
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
        out, todo = [self.pid], [self.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                out.append(child)
                todo.append(child)
        return out

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            total = 0
            for pid in self._tree():
                try:
                    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                        for line in fh:
                            if line.startswith("VmRSS:"):
                                total += int(line.split()[1])
                                break
                except OSError:
                    continue
            self.peak_kib = max(self.peak_kib, total)


def cli_run(replications: int, workers: int, out: Path) -> tuple[float, float]:
    """Run the CLI; return wall seconds and peak MiB of its process tree."""
    env = {**os.environ, "CAPACITEIT_EXECUTOR": "processes", "CAPACITEIT_WORKERS": str(workers)}
    command = [
        str(CLI),
        "national",
        "simulate",
        str(SCENARIO),
        "--replications",
        str(replications),
        "--out",
        str(out),
        "--quiet",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with TreeRss(process.pid) as rss:
        stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    if process.returncode:
        sys.stderr.write(stderr.decode() + stdout.decode())
        raise SystemExit(f"the CLI failed ({process.returncode})")
    return elapsed, rss.peak_kib / 1024


def alone_task(spec: object, seed: np.random.SeedSequence) -> int:
    """Simulate one region alone and compute its KPIs (the peer's task)."""
    from capaciteit.simulation.engine import collector_paused, simulate_stays
    from capaciteit.simulation.kpis import replication_kpis
    from capaciteit.simulation.spec import SimSpec

    assert isinstance(spec, SimSpec)
    with collector_paused():
        stays = simulate_stays(spec, seed)
        replication_kpis(spec, stays)
    return len(stays)


def peer_run(replications: int, workers: int) -> tuple[float, int]:
    """Run the 42 regions alone on the same workers; return wall seconds and stays."""
    from capaciteit.io.national_files import load_national_scenario
    from capaciteit.simulation.executors import ProcessExecutor
    from capaciteit.simulation.replications import replication_seeds
    from capaciteit.simulation.spec import compile_spec

    model = load_national_scenario(SCENARIO).model
    specs = [compile_spec(model.scenarios[r]) for r in model.region_ids]
    args = [
        (spec, s)
        for i, spec in enumerate(specs)
        for s in replication_seeds(20230101 + i, replications)
    ]
    started = time.perf_counter()
    counts = ProcessExecutor(workers).map(alone_task, args, None)
    return time.perf_counter() - started, sum(counts)


def dask_run(replications: int, workers: int) -> tuple[float, pd.DataFrame]:
    """``run_national`` on a local Dask cluster of ``workers``; seconds and KPIs."""
    from capaciteit.io.national_files import load_national_scenario
    from capaciteit.national.run import run_national
    from capaciteit.simulation.executors import make_executor

    scenario = load_national_scenario(SCENARIO)
    started = time.perf_counter()
    outcome = run_national(
        scenario, make_executor(f"dask-local:{workers}"), replications=replications
    )
    return time.perf_counter() - started, outcome.kpis


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dask", action="store_true", help="also the Dask scaling run")
    parser.add_argument("--dask-reps", type=int, default=100)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        cli_s, cli_mib = cli_run(args.replications, args.workers, Path(tmp) / "out")
    peer_s, stays = peer_run(args.replications, args.workers)
    print(f"1-minute load before: {load:.1f}; {os.cpu_count()} CPUs")
    print(
        f"CLI national simulate, 42 regions x 8 years x {args.replications} replications, "
        f"{args.workers} workers: {cli_s:.1f} s, peak RSS of all its processes "
        f"{cli_mib:.0f} MiB (targets 60 s, 1024 MiB)"
    )
    print(
        f"peer: the 42 regions alone, the same replications on the same workers: "
        f"{peer_s:.1f} s ({stays:,} stays); CLI / peer {cli_s / peer_s:.2f}"
    )
    if args.dask:
        t1, k1 = dask_run(args.dask_reps, 1)
        t2, k2 = dask_run(args.dask_reps, 2)
        pd.testing.assert_frame_equal(k1, k2)
        print(
            f"Dask LocalCluster, {args.dask_reps} replications: 1 worker {t1:.1f} s, "
            f"2 workers {t2:.1f} s; speed-up {t1 / t2:.2f}, efficiency {t1 / (2 * t2):.2f} "
            "(the same KPIs on both)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
