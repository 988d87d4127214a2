"""Reading stay records (CSV or xlsx) and refusing what cannot be calibrated from.

The table is :data:`capaciteit.domain.records.RECORDS`. Reading goes in three steps, each
listing every problem it finds (file, row, client id, fix) before anything is refused:

1. the header: a column that names personal data (a name, BSN, birth date, address) refuses
   the file unread (:func:`capaciteit.io.tables.refuse_personal_columns`);
2. the cells, with the typed reader of the region model, plus the dates (``2024-03-01``,
   ``1-3-2024`` or an Excel date) and ids that look like a BSN, a name or a date;
3. the stays as a whole: an end before its start, a referral after it, a date after the
   extract date, an ended stay that does not say where the young person went (or an
   ongoing one that does), and two stays of one client at the same time.

The result, :class:`StayRecords`, holds the stays as a frame with real dates and the
extract date the records were taken on (given, or the latest date in them). Nothing is
repaired: a user who sees no problem knows that every row was used as written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from capaciteit.core import nl
from capaciteit.core.privacy import HIDDEN, check_pseudonymous, personal, redact
from capaciteit.domain.model import SINKS
from capaciteit.domain.records import DATE_COLUMNS, RECORDS
from capaciteit.errors import InvalidInputError, Problem, condensed
from capaciteit.io.tables import UnreadableTableError, read_table, refuse_personal_columns

RECORDS_INPUT = "Het bestand met verblijfsgegevens"
"""``InvalidInputError.what`` of refused stay records."""

EARLIEST = pd.Timestamp("1990-01-01")
"""No stay record starts before this day (older dates are typing errors)."""


@dataclass(frozen=True)
class StayRecords:
    """Validated stay records.

    Attributes
    ----------
    stays
        One row per stay, in file order, indexed by ``row`` (the spreadsheet row): columns
        ``client_id``, ``provider``, ``care_form``, ``start`` and ``end`` (``datetime64``,
        ``NaT`` while ongoing), ``next`` (``""`` while ongoing), ``age_at_start_years``
        and ``referral`` (``NaT`` when not given).
    extract_date
        The day the records were extracted: stays still going on then are censored there.
    file
        The file name, for messages.
    """

    stays: pd.DataFrame
    extract_date: dt.date
    file: str

    @property
    def care_forms(self) -> list[str]:
        """Care forms with at least one stay, sorted."""
        return sorted(self.stays["care_form"].unique().tolist())

    @property
    def has_referrals(self) -> bool:
        """Whether referral dates are given (for every stay that has one)."""
        return bool(self.stays["referral"].notna().any())

    def until(self, day: dt.date) -> StayRecords:
        """Return the records as they were known at the start of ``day``.

        Stays starting on or after ``day`` are left out; stays ending on or after it are
        ongoing (no end, no ``next``); referrals from ``day`` on are unknown. The extract
        date becomes the day before.
        """
        cut = pd.Timestamp(day)
        stays = self.stays[self.stays["start"] < cut].copy()
        later = stays["end"].notna() & (stays["end"] >= cut)
        stays.loc[later, "end"] = pd.NaT
        stays.loc[later, "next"] = ""
        stays.loc[stays["referral"] >= cut, "referral"] = pd.NaT
        extract = (cut - pd.Timedelta(days=1)).date()
        return StayRecords(stays=stays, extract_date=extract, file=self.file)


def read_records(
    path: str | Path,
    *,
    extract_date: dt.date | None = None,
    care_forms: set[str] | None = None,
) -> StayRecords:
    """Read and check the stay records in ``path``; refuse them with every problem listed.

    ``extract_date`` is the day of the extract (default: the latest date in the records).
    ``care_forms``, when given (the forms of a region model), is the set a stay's care form
    must belong to; a ``next`` outside it is a sink. Problems never repeat a value that
    looks personal.
    """
    file = Path(path)
    problems: list[Problem] = []
    try:
        stays = _read(file, problems)
        if stays is None:
            raise InvalidInputError(RECORDS_INPUT, condensed(problems))
        extract = _check(stays, file.name, extract_date, care_forms, problems)
        if problems:
            raise InvalidInputError(RECORDS_INPUT, condensed(problems))
    except InvalidInputError as exc:
        raise InvalidInputError(exc.what, [_private(p) for p in exc.problems]) from None
    return StayRecords(stays=stays, extract_date=extract, file=file.name)


_QUOTED = re.compile(r"'[^']*'")


def _private(problem: Problem) -> Problem:
    """Redact a problem, and never repeat a client id cell's value (it may be a name).

    A pseudonymous id names the row of every problem; an id that holds a space or looks
    personal is hidden, and a problem about the ``client_id`` cell itself quotes nothing
    from it (the reader's "id 'Jan de Vries' bevat spaties" would repeat a name).
    """
    problem = redact(problem)
    ident = problem.id
    if ident and (any(ch.isspace() for ch in ident) or personal(ident)):
        problem = dataclasses.replace(problem, id=HIDDEN)
    if problem.column == "client_id":
        problem = dataclasses.replace(
            problem,
            message=_QUOTED.sub(f"'{HIDDEN}'", problem.message),
            fix=_QUOTED.sub(f"'{HIDDEN}'", problem.fix),
            id=HIDDEN,
        )
    return problem


def _read(path: Path, problems: list[Problem]) -> pd.DataFrame | None:
    """Read the cells (typed) and the dates; ``None`` when the file cannot be used."""
    if not path.is_file():
        problems.append(Problem(path.name, "bestaat niet.", f"Controleer het pad {path}."))
        return None
    if path.suffix not in (".csv", ".xlsx"):
        problems.append(
            Problem(path.name, "is geen .csv- of .xlsx-bestand.", "Sla het op als CSV of .xlsx.")
        )
        return None
    if refuse_personal_columns(path, problems, "gebruik een pseudonieme client_id"):
        return None
    try:
        frame = read_table(path, RECORDS, problems)
    except UnreadableTableError:
        return None
    check_pseudonymous(frame, ("client_id",), path.name, problems, example="C00123")
    if frame.empty and not problems:
        problems.append(
            Problem(path.name, "bevat geen verblijven.", "Lever minstens één verblijf aan.")
        )
    out = pd.DataFrame(
        {
            "client_id": frame["client_id"].astype(str),
            "provider": frame["provider"].astype(str),
            "care_form": frame["care_form"].astype(str),
            "next": frame["next"].astype(str),
            "age_at_start_years": frame["age_at_start_years"].astype("float64"),
        }
    )
    out.index = pd.Index(frame["_row"].astype("int64"), name="row")
    for column, name in zip(DATE_COLUMNS, ("start", "end", "referral"), strict=True):
        text = frame[column].astype(str).str.strip()
        text.index = out.index
        parsed = _dates(text)
        bad = (text != "") & (parsed.isna() | (parsed < EARLIEST))
        for row in out.index[bad]:
            problems.append(
                Problem(
                    path.name,
                    "de datum is niet te lezen of ligt voor 1990 (de waarde wordt niet "
                    "herhaald: een datum bij een jongere kan persoonlijk zijn).",
                    "Schrijf de datum als 2024-03-01 of 1-3-2024.",
                    row=int(row),
                    column=column,
                    id=str(out.at[row, "client_id"]),
                )
            )
        out[name] = parsed
    return out


def _dates(text: pd.Series) -> pd.Series:
    """Parse ISO dates (and Excel's ``2024-03-01 00:00:00``), then Dutch day-first ones."""
    iso = pd.to_datetime(text.where(text != ""), format="ISO8601", errors="coerce")
    dutch = pd.to_datetime(
        text.str.replace("/", "-", regex=False).where(text != ""),
        format="%d-%m-%Y",
        errors="coerce",
    )
    return iso.fillna(dutch).dt.normalize()


def _check(
    stays: pd.DataFrame,
    file: str,
    extract_date: dt.date | None,
    care_forms: set[str] | None,
    problems: list[Problem],
) -> dt.date:
    """Check the stays as a whole; return the extract date."""
    today = pd.Timestamp(dt.date.today())
    dates = pd.concat([stays["start"], stays["end"], stays["referral"]]).dropna()
    dates = dates[dates <= today]  # a date in the future is a problem, not the extract date
    latest = dates.max() if len(dates) else today
    extract = pd.Timestamp(extract_date) if extract_date is not None else latest

    def add(mask: pd.Series, message: str, fix: str, column: str) -> None:
        for row in stays.index[mask.fillna(False).to_numpy(dtype=bool)]:
            problems.append(
                Problem(
                    file,
                    message,
                    fix,
                    row=int(row),
                    column=column,
                    id=str(stays.at[row, "client_id"]),
                )
            )

    ended = stays["end"].notna()
    day = nl.date(extract.date())
    add(
        stays["end"] < stays["start"],
        "het verblijf eindigt voor het begint.",
        "Controleer start_date en end_date.",
        "end_date",
    )
    add(
        stays["referral"] > stays["start"],
        "de verwijzing is na het begin van het verblijf.",
        "Controleer referral_date (de dag van de verwijzing, voor of op start_date).",
        "referral_date",
    )
    today = pd.Timestamp(dt.date.today())
    for column, name in (
        ("start_date", "start"),
        ("end_date", "end"),
        ("referral_date", "referral"),
    ):
        add(
            stays[name] > today,
            "de datum ligt in de toekomst.",
            "Controleer de datum (een geplande start of einde hoort niet in een extract).",
            column,
        )
        add(
            (stays[name] > extract) & (stays[name] <= today),
            f"de datum ligt na de extractiedatum ({day}).",
            "Controleer de datum, of geef de juiste extractiedatum op.",
            column,
        )
    add(
        ended & (stays["next"] == ""),
        "het verblijf is beëindigd, maar er staat niet waar de jongere heen ging.",
        "Vul next in: de volgende zorgvorm, of een bestemming zoals thuis of zelfstandig.",
        "next",
    )
    add(
        ~ended & (stays["next"] != ""),
        "het verblijf loopt nog (geen end_date), maar next is ingevuld.",
        "Vul end_date in, of maak next leeg.",
        "next",
    )
    forms = set(care_forms) if care_forms is not None else set(stays["care_form"])
    add(
        ended & (stays["next"] != "") & ~stays["next"].isin(sorted(forms | set(SINKS))),
        "next is geen zorgvorm en geen bekende bestemming.",
        f"Gebruik een zorgvorm of een van: {', '.join(SINKS)}.",
        "next",
    )
    _check_spelling(stays, file, care_forms, problems)
    _check_overlaps(stays, file, problems)
    _check_ages(stays, file, problems)
    return extract.date()


def _check_spelling(
    stays: pd.DataFrame, file: str, care_forms: set[str] | None, problems: list[Problem]
) -> None:
    """Refuse care forms the model does not have, and ids that differ only in capitals.

    ``Pleegzorg`` next to ``pleegzorg`` would otherwise become a second care form with a
    few stays of its own, taken from the real one without a word.
    """
    known = sorted(care_forms) if care_forms is not None else None
    by_lower: dict[str, str] = {}
    if known is not None:
        by_lower = {f.lower(): f for f in known}
    else:
        counts = pd.concat([stays["care_form"], stays["next"][stays["next"] != ""]])
        counts = counts.value_counts()
        for value in counts.index:  # most rows first: the spelling most rows use wins
            by_lower.setdefault(str(value).lower(), str(value))
    for column in ("care_form", "next"):
        verdicts: dict[str, tuple[str, str]] = {}
        for value in stays[column].unique():  # judge each spelling once, then its rows
            text = str(value)
            if not text or text in SINKS:
                continue
            usual = by_lower.get(text.lower())
            if usual is not None and usual != text:
                verdicts[text] = (
                    f"'{text}' verschilt alleen in hoofdletters van '{usual}'.",
                    f"Schrijf '{usual}'.",
                )
            elif known is not None and usual is None and column == "care_form":
                verdicts[text] = (
                    f"de zorgvorm '{text}' staat niet in het regiomodel.",
                    f"Gebruik een van: {', '.join(known)}.",
                )
        wrong = stays[stays[column].isin(list(verdicts))]
        for row, value, client in zip(wrong.index, wrong[column], wrong["client_id"], strict=True):
            message, fix = verdicts[str(value)]
            problems.append(
                Problem(file, message, fix, row=int(row), column=column, id=str(client))
            )


AGE_SLACK_YEARS = 1.0
"""How far a client's age at a later stay may differ from the earlier one plus the time
between them: exports often give whole years."""


def _check_ages(stays: pd.DataFrame, file: str, problems: list[Problem]) -> None:
    """Refuse a client whose ages at the start of two stays do not fit the days between."""
    order = stays.sort_values(["client_id", "start"], kind="stable")
    same = order["client_id"].eq(order["client_id"].shift(1)).to_numpy()
    years = (order["start"] - order["start"].shift(1)).dt.days.to_numpy() / 365.25
    expected = order["age_at_start_years"].shift(1).to_numpy() + years
    off = same & (np.abs(order["age_at_start_years"].to_numpy() - expected) > AGE_SLACK_YEARS)
    rows = order.index.to_numpy()
    for k in np.flatnonzero(off):
        problems.append(
            Problem(
                file,
                f"de leeftijd bij de start past niet bij het vorige verblijf van deze jongere "
                f"(rij {int(rows[k - 1])}) en de tijd ertussen: meer dan een jaar verschil.",
                "Controleer age_at_start_years van beide verblijven.",
                row=int(rows[k]),
                column="age_at_start_years",
                id=str(order.iloc[k]["client_id"]),
            )
        )


def _check_overlaps(stays: pd.DataFrame, file: str, problems: list[Problem]) -> None:
    """Refuse a stay that starts before an earlier stay of the client ended (one at a time).

    Each stay is held against the client's earlier stay that ends last (an ongoing one never
    ends), not only the one just before it: a short stay inside a long one would otherwise
    hide the next stay that overlaps the long one.
    """
    order = stays.sort_values(["client_id", "start"], kind="stable")
    client = order["client_id"].to_numpy()
    start = order["start"].to_numpy()
    end = order["end"].fillna(pd.Timestamp.max).to_numpy()
    rows = order.index.to_numpy()
    latest = 0  # position of the client's earlier stay that ends last
    for k in range(1, len(order)):
        if client[k] != client[k - 1]:
            latest = k
            continue
        if start[k] < end[latest]:
            problems.append(
                Problem(
                    file,
                    f"deze jongere is dan nog in het verblijf van rij {int(rows[latest])}.",
                    "Eén jongere heeft één verblijf tegelijk: sluit het vorige verblijf af "
                    "(end_date en next) of corrigeer de begindatum.",
                    row=int(rows[k]),
                    column="start_date",
                    id=str(client[k]),
                )
            )
        if end[k] > end[latest]:
            latest = k


__all__ = ["RECORDS_INPUT", "StayRecords", "read_records"]
