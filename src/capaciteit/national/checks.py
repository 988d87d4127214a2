"""Consistency of a national model: every problem with its file, row, id and fix (Dutch).

The tables' own columns are checked by the table reader; here the rules between them and
the region models: pools name known regions and providers, a pooled form is one form
(the same waiting rules and stays in every member region, and no beds of its own in a
member), the 0-meting adds up, cost keys are complete, travel times cover every region
and provider of a pool.
"""

from __future__ import annotations

import math
from typing import cast

import pandas as pd

from capaciteit._pandas import as_float, as_int
from capaciteit.core import nl
from capaciteit.domain.model import SINKS, RegionModel
from capaciteit.errors import Problem

SEPARATOR = "/"
"""Between a region and its form in a simulation of several regions (see compose)."""

SAME_RULES = (
    "waiting_policy",
    "max_wait_days",
    "max_queue_length",
    "priority",
    "max_age_years",
    "age_out_to",
    "sibling_group_share",
    "sibling_group_size",
)
"""Care form columns that must agree between the members of a pool: one waiting list."""


def national_check(
    tables: dict[str, pd.DataFrame], files: dict[str, str], models: dict[str, RegionModel]
) -> list[Problem]:
    """Return every problem between the national tables and the region ``models``."""
    out: list[Problem] = []
    regions, pools = tables["regions"], tables["pools"]
    pool_regions, pool_beds = tables["pool_regions"], tables["pool_beds"]
    region_ids, pool_ids = set(regions["region"]), set(pools["pool"])
    form_of = dict(zip(pools["pool"], pools["care_form"], strict=True))
    key_of = dict(zip(pools["pool"], pools["cost_key"], strict=True))

    for row in pool_regions.itertuples():
        where = {"row": as_int(row._1), "id": f"{row.pool}/{row.region}"}
        if row.pool not in pool_ids:
            out.append(
                Problem(
                    files["pool_regions"],
                    f"pool '{row.pool}' staat niet in {files['pools']}.",
                    f"Voeg de pool toe aan {files['pools']} of gebruik een van: "
                    f"{', '.join(sorted(pool_ids))}.",
                    column="pool",
                    **where,  # type: ignore[arg-type]
                )
            )
        if row.region not in region_ids:
            out.append(
                Problem(
                    files["pool_regions"],
                    f"regio '{row.region}' staat niet in {files['regions']}.",
                    f"Voeg de regio toe aan {files['regions']} of corrigeer de id.",
                    column="region",
                    **where,  # type: ignore[arg-type]
                )
            )
        share = as_float(row.fixed_share)
        if row.pool in key_of and key_of[row.pool] != "fixed" and not math.isnan(share):
            out.append(
                Problem(
                    files["pool_regions"],
                    f"een vast aandeel bij pool '{row.pool}', die de kosten verdeelt naar "
                    f"'{key_of[row.pool]}'.",
                    "Laat fixed_share leeg, of zet de cost_key van de pool op fixed.",
                    column="fixed_share",
                    **where,  # type: ignore[arg-type]
                )
            )
    _check_ids(regions, pools, files, models, out)
    _check_members(pools, pool_regions, files, out)
    _check_forms(form_of, pool_regions, files, models, out)
    _check_beds(pool_ids, pool_beds, pool_regions, files, out)
    _check_travel(tables["travel"], pool_regions, pool_beds, files, out)
    _check_capacity(tables["pool_capacity"], pool_beds, files, out)
    _check_priorities(pool_regions, files, models, out)
    return out


def _check_priorities(
    pool_regions: pd.DataFrame,
    files: dict[str, str],
    models: dict[str, RegionModel],
    out: list[Problem],
) -> None:
    """On one waiting list, a place in the queue means the same in every member region.

    The list is served by the priority of the form someone waits in (``priority``) or of
    waiting at home (``home_priority``): both must agree between the members of a pool.
    """
    for pool, members in pool_regions.groupby("pool", sort=False):
        regions = [str(r) for r in members["region"] if str(r) in models]
        if len(regions) < 2:
            continue
        home = {r: models[r].meta.home_priority for r in regions}
        if len(set(home.values())) > 1:
            out.append(
                Problem(
                    files["pool_regions"],
                    f"de regio's van pool '{pool}' geven thuis wachtenden een andere voorrang "
                    "(home_priority: " + ", ".join(f"{r} {p}" for r, p in home.items()) + ").",
                    "Geef home_priority in model.yaml van de regio's van een pool dezelfde "
                    "waarde: ze staan op één wachtlijst.",
                    id=str(pool),
                )
            )
        first = models[regions[0]].care_forms["priority"]
        for region in regions[1:]:
            mine = models[region].care_forms["priority"]
            differ = [
                str(f) for f in mine.index if f in first.index and not _same(mine[f], first[f])
            ]
            if differ:
                out.append(
                    Problem(
                        f"{region}: care_forms",
                        f"regio '{region}' geeft {', '.join(differ)} een andere voorrang "
                        f"(priority) dan regio '{regions[0]}', maar ze delen pool '{pool}'.",
                        "Geef de zorgvormen van de regio's van een pool dezelfde priority: "
                        "wie in een bed wacht op de pool, staat op één wachtlijst.",
                        column="priority",
                        id=", ".join(differ),
                    )
                )


def _check_ids(
    regions: pd.DataFrame,
    pools: pd.DataFrame,
    files: dict[str, str],
    models: dict[str, RegionModel],
    out: list[Problem],
) -> None:
    """Ids that would be mistaken for others in the simulation of several regions.

    There a region's form is ``region/form`` and a pool is its id, next to the sinks
    (``thuis``, ...): a pool called ``thuis`` would take in everyone who goes home.
    """
    for row in pools.itertuples():
        if row.pool in SINKS or SEPARATOR in str(row.pool):
            out.append(
                Problem(
                    files["pools"],
                    f"de pool-id '{row.pool}' is de naam van een uitstroom of bevat '{SEPARATOR}'.",
                    f"Kies een andere id (niet {', '.join(SINKS)}, zonder '{SEPARATOR}'), "
                    "bijvoorbeeld jzp-noord.",
                    row=as_int(row._1),
                    column="pool",
                    id=str(row.pool),
                )
            )
    for row in regions.itertuples():
        if SEPARATOR in str(row.region):
            out.append(
                Problem(
                    files["regions"],
                    f"de regio-id '{row.region}' bevat '{SEPARATOR}'.",
                    f"Schrijf de id zonder '{SEPARATOR}', bijvoorbeeld met een '-'.",
                    row=as_int(row._1),
                    column="region",
                    id=str(row.region),
                )
            )
    for region, model in models.items():
        for form in model.care_form_ids:
            if SEPARATOR in form:
                out.append(
                    Problem(
                        f"{region}: care_forms",
                        f"de zorgvorm-id '{form}' bevat '{SEPARATOR}'.",
                        f"Schrijf de id zonder '{SEPARATOR}' (in alle tabellen van het model).",
                        id=form,
                    )
                )


def _check_members(
    pools: pd.DataFrame, pool_regions: pd.DataFrame, files: dict[str, str], out: list[Problem]
) -> None:
    """Each pool has regions; fixed shares are given and add up to 1; one pool per form."""
    for row in pools.itertuples():
        members = pool_regions[pool_regions["pool"] == row.pool]
        if members.empty:
            out.append(
                Problem(
                    files["pools"],
                    f"pool '{row.pool}' heeft geen regio's.",
                    f"Zet de regio's die de pool gebruiken in {files['pool_regions']}.",
                    row=as_int(row._1),
                    id=str(row.pool),
                )
            )
            continue
        if row.cost_key == "fixed":
            shares = members["fixed_share"]
            if shares.isna().any():
                missing = ", ".join(members.loc[shares.isna(), "region"])
                out.append(
                    Problem(
                        files["pool_regions"],
                        f"pool '{row.pool}' verdeelt de kosten met vaste aandelen, maar "
                        f"{missing} heeft geen fixed_share.",
                        "Geef elke regio van de pool een fixed_share (samen 1).",
                        column="fixed_share",
                        id=str(row.pool),
                    )
                )
            elif abs(float(shares.sum()) - 1.0) > 1e-6:
                total = float(shares.sum())
                out.append(
                    Problem(
                        files["pool_regions"],
                        f"de vaste aandelen van pool '{row.pool}' tellen op tot "
                        f"{nl.number(total, 2)}, niet tot 1.",
                        "Pas de fixed_share van de regio's aan zodat ze samen 1 zijn "
                        f"(samen {nl.signed(1.0 - total, 2)}).",
                        column="fixed_share",
                        id=str(row.pool),
                    )
                )
    form_of = dict(zip(pools["pool"], pools["care_form"], strict=True))
    seen: dict[tuple[str, str], str] = {}
    for row in pool_regions.itertuples():
        form = form_of.get(row.pool)
        if form is None:
            continue
        other = seen.setdefault((str(row.region), str(form)), str(row.pool))
        if other != row.pool:
            out.append(
                Problem(
                    files["pool_regions"],
                    f"regio '{row.region}' koopt {form} in twee pools: '{other}' en '{row.pool}'.",
                    "Laat de regio in één pool per zorgvorm.",
                    row=as_int(row._1),
                    id=f"{row.pool}/{row.region}",
                )
            )


def _check_forms(
    form_of: dict[str, str],
    pool_regions: pd.DataFrame,
    files: dict[str, str],
    models: dict[str, RegionModel],
    out: list[Problem],
) -> None:
    """Check that a pooled form is in each member, without own beds, with the same rules."""
    for pool, members in pool_regions.groupby("pool", sort=False):
        form = form_of.get(str(pool))
        if form is None:
            continue
        first: tuple[str, pd.Series, pd.Series] | None = None
        first_bands: list[tuple[float, float, float]] = []
        for region in members["region"]:
            model = models.get(str(region))
            if model is None:
                continue
            if form not in model.care_form_ids:
                out.append(
                    Problem(
                        files["pools"],
                        f"pool '{pool}' deelt {form}, maar het model van regio '{region}' "
                        "kent die zorgvorm niet.",
                        f"Voeg {form} toe aan het regiomodel (care_forms, los, routing), of "
                        "haal de regio uit de pool.",
                        id=str(pool),
                    )
                )
                continue
            own = (
                int(model.beds["beds"].xs(form, level="care_form").sum())
                if (form in model.beds.index.get_level_values("care_form"))
                else 0
            )
            if own:
                out.append(
                    Problem(
                        files["pool_regions"],
                        f"regio '{region}' koopt {form} in pool '{pool}', maar heeft in haar "
                        f"eigen model ook {own} bedden {form}.",
                        f"Zet die bedden in {files['pool_beds']} (bij de pool) en haal ze uit "
                        "beds.csv van de regio, of haal de regio uit de pool.",
                        id=f"{pool}/{region}",
                    )
                )
            waiting = _waiting(model, form)
            if waiting:
                out.append(
                    Problem(
                        f"{region}: beds",
                        f"regio '{region}' heeft in haar 0-meting {waiting} jongeren op de "
                        f"wachtlijst voor {form}, dat in pool '{pool}' wordt ingekocht; een "
                        "wachtlijst van een pool bij de start kan (nog) niet worden ingelezen.",
                        f"Zet waiting voor {form} op 0 en noem het verschil in de toelichting "
                        "van de afspraken, of haal de regio uit de pool.",
                        column="waiting",
                        id=form,
                    )
                )
            rules = cast(
                pd.Series,
                model.care_forms.loc[form][[c for c in SAME_RULES if c in model.care_forms]],
            )
            los = cast(pd.Series, model.los.loc[form][["distribution", "mean_days", "cv"]])
            if str(rules["age_out_to"]) not in SINKS:
                out.append(
                    Problem(
                        f"{region}: care_forms",
                        f"{form} is een gedeelde zorgvorm; wie de leeftijdsgrens bereikt gaat "
                        f"naar '{rules['age_out_to']}', een zorgvorm van één regio.",
                        f"Laat age_out_to van {form} naar een uitstroom wijzen "
                        f"({', '.join(SINKS)}).",
                        column="age_out_to",
                        id=form,
                    )
                )
            bands = _bands(model, form)
            if first is None:
                first = (str(region), rules, los)
                first_bands = bands
                continue
            if bands != first_bands:
                out.append(
                    Problem(
                        f"{region}: age",
                        f"{form} is gedeeld in pool '{pool}' maar de leeftijden bij instroom "
                        f"verschillen van regio '{first[0]}'.",
                        f"Geef {form} in alle regio's van de pool dezelfde leeftijdsbanden "
                        "(age.csv).",
                        id=form,
                    )
                )
            for name, mine, theirs in (("care_forms", rules, first[1]), ("los", los, first[2])):
                differ = [c for c in mine.index if not _same(mine[c], theirs[c])]
                if differ:
                    out.append(
                        Problem(
                            f"{region}: {name}",
                            f"{form} is gedeeld in pool '{pool}' maar verschilt van regio "
                            f"'{first[0]}' in {', '.join(differ)}.",
                            f"Geef {form} in alle regio's van de pool dezelfde "
                            f"{', '.join(differ)} (één wachtlijst, één soort verblijf).",
                            id=form,
                        )
                    )


def _waiting(model: RegionModel, form: str) -> int:
    """Count the young people waiting for ``form`` in the region's 0-meting."""
    beds = model.beds
    if "waiting" not in beds.columns or form not in beds.index.get_level_values("care_form"):
        return 0
    return int(beds["waiting"].xs(form, level="care_form").fillna(0).sum())


def _bands(model: RegionModel, form: str) -> list[tuple[float, float, float]]:
    """Return the form's age bands at entry (min, max, share), sorted."""
    age = model.age
    if age.empty:
        return []
    rows = age[age["care_form"] == form]
    return sorted(
        (float(a), float(b), float(c))
        for a, b, c in zip(rows["age_min_years"], rows["age_max_years"], rows["share"], strict=True)
    )


def _same(a: object, b: object) -> bool:
    if pd.isna(a) and pd.isna(b):  # type: ignore[call-overload]
        return True
    return bool(a == b)


def _check_beds(
    pool_ids: set[str],
    pool_beds: pd.DataFrame,
    pool_regions: pd.DataFrame,
    files: dict[str, str],
    out: list[Problem],
) -> None:
    """Beds belong to known pools, hold their occupants, and the occupants add up."""
    for row in pool_beds.itertuples():
        where = {"row": as_int(row._1), "id": f"{row.pool}/{row.provider}"}
        if row.pool not in pool_ids:
            out.append(
                Problem(
                    files["pool_beds"],
                    f"pool '{row.pool}' staat niet in {files['pools']}.",
                    f"Voeg de pool toe aan {files['pools']} of corrigeer de id.",
                    column="pool",
                    **where,  # type: ignore[arg-type]
                )
            )
        if as_int(row.occupied) > as_int(row.beds):
            out.append(
                Problem(
                    files["pool_beds"],
                    f"{row.occupied} bezet op {row.beds} bedden.",
                    "Maak occupied niet groter dan beds (een 0-meting telt bezette bedden).",
                    column="occupied",
                    **where,  # type: ignore[arg-type]
                )
            )
    for pool in sorted(pool_ids):
        beds = pool_beds[pool_beds["pool"] == pool]
        if beds.empty:
            out.append(
                Problem(
                    files["pool_beds"],
                    f"pool '{pool}' heeft geen aanbieders met bedden.",
                    f"Zet de aanbieders van de pool met hun bedden in {files['pool_beds']}.",
                    id=pool,
                )
            )
            continue
        in_beds = int(beds["occupied"].sum())
        members = pool_regions[pool_regions["pool"] == pool]
        of_regions = int(members["occupied"].fillna(0).sum())
        if in_beds != of_regions:
            out.append(
                Problem(
                    files["pool_regions"],
                    f"in pool '{pool}' zijn op de 0-meting {in_beds} bedden bezet "
                    f"({files['pool_beds']}), maar de regio's tellen {of_regions} jongeren.",
                    "Laat occupied per regio optellen tot de bezette bedden van de pool.",
                    column="occupied",
                    id=pool,
                )
            )


def _check_travel(
    travel: pd.DataFrame,
    pool_regions: pd.DataFrame,
    pool_beds: pd.DataFrame,
    files: dict[str, str],
    out: list[Problem],
) -> None:
    """Travel times name known pairs and, for a pool with any, cover all of its pairs."""
    if travel.empty:
        return
    given = set(zip(travel["region"], travel["provider"], strict=True))
    used: set[tuple[str, str]] = set()
    for pool, members in pool_regions.groupby("pool", sort=False):
        providers = list(pool_beds.loc[pool_beds["pool"] == pool, "provider"])
        pairs = [(str(r), str(p)) for r in members["region"] for p in providers]
        used.update(pairs)
        missing = [pair for pair in pairs if pair not in given]
        if missing and len(missing) < len(pairs):
            shown = ", ".join(f"{r}→{p}" for r, p in missing[:10])
            more = f" en {len(missing) - 10} meer" if len(missing) > 10 else ""
            out.append(
                Problem(
                    files["travel"],
                    f"reistijden van pool '{pool}' ontbreken voor {shown}{more}.",
                    "Geef voor elke regio van de pool de reistijd naar elke aanbieder van de "
                    "pool, of geen enkele (dan gaat een jongere naar de aanbieder met de "
                    "meeste vrije bedden).",
                    id=str(pool),
                )
            )
    for row in travel.itertuples():
        if (row.region, row.provider) not in used:
            out.append(
                Problem(
                    files["travel"],
                    f"regio '{row.region}' gebruikt geen pool met aanbieder '{row.provider}'.",
                    "Verwijder de rij, of corrigeer de regio of de aanbieder.",
                    row=as_int(row._1),
                    id=f"{row.region}/{row.provider}",
                )
            )


def _check_capacity(
    capacity: pd.DataFrame, pool_beds: pd.DataFrame, files: dict[str, str], out: list[Problem]
) -> None:
    """Planned beds name a provider of the pool."""
    known = set(zip(pool_beds["pool"], pool_beds["provider"], strict=True))
    pools = sorted(set(pool_beds["pool"]))
    for row in capacity.itertuples():
        if row.pool not in pools:
            out.append(
                Problem(
                    files["pool_capacity"],
                    f"pool '{row.pool}' is onbekend.",
                    f"Gebruik een van: {', '.join(pools)}.",
                    row=as_int(row._1),
                    column="pool",
                    id=str(row.pool),
                )
            )
        elif (row.pool, row.provider) not in known:
            out.append(
                Problem(
                    files["pool_capacity"],
                    f"aanbieder '{row.provider}' heeft geen bedden in pool '{row.pool}'.",
                    f"Zet de aanbieder eerst in {files['pool_beds']}, of corrigeer de id.",
                    row=as_int(row._1),
                    id=f"{row.pool}/{row.provider}",
                )
            )
