"""Candidate pairs of a waiting list: every (unit, family) that passes the hard rules.

A batch assignment chooses among *pairs*: a unit (siblings together, see
:mod:`capaciteit.matching.rules`) and a family that may take it. Building them one unit at
a time costs a pass over the whole pool per unit (5,000 units x 25,000 families: 7 s).
Here it is one numpy step per block of units:

1. only *open* families can take anyone (available, at least one free place): at the
   national shares that is one family in seven;
2. a block of units (a column) against all open families (a row): every rule of
   :func:`~capaciteit.matching.rules.pair_masks` broadcast to a ``units x families``
   table of booleans, at most a few million cells per block, so memory stays small;
3. the allowed cells become pairs, sorted by unit then family (table order), and are
   scored all at once (:func:`~capaciteit.matching.scoring.pair_points`).

Each pair gets its value in the batch objective, a whole number::

    value = PLACE x children in the unit + urgency points of the unit + fit points

with fit and urgency in hundredths of a point, and ``PLACE`` one more than the best fit
plus urgency of every unit together, so that one more child placed is worth more than any
fit (:mod:`capaciteit.matching.batch`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit.matching.pool import Children, IntArray, Pool
from capaciteit.matching.rules import UnitTable, network_unit, pair_masks, unit_table
from capaciteit.matching.scoring import CRITERIA, MatchWeights, pair_points

SCALE = 100
"""Score points are multiplied by this and rounded: the objective is integral."""
BLOCK_CELLS = 4_000_000
"""Unit x family cells evaluated in one numpy step (about 4 MB per boolean table)."""


@dataclass(frozen=True)
class Pairs:
    """Every candidate (unit, family) pair of a waiting list, sorted by unit then family.

    Attributes
    ----------
    table
        The units (:class:`~capaciteit.matching.rules.UnitTable`).
    network
        Per family, the unit it is the network family of (-1: none).
    unit, family, size
        Per pair: the unit, the family (row position in the pool), children in the unit.
    value
        Per pair, its value in the objective (see the module doc).
    fit, urgency
        Per pair the fit points, per unit the urgency points (hundredths of a point).
    place
        Worth of one placed child in the objective.
    free
        Free places per family (the pool's ``free_places``).
    """

    table: UnitTable
    network: IntArray
    unit: IntArray
    family: IntArray
    size: IntArray
    value: IntArray
    fit: IntArray
    urgency: IntArray
    place: int
    free: IntArray

    def __len__(self) -> int:
        return len(self.unit)

    @property
    def per_unit(self) -> IntArray:
        """Number of candidate families per unit."""
        out: IntArray = np.bincount(self.unit, minlength=len(self.table))
        return out

    def unit_starts(self) -> IntArray:
        """Index of the first pair of each unit (and the total at the end)."""
        out: IntArray = np.concatenate([[0], np.cumsum(self.per_unit)]).astype(np.int64)
        return out


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


def candidate_pairs(
    children: Children,
    pool: Pool,
    weights: MatchWeights,
    as_of: pd.Timestamp | None = None,
) -> Pairs:
    """Return every pair that passes the hard rules, with its value (see the module doc)."""
    table = unit_table(children)
    network = network_unit(children, pool, table)
    open_families = np.flatnonzero(pool.available & (pool.free_places >= 1))
    units_found: list[IntArray] = []
    families_found: list[IntArray] = []
    block = max(1, BLOCK_CELLS // max(1, len(open_families)))
    for first in range(0, len(table), block):
        unit = np.arange(first, min(first + block, len(table)), dtype=np.int64)
        allowed = np.ones((len(unit), len(open_families)), dtype=bool)
        for ok in pair_masks(table, pool, network, unit[:, None], open_families[None, :]).values():
            allowed &= ok
        rows, cols = np.nonzero(allowed)
        units_found.append(unit[rows])
        families_found.append(open_families[cols])
    empty = np.zeros(0, dtype=np.int64)
    unit = np.concatenate(units_found) if units_found else empty
    family = np.concatenate(families_found) if families_found else empty
    points = pair_points(children, pool, table, network, unit, family, weights)
    score = np.sum(np.stack([points[c] for c in CRITERIA]), axis=0) if len(unit) else np.zeros(0)
    size = table.size[unit]
    fit = np.rint(score * SCALE * size).astype(np.int64)
    urgent = urgency_points(children, weights, as_of).to_numpy(dtype=float)
    total = np.zeros(len(table))
    for k in range(table.position.shape[1]):
        pos = table.position[:, k]
        total = total + np.where(pos >= 0, urgent[np.maximum(pos, 0)], 0.0)
    urgency = np.rint(SCALE * total).astype(np.int64)
    best_fit = np.zeros(len(table), dtype=np.int64)
    np.maximum.at(best_fit, unit, fit)
    place = 1 + int(best_fit.sum()) + int(urgency.sum())
    value = place * size + urgency[unit] + fit
    return Pairs(
        table=table,
        network=network,
        unit=unit,
        family=family,
        size=size,
        value=value,
        fit=fit,
        urgency=urgency,
        place=place,
        free=pool.free_places.astype(np.int64),
    )
