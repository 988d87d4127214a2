"""Minimal beds: exact Erlang cases, solver cross-checks, brute force and an independent checker.

Every expected number is computed here, independently of ``capaciteit.optimisation``:
Erlang B and C come from their closed forms (sums of ``a^k / k!``, not the library's
recursion), the constraints of a returned plan are re-checked from the problem's data, and
small coupled instances are solved by enumerating every combination of candidate beds.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from capaciteit.domain.scenario import Scenario
from capaciteit.io.model_writer import write_model_dir, write_scenario_file
from capaciteit.io.scenario_files import load_scenario
from capaciteit.optimisation.beds_model import BedsProblem, build_problem, solve
from capaciteit.optimisation.demand import Demand, FormRules, compute_demand
from capaciteit.optimisation.minimal_beds import (
    MinimalBedsResult,
    cost_per_bed_day,
    minimal_beds,
)
from tests.conftest import BASIS, EXAMPLE_MODEL, one_form_tables

REPS = 4
NO_PLACED = {"placed_within_days": None, "placed_share_min": None}
NO_BOUNDS = pd.Series(dtype="int64")
SPAN = 12


# --------------------------------------------------------------------------------------
# Independent queueing formulas
# --------------------------------------------------------------------------------------


def _poisson_terms(c: int, a: float) -> list[float]:
    """``a^k / k!`` for k = 0..c, in log space (no overflow for a few hundred beds)."""
    return [math.exp(k * math.log(a) - math.lgamma(k + 1)) for k in range(c + 1)]


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/G/c/c: ``(a^c/c!) / sum_{k<=c} a^k/k!``."""
    terms = _poisson_terms(c, a)
    return terms[-1] / math.fsum(terms)


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c (1 when unstable)."""
    if c <= a:
        return 1.0
    terms = _poisson_terms(c, a)
    top = terms[-1] * c / (c - a)
    return top / (math.fsum(terms[:-1]) + top)


def p_wait_within(c: int, lam: float, t: float, w: float) -> float:
    """``P(W <= w)`` in M/M/c with arrival rate ``lam`` and mean service ``t``."""
    a = lam * t
    if c <= a:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c - a) / t * w)


def mean_wait_mmc(c: int, lam: float, t: float) -> float:
    a = lam * t
    return erlang_c(c, a) / (c / t - lam)


def exact_min_beds(
    kind: str,
    lam: float,
    t: float,
    *,
    refused_max: float | None = None,
    placed: tuple[float, float] | None = None,
    occupancy_max: float | None = None,
) -> int:
    """Fewest beds meeting every target, by stepping c from 1 (no shortcuts).

    ``kind`` is ``loss`` (M/M/c/c: refused at once when full; occupancy is the carried
    load ``a (1 - B) / c``) or ``wait`` (M/M/c queue: occupancy ``a / c``, must be stable).
    """
    a = lam * t
    for c in range(1, 5000):
        if kind == "loss":
            b = erlang_b(c, a)
            ok = (refused_max is None or b <= refused_max) and (
                placed is None or 1.0 - b >= placed[1]
            )
            ok = ok and (occupancy_max is None or a * (1.0 - b) / c <= occupancy_max)
        else:
            ok = c > a and (placed is None or p_wait_within(c, lam, t, placed[0]) >= placed[1])
            ok = ok and (occupancy_max is None or a / c <= occupancy_max)
        if ok:
            return c
    raise AssertionError("no bed count found")


def test_own_erlang_matches_the_issue_and_textbook_values() -> None:
    # the issue's three numbers, with lam = 1/day and E[LOS] = 14 days (a = 14)
    assert exact_min_beds("loss", 1.0, 14.0, refused_max=0.05) == 19
    assert exact_min_beds("loss", 1.0, 14.0, refused_max=0.01) == 23
    assert exact_min_beds("wait", 1.0, 14.0, placed=(1.0, 0.95)) == 21
    # small cases by hand: B(1, 1) = 1/2, B(2, 1) = (1/2) / (1 + 1 + 1/2) = 1/5,
    # M/M/2 with a = 1: C = (1/2 * 2) / (1 + 1 + 1) = 1/3; B(10, 5) = 0.018385
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_b(10, 5.0) == pytest.approx(0.0183846, abs=1e-6)
    # the B-C identity C = B / (1 - rho (1 - B))
    for c, a in ((10, 5.0), (21, 14.0), (40, 37.5)):
        b = erlang_b(c, a)
        assert erlang_c(c, a) == pytest.approx(b / (1 - a / c * (1 - b)), rel=1e-12)


# --------------------------------------------------------------------------------------
# Scenario builders
# --------------------------------------------------------------------------------------


def scenario_from(
    tmp: Path,
    tables: dict[str, Any],
    *,
    service_levels: dict[str, Any] | None = None,
    optimisation: dict[str, Any] | None = None,
    year: int = 2023,
    name: str = "m",
) -> Scenario:
    model = write_model_dir(tmp / name, tables, baseline_year=year)
    file = write_scenario_file(
        tmp / f"{name}.yaml",
        model,
        start_year=year,
        end_year=year,
        replications=REPS,
        warm_up_days=365.0,
    )
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    if service_levels:
        data["service_levels"] = service_levels
    data["optimisation"] = {"replications": REPS, "max_iterations": 3, **(optimisation or {})}
    file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_scenario(file)


def one_form_scenario(
    tmp: Path,
    *,
    kind: str,
    arrivals: float,
    los: float,
    service_level: dict[str, Any] | None,
    year: int = 2023,
    optimisation: dict[str, Any] | None = None,
    policy: str | None = None,
) -> Scenario:
    if kind == "loss":
        tables = one_form_tables(
            policy="overflow", beds=10, arrivals_per_year=arrivals, mean_days=los, max_wait_days=0
        )
    else:
        tables = one_form_tables(
            policy=policy or "queue", beds=10, arrivals_per_year=arrivals, mean_days=los
        )
    tables["instroom"][0]["year"] = year
    return scenario_from(
        tmp,
        tables,
        service_levels={"a": service_level} if service_level is not None else None,
        optimisation=optimisation,
        year=year,
    )


def coupled_tables(
    *,
    crisis_arrivals: float = 150.0,
    pleeg_arrivals: float = 40.0,
    to_pleeg: float = 0.4,
    gezinshuis: bool = False,
    jzp: bool = False,
) -> dict[str, Any]:
    """Crisis (overflow, 1 day, priority 0) that moves on to pleegzorg (block) and more."""
    forms: list[dict[str, Any]] = [
        {
            "care_form": "crisis",
            "name": "Crisis",
            "waiting_policy": "overflow",
            "max_wait_days": 1,
            "priority": 0,
            "max_stay_days": 60,
        },
        {"care_form": "pleegzorg", "name": "Pleegzorg", "waiting_policy": "block"},
    ]
    beds = [
        {"provider": "P1", "care_form": "crisis", "beds": 12},
        {"provider": "P1", "care_form": "pleegzorg", "beds": 100},
    ]
    instroom = [
        {"care_form": "crisis", "year": 2023, "arrivals_per_year": crisis_arrivals},
        {"care_form": "pleegzorg", "year": 2023, "arrivals_per_year": pleeg_arrivals},
    ]
    los = [
        {"care_form": "crisis", "distribution": "exponential", "mean_days": 20},
        {"care_form": "pleegzorg", "distribution": "exponential", "mean_days": 365},
    ]
    routing = [
        {"from_care_form": "crisis", "to": "pleegzorg", "share": to_pleeg},
        {"from_care_form": "pleegzorg", "to": "thuis", "share": 1.0},
    ]
    costs = [
        {"care_form": "crisis", "provider": "", "cost_per_bed_day_eur": 250},
        {"care_form": "pleegzorg", "provider": "", "cost_per_bed_day_eur": 75},
    ]
    home = 1.0 - to_pleeg
    if gezinshuis:
        forms.append({"care_form": "gezinshuis", "name": "Gezinshuis", "waiting_policy": "block"})
        beds.append({"provider": "P1", "care_form": "gezinshuis", "beds": 20})
        instroom.append({"care_form": "gezinshuis", "year": 2023, "arrivals_per_year": 8})
        los.append({"care_form": "gezinshuis", "distribution": "exponential", "mean_days": 600})
        routing.append({"from_care_form": "crisis", "to": "gezinshuis", "share": 0.1})
        routing.append({"from_care_form": "gezinshuis", "to": "pleegzorg", "share": 0.2})
        routing.append({"from_care_form": "gezinshuis", "to": "thuis", "share": 0.8})
        costs.append({"care_form": "gezinshuis", "provider": "", "cost_per_bed_day_eur": 164})
        home -= 0.1
    if jzp:
        forms.append(
            {
                "care_form": "jeugdzorgplus",
                "name": "JZ+",
                "waiting_policy": "overflow",
                "max_wait_days": 14,
            }
        )
        beds.append({"provider": "P1", "care_form": "jeugdzorgplus", "beds": 6})
        instroom.append({"care_form": "jeugdzorgplus", "year": 2023, "arrivals_per_year": 12})
        los.append({"care_form": "jeugdzorgplus", "distribution": "exponential", "mean_days": 150})
        routing.append({"from_care_form": "crisis", "to": "jeugdzorgplus", "share": 0.1})
        routing.append({"from_care_form": "jeugdzorgplus", "to": "thuis", "share": 1.0})
        costs.append({"care_form": "jeugdzorgplus", "provider": "", "cost_per_bed_day_eur": 650})
        home -= 0.1
    routing.append({"from_care_form": "crisis", "to": "thuis", "share": round(home, 10)})
    return {
        "care_forms": forms,
        "providers": [{"provider": "P1", "name": "Een"}],
        "beds": beds,
        "instroom": instroom,
        "los": los,
        "routing": routing,
        "costs": costs,
    }


COUPLED = {
    "crisis-pleegzorg": {},
    "crisis-pleegzorg-gezinshuis": {"gezinshuis": True},
    "crisis-pleegzorg-jeugdzorgplus": {"jzp": True, "crisis_arrivals": 200.0},
    "crisis-busy-pleegzorg": {"crisis_arrivals": 250.0, "pleeg_arrivals": 10.0, "to_pleeg": 0.6},
}


def model_rules(scenario: Scenario, demand: Demand) -> dict[str, FormRules]:
    """Rules as the pipeline uses them: a stay norm unreachable by beds is left out.

    Decided independently: a norm is out of reach when more than its share of the stays
    (with no waiting at all) is already longer than ``max_stay_days``.
    """
    out = {}
    for fid in scenario.model.care_form_ids:
        r = FormRules.of(scenario, fid)
        if not math.isnan(r.stays_over_max_share_max):
            over = max(
                float((demand.stay_samples[(fid, y)] > r.max_stay_days).mean())
                for y in scenario.years
            )
            if over > r.stays_over_max_share_max:
                r = FormRules(**{**r.__dict__, "stays_over_max_share_max": math.nan})
        out[fid] = r
    return out


def problem_of(scenario: Scenario, budget: float | None = None) -> BedsProblem:
    demand = compute_demand(scenario)
    return build_problem(
        demand, model_rules(scenario, demand), cost_per_bed_day(scenario), NO_BOUNDS, SPAN, budget
    )


@pytest.fixture(scope="module")
def basis() -> Scenario:
    return load_scenario(BASIS)


@pytest.fixture(scope="module")
def basis_problem(basis: Scenario) -> BedsProblem:
    return problem_of(basis)


@pytest.fixture(scope="module")
def coupled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BedsProblem]:
    tmp = tmp_path_factory.mktemp("coupled")
    return {
        key: problem_of(scenario_from(tmp, coupled_tables(**kw), name=key))
        for key, kw in COUPLED.items()
    }


# --------------------------------------------------------------------------------------
# Independent constraint checker and brute force
# --------------------------------------------------------------------------------------


def violations(problem: BedsProblem, beds: pd.Series | None) -> list[str]:
    """Every constraint of the model, re-checked from the problem's data."""
    if beds is None:
        return ["no beds returned"]
    out: list[str] = []
    chosen = {(str(f), int(y)): int(k) for (f, y), k in beds.items()}
    keys = {(str(f), int(y)) for f, y, _ in problem.candidates.index}
    if set(chosen) != keys:
        out.append(f"pairs differ: missing {keys - set(chosen)}, extra {set(chosen) - keys}")
        return out
    cand = problem.candidates
    for (f, y), k in chosen.items():
        if (f, y, k) not in cand.index:
            out.append(f"{f} {y}: {k} beds is not a candidate")
    if out:
        return out
    coupling = {
        (str(f), str(d), int(y), int(k)): int(v) for (f, d, y, k), v in problem.coupling.items()
    }
    targets: dict[tuple[str, int], set[str]] = {}
    for f, d, y, _ in coupling:
        targets.setdefault((f, y), set()).add(d)
    for (f, y), k in chosen.items():
        caused = sum(coupling.get((f, d, y, chosen[(d, y)]), 0) for d in targets.get((f, y), ()))
        allowed = int(cand.at[(f, y, k), "allowed"])
        if caused > allowed:
            out.append(f"{f} {y}: blocking {caused} > allowed {allowed} with {k} beds")
    if problem.budget_eur_per_year is not None:
        for year in {y for _, y in chosen}:
            spent = sum(
                int(cand.at[(f, y, k), "cost_eur"]) for (f, y), k in chosen.items() if y == year
            )
            if spent > problem.budget_eur_per_year:
                out.append(f"{year}: cost {spent} > budget {problem.budget_eur_per_year}")
    return out


def plan_cost(problem: BedsProblem, beds: pd.Series) -> int:
    return sum(int(problem.candidates.at[(f, y, k), "cost_eur"]) for (f, y), k in beds.items())


def brute_force(problem: BedsProblem, year: int) -> tuple[int | None, list[dict[str, int]]]:
    """Cheapest feasible plan of one year by enumerating every combination."""
    cand = problem.candidates.xs(year, level="year")
    forms = sorted({str(f) for f in cand.index.get_level_values(0)})
    options = {f: [int(k) for k in cand.loc[f].index] for f in forms}
    cost = {(str(f), int(k)): int(v) for (f, k), v in cand["cost_eur"].items()}
    allowed = {(str(f), int(k)): int(v) for (f, k), v in cand["allowed"].items()}
    coupling: dict[str, list[tuple[str, dict[int, int]]]] = {}
    for (f, d, y, k), v in problem.coupling.items():
        if int(y) != year:
            continue
        row = dict(coupling.get(str(f), []))
        row.setdefault(str(d), {})[int(k)] = int(v)
        coupling[str(f)] = list(row.items())
    best: int | None = None
    plans: list[dict[str, int]] = []
    for combo in itertools.product(*(options[f] for f in forms)):
        plan = dict(zip(forms, combo, strict=True))
        total = sum(cost[(f, plan[f])] for f in forms)
        if problem.budget_eur_per_year is not None and total > problem.budget_eur_per_year:
            continue
        if best is not None and total > best:
            continue
        ok = all(
            sum(by_k.get(plan[d], 0) for d, by_k in coupling.get(f, [])) <= allowed[(f, plan[f])]
            for f in forms
        )
        if not ok:
            continue
        if best is None or total < best:
            best, plans = total, [plan]
        else:
            plans.append(plan)
    return best, plans


# --------------------------------------------------------------------------------------
# 1. Exact Erlang cases through the whole pipeline
# --------------------------------------------------------------------------------------

# (id, kind, arrivals per year, mean LOS, year, service level of "a", exact-target kwargs)
EXACT_CASES: list[tuple[str, str, float, float, int, dict[str, Any] | None, dict[str, Any]]] = [
    (
        "issue-loss-5pct",
        "loss",
        365,
        14,
        2023,
        {**NO_PLACED, "refused_share_max": 0.05},
        {"refused_max": 0.05},
    ),
    (
        "issue-loss-1pct",
        "loss",
        365,
        14,
        2023,
        {**NO_PLACED, "refused_share_max": 0.01},
        {"refused_max": 0.01},
    ),
    (
        "issue-wait-1day-95pct",
        "wait",
        365,
        14,
        2023,
        {"placed_within_days": 1, "placed_share_min": 0.95},
        {"placed": (1.0, 0.95)},
    ),
    (
        "leap-year-loss-5pct",
        "loss",
        366,
        14,
        2024,
        {**NO_PLACED, "refused_share_max": 0.05},
        {"refused_max": 0.05},
    ),
    ("default-80pct-28days", "wait", 365, 14, 2023, None, {"placed": (28.0, 0.80)}),
    (
        "loss-placed-90pct",
        "loss",
        365,
        14,
        2023,
        {"placed_within_days": 1, "placed_share_min": 0.9},
        {"placed": (1.0, 0.9)},
    ),
    (
        "wait-max-occupancy-only",
        "wait",
        365,
        14,
        2023,
        {**NO_PLACED, "max_occupancy": 0.8},
        {"occupancy_max": 0.8},
    ),
    (
        "wait-occupancy-binds",
        "wait",
        730,
        7,
        2023,
        {"placed_within_days": 1, "placed_share_min": 0.9, "max_occupancy": 0.75},
        {"placed": (1.0, 0.9), "occupancy_max": 0.75},
    ),
    (
        "loss-2-per-day-2pct",
        "loss",
        730,
        6,
        2023,
        {**NO_PLACED, "refused_share_max": 0.02},
        {"refused_max": 0.02},
    ),
    (
        "wait-7days-90pct",
        "wait",
        200,
        30,
        2023,
        {"placed_within_days": 7, "placed_share_min": 0.9},
        {"placed": (7.0, 0.9)},
    ),
    # targets close to an Erlang boundary: the answer must still be the exact one
    (
        "loss-lam1-los20-5pct",
        "loss",
        365,
        20,
        2023,
        {**NO_PLACED, "refused_share_max": 0.05},
        {"refused_max": 0.05},
    ),
    (
        "loss-lam0.4-los14-10pct",
        "loss",
        146,
        14,
        2023,
        {**NO_PLACED, "refused_share_max": 0.10},
        {"refused_max": 0.10},
    ),
    ("wait-lam1-los21-default", "wait", 365, 21, 2023, None, {"placed": (28.0, 0.80)}),
    # occupancy of a loss system is the carried load a (1 - B) / c
    (
        "loss-refusal-and-occupancy",
        "loss",
        365,
        14,
        2023,
        {**NO_PLACED, "refused_share_max": 0.05, "max_occupancy": 0.71},
        {"refused_max": 0.05, "occupancy_max": 0.71},
    ),
]


def days_in(year: int) -> int:
    return 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365


@pytest.mark.parametrize(
    ("kind", "arrivals", "los", "year", "service_level", "target"),
    [pytest.param(*case[1:], id=case[0]) for case in EXACT_CASES],
)
def test_exact_erlang_cases_through_the_pipeline(
    tmp_path: Path,
    kind: str,
    arrivals: float,
    los: float,
    year: int,
    service_level: dict[str, Any] | None,
    target: dict[str, Any],
) -> None:
    lam = arrivals / days_in(year)
    expected = exact_min_beds(kind, lam, los, **target)
    scenario = one_form_scenario(
        tmp_path, kind=kind, arrivals=arrivals, los=los, service_level=service_level, year=year
    )
    result = minimal_beds(scenario)
    row = result.table.loc[("a", year)]
    # the steady-state figure: Erlang, and the long simulation leaves the exact value as is
    assert (int(row["analytic_beds"]), int(row["long_run_beds"])) == (expected, expected), (
        f"lam={lam:.6g}/day, LOS={los}, {target}: exact {expected}, "
        f"analytic {row['analytic_beds']}, long run {row['long_run_beds']}"
    )
    assert result.status == "verified"
    assert len(result.iterations) == 1
    assert result.iterations.iloc[0]["raised"] == ""
    assert result.unreachable == []
    assert (result.long_run_levels["verdict"] != "missed").all()
    # the minimum of the year (from a region one year warmed up) comes with its evidence
    minimal = int(row["minimal_beds"])
    evidence = result.evidence.loc[("a", year)]
    if minimal > 0:
        fewer, goal = float(evidence["at_one_fewer_mean"]), float(evidence["evidence_target"])
        assert fewer < goal if evidence["evidence_kind"] == "min" else fewer > goal
    # the comparisons: 10 beds now, 100 EUR per bed-day
    assert int(row["current_beds"]) == 10
    assert int(row["surplus_beds"]) == 10 - minimal
    per_year = 100.0 * days_in(year)
    assert row["cost_per_bed_year_eur"] == pytest.approx(per_year)
    assert row["cost_difference_eur"] == pytest.approx((minimal - 10) * per_year)


@pytest.mark.parametrize(
    ("kind", "arrivals", "los", "year", "service_level", "target"),
    [pytest.param(*case[1:], id=case[0]) for case in EXACT_CASES],
)
def test_exact_erlang_cases_in_the_model(
    tmp_path: Path,
    kind: str,
    arrivals: float,
    los: float,
    year: int,
    service_level: dict[str, Any] | None,
    target: dict[str, Any],
) -> None:
    """The same cases at the build_problem / solve level, with both solvers."""
    lam = arrivals / days_in(year)
    expected = exact_min_beds(kind, lam, los, **target)
    scenario = one_form_scenario(
        tmp_path, kind=kind, arrivals=arrivals, los=los, service_level=service_level, year=year
    )
    problem = problem_of(scenario)
    for solver in ("ortools", "pulp"):
        solution = solve(problem, solver, 10.0)
        assert solution.status == "optimal"
        assert solution.beds is not None
        assert int(solution.beds[("a", year)]) == expected, (solver, expected)
        assert solution.objective_eur == pytest.approx(expected * 100.0 * days_in(year))


def test_waiting_policy_block_is_the_same_queue_for_one_form(tmp_path: Path) -> None:
    scenario = one_form_scenario(
        tmp_path,
        kind="wait",
        policy="block",
        arrivals=365,
        los=14,
        service_level={"placed_within_days": 1, "placed_share_min": 0.95},
    )
    result = minimal_beds(scenario)
    assert int(result.table.at[("a", 2023), "long_run_beds"]) == 21


def test_table_cost_per_bed_year_matches_the_model_in_a_century_year(tmp_path: Path) -> None:
    # 2100 is not a leap year: a bed-year is 365 days, in the model and in the table alike
    scenario = one_form_scenario(
        tmp_path,
        kind="loss",
        arrivals=365,
        los=14,
        service_level={**NO_PLACED, "refused_share_max": 0.05},
        year=2100,
    )
    result = minimal_beds(scenario)
    row = result.table.loc[("a", 2100)]
    assert result.solution.objective_eur == pytest.approx(19 * 100.0 * 365)
    assert row["cost_per_bed_year_eur"] == pytest.approx(100.0 * 365)
    assert row["long_run_beds"] == 19
    minimal = int(row["minimal_beds"])
    assert row["cost_difference_eur"] == pytest.approx((minimal - 10) * 100.0 * 365)


# --------------------------------------------------------------------------------------
# 2. OR-Tools and PuLP agree
# --------------------------------------------------------------------------------------


def _both(problem: BedsProblem) -> tuple[Any, Any]:
    return solve(problem, "ortools", 30.0), solve(problem, "pulp", 30.0)


def test_ortools_and_pulp_agree_on_the_example_region(basis_problem: BedsProblem) -> None:
    assert {f for f, _ in basis_problem.keys} == {
        "crisis",
        "pleegzorg",
        "gezinshuis",
        "residentieel",
        "jeugdzorgplus",
    }
    assert len(basis_problem.keys) == 5 * 8
    ortools, pulp = _both(basis_problem)
    assert (ortools.status, pulp.status) == ("optimal", "optimal")
    assert ortools.objective_eur == pulp.objective_eur
    assert ortools.objective_eur == plan_cost(basis_problem, ortools.beds)
    assert pulp.objective_eur == plan_cost(basis_problem, pulp.beds)
    # and the coupling matters: some form is above its cheapest candidate
    floor = basis_problem.candidates.reset_index().groupby(["care_form", "year"])["beds"].min()
    assert (ortools.beds.sort_index() > floor.sort_index()).any()


@pytest.mark.parametrize("key", list(COUPLED))
def test_ortools_and_pulp_agree_on_coupled_instances(
    coupled: dict[str, BedsProblem], key: str
) -> None:
    problem = coupled[key]
    ortools, pulp = _both(problem)
    assert (ortools.status, pulp.status) == ("optimal", "optimal")
    assert ortools.objective_eur == pulp.objective_eur
    assert ortools.bound_eur == pytest.approx(ortools.objective_eur)


def test_ortools_and_pulp_agree_on_budgets(coupled: dict[str, BedsProblem]) -> None:
    problem = coupled["crisis-pleegzorg-gezinshuis"]
    best, _ = brute_force(problem, 2023)
    assert best is not None
    for budget, status in ((best, "optimal"), (best - 1, "infeasible")):
        bounded = BedsProblem(problem.candidates, problem.coupling, float(budget))
        ortools, pulp = _both(bounded)
        assert (ortools.status, pulp.status) == (status, status), budget
        assert ortools.objective_eur == pulp.objective_eur


# --------------------------------------------------------------------------------------
# 3. Brute force on tiny coupled instances
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(COUPLED))
@pytest.mark.parametrize("solver", ["ortools", "pulp"])
def test_solver_optimum_equals_brute_force(
    coupled: dict[str, BedsProblem], key: str, solver: str
) -> None:
    problem = coupled[key]
    best, plans = brute_force(problem, 2023)
    assert best is not None
    solution = solve(problem, solver, 30.0)  # type: ignore[arg-type]
    assert solution.status == "optimal"
    assert solution.objective_eur == best
    assert solution.beds is not None
    assert plan_cost(problem, solution.beds) == best
    assert {f: int(k) for (f, _), k in solution.beds.items()} in plans


def test_brute_force_instances_are_really_coupled(coupled: dict[str, BedsProblem]) -> None:
    """In every instance, blocking lifts some form above its cheapest candidate."""
    lifted = []
    for key, problem in coupled.items():
        _, plans = brute_force(problem, 2023)
        floor = {
            str(f): int(k)
            for (f, _), k in problem.candidates.reset_index()
            .groupby(["care_form", "year"])["beds"]
            .min()
            .items()
        }
        if all(any(plan[f] > floor[f] for f in plan) for plan in plans):
            lifted.append(key)
    assert lifted == list(COUPLED), "an instance where blocking does not change the answer"


def test_brute_force_with_a_budget(coupled: dict[str, BedsProblem]) -> None:
    problem = coupled["crisis-pleegzorg"]
    best, _ = brute_force(problem, 2023)
    assert best is not None
    tight = BedsProblem(problem.candidates, problem.coupling, float(best) - 1.0)
    assert brute_force(tight, 2023)[0] is None
    for solver in ("ortools", "pulp"):
        assert solve(tight, solver, 10.0).status == "infeasible"  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# 4. Independent checker of every returned solution
# --------------------------------------------------------------------------------------


def test_checker_catches_a_broken_plan(coupled: dict[str, BedsProblem]) -> None:
    problem = coupled["crisis-pleegzorg"]
    floor = problem.candidates.reset_index().groupby(["care_form", "year"])["beds"].min()
    assert violations(problem, floor) != []  # cheapest everywhere: crisis blocked too long
    assert violations(problem, floor.drop(("pleegzorg", 2023)))[0].startswith("pairs differ")


@pytest.mark.parametrize("solver", ["ortools", "pulp"])
def test_every_solution_meets_every_constraint(
    basis_problem: BedsProblem, coupled: dict[str, BedsProblem], solver: str
) -> None:
    instances = {"basis": basis_problem, **coupled}
    for key, problem in instances.items():
        solution = solve(problem, solver, 30.0)  # type: ignore[arg-type]
        assert solution.has_solution, key
        assert violations(problem, solution.beds) == [], key
        assert solution.objective_eur == plan_cost(problem, solution.beds), key


def test_wait_and_coupling_coefficients_follow_erlang_c(
    coupled: dict[str, BedsProblem],
) -> None:
    """The model's waits in the previous bed: E[W] of M/M/c for a ``block`` form."""
    problem = coupled["crisis-pleegzorg"]
    # pleegzorg: (40 + 0.4 x 150) / 365 per day (crisis stays never age out: no age table)
    lam = (40 + 0.4 * 150) / 365
    for (f, _, k), row in problem.candidates.iterrows():
        if f != "pleegzorg":
            continue
        # the model's mean stay is estimated by sampling; allow 2% on the 365 days
        low = 1000 * mean_wait_mmc(int(k), lam, 365 * 0.98)
        high = 1000 * mean_wait_mmc(int(k), lam, 365 * 1.02)
        assert low - 1 <= row["wait"] <= high + 1, (k, low, row["wait"], high)
        # coupling: ceil(share x wait), never below the real wait
        coef = problem.coupling[("crisis", "pleegzorg", 2023, k)]
        assert 0.4 * row["wait"] - 1e-9 <= coef < 0.4 * row["wait"] + 1 + 1e-9, k


# --------------------------------------------------------------------------------------
# 5. Monotonicity (analytic + optimisation, no simulation)
# --------------------------------------------------------------------------------------


def make_rules(
    policy: str,
    *,
    max_wait: float = math.nan,
    within: float = math.nan,
    share_min: float = math.nan,
    refused_max: float = math.nan,
    max_stay: float = math.nan,
    over_max: float = math.nan,
    occupancy: float = math.nan,
) -> FormRules:
    return FormRules(
        policy=policy,
        max_wait_days=max_wait,
        max_stay_days=max_stay,
        placed_within_days=within,
        placed_share_min=share_min,
        refused_share_max=refused_max,
        stays_over_max_share_max=over_max,
        max_occupancy=occupancy,
    )


def direct_demand(
    forms: dict[str, tuple[float, float]], routes: dict[tuple[str, str], float]
) -> Demand:
    """Demand built by hand: forms -> (requests per day, mean stay); exponential stays."""
    table = pd.DataFrame(
        [(f, 2023, lam, stay, 0.0, 365.0) for f, (lam, stay) in forms.items()],
        columns=["care_form", "year", "requests_per_day", "stay_days", "aged_out_share", "days"],
    ).set_index(["care_form", "year"])
    series = pd.Series(routes, dtype="float64", name="share")
    if len(series):
        series.index = series.index.set_names(["from_care_form", "to"])
    q = (np.arange(2000) + 0.5) / 2000
    samples = {(f, 2023): -stay * np.log1p(-q) for f, (_, stay) in forms.items()}
    return Demand(table=table, blocking_routes=series, stay_samples=samples)


def one_form_optimum(rules: FormRules, lam: float, stay: float) -> int:
    demand = direct_demand({"a": (lam, stay)}, {})
    cost = pd.Series({("a", 2023): 100.0})
    solution = solve(build_problem(demand, {"a": rules}, cost, NO_BOUNDS, SPAN), "ortools", 5.0)
    assert solution.status == "optimal" and solution.beds is not None
    return int(solution.beds[("a", 2023)])


def coupled_optimum(
    crisis_lam: float, pleeg_ext: float, share: float, crisis_rules: FormRules
) -> tuple[float, dict[str, int]]:
    pleeg_lam = pleeg_ext + share * crisis_lam
    demand = direct_demand(
        {"crisis": (crisis_lam, 20.0), "pleegzorg": (pleeg_lam, 365.0)},
        {("crisis", "pleegzorg"): share},
    )
    rules = {"crisis": crisis_rules, "pleegzorg": make_rules("block", within=28, share_min=0.8)}
    cost = pd.Series({("crisis", 2023): 250.0, ("pleegzorg", 2023): 75.0})
    problem = build_problem(demand, rules, cost, NO_BOUNDS, SPAN)
    solution = solve(problem, "ortools", 5.0)
    assert solution.status == "optimal" and solution.beds is not None
    assert violations(problem, solution.beds) == []
    return float(solution.objective_eur or 0), {f: int(k) for (f, _), k in solution.beds.items()}


def crisis_rules(share_min: float = 0.95) -> FormRules:
    return make_rules(
        "overflow", max_wait=1, within=1, share_min=share_min, max_stay=60, over_max=0.1
    )


one_form_rules = st.sampled_from(
    [
        make_rules("overflow", max_wait=0, refused_max=0.05),
        make_rules("overflow", max_wait=0, refused_max=0.01, occupancy=0.8),
        make_rules("queue", within=1, share_min=0.95),
        make_rules("queue", within=28, share_min=0.8, occupancy=0.85),
        make_rules("block", within=14, share_min=0.8),
        make_rules("overflow", max_wait=14, refused_max=0.05),
    ]
)


@settings(max_examples=25, deadline=None)
@given(
    rules=one_form_rules,
    arrivals=st.integers(20, 1500),
    extra=st.integers(1, 400),
    stay=st.floats(2.0, 120.0),
)
def test_more_demand_never_needs_fewer_beds_one_form(
    rules: FormRules, arrivals: int, extra: int, stay: float
) -> None:
    low = one_form_optimum(rules, arrivals / 365, stay)
    high = one_form_optimum(rules, (arrivals + extra) / 365, stay)
    assert high >= low


@settings(max_examples=25, deadline=None)
@given(
    lam=st.floats(0.05, 4.0),
    stay=st.floats(2.0, 90.0),
    loose=st.floats(0.5, 0.97),
    tighten=st.floats(0.001, 0.4),
    kind=st.sampled_from(["loss", "queue", "occupancy"]),
)
def test_stricter_service_level_never_needs_fewer_beds_one_form(
    lam: float, stay: float, loose: float, tighten: float, kind: str
) -> None:
    strict = min(loose + tighten * (1 - loose), 0.999)
    if kind == "loss":  # refusal share at most 1 - loose, then at most 1 - strict
        a = make_rules("overflow", max_wait=0, refused_max=1 - loose)
        b = make_rules("overflow", max_wait=0, refused_max=1 - strict)
    elif kind == "queue":
        a = make_rules("queue", within=7, share_min=loose)
        b = make_rules("queue", within=7, share_min=strict)
    else:
        a = make_rules("queue", occupancy=strict)
        b = make_rules("queue", occupancy=loose)
    assert one_form_optimum(b, lam, stay) >= one_form_optimum(a, lam, stay)


@settings(max_examples=15, deadline=None)
@given(
    crisis=st.integers(60, 400),
    pleeg=st.integers(5, 80),
    share=st.floats(0.1, 0.6),
    extra_crisis=st.integers(0, 80),
    extra_pleeg=st.integers(0, 30),
)
def test_more_demand_never_costs_less_coupled(
    crisis: int, pleeg: int, share: float, extra_crisis: int, extra_pleeg: int
) -> None:
    base_cost, base_beds = coupled_optimum(crisis / 365, pleeg / 365, share, crisis_rules())
    more_cost, more_beds = coupled_optimum(
        (crisis + extra_crisis) / 365, (pleeg + extra_pleeg) / 365, share, crisis_rules()
    )
    assert more_cost >= base_cost, (base_beds, more_beds)


@settings(max_examples=15, deadline=None)
@given(
    crisis=st.integers(60, 400),
    pleeg=st.integers(5, 80),
    share=st.floats(0.1, 0.6),
    loose=st.floats(0.8, 0.95),
    tighten=st.floats(0.01, 0.9),
)
def test_stricter_crisis_target_never_costs_less_coupled(
    crisis: int, pleeg: int, share: float, loose: float, tighten: float
) -> None:
    strict = min(loose + tighten * (1 - loose), 0.995)
    cost_loose, _ = coupled_optimum(crisis / 365, pleeg / 365, share, crisis_rules(loose))
    cost_strict, _ = coupled_optimum(crisis / 365, pleeg / 365, share, crisis_rules(strict))
    # the same optimum summed in another order may differ in the last bit
    assert cost_strict >= cost_loose * (1 - 1e-12)


def test_more_arrivals_in_the_scenario_never_need_fewer_beds(tmp_path: Path) -> None:
    """Through scenario files (arrivals_per_year), for a loss and a waiting form."""
    for kind, sl in (
        ("loss", {**NO_PLACED, "refused_share_max": 0.05}),
        ("wait", {"placed_within_days": 1, "placed_share_min": 0.95}),
    ):
        previous = 0
        for arrivals in (100, 200, 365, 500, 800):
            scenario = one_form_scenario(
                tmp_path / f"{kind}{arrivals}",
                kind=kind,
                arrivals=arrivals,
                los=14,
                service_level=sl,
            )
            beds = int(solve(problem_of(scenario)).beds[("a", 2023)])  # type: ignore[index]
            assert beds >= previous, (kind, arrivals)
            previous = beds


# --------------------------------------------------------------------------------------
# 6. Infeasibility, unreachable targets and time limits
# --------------------------------------------------------------------------------------


def _example_scenario(tmp: Path, optimisation: dict[str, Any]) -> Scenario:
    data = yaml.safe_load(BASIS.read_text(encoding="utf-8"))
    data["model"] = str(EXAMPLE_MODEL.resolve())
    data["optimisation"] = {"replications": 3, "max_iterations": 2, **optimisation}
    file = tmp / "basis.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_scenario(file)


def _no_zero_beds(result: MinimalBedsResult) -> None:
    minimal = result.table["minimal_beds"]
    assert minimal.isna().all(), minimal[minimal.notna()]
    assert not (minimal == 0).any()
    assert result.table["surplus_beds"].isna().all()
    assert result.table["cost_difference_eur"].isna().all()
    assert result.solution.beds is None


def test_budget_below_the_cheapest_plan_is_infeasible_not_zero_beds(tmp_path: Path) -> None:
    scenario = one_form_scenario(
        tmp_path,
        kind="loss",
        arrivals=365,
        los=14,
        service_level={**NO_PLACED, "refused_share_max": 0.05},
        optimisation={"budget_eur_per_year": 19 * 36500 - 1},
    )
    result = minimal_beds(scenario)
    assert result.status == "infeasible"
    _no_zero_beds(result)
    assert "budget" in result.message.lower()
    # the table still shows the 0-meting and the analytic start
    assert int(result.table.at[("a", 2023), "current_beds"]) == 10
    assert int(result.table.at[("a", 2023), "analytic_beds"]) == 19
    # exactly the cheapest plan's cost is enough
    enough = one_form_scenario(
        tmp_path / "enough",
        kind="loss",
        arrivals=365,
        los=14,
        service_level={**NO_PLACED, "refused_share_max": 0.05},
        optimisation={"budget_eur_per_year": 19 * 36500},
    )
    assert int(minimal_beds(enough).table.at[("a", 2023), "long_run_beds"]) == 19


def test_example_budget_infeasible_and_crisis_stay_norm_unreachable(tmp_path: Path) -> None:
    result = minimal_beds(_example_scenario(tmp_path, {"budget_eur_per_year": 1_000_000}))
    assert result.status == "infeasible"
    _no_zero_beds(result)
    assert "budget" in result.message.lower()
    assert len(result.unreachable) == 1
    note = result.unreachable[0]
    assert note.startswith("Crisisopvang") and "28" in note
    assert note in result.message


def test_example_region_end_to_end(tmp_path: Path) -> None:
    scenario = _example_scenario(tmp_path, {})
    result = minimal_beds(scenario)
    assert result.status == "verified"
    pairs = {(f, y) for f in scenario.model.care_form_ids for y in scenario.years}
    assert set(result.table.index) == pairs
    assert result.table["minimal_beds"].notna().all()
    assert result.table["reached"].all()
    # the long run: Erlang refined by the long simulation, which misses no reachable norm
    lr = result.long_run_levels
    reachable = lr[~((lr["care_form"] == "crisis") & (lr["measure"] == "stays_over_max_share"))]
    assert (reachable["verdict"] != "missed").all()
    # the crisis stay norm: unreachable, reported, and shown as not met
    assert any(n.startswith("Crisisopvang") for n in result.unreachable)
    sl = result.service_levels
    crisis_norm = sl[(sl["care_form"] == "crisis") & (sl["measure"] == "stays_over_max_share")]
    assert len(crisis_norm) == len(scenario.years)
    assert not crisis_norm["met"].any()
    # every other norm holds on average at every minimum
    others = sl[~((sl["care_form"] == "crisis") & (sl["measure"] == "stays_over_max_share"))]
    below = others[(others["kind"] == "min") & (others["mean"] < others["target"])]
    above = others[(others["kind"] == "max") & (others["mean"] > others["target"])]
    assert below.empty and above.empty
    # the long-run solver answer meets every constraint of the model it came from
    assert result.solution.beds is not None
    problem = problem_of(scenario)
    assert violations(problem, result.solution.beds) == []
    assert result.solution.objective_eur == solve(problem, "pulp", 30.0).objective_eur


@pytest.mark.parametrize("solver", ["ortools", "pulp"])
@pytest.mark.parametrize("limit", [1e-4, 0.05, 0.5])
def test_tiny_time_limit_returns_a_status_never_a_partial_plan(
    basis_problem: BedsProblem, solver: str, limit: float
) -> None:
    solution = solve(basis_problem, solver, limit)  # type: ignore[arg-type]
    assert solution.status in ("optimal", "feasible", "timeout")
    if solution.has_solution:
        assert violations(basis_problem, solution.beds) == []
    else:
        assert solution.objective_eur is None


def test_tiny_time_limit_in_the_pipeline(tmp_path: Path) -> None:
    scenario = _example_scenario(tmp_path, {})
    result = minimal_beds(scenario, time_limit_s=1e-4, max_iterations=1)
    assert result.status in ("verified", "iteration_limit", "timeout")
    if result.status == "timeout":
        _no_zero_beds(result)
        assert "time" in result.message.lower()
    else:
        assert result.table["minimal_beds"].notna().all()
