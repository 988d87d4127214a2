"""Sheets that people fill in: templates that help while typing and keep their shape.

A template (the quarterly realisation, the 0-meting per location) goes out to providers as
an xlsx workbook and comes back filled in. Excel can help while they type, and these
helpers give every template the same help:

* a bold, coloured header row that stays in view (:func:`header`, :func:`finish`);
* yellow cells to fill in, unlocked, while the rest of the sheet is protected without a
  password, so that codes and headers the reader relies on are not changed by accident
  (:func:`input_cells`, :func:`finish`; *Controleren > Beveiliging blad opheffen* lifts
  it);
* whole numbers only, with a *stop* message otherwise (:func:`whole_numbers`), and an
  occupied count above the places gives a *warning* and turns orange
  (:func:`not_above`);
* an explanation sheet: a heading, then pairs of a term and its meaning
  (:func:`explanation`).

Excel's validation does not stop pasted values and a template can be filled in elsewhere,
so the reader of each template checks everything again. Every row goes through
:func:`capaciteit.results.cells.append_row`: a code that starts like a formula stays text.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from capaciteit.core import nl
from capaciteit.results.cells import append_row

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
WARNING_FILL = PatternFill("solid", fgColor="F8CBAD")


def header(ws: Worksheet, labels: Sequence[str]) -> None:
    """Append the header row: bold, coloured, wrapped."""
    for cell in append_row(ws, list(labels)):
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def input_cells(ws: Worksheet, columns: Sequence[str], first: int, last: int) -> None:
    """Unlock and colour the cells to fill in: ``columns`` (letters), rows ``first``-``last``."""
    for letter in columns:
        for row in range(first, last + 1):
            cell = ws[f"{letter}{row}"]
            cell.protection = Protection(locked=False)
            cell.fill = INPUT_FILL


def whole_numbers(ws: Worksheet, ranges: Sequence[str], maximum: int | None = None) -> None:
    """Accept whole numbers of 0 or more (up to ``maximum``) in ``ranges``; stop otherwise."""
    if maximum is None:
        operator, formula2, span = "greaterThanOrEqual", None, "0 of meer"
    else:
        operator, formula2, span = "between", str(maximum), f"0 tot en met {nl.number(maximum)}"
    rule = DataValidation(
        type="whole",
        operator=operator,
        formula1="0",
        formula2=formula2,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="stop",
        errorTitle="Geen geldig aantal",
        error=f"Vul een geheel getal van {span} in.",
        promptTitle="Aantal",
        prompt=f"Een geheel getal van {span}.",
        showInputMessage=True,
    )
    ws.add_data_validation(rule)
    for cells in ranges:
        rule.add(cells)


def not_above(
    ws: Worksheet,
    column: str,
    limit: str,
    rows: tuple[int, int],
    *,
    title: str,
    error: str,
    prompt: str,
    maximum: int | None = None,
) -> None:
    """Warn when a count in ``column`` is above the one in ``limit`` on its row, and mark it.

    The count itself must be a whole number of 0 or more (up to ``maximum``); above the
    limit Excel asks whether to keep it (a *warning*, not a stop: the reader decides) and
    the cell turns orange. ``rows`` is the first and last row.
    """
    first, last = rows
    c = f"{column}{first}"
    top = "" if maximum is None else f",{c}<={maximum}"
    rule = DataValidation(
        type="custom",
        formula1=f"AND(ISNUMBER({c}),{c}=INT({c}),{c}>=0{top},"
        f"OR(ISBLANK({limit}{first}),{c}<={limit}{first}))",
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",
        errorTitle=title,
        error=error,
        promptTitle=title,
        prompt=prompt,
        showInputMessage=True,
    )
    ws.add_data_validation(rule)
    rule.add(f"{column}{first}:{column}{last}")
    ws.conditional_formatting.add(
        f"{column}{first}:{column}{last}",
        FormulaRule(
            formula=[f"AND(ISNUMBER({c}),ISNUMBER({limit}{first}),{c}>{limit}{first})"],
            fill=WARNING_FILL,
        ),
    )


def finish(ws: Worksheet, widths: Sequence[int], last: int) -> None:
    """Size the columns, keep the header in view, filter, and protect the sheet.

    The protection has no password; filtering, sorting and widening columns stay allowed.
    """
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{last}"
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False
    ws.protection.formatColumns = False


def explanation(ws: Worksheet, lines: Sequence[tuple[str, str]], widths: tuple[int, int]) -> None:
    """Write an explanation sheet: a term and its meaning per line, headings in bold.

    A line with a term and no text is a heading (the first one larger); long texts wrap.
    """
    for key, value in lines:
        append_row(ws, [key, value])
    for row in ws.iter_rows():
        if row[0].value and not row[1].value:
            row[0].font = Font(bold=True, size=12 if row[0].row == 1 else 11)
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
        row[0].alignment = Alignment(vertical="top")
    ws.column_dimensions["A"].width = widths[0]
    ws.column_dimensions["B"].width = widths[1]
