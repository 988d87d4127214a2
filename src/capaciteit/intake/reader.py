"""Reading filled-in 0-meting templates: the files, within limits, and what they hold.

A provider returns the workbook of :mod:`.template` with a row per location and care
form on the sheet *0-meting*. Reading it back works like reading a region model: every
problem becomes a :class:`~capaciteit.errors.Problem` naming the file and the sheet
(``zorg-a.xlsx, werkblad 0-meting``), the row as the spreadsheet shows it, the column and
the fix. All files are read before anything is refused, so one list says what every
provider must correct. This module reads a file (:func:`read_filled`); :mod:`.rows`
checks its rows.

Checked per file:

* it is a workbook within the upload limits (:mod:`capaciteit.io.workbooks`: size, zip
  bombs, at most :data:`MAX_ROWS` rows); a formula is read as its text, never computed;
* it is *this* template: the hidden sheet *Sjabloon* names it (:data:`KIND`) and its
  version (:data:`VERSION`); anything else is refused, because the reader relies on what
  that sheet says (the peildatum, the care forms, the provider);
* the peildatum is known: fixed in the template, or filled in on the sheet *Uitleg*
  (an Excel date, ``2024-12-31`` or ``31-12-2024``);
* the sheet *0-meting* has the template's columns (Dutch headers; the English column
  names of ``beds.csv`` are accepted too).

Rows that hold nothing, or only the provider code the template filled in itself, are
skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils.cell import coordinate_to_tuple

from capaciteit.errors import Problem
from capaciteit.io.workbooks import (
    Field,
    SheetRow,
    cell_text,
    find_sheet,
    read_workbook,
    sheet_rows,
)

SHEET = "0-meting"
EXPLANATION_SHEET = "Uitleg"
META_SHEET = "Sjabloon"
KIND = "capaciteit 0-meting"
"""What the hidden sheet's ``sjabloon`` cell says in every 0-meting template."""
VERSION = 1
"""The template's layout; a reader refuses another version rather than misread it."""
COMMAND = "capaciteit sjabloon 0-meting"
WHAT = "De 0-meting"
MAX_ROWS = 5_000
"""The most data rows read per file (a large provider: ~100 locations x 5 forms = 500)."""
MAX_COUNT = 10_000
"""The largest count for one location and care form (a typo beyond it, not a location)."""
META_ROWS = 1_000
"""The most rows of the hidden sheet that are read (its lists of ids included)."""
META_KEYS = ("sjabloon", "versie", "peildatum", "peildatum_cel", "aanbieder", "regio")
"""The keys in column A of the hidden sheet (values in column B)."""
FORMS_COLUMN, PROVIDERS_COLUMN = 4, 5
"""Columns (D, E) of the hidden sheet listing the care forms and providers (header row 1)."""

STANDARD_NAMES = {
    "pleegzorg": "Pleegzorg",
    "gezinshuis": "Gezinshuis",
    "residentieel": "Residentiële jeugdhulp",
    "jeugdzorgplus": "JeugdzorgPlus (gesloten jeugdhulp)",
    "crisis": "Crisisopvang",
}
"""Dutch names of the standard care forms, for a template made without a region model."""

FIELDS = (
    Field(
        "aanbieder",
        "provider",
        "code van uw organisatie zoals de regio die gebruikt",
        aliases=("provider",),
    ),
    Field(
        "locatie",
        "location",
        "naam of plaats van de locatie: een vestiging, groep of gezinshuis; bij pleegzorg "
        "het team of de regio",
        aliases=("location",),
    ),
    Field(
        "zorgvorm",
        "care_form",
        "code van de zorgvorm; kies uit de lijst",
        aliases=("care_form",),
    ),
    Field(
        "bedden",
        "beds",
        "plaatsen die op de peildatum gecontracteerd en beschikbaar zijn",
        entered=True,
        aliases=("beds",),
    ),
    Field(
        "bezet",
        "occupied",
        "jeugdigen die op de peildatum in een van die plaatsen verblijven",
        entered=True,
        aliases=("occupied",),
    ),
    Field(
        "wachtend",
        "waiting",
        "jeugdigen die op de peildatum bij u wachten op een plaats in deze zorgvorm",
        entered=True,
        aliases=("waiting",),
    ),
    Field(
        "toelichting",
        "note",
        "vrije toelichting (wordt bewaard in locaties.csv, niet gerekend)",
        aliases=("note",),
    ),
)
"""The data sheet's columns in template order; ``entered`` ones are counts."""
KEYS = ("provider", "location", "care_form")
NUMBERS = tuple(f.name for f in FIELDS if f.entered)
REQUIRED = (*KEYS, *NUMBERS)
READ = (*REQUIRED, "note")
HEADERS = {f.name: f.header for f in FIELDS}
_DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_COORDINATE = re.compile(r"[A-Z]{1,3}[1-9][0-9]{0,6}")


@dataclass(frozen=True)
class TemplateInfo:
    """What a template's hidden sheet says about it.

    ``peildatum`` is set when the template was made for a day (else the provider fills it
    in at ``peildatum_cell`` of the sheet *Uitleg*); ``provider`` is set (else ``""``) when
    it was made for one provider; ``care_forms`` are the ids its list offers.
    """

    peildatum: dt.date | None
    peildatum_cell: str
    provider: str
    region: str
    care_forms: tuple[str, ...]


@dataclass(frozen=True)
class Filled:
    """One filled-in workbook as read: its label, template, peildatum and filled rows."""

    label: str
    info: TemplateInfo
    peildatum: dt.date | None
    rows: list[SheetRow]


def labels(paths: Sequence[Path]) -> list[str]:
    """Name each file by its name, or by its path where two files share a name."""
    names = [p.name for p in paths]
    return [p.name if names.count(p.name) == 1 else str(p) for p in paths]


def in_sheet(file: str, sheet: str = SHEET) -> str:
    """Name the file and the sheet in a problem: ``zorg-a.xlsx, werkblad 0-meting``."""
    return f"{file}, werkblad {sheet}"


def parse_date(value: Any) -> dt.date | None:
    """Read a day from a cell: an Excel date, ``2024-12-31`` or ``31-12-2024``; else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        match = _DUTCH_DATE.fullmatch(text)
        if match is None:
            return None
        try:
            day = dt.date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            return None
    return day if 1900 <= day.year <= 2200 else None


def read_filled(path: Path, label: str, problems: list[Problem]) -> Filled | None:
    """Read one filled-in template: its template data, peildatum and non-empty rows.

    File-level problems (not a workbook, not this template, no peildatum, columns) go to
    ``problems``; ``None`` when the rows cannot be read. Rows are checked by
    :func:`check_locations`.
    """

    def read(workbook: Any) -> Filled | None:
        info = _template_info(workbook, label, problems)
        if info is None:
            return None
        peildatum = info.peildatum or _filled_peildatum(workbook, info, label, problems)
        sheet = find_sheet(workbook, SHEET, label, problems)
        if sheet is None:
            return None
        rows = sheet_rows(
            sheet,
            in_sheet(label),
            FIELDS,
            read=READ,
            required=REQUIRED,
            max_rows=MAX_ROWS,
            rows_fix="Upload alleen de rijen van het sjabloon (één per locatie en zorgvorm); "
            "verdeel een heel grote organisatie over meer sjablonen.",
            problems=problems,
        )
        return Filled(label, info, peildatum, [r for r in rows if not _only_prefilled(r, info)])

    return read_workbook(path, label, problems, read, COMMAND)


def _only_prefilled(row: SheetRow, info: TemplateInfo) -> bool:
    """Whether a row holds nothing but the provider code the template filled in itself."""
    rest = [v for k, v in row.values.items() if k != "provider"]
    own = cell_text(row.values.get("provider")) in ("", info.provider)
    return bool(info.provider) and own and all(v is None or v == "" for v in rest)


def _template_info(workbook: Any, label: str, problems: list[Problem]) -> TemplateInfo | None:
    """Read the hidden sheet; refuse a workbook that is not this template in this version."""
    sheets = {str(n).strip().casefold(): n for n in workbook.sheetnames}
    refuse = (
        f"Vul het sjabloon van '{COMMAND}' in (of kopieer uw rijen naar het werkblad "
        f"'{SHEET}' ervan) en stuur dat terug."
    )
    if META_SHEET.casefold() not in sheets:
        problems.append(
            Problem(
                label,
                f"is geen sjabloon voor de 0-meting (het verborgen werkblad '{META_SHEET}' "
                "ontbreekt).",
                refuse,
            )
        )
        return None
    values: dict[str, Any] = {}
    lists: dict[int, list[str]] = {FORMS_COLUMN: [], PROVIDERS_COLUMN: []}
    sheet = workbook[sheets[META_SHEET.casefold()]]
    for number, row in enumerate(
        sheet.iter_rows(max_row=META_ROWS, max_col=PROVIDERS_COLUMN, values_only=True), start=1
    ):
        cells = list(row) + [None] * PROVIDERS_COLUMN
        key = cell_text(cells[0]).casefold()
        if key in META_KEYS:
            values[key] = cells[1]
        for column, ids in lists.items():
            text = cell_text(cells[column - 1])
            if number > 1 and text:
                ids.append(text)
    place = in_sheet(label, META_SHEET)
    if cell_text(values.get("sjabloon")) != KIND:
        problems.append(
            Problem(
                place,
                "is geen sjabloon voor de 0-meting van capaciteit.",
                refuse,
                row=1,
                column="sjabloon",
            )
        )
        return None
    version = cell_text(values.get("versie"))
    if version != str(VERSION):
        problems.append(
            Problem(
                place,
                f"dit is versie '{version}' van het sjabloon; deze versie van capaciteit leest "
                f"versie {VERSION}.",
                f"Maak een nieuw sjabloon ('{COMMAND}') en neem de getallen daarin over.",
                row=2,
                column="versie",
            )
        )
        return None
    fixed = cell_text(values.get("peildatum"))
    peildatum = parse_date(fixed) if fixed else None
    cell = cell_text(values.get("peildatum_cel")).upper()
    if (fixed and peildatum is None) or not _COORDINATE.fullmatch(cell) or not lists[FORMS_COLUMN]:
        problems.append(
            Problem(
                place,
                "het verborgen werkblad is veranderd (peildatum, cel of zorgvormen).",
                f"Maak een nieuw sjabloon ('{COMMAND}') en neem de getallen daarin over.",
            )
        )
        return None
    return TemplateInfo(
        peildatum=peildatum,
        peildatum_cell=cell,
        provider=cell_text(values.get("aanbieder")),
        region=cell_text(values.get("regio")),
        care_forms=tuple(lists[FORMS_COLUMN]),
    )


def _filled_peildatum(
    workbook: Any, info: TemplateInfo, label: str, problems: list[Problem]
) -> dt.date | None:
    """Read the peildatum the provider filled in on the sheet *Uitleg*."""
    sheet = find_sheet(workbook, EXPLANATION_SHEET, label, problems)
    if sheet is None:
        return None
    row, column = coordinate_to_tuple(info.peildatum_cell)
    cells = next(sheet.iter_rows(min_row=row, max_row=row, min_col=column, max_col=column), ())
    cell = cells[0] if cells else None
    value = None if cell is None else cell.value
    place = in_sheet(label, EXPLANATION_SHEET)
    fix = "Vul bij 'Peildatum' de dag in waarop u telde, bijvoorbeeld 31-12-2024."
    if value is None or value == "":
        problems.append(
            Problem(place, "de peildatum is niet ingevuld.", fix, row=row, column="peildatum")
        )
        return None
    day = None if getattr(cell, "data_type", None) == "f" else parse_date(value)
    if day is None:
        problems.append(
            Problem(
                place,
                f"'{cell_text(value)}' is geen datum.",
                fix + " Een formule wordt niet uitgerekend.",
                row=row,
                column="peildatum",
            )
        )
    return day


def where(file: str, row: int, seen_from: str) -> str:
    """Say where a row is, seen from a problem in ``seen_from``: ``rij 4 (van a.xlsx)``."""
    elsewhere = file.removesuffix(f", werkblad {SHEET}")
    return f"rij {row}" + ("" if file == seen_from else f" van {elsewhere}")
