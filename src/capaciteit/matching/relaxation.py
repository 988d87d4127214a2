"""The LP relaxation of a batch assignment: a bound, reduced costs, and which pairs matter.

The integer model has one 0/1 variable ``x_j`` per candidate pair ``j``
(:mod:`capaciteit.matching.candidates`) and these rows, all ``A x <= b``:

``unit``      each unit goes to at most one family;
``capacity``  a family takes at most ``free_places`` children (coefficient: unit size);
``pairs``     a family with 2 or 3 free places takes at most one sibling pair;
``cover``     a family with 2 free places takes a single child or a pair, not both (one
              row per single child: ``x_single + sum x_pair <= 1``);
``siblings``  units of one sibling group split by a contra-indication never share a family.

``pairs`` and ``cover`` are implied by ``capacity`` for whole numbers, but close most of
the LP's gap on sibling pairs.

The bound, for any duals
    For any row weights ``y >= 0`` let ``d = c - A'y``. Every assignment ``x`` has
    ``c'x = d'x + y'Ax <= d'x + b'y``, and since a unit takes at most one family,
    ``d'x <= sum_u m_u`` with ``m_u = max(0, max of d_j over the unit's pairs)``. So
    ``B = b'y + sum_u m_u`` bounds every assignment, and one that uses pair ``j`` (of unit
    ``u``) is worth at most ``B + r_j`` with ``r_j = d_j - m_u <= 0``. Both hold for every
    ``y >= 0``, optimal or not, so the bound does not depend on the LP solver's tolerances,
    and ``r`` is computed here for *all* pairs, also those the LP never saw
    (:func:`reduced_costs`).

Column generation
    The LP of 5,000 units x 25,000 families has a million pairs, most of them far from
    any optimum (a family 40 km away when ten nearer ones are free). It starts with the
    ``START_PER_UNIT`` best pairs of every unit; the duals price every pair in one numpy
    pass, and the best pairs per unit with ``d_j > -MARGIN`` join (not only ``d_j > 0``:
    the duals of this LP are degenerate, and pairs just below 0 would price in one by one
    over many rounds). It stops when no pair has ``d_j > 0`` (the restricted LP's optimum
    is the LP optimum over all pairs: ``optimal``) or when the bound is within ``CLOSE``
    of the restricted LP's optimum (``converged``). The LP is solved by HiGHS
    (``scipy.optimize.linprog``, dual simplex) from sparse arrays, its objective scaled
    (``LP_COST``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from capaciteit.matching.candidates import Pairs
from capaciteit.matching.pool import FloatArray, IntArray

UNIT, CAPACITY, PAIRS, COVER, SIBLINGS = range(5)
"""Row kinds."""
START_PER_UNIT = 12
"""Best pairs per unit in the first restricted LP."""
ADD_PER_UNIT = 12
"""Most pairs per unit that join per round of column generation."""
MARGIN = 1000
"""Pairs with a reduced cost above ``-MARGIN`` join too (10 points of fit): on 5,000 x
25,000 the LP then converged in 3 rounds (8 s) instead of 8 (18 s)."""
TOLERANCE = 0.5
"""A reduced cost above this prices a pair in (objective units: about 1e8 per child; the
duals come back from the scaled LP with errors of a few hundredths)."""
LP_COST = 1000.0
"""The LP's objective is scaled to at most this: HiGHS' dual simplex took 5x longer on the
unscaled values (about 1e8 per child, differences of 1 matter), and scaled down to 1 a
difference of 1 fell below its tolerances."""
CLOSE = 500
"""Column generation stops when the bound is this close to the restricted LP optimum (5
points of fit: half the margin the first CP-SAT model keeps around the LP optimum)."""


@dataclass(frozen=True)
class Rows:
    """The rows ``A x <= b`` over some of the pairs, as sparse triplets.

    Attributes
    ----------
    row, col, coef
        Non-zeros: row number, pair (index into :class:`Pairs`), coefficient.
    rhs, kind, key
        Per row: ``b``, the kind (``UNIT`` ... ``SIBLINGS``), and what it is about: the
        unit, the family, the single child's pair (``COVER``) or ``group x families +
        family`` (``SIBLINGS``).
    """

    row: IntArray
    col: IntArray
    coef: IntArray
    rhs: IntArray
    kind: IntArray
    key: IntArray

    def __len__(self) -> int:
        return len(self.rhs)


def _ragged(starts: IntArray, lengths: IntArray) -> IntArray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])``, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    out: IntArray = np.repeat(starts, lengths) + np.arange(total) - offsets
    return out


def build_rows(pairs: Pairs, cols: IntArray) -> Rows:
    """Return the rows over the pairs ``cols`` (sorted indices); redundant rows left out."""
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]] = []
    n_rows = 0

    def add(kind: int, keys: IntArray, rhs: IntArray, members: IntArray, where: IntArray) -> None:
        """Add one row per key; ``members`` are pairs, ``where`` their row among ``keys``."""
        nonlocal n_rows
        coef = pairs.size[members] if kind == CAPACITY else np.ones(len(members), np.int64)
        parts.append(
            (
                n_rows + where,
                members,
                coef,
                rhs,
                np.full(len(keys), kind, dtype=np.int64),
                keys,
            )
        )
        n_rows += len(keys)

    unit, family, size = pairs.unit[cols], pairs.family[cols], pairs.size[cols]
    # each unit at most once (also a single pair: its dual prices the unit's other pairs)
    keys, where = np.unique(unit, return_inverse=True)
    add(UNIT, keys, np.ones(len(keys), np.int64), cols, where)
    # free places, where the candidates could overfill the family
    keys, where = np.unique(family, return_inverse=True)
    load = np.bincount(where, weights=size)
    full = load > pairs.free[keys]
    take = full[where]
    add(
        CAPACITY,
        keys[full],
        pairs.free[keys[full]],
        cols[take],
        np.cumsum(full)[where[take]] - 1,
    )
    # at most one sibling pair in a family with 2 or 3 free places
    pair_cols = cols[(size == 2) & np.isin(pairs.free[family], (2, 3))]
    keys, where, count = np.unique(pairs.family[pair_cols], return_inverse=True, return_counts=True)
    many = count > 1
    take = many[where]
    add(
        PAIRS,
        keys[many],
        np.ones(int(many.sum()), np.int64),
        pair_cols[take],
        np.cumsum(many)[where[take]] - 1,
    )
    # cover: a family with 2 free places takes a single child or one sibling pair
    two = pair_cols[pairs.free[pairs.family[pair_cols]] == 2]
    two = two[np.argsort(pairs.family[two], kind="stable")]
    two_family = pairs.family[two]
    singles = cols[(size == 1) & (pairs.free[family] == 2)]
    first = np.searchsorted(two_family, pairs.family[singles], side="left")
    count = np.searchsorted(two_family, pairs.family[singles], side="right") - first
    singles, first, count = singles[count > 0], first[count > 0], count[count > 0]
    rows = np.arange(len(singles), dtype=np.int64)
    add(
        COVER,
        singles,
        np.ones(len(singles), np.int64),
        np.concatenate([singles, two[_ragged(first, count)]]),
        np.concatenate([rows, np.repeat(rows, count)]),
    )
    # units of one sibling group never in one family
    grouped = cols[pairs.table.group[unit] >= 0]
    flat = pairs.table.group[pairs.unit[grouped]] * len(pairs.free) + pairs.family[grouped]
    keys, where, count = np.unique(flat, return_inverse=True, return_counts=True)
    many = count > 1
    take = many[where]
    add(
        SIBLINGS,
        keys[many],
        np.ones(int(many.sum()), np.int64),
        grouped[take],
        np.cumsum(many)[where[take]] - 1,
    )
    row, col, coef, rhs, kind, key = (
        np.concatenate(p).astype(np.int64) for p in zip(*parts, strict=True)
    )
    return Rows(row, col, coef, rhs, kind, key)


def reduced_costs(pairs: Pairs, rows: Rows, y: FloatArray) -> FloatArray:
    """``d = c - A'y`` for every pair, with ``A`` the rows over *all* pairs.

    ``rows`` may be built over some of the pairs only: each of its rows is the restriction
    of a row of the full model (the same unit, family, sibling group or single child), and
    the full rows it lacks get weight 0. So a pair outside ``rows`` is priced by the rows it
    would be in.
    """
    d = pairs.value.astype(float)
    n_families = len(pairs.free)

    def per(kind: int, length: int) -> FloatArray:
        out = np.zeros(length)
        at = rows.kind == kind
        np.add.at(out, rows.key[at], y[at])
        return out

    d -= per(UNIT, len(pairs.table))[pairs.unit]
    d -= pairs.size * per(CAPACITY, n_families)[pairs.family]
    is_pair = pairs.size == 2
    d -= np.where(is_pair, per(PAIRS, n_families)[pairs.family], 0.0)
    cover = rows.kind == COVER
    # a sibling pair is in every cover row of its family, a single child in its own
    cover_sum = np.zeros(n_families)
    np.add.at(cover_sum, pairs.family[rows.key[cover]], y[cover])
    d -= np.where(is_pair, cover_sum[pairs.family], 0.0)
    np.subtract.at(d, rows.key[cover], y[cover])
    sib = rows.kind == SIBLINGS
    if sib.any():
        keys, weight = rows.key[sib], y[sib]
        grouped = np.flatnonzero(pairs.table.group[pairs.unit] >= 0)
        flat = pairs.table.group[pairs.unit[grouped]] * n_families + pairs.family[grouped]
        at = np.searchsorted(keys, flat)
        hit = (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == flat)
        d[grouped[hit]] -= weight[at[hit]]
    return d


def bound_of(pairs: Pairs, rows: Rows, y: FloatArray, d: FloatArray) -> tuple[float, FloatArray]:
    """``(B, r)``: the bound ``b'y + sum_u m_u`` and per pair ``r_j`` (see the module doc)."""
    best = np.zeros(len(pairs.table))
    np.maximum.at(best, pairs.unit, d)
    bound = math.fsum([*(rows.rhs * y).tolist(), *best.tolist()])
    return bound, d - best[pairs.unit]


@dataclass(frozen=True)
class Relaxation:
    """What the LP says about all pairs.

    Attributes
    ----------
    bound
        No assignment is worth more.
    reduced
        Per pair, ``r_j <= 0``: an assignment that uses it is worth at most ``bound + r_j``.
    x
        Per pair, the latest restricted LP's solution (0 for pairs it did not see), also
        when its duals bound less tightly than an earlier round's.
    status
        ``optimal`` (the LP optimum over all pairs), ``converged`` (within ``CLOSE`` of
        it), ``partial`` (the time limit stopped column generation: the bound is valid,
        less tight) or ``trivial`` (no LP in time: every unit in its best family).
    lp_pairs, rounds, time_s
        Pairs in the last restricted LP, LP solves, seconds.
    """

    bound: float
    reduced: FloatArray
    x: FloatArray
    status: str
    lp_pairs: int
    rounds: int
    time_s: float


def trivial(pairs: Pairs) -> Relaxation:
    """Return the bound without an LP (``y = 0``): every unit in its best family."""
    bound, reduced = bound_of(pairs, _NO_ROWS, np.zeros(0), pairs.value.astype(float))
    return Relaxation(bound, reduced, np.zeros(len(pairs)), "trivial", 0, 0, 0.0)


_EMPTY = np.zeros(0, dtype=np.int64)
_NO_ROWS = Rows(_EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY)


def _top(pairs: Pairs, score: FloatArray, mask: npt.NDArray[np.bool_], k: int) -> IntArray:
    """Return at most ``k`` pairs per unit with the highest ``score`` among ``mask``."""
    idx = np.flatnonzero(mask)
    order = idx[np.lexsort((-score[idx], pairs.unit[idx]))]
    units = pairs.unit[order]
    first = np.searchsorted(units, units, side="left")
    rank = np.arange(len(order)) - first
    out: IntArray = np.sort(order[rank < k])
    return out


def solve_lp(pairs: Pairs, deadline: float) -> Relaxation:
    """Column generation until it converges or ``deadline`` (``perf_counter``) passes.

    Whatever happens, the result carries a valid bound and ``r`` for every pair.
    """
    started = time.perf_counter()
    best = trivial(pairs)
    if not len(pairs):
        return best
    inside = np.zeros(len(pairs), dtype=bool)
    inside[_top(pairs, pairs.value.astype(float), ~inside, START_PER_UNIT)] = True
    rounds = 0
    status = "partial"
    x = best.x
    scale = LP_COST / float(pairs.value.max())
    while True:
        left = deadline - time.perf_counter()
        if left <= 0.05:
            break
        from scipy.optimize import linprog  # a third of a second the first time
        from scipy.sparse import csr_matrix

        cols = np.flatnonzero(inside)
        rows = build_rows(pairs, cols)
        local = np.searchsorted(cols, rows.col)
        matrix = csr_matrix(
            (rows.coef.astype(float), (rows.row, local)), shape=(len(rows), len(cols))
        )
        result = linprog(
            -pairs.value[cols] * scale,
            A_ub=matrix,
            b_ub=rows.rhs.astype(float),
            bounds=(0.0, 1.0),
            method="highs-ds",
            options={"time_limit": left},
        )
        rounds += 1
        if result.status != 0 or result.ineqlin is None:
            break
        y = np.maximum(-np.asarray(result.ineqlin.marginals, dtype=float), 0.0) / scale
        d = reduced_costs(pairs, rows, y)
        bound, reduced = bound_of(pairs, rows, y, d)
        x = np.zeros(len(pairs))  # the latest LP solution, for the start
        x[cols] = np.clip(result.x, 0.0, 1.0)
        if bound < best.bound:
            best = Relaxation(bound, reduced, x, "partial", len(cols), rounds, 0.0)
        priced = (d > TOLERANCE) & ~inside
        if not priced.any():
            status = "optimal"
            break
        if best.bound <= -float(result.fun) / scale + CLOSE:
            status = "converged"
            break
        # the pairs that price in, and those that nearly do: degenerate duals would price
        # those in one by one over many rounds
        inside[_top(pairs, d, (d > -MARGIN) & ~inside, ADD_PER_UNIT)] = True
    return Relaxation(
        best.bound,
        best.reduced,
        x,
        status if best.status != "trivial" else "trivial",
        best.lp_pairs,
        rounds,
        time.perf_counter() - started,
    )
