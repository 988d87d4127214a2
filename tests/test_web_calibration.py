"""The calibration pages over HTTP on the real server and its worker, and in Chromium.

A planner of organisation A uploads stay records through the *Verblijfsgegevens* form
(the records of ``test_service_calibration``, made there with known rates), starts a
calibration on the example region model and a backtest through the forms, and reads both
pages once the worker is done. What the pages say is recounted here from the uploaded CSV
(stays, extract date, entries from home, ended stays per destination, occupants on the
peildatum) and from the backtest's own cells (inside the band per measure and care form as
"x van y", the error of each mean, the quarters outside), in Dutch formats, with no NaN
anywhere. A refused upload lists every problem without the client id or the cell's value;
another organisation's planner gets 404 on every page of A's records and jobs; a reader
reads the results but starts nothing. In Chromium the pages pass axe-core.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import io
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.conftest import CHROMIUM, EXAMPLE_MODEL
from tests.test_service import Server, cli_token, model_files, wait_job
from tests.test_service_calibration import STAYS, STAYS_CSV, _no_person_in, two_organisations

WINDOW_START = dt.date(2020, 1, 1)
ZERO_DATE = dt.date(2024, 6, 30)
CUT_YEAR = 2024
BSN = "123456782"
"""Passes the elfproef: a BSN, which no page may show back."""

if CHROMIUM.exists():
    from tests.test_web import _accessible, browser
else:

    @pytest.fixture(scope="module")
    def browser() -> Any:
        if os.environ.get("CAPACITEIT_REQUIRE_BROWSER"):
            raise RuntimeError(f"{CHROMIUM} is missing but CAPACITEIT_REQUIRE_BROWSER is set")
        pytest.skip(f"no browser at {CHROMIUM} (apt-get install chromium)")


@dataclass
class Site:
    server: Server
    tokens: dict[str, str]
    ids: dict[str, int]

    @contextmanager
    def web(self, who: str) -> Iterator[httpx.Client]:
        """A browser session signed in as ``who`` (the cookie of the sign-in form)."""
        with httpx.Client(base_url=self.server.base, timeout=120) as web:
            assert web.post("/login", data={"token": self.tokens[who]}).status_code == 303
            yield web

    def api(self, who: str) -> httpx.Client:
        return self.server.client(self.tokens[who], timeout=120)


def _id(response: httpx.Response, prefix: str) -> int:
    assert response.status_code == 303, response.text[:500]
    location = response.headers["location"]
    assert location.startswith(prefix), location
    return int(re.sub(r"\D.*", "", location.removeprefix(prefix)))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Organisations A and B; A's planner uploads and starts both jobs through the forms."""
    workdir = tmp_path_factory.mktemp("web-calibration")
    url = f"sqlite:///{workdir / 'web.db'}"
    admin = cli_token(url, "admin")
    server = Server(url, workdir, {"job_workers": 1}).start()
    try:
        with server.client(admin) as http:
            tokens, _ = two_organisations(http)
        site = Site(server, tokens, {})
        with site.api("planner A") as api:
            site.ids["region"] = api.post("/regions", files=model_files()).json()["id"]
        with site.web("planner A") as web:
            assert "Nog geen verblijfsgegevens" in web.get("/records").text
            upload = web.post("/records", files={"file": ("stays.csv", STAYS_CSV)})
            site.ids["records"] = _id(upload, "/records?added=")
            form = {
                "base_region_id": str(site.ids["region"]),
                "window_start": WINDOW_START.isoformat(),
                "zero_date": ZERO_DATE.isoformat(),
                "name": "",
            }
            started = web.post(f"/records/{site.ids['records']}/calibrations", data=form)
            site.ids["calibration"] = _id(started, "/calibrations/")
            form = {"cut_year": str(CUT_YEAR), "quarters": "4", "replications": "20"}
            started = web.post(f"/records/{site.ids['records']}/backtests", data=form)
            site.ids["backtest"] = _id(started, "/backtests/")
            # one worker: the backtest waits while the calibration runs
            waiting = web.get(f"/backtests/{site.ids['backtest']}").text
            status = re.search(r'id="status">([^<]+)<', waiting)
            assert status is not None
            if status.group(1) in ("in de wachtrij", "bezig"):
                assert 'http-equiv="refresh"' in waiting and "Annuleren" in waiting
        with site.api("planner A") as api:
            for path in (
                f"/calibrations/{site.ids['calibration']}",
                f"/backtests/{site.ids['backtest']}",
            ):
                assert wait_job(api, path, timeout=180, every=0.2)["status"] == "done"
        yield site
    finally:
        server.stop()


# --- what the pages show, recounted ---


class _Tables(html.parser.HTMLParser):
    """The text of every cell of every table with an id, row by row (the body rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or None
            if self._table:
                self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._table and self._in_body:
            self.tables[self._table].append([])
        elif tag == "td" and self._table and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _tables(text: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(text)
    return parser.tables


def _visible(text: str) -> str:
    """The page's text as a person reads it (no tags, no attributes)."""
    main = text.split('<main id="inhoud">', 1)[-1]
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", main).split()))


def _no_nan(text: str) -> None:
    words = set(re.findall(r"[A-Za-z]+", _visible(text)))
    assert not words & {"nan", "NaN", "None", "inf", "null"}, words


def _dutch(value: float, decimals: int = 0) -> str:
    """``1234.5`` -> ``1.234,5``, written here without capaciteit's own helper."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _date(day: dt.date) -> str:
    names = {1: "januari", 6: "juni", 12: "december"}
    return f"{day.day} {names[day.month]} {day.year}"


def _dates(column: str) -> pd.Series:
    return pd.to_datetime(STAYS[column].replace("", None))


def _form_names() -> dict[str, str]:
    forms = pd.read_csv(EXAMPLE_MODEL / "care_forms.csv")
    return dict(zip(forms["care_form"], forms["name"], strict=True))


def test_the_list_shows_the_upload_as_counts(site: Site) -> None:
    extract = pd.concat([_dates("start_date"), _dates("end_date")]).dropna().max().date()
    with site.web("planner A") as web:
        added = web.get(f"/records?added={site.ids['records']}").text
        listed = _tables(added)["records-table"]
    assert [row[:4] for row in listed] == [
        ["stays.csv", _dutch(len(STAYS)), "crisis, pleegzorg", _date(extract)]
    ], listed
    assert f"{_dutch(len(STAYS))} verblijven" in _visible(added)
    assert not re.search(r"J\d{5}", added)  # counts, never a row
    jobs = _tables(added)["jobs-table"]
    assert {row[0] for row in jobs} == {
        f"Kalibratie {site.ids['calibration']}",
        f"Backtest {site.ids['backtest']}",
    }
    assert all(row[1] == "stays.csv" and row[2] == "klaar" for row in jobs), jobs


def test_the_calibration_page_shows_the_recounted_figures(site: Site) -> None:
    path = f"/calibrations/{site.ids['calibration']}"
    with site.web("planner A") as web:
        text = web.get(path).text
        tables = _tables(text)
        shown = _visible(text)
        assert 'id="status">klaar<' in text and 'http-equiv="refresh"' not in text
        extract = pd.concat([_dates("start_date"), _dates("end_date")]).dropna().max().date()
        assert (
            f"{_dutch(len(STAYS))} verblijven uit stays.csv, waargenomen van "
            f"{_date(WINDOW_START)} tot {_date(extract)}; 0-meting (peildatum) op "
            f"{_date(ZERO_DATE)}."
        ) in shown
        names = _form_names()
        start, end = _dates("start_date"), _dates("end_date")
        first = ~STAYS.duplicated("client_id", keep="first")
        zero = pd.Timestamp(ZERO_DATE)
        for form in sorted(STAYS["care_form"].unique()):
            rows = {r[0]: r[1:] for r in tables[f"schattingen-{form}"]}
            # entries from home: every first stay (nobody here comes back)
            entries = STAYS[first & (STAYS["care_form"] == form)]
            label = next(k for k in rows if k.startswith("Instroom per jaar"))
            if label.endswith("(alle jaren)"):
                assert rows[label][2] == _dutch(len(entries)), rows[label]
            else:
                last = start[entries.index].dt.year.max()
                assert rows[label][2] == _dutch((start[entries.index].dt.year == last).sum())
            # ended stays per destination: the count and the share
            ended = STAYS[(STAYS["care_form"] == form) & (STAYS["next"] != "")]
            for to, count in ended["next"].value_counts().items():
                where = names.get(str(to), str(to).capitalize())
                value, interval, n, _ = rows[f"Doorstroom naar {where}"]
                assert n == _dutch(int(count)), (form, to, rows)
                assert value == _dutch(100 * count / len(ended), 1) + "%", (form, to, value)
                low, high = (
                    float(v.rstrip("%").replace(",", ".")) for v in interval[1:-1].split(" – ")
                )
                assert low <= 100 * count / len(ended) <= high, interval
            # occupants on the peildatum
            mine = STAYS["care_form"] == form
            occupied = int((mine & (start <= zero) & (end.isna() | (end > zero))).sum())
            assert rows["Bezet op de peildatum"][0] == _dutch(occupied), rows
            stay = rows["Gemiddelde verblijfsduur (dagen)"]
            assert re.fullmatch(r"\[[\d.]+ – [\d.]+\]", stay[1]) and "verdeling: " in stay[3], stay
        forms = {t for t in tables if t.startswith("schattingen-")}
        assert forms == {f"schattingen-{f}" for f in STAYS["care_form"].unique()}
        _no_nan(text)
        assert "<li>" in text.split('id="notes"', 1)[1]
        for chart in ("verblijfsduur", "instroom", "doorstroom"):
            src = f"{path}/files/kalibratie/{chart}.png"
            assert f'src="{src}"' in text
            assert web.get(src).content.startswith(b"\x89PNG"), chart
        assert web.get(f"{path}/files/kalibratie/kalibratie.xlsx").content.startswith(b"PK")
        assert "Bewaar als regiomodel" in text


def test_a_calibration_is_kept_as_a_region_model(site: Site) -> None:
    path = f"/calibrations/{site.ids['calibration']}"
    with site.web("planner A") as web:
        region_id = _id(web.post(f"{path}/region"), f"{path}?kept=")
        kept = _visible(web.get(f"{path}?kept={region_id}").text)
        assert f"(nummer {region_id})" in kept and "Bewaard als regiomodel" in kept
        # it is a base model to choose on the records page now
        assert f'<option value="{region_id}">' in web.get("/records").text
    with site.api("planner A") as api:
        assert region_id in [r["id"] for r in api.get("/regions").json()]


def test_the_backtest_page_shows_the_coverage_recounted_from_its_cells(site: Site) -> None:
    path = f"/backtests/{site.ids['backtest']}"
    with site.web("planner A") as web:
        text = web.get(path).text
        result = json.loads(web.get(f"{path}/files/backtest.json").content)
        for form in sorted(STAYS["care_form"].unique()):
            src = f"{path}/files/backtest_{form}.png"
            assert f'src="{src}"' in text
            assert web.get(src).content.startswith(b"\x89PNG")
    tables, shown = _tables(text), _visible(text)
    assert result["cut"] == f"{CUT_YEAR}-01-01"
    known = pd.DataFrame([c for c in result["cells"] if c["realised"] is not None])
    assert len(known) > 0
    # inside the band: recounted from the band and the realised value, not from 'inside'
    # (a count against a band of averages: its bounds rounded outwards to whole numbers)
    counted = known["measure"] != "occupied"
    low = known["low"].where(~counted, np.floor(known["low"] + 1e-9))
    high = known["high"].where(~counted, np.ceil(known["high"] - 1e-9))
    known["in"] = (known["realised"] >= low - 1e-9) & (known["realised"] <= high + 1e-9)
    assert (known["in"] == known["inside"]).all()
    nl_measure = {"occupied": "bezet", "admissions": "instroom", "waiting": "wachtlijst"}
    rows = {r[0]: r[1:] for r in tables["coverage"]}
    for measure, label in [*nl_measure.items(), ("alle", "alles samen")]:
        mine = known if measure == "alle" else known[known["measure"] == measure]
        if not len(mine):
            assert rows[label][0] == "–", rows
            continue
        inside = int(mine["in"].sum())
        assert rows[label][0] == f"{inside} van {len(mine)}", (label, rows[label])
        assert rows[label][1] == _dutch(100 * inside / len(mine)) + "%", rows[label]
        errors = (mine["predicted"] - mine["realised"]).abs() / mine["realised"]
        mape = errors[mine["realised"] != 0].mean()
        assert rows[label][2] == _dutch(100 * mape, 1) + "%", (label, rows[label], mape)
    per_form = {r[0]: r[1:] for r in tables["per-form"]}
    names = _form_names()
    for form, group in known.groupby("care_form"):
        for i, measure in enumerate(nl_measure):
            mine = group[group["measure"] == measure]
            expected = f"{int(mine['in'].sum())} van {len(mine)}" if len(mine) else "–"
            assert per_form[names[str(form)]][i] == expected, (form, measure)
    outside = known[~known["in"]]
    if len(outside):
        listed = tables["outside"]
        assert len(listed) == len(outside)
        assert {(r[0], r[1], r[6]) for r in listed} == {
            (
                names[c["care_form"]],
                c["quarter"],
                "boven de band" if c["realised"] > c["high"] else "onder de band",
            )
            for c in outside.to_dict(orient="records")
        }
    else:
        assert "Elke gerealiseerde waarde ligt binnen de band." in shown
    cut = dt.date(CUT_YEAR, 1, 1)
    start, end = _dates("start_date"), _dates("end_date")
    at_cut = (start < pd.Timestamp(cut)) & (end.isna() | (end >= pd.Timestamp(cut)))
    occupants = int(at_cut.sum())
    assert f"Gekalibreerd op de verblijven tot {_date(cut)}; daarna 4 kwartalen" in shown
    assert f"{occupants} jeugdigen in zorg" in shown
    assert "ongeveer 95%" in shown and "aan één kant van de band" in shown
    assert f'href="{path}/files/backtest.xlsx"' in text
    _no_nan(text)


# --- refused, and who may ---


def test_a_refused_upload_lists_every_problem_without_the_personal_value(site: Site) -> None:
    stays = STAYS.copy()
    stays.loc[stays["client_id"] == stays.at[0, "client_id"], "client_id"] = BSN
    stays.loc[3, "start_date"] = "2023-02-30"
    with site.web("planner A") as web:
        answer = web.post("/records", files={"file": ("stays.csv", stays.to_csv(index=False))})
        listed = _tables(web.get("/records").text)["records-table"]
    assert answer.status_code == 422
    shown = _visible(answer.text)
    rows = _tables(answer.text)["problems-table"]
    assert rows and all(r[0] == "stays.csv" and r[3] and r[4] for r in rows), rows  # problem, fix
    assert {r[2] for r in rows} >= {"client_id", "start_date"}, rows
    assert all(r[1].isdigit() and int(r[1]) >= 2 for r in rows), rows
    assert BSN not in answer.text and "2023-02-30" not in answer.text
    _no_person_in(answer.text)
    assert "Er is niets opgeslagen of gestart" in shown
    assert len(listed) == 1, "nothing is stored"


def test_a_form_the_api_would_refuse_is_refused_in_dutch(site: Site) -> None:
    with site.web("planner A") as web, site.api("planner A") as api:
        before = len(api.get("/backtests").json())
        form = {"cut_year": str(CUT_YEAR), "quarters": "9", "replications": "20"}
        answer = web.post(f"/records/{site.ids['records']}/backtests", data=form)
        assert answer.status_code == 422
        assert "Kwartalen mag hoogstens 8 zijn." in _visible(answer.text)
        form = {"window_start": "2020-13-01"}
        answer = web.post(f"/records/{site.ids['records']}/calibrations", data=form)
        assert answer.status_code == 422 and "Vanaf" in _visible(answer.text)
        assert len(api.get("/backtests").json()) == before


def test_another_organisation_gets_404_on_every_page_of_the_records_and_jobs(
    site: Site,
) -> None:
    ids = site.ids
    calibration, backtest = f"/calibrations/{ids['calibration']}", f"/backtests/{ids['backtest']}"
    forms = {
        f"/records/{ids['records']}/calibrations": {"name": "van B?"},
        f"/records/{ids['records']}/backtests": {"cut_year": "2024", "quarters": "9"},
        f"{calibration}/region": None,
        f"{calibration}/cancel": None,
        f"{backtest}/cancel": None,
    }
    with site.web("planner B") as web:
        for url in (
            calibration,
            f"{calibration}/files/model.yaml",
            f"{calibration}/files/kalibratie/verblijfsduur.png",
            backtest,
            f"{backtest}/files/backtest.json",
        ):
            assert web.get(url).status_code == 404, url
        for url, data in forms.items():
            answer = web.post(url, data=data)
            assert answer.status_code == 404, (url, answer.status_code)
            assert "stays.csv" not in answer.text
        for url in ("/records", "/calibrations"):
            page = web.get(url)
            assert page.status_code == 200
            for thing in (
                "stays.csv",
                str(ids["calibration"]),
                str(ids["backtest"]),
                str(ids["records"]),
            ):
                assert thing not in page.text, (url, thing)


def test_a_reader_reads_the_results_and_starts_nothing(site: Site) -> None:
    ids = site.ids
    calibration = f"/calibrations/{ids['calibration']}"
    with site.web("ontwikkeltafel A") as web:
        page = web.get(calibration)
        assert page.status_code == 200 and "Bewaar als regiomodel" not in page.text
        assert web.get(f"/backtests/{ids['backtest']}").status_code == 200
        listed = web.get("/calibrations").text
        assert f'href="{calibration}"' in listed and 'href="/records"' not in listed
        assert web.get("/records").status_code == 403
        refused = {
            "/records": None,
            f"/records/{ids['records']}/calibrations": {},
            f"/records/{ids['records']}/backtests": {"cut_year": "2024"},
            f"{calibration}/region": None,
            f"{calibration}/cancel": None,
            f"/backtests/{ids['backtest']}/cancel": None,
        }
        for url, data in refused.items():
            files = {"file": ("s.csv", STAYS_CSV)} if url == "/records" else None
            assert web.post(url, data=data, files=files).status_code == 403, url


# --- a 0-meting through the forms, and days the records do not hold ---

BEDS_CSV = b"provider,care_form,beds\nP03,crisis,77\nP01,pleegzorg,501\nP02,pleegzorg,502\n"
BEDS = [
    {"provider": "P03", "care_form": "crisis", "beds": 77},
    {"provider": "P01", "care_form": "pleegzorg", "beds": 501},
    {"provider": "P02", "care_form": "pleegzorg", "beds": 502},
]


def test_the_forms_take_a_0_meting(site: Site) -> None:
    records = site.ids["records"]
    with site.web("planner A") as web, site.api("planner A") as api:
        page = web.get("/records").text
        assert 'enctype="multipart/form-data"' in page.split(f"/records/{records}/calibrations")[1]
        assert "0-meting (beds.csv)" in _visible(page)
        beds = {"beds": ("beds.csv", BEDS_CSV)}
        started = web.post(f"/records/{records}/calibrations", data={"name": ""}, files=beds)
        calibration = _id(started, "/calibrations/")
        form = {"cut_year": str(CUT_YEAR), "quarters": "4", "replications": "20"}
        started = web.post(f"/records/{records}/backtests", data=form, files=beds)
        backtest = _id(started, "/backtests/")
        # a browser sends the empty file field when none is chosen
        empty = {"beds": ("", b"", "application/octet-stream")}
        started = web.post(f"/records/{records}/calibrations", data={"name": ""}, files=empty)
        without = _id(started, "/calibrations/")
        for path in (f"/calibrations/{calibration}", f"/backtests/{backtest}"):
            assert api.get(path).json()["params"]["beds"] == BEDS, path
        assert "beds" not in api.get(f"/calibrations/{without}").json()["params"]
        for path in (
            f"/calibrations/{calibration}",
            f"/backtests/{backtest}",
            f"/calibrations/{without}",
        ):
            assert wait_job(api, path, timeout=180, every=0.2)["status"] == "done", path
        estimates = pd.read_csv(
            io.BytesIO(web.get(f"/calibrations/{calibration}/files/estimates.csv").content)
        )
    beds = estimates[estimates["quantity"] == "beds"]
    assert {(k, f): int(v) for k, f, v in beds[["key", "care_form", "estimate"]].values} == {
        (b["provider"], b["care_form"]): b["beds"] for b in BEDS
    }


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        pytest.param("beds.csv", b"provider,care_form,beds\nP03,crisis,-4\n", "beds", id="neg"),
        pytest.param("beds.csv", b"provider,care_form\nP03,crisis\n", "beds", id="no-beds"),
        pytest.param(
            "beds.csv",
            b"provider,care_form,beds\nP03,crisis,4\nP03,crisis,5\n",
            "P03",
            id="twice",
        ),
        pytest.param("beds.xlsx", bytes(range(256)) * 4, "kan niet als tabel", id="junk-xlsx"),
        pytest.param("beds.txt", BEDS_CSV, "alleen .csv of .xlsx", id="txt"),
    ],
)
def test_a_broken_0_meting_is_refused_with_its_problems(
    site: Site, name: str, content: bytes, said: str
) -> None:
    records = site.ids["records"]
    with site.web("planner A") as web, site.api("planner A") as api:
        before = len(api.get("/calibrations").json()), len(api.get("/backtests").json())
        for path, form in (
            ("calibrations", {"name": ""}),
            ("backtests", {"cut_year": str(CUT_YEAR), "quarters": "4", "replications": "20"}),
        ):
            answer = web.post(
                f"/records/{records}/{path}", data=form, files={"beds": (name, content)}
            )
            assert answer.status_code == 422, answer.text[:500]
            rows = _tables(answer.text)["problems-table"]
            assert rows and all(r[0] == name for r in rows), rows
            assert said in _visible(answer.text), rows
        after = len(api.get("/calibrations").json()), len(api.get("/backtests").json())
        assert after == before
    with site.web("planner B") as web:  # another organisation's records: 404 first
        answer = web.post(f"/records/{records}/calibrations", files={"beds": (name, content)})
        assert answer.status_code == 404 and name not in answer.text


def test_days_the_records_do_not_hold_are_refused_by_the_form(site: Site) -> None:
    records = site.ids["records"]
    first = _dates("start_date").min().date()
    with site.web("planner A") as web, site.api("planner A") as api:
        before = len(api.get("/backtests").json())
        form = {"cut_year": str(first.year), "quarters": "4", "replications": "20"}
        answer = web.post(f"/records/{records}/backtests", data=form)
        assert answer.status_code == 422
        assert [r[2] for r in _tables(answer.text)["problems-table"]] == ["Knip"]
        answer = web.post(f"/records/{records}/calibrations", data={"zero_date": "2030-01-01"})
        assert answer.status_code == 422
        assert [r[2] for r in _tables(answer.text)["problems-table"]] == ["Peildatum"]
        assert "--" not in _visible(answer.text)
        assert len(api.get("/backtests").json()) == before


# --- in the browser ---


def test_the_pages_in_the_browser(site: Site, browser: Any, tmp_path: Path) -> None:
    from tests.test_web import ARTIFACTS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    page.goto(f"{site.server.base}/login")
    page.get_by_label("Toegangstoken").fill(site.tokens["planner A"])
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url("**/scenarios")
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role(
        "link", name="Verblijfsgegevens"
    ).click()
    page.wait_for_url("**/records")
    _accessible(page, "verblijfsgegevens")
    # a refused upload through the form: the problems in a table, the BSN not shown
    broken = STAYS.copy()
    broken.loc[2, "client_id"] = BSN
    (tmp_path / "kapot.csv").write_text(broken.to_csv(index=False), encoding="utf-8")
    page.get_by_label("Verblijven: CSV of .xlsx").set_input_files(str(tmp_path / "kapot.csv"))
    page.get_by_role("button", name="Uploaden").click()
    problems = page.get_by_role("table", name="Wat er mis is en hoe het op te lossen")
    problems.wait_for()
    assert "client_id" in problems.inner_text() and BSN not in page.content()
    _accessible(page, "verblijfsgegevens afgekeurd")
    page.screenshot(path=str(ARTIFACTS / "kalibratie-0-afgekeurd.png"), full_page=True)
    for url, name in (
        ("/calibrations", "kalibraties"),
        (f"/calibrations/{site.ids['calibration']}", "kalibratie"),
        (f"/backtests/{site.ids['backtest']}", "backtest"),
    ):
        page.goto(f"{site.server.base}{url}")
        assert (
            page.locator("#status").count() == 0 or page.locator("#status").inner_text() == "klaar"
        )
        _accessible(page, name)
        page.screenshot(path=str(ARTIFACTS / f"kalibratie-{name}.png"), full_page=True)
