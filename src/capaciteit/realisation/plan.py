"""The agreed afbouw plan, read back from its ``plan.csv`` and checked against the model.

``capaciteit afbouw`` writes ``plan.csv``: one row per provider, care form and year with
the beds (places) on 1 January of that year, and what changed. After the ontwikkeltafel
agrees the plan, that file is the yardstick of every quarterly realisation: its beds are
what each provider should have, and simulating the region with exactly those beds gives
what the occupancy, instroom and waiting lists can be expected to do (:mod:`.band`).

A plan may also be written by hand: only ``provider``, ``care_form``, ``year`` and
``beds`` are required; the other columns of ``plan.csv`` are allowed and ignored here.
The file is read like a model table (:func:`capaciteit.io.tables.read_table`: every problem
listed with its row, the same size limits), then every provider and care form is checked
against the scenario's model.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from capaciteit.core.tables import Column, TableSpec
from capaciteit.domain.scenario import Scenario
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.tables import UnreadableTableError, read_table
from capaciteit.simulation.spec import SimSpec

PLAN_TABLE = TableSpec(
    name="plan",
    key=("provider", "care_form", "year"),
    description="The agreed afbouw plan: beds per provider, care form and year.",
    columns=(
        Column("provider", "id", description="Provider code of the model."),
        Column("care_form", "id", description="Care form id of the model."),
        Column("year", "int", min=1900, max=2200, description="Year (beds on 1 January)."),
        Column("beds", "int", unit="beds", min=0, max=100_000, description="Agreed beds."),
        Column("change", "int", required=False, unit="beds"),
        Column("afbouw", "int", required=False, unit="beds", min=0),
        Column("opbouw", "int", required=False, unit="beds", min=0),
        Column("beds_0_meting", "int", required=False, unit="beds", min=0),
        Column("cost_eur", "float", required=False, min=0),
    ),
)
"""The columns of ``plan.csv`` as :func:`read_plan` accepts them."""


def read_plan(path: Path, scenario: Scenario) -> pd.DataFrame:
    """Read the agreed plan ``path`` (CSV or xlsx) and check it against ``scenario``'s model.

    Returns a long frame with the columns ``provider``, ``care_form``, ``year``, ``beds``
    (and ``cost_eur`` when the file has it), one row per provider, care form and year.
    Raises :class:`~capaciteit.errors.InvalidInputError` listing every problem (unreadable
    file, bad cell, duplicate row, unknown provider or care form, no year inside the
    scenario's horizon); nothing is returned from a refused file.
    """
    problems: list[Problem] = []
    what = "Het afgesproken plan"
    if not path.is_file():
        raise InvalidInputError(
            what,
            [Problem(path.name, "bestaat niet.", "Geef het plan.csv van 'capaciteit afbouw'.")],
        )
    try:
        frame = read_table(path, PLAN_TABLE, problems)
    except UnreadableTableError:
        raise InvalidInputError(what, problems) from None
    providers = set(scenario.model.provider_ids)
    forms = set(scenario.model.care_form_ids)
    for row in frame.to_dict(orient="records"):
        provider, form = str(row["provider"]), str(row["care_form"])
        if provider not in providers:
            problems.append(
                Problem(
                    path.name,
                    f"aanbieder '{provider}' staat niet in het model.",
                    f"Gebruik een van: {', '.join(scenario.model.provider_ids)}.",
                    row=int(row["_row"]),
                    column="provider",
                    id=provider,
                )
            )
        if form not in forms:
            problems.append(
                Problem(
                    path.name,
                    f"zorgvorm '{form}' staat niet in het model.",
                    f"Gebruik een van: {', '.join(scenario.model.care_form_ids)}.",
                    row=int(row["_row"]),
                    column="care_form",
                    id=provider,
                )
            )
    if not problems and not frame["year"].isin(scenario.years).any():
        problems.append(
            Problem(
                path.name,
                f"heeft geen enkel jaar binnen het scenario ({scenario.start_year}–"
                f"{scenario.end_year}).",
                "Geef het plan dat bij dit scenario hoort.",
            )
        )
    if problems:
        raise InvalidInputError(what, problems)
    columns = ["provider", "care_form", "year", "beds"]
    if frame["cost_eur"].notna().all():
        columns.append("cost_eur")
    out = frame[columns].copy()
    out["provider"] = out["provider"].astype(str)
    out["care_form"] = out["care_form"].astype(str)
    out["year"] = out["year"].astype("int64")
    out["beds"] = out["beds"].astype("int64")
    return out.sort_values(["provider", "care_form", "year"]).reset_index(drop=True)


def planned_beds(plan: pd.DataFrame) -> pd.Series:
    """Beds per ``(provider, care_form, year)`` of a plan from :func:`read_plan`."""
    beds = plan.set_index(["provider", "care_form", "year"])["beds"].astype("int64")
    return beds.sort_index()


def plan_capacity(plan: pd.DataFrame, spec: SimSpec, scenario: Scenario) -> SimSpec:
    """Return ``spec`` with the plan's beds per ``(care_form, provider)`` and year.

    In a year the plan covers, a pair of a care form the plan covers has the plan's beds
    (none when the plan leaves the pair out that year). A horizon year the plan does not
    cover, and a care form the plan says nothing about, keep the scenario's beds. A pair
    the plan opens that the scenario has no tariff for gets the model's tariff for the
    care form (only costs depend on it). This is how the afbouw plan is simulated too
    (:func:`capaciteit.optimisation.afbouw_plan.afbouw_plan`).
    """
    inside = plan[plan["year"].isin(spec.years)]
    planned = inside.pivot_table(
        index=["care_form", "provider"], columns="year", values="beds", aggfunc="sum"
    ).fillna(0)
    plan_forms = set(inside["care_form"])
    others = [pair for pair in spec.capacity.index if str(pair[0]) not in plan_forms]
    pairs = pd.MultiIndex.from_tuples([*planned.index, *others], names=["care_form", "provider"])
    capacity = spec.capacity.reindex(index=pairs, columns=spec.years).fillna(0)
    years = [int(y) for y in planned.columns]
    capacity.loc[planned.index, years] = planned[years].to_numpy()
    capacity = capacity.astype("int64")
    extra = capacity.index.difference(spec.cost_per_bed_day.index)
    if len(extra):
        tariffs = [scenario.model.cost_per_bed_day(str(f), str(p)) or 0.0 for f, p in extra]
        added = pd.Series(tariffs, index=extra, dtype="float64")
        spec = dataclasses.replace(spec, cost_per_bed_day=pd.concat([spec.cost_per_bed_day, added]))
    return spec.with_capacity(capacity)
