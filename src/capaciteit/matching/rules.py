"""Hard rules: which families can take a child (or a sibling group) at all.

Siblings are placed together, "samen, tenzij": the children of one ``sibling_group`` form
one *unit* that needs one family with room for all of them, except a child with a recorded
contra-indication, who is a unit of its own and is never placed with those siblings. Every
rule is evaluated for a unit against the whole pool at once (numpy), so that one child's
candidates among 20,000 families take well under a millisecond. For a whole waiting list,
:func:`pair_masks` evaluates the same rules on arrays of (unit, family) pairs with numpy
broadcasting: a block of units against every open family in one step
(:mod:`capaciteit.matching.candidates`), or the pairs of an assignment to check it.

The rules, in the order :func:`explain` reports them:

``available``     the family is available now;
``capacity``      it has a free place for every child of the unit;
``siblings``      it takes that many siblings together (``max_siblings``);
``trede``         it offers the trede every child of the unit needs;
``age``           every child's age is in its accepted range;
``needs``         it can handle every need of every child;
``network``       a network family takes only the child it is the network of (with the
                  siblings placed together with that child: its unit).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit._pandas import as_int
from capaciteit.matching.pool import BoolArray, Children, IntArray, Pool

RULES: dict[str, str] = {
    "available": "het gezin is nu niet beschikbaar",
    "capacity": "het gezin heeft geen vrije plek voor {n}",
    "siblings": "het gezin neemt niet {n} broers/zussen samen op",
    "trede": "het gezin biedt trede {trede} niet",
    "age": "leeftijd {age} valt buiten het leeftijdsbereik {age_min}-{age_max} jaar",
    "needs": "het gezin kan {needs} niet bieden",
    "network": "dit is het netwerkgezin van een ander kind",
}
"""Rule id -> the reason a family is excluded, in Dutch (filled in by :func:`violations`)."""
RULE_LABELS: dict[str, str] = {
    "available": "niet beschikbaar",
    "capacity": "geen vrije plek",
    "siblings": "neemt de broers/zussen niet samen op",
    "trede": "biedt de trede niet",
    "age": "leeftijd buiten het bereik",
    "needs": "kan de zorgbehoefte niet bieden",
    "network": "netwerkgezin van een ander kind",
}
"""Rule id -> a short Dutch label, for counts of excluded families."""


def unit_of(children: Children, child_id: str) -> list[str]:
    """Children placed together with ``child_id`` (itself first).

    The members of its sibling group without a contra-indication, or the child alone when
    it has one or has no siblings on the list.
    """
    return list(children.units[child_id])


def units(children: Children) -> list[list[str]]:
    """Every unit on the waiting list, in table order of its first child."""
    seen: set[str] = set()
    out = []
    for child in children.ids:
        if child in seen:
            continue
        unit = unit_of(children, child)
        seen.update(unit)
        out.append(unit)
    return out


@dataclass(frozen=True)
class UnitTable:
    """Every unit of a waiting list as arrays, for rules and scores on many pairs at once.

    Attributes
    ----------
    members
        The child ids of each unit (:func:`units`).
    position
        ``(units, largest unit)``: row positions of the members in the children table,
        padded with -1.
    size, age_min, age_max
        Children per unit, youngest and oldest age.
    needs, tredes
        Bit masks: every need of any member; the trede of every member.
    group
        A code per sibling group that is split over several units (a contra-indication),
        else -1: two units with one code never share a family.
    of_child
        Per child position, its unit.
    """

    members: list[list[str]]
    position: IntArray
    size: IntArray
    age_min: IntArray
    age_max: IntArray
    needs: IntArray
    tredes: IntArray
    group: IntArray
    of_child: IntArray

    def __len__(self) -> int:
        return len(self.members)


def unit_table(children: Children) -> UnitTable:
    """Return the units of the waiting list (table order of their first child) as arrays."""
    members = units(children)
    width = max((len(m) for m in members), default=1)
    position = np.full((len(members), width), -1, dtype=np.int64)
    of_child = np.full(len(children.frame), -1, dtype=np.int64)
    row_of = {str(c): i for i, c in enumerate(children.frame.index)}
    for u, unit in enumerate(members):
        pos = [row_of[c] for c in unit]
        position[u, : len(unit)] = pos
        of_child[pos] = u
    size = np.array([len(m) for m in members], dtype=np.int64)
    filled = position >= 0
    at = np.where(filled, position, 0)
    ages = np.asarray(children.frame["age"], dtype=np.int64)[at]
    big = np.iinfo(np.int64).max
    groups = children.frame["sibling_group"].to_numpy(dtype=object)
    firsts = [groups[p] if isinstance(groups[p], str) else "" for p in position[:, 0]]
    counts = Counter(g for g in firsts if g)
    split = sorted(g for g, n in counts.items() if n > 1)
    codes = {g: k for k, g in enumerate(split)}
    return UnitTable(
        members=members,
        position=position,
        size=size,
        age_min=np.where(filled, ages, big).min(axis=1),
        age_max=np.where(filled, ages, -1).max(axis=1),
        needs=np.bitwise_or.reduce(np.where(filled, children.needs[at], 0), axis=1),
        tredes=np.bitwise_or.reduce(np.where(filled, children.trede[at], 0), axis=1),
        group=np.array([codes.get(g, -1) for g in firsts], dtype=np.int64),
        of_child=of_child,
    )


def network_unit(children: Children, pool: Pool, table: UnitTable) -> IntArray:
    """Per family, the unit it is the network family of: -1 for none, -2 for a child absent."""
    out = np.full(len(pool), -1, dtype=np.int64)
    named = np.flatnonzero(pool.network_for != "")
    pos = children.frame.index.get_indexer(pd.Index(pool.network_for[named]))
    out[named] = np.where(pos >= 0, table.of_child[np.maximum(pos, 0)], -2)
    return out


def pair_masks(
    table: UnitTable, pool: Pool, network: IntArray, unit: IntArray, family: IntArray
) -> dict[str, BoolArray]:
    """Per rule, whether family ``family`` may take unit ``unit`` (True = allowed).

    ``unit`` and ``family`` are integer arrays that broadcast against each other: two 1-D
    arrays of pairs, or a column of units against a row of families. ``network`` is
    :func:`network_unit`. Agrees with :func:`rule_masks` rule by rule.
    """
    size = table.size[unit]
    wanted = table.tredes[unit]
    return {
        "available": pool.available[family],
        "capacity": pool.free_places[family] >= size,
        "siblings": (size == 1) | (pool.max_siblings[family] >= size),
        "trede": (pool.tredes[family] & wanted) == wanted,
        "age": (pool.age_min[family] <= table.age_min[unit])
        & (pool.age_max[family] >= table.age_max[unit]),
        "needs": (table.needs[unit] & ~pool.can_handle[family]) == 0,
        "network": (network[family] == -1) | (network[family] == unit),
    }


def rule_masks(children: Children, pool: Pool, members: list[str]) -> dict[str, BoolArray]:
    """Per rule, which families satisfy it for the unit ``members`` (True = allowed)."""
    pos = [children.position(c) for c in members]
    n = len(members)
    frame = children.frame
    ages = [int(frame["age"].iloc[i]) for i in pos]
    needs = np.bitwise_or.reduce(children.needs[pos])
    tredes_ok = np.ones(len(pool), dtype=bool)
    for i in pos:
        tredes_ok &= (pool.tredes & children.trede[i]) != 0
    return {
        "available": pool.available,
        "capacity": pool.free_places >= n,
        "siblings": pool.max_siblings >= n if n > 1 else np.ones(len(pool), dtype=bool),
        "trede": tredes_ok,
        "age": (pool.age_min <= min(ages)) & (pool.age_max >= max(ages)),
        "needs": (needs & ~pool.can_handle) == 0,
        "network": (pool.network_for == "") | np.isin(pool.network_for, members),
    }


def candidates(children: Children, pool: Pool, members: list[str]) -> BoolArray:
    """Families that satisfy every hard rule for the unit ``members``."""
    masks = rule_masks(children, pool, members)
    out = np.ones(len(pool), dtype=bool)
    for m in masks.values():
        out &= m
    return out


def violations(children: Children, pool: Pool, members: list[str], family: int) -> list[str]:
    """List the Dutch reasons why family (position) ``family`` cannot take the unit."""
    masks = rule_masks(children, pool, members)
    frame = children.frame
    out = []
    for rule, ok in masks.items():
        if ok[family]:
            continue
        text = RULES[rule]
        if rule == "capacity":
            free = int(pool.free_places[family])
            what = "dit kind" if len(members) == 1 else f"{len(members)} kinderen"
            text = text.format(n=what) + f" ({free} vrij)"
        elif rule == "siblings":
            text = text.format(n=len(members)) + f" (hoogstens {pool.max_siblings[family]})"
        elif rule == "trede":
            wanted = sorted({str(frame.at[c, "trede"]) for c in members})
            text = text.format(trede=" en ".join(wanted))
        elif rule == "age":
            ages = sorted({as_int(frame.at[c, "age"]) for c in members})
            text = text.format(
                age=" en ".join(str(a) for a in ages),
                age_min=pool.age_min[family],
                age_max=pool.age_max[family],
            )
        elif rule == "needs":
            missing = int(
                np.bitwise_or.reduce(children.needs[[children.position(c) for c in members]])
            )
            missing &= ~int(pool.can_handle[family])
            text = text.format(
                needs=", ".join(children.vocabulary.names(missing, children.vocabulary.needs))
            )
        out.append(f"{rule}: {text}")
    return out
