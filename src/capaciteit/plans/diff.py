"""Two plan versions side by side: which cells differ, by how many beds and euros.

An ontwikkeltafel rarely reads a plan from scratch; it reads what changed since the last
version ("P04 keeps 4 more residential places in 2026, P05 closes 4 sooner"). A diff lines
the two plans up cell by cell (provider, care form, year). A cell only one plan has counts
as 0 beds and 0 euros in the other: a provider added to plan B opens beds there, a pair
left out of plan B closes them. Totals per care form and year say what it does to the
region, and with the plans' data each target is judged in both, so a table sees at once
whether the edit costs a target.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from capaciteit.optimisation.afbouw import PlanData

CELL_COLUMNS = [
    "provider",
    "care_form",
    "year",
    "beds_a",
    "beds_b",
    "change_beds",
    "cost_a_eur",
    "cost_b_eur",
    "change_eur",
    "changed",
]
TOTAL_COLUMNS = [
    "care_form",
    "year",
    "beds_a",
    "beds_b",
    "change_beds",
    "cost_a_eur",
    "cost_b_eur",
    "change_eur",
]
TARGET_COLUMNS = [
    "target",
    "care_forms",
    "year",
    "kind",
    "bound_beds",
    "planned_a_beds",
    "planned_b_beds",
    "met_a",
    "met_b",
]


@dataclass(frozen=True)
class PlanDiff:
    """Plan B against plan A.

    Attributes
    ----------
    cells
        Every cell of either plan, sorted: ``provider, care_form, year, beds_a, beds_b,
        change_beds`` (B minus A), ``cost_a_eur, cost_b_eur, change_eur`` and ``changed``
        (the beds differ). A cell missing in a plan has 0 beds and 0 euros there.
    totals
        Per care form and year: ``beds_a, beds_b, change_beds, cost_a_eur, cost_b_eur,
        change_eur``.
    targets
        With the plans' data: each target in each later year from its year on, ``target,
        care_forms, year, kind, bound_beds, planned_a_beds, planned_b_beds, met_a,
        met_b``; empty (same columns) without data.
    changed_cells
        How many cells differ in beds.
    """

    cells: pd.DataFrame
    totals: pd.DataFrame
    targets: pd.DataFrame
    changed_cells: int


def diff_plans(a: pd.DataFrame, b: pd.DataFrame, data: PlanData | None = None) -> PlanDiff:
    """Compare plan frames ``a`` and ``b`` (:func:`~capaciteit.plans.table.plan_frame`).

    ``data`` (the plans' :class:`PlanData`) adds the targets judged in both plans.
    """
    left = a[["beds", "cost_eur"]].rename(columns={"beds": "beds_a", "cost_eur": "cost_a_eur"})
    right = b[["beds", "cost_eur"]].rename(columns={"beds": "beds_b", "cost_eur": "cost_b_eur"})
    cells = left.join(right, how="outer").fillna(0)
    cells = cells.astype("int64").sort_index().reset_index()
    cells.columns = ["provider", "care_form", "year", *cells.columns[3:]]
    cells["change_beds"] = cells["beds_b"] - cells["beds_a"]
    cells["change_eur"] = cells["cost_b_eur"] - cells["cost_a_eur"]
    cells["changed"] = cells["change_beds"] != 0
    cells = cells[CELL_COLUMNS]
    totals = (
        cells.groupby(["care_form", "year"])[["beds_a", "beds_b", "cost_a_eur", "cost_b_eur"]]
        .sum()
        .reset_index()
    )
    totals["change_beds"] = totals["beds_b"] - totals["beds_a"]
    totals["change_eur"] = totals["cost_b_eur"] - totals["cost_a_eur"]
    totals = totals[TOTAL_COLUMNS]
    targets = pd.DataFrame(columns=TARGET_COLUMNS)
    if data is not None:
        per = {
            (str(f), int(y)): (int(ba), int(bb))
            for f, y, ba, bb in zip(
                totals["care_form"], totals["year"], totals["beds_a"], totals["beds_b"], strict=True
            )
        }
        rows = []
        for t in data.targets:
            for y in data.years[1:]:
                if y < t.year:
                    continue
                in_a = sum(per.get((f, y), (0, 0))[0] for f in t.care_forms)
                in_b = sum(per.get((f, y), (0, 0))[1] for f in t.care_forms)

                def met(beds: int, bound: int = t.bound_beds, kind: str = t.kind) -> bool:
                    return beds <= bound if kind == "max" else beds >= bound

                rows.append(
                    {
                        "target": t.label or t.describe(),
                        "care_forms": " + ".join(t.care_forms),
                        "year": y,
                        "kind": t.kind,
                        "bound_beds": t.bound_beds,
                        "planned_a_beds": in_a,
                        "planned_b_beds": in_b,
                        "met_a": met(in_a),
                        "met_b": met(in_b),
                    }
                )
        targets = pd.DataFrame(rows, columns=TARGET_COLUMNS)
    return PlanDiff(
        cells=cells.reset_index(drop=True),
        totals=totals.reset_index(drop=True),
        targets=targets,
        changed_cells=int(cells["changed"].sum()),
    )
