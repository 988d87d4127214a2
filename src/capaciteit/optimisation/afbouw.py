"""Afbouw plans: beds per provider, care form and year under needs and targets.

Pipeline: :func:`plan_data` (tables keyed by provider, care form and year, all integers)
-> :func:`solve_plan` with OR-Tools CP-SAT or PuLP/CBC (the same data) -> a
:class:`Plan` (beds per provider, form and year, with the slack of every soft constraint).

The model, for providers ``p``, care forms ``f`` and years ``y`` (the first year is the
0-meting and fixed):

hard
    ``x[p,f,y]`` integer; a change per year at most ``max_change[p,f]`` up or down; 0 or
    at least ``min_group[f]`` beds; no beds where a provider does not offer the form
    (unless allowed); pinned agreements.
elastic (a slack that costs a penalty; its value is the explanation)
    new places per year ``<= recruitment[f]`` (``RECRUITMENT_PENALTY`` per place: foster
    families and gezinshuis parents that cannot be found cannot take children, so the limit
    ranks above the needs); capacity ``sum_p x[p,f,y] >= need[f,y]`` (``NEED_PENALTY`` per
    bed: the needs of children come before targets); targets ``sum_{p, f in F} x <= bound``
    or ``>= bound`` from their year on (``TARGET_PENALTY``).
objective (euros)
    bed-days x tariff + opening and closing costs per bed + stability per bed changed +
    fairness per bed of deviation from proportional afbouw + the reference weight per bed
    of deviation from an agreed plan (see *re-planning* below), plus the penalties. A
    provider's fair beds are its 0-meting share of the form's total in the plan that is
    best without fairness (solved first), ``beds0 x T* / total0``; beds within rounding
    of that share (the whole numbers either side) count as fair, each bed further away
    costs the fairness weight. Against that fixed reference each deviation involves one
    provider only, and rounding either way is free, which keeps the model easy for both
    solvers. When the fairness-free plan is already fair, it is the answer (fairness
    cannot lower the cost). In ``lexicographic`` mode the penalties are minimised first,
    then cost, then fairness.

Re-planning close to an agreed plan
    An ontwikkeltafel agrees a plan; the next sprint re-plans with new needs, but a
    provider that agreed on beds needs a reason to change them. With a *reference* (the
    agreed beds per provider, care form and year) every later year's cell pays
    ``weights["reference"]`` euros per bed ``|x - reference|`` (``d >= x - r``,
    ``d >= r - x``, linear for both solvers), and ``reference_max_change`` makes
    ``|x - reference| <= limit`` a hard rule. Think of the agreed plan as a rest position
    on a spring: cost, needs and targets may pull the plan away, each bed of distance costs
    the weight, and the limit is the length of the rope. When nothing pulls, the agreed
    plan is the optimum (it was optimal before, and any other plan costs at least as much
    plus the distance). Cells the reference does not name (a pair added since) carry no
    term. The fairness reference ``T*`` is, as always, the form totals of the best plan
    without fairness, the agreement included: fair shares are of the totals the re-plan
    would choose, so keeping agreed totals is not counted as unfair.

Care forms that share no target are independent problems (needs, recruitment, costs and
the rules are per form): :func:`solve_plan` solves each group of forms linked by targets
on its own and adds the results up, which gives the same optimum in less time.

The penalties dominate every euro of cost, so a plan with zero slack is found whenever one
exists; a plan with slack is the closest to feasible, and the slack says which targets or
needs conflict, in which year and by how many beds.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import pandas as pd

from capaciteit._pandas import items, rows
from capaciteit.core import nl
from capaciteit.core.solve import Status
from capaciteit.optimisation.beds_model import cbc_solver

RELATIVE_GAP = 0.0
"""Both solvers prove optimality by default; a positive gap stops them earlier (reported)."""
RECRUITMENT_PENALTY = 10**13
NEED_PENALTY = 10**11
TARGET_PENALTY = 10**8
SolverName = Literal["ortools", "pulp"]


@dataclass(frozen=True)
class Target:
    """A bound on the beds of a group of care forms from ``year`` on."""

    care_forms: tuple[str, ...]
    year: int
    kind: Literal["max", "min"]
    share: float
    bound_beds: int
    baseline_beds: int
    label: str

    def describe(self) -> str:
        """Describe the target in Dutch words."""
        forms = " + ".join(self.care_forms)
        sign = "hoogstens" if self.kind == "max" else "minstens"
        return (
            f"{forms} {sign} {nl.percent(self.share)} van de 0-meting "
            f"({nl.number(self.baseline_beds)} plaatsen) = {nl.number(self.bound_beds)} "
            f"plaatsen vanaf {self.year}"
        )

    def judged_row(self, year: int, beds: int) -> dict[str, object]:
        """Judge the target in ``year`` against ``beds`` of its care forms together."""
        return {
            "target": self.label or self.describe(),
            "care_forms": " + ".join(self.care_forms),
            "year": year,
            "kind": self.kind,
            "share_of_0_meting": self.share,
            "baseline_beds": self.baseline_beds,
            "bound_beds": self.bound_beds,
            "beds": beds,
            "met": beds <= self.bound_beds if self.kind == "max" else beds >= self.bound_beds,
        }


@dataclass(frozen=True)
class PlanData:
    """Integer data of the afbouw model.

    Attributes
    ----------
    pairs
        Indexed by (provider, care_form): ``beds0`` (0-meting), ``max_change``,
        ``min_group``, ``open_to_beds`` (whether beds are allowed), ``cost_per_bed_year``
        (euros, per year), ``upper`` (most beds ever).
    years
        Plan years; the first is the 0-meting and fixed.
    need
        Beds needed per (care_form, year).
    targets
        The targets.
    recruitment
        New places per year at most, per care form.
    pins
        Fixed beds per (provider, care_form, year).
    weights
        Euro weights: opening, closing, fairness, stability (per bed) and, optionally,
        reference (per bed of deviation from :attr:`reference`; 0 when absent).
    mode
        ``weighted`` (one objective) or ``lexicographic`` (penalties, then cost with the
        reference term, then fairness).
    reference
        Beds of an agreed plan per (provider, care_form, year); empty when none. Only cells
        of later years count.
    reference_max_change
        At most this many beds between a cell and its reference (a hard rule), or None.
    """

    pairs: pd.DataFrame
    years: list[int]
    need: dict[tuple[str, int], int]
    targets: list[Target]
    recruitment: dict[str, int]
    pins: dict[tuple[str, str, int], int]
    weights: dict[str, int]
    mode: Literal["weighted", "lexicographic"] = "weighted"
    days: dict[int, int] = field(default_factory=dict)
    reference: dict[tuple[str, str, int], int] = field(default_factory=dict)
    reference_max_change: int | None = None

    @property
    def reference_weight(self) -> int:
        """Euros per bed of deviation from the reference (0 without a reference)."""
        return int(self.weights.get("reference", 0)) if self.reference else 0

    @property
    def forms(self) -> list[str]:
        """Care forms in the plan."""
        return list(dict.fromkeys(str(f) for _, f in self.pairs.index))

    @functools.cached_property
    def table(self) -> dict[tuple[str, str], dict[str, int]]:
        """:attr:`pairs` as integers per (provider, care_form), for fast lookups."""
        return {
            (str(key[0]), str(key[1])): {str(c): int(v) for c, v in items(row)}
            for key, row in rows(self.pairs)
        }


@dataclass(frozen=True)
class Plan:
    """A solver's answer.

    ``beds`` is indexed by (provider, care_form, year); ``need_slack`` by (care_form, year)
    (beds short of the need); ``target_slack`` per target index (beds beyond the bound);
    ``recruitment_slack`` by (care_form, year).
    """

    solver: str
    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    time_s: float
    beds: pd.Series | None
    need_slack: dict[tuple[str, int], int]
    target_slack: dict[int, int]
    recruitment_slack: dict[tuple[str, int], int]

    @property
    def has_plan(self) -> bool:
        """Whether beds were found."""
        return self.beds is not None

    @property
    def conflict_free(self) -> bool:
        """Whether every need, target and recruitment limit holds without slack."""
        return not any(
            v > 0
            for v in (
                *self.need_slack.values(),
                *self.target_slack.values(),
                *self.recruitment_slack.values(),
            )
        )


class _Backend(Protocol):
    """The little both solvers need: integer variables, linear constraints, sums."""

    def int_var(self, lo: int, hi: int, name: str) -> Any: ...
    def bool_var(self, name: str) -> Any: ...
    def add(self, constraint: Any) -> None: ...
    def total(self, terms: list[Any]) -> Any: ...


class _CpSat:
    def __init__(self, workers: int = 2) -> None:
        from ortools.sat.python import cp_model

        self.workers = workers
        self.cp_model = cp_model
        self.model = cp_model.CpModel()

    def int_var(self, lo: int, hi: int, name: str) -> Any:
        return self.model.new_int_var(lo, hi, name)

    def bool_var(self, name: str) -> Any:
        return self.model.new_bool_var(name)

    def add(self, constraint: Any) -> None:
        self.model.add(constraint)

    def total(self, terms: list[Any]) -> Any:
        return sum(terms)


class _Pulp:
    def __init__(self) -> None:
        import pulp

        self.pulp = pulp
        self.prob = pulp.LpProblem("afbouw", pulp.LpMinimize)

    def int_var(self, lo: int, hi: int, name: str) -> Any:
        return self.prob.add_variable(name, lowBound=lo, upBound=hi, cat="Integer")

    def bool_var(self, name: str) -> Any:
        return self.prob.add_variable(name, cat="Binary")

    def add(self, constraint: Any) -> None:
        self.prob += constraint

    def total(self, terms: list[Any]) -> Any:
        return self.pulp.lpSum(terms)


@dataclass
class _Built:
    backend: _Backend
    x: dict[tuple[str, str, int], Any]
    need_slack: dict[tuple[str, int], Any]
    target_slack: dict[int, Any]
    recruitment_slack: dict[tuple[str, int], Any]
    penalty: Any
    cost: Any
    fairness: Any


def fair_range(beds0: int, total0: int, reference: int) -> tuple[int, int]:
    """Fair beds of a provider: its 0-meting share of the reference total, rounded either way.

    ``beds0 x reference / total0`` beds, as the whole numbers just below and above it (one
    number when the share is whole).
    """
    share = beds0 * reference
    return share // total0, -(-share // total0)


def _build(
    data: PlanData,
    backend: _Backend,
    fair_totals: dict[tuple[str, int], int] | None = None,
    forms: tuple[str, ...] | None = None,
) -> _Built:
    """Build the model over ``forms`` (default: all) with the targets on those forms only."""
    b = backend
    forms = tuple(data.forms) if forms is None else forms
    years = data.years
    first = years[0]
    x: dict[tuple[str, str, int], Any] = {}
    inc: dict[tuple[str, str, int], Any] = {}
    dec: dict[tuple[str, str, int], Any] = {}
    cost_terms: list[Any] = []
    fair_terms: list[Any] = []
    w = data.weights
    table = data.table
    ref_weight = data.reference_weight
    ref_limit = data.reference_max_change
    for (p, f), row in table.items():
        if f not in forms:
            continue
        beds0, upper = row["beds0"], row["upper"]
        change, group = row["max_change"], row["min_group"]
        allowed = bool(row["open_to_beds"])
        per_bed_year = row["cost_per_bed_year"]
        for y in years:
            if y == first:
                var = b.int_var(beds0, beds0, f"x_{p}_{f}_{y}")
            else:
                hi = upper if allowed else 0
                pin = data.pins.get((p, f, y))
                var = (
                    b.int_var(pin, pin, f"x_{p}_{f}_{y}")
                    if pin is not None
                    else (b.int_var(0, hi, f"x_{p}_{f}_{y}"))
                )
                if group > 1 and hi > 0:
                    is_open = b.bool_var(f"open_{p}_{f}_{y}")
                    b.add(var >= group * is_open)
                    b.add(var <= hi * is_open)
                agreed = data.reference.get((p, f, y))
                if agreed is not None:
                    if ref_limit is not None:
                        if agreed - ref_limit > 0:
                            b.add(var >= agreed - ref_limit)
                        b.add(var <= agreed + ref_limit)
                    if ref_weight > 0:
                        top = max(agreed, hi, pin or 0)
                        dev = b.int_var(0, top, f"ref_{p}_{f}_{y}")
                        b.add(dev >= var - agreed)
                        b.add(dev >= agreed - var)
                        cost_terms.append(ref_weight * dev)
            x[(p, f, y)] = var
            if y != first:
                cost_terms.append(per_bed_year * var)
        for prev, y in itertools.pairwise(years):
            up = b.int_var(0, change, f"inc_{p}_{f}_{y}")
            down = b.int_var(0, change, f"dec_{p}_{f}_{y}")
            b.add(x[(p, f, y)] - x[(p, f, prev)] == up - down)
            inc[(p, f, y)], dec[(p, f, y)] = up, down
            cost_terms.append((w["opening"] + w["stability"]) * up)
            cost_terms.append((w["closing"] + w["stability"]) * down)

    need_slack: dict[tuple[str, int], Any] = {}
    recruitment_slack: dict[tuple[str, int], Any] = {}
    pairs_of = {f: [p for p, g in table if g == f] for f in forms}
    fairness = w["fairness"]
    for f in forms:
        total0 = sum(table[(p, f)]["beds0"] for p in pairs_of[f])
        for y in years[1:]:
            need = data.need.get((f, y), 0)
            total = b.total([x[(p, f, y)] for p in pairs_of[f]])
            if need > 0:
                s = b.int_var(0, need, f"need_slack_{f}_{y}")
                b.add(total + s >= need)
                need_slack[(f, y)] = s
            if f in data.recruitment:
                # at most every provider's largest step up: keeps the penalty within int64
                most = sum(table[(p, f)]["max_change"] for p in pairs_of[f])
                s = b.int_var(0, max(0, most - data.recruitment[f]), f"recruit_slack_{f}_{y}")
                b.add(b.total([inc[(p, f, y)] for p in pairs_of[f]]) <= data.recruitment[f] + s)
                recruitment_slack[(f, y)] = s
            if total0 > 0 and fairness > 0 and fair_totals is not None:
                reference = fair_totals.get((f, y), total0)
                for p in pairs_of[f]:
                    beds0 = table[(p, f)]["beds0"]
                    if beds0 == 0:
                        continue
                    low, high = fair_range(beds0, total0, reference)
                    upper = table[(p, f)]["upper"]
                    dev = b.int_var(0, max(high, upper), f"dev_{p}_{f}_{y}")
                    b.add(dev >= x[(p, f, y)] - high)
                    b.add(dev >= low - x[(p, f, y)])
                    fair_terms.append(fairness * dev)
    target_slack: dict[int, Any] = {}
    for i, t in enumerate(data.targets):
        if not set(t.care_forms) <= set(forms):
            continue
        for y in years[1:]:
            if y < t.year:
                continue
            total = b.total([x[(p, f, y)] for f in t.care_forms for p in pairs_of.get(f, [])])
            s = b.int_var(0, 100_000, f"target_slack_{i}_{y}")
            if t.kind == "max":
                b.add(total - s <= t.bound_beds)
            else:
                b.add(total + s >= t.bound_beds)
            target_slack[i * 10_000 + y] = s
    penalty = b.total(
        [NEED_PENALTY * s for s in need_slack.values()]
        + [TARGET_PENALTY * s for s in target_slack.values()]
        + [RECRUITMENT_PENALTY * s for s in recruitment_slack.values()]
    )
    return _Built(
        b,
        x,
        need_slack,
        target_slack,
        recruitment_slack,
        penalty,
        b.total(cost_terms),
        b.total(fair_terms),
    )


def linked_forms(data: PlanData) -> list[tuple[str, ...]]:
    """Group the care forms linked by targets; each group is an independent problem.

    Needs, recruitment limits, costs and the rules are per care form; only a target on
    several forms (pleegzorg + gezinshuis) ties forms together.
    """
    group: dict[str, set[str]] = {f: {f} for f in data.forms}
    for t in data.targets:
        merged = set(t.care_forms).union(*(group.get(f, set()) for f in t.care_forms))
        for f in merged:
            group[f] = merged
    order = {f: i for i, f in enumerate(group)}
    unique = {id(g): g for g in group.values()}.values()
    return sorted(
        (tuple(sorted(g, key=order.__getitem__)) for g in unique), key=lambda g: order[g[0]]
    )


def solve_plan(
    data: PlanData,
    solver: SolverName = "ortools",
    time_limit_s: float = 30.0,
    lp_file: Path | None = None,
    gap: float = RELATIVE_GAP,
    workers: int = 2,
) -> Plan:
    """Solve the afbouw model; ``lp_file`` writes the PuLP model for review.

    Each group of :func:`linked_forms` is solved on its own, with a share of the time limit
    in proportion to its number of (provider, care form) pairs; the plan is their union,
    its objective and bound their sums, optimal when every group is. ``gap`` is the
    relative optimality gap at which the solvers stop (0: prove optimal). ``workers``:
    CP-SAT's search workers (CBC runs on one thread; benchmarks compare at one each).
    """
    started = time.perf_counter()
    groups = linked_forms(data)
    forms = data.pairs.index.get_level_values("care_form")
    size = {g: max(1, int(forms.isin(g).sum())) for g in groups}
    parts: list[Plan] = []
    references: dict[tuple[str, int], int] = {}
    for i, group in enumerate(groups):
        remaining = time_limit_s - (time.perf_counter() - started)
        share = size[group] / sum(size[g] for g in groups[i:])
        limit = max(0.1, remaining * share)
        part, reference = _solve_group(data, group, solver, limit, gap, workers)
        if part.beds is None:
            return dataclasses.replace(part, time_s=time.perf_counter() - started)
        parts.append(part)
        references.update(reference or {})
    if lp_file is not None:
        fair = references if data.weights.get("fairness", 0) > 0 else None
        built = _build(data, _Pulp(), fair)
        assert isinstance(built.backend, _Pulp)
        built.backend.prob += built.penalty + built.cost + built.fairness
        built.backend.prob.writeLP(str(lp_file))
    objective = sum(float(p.objective or 0.0) for p in parts)
    bound = sum(float(p.bound or 0.0) for p in parts)
    keys = [k for p in parts if p.beds is not None for k in p.beds.index]
    values = [int(v) for p in parts if p.beds is not None for v in p.beds.to_numpy()]
    index = pd.MultiIndex.from_tuples(keys, names=["provider", "care_form", "year"])
    return Plan(
        _solver_name(solver),
        "optimal" if all(p.status == "optimal" for p in parts) else "feasible",
        objective,
        bound,
        0.0 if objective == 0 else abs(objective - bound) / abs(objective),
        time.perf_counter() - started,
        pd.Series(values, index=index, dtype="int64", name="beds").sort_index(),
        {k: v for p in parts for k, v in p.need_slack.items()},
        {k: v for p in parts for k, v in p.target_slack.items()},
        {k: v for p in parts for k, v in p.recruitment_slack.items()},
    )


def _solve_group(
    data: PlanData,
    forms: tuple[str, ...],
    solver: SolverName,
    limit: float,
    gap: float,
    workers: int = 2,
) -> tuple[Plan, dict[tuple[str, int], int] | None]:
    """Solve one group of linked forms; also return the fairness reference used."""
    started = time.perf_counter()
    fair_totals: dict[tuple[str, int], int] | None = None
    if data.weights.get("fairness", 0) > 0:
        # The fairness reference: each form's total in the plan that is best without it
        # (an agreed plan included: the shares are of the totals the re-plan would choose).
        free = dataclasses.replace(data, weights={**data.weights, "fairness": 0})
        first, _ = _solve_group(free, forms, solver, limit / 2, gap, workers)
        if first.beds is None:
            return dataclasses.replace(first, time_s=time.perf_counter() - started), None
        fair_totals = form_totals(first.beds)
        if unfair_beds(data, first.beds, fair_totals) == 0:
            # already fair: no plan can cost less, and its fairness term is 0
            return dataclasses.replace(first, time_s=time.perf_counter() - started), fair_totals
    backend: _Backend = _CpSat(workers) if solver == "ortools" else _Pulp()
    built = _build(data, backend, fair_totals, forms)
    stages = (
        [built.penalty + built.cost + built.fairness]
        if data.mode == "weighted"
        else [built.penalty, built.cost, built.fairness]
    )
    values: dict[Any, float] = {}
    status: Status = "optimal"
    objective = bound = 0.0
    for k, stage in enumerate(stages):
        remaining = max(0.1, limit - (time.perf_counter() - started))
        stage_status, obj, bnd, values = _solve_stage(
            built, stage, remaining / (len(stages) - k), gap
        )
        if stage_status not in ("optimal", "feasible"):
            return _empty(solver, stage_status, time.perf_counter() - started), None
        if stage_status == "feasible":
            status = "feasible"
        objective, bound = obj, bnd
        if k + 1 < len(stages):
            # keep this stage's optimum while optimising the next
            built.backend.add(stage <= round(obj))
    keys = list(built.x)
    beds = pd.Series(
        [round(values[built.x[k]]) for k in keys],
        index=pd.MultiIndex.from_tuples(keys, names=["provider", "care_form", "year"]),
        dtype="int64",
        name="beds",
    )
    gap_found = 0.0 if objective == 0 else abs(objective - bound) / abs(objective)
    plan = Plan(
        _solver_name(solver),
        status,
        objective,
        bound,
        gap_found,
        time.perf_counter() - started,
        beds.sort_index(),
        {k: round(values[v]) for k, v in built.need_slack.items()},
        {k: round(values[v]) for k, v in built.target_slack.items()},
        {k: round(values[v]) for k, v in built.recruitment_slack.items()},
    )
    return plan, fair_totals


def form_totals(beds: pd.Series) -> dict[tuple[str, int], int]:
    """Sum a plan's beds per (care_form, year)."""
    return {
        (str(k[0]), int(k[1])): int(v)
        for k, v in items(beds.groupby(level=["care_form", "year"]).sum())
    }


def unfair_beds(data: PlanData, beds: pd.Series, reference: dict[tuple[str, int], int]) -> int:
    """Count the beds beyond each provider's fair range (:func:`fair_range`) in a plan.

    ``reference`` holds the form totals the fair shares are taken of (per care form and
    year); the 0-meting year is not counted.
    """
    total0: dict[str, int] = {}
    for (_, f), row in data.table.items():
        total0[f] = total0.get(f, 0) + row["beds0"]
    unfair = 0
    for (p, f, y), value in items(beds):
        beds0 = data.table[(str(p), str(f))]["beds0"]
        t0 = total0[str(f)]
        if y == data.years[0] or beds0 == 0 or t0 == 0:
            continue
        low, high = fair_range(beds0, t0, reference.get((str(f), int(y)), t0))
        unfair += max(0, int(value) - high, low - int(value))
    return unfair


def _solver_name(solver: str) -> str:
    return "ortools-cpsat" if solver == "ortools" else "pulp-cbc"


def _solve_stage(
    built: _Built, objective: Any, limit: float, gap: float
) -> tuple[Status, float, float, dict[Any, float]]:
    backend = built.backend
    variables = [
        *built.x.values(),
        *built.need_slack.values(),
        *built.target_slack.values(),
        *built.recruitment_slack.values(),
    ]
    if isinstance(backend, _CpSat):
        model = backend.model
        model.minimize(objective)
        solver = backend.cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = float(limit)
        solver.parameters.num_workers = backend.workers
        solver.parameters.relative_gap_limit = gap
        # The whole LP from the root closes the bound of these plan models at once; added
        # lazily it climbs over many rounds (pleegzorg + gezinshuis, 300 providers: 2.5 s
        # -> 1.2 s for the fairness stage).
        solver.parameters.add_lp_constraints_lazily = False
        code = solver.solve(model)
        name = solver.status_name(code)
        status: Status = {
            "OPTIMAL": "optimal",
            "FEASIBLE": "feasible",
            "INFEASIBLE": "infeasible",
            "MODEL_INVALID": "invalid",
        }.get(name, "timeout")  # type: ignore[assignment]
        if status not in ("optimal", "feasible"):
            return status, math.nan, math.nan, {}
        values = {v: float(solver.value(v)) for v in variables}
        return status, float(solver.objective_value), float(solver.best_objective_bound), values
    assert isinstance(backend, _Pulp)
    pulp = backend.pulp
    prob = backend.prob
    prob.setObjective(objective)
    prob.solve(cbc_solver(limit, gap))
    name = pulp.LpStatus[prob.status]
    if name == "Optimal" and prob.sol_status == pulp.LpSolutionOptimal:
        status = "optimal"
    elif name == "Infeasible":
        return "infeasible", math.nan, math.nan, {}
    elif prob.sol_status == pulp.LpSolutionIntegerFeasible:
        status = "feasible"
    else:
        return ("timeout" if name == "Not Solved" else "invalid"), math.nan, math.nan, {}
    values = {v: float(v.value() or 0.0) for v in variables}
    # an empty stage objective (no fairness terms) has no value: it is 0
    obj = float(pulp.value(prob.objective) or 0.0)
    return status, obj, obj if status == "optimal" else math.nan, values


def _empty(solver: str, status: Status, elapsed: float) -> Plan:
    return Plan(_solver_name(solver), status, None, None, None, elapsed, None, {}, {}, {})


def plan_cost(data: PlanData, beds: pd.Series) -> dict[str, float]:
    """Cost terms of a plan recomputed from its beds (independent of the solver)."""
    years = data.years
    cost = opening = closing = stability = 0.0
    w = data.weights
    reference = 0.0
    for key, row in rows(data.pairs):
        p, f = str(key[0]), str(key[1])
        per_bed_year = int(row["cost_per_bed_year"])
        series = [int(beds[(p, f, y)]) for y in years]
        cost += per_bed_year * sum(series[1:])
        for a, c in itertools.pairwise(series):
            opening += w["opening"] * max(0, c - a)
            closing += w["closing"] * max(0, a - c)
            stability += w["stability"] * abs(c - a)
        for y, value in zip(years[1:], series[1:], strict=True):
            agreed = data.reference.get((p, f, y))
            if agreed is not None:
                reference += data.reference_weight * abs(value - agreed)
    return {
        "beds": cost,
        "opening": opening,
        "closing": closing,
        "stability": stability,
        "reference": reference,
    }


def beds_by_form(beds: pd.Series) -> pd.DataFrame:
    """Total beds per care form (rows) and year (columns)."""
    table = beds.groupby(level=["care_form", "year"]).sum().unstack("year")
    return pd.DataFrame(table)


def target_values(data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Every target in every year it applies: bound, planned beds, met (from the numbers)."""
    totals = {
        (str(k[0]), int(k[1])): int(v)
        for k, v in items(beds.groupby(level=["care_form", "year"]).sum())
    }
    rows = []
    for t in data.targets:
        for y in data.years[1:]:
            if y < t.year:
                continue
            planned = sum(totals.get((f, y), 0) for f in t.care_forms)
            row = t.judged_row(y, planned)
            rows.append({("planned_beds" if k == "beds" else k): v for k, v in row.items()})
    return pd.DataFrame(rows)
