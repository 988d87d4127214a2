"""The web pages in a real browser: Debian's Chromium driven by Playwright.

A real server (``capaciteit serve``) on a temporary SQLite database, and a synthetic
matching pool uploaded over the API. Then, in headless Chromium, a planner signs in,
uploads the example region model and its transformation scenario (a broken copy first,
refused with every problem), runs the afbouw plan, opens it, downloads the workbook and
compares plans; a matcher signs in and gets suggestions for one child. A matching
coordinator of another organisation starts without a pool, uploads a broken one (every
problem listed, no personal value shown, nothing stored) and a good one, gets suggestions
with distances that are recomputed here, and assigns the whole waiting list: the counts on
the page equal the API's match.json and a recount of the downloaded assignment.csv. Every
matcher page passes axe-core without serious or critical violations. Screenshots go to
``test-artifacts/web/``.

Without ``/usr/bin/chromium`` the tests are skipped, unless ``CAPACITEIT_REQUIRE_BROWSER``
is set (``.ci/run`` sets it after installing the browser): then they fail, loudly.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from capaciteit.matching import synthetic_pool

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts" / "web"
CLI = [sys.executable, "-m", "capaciteit"]
ORGANISATION = ["--organisation", "Pleegzorg Web"]
"""The organisation of the matching coordinator (the other tokens see ``standaard``)."""

if not Path(CHROMIUM).exists():
    if os.environ.get("CAPACITEIT_REQUIRE_BROWSER"):
        raise RuntimeError(
            f"{CHROMIUM} is missing but CAPACITEIT_REQUIRE_BROWSER is set: install Debian's "
            "chromium and chromium-driver (apt-get install chromium chromium-driver)"
        )
    pytest.skip(f"no browser at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running ``capaciteit serve`` with a planner and a matcher token."""

    def __init__(self, tmp: Path) -> None:
        self.pool_id = 0
        self.env = {
            **os.environ,
            "CAPACITEIT_DATABASE_URL": f"sqlite:///{tmp / 'web.db'}",
            "CAPACITEIT_HEARTBEAT_S": "0.5",
        }
        self.tokens = {
            role: subprocess.run(
                [*CLI, "token", "create", "--role", role, "--name", f"{role} test"],
                env=self.env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            for role in ("planner", "matcher")
        }
        # a matching coordinator of another organisation, who starts without any pool
        self.tokens["coordinator"] = subprocess.run(
            [*CLI, "token", "create", "--role", "matcher", "--name", "coördinator", *ORGANISATION],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def api(self, role: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("web")
    srv = Server(tmp)
    try:
        kids, places = synthetic_pool(300, 1500, seed=3)
        upload = {
            "children": ("children.csv", kids.to_csv(index=False)),
            "placements": ("placements.csv", places.to_csv(index=False)),
        }
        with srv.api("matcher") as api:
            made = api.post("/v1/matching/pools", files=upload)
            assert made.status_code == 201, made.text
            srv.pool_id = int(made.json()["id"])  # ids are random
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


def _sign_in(browser: Any, server: Server, role: str) -> Any:
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{server.url}/")
    assert page.url.endswith("/login")
    page.get_by_label("Toegangstoken").fill(server.tokens[role])
    page.get_by_role("button", name="Aanmelden").click()
    return page


def test_planner_runs_the_example_to_a_reviewed_afbouw_plan(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    page = _sign_in(browser, server, "planner")
    page.wait_for_url("**/scenarios")
    # from the example model: a broken copy is refused with every problem, then the real one
    model = ROOT / "models" / "voorbeeldregio"
    broken = tmp_path / "broken"
    shutil.copytree(model, broken)
    beds = (broken / "beds.csv").read_text().splitlines()
    head, first = beds[0].split(","), beds[1].split(",")
    first[head.index("beds")] = "-3"
    (broken / "beds.csv").write_text("\n".join([beds[0], ",".join(first), *beds[2:]]) + "\n")
    scenario = ROOT / "simulations" / "voorbeeldregio-transformatie.yaml"
    page.get_by_label("Regiomodel (model.yaml en tabellen, of een zip)").set_input_files(
        sorted(str(p) for p in broken.iterdir())
    )
    page.get_by_label("Scenariobestand (.yaml)").set_input_files(str(scenario))
    page.get_by_role("button", name="Toevoegen").click()
    problems = page.get_by_role("table", name="Wat er mis is en hoe het op te lossen")
    assert "beds.csv" in problems.inner_text()
    assert "buiten het toegestane bereik" in problems.inner_text()
    _accessible(page, "model afgekeurd")
    page.screenshot(path=str(ARTIFACTS / "0-model-refused.png"), full_page=True)
    page.get_by_label("Regiomodel (model.yaml en tabellen, of een zip)").set_input_files(
        sorted(str(p) for p in model.iterdir())
    )
    page.get_by_label("Scenariobestand (.yaml)").set_input_files(str(scenario))
    page.get_by_role("button", name="Toevoegen").click()
    page.wait_for_url("**/scenarios/*")
    page.get_by_label("Nieuwe berekening").select_option("afbouw")
    page.get_by_label("Replicaties (leeg: uit het scenario)").fill("4")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/runs/*")
    page.screenshot(path=str(ARTIFACTS / "1-plan-running.png"))
    # the page refreshes itself until the plan is ready
    page.wait_for_selector("#status:text('klaar')", timeout=240_000)
    targets = page.get_by_role("table", name="Doelen per jaar (uit de getallen van het plan)")
    assert targets.is_visible()
    text = targets.inner_text()
    assert "30% meer pleegzorg + gezinshuis in 2025" in text
    assert "op koers" in text
    providers = page.get_by_role("table", name="Bedden per aanbieder en zorgvorm")
    assert "P04" in providers.inner_text()
    _accessible(page, "afbouwplan")
    page.screenshot(path=str(ARTIFACTS / "2-plan-review.png"), full_page=True)
    # the explanation of what cannot be met, in the plan's own numbers
    run_id = page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]  # ids are random
    result = json.loads(server.api("planner").get(f"/v1/runs/{run_id}/result").text)
    for t in result["targets"]:
        cell = "op koers" if t["met"] else "niet op koers"
        assert cell in text
    if result["conflicts"]:
        assert page.get_by_role("heading", name="Waarom niet alles haalbaar is").is_visible()
    with page.expect_download() as info:
        page.locator("#workbook").click()
    path = tmp_path / "plan.xlsx"
    info.value.save_as(path)
    shutil.copy(path, ARTIFACTS / "plan.xlsx")
    book = openpyxl.load_workbook(path)
    assert {"samenvatting", "per aanbieder", "per jaar", "doelen", "ombouwbudget"} <= set(
        book.sheetnames
    )
    # two plans side by side (the same plan twice is enough to see both columns)
    page.goto(f"{server.url}/plans?a={run_id}&b={run_id}")
    assert (
        page.get_by_role(
            "heading", name=f"Plan {run_id}: Voorbeeldregio – transformatie 2025/2030"
        ).count()
        == 2
    )
    _accessible(page, "afbouwplannen")
    page.screenshot(path=str(ARTIFACTS / "3-plans-side-by-side.png"), full_page=True)


def test_matcher_gets_suggestions_with_reasons(server: Server, browser: Any) -> None:
    with server.api("matcher") as api:
        child = next(
            c
            for c in (f"K{i:05d}" for i in range(300))
            if api.post(
                "/v1/matching/suggestions", json={"pool_id": server.pool_id, "child_id": c}
            ).json()["candidates"]
            >= 3
        )
    page = _sign_in(browser, server, "matcher")
    page.wait_for_url("**/matching")
    page.get_by_label("Bestand (wachtlijst en gezinnen)").select_option(str(server.pool_id))
    page.get_by_label("Kind (pseudoniem)").fill(child)
    page.get_by_label("Aantal suggesties").fill("3")
    page.get_by_role("button", name="Zoek gezinnen").click()
    table = page.locator("#suggestions")
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == 3
    assert "km van huis" in rows.first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "4-matching.png"), full_page=True)
    # a matcher sees no planning pages
    page.goto(f"{server.url}/scenarios")
    assert "geen toegang" in page.content()


def test_pages_need_a_sign_in_and_work_without_javascript(server: Server, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/scenarios")
    assert page.url.endswith("/login")
    page.get_by_label("Toegangstoken").fill("wrong")
    page.get_by_role("button", name="Aanmelden").click()
    assert "Onbekend of ingetrokken token" in page.content()
    page.get_by_label("Toegangstoken").fill(server.tokens["planner"])
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_url("**/scenarios")
    assert page.get_by_role("table", name="Scenario's").is_visible()
    context.close()


IMPOSSIBLE = ("nan", "NaN", "None", "inf", "null")


def _figures_are_possible(text: str) -> None:
    """No NaN or None, no share above 100% and no interval upside down on a page."""
    import re

    words = set(re.findall(r"[A-Za-z]+", text))
    assert not words & set(IMPOSSIBLE), words & set(IMPOSSIBLE)
    for pct in re.findall(r"(\d+(?:,\d+)?)%", text):
        assert 0.0 <= float(pct.replace(",", ".")) <= 100.0, pct
    for low, high in re.findall(r"\[(-?[\d.,]+)%? – (-?[\d.,]+)%?\]", text):
        a, b = (float(v.replace(".", "").replace(",", ".")) for v in (low, high))
        assert 0.0 <= a <= b, (low, high)


def _upload_transformatie(
    server: Server,
    model_name: str = "voorbeeldregio",
    scenario_name: str = "voorbeeldregio-transformatie",
) -> int:
    """The example model and its transformation scenario, uploaded over the API."""
    model = ROOT / "models" / model_name
    files = [("files", (p.name, p.read_bytes())) for p in sorted(model.iterdir()) if p.is_file()]
    text = (ROOT / "simulations" / f"{scenario_name}.yaml").read_text("utf-8")
    with server.api("planner") as api:
        region = api.post("/v1/regions", files=files)
        assert region.status_code == 201, region.text
        body = {"region_id": region.json()["id"], "text": text}
        scenario = api.post("/v1/scenarios", json=body)
        assert scenario.status_code == 201, scenario.text
        return int(scenario.json()["id"])


def _run_from_the_scenario_page(
    page: Any, server: Server, scenario_id: int, kind: str, reps: str
) -> None:
    page.goto(f"{server.url}/scenarios/{scenario_id}")
    page.get_by_label("Nieuwe berekening").select_option(kind)
    page.get_by_label("Replicaties (leeg: uit het scenario)").fill(reps)
    page.get_by_role("button", name="Start").click()
    page.wait_for_url("**/runs/*")
    page.wait_for_selector("#status:text('klaar')", timeout=300_000)


def test_simulation_and_minimal_beds_pages_show_only_possible_judged_figures(
    server: Server, browser: Any
) -> None:
    # the transformatie scenario: crisis stays are too long by themselves, 30% more foster
    # places cannot be recruited by 2025, and JeugdzorgPlus has no beds in 2030 (its last
    # young people stay above capacity)
    scenario_id = _upload_transformatie(server)
    page = _sign_in(browser, server, "planner")
    page.wait_for_url("**/scenarios")
    _run_from_the_scenario_page(page, server, scenario_id, "simulate", "4")
    missed = page.locator("#missed")
    assert "Niet gehaald" in missed.inner_text()
    for text in ("Crisisopvang", "30% meer pleegzorg + gezinshuis in 2025"):
        assert text in missed.inner_text()
    years = page.get_by_role("navigation", name="Kies een jaar")
    assert "2025 (doeljaar)" in years.inner_text()
    assert "2030 (doeljaar)" in years.inner_text()
    assert "Kerncijfers 2025" in page.content()
    _figures_are_possible(page.inner_text("main"))
    _accessible(page, "simulatie 2025")
    page.screenshot(path=str(ARTIFACTS / "5-simulation-2025.png"), full_page=True)
    years.get_by_role("link", name="2030 (doeljaar)").click()
    page.wait_for_url("**year=2030")
    card = page.get_by_role("region", name="JeugdzorgPlus (gesloten)")
    text = card.inner_text()
    assert "geen bedden" in text and "jongeren" in text  # above capacity, not NaN
    assert "gehaald" in text  # its norm is judged
    _figures_are_possible(page.inner_text("main"))
    _accessible(page, "simulatie 2030")
    page.screenshot(path=str(ARTIFACTS / "6-simulation-2030.png"), full_page=True)
    # minimal beds: every year with its evidence at one place fewer, in Dutch
    _run_from_the_scenario_page(page, server, scenario_id, "beds", "3")
    table = page.get_by_role(
        "table", name="Minimaal aantal plaatsen per jaar, met het bewijs bij één plaats minder"
    )
    rows = table.locator("tbody tr")
    assert rows.count() == 5 * 8
    body = table.inner_text()
    assert "Pleegzorg" in body
    assert "gehaald" in body or "niet te onderscheiden van de norm" in body
    assert "Met één plaats minder" in table.inner_text()
    _figures_are_possible(page.inner_text("main"))
    _accessible(page, "minimale bedden")
    page.screenshot(path=str(ARTIFACTS / "7-minimal-beds.png"), full_page=True)


def test_the_ombouw_simulation_page_shows_ambulant_places_housing_and_ligduur(
    server: Server, browser: Any
) -> None:
    scenario_id = _upload_transformatie(
        server, "voorbeeldregio-ombouw", "voorbeeldregio-transformatie-ombouw"
    )
    page = _sign_in(browser, server, "planner")
    page.wait_for_url("**/scenarios")
    _run_from_the_scenario_page(page, server, scenario_id, "simulate", "3")
    assert "Kerncijfers 2025" in page.content()
    housing = page.get_by_role("region", name="Begeleid wonen en kamertraining (18+)")
    assert "Plekken" in housing.inner_text() and "18+ wachtend in een bed" in housing.inner_text()
    ambulant = page.get_by_role("region", name="Intensieve ambulante gezinsbehandeling")
    assert "Vol: toch naar een bed" in ambulant.inner_text()
    ombouw = page.get_by_role("table", name="Ombouw en 18+ in 2025 (gemiddelde en 95%-interval)")
    text = ombouw.inner_text()
    for label in ("Ambulante plekken per bed", "18+ wachtend op een woonplek, in een bed"):
        assert label in text
    assert "€" in text  # costs in Dutch euros
    ligduur = page.locator("#ligduur").inner_text()
    assert "ligduur residentieel" in ligduur
    assert any(v in ligduur for v in ("gehaald", "niet te onderscheiden van de norm"))
    _figures_are_possible(page.inner_text("main"))
    _accessible(page, "simulatie ombouw 2025")
    page.screenshot(path=str(ARTIFACTS / "8-simulation-ombouw-2025.png"), full_page=True)


# --- a matching coordinator in the browser: upload, suggestions, batch assignment ---

BSN = "111222333"
"""A number that passes the elfproef: a BSN, which no page may show back."""
FAR_KM = 50.0
"""Where closeness stops earning points (``MatchWeights.distance_scale_km``): *ver weg*."""


def _accessible(page: Any, name: str) -> None:
    """No serious or critical axe-core violations on the page."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km, computed here (not with capaciteit's own function)."""
    import math

    lat1, lon1, lat2, lon2 = (math.radians(v) for v in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _dutch(text: str) -> float:
    """``1.234,5`` -> 1234.5."""
    return float(text.replace(".", "").replace(",", "."))


def _shown_km(cell: str) -> tuple[float | None, bool]:
    """A distance cell: its km (Dutch decimals, one decimal) and whether it says *ver weg*."""
    import re

    if cell.strip() == "onbekend":
        return None, False
    found = re.fullmatch(r"(ver weg: )?(\d{1,3}(?:\.\d{3})*,\d) km", cell.strip())
    assert found, cell
    return _dutch(found.group(2)), found.group(1) is not None


def _check_distance(cell: str, km: float | None) -> None:
    shown, far = _shown_km(cell)
    if km is None:
        assert shown is None, cell
        return
    assert shown is not None and abs(shown - km) <= 0.051, (cell, km)
    assert far == (km >= FAR_KM), (cell, km)


def _check_parts(score: str, parts: str) -> None:
    """The criteria's points (``dicht bij huis 14,2 van 20``) add up to the score."""
    import re

    points = [_dutch(p) for p in re.findall(r"(\d+(?:,\d)?) van \d+", parts)]
    assert points or parts == "geen punten", parts
    assert abs(sum(points) - _dutch(score)) <= 0.05 * (len(points) + 1), (score, parts)


def _table_rows(page: Any, selector: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in row]
        for row in page.eval_on_selector_all(
            f"{selector} tbody tr",
            "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))",
        )
    ]


def _broken_pool(kids: Any, places: Any) -> dict[str, tuple[str, str]]:
    """The good tables with three mistakes, one of them in the row of a child whose id is a BSN."""
    kids, places = kids.copy(), places.copy()
    kids["child_id"] = kids["child_id"].astype(object)
    kids.loc[3, "child_id"] = BSN
    kids.loc[3, "age"] = 99
    places["type"] = places["type"].astype(object)
    places.loc[1, "type"] = "hotel"
    places.loc[2, "free_places"] = -1
    return {
        "children": ("children.csv", kids.to_csv(index=False)),
        "placements": ("placements.csv", places.to_csv(index=False)),
    }


def test_a_matcher_uploads_a_pool_gets_explained_suggestions_and_assigns_the_list(
    server: Server, browser: Any, tmp_path: Path
) -> None:
    import csv
    import io

    kids, places = synthetic_pool(120, 600, seed=5)
    page = _sign_in(browser, server, "coordinator")
    page.wait_for_url("**/matching")
    # no pool yet: the page says what to upload and what the files must hold
    assert "nog geen bestand" in page.locator("#no-pool").inner_text()
    help_table = page.get_by_role("table", name="Wat de bestanden moeten bevatten")
    assert "child_id, age, trede" in help_table.inner_text()
    _accessible(page, "matching zonder bestand")
    page.screenshot(path=str(ARTIFACTS / "matching-0-no-pool.png"), full_page=True)

    # a broken pool: every problem listed, the BSN not shown, nothing stored
    broken = _broken_pool(kids, places)
    for key, (name, text) in broken.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        del key
    page.get_by_label("Naam van het bestand").fill("kapot")
    page.get_by_label("Wachtlijst: children.csv of .xlsx").set_input_files(
        str(tmp_path / "children.csv")
    )
    page.get_by_label("Gezinnen: placements.csv of .xlsx").set_input_files(
        str(tmp_path / "placements.csv")
    )
    page.get_by_role("button", name="Uploaden").click()
    problems = page.get_by_role("table", name="Wat er mis is en hoe het op te lossen")
    problems.wait_for()
    rows = _table_rows(page, "div.error table")
    assert len(rows) == 3, rows
    assert {r[0] for r in rows} == {"children.csv", "placements.csv"}
    assert all(r[1].isdigit() and r[3] and r[4] for r in rows), rows  # row, message, fix
    age = next(r for r in rows if r[2] == "(niet herhaald)")
    assert "age" in age[3] and age[1] == "5", age  # the BSN's row, its id hidden
    assert BSN not in page.content()
    assert "Er is niets opgeslagen" in page.locator("#nothing-stored").inner_text()
    with server.api("coordinator") as api:
        assert api.get("/v1/matching/pools").json() == []
    _accessible(page, "afgekeurd bestand")
    page.screenshot(path=str(ARTIFACTS / "matching-1-refused.png"), full_page=True)

    # the good pool, the waiting list as a workbook
    kids.to_excel(tmp_path / "children.xlsx", index=False)
    places.to_csv(tmp_path / "placements.csv", index=False)
    page.get_by_label("Naam van het bestand").fill("wachtlijst web")
    page.get_by_label("Wachtlijst: children.csv of .xlsx").set_input_files(
        str(tmp_path / "children.xlsx")
    )
    page.get_by_label("Gezinnen: placements.csv of .xlsx").set_input_files(
        str(tmp_path / "placements.csv")
    )
    page.get_by_role("button", name="Uploaden").click()
    page.wait_for_url("**/matching?added=*")
    pool_id = int(page.url.rsplit("=", 1)[-1])
    added = page.locator("#added").inner_text()
    assert f"{len(kids)} kinderen op de wachtlijst" in added
    assert f"{len(places)} gezinnen" in added
    with server.api("coordinator") as api:
        assert [p["id"] for p in api.get("/v1/matching/pools").json()] == [pool_id]
        # a single child with candidates of which at least one is far from home
        singles = kids[kids["sibling_group"] == ""]["child_id"].tolist()

        def suggested(child: str) -> dict[str, Any]:
            body = {"pool_id": pool_id, "child_id": child, "k": 5}
            answer = api.post("/v1/matching/suggestions", json=body)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        def far(found: dict[str, Any]) -> bool:
            return any(
                _dutch(r.split(" km van huis")[0]) >= FAR_KM
                for s in found["suggestions"]
                for r in s["reasons"]
                if r.endswith(" km van huis")
            )

        child, expected = next(
            (c, s) for c in singles if (s := suggested(c))["candidates"] >= 3 and far(s)
        )

    # suggestions with distances (recomputed here), the score's make-up, far families flagged
    page.get_by_label("Bestand (wachtlijst en gezinnen)").select_option(str(pool_id))
    page.get_by_label("Kind (pseudoniem)").fill(child)
    page.get_by_label("Aantal suggesties").fill("5")
    page.get_by_role("button", name="Zoek gezinnen").click()
    page.locator("#suggestions").wait_for()
    rows = _table_rows(page, "#suggestions")
    assert [r[1] for r in rows] == [x["placement_id"] for x in expected["suggestions"]]
    assert len(rows) == min(5, expected["candidates"])
    kid = kids.set_index("child_id").loc[child]
    family = places.set_index("placement_id")
    home = (float(kid["home_lat"]), float(kid["home_lon"]))
    school_known = kid["school_lat"] == kid["school_lat"]  # not NaN
    for _, fam, home_cell, school_cell, score, parts, reasons in rows:
        where = (float(family.loc[fam, "lat"]), float(family.loc[fam, "lon"]))
        _check_distance(home_cell, _km(home, where))
        school = (float(kid["school_lat"]), float(kid["school_lon"]))
        _check_distance(school_cell, _km(school, where) if school_known else None)
        _check_parts(score, parts)
        assert "km van huis" in reasons
    assert any(r[2].startswith("ver weg: ") for r in rows)
    legend = page.locator("#score-legend").inner_text()
    assert "dicht bij huis 20" in legend and "samen hoogstens 110" in legend
    _accessible(page, "suggesties")
    page.screenshot(path=str(ARTIFACTS / "matching-2-suggestions.png"), full_page=True)

    # the whole waiting list, as a job with its own page
    page.get_by_label(f"Tijdslimiet (seconden) voor bestand {pool_id}").fill("60")
    page.get_by_role("button", name=f"Toewijzen (bestand {pool_id})").click()
    page.wait_for_url("**/matching/batch/*")
    job_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    page.screenshot(path=str(ARTIFACTS / "matching-3-batch-started.png"))
    page.wait_for_selector("#status:text('klaar')", timeout=180_000)
    with server.api("coordinator") as api:
        result = api.get(f"/v1/matching/batch/{job_id}/result").json()
    # recount the placed children from the downloaded assignment, independently
    with page.expect_download() as info:
        page.get_by_role("link", name="assignment.csv").click()
    assignment = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
    placed = len({r["child_id"] for r in assignment})
    assert placed == len(assignment) == result["placed"]
    assert result["children"] == len(kids)
    shown = page.locator("#placed").inner_text()
    assert shown == f"{placed} van {len(kids)} kinderen geplaatst.", shown
    assert f"hoogstens {result['max_placed']} kinderen" in page.locator("#max-placed").inner_text()
    proven = page.locator("#proven").inner_text()
    assert proven.startswith("Bewezen optimaal" if result["proven_optimal"] else "Niet bewezen")
    table = _table_rows(page, "#assignment")
    assert len(table) == placed
    assert {(r[0], r[2]) for r in table} == {(a["child_id"], a["placement_id"]) for a in assignment}
    for r in table:
        kid = kids.set_index("child_id").loc[r[0]]
        where = (float(family.loc[r[2], "lat"]), float(family.loc[r[2], "lon"]))
        _check_distance(r[3], _km((float(kid["home_lat"]), float(kid["home_lon"])), where))
        _check_parts(r[5], r[6])
    unplaced = _table_rows(page, "#unplaced") if len(kids) > placed else []
    assert len(unplaced) == len(kids) - placed == len(result["unplaced_children"])
    assert all(r[2] for r in unplaced)  # every unplaced child with the reason
    _figures_are_possible(page.inner_text("main"))
    _accessible(page, "toewijzing")
    page.screenshot(path=str(ARTIFACTS / "matching-4-batch-done.png"), full_page=True)
    # the page of the list links the assignment
    page.goto(f"{server.url}/matching")
    assert page.get_by_role("link", name=f"Toewijzing {job_id}").is_visible()
    _accessible(page, "matching met bestand en toewijzing")


def test_matcher_pages_answer_only_matchers_of_the_owning_organisation(server: Server) -> None:
    """A planner gets 403 on every matcher page; another organisation's matcher 404.

    The pool and job are the ``standaard`` matcher's; the coordinator is of another
    organisation.
    """
    kids, places = synthetic_pool(20, 80, seed=8)
    upload = {
        "children": ("children.csv", kids.to_csv(index=False)),
        "placements": ("placements.csv", places.to_csv(index=False)),
    }
    with server.api("matcher") as api:
        pool_id = api.post("/v1/matching/pools", files=upload).json()["id"]
        job = api.post("/v1/matching/batch", json={"pool_id": pool_id, "time_limit_s": 5})
        job_id = job.json()["id"]
    pages = [
        ("GET", "/matching", None),
        ("POST", "/matching", {"pool_id": str(pool_id), "child_id": "K00001"}),
        ("POST", "/matching/pools", None),
        ("POST", f"/matching/pools/{pool_id}/batch", {"time_limit_s": "5"}),
        ("GET", f"/matching/batch/{job_id}", None),
        ("POST", f"/matching/batch/{job_id}/cancel", None),
        ("GET", f"/matching/batch/{job_id}/files/match.json", None),
    ]
    files = {"children": upload["children"], "placements": upload["placements"]}
    with httpx.Client(base_url=server.url, timeout=60) as web:
        assert web.post("/login", data={"token": server.tokens["planner"]}).status_code == 303
        for method, path, data in pages:
            sent = files if path == "/matching/pools" else None
            answer = web.request(method, path, data=data, files=sent)
            assert answer.status_code == 403, (path, answer.status_code)
    with httpx.Client(base_url=server.url, timeout=60) as web:
        assert web.post("/login", data={"token": server.tokens["coordinator"]}).status_code == 303
        for method, path, data in pages:
            if path.startswith(("/matching/batch/", "/matching/pools/")):
                answer = web.request(method, path, data=data)
                assert answer.status_code == 404, (path, answer.status_code)
                assert str(job_id) not in answer.text or "bestaat niet" in answer.text
    with httpx.Client(base_url=server.url, timeout=60) as web:
        web.post("/login", data={"token": server.tokens["coordinator"]})
        # the other organisation's pool is not named on the form page
        assert f'value="{pool_id}"' not in web.get("/matching").text
        answer = web.post("/matching", data={"pool_id": str(pool_id), "child_id": "K00001"})
        assert f"Bestand {pool_id} bestaat niet." in answer.text


def test_a_matcher_of_two_organisations_names_the_one_it_uploads_for(server: Server) -> None:
    """The upload form asks; without an answer the upload is refused and nothing stored."""
    import re

    both = [*ORGANISATION, "--organisation", "Pleegzorg Twee"]
    token = subprocess.run(
        [*CLI, "token", "create", "--role", "matcher", "--name", "twee", *both],
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    kids, places = synthetic_pool(10, 40, seed=9)
    files = {
        "children": ("children.csv", kids.to_csv(index=False)),
        "placements": ("placements.csv", places.to_csv(index=False)),
    }
    with httpx.Client(base_url=server.url, timeout=60) as web:
        web.post("/login", data={"token": token})
        form = web.get("/matching").text
        assert 'name="organisation_id"' in form
        refused = web.post("/matching/pools", data={"name": "x"}, files=files)
        assert refused.status_code == 422 and "meer dan één organisatie" in refused.text
        chosen = re.findall(r'<option value="(\d+)">Pleegzorg Twee</option>', form)
        made = web.post(
            "/matching/pools", data={"name": "twee", "organisation_id": chosen[0]}, files=files
        )
        assert made.status_code == 303, made.text[:300]
    with server.api("coordinator") as api:  # of Pleegzorg Web, not Pleegzorg Twee
        assert "twee" not in [p["name"] for p in api.get("/v1/matching/pools").json()]


def test_a_refused_pool_never_shows_a_personal_value() -> None:
    """A BSN, a name, a date or a postcode in a problem is replaced; other values stay."""
    from capaciteit.core.privacy import HIDDEN, redact
    from capaciteit.errors import Problem

    cases = [
        (Problem("children.csv", "age = 99 jaar is te oud.", "Hoogstens 23.", 5, "age", BSN), BSN),
        (Problem("children.csv", "kind 'Jan_Jansen' dubbel.", "Eén keer.", id="K1"), "Jan_Jansen"),
        (Problem("children.csv", "'2015-03-01' is geen id.", "Pseudoniem."), "2015-03-01"),
        (Problem("children.csv", f"ook {BSN} hier.", "Weg ermee."), BSN),
        (Problem("children.csv", "postcode 1234 AB staat niet in de PC4-tabel.", "."), "1234"),
    ]
    for problem, value in cases:
        shown = str(redact(problem))
        assert value not in shown and HIDDEN in shown, shown
    kept = Problem("placements.csv", "'hotel' is geen geldige waarde voor type.", "x", id="G1")
    assert redact(kept) == kept
