"""Reading the filled-in realisation template: every problem at once, hostile files refused.

Providers fill in the template of :mod:`.template` (sheet *Realisatie*: one row per
provider, care form and quarter) and the region uploads it. The upload is checked like a
region model (:mod:`capaciteit.io.tables`): nothing stops at the first mistake; every
problem becomes a :class:`~capaciteit.errors.Problem` naming the file and the sheet
(``K1.xlsx, werkblad Realisatie``), the row as the spreadsheet shows it, the column, the
id (``P01 / pleegzorg / 2025-K1``) and the fix, and the whole
upload is refused (:class:`~capaciteit.errors.InvalidInputError`) when there is any. A
refused file gives nothing back, not even its good rows.

Checked per row: the provider and the care form exist in the model; the quarter is
written ``2025-K1`` and lies in the scenario's years; plaatsen, bezet, instroom and
wachtlijst are filled in, whole and not negative; bezet is not above plaatsen; no provider,
care form and quarter appears twice (also across files).

An upload is data, never a program. Before anything is unpacked, the file's size and the
workbook's zip contents are checked with the limits of the model uploads
(:func:`capaciteit.io.archive.xlsx_problems`: unpacked size, compression ratio); at most
:data:`MAX_ROWS` rows are read. A cell that holds a formula (``=B2*2``) is read as its
text, never computed: where a number is expected it is refused with that reason, and a
code such as ``=1+2`` is simply an unknown code. Reports write such text through
:mod:`capaciteit.results.cells`, so it never becomes a formula there either.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from capaciteit.core import nl
from capaciteit.domain.scenario import Scenario
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.archive import xlsx_problems
from capaciteit.io.tables import MAX_TABLE_BYTES
from capaciteit.realisation.quarters import Quarter

SHEET = "Realisatie"
MAX_ROWS = 20_000
"""The most data rows read (a region: ~50 providers x 10 forms x 4 quarters = 2,000)."""
WHAT = "De realisatie"


@dataclass(frozen=True)
class Field:
    """One column of the *Realisatie* sheet: its Dutch header and its name in the frame."""

    header: str
    name: str
    description: str
    entered: bool = False
    aliases: tuple[str, ...] = ()


FIELDS = (
    Field("aanbieder", "provider", "code van de aanbieder (zoals in het model)"),
    Field("naam aanbieder", "provider_name", "naam van de aanbieder (ter informatie)"),
    Field("zorgvorm", "care_form", "code van de zorgvorm (zoals in het model)"),
    Field("naam zorgvorm", "care_form_name", "naam van de zorgvorm (ter informatie)"),
    Field("kwartaal", "quarter", "kwartaal als JJJJ-KN, bijvoorbeeld 2025-K1"),
    Field("plaatsen in plan", "planned_beds", "plaatsen volgens het afgesproken plan"),
    Field(
        "plaatsen",
        "beds",
        "beschikbare plaatsen in het kwartaal (bij een wijziging: het gemiddelde, afgerond)",
        entered=True,
        aliases=("beds",),
    ),
    Field(
        "bezet",
        "occupied",
        "gemiddeld aantal bezette plaatsen over het kwartaal, afgerond op een heel getal",
        entered=True,
        aliases=("occupied",),
    ),
    Field(
        "instroom",
        "admissions",
        "aantal jeugdigen dat in het kwartaal is gestart (ook vanuit een andere zorgvorm)",
        entered=True,
        aliases=("admissions",),
    ),
    Field(
        "wachtlijst",
        "waiting",
        "aantal jeugdigen dat op de laatste dag van het kwartaal op een plek wacht",
        entered=True,
        aliases=("waiting",),
    ),
    Field("opmerking", "note", "vrije toelichting (wordt niet ingelezen)"),
)
"""The sheet's columns in template order; ``entered`` ones are filled in by providers."""
KEYS = ("provider", "care_form", "quarter")
NUMBERS = tuple(f.name for f in FIELDS if f.entered)
REQUIRED = (*KEYS, *NUMBERS)
_BY_HEADER = {
    h.casefold(): f for f in FIELDS for h in (f.header, *f.aliases, f.name) if f.name in REQUIRED
} | {f.header.casefold(): f for f in FIELDS}


@dataclass
class _Row:
    file: str
    row: int
    values: dict[str, Any]


def read_realisation(path: Path, scenario: Scenario) -> pd.DataFrame:
    """Read one filled-in realisation workbook, checked against ``scenario``.

    Returns a frame indexed by ``(provider, care_form, quarter)`` (quarter as ``2025-K1``)
    with the int columns ``beds``, ``occupied``, ``admissions`` and ``waiting``. Raises
    :class:`~capaciteit.errors.InvalidInputError` listing every problem (see the module).
    """
    return read_realisations([path], scenario)


def read_realisations(paths: Sequence[Path], scenario: Scenario) -> pd.DataFrame:
    """Read several workbooks (a quarter each, say) as one; duplicates across files count.

    Every file is read and checked before anything is refused, so the problems of all
    files are listed together.
    """
    problems: list[Problem] = []
    rows: list[_Row] = []
    if not paths:
        problems.append(
            Problem(
                "realisatie",
                "er is geen ingevuld sjabloon gegeven.",
                "Geef minstens één bestand (--actuals K1.xlsx).",
            )
        )
    names = [p.name for p in paths]
    for path in paths:
        label = path.name if names.count(path.name) == 1 else str(path)
        rows.extend(_read_rows(path, label, problems))
    checked = _check_rows(rows, scenario, problems)
    if not problems and not checked:
        problems.append(
            Problem(
                ", ".join(names),
                f"het werkblad '{SHEET}' bevat geen ingevulde rijen.",
                "Vul per aanbieder, zorgvorm en kwartaal plaatsen, bezet, instroom en "
                "wachtlijst in.",
            )
        )
    if problems:
        raise InvalidInputError(WHAT, problems)
    frame = pd.DataFrame([r.values for r in checked], columns=[*KEYS, *NUMBERS]).astype(
        {n: "int64" for n in NUMBERS}
    )
    return frame.set_index(list(KEYS)).sort_index()


def _read_rows(path: Path, label: str, problems: list[Problem]) -> list[_Row]:
    """Read the rows of one workbook's *Realisatie* sheet, within the limits."""
    import openpyxl

    if not path.is_file():
        problems.append(Problem(label, "bestaat niet.", "Geef het pad van het ingevulde sjabloon."))
        return []
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        problems.append(
            Problem(
                label,
                f"is {nl.number(size / 1e6)} MB; hoogstens {nl.number(MAX_TABLE_BYTES / 1e6)} MB.",
                "Upload alleen het ingevulde sjabloon.",
            )
        )
        return []
    if path.suffix.lower() != ".xlsx" or not zipfile.is_zipfile(path):
        problems.append(
            Problem(
                label,
                "is geen Excel-werkmap (.xlsx).",
                "Vul het sjabloon van 'capaciteit sjabloon realisatie' in en sla het op als .xlsx.",
            )
        )
        return []
    hostile = xlsx_problems(path)
    if hostile:
        problems.extend(hostile)
        return []
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
        return []
    try:
        sheets = {str(name).strip().casefold(): name for name in workbook.sheetnames}
        if SHEET.casefold() not in sheets:
            problems.append(
                Problem(
                    label,
                    f"heeft geen werkblad '{SHEET}'.",
                    f"Vul het werkblad '{SHEET}' van het sjabloon in; verander de naam niet.",
                )
            )
            return []
        sheet = workbook[sheets[SHEET.casefold()]]
        return _sheet_rows(sheet, in_sheet(label), problems)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        problems.append(
            Problem(
                label,
                f"kan niet worden uitgepakt (technische melding: {type(exc).__name__}).",
                "Sla het sjabloon opnieuw op als .xlsx-werkmap.",
            )
        )
        return []
    finally:
        workbook.close()


def in_sheet(file: str) -> str:
    """Name the file and the sheet in a problem: ``K1.xlsx, werkblad Realisatie``."""
    return f"{file}, werkblad {SHEET}"


def _sheet_rows(sheet: Any, label: str, problems: list[Problem]) -> list[_Row]:
    rows = sheet.iter_rows()
    header = next(rows, None)
    if header is None:
        problems.append(
            Problem(label, f"het werkblad '{SHEET}' is leeg.", "Vul het sjabloon in.", row=1)
        )
        return []
    columns: dict[int, str] = {}
    for i, cell in enumerate(header):
        text = _text(cell.value)
        if not text:
            continue
        known = _BY_HEADER.get(text.casefold())
        if known is None:
            problems.append(
                Problem(
                    label,
                    f"de kolom '{text}' hoort niet bij het sjabloon.",
                    "Verwijder de kolom, of gebruik de kolommen van het sjabloon: "
                    + ", ".join(f.header for f in FIELDS)
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
    missing = [f.header for f in FIELDS if f.name in REQUIRED and f.name not in columns.values()]
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
    out: list[_Row] = []
    for number, cells in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            problems.append(
                Problem(
                    label,
                    f"heeft meer dan {nl.number(MAX_ROWS)} rijen.",
                    "Upload alleen de rijen van het sjabloon (één per aanbieder, zorgvorm en "
                    "kwartaal).",
                )
            )
            return []
        values: dict[str, Any] = {}
        for i, cell in enumerate(cells):
            field_name = columns.get(i)
            if field_name is not None and field_name in REQUIRED:
                values[field_name] = _cell(cell)
        if all(v is None or v == "" for v in values.values()):
            continue
        out.append(_Row(label, number, values))
    return out


def _text(value: Any) -> str:
    """Return a cell as text: numbers without a trailing ``.0``, nothing as ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cell(cell: Any) -> Any:
    """Return a cell's value; a formula stays its text (``=B2*2``), never computed."""
    value = cell.value
    if isinstance(value, str):
        return value.strip()
    return value


def _check_rows(rows: list[_Row], scenario: Scenario, problems: list[Problem]) -> list[_Row]:
    """Check every row; return the rows without problems (values typed)."""
    seen: dict[tuple[str, str, str], _Row] = {}
    good: list[_Row] = []
    for r in rows:
        found, checked = _check_row(r, scenario, seen)
        problems.extend(found)
        if checked is not None:
            good.append(checked)
    return good


def _check_row(
    r: _Row, scenario: Scenario, seen: dict[tuple[str, str, str], _Row]
) -> tuple[list[Problem], _Row | None]:
    """Check one row; return its problems and the typed row (``None`` with problems).

    ``seen`` holds the rows before it by key, to find duplicates (it is updated).
    """
    model = scenario.model
    providers, forms = model.provider_ids, model.care_form_ids
    provider, form, quarter_text = (_text(r.values.get(k)) for k in KEYS)
    ident = " / ".join(x or "?" for x in (provider, form, quarter_text))
    found: list[Problem] = []

    def add(message: str, fix: str, column: str, about: str = ident) -> None:
        found.append(Problem(r.file, message, fix, row=r.row, column=column, id=about))

    if not provider:
        add("'aanbieder' is leeg.", "Vul de code van de aanbieder in.", "aanbieder")
    elif provider not in providers:
        add(
            f"aanbieder '{provider}' is onbekend.",
            f"Gebruik een van: {_choices(providers)} (zie het sjabloon).",
            "aanbieder",
        )
    if not form:
        add("'zorgvorm' is leeg.", "Vul de code van de zorgvorm in.", "zorgvorm")
    elif form not in forms:
        add(
            f"zorgvorm '{form}' is onbekend.",
            f"Gebruik een van: {_choices(forms)}.",
            "zorgvorm",
        )
    quarter = Quarter.parse(quarter_text) if quarter_text else None
    if not quarter_text:
        add("'kwartaal' is leeg.", "Vul het kwartaal in, bijvoorbeeld 2025-K1.", "kwartaal")
    elif quarter is None:
        add(
            f"'{quarter_text}' is geen kwartaal in de vorm JJJJ-KN.",
            "Schrijf het kwartaal als jaar, streepje, K en het nummer 1-4, bijvoorbeeld 2025-K1.",
            "kwartaal",
        )
    elif quarter.year not in scenario.years:
        add(
            f"kwartaal {quarter.label} valt buiten de jaren van het scenario "
            f"({scenario.start_year}–{scenario.end_year}).",
            "Geef een kwartaal binnen de jaren van het scenario, of kies het scenario dat "
            "bij deze jaren hoort.",
            "kwartaal",
        )
    numbers: dict[str, int] = {}
    for field in FIELDS:
        if field.name not in NUMBERS:
            continue
        value, message = _whole(r.values.get(field.name), field.header)
        if message is not None:
            add(message[0], message[1], field.header)
        elif value is not None:
            numbers[field.name] = value
    beds, occupied = numbers.get("beds"), numbers.get("occupied")
    if beds is not None and occupied is not None and occupied > beds:
        add(
            f"bezet ({nl.number(occupied)}) is meer dan plaatsen ({nl.number(beds)}).",
            "Bezet is het gemiddelde aantal bezette plaatsen over het kwartaal en kan niet "
            "boven het aantal plaatsen liggen; controleer beide getallen.",
            "bezet",
        )
    if quarter is not None:
        key = (provider, form, quarter.label)
        first = seen.get(key)
        if first is not None:
            elsewhere = first.file.removesuffix(f", werkblad {SHEET}")
            where = f"rij {first.row}" + ("" if first.file == r.file else f" van {elsewhere}")
            add(
                f"{ident} staat er meer dan één keer in (ook in {where}).",
                "Houd één rij per aanbieder, zorgvorm en kwartaal; tel dubbele rijen op of "
                "verwijder er een.",
                "kwartaal",
                " / ".join(key),
            )
        else:
            seen[key] = r
    if found or quarter is None:
        return found, None
    typed = {"provider": provider, "care_form": form, "quarter": quarter.label, **numbers}
    return found, _Row(r.file, r.row, typed)


def _whole(value: Any, header: str) -> tuple[int | None, tuple[str, str] | None]:
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


def _choices(ids: Iterable[str]) -> str:
    listed = list(ids)
    shown = ", ".join(listed[:12])
    return shown + (", ..." if len(listed) > 12 else "")


def check_complete(realised: pd.DataFrame, plan: pd.DataFrame, sources: Sequence[str]) -> None:
    """Refuse a realisation that leaves out a provider the plan gives beds that quarter.

    A care form's total is the sum over its providers, so a missing provider would make
    the form look emptier than it is. Every quarter in ``realised`` must have a row for
    each ``(provider, care_form)`` with planned beds above 0 that year, and the plan must
    have that year at all. ``sources`` names the uploaded files in the problems.
    """
    problems: list[Problem] = []
    where = ", ".join(sources) or "realisatie"
    quarters = sorted({str(q) for q in realised.index.get_level_values("quarter")})
    plan_years = set(int(y) for y in plan["year"])
    present = set(realised.index)
    for label in quarters:
        quarter = Quarter.of(label)
        if quarter.year not in plan_years:
            problems.append(
                Problem(
                    where,
                    f"het afgesproken plan heeft geen plaatsen voor {quarter.year}, dus "
                    f"{label} kan er niet mee worden vergeleken.",
                    "Geef het plan dat dit jaar bevat, of laat de rijen van dit kwartaal weg.",
                    id=label,
                )
            )
            continue
        year_plan = plan[(plan["year"] == quarter.year) & (plan["beds"] > 0)]
        for provider, form, beds in zip(
            year_plan["provider"], year_plan["care_form"], year_plan["beds"], strict=True
        ):
            if (str(provider), str(form), label) not in present:
                problems.append(
                    Problem(
                        where,
                        f"er is geen rij voor {provider} / {form} / {label}, terwijl het plan "
                        f"daar {nl.number(int(beds))} plaatsen heeft.",
                        "Voeg de rij toe (vul 0 in als er in dat kwartaal niemand was).",
                        id=f"{provider} / {form} / {label}",
                    )
                )
    if problems:
        raise InvalidInputError(WHAT, problems)
