"""Checking the rows of filled-in 0-meting templates, within and across files.

Every row is a provider's location and care form with three counts (see
:data:`~capaciteit.intake.reader.FIELDS`). A problem names the file and sheet, the row,
the column, the id (``P01 / Zwolle / residentieel``: provider, location, care form) and
the fix; all rows of all files are checked before anything is refused.

Checked per row (:func:`check_locations`):

* aanbieder, locatie and zorgvorm are filled in; the provider is the template's (when it
  was made for one) and, given a region model, in its ``providers.csv``; the care form is
  one of the template's list and, given a model, one of its ``care_forms.csv``; a code
  that differs from a known one only in capitals is named with the right spelling;
* bedden, bezet and wachtend are whole numbers from 0 to
  :data:`~capaciteit.intake.reader.MAX_COUNT`;
* no provider, location and care form appears twice, also across files (locations are
  compared without regard to capitals and repeated spaces: ``Zwolle`` and ``zwolle`` are
  one location);
* a cell with a formula is refused: formulas are never computed;
* bezet above bedden at one location is a *warning*, not a problem (see
  :mod:`capaciteit.intake`).

Without a region model, a provider code or care form that starts like a formula (``=``,
``+``, ``-``, ``@``) is refused: ``beds.csv`` keeps ids as given, and such a code would run
as a formula when a planner opens it. With a model, its own codes are used as they are.

Across files, all must share one peildatum (:func:`check_peildata`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from capaciteit.core import nl
from capaciteit.domain.model import RegionModel
from capaciteit.errors import Problem
from capaciteit.intake.reader import (
    HEADERS,
    KEYS,
    MAX_COUNT,
    NUMBERS,
    READ,
    Filled,
    TemplateInfo,
    where,
)
from capaciteit.io.workbooks import SheetRow, cell_text, choices, whole_number
from capaciteit.results.cells import FORMULA_START


@dataclass(frozen=True)
class Location:
    """One checked row: a provider's location and care form with its counts."""

    file: str
    row: int
    provider: str
    location: str
    care_form: str
    beds: int
    occupied: int
    waiting: int
    note: str


def check_locations(
    filled: Sequence[Filled],
    model: RegionModel | None,
    problems: list[Problem],
    warnings: list[Problem],
) -> list[Location]:
    """Check every row of every file; return the rows without problems, typed.

    Problems go to ``problems``; a location with more occupied than beds goes to
    ``warnings``. Duplicates are found across all files.
    """
    seen: dict[tuple[str, str, str], SheetRow] = {}
    spelled: dict[str, tuple[str, SheetRow]] = {}
    out: list[Location] = []
    for f in filled:
        for r in f.rows:
            found, location = _check_row(r, f.info, model, seen, spelled, warnings)
            problems.extend(found)
            if location is not None:
                out.append(location)
    return out


def _check_row(
    r: SheetRow,
    info: TemplateInfo,
    model: RegionModel | None,
    seen: dict[tuple[str, str, str], SheetRow],
    spelled: dict[str, tuple[str, SheetRow]],
    warnings: list[Problem],
) -> tuple[list[Problem], Location | None]:
    """Check one row; return its problems and the typed location (``None`` with problems).

    ``seen`` (rows by key, for duplicates) and ``spelled`` (the first spelling of each
    provider code, without a model) hold the rows before it and are updated.
    """
    provider, location, form = (cell_text(r.values.get(k)) for k in KEYS)
    ident = " / ".join(x or "?" for x in (provider, location, form))
    found: list[Problem] = []

    def add(message: str, fix: str, name: str, to: list[Problem] | None = None) -> None:
        problem = Problem(r.file, message, fix, row=r.row, column=HEADERS[name], id=ident)
        (found if to is None else to).append(problem)

    for name in (n for n in READ if n in r.formulas):
        add(
            f"in deze cel staat een formule ('{cell_text(r.values.get(name))}'); formules "
            "worden niet uitgerekend.",
            "Typ de waarde zelf in (of plak als waarden).",
            name,
        )
    if "provider" not in r.formulas:
        for message, fix in _provider_problems(provider, info, model, spelled, r):
            add(message, fix, "provider")
    if "location" not in r.formulas and not location:
        add(
            "'locatie' is leeg.",
            "Vul de naam of plaats van de locatie in (bij pleegzorg: het team of de regio); "
            "één rij per locatie en zorgvorm.",
            "location",
        )
    if "care_form" not in r.formulas:
        for message, fix in _form_problems(form, info, model):
            add(message, fix, "care_form")
    numbers: dict[str, int] = {}
    for name in (n for n in NUMBERS if n not in r.formulas):
        header = HEADERS[name]
        value, wrong = whole_number(r.values.get(name), header)
        if wrong is not None:
            add(wrong[0], wrong[1], name)
        elif value is not None and value > MAX_COUNT:
            add(
                f"{header} = {nl.number(value)} is meer dan {nl.number(MAX_COUNT)}: geen aantal "
                "voor één locatie en zorgvorm.",
                f"Controleer {header}; tel per locatie en zorgvorm.",
                name,
            )
        elif value is not None:
            numbers[name] = value
    beds, occupied = numbers.get("beds"), numbers.get("occupied")
    if beds is not None and occupied is not None and occupied > beds:
        add(
            f"bezet ({nl.number(occupied)}) is meer dan bedden ({nl.number(beds)}) op deze "
            "locatie.",
            "Dat kan (bijvoorbeeld bij afbouw: een jeugdige blijft tot er elders plaats is) en "
            "wordt zo overgenomen; controleer het wel. Over alle locaties van de aanbieder en "
            "zorgvorm samen mag bezet niet boven bedden liggen.",
            "occupied",
            warnings,
        )
    if provider and location and form:
        key = (provider, " ".join(location.casefold().split()), form)
        first = seen.get(key)
        if first is not None:
            add(
                f"{ident} staat er meer dan één keer in (ook in {_where(first, r)}).",
                "Houd één rij per aanbieder, locatie en zorgvorm: tel de rijen op of verwijder "
                "er een.",
                "location",
            )
        else:
            seen[key] = r
    if found or len(numbers) < len(NUMBERS):
        return found, None
    note = "" if "note" in r.formulas else cell_text(r.values.get("note"))
    return found, Location(
        r.file,
        r.row,
        provider,
        location,
        form,
        beds=numbers["beds"],
        occupied=numbers["occupied"],
        waiting=numbers["waiting"],
        note=note,
    )


def _provider_problems(
    provider: str,
    info: TemplateInfo,
    model: RegionModel | None,
    spelled: dict[str, tuple[str, SheetRow]],
    r: SheetRow,
) -> list[tuple[str, str]]:
    """Say what is wrong with a row's provider code (message, fix), if anything."""
    if not provider:
        own = f" ({info.provider})" if info.provider else ""
        return [("'aanbieder' is leeg.", f"Vul de code van uw organisatie in{own}.")]
    if info.provider and provider != info.provider:
        return [
            (
                f"aanbieder '{provider}' is niet de aanbieder van dit sjabloon "
                f"('{info.provider}').",
                f"Een sjabloon is voor één aanbieder: vul '{info.provider}' in, of vraag voor "
                f"'{provider}' een eigen sjabloon aan.",
            )
        ]
    if model is not None:
        if provider in model.provider_ids:
            return []
        return [
            (
                f"aanbieder '{provider}' staat niet in providers.csv van het model.",
                _alike(provider, model.provider_ids)
                or f"Gebruik een van: {choices(model.provider_ids)}; of voeg '{provider}' toe "
                "aan providers.csv van het model.",
            )
        ]
    if provider.startswith(FORMULA_START):
        return [_formula_like(provider, "aanbieder")]
    first = spelled.setdefault(provider.casefold(), (provider, r))
    if first[0] != provider:
        return [
            (
                f"aanbieder '{provider}' verschilt alleen in hoofdletters van '{first[0]}' "
                f"({_where(first[1], r)}).",
                "Schrijf de code van een aanbieder overal hetzelfde.",
            )
        ]
    return []


def _form_problems(
    form: str, info: TemplateInfo, model: RegionModel | None
) -> list[tuple[str, str]]:
    """Say what is wrong with a row's care form (message, fix), if anything."""
    if not form:
        return [
            ("'zorgvorm' is leeg.", f"Kies de zorgvorm uit de lijst: {choices(info.care_forms)}.")
        ]
    if form not in info.care_forms:
        return [
            (
                f"zorgvorm '{form}' is onbekend.",
                _alike(form, info.care_forms)
                or f"Kies een zorgvorm uit de lijst van het sjabloon: {choices(info.care_forms)}.",
            )
        ]
    if model is not None and form not in model.care_form_ids:
        return [
            (
                f"zorgvorm '{form}' staat niet in het model (care_forms.csv).",
                f"Gebruik een zorgvorm van het model: {choices(model.care_form_ids)}; of voeg "
                f"'{form}' toe aan care_forms.csv van het model.",
            )
        ]
    if model is None and form.startswith(FORMULA_START):
        return [_formula_like(form, "zorgvorm")]
    return []


def _formula_like(code: str, what: str) -> tuple[str, str]:
    return (
        f"{what} '{code}' begint met een teken waarmee een spreadsheet een formule begint.",
        "Gebruik een code die met een letter of cijfer begint, of geef het regiomodel "
        "(--model) waarin de code staat.",
    )


def _alike(code: str, ids: Sequence[str]) -> str:
    """Suggest the id that differs from ``code`` only in capitals, if there is one."""
    match = next((i for i in ids if i.casefold() == code.casefold()), None)
    return f"Schrijf '{match}' (hoofdletters tellen mee)." if match else ""


def _where(first: SheetRow, r: SheetRow) -> str:
    return where(first.file, first.row, r.file)


def check_peildata(filled: Sequence[Filled], problems: list[Problem]) -> dt.date | None:
    """Return the peildatum all files share; a file with another one is a problem.

    The day most files name counts (the first file's on a tie); each file with another day
    is named with both days. ``None`` when no file has a peildatum or they differ.
    """
    days = [f.peildatum for f in filled if f.peildatum is not None]
    if not days:
        return None
    common = max(dict.fromkeys(days), key=days.count)
    with_common = [f.label for f in filled if f.peildatum == common]
    for f in filled:
        if f.peildatum is not None and f.peildatum != common:
            problems.append(
                Problem(
                    f.label,
                    f"de peildatum is {nl.date(f.peildatum)}; in "
                    f"{nl.join(with_common)} is het {nl.date(common)}.",
                    f"Alle aanbieders tellen op dezelfde dag: laat deze aanbieder tellen op "
                    f"{nl.date(common)}, of kies voor iedereen een nieuwe dag.",
                    column="peildatum",
                )
            )
    return common if len(set(days)) == 1 else None
