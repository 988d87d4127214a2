"""Norm measures and the KPIs built on them, recounted from the stays by brute force.

Every expected value here comes from the definitions in :mod:`capaciteit.domain.norms`,
:mod:`capaciteit.simulation.measures` and :mod:`capaciteit.simulation.kpis`, recounted with
plain Python loops over the rows of a stays table (or, for time-averages, by counting the
stays in a bed between consecutive events), never by calling the function under test.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from capaciteit.domain.norms import OCCUPANCY, PLACED, REFUSED, STAY, norms_of
from capaciteit.io.model_writer import write_model_dir
from capaciteit.io.scenario_files import load_scenario
from capaciteit.simulation.kpis import replication_kpis
from capaciteit.simulation.measures import (
    StayColumns,
    blocking_days,
    measure_norms,
    occupancy,
    placed_within,
    refused,
    stays_over,
)
from capaciteit.simulation.replications import run_replications
from capaciteit.simulation.spec import SimSpec, compile_spec
from tests.conftest import TRANSFORMATIE

NAN = math.nan
Row = dict[str, Any]


def isnan(x: float) -> bool:
    return x != x


# --------------------------------------------------------------------------- brute force
def rows_of(stays: pd.DataFrame) -> list[Row]:
    """The stays as plain dicts (strings and floats)."""
    out = []
    for rec in stays.to_dict(orient="records"):
        out.append(
            {
                "person": int(rec["person"]),
                "form": str(rec["care_form"]),
                "waited_in": str(rec["waited_in"]),
                "requested": float(rec["requested_day"]),
                "start": float(rec["start_day"]),
                "service_end": float(rec["service_end_day"]),
                "end": float(rec["end_day"]),
                "outcome": str(rec["outcome"]),
            }
        )
    return out


def columns_of(rows: list[Row], forms: list[str]) -> StayColumns:
    """A StayColumns written from plain rows (for hand-made and random stays)."""
    pos = {f: i for i, f in enumerate(forms)}
    waited = {"initial": -2, "home": -1, **pos}
    return StayColumns(
        form=np.array([pos[r["form"]] for r in rows], dtype=np.int64),
        waited_in=np.array([waited[r["waited_in"]] for r in rows], dtype=np.int64),
        initial=np.array([r["waited_in"] == "initial" for r in rows], dtype=bool),
        requested=np.array([r["requested"] for r in rows], dtype=np.float64),
        start=np.array([r["start"] for r in rows], dtype=np.float64),
        service_end=np.array([r["service_end"] for r in rows], dtype=np.float64),
        end=np.array([r["end"] for r in rows], dtype=np.float64),
        refused=np.array([r["outcome"] == "overflow" for r in rows], dtype=bool),
    )


def bf_placed_within(
    rows: Iterable[Row], form: str, days: float, a: float, b: float
) -> tuple[float, int]:
    """Requests decided in [a, b): placed within ``days`` (decided at placement), given up
    before the deadline (decided then, a miss), or the deadline passed (decided then, a miss).
    """
    n = hits = 0
    for r in rows:
        if r["form"] != form or r["waited_in"] == "initial":
            continue
        placed = not isnan(r["start"])
        if placed and r["start"] - r["requested"] <= days:
            when, hit = r["start"], True
        elif not placed and not isnan(r["end"]) and r["end"] < r["requested"] + days:
            when, hit = r["end"], False
        else:
            when, hit = r["requested"] + days, False
        if a <= when < b:
            n += 1
            hits += hit
    return (hits / n if n else NAN), n


def bf_refused(rows: Iterable[Row], form: str, a: float, b: float) -> tuple[float, int]:
    """Requests resolved (placed, or ended without a bed) in [a, b): share sent out."""
    n = out = 0
    for r in rows:
        if r["form"] != form or r["waited_in"] == "initial":
            continue
        if not isnan(r["start"]):
            when = r["start"]
        elif not isnan(r["end"]):
            when = r["end"]
        else:
            continue  # still waiting: not resolved
        if a <= when < b:
            n += 1
            out += r["outcome"] == "overflow"
    return (out / n if n else NAN), n


def bf_stays_over(
    rows: Iterable[Row], form: str, max_days: float, a: float, b: float, themselves: bool = False
) -> tuple[float, int]:
    """Stays decided in [a, b): ended within ``max_days`` (decided at the end), or not (decided
    when ``max_days`` had passed: over, also when still in the bed).
    """
    n = over = 0
    for r in rows:
        if r["form"] != form or isnan(r["start"]):
            continue
        end = r["service_end"] if themselves else r["end"]
        if not isnan(end) and end - r["start"] <= max_days:
            when, is_over = end, False
        else:
            when, is_over = r["start"] + max_days, True
        if a <= when < b:
            n += 1
            over += is_over
    return (over / n if n else NAN), n


def bf_occupancy(
    rows: Iterable[Row], form: str, beds: float, a: float, b: float
) -> tuple[float, float, float]:
    """Walk from event to event through [a, b), counting the stays in a bed in between."""
    spans = [
        (r["start"], math.inf if isnan(r["end"]) else r["end"])
        for r in rows
        if r["form"] == form and not isnan(r["start"])
    ]
    times = sorted({a, b} | {t for s in spans for t in s if a < t < b})
    occupied = within = above = 0.0
    starts = np.array([s for s, _ in spans], dtype=float)
    ends = np.array([e for _, e in spans], dtype=float)
    for t0, t1 in itertools.pairwise(times):
        mid = (t0 + t1) / 2
        level = int(((starts <= mid) & (ends > mid)).sum())
        occupied += level * (t1 - t0)
        within += min(level, beds) * (t1 - t0)
        above += max(level - beds, 0) * (t1 - t0)
    span = b - a
    rate = within / span / beds if beds > 0 else NAN
    return occupied / span, rate, above / span


def bf_blocking(rows: Iterable[Row], forms: list[str], a: float, b: float) -> np.ndarray:
    """Days in [a, b) between a request made from a bed and its resolution, per (bed, asked)."""
    out = np.zeros((len(forms), len(forms)))
    for r in rows:
        if r["waited_in"] not in forms:
            continue
        resolved = r["start"] if not isnan(r["start"]) else r["end"]
        finish = min(math.inf if isnan(resolved) else resolved, b)
        days = finish - max(r["requested"], a)
        if days > 0:
            out[forms.index(r["waited_in"]), forms.index(r["form"])] += days
    return out


def bf_blocked_bed_days(rows: Iterable[Row], form: str, a: float, b: float) -> float:
    """From the bed's side: time in [a, b) after the stay was over until the bed was left."""
    total = 0.0
    for r in rows:
        if r["form"] != form or isnan(r["start"]) or isnan(r["service_end"]):
            continue
        left = math.inf if isnan(r["end"]) else r["end"]
        total += max(0.0, min(left, b) - max(r["service_end"], a))
    return total


# --------------------------------------------------------------------------- hand example
def row(form: str, waited: str, req: float, start: float, se: float, end: float, out: str) -> Row:
    return {
        "form": form,
        "waited_in": waited,
        "requested": req,
        "start": start,
        "service_end": se,
        "end": end,
        "outcome": out,
    }


HAND = [
    # form a (beds 2)
    row("a", "initial", -5, -5, 3, 3, "admitted"),  # 1: 0-meting occupant, leaves on day 3
    row("a", "home", 1, 1.5, 5, 6, "admitted"),  # 2: waits 0.5; blocks its bed 5-6 for b
    row("a", "home", 2, 4, NAN, NAN, "admitted"),  # 3: waits 2 days, still in the bed
    row("a", "home", 5, NAN, NAN, 5.5, "overflow"),  # 4: sent out of the region at 5.5
    row("a", "home", 8, NAN, NAN, NAN, "waiting"),  # 5: still waiting
    row("a", "home", 9.5, 9.8, 9.9, 9.9, "admitted"),  # 6: short stay at the end
    row("a", "b", 6, 7, 8, 11, "admitted"),  # 7: from a bed of b after exactly 1 day
    # form b (beds 1)
    row("b", "a", 5, 6, NAN, NAN, "admitted"),  # 8: person of stay 2, from a's bed
    row("b", "home", 0, 0, 6, 7, "admitted"),  # 9: person of stay 7, blocks b's bed 6-7
]


def test_hand_checked_example() -> None:
    """A handful of stays with every measure worked out by hand.

    Form a over [0, 10), 2 beds. Beds held by stays 1 [-5,3), 2 [1.5,6), 3 [4,inf),
    6 [9.8,9.9), 7 [7,11): level 1 on [0,1.5), 2 on [1.5,3), 1 on [3,4), 2 on [4,6),
    1 on [6,7), 2 on [7,9.8), 3 on [9.8,9.9), 2 on [9.9,10). Bed-days 1.5 + 3 + 1 + 4 + 1 +
    5.6 + 0.3 + 0.2 = 16.6 -> 1.66 beds; above 2 beds: 0.1 bed-days -> 0.01;
    rate (1.66 - 0.01) / 2 = 0.825.

    Placed within 1 day, decided in [0, 10): 2 at 1.5 (hit, 0.5 days), 3 at 3 (deadline,
    miss), 4 at 5.5 (given up, miss), 5 at 9 (deadline, miss), 6 at 9.8 (hit), 7 at 7 (hit:
    exactly 1 day counts) -> 3/6. Over [0, 9): 5 and 6 fall out -> 2/4.
    Within 3 days over [0, 10): 2 (1.5 hit), 3 (4 hit), 4 (5.5 miss), 6 (9.8 hit), 7 (7 hit);
    5's deadline 11 is outside -> 4/5.

    Refused over [0, 10): resolved 2 (1.5), 3 (4), 4 (5.5, refused), 6 (9.8), 7 (7); 5 is
    unresolved -> 1/5.

    Stays over 4 days, decided in [0, 10): 1 decided at -1 (outside); 2 lasts 4.5 -> over at
    5.5; 3 still in the bed -> over at 8; 6 lasts 0.1 -> within at 9.9; 7 lasts exactly 4,
    decided at 11 (outside) -> 2/3. By themselves (service end): 2 lasts 3.5 -> within at 5;
    3 over at 8; 6 within at 9.9; 7 lasts 1 -> within at 8 -> 1/4.

    Blocking: stay 8 waited in a's bed for b from 5 to 6 -> [a, b] = 1; stay 7 waited in b's
    bed for a from 6 to 7 -> [b, a] = 1. Over [0, 6.5): 1 and 0.5.

    Form b over [0, 10), 1 bed: stay 9 [0, 7), stay 8 [6, inf): level 1, 2 on [6, 7), 1 ->
    1.1 beds, 0.1 above, rate 1.0. With no beds: rate nan, everything above.
    """
    s = columns_of(HAND, ["a", "b"])
    sa, sb = s.of_form(0), s.of_form(1)
    assert occupancy(sa, 2, 0, 10) == pytest.approx((1.66, 0.825, 0.01))
    assert placed_within(sa, 1, 0, 10) == (0.5, 6)
    assert placed_within(sa, 1, 0, 9) == (0.5, 4)
    assert placed_within(sa, 3, 0, 10) == (0.8, 5)
    assert refused(sa, 0, 10) == (0.2, 5)
    value, n = stays_over(sa, 4, 0, 10)
    assert (value, n) == (pytest.approx(2 / 3), 3)
    assert stays_over(sa, 4, 0, 10, by_themselves=True) == (0.25, 4)
    np.testing.assert_allclose(blocking_days(s, 2, 0, 10), [[0, 1], [1, 0]])
    np.testing.assert_allclose(blocking_days(s, 2, 0, 6.5), [[0, 1], [0.5, 0]])
    assert occupancy(sb, 1, 0, 10) == pytest.approx((1.1, 1.0, 0.1))
    occupied, rate, above = occupancy(sb, 0, 0, 10)
    assert math.isnan(rate) and occupied == pytest.approx(1.1) and above == pytest.approx(1.1)
    # no stays at all: nothing occupied, 0% of the beds, no share without outcomes
    empty = columns_of([], ["a"])
    assert occupancy(empty, 3, 0, 10) == (0.0, 0.0, 0.0)
    assert math.isnan(placed_within(empty, 1, 0, 10)[0])
    assert math.isnan(stays_over(empty, 1, 0, 10)[0])
    # and the brute force agrees with the hand
    assert bf_occupancy(HAND, "a", 2, 0, 10) == pytest.approx((1.66, 0.825, 0.01))
    assert bf_placed_within(HAND, "a", 1, 0, 10) == (0.5, 6)
    assert bf_stays_over(HAND, "a", 4, 0, 10, themselves=True) == (0.25, 4)
    np.testing.assert_allclose(bf_blocking(HAND, ["a", "b"], 0, 6.5), [[0, 1], [0.5, 0]])


# --------------------------------------------------------------------------- random stays
FORMS = ["a", "b"]
half_days = st.integers(-20, 60).map(lambda x: x / 2)  # ties on purpose


@st.composite
def random_stays(draw: st.DrawFn) -> list[Row]:
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        form = draw(st.sampled_from(FORMS))
        waited = draw(st.sampled_from(["initial", "home", *FORMS]))
        req = draw(half_days)
        kind = draw(st.sampled_from(["in_bed", "left", "blocked", "given_up", "waiting"]))
        out = "admitted"
        start = se = end = NAN
        if waited == "initial" or kind in ("in_bed", "left", "blocked"):
            start = req + draw(st.integers(0, 12)) / 2
            if waited == "initial":
                req = start
            if kind in ("left", "blocked"):
                se = start + draw(st.integers(0, 20)) / 2
                end = se + (draw(st.integers(0, 10)) / 2 if kind == "blocked" else 0)
        elif kind == "given_up":
            end = req + draw(st.integers(0, 12)) / 2
            out = draw(st.sampled_from(["overflow", "aged_out"]))
        else:
            out = "waiting"
        rows.append(row(form, waited, req, start, se, end, out))
    return rows


windows = st.tuples(half_days, st.integers(1, 60).map(lambda x: x / 2))
measure_days = st.sampled_from([0.5, 1.0, 2.0, 3.5, 14.0]) | st.floats(0.01, 40)


@settings(max_examples=300, deadline=None)
@given(rows=random_stays(), window=windows, days=measure_days, beds=st.integers(0, 4))
def test_measures_on_random_stays(
    rows: list[Row], window: tuple[float, float], days: float, beds: int
) -> None:
    a, b = window[0], window[0] + window[1]
    s = columns_of(rows, FORMS)
    for f, form in enumerate(FORMS):
        sf = s.of_form(f)
        check_pair(placed_within(sf, days, a, b), bf_placed_within(rows, form, days, a, b))
        check_pair(refused(sf, a, b), bf_refused(rows, form, a, b))
        check_pair(stays_over(sf, days, a, b), bf_stays_over(rows, form, days, a, b))
        check_pair(
            stays_over(sf, days, a, b, by_themselves=True),
            bf_stays_over(rows, form, days, a, b, themselves=True),
        )
        assert occupancy(sf, beds, a, b) == approx_nan(bf_occupancy(rows, form, beds, a, b))
    np.testing.assert_allclose(blocking_days(s, 2, a, b), bf_blocking(rows, FORMS, a, b))


def check_pair(got: tuple[float, int], expected: tuple[float, int]) -> None:
    assert got[1] == expected[1]
    if expected[1] == 0:
        assert math.isnan(got[0])
    else:
        assert got[0] == pytest.approx(expected[0], rel=1e-12)


def approx_nan(values: tuple[float, ...]) -> Any:
    return pytest.approx(values, rel=1e-9, abs=1e-9, nan_ok=True)


# --------------------------------------------------------------------------- real runs
def multi_form_tables() -> dict[str, list[dict[str, Any]]]:
    """Four forms: overflow (crisis-like, max stay), block with siblings and an age limit of
    21, queue with a short waiting list, overflow with a waiting list; doorstroom between
    them so that beds are blocked; few beds so that everything happens.
    """
    forms = [
        {
            "care_form": "crisis",
            "name": "Crisis",
            "waiting_policy": "overflow",
            "max_wait_days": 1,
            "priority": 0,
            "max_age_years": 18,
            "age_out_to": "thuis",
            "max_stay_days": 28,
            "funding": "availability",
            "sibling_group_share": 0.2,
            "sibling_group_size": 2,
        },
        {
            "care_form": "pleeg",
            "name": "Pleeg",
            "waiting_policy": "block",
            "max_age_years": 21,
            "max_stay_days": 400,
            "sibling_group_share": 0.3,
            "sibling_group_size": 3,
        },
        {
            "care_form": "res",
            "name": "Res",
            "waiting_policy": "queue",
            "max_queue_length": 4,
            "max_stay_days": 120,
        },
        {
            "care_form": "jzp",
            "name": "JZP",
            "waiting_policy": "overflow",
            "max_wait_days": 14,
            "max_queue_length": 2,
        },
    ]
    beds = [
        {"provider": "P1", "care_form": "crisis", "beds": 3, "occupied": 3},
        {"provider": "P2", "care_form": "crisis", "beds": 2, "occupied": 1},
        {"provider": "P1", "care_form": "pleeg", "beds": 12, "occupied": 12},
        {"provider": "P2", "care_form": "res", "beds": 6, "occupied": 5},
        {"provider": "P1", "care_form": "jzp", "beds": 2, "occupied": 2},
    ]
    instroom = [
        {"care_form": f, "year": 2023, "arrivals_per_year": n}
        for f, n in (("crisis", 90), ("pleeg", 15), ("res", 25), ("jzp", 8))
    ]
    los = [
        {"care_form": "crisis", "distribution": "lognormal", "mean_days": 20, "cv": 1.0},
        {"care_form": "pleeg", "distribution": "gamma", "mean_days": 250, "cv": 0.8},
        {"care_form": "res", "distribution": "exponential", "mean_days": 90},
        {"care_form": "jzp", "distribution": "lognormal", "mean_days": 60, "cv": 1.2},
    ]
    routing = [
        ("crisis", "thuis", 0.4),
        ("crisis", "pleeg", 0.3),
        ("crisis", "res", 0.2),
        ("crisis", "jzp", 0.1),
        ("pleeg", "thuis", 0.6),
        ("pleeg", "pleeg", 0.1),
        ("pleeg", "res", 0.1),
        ("pleeg", "zelfstandig", 0.2),
        ("res", "thuis", 0.5),
        ("res", "pleeg", 0.3),
        ("res", "jzp", 0.2),
        ("jzp", "res", 0.5),
        ("jzp", "thuis", 0.5),
    ]
    age = [
        ("crisis", 0, 12, 0.4),
        ("crisis", 12, 18, 0.6),
        ("pleeg", 0, 18, 1.0),
        ("res", 12, 18, 1.0),
        ("jzp", 14, 18, 1.0),
    ]
    return {
        "care_forms": forms,
        "providers": [{"provider": "P1", "name": "Een"}, {"provider": "P2", "name": "Twee"}],
        "beds": beds,
        "instroom": instroom,
        "los": los,
        "routing": [{"from_care_form": f, "to": t, "share": s} for f, t, s in routing],
        "age": [
            {"care_form": f, "age_min_years": lo, "age_max_years": hi, "share": s}
            for f, lo, hi, s in age
        ],
        "costs": [
            {"care_form": f["care_form"], "provider": "", "cost_per_bed_day_eur": 100}
            for f in forms
        ],
    }


def write_multi_form_scenario(tmp: Path) -> Path:
    model = write_model_dir(tmp / "model", multi_form_tables())
    scenario = {
        "schema_version": 1,
        "name": "Meervormig",
        "model": str(model.resolve()),
        "horizon": {"start_year": 2023, "end_year": 2025},
        "replications": 2,
        "seed": 7,
        "warm_up_days": 0,
        "initial_state": "occupied",
        "levers": {
            "bed_changes": [
                # first-year cut below the 0-meting: occupants above the beds stay
                {"year": 2023, "provider": "P1", "care_form": "pleeg", "change_beds": -4},
                {"year": 2024, "provider": "P2", "care_form": "res", "change_beds": -2},
                # JZP closes in 2025
                {"year": 2025, "provider": "P1", "care_form": "jzp", "change_beds": -2},
            ]
        },
        "service_levels": {
            "crisis": {
                "placed_within_days": 1,
                "placed_share_min": 0.9,
                "stays_over_max_share_max": 0.2,
                "max_occupancy": 0.9,
            },
            "pleeg": {"refused_share_max": 0.1, "stays_over_max_share_max": 0.3},
            "res": {"placed_within_days": 7, "placed_share_min": 0.5, "max_occupancy": 0.95},
            "jzp": {"refused_share_max": 0.2},
        },
    }
    path = tmp / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def multi_form(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, ...]:
    scenario = load_scenario(write_multi_form_scenario(tmp_path_factory.mktemp("multi")))
    spec = compile_spec(scenario)
    result = run_replications(spec, 2, scenario.seed)
    return scenario, spec, result


@pytest.fixture(scope="module")
def example_region() -> tuple[Any, ...]:
    scenario = load_scenario(TRANSFORMATIE)
    spec = compile_spec(scenario)
    return scenario, spec, run_replications(spec, 2, 17)


def test_the_multi_form_run_exercises_every_rule(multi_form: tuple[Any, ...]) -> None:
    _, _, result = multi_form
    stays = result.stays
    outcomes = set(stays["outcome"].astype(str))
    assert {"admitted", "overflow", "waiting"} <= outcomes
    blocked = stays["waited_in"].astype(str).isin(["crisis", "pleeg", "res", "jzp"])
    assert blocked.sum() > 10 and (stays["sibling_group"] >= 0).any()
    assert (stays["start_day"] - stays["requested_day"] > 1).sum() > 10


def recount_kpis(spec: SimSpec, stays: pd.DataFrame, kpis: pd.DataFrame) -> int:
    """Recount the norm-based KPIs of one replication; return the cells checked."""
    rows = rows_of(stays)
    forms = [str(f) for f in spec.care_forms.index]
    bounds = spec.year_start_day
    beds = spec.capacity.groupby(level="care_form").sum()
    max_stay = spec.care_forms["max_stay_days"]
    checked = 0
    for form in forms:
        own = [r for r in rows if r["form"] == form]
        for year in spec.years:
            a, b = float(bounds[year]), float(bounds[year + 1])
            got = kpis.loc[(form, year)]
            n_beds = float(beds.at[form, year])
            occupied, rate, above = bf_occupancy(own, form, n_beds, a, b)
            assert got["capacity_beds"] == n_beds
            assert got["occupied_beds"] == pytest.approx(occupied, rel=1e-9, abs=1e-9)
            if n_beds == 0:
                assert math.isnan(got["occupancy_rate"]), (form, year)
            else:
                assert got["occupancy_rate"] == pytest.approx(rate, rel=1e-9, abs=1e-12)
            assert got["over_capacity_beds"] == pytest.approx(above, rel=1e-9, abs=1e-9)
            share24, n24 = bf_placed_within(own, form, 1.0, a, b)
            assert_share(got["placed_within_24h_share"], share24, n24)
            limit = float(max_stay[form])
            if math.isnan(limit):
                assert math.isnan(got["stays_over_max_share"])
            else:
                over, n_over = bf_stays_over(own, form, limit, a, b)
                assert_share(got["stays_over_max_share"], over, n_over)
            share_out, n_out = bf_refused(own, form, a, b)
            assert_share(got["refused_share"], share_out, n_out)
            assert got["blocked_bed_days"] == pytest.approx(
                bf_blocked_bed_days(own, form, a, b), rel=1e-9, abs=1e-9
            )
            checked += 1
    return checked


def assert_share(got: float, expected: float, n: int) -> None:
    if n == 0:
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("which", ["multi_form", "example_region"])
def test_kpis_recounted_per_replication(which: str, request: pytest.FixtureRequest) -> None:
    _, spec, result = request.getfixturevalue(which)
    checked = 0
    for rep in range(result.replications):
        stays = result.stays[result.stays["replication"] == rep]
        checked += recount_kpis(spec, stays, result.kpis.xs(rep, level="replication"))
        # the KPIs come from the stays alone
        again = replication_kpis(spec, stays)
        pd.testing.assert_frame_equal(again, result.kpis.xs(rep, level="replication"))
    assert checked == result.replications * len(spec.care_forms) * len(spec.years)


@pytest.mark.parametrize("which", ["multi_form", "example_region"])
def test_measures_recounted_per_year(which: str, request: pytest.FixtureRequest) -> None:
    scenario, spec, result = request.getfixturevalue(which)
    forms = [str(f) for f in spec.care_forms.index]
    beds = spec.capacity.groupby(level="care_form").sum()
    norms = norms_of(scenario)
    families = {PLACED, REFUSED, STAY} | ({OCCUPANCY} if which == "multi_form" else set())
    assert {n.family for n in norms} >= families
    for rep in range(result.replications):
        stays = result.stays[result.stays["replication"] == rep]
        rows = rows_of(stays)
        s = StayColumns.from_frame(stays, forms)
        for year in spec.years:
            a, b = float(spec.year_start_day[year]), float(spec.year_start_day[year + 1])
            totals = {f: float(beds.at[f, year]) for f in forms}
            values, trials, intrinsic = measure_norms(s, norms, forms, (a, b), totals)
            for k, norm in enumerate(norms):
                own = [r for r in rows if r["form"] == norm.care_form]
                if norm.family == PLACED:
                    expected = bf_placed_within(own, norm.care_form, norm.days, a, b)
                elif norm.family == REFUSED:
                    expected = bf_refused(own, norm.care_form, a, b)
                elif norm.family == STAY:
                    expected = bf_stays_over(own, norm.care_form, norm.days, a, b)
                    alone = bf_stays_over(own, norm.care_form, norm.days, a, b, themselves=True)
                    assert_share(intrinsic[k], alone[0], alone[1])
                else:
                    rate = bf_occupancy(own, norm.care_form, totals[norm.care_form], a, b)[1]
                    assert trials[k] == 0
                    if math.isnan(rate):
                        assert math.isnan(values[k])
                    else:
                        assert values[k] == pytest.approx(rate, rel=1e-9, abs=1e-12)
                    continue
                assert trials[k] == expected[1], (norm, year)
                assert_share(values[k], expected[0], expected[1])
            # blocking from the waiting side, and from the bed side
            blocking = blocking_days(s, len(forms), a, b)
            np.testing.assert_allclose(blocking, bf_blocking(rows, forms, a, b), atol=1e-9)
            for u, form in enumerate(forms):
                assert blocking[u].sum() == pytest.approx(
                    bf_blocked_bed_days(rows, form, a, b), rel=1e-9, abs=1e-9
                )


@pytest.fixture(scope="module")
def multi_rows(multi_form: tuple[Any, ...]) -> tuple[list[Row], StayColumns, list[str]]:
    _, spec, result = multi_form
    stays = result.stays[result.stays["replication"] == 0]
    forms = [str(f) for f in spec.care_forms.index]
    return rows_of(stays), StayColumns.from_frame(stays, forms), forms


@settings(max_examples=120, deadline=None)
@given(
    a=st.floats(-100, 1100),
    width=st.floats(0.25, 800),
    days=st.sampled_from([0.5, 1.0, 7.0, 28.0]) | st.floats(0.01, 400),
    beds=st.integers(0, 15),
    f=st.integers(0, 3),
)
def test_measures_over_random_windows_of_a_real_run(
    multi_rows: tuple[list[Row], StayColumns, list[str]],
    a: float,
    width: float,
    days: float,
    beds: int,
    f: int,
) -> None:
    rows, s, forms = multi_rows
    b = a + width
    form = forms[f]
    own = [r for r in rows if r["form"] == form]
    sf = s.of_form(f)
    check_pair(placed_within(sf, days, a, b), bf_placed_within(own, form, days, a, b))
    check_pair(refused(sf, a, b), bf_refused(own, form, a, b))
    check_pair(stays_over(sf, days, a, b), bf_stays_over(own, form, days, a, b))
    check_pair(
        stays_over(sf, days, a, b, by_themselves=True),
        bf_stays_over(own, form, days, a, b, themselves=True),
    )
    assert occupancy(sf, beds, a, b) == approx_nan(bf_occupancy(own, form, beds, a, b))
    np.testing.assert_allclose(
        blocking_days(s, len(forms), a, b), bf_blocking(rows, forms, a, b), atol=1e-7
    )


def test_from_records_and_from_frame_agree(multi_form: tuple[Any, ...]) -> None:
    """The engine's raw records and the stays table give the same columns."""
    from capaciteit.simulation.engine import _Run
    from capaciteit.simulation.replications import replication_seeds

    _, spec, result = multi_form
    forms = [str(f) for f in spec.care_forms.index]
    run = _Run(spec, replication_seeds(result.seed, 1)[0])
    raw = StayColumns.from_records(run.run())
    frame = StayColumns.from_frame(result.stays[result.stays["replication"] == 0], forms)
    for name in ("form", "waited_in", "initial", "requested", "start", "service_end", "end"):
        np.testing.assert_array_equal(getattr(raw, name), getattr(frame, name), err_msg=name)
    np.testing.assert_array_equal(raw.refused, frame.refused)
