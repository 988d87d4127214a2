"""Typed reading of the CSV/xlsx tables of a region model.

A table is declared as a list of :class:`Column` (name, kind, required, bounds). Reading a
table never stops at the first bad cell: every cell that does not parse becomes a
:class:`~capaciteit.errors.Problem` with the file, the spreadsheet row number and the id of
the row, and the parsed frame keeps a ``_row`` column so that later cross-table checks can
point at rows too.

CSV files may use ``,`` or ``;`` as separator (Dutch Excel writes ``;`` with decimal commas);
``.xlsx`` workbooks are read from their first sheet.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from capaciteit.errors import Problem

Kind = Literal["id", "str", "int", "float"]


class UnreadableTableError(Exception):
    """A table file could not be read at all (its problem is already listed)."""


TABLE_SUFFIXES = (".csv", ".xlsx")


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


def find_table(directory: Path, name: str) -> list[Path]:
    """Return the files ``directory/name.csv`` and ``directory/name.xlsx`` that exist."""
    return [p for p in (directory / f"{name}{s}" for s in TABLE_SUFFIXES) if p.is_file()]


def _read_raw(path: Path) -> tuple[pd.DataFrame, bool]:
    """Read all cells as text; return the frame and whether decimal commas are allowed."""
    if path.suffix == ".xlsx":
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        return frame, False
    text = path.read_text(encoding="utf-8-sig")
    first = text.splitlines()[0] if text.strip() else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    frame = pd.read_csv(
        path,
        sep=sep,
        dtype=str,
        keep_default_na=False,
        skipinitialspace=True,
        quoting=csv.QUOTE_MINIMAL,
        encoding="utf-8-sig",
    )
    return frame, sep == ";"


def _parse_number(text: str, decimal_comma: bool) -> float:
    cleaned = text.strip().replace("_", "")
    if decimal_comma and "," in cleaned:
        # Dutch notation: 1.234,5 -> 1234.5 (a dot is then a thousands separator)
        cleaned = cleaned.replace(".", "").replace(",", ".")
    return float(cleaned)


def read_table(path: Path, spec: TableSpec, problems: list[Problem]) -> pd.DataFrame:
    """Read ``path`` according to ``spec``; append every problem found to ``problems``.

    Returns a frame with one column per declared column (typed: ``str`` for ids and text,
    ``float`` for numbers with ``NaN`` for empty optional cells, ``Int64`` for integers) plus
    ``_row``, the spreadsheet row number. Rows with a problem are kept out of the result.
    """
    fname = path.name
    try:
        raw, decimal_comma = _read_raw(path)
    except UnicodeDecodeError:
        problems.append(
            Problem(
                fname,
                "is not UTF-8 text (Excel's plain 'CSV' uses another encoding).",
                "In Excel choose 'Save as' > 'CSV UTF-8', or save as .xlsx.",
            )
        )
        raise UnreadableTableError(fname) from None
    except Exception as exc:  # any reader failure comes from the user's file
        problems.append(
            Problem(
                fname,
                f"cannot be read as a table ({type(exc).__name__}: {exc}).",
                "Save it as CSV UTF-8 or as an .xlsx workbook (not password protected).",
            )
        )
        raise UnreadableTableError(fname) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    # Excel leaves empty columns without a header (a trailing ';'): nothing to read there.
    empty_unnamed = [
        c
        for c in raw.columns
        if c.startswith("Unnamed:") and not raw[c].astype(str).str.strip().any()
    ]
    raw = raw.drop(columns=empty_unnamed)
    known = {c.name for c in spec.columns}
    missing = [c.name for c in spec.columns if c.required and c.name not in raw.columns]
    for name in missing:
        problems.append(
            Problem(
                fname,
                f"required column '{name}' is missing.",
                f"Add a column '{name}' ({spec.column(name).description}).",
                row=1,
                column=name,
            )
        )
    for name in raw.columns:
        if name not in known and not name.startswith("#") and name:
            problems.append(
                Problem(
                    fname,
                    f"column '{name}' is not part of this table.",
                    f"Remove it or rename it to one of: {', '.join(sorted(known))}.",
                    row=1,
                    column=name,
                )
            )
    if missing:
        return _empty(spec)

    key_col = spec.key[0] if spec.key else None
    records: list[dict[str, object]] = []
    for i, values in enumerate(raw.to_dict(orient="records")):
        row_no = i + 2
        cells = {k: str(v).strip() for k, v in values.items()}
        if all(not v for v in cells.values()):
            continue
        row_id = cells.get(key_col, "") if key_col else None
        record: dict[str, object] = {"_row": row_no}
        ok = True
        for col in spec.columns:
            text = cells.get(col.name, "")
            value, problem = _parse_cell(text, col, decimal_comma)
            if problem is not None:
                problems.append(
                    Problem(fname, problem[0], problem[1], row=row_no, column=col.name, id=row_id)
                )
                ok = False
            record[col.name] = value
        if ok:
            records.append(record)
    frame = pd.DataFrame.from_records(records, columns=["_row", *[c.name for c in spec.columns]])
    _check_duplicate_keys(frame, spec, fname, problems)
    return _typed(frame, spec)


def _parse_cell(
    text: str, col: Column, decimal_comma: bool
) -> tuple[object, tuple[str, str] | None]:
    if not text:
        if col.required and col.default is None:
            return None, (
                f"'{col.name}' is empty.",
                f"Fill in {col.description or col.name}.",
            )
        return col.default, None
    if col.kind in ("id", "str"):
        if col.kind == "id" and any(ch.isspace() for ch in text):
            return None, (
                f"id '{text}' contains spaces.",
                f"Write it without spaces, e.g. '{'_'.join(text.split())}'.",
            )
        if col.choices and text not in col.choices:
            return None, (
                f"'{text}' is not a valid {col.name}.",
                f"Use one of: {', '.join(col.choices)}.",
            )
        return text, None
    try:
        number = _parse_number(text, decimal_comma)
    except ValueError:
        return None, (f"'{text}' is not a number.", f"Write {col.name} as a number, e.g. 12.5.")
    if math.isnan(number) or math.isinf(number):
        return None, (f"'{text}' is not a finite number.", f"Write a finite {col.name}.")
    if col.kind == "int" and number != int(number):
        return None, (f"'{text}' is not a whole number.", f"Round {col.name} to a whole number.")
    unit = f" {col.unit}" if col.unit else ""
    if col.min is not None and (number <= col.min if col.min_exclusive else number < col.min):
        bound = f"greater than {col.min:g}" if col.min_exclusive else f"at least {col.min:g}"
        return None, (
            f"{col.name} = {text}{unit} is out of range.",
            f"{col.name} must be {bound}{unit}.",
        )
    if col.max is not None and number > col.max:
        return None, (
            f"{col.name} = {text}{unit} is out of range.",
            f"{col.name} must be at most {col.max:g}{unit}.",
        )
    return (int(number) if col.kind == "int" else number), None


def _check_duplicate_keys(
    frame: pd.DataFrame, spec: TableSpec, fname: str, problems: list[Problem]
) -> None:
    if not spec.key or frame.empty:
        return
    dup = frame[frame.duplicated(list(spec.key), keep="first")]
    for _, row in dup.iterrows():
        key = " / ".join(str(row[k]) for k in spec.key)
        problems.append(
            Problem(
                fname,
                f"{' / '.join(spec.key)} = {key} appears more than once.",
                "Keep one row per key; remove or merge the duplicate.",
                row=int(row["_row"]),
                id=str(row[spec.key[0]]),
            )
        )


def _typed(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    out = frame.copy()
    out["_row"] = out["_row"].astype("int64")
    for col in spec.columns:
        if col.kind == "float":
            out[col.name] = pd.to_numeric(out[col.name], errors="coerce").astype("float64")
        elif col.kind == "int":
            out[col.name] = pd.to_numeric(out[col.name], errors="coerce").astype("Int64")
        else:
            out[col.name] = out[col.name].astype("object")
    return out


def _empty(spec: TableSpec) -> pd.DataFrame:
    frame = pd.DataFrame({"_row": pd.Series([], dtype="int64")})
    for col in spec.columns:
        frame[col.name] = pd.Series([], dtype="object")
    return _typed(frame, spec)


def columns_doc(spec: TableSpec) -> Sequence[tuple[str, str, str, str]]:
    """Rows (column, required, unit, description) for the README's format tables."""
    return [
        (c.name, "yes" if c.required and c.default is None else "no", c.unit, c.description)
        for c in spec.columns
    ]
