"""Quarters as ontwikkeltafels name them: ``2025-K1`` is January to March 2025.

An ontwikkeltafel meets every three months and looks back at the quarter that ended. A
quarter is written ``JJJJ-KN`` (year, a hyphen, ``K`` for *kwartaal* and its number 1-4),
the form the template, the reader and every report use. In the simulation a quarter is a
window of days ``[a, b)`` counted from 1 January of the scenario's first year, like every
other time in :mod:`capaciteit.simulation`: K1 starts on 1 January, K2 on 1 April, K3 on 1
July and K4 on 1 October, so quarters have 90-92 days (leap years included).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from capaciteit.errors import InvalidInputError, Problem

QUARTER_PATTERN = re.compile(r"^\s*(\d{4})\s*-\s*[Kk]([1-4])\s*$")
"""``2025-K1`` (spaces around the parts and a small ``k`` are forgiven)."""


@dataclass(frozen=True, order=True)
class Quarter:
    """One quarter of a calendar year (``number`` 1-4); orders by time."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter | None:
        """Read ``2025-K1``; ``None`` when ``text`` is not a quarter in that form."""
        match = QUARTER_PATTERN.match(text)
        if match is None:
            return None
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, label: object) -> Quarter:
        """Read a label this package wrote (``2025-K1``); a wrong one is a bug: ValueError."""
        quarter = cls.parse(str(label))
        if quarter is None:
            raise ValueError(f"not a quarter: {label!r}")
        return quarter

    @property
    def label(self) -> str:
        """The quarter as people write it: ``2025-K1``."""
        return f"{self.year}-K{self.number}"

    @property
    def first_day(self) -> dt.date:
        """The quarter's first day (1 January, 1 April, 1 July or 1 October)."""
        return dt.date(self.year, 3 * (self.number - 1) + 1, 1)

    @property
    def next_first_day(self) -> dt.date:
        """The first day after the quarter."""
        return self.next().first_day

    def next(self) -> Quarter:
        """Return the following quarter."""
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def window(self, start_year: int) -> tuple[float, float]:
        """Return the quarter as days ``[a, b)`` from 1 January of ``start_year``."""
        origin = dt.date(start_year, 1, 1)
        return (
            float((self.first_day - origin).days),
            float((self.next_first_day - origin).days),
        )

    def __str__(self) -> str:
        return self.label


def quarters_of(years: Iterable[int]) -> list[Quarter]:
    """All four quarters of each year, in order."""
    return [Quarter(y, n) for y in sorted(set(years)) for n in (1, 2, 3, 4)]


def parse_quarters(
    texts: Iterable[str], years: Sequence[int] | None = None, where: str = "--kwartalen"
) -> list[Quarter]:
    """Read quarter labels given by a person; refuse every one not in the form ``2025-K1``.

    With ``years``, a quarter of another year is refused too. Returns the quarters in time
    order without repeats. ``where`` names the input in the problems (an option, a file).
    """
    found: list[Quarter] = []
    problems: list[Problem] = []
    for text in texts:
        quarter = Quarter.parse(text)
        if quarter is None:
            problems.append(
                Problem(
                    where,
                    f"'{text}' is geen kwartaal in de vorm JJJJ-KN.",
                    "Schrijf een kwartaal als jaar, streepje, K en het nummer 1-4, "
                    "bijvoorbeeld 2025-K1.",
                    id=text,
                )
            )
        elif years is not None and quarter.year not in years:
            problems.append(
                Problem(
                    where,
                    f"kwartaal {quarter.label} valt buiten de jaren van het scenario "
                    f"({min(years)}–{max(years)}).",
                    "Kies kwartalen binnen de jaren van het scenario.",
                    id=text,
                )
            )
        else:
            found.append(quarter)
    if problems:
        raise InvalidInputError("De kwartalen", problems)
    return sorted(set(found))


def span_text(quarters: Iterable[Quarter]) -> str:
    """Write quarters as a short Dutch text: ``2024-K1``, ``2024-K1 t/m 2024-K3``."""
    ordered = sorted(set(quarters))
    if not ordered:
        return ""
    if len(ordered) == 1:
        return ordered[0].label
    return f"{ordered[0].label} t/m {ordered[-1].label}"
