"""The national report recounted: every number in the workbook is a row of the results.

One small national run (three regions, two share a JeugdzorgPlus pool; a region and the
pool named like a formula) is written once; each test reads the files back with
openpyxl, csv and json and compares them with the ``NationalResults`` tables, looked up by
key, never with earlier output.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from capaciteit.domain.scenario import Horizon
from capaciteit.io.national_files import load_national
from capaciteit.national.model import NationalScenario, PoolAfbouwIn
from capaciteit.national.results import NationalResults, national_results
from capaciteit.national.run import run_national
from capaciteit.results.national_report import write_national_report
from capaciteit.simulation.executors import SerialExecutor
from tests.national_models import example_pool

NOORD = "=Noord"  # a region name a spreadsheet would run as a formula
POOL = "=JZ+ Noord-Zuid"
REGION_NAMES = {"noord": NOORD, "zuid": "Zuid", "oost": "Oost"}
KEYS_NL = {"use": "naar gebruik", "inhabitants": "naar inwoners", "fixed": "vaste verdeling"}

# Dutch header -> KPI (or use measure) it shows; intervals are "<header>: 95%-interval van/tot"
HEADERS = {
    "Bedden": "capacity_beds",
    "Bezet (gemiddeld)": "occupied_beds",
    "Bezettingsgraad": "occupancy_rate",
    "Aanvragen": "requests",
    "Opnames": "admissions",
    "Buiten de regio geplaatst": "overflow_count",
    "Aandeel buiten de regio geplaatst": "refused_share",
    "Gemiddelde wachttijd (dagen)": "mean_wait_days",
    "Binnen 24 uur geplaatst": "placed_within_24h_share",
    "Wachtend op 31 december": "waiting_at_year_end",
    "Kosten": "cost_eur",
    "Aandeel in de beddagen van de pool": "use_share",
    "Gemiddelde reistijd (minuten)": "mean_travel_minutes",
}
FIELDS = {"": "mean", ": 95%-interval van": "ci_low", ": 95%-interval tot": "ci_high"}


@dataclass(frozen=True)
class Report:
    results: NationalResults
    scenario: NationalScenario
    files: dict[str, Path]
    workbook: Workbook


def run_example(folder: Path) -> tuple[NationalResults, NationalScenario]:
    model_dir = example_pool(folder)
    regions = (model_dir / "regions.csv").read_text(encoding="utf-8")
    (model_dir / "regions.csv").write_text(regions.replace(",Noord,", f",{NOORD},"), "utf-8")
    pools = (model_dir / "pools.csv").read_text(encoding="utf-8")
    (model_dir / "pools.csv").write_text(pools.replace("JeugdzorgPlus Noord-Zuid", POOL), "utf-8")
    model = load_national(model_dir, Horizon(start_year=2023, end_year=2025))
    scenario = NationalScenario("Drie regio's", "", None, model, 4, 7, PoolAfbouwIn())
    return national_results(run_national(scenario, SerialExecutor())), scenario


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    tmp = tmp_path_factory.mktemp("national_report")
    results, scenario = run_example(tmp / "model")
    files = write_national_report(
        results, scenario, tmp / "out", elapsed_s=1.5, executor="serial", stays=1234
    )
    return Report(results, scenario, files, load_workbook(files["workbook"]))


def rows_of(wb: Workbook, title: str) -> list[dict[str, Any]]:
    values = list(wb[title].iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def long(frame: pd.DataFrame, keys: list[str], item: str) -> dict[tuple[Any, ...], pd.Series]:
    return {
        tuple(row[[*keys, item]]): row[["mean", "ci_low", "ci_high"]] for _, row in frame.iterrows()
    }


def same(cell: Any, value: float) -> None:
    """A cell holds the number, or (for a number that does not exist) no number at all."""
    if not math.isfinite(value):
        assert cell is None or isinstance(cell, str), cell
    else:
        assert isinstance(cell, int | float), cell
        assert cell == pytest.approx(value, rel=1e-12, abs=1e-9)


def recount(row: dict[str, Any], key_columns: set[str], values: dict[str, pd.Series]) -> None:
    """Every column of ``row`` is a key column or the mean/interval of a KPI in ``values``."""
    for header, cell in row.items():
        if header in key_columns:
            continue
        base, field = header, "mean"
        for suffix, name in FIELDS.items():
            if suffix and header.endswith(suffix):
                base, field = header.removesuffix(suffix), name
        assert base in HEADERS, f"column '{header}' is not recounted"
        kpi = HEADERS[base]
        assert kpi in values, (header, sorted(values))
        same(cell, float(values[kpi][field]))


def test_landelijk_and_pools_sheets_are_the_results(report: Report) -> None:
    assert report.workbook.sheetnames == [
        "Toelichting",
        "Landelijk",
        "Pools",
        "Gebruik per regio",
        "Kostenverdeling",
        "Regio's",
        "Regio's per verblijfsvorm",
    ]
    names = {
        str(v): str(k)
        for k, v in report.scenario.model.scenarios["noord"].model.care_forms["name"].items()
    }
    national = long(report.results.national, ["care_form", "year"], "kpi")
    rows = rows_of(report.workbook, "Landelijk")
    assert len(rows) == len({k[:2] for k in national})
    for row in rows:
        form = names[row["Verblijfsvorm"]]
        values = {k[2]: v for k, v in national.items() if k[:2] == (form, row["Jaar"])}
        recount(row, {"Verblijfsvorm", "Jaar"}, values)

    pools = long(report.results.pools, ["pool", "year"], "kpi")
    rows = rows_of(report.workbook, "Pools")
    assert len(rows) == len({k[:2] for k in pools}) == 3
    for row in rows:
        assert row["Pool"] == POOL
        assert row["Verdeelsleutel"] == "naar gebruik"
        values = {k[2]: v for k, v in pools.items() if k[:2] == ("jzp", row["Jaar"])}
        recount(row, {"Pool", "Verblijfsvorm", "Verdeelsleutel", "Jaar"}, values)


def test_use_and_region_sheets_are_the_results(report: Report) -> None:
    region_of = {v: k for k, v in REGION_NAMES.items()}
    use = long(report.results.use, ["pool", "region", "year"], "measure")
    rows = rows_of(report.workbook, "Gebruik per regio")
    assert len(rows) == len({k[:3] for k in use}) == 6  # noord and zuid, three years
    for row in rows:
        key = ("jzp", region_of[row["Regio"]], row["Jaar"])
        recount(row, {"Pool", "Regio", "Jaar"}, {k[3]: v for k, v in use.items() if k[:3] == key})

    region_costs = report.results.region_costs.set_index(["region", "year"])
    rows = rows_of(report.workbook, "Regio's")
    assert len(rows) == len(region_costs) == 9
    for row in rows:
        expected = region_costs.loc[(region_of[row["Regio"]], row["Jaar"])]
        same(row["Kosten eigen verblijfsvormen"], expected["own_eur"])
        same(row["Deel in de kosten van pools"], expected["pools_eur"])
        same(row["Kosten totaal"], expected["total_eur"])
        assert row["Kosten totaal"] == pytest.approx(
            row["Kosten eigen verblijfsvormen"] + row["Deel in de kosten van pools"], rel=1e-12
        )

    # per form: own forms from the regions table; the pooled form as the region's use of it
    own = long(report.results.regions, ["region", "care_form", "year"], "kpi")
    costs = report.results.costs.set_index(["pool", "region", "year"])
    rows = rows_of(report.workbook, "Regio's per verblijfsvorm")
    assert len(rows) == len({k[:3] for k in own}) + 6
    total: dict[tuple[str, int], float] = defaultdict(float)
    for row in rows:
        region = region_of[row["Regio"]]
        forms = report.scenario.model.scenarios[region].model.care_forms["name"]
        form = str(forms.index[list(forms).index(row["Verblijfsvorm"])])
        keys = {"Regio", "Jaar", "Verblijfsvorm", "Ingekocht via"}
        if row["Ingekocht via"] == POOL:
            assert form == "jeugdzorgplus"
            key = ("jzp", region, row["Jaar"])
            values = {k[3]: v for k, v in use.items() if k[:3] == key}
            recount(
                {h: row[h] for h in ("Bezet (gemiddeld)", "Opnames", "Buiten de regio geplaatst")},
                set(),
                values,
            )
            same(row["Gemiddelde wachttijd (dagen)"], float(values["mean_wait_days"]["mean"]))
            same(row["Kosten"], float(costs.loc[key, "mean"]))
            for empty in ("Bedden", "Bezettingsgraad", "Binnen 24 uur geplaatst"):
                assert row[empty] is None
        else:
            assert row["Ingekocht via"] == "eigen bedden"
            values = {k[3]: v for k, v in own.items() if k[:3] == (region, form, row["Jaar"])}
            recount(row, keys, values)
        total[(region, row["Jaar"])] += row["Kosten"]
    # a region's forms, own and pooled, cost its total
    for (region, year), eur in total.items():
        assert eur == pytest.approx(region_costs.loc[(region, year), "total_eur"], rel=1e-12)


def test_cost_split_sheet_adds_up_to_each_pool_cost(report: Report) -> None:
    costs = report.results.costs.set_index(["pool", "region", "year"])
    region_of = {v: k for k, v in REGION_NAMES.items()}
    rows = rows_of(report.workbook, "Kostenverdeling")
    assert len(rows) == len(costs) == 6
    per_pool_year: dict[int, float] = defaultdict(float)
    shares: dict[int, float] = defaultdict(float)
    for row in rows:
        assert row["Pool"] == POOL
        expected = costs.loc[("jzp", region_of[row["Regio"]], row["Jaar"])]
        assert row["Verdeelsleutel"] == KEYS_NL[expected["cost_key"]]
        same(row["Aandeel"], expected["key_share"])
        same(row["Kosten"], expected["mean"])
        same(row["Kosten: 95%-interval van"], expected["ci_low"])
        same(row["Kosten: 95%-interval tot"], expected["ci_high"])
        assert row["Kosten: 95%-interval van"] <= row["Kosten"] <= row["Kosten: 95%-interval tot"]
        per_pool_year[row["Jaar"]] += row["Kosten"]
        shares[row["Jaar"]] += row["Aandeel"]
    pool_cost = {r["Jaar"]: r["Kosten"] for r in rows_of(report.workbook, "Pools")}
    assert set(per_pool_year) == set(pool_cost) == {2023, 2024, 2025}
    for year, eur in per_pool_year.items():
        assert eur == pytest.approx(pool_cost[year], rel=1e-9)
        assert shares[year] == pytest.approx(1.0, abs=1e-9)
    # the regions' part of the pools is their rows of the split
    parts = rows_of(report.workbook, "Regio's")
    for row in parts:
        mine = [
            r["Kosten"] for r in rows if r["Regio"] == row["Regio"] and r["Jaar"] == row["Jaar"]
        ]
        assert row["Deel in de kosten van pools"] == pytest.approx(sum(mine), rel=1e-12)


def test_shares_lie_in_zero_to_one_and_no_cell_shows_nan(report: Report) -> None:
    share_cells = 0
    for ws in report.workbook.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                shown_as_nan(cell.value)
                if cell.number_format in ("0%", "0.0%") and isinstance(cell.value, float):
                    assert 0.0 <= cell.value <= 1.0, (ws.title, cell.coordinate, cell.value)
                    share_cells += 1
    assert share_cells > 100
    for name in ("regions", "pools", "pool_use", "cost_split", "region_costs", "national"):
        with report.files[name].open(encoding="utf-8", newline="") as f:
            for line in csv.reader(f):
                for field in line:
                    shown_as_nan(field)


def shown_as_nan(value: Any) -> None:
    if isinstance(value, float):
        assert math.isfinite(value), value
    if isinstance(value, str):
        assert not re.search(r"\b(nan|inf|infinity|none|null)\b", value, re.IGNORECASE), value


def test_formula_like_names_stay_text(report: Report) -> None:
    found = 0
    for ws in report.workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
                    assert cell.value.startswith((NOORD, POOL)), cell.value
                    found += 1
    assert found > 10
    with report.files["cost_split"].open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["pool_name"] for r in rows} == {"'" + POOL}
    assert {r["region_name"] for r in rows} == {"'" + NOORD, "Zuid"}
    with report.files["regions"].open(encoding="utf-8", newline="") as f:
        assert "'" + NOORD in {r["region_name"] for r in csv.DictReader(f)}


def no_constant(name: str) -> None:
    raise AssertionError(f"{name} in summary.json")


def test_summary_json_is_strict_and_says_the_results(report: Report) -> None:
    summary = json.loads(
        report.files["summary"].read_text(encoding="utf-8"), parse_constant=no_constant
    )
    assert summary["replications"] == 4
    assert summary["seed"] == 7
    assert summary["years"] == [2023, 2024, 2025]
    assert (summary["executor"], summary["elapsed_s"], summary["stays"]) == ("serial", 1.5, 1234)
    assert summary["model"]["synthetic"] is True
    national = long(report.results.national, ["care_form", "year"], "kpi")
    for year, forms in summary["national"].items():
        for form, figures in forms.items():
            for kpi in ("occupied_beds", "occupancy_rate", "admissions", "overflow_count"):
                expected = national[(form, int(year), kpi)]
                assert figures[kpi]["mean"] == pytest.approx(expected["mean"], rel=1e-12)
                assert figures[kpi]["ci_low"] == pytest.approx(expected["ci_low"], rel=1e-12)
            assert figures["capacity_beds"]["ci_low"] is None  # an input: no interval
    pool = summary["pools"]["jzp"]
    assert pool["name"] == POOL
    assert pool["regions"] == ["noord", "zuid"]
    pools = long(report.results.pools, ["pool", "year"], "kpi")
    for year, figures in pool["years"].items():
        cost = figures["cost_eur"]["mean"]
        assert cost == pytest.approx(pools[("jzp", int(year), "cost_eur")]["mean"], rel=1e-12)
        split = figures["cost_split"]
        assert sum(s["cost_eur"]["mean"] for s in split.values()) == pytest.approx(cost)
        assert sum(s["key_share"] for s in split.values()) == pytest.approx(1.0)
        assert all(0.0 <= s["key_share"] <= 1.0 for s in split.values())
        for kpi in ("occupancy_rate", "refused_share"):
            assert 0.0 <= figures[kpi]["ci_low"] <= figures[kpi]["mean"] <= 1.0
    for region, part in summary["regions"].items():
        for year, eur in part["years"].items():
            assert eur["total_eur"] == pytest.approx(eur["own_eur"] + eur["pools_eur"])
            split = summary["pools"]["jzp"]["years"][year]["cost_split"]
            pools_eur = split[region]["cost_eur"]["mean"] if region in split else 0.0
            assert eur["pools_eur"] == pytest.approx(pools_eur)


def test_charts_are_non_trivial_pngs(report: Report) -> None:
    import matplotlib.image as mpimg

    for name in ("national_chart", "cost_chart"):
        path = report.files[name]
        assert path.suffix == ".png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = (mpimg.imread(path)[..., :3] * 255).astype(np.uint32)
        assert image.shape[0] > 300 and image.shape[1] > 400
        # more than a blank page: many distinct colours
        colours = image[..., 0] << 16 | image[..., 1] << 8 | image[..., 2]
        assert len(np.unique(colours)) > 50


def test_a_figure_that_does_not_exist_is_a_word_or_empty(report: Report, tmp_path: Path) -> None:
    """A mean wait without admissions reads "geen opnames"; a NaN or inf interval is empty."""
    results = report.results
    pools = results.pools.copy()
    wait = (pools["kpi"] == "mean_wait_days") & (pools["year"] == 2024)
    pools.loc[wait, ["mean", "ci_low", "ci_high"]] = np.nan
    national = results.national.copy()
    cost = national["kpi"] == "cost_eur"
    national.loc[cost, "ci_high"] = np.inf
    doctored = dataclasses.replace(results, pools=pools, national=national)
    files = write_national_report(
        doctored, report.scenario, tmp_path, elapsed_s=math.nan, executor="serial", stays=0
    )
    wb = load_workbook(files["workbook"])
    row = next(r for r in rows_of(wb, "Pools") if r["Jaar"] == 2024)
    assert row["Gemiddelde wachttijd (dagen)"] == "geen opnames"
    assert row["Gemiddelde wachttijd (dagen): 95%-interval van"] is None
    assert all(r["Kosten: 95%-interval tot"] is None for r in rows_of(wb, "Landelijk"))
    for ws in wb.worksheets:
        for cells in ws.iter_rows():
            for cell in cells:
                shown_as_nan(cell.value)
    summary = json.loads(files["summary"].read_text(encoding="utf-8"), parse_constant=no_constant)
    assert summary["elapsed_s"] is None
    assert summary["pools"]["jzp"]["years"]["2024"]["mean_wait_days"]["mean"] is None
