"""The best assignment for a whole waiting list (OR-Tools CP-SAT).

Pipeline: units (siblings together, :func:`~capaciteit.matching.rules.units`) -> candidate
families per unit (every hard rule) -> one boolean ``y[u, f]`` per candidate pair -> CP-SAT
-> assignment keyed by ``child_id``.

Model
    each unit goes to at most one family; a family takes at most ``free_places`` children;
    a child with a contra-indication never shares a family with its siblings.
Objective (maximised, integers)
    ``PLACE`` per placed child, larger than all fit and urgency points together, so the
    most children are placed first; then urgency points of the placed children (urgency
    0-3 or the time on the list, :func:`urgency_points`) and the fit (score x 100 per
    child, :mod:`capaciteit.matching.scoring`).

The result reports the solver status (proven optimal, or feasible with the gap at the
time limit) and every child that stays unplaced, with the reason.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit.core import nl
from capaciteit.core.solve import Status
from capaciteit.matching.pool import Children, Pool
from capaciteit.matching.rules import RULE_LABELS, rule_masks, units
from capaciteit.matching.scoring import CRITERIA, MatchWeights, criterion_points, reasons

SCALE = 100
"""Score points are multiplied by this and rounded: the objective is integral."""
NEAR = 10
"""Points of fit within which a pair the LP leaves out is tried in the first CP-SAT model."""


@dataclass(frozen=True)
class BatchResult:
    """An assignment of a waiting list.

    Attributes
    ----------
    status
        ``optimal`` (proven), ``feasible`` (the time limit ended the search; see ``gap``),
        or ``timeout`` / ``invalid`` with no assignment.
    assignment
        One row per placed child: ``child_id``, ``placement_id``, ``unit`` (the first child
        of its sibling unit), ``score``, points per criterion, ``reasons``.
    unplaced
        One row per child without a family: ``child_id``, ``reason`` (Dutch).
    objective, bound, gap
        Of the integer objective (see the module doc).
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

    @property
    def placed(self) -> int:
        """Number of children placed."""
        return len(self.assignment)


def urgency_points(
    children: Children, weights: MatchWeights, as_of: pd.Timestamp | None = None
) -> pd.Series:
    """Urgency points per child: the weight x max(urgency / 3, years on the list, capped at 1).

    Time on the list counts from ``waiting_since`` to ``as_of`` (default: the latest
    ``waiting_since`` in the list, so that the same input always gives the same result).
    """
    frame = children.frame
    since = pd.to_datetime(frame["waiting_since"], errors="coerce")
    ref = as_of if as_of is not None else since.max()
    years = ((ref - since).dt.days / 365.0).fillna(0.0).clip(0, 1) if pd.notna(ref) else 0.0
    urgency = frame["urgency"].fillna(0).astype(float) / 3.0
    return pd.Series(weights.urgency * np.maximum(urgency, years), index=frame.index)


@dataclass(frozen=True)
class _Pairs:
    """Candidate (unit, family) pairs with their objective values, and the constraints."""

    unit: np.ndarray
    family: np.ndarray
    size: np.ndarray
    value: np.ndarray
    at_most_one: list[np.ndarray]
    capacity: list[tuple[np.ndarray, int]]


def _pairs(
    children: Children,
    pool: Pool,
    all_units: list[list[str]],
    weights: MatchWeights,
    as_of: pd.Timestamp | None,
) -> tuple[_Pairs, list[np.ndarray]]:
    urgent = urgency_points(children, weights, as_of)
    unit_cands: list[np.ndarray] = []
    fit: list[np.ndarray] = []
    urg: list[int] = []
    for members in all_units:
        masks = rule_masks(children, pool, members)
        idx = np.flatnonzero(np.logical_and.reduce(list(masks.values())))
        points = criterion_points(children, pool, members, weights, idx)
        score = np.sum(np.stack([points[c] for c in CRITERIA]), axis=0) if len(idx) else idx
        unit_cands.append(idx)
        fit.append(np.rint(score * SCALE * len(members)).astype(np.int64))
        urg.append(round(SCALE * float(urgent[members].sum())))
    place = 1 + sum((int(f.max()) if len(f) else 0) + u for f, u in zip(fit, urg, strict=True))
    counts = [len(c) for c in unit_cands]
    unit = np.repeat(np.arange(len(all_units)), counts)
    family = np.concatenate(unit_cands) if unit_cands else np.array([], dtype=np.int64)
    size = np.repeat([len(m) for m in all_units], counts).astype(np.int64)
    value = place * size + np.repeat(urg, counts).astype(np.int64)
    value = value + (np.concatenate(fit) if fit else np.array([], dtype=np.int64))
    starts = np.concatenate([[0], np.cumsum(counts)])
    at_most_one = [np.arange(starts[u], starts[u + 1]) for u in range(len(all_units))]
    capacity = []
    order = np.argsort(family, kind="stable")
    bounds = np.flatnonzero(np.diff(family[order])) + 1
    for block in np.split(order, bounds) if len(order) else []:
        free = int(pool.free_places[family[block[0]]])
        if int(size[block].sum()) <= free:
            continue
        capacity.append((block, free))
        # Cover inequalities that close most of the LP gap of sibling pairs: a family with
        # 2 or 3 free places takes at most one pair, and with 2 a pair leaves no room.
        two, one = block[size[block] == 2], block[size[block] == 1]
        if free in (2, 3) and len(two) > 1:
            at_most_one.append(two)
        if free == 2 and len(two):
            at_most_one += [np.append(two, v) for v in one.tolist()]
    # samen, tenzij: a contra-indicated child never shares a family with its siblings
    frame = children.frame
    groups: dict[str, list[int]] = {}
    for u, members in enumerate(all_units):
        group = frame.at[members[0], "sibling_group"]
        if isinstance(group, str) and group:
            groups.setdefault(group, []).append(u)
    for group_units in groups.values():
        if len(group_units) < 2:
            continue
        mine = np.concatenate([at_most_one[u] for u in group_units])
        by_family: dict[int, list[int]] = {}
        for j in mine.tolist():
            by_family.setdefault(int(family[j]), []).append(j)
        at_most_one += [np.array(js) for js in by_family.values() if len(js) > 1]
    return _Pairs(unit, family, size, value, at_most_one, capacity), unit_cands


def _lp(pairs: _Pairs) -> tuple[float, np.ndarray, np.ndarray] | None:
    """LP relaxation with GLOP: (bound, x, reduced costs), or None if GLOP fails.

    The bound and the reduced costs ``d = c - A'y`` are recomputed here from GLOP's row
    duals ``y`` (clipped at 0): for any ``y >= 0`` every assignment is worth at most
    ``b'y + sum(max(d, 0))``, and one that uses pair ``j`` at most that plus ``min(d_j,
    0)``. The argument does not depend on GLOP's tolerances.
    """
    from ortools.linear_solver import pywraplp

    lp = pywraplp.Solver.CreateSolver("GLOP")
    xs = [lp.NumVar(0.0, 1.0, "") for _ in range(len(pairs.value))]
    rows: list[tuple[np.ndarray, np.ndarray, float]] = []
    for group in pairs.at_most_one:
        if len(group) > 1:
            rows.append((group, np.ones(len(group)), 1.0))
    for block, free in pairs.capacity:
        rows.append((block, pairs.size[block].astype(float), float(free)))
    constraints = []
    for cols, coefs, rhs in rows:
        row = lp.RowConstraint(-lp.infinity(), rhs, "")
        for j, a in zip(cols.tolist(), coefs.tolist(), strict=True):
            row.SetCoefficient(xs[j], a)
        constraints.append(row)
    objective = lp.Objective()
    for j, v in enumerate(pairs.value.tolist()):
        objective.SetCoefficient(xs[j], float(v))
    objective.SetMaximization()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    x = np.array([v.solution_value() for v in xs])
    duals = np.maximum([c.dual_value() for c in constraints], 0.0)
    reduced = pairs.value.astype(float)
    for (cols, coefs, _), y in zip(rows, duals.tolist(), strict=True):
        if y:
            np.subtract.at(reduced, cols, y * coefs)
    rhs_part = math.fsum(y * rhs for (_, _, rhs), y in zip(rows, duals.tolist(), strict=True))
    bound = math.fsum([rhs_part, *np.maximum(reduced, 0.0).tolist()])
    return bound, x, reduced


def _greedy(pairs: _Pairs, start: np.ndarray, pool: Pool) -> np.ndarray:
    """Return a feasible assignment: ``start`` (kept where it fits), then best value first."""
    chosen = np.zeros(len(pairs.value), dtype=bool)
    used_free = {f: int(pool.free_places[f]) for f in set(pairs.family.tolist())}
    member_of: dict[int, list[int]] = {}
    for k, group in enumerate(pairs.at_most_one):
        for j in group.tolist():
            member_of.setdefault(j, []).append(k)
    taken = np.zeros(len(pairs.at_most_one), dtype=bool)
    order = np.concatenate([np.flatnonzero(start), np.argsort(-pairs.value, kind="stable")])
    for j in order.tolist():
        f, size = int(pairs.family[j]), int(pairs.size[j])
        groups = member_of.get(j, [])
        if chosen[j] or used_free[f] < size or taken[groups].any():
            continue
        chosen[j] = True
        used_free[f] -= size
        taken[groups] = True
    return chosen


def match_batch(
    children: Children,
    pool: Pool,
    weights: MatchWeights | None = None,
    time_limit_s: float = 30.0,
    as_of: pd.Timestamp | None = None,
    workers: int = 2,
) -> BatchResult:
    """Assign the waiting list to the pool: most children placed, then best total fit.

    Solved exactly in two steps. The LP relaxation (GLOP) gives a bound and reduced costs;
    a pair whose reduced cost says that using it would end below a feasible assignment
    (the LP solution rounded down, completed greedily) cannot be in an optimal one and is
    left out. CP-SAT then solves the model over the remaining pairs, starting from that
    assignment; its optimum is the optimum of the whole problem.
    """
    started = time.perf_counter()
    weights = weights or MatchWeights()
    all_units = units(children)
    pairs, unit_cands = _pairs(children, pool, all_units, weights, as_of)
    n = len(pairs.value)
    relaxed = _lp(pairs) if n else None
    lp_bound = math.inf
    start = np.zeros(n, dtype=bool)
    keep = np.ones(n, dtype=bool)
    if relaxed is not None:
        lp_bound, x, reduced = relaxed
        start = _greedy(pairs, x > 1 - 1e-6, pool)
        # first the pairs the LP uses or nearly would (within NEAR points of fit)
        keep = (reduced >= -NEAR * SCALE) | (x > 1e-6) | start
    limit = time_limit_s
    while True:
        remaining = max(0.1, limit - (time.perf_counter() - started))
        status, solution, obj, cp_bound = _cpsat(pairs, keep, start, remaining, workers)
        if status not in ("optimal", "feasible") or relaxed is None:
            break
        # a pair that, used, ends below this solution's value is in no optimal assignment
        # (values are whole numbers; the margin of 1 covers rounding in the sums)
        needed = lp_bound + np.minimum(relaxed[2], 0.0) >= obj - 1.0
        if status != "optimal" or not (needed & ~keep).any():
            break
        keep |= needed
        start = solution
    if status not in ("optimal", "feasible"):
        return BatchResult(
            status,
            pd.DataFrame(),
            pd.DataFrame(),
            None,
            None,
            None,
            time.perf_counter() - started,
            len(children.frame),
            len(all_units),
            n,
        )
    if status == "optimal":
        bound = obj
    else:
        outside = relaxed[2][~keep] if relaxed is not None else np.zeros(0)
        best_outside = lp_bound + float(outside.max()) if outside.size else -math.inf
        bound = min(lp_bound, max(cp_bound, best_outside))
    chosen = {int(pairs.unit[j]): int(pairs.family[j]) for j in np.flatnonzero(solution).tolist()}
    return BatchResult(
        status,
        _assignment(children, pool, all_units, chosen, weights),
        _unplaced(children, pool, all_units, unit_cands, chosen),
        obj,
        bound,
        0.0 if obj == 0 else abs(bound - obj) / abs(obj),
        time.perf_counter() - started,
        len(children.frame),
        len(all_units),
        n,
    )


def _cpsat(
    pairs: _Pairs, keep: np.ndarray, start: np.ndarray, limit: float, workers: int
) -> tuple[Status, np.ndarray, float, float]:
    """CP-SAT over the pairs in ``keep``, hinted with ``start``."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    y = {j: model.new_bool_var(f"y{j}") for j in np.flatnonzero(keep).tolist()}
    for group in pairs.at_most_one:
        members = [y[j] for j in group.tolist() if j in y]
        if len(members) > 1:
            model.add_at_most_one(members)
    for block, free in pairs.capacity:
        terms = [(int(pairs.size[j]), y[j]) for j in block.tolist() if j in y]
        if sum(size for size, _ in terms) > free:
            model.add(sum(size * var for size, var in terms) <= free)
    model.maximize(sum(int(pairs.value[j]) * var for j, var in y.items()))
    for j, var in y.items():
        model.add_hint(var, bool(start[j]))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = workers
    # CP-SAT's presolve turns these at-most-one and capacity rows into a form whose LP no
    # longer bounds the objective (measured: no proof in 60 s, 0.3 s without presolve)
    solver.parameters.cp_model_presolve = False
    name = solver.status_name(solver.solve(model))
    status: Status = {"OPTIMAL": "optimal", "FEASIBLE": "feasible", "MODEL_INVALID": "invalid"}.get(
        name, "timeout"
    )  # type: ignore[assignment]
    solution = np.zeros(len(pairs.value), dtype=bool)
    if status not in ("optimal", "feasible"):
        return status, solution, math.nan, math.nan
    for j, var in y.items():
        solution[j] = solver.boolean_value(var)
    return status, solution, float(solver.objective_value), float(solver.best_objective_bound)


def _assignment(
    children: Children,
    pool: Pool,
    all_units: list[list[str]],
    chosen: dict[int, int],
    weights: MatchWeights,
) -> pd.DataFrame:
    records = []
    ids = pool.frame.index
    for u, f in sorted(chosen.items()):
        members = all_units[u]
        points = criterion_points(children, pool, members, weights, np.array([f]))
        why = "; ".join(reasons(children, pool, members, f))
        for child in members:
            records.append(
                {
                    "child_id": child,
                    "placement_id": str(ids[f]),
                    "unit": members[0],
                    "score": round(sum(float(points[c][0]) for c in CRITERIA), 2),
                    **{c: round(float(points[c][0]), 2) for c in CRITERIA},
                    "reasons": why,
                }
            )
    columns = ["child_id", "placement_id", "unit", "score", *CRITERIA, "reasons"]
    return pd.DataFrame.from_records(records, columns=columns)


def _unplaced(
    children: Children,
    pool: Pool,
    all_units: list[list[str]],
    unit_cands: list[np.ndarray],
    chosen: dict[int, int],
) -> pd.DataFrame:
    records = []
    for u, members in enumerate(all_units):
        if u in chosen:
            continue
        n = len(unit_cands[u])
        if n:
            who = "dit kind" if len(members) == 1 else f"deze {len(members)} broers/zussen"
            reason = (
                f"alle {n} passende gezinnen voor {who} zijn toegewezen aan andere kinderen "
                "(te weinig plekken)"
            )
        else:
            masks = rule_masks(children, pool, members)
            counts = sorted(((int((~m).sum()), r) for r, m in masks.items()), reverse=True)
            parts = [f"{RULE_LABELS[r]} ({nl.number(c)})" for c, r in counts if c]
            reason = "geen gezin voldoet aan de harde regels; uitgesloten door: " + "; ".join(parts)
        for child in members:
            records.append({"child_id": child, "unit": members[0], "reason": reason})
    return pd.DataFrame.from_records(records, columns=["child_id", "unit", "reason"])
