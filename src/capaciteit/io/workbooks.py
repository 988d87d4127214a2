"""Reading workbooks that people filled in: within limits, every problem at once.

Some input does not come from the region's own files but from a template that went out to
providers and came back filled in: the quarterly realisation
(:mod:`capaciteit.realisation.reader`), the 0-meting per location
(:mod:`capaciteit.intake.reader`). Such a workbook is read like a region model table
(:mod:`capaciteit.io.tables`): nothing stops at the first mistake; every problem becomes a
:class:`~capaciteit.errors.Problem` naming the file and the sheet
(``K1.xlsx, werkblad Realisatie``), the row as the spreadsheet shows it, the column and
the fix.

An upload is data, never a program. Before anything is unpacked, the file's size and the
workbook's zip contents are checked with the limits of the model uploads
(:func:`capaciteit.io.archive.xlsx_problems`: unpacked size, compression ratio); a sheet
is read row by row and refused past a given number of rows. A cell that holds a formula
(``=B2*2``) is read as its text, never computed; :class:`SheetRow` says which cells were
formulas, and :func:`whole_number` refuses one where a number is expected.

The pieces, for a reader of one template:

:func:`read_workbook`
    open a file within the limits and hand the workbook to the template's own reading;
:func:`find_sheet`, :func:`sheet_rows`
    a sheet by name, and its rows by the Dutch headers of the template's fields
    (:class:`Field`; unknown, doubled or missing columns are problems);
:func:`cell_text`, :func:`whole_number`, :func:`choices`
    a cell as an id, a cell as a count, and a short list of allowed ids for a fix.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from capaciteit.core import nl
from capaciteit.errors import Problem
from capaciteit.io.archive import xlsx_problems
from capaciteit.io.tables import MAX_TABLE_BYTES

T = TypeVar("T")


@dataclass(frozen=True)
class Field:
    """One column of a template's sheet: its Dutch header and its name in the frame."""

    header: str
    name: str
    description: str
    entered: bool = False
    aliases: tuple[str, ...] = ()


@dataclass
class SheetRow:
    """One filled-in row: where it is (``file`` names file and sheet) and its cells by name.

    ``formulas`` names the fields whose cell held a formula; its text is in ``values``.
    """

    file: str
    row: int
    values: dict[str, Any]
    formulas: frozenset[str] = field(default_factory=frozenset)


def read_workbook(
    path: Path, label: str, problems: list[Problem], read: Callable[[Any], T], command: str
) -> T | None:
    """Open the workbook ``path`` within the limits and return ``read(workbook)``.

    ``label`` names the file in problems; ``command`` is the command that makes the
    template (``capaciteit sjabloon realisatie``), for the fix of a file that is not a
    workbook. Returns ``None`` when the file cannot be read (the reason is in ``problems``);
    ``read`` may add problems of its own. The workbook is opened read-only, formulas as text.
    """
    import openpyxl

    if not path.is_file():
        problems.append(Problem(label, "bestaat niet.", "Geef het pad van het ingevulde sjabloon."))
        return None
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        problems.append(
            Problem(
                label,
                f"is {nl.number(size / 1e6)} MB; hoogstens {nl.number(MAX_TABLE_BYTES / 1e6)} MB.",
                "Upload alleen het ingevulde sjabloon.",
            )
        )
        return None
    if path.suffix.lower() != ".xlsx" or not zipfile.is_zipfile(path):
        problems.append(
            Problem(
                label,
                "is geen Excel-werkmap (.xlsx).",
                f"Vul het sjabloon van '{command}' in en sla het op als .xlsx.",
            )
        )
        return None
    hostile = xlsx_problems(path)
    if hostile:
        problems.extend(hostile)
        return None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # any reader failure comes from the user's file
        problems.append(
            Problem(
                label,
                f"kan niet als werkmap worden gelezen (technische melding: {type(exc).__name__}).",
                "Sla het sjabloon opnieuw op als .xlsx-werkmap (zonder wachtwoord).",
            )
        )
        return None
    try:
        return read(workbook)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        problems.append(
            Problem(
                label,
                f"kan niet worden uitgepakt (technische melding: {type(exc).__name__}).",
                "Sla het sjabloon opnieuw op als .xlsx-werkmap.",
            )
        )
        return None
    finally:
        workbook.close()


def find_sheet(workbook: Any, name: str, label: str, problems: list[Problem]) -> Any | None:
    """Return the sheet ``name`` (case and spaces aside), or ``None`` with the problem listed."""
    sheets = {str(n).strip().casefold(): n for n in workbook.sheetnames}
    if name.casefold() not in sheets:
        problems.append(
            Problem(
                label,
                f"heeft geen werkblad '{name}'.",
                f"Vul het werkblad '{name}' van het sjabloon in; verander de naam niet.",
            )
        )
        return None
    return workbook[sheets[name.casefold()]]


def sheet_rows(
    sheet: Any,
    label: str,
    fields: Sequence[Field],
    *,
    read: Collection[str],
    required: Collection[str],
    max_rows: int,
    rows_fix: str,
    problems: list[Problem],
) -> list[SheetRow]:
    """Read the rows of a template's sheet by its header row; skip empty rows.

    The header row (row 1) names the columns by the headers of ``fields`` (for the fields
    in ``read`` also by an alias or the English name, case aside). A column no field
    knows, a column twice, or a ``required`` column missing is a problem (row 1); with a
    required column missing, no row is read. Of each row the cells of the fields in
    ``read`` are kept; a row whose kept cells are all empty is skipped. More than
    ``max_rows`` rows refuses the sheet (``rows_fix`` says what to upload instead).
    """
    by_header = {
        h.casefold(): f for f in fields for h in (f.header, *f.aliases, f.name) if f.name in read
    } | {f.header.casefold(): f for f in fields}
    rows = sheet.iter_rows()
    header = next(rows, None)
    if header is None:
        problems.append(
            Problem(label, f"het werkblad '{sheet.title}' is leeg.", "Vul het sjabloon in.", row=1)
        )
        return []
    columns: dict[int, str] = {}
    for i, cell in enumerate(header):
        text = cell_text(cell.value)
        if not text:
            continue
        known = by_header.get(text.casefold())
        if known is None:
            problems.append(
                Problem(
                    label,
                    f"de kolom '{text}' hoort niet bij het sjabloon.",
                    "Verwijder de kolom, of gebruik de kolommen van het sjabloon: "
                    + ", ".join(f.header for f in fields)
                    + ".",
                    row=1,
                    column=text,
                )
            )
        elif known.name in columns.values():
            problems.append(
                Problem(
                    label,
                    f"de kolom '{known.header}' staat er twee keer in.",
                    "Houd één kolom van elke soort.",
                    row=1,
                    column=known.header,
                )
            )
        else:
            columns[i] = known.name
    missing = [f.header for f in fields if f.name in required and f.name not in columns.values()]
    for name in missing:
        problems.append(
            Problem(
                label,
                f"de verplichte kolom '{name}' ontbreekt.",
                f"Voeg de kolom '{name}' toe, of vul het sjabloon opnieuw in.",
                row=1,
                column=name,
            )
        )
    if missing:
        return []
    out: list[SheetRow] = []
    for number, cells in enumerate(rows, start=2):
        if number > max_rows + 1:
            problems.append(
                Problem(label, f"heeft meer dan {nl.number(max_rows)} rijen.", rows_fix)
            )
            return []
        values: dict[str, Any] = {}
        formulas: set[str] = set()
        for i, cell in enumerate(cells):
            field_name = columns.get(i)
            if field_name is not None and field_name in read:
                values[field_name] = cell_value(cell)
                if getattr(cell, "data_type", None) == "f":
                    formulas.add(field_name)
        if all(v is None or v == "" for v in values.values()):
            continue
        out.append(SheetRow(label, number, values, frozenset(formulas)))
    return out


def cell_text(value: Any) -> str:
    """Return a cell as text: numbers without a trailing ``.0``, nothing as ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_value(cell: Any) -> Any:
    """Return a cell's value; a formula stays its text (``=B2*2``), never computed."""
    value = cell.value
    if isinstance(value, str):
        return value.strip()
    return value


def whole_number(value: Any, header: str) -> tuple[int | None, tuple[str, str] | None]:
    """Read a whole number >= 0 from a cell, or say the problem (message, fix)."""
    if value is None or value == "":
        return None, (f"'{header}' is leeg.", f"Vul {header} in (0 als er niets was).")
    if isinstance(value, bool | dt.date | dt.datetime | dt.time):
        return None, (
            f"'{value}' is geen aantal.",
            f"Vul {header} in als geheel getal, zonder datum- of ja/nee-opmaak.",
        )
    number: float
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value)
        if text.startswith(("=", "@")):
            return None, (
                f"'{text}' is een formule; formules worden niet uitgerekend.",
                f"Typ het getal voor {header} zelf in.",
            )
        try:
            number = float(text.replace(" ", ""))
        except ValueError:
            return None, (
                f"'{text}' is geen getal.",
                f"Vul {header} in als geheel getal, bijv. 12.",
            )
    if number != number or number in (float("inf"), float("-inf")):
        return None, (f"'{value}' is geen bruikbaar getal.", f"Vul {header} in als geheel getal.")
    if not number.is_integer():
        return None, (
            f"{header} = {nl.number(number, 2)} is geen geheel getal.",
            f"Rond {header} af op een heel getal.",
        )
    if number < 0:
        return None, (
            f"{header} = {nl.number(number)} is negatief.",
            f"Vul 0 of meer in bij {header}.",
        )
    return int(number), None


def choices(ids: Iterable[str]) -> str:
    """List allowed ids for a fix: the first twelve, then ``...``."""
    listed = list(ids)
    shown = ", ".join(listed[:12])
    return shown + (", ..." if len(listed) > 12 else "")
