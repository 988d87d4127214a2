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
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.core import nl
from capaciteit.domain.scenario import Scenario
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.realisation.plan import planned_beds
from capaciteit.realisation.quarters import Quarter, parse_quarters, span_text
from capaciteit.realisation.reader import FIELDS, MAX_ROWS, SHEET
from capaciteit.results.cells import append_row
from capaciteit.results.input_sheets import (
    explanation,
    finish,
    header,
    input_cells,
    not_above,
    whole_numbers,
)

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
    header(ws, [f.header for f in FIELDS])
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
    input_cells(ws, [column[name] for name in entered], 2, last)
    whole_numbers(
        ws, [f"{column[n]}2:{column[n]}{last}" for n in ("beds", "admissions", "waiting")]
    )
    not_above(
        ws,
        column["occupied"],
        column["beds"],
        (2, last),
        title="Bezet",
        error="Bezet is een geheel getal van 0 of meer en hoogstens het aantal plaatsen.",
        prompt="Gemiddeld aantal bezette plaatsen over het kwartaal (afgerond).",
    )
    finish(ws, [WIDTHS.get(f.name, 12) for f in FIELDS], last)
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
    explanation(ws, lines, (22, 100))
