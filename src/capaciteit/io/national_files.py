"""Reading a national model folder and a national scenario file.

Every table and every region model is read before anything is refused, so that one run
lists every problem of every file (a region's problems are named with the region). Region
models used by several regions (a reference model scaled per region) are read once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from capaciteit._pandas import as_float, as_int, as_str
from capaciteit.domain.model import RegionModel
from capaciteit.domain.scenario import (
    BedChange,
    Horizon,
    Levers,
    ProviderLosChange,
    Scenario,
    ScenarioFile,
)
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.model_files import load_model
from capaciteit.io.scenario_files import resolve_scenario
from capaciteit.io.tables import UnreadableTableError, find_table, read_table
from capaciteit.io.yaml_files import parse_yaml_model, read_yaml
from capaciteit.national.checks import national_check
from capaciteit.national.model import (
    POOL_CAPACITY,
    TABLES,
    NationalFile,
    NationalModel,
    NationalScenario,
    NationalScenarioFile,
    pooled_by_region,
)

NATIONAL_FILE = "national.yaml"
MAX_REGIONS = 400
"""The most regions of a national model (the Netherlands has 42 jeugdregio's)."""


def is_national(path: Path) -> bool:
    """Whether ``path`` is a national model folder."""
    return path.is_dir() and (path / NATIONAL_FILE).is_file()


def is_national_scenario(path: Path) -> bool:
    """Whether ``path`` is a national scenario file (it names a ``national:`` folder)."""
    if not path.is_file() or path.suffix not in (".yaml", ".yml"):
        return False
    data = read_yaml(path, [])
    return isinstance(data, dict) and "national" in data


def load_national_scenario(path: str | Path, **overrides: Any) -> NationalScenario:
    """Read the national scenario ``path`` and its national model (``overrides``: keys).

    Raises
    ------
    InvalidInputError
        With every problem of the scenario, the national tables and the region models.
    """
    file = Path(path)
    problems: list[Problem] = []
    what = f"Het landelijke scenario '{file}'"
    if not file.is_file():
        problems.append(Problem(str(file), "bestaat niet.", "Geef het pad van een .yaml op."))
        raise InvalidInputError(what, problems)
    data = read_yaml(file, problems)
    if data is None:
        raise InvalidInputError(what, problems)
    data.update({k: v for k, v in overrides.items() if v is not None})
    parsed = parse_yaml_model(NationalScenarioFile, data, file.name, problems)
    if parsed is None:
        raise InvalidInputError(what, problems)
    folder = (file.parent / parsed.national).resolve()
    plan = (file.parent / parsed.pool_plan).resolve() if parsed.pool_plan else None
    if plan is not None and not plan.is_file():
        problems.append(
            Problem(
                file.name,
                f"het plan '{parsed.pool_plan}' bestaat niet (gezocht in {plan}).",
                f"Verbeter pool_plan in {file.name}: een pool_capacity.csv, bijvoorbeeld "
                "van 'capaciteit national afbouw'.",
                column="pool_plan",
            )
        )
        raise InvalidInputError(what, problems)
    model = load_national(folder, parsed.horizon, plan, parsed.region_levers, file.name)
    return NationalScenario(
        name=parsed.name,
        description=parsed.description.strip(),
        path=file.resolve(),
        model=model,
        replications=parsed.replications,
        seed=parsed.seed,
        pool_afbouw=parsed.pool_afbouw,
    )


def load_national(
    path: str | Path,
    horizon: Horizon | None = None,
    pool_plan: Path | None = None,
    region_levers: Levers | None = None,
    levers_file: str = "region_levers",
) -> NationalModel:
    """Read and validate the national model in ``path`` over ``horizon``.

    Without a horizon: eight years from the baseline year. ``pool_plan``: a
    ``pool_capacity`` table that replaces the folder's (an afbouw plan to simulate).
    ``region_levers``: the levers of every region without a scenario file of its own.
    """
    directory = Path(path)
    what = f"Het landelijke model '{directory}'"
    problems: list[Problem] = []
    if not is_national(directory):
        problems.append(
            Problem(
                str(directory),
                f"is geen map met {NATIONAL_FILE}.",
                "Geef de map van een landelijk model op (zoals models/nederland).",
            )
        )
        raise InvalidInputError(what, problems)
    data = read_yaml(directory / NATIONAL_FILE, problems)
    meta = parse_yaml_model(NationalFile, data, NATIONAL_FILE, problems) if data else None
    tables, files, unreadable = _read_tables(directory, pool_plan, problems)
    if meta is None or unreadable:
        raise InvalidInputError(what, problems)
    if len(tables["regions"]) > MAX_REGIONS:
        # each region is a model to read, a scenario to resolve and forms to simulate
        problems.append(
            Problem(
                files["regions"],
                f"heeft {len(tables['regions'])} regio's; een landelijk model heeft er "
                f"hoogstens {MAX_REGIONS}.",
                "Verdeel het model, bijvoorbeeld per landsdeel.",
            )
        )
        raise InvalidInputError(what, problems)
    horizon = horizon or Horizon(start_year=meta.baseline_year, end_year=meta.baseline_year + 7)
    # checks between tables on a table with problems would only repeat them: first those
    tables_ok = not problems
    models = _region_models(directory, tables["regions"], files["regions"], problems)
    if tables_ok:
        problems += national_check(tables, files, models)
    levers = region_levers or Levers()
    scenarios = _scenarios(directory, tables, models, horizon, levers, levers_file, problems)
    if problems:
        raise InvalidInputError(what, problems)
    years = list(range(horizon.start_year, horizon.end_year + 1))

    def keyed(name: str, key: list[str]) -> pd.DataFrame:
        return tables[name].drop(columns="_row").set_index(key)

    pool_beds = keyed("pool_beds", ["pool", "provider"])
    notes = []
    if pool_plan is not None:
        planned = set(tables["pool_capacity"]["pool"])
        for pool, name in zip(tables["pools"]["pool"], tables["pools"]["name"], strict=True):
            if pool not in planned:
                notes.append(
                    f"{name} staat niet in het plan ({pool_plan.name}): de pool houdt de "
                    "plekken van de 0-meting."
                )
    return NationalModel(
        name=meta.name,
        description=meta.description.strip(),
        synthetic=meta.synthetic,
        path=directory.resolve(),
        start_year=horizon.start_year,
        end_year=horizon.end_year,
        regions=keyed("regions", ["region"]),
        scenarios=scenarios,
        pools=keyed("pools", ["pool"]),
        pool_regions=keyed("pool_regions", ["pool", "region"]),
        pool_beds=pool_beds,
        pool_capacity=_pool_capacity(pool_beds, tables["pool_capacity"], years),
        travel=keyed("travel", ["region", "provider"]),
        notes=tuple(notes),
    )


def _read_tables(
    directory: Path, pool_plan: Path | None, problems: list[Problem]
) -> tuple[dict[str, pd.DataFrame], dict[str, str], bool]:
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    unreadable = False
    for name, spec in TABLES.items():
        found = find_table(directory, name)
        if name == "pool_capacity" and pool_plan is not None:
            found = [pool_plan]
            if not pool_plan.is_file():
                problems.append(
                    Problem(str(pool_plan), "bestaat niet.", "Geef het pad van pool_capacity.")
                )
                unreadable = True
                continue
        files[name] = found[0].name if found else f"{name}.csv"
        if not found:
            if spec.required:
                problems.append(
                    Problem(
                        f"{name}.csv",
                        "ontbreekt.",
                        f"Voeg {name}.csv toe ({spec.description}).",
                    )
                )
                unreadable = True
            tables[name] = _empty(spec.name)
            continue
        try:
            tables[name] = read_table(found[0], spec, problems)
        except UnreadableTableError:
            unreadable = True
    return tables, files, unreadable


def _empty(name: str) -> pd.DataFrame:
    spec = TABLES[name]
    return pd.DataFrame(
        {c: pd.Series(dtype=object) for c in ["_row", *(col.name for col in spec.columns)]}
    )


def _region_models(
    directory: Path, regions: pd.DataFrame, fname: str, problems: list[Problem]
) -> dict[str, RegionModel]:
    """Each region's model (read once per folder), scaled by the region's ``scale``."""
    read: dict[Path, RegionModel | None] = {}
    out: dict[str, RegionModel] = {}
    for row in regions.itertuples():
        folder = (directory / str(row.model)).resolve()
        if folder not in read:
            try:
                read[folder] = load_model(folder)
            except InvalidInputError as exc:
                read[folder] = None
                for p in exc.problems:
                    problems.append(dataclasses.replace(p, file=f"{row.model}/{p.file}"))
        model = read[folder]
        if model is None:
            if not folder.is_dir():
                problems.append(
                    Problem(
                        fname,
                        f"de modelmap '{row.model}' bestaat niet (gezocht in {folder}).",
                        "Geef de map van het regiomodel op vanaf de map van het landelijke model.",
                        row=as_int(row._1),
                        column="model",
                        id=str(row.region),
                    )
                )
            continue
        out[str(row.region)] = scaled(model, as_float(row.scale))
    return out


def scaled(model: RegionModel, scale: float) -> RegionModel:
    """``model`` with referrals, beds, occupants and waiting lists times ``scale``.

    Beds and people are whole: rounded half to even, occupants never above the beds.
    """
    if scale == 1.0:
        return model
    beds = model.beds.copy()
    for column in ("beds", "waiting"):
        if column in beds.columns:
            values = beds[column].astype("float64").fillna(0) * scale
            beds[column] = np.round(values).astype("int64")
    occupied = np.round(beds["occupied"].astype("float64").fillna(0) * scale)
    beds["occupied"] = np.minimum(occupied, beds["beds"]).astype("int64").astype("Int64")
    instroom = model.instroom.copy()
    instroom["arrivals_per_year"] = instroom["arrivals_per_year"] * scale
    return dataclasses.replace(model, beds=beds, instroom=instroom)


def _scenarios(
    directory: Path,
    tables: dict[str, pd.DataFrame],
    models: dict[str, RegionModel],
    horizon: Horizon,
    levers: Levers,
    levers_file: str,
    problems: list[Problem],
) -> dict[str, Scenario]:
    """Each region's scenario over the national horizon: its own file's levers, or none.

    A problem of the national ``region_levers`` is the same for every region that uses
    them: it is named once, against the national scenario file.
    """
    regions = tables["regions"]
    pooled = _pooled_forms(tables)
    shared: dict[tuple[str, str], Problem] = {}
    out: dict[str, Scenario] = {}
    for row in regions.itertuples():
        region = str(row.region)
        model = models.get(region)
        if model is None:
            continue
        data: dict[str, Any] = {
            "schema_version": 1,
            "name": str(row.name),
            "model": ".",
            "levers": levers.model_dump(by_alias=True),
        }
        file: Path | None = None
        if str(row.scenario):
            file = (directory / str(row.scenario)).resolve()
            given = read_yaml(file, problems) if file.is_file() else None
            if given is None:
                problems.append(
                    Problem(
                        "regions.csv",
                        f"het scenario '{row.scenario}' van regio '{region}' kan niet "
                        "worden gelezen.",
                        "Geef een scenariobestand op vanaf de map van het landelijke model.",
                        row=as_int(row._1),
                        column="scenario",
                        id=region,
                    )
                )
                continue
            data = {**given, "model": "."}
        # the national run decides the years, the start and the draws
        data.update(
            horizon=horizon.model_dump(),
            initial_state="occupied",
            warm_up_days=0,
            replications=1,
            seed=0,
        )
        found: list[Problem] = []
        parsed = parse_yaml_model(ScenarioFile, data, "scenario", found)
        if parsed is not None:
            found += _pooled_levers(parsed.levers, pooled.get(region, {}))
            if not found:
                try:
                    out[region] = resolve_scenario(parsed, model, file)
                except InvalidInputError as exc:
                    found = list(exc.problems)
        for problem in found:
            if file is not None:
                problems.append(dataclasses.replace(problem, file=f"{region}: {file.name}"))
                continue
            column = f"region_levers: {problem.column}" if problem.column else "region_levers"
            named = dataclasses.replace(problem, file=levers_file, column=column)
            shared.setdefault((problem.message, problem.fix), named)
    problems.extend(shared.values())
    problems.extend(_pooled_stays(out, pooled))
    return out


def _pooled_forms(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, str]]:
    """Per region: the care forms it buys in a pool, and the pool (from the tables read)."""
    pools, members = tables["pools"], tables["pool_regions"]
    return pooled_by_region(pools["pool"], pools["care_form"], members["pool"], members["region"])


def _pooled_levers(levers: Levers, pooled: dict[str, str]) -> list[Problem]:
    """Bed changes and provider stays of a pooled form belong to the pool, not a region."""
    found = []
    changes: list[tuple[str, BedChange | ProviderLosChange]] = [
        *(("bed_changes", c) for c in levers.bed_changes),
        *(("provider_los_change_pct", c) for c in levers.provider_los_change_pct),
    ]
    for substitution in levers.substitution:
        pool = pooled.get(substitution.from_care_form)
        if pool is None:
            continue
        found.append(
            Problem(
                "scenario",
                f"de verwijzingen naar {substitution.from_care_form} gaan naar pool '{pool}'; "
                f"een deel ervan naar {substitution.to} sturen (substitution, "
                f"{substitution.year}) kan voor een pool (nog) niet.",
                f"Verlaag de verwijzingen naar {substitution.from_care_form} met "
                "instroom_change_pct en verhoog die naar "
                f"{substitution.to}, of haal de regel weg.",
                column="levers.substitution",
                id=substitution.from_care_form,
            )
        )
    for kind, change in changes:
        pool = pooled.get(change.care_form)
        if pool is None:
            continue
        found.append(
            Problem(
                "scenario",
                f"{change.care_form} wordt ingekocht in pool '{pool}'; de regio heeft er geen "
                f"eigen aanbieders voor ({kind}, {change.provider}, {change.year}).",
                "Verander de plekken van de pool in pool_capacity.csv of met pool_plan, "
                "en haal deze regel uit de hefbomen van de regio.",
                column=f"levers.{kind}",
                id=change.care_form,
            )
        )
    return found


def _pooled_stays(
    scenarios: dict[str, Scenario], pooled: dict[str, dict[str, str]]
) -> list[Problem]:
    """Check the levers on a pooled form's stays agree (the pool follows its first member)."""
    first: dict[str, tuple[str, pd.Series]] = {}
    found = []
    for region, scenario in scenarios.items():
        for form, pool in pooled.get(region, {}).items():
            if form not in scenario.los_factor.index:
                continue  # a form the region does not know: named by the national checks
            factor = cast(pd.Series, scenario.los_factor.loc[form])
            if pool not in first:
                first[pool] = (region, factor)
                continue
            other, expected = first[pool]
            if not np.allclose(
                factor.to_numpy(dtype="float64"), expected.to_numpy(dtype="float64")
            ):
                found.append(
                    Problem(
                        f"{region}: scenario",
                        f"de verblijfsduur van {form} verandert in regio '{region}' anders dan "
                        f"in regio '{other}' (los_change_pct), maar ze delen pool '{pool}'.",
                        "Geef de regio's van een pool dezelfde los_change_pct voor de gedeelde "
                        "zorgvorm (of zet hem in region_levers).",
                        column="levers.los_change_pct",
                        id=form,
                    )
                )
    return found


def _pool_capacity(pool_beds: pd.DataFrame, plan: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Beds per (pool, provider) and horizon year: the 0-meting, then the plan from its years."""
    capacity = pd.DataFrame(
        {y: pool_beds["beds"].astype("int64") for y in years}, index=pool_beds.index
    )
    if plan.empty:
        return capacity
    for row in plan.sort_values("year").itertuples():
        later = [y for y in years if y >= as_int(row.year)]
        capacity.loc[(as_str(row.pool), as_str(row.provider)), later] = as_int(row.beds)
    return capacity


__all__ = [
    "POOL_CAPACITY",
    "is_national",
    "is_national_scenario",
    "load_national",
    "load_national_scenario",
    "scaled",
]
