"""Pleegzorg matching, checked against an independent re-implementation of its rules.

Every expected number here is derived by this file's own code from the raw tables: the hard
rules, the sibling units ("samen, tenzij"), the soft criteria (haversine distances, shares of
tags), the urgency points and the objective. The module is only used as the thing under test:
``build``/``load_pool`` to read, ``suggest``/``explain`` for one child and ``match_batch`` for
a waiting list. Optimality is checked by brute force on tiny instances, against
``scipy.optimize.linear_sum_assignment`` on instances without siblings and against an
independent MILP (HiGHS via ``scipy.optimize.milp``) on instances with many competing sibling
pairs; every batch result goes through :func:`check_assignment`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp

from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.pool_files import load_pc4, load_pool
from capaciteit.matching import (
    MatchWeights,
    build,
    explain,
    match_batch,
    suggest,
    synthetic_pool,
)
from capaciteit.matching.batch import urgency_points
from capaciteit.matching.scoring import haversine_km

CLI = [str(Path(sys.executable).with_name("capaciteit"))]
RULE_ORDER = ("available", "capacity", "siblings", "trede", "age", "needs", "network")
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
EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG), as in the module's docstring
UTRECHT = (52.0907, 5.1214)
AMSTERDAM = (52.3676, 4.9041)


# ---------------------------------------------------------------------------------------
# An independent model of the input: plain records from the raw tables
# ---------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value).strip()


def _tagset(value: Any) -> frozenset[str]:
    return frozenset(t for t in re.split(r"[|,\s]+", _text(value).lower()) if t)


def _int(value: Any, default: int) -> int:
    return default if _missing(value) or _text(value) == "" else int(float(value))


def _point(lat: Any, lon: Any) -> tuple[float, float] | None:
    if _missing(lat) or _missing(lon):
        return None
    return float(lat), float(lon)


@dataclass(frozen=True)
class Kid:
    id: str
    age: int
    trede: str
    group: str
    contra: bool
    needs: frozenset[str]
    home: tuple[float, float]
    school: tuple[float, float] | None
    region: str
    perspective: str
    identity: frozenset[str]
    waiting_since: str
    urgency: int
    network_family: str


@dataclass(frozen=True)
class Family:
    id: str
    tredes: frozenset[str]
    free: int
    age_min: int
    age_max: int
    can_handle: frozenset[str]
    experience: frozenset[str]
    location: tuple[float, float]
    region: str
    identity: frozenset[str]
    perspective: frozenset[str]
    max_siblings: int
    network_for: str
    available: bool
    children_in_family: int


def kid_records(kids_df: pd.DataFrame) -> dict[str, Kid]:
    """Children by id, in table order (optional columns absent or empty get their default)."""
    out: dict[str, Kid] = {}
    for row in kids_df.to_dict(orient="records"):
        home = _point(row.get("home_lat"), row.get("home_lon"))
        assert home is not None, "the tests give coordinates, not postcodes"
        out[str(row["child_id"])] = Kid(
            id=str(row["child_id"]),
            age=int(row["age"]),
            trede=str(row["trede"]),
            group=_text(row.get("sibling_group")),
            contra=_int(row.get("sibling_contra_indication"), 0) == 1,
            needs=_tagset(row.get("needs")),
            home=home,
            school=_point(row.get("school_lat"), row.get("school_lon")),
            region=_text(row.get("region")),
            perspective=_text(row.get("perspective")),
            identity=_tagset(row.get("identity")),
            waiting_since=_text(row.get("waiting_since")),
            urgency=_int(row.get("urgency"), 0),
            network_family=_text(row.get("network_family")),
        )
    return out


def family_records(places_df: pd.DataFrame) -> dict[str, Family]:
    """Families by id, in table order, with the documented defaults."""
    out: dict[str, Family] = {}
    for row in places_df.to_dict(orient="records"):
        free = int(row["free_places"])
        location = _point(row.get("lat"), row.get("lon"))
        assert location is not None
        perspective = row.get("perspective")
        out[str(row["placement_id"])] = Family(
            id=str(row["placement_id"]),
            tredes=_tagset(row["tredes"]),
            free=free,
            age_min=int(row["age_min"]),
            age_max=int(row["age_max"]),
            can_handle=_tagset(row.get("can_handle")),
            experience=_tagset(row.get("experience")),
            location=location,
            region=_text(row.get("region")),
            identity=_tagset(row.get("identity")),
            perspective=frozenset({"short", "long"})
            if _missing(perspective)
            else _tagset(perspective),
            max_siblings=_int(row.get("max_siblings"), max(free, 1)),
            network_for=_text(row.get("network_for_child")),
            available=_int(row.get("available"), 1) == 1,
            children_in_family=_int(row.get("children_in_family"), 0),
        )
    return out


@dataclass(frozen=True)
class Instance:
    kids: dict[str, Kid]
    families: dict[str, Family]

    @classmethod
    def of(cls, kids_df: pd.DataFrame, places_df: pd.DataFrame) -> Instance:
        return cls(kid_records(kids_df), family_records(places_df))

    def unit_of(self, child: str) -> list[str]:
        """Samen, tenzij: the siblings without a contra-indication, table order; else alone."""
        kid = self.kids[child]
        if not kid.group or kid.contra:
            return [child]
        return [k.id for k in self.kids.values() if k.group == kid.group and not k.contra]

    def units(self) -> list[list[str]]:
        seen: set[str] = set()
        out = []
        for child in self.kids:
            if child not in seen:
                unit = self.unit_of(child)
                seen.update(unit)
                out.append(unit)
        return out

    def rules(self, members: list[str], fid: str) -> dict[str, bool]:
        """Every hard rule for the unit ``members`` and family ``fid`` (True = satisfied)."""
        f = self.families[fid]
        kids = [self.kids[c] for c in members]
        n = len(kids)
        return {
            "available": f.available,
            "capacity": f.free >= n,
            "siblings": n == 1 or f.max_siblings >= n,
            "trede": all(k.trede in f.tredes for k in kids),
            "age": all(f.age_min <= k.age <= f.age_max for k in kids),
            "needs": all(k.needs <= f.can_handle for k in kids),
            "network": f.network_for == "" or f.network_for in members,
        }

    def allowed(self, members: list[str], fid: str) -> bool:
        return all(self.rules(members, fid).values())

    def candidates(self, members: list[str]) -> list[str]:
        return [f for f in self.families if self.allowed(members, f)]

    def score(self, members: list[str], fid: str, w: MatchWeights) -> dict[str, float]:
        """Points per soft criterion, as documented in capaciteit.matching.scoring."""
        f = self.families[fid]
        kids = [self.kids[c] for c in members]
        n = len(kids)

        def closeness(p: tuple[float, float] | None) -> float:
            if p is None:
                return 0.0
            return min(1.0, max(0.0, 1 - haversine(p, f.location) / w.distance_scale_km))

        def share(wanted: frozenset[str], offered: frozenset[str]) -> float:
            return len(wanted & offered) / len(wanted) if wanted else 0.0

        network = f.network_for in members or any(k.network_family == fid for k in kids)
        return {
            "network": w.network * network,
            "home_distance": w.home_distance * sum(closeness(k.home) for k in kids) / n,
            "school_distance": w.school_distance * sum(closeness(k.school) for k in kids) / n,
            "experience": w.experience * sum(share(k.needs, f.experience) for k in kids) / n,
            "perspective": w.perspective
            * sum(bool(k.perspective) and k.perspective in f.perspective for k in kids)
            / n,
            "identity": w.identity * sum(share(k.identity, f.identity) for k in kids) / n,
            "own_region": w.own_region
            * sum(bool(k.region) and k.region == f.region for k in kids)
            / n,
            "children_in_family": w.children_in_family * (1 - min(f.children_in_family, 4) / 4),
        }

    def total(self, members: list[str], fid: str, w: MatchWeights) -> float:
        return sum(self.score(members, fid, w).values())

    def urgency(self, w: MatchWeights) -> dict[str, float]:
        """Weight x max(urgency / 3, years on the list capped at 1); years up to the latest date."""
        dates = {
            c: date.fromisoformat(k.waiting_since) for c, k in self.kids.items() if k.waiting_since
        }
        ref = max(dates.values()) if dates else None
        out = {}
        for c, k in self.kids.items():
            years = 0.0
            if ref is not None and c in dates:
                years = min(1.0, max(0.0, (ref - dates[c]).days / 365.0))
            out[c] = w.urgency * max(k.urgency / 3, years)
        return out

    def value(self, members: list[str], fid: str, w: MatchWeights, urgent: dict[str, float]) -> int:
        """Fit and urgency of a placed unit in objective units (100 per score point)."""
        fit = round(100 * len(members) * self.total(members, fid, w))
        return fit + round(100 * sum(urgent[c] for c in members))

    def conflict(self, members: list[str], others: list[str]) -> bool:
        """Two different units of one sibling group never share a family."""
        groups = {self.kids[c].group for c in members} - {""}
        return any(self.kids[o].group in groups for o in others if o not in members)


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km (own implementation)."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


# ---------------------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------------------


def check_assignment(
    kids_df: pd.DataFrame,
    places_df: pd.DataFrame,
    result: Any,
    weights: MatchWeights | None = None,
    *,
    maximal: bool = True,
) -> list[str]:
    """Re-verify a batch result from the raw tables; return every violation found.

    ``result`` has ``assignment`` and ``unplaced`` frames (a BatchResult, or the CSV files
    read back). With ``maximal``, also check that no unplaced unit still fits somewhere
    (an optimal assignment places the most children, so it is maximal).
    """
    w = weights or MatchWeights()
    inst = Instance.of(kids_df, places_df)
    errors: list[str] = []
    a, u = result.assignment, result.unplaced
    assigned = [str(c) for c in a["child_id"]] if len(a) else []
    unplaced = [str(c) for c in u["child_id"]] if len(u) else []
    if len(set(assigned)) != len(assigned):
        errors.append(f"a child assigned twice: {sorted(assigned)}")
    if len(set(unplaced)) != len(unplaced):
        errors.append("a child listed twice as unplaced")
    if set(assigned) & set(unplaced):
        errors.append(f"placed and unplaced: {sorted(set(assigned) & set(unplaced))}")
    if sorted(assigned + unplaced) != sorted(inst.kids):
        errors.append("assigned + unplaced is not the waiting list")
    family_of = (
        dict(zip(assigned, [str(p) for p in a["placement_id"]], strict=True)) if len(a) else {}
    )
    unknown = set(family_of.values()) - set(inst.families)
    if unknown:
        errors.append(f"unknown families {sorted(unknown)}")
        return errors
    occupants: dict[str, list[str]] = {}
    for child, fid in family_of.items():
        occupants.setdefault(fid, []).append(child)
    for fid, kids in occupants.items():
        f = inst.families[fid]
        if len(kids) > f.free:
            errors.append(f"{fid} has {len(kids)} children for {f.free} free places")
        if f.network_for:
            strangers = set(kids) - set(inst.unit_of(f.network_for))
            if strangers:
                errors.append(f"network family {fid} of {f.network_for} takes {sorted(strangers)}")
        for child in kids:
            kid = inst.kids[child]
            if kid.contra and any(inst.kids[o].group == kid.group for o in kids if o != child):
                errors.append(f"{child} (contra-indication) shares {fid} with a sibling")
    rows_by_child = {str(r["child_id"]): r for r in a.to_dict(orient="records")} if len(a) else {}
    reason_by_child = {str(r["child_id"]): str(r["reason"]) for r in u.to_dict(orient="records")}
    for members in inst.units():
        placed = [c for c in members if c in family_of]
        if placed and len(placed) != len(members):
            errors.append(f"siblings split: {placed} placed, {set(members) - set(placed)} not")
            continue
        if placed:
            fids = {family_of[c] for c in members}
            if len(fids) != 1:
                errors.append(f"siblings {members} in different families {sorted(fids)}")
                continue
            fid = fids.pop()
            broken = [r for r, ok in inst.rules(members, fid).items() if not ok]
            if broken:
                errors.append(f"{members} in {fid} breaks {broken}")
            expect = inst.score(members, fid, w)
            for c in members:
                row = rows_by_child[c]
                if str(row["unit"]) != members[0]:
                    errors.append(f"{c}: unit {row['unit']}, expected {members[0]}")
                if abs(float(row["score"]) - sum(expect.values())) > 0.011:
                    errors.append(f"{c}: score {row['score']} != {sum(expect.values()):.4f}")
                for crit, pts in expect.items():
                    if abs(float(row[crit]) - pts) > 0.006:
                        errors.append(f"{c}: {crit} {row[crit]} != {pts:.4f}")
                if not _text(row["reasons"]):
                    errors.append(f"{c}: no reasons")
            continue
        cands = inst.candidates(members)
        for c in members:
            reason = reason_by_child.get(c, "")
            if not cands and not reason.startswith("geen gezin voldoet aan de harde regels"):
                errors.append(f"{c}: no candidate, but reason {reason!r}")
            if cands and f"alle {len(cands)} passende gezinnen" not in reason:
                errors.append(f"{c}: {len(cands)} candidates, but reason {reason!r}")
        if maximal:
            for fid in cands:
                room = inst.families[fid].free - len(occupants.get(fid, []))
                if room >= len(members) and not inst.conflict(members, occupants.get(fid, [])):
                    errors.append(f"unplaced {members} still fit in {fid}: not optimal")
                    break
    return errors


def assert_valid(
    kids_df: pd.DataFrame,
    places_df: pd.DataFrame,
    result: Any,
    weights: MatchWeights | None = None,
) -> None:
    assert result.status == "optimal", result.status
    assert result.bound == result.objective and result.gap == 0
    errors = check_assignment(kids_df, places_df, result, weights)
    assert not errors, "\n".join(errors)


def solution_value(
    inst: Instance, result: Any, w: MatchWeights, urgent: dict[str, float]
) -> tuple[int, int]:
    """(children placed, fit + urgency value) of a batch result, recomputed independently."""
    family_of = dict(
        zip(result.assignment["child_id"], result.assignment["placement_id"], strict=True)
    )
    total = 0
    for members in inst.units():
        if members[0] in family_of:
            total += inst.value(members, str(family_of[members[0]]), w, urgent)
    return len(family_of), total


# ---------------------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------------------


def kid(child_id: str, **over: Any) -> dict[str, Any]:
    """A child near Utrecht, voltijd, age 8; override any column."""
    row: dict[str, Any] = {
        "child_id": child_id,
        "age": 8,
        "trede": "voltijd",
        "home_lat": UTRECHT[0],
        "home_lon": UTRECHT[1],
    }
    row.update(over)
    return row


def family(placement_id: str, **over: Any) -> dict[str, Any]:
    """A pleeggezin near Utrecht with one free place for voltijd, ages 0-18."""
    row: dict[str, Any] = {
        "placement_id": placement_id,
        "type": "pleeggezin",
        "tredes": "voltijd",
        "free_places": 1,
        "age_min": 0,
        "age_max": 18,
        "lat": 52.10,
        "lon": 5.15,
    }
    row.update(over)
    return row


def frames(
    kids: list[dict[str, Any]], fams: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(kids), pd.DataFrame(fams)


def tiny_instance(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """3-5 children and 3-5 families, often with siblings, contra-indications, a network family."""
    rng = np.random.default_rng(seed)
    n_kids, n_fams = int(rng.integers(3, 6)), int(rng.integers(3, 6))
    needs, tredes = ["trauma", "gedrag", "lvb"], ["voltijd", "deeltijd", "gezinshuis"]
    kids = []
    for i in range(n_kids):
        school = rng.random() < 0.7
        kids.append(
            kid(
                f"C{i}",
                age=int(rng.integers(0, 18)),
                trede=str(rng.choice(tredes, p=[0.6, 0.25, 0.15])),
                sibling_group="",
                sibling_contra_indication=0,
                needs="|".join(t for t in needs if rng.random() < 0.3),
                home_lat=round(52.09 + rng.normal(0, 0.15), 4),
                home_lon=round(5.12 + rng.normal(0, 0.2), 4),
                school_lat=round(52.09 + rng.normal(0, 0.15), 4) if school else np.nan,
                school_lon=round(5.12 + rng.normal(0, 0.2), 4) if school else np.nan,
                region=str(rng.choice(["utrecht", "amersfoort"])),
                perspective=str(rng.choice(["short", "long", ""])),
                identity=str(rng.choice(["", "", "christelijk", "islamitisch"])),
                waiting_since=""
                if rng.random() < 0.2
                else f"2026-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}",
                urgency=int(rng.integers(0, 4)),
                network_family="",
            )
        )
    if rng.random() < 0.85:
        size = 3 if n_kids >= 4 and rng.random() < 0.5 else 2
        for k in kids[:size]:
            k["sibling_group"] = "S1"
            k["trede"] = kids[0]["trede"]
            k["age"] = int(np.clip(kids[0]["age"] + rng.integers(-3, 4), 0, 17))
            k["needs"] = kids[0]["needs"] if rng.random() < 0.7 else k["needs"]
        if rng.random() < 0.4:
            kids[int(rng.integers(0, size))]["sibling_contra_indication"] = 1
    fams = []
    for j in range(n_fams):
        age_min = int(rng.integers(0, 7))
        offered = [t for t in tredes if rng.random() < 0.7] or ["voltijd"]
        handles = [t for t in needs if rng.random() < 0.7]
        fams.append(
            family(
                f"F{j}",
                type="gezinshuis" if "gezinshuis" in offered else "pleeggezin",
                tredes="|".join(offered),
                free_places=int(rng.choice([0, 1, 2, 3, 4], p=[0.1, 0.3, 0.3, 0.2, 0.1])),
                age_min=age_min,
                age_max=min(23, age_min + int(rng.integers(6, 18))),
                can_handle="|".join(handles),
                experience="|".join(t for t in handles if rng.random() < 0.5),
                lat=round(52.09 + rng.normal(0, 0.2), 4),
                lon=round(5.12 + rng.normal(0, 0.25), 4),
                region=str(rng.choice(["utrecht", "amersfoort"])),
                identity=str(rng.choice(["", "christelijk", "islamitisch"])),
                perspective=str(rng.choice(["short", "long", "short|long"])),
                max_siblings=float(rng.choice([1, 2, 3])) if rng.random() < 0.5 else np.nan,
                network_for_child="",
                available=int(rng.random() < 0.9),
                children_in_family=int(rng.integers(0, 5)),
            )
        )
    if rng.random() < 0.4:
        child = int(rng.integers(0, n_kids))
        fams[-1]["network_for_child"] = f"C{child}"
        kids[child]["network_family"] = fams[-1]["placement_id"]
    return frames(kids, fams)


def brute_force(inst: Instance, w: MatchWeights) -> tuple[int, int]:
    """Best (children placed, value) over every assignment of units to families or none."""
    urgent = inst.urgency(w)
    units = inst.units()
    options = [[None, *inst.candidates(m)] for m in units]
    best = (0, 0)
    for choice in itertools.product(*options):
        load: dict[str, list[str]] = {}
        ok = True
        for members, fid in zip(units, choice, strict=True):
            if fid is None:
                continue
            here = load.setdefault(fid, [])
            if inst.conflict(members, here) or len(here) + len(members) > inst.families[fid].free:
                ok = False
                break
            here.extend(members)
        if not ok:
            continue
        placed = sum(len(m) for m, f in zip(units, choice, strict=True) if f is not None)
        value = sum(
            inst.value(m, f, w, urgent) for m, f in zip(units, choice, strict=True) if f is not None
        )
        best = max(best, (placed, value))
    return best


# ---------------------------------------------------------------------------------------
# 1. The checker catches what it should
# ---------------------------------------------------------------------------------------


def fake_result(
    kids_df: pd.DataFrame, places_df: pd.DataFrame, placed: dict[str, str]
) -> SimpleNamespace:
    """A batch result written by hand: scores and reasons as a correct one would have."""
    inst = Instance.of(kids_df, places_df)
    w = MatchWeights()
    records, missing = [], []
    for c in inst.kids:
        members = inst.unit_of(c)
        if c in placed:
            pts = inst.score(members, placed[c], w)
            records.append(
                {
                    "child_id": c,
                    "placement_id": placed[c],
                    "unit": members[0],
                    "score": round(sum(pts.values()), 2),
                    **{k: round(v, 2) for k, v in pts.items()},
                    "reasons": "1,0 km van huis",
                }
            )
        else:
            n = len(inst.candidates(members))
            reason = (
                f"alle {n} passende gezinnen voor dit kind zijn toegewezen aan andere kinderen"
                if n
                else "geen gezin voldoet aan de harde regels; uitgesloten door: ..."
            )
            missing.append({"child_id": c, "unit": members[0], "reason": reason})
    return SimpleNamespace(
        status="optimal",
        assignment=pd.DataFrame(records),
        unplaced=pd.DataFrame(missing, columns=["child_id", "unit", "reason"]),
    )


CHECKER_KIDS = [
    kid("A", sibling_group="S"),
    kid("B", sibling_group="S"),
    kid("C", sibling_group="S", sibling_contra_indication=1),
    kid("D", needs="trauma", home_lat=53.2),  # fits F1 only, and worse than C does
    kid("E", network_family="N"),
]
CHECKER_FAMILIES = [
    family("BIG", free_places=3, max_siblings=2),
    family("F1", can_handle="trauma"),
    family("N", free_places=2, network_for_child="E"),
    family("DEEL", tredes="deeltijd", can_handle="trauma"),
]
VALID = {"A": "BIG", "B": "BIG", "C": "F1", "E": "N"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({}, ""),
        ({"D": "F1"}, "F1 has 2 children for 1 free places"),
        ({"D": "N"}, "network family N of E takes ['D']"),
        ({"C": "BIG"}, "C (contra-indication) shares BIG"),
        ({"D": "BIG"}, "['D'] in BIG breaks ['needs']"),
        ({"D": "DEEL"}, "['D'] in DEEL breaks ['trede']"),
        ({"B": "F1", "C": None}, "in different families"),
        ({"B": None}, "siblings split"),
        ({"E": None}, "unplaced ['E'] still fit in BIG"),
        ({"C": None}, "unplaced ['C'] still fit in F1"),
    ],
)
def test_checker_catches_every_broken_rule(change: dict[str, str | None], message: str) -> None:
    kids_df, places_df = frames(CHECKER_KIDS, CHECKER_FAMILIES)
    placed = {c: f for c, f in {**VALID, **change}.items() if f is not None}
    errors = check_assignment(kids_df, places_df, fake_result(kids_df, places_df, placed))
    if message:
        assert any(message in e for e in errors), errors
    else:
        assert errors == []
        # and the module agrees that this is the optimum
        result = match_batch(*build(kids_df, places_df))
        assert_valid(kids_df, places_df, result)
        placed = dict(
            zip(result.assignment["child_id"], result.assignment["placement_id"], strict=True)
        )
        assert placed == VALID


def test_checker_catches_bookkeeping_errors() -> None:
    kids_df, places_df = frames(CHECKER_KIDS, CHECKER_FAMILIES)
    good = fake_result(kids_df, places_df, VALID)
    twice = SimpleNamespace(
        assignment=pd.concat([good.assignment, good.assignment.iloc[[0]]]),
        unplaced=good.unplaced,
    )
    assert any("assigned twice" in e for e in check_assignment(kids_df, places_df, twice))
    lost = SimpleNamespace(assignment=good.assignment, unplaced=good.unplaced.iloc[:0])
    assert any("not the waiting list" in e for e in check_assignment(kids_df, places_df, lost))
    wrong = SimpleNamespace(assignment=good.assignment.assign(score=99.0), unplaced=good.unplaced)
    assert any("score 99.0" in e for e in check_assignment(kids_df, places_df, wrong))
    reason = SimpleNamespace(
        assignment=good.assignment, unplaced=good.unplaced.assign(reason="geen idee")
    )
    assert any("candidates, but reason" in e for e in check_assignment(kids_df, places_df, reason))


# ---------------------------------------------------------------------------------------
# 2. Brute force on tiny instances, every result checked
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(60))
def test_batch_equals_brute_force_on_tiny_instances(seed: int) -> None:
    kids_df, places_df = tiny_instance(seed)
    children, pool = build(kids_df, places_df)
    w = MatchWeights()
    result = match_batch(children, pool, w, time_limit_s=20)
    assert_valid(kids_df, places_df, result, w)
    inst = Instance.of(kids_df, places_df)
    urgent = inst.urgency(w)
    assert solution_value(inst, result, w, urgent) == brute_force(inst, w)
    # PLACE dominates: objective = PLACE x placed + value, PLACE above all fit and urgency
    placed, value = solution_value(inst, result, w, urgent)
    assert result.objective is not None
    if placed:
        place = (result.objective - value) / placed
        assert place == int(place)
        ceiling = sum(
            max((inst.value(m, f, w, urgent) for f in inst.candidates(m)), default=0)
            for m in inst.units()
        )
        assert place > ceiling
    else:
        assert result.objective == 0


def test_tiny_instances_exercise_the_hard_parts() -> None:
    """The generator must produce placements, competition, siblings and contra-indications."""
    placed = contra = pairs = short = 0
    for seed in range(60):
        kids_df, places_df = tiny_instance(seed)
        inst = Instance.of(kids_df, places_df)
        best = brute_force(inst, MatchWeights())
        placed += best[0] > 0
        short += best[0] < len(inst.kids) and any(inst.candidates(m) for m in inst.units())
        contra += any(k.contra for k in inst.kids.values())
        pairs += any(len(m) > 1 and inst.candidates(m) for m in inst.units())
    assert placed >= 45 and short >= 25 and contra >= 12 and pairs >= 12


def test_weights_change_the_optimum_as_brute_force_says() -> None:
    w = MatchWeights(home_distance=60, network=0, urgency=0, distance_scale_km=30)
    for seed in range(8):
        kids_df, places_df = tiny_instance(100 + seed)
        children, pool = build(kids_df, places_df)
        result = match_batch(children, pool, w)
        assert_valid(kids_df, places_df, result, w)
        inst = Instance.of(kids_df, places_df)
        assert solution_value(inst, result, w, inst.urgency(w)) == brute_force(inst, w)


# ---------------------------------------------------------------------------------------
# 3. Without siblings and with one place per family: an assignment problem
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_kids", "n_fams", "seed"), [(8, 10, 1), (25, 30, 2), (40, 35, 3), (60, 80, 4)]
)
def test_batch_equals_linear_sum_assignment(n_kids: int, n_fams: int, seed: int) -> None:
    kids_df, places_df = synthetic_pool(n_kids, n_fams, seed, sibling_share=0, network_share=0)
    places_df = places_df.assign(free_places=1, max_siblings=1)
    children, pool = build(kids_df, places_df)
    w = MatchWeights()
    result = match_batch(children, pool, w)
    assert_valid(kids_df, places_df, result, w)
    inst = Instance.of(kids_df, places_df)
    urgent = inst.urgency(w)
    kid_ids, fam_ids = list(inst.kids), list(inst.families)
    big, forbidden = 1e7, -1e9
    # columns: the families, then one "unplaced" column per child (value 0)
    value = np.full((len(kid_ids), len(fam_ids) + len(kid_ids)), forbidden)
    value[:, len(fam_ids) :] = 0.0
    for i, c in enumerate(kid_ids):
        for j, f in enumerate(fam_ids):
            if inst.allowed([c], f):
                value[i, j] = big + inst.value([c], f, w, urgent)
    rows, cols = linear_sum_assignment(value, maximize=True)
    real = cols < len(fam_ids)
    assert not (value[rows, cols] == forbidden).any()
    expected = (int(real.sum()), round(float((value[rows, cols][real] - big).sum())))
    assert expected[0] > 0
    assert solution_value(inst, result, w, urgent) == expected


def milp_optimum(inst: Instance, w: MatchWeights) -> tuple[int, int]:
    """Best (children placed, value) by HiGHS (scipy.optimize.milp), lexicographic in 2 solves."""
    urgent = inst.urgency(w)
    units = inst.units()
    pairs = [(u, f) for u, m in enumerate(units) for f in inst.candidates(m)]
    if not pairs:
        return 0, 0
    size = np.array([len(units[u]) for u, _ in pairs], dtype=float)
    value = np.array([inst.value(units[u], f, w, urgent) for u, f in pairs], dtype=float)
    rows: dict[tuple[str, ...], list[int]] = {}
    for j, (u, f) in enumerate(pairs):
        rows.setdefault(("unit", str(u)), []).append(j)  # at most one family per unit
        rows.setdefault(("family", f), []).append(j)  # free places
        group = inst.kids[units[u][0]].group
        if group:  # units of one sibling group never share a family
            rows.setdefault(("group", group, f), []).append(j)
    matrix = np.zeros((len(rows), len(pairs)))
    upper = np.zeros(len(rows))
    for i, (key, js) in enumerate(rows.items()):
        family_row = key[0] == "family"
        matrix[i, js] = size[js] if family_row else 1.0
        upper[i] = inst.families[key[1]].free if family_row else 1.0
    common = {
        "integrality": np.ones(len(pairs)),
        "bounds": Bounds(0, 1),
        "options": {"mip_rel_gap": 0.0},
    }
    first = milp(-size, constraints=[LinearConstraint(matrix, -np.inf, upper)], **common)
    assert first.success, first.message
    placed = round(-first.fun)
    second = milp(
        -value,
        constraints=[
            LinearConstraint(matrix, -np.inf, upper),
            LinearConstraint(size[None, :], placed, np.inf),
        ],
        **common,
    )
    assert second.success, second.message
    return placed, round(-second.fun)


def hard_instance(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Many sibling pairs competing for families with 2-4 places: the LP is fractional.

    For the seeds used below, an optimum exists only outside the support of the LP
    relaxation (checked by hand once: keeping only the pairs the LP uses loses value).
    """
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(10, 60)), int(rng.integers(10, 80))
    share = float(rng.choice([0.5, 0.8, 0.9]))
    kids_df, places_df = synthetic_pool(n, m, seed, sibling_share=share, network_share=0.2)
    places_df = places_df.assign(free_places=places_df["free_places"] + int(rng.integers(1, 3)))
    more = rng.integers(1, 4, len(places_df))
    places_df = places_df.assign(max_siblings=np.maximum(places_df["max_siblings"], more))
    contra = kids_df.index[kids_df["sibling_group"] != ""][::4]
    kids_df.loc[contra, "sibling_contra_indication"] = 1
    networked = places_df["network_for_child"].isin(kids_df.loc[contra, "child_id"])
    places_df.loc[networked, "network_for_child"] = ""
    return kids_df, places_df


@pytest.mark.parametrize("seed", [20, 25, 41, 42, 52, 95, 99, 137, 0, 1, 2, 3])
def test_batch_equals_an_independent_milp_with_siblings(seed: int) -> None:
    """Scarce places, many sibling pairs, contra-indications and network families."""
    kids_df, places_df = hard_instance(seed)
    children, pool = build(kids_df, places_df)
    w = MatchWeights()
    result = match_batch(children, pool, w)
    assert_valid(kids_df, places_df, result, w)
    inst = Instance.of(kids_df, places_df)
    expected = milp_optimum(inst, w)
    assert solution_value(inst, result, w, inst.urgency(w)) == expected


@pytest.mark.parametrize(("n_kids", "n_fams", "seed"), [(80, 300, 12), (150, 250, 14)])
def test_batch_equals_an_independent_milp_at_scale(n_kids: int, n_fams: int, seed: int) -> None:
    kids_df, places_df = synthetic_pool(n_kids, n_fams, seed, sibling_share=0.5, network_share=0.3)
    places_df = places_df.assign(free_places=places_df["free_places"] + 1)
    contra = kids_df.index[kids_df["sibling_group"] != ""][::5]
    kids_df.loc[contra, "sibling_contra_indication"] = 1
    networked = places_df["network_for_child"].isin(kids_df.loc[contra, "child_id"])
    places_df.loc[networked, "network_for_child"] = ""
    children, pool = build(kids_df, places_df)
    result = match_batch(children, pool)
    assert_valid(kids_df, places_df, result)
    inst = Instance.of(kids_df, places_df)
    expected = milp_optimum(inst, MatchWeights())
    assert expected[0] < n_kids  # places are short: the choice matters
    assert solution_value(inst, result, MatchWeights(), inst.urgency(MatchWeights())) == expected


# ---------------------------------------------------------------------------------------
# 3b. Always an answer: short time limits, and the bound behind the gap
# ---------------------------------------------------------------------------------------


def scale_instance() -> tuple[pd.DataFrame, pd.DataFrame]:
    """300 children, 1,500 families: places short, siblings, contra-indications, networks."""
    kids_df, places_df = synthetic_pool(300, 1500, 5, sibling_share=0.4, network_share=0.2)
    contra = kids_df.index[kids_df["sibling_group"] != ""][::6]
    kids_df.loc[contra, "sibling_contra_indication"] = 1
    kids_df.loc[contra, "network_family"] = ""
    networked = places_df["network_for_child"].isin(kids_df.loc[contra, "child_id"])
    places_df.loc[networked, "network_for_child"] = ""
    return kids_df, places_df


def objective_of(inst: Instance, result: Any, w: MatchWeights, place: float) -> float:
    """The objective of a result recomputed from the raw tables, given ``PLACE``."""
    placed, value = solution_value(inst, result, w, inst.urgency(w))
    return place * placed + value


def place_of(inst: Instance, optimal: Any, w: MatchWeights) -> float:
    """``PLACE`` as the brute-force test derives it: (objective - value) / placed."""
    placed, value = solution_value(inst, optimal, w, inst.urgency(w))
    assert optimal.objective is not None and placed
    return (optimal.objective - value) / placed


def assert_answer(
    kids_df: pd.DataFrame, places_df: pd.DataFrame, result: Any, optimal: Any
) -> None:
    """An assignment that the checker accepts, honest about its gap against the optimum."""
    assert result.status in ("optimal", "feasible"), result.status
    errors = check_assignment(kids_df, places_df, result)  # also: maximal
    assert not errors, "\n".join(errors)
    assert result.placed > 0
    inst, w = Instance.of(kids_df, places_df), MatchWeights()
    mine = objective_of(inst, result, w, place_of(inst, optimal, w))
    assert result.objective == mine
    assert result.bound is not None and result.gap is not None and result.gap >= 0
    assert result.gap == pytest.approx((result.bound - mine) / mine, rel=1e-9, abs=1e-15)
    assert mine <= optimal.objective <= result.bound + 1e-3  # the bound holds
    assert result.max_placed is not None and optimal.placed <= result.max_placed
    if result.status == "optimal":
        assert mine == optimal.objective and result.gap == 0


@pytest.fixture(scope="module")
def scale_optimum() -> tuple[pd.DataFrame, pd.DataFrame, Any]:
    kids_df, places_df = scale_instance()
    optimal = match_batch(*build(kids_df, places_df))
    assert_valid(kids_df, places_df, optimal)
    assert optimal.placed < len(kids_df)  # places are short: the start is not trivially best
    return kids_df, places_df, optimal


def test_scale_instance_optimum_equals_an_independent_milp(
    scale_optimum: tuple[pd.DataFrame, pd.DataFrame, Any],
) -> None:
    kids_df, places_df, optimal = scale_optimum
    inst, w = Instance.of(kids_df, places_df), MatchWeights()
    assert solution_value(inst, optimal, w, inst.urgency(w)) == milp_optimum(inst, w)


def test_no_time_at_all_still_returns_the_checked_start(
    scale_optimum: tuple[pd.DataFrame, pd.DataFrame, Any],
) -> None:
    """With no time for the LP or CP-SAT: the greedy start, feasible, with its gap."""
    kids_df, places_df, optimal = scale_optimum
    result = match_batch(*build(kids_df, places_df), time_limit_s=0.0)
    assert_answer(kids_df, places_df, result, optimal)
    assert result.status == "feasible" and result.gap > 0
    assert result.source == "start" and result.lp_status == "trivial"
    assert result.model_pairs == 0  # CP-SAT never ran


@pytest.mark.parametrize("limit", [0.0, 0.02, 0.1, 0.3, 1.0, 3.0])
def test_any_time_limit_gives_an_assignment_never_timeout(
    scale_optimum: tuple[pd.DataFrame, pd.DataFrame, Any], limit: float
) -> None:
    """Whatever stage the limit ends, never ``timeout`` with nobody placed (no timing asserted)."""
    kids_df, places_df, optimal = scale_optimum
    result = match_batch(*build(kids_df, places_df), time_limit_s=limit)
    assert_answer(kids_df, places_df, result, optimal)
    assert set(result.stages) == {"candidates", "lp", "start", "cpsat", "tables"}


@pytest.mark.parametrize("seed", [20, 41, 95, 1])
def test_cpsat_without_a_solution_returns_the_start_with_the_lp_bound(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CP-SAT ends without a solution (as at a time limit): the start, with the LP's bound."""
    from capaciteit.matching import batch

    kids_df, places_df = hard_instance(seed)
    children, pool = build(kids_df, places_df)
    optimal = match_batch(children, pool)
    assert_valid(kids_df, places_df, optimal)

    def nothing(pairs: Any, *args: Any) -> tuple[str, np.ndarray, float]:
        return "timeout", np.zeros(len(pairs), dtype=bool), math.inf

    monkeypatch.setattr(batch, "_cpsat", nothing)
    result = match_batch(children, pool)
    assert_answer(kids_df, places_df, result, optimal)
    assert result.source == "start" and result.lp_status in ("optimal", "converged")
    if result.status == "feasible":
        assert result.gap > 0


def test_the_lp_start_is_not_always_optimal() -> None:
    """Among the seeds above, the LP start is not always optimal: the fallback matters."""
    from capaciteit.matching.batch import _greedy
    from capaciteit.matching.candidates import candidate_pairs
    from capaciteit.matching.relaxation import solve_lp

    short = 0
    for seed in [20, 41, 95, 1]:
        kids_df, places_df = hard_instance(seed)
        children, pool = build(kids_df, places_df)
        pairs = candidate_pairs(children, pool, MatchWeights())
        relax = solve_lp(pairs, math.inf)
        start = _greedy(pairs, relax.x)
        short += int(pairs.value[start].sum()) < match_batch(children, pool).objective
    assert short >= 1


def test_the_start_check_catches_a_broken_assignment() -> None:
    """The guard on every start and CP-SAT answer: units twice, overfull, siblings shared."""
    from capaciteit.matching.batch import _greedy, _problems
    from capaciteit.matching.candidates import candidate_pairs

    kids_df, places_df = frames(CHECKER_KIDS, CHECKER_FAMILIES)
    children, pool = build(kids_df, places_df)
    pairs = candidate_pairs(children, pool, MatchWeights())
    everything = np.ones(len(pairs), dtype=bool)
    problems = " | ".join(_problems(pairs, pool, everything))
    assert "a unit in two families" in problems
    assert "over capacity" in problems
    assert "two units of one sibling group in one family" in problems
    assert _problems(pairs, pool, _greedy(pairs, np.zeros(len(pairs)))) == []


def random_duals(rows: Any, scale: float, rng: np.random.Generator) -> np.ndarray:
    """Row weights >= 0, half of them 0, of the size of the objective's values."""
    return rng.random(len(rows)) * scale * (rng.random(len(rows)) < 0.5)


@pytest.mark.parametrize("seed", [20, 25, 41, 99, 3])
def test_reduced_costs_price_every_pair_by_its_rows_in_the_full_model(seed: int) -> None:
    """Rows over some pairs are restrictions of rows of the full model; pricing agrees."""
    from capaciteit.matching.candidates import candidate_pairs
    from capaciteit.matching.relaxation import build_rows, reduced_costs

    kids_df, places_df = hard_instance(seed)
    pairs = candidate_pairs(*build(kids_df, places_df), MatchWeights())
    rng = np.random.default_rng(seed)
    every = np.arange(len(pairs))
    full = build_rows(pairs, every)
    some = np.sort(rng.choice(every, size=len(every) // 2, replace=False))
    part = build_rows(pairs, some)
    members_full = {
        (int(k), int(key)): set(full.col[full.row == r].tolist())
        for r, (k, key) in enumerate(zip(full.kind, full.key, strict=True))
    }
    assert len(members_full) == len(full)  # one row per (kind, key)
    y = random_duals(part, float(pairs.place), rng)
    y_full = np.zeros(len(full))
    at = {key: r for r, key in enumerate(members_full)}
    for r, (k, key) in enumerate(zip(part.kind, part.key, strict=True)):
        here = set(part.col[part.row == r].tolist())
        assert here == members_full[(int(k), int(key))] & set(some.tolist())
        y_full[at[(int(k), int(key))]] = y[r]
    matrix = np.zeros((len(full), len(pairs)))
    matrix[full.row, full.col] = full.coef
    expected = pairs.value - matrix.T @ y_full
    np.testing.assert_allclose(reduced_costs(pairs, part, y), expected, rtol=0, atol=1e-3)


def assignments(inst: Instance) -> list[tuple[tuple[str | None, ...], int, int]]:
    """Every feasible assignment (a family or None per unit), with (placed, value)."""
    w = MatchWeights()
    urgent = inst.urgency(w)
    units = inst.units()
    out = []
    for choice in itertools.product(*[[None, *inst.candidates(m)] for m in units]):
        load: dict[str, list[str]] = {}
        ok = True
        for members, fid in zip(units, choice, strict=True):
            if fid is None:
                continue
            here = load.setdefault(fid, [])
            if inst.conflict(members, here) or len(here) + len(members) > inst.families[fid].free:
                ok = False
                break
            here.extend(members)
        if ok:
            chosen = [(m, f) for m, f in zip(units, choice, strict=True) if f is not None]
            out.append(
                (
                    choice,
                    sum(len(m) for m, _ in chosen),
                    sum(inst.value(m, f, w, urgent) for m, f in chosen),
                )
            )
    return out


@pytest.mark.parametrize("seed", range(0, 60, 3))
def test_the_bound_holds_for_any_duals_on_tiny_instances(seed: int) -> None:
    """``B`` bounds every assignment and ``B + r_j`` every one that uses pair ``j``."""
    from capaciteit.matching.candidates import candidate_pairs
    from capaciteit.matching.relaxation import bound_of, build_rows, reduced_costs, solve_lp

    kids_df, places_df = tiny_instance(seed)
    children, pool = build(kids_df, places_df)
    inst = Instance.of(kids_df, places_df)
    pairs = candidate_pairs(children, pool, MatchWeights())
    every = assignments(inst)
    fids = list(inst.families)
    rng = np.random.default_rng(seed)
    checks = []
    for _ in range(5):
        some = np.flatnonzero(rng.random(len(pairs)) < 0.7)
        rows = build_rows(pairs, some)
        y = random_duals(rows, float(pairs.place), rng)
        checks.append(bound_of(pairs, rows, y, reduced_costs(pairs, rows, y)))
    relax = solve_lp(pairs, math.inf)
    checks.append((relax.bound, relax.reduced))
    for bound, reduced in checks:
        assert (reduced <= 1e-9).all()
        worth = [pairs.place * placed + value for _, placed, value in every]
        assert max(worth) <= bound + 1e-6
        for j in range(len(pairs)):
            u, f = int(pairs.unit[j]), fids[int(pairs.family[j])]
            using = [w for (choice, _, _), w in zip(every, worth, strict=True) if choice[u] == f]
            assert max(using) <= bound + reduced[j] + 1e-6


@pytest.mark.parametrize("seed", [3, 8])
def test_pair_rules_and_points_agree_with_one_unit_at_a_time(seed: int) -> None:
    from capaciteit.matching.rules import network_unit, pair_masks, rule_masks, unit_table
    from capaciteit.matching.scoring import criterion_points, pair_points

    kids_df, places_df = hard_instance(seed)
    children, pool = build(kids_df, places_df)
    table = unit_table(children)
    network = network_unit(children, pool, table)
    families = np.arange(len(pool))
    w = MatchWeights()
    for u, members in enumerate(table.members):
        one = rule_masks(children, pool, members)
        many = pair_masks(table, pool, network, np.array([u]), families)
        for rule in RULE_ORDER:
            np.testing.assert_array_equal(np.broadcast_to(many[rule], len(pool)), one[rule])
        units = np.full(len(pool), u)
        expected = criterion_points(children, pool, members, w)
        got = pair_points(children, pool, table, network, units, families, w)
        for c in CRITERIA:
            np.testing.assert_allclose(got[c], expected[c], rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------------------
# 4. Properties over generated pools
# ---------------------------------------------------------------------------------------


@st.composite
def pools(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_kids = draw(st.integers(1, 16))
    n_fams = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**31))
    siblings = draw(st.sampled_from([0.0, 0.3, 0.7]))
    network = draw(st.sampled_from([0.0, 0.2, 0.5]))
    kids_df, places_df = synthetic_pool(n_kids, n_fams, seed, siblings, network)
    extra = draw(st.integers(0, 2))  # most synthetic families are full: add room
    if extra:
        places_df = places_df.assign(free_places=places_df["free_places"] + extra)
    if draw(st.booleans()):  # the contra-indication is rare in synthetic pools
        grouped = kids_df.index[kids_df["sibling_group"] != ""]
        if len(grouped):
            pick = draw(st.sampled_from(list(grouped)))
            kids_df.loc[pick, "sibling_contra_indication"] = 1
            kids_df.loc[pick, "network_family"] = ""
            places_df.loc[
                places_df["network_for_child"] == kids_df.loc[pick, "child_id"], "network_for_child"
            ] = ""
    return kids_df, places_df


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@SETTINGS
@given(pools())
def test_batch_never_breaks_a_hard_rule(tables: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    kids_df, places_df = tables
    children, pool = build(kids_df, places_df)
    result = match_batch(children, pool, time_limit_s=20)
    assert_valid(kids_df, places_df, result)
    assert result.children == len(kids_df)
    assert result.units == len(Instance.of(kids_df, places_df).units())


@SETTINGS
@given(pools(), st.integers(1, 6))
def test_suggest_and_explain_agree_with_the_rules(
    tables: tuple[pd.DataFrame, pd.DataFrame], k: int
) -> None:
    kids_df, places_df = tables
    children, pool = build(kids_df, places_df)
    inst = Instance.of(kids_df, places_df)
    w = MatchWeights()
    for child in list(inst.kids)[:6]:
        members = inst.unit_of(child)
        members = [child, *[m for m in members if m != child]]
        cands = inst.candidates(members)
        s = suggest(children, pool, child, k)
        assert s.siblings == members[1:]
        assert s.candidates == len(cands)
        assert s.excluded == {
            r: sum(not inst.rules(members, f)[r] for f in inst.families) for r in RULE_ORDER
        }
        table = s.table
        assert len(table) == min(k, len(cands))
        assert list(table["rank"]) == list(range(1, len(table) + 1))
        assert set(table["placement_id"]) <= set(cands)
        assert list(table["score"]) == sorted(table["score"], reverse=True)
        expected_best = sorted((inst.total(members, f, w) for f in cands), reverse=True)[
            : len(table)
        ]
        np.testing.assert_allclose(table["score"], expected_best, atol=0.006)
        for row in table.to_dict(orient="records"):
            assert abs(row["score"] - sum(row[c] for c in CRITERIA)) <= 0.05
            mine = inst.score(members, row["placement_id"], w)
            for c in CRITERIA:
                assert row[c] == pytest.approx(mine[c], abs=0.006), c
            assert "km van huis" in row["reasons"]
        for fid in inst.families:
            e = explain(children, pool, child, fid)
            rules = inst.rules(members, fid)
            assert e.eligible == all(rules.values())
            assert [v.split(":")[0] for v in e.violations] == [
                r for r in RULE_ORDER if not rules[r]
            ]
            if e.eligible:
                assert e.score == pytest.approx(inst.total(members, fid, w), abs=1e-9)
            else:
                assert e.score is None


# ---------------------------------------------------------------------------------------
# 5. Hand-checked cases
# ---------------------------------------------------------------------------------------


def test_haversine_utrecht_amsterdam() -> None:
    mine = haversine(UTRECHT, AMSTERDAM)
    # cross-check with the equirectangular approximation (exact enough over 35 km):
    # 0.2769 deg of latitude north and 0.2173 deg of longitude west at 52.23 deg N
    north = math.radians(AMSTERDAM[0] - UTRECHT[0]) * EARTH_RADIUS_KM
    mid = math.radians((UTRECHT[0] + AMSTERDAM[0]) / 2)
    west = math.radians(UTRECHT[1] - AMSTERDAM[1]) * EARTH_RADIUS_KM * math.cos(mid)
    assert mine == pytest.approx(math.hypot(north, west), abs=0.01)
    assert mine == pytest.approx(34.16, abs=0.01)  # not 34.4 km: that is road-map folklore
    theirs = haversine_km(np.array(UTRECHT), np.array([AMSTERDAM, UTRECHT]))
    np.testing.assert_allclose(theirs, [mine, 0.0], atol=1e-9)
    children, pool = build(*frames([kid("A")], [family("AMS", lat=AMSTERDAM[0], lon=AMSTERDAM[1])]))
    e = explain(children, pool, "A", "AMS")
    assert e.eligible
    assert f"{mine:.1f} km van huis".replace(".", ",") in e.reasons
    row = suggest(children, pool, "A").table.iloc[0]
    assert row["home_distance"] == pytest.approx(20 * (1 - mine / 50), abs=0.006)


BASE_KIDS = [
    kid("A", age=8, sibling_group="S", needs="trauma"),
    kid("B", age=10, sibling_group="S"),
    kid("Z", age=5),
]
ONE_RULE: dict[str, dict[str, Any]] = {
    "available": {"available": 0},
    "capacity": {"free_places": 1},
    "siblings": {"max_siblings": 1},
    "trede": {"tredes": "deeltijd"},
    "age": {"age_max": 9},
    "needs": {"can_handle": "gedrag"},
    "network": {"network_for_child": "Z"},
}
MESSAGES = {
    "available": "het gezin is nu niet beschikbaar",
    "capacity": "het gezin heeft geen vrije plek voor 2 kinderen (1 vrij)",
    "siblings": "het gezin neemt niet 2 broers/zussen samen op (hoogstens 1)",
    "trede": "het gezin biedt trede voltijd niet",
    "age": "leeftijd 8 en 10 valt buiten het leeftijdsbereik 0-9 jaar",
    "needs": "het gezin kan trauma niet bieden",
    "network": "dit is het netwerkgezin van een ander kind",
}


@pytest.mark.parametrize("rule", RULE_ORDER)
def test_a_family_excluded_for_one_reason_names_exactly_that_rule(rule: str) -> None:
    ok = {"free_places": 2, "max_siblings": 2, "can_handle": "trauma"}
    fams = [family("OK", **ok), family("BAD", **{**ok, **ONE_RULE[rule]})]
    kids_df, places_df = frames(BASE_KIDS, fams)
    inst = Instance.of(kids_df, places_df)
    assert [r for r, v in inst.rules(["A", "B"], "BAD").items() if not v] == [rule]
    children, pool = build(kids_df, places_df)
    e = explain(children, pool, "A", "BAD")
    assert not e.eligible and e.score is None
    assert e.violations == [f"{rule}: {MESSAGES[rule]}"]
    assert explain(children, pool, "A", "OK").eligible
    s = suggest(children, pool, "B")
    assert list(s.table["placement_id"]) == ["OK"] and s.siblings == ["A"]
    assert s.excluded == {r: int(r == rule) for r in RULE_ORDER}


def test_network_family_is_top_for_its_child_and_closed_to_others() -> None:
    kids_df, places_df = frames(
        [kid("A", network_family="N", urgency=0), kid("B", urgency=3), kid("C", urgency=3)],
        [
            family("N", free_places=2, lat=52.30, lon=5.30, network_for_child="A"),
            family("F1", lat=UTRECHT[0], lon=UTRECHT[1]),
            family("F2", lat=52.091, lon=5.122),
        ],
    )
    children, pool = build(kids_df, places_df)
    top = suggest(children, pool, "A")
    assert top.table["placement_id"].iloc[0] == "N"
    assert top.table["network"].iloc[0] == 40
    assert "netwerkgezin van het kind" in top.table["reasons"].iloc[0]
    for other in ("B", "C"):
        assert "N" not in set(suggest(children, pool, other).table["placement_id"])
        assert explain(children, pool, other, "N").violations == [f"network: {MESSAGES['network']}"]
    result = match_batch(children, pool)
    assert_valid(kids_df, places_df, result)
    placed = dict(
        zip(result.assignment["child_id"], result.assignment["placement_id"], strict=True)
    )
    assert placed == {"A": "N", "B": placed["B"], "C": placed["C"]}
    assert {placed["B"], placed["C"]} == {"F1", "F2"}


def test_a_network_family_takes_its_child_with_the_siblings_but_nobody_else() -> None:
    """The network rule admits the child's unit: siblings placed together with it."""
    kids_df, places_df = frames(
        [
            kid("A", sibling_group="S", network_family="N"),
            kid("B", sibling_group="S"),
            kid("C", sibling_group="T", sibling_contra_indication=1),
            kid("D", sibling_group="T", network_family="M"),
            kid("E", urgency=3),
        ],
        [
            family("N", free_places=3, max_siblings=2, network_for_child="A", lat=52.3),
            family("M", free_places=2, max_siblings=2, network_for_child="D", lat=52.3),
            family("F", free_places=1, lat=53.0),
        ],
    )
    children, pool = build(kids_df, places_df)
    assert explain(children, pool, "B", "N").eligible  # A's sibling, in A's unit
    assert not explain(children, pool, "E", "N").eligible
    assert not explain(children, pool, "C", "M").eligible  # contra-indicated: own unit
    result = match_batch(children, pool)
    assert_valid(kids_df, places_df, result)
    placed = dict(
        zip(result.assignment["child_id"], result.assignment["placement_id"], strict=True)
    )
    # N keeps a free place that E and C may not use; F goes to the more urgent E
    assert placed == {"A": "N", "B": "N", "D": "M", "E": "F"}


def test_a_sibling_pair_gets_no_family_with_one_free_place() -> None:
    kids_df, places_df = frames(
        [kid("A", sibling_group="S"), kid("B", age=11, sibling_group="S")],
        [
            family("ONE", lat=UTRECHT[0], lon=UTRECHT[1]),
            family("TWO", free_places=2, lat=52.2, lon=5.3),
        ],
    )
    children, pool = build(kids_df, places_df)
    for child in ("A", "B"):
        s = suggest(children, pool, child)
        assert list(s.table["placement_id"]) == ["TWO"]
        assert "2 broers/zussen samen" in s.table["reasons"].iloc[0]
    # max_siblings is absent: it defaults to max(free_places, 1), so both rules fail
    assert explain(children, pool, "A", "ONE").violations == [
        "capacity: het gezin heeft geen vrije plek voor 2 kinderen (1 vrij)",
        "siblings: het gezin neemt niet 2 broers/zussen samen op (hoogstens 1)",
    ]
    result = match_batch(children, pool)
    assert_valid(kids_df, places_df, result)
    assert set(result.assignment["placement_id"]) == {"TWO"} and result.placed == 2


def test_siblings_stay_unplaced_together_rather_than_split() -> None:
    kids_df, places_df = frames(
        [kid("A", sibling_group="S"), kid("B", sibling_group="S")],
        [family("F1"), family("F2")],
    )
    result = match_batch(*build(kids_df, places_df))
    assert_valid(kids_df, places_df, result)
    assert result.placed == 0
    assert set(result.unplaced["child_id"]) == {"A", "B"}
    assert result.unplaced["reason"].str.startswith("geen gezin voldoet").all()


def test_contra_indicated_child_never_shares_a_family_with_its_siblings() -> None:
    kids = [
        kid("A", sibling_group="S"),
        kid("B", sibling_group="S"),
        kid("C", sibling_group="S", sibling_contra_indication=1),
    ]
    # one roomy family: the pair or the contra-indicated child, never all three
    kids_df, places_df = frames(kids, [family("BIG", free_places=3, max_siblings=3)])
    children, pool = build(kids_df, places_df)
    assert suggest(children, pool, "C").siblings == []
    assert suggest(children, pool, "A").siblings == ["B"]
    result = match_batch(children, pool)
    assert_valid(kids_df, places_df, result)
    assert sorted(result.assignment["child_id"]) == ["A", "B"]
    # a second family: everyone placed, C apart
    kids_df, places_df = frames(
        kids, [family("BIG", free_places=3, max_siblings=3), family("SMALL")]
    )
    result = match_batch(*build(kids_df, places_df))
    assert_valid(kids_df, places_df, result)
    placed = dict(
        zip(result.assignment["child_id"], result.assignment["placement_id"], strict=True)
    )
    assert placed == {"A": "BIG", "B": "BIG", "C": "SMALL"}


def test_most_children_placed_before_the_best_fit() -> None:
    # A fits F1 perfectly and F2 badly; B fits only F1: both placed, A in F2
    kids_df, places_df = frames(
        [kid("A", trede="deeltijd"), kid("B", urgency=3)],
        [
            family("F1", tredes="voltijd|deeltijd", lat=UTRECHT[0], lon=UTRECHT[1]),
            family("F2", tredes="deeltijd", lat=53.2, lon=6.5),
        ],
    )
    result = match_batch(*build(kids_df, places_df))
    assert_valid(kids_df, places_df, result)
    placed = dict(
        zip(result.assignment["child_id"], result.assignment["placement_id"], strict=True)
    )
    assert placed == {"A": "F2", "B": "F1"}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"urgency": 3}, {"urgency": 0}),
        ({"waiting_since": "2025-06-01"}, {"waiting_since": "2026-05-01"}),
    ],
)
def test_urgent_or_long_waiting_child_gets_the_last_place(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    # B is closer to the family (better fit) but A is more urgent: 30 points beat the fit
    kids_df, places_df = frames(
        [kid("A", home_lat=52.15, **a), kid("B", **b)],
        [family("F", lat=UTRECHT[0], lon=UTRECHT[1])],
    )
    result = match_batch(*build(kids_df, places_df))
    assert_valid(kids_df, places_df, result)
    assert list(result.assignment["child_id"]) == ["A"]
    assert "toegewezen aan andere kinderen" in result.unplaced["reason"].iloc[0]


def test_as_of_caps_the_waiting_time() -> None:
    # seen from 2030 both children have waited over a year: equal urgency, the fit decides
    kids_df, places_df = frames(
        [
            kid("A", home_lat=52.15, urgency=3, waiting_since="2026-05-01"),
            kid("B", waiting_since="2026-04-01"),
        ],
        [family("F", lat=UTRECHT[0], lon=UTRECHT[1])],
    )
    children, pool = build(kids_df, places_df)
    result = match_batch(children, pool)
    assert list(result.assignment["child_id"]) == ["A"]
    result = match_batch(children, pool, as_of=pd.Timestamp("2030-01-01"))
    assert list(result.assignment["child_id"]) == ["B"]
    assert result.status == "optimal"


@pytest.mark.parametrize(
    ("free", "kids", "placed"),
    [
        # 2 places: a pair (2 children) beats a single; never a pair and a single
        (2, ["P1", "P2", "S"], {"P1", "P2"}),
        # 3 places: one pair and one single, not two pairs
        (3, ["P1", "P2", "Q1", "Q2", "S"], {"P1", "P2", "S"}),
        (3, ["P1", "P2", "Q1", "Q2"], {"P1", "P2"}),
        # 4 places: two pairs
        (4, ["P1", "P2", "Q1", "Q2", "S"], {"P1", "P2", "Q1", "Q2"}),
        (4, ["P1", "P2", "S", "T"], {"P1", "P2", "S", "T"}),
    ],
)
def test_sibling_pairs_fill_a_family_exactly(free: int, kids: list[str], placed: set[str]) -> None:
    rows = [
        kid(c, sibling_group=c[0] if c[0] in "PQ" else "", urgency=3 if c[0] == "P" else 0)
        for c in kids
    ]
    kids_df, places_df = frames(rows, [family("F", free_places=free, max_siblings=2)])
    result = match_batch(*build(kids_df, places_df))
    assert_valid(kids_df, places_df, result)
    assert set(result.assignment["child_id"]) == placed


def test_synthetic_pool_with_every_child_in_a_pair() -> None:
    kids_df, _ = synthetic_pool(11, 20, 1, sibling_share=1.0)
    assert (kids_df["sibling_group"] != "").sum() == 10


def test_synthetic_pool_is_reproducible_and_consistent() -> None:
    a, b = synthetic_pool(30, 60, 9), synthetic_pool(30, 60, 9)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    kids_df, places_df = a
    inst = Instance.of(kids_df, places_df)
    for f in inst.families.values():
        if f.network_for:
            assert inst.kids[f.network_for].network_family == f.id
    groups = kids_df.loc[kids_df["sibling_group"] != "", "sibling_group"].value_counts()
    assert (groups == 2).all() and len(groups) == round(30 * 0.15 / 2)


def test_ties_are_broken_by_placement_order_in_a_large_pool() -> None:
    fams = [family(f"F{j:05d}") for j in range(1000)]
    children, pool = build(*frames([kid("A")], fams))
    table = suggest(children, pool, "A", 5).table
    assert list(table["placement_id"]) == [f"F{j:05d}" for j in range(5)]


def test_ties_are_broken_by_placement_order_in_a_small_pool() -> None:
    fams = [family(f"F{j:02d}") for j in range(30)]
    children, pool = build(*frames([kid("A")], fams))
    assert list(suggest(children, pool, "A", 3).table["placement_id"]) == ["F00", "F01", "F02"]


def test_urgency_points_follow_the_documented_formula() -> None:
    w = MatchWeights()
    kids_df, places_df = frames(
        [
            kid("A", urgency=1, waiting_since="2026-01-01"),
            kid("B", urgency=0, waiting_since="2025-07-01"),
            kid("C", urgency=2, waiting_since=""),
            kid("D", urgency=0, waiting_since="2024-01-01"),
        ],
        [family("F")],
    )
    inst = Instance.of(kids_df, places_df)
    # reference date is the latest waiting_since, 2026-01-01
    expected = {"A": 10.0, "B": 30 * 184 / 365, "C": 20.0, "D": 30.0}
    assert inst.urgency(w) == pytest.approx(expected)
    children, _ = build(kids_df, places_df)
    assert urgency_points(children, w).to_dict() == pytest.approx(expected)
    later = urgency_points(children, w, as_of=pd.Timestamp("2026-07-02"))
    assert later.to_dict() == pytest.approx({"A": 30 * 182 / 365, "B": 30.0, "C": 20.0, "D": 30.0})


# ---------------------------------------------------------------------------------------
# 6. Input validation
# ---------------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("table", "column"), [("children", "naam"), ("placements", "bsn"), ("children", "BSN")]
)
def test_personal_data_columns_are_refused(tmp_path: Path, table: str, column: str) -> None:
    kids = [kid("A"), kid("B")]
    fams = [family("F")]
    if table == "children":
        kids = [{**k, column: "x"} for k in kids]
    else:
        fams = [{**f, column: "123456782"} for f in fams]
    with pytest.raises(InvalidInputError) as info:
        load_pool(
            write_csv(tmp_path / "children.csv", kids), write_csv(tmp_path / "placements.csv", fams)
        )
    hits = [p for p in info.value.problems if p.column == column]
    assert len(hits) == 1 and "persoonsgegevens" in hits[0].message
    assert hits[0].file == f"{table}.csv"


def test_build_refuses_a_name_column() -> None:
    with pytest.raises(InvalidInputError):
        build(*frames([kid("A", naam="Jan")], [family("F")]))


def test_build_refuses_an_unknown_child_trede() -> None:
    with pytest.raises(InvalidInputError):
        build(*frames([kid("A", trede="pleegzorg")], [family("F")]))


def problems_of(kids: list[dict[str, Any]], fams: list[dict[str, Any]], **kw: Any) -> list[Problem]:
    with pytest.raises(InvalidInputError) as info:
        build(*frames(kids, fams), **kw)
    return info.value.problems


def test_unknown_needs_tag_is_refused_with_row_and_id() -> None:
    (p,) = problems_of([kid("A"), kid("B", needs="lvb|truama")], [family("F")])
    assert p.file == "children.csv" and p.row == 3 and p.id == "B" and p.column == "needs"
    assert "'truama'" in p.message and "trauma" in p.fix


def test_age_range_upside_down_is_refused() -> None:
    (p,) = problems_of([kid("A")], [family("F"), family("G", age_min=12, age_max=4)])
    assert p.file == "placements.csv" and p.row == 3 and p.id == "G"
    assert "age_min 12 is hoger dan age_max 4" in p.message


def test_network_for_unknown_child_is_refused() -> None:
    (p,) = problems_of([kid("A")], [family("F", network_for_child="K999")])
    assert p.id == "F" and p.column == "network_for_child" and "K999" in p.message


def test_network_tables_must_agree() -> None:
    problems = problems_of(
        [kid("A", network_family="G"), kid("B", network_family="NOPE")],
        [family("F", network_for_child="A"), family("G")],
    )
    assert {p.id for p in problems} == {"A", "B"}
    assert any("NOPE" in p.message for p in problems)


def test_postcode_without_pc4_table_is_refused() -> None:
    row = kid("A", home_pc4="3511")
    del row["home_lat"], row["home_lon"]
    (p,) = problems_of([row], [family("F")])
    assert p.column == "home_pc4" and p.id == "A" and "geen PC4-tabel" in p.message


def test_postcode_with_pc4_table_is_located(tmp_path: Path) -> None:
    row = kid("A", home_pc4="3511")
    del row["home_lat"], row["home_lon"]
    fam = family("F", pc4="1012")
    del fam["lat"], fam["lon"]
    table = write_csv(
        tmp_path / "pc4.csv",
        [
            {"pc4": "3511", "lat": UTRECHT[0], "lon": UTRECHT[1]},
            {"pc4": "1012", "lat": AMSTERDAM[0], "lon": AMSTERDAM[1]},
        ],
    )
    centroids = load_pc4(table)
    children, pool = load_pool(
        write_csv(tmp_path / "c.csv", [row]), write_csv(tmp_path / "p.csv", [fam]), centroids
    )
    reasons = explain(children, pool, "A", "F").reasons
    assert f"{haversine(UTRECHT, AMSTERDAM):.1f} km van huis".replace(".", ",") in reasons
    with pytest.raises(InvalidInputError) as info:
        build(*frames([row], [family("F")]), pc4={"1012": AMSTERDAM})
    assert "staat niet in de PC4-tabel" in info.value.problems[0].message


def test_every_problem_is_listed_at_once() -> None:
    row = kid("C", home_pc4="3511")
    del row["home_lat"], row["home_lon"]
    problems = problems_of(
        [kid("A", needs="truama"), kid("B", waiting_since="gisteren"), row],
        [
            family("F", age_min=10, age_max=2),
            family("G", network_for_child="X", tredes="voltijd|pleegzorg"),
        ],
    )
    found = {(p.file, p.id) for p in problems}
    assert found == {
        ("children.csv", "A"),
        ("children.csv", "B"),
        ("children.csv", "C"),
        ("placements.csv", "F"),
        ("placements.csv", "G"),
    }
    assert len(problems) == 6


def test_unknown_child_or_family_in_a_request() -> None:
    children, pool = build(*frames([kid("A")], [family("F")]))
    with pytest.raises(InvalidInputError):
        suggest(children, pool, "Z")
    with pytest.raises(InvalidInputError):
        explain(children, pool, "A", "Q")


def test_load_pool_reads_csv_with_defaults(tmp_path: Path) -> None:
    kids = [kid("A", sibling_group="S"), kid("B", sibling_group="S"), kid("C")]
    fams = [family("F", free_places=2), family("G", free_places=3, max_siblings=1)]
    children, pool = load_pool(
        write_csv(tmp_path / "c.csv", kids), write_csv(tmp_path / "p.csv", fams)
    )
    kids_df, places_df = pd.read_csv(tmp_path / "c.csv"), pd.read_csv(tmp_path / "p.csv")
    result = match_batch(children, pool)
    assert_valid(kids_df, places_df, result)
    placed = dict(
        zip(result.assignment["child_id"], result.assignment["placement_id"], strict=True)
    )
    assert placed == {"A": "F", "B": "F", "C": "G"}


# ---------------------------------------------------------------------------------------
# 7. The command line
# ---------------------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("pool")
    done = run(
        "generate-pool", "--children", "40", "--families", "300", "--seed", "7", "--out", str(data)
    )
    assert done.returncode == 0, done.stderr
    assert (data / "children.csv").is_file() and (data / "placements.csv").is_file()
    return data


def run_match(generated: Path, out: Path, *extra: str) -> Any:
    """Run ``capaciteit match`` on the generated pool."""
    children, placements = str(generated / "children.csv"), str(generated / "placements.csv")
    return run(
        "match", "--children", children, "--placements", placements, "--out", str(out), *extra
    )


def test_cli_match_writes_a_proven_optimal_assignment(generated: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_match(generated, out, "--quiet")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "match.json").read_text(encoding="utf-8"))
    assert summary["proven_optimal"] is True and summary["status"] == "optimal"
    assignment = pd.read_csv(out / "assignment.csv", dtype={"child_id": str, "placement_id": str})
    unplaced = pd.read_csv(out / "unplaced.csv", dtype={"child_id": str})
    assert summary["placed"] == len(assignment) > 0
    assert summary["unplaced"] == len(unplaced) and summary["children"] == 40
    assert len(summary["assignment"]) == len(assignment)
    kids_df = pd.read_csv(generated / "children.csv", dtype=str, keep_default_na=False)
    places_df = pd.read_csv(generated / "placements.csv", dtype=str, keep_default_na=False)
    kids_df, places_df = _numeric(kids_df), _numeric(places_df)
    result = SimpleNamespace(assignment=assignment, unplaced=unplaced)
    errors = check_assignment(kids_df, places_df, result)
    assert not errors, "\n".join(errors)
    assert f"{len(assignment)} van 40 kinderen geplaatst" in done.stdout


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if col.endswith(("lat", "lon")) or col in ("age", "free_places", "age_min", "age_max"):
            out[col] = pd.to_numeric(out[col].replace("", np.nan))
    return out


def test_cli_match_one_child_top_3(generated: Path, tmp_path: Path) -> None:
    kids_df = _numeric(pd.read_csv(generated / "children.csv", dtype=str, keep_default_na=False))
    places_df = _numeric(
        pd.read_csv(generated / "placements.csv", dtype=str, keep_default_na=False)
    )
    inst = Instance.of(kids_df, places_df)
    counts = {c: len(inst.candidates(inst.unit_of(c))) for c in inst.kids}
    child = max(counts, key=lambda c: counts[c])
    assert counts[child] > 3
    out = tmp_path / "one"
    done = run_match(
        generated,
        out,
        "--child",
        child,
        "--top",
        "3",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads((out / "suggestions.json").read_text(encoding="utf-8"))
    assert data["child_id"] == child and data["candidates"] == counts[child]
    suggestions = data["suggestions"]
    assert len(suggestions) == 3
    scores = [s["score"] for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    members = inst.unit_of(child)
    for s in suggestions:
        assert inst.allowed(members, s["placement_id"])
        assert any(r.endswith("km van huis") for r in s["reasons"])
        assert any("gezin" in r for r in s["reasons"])  # Dutch: "... in het gezin"
    assert (out / "suggestions.csv").is_file()
    assert "passende gezinnen" in done.stdout


def test_cli_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    kids = write_csv(tmp_path / "children.csv", [kid("A", naam="Jan", needs="truama")])
    fams = write_csv(tmp_path / "placements.csv", [family("F", age_min=9, age_max=3)])
    done = run(
        "match", "--children", str(kids), "--placements", str(fams), "--out", str(tmp_path / "o")
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert "naam" in done.stderr and "persoonsgegevens" in done.stderr
    kids = write_csv(tmp_path / "children.csv", [kid("A", needs="truama")])
    done = run(
        "match", "--children", str(kids), "--placements", str(fams), "--out", str(tmp_path / "o")
    )
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert "truama" in done.stderr and "age_min 9 is hoger dan age_max 3" in done.stderr
    kids = write_csv(tmp_path / "children.csv", [kid("A")])
    fams = write_csv(tmp_path / "placements.csv", [family("F")])
    done = run(
        "match",
        "--children",
        str(kids),
        "--placements",
        str(fams),
        "--out",
        str(tmp_path / "o"),
        "--child",
        "NOBODY",
    )
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert "NOBODY" in done.stderr
