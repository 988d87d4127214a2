"""Re-planning against an agreed plan: why cells changed, and why no plan fits.

An ontwikkeltafel agrees a plan; the next sprint re-plans with new needs and the optimiser
keeps close to the agreement (:mod:`capaciteit.optimisation.afbouw`, *re-planning*). A
provider asked to change agreed beds wants to know why, in the words of the table:

:func:`reference_changes`
    every cell that differs from the agreed plan, with its reasons. A change is *forced*
    when the agreed plan, judged against the new data, breaks something the new plan
    keeps: the agreed beds of a care form fall short of a need this year, the agreed plan
    misses a target, grows faster than families can be recruited, breaks a rule of the
    cell (a pinned agreement, the group size, a form the provider does not offer), or
    cannot be reached within the maximum change per year from the new plan's neighbouring
    years, or breaks an ombouw rule: it costs more than the year's budget, has too few
    ambulant places per verblijf bed, or a mean ligduur above its target. Each reason
    points the way the cell moved (a need only explains more beds, a maximum target only
    fewer, a budget only fewer, a ligduur target fewer beds where stays are longer than
    the target and more where they are shorter). When none applies the change is the
    cheaper plan: the
    tariff of a bed exceeds the weight of the agreement, or the other weights (stability,
    fairness) outweigh it.

:func:`rule_conflicts` and :func:`least_reference_limit`
    the hard rules are per provider and care form (needs, targets and recruitment are
    elastic), so whether any plan exists decomposes into one small question per pair: can
    a series of beds start at the 0-meting, move at most ``max_change`` a year and land
    in each year's allowed set (pin, group size, offered form, upper bound, and
    ``|x - agreed| <= limit``)? A forward sweep over the sets of reachable values answers
    it exactly and names the first cell where the set runs empty and which rule emptied
    it; repeating the sweep with larger limits finds the smallest limit that works.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from capaciteit._pandas import items
from capaciteit.core import nl
from capaciteit.optimisation.afbouw import PlanData

Cell = tuple[str, str, int]
REASON_SEPARATOR = "; "
"""Between the reasons of one cell in a sentence (a reason never contains it)."""


def _plural_beds(count: int) -> str:
    return nl.plural(count, "plaats", "plaatsen")


def reference_changes(
    data: PlanData, beds: pd.Series, names: Mapping[str, str] | None = None
) -> list[dict[str, object]]:
    """List every cell of ``beds`` that differs from ``data.reference``, with its reasons.

    Returns one dict per changed cell: ``provider``, ``care_form``, ``year``,
    ``reference_beds``, ``beds``, ``change_vs_reference`` and ``reasons`` (Dutch phrases,
    at least one), sorted by provider, care form and year.
    """
    label = dict(names or {})
    x: dict[Cell, int] = {(str(k[0]), str(k[1]), int(k[2])): int(v) for k, v in items(beds)}
    agreed = data.reference
    if not agreed:
        return []
    years = data.years
    first = years[0]
    table = data.table
    # the agreed plan as a whole: cells it does not name keep the new plan's beds
    full = {cell: agreed.get(cell, value) for cell, value in x.items()}
    totals_ref = _totals(full)
    growth_ref = _growth(full, years)
    out: list[dict[str, object]] = []
    for cell in sorted(x):
        p, f, y = cell
        if cell not in agreed or x[cell] == agreed[cell]:
            continue
        r, value = agreed[cell], x[cell]
        name = label.get(f, f)
        row = table[(p, f)]
        reasons: list[str] = []
        if y == first:
            reasons.append(
                f"{y} is het jaar van de 0-meting: {p} heeft daar {_plural_beds(row['beds0'])} "
                f"{name}"
            )
        else:
            reasons += _cell_rules(data, cell, r, name)
            up = value > r
            need = data.need.get((f, y))
            if up and need is not None and totals_ref.get((f, y), 0) < need:
                reasons.append(
                    f"de minimale behoefte aan {name} in {y} is {_plural_beds(need)} (de "
                    f"afspraak heeft er {nl.number(totals_ref.get((f, y), 0))})"
                )
            reasons += _target_reasons(data, f, y, up, totals_ref, label)
            reasons += _ombouw_reasons(data, cell, up, full)
            reasons += _recruitment_reasons(data, f, y, up, growth_ref, name)
            reasons += _ramp_reasons(data, cell, r, x, name)
            if not reasons:
                reasons.append(_cost_reason(data, cell, up, name))
        out.append(
            {
                "provider": p,
                "care_form": f,
                "year": y,
                "reference_beds": r,
                "beds": value,
                "change_vs_reference": value - r,
                "reasons": reasons,
            }
        )
    return out


def changes_frame(changes: list[dict[str, object]]) -> pd.DataFrame:
    """:func:`reference_changes` as a table with the reasons in one column ``reason``."""
    columns = [
        "provider",
        "care_form",
        "year",
        "reference_beds",
        "beds",
        "change_vs_reference",
        "reason",
    ]
    rows = [
        {
            **{k: v for k, v in c.items() if k != "reasons"},
            "reason": REASON_SEPARATOR.join(str(r) for r in c["reasons"]),  # type: ignore[attr-defined]
        }
        for c in changes
    ]
    return pd.DataFrame(rows, columns=columns)


def _totals(x: Mapping[Cell, int]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for (_, f, y), v in x.items():
        out[(f, y)] = out.get((f, y), 0) + v
    return out


def _growth(x: Mapping[Cell, int], years: list[int]) -> dict[tuple[str, int], int]:
    """Count new places per (care_form, year): the increases per provider added up."""
    out: dict[tuple[str, int], int] = {}
    pairs = {(p, f) for p, f, _ in x}
    for p, f in pairs:
        for prev, y in itertools.pairwise(years):
            if (p, f, y) in x and (p, f, prev) in x:
                out[(f, y)] = out.get((f, y), 0) + max(0, x[(p, f, y)] - x[(p, f, prev)])
    return out


def _cell_rules(data: PlanData, cell: Cell, r: int, name: str) -> list[str]:
    """Rules of the cell itself that the agreed beds break in the new data."""
    p, f, y = cell
    row = data.table[(p, f)]
    pin = data.pins.get(cell)
    reasons = []
    if pin is not None and pin != r:
        reasons.append(f"vastgelegde afspraak (afbouw.pinned) van {_plural_beds(pin)} in {y}")
    if pin is None and not row["open_to_beds"] and r > 0:
        reasons.append(f"{p} biedt {name} niet aan (afbouw.allow_new)")
    if row["min_group"] > 1 and 0 < r < row["min_group"]:
        reasons.append(
            f"groepsgrootte: een groep {name} heeft 0 of minstens {_plural_beds(row['min_group'])}"
        )
    if pin is None and row["open_to_beds"] and r > row["upper"]:
        reasons.append(
            f"{p} kan hoogstens {_plural_beds(row['upper'])} {name} hebben (0-meting plus de "
            "maximale verandering per jaar)"
        )
    return reasons


def _target_reasons(
    data: PlanData,
    f: str,
    y: int,
    up: bool,
    totals_ref: Mapping[tuple[str, int], int],
    label: Mapping[str, str],
) -> list[str]:
    reasons = []
    for t in data.targets:
        if f not in t.care_forms or y < t.year:
            continue
        planned = sum(totals_ref.get((g, y), 0) for g in t.care_forms)
        group = " + ".join(label.get(g, g) for g in t.care_forms)
        if t.kind == "max" and not up and planned > t.bound_beds:
            bound = f"hoogstens {_plural_beds(t.bound_beds)}"
        elif t.kind == "min" and up and planned < t.bound_beds:
            bound = f"minstens {_plural_beds(t.bound_beds)}"
        else:
            continue
        reasons.append(
            f"doel '{t.label or t.describe()}' ({group} {bound} in {y}, de afspraak heeft er "
            f"{nl.number(planned)})"
        )
    return reasons


def _ombouw_reasons(data: PlanData, cell: Cell, up: bool, agreed: Mapping[Cell, int]) -> list[str]:
    """Budget, ratio and ligduur rules the agreed plan breaks that explain the change."""
    p, f, y = cell
    table = data.table
    reasons = []
    in_year = {(q, g): v for (q, g, yy), v in agreed.items() if yy == y}
    ceiling = data.budget.get(y)
    if ceiling is not None and not up:
        spend = sum(v * table[c]["cost_per_bed_year"] for c, v in in_year.items())
        if spend > ceiling:
            reasons.append(
                f"budget: het budget van {y} is {nl.euro(ceiling)}, de afspraak kost "
                f"{nl.euro(spend)}"
            )
    kind = data.kind(f)
    beds = sum(v for (_, g), v in in_year.items() if data.kind(g) == "verblijf")
    places = sum(v for (_, g), v in in_year.items() if data.kind(g) == "ambulant")
    for r in data.ratio_targets:
        if y < r.year or (kind == "ambulant") != up:
            continue
        needed = r.required_places(beds)
        if places < needed:
            reasons.append(
                f"doel '{r.label or r.describe()}' ({_places(needed)} ambulant nodig bij "
                f"{_plural_beds(beds)} verblijf, de afspraak heeft er {nl.number(places)})"
            )
    for t in data.los_targets:
        if t.care_form != f or y < t.year or (p, y) not in t.los_days:
            continue
        weights = {q: t.coefficient(q, y) for (q, g) in in_year if g == f}
        if sum(weights[q] * in_year[(q, f)] for q in weights) <= 0:
            continue
        longer = t.los_days[(p, y)] > t.max_mean_days
        if longer != up:
            reasons.append(
                f"doel '{t.label or t.describe()}' (de gemiddelde ligduur in de afspraak is "
                f"te lang; bij {p} is die {nl.number(t.los_days[(p, y)])} dagen, het doel "
                f"hoogstens {nl.number(t.max_mean_days)})"
            )
    return reasons


def _places(count: int) -> str:
    return nl.plural(count, "plek", "plekken")


def _recruitment_reasons(
    data: PlanData,
    f: str,
    y: int,
    up: bool,
    growth_ref: Mapping[tuple[str, int], int],
    name: str,
) -> list[str]:
    limit = data.recruitment.get(f)
    if limit is None:
        return []
    years = data.years
    later = years[years.index(y) + 1] if years.index(y) + 1 < len(years) else None
    # fewer beds this year when the agreement grows too fast now; more beds this year
    # when it grows too fast next year (growth brought forward)
    for when, direction in ((y, False), (later, True)):
        if when is not None and up == direction and growth_ref.get((f, when), 0) > limit:
            return [
                f"werving: hoogstens {nl.number(limit)} nieuwe plaatsen {name} per jaar, de "
                f"afspraak groeit in {when} met {nl.number(growth_ref[(f, when)])}"
            ]
    return []


def _ramp_reasons(
    data: PlanData, cell: Cell, r: int, x: Mapping[Cell, int], name: str
) -> list[str]:
    """Say when the agreed beds cannot be reached from the new plan's neighbouring years."""
    p, f, y = cell
    change = data.table[(p, f)]["max_change"]
    years = data.years
    i = years.index(y)
    reasons = []
    neighbours = [years[i - 1]] + ([years[i + 1]] if i + 1 < len(years) else [])
    for other in neighbours:
        beside = x.get((p, f, other))
        if beside is not None and abs(beside - r) > change:
            reasons.append(
                f"max. verandering per jaar: {p} kan {name} met hoogstens "
                f"{_plural_beds(change)} per jaar veranderen, en het plan heeft in {other} "
                f"{_plural_beds(beside)} (de afspraak in {y}: {nl.number(r)})"
            )
    return reasons


def _cost_reason(data: PlanData, cell: Cell, up: bool, name: str) -> str:
    p, f, _ = cell
    tariff = data.table[(p, f)]["cost_per_bed_year"]
    weight = data.reference_weight
    if not up and tariff > weight:
        return (
            f"lagere kosten: een plaats {name} bij {p} kost {nl.euro(tariff)} per jaar, meer "
            f"dan het gewicht van de afspraak ({nl.euro(weight)} per plaats)"
        )
    return (
        "kosten, stabiliteit en eerlijke verdeling samen wegen zwaarder dan het gewicht van "
        f"de afspraak ({nl.euro(weight)} per plaats)"
    )


# --------------------------------------------------------------------------------------
# Which cells make a plan impossible
# --------------------------------------------------------------------------------------


def _allowed(
    data: PlanData, p: str, f: str, y: int, size: int, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Mask the allowed beds of a cell (without and with the limit on the agreement)."""
    row = data.table[(p, f)]
    mask = np.zeros(size, dtype=bool)
    if y == data.years[0]:
        mask[row["beds0"]] = True
        return mask, mask.copy()
    hi = row["upper"] if row["open_to_beds"] else 0
    pin = data.pins.get((p, f, y))
    if pin is not None:
        mask[pin] = True
    else:
        mask[: hi + 1] = True
    group = row["min_group"]
    if group > 1 and hi > 0:
        mask[1:group] = False
        mask[hi + 1 :] = False
    limited = mask.copy()
    agreed = data.reference.get((p, f, y))
    if limit is not None and agreed is not None:
        limited[: max(0, agreed - limit)] = False
        limited[agreed + limit + 1 :] = False
    return mask, limited


def _dilate(mask: np.ndarray, step: int) -> np.ndarray:
    """Values within ``step`` of a True value of ``mask``."""
    sums = np.concatenate([[0], np.cumsum(mask)])
    index = np.arange(len(mask))
    low = np.clip(index - step, 0, len(mask))
    high = np.clip(index + step + 1, 0, len(mask))
    out: np.ndarray = sums[high] - sums[low] > 0
    return out


def _size(data: PlanData, p: str, f: str, limit: int | None) -> int:
    row = data.table[(p, f)]
    values = [row["beds0"], row["upper"]]
    values += [v for (q, g, _), v in data.pins.items() if (q, g) == (p, f)]
    if limit is not None:
        values += [v + limit for (q, g, _), v in data.reference.items() if (q, g) == (p, f)]
    return max(values) + 2


def _sweep(
    data: PlanData, p: str, f: str, limit: int | None
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray] | None:
    """Find the first year whose reachable set is empty, with the sets there (or None)."""
    size = _size(data, p, f, limit)
    change = data.table[(p, f)]["max_change"]
    reach = np.zeros(size, dtype=bool)
    for y in data.years:
        plain, limited = _allowed(data, p, f, y, size, limit)
        before = reach
        reach = limited.copy() if y == data.years[0] else _dilate(reach, change) & limited
        if not reach.any():
            return y, before, plain, limited
    return None


def _span(mask: np.ndarray) -> str:
    values = np.flatnonzero(mask)
    low, high = int(values.min()), int(values.max())
    return nl.number(low) if low == high else f"{nl.number(low)}–{nl.number(high)}"


def rule_conflicts(
    data: PlanData, names: Mapping[str, str] | None = None, *, with_limit: bool = True
) -> list[str]:
    """One Dutch sentence per provider and care form whose rules no series of beds obeys.

    Names the first cell (provider, care form, year) where the rules cannot all hold and
    the rule that makes it so. ``with_limit=False`` leaves out the limit on the agreed
    plan (``reference_max_change``). Empty when a plan exists.
    """
    label = dict(names or {})
    limit = data.reference_max_change if with_limit else None
    notes = []
    for p, f in data.table:
        found = _sweep(data, p, f, limit)
        if found is None:
            continue
        y, before, plain, limited = found
        row = data.table[(p, f)]
        name = label.get(f, f)
        agreed = data.reference.get((p, f, y))
        pin = data.pins.get((p, f, y))
        rules = []
        if pin is not None:
            rules.append(f"de vastgelegde afspraak (afbouw.pinned) is {_plural_beds(pin)}")
        if not row["open_to_beds"] and pin is None:
            rules.append(f"{p} biedt {name} niet aan, dus 0 plaatsen")
        if row["min_group"] > 1:
            rules.append(f"een groep heeft 0 of minstens {_plural_beds(row['min_group'])}")
        head = f"{p}, {name}, {y}: "
        if limit is not None and agreed is not None:
            low = max(0, agreed - limit)
            head += (
                f"de afspraak is {_plural_beds(agreed)} en mag hoogstens {nl.number(limit)} "
                f"veranderen ({nl.number(low)}–{nl.number(agreed + limit)})"
            )
            joiner = ", maar "
        else:
            joiner = ""
        if not limited.any():
            if not plain.any():
                notes.append(f"{head}{joiner}{nl.join(rules)}; dat kan niet tegelijk.")
            else:
                why = nl.join(rules) if rules else "0-meting plus de maximale verandering per jaar"
                notes.append(
                    f"{head}{joiner}toegestaan zijn alleen {_span(plain)} plaatsen ({why})."
                )
            continue
        previous = data.years[data.years.index(y) - 1]
        start = (
            f"de 0-meting van {_plural_beds(row['beds0'])} in {previous}"
            if previous == data.years[0]
            else f"{_span(before)} plaatsen in {previous}"
        )
        reach = _dilate(before, row["max_change"])
        notes.append(
            f"{head}{joiner}vanaf {start} kan het aantal met hoogstens "
            f"{_plural_beds(row['max_change'])} per jaar veranderen (max. verandering per "
            f"jaar), dus in {y} {_span(reach)} plaatsen"
            + (f", en {nl.join(rules)}" if rules and limit is None else "")
            + "."
        )
    return notes


def least_reference_limit(data: PlanData) -> int | None:
    """Find the smallest ``reference_max_change`` with which a plan exists (None: none does).

    Feasibility only grows with the limit, so a doubling search and a bisection over the
    per-pair sweep find it.
    """
    if any(_sweep(data, p, f, None) is not None for p, f in data.table):
        return None

    def feasible(limit: int) -> bool:
        return all(_sweep(data, p, f, limit) is None for p, f in data.table)

    low = 0 if data.reference_max_change is None else data.reference_max_change
    if feasible(low):
        return low
    high = max(1, low * 2)
    while not feasible(high):
        high *= 2
    while high - low > 1:
        middle = (low + high) // 2
        if feasible(middle):
            high = middle
        else:
            low = middle
    return high
