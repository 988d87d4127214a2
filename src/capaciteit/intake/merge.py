"""Adding the locations up to ``beds.csv``: the checks across files, and the files written.

:func:`run_intake` is the use case of ``capaciteit intake``: it reads every filled-in
template (:mod:`.reader`), checks every row (:mod:`.rows`), adds the locations up per
provider and care form, and refuses with every problem of every file at once
(:class:`~capaciteit.errors.InvalidInputError`, grouped by file in the order given) or
writes:

``beds.csv``
    the 0-meting as the region model reads it: ``provider``, ``care_form``, ``beds``,
    ``occupied``, ``waiting``; one row per provider and care form with the sums over its
    locations, sorted by provider and care form, ids as the providers wrote them (ids that
    would run as a formula in a spreadsheet are refused without a model, see :mod:`.rows`).
``locaties.csv``
    every location as filled in, to trace each sum back: ``file``, ``row``, ``provider``,
    ``location``, ``care_form``, ``beds``, ``occupied``, ``waiting``, ``note``; text that
    starts like a formula is written as text (:mod:`capaciteit.results.cells`).

Checks that need all rows together:

* all files share one peildatum (:func:`~capaciteit.intake.rows.check_peildata`);
* per provider and care form, bezet is not above bedden over all its locations: the
  region model refuses such a 0-meting (:mod:`capaciteit.checks`), so it is a problem
  here, where one location above is only a warning;
* with a region model: every care form of the model has a row (the model asks for one,
  0 beds when there are none); and the new ``beds.csv`` is loaded with the model's other
  tables by the model's own loader, so that what is written fits. A problem it finds in
  ``beds.csv`` refuses the intake; one in another table (a tariff missing for a new
  provider and care form) is a warning for the region, who must change the model anyway.

Warnings (written, and said): a location with more occupied than beds; with a model, a
provider with beds in the model's current 0-meting that sent nothing, and a peildatum
outside the model's baseline year.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capaciteit.core import nl
from capaciteit.domain.model import TABLES, RegionModel
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.intake.reader import (
    SHEET,
    STANDARD_NAMES,
    WHAT,
    Filled,
    in_sheet,
    labels,
    read_filled,
    where,
)
from capaciteit.intake.rows import Location, check_locations, check_peildata
from capaciteit.io.model_files import MODEL_FILE, load_model
from capaciteit.io.tables import find_table
from capaciteit.io.workbooks import cell_text
from capaciteit.results.cells import write_csv

BEDS_FILE = "beds.csv"
LOCATIONS_FILE = "locaties.csv"
BEDS_COLUMNS = ["provider", "care_form", "beds", "occupied", "waiting"]
LOCATION_COLUMNS = ["file", "row", "provider", "location", "care_form", *BEDS_COLUMNS[2:], "note"]
COUNTS = BEDS_COLUMNS[2:]


@dataclass(frozen=True)
class Intake:
    """The 0-meting collected from the providers' templates.

    Attributes
    ----------
    beds
        One row per provider and care form: ``provider``, ``care_form``, ``beds``,
        ``occupied``, ``waiting`` (int, sums over the locations), sorted.
    locations
        Every location row: ``file`` (file and sheet), ``row`` (as the spreadsheet shows
        it), ``provider``, ``location``, ``care_form``, ``beds``, ``occupied``,
        ``waiting``, ``note``; in the order of the files and rows.
    peildatum
        The day all files counted on.
    sources
        The files read, as named in problems.
    warnings
        What was written but deserves a look (see the module), as problems.
    care_form_names
        Dutch name per care form id, in the model's order (without a model: the standard
        forms); for reports.
    files
        The files written, by name (``beds``, ``locations``); empty until written.
    """

    beds: pd.DataFrame
    locations: pd.DataFrame
    peildatum: dt.date
    sources: list[str]
    warnings: list[Problem]
    care_form_names: dict[str, str]
    files: dict[str, Path] = field(default_factory=dict)

    def by_form(self) -> pd.DataFrame:
        """Totals per care form: ``providers``, ``locations``, ``beds``, ``occupied``, ``waiting``.

        Indexed by ``care_form``, in the order of :attr:`care_form_names` (others after).
        """
        totals = self.beds.groupby("care_form")[COUNTS].sum()
        totals.insert(0, "providers", self.beds.groupby("care_form").size())
        counted = self.locations.groupby("care_form").size()
        totals.insert(1, "locations", counted.reindex(totals.index).astype("int64"))
        known = list(self.care_form_names)
        order = sorted(totals.index, key=lambda f: known.index(f) if f in known else len(known))
        return totals.loc[order]


def run_intake(paths: Sequence[Path], out: Path, model_dir: Path | None = None) -> Intake:
    """Read, check and add up the filled-in templates ``paths``; write them to ``out``.

    With ``model_dir`` the region model is loaded first and the rows are checked against
    it (see the module). Raises :class:`~capaciteit.errors.InvalidInputError` with every
    problem of every file; nothing is written then.
    """
    model = load_model(model_dir) if model_dir is not None else None
    intake = merge_intake(paths, model)
    return write_intake(intake, out)


def merge_intake(paths: Sequence[Path], model: RegionModel | None = None) -> Intake:
    """Read every template in ``paths`` and add the locations up (see the module)."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    names = labels(paths)
    if not paths:
        problems.append(
            Problem(
                "intake",
                "er is geen ingevuld sjabloon gegeven.",
                "Geef de ingevulde sjablonen (.xlsx) van de aanbieders.",
            )
        )
    filled: list[Filled] = []
    for path, label in zip(paths, names, strict=True):
        read = read_filled(path, label, problems)
        if read is not None:
            filled.append(read)
    locations = check_locations(filled, model, problems, warnings)
    peildatum = check_peildata(filled, problems)
    if not problems and not locations:
        problems.append(
            Problem(
                nl.join(names),
                f"het werkblad '{SHEET}' bevat geen ingevulde rijen.",
                "Vul per locatie en zorgvorm bedden, bezet en wachtend in.",
            )
        )
    beds = _add_up(locations)
    problems += _over_capacity(beds, locations)
    if model is not None:
        # a form whose rows were all refused has rows: only the problems of those rows count
        mentioned = {cell_text(r.values.get("care_form")) for f in filled for r in f.rows}
        problems += _forms_without_rows(mentioned, model)
        warnings += _providers_without_rows(beds, model)
        if peildatum is not None and peildatum.year != model.meta.baseline_year:
            warnings.append(
                Problem(
                    MODEL_FILE,
                    f"de peildatum ({nl.date(peildatum)}) ligt in {peildatum.year}; het model "
                    f"heeft de 0-meting in {model.meta.baseline_year}.",
                    f"Zet baseline_year in model.yaml op {peildatum.year} als deze telling de "
                    "nieuwe 0-meting is.",
                    column="baseline_year",
                )
            )
    if not problems and model is not None:
        refused, unfit = _fit(beds, model)
        problems += refused
        warnings += unfit
    if problems:
        raise InvalidInputError(WHAT, _grouped(problems, names))
    assert peildatum is not None  # every file has one (else a problem), and they agree
    frame = pd.DataFrame(
        [dataclasses.astuple(loc) for loc in locations], columns=LOCATION_COLUMNS
    ).astype({c: "int64" for c in ("row", *COUNTS)})
    if model is not None:
        form_names = {str(k): str(v) for k, v in model.care_forms["name"].items()}
    else:
        form_names = dict(STANDARD_NAMES)
    return Intake(beds, frame, peildatum, names, _grouped(warnings, names), form_names)


def write_intake(intake: Intake, out: Path) -> Intake:
    """Write ``beds.csv`` and ``locaties.csv`` to ``out``; return the intake with its files."""
    out.mkdir(parents=True, exist_ok=True)
    beds = _write_beds(intake.beds, out / BEDS_FILE)
    locations = write_csv(intake.locations, out / LOCATIONS_FILE)
    return dataclasses.replace(intake, files={"beds": beds, "locations": locations})


def _write_beds(beds: pd.DataFrame, path: Path) -> Path:
    # ids as given: this is a model table, and a quote would change the id (see the module)
    beds.to_csv(path, index=False)
    return path


def _add_up(locations: list[Location]) -> pd.DataFrame:
    """Sum the locations per provider and care form (``BEDS_COLUMNS``, sorted)."""
    frame = pd.DataFrame(
        [[loc.provider, loc.care_form, loc.beds, loc.occupied, loc.waiting] for loc in locations],
        columns=BEDS_COLUMNS,
    )
    summed = frame.groupby(["provider", "care_form"], sort=True)[COUNTS].sum().reset_index()
    return summed.astype({c: "int64" for c in COUNTS})[BEDS_COLUMNS]


def _over_capacity(beds: pd.DataFrame, locations: list[Location]) -> list[Problem]:
    """Problems where, over all locations, more are occupied than there are beds."""
    out = []
    over = beds[beds["occupied"] > beds["beds"]]
    for provider, form, total, occupied in zip(
        over["provider"], over["care_form"], over["beds"], over["occupied"], strict=True
    ):
        rows = [x for x in locations if x.provider == provider and x.care_form == form]
        first = rows[0]
        places = nl.join(where(x.file, x.row, first.file) for x in rows)
        out.append(
            Problem(
                first.file,
                f"over alle locaties samen is bezet ({nl.number(occupied)}) meer dan bedden "
                f"({nl.number(total)}); het regiomodel neemt geen 0-meting aan met meer bezette "
                "dan beschikbare plaatsen.",
                f"Controleer bedden en bezet in {places}. Verblijven er echt meer jeugdigen dan "
                "er plaatsen zijn, tel dan de plaatsen die op de peildatum in gebruik zijn mee "
                "als bedden en licht dat toe.",
                row=first.row,
                column="bezet",
                id=f"{provider} / {form}",
            )
        )
    return out


def _forms_without_rows(mentioned: set[str], model: RegionModel) -> list[Problem]:
    """Problems for the model's care forms no row names (``mentioned``: the forms named)."""
    return [
        Problem(
            BEDS_FILE,
            f"geen enkele aanbieder heeft een rij voor zorgvorm '{form}' ingevuld; het "
            "regiomodel vraagt minstens één rij per zorgvorm.",
            f"Vraag de aanbieders van '{form}' om hun sjabloon, of laat een aanbieder een rij "
            "met 0 bedden invullen als de regio deze zorgvorm niet heeft.",
            id=form,
        )
        for form in model.care_form_ids
        if form not in mentioned
    ]


def _providers_without_rows(beds: pd.DataFrame, model: RegionModel) -> list[Problem]:
    """Warnings for providers with beds in the model's 0-meting that sent no rows."""
    current = model.beds["beds"].groupby(level="provider").sum()
    sent = set(beds["provider"])
    return [
        Problem(
            f"{BEDS_FILE} van het model",
            f"aanbieder '{provider}' heeft in de huidige 0-meting {nl.number(int(total))} "
            "bedden, maar er is geen sjabloon met rijen van deze aanbieder.",
            "Vraag het sjabloon bij deze aanbieder op; zonder rijen telt de nieuwe beds.csv "
            "deze aanbieder niet mee.",
            id=str(provider),
        )
        for provider, total in current.items()
        if total > 0 and provider not in sent
    ]


def _fit(beds: pd.DataFrame, model: RegionModel) -> tuple[list[Problem], list[Problem]]:
    """Load the model with the new ``beds.csv``; return (problems, warnings) it raises.

    A problem in ``beds.csv`` itself refuses the intake; one in another table is the
    region's to fix in the model, so a warning.
    """
    source = model.meta.path
    with tempfile.TemporaryDirectory(prefix="capaciteit-intake-") as tmp:
        folder = Path(tmp)
        shutil.copy2(source / MODEL_FILE, folder / MODEL_FILE)
        for name in TABLES:
            if name != "beds":
                for table in find_table(source, name):
                    shutil.copy2(table, folder / table.name)
        _write_beds(beds, folder / BEDS_FILE)
        try:
            load_model(folder)
        except InvalidInputError as exc:
            problems = [
                dataclasses.replace(p, file=f"{BEDS_FILE} (samengeteld)")
                for p in exc.problems
                if p.file == BEDS_FILE
            ]
            warnings = [
                dataclasses.replace(
                    p,
                    message=f"met de nieuwe beds.csv: {p.message}",
                    fix=f"Pas het regiomodel aan: {p.fix}",
                )
                for p in exc.problems
                if p.file != BEDS_FILE
            ]
            return problems, warnings
    return [], []


def _grouped(problems: list[Problem], names: list[str]) -> list[Problem]:
    """Order problems by the file they are about (in the order given), then by row."""

    def order(p: Problem) -> tuple[int, int]:
        for i, name in enumerate(names):
            if p.file == name or p.file.startswith(in_sheet(name, "")):
                return i, p.row or 0
        return len(names), 0

    return sorted(problems, key=order)
