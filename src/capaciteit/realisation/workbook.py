"""The quarterly workbook for the ontwikkeltafel: what is off course, per form and provider.

Sheets:

*samenvatting*
    what is not on course said plainly at the top, then region, scenario, quarters, the
    files compared, how the band was made and the rule, then one line per quarter off
    course with its reasons;
*per vorm en kwartaal*
    per care form and quarter: places against the plan, occupied beds, instroom and the
    waiting list each with the band, the occupancy rate, the verdict and the reason;
*per aanbieder*
    per provider, care form and quarter: places against the plan (the verdict), the
    reported figures and the cost of the places against the plan's.

Rows not on course are red, on course green in the verdict. Numbers carry Excel formats
(``#,##0``, ``0%``, ``€ #,##0``), which Excel and LibreOffice show in the reader's Dutch
locale as ``1.234``, ``70%`` and ``€ 12.345``. Every cell goes through
:func:`capaciteit.results.cells.append_row`: text from an upload never becomes a formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.core import nl
from capaciteit.domain.scenario import Scenario
from capaciteit.realisation.band import Band
from capaciteit.realisation.compare import FORM_LEVEL, PROVIDER_LEVEL, Tolerance, off_track
from capaciteit.realisation.quarters import Quarter, span_text
from capaciteit.results.cells import append_row
from capaciteit.results.jsonable import clean

RED = PatternFill("solid", fgColor="FFC7CE")
GREEN = PatternFill("solid", fgColor="C6EFCE")
HEADER = Font(bold=True)
COUNT = "#,##0"
SHARE = "0%"
EURO = '"€ "#,##0'


def off_track_lines(comparison: pd.DataFrame, names: dict[str, str]) -> list[str]:
    """One Dutch line per care form and quarter not on course, then per provider."""
    lines = []
    for row in off_track(comparison).to_dict(orient="records"):
        form = names.get(str(row["care_form"]), str(row["care_form"]))
        who = form if row["level"] == FORM_LEVEL else f"{row['provider']}, {form}"
        lines.append(f"{who}, {row['quarter']}: {row['reason']}")
    return lines


def headline(comparison: pd.DataFrame, names: dict[str, str]) -> str:
    """Say which forms are not on course in which quarters, in one sentence."""
    forms = comparison[comparison["level"] == FORM_LEVEL]
    off = forms[~forms["on_track"].astype(bool)]
    quarters = span_text(Quarter.of(q) for q in forms["quarter"])
    if off.empty:
        providers = off_track(comparison)
        extra = (
            f" Wel wijken de plaatsen van een aanbieder {nl.number(len(providers))} keer meer "
            "dan toegestaan af van het plan (zie 'per aanbieder')."
            if len(providers)
            else ""
        )
        return f"Alle zorgvormen zijn op koers in {quarters}.{extra}"
    parts = []
    for form, group in off.groupby("care_form", sort=False):
        parts.append(f"{names.get(str(form), str(form))} in {nl.join(map(str, group['quarter']))}")
    return f"Niet op koers: {nl.join(parts)}."


def _header(ws: Worksheet, labels: Sequence[str], widths: Sequence[int]) -> None:
    for cell in append_row(ws, list(labels)):
        cell.font = HEADER
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"A{ws.max_row + 1}"


def _number(value: Any) -> Any:
    value = clean(value)
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _row(
    ws: Worksheet, values: list[Any], formats: dict[int, str], off: bool, verdict: int
) -> None:
    cells = append_row(ws, [_number(v) for v in values])
    for column, fmt in formats.items():
        cells[column - 1].number_format = fmt
    if off:
        for cell in cells:
            cell.fill = RED
    else:
        cells[verdict - 1].fill = GREEN
    cells[-1].alignment = Alignment(wrap_text=True, vertical="top")


def write_workbook(
    scenario: Scenario,
    band: Band,
    comparison: pd.DataFrame,
    path: Path,
    *,
    sources: Sequence[str],
    plan_name: str,
    tolerance: Tolerance | None = None,
) -> Path:
    """Write the quarterly workbook (see the module) to ``path``."""
    model = scenario.model
    names = {str(k): str(v) for k, v in model.care_forms["name"].items()}
    provider_names = {str(k): str(v) for k, v in model.providers["name"].items()}
    rule = tolerance or Tolerance()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "samenvatting"
    forms = comparison[comparison["level"] == FORM_LEVEL]
    quarters = [Quarter.of(q) for q in forms["quarter"]]
    lines = off_track_lines(comparison, names)
    summary: list[tuple[str, Any]] = [
        ("Oordeel", headline(comparison, names)),
        ("Regio", model.meta.name),
        ("Scenario", scenario.name),
        ("Kwartalen", span_text(quarters)),
        ("Afgesproken plan", plan_name),
        ("Realisatie", ", ".join(sources)),
        (
            "Band",
            f"95%-voorspellingsband: 2,5%–97,5% van {nl.number(band.replications)} "
            f"gesimuleerde verlopen (seed {band.seed}) van het scenario met de plaatsen van "
            "het plan, vanaf de 0-meting.",
        ),
        (
            "Regel",
            "Een zorgvorm is op koers in een kwartaal als bezet, instroom en wachtlijst "
            f"binnen de band liggen en {rule.describe()}. Een aanbieder is op koers als "
            "zijn plaatsen binnen die marge liggen.",
        ),
        ("Zorgvormen niet op koers", int((~forms["on_track"].astype(bool)).sum())),
        (
            "Aanbieders met afwijkende plaatsen",
            int((~comparison[comparison["level"] == PROVIDER_LEVEL]["on_track"]).sum()),
        ),
    ]
    append_row(ws, ["Onderwerp", "Waarde"])
    for cell in ws[1]:
        cell.font = HEADER
    for key, value in summary:
        append_row(ws, [key, value])
    ws.cell(row=2, column=2).fill = RED if not forms["on_track"].all() else GREEN
    if lines:
        append_row(ws, [])
        append_row(ws, ["Knelpunten"])
        ws.cell(row=ws.max_row, column=1).font = HEADER
        for text in lines:
            append_row(ws, ["", text])
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 120
    for row in ws.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")

    per_form = wb.create_sheet("per vorm en kwartaal")
    _header(
        per_form,
        [
            "Zorgvorm",
            "Kwartaal",
            "Plaatsen",
            "Plaatsen (plan)",
            "Verschil",
            "Bezet",
            "Band bezet van",
            "tot",
            "Bezettingsgraad",
            "Instroom",
            "Band instroom van",
            "tot",
            "Wachtlijst",
            "Band wachtlijst van",
            "tot",
            "Oordeel",
            "Reden",
        ],
        [26, 10, 10, 10, 9, 9, 10, 8, 12, 9, 10, 8, 10, 10, 8, 14, 80],
    )
    formats = {i: COUNT for i in (3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15)} | {9: SHARE}
    for r in forms.to_dict(orient="records"):
        _row(
            per_form,
            [
                names.get(str(r["care_form"]), str(r["care_form"])),
                r["quarter"],
                r["beds"],
                r["planned_beds"],
                r["beds_difference"],
                r["occupied"],
                r["occupied_low"],
                r["occupied_high"],
                r["occupancy_rate"],
                r["admissions"],
                r["admissions_low"],
                r["admissions_high"],
                r["waiting"],
                r["waiting_low"],
                r["waiting_high"],
                r["verdict"],
                r["reason"],
            ],
            formats,
            off=not r["on_track"],
            verdict=16,
        )

    per_provider = wb.create_sheet("per aanbieder")
    _header(
        per_provider,
        [
            "Aanbieder",
            "Naam",
            "Zorgvorm",
            "Kwartaal",
            "Plaatsen",
            "Plaatsen (plan)",
            "Verschil",
            "Bezet",
            "Bezettingsgraad",
            "Instroom",
            "Wachtlijst",
            "Kosten plaatsen (kwartaal)",
            "Kosten plan (kwartaal)",
            "Oordeel",
            "Reden",
        ],
        [11, 30, 26, 10, 10, 10, 9, 9, 12, 9, 10, 14, 14, 14, 60],
    )
    formats = {i: COUNT for i in (5, 6, 7, 8, 10, 11)} | {9: SHARE, 12: EURO, 13: EURO}
    providers = comparison[comparison["level"] == PROVIDER_LEVEL]
    for r in providers.to_dict(orient="records"):
        provider, form = str(r["provider"]), str(r["care_form"])
        quarter = Quarter.of(r["quarter"])
        a, b = quarter.window(quarter.year)
        per_bed = (model.cost_per_bed_day(form, provider) or math.nan) * (b - a)
        _row(
            per_provider,
            [
                provider,
                provider_names.get(provider, ""),
                names.get(form, form),
                r["quarter"],
                r["beds"],
                r["planned_beds"],
                r["beds_difference"],
                r["occupied"],
                r["occupancy_rate"],
                r["admissions"],
                r["waiting"],
                round(int(r["beds"]) * per_bed) if not math.isnan(per_bed) else None,
                round(int(r["planned_beds"]) * per_bed) if not math.isnan(per_bed) else None,
                r["verdict"],
                r["reason"],
            ],
            formats,
            off=not r["on_track"],
            verdict=14,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
