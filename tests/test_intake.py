"""The 0-meting intake, as a region runs it: templates out, filled in by providers, merged.

Templates are made with the real command line; providers fill them in with openpyxl the
way Excel would store their typing; ``capaciteit intake`` runs in a subprocess. The sums
in ``beds.csv`` are recounted here from the filled cells (opened with openpyxl, not with
the intake's reader), and ``beds.csv`` is loaded with the model's own loader as part of a
full region model (the example region's other tables, written by ``write_model_dir``).
Refusals are checked problem by problem: file, row, column and a fix for each kind.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from capaciteit.domain.model import TABLES
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.intake.merge import merge_intake
from capaciteit.intake.reader import FIELDS, MAX_ROWS, META_SHEET, SHEET
from capaciteit.intake.template import make_template
from capaciteit.io.model_files import load_model
from capaciteit.io.model_writer import write_model_dir
from tests.conftest import EXAMPLE_MODEL

CLI = [str(Path(sys.executable).with_name("capaciteit"))]
HEADERS = [f.header for f in FIELDS]
COLUMN = {f.name: i + 1 for i, f in enumerate(FIELDS)}
PEILDATUM = "2023-12-31"

Row = dict[str, Any]


class Text(str):
    """Text typed as text (Excel: a leading apostrophe), even when it starts with '='."""


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "250", "PATH": "/usr/bin:/bin"},
    )


def fill(path: Path, rows: list[Row], peildatum: Any = None) -> Path:
    """Type ``rows`` into the template as a provider would; ``peildatum`` on *Uitleg*."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[SHEET]
    for n, row in enumerate(rows, start=2):
        for name, value in row.items():
            cell = sheet.cell(n, COLUMN[name])
            cell.value = value
            if isinstance(value, Text):
                cell.data_type = "s"
    if peildatum is not None:
        workbook["Uitleg"]["B4"].value = peildatum
    workbook.save(path)
    return path


def rows(*values: tuple[Any, ...]) -> list[Row]:
    """Rows from tuples (provider, location, care_form, beds, occupied, waiting)."""
    names = ("provider", "location", "care_form", "beds", "occupied", "waiting")
    return [dict(zip(names, v, strict=True)) for v in values]


def recount(paths: list[Path]) -> pd.DataFrame:
    """Sum the filled cells per provider and care form, read straight from the sheets."""
    sums: dict[tuple[str, str], list[int]] = {}
    for path in paths:
        sheet = openpyxl.load_workbook(path)[SHEET]
        rows = sheet.iter_rows(values_only=True)
        at = {str(h): i for i, h in enumerate(next(rows)) if h}
        for row in rows:
            if row[at["locatie"]] is None:
                continue
            key = (str(row[at["aanbieder"]]).strip(), str(row[at["zorgvorm"]]).strip())
            total = sums.setdefault(key, [0, 0, 0])
            for i, header in enumerate(("bedden", "bezet", "wachtend")):
                total[i] += int(row[at[header]])
    frame = pd.DataFrame(
        [[p, f, *v] for (p, f), v in sorted(sums.items())],
        columns=["provider", "care_form", "beds", "occupied", "waiting"],
    )
    return frame


def locations(provider: str, plan: dict[str, int], rng: np.random.Generator) -> list[Row]:
    """Filled rows: ``plan`` gives the number of locations per care form."""
    rows = []
    for form, count in plan.items():
        for n in range(count):
            beds = int(rng.integers(2, 40))
            rows.append(
                {
                    "provider": provider,
                    "location": f"{form.capitalize()} locatie {n + 1}",
                    "care_form": form,
                    "beds": beds,
                    "occupied": int(rng.integers(0, beds + 1)),
                    "waiting": int(rng.integers(0, 8)),
                }
            )
    return rows


def problems_of(call: Callable[[], object]) -> list[Problem]:
    """The problems ``call`` is refused with; each has a fix, and a column with its row."""
    with pytest.raises(InvalidInputError) as caught:
        call()
    found = caught.value.problems
    assert all(p.message and p.fix and (p.row is None or p.column) for p in found), found
    return found


def has(
    problems: list[Problem], file: str, row: int | None, text: str, column: str | None = None
) -> bool:
    return any(
        p.file == file
        and (row is None or p.row == row)
        and (column is None or p.column == column)
        and text in p.message + " " + p.fix
        for p in problems
    )


def example_tables(beds: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The example region's tables with ``beds`` as its 0-meting."""
    tables = {
        name: pd.read_csv(EXAMPLE_MODEL / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in TABLES
        if (EXAMPLE_MODEL / f"{name}.csv").is_file()
    }
    tables["beds"] = beds
    return tables


# --------------------------------------------------------------------------- the whole round
def test_filled_templates_add_up_to_a_beds_table_the_model_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    filled: dict[str, list[Row]] = {
        "P01": locations("P01", {"pleegzorg": 2, "crisis": 1}, rng),
        "P04": locations("P04", {"residentieel": 3, "crisis": 1}, rng),
        "P07": locations("P07", {"residentieel": 1, "jeugdzorgplus": 2}, rng),
        "P03": locations("P03", {"gezinshuis": 4}, rng),
    }
    # one location above its beds (afbouw): a warning, the provider's total stays below
    filled["P04"][0].update(beds=10, occupied=11)
    filled["P04"][1].update(beds=12, occupied=5)
    # spaces around codes are trimmed; a location may be any text, '=' included
    filled["P01"][0]["care_form"] = " pleegzorg "
    filled["P01"][1]["location"] = Text("=Team Noord")
    done = run(
        "sjabloon", "0-meting", "--out", tmp_path / "P01.xlsx", "--model", EXAMPLE_MODEL,
        "--aanbieder", "P01", "--peildatum", PEILDATUM, "--contact", "regio@voorbeeld.nl",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for code in ("P04", "P07"):  # the same, without a process each
        make_template(tmp_path / f"{code}.xlsx", EXAMPLE_MODEL, code, PEILDATUM)
    paths = []
    for code in ("P01", "P04", "P07"):  # the code is filled in already
        typed = [{k: v for k, v in r.items() if k != "provider"} for r in filled[code]]
        paths.append(fill(tmp_path / f"{code}.xlsx", typed))
    # the spelling; without a provider or a peildatum, both are filled in
    free = tmp_path / "gezinshuizen.xlsx"
    done = run("template", "0-meting", "--out", free, "--model", EXAMPLE_MODEL)
    assert done.returncode == 0, done.stderr
    paths.append(fill(free, filled["P03"], peildatum=dt.datetime(2023, 12, 31)))

    # ------------------------------------------------------------------ the template
    book = openpyxl.load_workbook(paths[0])
    assert book.sheetnames == ["Uitleg", SHEET, META_SHEET]
    assert book[META_SHEET].sheet_state == "hidden" and book[META_SHEET].protection.sheet
    sheet = book[SHEET]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.protection.sheet and sheet.freeze_panes == "A2"
    assert sheet["A2"].value == "P01" and sheet["A2"].protection.locked
    assert not sheet["B2"].protection.locked and not sheet["D2"].protection.locked
    rules = sheet.data_validations.dataValidation
    forms = next(v for v in rules if v.type == "list")
    assert forms.formula1 == f"'{META_SHEET}'!$D$2:$D$6" and "C2:C501" in str(forms.sqref)
    whole = next(v for v in rules if v.type == "whole")
    assert (whole.operator, whole.formula1, whole.formula2) == ("between", "0", "10000")
    occupied = next(v for v in rules if v.type == "custom")
    assert "E2<=D2" in str(occupied.formula1) and occupied.errorStyle == "warning"
    meta = {r[0]: r[1] for r in book[META_SHEET].iter_rows(values_only=True) if r[0]}
    assert meta["sjabloon"] == "capaciteit 0-meting" and meta["versie"] == 1
    assert meta["peildatum"] == PEILDATUM and meta["aanbieder"] == "P01"
    listed = [r[3] for r in book[META_SHEET].iter_rows(min_row=2, values_only=True) if r[3]]
    assert listed == ["pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus", "crisis"]
    about = " ".join(str(c.value) for r in book["Uitleg"].iter_rows() for c in r if c.value)
    for text in ("31 december 2023", "regio@voorbeeld.nl", "niet als hij al elders", "formule"):
        assert text in about, text
    free_book = openpyxl.load_workbook(free)
    assert not free_book[SHEET]["A2"].protection.locked  # the provider types the code
    assert any(
        v.type == "list" and "$E$2" in v.formula1
        for v in free_book[SHEET].data_validations.dataValidation
    )
    assert not free_book["Uitleg"]["B4"].protection.locked

    # ------------------------------------------------------------------ the intake
    out = tmp_path / "uit"
    done = run("intake", *paths, "--out", out, "--model", EXAMPLE_MODEL)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())  # rich wraps at 120 columns in a pipe
    assert "0-meting op 31 december 2023 uit 4 bestanden: 4 aanbieders, 14 locatierijen" in text
    assert "Let op" in text and "bezet (11) is meer dan bedden (10)" in text
    assert "aanbieder 'P05' heeft in de huidige 0-meting 50 bedden" in text
    beds = pd.read_csv(out / "beds.csv", dtype={"provider": str, "care_form": str})
    assert list(beds.columns) == ["provider", "care_form", "beds", "occupied", "waiting"]
    pd.testing.assert_frame_equal(beds, recount(paths))
    assert "=Team Noord" not in (out / "beds.csv").read_text(encoding="utf-8")
    located = pd.read_csv(out / "locaties.csv", dtype=str, keep_default_na=False)
    assert len(located) == sum(len(rows) for rows in filled.values())
    assert "'=Team Noord" in set(located["location"])  # written as text, never a formula
    assert set(located["row"]) == {str(n) for n in range(2, 6)}

    # the same files without a model: the same beds.csv, and it loads in a full model
    plain = tmp_path / "zonder-model"
    done = run("intake", *paths, "--out", plain)
    assert done.returncode == 0, done.stderr
    assert (plain / "beds.csv").read_bytes() == (out / "beds.csv").read_bytes()
    model_dir = write_model_dir(
        tmp_path / "regio", example_tables(pd.read_csv(plain / "beds.csv")), baseline_year=2023
    )
    model = load_model(model_dir)
    expected = recount(paths).set_index(["provider", "care_form"]).sort_index()
    loaded = model.beds.sort_index()
    for column in ("beds", "occupied", "waiting"):
        assert loaded[column].astype(int).to_dict() == expected[column].to_dict(), column


# --------------------------------------------------------------------------- refusals
def test_every_problem_of_every_file_is_listed_with_file_row_and_fix(tmp_path: Path) -> None:
    model = load_model(EXAMPLE_MODEL)
    first = make_template(tmp_path / "p01.xlsx", EXAMPLE_MODEL, "P01", PEILDATUM)
    fill(
        first,
        rows(
            ("P01", "Zwolle", "ambulant", 4, 1, 0),
            ("P01", "Zwolle", "Pleegzorg", 4, 1, 0),
            ("P01", None, "pleegzorg", 4, 1, 0),
            ("P01", "Kampen", "pleegzorg", -3, 3.5, None),
            ("P01", "Epe", "pleegzorg", "veel", 20_000, 0),
            ("P02", "Ede", "pleegzorg", 1, 0, 0),
            ("P01", "Crisis Noord", "crisis", 3, 4, 0),
            ("P01", "Crisis Zuid", "crisis", 2, 2, 0),
            ("P01", "crisis  noord", "crisis", 1, 0, 0),
        ),
    )
    second = make_template(tmp_path / "open.xlsx", EXAMPLE_MODEL)
    fill(
        second,
        rows(
            ("P77", "Urk", "residentieel", 5, 1, 2),
            ("P01", "Crisis Zuid", "crisis", 2, 1, 0),
            ("P05", "Zee", "residentieel", "=B2*2", 1, 0),
            ("P05", "=A1", "residentieel", 3, 1, 0),  # a formula: Excel would compute it
            ("P05", Text("=Zee"), "residentieel", 3, 1, 0),  # a text that starts with '='
            (None, "Epe", "residentieel", 3, 1, 0),
        ),
        peildatum="1-1-2024",
    )
    other = tmp_path / "eigen.xlsx"  # the right sheet and headers, but not the template
    plain = openpyxl.Workbook()
    assert plain.active is not None
    plain.active.title = SHEET
    plain.active.append(HEADERS)
    plain.active.append(["P06", "Wijhe", "gezinshuis", 4, 4, 0])
    plain.save(other)
    csv = tmp_path / "p08.csv"
    csv.write_text("aanbieder,locatie\nP08,Olst\n", encoding="utf-8")

    paths = [first, second, other, csv]
    problems = problems_of(lambda: merge_intake(paths, model))
    a, b = f"{first.name}, werkblad {SHEET}", f"{second.name}, werkblad {SHEET}"
    expected = [
        (a, 2, "zorgvorm", "zorgvorm 'ambulant' is onbekend"),
        (a, 3, "zorgvorm", "Schrijf 'pleegzorg' (hoofdletters tellen mee)"),
        (a, 4, "locatie", "'locatie' is leeg"),
        (a, 5, "bedden", "bedden = -3 is negatief"),
        (a, 5, "bezet", "geen geheel getal"),
        (a, 5, "wachtend", "'wachtend' is leeg"),
        (a, 6, "bedden", "'veel' is geen getal"),
        (a, 6, "bezet", "meer dan 10.000"),
        (a, 7, "aanbieder", "niet de aanbieder van dit sjabloon ('P01')"),
        (a, 8, "bezet", "over alle locaties samen is bezet (6) meer dan bedden (5)"),
        (a, 10, "locatie", "staat er meer dan één keer in (ook in rij 8)"),
        (b, 2, "aanbieder", "aanbieder 'P77' staat niet in providers.csv"),
        (b, 3, "locatie", f"(ook in rij 9 van {first.name})"),
        (b, 4, "bedden", "formule"),
        (b, 5, "locatie", "formule"),
        (b, 7, "aanbieder", "'aanbieder' is leeg"),
        (second.name, None, "peildatum", "de peildatum is 1 januari 2024"),
        (other.name, None, None, "geen sjabloon voor de 0-meting"),
        (csv.name, None, None, "is geen Excel-werkmap"),
    ]
    for file, row, column, text in expected:
        assert has(problems, file, row, text, column), (file, row, text, problems)
    # the model asks a row per care form (pleegzorg has rows, each with its own problem)
    for form in ("gezinshuis", "jeugdzorgplus"):
        assert has(problems, "beds.csv", None, f"rij voor zorgvorm '{form}'")
    assert len(problems) == len(expected) + 2, "\n".join(map(str, problems))
    # grouped by file in the order given, rows in order; what concerns no one file comes last
    order = [
        (next((i for i, p in enumerate(paths) if q.file.startswith(p.name)), 9), q.row or 0)
        for q in problems
    ]
    assert order == sorted(order)
    # a formula is refused (row 5), a text that starts with '=' is a name like any other
    assert not any(p.file == b and p.row == 6 for p in problems)

    # through the command line: exit 2, the list, no traceback, nothing written
    out = tmp_path / "uit"
    done = run("intake", *paths, "--out", out, "--model", EXAMPLE_MODEL)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert f"De 0-meting is ongeldig ({len(problems)} problemen)" in done.stderr
    for text in ("P77", "ambulant", "p08.csv"):
        assert text in done.stderr
    assert not (out / "beds.csv").exists()


def test_codes_without_a_model_and_provider_spelling(tmp_path: Path) -> None:
    path = make_template(tmp_path / "t.xlsx", None, peildatum=PEILDATUM)
    fill(
        path,
        rows(
            (Text("=1+2"), "A", "crisis", 1, 0, 0),
            ("P01", "A", "crisis", 1, 0, 0),
            ("p01", "B", "crisis", 1, 0, 0),
        ),
    )
    problems = problems_of(lambda: merge_intake([path]))
    file = f"{path.name}, werkblad {SHEET}"
    assert has(problems, file, 2, "begint met een teken waarmee een spreadsheet", "aanbieder")
    assert has(problems, file, 4, "verschilt alleen in hoofdletters van 'P01' (rij 3)")
    assert len(problems) == 2, problems
    # an empty peildatum in a template made without one
    open_ = make_template(tmp_path / "open.xlsx")
    fill(open_, rows(("P01", "A", "crisis", 1, 0, 0)))
    problems = problems_of(lambda: merge_intake([open_]))
    assert [(p.file, p.row, p.column) for p in problems] == [
        (f"{open_.name}, werkblad Uitleg", 4, "peildatum")
    ]
    assert "niet ingevuld" in problems[0].message


def test_what_the_model_lacks_for_the_new_0_meting_is_a_warning(tmp_path: Path) -> None:
    """A provider with a care form the model has no tariff for: the region's to fix."""
    model_dir = tmp_path / "regio"
    shutil.copytree(EXAMPLE_MODEL, model_dir)
    costs = pd.read_csv(model_dir / "costs.csv", dtype=str, keep_default_na=False)
    costs = costs[~((costs["care_form"] == "residentieel") & (costs["provider"] == ""))]
    tariffs = pd.DataFrame(
        {
            "care_form": "residentieel",
            "provider": ["P04", "P06", "P07"],
            "cost_per_bed_day_eur": "180",
        }
    )
    pd.concat([costs, tariffs]).to_csv(model_dir / "costs.csv", index=False)
    path = make_template(tmp_path / "t.xlsx", model_dir, peildatum="2024-01-01")
    pairs = [
        ("P01", "pleegzorg"),
        ("P03", "gezinshuis"),
        ("P03", "residentieel"),  # P03 has no tariff for residentieel
        ("P07", "jeugdzorgplus"),
        ("P01", "crisis"),
    ]
    fill(path, rows(*((p, "A", f, 2, 1, 0) for p, f in pairs)))
    intake = merge_intake([path], load_model(model_dir))
    notes = "\n".join(str(p) for p in intake.warnings)
    assert "met de nieuwe beds.csv: er is geen tarief per beddag voor 'residentieel' bij" in notes
    assert "aanbieder 'P03'" in notes
    assert "Zet baseline_year in model.yaml op 2024" in notes
    assert intake.beds["beds"].sum() == 10 and intake.peildatum == dt.date(2024, 1, 1)


# --------------------------------------------------------------------------- hostile files
def test_hostile_workbooks_are_refused_before_anything_is_computed(tmp_path: Path) -> None:
    template = make_template(tmp_path / "t.xlsx", None, "P01", PEILDATUM)
    fill(template, rows(("P01", "A", "crisis", 1, 0, 0)))
    # a zip bomb: 30 MB of spaces after the data sheet, ~30 kB packed
    bomb = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet2.xml":
                data += b" " * 30_000_000
            dst.writestr(info, data, compresslevel=9)
    assert bomb.stat().st_size < 1_000_000
    problems = problems_of(lambda: merge_intake([bomb]))
    assert any(p.file == "xl/worksheets/sheet2.xml" for p in problems), problems
    # a huge sheet: more rows than are read
    huge = tmp_path / "groot.xlsx"
    source = openpyxl.load_workbook(template)
    book = openpyxl.Workbook(write_only=True)
    book.create_sheet("Uitleg")
    data = book.create_sheet(SHEET)
    data.append(HEADERS)
    for n in range(MAX_ROWS + 5):
        data.append(["P01", f"L{n}", "crisis", 1, 0, 0, None])
    meta = book.create_sheet(META_SHEET)
    for row in source[META_SHEET].iter_rows(values_only=True):
        meta.append(list(row))
    book.save(huge)
    problems = problems_of(lambda: merge_intake([huge]))
    assert [p.message for p in problems] == ["heeft meer dan 5.000 rijen."]
    # another version of the template
    old = tmp_path / "oud.xlsx"
    shutil.copy(template, old)
    book = openpyxl.load_workbook(old)
    book[META_SHEET]["B2"].value = 2
    book.save(old)
    problems = problems_of(lambda: merge_intake([old]))
    assert len(problems) == 1 and "versie '2'" in problems[0].message
