"""Matching at scale: batch assignment, suggestions for one child, and scipy as a peer.

1. Batch: 1,000 children x 5,000 families from :func:`synthetic_pool` (about 40 candidate
   families per child, 15% of the children in sibling pairs): time of ``match_batch`` to a
   proven optimum. Target: <= 3 s on 2 cores.
2. Suggestions: top 10 for one child among 20,000 families, median and p95 over 200
   children. Target: <= 20 ms.
3. Peer: on a side-constraint-free instance (no siblings; every free place a column),
   ``match_batch`` against scipy's ``linear_sum_assignment`` on the same pair values; both
   must reach the same objective. Reported as a time ratio.

Each figure is printed with the seed; the README records them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from capaciteit.matching import MatchWeights, build, match_batch, suggest, synthetic_pool
from capaciteit.matching.batch import _pairs
from capaciteit.matching.rules import units


def batch(children: int, families: int, seeds: list[int]) -> None:
    for seed in seeds:
        kids, places = synthetic_pool(children, families, seed)
        started = time.perf_counter()
        ch, pool = build(kids, places)
        built = time.perf_counter() - started
        result = match_batch(ch, pool, time_limit_s=60)
        per_child = result.candidate_pairs / max(1, result.units)
        siblings = (kids["sibling_group"] != "").mean()
        print(
            f"RESULT batch {children} x {len(places)} seed {seed}: {result.status}, "
            f"{result.placed} placed, {result.time_s:.2f} s (+ {built:.2f} s reading), "
            f"{per_child:.1f} candidates per unit, {siblings:.0%} in sibling pairs",
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
    result = match_batch(ch, pool, time_limit_s=60)
    ours = time.perf_counter() - started
    # the same pair values as a dense matrix: one column per free place
    pairs, _ = _pairs(ch, pool, units(ch), MatchWeights(), None)
    started = time.perf_counter()
    slots = np.repeat(np.arange(len(pool)), pool.free_places)
    first_slot = np.concatenate([[0], np.cumsum(pool.free_places)[:-1]])
    value = np.zeros((len(units(ch)), len(slots)))
    for j in range(len(pairs.value)):
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
    args = parser.parse_args()
    batch(args.children, args.families, args.seeds)
    suggestions(args.suggest_families, 10, args.seeds[0])
    peer(args.children, args.families, args.seeds[0])


if __name__ == "__main__":
    main()
