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

An upload is data, never a program (:mod:`capaciteit.io.workbooks`). Before anything is
unpacked, the file's size and the workbook's zip contents are checked with the limits of
the model uploads (:func:`capaciteit.io.archive.xlsx_problems`: unpacked size, compression
ratio); at most :data:`MAX_ROWS` rows are read. A cell that holds a formula (``=B2*2``) is
read as its text, never computed: where a number is expected it is refused with that
reason, and a code such as ``=1+2`` is simply an unknown code. Reports write such text through
:mod:`capaciteit.results.cells`, so it never becomes a formula there either.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from capaciteit.core import nl
from capaciteit.domain.scenario import Scenario
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.workbooks import (
    Field,
    SheetRow,
    cell_text,
    choices,
    find_sheet,
    read_workbook,
    sheet_rows,
    whole_number,
)
from capaciteit.realisation.quarters import Quarter

SHEET = "Realisatie"
MAX_ROWS = 20_000
"""The most data rows read (a region: ~50 providers x 10 forms x 4 quarters = 2,000)."""
WHAT = "De realisatie"


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
    rows: list[SheetRow] = []
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


def _read_rows(path: Path, label: str, problems: list[Problem]) -> list[SheetRow]:
    """Read the rows of one workbook's *Realisatie* sheet, within the limits."""

    def read(workbook: Any) -> list[SheetRow]:
        sheet = find_sheet(workbook, SHEET, label, problems)
        if sheet is None:
            return []
        return sheet_rows(
            sheet,
            in_sheet(label),
            FIELDS,
            read=REQUIRED,
            required=REQUIRED,
            max_rows=MAX_ROWS,
            rows_fix="Upload alleen de rijen van het sjabloon (één per aanbieder, zorgvorm en "
            "kwartaal).",
            problems=problems,
        )

    return read_workbook(path, label, problems, read, "capaciteit sjabloon realisatie") or []


def in_sheet(file: str) -> str:
    """Name the file and the sheet in a problem: ``K1.xlsx, werkblad Realisatie``."""
    return f"{file}, werkblad {SHEET}"


def _check_rows(
    rows: list[SheetRow], scenario: Scenario, problems: list[Problem]
) -> list[SheetRow]:
    """Check every row; return the rows without problems (values typed)."""
    seen: dict[tuple[str, str, str], SheetRow] = {}
    good: list[SheetRow] = []
    for r in rows:
        found, checked = _check_row(r, scenario, seen)
        problems.extend(found)
        if checked is not None:
            good.append(checked)
    return good


def _check_row(
    r: SheetRow, scenario: Scenario, seen: dict[tuple[str, str, str], SheetRow]
) -> tuple[list[Problem], SheetRow | None]:
    """Check one row; return its problems and the typed row (``None`` with problems).

    ``seen`` holds the rows before it by key, to find duplicates (it is updated).
    """
    model = scenario.model
    providers, forms = model.provider_ids, model.care_form_ids
    provider, form, quarter_text = (cell_text(r.values.get(k)) for k in KEYS)
    ident = " / ".join(x or "?" for x in (provider, form, quarter_text))
    found: list[Problem] = []

    def add(message: str, fix: str, column: str, about: str = ident) -> None:
        found.append(Problem(r.file, message, fix, row=r.row, column=column, id=about))

    if not provider:
        add("'aanbieder' is leeg.", "Vul de code van de aanbieder in.", "aanbieder")
    elif provider not in providers:
        add(
            f"aanbieder '{provider}' is onbekend.",
            f"Gebruik een van: {choices(providers)} (zie het sjabloon).",
            "aanbieder",
        )
    if not form:
        add("'zorgvorm' is leeg.", "Vul de code van de zorgvorm in.", "zorgvorm")
    elif form not in forms:
        add(
            f"zorgvorm '{form}' is onbekend.",
            f"Gebruik een van: {choices(forms)}.",
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
        value, message = whole_number(r.values.get(field.name), field.header)
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
    return found, SheetRow(r.file, r.row, typed)


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
