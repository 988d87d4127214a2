"""The calibration report: every number in the workbook recounted from the input frames.

The calibration is built by hand (two care forms, a Kaplan-Meier curve of a known
exponential, estimates with and without an interval, a note that starts like a formula),
so every expectation here comes from those frames, not from an earlier run of the report.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image

from capaciteit.calibration.model import ESTIMATE_COLUMNS, QUANTITIES, Calibration
from capaciteit.calibration.report import write_report
from capaciteit.core import nl

NAMES = {"pleegzorg": "Pleegzorg", "crisis": "Crisisopvang"}
MEANS_DAYS = {"pleegzorg": 300.0, "crisis": 40.0}
FORMULA_NOTE = "=SOM(A1:A9) kon niet worden geschat"
NOTES = ["Wachtbeleid overgenomen uit het basismodel.", FORMULA_NOTE]
SHEETS = ["Toelichting", "Schattingen", "Verblijfsduur", "Instroom per kwartaal", "Doorstroom"]
HEADERS = {
    "Toelichting": ["Onderwerp", "Toelichting"],
    "Schattingen": [
        "Grootheid",
        "Zorgvorm",
        "Sleutel",
        "Schatting",
        "95%-interval laag",
        "95%-interval hoog",
        "Aantal (n)",
        "Opmerking",
    ],
    "Verblijfsduur": [
        "Zorgvorm",
        "Verdeling",
        "AIC",
        "Gemiddelde (dagen)",
        "Variatiecoëfficiënt",
        "Gekozen",
        "Verblijven",
        "Afgesloten",
    ],
    "Instroom per kwartaal": [
        "Zorgvorm",
        "Kwartaal",
        "Instroom (kinderen)",
        "Waargenomen (jaar)",
        "Deel van het kwartaal waargenomen",
        "Instroom per jaar",
    ],
    "Doorstroom": ["Van", "Naar", "Aantal", "Aandeel", "95%-interval laag", "95%-interval hoog"],
}
QUARTER_DAYS = {"2023-K1": 90, "2023-K2": 91, "2023-K3": 92, "2023-K4": 92, "2024-K1": 91}


def _survival() -> pd.DataFrame:
    """Kaplan-Meier of an exponential: S(t) = exp(-t / mean), a band around it."""
    parts = []
    for form, mean in MEANS_DAYS.items():
        days = np.arange(0.0, 4 * mean, mean / 25)
        s = np.exp(-days / mean)
        parts.append(
            pd.DataFrame(
                {
                    "care_form": form,
                    "days": days,
                    "survival": s,
                    "low": s * 0.9,
                    "high": np.minimum(1.0, s * 1.1),
                    "fitted": s,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _fits() -> pd.DataFrame:
    rows = []
    stays = {"pleegzorg": (210, 150), "crisis": (95, 90)}
    for form, (n, events) in stays.items():
        for family, aic, chosen in (
            ("exponential", 1000.34, True),
            ("lognormal", 1003.5, False),
            ("weibull", 1001.75, False),
        ):
            cv = 1.0 if family == "exponential" else (np.nan if form == "crisis" else 1.3)
            rows.append((form, family, aic, MEANS_DAYS[form], cv, chosen, n, events))
    columns = ["care_form", "family", "aic", "mean_days", "cv", "chosen", "n", "events"]
    return pd.DataFrame(rows, columns=columns)


def _quarters() -> pd.DataFrame:
    """Five quarters; the window starts 2 March 2023, so 2023-K1 is a third observed."""
    rows = []
    for form, per_quarter in (("pleegzorg", 30), ("crisis", 12)):
        for i, (quarter, days) in enumerate(QUARTER_DAYS.items()):
            observed = 30 if quarter == "2023-K1" else days
            entries = round(per_quarter * observed / days) + i % 2
            rows.append((form, quarter, entries, observed / 365.25))
    return pd.DataFrame(rows, columns=["care_form", "quarter", "entries", "exposure_years"])


def _routing() -> pd.DataFrame:
    counts = {
        "pleegzorg": {"thuis": 60, "gezinshuis": 25, "zelfstandig": 15},
        "crisis": {"pleegzorg": 40, "thuis": 45, "buiten_regio": 5},
    }
    rows = []
    for form, to in counts.items():
        total = sum(to.values())
        for dest, count in to.items():
            share = count / total
            half = 1.96 * math.sqrt(share * (1 - share) / total)
            rows.append((form, dest, count, share, max(0.0, share - half), share + half))
    columns = ["from_care_form", "to", "count", "share", "low", "high"]
    return pd.DataFrame(rows, columns=columns)


def _estimates() -> pd.DataFrame:
    nan = math.nan
    rows = [
        ("instroom", "pleegzorg", "2023", 118.4, 97.2, 141.9, 118, ""),
        ("instroom", "crisis", "2023", 47.0, 34.5, 62.5, 47, ""),
        ("routing", "pleegzorg", "thuis", 0.6, 0.5, 0.69, 100, ""),
        ("los_mean", "pleegzorg", "", 300.0, 262.0, 344.0, 210, ""),
        ("los_cv", "crisis", "", nan, nan, nan, 3, "te weinig verblijven (3) voor een cv"),
        ("los_provider_mean", "pleegzorg", "-A12", 280.0, 230.0, 335.0, 40, ""),
        ("seasonality", "pleegzorg", "7", 1.08, 0.9, 1.27, 24, ""),
        ("occupied", "pleegzorg", "", 154.0, nan, nan, 154, ""),
        ("age_share", "crisis", "12-18", nan, nan, nan, 0, FORMULA_NOTE),
    ]
    return pd.DataFrame(rows, columns=list(ESTIMATE_COLUMNS))


def _calibration() -> Calibration:
    care_forms = pd.DataFrame(
        {"care_form": list(NAMES), "name": list(NAMES.values()), "waiting_policy": "queue"}
    )
    return Calibration(
        tables={"care_forms": care_forms},
        estimates=_estimates(),
        los_fits=_fits(),
        survival=_survival(),
        instroom_quarters=_quarters(),
        routing_counts=_routing(),
        window_start=dt.date(2023, 3, 2),
        extract_date=dt.date(2024, 3, 31),
        zero_date=dt.date(2024, 3, 31),
        notes=list(NOTES),
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Calibration, list[Path]]:
    calibration = _calibration()
    return calibration, write_report(calibration, tmp_path_factory.mktemp("kalibratie"))


def _rows(ws: Worksheet) -> list[list[Any]]:
    """The data rows under the header, as values."""
    return [list(r) for r in ws.iter_rows(min_row=2, values_only=True)]


def _blank(value: float) -> float | None:
    return None if math.isnan(value) else value


def test_files(report: tuple[Calibration, list[Path]]) -> None:
    _, paths = report
    names = ["kalibratie.xlsx", "verblijfsduur.png", "instroom.png", "doorstroom.png"]
    assert [p.name for p in paths] == names
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)


def test_sheets_headers_and_safety(report: tuple[Calibration, list[Path]]) -> None:
    _, paths = report
    wb = load_workbook(paths[0])
    assert wb.sheetnames == SHEETS
    for name, header in HEADERS.items():
        assert [c.value for c in wb[name][1]] == header, name
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate)
                assert not re.search(r"\bnan\b", str(cell.value), re.IGNORECASE), (
                    ws.title,
                    cell.coordinate,
                    cell.value,
                )


def test_explanation(report: tuple[Calibration, list[Path]]) -> None:
    calibration, paths = report
    ws = load_workbook(paths[0])["Toelichting"]
    texts: dict[str, list[str]] = {}
    for subject, text in _rows(ws):
        texts.setdefault(subject, []).append(text)
    assert nl.date(calibration.window_start) in texts["Waarneemvenster"][0]
    assert nl.date(calibration.extract_date) in texts["Waarneemvenster"][0]
    assert nl.date(calibration.zero_date) in texts["Peildatum (0-meting)"][0]
    stays = calibration.los_fits.drop_duplicates("care_form")
    assert texts["Verblijven"][0].startswith(
        f"{nl.number(int(stays['n'].sum()))} verblijven, waarvan "
        f"{nl.number(int(stays['events'].sum()))} afgesloten"
    )
    assert "exponentieel, lognormaal en Weibull" in texts["Verblijfsduur"][0]
    assert "laagste AIC" in texts["Verblijfsduur"][0]
    for form, name in NAMES.items():
        assert f"{name}: exponentieel (AIC 1.000,3)" in texts["Gekozen verdeling"][0], form
    assert "95 van de 100" in texts["95%-interval"][0]
    assert texts["Opmerking"] == NOTES
    cells = [c for row in ws.iter_rows() for c in row if c.value == FORMULA_NOTE]
    assert cells and all(c.data_type == "s" for c in cells)


def test_estimates_recounted(report: tuple[Calibration, list[Path]]) -> None:
    calibration, paths = report
    ws = load_workbook(paths[0])["Schattingen"]
    rows = _rows(ws)
    expected = calibration.estimates.to_dict(orient="records")
    assert len(rows) == len(expected)
    for i, (got, want) in enumerate(zip(rows, expected, strict=True)):
        assert got[0] == QUANTITIES[want["quantity"]]
        assert got[1] == NAMES[want["care_form"]]
        assert (got[2] or "") == want["key"]
        assert got[3:6] == [_blank(want["estimate"]), _blank(want["low"]), _blank(want["high"])]
        assert got[6] == want["n"]
        assert (got[7] or "") == want["note"]
        estimate = ws.cell(row=i + 2, column=4)
        if want["quantity"] == "routing":
            assert estimate.number_format.endswith("%")
        elif want["quantity"] == "instroom":
            assert estimate.number_format == "#,##0.0"
    provider = ws.cell(row=7, column=3)
    assert provider.value == "-A12" and provider.data_type == "s"


def test_fits_recounted(report: tuple[Calibration, list[Path]]) -> None:
    calibration, paths = report
    rows = _rows(load_workbook(paths[0])["Verblijfsduur"])
    fits = calibration.los_fits
    assert len(rows) == len(fits)
    chosen = [(r[0], r[1]) for r in rows if r[5] == "ja"]
    assert chosen == [(NAMES[f], "exponentieel") for f in fits["care_form"].unique()]
    assert sum(r[5] == "nee" for r in rows) == int((~fits["chosen"]).sum())
    for got, want in zip(rows, fits.to_dict(orient="records"), strict=True):
        assert got[2] == want["aic"] and got[3] == want["mean_days"]
        assert got[4] == _blank(want["cv"])
        assert got[6:] == [want["n"], want["events"]]


def test_instroom_recounted(report: tuple[Calibration, list[Path]]) -> None:
    calibration, paths = report
    rows = _rows(load_workbook(paths[0])["Instroom per kwartaal"])
    quarters = calibration.instroom_quarters
    assert len(rows) == len(quarters)
    for want in quarters.to_dict(orient="records"):
        got = next(r for r in rows if r[0] == NAMES[want["care_form"]] and r[1] == want["quarter"])
        assert got[2] == want["entries"]
        assert got[5] == pytest.approx(want["entries"] / want["exposure_years"])
        share = want["exposure_years"] * 365.25 / QUARTER_DAYS[want["quarter"]]
        assert got[4] == pytest.approx(min(1.0, share))
    partial = [r for r in rows if r[4] < 0.99]
    assert [r[1] for r in partial] == ["2023-K1", "2023-K1"]
    assert partial[0][4] == pytest.approx(30 / 90)


def test_routing_recounted(report: tuple[Calibration, list[Path]]) -> None:
    calibration, paths = report
    rows = _rows(load_workbook(paths[0])["Doorstroom"])
    counts = calibration.routing_counts
    assert len(rows) == len(counts)
    for form, name in NAMES.items():
        part = counts[counts["from_care_form"] == form]
        assert sum(r[2] for r in rows if r[0] == name) == int(part["count"].sum())
        assert sum(r[3] for r in rows if r[0] == name) == pytest.approx(1.0)
    destinations = {r[1] for r in rows}
    assert {"Thuis", "Gezinshuis", "Zelfstandig", "Pleegzorg", "Buiten de regio"} == destinations


def test_charts_are_images(report: tuple[Calibration, list[Path]]) -> None:
    _, paths = report
    for path in paths[1:]:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 15_000, path.name
        with Image.open(path) as image:
            width, height = image.size
            assert 600 <= width <= 2500 and 300 <= height <= 2500, (path.name, image.size)
            colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
            assert colours is not None and len(colours) > 50, path.name


def test_empty_calibration(tmp_path: Path) -> None:
    """No records at all: the report is still written, and says there is nothing."""
    full = _calibration()
    empty = Calibration(
        tables={},
        estimates=full.estimates.iloc[0:0],
        los_fits=full.los_fits.iloc[0:0],
        survival=full.survival.iloc[0:0],
        instroom_quarters=full.instroom_quarters.iloc[0:0],
        routing_counts=full.routing_counts.iloc[0:0],
        window_start=full.window_start,
        extract_date=full.extract_date,
        zero_date=full.zero_date,
    )
    paths = write_report(empty, tmp_path)
    assert all(p.exists() for p in paths)
    wb = load_workbook(paths[0])
    assert wb.sheetnames == SHEETS
    assert _rows(wb["Schattingen"]) == [["Geen gegevens.", *[None] * 7]]
