"""Write two quarters of synthetic realisation for the example region (2024-K1, 2024-K2).

Run from the repository root::

    .venv/bin/python scripts/make_realisation_example.py [--out models/voorbeeldregio-realisatie]

How the numbers are made
------------------------
Without the simulation engine, so that the example tests the band against numbers from
somewhere else. The agreed plan ``afgesproken_plan.csv`` (next to the output) was written
by ``capaciteit afbouw simulations/voorbeeldregio-transformatie.yaml`` with its default
settings; its places per provider and year are the realised places, except where a
provider deviates (below).

Occupancy, instroom and waiting lists come from a *fluid model* of the region, day by
day from the 0-meting (1 January 2023, ``beds.csv``'s occupied places): per care form the
young people leave at rate ``occupied / mean stay`` (Little's law: the mean stay is
``los.csv``'s, or the mean of ``los_observed.csv`` for crisis, times the scenario's
``los_change_pct``), the leavers are routed to other forms by ``routing.csv`` (doorstroom),
new referrals arrive at the scenario's instroom per year (levers and substitution
applied), and whoever finds no free place waits (forms with ``overflow`` lose their
waiting list after ``max_wait_days``). Seasonality and waiting in another bed (blocking)
are left out. A quarter's *bezet* is the mean of the daily occupancy, *instroom* the
admissions in it, *wachtlijst* the queue on its last day. The form's figures are split
over its providers by their places (largest remainders), then a little noise is added
(occupancy ±1%, instroom ±5%, seeded), and everything is rounded to whole numbers.

2024-K1 follows the plan. In 2024-K2 residentieel goes off course on purpose: provider
P05 closes a group of 8 places a year early (38 places instead of the plan's 46), and a
neighbouring region's provider stops, so 30 more young people than usual are referred to
residentieel during the quarter. The waiting list grows far beyond what the model
expects with the plan's places, and the places of P05 and of residentieel as a whole lie
outside the plan's tolerance.

The files are written by :func:`capaciteit.realisation.template.write_template` and
filled in with openpyxl, as a provider would fill in the template.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from capaciteit.domain.scenario import Scenario
from capaciteit.io.scenario_files import load_scenario
from capaciteit.realisation.plan import planned_beds, read_plan
from capaciteit.realisation.quarters import Quarter
from capaciteit.realisation.reader import FIELDS, SHEET
from capaciteit.realisation.template import write_template

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "simulations" / "voorbeeldregio-transformatie.yaml"
OUT = ROOT / "models" / "voorbeeldregio-realisatie"
QUARTERS = (Quarter(2024, 1), Quarter(2024, 2))
SHOCK = Quarter(2024, 2)
SHOCK_BEDS = {("P05", "residentieel"): 38}
SHOCK_REFERRALS = {"residentieel": 30}
SEED = 2024


def fluid(scenario: Scenario, beds: pd.Series) -> dict[tuple[str, str], tuple[float, float, int]]:
    """Occupied (mean), admissions and waiting (end) per (care form, quarter) of the plan.

    ``beds`` holds the realised places per ``(provider, care_form, year)``; within the
    shock quarter the shocked places apply from its first day.
    """
    model = scenario.model
    forms = model.care_form_ids
    n = len(forms)
    route = np.zeros((n, n))
    for (src, dst), share in model.routing["share"].items():
        if dst in forms:
            route[forms.index(str(src)), forms.index(str(dst))] = float(share)
    observed = model.los_observed.groupby("care_form")["los_days"].mean()
    base_stay = np.array(
        [
            float(observed[f])
            if model.los.at[f, "distribution"] == "empirical"
            else float(model.los.at[f, "mean_days"])
            for f in forms
        ]
    )
    patience = np.array(
        [
            float(model.care_forms.at[f, "max_wait_days"])
            if model.care_forms.at[f, "waiting_policy"] == "overflow"
            else math.inf
            for f in forms
        ]
    )
    occupied0 = model.beds["occupied"].groupby(level="care_form").sum()
    occupied = np.array([float(occupied0.get(f, 0)) for f in forms])
    queue = np.zeros(n)
    per_form = beds.groupby(level=["care_form", "year"]).sum()
    out: dict[tuple[str, str], tuple[float, float, int]] = {}
    quarter = Quarter(scenario.start_year, 1)
    while quarter <= QUARTERS[-1]:
        year = quarter.year
        referrals = np.array([float(scenario.instroom.at[f, year]) for f in forms]) / 365.25
        if year in scenario.substitution.index.get_level_values(0):
            original = referrals.copy()
            for (src, dst), share in scenario.substitution.loc[year]["share"].items():
                moved = float(share) * original[forms.index(str(src))]
                referrals[forms.index(str(src))] -= moved
                referrals[forms.index(str(dst))] += moved
        stay = base_stay * np.array([float(scenario.los_factor.at[f, year]) for f in forms])
        places = np.array([float(per_form.get((f, year), 0)) for f in forms])
        days = int((quarter.next_first_day - quarter.first_day).days)
        if quarter == SHOCK:
            for (provider, form), shocked in SHOCK_BEDS.items():
                planned = float(beds.get((provider, form, year), 0))
                places[forms.index(form)] += shocked - planned
            for form, extra in SHOCK_REFERRALS.items():
                referrals[forms.index(form)] += extra / days
        total, admitted_sum = np.zeros(n), np.zeros(n)
        for _ in range(days):
            leaving = occupied / stay
            demand = referrals + leaving @ route + queue
            room = np.maximum(places - occupied + leaving, 0.0)
            admitted = np.minimum(demand, room)
            queue = (demand - admitted) * np.where(np.isinf(patience), 1.0, 1 - 1 / patience)
            occupied = occupied + admitted - leaving
            total += occupied
            admitted_sum += admitted
        if quarter in QUARTERS:
            for i, f in enumerate(forms):
                out[(f, quarter.label)] = (total[i] / days, admitted_sum[i], round(queue[i]))
        quarter = quarter.next()
    return out


def split(total: float, weights: list[float]) -> list[int]:
    """Whole numbers adding up to ``round(total)`` in proportion to ``weights``."""
    whole = round(total)
    if whole == 0 or sum(weights) == 0:
        return [0] * len(weights)
    exact = [whole * w / sum(weights) for w in weights]
    parts = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: parts[i] - exact[i])
    for i in order[: whole - sum(parts)]:
        parts[i] += 1
    return parts


def realisation(scenario: Scenario, plan: pd.DataFrame) -> pd.DataFrame:
    """Make the realised figures per provider, care form and quarter (see the module)."""
    planned = planned_beds(plan)
    beds = planned.copy()
    flows = fluid(scenario, beds)
    rng = np.random.default_rng(SEED)
    rows = []
    for quarter in QUARTERS:
        year_plan = planned.xs(quarter.year, level="year")
        for form in scenario.model.care_form_ids:
            pairs = [(str(p), b) for (p, f), b in year_plan.items() if f == form and b > 0]
            if not pairs:
                continue
            places = [
                SHOCK_BEDS.get((p, form), int(b)) if quarter == SHOCK else int(b) for p, b in pairs
            ]
            mean_occupied, admissions, waiting = flows[(form, quarter.label)]
            occupied = [
                min(b, round(mean_occupied * b / sum(places) * (1 + rng.normal(0, 0.01))))
                for b in places
            ]
            started = split(admissions * (1 + rng.normal(0, 0.05)), [float(o) for o in occupied])
            queued = split(waiting, [float(b) for b in places])
            for (provider, _), b, o, a, w in zip(
                pairs, places, occupied, started, queued, strict=True
            ):
                rows.append(
                    {
                        "provider": provider,
                        "care_form": form,
                        "quarter": quarter.label,
                        "beds": b,
                        "occupied": o,
                        "admissions": a,
                        "waiting": w,
                    }
                )
    return pd.DataFrame(rows)


def fill(template: Path, figures: pd.DataFrame) -> None:
    """Fill the template's yellow cells with ``figures``, as a provider would."""
    workbook = openpyxl.load_workbook(template)
    sheet = workbook[SHEET]
    column = {f.name: i for i, f in enumerate(FIELDS)}
    table = figures.set_index(["provider", "care_form", "quarter"])
    for row in sheet.iter_rows(min_row=2):
        key = (
            row[column["provider"]].value,
            row[column["care_form"]].value,
            row[column["quarter"]].value,
        )
        if key not in table.index:
            continue
        for name in ("beds", "occupied", "admissions", "waiting"):
            row[column[name]].value = int(table.at[key, name])
    workbook.save(template)


def main() -> None:
    """Write the agreed plan's two quarters of realisation to --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    scenario = load_scenario(SCENARIO)
    plan = read_plan(args.out / "afgesproken_plan.csv", scenario)
    figures = realisation(scenario, plan)
    for quarter in QUARTERS:
        path = args.out / f"realisatie-{quarter.label}.xlsx"
        write_template(scenario, plan, path, [quarter.label])
        fill(path, figures[figures["quarter"] == quarter.label])
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(
        figures.groupby(["care_form", "quarter"])[
            ["beds", "occupied", "admissions", "waiting"]
        ].sum()
    )


if __name__ == "__main__":
    main()
