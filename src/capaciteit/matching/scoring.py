"""Soft criteria: how well a family fits a child, in points per criterion.

Each criterion gives a value between 0 and 1 that is multiplied by its weight
(:class:`MatchWeights`, defaults below, configurable per request or in a YAML/JSON file);
a family's score is the sum. For a sibling unit the child-specific criteria are averaged
over the children. Criteria:

``network``            the family is the child's own network family (47% of foster
                       children live with family or friends);
``home_distance``      close to the parents' home: ``1 - km / distance_scale_km``, 0 beyond;
``school_distance``    close to the school, the same way (0 when no school is known);
``experience``         share of the child's needs the family has experience with;
``perspective``        the family offers the child's expected duration (short / long);
``identity``           share of the child's identity preferences the family shares;
``own_region``         the family lives in the child's jeugdregio;
``children_in_family`` fewer children already in the family: ``1 - min(n, 4) / 4``.

Distances are great-circle (haversine) distances between coordinates or PC4 centroids.
:func:`criterion_points` scores one unit against many families (suggestions, explanations,
the rows of an assignment); :func:`pair_points` scores arrays of (unit, family) pairs of a
whole waiting list at once with the same formulas (the batch).
``urgency`` does not rank families; in a batch it ranks children when places are short
(:mod:`capaciteit.matching.batch`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from capaciteit.matching.pool import Children, FloatArray, IntArray, Pool
from capaciteit.matching.rules import UnitTable

EARTH_RADIUS_KM = 6371.0088
CRITERIA = (
    "network",
    "home_distance",
    "school_distance",
    "experience",
    "perspective",
    "identity",
    "own_region",
    "children_in_family",
)
PERSPECTIVE_NL = {"short": "kort", "long": "lang"}


MAX_WEIGHT = 1000
"""The largest weight of a criterion (points for a perfect fit)."""


class MatchWeights(BaseModel):
    """Weights of the soft criteria (points for a perfect fit) and the distance scale."""

    # no infinities or NaN, and weights small enough that points x 100 stay integers
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    network: float = Field(default=40, ge=0, le=MAX_WEIGHT, description="own network family")
    home_distance: float = Field(
        default=20, ge=0, le=MAX_WEIGHT, description="close to the parents' home"
    )
    school_distance: float = Field(
        default=15, ge=0, le=MAX_WEIGHT, description="close to the school"
    )
    experience: float = Field(
        default=10, ge=0, le=MAX_WEIGHT, description="experience with the child's needs"
    )
    perspective: float = Field(
        default=10, ge=0, le=MAX_WEIGHT, description="offers the expected duration"
    )
    identity: float = Field(
        default=5, ge=0, le=MAX_WEIGHT, description="shared identity (culture, religion)"
    )
    own_region: float = Field(
        default=5, ge=0, le=MAX_WEIGHT, description="in the child's own region"
    )
    children_in_family: float = Field(
        default=5, ge=0, le=MAX_WEIGHT, description="fewer children already there"
    )
    urgency: float = Field(
        default=30, ge=0, le=MAX_WEIGHT, description="batch: priority of urgent / long waits"
    )
    distance_scale_km: float = Field(
        default=50, gt=0, le=1000, description="distance scoring 0 from here"
    )


def _weighted(
    weights: MatchWeights,
    network: Any,
    sums: dict[str, Any],
    n: Any,
    children_in_family: Any,
) -> dict[str, FloatArray]:
    """Points per criterion: each weight times its share of a perfect fit.

    ``sums`` hold the per-child fits summed over a unit of ``n`` children (a mean is taken);
    a family with four or more children already scores 0 on ``children_in_family``.
    """
    out: dict[str, FloatArray] = {"network": weights.network * np.asarray(network, dtype=float)}
    for name, total in sums.items():
        out[name] = getattr(weights, name) * total / n
    out["children_in_family"] = weights.children_in_family * (
        1 - np.minimum(children_in_family, 4) / 4
    )
    return out


def haversine_km(origin: FloatArray, points: FloatArray) -> FloatArray:
    """Great-circle distance in km from ``origin`` (lat, lon) to each row of ``points``."""
    lat1, lon1 = np.radians(origin[0]), np.radians(origin[1])
    lat2, lon2 = np.radians(points[:, 0]), np.radians(points[:, 1])
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    out: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return out


def haversine_pairs_km(a: FloatArray, b: FloatArray) -> FloatArray:
    """Great-circle distance in km between rows of ``a`` and ``b`` (lat, lon), pair by pair."""
    lat1, lon1 = np.radians(a[:, 0]), np.radians(a[:, 1])
    lat2, lon2 = np.radians(b[:, 0]), np.radians(b[:, 1])
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    out: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return out


def _share(wanted: int, offered: FloatArray | np.ndarray) -> FloatArray:
    """Share of the bits of ``wanted`` that are set in each of ``offered``."""
    total = int(wanted).bit_count()
    if total == 0:
        return np.zeros(len(offered))
    common = np.bitwise_and(offered, wanted)
    counts = np.zeros(len(offered))
    for bit in range(63):
        if wanted >> bit & 1:
            counts += (common >> bit) & 1
    out: FloatArray = counts / total
    return out


def criterion_points(
    children: Children,
    pool: Pool,
    members: list[str],
    weights: MatchWeights,
    families: np.ndarray | None = None,
) -> dict[str, FloatArray]:
    """Points per criterion for the unit ``members`` and each family (or ``families``)."""
    idx = np.arange(len(pool)) if families is None else np.asarray(families)
    pos = [children.position(c) for c in members]
    frame = children.frame
    loc = pool.location[idx]
    scale = weights.distance_scale_km
    n = len(pos)
    home = np.zeros(len(idx))
    school = np.zeros(len(idx))
    experience = np.zeros(len(idx))
    identity = np.zeros(len(idx))
    perspective = np.zeros(len(idx))
    region = np.zeros(len(idx))
    for i in pos:
        home += np.clip(1 - haversine_km(children.home[i], loc) / scale, 0, 1)
        if not np.isnan(children.school[i]).any():
            school += np.clip(1 - haversine_km(children.school[i], loc) / scale, 0, 1)
        experience += _share(int(children.needs[i]), pool.experience[idx])
        identity += _share(int(children.identity[i]), pool.identity[idx])
        if children.perspective[i]:
            perspective += (pool.perspective[idx] & children.perspective[i]) != 0
        child_region = frame["region"].iloc[i]
        if isinstance(child_region, str) and child_region:
            region += pool.region[idx] == child_region
    own_network = {str(frame["network_family"].iloc[i]) for i in pos} - {"", "None", "nan"}
    network = np.isin(pool.network_for[idx], members) | np.isin(
        pool.frame.index.to_numpy()[idx], list(own_network)
    )
    sums = {
        "home_distance": home,
        "school_distance": school,
        "experience": experience,
        "perspective": perspective,
        "identity": identity,
        "own_region": region,
    }
    return _weighted(weights, network, sums, n, pool.children_in_family[idx])


def _share_pairs(wanted: IntArray, offered: IntArray) -> FloatArray:
    """Pair by pair: share of the bits of ``wanted`` that are set in ``offered`` (0 if none)."""
    total = np.zeros(len(wanted), dtype=np.int64)
    common = np.zeros(len(wanted), dtype=np.int64)
    seen = int(np.bitwise_or.reduce(wanted)) if len(wanted) else 0
    for bit in range(63):
        if seen >> bit & 1:
            total += (wanted >> bit) & 1
            common += ((wanted & offered) >> bit) & 1
    out: FloatArray = np.divide(
        common.astype(float), total, out=np.zeros(len(wanted)), where=total > 0
    )
    return out


def pair_points(
    children: Children,
    pool: Pool,
    table: UnitTable,
    network: IntArray,
    unit: IntArray,
    family: IntArray,
    weights: MatchWeights,
) -> dict[str, FloatArray]:
    """Points per criterion for each (unit, family) pair; as :func:`criterion_points`.

    ``table`` and ``network`` are :func:`~capaciteit.matching.rules.unit_table` and
    :func:`~capaciteit.matching.rules.network_unit`; ``unit`` and ``family`` are 1-D arrays.
    Members are added in the same order as :func:`criterion_points` does, so both give the
    same numbers.
    """
    frame = children.frame
    m = len(unit)
    loc = pool.location[family]
    scale = weights.distance_scale_km
    n = table.size[unit]
    home, school, experience = np.zeros(m), np.zeros(m), np.zeros(m)
    identity, perspective, region = np.zeros(m), np.zeros(m), np.zeros(m)
    names = {r: k for k, r in enumerate(sorted({str(r) for r in pool.region}))}
    pool_region = np.array([names[str(r)] for r in pool.region], dtype=np.int64)
    child_region = np.array(
        [names.get(r, -2) if isinstance(r, str) and r else -1 for r in frame["region"]],
        dtype=np.int64,
    )
    own = frame["network_family"].to_numpy(dtype=object)
    own_family = pool.frame.index.get_indexer(
        pd.Index([str(v) if str(v) not in ("", "None", "nan") else "" for v in own])
    )
    network_pair = network[family] == unit
    for k in range(table.position.shape[1]):
        pos = table.position[unit, k]
        at = np.flatnonzero(pos >= 0)
        i, f = pos[at], family[at]
        home[at] += np.clip(1 - haversine_pairs_km(children.home[i], loc[at]) / scale, 0, 1)
        known = ~np.isnan(children.school[i]).any(axis=1)
        near = np.clip(1 - haversine_pairs_km(children.school[i], loc[at]) / scale, 0, 1)
        school[at] += np.where(known, near, 0.0)
        experience[at] += _share_pairs(children.needs[i], pool.experience[f])
        identity[at] += _share_pairs(children.identity[i], pool.identity[f])
        perspective[at] += (pool.perspective[f] & children.perspective[i]) != 0
        region[at] += pool_region[f] == child_region[i]
        network_pair[at] |= own_family[i] == f
    sums = {
        "home_distance": home,
        "school_distance": school,
        "experience": experience,
        "perspective": perspective,
        "identity": identity,
        "own_region": region,
    }
    return _weighted(weights, network_pair, sums, n, pool.children_in_family[family])


def total_points(points: dict[str, FloatArray]) -> FloatArray:
    """Add up the criteria's points: the score."""
    out: FloatArray = np.sum(np.stack([points[c] for c in CRITERIA]), axis=0)
    return out


def reasons(children: Children, pool: Pool, members: list[str], family: int) -> list[str]:
    """Plain Dutch reasons why family (position) ``family`` fits the unit."""
    frame = children.frame
    pos = [children.position(c) for c in members]
    here = pool.location[family : family + 1]
    out = []
    fid = str(pool.frame.index[family])
    if pool.network_for[family] in members or any(
        str(frame["network_family"].iloc[i]) == fid for i in pos
    ):
        out.append("netwerkgezin van het kind")
    km = [float(haversine_km(children.home[i], here)[0]) for i in pos]
    out.append(f"{min(km):.1f} km van huis".replace(".", ","))
    school = [
        float(haversine_km(children.school[i], here)[0])
        for i in pos
        if not np.isnan(children.school[i]).any()
    ]
    if school:
        out.append(f"{min(school):.1f} km van school".replace(".", ","))
    vocab = children.vocabulary
    needs = int(np.bitwise_or.reduce(children.needs[pos]))
    shared = vocab.names(needs & int(pool.experience[family]), vocab.needs)
    if shared:
        out.append(f"ervaring met {', '.join(shared)}")
    wanted = {str(frame["perspective"].iloc[i]) for i in pos} & set(PERSPECTIVE_NL)
    offered = vocab.names(int(pool.perspective[family]), vocab.perspectives)
    if wanted and wanted <= set(offered):
        out.append(f"biedt perspectief {' en '.join(PERSPECTIVE_NL[w] for w in sorted(wanted))}")
    ident = int(np.bitwise_or.reduce(children.identity[pos])) & int(pool.identity[family])
    if ident:
        out.append(f"passende identiteit: {', '.join(vocab.names(ident, vocab.identity))}")
    regions = {str(frame["region"].iloc[i]) for i in pos} - {"", "None", "nan"}
    if pool.region[family] and pool.region[family] in regions:
        out.append("in de eigen regio")
    others = int(pool.children_in_family[family])
    out.append(
        "geen andere kinderen in het gezin"
        if others == 0
        else f"{others} {'ander kind' if others == 1 else 'andere kinderen'} in het gezin"
    )
    if len(members) > 1:
        out.append(f"{len(members)} broers/zussen samen")
    return out
