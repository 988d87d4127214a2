"""Check a plan against the rules and judge it against the needs and targets.

A plan an ontwikkeltafel discusses is not always the optimiser's: a planner moves beds by
hand ("P04 keeps 30 residential places in 2026"), and an older version is looked at again
when the needs change. Before anyone agrees to it, the table wants to know two things, and
they are different in kind:

rules (:attr:`PlanCheck.rules`)
    what a plan *must* obey, or it is not a plan the providers can carry out: the first
    year is the 0-meting; a provider changes a care form by at most ``max_change`` beds a
    year; a group has 0 or at least ``min_group`` beds; no beds where the provider does
    not offer the form; at most ``upper`` beds; pinned agreements hold; and, when the plan
    was made close to an agreed plan with a limit, at most that many beds from it. Each
    broken rule is a :class:`~capaciteit.errors.Problem` naming the cell
    (``P04/residentieel/2026``), the setting behind the rule and the fix, in Dutch.
judgements (:attr:`PlanCheck.targets`, :attr:`PlanCheck.need`, :attr:`PlanCheck.recruitment`,
:attr:`PlanCheck.budget`, :attr:`PlanCheck.ratio`, :attr:`PlanCheck.ligduur`)
    what a plan *should* reach, where missing is allowed but must be said: each target in
    each year it applies, the need per care form and year, the places a form grows by per
    year against what can be recruited, what the beds and ambulant places cost against the
    budget path, the ambulant places per verblijf bed against the ratio targets, and the
    mean stay of a form against its ligduur targets. The optimiser treats these as elastic
    too; a plan that misses them is still a plan, with its shortfall on the table.

The ombouw rules as the README states them:

budget
    in every later year with a ceiling, the plan's beds and places (verblijf and ambulant
    pairs) times their yearly tariff add up to at most the ceiling (whole euros).
ratio
    ambulant places >= the ratio times the verblijf beds, the ratio taken as the fraction
    with a denominator of at most 10.000 that reads as the decimal given (0,1 = 1/10).
ligduur
    a provider with ``x`` beds and mean stay ``los`` ends ``x / los`` stays a day, so the
    mean stay of a form is ``sum x / sum (x / los)``. The rule judged is the linear form of
    "mean <= T" in whole numbers: ``sum_p round(10.000 x (los_p - T) / los_p) x_p <= 0``
    (Python's ``round``), which differs from the exact comparison only for a mean within
    ``T / 19.999`` of ``T``; the mean itself is reported beside it.

The checks are written from the rules as the README states them, not from the model the
optimiser builds, so the two can be tested against each other: the optimiser's plan breaks
no rule, and its judgements equal those in its ``plan.json``.

:func:`edit_plan` changes cells of a plan and recomputes their cost, refusing an edit
that names no cell of the plan, the 0-meting year, or impossible beds, with every problem
listed at once.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pandas as pd

from capaciteit.core import nl
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.optimisation.afbouw import RATIO_DENOMINATOR, PlanData
from capaciteit.optimisation.ombouw import RATIO_TARGET_COLUMNS
from capaciteit.plans.table import MAX_BEDS, need_of, whole

__all__ = ["PlanCheck", "check_plan", "edit_plan", "need_of"]

FILE = "plan"
"""The ``file`` of every problem with a plan (a stored plan has no file name)."""
TARGET_COLUMNS = [
    "target",
    "care_forms",
    "year",
    "kind",
    "share_of_0_meting",
    "baseline_beds",
    "bound_beds",
    "planned_beds",
    "met",
]
NEED_COLUMNS = ["care_form", "year", "need_beds", "planned_beds", "short_beds"]
RECRUITMENT_COLUMNS = ["care_form", "year", "new_places", "limit", "over"]
BUDGET_COLUMNS = ["year", "budget_eur", "spend_eur", "over_eur", "met"]
RATIO_COLUMNS = RATIO_TARGET_COLUMNS
"""A ratio target per year: the same table as the plan's own (:mod:`.ombouw`)."""
LIGDUUR_COLUMNS = [
    "target",
    "care_form",
    "year",
    "max_mean_days",
    "beds",
    "mean_days",
    "scaled_sum",
    "met",
]
LIGDUUR_SCALE = 10_000
"""The ligduur rule's scale, as the README states it."""


@dataclass(frozen=True)
class PlanCheck:
    """A plan checked against its rules and judged against needs, targets and recruitment.

    Attributes
    ----------
    rules
        Every hard rule the plan breaks, one :class:`Problem` per cell and rule
        (``file="plan"``, ``id="P04/residentieel/2026"``, ``column`` the setting behind
        the rule: ``0-meting``, ``afbouw.max_change_per_year``, ``afbouw.min_group_size``,
        ``afbouw.allow_new``, ``afbouw.pinned``, ``afbouw.reference.max_change_beds``, or
        ``plan`` for a cell missing or unknown), Dutch message and fix.
    targets
        Each target in each later year from its year on: ``target, care_forms, year,
        kind, share_of_0_meting, baseline_beds, bound_beds, planned_beds, met`` (the
        columns of plan.json's ``targets``).
    need
        Per care form and year with a need: ``care_form, year, need_beds, planned_beds,
        short_beds`` (beds below the need, 0 when met).
    recruitment
        Per care form with a recruitment limit and later year: ``care_form, year,
        new_places`` (the increases per provider added up), ``limit``, ``over`` (places
        beyond the limit, 0 within).
    cost_eur
        Beds times the yearly tariff of each pair, per year (the 0-meting year included).
    budget
        Per later year with a budget ceiling: ``year, budget_eur, spend_eur, over_eur``
        (euros above the ceiling, 0 within), ``met``.
    ratio
        Per ratio target and later year from its year on: ``target, year,
        min_ambulant_per_verblijf, verblijf_beds, ambulant_places, required_places``
        (the ratio times the beds, rounded up) and ``met``.
    ligduur
        Per ligduur target and later year from its year on: ``target, care_form, year,
        max_mean_days, beds, mean_days`` (the harmonic mean; empty without beds),
        ``scaled_sum`` (the left side of the rule) and ``met``.
    """

    rules: list[Problem]
    targets: pd.DataFrame
    need: pd.DataFrame
    recruitment: pd.DataFrame
    cost_eur: dict[int, int]
    budget: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BUDGET_COLUMNS))
    ratio: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=RATIO_COLUMNS))
    ligduur: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LIGDUUR_COLUMNS))

    @property
    def ok(self) -> bool:
        """Whether the plan breaks no rule (needs and targets may still be missed)."""
        return not self.rules


def _cell_id(p: str, f: str, y: int) -> str:
    return f"{p}/{f}/{y}"


def _beds_of(plan: pd.DataFrame) -> dict[tuple[str, str, int], int]:
    return {
        (str(k[0]), str(k[1]), int(k[2])): int(v)
        for k, v in zip(plan.index, plan["beds"], strict=True)
    }


def edit_plan(
    plan: pd.DataFrame, changes: Mapping[tuple[str, str, int], int], data: PlanData
) -> pd.DataFrame:
    """Return a copy of ``plan`` with the ``changes`` to its cells' beds.

    Parameters
    ----------
    plan
        A plan frame (:func:`~capaciteit.plans.table.plan_frame`).
    changes
        New beds per (provider, care_form, year).
    data
        The plan's data: its years (the first, the 0-meting, cannot be edited) and the
        yearly tariff per pair, from which a changed cell's ``cost_eur`` is recomputed as
        beds x ``cost_per_bed_year`` (as the afbouw run computes it).

    Raises
    ------
    InvalidInputError
        Listing every problem: a cell not in the plan (or without a tariff in ``data``),
        a change in the 0-meting year, beds that are not whole, negative or above 100.000.
    """
    problems: list[Problem] = []
    present = set(_beds_of(plan))
    table = data.table
    first = data.years[0] if data.years else None
    accepted: dict[tuple[str, str, int], int] = {}
    for key, value in changes.items():
        try:
            p, f, y = str(key[0]), str(key[1]), int(key[2])
        except (TypeError, ValueError, IndexError):
            problems.append(
                Problem(
                    FILE,
                    f"{key!r} is geen cel (aanbieder, zorgvorm, jaar).",
                    "Geef elke wijziging als aanbieder, zorgvorm en jaar.",
                )
            )
            continue
        cell = _cell_id(p, f, y)
        bad = False
        if (p, f, y) not in present:
            problems.append(
                Problem(
                    FILE,
                    f"de cel {cell} staat niet in het plan.",
                    "Kies een aanbieder, zorgvorm en jaar uit het plan.",
                    column="beds",
                    id=cell,
                )
            )
            bad = True
        elif (p, f) not in table:
            problems.append(
                Problem(
                    FILE,
                    f"{p} heeft geen {f} in de plangegevens, dus de kosten van {cell} zijn "
                    "onbekend.",
                    "Controleer of het plan bij dit scenario hoort (aanbieders en zorgvormen "
                    "van het model, afbouw.allow_new).",
                    column="beds",
                    id=cell,
                )
            )
            bad = True
        elif y == first:
            problems.append(
                Problem(
                    FILE,
                    f"{y} is het jaar van de 0-meting; die bedden liggen vast.",
                    "Wijzig een later jaar, of verbeter de 0-meting in beds.csv van het model.",
                    column="beds",
                    id=cell,
                )
            )
            bad = True
        beds = whole(value) if not isinstance(value, str) else None
        if beds is None:
            problems.append(
                Problem(
                    FILE,
                    f"{value!r} is geen geheel aantal bedden.",
                    "Geef de bedden als geheel getal (0 of meer).",
                    column="beds",
                    id=cell,
                )
            )
        elif beds < 0:
            problems.append(
                Problem(
                    FILE,
                    f"{nl.number(beds)} bedden is negatief.",
                    "Geef 0 of meer bedden.",
                    column="beds",
                    id=cell,
                )
            )
        elif beds > MAX_BEDS:
            problems.append(
                Problem(
                    FILE,
                    f"{nl.number(beds)} bedden is meer dan {nl.number(MAX_BEDS)} in één cel.",
                    f"Geef hoogstens {nl.number(MAX_BEDS)} bedden.",
                    column="beds",
                    id=cell,
                )
            )
        elif not bad:
            accepted[(p, f, y)] = beds
    if problems:
        raise InvalidInputError("De wijziging van het plan", problems)
    out = plan.copy()
    for (p, f, y), beds in accepted.items():
        out.loc[(p, f, y), "beds"] = beds
        out.loc[(p, f, y), "cost_eur"] = beds * table[(p, f)]["cost_per_bed_year"]
    return out.astype({"beds": "int64", "cost_eur": "int64"})


def _rules(
    data: PlanData, x: Mapping[tuple[str, str, int], int], label: Mapping[str, str]
) -> list[Problem]:
    """Every hard rule broken by ``x``, cell by cell."""
    problems: list[Problem] = []
    years = data.years
    first = years[0]
    table = data.table
    for (p, f, y), beds in sorted(x.items()):
        if (p, f) not in table or y not in years:
            problems.append(
                Problem(
                    FILE,
                    f"de cel {_cell_id(p, f, y)} ({nl.plural(beds, 'plaats', 'plaatsen')}) hoort "
                    f"niet bij dit plan: {p} heeft geen {label.get(f, f)} in de plangegevens, of "
                    f"{y} is geen planjaar ({years[0]}–{years[-1]}).",
                    "Haal de cel weg, of voeg het paar toe aan het model of afbouw.allow_new.",
                    column="plan",
                    id=_cell_id(p, f, y),
                )
            )
    for (p, f), row in table.items():
        name = label.get(f, f)
        prefix = f"{p}, {name}"
        for y in years:
            if (p, f, y) not in x:
                problems.append(
                    Problem(
                        FILE,
                        f"{prefix}, {y}: de cel ontbreekt in het plan.",
                        f"Geef de bedden van {p} voor {name} in {y}.",
                        column="plan",
                        id=_cell_id(p, f, y),
                    )
                )
        for y in years:
            if (p, f, y) not in x:
                continue
            beds = x[(p, f, y)]
            cell = _cell_id(p, f, y)
            where = f"{prefix}, {y}"
            if y == first:
                if beds != row["beds0"]:
                    problems.append(
                        Problem(
                            FILE,
                            f"{where}: het plan heeft {nl.number(beds)} plaatsen in het jaar "
                            f"van de 0-meting, die {nl.number(row['beds0'])} telde.",
                            f"Zet {y} op {nl.number(row['beds0'])}: de 0-meting ligt vast.",
                            column="0-meting",
                            id=cell,
                        )
                    )
                continue
            pin = data.pins.get((p, f, y))
            if pin is not None and beds != pin:
                problems.append(
                    Problem(
                        FILE,
                        f"{where}: afgesproken zijn {nl.number(pin)} plaatsen "
                        f"(afbouw.pinned), het plan heeft er {nl.number(beds)}.",
                        f"Zet de cel op {nl.number(pin)}, of pas de afspraak aan.",
                        column="afbouw.pinned",
                        id=cell,
                    )
                )
            group = row["min_group"]
            if 0 < beds < group:
                problems.append(
                    Problem(
                        FILE,
                        f"{where}: {nl.number(beds)} plaatsen is minder dan een groep "
                        f"({nl.number(group)}).",
                        f"Kies 0 of minstens {nl.number(group)} plaatsen.",
                        column="afbouw.min_group_size",
                        id=cell,
                    )
                )
            if pin is None and not row["open_to_beds"] and beds > 0:
                problems.append(
                    Problem(
                        FILE,
                        f"{where}: {p} biedt {name} niet aan, maar het plan geeft "
                        f"{nl.number(beds)} plaatsen.",
                        f"Zet de cel op 0, of zet {p}/{f} in afbouw.allow_new.",
                        column="afbouw.allow_new",
                        id=cell,
                    )
                )
            if pin is None and beds > row["upper"]:
                problems.append(
                    Problem(
                        FILE,
                        f"{where}: {nl.number(beds)} plaatsen is meer dan de "
                        f"{nl.number(row['upper'])} die {p} kan hebben (0-meting plus de "
                        "maximale verandering per jaar in elk planjaar).",
                        f"Geef hoogstens {nl.number(row['upper'])} plaatsen.",
                        column="afbouw.max_change_per_year",
                        id=cell,
                    )
                )
            agreed = data.reference.get((p, f, y))
            limit = data.reference_max_change
            if agreed is not None and limit is not None and abs(beds - agreed) > limit:
                problems.append(
                    Problem(
                        FILE,
                        f"{where}: de afspraak is {nl.number(agreed)} plaatsen; het plan wijkt "
                        f"{nl.number(abs(beds - agreed))} af, meer dan de toegestane "
                        f"{nl.number(limit)}.",
                        f"Houd de cel tussen {nl.number(max(0, agreed - limit))} en "
                        f"{nl.number(agreed + limit)}, of verhoog afbouw.reference."
                        "max_change_beds.",
                        column="afbouw.reference.max_change_beds",
                        id=cell,
                    )
                )
        change = row["max_change"]
        for prev, y in itertools.pairwise(years):
            if (p, f, prev) not in x or (p, f, y) not in x:
                continue
            a, b = x[(p, f, prev)], x[(p, f, y)]
            if abs(b - a) > change:
                problems.append(
                    Problem(
                        FILE,
                        f"{prefix}, {y}: van {nl.number(a)} in {prev} naar {nl.number(b)} is "
                        f"een verandering van {nl.signed(b - a)}, meer dan de "
                        f"{nl.number(change)} per jaar die {p} aankan.",
                        f"Houd {y} tussen {nl.number(max(0, a - change))} en "
                        f"{nl.number(a + change)}, of spreid de verandering over meer jaren.",
                        column="afbouw.max_change_per_year",
                        id=_cell_id(p, f, y),
                    )
                )
    return problems


def check_plan(
    data: PlanData, plan: pd.DataFrame, names: Mapping[str, str] | None = None
) -> PlanCheck:
    """Check ``plan`` against the rules of ``data`` and judge its needs and targets.

    Parameters
    ----------
    data
        The plan's data (:func:`~capaciteit.optimisation.afbouw_plan.plan_data` of the
        scenario and the need the plan was made for, e.g. ``need_of`` of its run).
    plan
        A plan frame (:func:`~capaciteit.plans.table.plan_frame`).
    names
        Dutch names of the care forms for the messages (default: their ids).
    """
    label = dict(names or {})
    x = _beds_of(plan)
    rules = _rules(data, x, label)
    years = data.years
    later = years[1:]
    totals: dict[tuple[str, int], int] = {}
    for (_, f, y), beds in x.items():
        totals[(f, y)] = totals.get((f, y), 0) + beds
    target_rows: list[dict[str, Any]] = []
    for t in data.targets:
        for y in later:
            if y < t.year:
                continue
            planned = sum(totals.get((f, y), 0) for f in t.care_forms)
            met = planned <= t.bound_beds if t.kind == "max" else planned >= t.bound_beds
            target_rows.append(
                {
                    "target": t.label or t.describe(),
                    "care_forms": " + ".join(t.care_forms),
                    "year": y,
                    "kind": t.kind,
                    "share_of_0_meting": t.share,
                    "baseline_beds": t.baseline_beds,
                    "bound_beds": t.bound_beds,
                    "planned_beds": planned,
                    "met": met,
                }
            )
    order = {f: i for i, f in enumerate(data.forms)}
    need_rows = []
    for (f, y), need in sorted(
        data.need.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][0], kv[0][1])
    ):
        if y not in later:
            continue
        planned = totals.get((f, y), 0)
        need_rows.append(
            {
                "care_form": f,
                "year": y,
                "need_beds": need,
                "planned_beds": planned,
                "short_beds": max(0, need - planned),
            }
        )
    recruitment_rows = []
    for f, limit in data.recruitment.items():
        providers = [p for p, g in data.table if g == f]
        for prev, y in itertools.pairwise(years):
            new = sum(
                max(0, x.get((p, f, y), 0) - x.get((p, f, prev), 0))
                for p in providers
                if (p, f, y) in x and (p, f, prev) in x
            )
            recruitment_rows.append(
                {
                    "care_form": f,
                    "year": y,
                    "new_places": new,
                    "limit": limit,
                    "over": max(0, new - limit),
                }
            )
    cost: dict[int, int] = {y: 0 for y in years}
    for (p, f, y), beds in x.items():
        if (p, f) in data.table and y in cost:
            cost[y] += beds * data.table[(p, f)]["cost_per_bed_year"]
    return PlanCheck(
        rules=rules,
        targets=pd.DataFrame(target_rows, columns=TARGET_COLUMNS),
        need=pd.DataFrame(need_rows, columns=NEED_COLUMNS),
        recruitment=pd.DataFrame(recruitment_rows, columns=RECRUITMENT_COLUMNS),
        cost_eur=cost,
        budget=_budget_rows(data, cost),
        ratio=_ratio_rows(data, x),
        ligduur=_ligduur_rows(data, x),
    )


def _budget_rows(data: PlanData, cost: Mapping[int, int]) -> pd.DataFrame:
    """Judge each later year's cost against its budget ceiling."""
    rows = []
    for y in data.years[1:]:
        ceiling = data.budget.get(y)
        if ceiling is None:
            continue
        spend = int(cost.get(y, 0))
        over = max(0, spend - ceiling)
        rows.append(
            {
                "year": y,
                "budget_eur": ceiling,
                "spend_eur": spend,
                "over_eur": over,
                "met": not over,
            }
        )
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)


def _ratio_rows(data: PlanData, x: Mapping[tuple[str, str, int], int]) -> pd.DataFrame:
    """Judge the ambulant places per verblijf bed against each ratio target."""
    beds: dict[int, int] = {}
    places: dict[int, int] = {}
    for (p, f, y), value in x.items():
        if (p, f) not in data.table:
            continue
        kind = data.kinds.get(f, "verblijf")
        if kind == "verblijf":
            beds[y] = beds.get(y, 0) + value
        elif kind == "ambulant":
            places[y] = places.get(y, 0) + value
    rows = []
    for t in data.ratio_targets:
        ratio = Fraction(repr(float(t.min_ambulant_per_verblijf)))
        ratio = ratio.limit_denominator(RATIO_DENOMINATOR)
        for y in data.years[1:]:
            if y < t.year:
                continue
            required = math.ceil(ratio * beds.get(y, 0))
            rows.append(
                {
                    "target": t.label or t.describe(),
                    "year": y,
                    "min_ambulant_per_verblijf": t.min_ambulant_per_verblijf,
                    "verblijf_beds": beds.get(y, 0),
                    "ambulant_places": places.get(y, 0),
                    "required_places": required,
                    "met": places.get(y, 0) >= required,
                }
            )
    return pd.DataFrame(rows, columns=RATIO_COLUMNS)


def _ligduur_rows(data: PlanData, x: Mapping[tuple[str, str, int], int]) -> pd.DataFrame:
    """Judge each ligduur target: the scaled rule, with the harmonic mean beside it."""
    rows = []
    for t in data.los_targets:
        for y in data.years[1:]:
            if y < t.year:
                continue
            cells = {
                p: v
                for (p, f, yy), v in x.items()
                if f == t.care_form and yy == y and (p, f) in data.table
            }
            total = sum(cells.values())
            stays = sum(v / t.los_days[(p, y)] for p, v in cells.items() if v > 0)
            scaled = sum(
                round(LIGDUUR_SCALE * (t.los_days[(p, y)] - t.max_mean_days) / t.los_days[(p, y)])
                * v
                for p, v in cells.items()
            )
            rows.append(
                {
                    "target": t.label or t.describe(),
                    "care_form": t.care_form,
                    "year": y,
                    "max_mean_days": t.max_mean_days,
                    "beds": total,
                    "mean_days": total / stays if total > 0 else None,
                    "scaled_sum": scaled,
                    "met": scaled <= 0,
                }
            )
    return pd.DataFrame(rows, columns=LIGDUUR_COLUMNS)
