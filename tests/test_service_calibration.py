"""Stay records, calibration and backtest jobs through the real server, on SQLite and PostgreSQL.

The records are made here (two care forms, known rates, no age-outs), written as CSV and
uploaded; every expectation is recounted from that CSV with pandas (stays, the extract
date, occupants on the peildatum, entries from home per year, ended stays per form and
destination, occupants at the cut, admissions and the time-average occupied per quarter
after it), never taken from an earlier run. A file with a name column, a BSN as client id,
a broken date or an id with a space is refused without the value in the answer; another
organisation sees nothing; a reader starts nothing; an upload over the limits is refused.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import urllib.parse
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from tests.test_service import (
    PG_ENV,
    Server,
    assert_problem,
    cli_token,
    make_token,
    model_files,
    pg_url,  # noqa: F401 - the fixture, for the PostgreSQL server
    wait_job,
)

WINDOW_START = dt.date(2020, 1, 1)
EXTRACT_DATE = dt.date(2024, 12, 31)
ZERO_DATE = dt.date(2024, 6, 30)
CUT = dt.date(2024, 1, 1)
MAX_REQUEST_BYTES = 1_000_000
"""Body limit of the servers here (the records are ~40 kB)."""
TEMP = re.compile(r"/tmp/|capaciteit-job-|capaciteit-records-")
"""What a worker's temporary path looks like in a result."""


def make_stays(seed: int = 11) -> pd.DataFrame:
    """Stays of a small region: crisis (short, 30% on to pleegzorg) and pleegzorg.

    Everyone arrives in the window, at 2 to 10 years, and leaves long before any age
    limit, so every ended stay is routing and every first stay an entry from home.
    """
    rng = np.random.default_rng(seed)
    days = (EXTRACT_DATE - WINDOW_START).days + 1
    rows: list[dict[str, str]] = []
    client = 0

    def add(cid: str, form: str, provider: str, start: int, age: float) -> tuple[int, str]:
        length = int(rng.exponential(20.0 if form == "crisis" else 400.0)) + 1
        end = start + length
        nxt = ""
        if end < days:
            if form == "crisis":
                nxt = "pleegzorg" if rng.random() < 0.3 else "thuis"
            else:
                nxt = "thuis" if rng.random() < 0.6 else "zelfstandig"
        rows.append(
            {
                "client_id": cid,
                "provider": provider,
                "care_form": form,
                "start_date": (WINDOW_START + dt.timedelta(days=start)).isoformat(),
                "end_date": (WINDOW_START + dt.timedelta(days=end)).isoformat() if nxt else "",
                "next": nxt,
                "age_at_start_years": f"{age:.2f}",
                "referral_date": "",
            }
        )
        return end, nxt

    for form, per_year in (("crisis", 40.0), ("pleegzorg", 20.0)):
        for start in np.sort(rng.integers(0, days, rng.poisson(per_year * days / 365.25))):
            client += 1
            cid, age = f"J{client:05d}", float(rng.uniform(2, 10))
            provider = str(rng.choice(["P01", "P02"] if form == "pleegzorg" else ["P03"]))
            end, nxt = add(cid, form, provider, int(start), age)
            if nxt == "pleegzorg":
                add(cid, "pleegzorg", str(rng.choice(["P01", "P02"])), end, age + 0.1)
    frame = pd.DataFrame(rows)
    return frame.sort_values(["start_date", "client_id"], kind="stable").reset_index(drop=True)


STAYS = make_stays()
STAYS_CSV = STAYS.to_csv(index=False).encode()


def _dates(column: str) -> pd.Series:
    return pd.to_datetime(STAYS[column].replace("", None))


# ---------------------------------------------------------------------------------------
# The servers and what is uploaded and started on them
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    server: Server
    tokens: dict[str, str]
    ids: dict[str, int]

    def api(self, who: str) -> httpx.Client:
        return self.server.client(self.tokens[who], timeout=120)


def two_organisations(http: httpx.Client) -> tuple[dict[str, str], dict[str, int]]:
    """Make organisations A and B with a planner and a reader (ontwikkeltafel) each.

    Returns the tokens by ``"<role> <A|B>"`` and the ids by ``"organisation <A|B>"``.
    """
    tokens: dict[str, str] = {}
    ids: dict[str, int] = {}
    for name in ("A", "B"):
        made = http.post("/organisations", json={"name": f"Regio {name}"})
        assert made.status_code == 201, made.text
        for role in ("planner", "ontwikkeltafel"):
            body = {"role": role, "name": f"{role} {name}", "organisations": [made.json()["id"]]}
            tokens[f"{role} {name}"] = http.post("/tokens", json=body).json()["token"]
        ids[f"organisation {name}"] = made.json()["id"]
    return tokens, ids


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Organisations A and B, planners of each, a reader of A; A's records and jobs."""
    workdir = tmp_path_factory.mktemp(f"calibration-{request.param}")
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        admin = make_token(url, "admin", "calibration admin")
    else:
        url = f"sqlite:///{workdir / 'service.db'}"
        admin = cli_token(url, "admin")
    settings = {"job_workers": 1, "max_request_bytes": MAX_REQUEST_BYTES}
    server = Server(url, workdir, settings).start()
    try:
        tokens, ids = {"admin": admin}, {}
        with server.client(admin) as http:
            made_tokens, made_ids = two_organisations(http)
            tokens |= made_tokens
            ids |= made_ids
            both = [ids["organisation A"], ids["organisation B"]]
            body = {"role": "planner", "name": "planner AB", "organisations": both}
            tokens["planner AB"] = http.post("/tokens", json=body).json()["token"]
        world = World(server, tokens, ids)
        with world.api("planner A") as planner:
            upload = planner.post("/records", files={"file": ("stays.csv", STAYS_CSV)})
            assert upload.status_code == 201, upload.text
            ids["records"] = upload.json()["id"]
            ids["region"] = planner.post("/regions", files=model_files()).json()["id"]
            body = {
                "records_id": ids["records"],
                "base_region_id": ids["region"],
                "window_start": WINDOW_START.isoformat(),
                "zero_date": ZERO_DATE.isoformat(),
                "extract_date": EXTRACT_DATE.isoformat(),
                "name": "Regio A gekalibreerd",
            }
            started = planner.post("/calibrations", json=body)
            assert started.status_code == 202, started.text
            ids["calibration"] = started.json()["id"]
            body = {
                "records_id": ids["records"],
                "cut": CUT.isoformat(),
                "quarters": 4,
                "replications": 20,
                "seed": 3,
                "window_start": WINDOW_START.isoformat(),
                "extract_date": EXTRACT_DATE.isoformat(),
            }
            started = planner.post("/backtests", json=body)
            assert started.status_code == 202, started.text
            ids["backtest"] = started.json()["id"]
            # an extract date before the last stays: refused by the job, naming no client
            body = {"records_id": ids["records"], "extract_date": "2023-12-31"}
            ids["failing"] = planner.post("/calibrations", json=body).json()["id"]
        with world.api("planner B") as other:
            ids["region B"] = other.post("/regions", files=model_files()).json()["id"]
        yield world
    finally:
        server.stop()


def _done(world: World, path: str) -> dict[str, Any]:
    with world.api("planner A") as planner:
        job = wait_job(planner, path, timeout=180, every=0.2)
    assert job["status"] == "done", job
    return job


def _no_person_in(text: str) -> None:
    """No client id and no date of the records in ``text``.

    (The reader's fix shows how to write a date with 2024-03-01, its own example.)
    """
    assert not re.search(r"J\d{5}", text), text[:500]
    written = (set(STAYS["start_date"]) | set(STAYS["end_date"])) - {"", "2024-03-01"}
    assert not [day for day in written if day in text], text[:500]


# ---------------------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------------------


def test_uploaded_records_show_their_counts_and_no_row(world: World) -> None:
    dates = pd.concat([_dates("start_date"), _dates("end_date")]).dropna()
    expected = {
        "id": world.ids["records"],
        "name": "stays.csv",
        "stays": len(STAYS),
        "care_forms": sorted(STAYS["care_form"].unique()),
        "extract_date": dates.max().date().isoformat(),
        "first_start": _dates("start_date").min().date().isoformat(),
    }
    with world.api("planner A") as planner:
        one = planner.get(f"/records/{world.ids['records']}")
        listed = planner.get("/records")
    assert one.status_code == 200, one.text
    assert {k: one.json()[k] for k in expected} == expected
    assert set(one.json()) == {*expected, "created_at"}
    assert [r["id"] for r in listed.json()] == [world.ids["records"]]
    assert "J00001" not in one.text + listed.text


@pytest.mark.parametrize(
    ("change", "secret"),
    [
        pytest.param("naam", "Jan Jansen", id="name-column"),
        pytest.param("bsn", "123456782", id="bsn-as-client-id"),
        pytest.param("date", "2023-02-30", id="broken-date"),
        pytest.param("space", "J00 777", id="id-with-a-space"),
    ],
)
def test_personal_data_is_refused_without_repeating_it(
    world: World, change: str, secret: str
) -> None:
    stays = STAYS.copy()
    if change == "naam":
        stays.insert(1, "naam", secret)
    elif change == "bsn":
        stays.loc[stays["client_id"] == stays.at[0, "client_id"], "client_id"] = secret
    elif change == "date":
        stays.loc[3, "start_date"] = secret
    else:
        stays.loc[5, "client_id"] = secret
    with world.api("planner A") as planner:
        answer = planner.post("/records", files={"file": ("stays.csv", stays.to_csv(index=False))})
        after = planner.get("/records").json()
    body = assert_problem(answer, 422)
    assert body["problems"], body
    assert secret not in answer.text and secret.replace(" ", "") not in answer.text
    _no_person_in(answer.text)
    assert all(p["id"] is None for p in body["problems"]), body
    assert [r["id"] for r in after] == [world.ids["records"]], "nothing is stored"
    if change == "naam":
        assert body["problems"][0]["column"] == "naam"
    else:
        assert any(p["row"] is not None and p["row"] >= 2 for p in body["problems"]), body


def test_an_upload_over_the_limits_is_refused(world: World) -> None:
    big = STAYS_CSV * (MAX_REQUEST_BYTES // len(STAYS_CSV) + 1)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            for _ in range(30):
                out.write(bytes(1 << 20))
    with world.api("planner A") as planner:
        assert_problem(planner.post("/records", files={"file": ("groot.csv", big)}), 413)
        answer = planner.post("/records", files={"file": ("stays.xlsx", bomb.getvalue())})
        body = assert_problem(answer, 422)
        assert "xl/worksheets/sheet1.xml" in {p["file"] for p in body["problems"]}, body
        assert [r["id"] for r in planner.get("/records").json()] == [world.ids["records"]]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"cut": "2024-02-01"}, id="cut-not-1-january"),
        pytest.param({"cut": "1989-01-01"}, id="cut-before-1990"),
        pytest.param({"quarters": 3}, id="quarters<4"),
        pytest.param({"quarters": 9}, id="quarters>8"),
        pytest.param({"replications": 19}, id="replications<20"),
        pytest.param({"replications": 501}, id="replications>500"),
        pytest.param({"seed": -1}, id="seed<0"),
        pytest.param({"window_start": "2020-1-1"}, id="not-iso"),
        pytest.param({"window_start": "2200-01-01"}, id="after-2199"),
        pytest.param({"naam": "x"}, id="unknown-field"),
    ],
)
def test_backtest_requests_are_bounded(world: World, body: dict[str, Any]) -> None:
    request = {"records_id": world.ids["records"], "cut": "2024-01-01", **body}
    with world.api("planner A") as planner:
        assert_problem(planner.post("/backtests", json=request), 422)


def test_the_backtest_bounds_are_those_of_the_backtest() -> None:
    from capaciteit.calibration.backtest import MAX_QUARTERS, MIN_QUARTERS
    from capaciteit.service.schemas import BacktestIn

    quarters = BacktestIn.model_json_schema()["properties"]["quarters"]
    assert (quarters["minimum"], quarters["maximum"]) == (MIN_QUARTERS, MAX_QUARTERS)


# ---------------------------------------------------------------------------------------
# Calibration
# ---------------------------------------------------------------------------------------


def _estimates(result: dict[str, Any], quantity: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["care_form"], e["key"]): e for e in result["estimates"] if e["quantity"] == quantity}


def test_calibration_counts_what_the_records_hold(world: World) -> None:
    path = f"/calibrations/{world.ids['calibration']}"
    job = _done(world, path)
    with world.api("planner A") as planner:
        result = planner.get(f"{path}/result").json()
    assert result["records"] == {
        "file": "stays.csv",
        "records_id": world.ids["records"],
        "stays": len(STAYS),
        "window_start": WINDOW_START.isoformat(),
        "extract_date": EXTRACT_DATE.isoformat(),
        "zero_date": ZERO_DATE.isoformat(),
    }
    start, end = _dates("start_date"), _dates("end_date")
    # occupants on the peildatum, per form and provider
    zero = pd.Timestamp(ZERO_DATE)
    inside = STAYS[(start <= zero) & (end.isna() | (end > zero))]
    counted = inside.groupby(["care_form", "provider"]).size()
    occupied = _estimates(result, "occupied")
    assert {k: int(v["estimate"]) for k, v in occupied.items() if v["estimate"]} == {
        k: int(v) for k, v in counted.items()
    }
    # ended stays per form and where they went
    ended = STAYS[STAYS["next"] != ""].groupby(["care_form", "next"]).size()
    routing = _estimates(result, "routing")
    assert {k: v["n"] for k, v in routing.items()} == {k: int(v) for k, v in ended.items()}
    # entries from home (a first stay: nobody here comes back) per form and year
    first = ~STAYS.duplicated("client_id", keep="first")
    entries = STAYS[first].assign(year=start[first].dt.year.astype(str))
    per_year = entries.groupby(["care_form", "year"]).size()
    every_year = entries.groupby("care_form").size()
    instroom = _estimates(result, "instroom")
    assert {k: v["n"] for k, v in instroom.items()} == {
        **{k: int(v) for k, v in per_year.items()},
        **{(form, "alle jaren"): int(v) for form, v in every_year.items()},
    }
    assert not TEMP.search(json.dumps(result)), result
    assert "kalibratie/kalibratie.xlsx" in job["files"] and "model.yaml" in job["files"]
    assert job["params"]["window_start"] == WINDOW_START.isoformat()


def test_calibration_files_download_and_name_no_worker_path(world: World) -> None:
    path = f"/calibrations/{world.ids['calibration']}"
    job = _done(world, path)
    magic = {".xlsx": b"PK\x03\x04", ".png": b"\x89PNG"}
    with world.api("planner A") as planner:
        result = planner.get(f"{path}/result").json()
        for name in job["files"]:
            got = planner.get(f"{path}/files/{name}")
            assert got.status_code == 200, (name, got.text[:300])
            suffix = Path(name).suffix
            if suffix in magic:
                assert got.content.startswith(magic[suffix]), name
            else:
                assert not TEMP.search(got.text), (name, got.text[:300])
                assert not re.search(r"J\d{5}", got.text), name
            if suffix == ".json":  # strict JSON (no NaN): what PostgreSQL stores
                assert json.loads(got.text, parse_constant=pytest.fail) == result
        estimates = pd.read_csv(io.BytesIO(planner.get(f"{path}/files/estimates.csv").content))
        assert {"quantity", "care_form", "estimate", "n"} <= set(estimates.columns)
        assert_problem(planner.get(f"{path}/files/nothing.csv"), 404)
    assert any(n.startswith("kalibratie/") and n.endswith(".png") for n in job["files"])


def test_a_finished_calibration_becomes_a_region_model(world: World) -> None:
    path = f"/calibrations/{world.ids['calibration']}"
    _done(world, path)
    with world.api("planner A") as planner:
        made = planner.post(f"{path}/region")
        assert made.status_code == 201, made.text
        region = made.json()
        assert region["name"] == "Regio A gekalibreerd"
        assert set(region["summary"]["care_forms"]) == set(STAYS["care_form"])
        assert region["id"] in [r["id"] for r in planner.get("/regions").json()]
    with world.api("planner B") as other:
        assert_problem(other.get(f"/regions/{region['id']}"), 404)


def test_a_failing_job_names_no_client(world: World) -> None:
    with world.api("planner A") as planner:
        job = wait_job(planner, f"/calibrations/{world.ids['failing']}", timeout=180, every=0.2)
        assert job["status"] == "failed", job
        assert_problem(planner.get(f"/calibrations/{job['id']}/result"), 409)
        assert_problem(planner.post(f"/calibrations/{job['id']}/region"), 409)
    problems = job["error"]["problems"]
    late = STAYS[(_dates("start_date") > "2023-12-31") | (_dates("end_date") > "2023-12-31")]
    # every late row is named: listed with its row, or counted ("en nog 55 rijen")
    listed = {p["row"] for p in problems if p["row"] is not None}
    counted = sum(int(n) for p in problems for n in re.findall(r"en nog (\d+) rijen", p["message"]))
    assert listed and listed <= {int(i) + 2 for i in late.index}, job["error"]
    assert len(listed) + counted >= len(late) > 0, job["error"]
    assert all(p["id"] is None for p in problems)
    _no_person_in(json.dumps(job["error"]))


# ---------------------------------------------------------------------------------------
# Backtest
# ---------------------------------------------------------------------------------------


def _occupied_per_day(form: str, first: dt.date, last: dt.date) -> float:
    """The mean over the days ``first..last`` of the stays of ``form`` in care that day."""
    mine = STAYS[STAYS["care_form"] == form]
    start = pd.to_datetime(mine["start_date"])
    end = pd.to_datetime(mine["end_date"].replace("", None))
    days = pd.date_range(first, last)
    return float(np.mean([((start <= d) & (end.isna() | (end > d))).sum() for d in days]))


def test_backtest_compares_with_what_the_records_show(world: World) -> None:
    path = f"/backtests/{world.ids['backtest']}"
    job = _done(world, path)
    with world.api("planner A") as planner:
        result = planner.get(f"{path}/result").json()
    assert result["cut"] == CUT.isoformat()
    assert result["quarters"] == ["2024-K1", "2024-K2", "2024-K3", "2024-K4"]
    assert (result["replications"], result["seed"]) == (20, 3)
    assert result["records"]["records_id"] == world.ids["records"]
    start, end = _dates("start_date"), _dates("end_date")
    cut = pd.Timestamp(CUT)
    assert result["occupants_at_cut"] == int(((start < cut) & (end.isna() | (end >= cut))).sum())
    quarters = [(dt.date(2024, m, 1), dt.date(2024, m + 2, 1)) for m in (1, 4, 7, 10)]
    for cell in result["cells"]:
        k = int(cell["quarter"][-1]) - 1
        first = quarters[k][0]
        last = (pd.Timestamp(quarters[k][1]) + pd.offsets.MonthEnd(0)).date()
        mine = STAYS["care_form"] == cell["care_form"]
        if cell["measure"] == "admissions":
            admitted = mine & (start >= pd.Timestamp(first)) & (start <= pd.Timestamp(last))
            assert cell["realised"] == int(admitted.sum()), cell
        elif cell["measure"] == "occupied":
            expected = _occupied_per_day(cell["care_form"], first, last)
            assert cell["realised"] == pytest.approx(expected, rel=1e-9), cell
    forms = sorted(STAYS["care_form"].unique())
    wanted = {"backtest.xlsx", "backtest.csv", "dekking.csv", "model/model.yaml", "scenario.yaml"}
    assert wanted | {f"backtest_{f}.png" for f in forms} <= set(job["files"])
    with world.api("planner A") as planner:
        scenario = planner.get(f"{path}/files/scenario.yaml").text
        assert "model: model" in scenario and not TEMP.search(scenario), scenario
        workbook = planner.get(f"{path}/files/backtest.xlsx")
        assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert planner.get(f"{path}/files/backtest_crisis.png").content.startswith(b"\x89PNG")
    assert not TEMP.search(json.dumps(result))


# ---------------------------------------------------------------------------------------
# Who may
# ---------------------------------------------------------------------------------------


def test_another_organisation_sees_and_uses_nothing(world: World) -> None:
    ids = world.ids
    calibration, backtest = f"/calibrations/{ids['calibration']}", f"/backtests/{ids['backtest']}"
    with world.api("planner B") as other:
        for url in (
            f"/records/{ids['records']}",
            calibration,
            f"{calibration}/result",
            f"{calibration}/files/model.yaml",
            backtest,
            f"{backtest}/result",
            f"{backtest}/files/backtest.csv",
        ):
            assert_problem(other.get(url), 404)
        for url in (f"{calibration}/cancel", f"{calibration}/region", f"{backtest}/cancel"):
            assert_problem(other.post(url), 404)
        body = {"records_id": ids["records"]}
        assert_problem(other.post("/calibrations", json=body), 404)
        assert_problem(other.post("/backtests", json={**body, "cut": "2024-01-01"}), 404)
        for listed in ("/records", "/calibrations", "/backtests"):
            assert other.get(listed).json() == [], listed
    with world.api("planner A") as planner:
        # B's region model as the base of A's records: as if it did not exist
        body = {"records_id": ids["records"], "base_region_id": ids["region B"]}
        assert_problem(planner.post("/calibrations", json=body), 404)
        assert {j["id"] for j in planner.get("/calibrations").json()} >= {ids["calibration"]}
    with world.api("planner AB") as both:
        # a planner of both: A's records with B's model would carry B's model into A's job
        body = {"records_id": ids["records"], "base_region_id": ids["region B"]}
        refused = assert_problem(both.post("/calibrations", json=body), 422)
        assert refused["problems"][0]["column"] == "base_region_id", refused
        # and it names the organisation it uploads records for
        upload = {"file": ("stays.csv", STAYS_CSV)}
        assert_problem(both.post("/records", files=upload), 422)
        chosen = {"organisation_id": str(ids["organisation B"])}
        made = both.post("/records", files=upload, data=chosen)
        assert made.status_code == 201, made.text
    with world.api("planner B") as other, world.api("planner A") as planner:
        assert [r["id"] for r in other.get("/records").json()] == [made.json()["id"]]
        assert_problem(planner.get(f"/records/{made.json()['id']}"), 404)


def test_a_reader_starts_nothing_and_sees_no_records(world: World) -> None:
    ids = world.ids
    with world.api("ontwikkeltafel A") as reader:
        assert_problem(reader.post("/records", files={"file": ("s.csv", STAYS_CSV)}), 403)
        assert_problem(reader.get("/records"), 403)
        assert_problem(reader.get(f"/records/{ids['records']}"), 403)
        body = {"records_id": ids["records"]}
        assert_problem(reader.post("/calibrations", json=body), 403)
        assert_problem(reader.post("/backtests", json={**body, "cut": "2024-01-01"}), 403)
        assert_problem(reader.post(f"/calibrations/{ids['calibration']}/region"), 403)
        assert reader.get(f"/calibrations/{ids['calibration']}").status_code == 200


# ---------------------------------------------------------------------------------------
# A 0-meting, dates refused up front, file names (after the tests that list A's records)
# ---------------------------------------------------------------------------------------

GIVEN_BEDS = [
    {"provider": "P03", "care_form": "crisis", "beds": 77},
    {"provider": "P01", "care_form": "pleegzorg", "beds": 501},
    {"provider": "P02", "care_form": "pleegzorg", "beds": 502},
]
"""A 0-meting above every occupancy of the records, so the calibration keeps each count."""


def _beds_of(table: str) -> dict[tuple[str, str], int]:
    frame = pd.read_csv(io.StringIO(table), dtype={"provider": str, "care_form": str})
    return {(r.provider, r.care_form): int(r.beds) for r in frame.itertuples()}


def test_a_calibration_and_a_backtest_take_a_0_meting(world: World) -> None:
    given = {(b["provider"], b["care_form"]): b["beds"] for b in GIVEN_BEDS}
    with world.api("planner A") as planner:
        body = {"records_id": world.ids["records"], "zero_date": ZERO_DATE.isoformat()}
        started = planner.post("/calibrations", json={**body, "beds": GIVEN_BEDS})
        assert started.status_code == 202, started.text
        path = f"/calibrations/{started.json()['id']}"
        job = wait_job(planner, path, timeout=180, every=0.2)
        assert job["status"] == "done", job
        assert job["params"]["beds"] == GIVEN_BEDS
        result = planner.get(f"{path}/result").json()
        assert _beds_of(planner.get(f"{path}/files/beds.csv").text) == given
        body = {"records_id": world.ids["records"], "cut": CUT.isoformat(), "quarters": 4}
        started = planner.post("/backtests", json={**body, "replications": 20, "beds": GIVEN_BEDS})
        assert started.status_code == 202, started.text
        path = f"/backtests/{started.json()['id']}"
        assert wait_job(planner, path, timeout=180, every=0.2)["status"] == "done"
        assert _beds_of(planner.get(f"{path}/files/model/beds.csv").text) == given
    beds = _estimates(result, "beds")
    assert {(k[1], k[0]): int(v["estimate"]) for k, v in beds.items()} == given
    assert any("opgegeven 0-meting" in note for note in result["notes"]), result["notes"]


@pytest.mark.parametrize(
    ("beds", "where"),
    [
        pytest.param([*GIVEN_BEDS, {**GIVEN_BEDS[1], "beds": 3}], "P01", id="twice"),
        pytest.param([{**GIVEN_BEDS[0], "beds": -1}], "beds.0.beds", id="negative"),
        pytest.param([{**GIVEN_BEDS[0], "beds": 100_001}], "beds.0.beds", id="over-100000"),
        pytest.param([{**GIVEN_BEDS[0], "beds": 2.5}], "beds.0.beds", id="not-whole"),
        pytest.param([{**GIVEN_BEDS[0], "provider": "P 03"}], "beds.0.provider", id="space"),
        pytest.param([{**GIVEN_BEDS[0], "naam": "x"}], "beds.0.naam", id="unknown-field"),
        pytest.param([{"provider": "P03", "beds": 1}], "beds.0.care_form", id="no-care-form"),
        pytest.param(
            [{"provider": f"P{i}", "care_form": "crisis", "beds": 1} for i in range(10_001)],
            "beds",
            id="over-10000",
        ),
    ],
)
def test_a_0_meting_is_bounded(world: World, beds: list[dict[str, Any]], where: str) -> None:
    request = {"records_id": world.ids["records"], "beds": beds}
    with world.api("planner A") as planner:
        before = len(planner.get("/calibrations").json())
        for path, extra in (("/calibrations", {}), ("/backtests", {"cut": CUT.isoformat()})):
            body = assert_problem(planner.post(path, json={**request, **extra}), 422)
            assert any(where in json.dumps(p) for p in body["problems"]), body
        assert len(planner.get("/calibrations").json()) == before


def test_the_0_meting_in_the_api_document() -> None:
    from capaciteit.service.schemas import BacktestIn, CalibrationIn

    for schema in (CalibrationIn.model_json_schema(), BacktestIn.model_json_schema()):
        beds = next(s for s in schema["properties"]["beds"]["anyOf"] if s.get("type") == "array")
        assert beds["maxItems"] == 10_000, beds
        item = schema["$defs"][beds["items"]["$ref"].rsplit("/", 1)[-1]]
        assert set(item["required"]) == {"provider", "care_form", "beds"}
        assert (item["properties"]["beds"]["minimum"], item["properties"]["beds"]["maximum"]) == (
            0,
            100_000,
        )
    replications = BacktestIn.model_json_schema()["properties"]["replications"]
    assert replications["maximum"] == 500 and "2000" in replications["description"]


FIRST_START = _dates("start_date").min().date()
LATEST = pd.concat([_dates("start_date"), _dates("end_date")]).dropna().max().date()


BT, CAL = "/backtests", "/calibrations"
REFUSED_DAYS: dict[str, tuple[str, dict[str, str], str]] = {
    "cut-early": (BT, {"cut": f"{FIRST_START.year - 1}-01-01"}, "cut"),
    "cut-at-start": (BT, {"cut": f"{FIRST_START.year}-01-01"}, "cut"),
    "cut-late": (BT, {"cut": f"{LATEST.year + 1}-01-01"}, "cut"),
    "cut-after-given-extract": (BT, {"cut": "2024-01-01", "extract_date": "2023-06-30"}, "cut"),
    "window-not-before-cut": (
        BT,
        {"cut": "2022-01-01", "window_start": "2022-01-01"},
        "window_start",
    ),
    "zero-late": (CAL, {"zero_date": "2030-01-01"}, "zero_date"),
    "zero-before-first-start": (CAL, {"zero_date": f"{FIRST_START.year - 1}-12-31"}, "zero_date"),
    "zero-before-window": (
        CAL,
        {"window_start": "2022-01-01", "zero_date": "2021-12-31"},
        "zero_date",
    ),
    "zero-after-given-extract": (
        CAL,
        {"extract_date": "2024-06-30", "zero_date": "2024-07-01"},
        "zero_date",
    ),
    "window-late": (CAL, {"window_start": "2025-01-01"}, "window_start"),
    "window-at-extract": (CAL, {"window_start": LATEST.isoformat()}, "window_start"),
}
"""Days the records do not hold, and the field a refusal names."""


@pytest.mark.parametrize(("path", "body", "field"), REFUSED_DAYS.values(), ids=REFUSED_DAYS)
def test_days_outside_the_records_are_refused_up_front(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    with world.api("planner A") as planner:
        before = len(planner.get(path).json())
        answer = planner.post(path, json={"records_id": world.ids["records"], **body})
        refused = assert_problem(answer, 422)
        assert [p["column"] for p in refused["problems"]] == [field], refused
        assert "--" not in answer.text, refused
        assert len(planner.get(path).json()) == before


def _engine(world: World) -> sa.Engine:
    from capaciteit.service.config import ServiceSettings

    return sa.create_engine(ServiceSettings(database_url=world.server.database_url).sqlalchemy_url)


def test_records_stored_without_their_first_start_still_are_checked(world: World) -> None:
    """Records uploaded before the summary held the first start: it is read when needed."""
    with world.api("planner A") as planner:
        made = planner.post("/records", files={"file": ("oud.csv", STAYS_CSV)})
        assert made.status_code == 201, made.text
        records_id = made.json()["id"]
        assert made.json()["first_start"] == FIRST_START.isoformat()
        from capaciteit.service.db import StayRecordsUpload

        old = {k: made.json()[k] for k in ("stays", "care_forms", "extract_date")}
        engine = _engine(world)
        try:
            with engine.begin() as conn:
                table = StayRecordsUpload.__table__
                conn.execute(sa.update(table).where(table.c.id == records_id).values(summary=old))
        finally:
            engine.dispose()
        assert planner.get(f"/records/{records_id}").json()["first_start"] is None
        body = {"records_id": records_id, "cut": f"{FIRST_START.year}-01-01"}
        refused = assert_problem(planner.post("/backtests", json=body), 422)
        assert [p["column"] for p in refused["problems"]] == ["cut"], refused
        body = {"records_id": records_id, "zero_date": "2030-01-01"}
        assert_problem(planner.post("/calibrations", json=body), 422)


# records whose first stay began long before the first one ended: the default window
# (from the first end date) starts after the first start, so a day between the two passes
# the check up front and is refused by the pipeline, which names the option of the CLI
LATE_WINDOW_CSV = (
    "client_id,provider,care_form,start_date,end_date,next,age_at_start_years\n"
    "K0001,P01,pleegzorg,2018-03-01,,,5\n"
    + "".join(
        f"K{n:04d},P01,pleegzorg,2021-{n:02d}-01,2022-{n:02d}-15,thuis,6\n" for n in range(2, 12)
    )
).encode()


def test_a_job_refused_by_the_pipeline_names_the_api_field(world: World) -> None:
    with world.api("planner A") as planner:
        made = planner.post("/records", files={"file": ("laat.csv", LATE_WINDOW_CSV)})
        assert made.status_code == 201, made.text
        records_id = made.json()["id"]
        jobs = {
            "cut": ("/backtests", {"cut": "2020-01-01", "replications": 20}),
            "zero_date": ("/calibrations", {"zero_date": "2019-06-01"}),
        }
        for field, (path, body) in jobs.items():
            started = planner.post(path, json={"records_id": records_id, **body})
            assert started.status_code == 202, started.text
            job = wait_job(planner, f"{path}/{started.json()['id']}", timeout=180, every=0.2)
            assert job["status"] == "failed", job
            assert [p["file"] for p in job["error"]["problems"]] == [field], job["error"]
            assert "--" not in json.dumps(job["error"]), job["error"]


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        pytest.param("junk.xlsx", bytes(range(256)) * 8, "kan niet als tabel", id="junk-xlsx"),
        pytest.param("junk.csv", b"\xff\xfe\x00bad" * 50, "geen UTF-8", id="junk-csv"),
        pytest.param("x.txt", STAYS_CSV, "alleen .csv of .xlsx", id="txt"),
        pytest.param("stays", STAYS_CSV, "alleen .csv of .xlsx", id="no-suffix"),
    ],
)
def test_an_upload_is_read_as_its_name_says(
    world: World, name: str, content: bytes, said: str
) -> None:
    with world.api("planner A") as planner:
        before = planner.get("/records").json()
        answer = planner.post("/records", files={"file": (name, content)})
        body = assert_problem(answer, 422)
        assert [p["file"] for p in body["problems"]] == [name], body
        assert said in body["problems"][0]["message"], body
        assert planner.get("/records").json() == before


# ---------------------------------------------------------------------------------------
# Migration
# ---------------------------------------------------------------------------------------


@contextmanager
def _empty_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A new SQLite file, or a new database on the PostgreSQL server of the tests."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    import psycopg
    from psycopg import sql

    from capaciteit.service.config import ServiceSettings

    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    name = f"capaciteit_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = urllib.parse.urlsplit(base)._replace(path=f"/{name}").geturl()
        yield ServiceSettings(database_url=url).sqlalchemy_url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_previous_release_upgrades_keeping_its_data(tmp_path: Path, database: str) -> None:
    """0003 (the previous head) with a region in it: upgraded, the region stays, the new
    table is there and empty; downgraded, the table is gone again.
    """
    from alembic import command
    from alembic.config import Config

    from capaciteit.service.db import MIGRATIONS, migrate

    with _empty_database(database, tmp_path) as url:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.upgrade(config, "0003")
        engine = sa.create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO regions (id, organisation_id, name, archive, summary, "
                        "created_at) VALUES (11, 1, 'Oude regio', :a, '{}', :t)"
                    ),
                    {"a": b"zip", "t": dt.datetime(2026, 11, 1)},
                )
            migrate(url)
            with engine.connect() as conn:
                names = conn.execute(sa.text("SELECT name FROM regions")).scalars().all()
                assert names == ["Oude regio"]
                assert conn.execute(sa.text("SELECT count(*) FROM stay_records")).scalar() == 0
                heads = conn.execute(sa.text("SELECT version_num FROM alembic_version"))
                assert heads.scalars().all() == ["0004"]
            command.downgrade(config, "0003")
            with engine.connect() as conn:
                assert "stay_records" not in sa.inspect(conn).get_table_names()
                assert conn.execute(sa.text("SELECT count(*) FROM regions")).scalar() == 1
        finally:
            engine.dispose()
