"""The afbouw of the shared pools, written for an ontwikkeltafel: tables, a workbook, JSON.

Per pool: whether a plan exists (and why not, in Dutch), the minimal beds per year with
the evidence that one bed fewer misses the norm, the beds each provider keeps per year,
which region's young people go where and how far they travel, and the plan simulated
again: the share placed elsewhere per pool and year against the norm.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from capaciteit._pandas import as_float, as_int
from capaciteit.core import nl
from capaciteit.core.stats import Estimate, verdict
from capaciteit.national.afbouw import PoolAfbouw
from capaciteit.national.model import NationalScenario, PoolAfbouwIn
from capaciteit.national.results import NationalResults
from capaciteit.optimisation.shared_pools import TRAVEL_EUR_PER_MINUTE_BED_YEAR, days_in
from capaciteit.results.cells import append_row, write_csv
from capaciteit.results.jsonable import clean
from capaciteit.results.sheets import Column, verdict_text, write_table

NO_PLAN = "no_plan"
"""The check's verdict for a pool without a plan (simulated with its 0-meting's beds)."""

STATUS_NL = {
    "optimal": "optimaal",
    "feasible": "haalbaar (tijdslimiet; niet bewezen optimaal)",
    "infeasible": "onhaalbaar",
    "timeout": "geen plan binnen de tijdslimiet",
    "invalid": "ongeldig model",
}


def check_table(
    scenario: NationalScenario, plans: list[PoolAfbouw], checked: NationalResults
) -> pd.DataFrame:
    """Per pool and year: planned beds, the simulated refused share and its verdict."""
    norm = scenario.pool_afbouw.max_refused_share
    pools = checked.pools.set_index(["pool", "year", "kpi"])
    rows = []
    for item in plans:
        for year in item.problem.years:
            refused = pools.loc[[(item.pool, year, "refused_share")]].iloc[0]
            estimate = Estimate(
                as_float(refused["mean"]),
                as_float(refused["ci_low"]),
                as_float(refused["ci_high"]),
                int(refused["replications"]),
            )
            rows.append(
                {
                    "pool": item.pool,
                    "year": year,
                    "planned": item.plan.beds is not None,
                    "beds": as_float(pools.loc[(item.pool, year, "capacity_beds"), "mean"]),
                    "occupancy_rate": as_float(
                        pools.loc[(item.pool, year, "occupancy_rate"), "mean"]
                    ),
                    "refused_share": estimate.mean,
                    "refused_ci_low": estimate.low,
                    "refused_ci_high": estimate.high,
                    "max_refused_share": norm,
                    # a pool without a plan kept its 0-meting: nothing of a plan to judge
                    "verdict": verdict(estimate, "max", norm)
                    if item.plan.beds is not None
                    else NO_PLAN,
                }
            )
    return pd.DataFrame(rows)


def write_national_afbouw(
    scenario: NationalScenario,
    plans: list[PoolAfbouw],
    check: pd.DataFrame,
    out: Path,
) -> dict[str, Path]:
    """Write the pools' plans, their evidence and their check to ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    model = scenario.model
    names = {str(p): str(n) for p, n in model.pools["name"].items()}
    regions = {str(r): str(n) for r, n in model.regions["name"].items()}
    minimal = pd.concat([p.minimal.assign(pool=p.pool) for p in plans]).reset_index()
    minimal = minimal[["pool", *[c for c in minimal.columns if c != "pool"]]]
    beds, assignment, travel = [], [], []
    for item in plans:
        plan = item.plan
        if plan.beds is not None:
            long = pd.DataFrame(
                [
                    (str(provider), as_int(year), as_int(plan.beds.at[provider, year]))
                    for provider in plan.beds.index
                    for year in plan.beds.columns
                ],
                columns=["provider", "year", "beds"],
            )
            beds.append(long.assign(pool=item.pool))
        if plan.assignment is not None:
            assignment.append(plan.assignment.assign(pool=item.pool))
        if plan.travel is not None:
            travel.append(plan.travel.assign(pool=item.pool))
    files = {
        "minimal_beds": write_csv(minimal, out / "minimal_beds.csv"),
        "plan": write_csv(_front(beds, ["pool", "provider", "year", "beds"]), out / "plan.csv"),
        "assignment": write_csv(_front(assignment, ["pool"]), out / "assignment.csv"),
        "travel": write_csv(_front(travel, ["pool"]), out / "travel.csv"),
        "check": write_csv(check, out / "check.csv"),
    }
    summary = {
        "scenario": scenario.name,
        "years": model.years,
        "max_refused_share": scenario.pool_afbouw.max_refused_share,
        "pools": {
            item.pool: {
                "name": names[item.pool],
                "status": item.plan.status,
                "solver": item.plan.solver,
                "objective_eur": clean(item.plan.objective),
                "bound_eur": clean(item.plan.bound),
                "gap": clean(item.plan.gap),
                "time_s": item.plan.time_s,
                "explanation": item.plan.explanation,
                "minimal_beds": {as_int(y): as_int(b) for y, b in item.minimal["beds"].items()},
                "planned_beds": None
                if item.plan.beds is None
                else {int(y): int(item.plan.beds[y].sum()) for y in item.plan.beds.columns},
            }
            for item in plans
        },
    }
    path = out / "summary.json"
    path.write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    files["summary"] = path
    files["workbook"] = _workbook(scenario, plans, check, names, regions, out / "afbouw-pools.xlsx")
    return files


def _front(frames: list[pd.DataFrame], first: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=first)
    table = pd.concat(frames, ignore_index=True)
    return table[[*first, *[c for c in table.columns if c not in first]]]


def _workbook(
    scenario: NationalScenario,
    plans: list[PoolAfbouw],
    check: pd.DataFrame,
    names: dict[str, str],
    regions: dict[str, str],
    path: Path,
) -> Path:
    """Write the Dutch workbook: explanation, pools, providers, costs, need, travel, check."""
    beds = scenario.model.pool_beds
    provider_names = {
        (str(key[0]), str(key[1])): str(name) or str(key[1])  # type: ignore[index]
        for key, name in beds["name"].items()
    }
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Toelichting"
    settings = scenario.pool_afbouw
    for line in (
        f"Afbouw van de gedeelde pools: {scenario.name}",
        "",
        "Per pool: hoeveel plekken minimaal nodig zijn (de vraag van alle regio's samen, uit "
        "de landelijke simulatie), welke aanbieders welke plekken houden, en hoe ver de "
        "jongeren van elke regio reizen.",
        f"Norm: hoogstens {nl.percent(settings.max_refused_share)} van de jongeren elders "
        "geplaatst (Erlang B met de opgetelde vraag). Bij de minimale bedden staat wat één "
        "plek minder zou geven: dan wordt de norm niet gehaald. De formule geldt voor een "
        "evenwicht; na een grote afbouw zijn er in januari meer jongeren dan plekken. Waar "
        "de simulatie van het plan de norm mist, krijgt dat jaar plekken erbij en wordt "
        "opnieuw gepland en gesimuleerd (kolom 'erbij na simulatie').",
        f"Aanbieders houden nooit meer plekken dan in de 0-meting, vanaf "
        f"{settings.small_scale_from} hoogstens hun kleinschalige plekken (max_beds), en "
        f"veranderen hoogstens {settings.max_change_beds} plekken per jaar; een plek wordt "
        f"gepland tot {nl.percent(settings.target_occupancy)} bezetting. {_ceiling_text(settings)}",
        "Kosten in het plan: plekken x tarief x dagen (ook lege plekken), plus reistijd "
        f"(€ {nl.number(TRAVEL_EUR_PER_MINUTE_BED_YEAR)} per minuut per bezet bed per jaar: "
        "wekelijks bezoek van ouders) en een kleine prijs per veranderde plek. De landelijke "
        "simulatie rekent een pool naar bezette bed-dagen: die bedragen zijn niet gelijk.",
        f"Simulaties: {scenario.replications} replicaties, seed {scenario.seed}.",
        "Controle: het plan is opnieuw gesimuleerd met dezelfde seed; per pool en jaar staat "
        "het aandeel elders geplaatst met het 95%-interval tegen de norm.",
        "Synthetische gegevens: gebruik de getallen niet als uitkomst."
        if scenario.model.synthetic
        else "",
    ):
        append_row(sheet, [line])
    sheet.column_dimensions["A"].width = 110

    ws = book.create_sheet("Per pool")
    years = plans[0].problem.years if plans else []
    rows: list[list[Any]] = []
    for item in plans:
        planned = item.plan.beds
        rows.append(
            [
                names[item.pool],
                STATUS_NL.get(item.plan.status, item.plan.status),
                " ".join(item.plan.explanation) or None,
                *[None if planned is None else int(planned[y].sum()) for y in years],
            ]
        )
    write_table(
        ws,
        [
            Column("pool"),
            Column("plan"),
            Column("waarom niet", "wrap"),
            *[Column(f"plekken {y}", "count") for y in years],
        ],
        rows,
        freeze_columns=1,
    )

    ws = book.create_sheet("Aanbieders")
    rows = []
    for item in plans:
        if item.plan.beds is None:
            continue
        for provider, by_year in item.plan.beds.iterrows():
            beds0 = as_int(item.problem.providers.at[provider, "beds"])
            label = provider_names.get((item.pool, str(provider)), str(provider))
            rows.append([names[item.pool], label, beds0, *[int(by_year[y]) for y in years]])
    write_table(
        ws,
        [
            Column("pool"),
            Column("aanbieder"),
            Column("0-meting", "count"),
            *[Column(str(y), "count") for y in years],
        ],
        rows,
        freeze_columns=2,
        empty="Geen pool met een plan.",
    )

    ws = book.create_sheet("Kosten")
    rows = []
    for item in plans:
        if item.plan.cost_eur is None:
            continue
        providers = item.problem.providers
        for year, cost in item.plan.cost_eur.iterrows():
            days = days_in(as_int(year))
            baseline = float((providers["beds"] * providers["cost_per_bed_day_eur"]).sum()) * days
            rows.append(
                [
                    names[item.pool],
                    as_int(year),
                    baseline,
                    as_float(cost["beds_eur"]),
                    baseline - as_float(cost["beds_eur"]),
                    as_float(cost["travel_eur"]),
                    as_float(cost["change_eur"]),
                    as_float(cost["total_eur"]),
                ]
            )
    write_table(
        ws,
        [
            Column("pool"),
            Column("jaar", "year"),
            Column("plekken van de 0-meting", "euro"),
            Column("plekken in het plan", "euro"),
            Column("minder dan de 0-meting", "euro"),
            Column("reistijd (waardering)", "euro"),
            Column("veranderingen", "euro"),
            Column("totaal van het plan", "euro"),
        ],
        rows,
        freeze_columns=2,
        empty="Geen pool met een plan.",
    )

    ws = book.create_sheet("Minimale bedden")
    rows = []
    for item in plans:
        for year, row in item.minimal.iterrows():
            rows.append(
                [
                    names[item.pool],
                    as_int(year),
                    as_float(row["arrivals_per_year"]),
                    as_float(row["offered_load_beds"]),
                    as_int(row["formula_beds"]),
                    as_float(row["refused_share"]),
                    _or_none(as_float(row["refused_share_one_less"])),
                    as_int(row["extra_beds"]),
                    as_int(row["beds"]),
                ]
            )
    write_table(
        ws,
        [
            Column("pool"),
            Column("jaar", "year"),
            Column("aanvragen per jaar", "decimal"),
            Column("verwachte bezetting", "decimal"),
            Column("minimaal (formule)", "count"),
            Column("elders geplaatst", "share_1"),
            Column("met één plek minder", "share_1"),
            Column("erbij na simulatie", "count"),
            Column("minimaal in het plan", "count"),
        ],
        rows,
        freeze_columns=2,
    )

    ws = book.create_sheet("Reistijd")
    rows = []
    for item in plans:
        if item.plan.travel is None:
            continue
        for trip in item.plan.travel.itertuples():
            rows.append(
                [
                    names[item.pool],
                    regions.get(str(trip.region), str(trip.region)),
                    as_int(trip.year),
                    as_float(trip.load_beds),
                    _or_none(as_float(trip.mean_travel_minutes)),
                    _or_none(as_float(trip.far_share)),
                ]
            )
    write_table(
        ws,
        [
            Column("pool"),
            Column("regio"),
            Column("jaar", "year"),
            Column("verwachte bezetting", "decimal"),
            Column("gemiddelde reistijd (min)", "decimal"),
            Column("aandeel verder dan een uur", "share"),
        ],
        rows,
        freeze_columns=2,
        empty="Geen pool met een plan.",
    )

    ws = book.create_sheet("Controle")
    rows = [
        [
            names[str(r.pool)],
            as_int(r.year),
            as_float(r.beds),
            _or_none(as_float(r.occupancy_rate)),
            as_float(r.refused_share),
            _or_none(as_float(r.refused_ci_low)),
            _or_none(as_float(r.refused_ci_high)),
            as_float(r.max_refused_share),
            "geen plan: 0-meting gesimuleerd"
            if r.verdict == NO_PLAN
            else verdict_text(str(r.verdict)),
        ]
        for r in check.itertuples()
    ]
    write_table(
        ws,
        [
            Column("pool"),
            Column("jaar", "year"),
            Column("plekken", "count"),
            Column("bezettingsgraad", "share"),
            Column("elders geplaatst", "share_1"),
            Column("95%-interval van", "share_1"),
            Column("tot", "share_1"),
            Column("norm (hoogstens)", "share_1"),
            Column("oordeel", "verdict"),
        ],
        rows,
        verdicts=[None if v == NO_PLAN else str(v) for v in check["verdict"]],
        freeze_columns=2,
    )
    book.save(path)
    return path


def _or_none(value: float) -> float | None:
    """Return the number, or None (an empty cell) for NaN."""
    return None if math.isnan(value) else value


def _ceiling_text(settings: PoolAfbouwIn) -> str:
    """Say the agreed ceiling towards zero, or that there is none."""
    if not settings.ceiling_share_of_baseline:
        return "Er is geen plafond afgesproken."
    years = ", ".join(
        f"in {y} hoogstens {nl.percent(share)}"
        for y, share in sorted(settings.ceiling_share_of_baseline.items())
    )
    return f"Afgesproken plafond: {years} van de plekken van de 0-meting."
