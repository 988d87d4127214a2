"""The realisation template: the workbook providers fill in every quarter.

One sheet *Realisatie* with a row per provider, care form and quarter: the codes and names
(locked, so that the reader can rely on them), the plan's places for that year for
reference, and four empty cells to fill in: plaatsen, bezet, instroom and wachtlijst. A
second sheet *Uitleg* says in Dutch what each number means and how the upload is checked.

Excel helps while typing: the four cells accept whole numbers of 0 or more only (a
*stop* message otherwise), bezet above plaatsen gives a warning and turns orange. The
header row is frozen and the sheet is protected without a password (codes cannot be
changed by accident; *Controleren > Beveiliging blad opheffen* lifts it). The reader
(:mod:`.reader`) checks everything again: a template can be filled in elsewhere, and
Excel's validation does not stop pasted values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.core import nl
from capaciteit.domain.scenario import Scenario
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.realisation.plan import planned_beds
from capaciteit.realisation.quarters import Quarter, parse_quarters, span_text
from capaciteit.realisation.reader import FIELDS, MAX_ROWS, SHEET
from capaciteit.results.cells import append_row

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
WARNING_FILL = PatternFill("solid", fgColor="F8CBAD")
WIDTHS = {
    "provider": 11,
    "provider_name": 30,
    "care_form": 14,
    "care_form_name": 28,
    "quarter": 10,
    "planned_beds": 10,
    "beds": 10,
    "occupied": 10,
    "admissions": 10,
    "waiting": 11,
    "note": 40,
}


def template_pairs(scenario: Scenario, plan: pd.DataFrame | None) -> list[tuple[str, str]]:
    """List the ``(provider, care_form)`` rows of the template, in the model's order.

    With a plan: every pair the plan lists. Without: every pair with beds in the 0-meting
    or the scenario.
    """
    if plan is not None:
        pairs = {(str(p), str(f)) for p, f in zip(plan["provider"], plan["care_form"], strict=True)}
    else:
        pairs = {(str(p), str(f)) for p, f in scenario.model.beds.index}
        pairs |= {(str(p), str(f)) for f, p in scenario.capacity.index}
    providers = {p: i for i, p in enumerate(scenario.model.provider_ids)}
    forms = {f: i for i, f in enumerate(scenario.model.care_form_ids)}
    return sorted(pairs, key=lambda k: (providers.get(k[0], 1 << 30), k[0], forms.get(k[1], 0)))


def default_quarters(scenario: Scenario) -> list[Quarter]:
    """Return the four quarters of the first year after the 0-meting (inside the horizon)."""
    year = scenario.model.meta.baseline_year + 1
    year = min(max(year, scenario.start_year), scenario.end_year)
    return [Quarter(year, n) for n in (1, 2, 3, 4)]


def write_template(
    scenario: Scenario, plan: pd.DataFrame | None, path: Path, quarters: list[str]
) -> Path:
    """Write the realisation template for ``quarters`` (``2025-K1``, ...) to ``path``.

    ``plan`` is the agreed plan (:func:`~capaciteit.realisation.plan.read_plan`); its
    places per provider and year are shown for reference, and its pairs are the rows.
    Without a plan the rows are the model's and scenario's pairs and the reference column
    shows the scenario's beds. An empty ``quarters`` means :func:`default_quarters`.
    Quarters outside the scenario's years are refused
    (:class:`~capaciteit.errors.InvalidInputError`).
    """
    chosen = parse_quarters(quarters, scenario.years) if quarters else default_quarters(scenario)
    pairs = template_pairs(scenario, plan)
    if len(pairs) * len(chosen) > MAX_ROWS:
        raise InvalidInputError(
            "Het sjabloon",
            [
                Problem(
                    "--kwartalen",
                    f"{nl.number(len(pairs) * len(chosen))} rijen is meer dan de "
                    f"{nl.number(MAX_ROWS)} die bij het inlezen zijn toegestaan.",
                    "Maak een sjabloon per jaar of per kwartaal.",
                )
            ],
        )
    reference = planned_beds(plan) if plan is not None else None
    model = scenario.model
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    append_row(ws, [f.header for f in FIELDS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    names = {str(k): str(v) for k, v in model.providers["name"].items()}
    form_names = {str(k): str(v) for k, v in model.care_forms["name"].items()}
    for quarter in chosen:
        for provider, form in pairs:
            if reference is not None:
                shown: int | None = int(reference.get((provider, form, quarter.year), 0))
            else:
                beds = scenario.capacity.get(quarter.year)
                shown = int(beds.get((form, provider), 0)) if beds is not None else None
            append_row(
                ws,
                [
                    provider,
                    names.get(provider, ""),
                    form,
                    form_names.get(form, ""),
                    quarter.label,
                    shown,
                    None,
                    None,
                    None,
                    None,
                    None,
                ],
            )
    last = ws.max_row
    column = {f.name: get_column_letter(i) for i, f in enumerate(FIELDS, start=1)}
    entered = [f.name for f in FIELDS if f.entered] + ["note"]
    for name in entered:
        for row in range(2, last + 1):
            cell = ws[f"{column[name]}{row}"]
            cell.protection = Protection(locked=False)
            cell.fill = INPUT_FILL
    whole = DataValidation(
        type="whole",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="Geen geldig aantal",
        error="Vul een geheel getal van 0 of meer in.",
        promptTitle="Aantal",
        prompt="Een geheel getal van 0 of meer.",
        showInputMessage=True,
    )
    ws.add_data_validation(whole)
    beds, occupied = column["beds"], column["occupied"]
    for name in ("beds", "admissions", "waiting"):
        whole.add(f"{column[name]}2:{column[name]}{last}")
    occupied_rule = DataValidation(
        type="custom",
        formula1=f"AND(ISNUMBER({occupied}2),{occupied}2=INT({occupied}2),{occupied}2>=0,"
        f"OR(ISBLANK({beds}2),{occupied}2<={beds}2))",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle="Bezet",
        error="Bezet is een geheel getal van 0 of meer en hoogstens het aantal plaatsen.",
        promptTitle="Bezet",
        prompt="Gemiddeld aantal bezette plaatsen over het kwartaal (afgerond).",
        showInputMessage=True,
    )
    ws.add_data_validation(occupied_rule)
    occupied_rule.add(f"{occupied}2:{occupied}{last}")
    ws.conditional_formatting.add(
        f"{occupied}2:{occupied}{last}",
        FormulaRule(
            formula=[f"AND(ISNUMBER({occupied}2),ISNUMBER({beds}2),{occupied}2>{beds}2)"],
            fill=WARNING_FILL,
        ),
    )
    for i, f in enumerate(FIELDS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(f.name, 12)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(FIELDS))}{last}"
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False
    ws.protection.formatColumns = False
    _explanation(wb.create_sheet("Uitleg"), scenario, chosen, plan is not None)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _explanation(
    ws: Worksheet, scenario: Scenario, quarters: Sequence[Quarter], plan: bool
) -> None:
    """Write the *Uitleg* sheet: what to fill in, what each number means, how it is checked."""
    reference = (
        "de plaatsen volgens het afgesproken afbouwplan voor dat jaar (ter informatie)"
        if plan
        else "de plaatsen van het scenario voor dat jaar (er is geen afgesproken plan gegeven)"
    )
    lines: list[tuple[str, str]] = [
        ("Realisatie afbouwplan", ""),
        ("Regio", scenario.model.meta.name),
        ("Scenario", scenario.name),
        ("Kwartalen", span_text(quarters)),
        ("", ""),
        ("Wat vult u in?", ""),
        (
            "",
            f"Vul op het werkblad '{SHEET}' per aanbieder, zorgvorm en kwartaal de vier gele "
            "cellen in. De andere kolommen staan vast en blijven zoals ze zijn.",
        ),
    ]
    for field in FIELDS:
        text = field.description
        if field.name == "planned_beds":
            text = reference
        lines.append((field.header, text))
    lines += [
        ("", ""),
        ("Zo rekent u", ""),
        (
            "bezet",
            "Tel per dag het aantal bezette plaatsen en neem het gemiddelde over de dagen van "
            "het kwartaal; rond af op een heel getal. Een jeugdige die in zijn plaats wacht op "
            "een plek elders telt als bezet.",
        ),
        (
            "instroom",
            "Elke start in het kwartaal telt, ook een overplaatsing naar een andere plek van "
            "dezelfde zorgvorm en doorstroom vanuit een andere zorgvorm.",
        ),
        (
            "wachtlijst",
            "Jeugdigen die op de laatste dag van het kwartaal wachten op een plek in deze "
            "zorgvorm (thuis of in een andere plek). Tel een jeugdige bij één aanbieder: daar "
            "waar hij is aangemeld.",
        ),
        ("", ""),
        ("Controle bij het inlezen", ""),
        (
            "",
            "Alle vier de getallen zijn verplicht, hele getallen en niet negatief; bezet is "
            "niet meer dan plaatsen; elke aanbieder, zorgvorm en kwartaal staat er één keer "
            "in; codes en kwartalen zijn die van het sjabloon. Een formule wordt niet "
            "uitgerekend: typ de getallen zelf in. Bij een fout wordt het hele bestand "
            "geweigerd, met per fout het werkblad, de rij en wat u moet verbeteren.",
        ),
        (
            "",
            "Elke aanbieder met plaatsen in het plan staat voor elk ingevuld kwartaal in het "
            "bestand: vul 0 in als er niemand was.",
        ),
        ("", ""),
        ("Wat gebeurt ermee?", ""),
        (
            "",
            "De regio vergelijkt de realisatie per zorgvorm en kwartaal met het afgesproken "
            "plan en met wat het model bij die plaatsen verwacht (een band waarbinnen 95% van "
            "de gesimuleerde kwartalen valt). Een kwartaal buiten de band, of plaatsen die "
            "meer dan 5% en minstens 2 plaatsen van het plan afwijken, heet 'niet op koers'.",
        ),
    ]
    for key, value in lines:
        append_row(ws, [key, value])
    for row in ws.iter_rows():
        if row[0].value and not row[1].value:
            row[0].font = Font(bold=True, size=12 if row[0].row == 1 else 11)
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
        row[0].alignment = Alignment(vertical="top")
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 100
