"""KPIs and daily tables recounted from the stays by brute force; plan.xlsx as it reads.

The workbook tests read ``plan.xlsx`` back with openpyxl and judge it against the CSV
files written beside it (``plan.csv``, ``targets.csv``, ``plan_service_levels.csv``,
``changes.csv``), recomputing the sheets' numbers from those tables.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils import get_column_letter

from capaciteit.core import nl
from capaciteit.core.intervals import area, count_at, mean_count
from capaciteit.core.stats import confidence_interval
from capaciteit.io.scenario_files import load_scenario
from capaciteit.results.tables import daily_occupancy, daily_queues
from capaciteit.results.writer import write_results
from capaciteit.simulation.engine import simulate_stays
from capaciteit.simulation.kpis import replication_kpis
from capaciteit.simulation.replications import run_replications
from capaciteit.simulation.spec import compile_spec
from tests.conftest import BASIS, TRANSFORMATIE

intervals = st.lists(
    st.tuples(st.floats(-50, 50), st.floats(0, 30), st.booleans()), min_size=0, max_size=30
)


@settings(max_examples=200, deadline=None)
@given(items=intervals, a=st.floats(-60, 60), width=st.floats(0.01, 40))
def test_interval_integral_matches_brute_force(
    items: list[tuple[float, float, bool]], a: float, width: float
) -> None:
    starts = np.array([s for s, _, _ in items], dtype=float)
    ends = np.array([s + d if closed else np.inf for s, d, closed in items], dtype=float)
    b = a + width
    exact = sum(max(0.0, min(e, b) - max(s, a)) for s, e in zip(starts, ends, strict=True))
    got = float(np.diff(area(starts, ends, np.array([a, b])))[0])
    assert got == pytest.approx(exact, abs=1e-9 * max(1.0, abs(a) + abs(b)) * (len(items) + 1))
    mean = mean_count(starts, ends, np.array([a, b]))[0]
    assert mean == pytest.approx(exact / width, abs=1e-6)
    at = np.array([a])
    assert count_at(starts, ends, at)[0] == sum(
        1 for s, e in zip(starts, ends, strict=True) if s <= a < e
    )


@pytest.fixture(scope="module")
def run() -> tuple:  # type: ignore[type-arg]
    spec = compile_spec(load_scenario(TRANSFORMATIE))
    stays = simulate_stays(spec, np.random.SeedSequence(21))
    stays.insert(0, "replication", 0)
    return spec, stays


def test_kpis_recounted_from_stays(run: tuple) -> None:  # type: ignore[type-arg]
    spec, stays = run
    kpis = replication_kpis(spec, stays)
    year, fid = 2026, "residentieel"
    a, b = spec.year_start_day[year], spec.year_start_day[year + 1]
    s = stays[stays["care_form"] == fid]
    adm = s[s["start_day"].notna()]
    ends = adm["end_day"].fillna(np.inf)
    overlap = (np.minimum(ends, b) - np.maximum(adm["start_day"], a)).clip(lower=0)
    row = kpis.loc[(fid, year)]
    assert row["occupied_beds"] == pytest.approx(overlap.sum() / (b - a))
    tariff = spec.cost_per_bed_day.xs(fid, level="care_form")
    cost = (overlap * adm["provider"].astype(str).map(tariff)).sum()
    assert row["cost_eur"] == pytest.approx(cost)
    assert row["capacity_beds"] == spec.capacity.xs(fid, level="care_form")[year].sum()
    assert row["admissions"] == ((adm["start_day"] >= a) & (adm["start_day"] < b)).sum()
    assert row["requests"] == ((s["requested_day"] >= a) & (s["requested_day"] < b)).sum()
    ended = adm[(adm["end_day"] >= a) & (adm["end_day"] < b)]
    assert row["mean_los_days"] == pytest.approx((ended["end_day"] - ended["start_day"]).mean())
    blocked_overlap = (
        np.minimum(adm["end_day"].fillna(np.inf), b) - np.maximum(adm["service_end_day"], a)
    ).clip(lower=0)
    assert row["blocked_bed_days"] == pytest.approx(blocked_overlap.fillna(0).sum())
    # availability funding: crisis costs beds x days x tariff, occupied or not
    crisis = kpis.loc[("crisis", year)]
    cap = spec.capacity.xs("crisis", level="care_form")[year]
    tariff_c = spec.cost_per_bed_day.xs("crisis", level="care_form")
    assert crisis["cost_eur"] == pytest.approx(((b - a) * cap * tariff_c).sum())
    # overflow and waiting for jeugdzorgplus in 2030 (no beds left)
    jzp = stays[stays["care_form"] == "jeugdzorgplus"]
    a30, b30 = spec.year_start_day[2030], spec.year_start_day[2031]
    resolved = jzp["start_day"].fillna(jzp["end_day"])
    in_year = (resolved >= a30) & (resolved < b30)
    n_over = (in_year & (jzp["outcome"] == "overflow")).sum()
    assert kpis.loc[("jeugdzorgplus", 2030), "overflow_count"] == n_over > 0
    assert kpis.loc[("jeugdzorgplus", 2030), "refused_share"] == pytest.approx(
        n_over / in_year.sum()
    )


def test_waiting_at_year_end_recounted(run: tuple) -> None:  # type: ignore[type-arg]
    spec, stays = run
    kpis = replication_kpis(spec, stays)
    for fid in spec.care_forms.index:
        s = stays[stays["care_form"] == fid]
        for year in spec.years:
            moment = spec.year_start_day[year + 1] - 1e-9
            left = s["start_day"].fillna(s["end_day"]).fillna(np.inf)
            waiting = ((s["requested_day"] <= moment) & (left > moment)).sum()
            assert kpis.loc[(fid, year), "waiting_at_year_end"] == waiting, (fid, year)


def test_daily_occupancy_adds_up_to_the_yearly_kpi(run: tuple) -> None:  # type: ignore[type-arg]
    spec, stays = run
    daily = daily_occupancy(spec, stays, 1)
    kpis = replication_kpis(spec, stays)
    per_day = daily.groupby(["care_form", "date"])["occupied_beds"].sum().reset_index()
    per_day["year"] = per_day["date"].dt.year
    mean = per_day.groupby(["care_form", "year"])["occupied_beds"].mean()
    for (fid, year), value in mean.items():
        assert value == pytest.approx(kpis.loc[(fid, year), "occupied_beds"])
    # on every day occupancy at a provider is a plausible number of beds
    assert (daily["occupied_beds"] >= 0).all()
    queues = daily_queues(spec, stays, 1)
    assert len(queues) == len(daily["date"].unique()) * len(spec.care_forms)


def test_confidence_interval_against_scipy() -> None:
    from scipy import stats

    x = np.array([3.0, 5.0, 4.0, 6.5, 5.5])
    mean, low, high = confidence_interval(x)
    ref = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (low, high) == pytest.approx(ref)
    assert mean == pytest.approx(4.8)
    assert np.isnan(confidence_interval(np.array([2.0]))[1])


def test_written_results(tmp_path: Path) -> None:
    scenario = load_scenario(BASIS, replications=3)
    result = run_replications(compile_spec(scenario), 3, scenario.seed)
    files = write_results(scenario, result, tmp_path)
    summary = json.loads(files["summary"].read_text(encoding="utf-8"))
    assert summary["replications"] == 3 and summary["seed"] == scenario.seed
    cell = summary["kpis"]["pleegzorg"]["2025"]["occupied_beds"]
    assert cell["ci_low"] <= cell["mean"] <= cell["ci_high"]
    assert summary["model"]["baseline_beds"]["residentieel"] == 140
    kpis = pd.read_csv(files["kpis"])
    assert set(kpis["care_form"]) == set(summary["care_form_names"])
    stays = pd.read_csv(files["stays"])
    assert {"waited_days", "blocked_days", "los_days", "next"} <= set(stays.columns)
    assert files["chart"].stat().st_size > 10_000
    parquet = write_results(scenario, result, tmp_path / "pq", fmt="parquet")
    assert pd.read_parquet(parquet["stays"]).shape[0] == stays.shape[0]


# --------------------------------------------------------------------------------------
# plan.xlsx as a planner reads it: formats, names, marks, and numbers that add up
# --------------------------------------------------------------------------------------

# The example region, with provider names and a provider code that start like formulas,
# a need above the 2025 target for residentieel (so that target is missed) and an agreed
# plan (the 0-meting kept every year) to be changed: every sheet plan.xlsx can have.
FORMULA_NAMES = {"P04": "=1+2 Kompas", "P05": "@Horizon", "P06": "-De Waarden", "P07": "+Duin"}
FORMULA_CODE = "=P08"
PLAN_SHEETS = [
    "samenvatting",
    "per aanbieder",
    "per jaar",
    "doelen",
    "normen",
    "ombouwbudget",
    "Wijzigingen t.o.v. afspraak",
]
# how a header says what its column holds (independent of the writer's declarations)
SHARE_HEADERS = {"Grens", "Gemiddeld in de simulatie", "95%-interval van", "95%-interval tot"}
EURO = '"€ "#,##0'
RED, GREEN = "FFC7CE", "C6EFCE"
IDENTIFIER = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)+$")


@dataclass(frozen=True)
class PlanBook:
    """A written afbouw plan: its folder, scenario, names and the workbook read back."""

    out: Path
    book: openpyxl.Workbook
    forms: dict[str, str]
    providers: dict[str, str]


def _need_rows() -> dict[tuple[str, int], int]:
    rows = {
        "residentieel": [120, 110, 100, 90, 90, 90, 90],
        "pleegzorg": [310, 320, 330, 340, 340, 340, 340],
        "gezinshuis": [75, 75, 75, 75, 75, 75, 75],
        "jeugdzorgplus": [10, 8, 6, 4, 2, 1, 0],
        "crisis": [14, 14, 14, 14, 14, 14, 14],
    }
    return {(f, y): b for f, v in rows.items() for y, b in zip(range(2024, 2031), v, strict=True)}


@pytest.fixture(scope="module")
def plan_book(tmp_path_factory: pytest.TempPathFactory) -> PlanBook:
    from capaciteit.pipelines.afbouw import afbouw_report
    from capaciteit.simulation.executors import make_executor
    from tests.conftest import EXAMPLE_MODEL

    root = tmp_path_factory.mktemp("plan_book")
    model = root / "model"
    shutil.copytree(EXAMPLE_MODEL, model)
    for path in model.glob("*.csv"):
        path.write_text(path.read_text(encoding="utf-8").replace("P08", FORMULA_CODE), "utf-8")
    providers = pd.read_csv(model / "providers.csv", dtype=str)
    providers["name"] = [FORMULA_NAMES.get(p, n) for p, n in providers.itertuples(index=False)]
    providers.to_csv(model / "providers.csv", index=False)
    need = _need_rows()
    lines = ["care_form,year,beds"] + [f"{f},{y},{b}" for (f, y), b in sorted(need.items())]
    (root / "need.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    beds = pd.read_csv(model / "beds.csv", dtype={"provider": str})
    agreed = ["provider,care_form,year,beds"] + [
        f"{p},{f},{y},{b}"
        for p, f, b in zip(beds["provider"], beds["care_form"], beds["beds"], strict=True)
        for y in range(2023, 2031)
    ]
    (root / "afspraak.csv").write_text("\n".join(agreed) + "\n", encoding="utf-8")
    raw = yaml.safe_load(
        TRANSFORMATIE.read_text(encoding="utf-8").replace("P08", f"'{FORMULA_CODE}'")
    )
    raw["model"] = str(model)
    raw["afbouw"] |= {
        "need": "need.csv",
        "reference": {"file": "afspraak.csv", "weight_eur_per_bed": 1000},
    }
    (root / "s.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    out = root / "out"
    report = afbouw_report(root / "s.yaml", out, replications=2, executor=make_executor("serial"))
    scenario = report.scenario
    assert report.result.status == "conflicts", report.result.message
    return PlanBook(
        out,
        openpyxl.load_workbook(out / "plan.xlsx"),
        {str(k): str(v) for k, v in scenario.model.care_forms["name"].items()},
        {str(k): str(v) for k, v in scenario.model.providers["name"].items()},
    )


def _header_row(ws: Any) -> int:
    return 2 if ws.title == "Wijzigingen t.o.v. afspraak" else 1


def _table(ws: Any) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows of a sheet's table (up to its first empty row)."""
    first = _header_row(ws)
    header = [c.value for c in ws[first] if c.value is not None]
    rows = []
    for row in ws.iter_rows(min_row=first + 1, max_col=len(header)):
        if all(c.value is None for c in row):
            break
        rows.append(list(row))
    return [str(h) for h in header], rows


def _csv(path: Path) -> pd.DataFrame:
    """A CSV as written: codes as text, with the leading ' of formula-like text taken off."""
    frame = pd.read_csv(path, dtype={"provider": str, "care_form": str})
    for column in ("provider", "care_form"):
        if column in frame:
            frame[column] = frame[column].str.removeprefix("'")
    return frame


def _fill(cell: Any) -> str:
    return str(cell.fill.fgColor.rgb)[-6:] if cell.fill.fill_type else ""


def _by_header(header: list[str], rows: list[list[Any]]) -> list[dict[str, Any]]:
    return [{h: c.value for h, c in zip(header, row, strict=True)} for row in rows]


def test_plan_workbook_sheets_headers_frozen_and_filtered(plan_book: PlanBook) -> None:
    book = plan_book.book
    assert book.sheetnames == PLAN_SHEETS
    for ws in book.worksheets:
        first = _header_row(ws)
        header, rows = _table(ws)
        assert rows, ws.title
        assert ws.freeze_panes is not None and ws.freeze_panes.endswith(str(first + 1))
        assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith(f"A{first}:")
        for name in header:
            # Dutch words, never a column name of the CSV (care_form, cost_eur, met, ...)
            assert not IDENTIFIER.match(name) and "_" not in name, (ws.title, name)
            assert name not in {"provider", "care_form", "year", "beds", "met", "target"}
        assert all(c.font.bold for c in ws[first] if c.value is not None), ws.title
        for i in range(1, len(header) + 1):
            width = ws.column_dimensions[get_column_letter(i)].width
            assert 8 <= width <= 100, (ws.title, header[i - 1], width)


def test_every_number_has_a_format_and_is_as_wide_as_it_reads(plan_book: PlanBook) -> None:
    for ws in plan_book.book.worksheets:
        header, rows = _table(ws)
        for row in rows:
            for name, cell in zip(header, row, strict=True):
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"
                if not isinstance(cell.value, int | float):
                    continue
                assert cell.number_format != "General", (ws.title, name)
                # the column holds the number as Excel draws it in Dutch
                if cell.number_format == EURO:
                    shown = nl.euro(cell.value)
                elif "%" in cell.number_format:
                    shown = nl.percent(cell.value, 1 if ".0" in cell.number_format else 0)
                else:
                    shown = nl.number(cell.value)
                width = ws.column_dimensions[cell.column_letter].width
                assert len(shown) < width, (ws.title, name, shown, width)


def test_shares_are_fractions_shown_as_percentages(plan_book: PlanBook) -> None:
    seen = set()
    for ws in plan_book.book.worksheets:
        header, rows = _table(ws)
        for i, name in enumerate(header):
            cells = [row[i] for row in rows if row[i].value is not None]
            percent = [c for c in cells if "%" in c.number_format]
            if name in SHARE_HEADERS:
                seen.add((ws.title, name))
                assert cells and percent == cells, (ws.title, name)
                assert all(c.number_format in ("0%", "0.0%") for c in cells)
                assert all(0.0 <= c.value <= 1.0 for c in cells), (ws.title, name)
            elif "% van 0-meting" in name:
                seen.add((ws.title, name))
                assert cells and percent == cells and all(c.value >= 0 for c in cells)
            else:
                assert not percent, (ws.title, name)
    assert ("normen", "Gemiddeld in de simulatie") in seen
    assert ("doelen", "Grens als % van 0-meting") in seen
    # the target "30% minder" is stored as the fraction 0.7 and shown as 70%
    header, rows = _table(plan_book.book["doelen"])
    shares = {r["Doel"]: r["Grens als % van 0-meting"] for r in _by_header(header, rows)}
    assert shares["30% minder residentieel in 2025"] == pytest.approx(0.7)
    assert shares["30% meer pleegzorg + gezinshuis in 2025"] == pytest.approx(1.3)


def test_euros_counts_and_years_have_their_formats(plan_book: PlanBook) -> None:
    euros = 0
    for ws in plan_book.book.worksheets:
        header, rows = _table(ws)
        for i, name in enumerate(header):
            cells = [row[i] for row in rows if isinstance(row[i].value, int | float)]
            if "Kosten" in name or "budget" in name:
                euros += len(cells)
                assert cells and all(c.number_format == EURO for c in cells), (ws.title, name)
            elif name == "Jaar":
                assert all(c.number_format == "0" for c in cells)
            elif "(bedden)" in name or name.startswith("Bedden") or name.isdigit():
                assert all(c.number_format in ("#,##0", "+#,##0;-#,##0;0") for c in cells)
    assert euros > 0
    ws = plan_book.book["samenvatting"]
    cost = next(r for r in ws.iter_rows() if r[1].value == "Kosten bedden over de planperiode")
    assert cost[2].number_format == EURO
    assert cost[2].value == _csv(plan_book.out / "plan.csv")["cost_eur"].sum()


def test_names_stand_next_to_every_code(plan_book: PlanBook) -> None:
    plan = _csv(plan_book.out / "plan.csv")
    book = plan_book.book
    header, rows = _table(book["per aanbieder"])
    listed = {(r["Code aanbieder"], r["Aanbieder"]) for r in _by_header(header, rows)}
    assert listed == {(p, plan_book.providers[p]) for p in plan["provider"]}
    for sheet, column in (
        ("per aanbieder", "Verblijfsvorm"),
        ("per jaar", "Verblijfsvorm"),
        ("normen", "Verblijfsvorm"),
        ("Wijzigingen t.o.v. afspraak", "Verblijfsvorm"),
    ):
        header, rows = _table(book[sheet])
        shown = {r[column] for r in _by_header(header, rows)}
        assert shown <= set(plan_book.forms.values()), (sheet, shown)
        if sheet != "Wijzigingen t.o.v. afspraak":
            assert shown == {plan_book.forms[f] for f in plan["care_form"]}, sheet
    header, rows = _table(book["doelen"])
    targets = _csv(plan_book.out / "targets.csv")
    assert [r["Verblijfsvormen"] for r in _by_header(header, rows)] == [
        " + ".join(plan_book.forms[f] for f in forms.split(" + "))
        for forms in targets["care_forms"]
    ]
    header, rows = _table(book["Wijzigingen t.o.v. afspraak"])
    for r in _by_header(header, rows):
        assert r["Aanbieder"] == plan_book.providers[r["Code aanbieder"]]


def test_formula_like_names_and_codes_stay_text(plan_book: PlanBook) -> None:
    book = plan_book.book
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if c.data_type == "s"}
    assert set(FORMULA_NAMES.values()) | {FORMULA_CODE} <= texts


def test_missed_targets_and_norms_are_red_met_ones_green(plan_book: PlanBook) -> None:
    book = plan_book.book
    targets = _csv(plan_book.out / "targets.csv")
    header, rows = _table(book["doelen"])
    assert len(rows) == len(targets) and (~targets["met"]).any() and targets["met"].any()
    for met, row in zip(targets["met"], rows, strict=True):
        verdict = row[header.index("Oordeel")]
        if met:
            assert verdict.value == "gehaald" and _fill(verdict) == GREEN
            assert RED not in {_fill(c) for c in row}
        else:
            assert verdict.value == "niet gehaald"
            assert {_fill(c) for c in row} == {RED}
    levels = _csv(plan_book.out / "plan_service_levels.csv")
    header, rows = _table(book["normen"])
    assert len(rows) == len(levels) and (levels["verdict"] == "missed").any()
    words = {"met": "gehaald", "missed": "niet gehaald", "undecided": "niet te onderscheiden"}
    for level, row in zip(levels.to_dict(orient="records"), rows, strict=True):
        assert row[header.index("Jaar")].value == level["year"]
        assert row[header.index("Gemiddeld in de simulatie")].value == pytest.approx(level["mean"])
        verdict = row[header.index("Oordeel")]
        assert str(verdict.value).startswith(words[level["verdict"]])
        fills = {_fill(c) for c in row}
        assert (fills == {RED}) == (level["verdict"] == "missed")
        if level["verdict"] == "met":
            assert _fill(verdict) == GREEN


def test_the_summary_starts_with_what_is_missed(plan_book: PlanBook) -> None:
    header, rows = _table(plan_book.book["samenvatting"])
    assert header == ["Oordeel", "Onderwerp", "Toelichting"]
    verdicts = [row[0].value for row in rows]
    missed = [row for row in rows if row[0].value == "niet gehaald"]
    assert verdicts[: len(missed)] == ["niet gehaald"] * len(missed)  # missed first
    assert "gehaald" in verdicts
    for row in rows:
        if row[0].value == "niet gehaald":
            assert {_fill(c) for c in row} == {RED}
        elif row[0].value == "gehaald":
            assert _fill(row[0]) == GREEN
    # every target missed in some year is named, with those years, in a red row
    targets = _csv(plan_book.out / "targets.csv")
    for label, group in targets[~targets["met"]].groupby("target"):
        row = next(r for r in missed if r[1].value == f"Doel: {label}")
        assert nl.years(group["year"]) in row[2].value
    met_all = targets.groupby("target")["met"].all()
    for label in met_all[met_all].index:
        assert any(r[1].value == f"Doel: {label}" for r in rows if r[0].value == "gehaald")
    # and every norm missed in some year
    levels = _csv(plan_book.out / "plan_service_levels.csv")
    for form in levels.loc[levels["verdict"] == "missed", "care_form"].unique():
        assert any(plan_book.forms[form] in r[1].value for r in missed if "Norm" in r[1].value)


def test_per_year_and_per_provider_recomputed_from_plan_csv(plan_book: PlanBook) -> None:
    plan = _csv(plan_book.out / "plan.csv")
    totals = plan.groupby(["care_form", "year"])[
        ["beds", "beds_0_meting", "afbouw", "opbouw", "cost_eur"]
    ].sum()
    form_of = {name: code for code, name in plan_book.forms.items()}
    need = _need_rows()
    header, rows = _table(plan_book.book["per jaar"])
    seen = set()
    for r in _by_header(header, rows):
        key = (form_of[r["Verblijfsvorm"]], r["Jaar"])
        seen.add(key)
        t = totals.loc[key]
        assert r["Bedden in plan"] == t["beds"]
        assert r["0-meting (bedden)"] == t["beds_0_meting"]
        assert r["Afbouw (bedden)"] == t["afbouw"] and r["Opbouw (bedden)"] == t["opbouw"]
        assert r["Kosten bedden"] == t["cost_eur"]
        assert r["Plan als % van 0-meting"] == pytest.approx(t["beds"] / t["beds_0_meting"])
        assert r["Minimaal nodig (bedden)"] == need.get(key)
        if key in need:
            short = max(0, need[key] - int(t["beds"]))
            assert r["Tekort t.o.v. minimaal nodig (bedden)"] == short
            assert r["Minimaal nodig gehaald"] == ("gehaald" if short == 0 else "niet gehaald")
    assert seen == set(totals.index)
    header, rows = _table(plan_book.book["per aanbieder"])
    for r in _by_header(header, rows):
        cells = plan[(plan["provider"] == r["Code aanbieder"])]
        cells = cells[cells["care_form"] == form_of[r["Verblijfsvorm"]]]
        assert {int(y): r[str(y)] for y in cells["year"]} == dict(
            zip(cells["year"], cells["beds"], strict=True)
        )
        assert r["0-meting (bedden)"] == cells["beds_0_meting"].iloc[0]
    # each target's planned beds are the plan's beds of its care forms that year
    header, rows = _table(plan_book.book["doelen"])
    targets = _csv(plan_book.out / "targets.csv")
    for t, r in zip(targets.to_dict(orient="records"), _by_header(header, rows), strict=True):
        forms = str(t["care_forms"]).split(" + ")
        beds = plan[plan["care_form"].isin(forms) & (plan["year"] == t["year"])]["beds"].sum()
        assert r["Bedden in plan"] == beds == t["planned_beds"]
        assert r["Plan t.o.v. grens (bedden)"] == beds - t["bound_beds"]


def test_changes_against_the_agreement_read_from_the_csv(plan_book: PlanBook) -> None:
    changes = _csv(plan_book.out / "changes.csv")
    header, rows = _table(plan_book.book["Wijzigingen t.o.v. afspraak"])
    assert len(changes) > 0 and len(rows) == len(changes)
    for c, r in zip(changes.to_dict(orient="records"), _by_header(header, rows), strict=True):
        assert (r["Code aanbieder"], r["Jaar"]) == (c["provider"], c["year"])
        assert r["Verschil (bedden)"] == r["Plan (bedden)"] - r["Afspraak (bedden)"]
        assert r["Verschil (bedden)"] == c["change_vs_reference"]
    column = header.index("Verschil (bedden)")
    for row in rows:
        assert _fill(row[column]) == (GREEN if row[column].value > 0 else RED)


def test_a_plan_that_cannot_be_made_says_so_first(tmp_path: Path) -> None:
    from capaciteit.optimisation.afbouw_plan import afbouw_plan
    from capaciteit.results.afbouw_report import write_afbouw
    from capaciteit.simulation.executors import make_executor
    from tests.test_afbouw import small_scenario

    file = small_scenario(
        tmp_path,
        {
            "need": "none",
            "min_group_size": {"a": 5},
            "pinned": [{"provider": "P1", "care_form": "a", "year": 2024, "beds": 2}],
        },
    )
    result = afbouw_plan(load_scenario(file), executor=make_executor("serial"), replications=2)
    assert result.status == "infeasible"
    write_afbouw(load_scenario(file), result, tmp_path / "out")
    book = openpyxl.load_workbook(tmp_path / "out" / "plan.xlsx")
    assert book.sheetnames == ["samenvatting", "doelen", "ombouwbudget"]
    _, rows = _table(book["samenvatting"])
    assert [c.value for c in rows[0][:2]] == ["niet gehaald", "Afbouwplan"]
    assert "geen plan mogelijk" in rows[0][2].value and {_fill(c) for c in rows[0]} == {RED}
    assert book["ombouwbudget"]["A2"].value == "Zonder plan geen ombouwbudget."
