"""Hard rules: which families can take a child (or a sibling group) at all.

Siblings are placed together, "samen, tenzij": the children of one ``sibling_group`` form
one *unit* that needs one family with room for all of them, except a child with a recorded
contra-indication, who is a unit of its own and is never placed with those siblings. Every
rule is evaluated for a unit against the whole pool at once (numpy), so that one child's
candidates among 20,000 families take well under a millisecond.

The rules, in the order :func:`explain` reports them:

``available``     the family is available now;
``capacity``      it has a free place for every child of the unit;
``siblings``      it takes that many siblings together (``max_siblings``);
``trede``         it offers the trede every child of the unit needs;
``age``           every child's age is in its accepted range;
``needs``         it can handle every need of every child;
``network``       a network family takes only the child it is the network of.
"""

from __future__ import annotations

import numpy as np

from capaciteit._pandas import as_int
from capaciteit.matching.pool import BoolArray, Children, Pool

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
