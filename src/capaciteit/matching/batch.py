"""The best assignment for a whole waiting list, and always an assignment.

Pipeline: units (siblings together, :mod:`~capaciteit.matching.rules`) -> candidate pairs
(every hard rule, vectorised: :mod:`~capaciteit.matching.candidates`) -> LP relaxation by
column generation (:mod:`~capaciteit.matching.relaxation`) -> a feasible start -> CP-SAT
over the pairs that can still matter -> assignment keyed by ``child_id``.

Model
    one 0/1 variable per candidate pair; each unit goes to at most one family; a family
    takes at most ``free_places`` children; a child with a contra-indication never shares a
    family with its siblings.
Objective (maximised, integers)
    ``PLACE`` per placed child, larger than all fit and urgency points together, so the
    most children are placed first; then urgency points of the placed children (urgency
    0-3 or the time on the list, :func:`urgency_points`) and the fit (score x 100 per
    child, :mod:`capaciteit.matching.scoring`).

How it is solved, within one time limit for all steps together
    1. The LP relaxation gives a bound ``B`` and for every pair ``r_j <= 0`` (its reduced
       cost, less the unit's best): an assignment that uses pair ``j`` is worth at most
       ``B + r_j``.
    2. The start: the pairs the LP sets above 1/2, completed greedily (units with the
       fewest candidate families first, each in its most valuable family with room), then
       checked against every hard rule, free places and sibling groups. It is the answer
       if nothing better comes in time.
    3. Reduced-cost fixing: with the start worth ``S``, a pair with ``B + r_j < S`` is in
       no optimal assignment. CP-SAT (hinted with the start) first solves the model over
       the pairs near the LP optimum (used by the LP, or ``r_j`` within ``NEAR`` points of
       fit of 0); if its optimum ``S'`` leaves a pair outside the
       model with ``B + r_j >= S'``, that pair joins and CP-SAT runs again. When none is
       left, CP-SAT's optimum is the optimum over all pairs: *proven optimal*.
    4. When time runs out first, the best assignment found (CP-SAT's or the start) is
       returned as ``feasible`` with its bound: the smallest of ``B`` and
       ``max(CP-SAT's bound, B + the best r_j outside its model)``. ``timeout`` with
       nobody placed does not happen: the start always exists (it may place nobody only
       when no family can take anyone).

Scale (``bench/matching.py``, 2 cores): 5,000 children x 25,000 families give 977k
candidate pairs; the LP needs 3 rounds over 100k of them, CP-SAT one model of 44k pairs and
one of 101k, and the optimum is proven in about 27 s. 2,000 x 10,000: 166k pairs, one
CP-SAT model of 11k, proven in under 3 s.

The result also says at most how many children any assignment could place
(``max_placed``: the bound divided by ``PLACE``), the time per step and where the
assignment came from, and every child that stays unplaced, with the reason.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from capaciteit.core import nl
from capaciteit.core.solve import Status
from capaciteit.matching.candidates import (
    BLOCK_CELLS,
    SCALE,
    Pairs,
    candidate_pairs,
    urgency_points,
)
from capaciteit.matching.pool import BoolArray, Children, FloatArray, IntArray, Pool
from capaciteit.matching.relaxation import (
    CAPACITY,
    Relaxation,
    Rows,
    build_rows,
    solve_lp,
    trivial,
)
from capaciteit.matching.rules import RULE_LABELS, pair_masks
from capaciteit.matching.scoring import CRITERIA, MatchWeights, pair_points, reasons

if TYPE_CHECKING:
    from ortools.sat.python.cp_model import CpModel, IntVar

__all__ = ["SCALE", "BatchResult", "match_batch", "urgency_points"]

NEAR = 10
"""Points of fit within which a pair the LP leaves out is tried in the first CP-SAT model."""
LP_SHARE = 0.5
"""The LP may use at most this share of the time limit."""
MIN_CPSAT_S = 0.05
"""CP-SAT is not started with less time than this."""
TABLE_S_PER_UNIT = 3e-4
"""Time kept back per unit for writing the assignment and the reasons."""
POST_S_PER_PAIR = 2e-6
"""Time kept back per pair in the CP-SAT model for reading its solution back."""


@dataclass(frozen=True)
class BatchResult:
    """An assignment of a waiting list.

    Attributes
    ----------
    status
        ``optimal`` (proven) or ``feasible`` (the time limit ended the search first; see
        ``gap``). ``timeout`` or ``invalid`` only when there is no assignment at all, which
        the start (see the module doc) prevents.
    assignment
        One row per placed child: ``child_id``, ``placement_id``, ``unit`` (the first child
        of its sibling unit), ``score``, points per criterion, ``reasons``.
    unplaced
        One row per child without a family: ``child_id``, ``unit``, ``reason`` (Dutch).
    objective, bound, gap
        Of the integer objective (see the module doc); ``gap = (bound - objective) /
        objective``, 0 when proven optimal.
    time_s
        Wall time of the whole call; ``stages`` splits it (``candidates``, ``lp``,
        ``start``, ``cpsat``, ``tables``, in seconds).
    children, units, candidate_pairs
        Children on the list, units, pairs that pass the hard rules.
    max_placed
        No assignment places more children than this (the bound divided by ``PLACE``).
    source
        Where the assignment comes from: ``cpsat``, or ``start`` (the LP rounded and
        completed greedily) when CP-SAT found nothing better in time.
    model_pairs
        Pairs in the last CP-SAT model (after reduced-cost fixing).
    lp_status
        ``optimal`` (LP optimum over all pairs), ``converged`` (its bound within 5 points of
        it), ``partial`` (stopped by the time limit; the bound is valid, less tight) or
        ``trivial`` (no LP in time). See :mod:`~capaciteit.matching.relaxation`.
    """

    status: Status
    assignment: pd.DataFrame
    unplaced: pd.DataFrame
    objective: float | None
    bound: float | None
    gap: float | None
    time_s: float
    children: int
    units: int
    candidate_pairs: int
    max_placed: int | None = None
    source: str = "cpsat"
    model_pairs: int = 0
    lp_status: str = "optimal"
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def placed(self) -> int:
        """Number of children placed."""
        return len(self.assignment)


def match_batch(
    children: Children,
    pool: Pool,
    weights: MatchWeights | None = None,
    time_limit_s: float = 30.0,
    as_of: pd.Timestamp | None = None,
    workers: int = 2,
) -> BatchResult:
    """Assign the waiting list to the pool: most children placed, then best total fit.

    ``time_limit_s`` bounds the whole call (candidates, LP, CP-SAT, tables); when it ends
    the search the best assignment found is returned with its gap (see the module doc).
    ``workers`` is the number of CP-SAT threads.
    """
    started = time.perf_counter()
    stages: dict[str, float] = {}
    weights = weights or MatchWeights()
    pairs = candidate_pairs(children, pool, weights, as_of)
    stages["candidates"] = _lap(started, stages)
    reserve = min(0.2 * time_limit_s, TABLE_S_PER_UNIT * len(pairs.table))
    deadline = started + time_limit_s - reserve
    lp_deadline = min(deadline, started + LP_SHARE * time_limit_s)
    relax = solve_lp(pairs, lp_deadline) if len(pairs) else trivial(pairs)
    stages["lp"] = _lap(started, stages)
    start = _greedy(pairs, relax.x)
    _check(pairs, pool, start)
    best, best_value = start, _value(pairs, start)
    stages["start"] = _lap(started, stages)
    bound, source, model_pairs = relax.bound, "start", 0
    proven = _closes(best_value, bound)
    near = (relax.reduced >= -NEAR * SCALE) | (relax.x > 1e-6) | start
    keep = _needed(relax, best_value) & near | start
    while not proven:
        left = deadline - time.perf_counter()
        if left < MIN_CPSAT_S:
            break
        model_pairs = int(keep.sum())
        # reading the solution back and completing it take ~2 us per variable
        cp_deadline = deadline - POST_S_PER_PAIR * model_pairs
        status, solution, cp_bound = _cpsat(pairs, keep, best, cp_deadline, workers)
        if status not in ("optimal", "feasible"):
            break
        # an incumbent, or an optimum over part of the pairs, may leave room: fill it
        solution = _greedy(pairs, np.zeros(len(pairs)), solution)
        value = _value(pairs, solution)
        if value > best_value and not _problems(pairs, pool, solution):
            best, best_value, source = solution, value, "cpsat"
        outside = relax.reduced[~keep]
        beyond = relax.bound + float(outside.max()) if outside.size else -math.inf
        bound = min(bound, max(cp_bound, beyond))
        if _closes(best_value, bound):
            proven = True
            break
        if status != "optimal":
            break
        # a pair that, used, could reach the best value found must be in the model
        needed = _needed(relax, best_value)
        if not (needed & ~keep).any():
            proven = True
            break
        keep = needed | best
    stages["cpsat"] = _lap(started, stages)
    if proven:
        bound = float(best_value)
    placed_pairs = np.flatnonzero(best)
    chosen = dict(zip(pairs.unit[placed_pairs].tolist(), placed_pairs.tolist(), strict=True))
    assignment = _assignment(children, pool, pairs, chosen, weights)
    unplaced = _unplaced(children, pool, pairs, chosen)
    stages["tables"] = _lap(started, stages)
    return BatchResult(
        "optimal" if proven else "feasible",
        assignment,
        unplaced,
        float(best_value),
        bound,
        0.0 if proven or best_value == 0 else max(0.0, bound - best_value) / best_value,
        time.perf_counter() - started,
        len(children.frame),
        len(pairs.table),
        len(pairs),
        max_placed=math.floor(bound / pairs.place + 1e-9),
        source=source,
        model_pairs=model_pairs,
        lp_status=relax.status,
        stages=stages,
    )


def _lap(started: float, stages: dict[str, float]) -> float:
    """Seconds since the last stage ended."""
    return time.perf_counter() - started - sum(stages.values())


def _value(pairs: Pairs, chosen: BoolArray) -> int:
    return int(pairs.value[chosen].sum())


def _closes(value: int, bound: float) -> bool:
    """Whether an assignment worth ``value`` is proven optimal by ``bound``.

    Values are whole numbers, so ``bound < value + 1`` leaves no room for a better one (the
    margin covers rounding in the sums of a bound around 1e11).
    """
    return bound < value + 0.99


def _needed(relax: Relaxation, value: int) -> BoolArray:
    """Pairs that could be in an assignment worth at least ``value`` (margin for rounding)."""
    out: BoolArray = relax.bound + relax.reduced >= value - 1.0
    return out


def _greedy(pairs: Pairs, x: FloatArray, chosen: BoolArray | None = None) -> BoolArray:
    """Return a feasible assignment: ``chosen``, the LP's pairs above 1/2, then scarce first.

    A pair is taken while its unit is unplaced, the family has room for the whole unit and
    no unit of the same sibling group is there yet. After the pairs of ``chosen`` (a
    feasible assignment to complete) come the pairs the LP (nearly) uses, most used first;
    then every unit still unplaced, sibling groups first and then units with fewer
    candidate families (they have fewest ways out), each in its most valuable family that
    has room. The result is maximal: no unplaced unit fits anywhere. Measured on 2,000 x
    10,000: without the LP, placing in order of value alone left 227 children more
    unplaced than the optimum; scarce first, 49.
    """
    out = np.zeros(len(pairs), dtype=bool) if chosen is None else chosen.copy()
    placed = np.zeros(len(pairs.table), dtype=bool)
    placed[pairs.unit[out]] = True
    used = np.bincount(pairs.family[out], weights=pairs.size[out], minlength=len(pairs.free))
    room = pairs.free - used.astype(np.int64)
    group = pairs.table.group
    mine = np.flatnonzero(out)
    taken = {
        (int(group[u]), int(f))
        for u, f in zip(pairs.unit[mine].tolist(), pairs.family[mine].tolist(), strict=True)
        if group[u] >= 0
    }

    def take(order: IntArray) -> None:
        units, families, sizes = pairs.unit[order], pairs.family[order], pairs.size[order]
        for j, u, f, s in zip(
            order.tolist(), units.tolist(), families.tolist(), sizes.tolist(), strict=True
        ):
            if placed[u] or room[f] < s:
                continue
            g = int(group[u])
            if g >= 0:
                if (g, f) in taken:
                    continue
                taken.add((g, f))
            out[j] = placed[u] = True
            room[f] -= s

    lp = np.flatnonzero(x > 0.5)
    take(lp[np.lexsort((-pairs.value[lp], -x[lp]))])
    rest = np.flatnonzero(~placed[pairs.unit])
    scarce = pairs.per_unit[pairs.unit[rest]]
    take(rest[np.lexsort((-pairs.value[rest], scarce, -pairs.size[rest]))])
    return out


def _problems(pairs: Pairs, pool: Pool, chosen: BoolArray) -> list[str]:
    """Every hard rule, free place and sibling-group conflict an assignment breaks."""
    j = np.flatnonzero(chosen)
    unit, family = pairs.unit[j], pairs.family[j]
    out = []
    for rule, ok in pair_masks(pairs.table, pool, pairs.network, unit, family).items():
        if not np.all(ok):
            out.append(f"{rule}: {int((~np.broadcast_to(ok, unit.shape)).sum())} pairs")
    if len(unit) != len(np.unique(unit)):
        out.append("a unit in two families")
    load = np.bincount(family, weights=pairs.size[j], minlength=len(pool))
    if (load > pool.free_places).any():
        out.append(f"over capacity: {int((load > pool.free_places).sum())} families")
    group = pairs.table.group[unit]
    keys = group[group >= 0] * len(pool) + family[group >= 0]
    if len(keys) != len(np.unique(keys)):
        out.append("two units of one sibling group in one family")
    return out


def _check(pairs: Pairs, pool: Pool, chosen: BoolArray) -> None:
    problems = _problems(pairs, pool, chosen)
    if problems:  # a bug, never the user's input
        raise RuntimeError("matching start breaks a hard rule: " + "; ".join(problems))


def _cpsat(
    pairs: Pairs, keep: BoolArray, hint: BoolArray, deadline: float, workers: int
) -> tuple[Status, BoolArray, float]:
    """CP-SAT over the pairs in ``keep``, hinted with ``hint``: (status, solution, bound).

    The solver gets the time left until ``deadline`` (``perf_counter``) once the model is
    built; with none left it is not started (status ``timeout``).
    """
    from ortools.sat.python import cp_model

    cols = np.flatnonzero(keep)
    rows = build_rows(pairs, cols)
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"y{j}") for j in cols.tolist()]
    _add_rows(model, rows, cols, x)
    model.maximize(cp_model.LinearExpr.weighted_sum(x, pairs.value[cols].tolist()))
    for var, on in zip(x, hint[cols].tolist(), strict=True):
        model.add_hint(var, on)
    solution = np.zeros(len(pairs), dtype=bool)
    limit = deadline - time.perf_counter()
    if limit < MIN_CPSAT_S:
        return "timeout", solution, math.inf
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = workers
    # CP-SAT's presolve turns these at-most-one and capacity rows into a form whose LP no
    # longer bounds the objective (measured: no proof in 60 s, 0.3 s without presolve)
    solver.parameters.cp_model_presolve = False
    # the whole LP at the root: lazily its bound climbed over seconds (2.4x slower here)
    solver.parameters.add_lp_constraints_lazily = False
    name = solver.status_name(solver.solve(model))
    status: Status = {"OPTIMAL": "optimal", "FEASIBLE": "feasible", "MODEL_INVALID": "invalid"}.get(
        name, "timeout"
    )  # type: ignore[assignment]
    if status not in ("optimal", "feasible"):
        return status, solution, math.inf
    solution[cols] = [solver.boolean_value(var) for var in x]
    return status, solution, float(solver.best_objective_bound)


def _add_rows(model: CpModel, rows: Rows, cols: IntArray, x: list[IntVar]) -> None:
    """Add ``rows`` to the CP-SAT model: at-most-one rows, and capacity as linear rows."""
    from ortools.sat.python import cp_model

    local = np.searchsorted(cols, rows.col)
    order = np.argsort(rows.row, kind="stable")
    split = np.searchsorted(rows.row[order], np.arange(1, len(rows)))
    members = np.split(local[order], split)
    coefs = np.split(rows.coef[order], split)
    for r, (m, c) in enumerate(zip(members, coefs, strict=True)):
        if len(m) < 2:
            continue
        vars_ = [x[i] for i in m.tolist()]
        if rows.kind[r] == CAPACITY:
            model.add(cp_model.LinearExpr.weighted_sum(vars_, c.tolist()) <= int(rows.rhs[r]))
        else:
            model.add_at_most_one(vars_)


def _assignment(
    children: Children,
    pool: Pool,
    pairs: Pairs,
    chosen: dict[int, int],
    weights: MatchWeights,
) -> pd.DataFrame:
    columns = ["child_id", "placement_id", "unit", "score", *CRITERIA, "reasons"]
    if not chosen:
        return pd.DataFrame(columns=columns)
    j = np.array([chosen[u] for u in sorted(chosen)], dtype=np.int64)
    unit, family = pairs.unit[j], pairs.family[j]
    points = pair_points(children, pool, pairs.table, pairs.network, unit, family, weights)
    score = np.sum(np.stack([points[c] for c in CRITERIA]), axis=0)
    ids = pool.frame.index
    records = []
    for k, (u, f) in enumerate(zip(unit.tolist(), family.tolist(), strict=True)):
        members = pairs.table.members[u]
        why = "; ".join(reasons(children, pool, members, f))
        row = {
            "placement_id": str(ids[f]),
            "unit": members[0],
            "score": round(float(score[k]), 2),
            **{c: round(float(points[c][k]), 2) for c in CRITERIA},
            "reasons": why,
        }
        records += [{"child_id": child, **row} for child in members]
    return pd.DataFrame.from_records(records, columns=columns)


def _unplaced(children: Children, pool: Pool, pairs: Pairs, chosen: dict[int, int]) -> pd.DataFrame:
    table = pairs.table
    counts = pairs.per_unit
    left = np.array([u for u in range(len(table)) if u not in chosen], dtype=np.int64)
    excluded = _excluded(pairs, pool, left[counts[left] == 0])
    records = []
    for u in left.tolist():
        members = table.members[u]
        n = int(counts[u])
        if n:
            who = "dit kind" if len(members) == 1 else f"deze {len(members)} broers/zussen"
            reason = (
                f"alle {nl.number(n)} passende gezinnen voor {who} zijn toegewezen aan andere "
                "kinderen (te weinig plekken)"
            )
        else:
            ranked = sorted(((c, r) for r, c in excluded[u].items()), reverse=True)
            parts = [f"{RULE_LABELS[r]} ({nl.number(c)})" for c, r in ranked if c]
            reason = "geen gezin voldoet aan de harde regels; uitgesloten door: " + "; ".join(parts)
        records += [{"child_id": child, "unit": members[0], "reason": reason} for child in members]
    return pd.DataFrame.from_records(records, columns=["child_id", "unit", "reason"])


def _excluded(pairs: Pairs, pool: Pool, units: IntArray) -> dict[int, dict[str, int]]:
    """Per unit, how many families each hard rule excludes (the whole pool)."""
    out: dict[int, dict[str, int]] = {}
    families = np.arange(len(pool))
    block = max(1, BLOCK_CELLS // max(1, len(pool)))
    for first in range(0, len(units), block):
        unit = units[first : first + block]
        masks = pair_masks(pairs.table, pool, pairs.network, unit[:, None], families[None, :])
        shape = (len(unit), len(pool))
        counts = {r: (~np.broadcast_to(m, shape)).sum(axis=1) for r, m in masks.items()}
        for k, u in enumerate(unit.tolist()):
            out[u] = {r: int(c[k]) for r, c in counts.items()}
    return out
