"""Ombouw in the afbouw plan: where the money of closed beds goes, the ratio and the ligduur.

An ontwikkeltafel that closes beds wants to see the money move: "het budget achter de
afbouw" becomes "budget voor ambulante alternatieven". Think of one purse per provider:
what its verblijf beds cost at the 0-meting goes in, what they cost in a plan year comes
out; the difference is *freed* (negative when beds grow). Ambulant places bought on top of
the 0-meting's are *re-spent*; what is left is *remaining*. So per provider and year

    freed_eur     = sum_verblijf tariff x (beds at the 0-meting - beds that year)
    respent_eur   = sum_ambulant tariff x (places that year - places at the 0-meting)
    remaining_eur = freed_eur - respent_eur

and, summed over the region, ``remaining_eur = spend at the 0-meting - spend that year``:
a budget-neutral plan is one whose remaining money is never below 0. Tariffs are the
plan's whole euros per bed-year (``cost_per_bed_year``), so every figure is a whole number
and the sums balance exactly. 18+ housing (``woonplek``) is no part of the plan.

Two KPIs of the regions go with it: the *ratio* ambulant places per verblijf bed per year,
and the *ligduur*: the mean stay of a form over its providers, weighted as the plan's beds
produce stays. A provider with ``x`` beds and mean stay ``los`` ends about ``x / los``
stays a day, so the mean over the stays is the bed-weighted harmonic mean
``sum x / sum (x / los)`` (:func:`harmonic_mean_days`). Targets on it are judged here:
those on a form of the plan with the plan's rule (:func:`~capaciteit.optimisation.afbouw.
los_coefficient`); those on one provider, or on a form outside the plan, with the
scenario's stays and places, because beds cannot change them (only the levers can, and
the explanation names the lever).

Every unmet budget, ratio or ligduur target gets a Dutch sentence with the reason in the
user's terms (:func:`explain_ombouw`): "de ambulante capaciteit kan niet snel genoeg
groeien: in 2025 zijn 62 ambulante plekken nodig voor 1 per 10 bedden, maar met 12
nieuwe plekken per jaar (afbouw.recruitment_per_year) komen er hoogstens 52".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from capaciteit._pandas import items
from capaciteit.core import nl
from capaciteit.domain.model import VERBLIJF
from capaciteit.domain.scenario import Scenario
from capaciteit.optimisation.afbouw import BUDGET_PENALTY, TARGET_PENALTY, Plan, PlanData

Cell = tuple[str, str, int]
PROVIDER_COLUMNS = [
    "provider",
    "year",
    "beds_0_meting",
    "beds",
    "beds_closed",
    "beds_opened",
    "freed_eur",
    "ambulant_places_0_meting",
    "ambulant_places",
    "ambulant_places_added",
    "ambulant_places_closed",
    "respent_eur",
    "remaining_eur",
]
TOTAL_COLUMNS = [
    "year",
    "beds_closed",
    "beds_opened",
    "budget_freed_eur",
    "freed_eur",
    "ambulant_places_added",
    "ambulant_places_closed",
    "respent_eur",
    "remaining_eur",
    "spend_0_meting_eur",
    "spend_eur",
    "budget_eur",
    "over_budget_eur",
]
RATIO_COLUMNS = ["year", "verblijf_beds", "ambulant_places", "ambulant_per_verblijf"]
RATIO_TARGET_COLUMNS = [
    "target",
    "year",
    "min_ambulant_per_verblijf",
    "verblijf_beds",
    "ambulant_places",
    "required_places",
    "met",
]
LIGDUUR_COLUMNS = ["care_form", "year", "beds", "mean_days"]
LIGDUUR_TARGET_COLUMNS = [
    "target",
    "care_form",
    "provider",
    "year",
    "max_mean_days",
    "mean_days",
    "met",
    "steered_by",
]


def _cells(beds: pd.Series) -> dict[Cell, int]:
    return {(str(k[0]), str(k[1]), int(k[2])): int(v) for k, v in items(beds)}


def harmonic_mean_days(beds: Mapping[str, int], los_days: Mapping[str, float]) -> float | None:
    """Mean stay over the stays of providers with ``beds`` and mean stays ``los_days``.

    ``sum beds / sum (beds / los)``: a provider's beds produce stays in proportion to
    ``beds / los``. None when there are no beds.
    """
    total = sum(beds.values())
    if total <= 0:
        return None
    return total / sum(b / los_days[p] for p, b in beds.items() if b > 0)


# --------------------------------------------------------------------------------------
# Money: freed, re-spent, remaining
# --------------------------------------------------------------------------------------


def ombouw_providers(data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Per provider and plan year: the money of its beds and ambulant places (module).

    Columns :data:`PROVIDER_COLUMNS`: the verblijf beds at the 0-meting and that year,
    beds closed and opened against the 0-meting (per care form, added up), ``freed_eur``;
    the ambulant places likewise with ``respent_eur``; and ``remaining_eur``.
    """
    x = _cells(beds)
    table = data.table
    out: dict[tuple[str, int], dict[str, int]] = {}
    for (p, f, y), value in x.items():
        row = table[(p, f)]
        beds0, tariff = row["beds0"], row["cost_per_bed_year"]
        cell = out.setdefault((p, y), dict.fromkeys(PROVIDER_COLUMNS[2:], 0))
        if data.kind(f) == VERBLIJF:
            cell["beds_0_meting"] += beds0
            cell["beds"] += value
            cell["beds_closed"] += max(0, beds0 - value)
            cell["beds_opened"] += max(0, value - beds0)
            cell["freed_eur"] += tariff * (beds0 - value)
        else:
            cell["ambulant_places_0_meting"] += beds0
            cell["ambulant_places"] += value
            cell["ambulant_places_added"] += max(0, value - beds0)
            cell["ambulant_places_closed"] += max(0, beds0 - value)
            cell["respent_eur"] += tariff * (value - beds0)
    for cell in out.values():
        cell["remaining_eur"] = cell["freed_eur"] - cell["respent_eur"]
    rows = [{"provider": p, "year": y, **out[(p, y)]} for p, y in sorted(out)]
    return pd.DataFrame(rows, columns=PROVIDER_COLUMNS)


def ombouw_totals(data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Per plan year, the region: the sums of :func:`ombouw_providers`, spend and budget.

    Columns :data:`TOTAL_COLUMNS`: ``budget_freed_eur`` is the tariff of the closed beds
    alone (what closing frees before beds opened elsewhere are paid); ``spend_eur`` what
    the plan's beds and places cost that year, ``spend_0_meting_eur`` at the 0-meting;
    ``budget_eur`` the ceiling (empty without one) and ``over_budget_eur`` the euros above
    it (0 within).
    """
    x = _cells(beds)
    table = data.table
    spend0 = sum(r["beds0"] * r["cost_per_bed_year"] for r in table.values())
    per_provider = ombouw_providers(data, beds)
    rows = []
    for y in data.years:
        part = per_provider[per_provider["year"] == y]
        spend = _spend(data, x, y)
        closed_eur = sum(
            max(0, table[(p, f)]["beds0"] - v) * table[(p, f)]["cost_per_bed_year"]
            for (p, f, yy), v in x.items()
            if yy == y and data.kind(f) == VERBLIJF
        )
        ceiling = data.budget.get(y)
        rows.append(
            {
                "year": y,
                "beds_closed": int(part["beds_closed"].sum()),
                "beds_opened": int(part["beds_opened"].sum()),
                "budget_freed_eur": closed_eur,
                "freed_eur": int(part["freed_eur"].sum()),
                "ambulant_places_added": int(part["ambulant_places_added"].sum()),
                "ambulant_places_closed": int(part["ambulant_places_closed"].sum()),
                "respent_eur": int(part["respent_eur"].sum()),
                "remaining_eur": int(part["remaining_eur"].sum()),
                "spend_0_meting_eur": spend0,
                "spend_eur": spend,
                "budget_eur": ceiling,
                "over_budget_eur": None if ceiling is None else max(0, spend - ceiling),
            }
        )
    frame = pd.DataFrame(rows, columns=TOTAL_COLUMNS)
    for column in ("budget_eur", "over_budget_eur"):
        # whole euros, or None without a budget (not a float column of NaN)
        frame[column] = pd.Series([r[column] for r in rows], index=frame.index, dtype="object")
    return frame


# --------------------------------------------------------------------------------------
# Ratio ambulant : verblijf
# --------------------------------------------------------------------------------------


def _kind_totals(data: PlanData, x: Mapping[Cell, int]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for (_, f, y), v in x.items():
        key = (data.kind(f), y)
        out[key] = out.get(key, 0) + v
    return out


def ratio_table(data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Per plan year: verblijf beds, ambulant places and places per bed (empty: no beds)."""
    totals = _kind_totals(data, _cells(beds))
    rows = []
    for y in data.years:
        v, a = totals.get((VERBLIJF, y), 0), totals.get(("ambulant", y), 0)
        rows.append(
            {
                "year": y,
                "verblijf_beds": v,
                "ambulant_places": a,
                "ambulant_per_verblijf": a / v if v else None,
            }
        )
    return pd.DataFrame(rows, columns=RATIO_COLUMNS)


def ratio_judged(data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Each ratio target in each later year from its year on, judged from the numbers.

    ``required_places`` = the ratio (as the fraction of the plan's rule) times the
    verblijf beds, rounded up; ``met`` when the ambulant places reach it.
    """
    totals = _kind_totals(data, _cells(beds))
    rows = []
    for t in data.ratio_targets:
        for y in data.years[1:]:
            if y < t.year:
                continue
            v, a = totals.get((VERBLIJF, y), 0), totals.get(("ambulant", y), 0)
            required = t.required_places(v)
            rows.append(
                {
                    "target": t.label or t.describe(),
                    "year": y,
                    "min_ambulant_per_verblijf": t.min_ambulant_per_verblijf,
                    "verblijf_beds": v,
                    "ambulant_places": a,
                    "required_places": required,
                    "met": a >= required,
                }
            )
    return pd.DataFrame(rows, columns=RATIO_TARGET_COLUMNS)


# --------------------------------------------------------------------------------------
# Ligduur
# --------------------------------------------------------------------------------------


def ligduur_table(scenario: Scenario, data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Per verblijf form of the plan and plan year: its beds and mean stay over the stays.

    The mean is :func:`harmonic_mean_days` of the plan's beds per provider with the
    scenario's mean stay of stays starting that year (``Scenario.mean_los_days``, levers
    applied); empty for a year without beds.
    """
    x = _cells(beds)
    rows = []
    for f in data.verblijf_forms:
        for y in data.years:
            per = {p: v for (p, g, yy), v in x.items() if g == f and yy == y}
            los = {p: scenario.mean_los_days(f, p, y) for p in per}
            rows.append(
                {
                    "care_form": f,
                    "year": y,
                    "beds": sum(per.values()),
                    "mean_days": harmonic_mean_days(per, los),
                }
            )
    return pd.DataFrame(rows, columns=LIGDUUR_COLUMNS)


def ligduur_judged(scenario: Scenario, data: PlanData, beds: pd.Series) -> pd.DataFrame:
    """Every ligduur target of the scenario in each later plan year from its year on.

    ``steered_by`` says how: ``plan`` for a target on a care form of the plan (``met`` by
    the plan's rule, ``sum_p c_p x_p <= 0``; ``mean_days`` the harmonic mean of the
    plan's beds), ``scenario`` for a provider's own target (its mean stay from the
    scenario and levers) or a form outside the plan (weighted by the scenario's places).
    """
    x = _cells(beds)
    in_plan = {(t.care_form, t.year, t.max_mean_days): t for t in data.los_targets}
    rows = []
    for t in scenario.los_targets:
        label = t.label or (
            f"gemiddelde ligduur {t.care_form}"
            + (f" bij {t.provider}" if t.provider else "")
            + f" hoogstens {nl.number(t.max_mean_days)} dagen vanaf {t.year}"
        )
        for y in data.years[1:]:
            if y < t.year:
                continue
            steered = "scenario"
            if t.provider is not None:
                mean: float | None = scenario.mean_los_days(t.care_form, t.provider, y)
                met = mean is not None and mean <= t.max_mean_days
            elif t.care_form in data.forms:
                steered = "plan"
                per = {p: v for (p, g, yy), v in x.items() if g == t.care_form and yy == y}
                los = {p: scenario.mean_los_days(t.care_form, p, y) for p in per}
                mean = harmonic_mean_days(per, los)
                target = in_plan.get((t.care_form, t.year, t.max_mean_days))
                rule = (
                    sum(target.coefficient(p, y) * v for p, v in per.items())
                    if target is not None
                    else None
                )
                met = rule <= 0 if rule is not None else (mean is None or mean <= t.max_mean_days)
            else:
                capacity = scenario.capacity
                part = capacity.xs(t.care_form, level="care_form") if len(capacity) else capacity
                column = min(max(y, scenario.start_year), scenario.end_year)
                per = {str(p): int(v) for p, v in items(part[column])} if len(part) else {}
                los = {p: scenario.mean_los_days(t.care_form, p, y) for p in per}
                mean = harmonic_mean_days(per, los)
                met = mean is None or mean <= t.max_mean_days
            rows.append(
                {
                    "target": label,
                    "care_form": t.care_form,
                    "provider": t.provider,
                    "year": y,
                    "max_mean_days": t.max_mean_days,
                    "mean_days": mean,
                    "met": bool(met),
                    "steered_by": steered,
                }
            )
    return pd.DataFrame(rows, columns=LIGDUUR_TARGET_COLUMNS)


# --------------------------------------------------------------------------------------
# Why a budget, ratio or ligduur target is missed, in the user's words
# --------------------------------------------------------------------------------------


def _reach(data: PlanData, f: str, y: int) -> tuple[int, int]:
    """Beds of ``f`` in ``y`` at least and at most, by the change per year alone."""
    low = high = 0
    for (p, g), row in data.table.items():
        if g == f:
            down, up = _cell_reach(data, p, f, y, row)
            low += down
            high += up
    return low, high


def _cell_reach(data: PlanData, p: str, f: str, y: int, row: Any) -> tuple[int, int]:
    """Return the least and most beds of ``p`` in ``f`` and ``y`` (pins, change, caps)."""
    k = data.years.index(y)
    pin = data.pins.get((p, f, y))
    if pin is not None:
        return pin, pin
    top = row["upper"] if row["open_to_beds"] else 0
    up = min(top, row["beds0"] + k * row["max_change"])
    return min(up, max(0, row["beds0"] - k * row["max_change"])), up


def most_places(data: PlanData, f: str, y: int) -> tuple[int, str]:
    """Most places of ``f`` in ``y`` (an upper bound) and the rule that sets it.

    The change per provider per year from the 0-meting (``max_change``), and the places
    that can be recruited per year (``recruitment``) on top of the 0-meting's total.
    """
    _, by_change = _reach(data, f, y)
    limit = data.recruitment.get(f)
    if limit is None:
        return by_change, "change"
    k = data.years.index(y)
    total0 = sum(r["beds0"] for (_, g), r in data.table.items() if g == f)
    by_recruitment = total0 + k * limit
    if by_recruitment <= by_change:
        return by_recruitment, "recruitment"
    return by_change, "change"


def least_spend(data: PlanData, y: int) -> int:
    """Return a lower bound on what any plan costs in ``y`` while meeting every need.

    Per care form: each provider keeps at least what the change per year leaves standing
    (its 0-meting minus ``max_change`` a year, or a pinned value), then the need is filled
    at the cheapest providers, each up to what it can reach (group sizes and the other
    years' pins ignored, so it is a bound).
    """
    spend = 0
    for f in data.forms:
        cells = []
        for (p, g), row in data.table.items():
            if g == f:
                down, up = _cell_reach(data, p, f, y, row)
                cells.append((row["cost_per_bed_year"], down, up))
        have = sum(d for _, d, _ in cells)
        spend += sum(c * d for c, d, _ in cells)
        short = max(0, data.need.get((f, y), 0) - have)
        for cost, down, up in sorted(cells):
            add = min(short, up - down)
            spend += cost * add
            short -= add
    return spend


def _range(values: list[int]) -> str:
    low, high = min(values), max(values)
    return nl.number(low) if low == high else f"{nl.number(low)}–{nl.number(high)}"


def _euro_range(values: list[int]) -> str:
    low, high = min(values), max(values)
    return nl.euro(low) if low == high else f"{nl.euro(low)}–{nl.euro(high)}"


def explain_ombouw(
    data: PlanData, solution: Plan, names: Mapping[str, str] | None = None
) -> list[str]:
    """One Dutch sentence per budget year, ratio target and ligduur target the plan misses."""
    label = dict(names or {})
    assert solution.beds is not None
    x = _cells(solution.beds)
    notes = _budget_notes(data, solution, x)
    notes += _ratio_notes(data, solution, x, label)
    notes += _los_notes(data, solution, x, label)
    return notes


def _spend(data: PlanData, x: Mapping[Cell, int], y: int) -> int:
    table = data.table
    return sum(v * table[(p, f)]["cost_per_bed_year"] for (p, f, yy), v in x.items() if yy == y)


def _budget_notes(data: PlanData, solution: Plan, x: Mapping[Cell, int]) -> list[str]:
    """Say per group of years why the plan costs more than the budget.

    The years where even the least any plan can cost (:func:`least_spend`: the need at the
    cheapest providers, and the beds the change per year leaves standing) is above the
    budget are said together; the other years apart: there a target bed kept (it weighs
    more than ``TARGET_PENALTY / BUDGET_PENALTY`` = €1.000 over the budget), a pin, a
    group size, recruitment or the change per year between years cost the euros over it.
    """
    over = {y: s for y, s in sorted(solution.budget_slack.items()) if s > 0}
    if not over:
        return []
    forced = {y: least_spend(data, y) for y in over}
    notes = []
    for need_driven in (True, False):
        years = [y for y in over if (forced[y] > data.budget[y]) == need_driven]
        if not years:
            continue
        first = years[0]
        budget = data.budget[first]
        neutral = (
            ", budgetneutraal: wat de bedden en plekken van de 0-meting kostten"
            if budget == data.budget_neutral_eur
            else ""
        )
        text = (
            f"Budget: het budget van {first} ({nl.euro(budget)}{neutral}) is "
            f"{nl.euro(over[first])} te laag"
            + (" voor de bedden en plekken die nodig zijn" if need_driven else "")
        )
        if len(years) > 1:
            text += (
                f", in {nl.years(years[1:])} {_euro_range([over[y] for y in years[1:]])} "
                f"(budget {_euro_range([data.budget[y] for y in years[1:]])})"
            )
        spend = _euro_range([_spend(data, x, y) for y in years])
        if need_driven:
            text += (
                f": die kosten bij de goedkoopste aanbieders al "
                f"{_euro_range([forced[y] for y in years])} (de minimale behoefte, en de "
                f"bedden die de maximale verandering per jaar nog laat staan); het plan kost "
                f"{spend}."
            )
        else:
            text += (
                f": het plan kost {spend}. De bedden en plekken die nodig zijn passen erin (bij "
                f"de goedkoopste aanbieders {_euro_range([forced[y] for y in years])}), maar "
                "minder uitgeven kan alleen door een doel verder te missen (een plaats van een "
                f"doel weegt zwaarder dan {nl.euro(TARGET_PENALTY // BUDGET_PENALTY)} boven "
                "het budget) of door vastgelegde afspraken, groepsgroottes, de werving of de "
                "maximale verandering per jaar los te laten."
            )
        notes.append(text)
    return notes


def _ratio_notes(
    data: PlanData, solution: Plan, x: Mapping[Cell, int], label: Mapping[str, str]
) -> list[str]:
    """Say per ratio target why it is missed: growth too slow, the budget, or the rules.

    Years with the same reason are said together: the first in full, the others with
    their ranges.
    """
    totals = _kind_totals(data, x)
    notes = []
    for i, t in enumerate(data.ratio_targets):
        missed = _missed_years(solution.ratio_slack, i)
        if not missed:
            continue
        num, den = t.fraction
        per = (
            f"1 per {nl.number(den)} bedden"
            if num == 1
            else f"{nl.number(t.min_ambulant_per_verblijf, 2)} per bed"
        )
        recruited = [f for f in data.ambulant_forms if f in data.recruitment]
        facts: dict[str, list[dict[str, int]]] = {}
        for y in missed:
            beds = totals.get((VERBLIJF, y), 0)
            reach = [most_places(data, f, y) for f in data.ambulant_forms]
            fact = {
                "year": y,
                "beds": beds,
                "have": totals.get(("ambulant", y), 0),
                "required": t.required_places(beds),
                "most": sum(r for r, _ in reach),
            }
            if fact["most"] < fact["required"]:
                by_recruitment = recruited and all(why == "recruitment" for _, why in reach)
                reason = "recruitment" if by_recruitment else "change"
            elif y in data.budget and _spend(data, x, y) + _cheapest_place(data) > data.budget[y]:
                reason = "budget"
            else:
                reason = "rules"
            facts.setdefault(reason, []).append(fact)
        parts = []
        for reason, rows in facts.items():
            first, rest = rows[0], rows[1:]
            head = (
                f"in {first['year']} zijn {nl.number(first['required'])} ambulante plekken "
                f"nodig voor {per} ({nl.number(first['beds'])} bedden in het plan)"
            )
            if reason in ("recruitment", "change"):
                if reason == "recruitment":
                    limits = nl.join(
                        f"{nl.number(data.recruitment[f])} nieuwe plekken per jaar"
                        + (f" {label.get(f, f)}" if len(recruited) > 1 else "")
                        for f in recruited
                    )
                    rule = f"met {limits} (afbouw.recruitment_per_year)"
                else:
                    rule = (
                        "met de maximale verandering per aanbieder per jaar "
                        "(afbouw.max_change_per_year)"
                        + (" en de werving (afbouw.recruitment_per_year)" if recruited else "")
                    )
                text = (
                    f"de ambulante capaciteit kan niet snel genoeg groeien: {head}, maar "
                    f"{rule} komen er hoogstens {nl.number(first['most'])}"
                )
                if rest:
                    text += (
                        f"; in {nl.years(r['year'] for r in rest)} zijn er "
                        f"{_range([r['required'] for r in rest])} nodig "
                        f"({_range([r['beds'] for r in rest])} bedden) en hoogstens "
                        f"{_range([r['most'] for r in rest])} mogelijk"
                    )
            else:
                why = (
                    "het budget laat geen ruimte voor meer plekken, en de bedden die nodig "
                    "zijn kunnen niet sneller dicht"
                    if reason == "budget"
                    else "vastgelegde afspraken, groepsgroottes of de maximale verandering per "
                    "jaar laten niet meer toe"
                )
                text = f"{head}, het plan heeft er {nl.number(first['have'])}"
                if rest:
                    text += (
                        f"; in {nl.years(r['year'] for r in rest)} "
                        f"{_range([r['required'] for r in rest])} nodig, het plan heeft er "
                        f"{_range([r['have'] for r in rest])}"
                    )
                text += f": {why}"
            parts.append(text)
        notes.append(f"Doel '{t.label or t.describe()}' niet gehaald: " + "; ".join(parts) + ".")
    return notes


def _cheapest_place(data: PlanData) -> int:
    table = data.table
    return min(
        (r["cost_per_bed_year"] for (_, f), r in table.items() if data.kind(f) != VERBLIJF),
        default=0,
    )


def _missed_years(slack: Mapping[int, int], index: int) -> list[int]:
    """Years with slack of the ``index``-th target (keys ``index x 10 000 + year``)."""
    return sorted(k % 10_000 for k, s in slack.items() if k // 10_000 == index and s > 0)


def _los_notes(
    data: PlanData, solution: Plan, x: Mapping[Cell, int], label: Mapping[str, str]
) -> list[str]:
    notes = []
    for i, t in enumerate(data.los_targets):
        missed = _missed_years(solution.los_slack, i)
        if not missed:
            continue
        f = t.care_form
        name = label.get(f, f)
        means = []
        for y in missed:
            per = {p: v for (p, g, yy), v in x.items() if g == f and yy == y}
            los = {p: t.los_days[(p, y)] for p in per}
            mean = harmonic_mean_days(per, los)
            means.append(mean if mean is not None else math.nan)
        shortest = min(
            ((t.los_days[(p, y)], p) for (p, g) in data.table if g == f for y in missed),
            default=None,
        )
        if shortest is not None and shortest[0] > t.max_mean_days:
            why = (
                f"ook de aanbieder met de kortste ligduur ({shortest[1]}, "
                f"{nl.number(shortest[0])} dagen) zit erboven; alleen kortere verblijven "
                "helpen (levers.los_change_pct of levers.provider_los_change_pct)"
            )
        else:
            long_stay = sorted(
                {p for (p, g, y), v in x.items() if g == f and y in missed and v > 0}
                & {p for (p, y), d in t.los_days.items() if y in missed and d > t.max_mean_days}
            )
            why = (
                "de bedden kunnen niet snel genoeg verschuiven naar aanbieders met een kortere "
                "ligduur: de minimale behoefte en de maximale verandering per jaar houden "
                f"bedden bij {nl.join(long_stay) or 'aanbieders met een lange ligduur'}"
            )
        shown = [m for m in means if not math.isnan(m)]
        span = (
            nl.MISSING
            if not shown
            else nl.number(min(shown), 1)
            if round(min(shown), 1) == round(max(shown), 1)
            else f"{nl.number(min(shown), 1)}–{nl.number(max(shown), 1)}"
        )
        notes.append(
            f"Doel '{t.label or t.describe()}' in {nl.years(missed)} niet gehaald: de "
            f"gemiddelde ligduur van {name} is in het plan {span} dagen, hoogstens "
            f"{nl.number(t.max_mean_days)} gevraagd; {why}."
        )
    return notes


def explain_unsteered(judged: pd.DataFrame, names: Mapping[str, str] | None = None) -> list[str]:
    """One Dutch sentence per ligduur target the plan cannot steer and the scenario misses.

    A provider's own mean stay, or a form outside the plan, changes only by the levers:
    the sentence names the lever and how much shorter the stays must be.
    """
    label = dict(names or {})
    if judged.empty:
        return []
    notes = []
    missed = judged[(judged["steered_by"] == "scenario") & ~judged["met"].astype(bool)]
    for target, group in missed.groupby("target", sort=False):
        rows = group.to_dict(orient="records")
        first = rows[0]
        f, p = str(first["care_form"]), first["provider"]
        limit = float(first["max_mean_days"])
        means = [float(r["mean_days"]) for r in rows]
        years = [int(r["year"]) for r in rows]
        cut = math.ceil(100 * (1 - limit / max(means)) - 1e-9)
        where = f"bij {p} " if isinstance(p, str) and p else ""
        if isinstance(p, str) and p:
            lever = f"levers.provider_los_change_pct voor {p}, {f}, vanaf {years[0]}"
        else:
            lever = f"levers.los_change_pct voor {f} vanaf {years[0]}"
        notes.append(
            f"Doel '{target}' in {nl.years(years)} niet gehaald: de gemiddelde ligduur van "
            f"{label.get(f, f)} {where}is {_range([round(m) for m in means])} dagen, hoogstens "
            f"{nl.number(limit)} gevraagd. Het plan verandert geen verblijfsduur: verkort die "
            f"{where}met minstens {cut}% ({lever})."
        )
    return notes
