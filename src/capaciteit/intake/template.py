"""The 0-meting template: the workbook a provider fills in, a row per location and care form.

Three sheets:

*Uitleg* (opens first)
    the region, the provider, the peildatum and who to send the workbook back to; then,
    in Dutch, what to count (bedden, bezet, wachtend on the peildatum, each young person
    counted once), the care forms in the list, how the upload is checked and what the
    region does with it. When the template is made without a peildatum, its cell here is
    the one (yellow) the provider fills in.
*0-meting*
    the columns aanbieder, locatie, zorgvorm, bedden, bezet, wachtend, toelichting
    (:data:`~capaciteit.intake.reader.FIELDS`) and :data:`TEMPLATE_ROWS` empty rows to
    fill in (yellow). Made for one provider, its code is filled in and locked on every
    row. Excel helps while typing: zorgvorm is a list of the care form ids; bedden and
    wachtend take whole numbers from 0 to 10.000 (a *stop* otherwise); bezet too, with a
    *warning* and an orange cell above bedden (it can happen, see :mod:`capaciteit.intake`).
*Sjabloon* (hidden)
    what the reader needs to trust the workbook: which template it is and its version,
    the peildatum (or where the provider fills it in), the provider and region it was made
    for, and the lists of care forms and providers the dropdowns offer.

The header is frozen and the sheets are protected without a password, so the codes and
headers the reader relies on are not changed by accident. The reader
(:mod:`.reader`, :mod:`.rows`) checks everything again: validation does not stop pasted
values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.core import nl
from capaciteit.domain.model import STANDARD_CARE_FORMS, RegionModel
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.intake.reader import (
    EXPLANATION_SHEET,
    FIELDS,
    FORMS_COLUMN,
    KIND,
    MAX_COUNT,
    META_SHEET,
    PROVIDERS_COLUMN,
    SHEET,
    STANDARD_NAMES,
    VERSION,
    parse_date,
)
from capaciteit.io.model_files import load_model
from capaciteit.results import input_sheets as sheets
from capaciteit.results.cells import FORMULA_START, append_row

TEMPLATE_ROWS = 500
"""Empty rows to fill in (a large provider has ~100 locations); more: a second copy."""
WIDTHS = {"provider": 12, "location": 32, "care_form": 16, "note": 50}
PEILDATUM_ROW = 4
"""The row of the peildatum on the sheet *Uitleg* (its value in column B)."""


def make_template(
    out: Path,
    model_dir: Path | None = None,
    provider: str | None = None,
    peildatum: str | None = None,
    contact: str | None = None,
) -> Path:
    """Write the 0-meting template to ``out`` (the use case of ``capaciteit sjabloon 0-meting``).

    With ``model_dir`` the care forms and providers are the region model's (it is loaded
    and validated first); without, the standard care forms. ``provider`` makes it a
    template for that provider; ``peildatum`` (``2024-12-31`` or ``31-12-2024``) fixes the
    day, else the provider fills it in. ``contact`` says who to send it back to. Raises
    :class:`~capaciteit.errors.InvalidInputError` with every problem of the options.
    """
    model = load_model(model_dir) if model_dir is not None else None
    problems: list[Problem] = []
    day = parse_date(peildatum) if peildatum else None
    if peildatum and day is None:
        problems.append(
            Problem(
                "--peildatum",
                f"'{peildatum}' is geen datum.",
                "Schrijf de datum als JJJJ-MM-DD, bijvoorbeeld 2024-12-31.",
            )
        )
    code = (provider or "").strip()
    if code and model is not None and code not in model.provider_ids:
        problems.append(
            Problem(
                "--aanbieder",
                f"aanbieder '{code}' staat niet in providers.csv van het model.",
                f"Gebruik een van: {', '.join(model.provider_ids)}; of voeg '{code}' toe aan "
                "providers.csv.",
            )
        )
    elif code and model is None and code.startswith(FORMULA_START):
        problems.append(
            Problem(
                "--aanbieder",
                f"aanbieder '{code}' begint met een teken waarmee een spreadsheet een formule "
                "begint.",
                "Gebruik een code die met een letter of cijfer begint, of geef het regiomodel "
                "(--model) waarin de code staat.",
            )
        )
    if problems:
        raise InvalidInputError("Het sjabloon", problems)
    return write_template(out, model, code, day, (contact or "").strip())


def write_template(
    path: Path,
    model: RegionModel | None,
    provider: str = "",
    peildatum: dt.date | None = None,
    contact: str = "",
) -> Path:
    """Write the template (see the module) to ``path``; the options are already checked.

    ``provider`` ``""`` and ``peildatum`` ``None`` leave them to the provider.
    """
    if model is not None:
        forms = list(model.care_form_ids)
        form_names = {str(k): str(v) for k, v in model.care_forms["name"].items()}
        providers = list(model.provider_ids)
        provider_names = {str(k): str(v) for k, v in model.providers["name"].items()}
    else:
        forms, form_names = list(STANDARD_CARE_FORMS), STANDARD_NAMES
        providers, provider_names = [], {}
    wb = Workbook()
    about = wb.active
    assert about is not None
    about.title = EXPLANATION_SHEET
    data = wb.create_sheet(SHEET)
    meta = wb.create_sheet(META_SHEET)
    _data_sheet(data, forms, providers, provider)
    who = f"{provider} ({provider_names[provider]})" if provider in provider_names else provider
    _explanation(about, model, who, peildatum, contact, forms, form_names)
    _meta_sheet(meta, model, provider, peildatum, forms, providers)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _data_sheet(
    ws: Worksheet, forms: Sequence[str], providers: Sequence[str], provider: str
) -> None:
    """Write the sheet *0-meting*: header, empty rows, lists and checks while typing."""
    sheets.header(ws, [f.header for f in FIELDS])
    first, last = 2, TEMPLATE_ROWS + 1
    if provider:
        for _ in range(TEMPLATE_ROWS):
            append_row(ws, [provider])
    column = {f.name: get_column_letter(i) for i, f in enumerate(FIELDS, start=1)}
    entered = [f.name for f in FIELDS if not (provider and f.name == "provider")]
    sheets.input_cells(ws, [column[name] for name in entered], first, last)
    lists = [("care_form", FORMS_COLUMN, len(forms), "zorgvorm")]
    if providers and not provider:
        lists.append(("provider", PROVIDERS_COLUMN, len(providers), "aanbieder"))
    for name, source, count, what in lists:
        letter = get_column_letter(source)
        choice = DataValidation(
            type="list",
            formula1=f"'{META_SHEET}'!${letter}$2:${letter}${count + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop",
            errorTitle=f"Onbekende {what}",
            error=f"Kies een {what} uit de lijst.",
            promptTitle=what.capitalize(),
            prompt=f"Kies de {what} uit de lijst.",
            showInputMessage=True,
        )
        ws.add_data_validation(choice)
        choice.add(f"{column[name]}{first}:{column[name]}{last}")
    sheets.whole_numbers(
        ws,
        [f"{column[n]}{first}:{column[n]}{last}" for n in ("beds", "waiting")],
        maximum=MAX_COUNT,
    )
    sheets.not_above(
        ws,
        column["occupied"],
        column["beds"],
        (first, last),
        title="Bezet",
        error=f"Bezet is een geheel getal van 0 tot en met {nl.number(MAX_COUNT)}. Meer bezet "
        "dan bedden kan (bijvoorbeeld bij afbouw): controleer het dan en licht het toe.",
        prompt="Jeugdigen die op de peildatum in deze plaatsen verblijven.",
        maximum=MAX_COUNT,
    )
    sheets.finish(ws, [WIDTHS.get(f.name, 11) for f in FIELDS], last)


def _explanation(
    ws: Worksheet,
    model: RegionModel | None,
    provider: str,
    peildatum: dt.date | None,
    contact: str,
    forms: Sequence[str],
    form_names: dict[str, str],
) -> None:
    """Write the sheet *Uitleg*: for whom, which day, what to count, how it is checked."""
    lines: list[tuple[str, str]] = [
        ("0-meting: bedden, bezetting en wachtenden per locatie", ""),
        ("Regio", model.meta.name if model is not None else "–"),
        (
            "Aanbieder",
            provider or f"vul op elke rij van het werkblad '{SHEET}' de code van uw organisatie in",
        ),
        ("Peildatum", nl.date(peildatum) if peildatum is not None else ""),
        (
            "Terugsturen naar",
            contact or "de regio die u dit sjabloon stuurde (als .xlsx-bestand)",
        ),
        ("", ""),
        ("Wat vult u in?", ""),
        (
            "",
            f"Vul op het werkblad '{SHEET}' één rij in per locatie en zorgvorm: de gele cellen. "
            "Heeft een locatie twee zorgvormen, dan zijn dat twee rijen. Tel alles op "
            "de peildatum"
            + ("." if peildatum is not None else ": vul die hierboven in (de gele cel).")
            + " Vul gehele getallen in; 0 als er niets is.",
        ),
    ]
    lines += [(f.header, f.description) for f in FIELDS]
    lines += [
        ("", ""),
        ("Zo telt u", ""),
        (
            "bedden",
            "De plaatsen die op de peildatum gecontracteerd en beschikbaar zijn, bezet of "
            "niet. Een plaats die tijdelijk dicht is (verbouwing, geen personeel) telt niet "
            "mee; licht dat toe.",
        ),
        (
            "bezet",
            "De jeugdigen die op de peildatum in een van die plaatsen verblijven, ook wie daar "
            "wacht op een plaats elders. Meer bezet dan bedden kan (bijvoorbeeld bij afbouw); "
            "licht het dan toe.",
        ),
        (
            "wachtend",
            "De jeugdigen die op de peildatum bij u wachten op een plaats in deze zorgvorm, "
            "thuis of in een andere plek. Tel een jeugdige maar één keer: bij de aanbieder "
            "waar hij is aangemeld, en niet als hij al elders in deze zorgvorm is geplaatst.",
        ),
        ("", ""),
        ("Zorgvormen", ""),
    ]
    lines += [(f, form_names.get(f, "")) for f in forms]
    lines += [
        ("", ""),
        ("Controle bij het inlezen", ""),
        (
            "",
            "Aanbieder, locatie, zorgvorm en de drie getallen zijn verplicht; de getallen "
            f"zijn gehele getallen van 0 tot en met {nl.number(MAX_COUNT)}; elke locatie en "
            "zorgvorm staat er één keer in; alle aanbieders tellen op dezelfde peildatum. Een "
            "formule wordt niet uitgerekend: typ de getallen zelf in. Bij een fout wordt het "
            "bestand geweigerd, met per fout het werkblad, de rij en wat u moet verbeteren. "
            "Verander de namen van de werkbladen en kolommen niet.",
        ),
        (
            "",
            f"Meer dan {nl.number(TEMPLATE_ROWS)} rijen nodig? Vul een tweede exemplaar van "
            "dit sjabloon in.",
        ),
        ("", ""),
        ("Wat gebeurt ermee?", ""),
        (
            "",
            "De regio telt de locaties per aanbieder en zorgvorm op tot de 0-meting: het "
            "aantal bedden, bezette bedden en wachtenden waar de afspraken over afbouw en "
            "ombouw van uitgaan. De locaties zelf worden bewaard om de telling na te kunnen "
            "gaan.",
        ),
    ]
    sheets.explanation(ws, lines, (24, 100))
    day = ws.cell(PEILDATUM_ROW, 2)
    assert ws.cell(PEILDATUM_ROW, 1).value == "Peildatum"
    ws.cell(PEILDATUM_ROW, 1).font = Font(bold=False)
    if peildatum is None:
        day.protection = Protection(locked=False)
        day.fill = sheets.INPUT_FILL
        day.number_format = "DD-MM-YYYY"
        rule = DataValidation(
            type="date",
            operator="between",
            formula1="DATE(2000,1,1)",
            formula2="DATE(2100,12,31)",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop",
            errorTitle="Peildatum",
            error="Vul een datum in, bijvoorbeeld 31-12-2024.",
            promptTitle="Peildatum",
            prompt="De dag waarop u telt, bijvoorbeeld 31-12-2024.",
            showInputMessage=True,
        )
        ws.add_data_validation(rule)
        rule.add(day.coordinate)
    ws.protection.sheet = True


def _meta_sheet(
    ws: Worksheet,
    model: RegionModel | None,
    provider: str,
    peildatum: dt.date | None,
    forms: Sequence[str],
    providers: Sequence[str],
) -> None:
    """Write the hidden sheet *Sjabloon*: keys in A, values in B, the lists in D and E."""
    pairs: list[tuple[str, object]] = [
        ("sjabloon", KIND),
        ("versie", VERSION),
        ("peildatum", peildatum.isoformat() if peildatum is not None else ""),
        ("peildatum_cel", f"B{PEILDATUM_ROW}"),
        ("aanbieder", provider),
        ("regio", model.meta.name if model is not None else ""),
    ]
    lists = [["zorgvormen", *forms], ["aanbieders", *providers]]
    for i in range(max(len(pairs), *(len(items) for items in lists))):
        key, value = pairs[i] if i < len(pairs) else (None, None)
        listed = [items[i] if i < len(items) else None for items in lists]
        append_row(ws, [key, value, None, *listed])
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
