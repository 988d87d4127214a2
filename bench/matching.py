"""Matching at scale: batch assignment, suggestions for one child, and peers.

1. Batch: 1,000 children x 5,000 families from :func:`synthetic_pool` (about 40 candidate
   families per child, 15% of the children in sibling pairs): time of ``match_batch`` to a
   proven optimum. Target: <= 3 s on 2 cores.
2. Large batches, one run each with a 60 s limit: 2,000 x 10,000 (target: proven optimal
   within 10 s on 2 cores) and 5,000 x 25,000 (target: a feasible assignment within 60 s;
   ``--skip-big`` leaves it out). Printed: status, children placed and the most any
   assignment could place, gap, where the answer came from, the time per step
   (candidates, LP, start, CP-SAT, tables) and the load of the machine.
3. MILP peer on the same large instances: HiGHS (``scipy.optimize.milp``) on the model
   CP-SAT gets, but over *all* candidate pairs (no reduced-cost fixing), same time limit.
   HiGHS' branch and bound runs on one thread, so ``match_batch`` runs again with one
   CP-SAT worker for the like-for-like row (``--peer-workers``). CBC (PuLP) is not run:
   building a PuLP model of 0.2-1 million variables in Python alone takes minutes.
4. Suggestions: top 10 for one child among 20,000 families, median and p95 over 200
   children. Target: <= 20 ms.
5. Assignment peer: on a side-constraint-free instance (no siblings; every free place a
   column), ``match_batch`` against scipy's ``linear_sum_assignment`` on the same pair
   values; both must reach the same objective. Reported as a time ratio.

Each figure is printed with the seed; the README records them.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from capaciteit.matching import MatchWeights, build, match_batch, suggest, synthetic_pool
from capaciteit.matching.batch import BatchResult
from capaciteit.matching.candidates import Pairs, candidate_pairs
from capaciteit.matching.pool import Children, Pool
from capaciteit.matching.relaxation import build_rows

LIMIT_S = 60.0


def load() -> str:
    """Return the 1-minute load average, for the record (the machine is shared)."""
    return f"{os.getloadavg()[0]:.2f}"


def describe(result: BatchResult) -> str:
    stages = ", ".join(f"{k} {v:.2f}" for k, v in result.stages.items())
    gap = "0" if result.gap == 0 else f"{result.gap:.2e}"
    return (
        f"{result.status}, {result.placed} placed (at most {result.max_placed}), gap {gap}, "
        f"{result.time_s:.2f} s [{stages}], from {result.source}, LP {result.lp_status}, "
        f"{result.candidate_pairs} pairs -> {result.model_pairs} in CP-SAT"
    )


def batch(children: int, families: int, seeds: list[int]) -> None:
    for seed in seeds:
        kids, places = synthetic_pool(children, families, seed)
        started = time.perf_counter()
        ch, pool = build(kids, places)
        built = time.perf_counter() - started
        result = match_batch(ch, pool, time_limit_s=LIMIT_S)
        per_child = result.candidate_pairs / max(1, result.units)
        siblings = (kids["sibling_group"] != "").mean()
        print(
            f"RESULT batch {children} x {len(places)} seed {seed}: {describe(result)} "
            f"(+ {built:.2f} s reading); {per_child:.1f} candidates per unit, "
            f"{siblings:.0%} in sibling pairs; load {load()}",
            flush=True,
        )


def highs(pairs: Pairs, limit_s: float) -> tuple[str, float | None, float | None, float]:
    """HiGHS on all pairs with the same rows: (status, objective, gap, seconds)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    started = time.perf_counter()
    rows = build_rows(pairs, np.arange(len(pairs)))
    matrix = csr_matrix(
        (rows.coef.astype(float), (rows.row, rows.col)), shape=(len(rows), len(pairs))
    )
    res = milp(
        -pairs.value.astype(float),
        constraints=[LinearConstraint(matrix, -np.inf, rows.rhs.astype(float))],
        integrality=np.ones(len(pairs)),
        bounds=Bounds(0, 1),
        options={"time_limit": limit_s - (time.perf_counter() - started), "mip_rel_gap": 0.0},
    )
    took = time.perf_counter() - started
    status = {0: "optimal", 1: "time limit"}.get(res.status, f"status {res.status}")
    if res.x is None:
        return status + ", no solution", None, None, took
    objective = float(pairs.value @ np.round(res.x))
    return status, objective, getattr(res, "mip_gap", None), took


def large(children: int, families: int, seed: int, peer_workers: int) -> None:
    kids, places = synthetic_pool(children, families, seed)
    ch, pool = build(kids, places)
    before = load()
    result = match_batch(ch, pool, time_limit_s=LIMIT_S)
    print(
        f"RESULT large {children} x {len(places)} seed {seed}, 2 workers, limit {LIMIT_S:.0f} s: "
        f"{describe(result)}; load {before} -> {load()}",
        flush=True,
    )
    peer_milp(ch, pool, result, children, len(places), seed, peer_workers)


def peer_milp(
    ch: Children,
    pool: Pool,
    ours_2: BatchResult,
    children: int,
    families: int,
    seed: int,
    workers: int,
) -> None:
    ours = match_batch(ch, pool, time_limit_s=LIMIT_S, workers=workers)
    pairs = candidate_pairs(ch, pool, MatchWeights())
    before = load()
    status, objective, gap, took = highs(pairs, LIMIT_S)
    same = "n/a" if objective is None else objective == ours.objective == ours_2.objective
    print(
        f"RESULT peer {children} x {families} seed {seed}, limit {LIMIT_S:.0f} s: match_batch "
        f"with {workers} worker(s) {describe(ours)}; HiGHS (1 thread, all {len(pairs)} pairs) "
        f"{status}, objective {objective}, gap {gap}, {took:.2f} s; "
        f"ours {ours.objective}; same objective: {same}; load {before} -> {load()}",
        flush=True,
    )


def suggestions(families: int, k: int, seed: int) -> None:
    kids, places = synthetic_pool(200, families, seed)
    ch, pool = build(kids, places)
    suggest(ch, pool, ch.ids[0], k)  # warm-up
    times = []
    for child in ch.ids:
        started = time.perf_counter()
        suggest(ch, pool, child, k)
        times.append(time.perf_counter() - started)
    ms = np.array(times) * 1000
    print(
        f"RESULT suggest top {k} among {len(places)} families, {len(times)} children: "
        f"median {np.median(ms):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms, "
        f"max {ms.max():.2f} ms",
        flush=True,
    )


def peer(children: int, families: int, seed: int) -> None:
    from scipy.optimize import linear_sum_assignment

    kids, places = synthetic_pool(children, families, seed, sibling_share=0.0)
    ch, pool = build(kids, places)
    started = time.perf_counter()
    result = match_batch(ch, pool, time_limit_s=LIMIT_S)
    ours = time.perf_counter() - started
    # the same pair values as a dense matrix: one column per free place
    pairs = candidate_pairs(ch, pool, MatchWeights())
    started = time.perf_counter()
    first_slot = np.concatenate([[0], np.cumsum(pool.free_places)[:-1]])
    value = np.zeros((len(pairs.table), int(pool.free_places.sum())))
    for j in range(len(pairs)):
        f = int(pairs.family[j])
        start = first_slot[f]
        value[pairs.unit[j], start : start + pool.free_places[f]] = pairs.value[j]
    rows, cols = linear_sum_assignment(value, maximize=True)
    theirs_value = float(value[rows, cols].sum())
    theirs = time.perf_counter() - started
    print(
        f"RESULT peer {children} x {len(places)} without siblings: match_batch {ours:.2f} s "
        f"({result.status}, objective {result.objective:.0f}), scipy linear_sum_assignment "
        f"{theirs:.2f} s (objective {theirs_value:.0f}); same optimum: "
        f"{result.objective == theirs_value}; time ratio ours/scipy {ours / theirs:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=1000)
    parser.add_argument("--families", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--suggest-families", type=int, default=20_000)
    parser.add_argument("--skip-big", action="store_true", help="leave out 5,000 x 25,000")
    parser.add_argument("--skip-large", action="store_true", help="leave out both large cases")
    parser.add_argument("--peer-workers", type=int, default=1, help="CP-SAT workers vs HiGHS")
    args = parser.parse_args()
    batch(args.children, args.families, args.seeds)
    if not args.skip_large:
        large(2000, 10_000, args.seeds[0], args.peer_workers)
        if not args.skip_big:
            large(5000, 25_000, args.seeds[0], args.peer_workers)
    suggestions(args.suggest_families, 10, args.seeds[0])
    peer(args.children, args.families, args.seeds[0])


if __name__ == "__main__":
    main()
