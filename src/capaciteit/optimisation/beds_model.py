"""The minimal-beds model, its data, and two solvers (OR-Tools CP-SAT and PuLP/CBC).

Pipeline: :func:`build_problem` (candidate bed counts per care form and year, with their
cost, the blocking they allow and the wait they cause upstream) -> :func:`solve_cpsat` or
:func:`solve_pulp` -> a :class:`Solution` keyed by (care_form, year).

The model, per year ``y`` (years share nothing but the budget line, one per year):

* choose one candidate bed count ``k`` per care form: ``sum_k z[f,y,k] = 1``;
* coupling by blocking: young people leaving form ``f`` for a full form ``d`` wait in
  their bed, so ``f`` needs more beds when ``d`` has fewer. With ``W_d(k)`` the mean wait
  at ``d`` with ``k`` beds and ``B*_f(k)`` the most blocking ``f`` tolerates with ``k`` beds
  while keeping its service levels,
  ``sum_d share[f,d] * sum_k W_d(k) z[d,y,k] <= sum_k B*_f(k) z[f,y,k]``;
* optionally a budget per year: ``sum cost z <= budget``;
* minimise the yearly cost of the beds, ``sum cost[f,y,k] z[f,y,k]``.

Blocking and waits are scaled to integers (1/1000 day; waits rounded up, allowances down,
so the integer model is never looser than the real one), and both solvers read exactly the
same integers, so their optima can be compared exactly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from capaciteit._pandas import as_float, items
from capaciteit.core.solve import Status
from capaciteit.optimisation.demand import (
    BLOCKING_CAP_DAYS,
    Demand,
    FormRules,
    blocking_allowed_by_stay_norm,
    service_level_ok,
    wait_in_bed,
)

SCALE = 1000


@dataclass(frozen=True)
class BedsProblem:
    """Data of the minimal-beds model.

    Attributes
    ----------
    candidates
        Indexed by (care_form, year, beds): ``cost_eur`` (per year), ``allowed`` (blocking
        tolerated, 1/1000 day) and ``wait`` (wait caused upstream, 1/1000 day).
    coupling
        Integer coefficients indexed by (care_form, to, year, beds): the wait that ``to``
        with ``beds`` beds causes in a bed of ``care_form``, weighted by the routing share.
    budget_eur_per_year
        Optional limit on the yearly cost of all beds.
    """

    candidates: pd.DataFrame
    coupling: pd.Series
    budget_eur_per_year: float | None
    required: tuple[tuple[str, int], ...] = ()

    @property
    def keys(self) -> list[tuple[str, int]]:
        """(care_form, year) pairs to decide."""
        found = [(str(f), int(y)) for f, y, _ in self.candidates.index]
        return list(dict.fromkeys([*self.required, *found]))

    def without_candidates(self) -> list[tuple[str, int]]:
        """Pairs that must be decided but have no bed count meeting their targets."""
        found = {(str(f), int(y)) for f, y, _ in self.candidates.index}
        return [k for k in self.required if k not in found]


@dataclass(frozen=True)
class Solution:
    """What a solver returned: status, objective, bound, gap, time and the beds."""

    solver: str
    status: Status
    objective_eur: float | None
    bound_eur: float | None
    gap: float | None
    time_s: float
    beds: pd.Series | None

    @property
    def has_solution(self) -> bool:
        """Whether beds were found (optimal, or feasible at the time limit)."""
        return self.beds is not None


def candidate_range(rules: FormRules, lam: float, stay_days: float, lower: int, span: int) -> range:
    """Bed counts to offer the model: from the analytic minimum without blocking up."""
    start = lower
    while not service_level_ok(rules, start, lam, stay_days, 0.0) and start < lower + 100_000:
        start += 1
    stop = max(start, math.ceil(lam * stay_days) + 1) + span
    return range(start, stop + 1)


def allowed_blocking(
    rules: FormRules, beds: int, lam: float, stay_days: float, stay_norm_cap: float
) -> float:
    """Most mean blocking (days) with which ``beds`` still meet every target (bisection)."""
    if not service_level_ok(rules, beds, lam, stay_days, 0.0) or stay_norm_cap < 0:
        return -math.inf
    hi_cap = min(BLOCKING_CAP_DAYS, stay_norm_cap)
    if service_level_ok(rules, beds, lam, stay_days, hi_cap):
        return hi_cap
    lo, hi = 0.0, hi_cap
    for _ in range(40):
        mid = (lo + hi) / 2
        if service_level_ok(rules, beds, lam, stay_days, mid):
            lo = mid
        else:
            hi = mid
    return lo


def build_problem(
    demand: Demand,
    rules: dict[str, FormRules],
    cost_per_bed_day: pd.Series,
    lower_bounds: pd.Series,
    span: int,
    budget_eur_per_year: float | None = None,
) -> BedsProblem:
    """Candidate tables for every (care_form, year).

    ``cost_per_bed_day`` is indexed by (care_form, year); ``lower_bounds`` (same index)
    are beds the model may not go below (raised when simulation finds a shortfall).
    """
    rows = []
    for key, _ in items(demand.table["days"]):
        fid, year = str(key[0]), int(key[1])
        r = rules[fid]
        lam = demand.value(fid, year, "requests_per_day")
        stay = demand.value(fid, year, "stay_days")
        days = demand.value(fid, year, "days")
        cap = blocking_allowed_by_stay_norm(r, demand.stay_samples[(fid, year)])
        lower = int(lower_bounds.get((fid, year), 0))
        for beds in candidate_range(r, lam, stay, lower, span):
            allowed = allowed_blocking(r, beds, lam, stay, cap)
            if allowed == -math.inf:
                continue
            rows.append(
                (
                    fid,
                    year,
                    beds,
                    round(as_float(cost_per_bed_day[(fid, year)]) * days * beds),
                    math.floor(allowed * SCALE),
                    math.ceil(wait_in_bed(r, beds, lam, stay) * SCALE),
                )
            )
    candidates = (
        pd.DataFrame(rows, columns=["care_form", "year", "beds", "cost_eur", "allowed", "wait"])
        .set_index(["care_form", "year", "beds"])
        .sort_index()
    )
    coupling_rows = []
    waits = items(candidates["wait"])
    for src, dst, share in demand.routes():
        for (form, year, beds), wait in waits:
            if form == dst:
                coupling_rows.append((src, dst, year, beds, math.ceil(share * int(wait))))
    coupling = (
        pd.DataFrame(coupling_rows, columns=["care_form", "to", "year", "beds", "coef"])
        .set_index(["care_form", "to", "year", "beds"])["coef"]
        .sort_index()
    )
    required = tuple((str(k[0]), int(k[1])) for k, _ in items(demand.table["days"]))
    return BedsProblem(candidates, coupling, budget_eur_per_year, required)


def _status_of(name: str) -> Status:
    statuses: dict[str, Status] = {
        "OPTIMAL": "optimal",
        "FEASIBLE": "feasible",
        "INFEASIBLE": "infeasible",
        "MODEL_INVALID": "invalid",
    }
    return statuses.get(name, "timeout")


def solve_cpsat(problem: BedsProblem, time_limit_s: float = 20.0, workers: int = 2) -> Solution:
    """Solve with OR-Tools CP-SAT (one Boolean per candidate)."""
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    model = cp_model.CpModel()
    cand = problem.candidates
    z = {key: model.new_bool_var(f"z_{key[0]}_{key[1]}_{key[2]}") for key in cand.index}
    by_pair: dict[tuple[str, int], list[tuple[int, Any]]] = {}
    for (fid, year, beds), var in z.items():
        by_pair.setdefault((str(fid), int(year)), []).append((int(beds), var))
    for pair in problem.keys:
        model.add_exactly_one(v for _, v in by_pair[pair])
    allowed = cand["allowed"]
    for (src, year), options in by_pair.items():
        routes = _routes_from(problem, src, year)
        if not routes:
            continue
        caused = [coef * z[(dst, year, beds)] for (dst, beds), coef in routes.items()]
        model.add(sum(caused) <= sum(int(allowed[(src, year, b)]) * v for b, v in options))
    cost = cand["cost_eur"]
    if problem.budget_eur_per_year is not None:
        for year in sorted({y for _, y in problem.keys}):
            model.add(
                sum(int(cost[k]) * v for k, v in z.items() if k[1] == year)
                <= int(problem.budget_eur_per_year)
            )
    model.minimize(sum(int(cost[k]) * v for k, v in z.items()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = workers
    code = solver.solve(model)
    status = _status_of(solver.status_name(code))
    elapsed = time.perf_counter() - started
    if status not in ("optimal", "feasible"):
        return Solution("ortools-cpsat", status, None, None, None, elapsed, None)
    chosen = {(str(f), int(y)): int(b) for (f, y, b), v in z.items() if solver.boolean_value(v)}
    objective = float(solver.objective_value)
    bound = float(solver.best_objective_bound)
    return Solution(
        "ortools-cpsat",
        status,
        objective,
        bound,
        _gap(objective, bound),
        elapsed,
        _beds_series(chosen),
    )


def solve_pulp(problem: BedsProblem, time_limit_s: float = 20.0) -> Solution:
    """Solve the same model as a MIP with PuLP and CBC."""
    import pulp

    started = time.perf_counter()
    prob = pulp.LpProblem("minimal_beds", pulp.LpMinimize)
    cand = problem.candidates
    z = {
        key: prob.add_variable(f"z_{key[0]}_{key[1]}_{key[2]}", cat="Binary") for key in cand.index
    }
    cost = cand["cost_eur"]
    prob += pulp.lpSum(int(cost[k]) * v for k, v in z.items())
    by_pair: dict[tuple[str, int], list[tuple[int, pulp.LpVariable]]] = {}
    for (fid, year, beds), var in z.items():
        by_pair.setdefault((str(fid), int(year)), []).append((int(beds), var))
    for pair in problem.keys:
        prob += pulp.lpSum(v for _, v in by_pair[pair]) == 1, f"one_{pair[0]}_{pair[1]}"
    allowed = cand["allowed"]
    for (src, year), options in by_pair.items():
        routes = _routes_from(problem, src, year)
        if not routes:
            continue
        prob += (
            pulp.lpSum(coef * z[(dst, year, beds)] for (dst, beds), coef in routes.items())
            <= pulp.lpSum(int(allowed[(src, year, b)]) * v for b, v in options),
            f"blocking_{src}_{year}",
        )
    if problem.budget_eur_per_year is not None:
        for year in sorted({y for _, y in problem.keys}):
            prob += (
                pulp.lpSum(int(cost[k]) * v for k, v in z.items() if k[1] == year)
                <= int(problem.budget_eur_per_year),
                f"budget_{year}",
            )
    prob.solve(cbc_solver(time_limit_s))
    elapsed = time.perf_counter() - started
    name = pulp.LpStatus[prob.status]
    if name == "Optimal" and prob.sol_status == pulp.LpSolutionOptimal:
        status: Status = "optimal"
    elif name == "Infeasible":
        status = "infeasible"
    elif prob.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "feasible"
    else:
        status = "timeout" if name == "Not Solved" else "invalid"
    if status not in ("optimal", "feasible"):
        return Solution("pulp-cbc", status, None, None, None, elapsed, None)
    chosen = {(str(f), int(y)): int(b) for (f, y, b), v in z.items() if (v.value() or 0) > 0.5}
    objective = float(pulp.value(prob.objective))
    bound = objective if status == "optimal" else None
    return Solution(
        "pulp-cbc", status, objective, bound, _gap(objective, bound), elapsed, _beds_series(chosen)
    )


def cbc_solver(time_limit_s: float, gap: float = 0.0) -> Any:
    """CBC through PuLP's ``COIN_CMD``, with the binary shipped by the ``cbcbox`` package.

    The time limit is at least ``CBC_MIN_TIME_LIMIT_S``: with a few milliseconds CBC can
    hang for good (measured: 2 hangs in 30 runs at 6 ms, none at 50 ms or more).
    """
    import cbcbox
    import pulp

    limit = max(CBC_MIN_TIME_LIMIT_S, time_limit_s)
    return pulp.COIN_CMD(path=cbcbox.cbc_bin_path(), msg=False, timeLimit=limit, gapRel=gap)


CBC_MIN_TIME_LIMIT_S = 0.1


def _routes_from(problem: BedsProblem, src: str, year: int) -> dict[tuple[str, int], int]:
    coupling = problem.coupling
    if coupling.empty or src not in coupling.index.get_level_values(0):
        return {}
    part = coupling.loc[src]
    out: dict[tuple[str, int], int] = {}
    for (dst, y, beds), coef in part.items():
        if int(y) == year and coef > 0:
            out[(str(dst), int(beds))] = int(coef)
    return out


def _gap(objective: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    if objective == 0:
        return 0.0
    return abs(objective - bound) / abs(objective)


def _beds_series(chosen: dict[tuple[str, int], int]) -> pd.Series:
    series = pd.Series(chosen, dtype="int64", name="beds")
    series.index = series.index.set_names(["care_form", "year"])
    return series.sort_index()


SolverName = Literal["ortools", "pulp"]


def solve(
    problem: BedsProblem,
    solver: SolverName = "ortools",
    time_limit_s: float = 20.0,
    workers: int = 2,
) -> Solution:
    """Solve year by year (the years share no constraint) and combine the answers.

    ``workers``: CP-SAT's search workers (CBC runs on one thread; benchmarks compare the
    two at one worker each).

    The status is the weakest of the years (any infeasible year makes it infeasible); the
    objective, the bound and the time add up.
    """
    years = sorted({y for _, y in problem.keys})
    if problem.without_candidates():
        # a pair no bed count can serve makes the whole model infeasible, never "no beds"
        return Solution(solver, "infeasible", None, None, None, 0.0, None)
    per_year_limit = time_limit_s / max(1, len(years))
    parts: list[Solution] = []
    for year in years:
        cand = problem.candidates[problem.candidates.index.get_level_values("year") == year]
        coup = problem.coupling[problem.coupling.index.get_level_values("year") == year]
        sub = BedsProblem(
            cand,
            coup,
            problem.budget_eur_per_year,
            tuple(k for k in problem.required if k[1] == year),
        )
        if solver == "pulp":
            parts.append(solve_pulp(sub, per_year_limit))
        else:
            parts.append(solve_cpsat(sub, per_year_limit, workers))
    name = parts[0].solver if parts else solver
    elapsed = sum(p.time_s for p in parts)
    order: list[Status] = ["invalid", "infeasible", "timeout", "feasible", "optimal"]
    status = min((p.status for p in parts), key=order.index) if parts else "optimal"
    if status not in ("optimal", "feasible"):
        return Solution(name, status, None, None, None, elapsed, None)
    objective = sum(p.objective_eur or 0.0 for p in parts)
    bounds = [p.bound_eur for p in parts]
    bound = None if any(b is None for b in bounds) else sum(b or 0.0 for b in bounds)
    beds = pd.concat([p.beds for p in parts if p.beds is not None]).sort_index()
    return Solution(name, status, objective, bound, _gap(objective, bound), elapsed, beds)
