"""Declarations of the tables a region model is made of: columns with type, unit, bounds.

Every stage reads the same declarations: :mod:`capaciteit.domain.model` declares the
tables, :mod:`capaciteit.io.tables` reads files by them, :mod:`capaciteit.docs` renders them
into the README (like PyPSA's component attribute tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["id", "str", "int", "float"]


@dataclass(frozen=True)
class Column:
    """Declaration of one table column.

    ``choices`` restricts a text column; ``min``/``max`` bound a number, ``min_exclusive``
    makes the lower bound strict (e.g. a length of stay must be > 0).
    """

    name: str
    kind: Kind
    required: bool = True
    description: str = ""
    unit: str = ""
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    choices: tuple[str, ...] = ()
    default: str | float | int | None = None


@dataclass(frozen=True)
class TableSpec:
    """Declaration of one table file of a region model."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    required: bool = True
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)
