"""Customers per second of the capaciteit engine against ciw on two equivalent models.

What is measured
----------------
Both simulators run the same queueing model for the same simulated time; the script reports
wall time, customers and customers per second for each, and the ratio ours / ciw. The target
(from the issue) is a ratio of at least 2.

*Customer* means one completed bed request: a stay that has left its bed before the end of
the run. For ciw that is one ``service`` record (ciw writes it when the individual leaves the
node, i.e. after any blocking); for us it is one row of the stays table with an ``end_day``.
In a network a young person moving a -> b -> c is three customers in both simulators.

Wall time covers everything needed to get the per-customer records: for us
``simulate_stays`` (building the run, simulating, building the stays DataFrame); for ciw
``create_network`` + ``Simulation`` + ``simulate_until_max_time`` + ``get_all_records``.
The ciw time without ``get_all_records`` is printed as well. Compiling our spec from files
(``load_scenario`` + ``compile_spec``) is done once, outside the timing: it is a fixed cost
per scenario, not per customer (it is printed too).

Each simulator runs ``--repeat`` times (default 3), alternating ours / ciw, with
``gc.collect()`` before each run and the same seed every time; the best (lowest) wall and
CPU time are kept, so that load from other processes disturbs the ratio as little as
possible. The ratio is given by wall time (the figure asked for) and by CPU time; the
1-minute load average before and after is printed, because on a shared 2-core machine
other work makes both simulators slower. ``--profile`` adds, for our engine, the time of
its phases with the cyclic garbage collector on and off, SimPy events per stay, and a
cProfile.

Models
------
1. **M/M/c**: one care form, policy ``queue`` (wait at home, FIFO, unlimited list), ``c``
   beds, Poisson arrivals at rate ``lam`` per day, exponential stays with mean 1 day, no
   warm-up, empty start. ciw: one node, ``c`` servers, infinite queue. As a check that the
   two simulate the same system, the mean wait of customers arriving after the first 5% of
   the run is printed next to the Erlang C value ``Wq = C(c, a) / (c mu - lam)``.

2. **Blocking network**: three forms, referrals only into ``a``; after a stay in ``a``:
   60% to ``b``, 20% to ``c``, 20% home; after ``b``: 50% to ``c``, 50% home; after ``c``
   home. Feed-forward, so ciw cannot deadlock. ``a`` has policy ``queue`` (new referrals
   wait at home, unlimited), ``b`` and ``c`` have policy ``block``: someone whose stay is
   over and who needs a full ``b`` or ``c`` keeps the current bed until a place frees, and
   the longest-blocked goes first. ciw: node 1 with infinite queue, nodes 2 and 3 with
   ``queue_capacities = 0``, which is ciw's blocking after service (type 1) with the
   blocked individuals released in blocking order.

   Differences that remain, and why they do not matter here:

   * our engine has no waiting room for blocked transfers other than the blocking bed
     itself; ciw could have one (a finite queue capacity > 0). We use capacity 0 so ciw has
     none either.
   * in our engine someone *without* a bed (a referral from home) who needs a ``block``
     form waits at home on the same list, whereas ciw would reject an external arrival at a
     full node with queue capacity 0. The model has no referrals into ``b`` or ``c``, so
     this never happens.
   * ours serves a form's waiting list by the priority of the form the person waits in;
     all forms have the same priority here, so it is first come first served, like ciw.
   * ours samples the stay at admission, ciw at the start of service: the same moment.

   Mean wait in ``a`` and mean blocked time of stays in ``a`` are printed for both as a
   check.

Random streams differ (numpy ``SeedSequence`` for us, ciw's ``random`` module), so the
figures agree within sampling error, not exactly.

Run ``python bench/sim_vs_ciw.py`` (about 1 minute on 2 cores; ``--profile`` about 2)
or ``--quick`` (a few seconds: 3 simulated years, one repeat).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import io
import math
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ciw
import numpy as np
import pandas as pd

from capaciteit.io.model_writer import write_model_dir, write_scenario_file
from capaciteit.io.scenario_files import load_scenario
from capaciteit.simulation import engine
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.spec import SimSpec, compile_spec

START_YEAR = 2023
WARM_SHARE = 0.05  # wait statistics ignore customers arriving in the first 5% of the run


# ----------------------------------------------------------------------------- theory
def erlang_c_wait(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C)."""
    a = lam / mu
    rho = a / c
    # Erlang B by the stable recursion, then C from B.
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    p_wait = b / (1 - rho + rho * b)
    return p_wait / (c * mu - lam)


# ----------------------------------------------------------------------------- our model
def build_spec(
    workdir: Path,
    name: str,
    forms: list[tuple[str, str, int]],
    routing: list[tuple[str, str, float]],
    lam: float,
    years: int,
) -> tuple[SimSpec, float]:
    """Write a model, compile it, and set a constant arrival rate into the first form.

    ``forms`` is ``(care_form, waiting_policy, beds)``; every stay is exponential with
    mean 1 day. Returns the spec and the time it took to write and compile it.
    """
    t0 = time.perf_counter()
    first = forms[0][0]
    model = write_model_dir(
        workdir / name,
        {
            "care_forms": [
                {"care_form": f, "name": f.upper(), "waiting_policy": p} for f, p, _ in forms
            ],
            "providers": [{"provider": "P", "name": "P"}],
            "beds": [{"provider": "P", "care_form": f, "beds": c} for f, _, c in forms],
            "instroom": [
                {
                    "care_form": f,
                    "year": START_YEAR,
                    "arrivals_per_year": lam * 365 if f == first else 0,
                }
                for f, _, _ in forms
            ],
            "los": [
                {"care_form": f, "distribution": "exponential", "mean_days": 1.0}
                for f, _, _ in forms
            ],
            "routing": [{"from_care_form": a, "to": b, "share": s} for a, b, s in routing],
            "costs": [
                {"care_form": f, "provider": "", "cost_per_bed_day_eur": 1} for f, _, _ in forms
            ],
        },
    )
    scenario = write_scenario_file(
        workdir / f"{name}.yaml",
        model,
        start_year=START_YEAR,
        end_year=START_YEAR + years - 1,
        warm_up_days=0,
        replications=1,
        seed=1,
    )
    spec = compile_spec(load_scenario(scenario))
    # One constant-rate segment: compile_spec divides the yearly instroom by 365 or 366
    # days, which would make the rate differ slightly in leap years.
    segments = pd.DataFrame(
        {
            "care_form": [f for f, _, _ in forms],
            "start_day": 0.0,
            "end_day": spec.end_day,
            "children_per_day": [lam if f == first else 0.0 for f, _, _ in forms],
        }
    )
    spec = dataclasses.replace(spec, arrival_segments=segments)
    return spec, time.perf_counter() - t0


def run_ours(spec: SimSpec, seed: int) -> tuple[float, float, pd.DataFrame]:
    """Run our engine; return (wall seconds, CPU seconds, stays)."""
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    stays = simulate_stays(spec, np.random.SeedSequence(seed))
    return time.perf_counter() - w0, time.process_time() - c0, stays


# ----------------------------------------------------------------------------- ciw model
def run_ciw(
    lam: float,
    servers: list[int],
    queue_caps: list[float],
    routing: list[list[float]],
    until: float,
    seed: int,
    gc_paused: bool = True,
) -> tuple[float, float, float, list[Any]]:
    """Run ciw; return (wall s, CPU s, wall s without get_all_records, service records).

    With ``gc_paused`` ciw runs as our engine does, with Python's cyclic garbage collector
    paused for the run (:func:`capaciteit.simulation.engine.collector_paused`): the same
    conditions for both.
    """
    gc.collect()
    if gc_paused:
        with engine.collector_paused():
            return _run_ciw(lam, servers, queue_caps, routing, until, seed)
    return _run_ciw(lam, servers, queue_caps, routing, until, seed)


def _run_ciw(
    lam: float,
    servers: list[int],
    queue_caps: list[float],
    routing: list[list[float]],
    until: float,
    seed: int,
) -> tuple[float, float, float, list[Any]]:
    w0, c0 = time.perf_counter(), time.process_time()
    ciw.seed(seed)
    n = len(servers)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam)] + [None] * (n - 1),
        service_distributions=[ciw.dists.Exponential(rate=1.0) for _ in range(n)],
        number_of_servers=servers,
        queue_capacities=queue_caps,
        routing=routing,
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(until)
    w_sim = time.perf_counter() - w0
    records = [r for r in sim.get_all_records() if r.record_type == "service"]
    return time.perf_counter() - w0, time.process_time() - c0, w_sim, records


# ----------------------------------------------------------------------------- figures
def our_completed(stays: pd.DataFrame) -> pd.DataFrame:
    return stays[stays["end_day"].notna() & stays["start_day"].notna()]


def batch_mean(arrival: np.ndarray, value: np.ndarray, after: float, until: float) -> str:
    """Mean of ``value`` over arrivals after ``after``, with a 95% batch-means interval.

    Waits in a busy queue are strongly correlated, so the interval comes from 20 batches of
    consecutive simulated time rather than from the individual waits.
    """
    keep = arrival >= after
    arrival, value = arrival[keep], value[keep]
    edges = np.linspace(after, until, 21)
    batch = np.clip(np.searchsorted(edges, arrival, side="right") - 1, 0, 19)
    means = np.array([value[batch == k].mean() for k in range(20)])
    half = 2.093 * means.std(ddof=1) / math.sqrt(20)  # t(0.975, 19 df)
    return f"{value.mean():.4f} ± {half:.4f}"


def our_wait(stays: pd.DataFrame, form: str, after: float, until: float) -> str:
    s = stays[(stays["care_form"] == form) & stays["start_day"].notna()]
    req = s["requested_day"].to_numpy()
    return batch_mean(req, s["start_day"].to_numpy() - req, after, until)


def our_blocked(stays: pd.DataFrame, form: str, after: float) -> float:
    s = our_completed(stays)
    s = s[(s["care_form"] == form) & (s["requested_day"] >= after)]
    return float((s["end_day"] - s["service_end_day"]).mean())


def ciw_wait(records: list[Any], node: int, after: float, until: float) -> str:
    rec = [r for r in records if r.node == node]
    arrival = np.array([r.arrival_date for r in rec])
    wait = np.array([r.waiting_time for r in rec])
    return batch_mean(arrival, wait, after, until)


def ciw_blocked(records: list[Any], node: int, after: float) -> float:
    w = [r.time_blocked for r in records if r.node == node and r.arrival_date >= after]
    return float(np.mean(w))


@dataclasses.dataclass
class Timing:
    """Best (lowest) wall and CPU time over the repeats, and the customers of a run."""

    wall: float = math.inf
    cpu: float = math.inf
    wall_sim_only: float = math.inf
    customers: int = 0

    def add(self, wall: float, cpu: float, customers: int, sim_only: float = math.inf) -> None:
        """Record one timed run."""
        self.wall = min(self.wall, wall)
        self.cpu = min(self.cpu, cpu)
        self.wall_sim_only = min(self.wall_sim_only, sim_only)
        self.customers = customers

    @property
    def rate(self) -> float:
        """Customers per wall-clock second (best run)."""
        return self.customers / self.wall


def compare(
    spec: SimSpec,
    lam: float,
    servers: list[int],
    queue_caps: list[float],
    matrix: list[list[float]],
    seed: int,
    repeat: int,
    gc_paused: bool = True,
) -> tuple[Timing, Timing, pd.DataFrame, list[Any]]:
    """Time both simulators ``repeat`` times, alternating; keep the last outputs."""
    ours, theirs = Timing(), Timing()
    stays: pd.DataFrame = pd.DataFrame()
    records: list[Any] = []
    for _ in range(repeat):
        del stays, records
        wall, cpu, stays = run_ours(spec, seed)
        ours.add(wall, cpu, len(our_completed(stays)))
        wall, cpu, sim_only, records = run_ciw(
            lam, servers, queue_caps, matrix, spec.end_day, seed, gc_paused
        )
        theirs.add(wall, cpu, len(records), sim_only)
    return ours, theirs, stays, records


def profile_ours(spec: SimSpec, seed: int, repeat: int) -> str:
    """Where our engine spends its time on ``spec``: phases with and without the cyclic GC.

    CPU seconds, best of ``repeat``. The phases are timed with a subclass of the engine's
    ``_Run`` swapped in for the duration (read-only; the engine is not changed). Then a
    cProfile of one run, by internal time.
    """
    times: dict[str, float] = {}

    class TimedRun(engine._Run):
        def __init__(self, *a: object) -> None:
            t = time.process_time()
            super().__init__(*a)  # type: ignore[arg-type]
            times["init"] = time.process_time() - t

        def run(self) -> list[list[object]]:
            t = time.process_time()
            out = super().run()
            times["run"] = time.process_time() - t
            times["events"] = next(self.env._eid)  # SimPy's count of scheduled events
            return out

    out = [f"our engine, CPU seconds (best of {repeat}):"]
    original = engine._Run
    try:
        engine._Run = TimedRun  # type: ignore[misc]
        for mode in ("gc on", "gc off"):
            best = (math.inf, 0.0, 0.0, 0)
            for _ in range(repeat):
                gc.collect()
                if mode == "gc off":
                    gc.disable()
                c0 = time.process_time()
                stays = simulate_stays(spec, np.random.SeedSequence(seed))
                total = time.process_time() - c0
                gc.enable()
                if total < best[0]:
                    best = (total, times["init"], times["run"], len(stays))
                del stays
            total, init, run, n_stays = best
            out.append(
                f"  {mode:<6}: total {total:.2f} s = init {init:.2f} + SimPy event loop "
                f"{run:.2f} + stays list -> DataFrame {total - init - run:.2f}"
            )
        out.append(
            f"  {n_stays:,d} stays, {times['events']:,d} SimPy events scheduled "
            f"({times['events'] / n_stays:.1f} per stay)"
        )
        prof = cProfile.Profile()
        prof.enable()
        simulate_stays(spec, np.random.SeedSequence(seed))
        prof.disable()
    finally:
        engine._Run = original  # type: ignore[misc]
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    out.append("cProfile of one run (top 15 by internal time):")
    out.append(buf.getvalue())
    return "\n".join(out)


HEADER = (
    f"{'model':<16} {'simulator':<9} {'wall s':>7} {'CPU s':>7} {'customers':>10} "
    f"{'customers/s':>12}"
)


def table_rows(label: str, ours: Timing, theirs: Timing, t_compile: float) -> list[str]:
    def line(sim: str, t: Timing, note: str) -> str:
        return (
            f"{label:<16} {sim:<9} {t.wall:>7.2f} {t.cpu:>7.2f} {t.customers:>10,d} "
            f"{t.rate:>12,.0f}  {note}"
        )

    ratio = ours.rate / theirs.rate
    cpu_ratio = (ours.customers / ours.cpu) / (theirs.customers / theirs.cpu)
    return [
        line("ours", ours, f"(+{t_compile:.2f} s to write and compile the model, once)"),
        line(
            "ciw",
            theirs,
            f"(without get_all_records {theirs.wall_sim_only:.2f} s: "
            f"{theirs.customers / theirs.wall_sim_only:,.0f}/s)",
        ),
        f"{label:<16} {'ours/ciw':<9} {'':>7} {'':>7} {'':>10} {ratio:>11.2f}x  "
        f"(by CPU time {cpu_ratio:.2f}x)",
    ]


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
        f"python {platform.python_version()}, simpy {simpy.__version__}, ciw {ciw.__version__}, "
        f"numpy {np.__version__}, pandas {pd.__version__}, commit {rev}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (about 10 s)")
    parser.add_argument(
        "--years", type=int, default=None, help="simulated years per run (default 23, quick 3)"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="timed runs per simulator, best kept (default 3)"
    )
    parser.add_argument("--servers", type=int, default=20, help="c of the M/M/c queue")
    parser.add_argument("--rho", type=float, default=0.9, help="utilisation of the M/M/c queue")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-network", action="store_true", help="only the M/M/c comparison")
    parser.add_argument(
        "--ciw-gc",
        choices=("paused", "on"),
        default="paused",
        help="ciw's garbage collector: paused as in our engine (the same conditions, "
        "default), or on (ciw as it ships)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile our engine on both models (phases, GC on/off, cProfile)",
    )
    args = parser.parse_args(argv)
    years = args.years or (3 if args.quick else 23)
    repeat = args.repeat or (1 if args.quick else 3)

    c = args.servers
    mu = 1.0
    lam = args.rho * c * mu
    load_before = os.getloadavg()[0]
    lines = [HEADER]
    ratios: dict[str, float] = {}
    checks: list[str] = []

    print(environment(), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # ---------------------------------------------------------------- 1. M/M/c
        spec, t_compile = build_spec(
            work, "mmc", [("a", "queue", c)], [("a", "thuis", 1.0)], lam, years
        )
        until = spec.end_day
        after = WARM_SHARE * until
        print(
            f"M/M/{c}: lambda={lam:g}/day, mean stay {1 / mu:g} day, rho={lam / (c * mu):.3f}, "
            f"{until:,.0f} simulated days (~{lam * until:,.0f} arrivals), best of {repeat}",
            flush=True,
        )
        ours, theirs, stays, records = compare(
            spec, lam, [c], [math.inf], [[0.0]], args.seed, repeat, args.ciw_gc == "paused"
        )
        ratios["M/M/c"] = ours.rate / theirs.rate
        lines += table_rows("M/M/c", ours, theirs, t_compile)
        checks.append(
            f"M/M/c mean wait (days) of arrivals after day {after:,.0f}, 95% batch means: "
            f"ours {our_wait(stays, 'a', after, until)}, ciw {ciw_wait(records, 1, after, until)}"
            f", Erlang C {erlang_c_wait(lam, mu, c):.4f}"
        )
        del stays, records  # before profiling: live objects slow the garbage collector
        profiles: list[str] = []
        if args.profile:
            profiles.append("M/M/c: " + profile_ours(spec, args.seed, repeat))

        # ---------------------------------------------------------------- 2. network
        if not args.skip_network:
            beds = {"a": 24, "b": 14, "c": 11}
            route = [
                ("a", "b", 0.6),
                ("a", "c", 0.2),
                ("a", "thuis", 0.2),
                ("b", "c", 0.5),
                ("b", "thuis", 0.5),
                ("c", "thuis", 1.0),
            ]
            forms = [
                ("a", "queue", beds["a"]),
                ("b", "block", beds["b"]),
                ("c", "block", beds["c"]),
            ]
            spec, t_compile = build_spec(work, "net", forms, route, lam, years)
            index = {"a": 0, "b": 1, "c": 2}
            matrix = [[0.0] * 3 for _ in range(3)]
            for src, dst, share in route:
                if dst in index:
                    matrix[index[src]][index[dst]] = share
            print(
                f"3-form network: lambda={lam:g}/day into a, beds a/b/c = "
                f"{beds['a']}/{beds['b']}/{beds['c']}, b and c block, mean stays 1 day, "
                f"{until:,.0f} simulated days, best of {repeat}",
                flush=True,
            )
            ours, theirs, stays, records = compare(
                spec,
                lam,
                list(beds.values()),
                [math.inf, 0, 0],
                matrix,
                args.seed,
                repeat,
                args.ciw_gc == "paused",
            )
            ratios["network"] = ours.rate / theirs.rate
            lines += table_rows("3-form blocking", ours, theirs, t_compile)
            checks.append(
                "network (days, arrivals after day "
                f"{after:,.0f}): wait in a ours {our_wait(stays, 'a', after, until)} / ciw "
                f"{ciw_wait(records, 1, after, until)}; blocked in a ours "
                f"{our_blocked(stays, 'a', after):.4f} / ciw {ciw_blocked(records, 1, after):.4f}"
                f"; blocked in b ours {our_blocked(stays, 'b', after):.4f} / ciw "
                f"{ciw_blocked(records, 2, after):.4f}"
            )
            del stays, records
            if args.profile:
                profiles.append("3-form blocking: " + profile_ours(spec, args.seed, repeat))

    load_after = os.getloadavg()[0]
    if profiles:
        print()
        print("\n".join(profiles))
    print()
    print("\n".join(lines))
    print()
    print("\n".join(checks))
    print(
        f"1-min load average before/after: {load_before:.2f} / {load_after:.2f} "
        f"({os.cpu_count()} CPUs)"
    )
    key = ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items())
    target = "met" if min(ratios.values()) >= 2 else "NOT met"
    print(
        f"RESULT ours/ciw customers per second: {key} (target >= 2x: {target}); garbage "
        f"collector: ours paused, ciw {args.ciw_gc}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
