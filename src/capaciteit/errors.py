"""Errors that reach users.

Every error a user can cause derives from :class:`CapaciteitError`. Input errors carry a
list of :class:`Problem` records, each naming the file, row, id and the fix, so that a planner
can correct a whole model in one pass instead of one traceback at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from capaciteit.core import nl


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
        What is wrong, in plain Dutch words.
    fix
        What to change so that the problem goes away (Dutch).
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
        """Return ``file, rij N, kolom 'C', id 'X'`` with the parts that are known."""
        parts = [self.file]
        if self.row is not None:
            parts.append(f"rij {self.row}")
        if self.column:
            parts.append(f"kolom '{self.column}'")
        if self.id:
            parts.append(f"id '{self.id}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.location()}: {self.message} Oplossing: {self.fix}"


class InvalidInputError(CapaciteitError):
    """Input refused at the edge; :attr:`problems` lists every problem found."""

    def __init__(self, what: str, problems: Iterable[Problem]) -> None:
        self.what = what
        self.problems = list(problems)
        lines = [f"{what} is ongeldig ({count_problems(len(self.problems))}):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


def count_problems(count: int) -> str:
    """``1 probleem``, ``3 problemen``."""
    return nl.plural(count, "probleem", "problemen")


def figure(value: float, decimals: int = 6, sign: bool = False) -> str:
    """Format a number inside a message in Dutch, without trailing zeros.

    ``0.97`` -> ``0,97``; ``0.030000000000000027`` with ``sign`` -> ``+0,03``;
    ``1234.5`` -> ``1.234,5``.
    """
    text = (nl.signed if sign else nl.number)(value, decimals)
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return text


def limit(value: float) -> str:
    """Format a bound in a message: ``1900``, ``3650``, ``0,5``, ``10.000``.

    Years and counts under 10,000 are not grouped; others are as :func:`figure`.
    """
    if float(value).is_integer() and abs(value) < 10_000:
        return str(int(value))
    return figure(value)


class ExecutorError(CapaciteitError):
    """The requested executor (e.g. a Dask scheduler address) cannot be used."""


MAX_SHOWN = 20
"""Problems of one kind (same column and message) listed one by one; the rest counted."""


def condensed(problems: list[Problem]) -> list[Problem]:
    """List at most :data:`MAX_SHOWN` problems of each kind, then one line for the rest.

    A column exported the wrong way gives the same problem on every row: thousands of
    lines hide the other problems. The rows of the rest are named as a range.
    """
    kinds: dict[tuple[str | None, str], list[Problem]] = {}
    for problem in problems:
        kinds.setdefault((problem.column, problem.message), []).append(problem)
    shown: list[tuple[int, Problem]] = []
    for (column, message), group in kinds.items():
        shown += [(p.row or 0, p) for p in group[:MAX_SHOWN]]
        rest = group[MAX_SHOWN:]
        if rest:
            rows = [p.row for p in rest if p.row is not None]
            where = f" (rijen {min(rows)} tot {max(rows)})" if rows else ""
            shown.append(
                (
                    min(rows, default=0),
                    Problem(
                        group[0].file,
                        f"en nog {nl.number(len(rest))} rijen{where} met hetzelfde probleem: "
                        f"{message}",
                        group[0].fix,
                        column=column,
                    ),
                )
            )
    return [p for _, p in sorted(shown, key=lambda pair: pair[0])]
