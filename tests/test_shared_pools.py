"""Shared pools (JeugdzorgPlus bovenregionaal): minimal beds and the providers' afbouw.

Every expected number is derived here, independently of ``capaciteit.optimisation``:

* the pool's minimal beds against Erlang B and C written out from their definitions
  (Poisson probabilities from scipy, and the plain recursion), and against brute force
  over the number of beds;
* the afbouw plans against a second solver (CP-SAT and CBC read the same problem), against
  brute force over every bed plan of tiny instances (the assignment of each by scipy's
  HiGHS linear program, an independent solver), and re-checked rule by rule by
  :func:`check_plan`, which reads only the problem's tables and the plan's;
* explanations of impossible plans by the numbers of hand-made cases.

What the file takes from the library is only the problem statement: the fields of
:class:`PoolAfbouwProblem` and the objective's definition (beds x tariff x days in the
year + travel weight x minutes x assigned beds + change weight x beds changed).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.stats import poisson

from capaciteit.errors import InvalidInputError
from capaciteit.optimisation import shared_pools
from capaciteit.optimisation.shared_pools import (
    PoolAfbouwPlan,
    PoolAfbouwProblem,
    plan_pool_afbouw,
    pool_minimal_beds,
    region_load_beds,
)
from tests.test_oracles import erlang_b as erlang_b_recursion

SOLVERS = ("cp-sat", "cbc")
EPS = 1e-6


def days_of(year: int) -> int:
    return 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365


# --------------------------------------------------------------------------------------
# The pool's minimal beds
# --------------------------------------------------------------------------------------


def erlang_b_poisson(c: int, a: float) -> float:
    """B(c, a) = P(N = c) / P(N <= c) for N ~ Poisson(a): the truncated Poisson's last term."""
    return float(poisson.pmf(c, a) / poisson.cdf(c, a))


def wait_within_mmc(c: int, lam: float, t: float, days: float) -> float:
    """P(W <= days) in M/M/c from the definition of Erlang C (Poisson terms)."""
    a = lam * t
    if c <= a:
        return 0.0
    last = poisson.pmf(c, a) * c / (c - a)
    waits = last / (poisson.cdf(c - 1, a) + last)
    return float(1.0 - waits * math.exp(-(c / t - lam) * days))


def smallest(ok: Any) -> int:
    return next(c for c in range(0, 2000) if ok(c))


@settings(max_examples=25, deadline=None)
@given(
    arrivals=st.lists(st.floats(5, 400), min_size=1, max_size=4),
    los=st.floats(20, 300),
    max_refused=st.sampled_from([0.01, 0.05, 0.1]),
)
def test_pool_minimal_beds_is_erlang_b_and_one_less_fails(
    arrivals: list[float], los: float, max_refused: float
) -> None:
    years = list(range(2025, 2025 + len(arrivals)))
    table = pool_minimal_beds(pd.Series(arrivals, index=years), los, max_refused=max_refused)
    for year, n in zip(years, arrivals, strict=True):
        a = n / days_of(year) * los
        row = table.loc[year]
        assert row["offered_load_beds"] == pytest.approx(a, rel=1e-12)
        beds = smallest(lambda c, a=a: erlang_b_recursion(c, a) <= max_refused)
        assert row["beds"] == beds
        assert row["refused_share"] == pytest.approx(erlang_b_poisson(beds, a), rel=1e-9)
        assert row["refused_share"] <= max_refused
        # minimal means shown minimal: one bed fewer refuses more than the norm allows
        assert row["refused_share_one_less"] == pytest.approx(
            erlang_b_poisson(beds - 1, a), rel=1e-9
        )
        assert row["refused_share_one_less"] > max_refused
        assert bool(row["one_less_fails"])
        assert row["binding"] == "refused_share"


def test_pool_minimal_beds_with_every_norm_is_the_largest_brute_force_minimum() -> None:
    arrivals = pd.Series({2025: 180.0, 2026: 120.0, 2027: 60.0, 2028: 20.0})
    los = pd.Series({2025: 198.0, 2026: 170.0, 2027: 150.0, 2028: 120.0})
    table = pool_minimal_beds(
        arrivals, los, max_refused=0.05, within_days=14, min_share=0.8, max_occupancy=0.85
    )
    for year in arrivals.index:
        lam, t = arrivals[year] / days_of(year), los[year]
        a = lam * t
        refusal = smallest(lambda c, a=a: erlang_b_poisson(c, a) <= 0.05)
        waiting = smallest(lambda c, lam=lam, t=t: wait_within_mmc(c, lam, t, 14) >= 0.8)
        occupancy = smallest(lambda c, a=a: c > 0 and a / c <= 0.85)
        beds = max(refusal, waiting, occupancy)
        row = table.loc[year]
        assert row["beds"] == beds
        assert row["wait_within_share"] == pytest.approx(wait_within_mmc(beds, lam, t, 14))
        assert row["occupancy_share"] == pytest.approx(a / beds)
        # the norms that decide are exactly those one bed fewer misses
        missed = [
            name
            for name, fails in (
                ("refused_share", erlang_b_poisson(beds - 1, a) > 0.05),
                ("wait_within_share", wait_within_mmc(beds - 1, lam, t, 14) < 0.8),
                ("occupancy_share", a / (beds - 1) > 0.85),
            )
            if fails
        ]
        assert missed
        assert row["binding"] == ", ".join(missed)


def test_pool_minimal_beds_without_arrivals_is_zero_and_needs_a_norm() -> None:
    table = pool_minimal_beds(pd.Series({2030: 0.0}), 198.0)
    assert table.loc[2030, "beds"] == 0
    assert not table.loc[2030, "one_less_fails"]
    assert math.isnan(table.loc[2030, "refused_share_one_less"])
    with pytest.raises(ValueError, match="norm"):
        pool_minimal_beds(pd.Series({2030: 10.0}), 198.0, max_refused=None)


def test_region_load_is_arrivals_a_day_times_the_stay() -> None:
    arrivals = pd.DataFrame({2024: [36.6, 73.2], 2025: [36.5, 0.0]}, index=["Noord", "Zuid"])
    load = region_load_beds(arrivals, 200.0)
    assert load.loc["Noord", 2024] == pytest.approx(36.6 / 366 * 200)
    assert load.loc["Zuid", 2024] == pytest.approx(73.2 / 366 * 200)
    assert load.loc["Noord", 2025] == pytest.approx(20.0)
    assert load.loc["Zuid", 2025] == 0.0


# --------------------------------------------------------------------------------------
# Building pools
# --------------------------------------------------------------------------------------


def pool(
    beds: list[int],
    max_beds: list[int],
    min_open: list[int],
    required: list[int],
    *,
    ceiling: list[int] | None = None,
    years: list[int] | None = None,
    load: list[list[float]] | None = None,
    minutes: list[list[float]] | None = None,
    tariff: list[float] | None = None,
    max_change: int = 4,
    small_scale_from: int = 2025,
    name: str = "JZ+ Noord",
    shrink_only: bool = False,
) -> PoolAfbouwProblem:
    years = years or list(range(2024, 2024 + len(required)))
    providers = [f"A{i}" for i in range(len(beds))]
    load = load or [[1.0] * len(years)]
    regions = [f"R{i}" for i in range(len(load))]
    minutes = minutes or [[30.0 + 10 * i] * len(providers) for i in range(len(regions))]
    table = pd.DataFrame(
        {
            "beds": beds,
            "cost_per_bed_day_eur": tariff or [700.0] * len(providers),
            "max_beds": max_beds,
            "min_beds_open": min_open,
        },
        index=pd.Index(providers, name="provider"),
    )
    return PoolAfbouwProblem(
        years=years,
        providers=table,
        required_beds=pd.Series(required, index=years),
        load=pd.DataFrame(load, index=regions, columns=years),
        travel_minutes=pd.DataFrame(minutes, index=regions, columns=providers),
        ceiling_beds=None if ceiling is None else pd.Series(ceiling, index=years),
        max_change_beds=max_change,
        small_scale_from=small_scale_from,
        pool=name,
        shrink_only=shrink_only,
    )


def random_pool(seed: int, regions: int, providers: int, years: int) -> PoolAfbouwProblem:
    """A pool whose afbouw is usually possible: loads and needs fall, a ceiling sometimes.

    The plan starts in 2023 and small-scale holds from 2025: two years to get there.
    """
    rng = random.Random(seed)
    ys = list(range(2023, 2023 + years))
    change = rng.randint(3, 6)
    beds = [rng.randint(4, 14) for _ in range(providers)]
    max_beds = [rng.randint(max(2, b - 2 * change), 10) for b in beds]
    load = [
        [round(rng.uniform(0.3, 3.0) * (1 - 0.07 * k), 2) for k in range(years)]
        for _ in range(regions)
    ]
    totals = [sum(row[k] for row in load) for k in range(years)]
    required = [math.ceil(t / 0.85) + rng.randint(0, 2) for t in totals]
    ceiling = None
    if rng.random() < 0.6:  # none in the first year: the 0-meting may be far above it
        later = zip(ys[1:], required[1:], strict=True)
        ceiling = pd.Series({y: r + rng.randint(2, 6) for y, r in later})
    problem = pool(
        beds,
        max_beds,
        [rng.choice([0, 2, 3, 4]) for _ in range(providers)],
        required,
        years=ys,
        load=load,
        minutes=[[float(rng.randint(5, 120)) for _ in range(providers)] for _ in range(regions)],
        tariff=[rng.choice([600.0, 650.0, 700.0, 720.5, 810.25]) for _ in range(providers)],
        max_change=change,
        small_scale_from=2025,
        name=f"pool {seed}",
    )
    if seed % 3 == 0:  # a limit per provider instead of the pool's
        limits = [rng.randint(change, change + 3) for _ in range(providers)]
        problem.providers["max_change_beds"] = limits
    return dataclasses.replace(problem, ceiling_beds=ceiling)


def max_change(problem: PoolAfbouwProblem, provider: Any) -> int:
    """The provider's own limit when the table has one, else the pool's."""
    if "max_change_beds" in problem.providers.columns:
        return int(problem.providers.at[provider, "max_change_beds"])
    return problem.max_change_beds


# --------------------------------------------------------------------------------------
# The independent checker
# --------------------------------------------------------------------------------------


def plan_cost_eur(problem: PoolAfbouwProblem, plan: PoolAfbouwPlan) -> dict[int, float]:
    """The objective per year, recomputed from the problem's tables and the plan's."""
    assert plan.beds is not None
    assert plan.assignment is not None
    table = problem.providers
    cost = {}
    for i, y in enumerate(problem.years):
        beds = sum(
            float(table.at[p, "cost_per_bed_day_eur"]) * days_of(y) * int(plan.beds.at[p, y])
            for p in table.index
        )
        rows = plan.assignment[plan.assignment["year"] == y]
        travel = sum(
            problem.travel_eur_per_minute_bed_year
            * float(problem.travel_minutes.at[r, p])
            * float(x)
            for r, p, x in zip(rows["region"], rows["provider"], rows["beds"], strict=True)
        )
        change = 0.0
        for p in table.index:
            before = (
                int(table.at[p, "beds"]) if i == 0 else int(plan.beds.at[p, problem.years[i - 1]])
            )
            change += problem.change_eur_per_bed * abs(int(plan.beds.at[p, y]) - before)
        cost[y] = beds + travel + change
    return cost


def check_plan(problem: PoolAfbouwProblem, plan: PoolAfbouwPlan) -> list[str]:
    """Return every rule the plan breaks (empty when it keeps them all)."""
    errors: list[str] = []
    assert plan.beds is not None
    assert plan.open is not None
    assert plan.assignment is not None
    table, years = problem.providers, problem.years
    occupancy = problem.target_occupancy
    if sorted(plan.beds.index) != sorted(table.index) or list(plan.beds.columns) != years:
        errors.append("beds table not provider x year")
    for p in table.index:
        beds0, top = int(table.at[p, "beds"]), int(table.at[p, "max_beds"])
        low = int(table.at[p, "min_beds_open"])
        before, was_open = beds0, True
        for y in years:
            b, is_open = plan.beds.at[p, y], bool(plan.open.at[p, y])
            if b != int(b) or b < 0:
                errors.append(f"{p} {y}: {b} is not a whole number of beds >= 0")
            if b > beds0:
                errors.append(f"{p} {y}: {b} beds above the 0-meting {beds0}")
            if y >= problem.small_scale_from and b > top:
                errors.append(f"{p} {y}: {b} beds above max_beds {top}")
            if is_open and b < low:
                errors.append(f"{p} {y}: open with {b} < min_beds_open {low}")
            if not is_open and b != 0:
                errors.append(f"{p} {y}: closed with {b} beds")
            if is_open and not was_open:
                errors.append(f"{p} {y}: open again after closing")
            if abs(b - before) > max_change(problem, p):
                errors.append(f"{p} {y}: changed by {b - before}")
            if problem.shrink_only and b > before:
                errors.append(f"{p} {y}: grew from {before} to {b} in an afbouw")
            before, was_open = b, is_open
    assignment = plan.assignment
    if (assignment["beds"] < 0).any():
        errors.append("negative assignment")
    for y in years:
        total = int(plan.beds[y].sum())
        if total < problem.required_beds[y]:
            errors.append(f"{y}: {total} beds < required {problem.required_beds[y]}")
        ceiling = None if problem.ceiling_beds is None else problem.ceiling_beds.get(y)
        if ceiling is not None and total > ceiling:
            errors.append(f"{y}: {total} beds > ceiling {ceiling}")
        rows = assignment[assignment["year"] == y]
        for r in problem.load.index:
            placed = rows.loc[rows["region"] == r, "beds"].sum()
            if abs(placed - problem.load.at[r, y]) > 0.005 + EPS:
                errors.append(f"{r} {y}: {placed} beds placed, load {problem.load.at[r, y]}")
        for p in table.index:
            placed = rows.loc[rows["provider"] == p, "beds"].sum()
            if placed > occupancy * plan.beds.at[p, y] + EPS:
                errors.append(f"{p} {y}: {placed} placed in {plan.beds.at[p, y]} beds")
    errors += check_travel(problem, plan)
    errors += check_costs(problem, plan)
    return errors


def check_travel(problem: PoolAfbouwProblem, plan: PoolAfbouwPlan) -> list[str]:
    assert plan.travel is not None
    assert plan.assignment is not None
    errors = []
    travel = plan.travel.set_index(["region", "year"])
    for r in problem.load.index:
        for y in problem.years:
            rows = plan.assignment[
                (plan.assignment["region"] == r) & (plan.assignment["year"] == y)
            ]
            x = rows["beds"].to_numpy()
            minutes = np.array([problem.travel_minutes.at[r, p] for p in rows["provider"]])
            if x.sum() == 0:
                continue
            mean = float((x * minutes).sum() / x.sum())
            far = float(x[minutes > problem.far_minutes].sum() / x.sum())
            if abs(travel.at[(r, y), "mean_travel_minutes"] - mean) > EPS:
                errors.append(f"{r} {y}: mean travel {travel.at[(r, y), 'mean_travel_minutes']}")
            if abs(travel.at[(r, y), "far_share"] - far) > EPS:
                errors.append(f"{r} {y}: far share {travel.at[(r, y), 'far_share']}")
    return errors


def check_costs(problem: PoolAfbouwProblem, plan: PoolAfbouwPlan) -> list[str]:
    assert plan.cost_eur is not None
    assert plan.objective is not None
    errors = []
    cost = plan_cost_eur(problem, plan)
    for y, value in cost.items():
        if abs(plan.cost_eur.at[y, "total_eur"] - value) > 0.01:
            errors.append(f"{y}: cost {plan.cost_eur.at[y, 'total_eur']} != {value}")
    if abs(plan.objective - sum(cost.values())) > 0.01:
        errors.append(f"objective {plan.objective} != {sum(cost.values())}")
    if plan.bound is not None and plan.bound > plan.objective + 0.01:
        errors.append(f"bound {plan.bound} above the objective {plan.objective}")
    return errors


# --------------------------------------------------------------------------------------
# Brute force: every bed plan, each assignment by a linear program (HiGHS)
# --------------------------------------------------------------------------------------


def rules_hold(problem: PoolAfbouwProblem, p: str, series: tuple[int, ...]) -> bool:
    """Can provider ``p`` have these beds? (open flags exist: open up to its last bed)."""
    table = problem.providers
    low = int(table.at[p, "min_beds_open"])
    last = max((i for i, b in enumerate(series) if b > 0), default=-1)
    if any(b < low for b in series[: last + 1]):
        return False
    before = int(table.at[p, "beds"])
    for b in series:
        if abs(b - before) > max_change(problem, p):
            return False
        if problem.shrink_only and b > before:
            return False
        before = b
    return True


def travel_eur(problem: PoolAfbouwProblem, beds: dict[str, int], year: int) -> float | None:
    """Least travel of a year's load over the providers' beds (None: it does not fit)."""
    regions, providers = list(problem.load.index), list(problem.providers.index)
    n = len(regions) * len(providers)
    weight = problem.travel_eur_per_minute_bed_year
    c = [weight * problem.travel_minutes.at[r, p] for r in regions for p in providers]
    a_eq = np.zeros((len(regions), n))
    for i in range(len(regions)):
        a_eq[i, i * len(providers) : (i + 1) * len(providers)] = 1
    a_ub = np.zeros((len(providers), n))
    for j in range(len(providers)):
        a_ub[j, j :: len(providers)] = 1
    result = linprog(
        c,
        A_ub=a_ub,
        b_ub=[problem.target_occupancy * beds[p] for p in providers],
        A_eq=a_eq,
        b_eq=[problem.load.at[r, year] for r in regions],
        bounds=(0, None),
        method="highs",
    )
    return float(result.fun) if result.status == 0 else None


def brute_force(problem: PoolAfbouwProblem) -> float | None:
    """The least objective over every plan of whole beds (None: no plan keeps the rules)."""
    table, years = problem.providers, problem.years
    paths: dict[str, list[tuple[int, ...]]] = {}
    for p in table.index:
        tops = [
            min(int(table.at[p, "beds"]), int(table.at[p, "max_beds"]))
            if y >= problem.small_scale_from
            else int(table.at[p, "beds"])
            for y in years
        ]
        every = itertools.product(*(range(t + 1) for t in tops))
        paths[str(p)] = [s for s in every if rules_hold(problem, str(p), s)]
    best: float | None = None
    for combo in itertools.product(*paths.values()):
        plan = dict(zip(paths, combo, strict=True))
        total = 0.0
        for i, y in enumerate(years):
            beds = {p: s[i] for p, s in plan.items()}
            count = sum(beds.values())
            if count < problem.required_beds[y] or (
                problem.ceiling_beds is not None and count > problem.ceiling_beds[y]
            ):
                break
            travel = travel_eur(problem, beds, y)
            if travel is None:
                break
            tariffs = sum(
                float(table.at[p, "cost_per_bed_day_eur"]) * days_of(y) * b for p, b in beds.items()
            )
            before = {p: int(table.at[p, "beds"]) if i == 0 else s[i - 1] for p, s in plan.items()}
            changes = sum(abs(b - before[p]) for p, b in beds.items())
            total += tariffs + travel + problem.change_eur_per_bed * changes
        else:
            best = total if best is None else min(best, total)
    return best


# --------------------------------------------------------------------------------------
# Plans
# --------------------------------------------------------------------------------------


def test_a_hand_made_pool_keeps_the_near_cheap_beds() -> None:
    """Two regions, three providers, 2024-2026; the answer is derived here by hand.

    Each year needs 6 beds and 2 + 2 = 4 occupied beds (4 / 0.85 = 4,7: 5 beds). A is far
    from both regions but cheap, B is close to R0, C close to R1; all cost the same except A
    (600 vs 700 a day). Every bed costs 600 x 365 = 219.000 or 700 x 365 = 255.500 a
    year, far more than travel (40 x minutes a bed-year), so the plan keeps 6 beds, as
    many at A as it may: A has 4 in the 0-meting, max_beds 4, so 4 at A and 2 more.
    B and C each hold either 0 or at least 2 (min_beds_open 2): one of them keeps 2. B
    (close to R0: 10 minutes) and C (close to R1: 10 minutes) are symmetric, so the
    travel decides nothing between them and the plan's 2 sit at B or C. Capacity: A takes
    0,85 x 4 = 3,4 beds, the 2 at B/C 1,7; the 4 beds of load are placed: the close
    provider takes 1,7 of its own region (80 minutes saved a bed, against 40 for the other
    region), A the rest: 0,3 + 2 = 2,3 beds at 90 minutes.
    """
    problem = pool(
        beds=[4, 6, 6],
        max_beds=[4, 6, 6],
        min_open=[2, 2, 2],
        required=[6, 6, 6],
        load=[[2.0] * 3, [2.0] * 3],
        minutes=[[90.0, 10.0, 50.0], [90.0, 50.0, 10.0]],
        tariff=[600.0, 700.0, 700.0],
        max_change=6,
    )
    for solver in SOLVERS:
        plan = plan_pool_afbouw(problem, time_limit_s=20, solver=solver)
        assert plan.status == "optimal"
        assert check_plan(problem, plan) == []
        assert plan.beds is not None
        assert plan.travel is not None
        assert list(plan.beds.loc["A0"]) == [4, 4, 4]
        assert sorted(plan.beds.loc[["A1", "A2"], 2026]) == [0, 2]
        # 2024 (leap): 4 x 600 x 366 + 2 x 700 x 366; 2025-26: 365 days; changes 4 + 6 in
        # 2024 (6 -> 2 and 6 -> 0 at B and C), none later
        beds_eur = (4 * 600 + 2 * 700) * (366 + 365 + 365)
        # travel: the close provider 1,7 x 10 minutes, A 2,3 x 90, a bed-year at €40 a minute
        travel_eur = 3 * 40 * (1.7 * 10 + 2.3 * 90)
        assert plan.objective == pytest.approx(beds_eur + travel_eur + 10 * 1000.0)
        assert plan.gap == 0.0


@pytest.mark.parametrize("seed", range(8))
def test_cp_sat_and_cbc_reach_the_same_optimum(seed: int) -> None:
    rng = random.Random(1000 + seed)
    problem = random_pool(seed, rng.randint(2, 4), rng.randint(2, 5), rng.randint(3, 8))
    plans = {s: plan_pool_afbouw(problem, time_limit_s=20, solver=s) for s in SOLVERS}
    statuses = {p.status for p in plans.values()}
    assert statuses in ({"optimal"}, {"infeasible"})
    if statuses == {"infeasible"}:
        assert all(p.explanation for p in plans.values())
        return
    cp_sat, cbc = plans["cp-sat"], plans["cbc"]
    assert cp_sat.objective is not None
    assert cbc.objective is not None
    assert cp_sat.objective == pytest.approx(cbc.objective, abs=0.005)
    for plan in plans.values():
        assert check_plan(problem, plan) == []
        assert plan.gap == 0.0


def test_most_generated_pools_have_a_plan() -> None:
    """The comparison above is not all infeasible pools: most have a plan."""
    found = 0
    for seed in range(8):
        rng = random.Random(1000 + seed)
        problem = random_pool(seed, rng.randint(2, 4), rng.randint(2, 5), rng.randint(3, 8))
        found += plan_pool_afbouw(problem, time_limit_s=20).status == "optimal"
    assert found >= 5


def tiny_pool(seed: int) -> PoolAfbouwProblem:
    """Two providers, two regions, 2024-2025 (small-scale from 2025), a handful of beds."""
    rng = random.Random(seed)
    change = rng.randint(1, 3)
    beds = [rng.randint(2, 5), rng.randint(2, 5)]
    required = [rng.randint(1, 4), rng.randint(1, 4)]
    return pool(
        beds=beds,
        max_beds=[rng.randint(max(1, b - change), 5) for b in beds],
        min_open=[rng.randint(0, 3), rng.randint(0, 3)],
        required=required,
        ceiling=[r + rng.randint(0, 3) for r in required] if seed % 2 else None,
        years=[2024, 2025],
        load=[[round(rng.uniform(0.2, 1.5), 2) for _ in range(2)] for _ in range(2)],
        minutes=[[float(rng.randint(5, 90)) for _ in range(2)] for _ in range(2)],
        tariff=[rng.choice([600.0, 700.0]), rng.choice([600.0, 700.0])],
        max_change=change,
    )


def test_brute_force_finds_the_same_optimum_on_tiny_pools() -> None:
    """Every plan of whole beds enumerated; each one's assignment by HiGHS's LP.

    The assignment LP has whole-hundredth data, so its optimum is the model's with x in
    hundredths of a bed. Pools without any plan must be called infeasible, with a reason.
    """
    with_plan = {False: 0, True: 0}
    for seed in range(8):
        for shrink in (False, True):  # regrowth within the 0-meting allowed, or only afbouw
            problem = dataclasses.replace(tiny_pool(seed), shrink_only=shrink)
            best = brute_force(problem)
            with_plan[shrink] += best is not None
            for solver in SOLVERS:
                plan = plan_pool_afbouw(problem, time_limit_s=20, solver=solver)
                if best is None:
                    assert plan.status == "infeasible", (seed, shrink)
                    assert plan.explanation, (seed, shrink)
                    continue
                assert plan.status == "optimal", (seed, shrink)
                assert check_plan(problem, plan) == [], (seed, shrink)
                assert plan.objective == pytest.approx(best, abs=0.01), (seed, shrink)
    assert with_plan[False] >= 5
    assert with_plan[True] >= 3


def test_a_pool_towards_zero_in_2030_from_its_minimal_beds() -> None:
    """Three regions, arrivals falling to 2030; required beds from Erlang B, a ceiling path.

    The pool's 0-meting is 40 beds at four providers; the agreed ceiling falls to 15% of
    that (6) in 2030, and the need comes from the pool's arrivals (Erlang B, at most 5%
    placed elsewhere): 50 placements a year in 2025, 4 in 2030, 150 days each. Every rule
    of the plan is checked, and in 2030 the beds lie within both the need and the ceiling.
    """
    years = list(range(2025, 2031))
    arrivals = pd.DataFrame(
        [[24, 18, 13, 8, 4, 2], [16, 12, 9, 6, 3, 1], [10, 8, 6, 4, 2, 1]],
        index=["Noord", "Oost", "West"],
        columns=years,
        dtype="float64",
    )
    required = pool_minimal_beds(arrivals.sum(), 150.0, max_refused=0.05)["beds"]
    load = region_load_beds(arrivals, 150.0).round(2)
    ceiling = pd.Series([40, 32, 24, 16, 10, 6], index=years)
    providers = pd.DataFrame(
        {
            "beds": [16, 10, 8, 6],
            "cost_per_bed_day_eur": [750.0, 700.0, 720.0, 680.0],
            "max_beds": [10, 8, 8, 6],
            "min_beds_open": [4, 4, 4, 4],
        },
        index=pd.Index(["Horizon", "De Koppeling", "Lindenhorst", "Via Jeugd"], name="provider"),
    )
    problem = PoolAfbouwProblem(
        years=years,
        providers=providers,
        required_beds=required,
        load=load,
        travel_minutes=pd.DataFrame(
            [[20, 70, 45, 95], [80, 25, 60, 40], [55, 65, 15, 70]],
            index=load.index,
            columns=providers.index,
            dtype="float64",
        ),
        ceiling_beds=ceiling,
        max_change_beds=6,
        small_scale_from=2025,
        pool="JZ+ bovenregionaal",
    )
    plan = plan_pool_afbouw(problem, time_limit_s=20)
    assert plan.status == "optimal", plan.explanation
    assert check_plan(problem, plan) == []
    assert plan.beds is not None
    assert required[2030] <= plan.beds[2030].sum() <= 6
    assert plan.travel is not None
    assert set(plan.travel.columns) >= {"mean_travel_minutes", "far_share"}


# --------------------------------------------------------------------------------------
# Explanations
# --------------------------------------------------------------------------------------


def explained(problem: PoolAfbouwProblem) -> list[str]:
    plans = [plan_pool_afbouw(problem, time_limit_s=10, solver=s) for s in SOLVERS]
    for plan in plans:
        assert plan.status == "infeasible"
        assert plan.beds is None
        assert plan.objective is None
    assert plans[0].explanation == plans[1].explanation
    return plans[0].explanation


def test_a_need_above_the_ceiling_is_named_with_year_and_numbers() -> None:
    problem = pool([10, 10], [8, 8], [4, 4], [12, 10, 14], ceiling=[20, 15, 5])
    assert explained(problem) == [
        "In 2026 zijn in JZ+ Noord minimaal 14 plekken nodig, maar het afgesproken plafond is 5."
    ]


def test_a_load_above_the_ceiling_says_the_occupancy() -> None:
    problem = pool([10, 10], [8, 8], [4, 4], [2, 2, 2], ceiling=[20, 15, 5], load=[[3, 4, 5.5]])
    (sentence,) = explained(problem)
    # 5,5 occupied beds at 85% need 6,47: 7 beds
    assert sentence.startswith("In 2026 zijn in JZ+ Noord minimaal 7 plekken nodig")
    assert "5,5 bedden" in sentence
    assert "85%" in sentence
    assert sentence.endswith("plafond is 5.")


def test_too_few_small_scale_places_names_the_providers() -> None:
    problem = pool([10, 10, 10], [8, 8, 8], [4, 4, 4], [25, 28, 31])
    sentences = explained(problem)
    assert len(sentences) == 2
    assert sentences[0].startswith(
        "In 2025 zijn in JZ+ Noord minimaal 28 plekken nodig, maar de aanbieders kunnen "
        "samen hoogstens 24 kleinschalige plekken houden (A0 8, A1 8 en A2 8"
    )
    assert "max_beds" in sentences[0]
    assert sentences[1].startswith("In 2026 zijn in JZ+ Noord minimaal 31 plekken nodig")


def test_a_provider_that_cannot_become_small_scale_in_time() -> None:
    problem = pool([30, 10], [12, 8], [4, 4], [12, 10, 10], max_change=5)
    assert explained(problem) == [
        "Aanbieder A0 in JZ+ Noord heeft in de 0-meting 30 plekken en kan er hoogstens 5 per "
        "jaar afbouwen (max_change_beds): in 2025 heeft zij er nog minstens 20, maar vanaf "
        "2025 mag zij er hoogstens 12 houden (max_beds)."
    ]


def test_a_provider_that_can_neither_stay_open_nor_close() -> None:
    # 6 beds, at most 2 less a year: 4 in 2024 at the least; small-scale means 3, but open
    # needs 4 and closing needs a step of 4
    problem = pool([6, 10], [3, 8], [4, 4], [2, 2, 2], max_change=2)
    (sentence,) = explained(problem)
    assert sentence.startswith("Aanbieder A0 in JZ+ Noord kan in 2025 niet open blijven en ook")
    assert "minstens 4 plekken (min_beds_open)" in sentence
    assert "hoogstens 3 houden (max_beds)" in sentence
    assert "in 2024 minstens 4 plekken" in sentence


def test_a_ceiling_falling_faster_than_the_providers_can_shrink() -> None:
    problem = pool([20, 20], [20, 20], [4, 4], [5, 5, 5], ceiling=[30, 20, 10], max_change=3)
    sentences = explained(problem)
    assert sentences[0] == (
        "In 2024 mag JZ+ Noord hoogstens 30 plekken hebben (het plafond), maar de aanbieders "
        "kunnen niet zo snel afbouwen: met hoogstens 3 plekken minder per aanbieder per jaar "
        "(max_change_beds) blijven er minstens 34 (A0 17 en A1 17)."
    )
    assert len(sentences) == 3


def test_a_total_no_combination_of_open_providers_makes() -> None:
    problem = pool([6, 6], [6, 6], [4, 4], [5, 5, 7], ceiling=[12, 12, 7], max_change=6)
    (sentence,) = explained(problem)
    assert sentence.startswith(
        "In 2026 kan geen combinatie van aanbieders in JZ+ Noord op precies 7 plekken uitkomen"
    )
    assert sentence.endswith("dichtstbij liggen 6 of 8.")


def test_years_that_conflict_only_together_are_found_by_the_solve() -> None:
    """Each year alone is possible; together they are not (found by loosening a year).

    2024 needs exactly 12 of 7 + 7 beds and 2025 exactly 6, with at most 2 beds of change
    a year: in 2025 each provider still has at least 7 - 2 - 2 = 3 beds, so 6 is 3 + 3,
    and then 2024 has at most 5 + 5 = 10 beds; 12 are needed. Alone, 2024 can have 12
    (6 + 6) and 2025 can have 6 (3 + 3).
    """
    problem = pool([7, 7], [4, 5], [1, 3], [12, 6], ceiling=[12, 6], max_change=2)
    (sentence,) = explained(problem)
    assert sentence.startswith(
        "In 2024 zijn in JZ+ Noord minimaal 12 plekken nodig, maar binnen de plafonds van de "
        "andere jaren (2025: 6)"
    )
    assert sentence.endswith("kunnen de aanbieders er in 2024 hoogstens 10 houden.")


def test_a_ceiling_the_other_years_needs_put_out_of_reach() -> None:
    """The other years' needs come from their loads: 3,77 and 6,75 beds at 85% need 5 and 8.

    A0 has 7 beds (open: 3 or more), A1 4 (open: 4), at most 4 change a year. 2026 needs 8:
    A0 has at most 7, so A1 keeps its 4 and A0 at least 4. Both are open in 2026, so both
    were open in 2025: A1 with 4 and A0 with at least 3, together at least 7 -- above
    2025's ceiling of 5, while 2025 alone (4 beds of need) fits under it.
    """
    problem = pool(
        [7, 4],
        [8, 9],
        [3, 4],
        [4, 4, 2],
        ceiling=[12, 5, 10],
        load=[[3.77, 3.36, 6.75]],
        max_change=4,
    )
    (sentence,) = explained(problem)
    assert sentence == (
        "In 2025 mag JZ+ Noord hoogstens 5 plekken hebben (het plafond), maar met de plekken "
        "die de andere jaren nodig hebben (2024: 5 en 2026: 8) en hoogstens 4 plekken "
        "verandering per aanbieder per jaar (max_change_beds) blijven er in 2025 minstens 7."
    )


def test_loosening_one_rule_at_a_time_names_those_that_free_the_plan() -> None:
    """The last resort of the explanation, on the pool of the years-together test.

    Without the ceiling 2025 may have 8 beds; without the change limit A0 can go from 7
    to 1 (and A1 keeps 5); without max_beds or min_beds_open each provider still has at
    least 3 beds in 2025, so 2025's 6 is still 3 + 3 and 2024 at most 10.
    """
    problem = pool([7, 7], [4, 5], [1, 3], [12, 6], ceiling=[12, 6], max_change=2)
    assert shared_pools._loosened(problem, 5.0) == [
        "In JZ+ Noord is elk jaar op zich haalbaar, maar niet de jaren 2024–2025 samen: de "
        "afbouw per aanbieder moet van jaar tot jaar aansluiten.",
        "Zonder het plafond (ceiling_beds) of zonder de grootste verandering per aanbieder "
        "per jaar (max_change_beds) is er wel een plan.",
    ]


def test_malformed_data_is_refused_with_every_problem() -> None:
    problem = pool([6, -1], [3, 2.5], [4, 4], [2, 2])
    broken = PoolAfbouwProblem(
        years=problem.years,
        providers=problem.providers,
        required_beds=problem.required_beds.iloc[:1],
        load=problem.load,
        travel_minutes=problem.travel_minutes.drop(columns="A1"),
        target_occupancy=1.2,
    )
    with pytest.raises(InvalidInputError) as caught:
        plan_pool_afbouw(broken, time_limit_s=1)
    files = [p.file for p in caught.value.problems]
    assert files == [
        "providers",
        "providers",
        "required_beds",
        "travel_minutes",
        "target_occupancy",
    ]


# --------------------------------------------------------------------------------------
# Time limits
# --------------------------------------------------------------------------------------


def assert_time_limit_contract(problem: PoolAfbouwProblem, plan: PoolAfbouwPlan) -> None:
    """A plan at a time limit: timeout without one, else one that keeps every rule."""
    assert plan.status in ("optimal", "feasible", "timeout")
    if plan.status == "timeout":
        assert not plan.has_plan
        assert plan.objective is None
        return
    assert plan.has_plan
    assert check_plan(problem, plan) == []
    if plan.bound is not None:
        assert plan.objective is not None
        assert plan.bound <= plan.objective
        assert plan.gap == pytest.approx((plan.objective - plan.bound) / plan.objective)


def test_a_tiny_time_limit_returns_a_plan_with_its_gap_or_says_timeout() -> None:
    """Never an empty plan called feasible; a plan found in time keeps every rule.

    CP-SAT's limit doubles from 0,05 s until it returns a plan: the first is found well
    before the optimum is proven (here about 5 times sooner), so the first plan on the
    ladder is ``feasible``, with a bound and a positive gap, whatever the machine's speed.
    """
    problem = random_pool(7, 12, 25, 8)
    for limit in (0.15, 0.3):
        assert_time_limit_contract(
            problem, plan_pool_afbouw(problem, time_limit_s=limit, solver="cbc")
        )
    limit = 0.05
    while True:
        plan = plan_pool_afbouw(problem, time_limit_s=limit, solver="cp-sat")
        assert_time_limit_contract(problem, plan)
        if plan.has_plan or limit > 10:
            break
        limit *= 2
    assert plan.status == "feasible"
    assert plan.gap is not None
    assert plan.gap > 0
