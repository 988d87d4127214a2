"""A plan as a table: one row per cell, a cell being a provider's care form in a year.

An afbouw run writes its plan twice: as the ``plan`` rows of ``plan.json`` and as
``plan.csv``. A plan version that an ontwikkeltafel discusses is the same table, stored
and edited later. Everything in :mod:`capaciteit.plans` works on one shape of it, a
frame indexed by ``(provider, care_form, year)`` with the whole numbers ``beds`` and
``cost_eur`` (the beds times the yearly tariff of the pair), so that a plan read back
from JSON, from CSV or from a database compares cell by cell.

Reading is where a stored or uploaded plan meets the code, so it refuses what would make
a later check meaningless, and says all of it at once: a cell given twice (which one
counts?), beds that are negative, not whole or absurd (over 100.000 in one cell), a
missing provider, care form or year. Other keys of the rows (``change``, ``afbouw``,
``reference_beds``, ...) are derived from the beds and left out.

The need a plan was made against travels with it as ``need`` rows of ``plan.json``
(``care_form, year, beds``); :func:`need_of` reads them back, so a stored run can be
re-checked without simulating again.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from capaciteit.core import nl
from capaciteit.errors import InvalidInputError, Problem

KEY = ["provider", "care_form", "year"]
"""The index of a plan frame."""
MAX_BEDS = 100_000
"""The most beds one cell may hold: more is a typing error, not a plan."""
_WHAT = "Het plan"


def whole(value: Any) -> int | None:
    """Return ``value`` as an int when it is a whole number (``3``, ``3.0``, ``"3"``), else None.

    ``True``/``False``, fractions (``2.5``), text and missing values are not whole numbers.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            number = float(text) if text else math.nan
        except ValueError:
            return None
        value = number
    if hasattr(value, "item") and not isinstance(value, int | float):
        value = value.item()
        if isinstance(value, bool):
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _text(value: Any) -> str | None:
    """Return a provider or care form id as text; None when missing or empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _cells(
    rows: Sequence[Any], file: str, first_row: int, with_cost: bool
) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse plan rows into a frame and every problem (rows numbered from ``first_row``)."""
    problems: list[Problem] = []
    seen: dict[tuple[str, str, int], int] = {}
    records: list[tuple[str, str, int, int, int]] = []
    for i, row in enumerate(rows):
        number = first_row + i
        if not isinstance(row, Mapping):
            problems.append(
                Problem(
                    file,
                    "deze regel is geen cel (aanbieder, zorgvorm, jaar, bedden).",
                    "Geef elke cel met provider, care_form, year, beds en cost_eur.",
                    row=number,
                )
            )
            continue
        provider, form = _text(row.get("provider")), _text(row.get("care_form"))
        year = whole(row.get("year"))
        where = f"{provider or '?'}/{form or '?'}/{year if year is not None else '?'}"
        bad = False
        for key, value in (("provider", provider), ("care_form", form)):
            if value is None:
                problems.append(
                    Problem(
                        file,
                        f"{key} ontbreekt.",
                        f"Vul {key} in (de code uit het regiomodel).",
                        row=number,
                        column=key,
                        id=where,
                    )
                )
                bad = True
        if year is None or not 1900 <= year <= 2200:
            problems.append(
                Problem(
                    file,
                    f"year = {row.get('year')!r} is geen jaartal.",
                    "Geef het jaar als geheel getal, bijvoorbeeld 2025.",
                    row=number,
                    column="year",
                    id=where,
                )
            )
            bad = True
        beds = whole(row.get("beds"))
        if beds is None:
            problems.append(
                Problem(
                    file,
                    f"beds = {row.get('beds')!r} is geen geheel aantal bedden.",
                    "Geef de bedden als geheel getal (0 of meer).",
                    row=number,
                    column="beds",
                    id=where,
                )
            )
            bad = True
        elif beds < 0:
            problems.append(
                Problem(
                    file,
                    f"beds = {nl.number(beds)} is negatief.",
                    "Geef 0 of meer bedden.",
                    row=number,
                    column="beds",
                    id=where,
                )
            )
            bad = True
        elif beds > MAX_BEDS:
            problems.append(
                Problem(
                    file,
                    f"beds = {nl.number(beds)} is meer dan {nl.number(MAX_BEDS)} in één cel.",
                    f"Geef hoogstens {nl.number(MAX_BEDS)} bedden.",
                    row=number,
                    column="beds",
                    id=where,
                )
            )
            bad = True
        cost: int | None = 0
        if with_cost or row.get("cost_eur") not in (None, ""):
            cost = whole(row.get("cost_eur"))
            if cost is None or cost < 0:
                problems.append(
                    Problem(
                        file,
                        f"cost_eur = {row.get('cost_eur')!r} is geen geheel bedrag in euro's.",
                        "Geef de kosten als geheel getal (0 of meer).",
                        row=number,
                        column="cost_eur",
                        id=where,
                    )
                )
                bad = True
        if provider is None or form is None or year is None:
            continue
        cell = (provider, form, year)
        if cell in seen:
            problems.append(
                Problem(
                    file,
                    f"de cel {provider}/{form}/{year} staat er twee keer in (ook in rij "
                    f"{seen[cell]}).",
                    "Houd één regel per aanbieder, zorgvorm en jaar over.",
                    row=number,
                    id=f"{provider}/{form}/{year}",
                )
            )
            continue
        seen[cell] = number
        if not bad:
            assert beds is not None
            assert cost is not None
            records.append((provider, form, year, beds, cost))
    frame = pd.DataFrame(records, columns=[*KEY, "beds", "cost_eur"])
    frame = frame.astype({"year": "int64", "beds": "int64", "cost_eur": "int64"})
    return frame.set_index(KEY).sort_index(), problems


def plan_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Turn the ``plan`` rows of a plan.json into a plan frame.

    Parameters
    ----------
    rows
        Dicts with at least ``provider``, ``care_form``, ``year``, ``beds`` and
        ``cost_eur``; other keys are ignored.

    Returns
    -------
    pandas.DataFrame
        Indexed by (provider, care_form, year), sorted; int columns ``beds`` and
        ``cost_eur``.

    Raises
    ------
    InvalidInputError
        With every problem: a cell given twice, beds negative, not whole or above
        100.000, a missing id or year, costs that are no whole amount.
    """
    frame, problems = _cells(rows, "plan", 1, with_cost=True)
    if problems:
        raise InvalidInputError(_WHAT, problems)
    return frame


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    """Read a CSV (``,`` or ``;``) as text rows; refuse an unreadable file."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
        if len(table.columns) == 1 and ";" in str(table.columns[0]):
            table = pd.read_csv(path, dtype=str, keep_default_na=False, sep=";")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            _WHAT,
            [
                Problem(
                    path.name,
                    f"kan niet worden gelezen (technische melding: {type(exc).__name__}).",
                    "Geef een CSV met de kolommen provider,care_form,year,beds,cost_eur "
                    "(zoals plan.csv van een afbouwrun).",
                )
            ],
        ) from None
    table.columns = [str(c).strip() for c in table.columns]
    return [{str(k): v for k, v in r.items()} for r in table.to_dict(orient="records")]


def _check_columns(rows: list[dict[str, Any]], path: Path, needed: list[str]) -> None:
    present = set(rows[0]) if rows else set()
    missing = [c for c in needed if c not in present]
    if rows and missing:
        raise InvalidInputError(
            _WHAT,
            [
                Problem(
                    path.name,
                    f"mist de kolom(men) {nl.join(missing)}.",
                    "Kolommen: " + ",".join(needed) + " (zoals plan.csv van een afbouwrun).",
                )
            ],
        )


def read_plan_csv(path: str | Path) -> pd.DataFrame:
    """Read a plan.csv into a plan frame (as :func:`plan_frame`; rows numbered as a spreadsheet)."""
    file = Path(path)
    rows = _csv_rows(file)
    _check_columns(rows, file, [*KEY, "beds", "cost_eur"])
    frame, problems = _cells(rows, file.name, 2, with_cost=True)
    if problems:
        raise InvalidInputError(_WHAT, problems)
    return frame


def read_reference(path: str | Path) -> pd.Series:
    """Read the beds of an agreed plan (a plan.csv; ``cost_eur`` may be left out).

    Returns the ``beds`` Series indexed by (provider, care_form, year). The problems are
    those of :func:`read_plan_csv`.
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidInputError(
            "Het referentieplan",
            [
                Problem(
                    file.name,
                    f"bestaat niet (gezocht in {file}).",
                    "Geef het pad van een plan.csv, vanaf de map van het scenariobestand.",
                    column="afbouw.reference.file",
                )
            ],
        )
    rows = _csv_rows(file)
    _check_columns(rows, file, [*KEY, "beds"])
    frame, problems = _cells(rows, file.name, 2, with_cost=False)
    if problems:
        raise InvalidInputError("Het referentieplan", problems)
    beds: pd.Series = frame["beds"]
    return beds


def need_of(rows: list[dict[str, Any]]) -> dict[tuple[str, int], int]:
    """Read the ``need`` rows of a plan.json back: beds needed per (care_form, year).

    Rows hold ``care_form``, ``year`` and ``beds`` (whole, 0 or more); other keys (the
    plan's ``planned_beds`` and ``short_beds``) are ignored. Raises InvalidInputError with
    every problem.
    """
    problems: list[Problem] = []
    need: dict[tuple[str, int], int] = {}
    for i, row in enumerate(rows, start=1):
        form = _text(row.get("care_form")) if isinstance(row, Mapping) else None
        year = whole(row.get("year")) if isinstance(row, Mapping) else None
        beds = whole(row.get("beds")) if isinstance(row, Mapping) else None
        where = f"{form or '?'}/{year if year is not None else '?'}"
        if form is None or year is None:
            problems.append(
                Problem(
                    "need",
                    "zorgvorm of jaar ontbreekt.",
                    "Geef elke regel met care_form, year en beds.",
                    row=i,
                    id=where,
                )
            )
            continue
        if beds is None or beds < 0:
            problems.append(
                Problem(
                    "need",
                    f"beds = {row.get('beds')!r} is geen geheel aantal bedden van 0 of meer.",
                    "Geef de behoefte als geheel getal (0 of meer).",
                    row=i,
                    column="beds",
                    id=where,
                )
            )
            continue
        if (form, year) in need:
            problems.append(
                Problem(
                    "need",
                    f"de behoefte aan {form} in {year} staat er twee keer in.",
                    "Houd één regel per zorgvorm en jaar over.",
                    row=i,
                    id=where,
                )
            )
            continue
        need[(form, year)] = beds
    if problems:
        raise InvalidInputError("De behoefte", problems)
    return need
