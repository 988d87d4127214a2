"""Suggestions for one child: the best candidate families, with reasons.

:func:`suggest` applies the hard rules (:mod:`capaciteit.matching.rules`) to the whole pool,
scores the remaining families (:mod:`capaciteit.matching.scoring`) and returns the top
``k`` with the score split per criterion and plain reasons in Dutch. When a child is in a
sibling group the suggestions are families that take the whole group. :func:`explain`
says why one family is excluded, rule by rule. Practice aims at 3-5 candidates per child,
hence ``k = 5`` by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit.core import nl
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.matching.pool import Children, Pool
from capaciteit.matching.rules import RULE_LABELS, rule_masks, unit_of, violations
from capaciteit.matching.scoring import CRITERIA, MatchWeights, criterion_points, reasons

MATCHING_REQUEST = "De matchingvraag"
"""``InvalidInputError.what`` of a suggestion or explanation for an unknown id."""


@dataclass(frozen=True)
class Suggestions:
    """The top families for one child.

    Attributes
    ----------
    child_id, siblings
        The child, and the siblings placed with it (the unit).
    table
        One row per suggested family, best first: ``rank``, ``placement_id``, ``score``,
        the points per criterion, and ``reasons`` (Dutch, ``; ``-separated).
    candidates
        How many families pass every hard rule.
    excluded
        Per hard rule, how many families it excludes (a family can fail several).
    """

    child_id: str
    siblings: list[str]
    table: pd.DataFrame
    candidates: int
    excluded: dict[str, int]

    def summary(self) -> str:
        """One line in Dutch: how many candidates, or why there are none."""
        if self.candidates:
            found = nl.plural(self.candidates, "passend gezin", "passende gezinnen")
            return f"{found}; de beste {nl.number(len(self.table))} hieronder."
        worst = sorted(self.excluded.items(), key=lambda kv: -kv[1])
        parts = [f"{RULE_LABELS[r]} ({nl.number(n)})" for r, n in worst if n]
        return "Geen passend gezin. Uitgesloten door: " + "; ".join(parts)


def _child(children: Children, child_id: str) -> None:
    if child_id not in children.frame.index:
        raise InvalidInputError(
            MATCHING_REQUEST,
            [
                Problem(
                    "children",
                    f"kind '{child_id}' staat niet op de wachtlijst.",
                    "Gebruik een child_id uit de tabel children.",
                    id=child_id,
                )
            ],
        )


def suggest(
    children: Children,
    pool: Pool,
    child_id: str,
    k: int = 5,
    weights: MatchWeights | None = None,
) -> Suggestions:
    """Return the ``k`` best families for ``child_id`` (and its siblings)."""
    _child(children, child_id)
    weights = weights or MatchWeights()
    members = unit_of(children, child_id)
    masks = rule_masks(children, pool, members)
    ok = np.ones(len(pool), dtype=bool)
    for m in masks.values():
        ok &= m
    idx = np.flatnonzero(ok)
    points = criterion_points(children, pool, members, weights, idx)
    score = np.sum(np.stack([points[c] for c in CRITERIA]), axis=0) if len(idx) else np.array([])
    take = min(k, len(idx))
    # best score first, ties in table order (candidates are few after the hard rules)
    order = np.lexsort((idx, -np.round(score, 9)))[:take] if take else np.array([], dtype=np.int64)
    ids = pool.frame.index
    table = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "placement_id": [str(ids[idx[j]]) for j in order],
            "score": np.round(score[order], 2) if len(order) else [],
            **{c: np.round(points[c][order], 2) for c in CRITERIA},
            "reasons": ["; ".join(reasons(children, pool, members, int(idx[j]))) for j in order],
        }
    )
    return Suggestions(
        child_id,
        members[1:],
        table,
        len(idx),
        {rule: int((~m).sum()) for rule, m in masks.items()},
    )


@dataclass(frozen=True)
class Explanation:
    """Whether a family can take a child, and if not, every hard rule it fails."""

    child_id: str
    placement_id: str
    eligible: bool
    violations: list[str]
    reasons: list[str]
    score: float | None


def explain(
    children: Children,
    pool: Pool,
    child_id: str,
    placement_id: str,
    weights: MatchWeights | None = None,
) -> Explanation:
    """Explain why ``placement_id`` is or is not a candidate for ``child_id``."""
    _child(children, child_id)
    if placement_id not in pool.frame.index:
        raise InvalidInputError(
            MATCHING_REQUEST,
            [
                Problem(
                    "placements",
                    f"gezin '{placement_id}' staat niet in de pool van gezinnen.",
                    "Gebruik een placement_id uit de tabel placements.",
                    id=placement_id,
                )
            ],
        )
    members = unit_of(children, child_id)
    family = int(pool.frame.index.get_loc(placement_id))  # type: ignore[arg-type]
    broken = violations(children, pool, members, family)
    points = criterion_points(
        children, pool, members, weights or MatchWeights(), np.array([family])
    )
    return Explanation(
        child_id,
        placement_id,
        not broken,
        broken,
        reasons(children, pool, members, family),
        None if broken else float(sum(float(points[c][0]) for c in CRITERIA)),
    )
