"""Quarterly realisation against the agreed plan: template, reader, band, comparison, report.

The truths the tests hold the code to come from elsewhere: the template is filled in with
openpyxl as a provider would and must read back equal; every kind of bad upload must be
refused with each problem's sheet, row, id and fix; the band of a single M/M/c form must
contain the exact steady-state values (offered load, Erlang C, the arrival rate); a
realisation drawn from the model itself (an independent replication, its quarter values
recomputed here by direct integration) must fall inside the band in most quarters; the
verdicts are recomputed here from the rule in the module docstring; and the example region's
two synthetic quarters (made without the engine, ``scripts/make_realisation_example.py``)
must give a PDF whose text names the quarter that is off course.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from capaciteit.domain.scenario import Scenario
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.model_writer import write_scenario_file
from capaciteit.io.scenario_files import load_scenario
from capaciteit.realisation.band import MEASURES, band_spec, simulate_band
from capaciteit.realisation.compare import compare
from capaciteit.realisation.plan import read_plan
from capaciteit.realisation.quarters import Quarter, quarters_of
from capaciteit.realisation.reader import (
    FIELDS,
    MAX_ROWS,
    SHEET,
    check_complete,
    read_realisation,
    read_realisations,
)
from capaciteit.realisation.template import write_template
from capaciteit.simulation.engine import simulate_stays
from tests.conftest import EXAMPLE_MODEL, TRANSFORMATIE, one_form_tables

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "models" / "voorbeeldregio-realisatie"
PLAN = EXAMPLE / "afgesproken_plan.csv"
CLI = [str(Path(sys.executable).with_name("capaciteit"))]
COLUMN = {f.name: i for i, f in enumerate(FIELDS)}
NUMBERS = ("beds", "occupied", "admissions", "waiting")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(TRANSFORMATIE)


@pytest.fixture(scope="module")
def plan(scenario: Scenario) -> pd.DataFrame:
    return read_plan(PLAN, scenario)


def fill(path: Path, values: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    """Fill the template's cells as a provider would (openpyxl, keys by row identity)."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[SHEET]
    for row in sheet.iter_rows(min_row=2):
        key = tuple(str(row[COLUMN[k]].value) for k in ("provider", "care_form", "quarter"))
        for name, value in values.get(key, {}).items():  # type: ignore[call-overload]
            row[COLUMN[name]].value = value
    workbook.save(path)


def filled_template(
    tmp_path: Path, scenario: Scenario, plan: pd.DataFrame, quarters: list[str], seed: int = 3
) -> tuple[Path, pd.DataFrame]:
    """A template filled with random valid figures; returns the file and the figures."""
    path = tmp_path / "realisatie.xlsx"
    write_template(scenario, plan, path, quarters)
    rng = np.random.default_rng(seed)
    rows = []
    for quarter in quarters:
        year = int(quarter[:4])
        for r in plan[plan["year"] == year].to_dict(orient="records"):
            beds = int(r["beds"]) + int(rng.integers(-2, 3)) if r["beds"] > 2 else int(r["beds"])
            rows.append(
                {
                    "provider": r["provider"],
                    "care_form": r["care_form"],
                    "quarter": quarter,
                    "beds": beds,
                    "occupied": int(rng.integers(0, beds + 1)),
                    "admissions": int(rng.integers(0, 40)),
                    "waiting": int(rng.integers(0, 10)),
                }
            )
    figures = pd.DataFrame(rows).set_index(["provider", "care_form", "quarter"]).sort_index()
    fill(path, {k: dict(v) for k, v in figures.to_dict(orient="index").items()})
    return path, figures


def problems_of(call: Any) -> list[Problem]:
    with pytest.raises(InvalidInputError) as caught:
        call()
    problems = caught.value.problems
    for p in problems:
        assert p.message and p.fix, p
    return problems


def has(problems: list[Problem], *, row: int | None, text: str, column: str | None = None) -> bool:
    return any(
        (row is None or p.row == row)
        and (column is None or p.column == column)
        and text in p.message + p.fix
        for p in problems
    )


# --------------------------------------------------------------------------- template
def test_template_round_trip(tmp_path: Path, scenario: Scenario, plan: pd.DataFrame) -> None:
    path, figures = filled_template(tmp_path, scenario, plan, ["2024-K1", "2024-K2"])
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == [SHEET, "Uitleg"]
    sheet = workbook[SHEET]
    assert [c.value for c in sheet[1]] == [f.header for f in FIELDS]
    assert sheet.freeze_panes == "A2" and sheet.protection.sheet
    assert sheet["A2"].protection.locked and not sheet["G2"].protection.locked
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    whole = next(v for v in validations.values() if v.type == "whole")
    assert whole.operator == "greaterThanOrEqual" and whole.formula1 == "0"
    assert whole.errorStyle == "stop"
    occupied = next(v for v in validations.values() if v.type == "custom")
    assert occupied.errorStyle == "warning" and "H2<=G2" in str(occupied.formula1)
    # one row per provider x care form x quarter, the plan's places shown for reference
    assert sheet.max_row - 1 == len(figures) == 2 * len(plan[plan["year"] == 2024])
    planned = plan.set_index(["provider", "care_form", "year"])["beds"]
    for row in sheet.iter_rows(min_row=2, values_only=True):
        assert row[COLUMN["planned_beds"]] == planned[(row[0], row[2], 2024)]
    explanation = " ".join(str(c.value) for r in workbook["Uitleg"].iter_rows() for c in r)
    assert "wachtlijst" in explanation and "laatste dag van het kwartaal" in explanation

    read = read_realisation(path, scenario)
    assert list(read.columns) == list(NUMBERS)
    assert all(str(t) == "int64" for t in read.dtypes)
    pd.testing.assert_frame_equal(read, figures[list(NUMBERS)].astype("int64"))


def test_template_without_plan_and_bad_quarters(tmp_path: Path, scenario: Scenario) -> None:
    path = write_template(scenario, None, tmp_path / "t.xlsx", [])
    sheet = openpyxl.load_workbook(path)[SHEET]
    quarters = {row[COLUMN["quarter"]] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert quarters == {"2024-K1", "2024-K2", "2024-K3", "2024-K4"}  # the year after the 0-meting
    problems = problems_of(
        lambda: write_template(scenario, None, tmp_path / "u.xlsx", ["2024-Q1", "2040-K1"])
    )
    assert {p.id for p in problems} == {"2024-Q1", "2040-K1"}


# --------------------------------------------------------------------------- bad uploads
def test_every_problem_of_a_bad_upload_is_listed(
    tmp_path: Path, scenario: Scenario, plan: pd.DataFrame
) -> None:
    path, _ = filled_template(tmp_path, scenario, plan, ["2024-K1"])
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[SHEET]
    sheet.protection.sheet = False
    c = {name: COLUMN[name] + 1 for name in COLUMN}
    sheet.cell(2, c["provider"]).value = "P77"  # unknown provider
    sheet.cell(3, c["care_form"]).value = "ambulant"  # unknown form
    sheet.cell(4, c["quarter"]).value = "2024 Q1"  # not JJJJ-KN
    sheet.cell(5, c["quarter"]).value = "2035-K1"  # outside the horizon
    sheet.cell(6, c["beds"]).value = -3  # negative
    sheet.cell(7, c["beds"]).value = 4
    sheet.cell(7, c["occupied"]).value = 9  # occupied > beds
    sheet.cell(8, c["waiting"]).value = None  # missing
    sheet.cell(9, c["admissions"]).value = "=B2*2"  # a formula: never computed
    sheet.cell(10, c["occupied"]).value = 3.5  # not whole
    sheet.cell(11, c["admissions"]).value = "veel"  # not a number
    duplicate = [cell.value for cell in sheet[12]]
    sheet.append(duplicate)  # the same provider / form / quarter twice
    last = sheet.max_row
    workbook.save(path)

    problems = problems_of(lambda: read_realisation(path, scenario))
    assert {p.file for p in problems} == {f"{path.name}, werkblad Realisatie"}
    expected = [
        (2, "aanbieder", "'P77' is onbekend"),
        (3, "zorgvorm", "'ambulant' is onbekend"),
        (4, "kwartaal", "'2024 Q1' is geen kwartaal"),
        (5, "kwartaal", "2035-K1 valt buiten"),
        (6, "plaatsen", "negatief"),
        (7, "bezet", "bezet (9) is meer dan plaatsen (4)"),
        (8, "wachtlijst", "'wachtlijst' is leeg"),
        (9, "instroom", "'=B2*2' is een formule"),
        (10, "bezet", "geen geheel getal"),
        (11, "instroom", "'veel' is geen getal"),
        (last, "kwartaal", "meer dan één keer"),
    ]
    for row, column, text in expected:
        assert has(problems, row=row, column=column, text=text), (row, text, problems)
    ids = {p.row: p.id for p in problems}
    assert ids[2] is not None and ids[2].startswith("P77 / ")
    assert "rij 12" in next(p.message for p in problems if p.row == last)
    assert len(problems) == len(expected), problems


def test_a_refused_file_gives_nothing_back_even_with_a_good_one(
    tmp_path: Path, scenario: Scenario, plan: pd.DataFrame
) -> None:
    good, _ = filled_template(tmp_path, scenario, plan, ["2024-K1"])
    other = tmp_path / "b"
    other.mkdir()
    bad, _ = filled_template(other, scenario, plan, ["2024-K1"])
    # the same rows in two files are duplicates too; and a header is missing in a third
    third = tmp_path / "kapot.xlsx"
    workbook = openpyxl.load_workbook(good)
    workbook[SHEET].cell(1, COLUMN["waiting"] + 1).value = None
    workbook.save(third)
    csv = tmp_path / "realisatie.csv"
    csv.write_text("aanbieder,zorgvorm\nP01,pleegzorg\n", encoding="utf-8")
    problems = problems_of(lambda: read_realisations([good, bad, third, csv], scenario))
    assert has(problems, row=1, column="wachtlijst", text="ontbreekt")
    assert any(p.file == "realisatie.csv" and ".xlsx" in p.fix for p in problems)
    duplicates = [p for p in problems if "meer dan één keer" in p.message]
    # two files of the same name are told apart by their paths
    assert duplicates and all(f"van {good}" in p.message for p in duplicates)
    assert {p.file for p in duplicates} == {f"{bad}, werkblad Realisatie"}


def test_an_upload_that_leaves_out_a_planned_provider_is_refused(
    tmp_path: Path, scenario: Scenario, plan: pd.DataFrame
) -> None:
    path, _ = filled_template(tmp_path, scenario, plan, ["2024-K1"])
    realised = read_realisation(path, scenario)
    check_complete(realised, plan, [path.name])  # complete: no problem
    problems = problems_of(
        lambda: check_complete(realised.drop(("P05", "residentieel", "2024-K1")), plan, ["x"])
    )
    assert [p.id for p in problems] == ["P05 / residentieel / 2024-K1"]
    assert "plan daar 46 plaatsen" in problems[0].message


# --------------------------------------------------------------------------- hostile files
def test_a_zip_bomb_workbook_is_refused_before_it_is_unpacked(
    tmp_path: Path, scenario: Scenario, plan: pd.DataFrame
) -> None:
    path, _ = filled_template(tmp_path, scenario, plan, ["2024-K1"])
    bomb = tmp_path / "bom.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data + b" " * 30_000_000  # 30 MB of spaces after the sheet: ~30 kB packed
            dst.writestr(info, data, compresslevel=9)
    assert bomb.stat().st_size < 1_000_000
    problems = problems_of(lambda: read_realisation(bomb, scenario))
    assert any(p.file == "xl/worksheets/sheet1.xml" for p in problems), problems


def test_too_many_rows_are_refused(tmp_path: Path, scenario: Scenario) -> None:
    path = tmp_path / "groot.xlsx"
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    sheet.append([f.header for f in FIELDS])
    for _ in range(MAX_ROWS + 5):
        sheet.append(["P01", "", "pleegzorg", "", "2024-K1", 0, 1, 1, 1, 1, None])
    workbook.save(path)
    problems = problems_of(lambda: read_realisation(path, scenario))
    assert len(problems) == 1 and "meer dan 20.000 rijen" in problems[0].message


def test_formula_like_codes_stay_text_from_upload_to_report(
    tmp_path: Path, scenario: Scenario
) -> None:
    """A provider called '=1+2' (as in test_hostile F7) is data everywhere: in the template,
    when read back, and in every report file; a '=...' cell where a number belongs is refused.
    """
    from capaciteit.pipelines.realisation import realisation_report

    model = tmp_path / "model"
    shutil.copytree(EXAMPLE_MODEL, model)
    for table in model.glob("*.csv"):
        table.write_text(table.read_text(encoding="utf-8").replace("P01", "=1+2"), "utf-8")
    text = TRANSFORMATIE.read_text(encoding="utf-8").replace("P01", "'=1+2'")
    text = text.replace("model: ../models/voorbeeldregio", f"model: {model}")
    scenario_file = tmp_path / "scenario.yaml"
    scenario_file.write_text(text, encoding="utf-8")
    hostile = load_scenario(scenario_file)
    plan_file = tmp_path / "plan.csv"
    plan_file.write_text(PLAN.read_text(encoding="utf-8").replace("P01", "=1+2"), "utf-8")
    plan = read_plan(plan_file, hostile)
    assert "=1+2" in set(plan["provider"])

    path, _ = filled_template(tmp_path, hostile, plan, ["2024-K1"])
    cells = [c for row in openpyxl.load_workbook(path)[SHEET].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "=1+2" in {c.value for c in cells}
    assert "=1+2" in set(read_realisation(path, hostile).index.get_level_values("provider"))

    out = tmp_path / "out"
    done = realisation_report(scenario_file, plan_file, [path], out, replications=20)
    for name in ("workbook",):
        book = openpyxl.load_workbook(done.files[name])
        formulas = [
            (ws.title, c.coordinate)
            for ws in book.worksheets
            for row in ws.iter_rows()
            for c in row
            if c.data_type == "f"
        ]
        assert not formulas, formulas
    comparison = pd.read_csv(done.files["comparison"], dtype=str, keep_default_na=False)
    assert "'=1+2" in set(comparison["provider"]) and "=1+2" not in set(comparison["provider"])
    assert "=1+2" in done.files["html"].read_text(encoding="utf-8")


# --------------------------------------------------------------------------- band
def erlang_c_queue(c: int, a: float) -> float:
    """Mean number waiting in M/M/c with offered load ``a`` (Erlang C)."""
    terms = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) * c / (c - a)
    wait_probability = top / (terms + top)
    return wait_probability * a / (c - a)


def test_the_band_of_an_mmc_form_holds_the_exact_steady_state(
    tmp_path: Path, write_model: Any
) -> None:
    """M/M/10 with λ = 2/day and a mean stay of 4 days (ρ = 0.8), started empty with a long
    warm-up: per quarter the mean occupancy is the offered load a = 8, the mean number
    waiting at a moment is Erlang C's L_q, and admissions are λ x the quarter's days.
    """
    c, lam, stay = 10, 2.0, 4.0
    model = write_model(
        one_form_tables(beds=c, arrivals_per_year=lam * 365, mean_days=stay), name="mmc"
    )
    scenario_file = write_scenario_file(
        tmp_path / "mmc.yaml", model, start_year=2023, end_year=2023, warm_up_days=120
    )
    scenario = load_scenario(scenario_file)
    plan = pd.DataFrame({"provider": ["P1"], "care_form": ["a"], "year": [2023], "beds": [c]})
    band = simulate_band(scenario, plan, quarters_of([2023]), replications=200, seed=11)
    a = lam * stay
    queue = erlang_c_queue(c, a)
    # the same from the birth-death chain's stationary distribution, summed directly
    weights = [
        a**n / math.factorial(n) if n <= c else a**c / math.factorial(c) * (a / c) ** (n - c)
        for n in range(400)
    ]
    chain = sum((n - c) * w for n, w in enumerate(weights) if n > c) / sum(weights)
    assert queue == pytest.approx(chain, rel=1e-9) and queue == pytest.approx(1.6367, abs=1e-4)
    r = band.values.shape[0]
    for k, quarter in enumerate(band.quarters):
        start, end = quarter.window(2023)
        days = end - start
        # 730 referrals a year spread over 365 days: 2 a day, admitted at that rate
        exact = {"occupied": a, "admissions": lam * days, "waiting": queue}
        row = band.table.loc[("a", quarter.label)]
        for j, measure in enumerate(MEASURES):
            sample = band.values[:, 0, k, j]
            se = sample.std(ddof=1) / math.sqrt(r)
            assert abs(sample.mean() - exact[measure]) < 4 * se, (quarter, measure, se)
            assert row[f"{measure}_low"] <= exact[measure] <= row[f"{measure}_high"]
            assert row[f"{measure}_mean"] == pytest.approx(sample.mean())
        # a prediction band across replications: wider than the mean's own uncertainty
        assert row["occupied_high"] - row["occupied_low"] > 8 * band.values[:, 0, k, 0].std(
            ddof=1
        ) / math.sqrt(r)


def quarter_figures(stays: pd.DataFrame, quarter: Quarter, start_year: int) -> pd.DataFrame:
    """Per provider and care form of one replication: occupied (time-average), admissions;
    per care form the waiting list at the quarter's end. Recomputed here directly from the
    stays by clipping each stay to the quarter (not with the engine's interval helpers).
    """
    a, b = quarter.window(start_year)
    admitted = stays[stays["start_day"].notna()]
    end = admitted["end_day"].fillna(np.inf)
    overlap = (np.minimum(end, b) - np.maximum(admitted["start_day"], a)).clip(lower=0)
    frame = pd.DataFrame(
        {
            "provider": admitted["provider"].astype(str),
            "care_form": admitted["care_form"].astype(str),
            "occupied": overlap / (b - a),
            "admissions": ((admitted["start_day"] >= a) & (admitted["start_day"] < b)).astype(int),
        }
    )
    per_pair = frame.groupby(["provider", "care_form"])[["occupied", "admissions"]].sum()
    resolved = stays["start_day"].where(stays["start_day"].notna(), stays["end_day"]).fillna(np.inf)
    t = b - 1e-9
    waiting = stays[(stays["requested_day"] <= t) & (resolved > t)]
    per_form = waiting.groupby(waiting["care_form"].astype(str)).size()
    return per_pair.assign(waiting_form=[int(per_form.get(f, 0)) for _, f in per_pair.index])


def test_realisation_from_the_model_is_in_the_band_and_off_values_are_flagged(
    scenario: Scenario, plan: pd.DataFrame
) -> None:
    quarters = quarters_of([2024])
    band = simulate_band(scenario, plan, quarters, replications=100)
    # one more history of the region, with a seed the band never used
    spec = band_spec(scenario, plan, quarters)
    stays = simulate_stays(spec, np.random.SeedSequence(987_654))
    planned = plan.set_index(["provider", "care_form", "year"])["beds"]
    rows = []
    for quarter in quarters:
        figures = quarter_figures(stays, quarter, scenario.start_year)
        seen_forms: set[str] = set()
        for (provider, form), beds in planned.xs(2024, level="year").items():
            if beds == 0:
                continue
            got = figures.loc[(provider, form)] if (provider, form) in figures.index else None
            waiting = 0
            if form not in seen_forms and got is not None:  # a form's list at one provider
                waiting = int(got["waiting_form"])
                seen_forms.add(form)
            rows.append(
                {
                    "provider": provider,
                    "care_form": form,
                    "quarter": quarter.label,
                    "beds": int(beds),
                    "occupied": round(float(got["occupied"])) if got is not None else 0,
                    "admissions": int(got["admissions"]) if got is not None else 0,
                    "waiting": waiting,
                }
            )
    realised = pd.DataFrame(rows).set_index(["provider", "care_form", "quarter"]).sort_index()
    comparison = compare(realised, plan, band.table)
    forms = comparison[comparison["level"] == "care_form"]
    assert len(forms) == 5 * 4
    assert forms["on_track"].mean() >= 0.75, forms[["care_form", "quarter", "reason"]]
    inside = [
        row[f"{m}_low"] <= row[m] <= row[f"{m}_high"]
        for row in forms.to_dict(orient="records")
        for m in MEASURES
    ]
    assert np.mean(inside) >= 0.88
    assert comparison[comparison["level"] == "provider"]["on_track"].all()  # the plan's beds

    # an obviously wrong figure and a provider far from its places are flagged, with why
    realised.loc[("P04", "residentieel", "2024-K3"), "waiting"] = 500
    realised.loc[("P02", "pleegzorg", "2024-K2"), "beds"] -= 30
    realised.loc[("P02", "pleegzorg", "2024-K2"), "occupied"] = min(
        realised.loc[("P02", "pleegzorg", "2024-K2"), "occupied"],
        realised.loc[("P02", "pleegzorg", "2024-K2"), "beds"],
    )
    judged = compare(realised, plan, band.table).set_index(["level", "care_form", "quarter"])
    # the index is not unique (provider rows share it): take the one form row as a Series
    flagged = judged.loc[[("care_form", "residentieel", "2024-K3")]].iloc[0]
    assert not flagged["on_track"] and flagged["verdict"] == "niet op koers"
    assert "Wachtlijst 5" in flagged["reason"] and "ligt boven de band" in flagged["reason"]
    provider = judged.loc[("provider", "pleegzorg", "2024-K2")]
    provider = provider[provider["provider"] == "P02"].iloc[0]
    assert not provider["on_track"] and "30 minder" in provider["reason"]


# --------------------------------------------------------------------------- comparison
def test_the_comparison_follows_its_rule(
    tmp_path: Path, scenario: Scenario, plan: pd.DataFrame
) -> None:
    """Every verdict recomputed here from the rule: inside floor(low)..ceil(high) for the
    three measures, and beds within max(1, 5% of the plan).
    """
    path, figures = filled_template(tmp_path, scenario, plan, ["2024-K1", "2024-K2"], seed=8)
    realised = read_realisation(path, scenario)
    band = simulate_band(scenario, plan, quarters_of([2024]), replications=20, seed=5)
    comparison = compare(realised, plan, band.table)
    planned = plan.set_index(["provider", "care_form", "year"])["beds"]

    def beds_ok(beds: int, plan_beds: int) -> bool:
        return abs(beds - plan_beds) <= max(1.0, 0.05 * plan_beds)

    for row in comparison.to_dict(orient="records"):
        year = int(row["quarter"][:4])
        if row["level"] == "provider":
            got = figures.loc[(row["provider"], row["care_form"], row["quarter"])]
            plan_beds = int(planned.get((row["provider"], row["care_form"], year), 0))
            assert row["beds"] == got["beds"] and row["planned_beds"] == plan_beds
            assert row["on_track"] == beds_ok(int(got["beds"]), plan_beds)
            continue
        part = figures.xs((row["care_form"], row["quarter"]), level=("care_form", "quarter"))
        plan_beds = int(planned.xs((row["care_form"], year), level=("care_form", "year")).sum())
        ok = beds_ok(int(part["beds"].sum()), plan_beds)
        limits = band.table.loc[(row["care_form"], row["quarter"])]
        for m in MEASURES:
            value = int(part[m].sum())
            assert row[m] == value
            low, high = math.floor(limits[f"{m}_low"]), math.ceil(limits[f"{m}_high"])
            ok = ok and low <= value <= high
        assert row["on_track"] == ok, row
        assert row["verdict"] == ("op koers" if ok else "niet op koers")
        assert row["reason"].endswith(".") and (
            ok or "band" in row["reason"] or "plan" in row["reason"]
        )


# --------------------------------------------------------------------------- the example
def test_example_quarters_give_a_pdf_that_names_what_is_off_course(tmp_path: Path) -> None:
    """The command line on the example region's synthetic quarters: 2024-K1 on course,
    residentieel off course in 2024-K2; the PDF (A4, several pages) says so.
    """
    from pypdf import PdfReader

    out = tmp_path / "out"
    done = subprocess.run(
        [
            *CLI,
            "realisatie",
            str(TRANSFORMATIE),
            "--plan",
            str(PLAN),
            "--actuals",
            str(EXAMPLE / "realisatie-2024-K1.xlsx"),
            "--actuals",
            str(EXAMPLE / "realisatie-2024-K2.xlsx"),
            "--out",
            str(out),
            "--executor",
            "serial",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "Niet op koers" in done.stdout and "P05" in done.stdout
    comparison = pd.read_csv(out / "comparison.csv")
    forms = comparison[comparison["level"] == "care_form"].set_index(["care_form", "quarter"])
    off = {key for key, on in forms["on_track"].items() if not on}
    assert off == {("residentieel", "2024-K2")}, forms["reason"]
    providers = comparison[comparison["level"] == "provider"]
    assert set(providers.loc[~providers["on_track"], "provider"]) == {"P05"}
    for name in ("fan_residentieel.png", "realisation.xlsx", "band.csv", "realisation.html"):
        assert (out / name).stat().st_size > 0, name
    workbook = openpyxl.load_workbook(out / "realisation.xlsx")
    assert workbook.sheetnames == ["samenvatting", "per vorm en kwartaal", "per aanbieder"]
    red = [
        row[0].value
        for row in workbook["per vorm en kwartaal"].iter_rows(min_row=2)
        if row[0].fill.fgColor.rgb.endswith("FFC7CE")
    ]
    assert red == ["Residentiële jeugdhulp"]
    assert workbook["per vorm en kwartaal"]["I2"].number_format == "0%"

    reader = PdfReader(out / "realisation.pdf")
    assert len(reader.pages) >= 3
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    for expected in (
        "Kwartaalrapportage afbouwplan",
        "Voorbeeldregio",
        "2024-K2",
        "Niet op koers",
        "Residentiële jeugdhulp, 2024-K2: Wachtlijst",
        "P05, Residentiële jeugdhulp, 2024-K2: 38 plaatsen, het plan heeft er 46",
        "Waaiergrafieken",
    ):
        assert expected in flat, expected
