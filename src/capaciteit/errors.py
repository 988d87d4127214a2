"""Errors that reach users.

Every error a user can cause derives from :class:`CapaciteitError`. Input errors carry a
list of :class:`Problem` records, each naming the file, row, id and the fix, so that a planner
can correct a whole model in one pass instead of one traceback at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class CapaciteitError(Exception):
    """Base class of every error capaciteit raises for a user's input or request."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, and how to fix it.

    Attributes
    ----------
    file
        The file the problem is in, as the user named it (e.g. ``routing.csv``).
    message
        What is wrong, in plain words.
    fix
        What to change so that the problem goes away.
    row
        Row number as shown by a spreadsheet program (the header is row 1), if any.
    column
        Column or YAML key, if any.
    id
        The id of the entity concerned (care form, provider, ...), if any.
    """

    file: str
    message: str
    fix: str
    row: int | None = None
    column: str | None = None
    id: str | None = None

    def location(self) -> str:
        """Return ``file, row N, column C, id X`` with the parts that are known."""
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        if self.id:
            parts.append(f"id '{self.id}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message} Fix: {self.fix}"


class InvalidInputError(CapaciteitError):
    """Input refused at the edge; :attr:`problems` lists every problem found."""

    def __init__(self, what: str, problems: Iterable[Problem]) -> None:
        self.what = what
        self.problems = list(problems)
        lines = [f"{what} is invalid ({len(self.problems)} problem(s)):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ExecutorError(CapaciteitError):
    """The requested executor (e.g. a Dask scheduler address) cannot be used."""
