"""Personal data never enters: pseudonymous ids only, and nothing personal shown back.

Input tables about young people (the matching waiting list, stay records) carry a
pseudonymous id and no name, BSN, birth date or address. Three guards keep it so:
:data:`FORBIDDEN_COLUMNS` refuses a file whose header names personal data before any row is
read; :func:`check_pseudonymous` refuses ids that are a BSN or hold a name or a date,
without repeating the value; :func:`redact` scrubs a problem of anything that looks
personal before it reaches an API answer, a page or a log.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

from capaciteit.errors import Problem

FORBIDDEN_COLUMNS = re.compile(
    r"^(naam|name|voornaam|achternaam|first_?name|last_?name|surname|bsn|"
    r"burgerservicenummer|geboortedatum|date_of_birth|birth_?date|adres|address)$",
    re.IGNORECASE,
)
DATE_OR_NAME = re.compile(
    r"(19|20)\d\d[-_./]?[01]\d[-_./]?[0-3]\d"  # 2015-03-01, 20150301
    r"|[0-3]\d[-_./][01]\d[-_./](19|20)\d\d"  # 01-03-2015
    r"|[A-Z][a-z]+[_ .][A-Z][a-z]+"  # Jan_Jansen
)
"""What a pseudonymous id must not contain: a date (of birth) or a first and last name."""


def is_bsn(text: str) -> bool:
    """Tell whether ``text`` is a valid burgerservicenummer (BSN).

    A BSN has 9 digits (or 8 with the leading 0 left off) and passes the elfproef:
    9 d1 + 8 d2 + ... + 2 d8 - d9 is a multiple of 11.
    """
    if not re.fullmatch(r"\d{8,9}", text):
        return False
    digits = [int(d) for d in text.zfill(9)]
    total = sum((9 - i) * d for i, d in enumerate(digits[:8])) - digits[8]
    return total % 11 == 0 and int(text) != 0


HIDDEN = "(niet herhaald)"
"""Shown instead of a value that looks like a BSN, a name or a date."""
_QUOTED = re.compile(r"'([^']*)'")
_DIGITS = re.compile(r"\b\d{8,9}\b")
_POSTCODE = re.compile(r"\b(postcode) \d{4}(?: ?[A-Za-z]{2}\b)?")


def personal(text: str) -> bool:
    """Whether ``text`` looks like a BSN, a name or a date: never shown back to anyone."""
    text = text.strip()
    return bool(text) and (is_bsn(text) or DATE_OR_NAME.search(text) is not None)


def redact(problem: Problem) -> Problem:
    """Return the problem without a value that looks personal.

    The table reader names a row by its id and quotes refused values, before the
    pseudonymity check of the pool has run: a child_id that is a BSN would otherwise be
    shown in the problem of its age (in an API answer, a page or a log). Quoted values,
    the id and bare BSNs are hidden, and so is a postcode (a child's home is part of its
    address). :func:`capaciteit.io.pool_files.load_pool` refuses with redacted problems
    only.
    """

    def quoted(match: re.Match[str]) -> str:
        return f"'{HIDDEN}'" if personal(match.group(1)) else match.group(0)

    def digits(match: re.Match[str]) -> str:
        return HIDDEN if is_bsn(match.group(0)) else match.group(0)

    def scrub(text: str) -> str:
        text = _POSTCODE.sub(rf"\1 {HIDDEN}", _QUOTED.sub(quoted, text))
        return _DIGITS.sub(digits, text)

    ident = HIDDEN if problem.id and personal(problem.id) else problem.id
    return dataclasses.replace(
        problem, message=scrub(problem.message), fix=scrub(problem.fix), id=ident
    )


def check_pseudonymous(
    frame: pd.DataFrame,
    columns: tuple[str, ...],
    fname: str,
    problems: list[Problem],
    example: str = "K00123",
) -> None:
    """Refuse ids that are a BSN or hold a name or a date: never echoing the value."""
    for column in columns:
        if column not in frame.columns:
            continue
        for row, value in zip(frame.get("_row", frame.index), frame[column], strict=True):
            text = str(value).strip() if isinstance(value, str) else ""
            if not text:
                continue
            what = (
                "een BSN"
                if is_bsn(text)
                else ("een naam of datum" if DATE_OR_NAME.search(text) else "")
            )
            if what:
                problems.append(
                    Problem(
                        fname,
                        f"de waarde in kolom '{column}' lijkt {what} (hier niet herhaald); "
                        "capaciteit neemt alleen pseudonieme ids aan.",
                        f"Gebruik een pseudoniem, bijvoorbeeld {example}, en bewaar de koppeling "
                        "met de jongere in uw eigen systeem.",
                        row=int(row) if str(row).isdigit() else None,
                        column=column,
                    )
                )
