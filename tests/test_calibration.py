"""Calibration from stay records: the reader, Kaplan-Meier by hand, the example round trip, CLI.

Every expected number here is worked out in the test from its definition (the problems a
file was built to have, a product-limit estimate with its risk sets written out, the
parameters the example records were generated from), never taken from an earlier run.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from capaciteit.calibration.estimate import calibrate
from capaciteit.calibration.model import Calibration
from capaciteit.domain.model import RegionModel
from capaciteit.errors import InvalidInputError
from capaciteit.io.model_files import load_model
from capaciteit.io.records import read_records
from tests.conftest import EXAMPLE_MODEL, ROOT

EXAMPLE_RECORDS = ROOT / "models" / "voorbeeldregio-records" / "stays.csv"
HEADER = (
    "client_id",
    "provider",
    "care_form",
    "start_date",
    "end_date",
    "next",
    "age_at_start_years",
    "referral_date",
)
BSN = "111222333"
"""Passes the elfproef: 9+8+7+6*2+5*2+4*2+3*3+2*3-3 = 66 = 6 * 11."""


def _write(path: Path, rows: list[tuple[Any, ...]], header: tuple[str, ...] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _refusal(path: Path, **kwargs: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        read_records(path, **kwargs)
    return caught.value


def _where(exc: InvalidInputError) -> set[tuple[int | None, str | None, str | None]]:
    return {(p.row, p.column, p.id) for p in exc.problems}


# --- the records reader ------------------------------------------------------------------


def test_both_date_formats_read_as_the_same_day(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "stays.csv",
        [
            ("C001", "P1", "a", "2023-01-10", "2023-02-03", "thuis", "5", "2023-01-02"),
            ("C002", "P1", "a", "10-1-2023", "3-2-2023", "thuis", "5", "2-1-2023"),
            ("C003", "P1", "a", "10/01/2023", "03/02/2023", "thuis", "5", "02/01/2023"),
            ("C004", "P1", "a", "2023-06-01", "", "", "7.5", ""),
        ],
    )
    read = read_records(path)
    stays = read.stays
    assert list(stays.index) == [2, 3, 4, 5]  # spreadsheet rows
    for row in (2, 3, 4):
        assert stays.at[row, "start"] == pd.Timestamp(2023, 1, 10)
        assert stays.at[row, "end"] == pd.Timestamp(2023, 2, 3)
        assert stays.at[row, "referral"] == pd.Timestamp(2023, 1, 2)
    assert pd.isna(stays.at[5, "end"]) and stays.at[5, "next"] == ""
    assert pd.isna(stays.at[5, "referral"])
    # the extract date defaults to the latest date in the records
    assert read.extract_date == dt.date(2023, 6, 1)


def test_every_problem_is_listed_at_once_with_row_id_and_fix(tmp_path: Path) -> None:
    rows = [
        ("C001", "P1", "a", "2023-01-10", "2023-02-10", "thuis", "5", "2023-01-01"),  # fine
        ("C002", "P1", "a", "10-1-2023", "10-02-2023", "thuis", "5", "1-1-2023"),  # fine
        ("C003", "P1", "a", "2023-03-01", "2023-02-01", "thuis", "5", ""),  # end < start
        ("C004", "P1", "a", "2023-03-01", "2023-04-01", "thuis", "5", "2023-03-15"),  # referral
        ("C005", "P1", "a", "2023-03-01", "", "thuis", "5", ""),  # ongoing with next
        ("C006", "P1", "a", "2023-03-01", "2023-04-01", "", "5", ""),  # ended, no next
        ("C007", "P1", "a", "2023-03-01", "2023-04-01", "maan", "5", ""),  # unknown next
        ("C008", "P1", "a", "2023-01-01", "2023-06-01", "a", "5", ""),
        ("C008", "P1", "a", "2023-05-01", "2023-07-01", "thuis", "5", ""),  # overlaps row 9
        ("C009", "P1", "a", "2023-03-01", "2024-02-01", "thuis", "5", ""),  # end > extract
        ("C010", "P1", "a", "2024-01-05", "", "", "5", ""),  # start > extract
        ("C011", "P1", "a", "30-2-2023", "", "", "5", ""),  # no such day
    ]
    path = _write(tmp_path / "stays.csv", rows)
    exc = _refusal(path, extract_date=dt.date(2023, 12, 31))
    assert _where(exc) == {
        (4, "end_date", "C003"),
        (5, "referral_date", "C004"),
        (6, "next", "C005"),
        (7, "next", "C006"),
        (8, "next", "C007"),
        (10, "start_date", "C008"),
        (11, "end_date", "C009"),
        (12, "start_date", "C010"),
        (13, "start_date", "C011"),
    }
    assert exc.what == "Het bestand met verblijfsgegevens"
    assert "9 problemen" in str(exc)
    for problem in exc.problems:
        assert problem.file == "stays.csv"
        assert problem.fix and problem.message
    by_row = {p.row: p for p in exc.problems}
    assert "eindigt voor het begint" in by_row[4].message
    assert "verwijzing is na het begin" in by_row[5].message
    assert "loopt nog" in by_row[6].message
    assert "niet waar de jongere heen ging" in by_row[7].message
    assert "geen zorgvorm en geen bekende bestemming" in by_row[8].message
    assert "thuis" in by_row[8].fix  # the destinations to use
    assert "rij 9" in by_row[10].message  # the stay it overlaps
    assert "na de extractiedatum (31 december 2023)" in by_row[11].message
    assert "na de extractiedatum" in by_row[12].message
    assert "datum is niet te lezen" in by_row[13].message
    # problems are listed in the order of the rows
    assert [p.row for p in exc.problems] == sorted(p.row or 0 for p in exc.problems)


def test_a_stay_overlapping_an_earlier_one_that_is_not_the_previous_is_listed(
    tmp_path: Path,
) -> None:
    # one long stay (row 2) with two short ones inside it: both are at the same time as
    # row 2, though the third is not at the same time as the second
    path = _write(
        tmp_path / "stays.csv",
        [
            ("C001", "P1", "a", "2023-01-01", "2023-12-01", "thuis", "5", ""),
            ("C001", "P1", "a", "2023-02-01", "2023-03-01", "thuis", "5", ""),
            ("C001", "P1", "a", "2023-04-01", "2023-05-01", "thuis", "5", ""),
            ("C002", "P1", "a", "2023-01-01", "", "", "5", ""),
            ("C002", "P1", "a", "2023-02-01", "2023-03-01", "a", "5", ""),
            ("C002", "P1", "a", "2023-03-01", "2023-04-01", "thuis", "5", ""),
            # same-day doorstroom is not an overlap
            ("C003", "P1", "a", "2023-01-01", "2023-02-01", "a", "5", ""),
            ("C003", "P1", "a", "2023-02-01", "", "", "5", ""),
        ],
    )
    exc = _refusal(path, extract_date=dt.date(2023, 12, 31))
    assert _where(exc) == {
        (3, "start_date", "C001"),
        (4, "start_date", "C001"),
        (6, "start_date", "C002"),
        (7, "start_date", "C002"),
    }
    by_row = {p.row: p for p in exc.problems}
    assert "rij 2" in by_row[3].message and "rij 2" in by_row[4].message
    assert "rij 5" in by_row[6].message and "rij 5" in by_row[7].message


def test_personal_data_columns_refuse_the_file_before_its_rows(tmp_path: Path) -> None:
    header = (*HEADER, "naam", "bsn", "geboortedatum")
    # rows full of other problems: none of them may be listed, nor any value shown
    rows = [
        ("C001", "P1", "a", "2023-03-01", "2023-02-01", "", "5", "", "Jan Jansen", BSN, "2010"),
        ("C002", "P1", "a", "geen", "", "thuis", "x", "", "Piet Pietersen", BSN, "2011-05-06"),
    ]
    path = _write(tmp_path / "stays.csv", rows, header)
    exc = _refusal(path)
    assert _where(exc) == {(1, c, None) for c in ("naam", "bsn", "geboortedatum")}
    text = str(exc)
    for value in ("Jan Jansen", "Piet", BSN, "2010", "2011"):
        assert value not in text
    assert all("persoonsgegevens" in p.message for p in exc.problems)
    assert all("pseudonieme client_id" in p.fix for p in exc.problems)


def test_a_bsn_as_client_id_is_refused_and_never_repeated(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "stays.csv",
        [
            ("C001", "P1", "a", "2023-01-01", "2023-02-01", "thuis", "5", ""),
            # a BSN whose row has more problems, each of which would name the id
            (BSN, "P1", "a", "2023-03-01", "2023-02-01", "maan", "5", "2023-04-01"),
            (BSN, "P1", "a", "2023-01-15", "", "", "5", ""),
            ("Jan_Jansen", "P1", "a", "2023-01-01", "", "", "5", ""),
        ],
    )
    exc = _refusal(path, extract_date=dt.date(2023, 12, 31))
    text = str(exc)
    assert BSN not in text and "Jan_Jansen" not in text
    for problem in exc.problems:
        for field in (problem.message, problem.fix, problem.id or "", problem.column or ""):
            assert BSN not in field and "Jansen" not in field
    pseudonym = [p for p in exc.problems if p.column == "client_id"]
    assert {p.row for p in pseudonym} == {3, 4, 5}
    assert any("een BSN" in p.message for p in pseudonym)
    assert any("een naam of datum" in p.message for p in pseudonym)
    assert all("pseudoniem" in p.fix for p in pseudonym)
    # the row's own problems are still listed, under a hidden id (row 3 also starts while
    # the stay of row 4, begun earlier and still going on, lasts)
    own = [p for p in exc.problems if p.column != "client_id"]
    assert {(p.row, p.column) for p in own} == {
        (3, "end_date"),
        (3, "next"),
        (3, "referral_date"),
        (3, "start_date"),
    }
    assert all(p.id == "(niet herhaald)" for p in own)


def test_sloppy_exports_are_refused_with_what_is_wrong(tmp_path: Path) -> None:
    """Found by a new user's audit: a care form in other capitals became a second form, a
    date in the future moved the extract date to 2031, ages that cannot both be true were
    taken, and a client id holding a name was repeated in its own problem.
    """
    future = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    path = _write(
        tmp_path / "sloppy.csv",
        [
            ("C1", "P1", "pleegzorg", "2023-01-05", "2023-06-01", "thuis", "8", ""),
            ("C2", "P1", "pleegzorg", "2023-02-05", "", "", "9", ""),
            ("C3", "P1", "Pleegzorg", "2023-03-05", "", "", "10", ""),  # row 4: capitals
            ("C4", "P1", "crisis", "2023-03-05", future, "thuis", "10", ""),  # row 5: future
            ("C5", "P1", "crisis", "2023-01-01", "2023-01-10", "pleegzorg", "15", ""),
            ("C5", "P1", "pleegzorg", "2023-01-10", "", "", "12", ""),  # row 7: 3 years younger
            ("Jan de Vries", "P1", "crisis", "2023-01-01", "", "", "10", ""),  # row 8
        ],
    )
    exc = _refusal(path)
    by_row = {(p.row, p.column): p for p in exc.problems}
    assert "alleen in hoofdletters" in by_row[(4, "care_form")].message
    assert "'pleegzorg'" in by_row[(4, "care_form")].fix
    assert "toekomst" in by_row[(5, "end_date")].message
    assert "past niet bij het vorige verblijf" in by_row[(7, "age_at_start_years")].message
    assert (8, "client_id") in by_row
    assert "Vries" not in str(exc) and "Jan" not in str(exc)
    # with a base model: the misspelt form is named with the model's spelling
    exc = _refusal(path, care_forms={"pleegzorg", "crisis"})
    assert any(
        p.row == 4 and "'pleegzorg'" in p.fix and "hoofdletters" in p.message for p in exc.problems
    )


def test_an_xlsx_of_the_records_reads_as_the_csv(tmp_path: Path) -> None:
    csv_path = tmp_path / "stays.csv"
    frame = pd.read_csv(EXAMPLE_RECORDS, dtype=str, keep_default_na=False).head(400)
    frame.to_csv(csv_path, index=False)
    # as Excel keeps it: dates as date cells, ages as numbers, empty cells empty
    excel = frame.copy()
    for column in ("start_date", "end_date", "referral_date"):
        excel[column] = pd.to_datetime(excel[column].replace("", None))
    excel["age_at_start_years"] = excel["age_at_start_years"].astype(float)
    excel["next"] = excel["next"].replace("", None)
    xlsx_path = tmp_path / "stays.xlsx"
    excel.to_excel(xlsx_path, index=False, engine="openpyxl")
    forms = {"pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus", "crisis"}
    from_csv = read_records(csv_path, care_forms=forms)
    from_xlsx = read_records(xlsx_path, care_forms=forms)
    pd.testing.assert_frame_equal(from_xlsx.stays, from_csv.stays)
    assert from_xlsx.extract_date == from_csv.extract_date
    assert from_xlsx.file == "stays.xlsx"


# --- Kaplan-Meier -------------------------------------------------------------------------

WINDOW_START, EXTRACT = dt.date(2023, 1, 1), dt.date(2023, 12, 31)
HAND_STAYS = (
    # start, end, next, age at start: the length in days and what it is
    ("2023-02-01", "2023-02-11", "thuis", 5.0),  # 10, ended
    ("2023-03-01", "2023-03-21", "thuis", 5.0),  # 20, ended
    ("2023-12-01", "", "", 5.0),  # 30 up to the extract date, still going on: censored
    ("2022-12-17", "2023-01-26", "thuis", 5.0),  # 40, begun 15 days before the window
    ("2023-05-01", "2023-06-20", "thuis", 5.0),  # 50, ended
    ("2023-07-01", "2023-07-06", "thuis", 5.0),  # 5, ended
    ("2023-08-01", "2023-08-19", "zelfstandig", 17.96),  # 18, ended by the age limit 18
)
COPIES = 6
"""Each stay six times (other clients): a product-limit curve does not change, and the form
has the 30 stays and 10 ended ones a length-of-stay fit needs."""


def _hand_survival(days: float) -> float:
    """S(t) of HAND_STAYS by the product-limit rule, the risk sets written out.

    At risk at t: a stay that entered (its start, or the window start for the one begun 15
    days before it) by t and has not ended before t. The age-out at 18 days is censored
    (the stay would have gone on), and so is the stay still going on at 30.

    ====  ==============================  =======  ======  ===================
    t     at risk                         ended    factor  S(t)
    ====  ==============================  =======  ======  ===================
    5     10, 20, 30+, 50, 5, 18+ (not    5        5/6     5/6
          40: it enters at 15)
    10    10, 20, 30+, 50, 18+            10       4/5     4/6
    20    20, 30+, 40, 50                 20       3/4     3/6
    40    40, 50                          40       1/2     1.5/6
    50    50                              50       0/1     0
    ====  ==============================  =======  ======  ===================
    """
    steps = {5: 5 / 6, 10: 4 / 5, 20: 3 / 4, 40: 1 / 2, 50: 0.0}
    return math.prod(factor for t, factor in steps.items() if t <= days)


def test_kaplan_meier_of_a_hand_example(tmp_path: Path) -> None:
    rows = [
        (f"C{copy}{k}", "P1", "a", start, end, nxt, age, "")
        for copy in range(COPIES)
        for k, (start, end, nxt, age) in enumerate(HAND_STAYS)
    ]
    records = read_records(_write(tmp_path / "stays.csv", rows), extract_date=EXTRACT)
    cal = calibrate(records, window_start=WINDOW_START)
    curve = cal.survival[cal.survival["care_form"] == "a"]
    assert {5.0, 10.0, 20.0, 40.0, 50.0} <= set(curve["days"])
    for days, survival in zip(curve["days"], curve["survival"], strict=True):
        assert survival == pytest.approx(_hand_survival(days), abs=1e-12), days
    assert (
        (curve["low"] <= curve["survival"] + 1e-12) & (curve["survival"] <= curve["high"])
    ).all()
    # the age-out is not an ended stay for routing either: 5 of 6 ended stays went home
    routing = cal.routing_counts.set_index("to")
    assert routing.loc["thuis", "count"] == 5 * COPIES and "zelfstandig" not in routing.index
    fits = cal.los_fits[cal.los_fits["care_form"] == "a"]
    assert set(fits["n"]) == {7 * COPIES} and set(fits["events"]) == {5 * COPIES}


def product_limit(durations: list[float], ended: list[bool], entries: list[float]) -> dict:
    """Kaplan-Meier, plainly: at each end time, S *= 1 - ended / at risk (entered, not left)."""
    survival, curve = 1.0, {0.0: 1.0}
    for t in sorted({d for d, e in zip(durations, ended, strict=True) if e}):
        at_risk = sum(1 for d, a in zip(durations, entries, strict=True) if a <= t <= d)
        deaths = sum(1 for d, e in zip(durations, ended, strict=True) if e and d == t)
        survival *= 1 - deaths / at_risk
        curve[t] = survival
    return curve


def _at(curve: dict, days: float) -> float:
    return curve[max(t for t in curve if t <= days)]


def test_kaplan_meier_of_generated_records_is_the_product_limit(tmp_path: Path) -> None:
    from tests.test_calibration_recovery import region_model, region_records

    model = region_model(tmp_path / "model")
    records = region_records(model, tmp_path / "stays.csv", seed=7)
    cal = calibrate(records, window_start=dt.date(2022, 1, 1))
    stays = records.stays
    window, extract = pd.Timestamp(2022, 1, 1), pd.Timestamp(records.extract_date)
    for form in ("a", "b"):
        mine = stays[stays["care_form"] == form]
        # the length in days: to the end, or to the extract date while going on; a stay
        # that began and ended on one day took half a day; nobody here reaches age 18
        stop = mine["end"].fillna(extract)
        days = [max(float((b - a).days), 0.5) for a, b in zip(mine["start"], stop, strict=True)]
        entry = [max(float((window - a).days), 0.0) for a in mine["start"]]
        ended = mine["end"].notna().tolist()
        truth = product_limit(days, ended, entry)
        curve = cal.survival[cal.survival["care_form"] == form]
        assert len(curve) >= 100
        for t, s in zip(curve["days"], curve["survival"], strict=True):
            assert s == pytest.approx(_at(truth, t), abs=1e-9), (form, t)


# --- review: what counts as an entry from home ------------------------------------------


def test_age_bands_are_of_entries_from_home_not_of_doorstroom_before_the_window(
    tmp_path: Path,
) -> None:
    from tests.test_calibration_recovery import AGES, region_model, region_records

    model = region_model(tmp_path / "model")
    records = region_records(model, tmp_path / "stays.csv", seed=3)
    window = pd.Timestamp(2022, 1, 1)
    stays = records.stays
    # from home, b takes 10- to 14-year-olds; younger ones in b came from a. Some of them
    # moved before the window: their stay in a is not in the extract, so their stay in b is
    # the first of theirs in it, and only its start before the window says it is no entry
    first = ~stays["client_id"].duplicated()
    moved_before = first & (stays["care_form"] == "b") & (stays["start"] < window)
    assert (stays.loc[moved_before, "age_at_start_years"] < AGES["b"][0]).sum() >= 5
    cal = calibrate(records, window_start=window.date())
    bands = cal.tables["age"]
    b = bands[bands["care_form"] == "b"]
    # the age bands (0-4-8-12-14-...) that hold 10 to 14 are 8-12 and 12-14, half each
    assert set(zip(b["age_min_years"], b["age_max_years"], strict=True)) == {(8, 12), (12, 14)}
    shares = cal.estimates[
        (cal.estimates["quantity"] == "age_share") & (cal.estimates["care_form"] == "b")
    ].set_index("key")
    for key in ("8-12", "12-14"):
        assert shares.at[key, "low"] <= 0.5 <= shares.at[key, "high"], key
    # the entries the bands rest on are the instroom's: the entries from home in the window
    pooled = cal.estimate("instroom", "b", "alle jaren")
    assert int(shares["n"].sum()) == int(pooled["n"])


@pytest.mark.filterwarnings("ignore::lifelines.exceptions.StatisticalWarning")
def test_a_form_being_closed_down_is_calibrated_without_a_kaplan_meier_curve(
    tmp_path: Path,
) -> None:
    from capaciteit.calibration.report import write_report

    window = dt.date(2019, 1, 1)
    rows = []
    for k in range(40):
        # 'oud' takes nobody new: its 40 young people began years before the window, each
        # a month after the other, and leave in its first weeks. Followed from their entry
        # into the window, no two are ever in view at once, so a product-limit curve falls
        # to 0 at the first ending and knows nothing after it
        start = window - dt.timedelta(days=400 + 30 * k)
        end = window + dt.timedelta(days=10 + k % 5)
        rows.append((f"O{k:03d}", "P1", "oud", start, end, "thuis", "10", ""))
        start = window + dt.timedelta(days=5 * k)
        rows.append(
            (f"N{k:03d}", "P1", "nieuw", start, start + dt.timedelta(days=30), "thuis", "10", "")
        )
    records = read_records(_write(tmp_path / "stays.csv", rows), extract_date=dt.date(2019, 12, 31))
    cal = calibrate(records, window_start=window)
    assert set(cal.survival["care_form"]) == {"nieuw"}
    assert any(note.startswith("oud: geen Kaplan-Meiercurve") for note in cal.notes), cal.notes
    # the fits are there, and with them the model and its report
    assert set(cal.tables["los"]["care_form"]) == {"nieuw", "oud"}
    assert len(write_report(cal, tmp_path / "rapport")) == 4


def test_a_backtest_cut_at_the_start_of_the_records_is_refused(tmp_path: Path) -> None:
    from capaciteit.calibration.backtest import backtest

    # the example extract holds every stay going on at 1 January 2019 or later: cut there,
    # nothing was seen before the cut (the stays begun earlier are only the survivors), so
    # there is nothing to calibrate on, and no window of 2007-2018 to pretend there is
    records = read_records(EXAMPLE_RECORDS)
    with pytest.raises(InvalidInputError) as caught:
        backtest(records, dt.date(2019, 1, 1), tmp_path, quarters=4, replications=20)
    (problem,) = caught.value.problems
    assert problem.file == "--knip"
    assert "1 januari 2019" in problem.message and "2020-01-01" in problem.fix
    done = _cli(
        "backtest", str(EXAMPLE_RECORDS), "--knip", "2019-01-01", "--out", str(tmp_path / "o")
    )
    _refused(done, "--knip", "1 januari 2019")


def test_calibrating_into_the_folder_of_the_records_keeps_the_records(tmp_path: Path) -> None:
    from capaciteit.pipelines.calibrate import calibrate_records
    from tests.test_calibration_recovery import region_model, region_records

    # a planner's folder: the records, a 0-meting, and a stale table of an earlier model
    folder = tmp_path / "regio"
    model = region_model(folder)
    region_records(model, folder / "verblijven.csv", seed=4)
    (folder / "0-meting.csv").write_text("provider,care_form,beds\nP1,a,100\nP1,b,100\n")
    (folder / "los_observed.csv").write_text("care_form,los_days\na,10\n", encoding="utf-8")
    records = (folder / "verblijven.csv").read_bytes()
    done = calibrate_records(
        folder / "verblijven.csv",
        folder,
        beds_file=folder / "0-meting.csv",
        extract_date=dt.date(2023, 12, 31),
    )
    # the user's files are theirs; the tables of the model the folder held are replaced
    assert (folder / "verblijven.csv").read_bytes() == records
    assert (folder / "0-meting.csv").is_file()
    assert not (folder / "los_observed.csv").exists()
    assert load_model(folder).care_form_ids == done.model.care_form_ids


# --- round trip: the example records give back the example model ------------------------


@pytest.fixture(scope="module")
def example() -> tuple[RegionModel, Calibration]:
    base = load_model(EXAMPLE_MODEL)
    records = read_records(EXAMPLE_RECORDS, care_forms=set(base.care_form_ids))
    return base, calibrate(records, base=base)


def _covers(row: pd.Series, truth: float) -> bool:
    return bool(row["low"] <= truth <= row["high"])


def test_round_trip_instroom_and_seasonality(example: tuple[RegionModel, Calibration]) -> None:
    base, cal = example
    # the records (models/voorbeeldregio-records/README.md) cover 2019 up to 2024
    assert cal.window_start == dt.date(2019, 1, 1)
    assert cal.extract_date == dt.date(2024, 12, 31)
    truth = base.instroom["arrivals_per_year"].droplevel("year")
    misses = [
        f
        for f in base.care_form_ids
        if not _covers(cal.estimate("instroom", f, "alle jaren"), truth[f])
    ]
    assert len(misses) <= 1, misses  # 5 intervals of 95%
    # crisis has monthly factors, and the months differ beyond chance in six years of them
    factors = base.seasonality["factor"].xs("crisis", level="care_form")
    written = cal.tables["seasonality"]
    assert set(written["care_form"]) == {"crisis"}
    assert sum(written["factor"]) == pytest.approx(12, abs=1e-3)
    misses = [
        m
        for m in range(1, 13)
        if not _covers(cal.estimate("seasonality", "crisis", str(m)), factors[m])
    ]
    assert len(misses) <= 2, misses  # 12 intervals of 95%


def test_round_trip_routing(example: tuple[RegionModel, Calibration]) -> None:
    base, cal = example
    forms = base.care_forms
    table = base.routing["share"]
    estimated = cal.estimates[cal.estimates["quantity"] == "routing"]
    # every way out of the records is one of the model's
    assert set(zip(estimated["care_form"], estimated["key"], strict=True)) <= set(table.index)
    misses = []
    for (source, to), share in table.items():
        rows = estimated[(estimated["care_form"] == source) & (estimated["key"] == to)]
        row = rows.iloc[0]
        assert row["n"] >= 1 and not row["note"]  # enough ended stays (20 or more)
        # The model's age rules bend the routing: a young person older than a next form's
        # age limit goes where the current form ages out to. From pleegzorg and gezinshuis
        # (to 21) fewer go on to the forms that end at 18, more to zelfstandig.
        older = source in ("pleegzorg", "gezinshuis")
        limit_below = (
            to in forms.index and forms.at[to, "max_age_years"] < forms.at[source, "max_age_years"]
        )
        if older and limit_below:
            assert row["low"] <= share, (source, to)  # the share is at most the table's
        elif older and to == forms.at[source, "age_out_to"]:
            assert share <= row["high"], (source, to)  # and at least
        elif not _covers(row, share):
            misses.append((source, to))
    # 21 two-sided 95% intervals: about one miss by chance (here two: residentieel to
    # ambulant, 87 of 988 for 7%, and to wlz, 60 for 8%; each 2.2 standard errors off)
    assert len(misses) <= 3, misses


def test_round_trip_mean_stays(example: tuple[RegionModel, Calibration]) -> None:
    base, cal = example
    truth = {f: float(base.los.at[f, "mean_days"]) for f in base.care_form_ids if f != "crisis"}
    # crisis stays are drawn from the observed ones
    observed = base.los_observed
    truth["crisis"] = float(observed.loc[observed["care_form"] == "crisis", "los_days"].mean())
    misses = [f for f, mean in truth.items() if not _covers(cal.estimate("los_mean", f), mean)]
    assert len(misses) <= 1, misses
    for form, mean in truth.items():
        # and within a fifth: hundreds of stays, of which many still going on
        assert cal.estimate("los_mean", form)["estimate"] == pytest.approx(mean, rel=0.2)


# --- the command line -----------------------------------------------------------------------


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from capaciteit import cli

    # wide enough that no message is wrapped inside its table cell (the consoles are made
    # when the module is imported, so COLUMNS in the runner's environment comes too late)
    widths = cli.console._width, cli.err_console._width  # None: as wide as the terminal
    cli.console.width = cli.err_console.width = 300
    try:
        return CliRunner().invoke(cli.app, list(args))
    finally:
        cli.console._width, cli.err_console._width = widths


def _no_nan(text: str) -> None:
    assert not re.search(r"\bnan\b", text, re.IGNORECASE), text


def test_cli_calibrate_writes_a_model_that_loads_and_validates(tmp_path: Path) -> None:
    out = tmp_path / "gekalibreerd"
    done = _cli("calibrate", str(EXAMPLE_RECORDS), "--out", str(out), "--basis", str(EXAMPLE_MODEL))
    assert done.exit_code == 0, done.output
    text = done.stdout
    assert "3.340 verblijven van 1 januari 2019 tot 31 december 2024" in text
    assert "Geschat per zorgvorm" in text and "Het regiomodel staat in" in text
    assert "Pleegzorg" in text and "lognormaal (laagste AIC)" in text
    _no_nan(text)
    for path in (
        out / "estimates.csv",
        out / "kalibratie" / "kalibratie.xlsx",
        out / "kalibratie" / "verblijfsduur.png",
        out / "kalibratie" / "calibration.json",
    ):
        assert path.is_file(), path
        assert str(path.name) in text.replace("\n", ""), path.name
    model = load_model(out)
    assert model.care_form_ids == load_model(EXAMPLE_MODEL).care_form_ids
    summary = json.loads((out / "kalibratie" / "calibration.json").read_text(encoding="utf-8"))
    assert summary["records"]["stays"] == 3340
    checked = _cli("validate", str(out))
    assert checked.exit_code == 0, checked.output
    assert "is geldig" in checked.stdout


def test_cli_backtest_writes_the_comparison(tmp_path: Path) -> None:
    out = tmp_path / "backtest"
    done = _cli(
        "backtest",
        str(EXAMPLE_RECORDS),
        "--knip",
        "2023-01-01",
        "--out",
        str(out),
        "--basis",
        str(EXAMPLE_MODEL),
        "--kwartalen",
        "4",
        "--replicaties",
        "20",
        "--executor",
        "serial",
        "--quiet",
    )
    assert done.exit_code == 0, done.output
    text = done.stdout
    assert "Binnen de 95%-band per zorgvorm" in text and "Pleegzorg" in text
    # five forms, four quarters of 2023 (all before the extract date), occupied and
    # admissions (40), and the waiting list of the two forms with referral dates (8)
    assert re.search(r"\d+ van de 48 gerealiseerde waarden \(\d+%\) liggen binnen", text)
    _no_nan(text)
    for name in ("backtest.csv", "dekking.csv", "backtest.xlsx", "backtest.json"):
        assert (out / name).is_file(), name
        assert name in text.replace("\n", ""), name
    table = pd.read_csv(out / "backtest.csv")
    # five forms, four quarters of 2023, occupied and admissions (and waiting for the forms
    # with referral dates: the records have them for pleegzorg and gezinshuis)
    assert set(table["quarter"]) == {"2023-K1", "2023-K2", "2023-K3", "2023-K4"}
    assert len(table) == 5 * 4 * 3
    assert load_model(out / "model").care_form_ids == load_model(EXAMPLE_MODEL).care_form_ids


def _refused(done: Any, *texts: str) -> None:
    assert done.exit_code == 2, done.output
    assert ("Traceback" not in done.output and done.exception is None) or isinstance(
        done.exception, SystemExit
    )
    for text in texts:
        assert text in done.stderr, (text, done.stderr)


def test_cli_mistakes_exit_2_with_the_problems_in_dutch(tmp_path: Path) -> None:
    missing = tmp_path / "geen.csv"
    _refused(_cli("calibrate", str(missing), "--out", str(tmp_path / "a")), "bestaat niet")
    _refused(
        _cli("backtest", str(missing), "--knip", "2023-01-01", "--out", str(tmp_path / "b")),
        "bestaat niet",
    )
    _refused(
        _cli(
            "backtest", str(EXAMPLE_RECORDS), "--knip", "2023-03-01", "--out", str(tmp_path / "c")
        ),
        "--knip",
        "geen 1 januari",
    )
    _refused(
        _cli(
            "backtest", str(EXAMPLE_RECORDS), "--knip", "2030-01-01", "--out", str(tmp_path / "d")
        ),
        "--knip",
        "binnen de verblijven",
    )
    _refused(
        _cli(
            "calibrate",
            str(EXAMPLE_RECORDS),
            "--out",
            str(tmp_path / "e"),
            "--peildatum",
            "2030-01-01",
        ),
        "--peildatum",
        "buiten het venster",
    )
    bad = _write(
        tmp_path / "stays.csv",
        [
            ("C001", "P1", "a", "2023-03-01", "2023-02-01", "thuis", "5", ""),
            ("C002", "P1", "a", "2023-03-01", "", "thuis", "5", ""),
        ],
    )
    done = _cli("calibrate", str(bad), "--out", str(tmp_path / "f"))
    _refused(
        done,
        "Het bestand met verblijfsgegevens is ongeldig",
        "2 problemen",
        "eindigt voor het",
        "loopt",
    )
    assert "C001" in done.stderr and "C002" in done.stderr


def test_the_json_summaries_say_null_not_nan(tmp_path: Path) -> None:
    from capaciteit.pipelines.calibrate import backtest_records, calibrate_records
    from capaciteit.simulation.executors import SerialExecutor
    from tests.test_calibration_recovery import region_model, region_records

    model = region_model(tmp_path / "model")
    records = region_records(
        model,
        tmp_path / "stays.csv",
        seed=1,
        window_start=dt.date(2021, 1, 1),
        extract_date=dt.date(2023, 12, 31),
    )
    path = tmp_path / "stays.csv"
    assert len(records.stays) > 0

    def strict(file: Path) -> Any:
        return json.loads(
            file.read_text(encoding="utf-8"),
            parse_constant=lambda c: pytest.fail(f"{c} in {file.name}"),
        )

    done = calibrate_records(path, tmp_path / "gekalibreerd", extract_date=dt.date(2023, 12, 31))
    # the cv of an exponential fit has no interval: null, as the docstring says
    summary = strict(done.files["summary"])
    cv = [e for e in summary["estimates"] if e["quantity"] == "los_cv"]
    assert cv and all(e["low"] is None for e in cv)
    run = backtest_records(
        path,
        dt.date(2023, 1, 1),
        tmp_path / "backtest",
        quarters=4,
        replications=20,
        extract_date=dt.date(2023, 12, 31),
        executor=SerialExecutor(),
    )
    strict(run.files["summary"])


def test_one_seed_one_answer(tmp_path: Path) -> None:
    from capaciteit.calibration.backtest import backtest
    from tests.test_calibration_recovery import region_model, region_records

    model = region_model(tmp_path / "model")
    records = region_records(
        model,
        tmp_path / "stays.csv",
        seed=2,
        window_start=dt.date(2021, 1, 1),
        extract_date=dt.date(2023, 12, 31),
    )
    first, again = (calibrate(records, seed=5) for _ in range(2))
    pd.testing.assert_frame_equal(first.estimates, again.estimates)
    pd.testing.assert_frame_equal(first.survival, again.survival)
    for name, table in first.tables.items():
        pd.testing.assert_frame_equal(table, again.tables[name], obj=name)
    other = calibrate(records, seed=6)  # the seed is only in the intervals of mean stays
    pd.testing.assert_frame_equal(first.tables["los"], other.tables["los"])
    assert not first.estimates["high"].equals(other.estimates["high"])

    def run(seed: int, folder: str) -> pd.DataFrame:
        result = backtest(
            records, dt.date(2023, 1, 1), tmp_path / folder, quarters=4, replications=20, seed=seed
        )
        return result.table

    table = run(3, "a")
    pd.testing.assert_frame_equal(table, run(3, "b"))
    assert not table["predicted"].equals(run(4, "c")["predicted"])


def test_a_zero_meting_that_misses_pairs_or_differs_is_said(tmp_path: Path) -> None:
    """Found by the audit: pairs missing from --bedden got beds = occupied (100% full)
    without a word, rows of forms without stays vanished, the 0-meting's own occupied
    was replaced silently.
    """
    records = read_records(EXAMPLE_RECORDS)
    beds = pd.DataFrame(
        [
            {"provider": "P01", "care_form": "pleegzorg", "beds": 400, "occupied": 1},
            {"provider": "P01", "care_form": "kamertraining", "beds": 5, "occupied": 0},
        ]
    )
    calibration = calibrate(records, beds=beds, zero_date=dt.date(2023, 12, 31))
    notes = " ".join(calibration.notes)
    assert "kamertraining bij P01 genegeerd" in notes
    assert "pleegzorg bij P02 ontbreekt" in notes and "residentieel bij P05 ontbreekt" in notes
    assert "de 0-meting noemt 1 bezet" in notes
    table = calibration.tables["beds"].set_index(["provider", "care_form"])
    assert table.at[("P01", "pleegzorg"), "beds"] == 400
    # a missing pair gets the highest occupancy of the year before, not its occupants
    stays = records.stays[
        (records.stays["provider"] == "P02") & (records.stays["care_form"] == "pleegzorg")
    ]
    end = stays["end"].fillna(pd.Timestamp("2099-01-01"))
    days = pd.date_range("2023-01-01", "2023-12-31")
    peak = max(int(((stays["start"] <= d) & (end > d)).sum()) for d in days)
    assert table.at[("P02", "pleegzorg"), "beds"] == peak


def test_an_interval_does_not_depend_on_the_other_forms(tmp_path: Path) -> None:
    """Found by the audit: one random stream over all forms gave pleegzorg another
    interval with a base model (other forms before it) than without.
    """
    records = read_records(EXAMPLE_RECORDS)
    alone = calibrate(records).estimate("los_mean", "pleegzorg")
    based = calibrate(records, base=load_model(EXAMPLE_MODEL)).estimate("los_mean", "pleegzorg")
    assert (alone["low"], alone["high"]) == (based["low"], based["high"])


def test_few_entries_are_pooled_not_tested_per_year(tmp_path: Path) -> None:
    """Found by the audit: 3 stays of a form in one year made the chi-square test call the
    years different, and later years got instroom 0.
    """
    rows = [
        (
            f"C{i}",
            "P1",
            "crisis",
            f"2021-{1 + i % 12:02d}-05",
            f"2021-{1 + i % 12:02d}-20",
            "thuis",
            "10",
            "",
        )
        for i in range(60)
    ]
    rows += [
        (f"D{i}", "P1", "nieuw", "2023-03-05", "2023-04-01", "thuis", "10", "") for i in range(3)
    ]
    path = _write(tmp_path / "few.csv", rows)
    calibration = calibrate(
        read_records(path, extract_date=dt.date(2023, 12, 31)), window_start=dt.date(2021, 1, 1)
    )
    instroom = calibration.tables["instroom"]
    mine = instroom[instroom["care_form"] == "nieuw"]
    assert len(mine) == 1 and float(mine["arrivals_per_year"].iloc[0]) == pytest.approx(
        1.0, abs=0.01
    )


def test_quarters_not_yet_seen_are_unknown_not_missed(tmp_path: Path) -> None:
    """Found by the audit: quarters after the extract and waiting lists of forms without
    referral dates were written as misses (or as 0 realised).
    """
    out = tmp_path / "bt"
    done = _cli(
        "backtest",
        str(EXAMPLE_RECORDS),
        "--knip",
        "2024-01-01",
        "--out",
        str(out),
        "--basis",
        str(EXAMPLE_MODEL),
        "--replicaties",
        "20",
        "--executor",
        "serial",
        "--quiet",
    )
    assert done.exit_code == 0, done.output
    cells = json.loads((out / "backtest.json").read_text(encoding="utf-8"))["cells"]
    later = [c for c in cells if c["quarter"].startswith("2025")]
    assert later and all(c["realised"] is None and c["inside"] is None for c in later)
    no_referrals = [c for c in cells if c["care_form"] == "crisis" and c["measure"] == "waiting"]
    assert all(c["realised"] is None and c["inside"] is None for c in no_referrals)
    table = pd.read_csv(out / "backtest.csv")
    assert table.loc[table["realised"].isna(), "inside"].isna().all()


def test_a_column_wrong_on_every_row_is_said_once_with_the_rest_counted(tmp_path: Path) -> None:
    """Found by the audit: an export with a bad column gave 1.670 problems (8.354 lines)."""
    rows = [
        (f"C{i}", "P1", "crisis", "2023-01-05", "2023-01-20", "thuis", "tien", "")
        for i in range(100)
    ]
    exc = _refusal(_write(tmp_path / "flood.csv", rows))
    ages = [p for p in exc.problems if p.column == "age_at_start_years"]
    assert len(ages) == 21, len(ages)
    assert "en nog 80 rijen (rijen 22 tot 101) met hetzelfde probleem" in ages[-1].message


def test_a_workbook_whose_first_sheet_is_not_the_records_says_so(tmp_path: Path) -> None:
    """Found by the audit: only the first sheet is read, and the problems did not say so."""
    from openpyxl import Workbook

    wb = Workbook()
    info = wb.active
    assert info is not None
    info.title = "Info"
    info.append(["Extract van 2024"])
    data = wb.create_sheet("Verblijven")
    data.append(list(HEADER))
    data.append(["C1", "P1", "crisis", "2023-01-05", "2023-01-20", "thuis", 10, ""])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    exc = _refusal(path)
    assert any("alleen het eerste werkblad ('Info')" in p.message for p in exc.problems)
    assert any("'Verblijven'" in p.message for p in exc.problems)
