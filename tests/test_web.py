"""The web pages in a real browser: Debian's Chromium driven by Playwright.

A real server (``capaciteit serve``) on a temporary SQLite database, and a synthetic
matching pool uploaded over the API. Then, in headless Chromium, a planner signs in,
uploads the example region model and its transformation scenario (a broken copy first,
refused with every problem), runs the afbouw plan, opens it, downloads the workbook and
compares plans; a matcher signs in and gets suggestions for one child. Screenshots go to
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


def _upload_transformatie(server: Server) -> int:
    """The example model and its transformation scenario, uploaded over the API."""
    model = ROOT / "models" / "voorbeeldregio"
    files = [("files", (p.name, p.read_bytes())) for p in sorted(model.iterdir()) if p.is_file()]
    text = (ROOT / "simulations" / "voorbeeldregio-transformatie.yaml").read_text("utf-8")
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
    page.screenshot(path=str(ARTIFACTS / "5-simulation-2025.png"), full_page=True)
    years.get_by_role("link", name="2030 (doeljaar)").click()
    page.wait_for_url("**year=2030")
    card = page.get_by_role("region", name="JeugdzorgPlus (gesloten)")
    text = card.inner_text()
    assert "geen bedden" in text and "jongeren" in text  # above capacity, not NaN
    assert "gehaald" in text  # its norm is judged
    _figures_are_possible(page.inner_text("main"))
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
    page.screenshot(path=str(ARTIFACTS / "7-minimal-beds.png"), full_page=True)
