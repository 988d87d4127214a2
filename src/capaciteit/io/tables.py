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
from pathlib import Path

import pandas as pd

from capaciteit.core import nl
from capaciteit.core.privacy import FORBIDDEN_COLUMNS
from capaciteit.core.tables import Column, Kind, TableSpec
from capaciteit.errors import Problem, limit


class UnreadableTableError(Exception):
    """A table file could not be read at all (its problem is already listed)."""


TABLE_SUFFIXES = (".csv", ".xlsx")

UNITS_NL = {
    "days": "dagen",
    "years": "jaar",
    "beds": "bedden",
    "children": "kinderen",
    "children/year": "kinderen per jaar",
    "EUR/day": "euro per dag",
    "degrees": "graden",
    "minutes": "minuten",
    "EUR": "euro",
}
"""Units of :class:`Column` (English, as in the README tables) as messages show them."""


def find_table(directory: Path, name: str) -> list[Path]:
    """Return the files ``directory/name.csv`` and ``directory/name.xlsx`` that exist."""
    return [p for p in (directory / f"{name}{s}" for s in TABLE_SUFFIXES) if p.is_file()]


MAX_TABLE_BYTES = 25_000_000
"""The largest table file read (a region's largest table has a few thousand rows)."""
MAX_TABLE_ROWS = 200_000
"""The most rows a table may have."""


def _size_problems(path: Path) -> list[Problem]:
    """List the problems of a table too large to read, or an .xlsx that unpacks too far."""
    from capaciteit.io.archive import xlsx_problems

    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        return [
            Problem(
                path.name,
                f"is {nl.number(size / 1e6)} MB; hoogstens {nl.number(MAX_TABLE_BYTES / 1e6)} MB.",
                "Upload een kleinere tabel.",
            )
        ]
    return xlsx_problems(path) if path.suffix == ".xlsx" else []


def _read_raw(path: Path) -> tuple[pd.DataFrame, bool]:
    """Read all cells as text; return the frame and whether decimal commas are allowed."""
    if path.suffix == ".xlsx":
        frame = pd.read_excel(
            path, dtype=str, keep_default_na=False, engine="openpyxl", nrows=MAX_TABLE_ROWS + 1
        )
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
        nrows=MAX_TABLE_ROWS + 1,
    )
    return frame, sep == ";"


def _name_the_sheet(path: Path, problems: list[Problem]) -> None:
    """Say which sheet of a workbook was read when its columns were not the records'."""
    from openpyxl import load_workbook

    try:
        names = load_workbook(path, read_only=True).sheetnames
    except Exception:  # the reader has listed why the file cannot be read
        return
    if len(names) > 1:
        others = ", ".join(f"'{n}'" for n in names[1:])
        problems.append(
            Problem(
                path.name,
                f"alleen het eerste werkblad ('{names[0]}') is gelezen; de werkmap heeft ook "
                f"{others}.",
                "Zet de verblijven op het eerste werkblad, of sla dat blad op als CSV.",
            )
        )


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
    too_large = _size_problems(path)
    if too_large:
        problems.extend(too_large)
        raise UnreadableTableError(fname)
    try:
        raw, decimal_comma = _read_raw(path)
    except UnicodeDecodeError:
        problems.append(
            Problem(
                fname,
                "is geen UTF-8-tekst (het gewone 'CSV' van Excel gebruikt een andere codering).",
                "Kies in Excel 'Opslaan als' > 'CSV UTF-8 (door komma's gescheiden)', of sla "
                "het op als .xlsx.",
            )
        )
        raise UnreadableTableError(fname) from None
    except Exception as exc:  # any reader failure comes from the user's file
        problems.append(
            Problem(
                fname,
                f"kan niet als tabel worden gelezen (technische melding: {type(exc).__name__}).",
                "Sla het op als CSV UTF-8 of als .xlsx-werkmap (zonder wachtwoord).",
            )
        )
        raise UnreadableTableError(fname) from None
    if len(raw) > MAX_TABLE_ROWS:
        problems.append(
            Problem(
                fname,
                f"heeft meer dan {nl.number(MAX_TABLE_ROWS)} rijen.",
                "Upload een kleinere tabel.",
            )
        )
        raise UnreadableTableError(fname)
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
                f"de verplichte kolom '{name}' ontbreekt.",
                f"Voeg de kolom '{name}' toe (de kolommen staan beschreven in de README).",
                row=1,
                column=name,
            )
        )
    for name in raw.columns:
        if name not in known and not name.startswith("#") and name:
            problems.append(
                Problem(
                    fname,
                    f"de kolom '{name}' hoort niet bij deze tabel.",
                    f"Verwijder de kolom, of geef hem een van deze namen: "
                    f"{', '.join(sorted(known))}.",
                    row=1,
                    column=name,
                )
            )
    if missing:
        if path.suffix == ".xlsx":
            _name_the_sheet(path, problems)
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
            return None, (f"'{col.name}' is leeg.", f"Vul {col.name} in.")
        return col.default, None
    if col.kind in ("id", "str"):
        if col.kind == "id" and any(ch.isspace() for ch in text):
            return None, (
                f"id '{text}' bevat spaties.",
                f"Schrijf de id zonder spaties, bijvoorbeeld '{'_'.join(text.split())}'.",
            )
        if col.choices and text not in col.choices:
            return None, (
                f"'{text}' is geen geldige waarde voor {col.name}.",
                f"Gebruik een van: {', '.join(col.choices)}.",
            )
        return text, None
    try:
        number = _parse_number(text, decimal_comma)
    except ValueError:
        return None, (f"'{text}' is geen getal.", f"Schrijf {col.name} als getal, bijvoorbeeld 12.")
    if math.isnan(number) or math.isinf(number):
        return None, (f"'{text}' is geen bruikbaar getal.", f"Schrijf {col.name} als gewoon getal.")
    if col.kind == "int" and number != int(number):
        return None, (
            f"'{text}' is geen geheel getal.",
            f"Rond {col.name} af op een geheel getal.",
        )
    unit = f" {UNITS_NL.get(col.unit, col.unit)}" if col.unit else ""
    if col.min is not None and (number <= col.min if col.min_exclusive else number < col.min):
        bound = (
            f"groter dan {limit(col.min)}" if col.min_exclusive else f"minstens {limit(col.min)}"
        )
        return None, (
            f"{col.name} = {text}{unit} valt buiten het toegestane bereik.",
            f"{col.name} moet {bound}{unit} zijn.",
        )
    if col.max is not None and number > col.max:
        return None, (
            f"{col.name} = {text}{unit} valt buiten het toegestane bereik.",
            f"{col.name} mag hoogstens {limit(col.max)}{unit} zijn.",
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
                f"{' / '.join(spec.key)} = {key} komt meer dan één keer voor.",
                "Houd één rij per sleutel over; verwijder de dubbele rij of voeg de rijen samen.",
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


def refuse_personal_columns(path: Path, problems: list[Problem], fix: str) -> bool:
    """List a problem per column whose name says it holds personal data; tell if any.

    Called before any row of a table about young people is read, so that a name, BSN,
    birth date or address never enters (:data:`~capaciteit.core.privacy.FORBIDDEN_COLUMNS`).
    ``fix`` says what to use instead (Dutch, lower case: it follows "Verwijder de kolom").
    """
    forbidden = [c for c in _header(path) if FORBIDDEN_COLUMNS.match(c.strip())]
    for c in forbidden:
        problems.append(
            Problem(
                path.name,
                f"de kolom '{c}' lijkt persoonsgegevens te bevatten; capaciteit neemt alleen "
                "pseudonieme ids aan en bewaart geen namen, BSN, geboortedata of adressen.",
                f"Verwijder de kolom '{c}' ({fix}).",
                row=1,
                column=c,
            )
        )
    return bool(forbidden)


def _header(path: Path) -> list[str]:
    """Read the column names of a CSV or xlsx file, before its rows."""
    try:
        if path.suffix == ".xlsx":
            return [str(c) for c in pd.read_excel(path, nrows=0, engine="openpyxl").columns]
        first = path.read_text(encoding="utf-8-sig").splitlines()[:1]
    except Exception:  # the typed reader reports unreadable files in detail
        return []
    line = first[0] if first else ""
    sep = ";" if line.count(";") > line.count(",") else ","
    return [c.strip().strip('"') for c in line.split(sep)]


__all__ = [
    "Column",
    "Kind",
    "TableSpec",
    "UnreadableTableError",
    "columns_doc",
    "find_table",
    "read_table",
    "refuse_personal_columns",
]
