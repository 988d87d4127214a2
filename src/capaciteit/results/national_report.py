"""The report of a national run: summary.json, CSV tables, ``landelijk.xlsx`` and charts.

A national run (:mod:`capaciteit.national`) simulates jeugdregio's side by side, with the
pools they buy together (JeugdzorgPlus, say) as one system each: one waiting list, the
nearest free bed, and the pool's costs split over its regions by a key (*naar gebruik*:
their bed-days; *naar inwoners*; a *vaste verdeling*). This module writes what it says for
two readers: programs get English long tables, people get a Dutch workbook and charts.

Files written into the output folder:

``summary.json``
    scenario, model, years, replications, seed, executor, elapsed time and the number of
    stays simulated; then per year and care form the national beds, occupied beds,
    occupancy, admissions, placements outside the region (``overflow_count``) and costs;
    per pool and year its beds, occupancy, refused share, mean wait and cost with the split
    per region (key, share, euros); per region and year its own costs, its part of the
    pools and the total. Every measured figure is ``{"mean", "ci_low", "ci_high"}`` (95%,
    ``null`` where there is no interval: beds are an input); never NaN.
``regions.csv``, ``pools.csv``, ``pool_use.csv``, ``cost_split.csv``, ``region_costs.csv``,
``national.csv``
    the tables of :class:`~capaciteit.national.results.NationalResults` (``regions``,
    ``pools``, ``use``, ``costs``, ``region_costs``, ``national``) with the Dutch names
    next to the ids (``region_name``, ``pool_name``, ``care_form_name``).
``landelijk.xlsx``
    the same for people (sheets below), every number a number with a Dutch format.
``landelijk.png``, ``kostenverdeling.png``
    see :mod:`capaciteit.results.national_charts`.

Sheets of ``landelijk.xlsx``: *Toelichting* (what was run and how to read it), *Landelijk*
(per care form and year, summed over regions and pools), *Pools* (per pool and year),
*Gebruik per regio* (each member region's use of its pools), *Kostenverdeling* (each
pool's cost per region under its key, with its interval), *Regio's* (per region and year:
own costs, its part of the pools and the total) and *Regio's per verblijfsvorm* (the main
figures of each region's forms, a pooled form as the region's use of the pool). One table
per sheet, so its header stays in view and its filter covers the whole table.

A figure that does not exist is never shown as NaN: a mean wait in a year without
admissions reads "geen opnames", a missing interval is an empty cell.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import to_hex
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit import __version__
from capaciteit._pandas import as_int
from capaciteit.core import nl
from capaciteit.national.model import NationalModel, NationalScenario
from capaciteit.national.results import NationalResults
from capaciteit.results.cells import append_row, write_csv
from capaciteit.results.charts import FORM_LABELS
from capaciteit.results.kpi_names import KPI_NAMES_NL
from capaciteit.results.national_charts import (
    MAX_POOLS,
    PoolPanel,
    cost_chart,
    cost_title,
    national_chart,
)
from capaciteit.results.sheets import BOLD, LEFT, WRAP, Column, Kind, style, write_table

COST_KEYS_NL = {"use": "naar gebruik", "inhabitants": "naar inwoners", "fixed": "vaste verdeling"}
"""The cost keys (verdeelsleutels) as a planner says them."""

NO_VALUE = {
    "mean_wait_days": "geen opnames",
    "p90_wait_days": "geen opnames",
    "mean_travel_minutes": "geen opnames",
    "occupancy_rate": "geen bedden",
    "refused_share": "geen aanvragen",
    "placed_within_24h_share": "geen aanvragen",
    "use_share": "geen gebruik",
}
"""What a cell says when a figure does not exist that year (else it stays empty)."""

Estimate = tuple[float, float, float]
NAN: Estimate = (math.nan, math.nan, math.nan)


@dataclass(frozen=True)
class Measure:
    """A figure in a sheet: its KPI (or use measure), Dutch header, kind and interval."""

    kpi: str
    header: str
    kind: Kind
    interval: bool = False


# the same Dutch names as the simulation's web page
N = KPI_NAMES_NL
BEDS = Measure("capacity_beds", N["capacity_beds"], "count")
OCCUPIED = Measure("occupied_beds", N["occupied_beds"], "decimal")
OCCUPANCY = Measure("occupancy_rate", N["occupancy_rate"], "share")
REQUESTS = Measure("requests", N["requests"], "decimal")
ADMISSIONS = Measure("admissions", N["admissions"], "decimal")
OVERFLOW = Measure("overflow_count", N["overflow_count"], "decimal")
REFUSED = Measure("refused_share", N["refused_share"], "share")
WAIT = Measure("mean_wait_days", N["mean_wait_days"], "decimal")
WITHIN_24H = Measure("placed_within_24h_share", N["placed_within_24h_share"], "share")
WAITING_END = Measure("waiting_at_year_end", N["waiting_at_year_end"], "decimal")
COST = Measure("cost_eur", N["cost_eur"], "euro")
USE_SHARE = Measure("use_share", "Aandeel in de beddagen van de pool", "share")
TRAVEL = Measure("mean_travel_minutes", "Gemiddelde reistijd (minuten)", "decimal")


def ci(measure: Measure) -> Measure:
    """Return ``measure`` with its 95% interval in two columns after it."""
    return Measure(measure.kpi, measure.header, measure.kind, interval=True)


NATIONAL_MEASURES = (BEDS, ci(OCCUPIED), ci(OCCUPANCY), ADMISSIONS, OVERFLOW, ci(COST))
POOL_MEASURES = (
    BEDS,
    OCCUPIED,
    ci(OCCUPANCY),
    REQUESTS,
    ADMISSIONS,
    OVERFLOW,
    ci(REFUSED),
    ci(WAIT),
    WAITING_END,
    ci(COST),
)
USE_MEASURES = (REQUESTS, ADMISSIONS, OCCUPIED, ci(USE_SHARE), WAIT, TRAVEL, OVERFLOW)
FORM_MEASURES = (BEDS, OCCUPIED, OCCUPANCY, ADMISSIONS, WAIT, WITHIN_24H, OVERFLOW, COST)
POOLED_FROM_USE = {"occupied_beds", "admissions", "mean_wait_days", "overflow_count"}
"""Figures of a region's pooled form taken from its use of the pool (the rest empty)."""


# --------------------------------------------------------------------------------------
# names and lookups
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NationalNames:
    """Dutch names of the regions, pools and care forms of a national model, in order."""

    regions: dict[str, str]
    pools: dict[str, str]
    forms: dict[str, str]
    region_forms: dict[str, dict[str, str]]

    @staticmethod
    def of(model: NationalModel) -> NationalNames:
        """Take the names from the model: regions and pools, the region models' forms."""
        region_forms = {
            r: {str(k): str(v) for k, v in model.scenarios[r].model.care_forms["name"].items()}
            for r in model.region_ids
        }
        forms: dict[str, str] = {}
        for names in region_forms.values():
            for form, name in names.items():
                forms.setdefault(form, name)
        return NationalNames(
            regions={str(k): str(v) for k, v in model.regions["name"].items()},
            pools={str(k): str(v) for k, v in model.pools["name"].items()},
            forms=forms,
            region_forms=region_forms,
        )

    def region(self, region: object) -> str:
        """Name the region (its id when unnamed)."""
        return self.regions.get(str(region), str(region))

    def pool(self, pool: object) -> str:
        """Name the pool (its id when unnamed)."""
        return self.pools.get(str(pool), str(pool))

    def form(self, form: object, region: str | None = None) -> str:
        """Name the care form, as ``region`` names it when given."""
        names = self.region_forms.get(region, self.forms) if region else self.forms
        key = str(form)
        return names.get(key, self.forms.get(key, FORM_LABELS.get(key, key)))

    def form_order(self, forms: Iterable[object]) -> list[str]:
        """Return ``forms`` in the region models' order (unknown forms last, as given)."""
        order = {f: i for i, f in enumerate(self.forms)}
        given = list(dict.fromkeys(str(f) for f in forms))
        return sorted(given, key=lambda f: (order.get(f, len(order)), given.index(f)))


def finite(value: Any) -> float | None:
    """Return ``value`` as a float, or None when it is missing, NaN or infinite."""
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


Estimates = dict[tuple[Any, ...], dict[str, Estimate]]


def estimates(frame: pd.DataFrame, keys: Sequence[str], item: str = "kpi") -> Estimates:
    """Return ``{(*keys): {item: (mean, ci_low, ci_high)}}`` of a long results table.

    Ids become strings and years ints, so ``(pool, year)`` finds ``("jzp", 2025)``.
    """
    out: Estimates = {}
    if frame.empty:
        return out
    columns = [*keys, item, "mean", "ci_low", "ci_high"]
    for row in frame[columns].itertuples(index=False, name=None):
        key = tuple(
            int(v) if c == "year" else str(v) for c, v in zip(keys, row[: len(keys)], strict=True)
        )
        out.setdefault(key, {})[str(row[len(keys)])] = (
            float(row[-3]),
            float(row[-2]),
            float(row[-1]),
        )
    return out


def text(value: Any) -> str:
    """Return ``value`` as text; missing (None, NaN) as the empty text."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def estimate_json(value: Estimate) -> dict[str, float | None]:
    """Return an estimate as JSON: ``mean``, ``ci_low``, ``ci_high`` (``null`` where unknown)."""
    return {"mean": finite(value[0]), "ci_low": finite(value[1]), "ci_high": finite(value[2])}


def columns_of(measures: Sequence[Measure]) -> list[Column]:
    """Return the sheet columns of ``measures``: each, and its interval where it has one."""
    out = []
    for m in measures:
        out.append(Column(m.header, m.kind))
        if m.interval:
            out += [Column(f"{m.header}: 95%-interval van", m.kind)]
            out += [Column(f"{m.header}: 95%-interval tot", m.kind)]
    return out


def cells_of(values: Mapping[str, Estimate], measures: Sequence[Measure]) -> list[Any]:
    """Return the cells of ``measures`` from ``values`` (kpi -> estimate), never NaN."""
    out: list[Any] = []
    for m in measures:
        mean, low, high = values.get(m.kpi, NAN)
        shown = finite(mean)
        out.append(NO_VALUE.get(m.kpi) if shown is None and m.kpi in values else shown)
        if m.interval:
            out += [finite(low), finite(high)]
    return out


def executor_text(name: str) -> str:
    """Say in Dutch where the replications ran (``serial``, ``processes``, ``dask://...``)."""
    if name == "serial":
        return "één proces op deze computer"
    if name == "processes":
        return "meerdere processen op deze computer"
    if name.startswith("dask-local:"):
        return f"een Dask-cluster op deze computer ({name.removeprefix('dask-local:')} workers)"
    if name.startswith("dask://"):
        return f"het Dask-cluster {name.removeprefix('dask://')}"
    return name


def _years(results: NationalResults, model: NationalModel) -> list[int]:
    found = {int(y) for t in (results.national, results.regions) for y in t.get("year", [])}
    return sorted(found) or model.years


def _replications(results: NationalResults, scenario: NationalScenario) -> int:
    kpis = results.per_replication.get("kpis")
    if kpis is None or kpis.empty or "replication" not in kpis.index.names:
        return scenario.replications
    return int(kpis.index.get_level_values("replication").nunique())


def _members(model: NationalModel, pool: str) -> list[str]:
    """Member regions of ``pool`` in the model's region order."""
    if pool not in model.pool_regions.index.get_level_values("pool"):
        return []
    mine = {str(r) for r in model.pool_regions.loc[pool].index}
    return [r for r in model.region_ids if r in mine]


# --------------------------------------------------------------------------------------
# summary.json
# --------------------------------------------------------------------------------------


def national_summary(
    results: NationalResults,
    scenario: NationalScenario,
    *,
    elapsed_s: float,
    executor: str,
    stays: int,
) -> dict[str, Any]:
    """Return the content of ``summary.json`` (see the module)."""
    model = scenario.model
    names = NationalNames.of(model)
    years = _years(results, model)
    national = estimates(results.national, ["care_form", "year"])
    pools = estimates(results.pools, ["pool", "year"])
    forms = names.form_order(results.national.get("care_form", []))
    per_year: dict[str, dict[str, Any]] = {}
    for year in years:
        per_year[str(year)] = {
            form: {
                "name": names.form(form),
                **{
                    m.kpi: estimate_json(national[(form, year)].get(m.kpi, NAN))
                    for m in NATIONAL_MEASURES
                },
            }
            for form in forms
            if (form, year) in national
        }
    split: dict[tuple[str, int], dict[str, Any]] = {}
    for row in results.costs.to_dict(orient="records"):
        split.setdefault((str(row["pool"]), int(row["year"])), {})[str(row["region"])] = {
            "cost_key": str(row["cost_key"]),
            "key_share": finite(row["key_share"]),
            "cost_eur": estimate_json((row["mean"], row["ci_low"], row["ci_high"])),
            "note": text(row.get("note")),
        }
    pool_kpis = ("capacity_beds", "occupancy_rate", "refused_share", "mean_wait_days", "cost_eur")
    pool_part = {
        str(pool): {
            "name": names.pool(pool),
            "care_form": str(model.pools.at[pool, "care_form"]),
            "cost_key": str(model.pools.at[pool, "cost_key"]),
            "regions": _members(model, str(pool)),
            "years": {
                str(year): {
                    **{
                        k: estimate_json(pools.get((str(pool), year), {}).get(k, NAN))
                        for k in pool_kpis
                    },
                    "cost_split": split.get((str(pool), year), {}),
                }
                for year in years
            },
        }
        for pool in model.pools.index
    }
    region_part: dict[str, dict[str, Any]] = {
        r: {
            "name": names.region(r),
            "inhabitants": as_int(model.regions.at[r, "inhabitants"]),
            "pools": [str(p) for p in model.pooled_forms(r).values()],
            "years": {},
        }
        for r in model.region_ids
    }
    for row in results.region_costs.to_dict(orient="records"):
        region_part[str(row["region"])]["years"][str(int(row["year"]))] = {
            k: finite(row[k]) for k in ("own_eur", "pools_eur", "total_eur")
        }
    return {
        "capaciteit_version": __version__,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scenario": {
            "name": scenario.name,
            "description": scenario.description,
            "file": str(scenario.path) if scenario.path else None,
        },
        "model": {
            "name": model.name,
            "description": model.description,
            "path": str(model.path),
            "synthetic": model.synthetic,
            "notes": list(model.notes),
        },
        "horizon": {"start_year": model.start_year, "end_year": model.end_year},
        "years": years,
        "replications": _replications(results, scenario),
        "seed": scenario.seed,
        "executor": executor,
        "elapsed_s": finite(elapsed_s),
        "stays": int(stays),
        "confidence_level": 0.95,
        "names": {"regions": names.regions, "pools": names.pools, "care_forms": names.forms},
        "national": per_year,
        "pools": pool_part,
        "regions": region_part,
    }


# --------------------------------------------------------------------------------------
# CSV tables
# --------------------------------------------------------------------------------------


def _named(frame: pd.DataFrame, names: NationalNames) -> pd.DataFrame:
    """Return ``frame`` with a Dutch name column after each id column it has."""
    out = frame.copy()
    regions = out["region"].astype(str).tolist() if "region" in out.columns else None
    for column in ("pool", "region", "care_form"):
        if column not in out.columns:
            continue
        if column == "pool":
            named = [names.pool(v) for v in out[column]]
        elif column == "region":
            named = [names.region(v) for v in out[column]]
        else:  # as the region's own model names it, where there is a region
            named = [
                names.form(v, regions[i] if regions else None) for i, v in enumerate(out[column])
            ]
        out.insert(list(out.columns).index(column) + 1, f"{column}_name", named)
    return out


CSV_TABLES = {
    "regions": "regions",
    "pools": "pools",
    "pool_use": "use",
    "cost_split": "costs",
    "region_costs": "region_costs",
    "national": "national",
}
"""CSV file stem -> the :class:`NationalResults` table it holds."""


# --------------------------------------------------------------------------------------
# the workbook
# --------------------------------------------------------------------------------------


def _explanation_sheet(ws: Worksheet, scenario: NationalScenario, facts: Mapping[str, Any]) -> None:
    """Say what was run (model, years, replications, seed) and how to read the workbook."""
    model = scenario.model
    names = NationalNames.of(model)
    append_row(ws, [f"Landelijke doorrekening: {scenario.name}"])
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    append_row(ws, [])
    replications = int(facts["replications"])
    synthetic = (
        "ja: verzonnen voorbeeldcijfers, niet de werkelijkheid van een regio"
        if model.synthetic
        else "nee: de cijfers van de regio's zelf"
    )
    pools = []
    for pool in model.pools.index:
        members = nl.join(names.region(r) for r in _members(model, str(pool)))
        beds = int(model.pool_beds.loc[pool, "beds"].sum())
        key = COST_KEYS_NL.get(str(model.pools.at[pool, "cost_key"]), "")
        form = names.form(model.pools.at[pool, "care_form"])
        pools.append(
            f"{names.pool(pool)}: {form} voor {members}; "
            f"{nl.plural(beds, 'bed', 'bedden')} op de 0-meting; kosten {key}."
        )
    seconds = facts["elapsed_s"]
    elapsed = "onbekend" if seconds is None else f"{nl.number(seconds, 1)} seconden"
    details: list[tuple[str, Any, Kind]] = [
        ("Scenario", scenario.name, "wrap"),
        ("Landelijk model", model.name, "wrap"),
        ("Verzonnen gegevens", synthetic, "wrap"),
        ("Jaren", nl.years(facts["years"]), "wrap"),
        ("Regio's", nl.join(names.region(r) for r in model.region_ids), "wrap"),
        ("Replicaties", replications, "count"),
        ("Startgetal toeval (seed)", scenario.seed, "year"),
        ("Gesimuleerde verblijven", int(facts["stays"]), "count"),
        ("Rekentijd", elapsed, "wrap"),
        ("Uitgevoerd op", executor_text(str(facts["executor"])), "wrap"),
        *[("Pool", text, "wrap") for text in pools or ["geen: elke regio koopt zelf in"]],
        (
            "Wat een pool is",
            "Een verblijfsvorm die regio's samen inkopen (bovenregionaal), zoals "
            "JeugdzorgPlus. De regio's in een pool hebben zelf geen bedden van die vorm: "
            "jongeren uit alle deelnemende regio's staan op één wachtlijst en krijgen het "
            "dichtstbijzijnde vrije bed. Na hun verblijf gaan ze terug naar de "
            "verblijfsvormen van hun eigen regio.",
            "wrap",
        ),
        (
            "Verdeelsleutel",
            "De kosten van een pool (bezette beddagen maal het tarief van de aanbieder) "
            "worden elk jaar over de regio's verdeeld. Naar gebruik: naar het aandeel van "
            "de regio in de beddagen van de pool dat jaar (een jaar zonder gebruik naar "
            "inwoners). Naar inwoners: naar het aandeel in de inwoners van de deelnemende "
            "regio's. Vaste verdeling: de afgesproken aandelen. De aandelen van een jaar "
            "tellen op tot 100%, dus de delen van de regio's tellen op tot de kosten van "
            "de pool.",
            "wrap",
        ),
        (
            "Gemiddelde en interval",
            "Elk getal is het gemiddelde over "
            f"{nl.plural(replications, 'replicatie', 'replicaties')}: herhalingen van "
            "dezelfde jaren met ander toeval. Het 95%-interval (van – tot) "
            "zegt hoe zeker dat gemiddelde is; met meer replicaties wordt het smaller. "
            "Bedden zijn invoer en hebben geen interval. Een leeg vak betekent dat er geen "
            "waarde is (zoals een interval bij één replicatie); 'geen opnames' betekent dat "
            "er dat jaar niemand is opgenomen, zodat er geen wachttijd is.",
            "wrap",
        ),
        (
            "Begrippen",
            "Bezet: het gemiddelde aantal bezette bedden over het jaar. Bezettingsgraad: "
            "bezet gedeeld door de bedden. Buiten de regio geplaatst: aanvragen waarvoor "
            "binnen de regio of pool geen plek was. Landelijk: de som over alle regio's en "
            "pools; de bezettingsgraad is die van al die bedden samen.",
            "wrap",
        ),
        (
            "Tabbladen",
            "Landelijk: per verblijfsvorm en jaar. Pools: per pool en jaar. Gebruik per "
            "regio: wat elke regio van haar pools gebruikt. Kostenverdeling: de kosten van "
            "elke pool per regio. Regio's: de kosten per regio en jaar. Regio's per "
            "verblijfsvorm: de kerncijfers van elke vorm van een regio.",
            "wrap",
        ),
    ]
    description = scenario.description or model.description
    if description:
        details.insert(1, ("Omschrijving", description, "wrap"))
    for key, value, kind in details:
        cells = append_row(ws, [key, value])
        cells[0].font = BOLD
        cells[0].alignment = WRAP
        style(cells[1], kind)
        if kind != "wrap":
            cells[1].alignment = LEFT
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 100


def _national_rows(results: NationalResults, names: NationalNames) -> list[list[Any]]:
    values = estimates(results.national, ["care_form", "year"])
    years = sorted({int(y) for y in results.national.get("year", [])})
    return [
        [names.form(form), year, *cells_of(values[(form, year)], NATIONAL_MEASURES)]
        for form in names.form_order(results.national.get("care_form", []))
        for year in years
        if (form, year) in values
    ]


def _pool_rows(
    results: NationalResults, model: NationalModel, names: NationalNames
) -> list[list[Any]]:
    values = estimates(results.pools, ["pool", "year"])
    years = sorted({int(y) for y in results.pools.get("year", [])})
    rows = []
    for pool in (str(p) for p in model.pools.index):
        form = names.form(model.pools.at[pool, "care_form"])
        key = COST_KEYS_NL.get(str(model.pools.at[pool, "cost_key"]), "")
        for year in years:
            if (pool, year) in values:
                figures = cells_of(values[(pool, year)], POOL_MEASURES)
                rows.append([names.pool(pool), form, key, year, *figures])
    return rows


def _use_rows(
    results: NationalResults, model: NationalModel, names: NationalNames
) -> list[list[Any]]:
    values = estimates(results.use, ["pool", "region", "year"], "measure")
    years = sorted({int(y) for y in results.use.get("year", [])})
    return [
        [
            names.pool(pool),
            names.region(region),
            year,
            *cells_of(values[(pool, region, year)], USE_MEASURES),
        ]
        for pool in (str(p) for p in model.pools.index)
        for region in _members(model, pool)
        for year in years
        if (pool, region, year) in values
    ]


def _cost_rows(
    results: NationalResults, model: NationalModel, names: NationalNames
) -> list[list[Any]]:
    order = {p: i for i, p in enumerate(str(p) for p in model.pools.index)}
    regions = {r: i for i, r in enumerate(model.region_ids)}
    records = sorted(
        results.costs.to_dict(orient="records"),
        key=lambda r: (
            order.get(str(r["pool"]), 0),
            int(r["year"]),
            regions.get(str(r["region"]), 0),
        ),
    )
    return [
        [
            names.pool(r["pool"]),
            names.region(r["region"]),
            int(r["year"]),
            COST_KEYS_NL.get(str(r["cost_key"]), str(r["cost_key"])),
            finite(r["key_share"]),
            finite(r["mean"]),
            finite(r["ci_low"]),
            finite(r["ci_high"]),
            text(r.get("note")),
        ]
        for r in records
    ]


def _region_cost_rows(results: NationalResults, names: NationalNames) -> list[list[Any]]:
    return [
        [
            names.region(r["region"]),
            int(r["year"]),
            finite(r["own_eur"]),
            finite(r["pools_eur"]),
            finite(r["total_eur"]),
        ]
        for r in results.region_costs.to_dict(orient="records")
    ]


def _region_form_rows(
    results: NationalResults, model: NationalModel, names: NationalNames
) -> list[list[Any]]:
    """Per region, year and form: its own forms' KPIs, a pooled form as its use and cost."""
    own = estimates(results.regions, ["region", "care_form", "year"])
    use = estimates(results.use, ["pool", "region", "year"], "measure")
    cost = estimates(results.costs.assign(kpi="cost_eur"), ["pool", "region", "year"])
    years = _years(results, model)
    rows = []
    for region in model.region_ids:
        pooled = model.pooled_forms(region)
        forms = list(names.region_forms.get(region, {}))
        for year in years:
            for form in forms:
                if form in pooled:
                    key = (pooled[form], region, year)
                    used = use.get(key, {})
                    mine = {k: v for k, v in used.items() if k in POOLED_FROM_USE}
                    mine["cost_eur"] = cost.get(key, {}).get("cost_eur", NAN)
                    via = names.pool(pooled[form])
                elif (region, form, year) in own:
                    mine, via = own[(region, form, year)], "eigen bedden"
                else:
                    continue
                rows.append(
                    [
                        names.region(region),
                        year,
                        names.form(form, region),
                        via,
                        *cells_of(mine, FORM_MEASURES),
                    ]
                )
    return rows


NATIONAL_COLUMNS = [Column("Verblijfsvorm"), Column("Jaar", "year"), *columns_of(NATIONAL_MEASURES)]
POOL_COLUMNS = [
    Column("Pool"),
    Column("Verblijfsvorm"),
    Column("Verdeelsleutel"),
    Column("Jaar", "year"),
    *columns_of(POOL_MEASURES),
]
USE_COLUMNS = [Column("Pool"), Column("Regio"), Column("Jaar", "year"), *columns_of(USE_MEASURES)]
COST_COLUMNS = [
    Column("Pool"),
    Column("Regio"),
    Column("Jaar", "year"),
    Column("Verdeelsleutel"),
    Column("Aandeel", "share_1"),
    Column("Kosten", "euro"),
    Column("Kosten: 95%-interval van", "euro"),
    Column("Kosten: 95%-interval tot", "euro"),
    Column("Opmerking", "wrap"),
]
REGION_COLUMNS = [
    Column("Regio"),
    Column("Jaar", "year"),
    Column("Kosten eigen verblijfsvormen", "euro"),
    Column("Deel in de kosten van pools", "euro"),
    Column("Kosten totaal", "euro"),
]
REGION_FORM_COLUMNS = [
    Column("Regio"),
    Column("Jaar", "year"),
    Column("Verblijfsvorm"),
    Column("Ingekocht via"),
    *columns_of(FORM_MEASURES),
]


def write_national_workbook(
    results: NationalResults, scenario: NationalScenario, path: Path, facts: Mapping[str, Any]
) -> Path:
    """Write ``landelijk.xlsx`` (sheets: see the module); return ``path``.

    ``facts`` holds ``years``, ``replications``, ``stays``, ``elapsed_s`` and ``executor``
    (as in ``summary.json``).
    """
    model = scenario.model
    names = NationalNames.of(model)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Toelichting"
    _explanation_sheet(ws, scenario, facts)
    no_pools = "Dit model heeft geen pools."
    sheets: list[tuple[str, list[Column], list[list[Any]], int, str | None]] = [
        ("Landelijk", NATIONAL_COLUMNS, _national_rows(results, names), 2, None),
        ("Pools", POOL_COLUMNS, _pool_rows(results, model, names), 1, no_pools),
        ("Gebruik per regio", USE_COLUMNS, _use_rows(results, model, names), 3, no_pools),
        ("Kostenverdeling", COST_COLUMNS, _cost_rows(results, model, names), 3, no_pools),
        ("Regio's", REGION_COLUMNS, _region_cost_rows(results, names), 2, None),
        (
            "Regio's per verblijfsvorm",
            REGION_FORM_COLUMNS,
            _region_form_rows(results, model, names),
            3,
            None,
        ),
    ]
    for title, columns, rows, freeze, empty in sheets:
        write_table(wb.create_sheet(title), columns, rows, freeze_columns=freeze, empty=empty)
    wb.save(path)
    return path


# --------------------------------------------------------------------------------------
# charts and the whole report
# --------------------------------------------------------------------------------------


def _pool_panels(
    results: NationalResults, model: NationalModel, names: NationalNames
) -> tuple[list[PoolPanel], int]:
    """Return the pools to draw (at most :data:`MAX_POOLS`) and how many there are.

    The most expensive, but at least one of every cost key in the model: a reader sees how
    each key splits the costs.
    """
    panels = []
    costs = results.costs
    totals = results.pools[results.pools["kpi"] == "cost_eur"] if len(results.pools) else None
    for pool in (str(p) for p in model.pools.index):
        mine = costs[costs["pool"] == pool] if len(costs) else costs
        if mine.empty or totals is None:
            continue
        shares = mine.pivot_table(index="year", columns="region", values="mean", aggfunc="sum")
        shares = shares[[r for r in _members(model, pool) if r in shares.columns]]
        total = totals[totals["pool"] == pool].set_index("year")[["mean", "ci_low", "ci_high"]]
        cost_key = str(model.pools.at[pool, "cost_key"])
        key = COST_KEYS_NL.get(cost_key, "")
        panels.append((cost_key, PoolPanel(f"{names.pool(pool)} (kosten {key})", shares, total)))
    ranked = sorted(panels, key=lambda p: -float(p[1].total["mean"].fillna(0.0).sum()))
    # every cost key the model uses is drawn (its most expensive pool), then the others
    first_of_key = {id(panel) for panel in {k: p for k, p in reversed(ranked)}.values()}
    order = [i for i, (_, p) in enumerate(ranked) if id(p) in first_of_key]
    order += [i for i in range(len(ranked)) if i not in order]
    shown = sorted(order[:MAX_POOLS])  # drawn in the order of their cost
    return [ranked[i][1] for i in shown], len(panels)


def write_national_report(
    results: NationalResults,
    scenario: NationalScenario,
    out: Path,
    *,
    elapsed_s: float,
    executor: str,
    stays: int,
) -> dict[str, Path]:
    """Write every file of a national run into ``out`` (created); return them by name.

    Names: ``summary``, the CSV stems of :data:`CSV_TABLES`, ``workbook``
    (``landelijk.xlsx``), ``national_chart`` (``landelijk.png``) and ``cost_chart``
    (``kostenverdeling.png``).
    """
    out.mkdir(parents=True, exist_ok=True)
    model = scenario.model
    names = NationalNames.of(model)
    summary = national_summary(
        results, scenario, elapsed_s=elapsed_s, executor=executor, stays=stays
    )
    files: dict[str, Path] = {"summary": out / "summary.json"}
    files["summary"].write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    for stem, table in CSV_TABLES.items():
        files[stem] = write_csv(_named(getattr(results, table), names), out / f"{stem}.csv")
    files["workbook"] = write_national_workbook(results, scenario, out / "landelijk.xlsx", summary)
    pooled = frozenset(str(f) for f in model.pools["care_form"])
    national_forms = names.form_order(results.national.get("care_form", []))
    forms = [f for f in national_forms if f in pooled] + [
        f for f in national_forms if f not in pooled
    ]
    replications = nl.plural(int(summary["replications"]), "replicatie", "replicaties")
    files["national_chart"] = national_chart(
        results.national,
        forms,
        {f: names.form(f) for f in forms},
        pooled,
        out / "landelijk.png",
        f"{scenario.name}: bedden en bezetting landelijk ({replications})",
    )
    panels, count = _pool_panels(results, model, names)
    # tab20 holds ten dark colours and their light shades: the dark ones first
    palette = colormaps["tab20"]
    colors = {
        r: to_hex(palette((2 * i) % 20 + (2 * i // 20) % 2)) for i, r in enumerate(model.region_ids)
    }
    files["cost_chart"] = cost_chart(
        panels,
        colors,
        names.regions,
        out / "kostenverdeling.png",
        cost_title(len(panels), count),
    )
    return files
