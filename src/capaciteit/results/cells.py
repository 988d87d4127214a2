"""Cells that a spreadsheet would run as formulas are written as text.

A CSV or xlsx file that we write is opened in Excel or LibreOffice by planners. A cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken there as a
formula (``=cmd|' /C calc'!A0``), so a scenario name or provider id from an upload could run
on a planner's machine. Every text cell that starts so gets a leading ``'`` in CSV (the
OWASP rule for CSV injection: the spreadsheet shows the text, the quote marks it as text),
and is stored as a string, never a formula, in xlsx. Numbers are not touched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: Any) -> Any:
    """Return ``value`` with a leading ``'`` when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every text cell that starts like a formula quoted as text."""
    out = frame.copy()
    out.columns = [as_text(c) for c in out.columns]
    types = pd.api.types
    for i, dtype in enumerate(out.dtypes):
        if not (types.is_numeric_dtype(dtype) or types.is_datetime64_any_dtype(dtype)):
            out.isetitem(i, out.iloc[:, i].astype(object).map(as_text).to_numpy())
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as CSV (no index) with formula-like text quoted (see the module)."""
    safe_frame(frame).to_csv(path, index=False)
    return path


def append_row(ws: Worksheet, values: list[Any]) -> list[Cell]:
    """Append a row to an xlsx sheet and return its cells; text stays text, never a formula.

    The cells are made here (not looked up after appending: ``ws.max_row`` counts every
    cell of the sheet, which made writing a sheet quadratic in its rows).
    """
    cells = [Cell(ws, value=value) for value in values]
    for cell in cells:
        if isinstance(cell.value, str) and cell.data_type == "f":
            cell.data_type = "s"
    ws.append(cells)
    return cells
