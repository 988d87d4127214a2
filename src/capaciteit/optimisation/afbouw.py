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
    or ``>= bound`` from their year on (``TARGET_PENALTY``); and the ombouw rules below.
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

Ombouw: beds and ambulant places in one plan
    The transformation moves care "van verblijf naar ambulant": the money of a closed bed
    pays for ambulant places. So the plan decides the places of *ambulant* care forms per
    provider and year too (``kinds``; an ambulant pair is an ordinary pair of the model:
    0-meting, change per year, recruitment, need), while 18+ housing (``woonplek``) is no
    part of it (the Wmo pays for it; it keeps the scenario's places). Three elastic rules
    tie the forms together, all in whole numbers so that both solvers stay exact:

    budget path (``budget``, ``BUDGET_PENALTY`` per euro)
        ``sum_{p,f} cost_per_bed_year[p,f] x[p,f,y] - s_y <= budget_y`` for every later
        year with a ceiling; ``s_y`` is the euros over it. Tariffs per bed-year are whole
        euros already, so ``s_y`` is a whole number of euros. Ranked below the needs and
        above the targets: a child who needs a bed gets it even when the budget is short
        (the explanation says by how much), but no target is bought with money the
        region does not have. With tariffs between €1.000 and €1.000.000 per bed-year
        (€2,74-€2.740 a day) the ranking holds bed by bed: a bed short of a need costs
        ``NEED_PENALTY`` = 10^11, more than the at most 10^6 x 10^5 euros of budget
        penalty its bed-year adds; a bed of a target costs ``TARGET_PENALTY`` = 10^8, less
        than the more than 10^3 x 10^5 of budget penalty a bed-year over the budget adds.
        Below one bed's tariff the euros weigh less: a bed of a target weighs as €1.000
        over the budget, so a plan may go up to €1.000 per target bed it keeps over the
        budget rather than miss that bed (the explanation says so). A strict order would
        need a penalty per euro above 10^8 and then a need penalty above 10^14: past what
        CBC's doubles resolve to the euro in these objectives.
    ratio ambulant : verblijf (``ratio_targets``, ``TARGET_PENALTY`` per place)
        ``den x sum_amb x + s >= num x sum_verblijf x`` from the target's year on, with
        the ratio as the fraction ``num/den`` (denominator at most ``RATIO_DENOMINATOR``,
        exact for ratios with up to four decimals: 0,1 = 1/10); ``s`` is the shortfall
        in 1/den of an ambulant place and costs ``TARGET_PENALTY / den`` a unit
        (:func:`ratio_unit_penalty`). Pro rata rather than in whole places: a whole-place
        slack is a staircase in the beds (one step per ``den / num`` beds) that the LP
        bound cannot see, and proving such plans optimal took minutes instead of seconds.
    ligduur (``los_targets``, ``TARGET_PENALTY`` per unit)
        the mean stay of a form over its providers, where a provider with ``x`` beds and
        mean stay ``los_p`` has ``x / los_p`` stays per day in the long run, is the
        bed-weighted harmonic mean ``sum_p x_p / sum_p (x_p / los_p)``; "mean <= T" is
        the linear ``sum_p x_p (1 - T / los_p) <= 0``. Scaled to whole numbers:
        ``sum_p c_p x_p - LOS_SCALE x s <= 0`` with ``c_p = round(LOS_SCALE x (los_p - T)
        / los_p)`` (Python's ``round``: to the nearest, halves to even) and ``s`` in whole
        units of ``LOS_SCALE`` (one bed's worth). The rounding moves the verdict only for
        a mean within ``T / (2 x LOS_SCALE - 1)`` of ``T`` (0,0125 days at 250 days);
        :func:`los_coefficient` is the rule, and the checker applies the same one. A
        provider's own target cannot be steered by beds (only the levers change a stay);
        :mod:`capaciteit.optimisation.ombouw` judges those.

Care forms that share no target are independent problems (needs, recruitment, costs and
the rules are per form): :func:`solve_plan` solves each group of forms linked by targets
on its own and adds the results up, which gives the same optimum in less time. A budget
links every form of the plan, a ratio target every verblijf and ambulant form.

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
from fractions import Fraction
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
BUDGET_PENALTY = 10**5
"""Per euro over a year's budget: below a bed of need, above a bed of a target (module)."""
RATIO_DENOMINATOR = 10_000
"""The largest denominator of a ratio target's fraction (exact up to four decimals)."""
LOS_SCALE = 10_000
"""Ligduur coefficients in 1/LOS_SCALE of a bed (see :func:`los_coefficient`)."""
VERBLIJF, AMBULANT = "verblijf", "ambulant"
SolverName = Literal["ortools", "pulp"]


def ratio_fraction(ratio: float) -> tuple[int, int]:
    """Return a ratio as the whole numbers ``(num, den)`` of the plan's rule.

    The shortest decimal that reads as the float (``0.1`` -> 1/10), as a fraction with a
    denominator of at most :data:`RATIO_DENOMINATOR`.
    """
    value = Fraction(repr(float(ratio))).limit_denominator(RATIO_DENOMINATOR)
    return value.numerator, value.denominator


def ratio_unit_penalty(target: RatioTarget) -> int:
    """Return the penalty per 1/den ambulant place short: ``TARGET_PENALTY / den``, rounded.

    A whole place short costs ``TARGET_PENALTY`` (to within 1/20.000 for a denominator
    that does not divide 10^8), as a bed of a target does.
    """
    return round(TARGET_PENALTY / target.fraction[1])


def los_coefficient(los_days: float, max_mean_days: float) -> int:
    """Return ``round(LOS_SCALE x (los - T) / los)``: a bed's weight in a ligduur rule.

    ``sum_p c_p x_p <= 0`` is "the bed-weighted harmonic mean stay is at most T" up to the
    rounding (see the module).
    """
    return round(LOS_SCALE * (los_days - max_mean_days) / los_days)


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
class RatioTarget:
    """At least ``min_ambulant_per_verblijf`` ambulant places per verblijf bed from ``year``."""

    year: int
    min_ambulant_per_verblijf: float
    label: str = ""

    @property
    def fraction(self) -> tuple[int, int]:
        """The ratio as ``(num, den)`` (:func:`ratio_fraction`)."""
        return ratio_fraction(self.min_ambulant_per_verblijf)

    def required_places(self, verblijf_beds: int) -> int:
        """Ambulant places the target asks for next to ``verblijf_beds`` beds (rounded up)."""
        num, den = self.fraction
        return -(-num * verblijf_beds // den)

    def describe(self) -> str:
        """Describe the target in Dutch words: ``1 ambulante plek per 10 bedden``."""
        num, den = self.fraction
        if num == 1:
            per = f"1 ambulante plek per {nl.number(den)} bedden"
        else:
            per = f"{nl.number(self.min_ambulant_per_verblijf, 4).rstrip('0').rstrip(',')} "
            per += "ambulante plekken per bed"
        return f"minstens {per} vanaf {self.year}"


@dataclass(frozen=True)
class LosTarget:
    """Mean stay of ``care_form`` over its providers at most ``max_mean_days`` from ``year``.

    ``los_days`` holds the mean stay per (provider, year) the plan weighs its beds with
    (the scenario's, levers applied), for every provider of the form and later year.
    """

    care_form: str
    year: int
    max_mean_days: float
    label: str
    los_days: dict[tuple[str, int], float]

    def coefficient(self, provider: str, year: int) -> int:
        """Return a bed's weight in the rule (:func:`los_coefficient`)."""
        return los_coefficient(self.los_days[(provider, year)], self.max_mean_days)

    def describe(self) -> str:
        """Describe the target in Dutch words."""
        return (
            f"gemiddelde ligduur {self.care_form} hoogstens "
            f"{nl.number(self.max_mean_days)} dagen vanaf {self.year}"
        )


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
    kinds
        The kind of each care form: ``verblijf`` (beds) or ``ambulant`` (places); a form
        not named is ``verblijf``. 18+ housing (``woonplek``) is never in the plan.
    budget
        The most the plan's beds and places may cost per later year (whole euros); years
        not named have no ceiling.
    budget_neutral_eur
        With a budget-neutral path: what the 0-meting's beds and places cost a year.
    ratio_targets
        At least so many ambulant places per verblijf bed, from a year on.
    los_targets
        Ligduur targets on a care form of the plan (a provider's own are judged elsewhere).
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
    kinds: dict[str, str] = field(default_factory=dict)
    budget: dict[int, int] = field(default_factory=dict)
    budget_neutral_eur: int | None = None
    ratio_targets: list[RatioTarget] = field(default_factory=list)
    los_targets: list[LosTarget] = field(default_factory=list)

    def kind(self, care_form: str) -> str:
        """Return the kind of ``care_form`` (``verblijf`` unless :attr:`kinds` says otherwise)."""
        return self.kinds.get(care_form, VERBLIJF)

    @property
    def verblijf_forms(self) -> list[str]:
        """Care forms of the plan with beds."""
        return [f for f in self.forms if self.kind(f) == VERBLIJF]

    @property
    def ambulant_forms(self) -> list[str]:
        """Care forms of the plan with ambulant places."""
        return [f for f in self.forms if self.kind(f) == AMBULANT]

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
    ``recruitment_slack`` by (care_form, year); ``budget_slack`` by year (euros over the
    budget); ``ratio_slack`` and ``los_slack`` by ``index x 10 000 + year`` (the
    shortfall ``num x beds - den x places`` in 1/den ambulant places, see
    :class:`RatioTarget`; whole units of :data:`LOS_SCALE` over the ligduur rule).
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
    budget_slack: dict[int, int] = field(default_factory=dict)
    ratio_slack: dict[int, int] = field(default_factory=dict)
    los_slack: dict[int, int] = field(default_factory=dict)

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
                *self.budget_slack.values(),
                *self.ratio_slack.values(),
                *self.los_slack.values(),
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
    def __init__(self, threads: int = 1) -> None:
        import pulp

        self.threads = threads
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
    budget_slack: dict[int, Any] = field(default_factory=dict)
    ratio_slack: dict[int, Any] = field(default_factory=dict)
    los_slack: dict[int, Any] = field(default_factory=dict)


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
    top_beds: dict[tuple[str, str, int], int] = {}
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
            if y == first:
                top_beds[(p, f, y)] = beds0
            else:
                pin = data.pins.get((p, f, y))
                top_beds[(p, f, y)] = pin if pin is not None else (upper if allowed else 0)
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
    budget_slack, ratio_slack, los_slack = _ombouw_rules(data, b, forms, x, top_beds, pairs_of)
    penalty = b.total(
        [NEED_PENALTY * s for s in need_slack.values()]
        + [TARGET_PENALTY * s for s in target_slack.values()]
        + [RECRUITMENT_PENALTY * s for s in recruitment_slack.values()]
        + [BUDGET_PENALTY * s for s in budget_slack.values()]
        + [ratio_unit_penalty(data.ratio_targets[k // 10_000]) * s for k, s in ratio_slack.items()]
        + [TARGET_PENALTY * s for s in los_slack.values()]
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
        budget_slack,
        ratio_slack,
        los_slack,
    )


def _ombouw_rules(
    data: PlanData,
    b: _Backend,
    forms: tuple[str, ...],
    x: dict[tuple[str, str, int], Any],
    most: dict[tuple[str, str, int], int],
    pairs_of: dict[str, list[str]],
) -> tuple[dict[int, Any], dict[int, Any], dict[int, Any]]:
    """Add the budget path, the ratio and the ligduur targets (elastic); return the slacks.

    A rule is added only when every form it sums over is in ``forms`` (:func:`linked_forms`
    puts them in one group).
    """
    later = data.years[1:]
    table = data.table
    present = set(forms)
    budget_slack: dict[int, Any] = {}
    if data.budget and set(data.forms) <= present:
        for y in later:
            ceiling = data.budget.get(y)
            if ceiling is None:
                continue
            cells = [(p, f) for f in forms for p in pairs_of[f]]
            top = sum(table[c]["cost_per_bed_year"] * most[(*c, y)] for c in cells)
            s = b.int_var(0, max(0, top - ceiling), f"budget_slack_{y}")
            # the beds of one tariff summed first: the budget row is a knapsack, and
            # branching on (and cutting with) a tariff's total beats doing so on many
            # providers with the same tariff, which are interchangeable in it (example
            # with an unreachable ratio target and a binding budget: CP-SAT 5-11 s instead
            # of 19-22 s, CBC 1.4 s instead of 9-12 s)
            by_tariff: dict[int, list[tuple[str, str]]] = {}
            for c in cells:
                by_tariff.setdefault(table[c]["cost_per_bed_year"], []).append(c)
            terms = []
            for tariff, group in sorted(by_tariff.items()):
                if len(group) == 1:
                    terms.append(tariff * x[(*group[0], y)])
                    continue
                most_beds = sum(most[(*c, y)] for c in group)
                total = b.int_var(0, most_beds, f"budget_beds_{tariff}_{y}")
                b.add(total == b.total([x[(*c, y)] for c in group]))
                terms.append(tariff * total)
            b.add(b.total(terms) - s <= ceiling)
            budget_slack[y] = s
    ratio_slack: dict[int, Any] = {}
    verblijf, ambulant = data.verblijf_forms, data.ambulant_forms
    if data.ratio_targets and set(verblijf) | set(ambulant) <= present:
        for i, r in enumerate(data.ratio_targets):
            num, den = r.fraction
            for y in later:
                if y < r.year:
                    continue
                beds = [x[(p, f, y)] for f in verblijf for p in pairs_of[f]]
                places = [x[(p, f, y)] for f in ambulant for p in pairs_of[f]]
                top = sum(most[(p, f, y)] for f in verblijf for p in pairs_of[f])
                s = b.int_var(0, num * top, f"ratio_slack_{i}_{y}")
                b.add(den * b.total(places) + s >= num * b.total(beds))
                ratio_slack[i * 10_000 + y] = s
    los_slack: dict[int, Any] = {}
    for i, t in enumerate(data.los_targets):
        f = t.care_form
        if f not in present:
            continue
        for y in later:
            if y < t.year:
                continue
            weights = {p: t.coefficient(p, y) for p in pairs_of[f]}
            top = sum(max(0, c) * most[(p, f, y)] for p, c in weights.items())
            s = b.int_var(0, -(-top // LOS_SCALE), f"los_slack_{i}_{y}")
            b.add(b.total([c * x[(p, f, y)] for p, c in weights.items()]) - LOS_SCALE * s <= 0)
            los_slack[i * 10_000 + y] = s
    return budget_slack, ratio_slack, los_slack


def linked_forms(data: PlanData) -> list[tuple[str, ...]]:
    """Group the care forms linked by targets; each group is an independent problem.

    Needs, recruitment limits, costs and the rules are per care form; only a target on
    several forms (pleegzorg + gezinshuis), a budget (every form) or a ratio target (every
    verblijf and ambulant form) ties forms together.
    """
    group: dict[str, set[str]] = {f: {f} for f in data.forms}
    links = [set(t.care_forms) for t in data.targets]
    if data.budget:
        links.append(set(data.forms))
    if data.ratio_targets:
        links.append(set(data.verblijf_forms) | set(data.ambulant_forms))
    for link in links:
        merged = link.union(*(group.get(f, set()) for f in link))
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
    cbc_threads: int = 1,
) -> Plan:
    """Solve the afbouw model; ``lp_file`` writes the PuLP model for review.

    Each group of :func:`linked_forms` is solved on its own, with a share of the time limit
    in proportion to its number of (provider, care form) pairs; the plan is their union,
    its objective and bound their sums, optimal when every group is. ``gap`` is the
    relative optimality gap at which the solvers stop (0: prove optimal). ``workers``:
    CP-SAT's search workers; ``cbc_threads``: CBC's threads (benchmarks pass the same
    number to both).
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
        part, reference = _solve_group(data, group, solver, limit, gap, workers, cbc_threads)
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
        {k: v for p in parts for k, v in p.budget_slack.items()},
        {k: v for p in parts for k, v in p.ratio_slack.items()},
        {k: v for p in parts for k, v in p.los_slack.items()},
    )


def _solve_group(
    data: PlanData,
    forms: tuple[str, ...],
    solver: SolverName,
    limit: float,
    gap: float,
    workers: int = 2,
    cbc_threads: int = 1,
) -> tuple[Plan, dict[tuple[str, int], int] | None]:
    """Solve one group of linked forms; also return the fairness reference used."""
    started = time.perf_counter()
    fair_totals: dict[tuple[str, int], int] | None = None
    if data.weights.get("fairness", 0) > 0:
        # The fairness reference: each form's total in the plan that is best without it
        # (an agreed plan included: the shares are of the totals the re-plan would choose).
        free = dataclasses.replace(data, weights={**data.weights, "fairness": 0})
        first, _ = _solve_group(free, forms, solver, limit / 2, gap, workers, cbc_threads)
        if first.beds is None:
            return dataclasses.replace(first, time_s=time.perf_counter() - started), None
        fair_totals = form_totals(first.beds)
        if unfair_beds(data, first.beds, fair_totals) == 0:
            # already fair: no plan can cost less, and its fairness term is 0
            return dataclasses.replace(first, time_s=time.perf_counter() - started), fair_totals
    backend: _Backend = _CpSat(workers) if solver == "ortools" else _Pulp(cbc_threads)
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
        {k: round(values[v]) for k, v in built.budget_slack.items()},
        {k: round(values[v]) for k, v in built.ratio_slack.items()},
        {k: round(values[v]) for k, v in built.los_slack.items()},
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
        *built.budget_slack.values(),
        *built.ratio_slack.values(),
        *built.los_slack.values(),
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
    cbc = cbc_solver(limit, gap)
    if backend.threads > 1:
        cbc.optionsDict["threads"] = backend.threads
    if built.budget_slack:
        # CBC's preprocessing loses its way on a budget row that fits to the euro (a
        # knapsack over every tariff): the example with a binding budget was not proven
        # in 30 s with it, and in 0.1 s without; without a budget it helps (bench/README)
        cbc.options = [*cbc.options, "preprocess off"]
    prob.solve(cbc)
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
