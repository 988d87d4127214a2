"""Load a region model directory (``model.yaml`` + tables) into a :class:`RegionModel`.

``load_model`` reads every table, collects every problem (cell level here, cross-table level
in :mod:`capaciteit.checks`) and refuses the model with all of them at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from capaciteit.checks import consistency_check
from capaciteit.domain.model import TABLES, ModelMeta, RegionModel
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.tables import UnreadableTableError, find_table, read_table
from capaciteit.io.yaml_files import parse_yaml_model, read_yaml

MODEL_FILE = "model.yaml"
SCHEMA_VERSION = 1
MISSING = "ontbreekt."
"""The message of a missing file (cross-table checks are skipped then)."""
TABLES_NL = {
    "care_forms": "één rij per zorgvorm en hoe de wachtlijst werkt",
    "providers": "de aanbieders met hun code",
    "beds": "de 0-meting: bedden per aanbieder en zorgvorm",
    "instroom": "de nieuwe instroom per zorgvorm en jaar",
    "seasonality": "maandfactoren op de instroom",
    "los": "de verblijfsduur per zorgvorm",
    "los_observed": "waargenomen verblijfsduren",
    "los_provider": "de gemiddelde verblijfsduur per aanbieder en zorgvorm",
    "routing": "de doorstroom na een verblijf, met aandelen die samen 1 zijn",
    "age": "de leeftijd bij instroom per zorgvorm",
    "costs": "het tarief per beddag per zorgvorm",
}
"""What each table holds, in Dutch, for the fix of a missing table."""


class Units(BaseModel):
    """Units the model's numbers are in; fixed, stated so that readers know."""

    model_config = ConfigDict(extra="forbid")
    time: Literal["days"] = "days"
    money: Literal["EUR"] = "EUR"
    rates: Literal["per_year"] = "per_year"


class ModelFile(BaseModel):
    """Schema of ``model.yaml``."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1]
    name: str = Field(min_length=1)
    baseline_year: int = Field(ge=1900, le=2200, description="year of the 0-meting")
    synthetic: bool = False
    description: str = ""
    home_priority: int = Field(default=1, ge=0)
    units: Units = Units()


def load_model(path: str | Path) -> RegionModel:
    """Read and validate the region model in directory ``path``.

    Raises
    ------
    InvalidInputError
        With every problem found, when anything is wrong.
    """
    directory = Path(path)
    problems: list[Problem] = []
    what = f"Het regiomodel '{directory}'"
    if not directory.is_dir():
        problems.append(
            Problem(str(directory), "is geen map.", "Geef de map van een regiomodel op.")
        )
        raise InvalidInputError(what, problems)
    meta_file = directory / MODEL_FILE
    meta: ModelFile | None = None
    if not meta_file.is_file():
        problems.append(
            Problem(MODEL_FILE, MISSING, "Voeg model.yaml toe (name, baseline_year, ...).")
        )
    else:
        data = read_yaml(meta_file, problems)
        if data is not None:
            meta = parse_yaml_model(ModelFile, data, MODEL_FILE, problems)

    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    unreadable = False
    for name, spec in TABLES.items():
        found = find_table(directory, name)
        if len(found) > 1:
            problems.append(
                Problem(
                    found[0].name,
                    f"zowel {found[0].name} als {found[1].name} bestaat; het is niet duidelijk "
                    "welke de gegevens bevat.",
                    "Houd een van de twee bestanden over.",
                )
            )
            unreadable = True
            continue
        table_path = found[0] if found else None
        if table_path is None:
            if spec.required:
                problems.append(
                    Problem(
                        f"{name}.csv",
                        MISSING,
                        f"Voeg {name}.csv of {name}.xlsx toe: {TABLES_NL.get(name, name)}.",
                    )
                )
            files[name] = f"{name}.csv"
            tables[name] = read_table_empty(name)
            continue
        files[name] = table_path.name
        try:
            tables[name] = read_table(table_path, spec, problems)
        except UnreadableTableError:
            unreadable = True

    # Cross-table checks on a table that could not be read would only repeat that problem.
    if meta is not None and not unreadable and not any(p.message == MISSING for p in problems):
        problems += consistency_check(tables, files, meta.baseline_year)
    if problems or meta is None:
        raise InvalidInputError(what, problems)
    return _build(directory, meta, tables)


def read_table_empty(name: str) -> pd.DataFrame:
    """Return an empty, correctly typed table for an optional file that is absent."""
    spec = TABLES[name]
    frame = pd.DataFrame({"_row": pd.Series([], dtype="int64")})
    for col in spec.columns:
        dtype = {"float": "float64", "int": "Int64"}.get(col.kind, "object")
        frame[col.name] = pd.Series([], dtype=dtype)
    return frame


def _build(directory: Path, meta: ModelFile, t: dict[str, pd.DataFrame]) -> RegionModel:
    def keyed(name: str, key: list[str]) -> pd.DataFrame:
        return t[name].drop(columns="_row").set_index(key).sort_index(kind="stable")

    care_forms = t["care_forms"].drop(columns="_row").set_index("care_form")
    providers = t["providers"].drop(columns="_row").set_index("provider")
    beds = t["beds"].drop(columns="_row").set_index(["provider", "care_form"])
    beds["occupied"] = beds["occupied"].astype("Int64")
    return RegionModel(
        meta=ModelMeta(
            name=meta.name,
            baseline_year=meta.baseline_year,
            schema_version=meta.schema_version,
            synthetic=meta.synthetic,
            description=meta.description.strip(),
            home_priority=meta.home_priority,
            path=directory.resolve(),
        ),
        care_forms=care_forms,
        providers=providers,
        beds=beds,
        instroom=keyed("instroom", ["care_form", "year"]),
        seasonality=keyed("seasonality", ["care_form", "month"]),
        los=t["los"].drop(columns="_row").set_index("care_form"),
        los_observed=t["los_observed"].drop(columns="_row").reset_index(drop=True),
        routing=t["routing"].drop(columns="_row").set_index(["from_care_form", "to"]),
        age=t["age"].drop(columns="_row").reset_index(drop=True),
        costs=keyed("costs", ["care_form", "provider"]),
        los_provider=keyed("los_provider", ["provider", "care_form"]),
    )
