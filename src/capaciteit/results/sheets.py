"""Table sheets that read the way a Dutch planner expects them to.

A planner opens a workbook in Excel or LibreOffice and reads it like a printed table:
Dutch headers, names instead of bare codes, percentages as ``70%``, amounts as
``€ 1.234.567``, and what is not met marked red. The numbers must stay numbers so a
planner can add them up, sort and filter. So every value is stored as a number and gets a
*number format*; the spreadsheet draws it in the reader's locale: ``#,##0`` shows 1234 as
``1.234`` under a Dutch locale, ``0%`` shows the fraction 0.7 as ``70%`` and
``"€ "#,##0`` shows 2368850 as ``€ 2.368.850``. The value itself never changes (a share
stays the fraction 0.7), only how it is drawn.

A sheet is declared as a list of :class:`Column` (a Dutch header and a *kind*) and written
with :func:`write_table`, which

* writes the header in bold, freezes it (and, if asked, the first columns that name the
  row), and puts an autofilter on the table;
* gives every cell of a column the number format of its kind (:data:`FORMATS`);
* sizes each column to its longest value *as the spreadsheet shows it* (``€ 2.368.850``,
  not ``2368850``), and wraps long texts instead of making a column a screen wide;
* marks each row by its verdict: a missed norm or target (``missed``) fills the whole row
  red, so it stands out when scrolling; a met one (``met``) fills its verdict cell green;
  one that cannot be told apart from the norm (``undecided``) yellow.

Every row goes through :func:`capaciteit.results.cells.append_row`, so a provider name or
code that starts like a formula (``=1+2``) stays text.

Kinds and formats:

============  =====================  ===================================================
kind          format                 for
============  =====================  ===================================================
``text``      (none), wrapped        names, labels, short texts
``wrap``      (none), wrapped        sentences (explanations, reasons), in a wide column
``code``      (none)                 ids a reader may need to look up (provider codes)
``verdict``   (none), wrapped        ``gehaald`` / ``niet gehaald``, marked by colour
``year``      ``0``                  years, without a thousands separator
``count``     ``#,##0``              beds, places, young people
``decimal``   ``#,##0.0``            averages of counts (mean occupied, predicted)
``change``    ``+#,##0;-#,##0;0``    a difference in beds, with its sign
``euro``      ``"€ "#,##0``          amounts in euros
``share``     ``0%``                 a fraction of a whole, in [0, 1]
``share_1``   ``0.0%``               the same with one decimal (simulated service levels)
``percent``   ``0%``                 a ratio to a base that may pass 100% (plan as % of
                                     the 0-meting: 130% is 30% more)
============  =====================  ===================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.core import nl
from capaciteit.core.stats import VERDICTS_NL
from capaciteit.results.cells import append_row
from capaciteit.results.jsonable import clean

Kind = Literal[
    "text",
    "wrap",
    "code",
    "verdict",
    "year",
    "count",
    "decimal",
    "change",
    "euro",
    "share",
    "share_1",
    "percent",
]

COUNT = "#,##0"
CHANGE = "+#,##0;-#,##0;0"
EURO = '"€ "#,##0'
SHARE = "0%"
SHARE_1 = "0.0%"
FORMATS: dict[str, str] = {
    "year": "0",
    "count": COUNT,
    "decimal": "#,##0.0",
    "change": CHANGE,
    "euro": EURO,
    "share": SHARE,
    "share_1": SHARE_1,
    "percent": SHARE,
}

GREEN = PatternFill("solid", fgColor="C6EFCE")
RED = PatternFill("solid", fgColor="FFC7CE")
YELLOW = PatternFill("solid", fgColor="FFEB9C")
BOLD = Font(bold=True)
TOP = Alignment(vertical="top")
WRAP = Alignment(wrap_text=True, vertical="top")
LEFT = Alignment(horizontal="left", vertical="top")

WIDTHS: dict[str, tuple[int, int]] = {"wrap": (30, 100), "verdict": (8, 22)}
"""Narrowest and widest column per kind, in characters; other kinds: :data:`WIDTH`."""
WIDTH = (8, 60)
HEADER_LINE = 24
"""Headers up to this many characters stay on one line; longer ones wrap."""


@dataclass(frozen=True)
class Column:
    """One column of a table sheet: its Dutch header and the kind of its values."""

    header: str
    kind: Kind = "text"


def verdict_text(verdict: str | None) -> str | None:
    """Say a verdict in Dutch (``missed`` -> ``niet gehaald``); None stays None."""
    if verdict is None:
        return None
    return VERDICTS_NL.get(verdict, verdict)


def plain(value: Any) -> Any:
    """Return a value as a cell holds it: numpy scalars as Python ones, NaN/NA empty."""
    if value is pd.NA or value is pd.NaT:
        return None
    return clean(value)


def shown(value: Any, kind: Kind) -> str:
    """Return the value as the spreadsheet draws it in a Dutch locale (to size columns)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if kind == "euro":
            return nl.euro(value)
        if kind == "change":
            return nl.signed(value)
        if kind in ("share", "percent"):
            return nl.percent(value)
        if kind == "share_1":
            return nl.percent(value, 1)
        if kind == "year":
            return str(int(value))
        if kind == "decimal":
            return nl.number(value, 1)
        return nl.number(value, 0 if float(value).is_integer() else 2)
    return str(value)


def style(cell: Cell, kind: Kind) -> None:
    """Give ``cell`` the number format and alignment of ``kind``."""
    fmt = FORMATS.get(kind)
    if fmt is not None:
        cell.number_format = fmt
    cell.alignment = WRAP if kind in ("text", "wrap", "verdict") else TOP


def mark(cells: Sequence[Cell], verdict: str | None, verdict_column: int | None) -> None:
    """Colour a row by its verdict: missed the whole row red, met or undecided the verdict.

    ``verdict_column`` is the 0-based position of the verdict cell in ``cells``.
    """
    if verdict == "missed":
        for cell in cells:
            cell.fill = RED
        return
    fill = {"met": GREEN, "undecided": YELLOW}.get(verdict or "")
    if fill is not None and verdict_column is not None:
        cells[verdict_column].fill = fill


def header_row(ws: Worksheet, labels: Sequence[str]) -> int:
    """Append a bold, wrapped header row; return its row number."""
    cells = append_row(ws, list(labels))
    for cell in cells:
        cell.font = BOLD
        cell.alignment = WRAP
    return int(cells[0].row) if cells else int(ws.max_row)


def write_table(
    ws: Worksheet,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    verdicts: Sequence[str | None] | None = None,
    freeze_columns: int = 0,
    empty: str | None = None,
) -> tuple[int, int]:
    """Append a table to ``ws`` (see the module); return its header row and last row.

    ``rows`` hold one plain value per column (a verdict column holds the Dutch word, see
    :func:`verdict_text`); ``verdicts`` gives each row's verdict (``met``, ``missed``,
    ``undecided``, ``no_data`` or None) for its colour. ``freeze_columns`` keeps that many
    columns in view when scrolling sideways. Without rows, ``empty`` is written under the
    header instead (and there is no autofilter).
    """
    first = header_row(ws, [c.header for c in columns])
    verdict_column = next((i for i, c in enumerate(columns) if c.kind == "verdict"), None)
    for n, values in enumerate(rows):
        if len(values) != len(columns):
            raise ValueError(f"row {n} has {len(values)} values for {len(columns)} columns")
        cells = append_row(ws, [plain(v) for v in values])
        for cell, column in zip(cells, columns, strict=True):
            style(cell, column.kind)
        mark(cells, verdicts[n] if verdicts is not None else None, verdict_column)
    last = first + len(rows)
    ws.freeze_panes = f"{get_column_letter(freeze_columns + 1)}{first + 1}"
    if rows:
        ws.auto_filter.ref = f"A{first}:{get_column_letter(len(columns))}{last}"
    elif empty is not None:
        append_row(ws, [empty])
    size_columns(ws, columns, rows)
    return first, last


def size_columns(ws: Worksheet, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
    """Make each column as wide as its longest value as shown, within sensible bounds.

    A header longer than :data:`HEADER_LINE` wraps rather than widening its column; a
    ``wrap`` column is 30-100 characters wide and its texts wrap, as do the verdicts
    (``niet te onderscheiden van de norm`` on two lines).
    """
    for i, column in enumerate(columns):
        longest = max((len(shown(plain(r[i]), column.kind)) for r in rows), default=0)
        words = max((len(w) for w in column.header.split()), default=0)
        width = max(longest, min(len(column.header), HEADER_LINE), words) + 2
        low, high = WIDTHS.get(column.kind, WIDTH)
        ws.column_dimensions[get_column_letter(i + 1)].width = min(high, max(low, width))
