"""Each organisation sees only its own data: the tenancy matrix, on the real server.

Two organisations, A and B, each with a planner, an ontwikkeltafel and a matcher, and a
national (``landelijk``) token given A and B. A's planner uploads a region model and a
scenario and runs it, and uploads stay records and calibrates and backtests them; A's
matcher uploads a pool and runs a batch. Then every route of the API that names an
object (each in the access table of ``test_service``) is called with A's objects by every
token: B's tokens get 404, as if the object did not exist, and A's get
what their role allows; the lists of B's tokens hold nothing of A; the web pages say the
same. Reads by the national token are in the audit log; ids are random.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BASIS
from tests.test_service import (
    ACCESS,
    Server,
    assert_problem,
    cli_token,
    model_files,
    pool_files,
    wait_job,
)
from tests.test_service_calibration import STAYS_CSV


@dataclass(frozen=True)
class World:
    server: Server
    tokens: dict[str, str]  # "planner A", "matcher B", "landelijk", "admin", ...
    ids: dict[str, int]  # region, scenario, run, pool, batch of A
    organisations: dict[str, int]

    def api(self, who: str) -> httpx.Client:
        return self.server.client(self.tokens[who])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("tenancy")
    url = f"sqlite:///{workdir / 'service.db'}"
    admin = cli_token(url, "admin")
    server = Server(url, workdir, {"job_workers": 1}).start()
    try:
        tokens = {"admin": admin}
        organisations: dict[str, int] = {}
        with server.client(admin) as http:
            for name in ("A", "B"):
                made = http.post("/organisations", json={"name": f"Regio {name}"})
                assert made.status_code == 201, made.text
                organisations[name] = made.json()["id"]
            for name, organisation in organisations.items():
                for role in ("planner", "ontwikkeltafel", "voorzitter", "matcher"):
                    body = {"role": role, "name": f"{role} {name}", "organisations": [organisation]}
                    tokens[f"{role} {name}"] = http.post("/tokens", json=body).json()["token"]
            both = {
                "role": "landelijk",
                "name": "landelijk",
                "organisations": [*organisations.values()],
            }
            tokens["landelijk"] = http.post("/tokens", json=both).json()["token"]
        ids: dict[str, int] = {}
        with server.client(tokens["planner A"]) as planner:
            ids["region"] = planner.post("/regions", files=model_files()).json()["id"]
            text = BASIS.read_text(encoding="utf-8")
            scenario = planner.post("/scenarios", json={"region_id": ids["region"], "text": text})
            ids["scenario"] = scenario.json()["id"]
            run = {"kind": "simulate", "scenario_id": ids["scenario"], "replications": 2}
            ids["run"] = planner.post("/runs", json=run).json()["id"]
            assert wait_job(planner, f"/runs/{ids['run']}", timeout=180)["status"] == "done"
            plan = {"kind": "afbouw", "scenario_id": ids["scenario"], "replications": 2}
            ids["plan"] = planner.post("/runs", json=plan).json()["id"]
            assert wait_job(planner, f"/runs/{ids['plan']}", timeout=300)["status"] == "done"
            for key, title in (("version", "Voorstel A"), ("other", "Tweede voorstel A")):
                made = planner.post("/plans", json={"run_id": ids["plan"], "title": title})
                assert made.status_code == 201, made.text
                ids[key] = made.json()["id"]
            upload = {"file": ("stays.csv", STAYS_CSV)}
            ids["records"] = planner.post("/records", files=upload).json()["id"]
            for kind, path, extra in (
                ("calibration", "/calibrations", {}),
                (
                    "backtest",
                    "/backtests",
                    {"cut": "2024-01-01", "quarters": 4, "replications": 20},
                ),
            ):
                started = planner.post(path, json={"records_id": ids["records"], **extra})
                assert started.status_code == 202, started.text
                ids[kind] = started.json()["id"]
                assert wait_job(planner, f"{path}/{ids[kind]}", timeout=180)["status"] == "done"
        kids, places, _ = pool_files(30, 120, seed=2)
        with server.client(tokens["matcher A"]) as matcher:
            upload = {
                "children": ("children.csv", kids),
                "placements": ("placements.csv", places),
            }
            ids["pool"] = matcher.post("/matching/pools", files=upload).json()["id"]
            batch = matcher.post("/matching/batch", json={"pool_id": ids["pool"]})
            ids["job"] = batch.json()["id"]
            assert (
                wait_job(matcher, f"/matching/batch/{ids['job']}", timeout=180)["status"] == "done"
            )
        yield World(server, tokens, ids, organisations)
    finally:
        server.stop()


def _request(world: World, who: str, method: str, path: str) -> httpx.Response:
    """Call ``path`` (a template of the access table) with A's objects as ``who``."""
    ids = world.ids
    url = path.removeprefix("/v1")
    url = url.replace("{region_id}", str(ids["region"])).replace(
        "{scenario_id}", str(ids["scenario"])
    )
    url = url.replace("{run_id}", str(ids["run"])).replace("{pool_id}", str(ids["pool"]))
    for kind, prefix, name in (
        ("calibration", "/calibrations/", "model.yaml"),
        ("backtest", "/backtests/", "backtest.csv"),
    ):
        if url.startswith(prefix):
            url = url.replace("{job_id}", str(ids[kind])).replace("{name}", name)
    url = url.replace("{job_id}", str(ids["job"])).replace("{records_id}", str(ids["records"]))
    url = url.replace("{plan_id}", str(ids["version"])).replace("{other_id}", str(ids["other"]))
    url = url.replace("{name}", "match.json" if "batch" in url else "summary.json")
    body: dict[str, Any] | None = None
    if (method, path) == ("POST", "/v1/runs"):
        body = {"kind": "simulate", "scenario_id": ids["scenario"], "replications": 2}
    elif (method, path) == ("POST", "/v1/scenarios"):
        body = {"region_id": ids["region"], "text": BASIS.read_text(encoding="utf-8")}
    elif (method, path) == ("POST", "/v1/plans"):
        body = {"run_id": ids["plan"], "title": "van B?"}
    elif (method, path) == ("POST", "/v1/plans/{plan_id}/edits"):
        body = {
            "title": "x",
            "changes": [{"provider": "P01", "care_form": "crisis", "year": 2030, "beds": 5}],
        }
    elif (method, path) == ("POST", "/v1/plans/{plan_id}/comments"):
        body = {"text": "Voorbeeldregio?"}
    elif (method, path) == ("POST", "/v1/plans/{plan_id}/verdicts"):
        body = {"verdict": "akkoord"}
    elif method == "POST" and path.startswith("/v1/matching/") and "{" not in path:
        body = {"pool_id": ids["pool"], "child_id": "K00001", "k": 3}
        if path.endswith("explain"):
            body = {"pool_id": ids["pool"], "child_id": "K00001", "placement_id": "G00001"}
        if path.endswith("batch"):
            body = {"pool_id": ids["pool"], "time_limit_s": 5}
    files = None
    if (method, path) == ("POST", "/v1/plans/{plan_id}/realisations"):
        files = {"file": ("realisatie.xlsx", b"PK\x03\x04 Voorbeeldregio?")}
    if (method, path) == ("POST", "/v1/plans/{plan_id}/report"):
        body = {}
    if (method, path) == ("POST", "/v1/calibrations"):
        body = {"records_id": ids["records"]}
    if (method, path) == ("POST", "/v1/backtests"):
        body = {"records_id": ids["records"], "cut": "2024-01-01", "quarters": 4}
    with world.api(who) as http:
        return http.request(method, url, json=body, files=files)


# the routes that name one of A's objects, by path id or body id
NAMING = [
    (method, path)
    for (method, path) in ACCESS
    if "{" in path
    or (method, path)
    in {
        ("POST", "/v1/runs"),
        ("POST", "/v1/scenarios"),
        ("POST", "/v1/plans"),
        ("POST", "/v1/matching/suggestions"),
        ("POST", "/v1/matching/explain"),
        ("POST", "/v1/matching/batch"),
        ("POST", "/v1/calibrations"),
        ("POST", "/v1/backtests"),
    }
]
WHO = [
    "planner A",
    "ontwikkeltafel A",
    "voorzitter A",
    "matcher A",
    "planner B",
    "ontwikkeltafel B",
    "voorzitter B",
    "matcher B",
    "landelijk",
]


@pytest.mark.parametrize(("method", "path"), [r for r in NAMING if "tokens" not in r[1]])
def test_another_organisations_object_is_not_found(world: World, method: str, path: str) -> None:
    """Every token of B gets 404 for A's object; A's tokens get what their role allows."""
    role_of = {w: w.split()[0] for w in WHO}
    for who in WHO:
        if role_of[who] not in ACCESS[(method, path)].roles:
            continue  # refused by role (403), tested by the access matrix
        answer = _request(world, who, method, path)
        if who.endswith(" B"):
            assert_problem(answer, 404)
            assert "Voorbeeldregio" not in answer.text  # nothing of A's data leaks
        else:
            assert answer.status_code != 404, (who, method, path, answer.text[:300])
            assert answer.status_code < 500, (who, method, path, answer.text[:300])


def test_lists_hold_only_the_callers_organisation(world: World) -> None:
    lists = {
        "/regions": ("region", ["planner", "ontwikkeltafel"]),
        "/scenarios": ("scenario", ["planner", "ontwikkeltafel"]),
        "/runs": ("run", ["planner", "ontwikkeltafel"]),
        "/plans": ("version", ["planner", "ontwikkeltafel", "voorzitter"]),
        "/matching/pools": ("pool", ["matcher"]),
        "/records": ("records", ["planner"]),
        "/calibrations": ("calibration", ["planner", "ontwikkeltafel"]),
        "/backtests": ("backtest", ["planner", "ontwikkeltafel"]),
    }
    for path, (kind, roles) in lists.items():
        for role in roles:
            with world.api(f"{role} A") as mine, world.api(f"{role} B") as theirs:
                assert world.ids[kind] in [row["id"] for row in mine.get(path).json()], path
                assert theirs.get(path).json() == [], (path, role)
    with world.api("landelijk") as national:
        assert world.ids["region"] in [r["id"] for r in national.get("/regions").json()]


def test_reads_across_organisations_are_audited(world: World) -> None:
    with world.api("landelijk") as national:
        assert national.get(f"/scenarios/{world.ids['scenario']}").status_code == 200
    with world.api("admin") as admin:
        entries = admin.get("/audit", params={"limit": 1000}).json()
    reads = [e for e in entries if e["action"] == "read"]
    assert any(
        e["detail"]
        == {
            "object": "scenario",
            "id": world.ids["scenario"],
            "organisation_id": world.organisations["A"],
        }
        for e in reads
    ), reads


def test_a_token_of_two_organisations_says_which_one_it_uploads_for(world: World) -> None:
    with world.server.client(world.tokens["admin"]) as admin:
        both = {
            "role": "planner",
            "name": "twee regio's",
            "organisations": list(world.organisations.values()),
        }
        token = admin.post("/tokens", json=both).json()["token"]
    with world.server.client(token) as planner:
        assert_problem(planner.post("/regions", files=model_files()), 422)
        chosen = {"organisation_id": str(world.organisations["B"])}
        made = planner.post("/regions", files=model_files(), data=chosen)
        assert made.status_code == 201, made.text
    with world.api("planner B") as b, world.api("planner A") as a:
        assert made.json()["id"] in [r["id"] for r in b.get("/regions").json()]
        assert_problem(a.get(f"/regions/{made.json()['id']}"), 404)


def test_ids_cannot_be_enumerated(world: World) -> None:
    with world.api("planner A") as planner:
        first = [planner.post("/regions", files=model_files()).json()["id"] for _ in range(3)]
    assert len(set(first)) == 3
    assert sorted(first) != list(range(min(first), min(first) + 3)), first


@contextmanager
def _web(world: World, who: str) -> Iterator[httpx.Client]:
    """A browser session signed in as ``who``."""
    with httpx.Client(base_url=world.server.base, timeout=120) as web:
        assert web.post("/login", data={"token": world.tokens[who]}).status_code == 303
        yield web


# every web page, called with A's objects: what B's tokens see. ``None``: names no object.
WEB: dict[tuple[str, str], str | None] = {
    ("GET", "/login"): None,
    ("POST", "/login"): None,
    ("POST", "/logout"): None,
    ("GET", "/"): None,
    ("POST", "/scenarios/new"): None,  # creates in the caller's own organisation (test above)
    ("GET", "/scenarios"): "list",
    ("GET", "/scenarios/{scenario_id}"): "404",
    ("POST", "/scenarios/{scenario_id}/runs"): "404",
    ("GET", "/runs/{run_id}"): "404",
    ("POST", "/runs/{run_id}/cancel"): "404",
    ("GET", "/runs/{run_id}/files/{name}"): "404",
    ("GET", "/plans"): "list",
    ("GET", "/compare"): "404",
    ("GET", "/plans/compare"): None,  # only a redirect to the difference page below
    ("POST", "/plans"): "404",
    ("GET", "/plans/{plan_id}"): "404",
    ("POST", "/plans/{plan_id}/comments"): "404",
    ("POST", "/plans/{plan_id}/verdicts"): "404",
    ("POST", "/plans/{plan_id}/agree"): "404",
    ("POST", "/plans/{plan_id}/edits"): "404",
    ("GET", "/plans/{plan_id}/plan.csv"): "404",
    ("GET", "/plans/{plan_id}/diff/{other_id}"): "404",
    ("GET", "/plans/{plan_id}/diff/{other_id}/chart.png"): "404",
    ("GET", "/plans/{plan_id}/diff/{other_id}/workbook"): "404",
    ("GET", "/plans/{plan_id}/realisation-template"): "404",
    ("POST", "/plans/{plan_id}/realisations"): "404",
    ("POST", "/plans/{plan_id}/report"): "404",
    ("GET", "/matching"): "list",
    ("POST", "/matching"): "unknown pool",
    ("POST", "/matching/pools"): None,  # creates in the caller's own organisation
    ("POST", "/matching/pools/{pool_id}/batch"): "404",
    ("GET", "/matching/batch/{job_id}"): "404",
    ("POST", "/matching/batch/{job_id}/cancel"): "404",
    ("GET", "/matching/batch/{job_id}/files/{name}"): "404",
    ("GET", "/records"): "list",
    ("POST", "/records"): None,  # creates in the caller's own organisation
    ("POST", "/records/{records_id}/calibrations"): "404",
    ("POST", "/records/{records_id}/backtests"): "404",
    ("GET", "/calibrations"): "list",
    ("GET", "/calibrations/{calibration_id}"): "404",
    ("POST", "/calibrations/{calibration_id}/cancel"): "404",
    ("POST", "/calibrations/{calibration_id}/region"): "404",
    ("GET", "/calibrations/{calibration_id}/files/{name}"): "404",
    ("GET", "/backtests/{backtest_id}"): "404",
    ("POST", "/backtests/{backtest_id}/cancel"): "404",
    ("GET", "/backtests/{backtest_id}/files/{name}"): "404",
}
WEB_ROLES = {
    ("GET", "/matching"): ("matcher",),
    ("POST", "/matching"): ("matcher",),
    ("POST", "/matching/pools"): ("matcher",),
    ("POST", "/matching/pools/{pool_id}/batch"): ("matcher",),
    ("GET", "/matching/batch/{job_id}"): ("matcher",),
    ("POST", "/matching/batch/{job_id}/cancel"): ("matcher",),
    ("GET", "/matching/batch/{job_id}/files/{name}"): ("matcher",),
    ("POST", "/scenarios/{scenario_id}/runs"): ("planner",),
    ("POST", "/runs/{run_id}/cancel"): ("planner",),
    ("POST", "/plans"): ("planner",),
    ("POST", "/plans/{plan_id}/edits"): ("planner",),
    ("POST", "/plans/{plan_id}/comments"): ("planner", "ontwikkeltafel", "voorzitter"),
    ("POST", "/plans/{plan_id}/verdicts"): ("ontwikkeltafel", "voorzitter"),
    ("POST", "/plans/{plan_id}/agree"): ("voorzitter",),
    ("POST", "/plans/{plan_id}/realisations"): ("planner",),
    ("POST", "/plans/{plan_id}/report"): ("planner",),
    ("GET", "/records"): ("planner",),
    ("POST", "/records/{records_id}/calibrations"): ("planner",),
    ("POST", "/records/{records_id}/backtests"): ("planner",),
    ("POST", "/calibrations/{calibration_id}/cancel"): ("planner",),
    ("POST", "/calibrations/{calibration_id}/region"): ("planner",),
    ("POST", "/backtests/{backtest_id}/cancel"): ("planner",),
}
"""Who may open a page (others get 403, tested in ``test_web``); the rest: every reader."""
WEB_FORMS = {
    ("POST", "/scenarios/{scenario_id}/runs"): {"kind": "simulate", "replications": "2"},
    ("POST", "/plans/{plan_id}/comments"): {"text": "Voorbeeldregio?"},
    ("POST", "/plans/{plan_id}/verdicts"): {"verdict": "akkoord"},
    ("POST", "/plans/{plan_id}/edits"): {"changes": "P01 crisis 2030 5", "title": "x"},
    ("POST", "/matching/pools/{pool_id}/batch"): {"time_limit_s": "5"},
    ("POST", "/records/{records_id}/backtests"): {
        "cut_year": "2024",
        "quarters": "4",
        "replications": "20",
    },
}
"""The forms the web pages post (a harmless valid shape)."""


def test_the_web_table_names_every_page() -> None:
    from fastapi.routing import APIRoute

    from capaciteit.service import web, web_calibration, web_plans, web_runs

    pages = {
        (method, route.path.replace("{name:path}", "{name}"))
        for router in (web.router, web_plans.router, web_runs.router, web_calibration.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods - {"HEAD"}
    }
    assert pages == set(WEB), pages ^ set(WEB)


@pytest.mark.parametrize(("method", "path"), [k for k, v in WEB.items() if v is not None])
def test_web_pages_show_nothing_of_another_organisation(
    world: World, method: str, path: str
) -> None:
    """The web pages as B's tokens see them with A's ids: 404, or lists without A."""
    ids = world.ids
    with _web(world, "planner A") as mine:
        page = mine.get(f"/runs/{ids['run']}").text
        found = re.search(rf"/runs/{ids['run']}/files/([^\"]+)", page)
        assert found is not None
        file_name = found.group(1)
    names = {
        "/matching/": "match.json",
        "/calibrations/": "model.yaml",
        "/backtests/": "backtest.csv",
    }
    name = next((n for prefix, n in names.items() if path.startswith(prefix)), file_name)
    url = (
        path.replace("{scenario_id}", str(ids["scenario"]))
        .replace("{run_id}", str(ids["run"]))
        .replace("{name}", name)
        .replace("{pool_id}", str(ids["pool"]))
        .replace("{job_id}", str(ids["job"]))
        .replace("{plan_id}", str(ids["version"]))
        .replace("{other_id}", str(ids["other"]))
        .replace("{records_id}", str(ids["records"]))
        .replace("{calibration_id}", str(ids["calibration"]))
        .replace("{backtest_id}", str(ids["backtest"]))
    )
    data: dict[str, str] | None = WEB_FORMS.get((method, path))
    if (method, path) == ("POST", "/matching"):
        data = {"pool_id": str(ids["pool"]), "child_id": "K00001", "k": "3"}
    if (method, path) == ("POST", "/plans"):
        data = {"run_id": str(ids["plan"]), "title": "van B?"}
    params = {"a": str(ids["plan"]), "b": str(ids["plan"])} if path == "/plans" else None
    if path == "/compare":
        params = {"a": str(ids["run"]), "b": str(ids["run"])}
    files = None
    if (method, path) == ("POST", "/plans/{plan_id}/realisations"):
        files = {"file": ("realisatie.xlsx", b"PK\x03\x04")}
    roles = WEB_ROLES.get((method, path), ("planner", "ontwikkeltafel", "voorzitter", "landelijk"))
    expected = WEB[(method, path)]
    for who in [w for w in WHO if w.split()[0] in roles]:
        with _web(world, who) as web:
            answer = web.request(method, url, data=data, params=params, files=files)
        theirs = who.endswith(" B")
        shown = answer.text
        if expected == "404":
            assert answer.status_code == (404 if theirs else answer.status_code), (who, url)
            if not theirs:
                assert answer.status_code in (200, 303, 409, 422), (who, url, shown[:300])
        else:
            assert answer.status_code == 200, (who, url, shown[:300])
        a_things = [
            "Voorbeeldregio",
            "Voorstel A",
            f"/plans/{ids['version']}",
            f"/runs/{ids['run']}",
            f"/runs/{ids['plan']}",
            f"/scenarios/{ids['scenario']}",
            f'value="{ids["pool"]}"',
            f"/matching/batch/{ids['job']}",
            'id="suggestions"',
            f"/records/{ids['records']}/",
            f"/calibrations/{ids['calibration']}",
            f"/backtests/{ids['backtest']}",
        ]
        if theirs:
            leaked = [thing for thing in a_things if thing in shown]
            assert not leaked, (who, method, url, leaked)
            if expected == "unknown pool":
                assert f"Bestand {ids['pool']} bestaat niet." in shown
        elif expected == "list":
            assert any(thing in shown for thing in a_things), (who, url)


def test_web_pages_hide_another_organisations_data(world: World, tmp_path: Path) -> None:
    del tmp_path
    with httpx.Client(base_url=world.server.base, timeout=60) as web:
        web.post("/login", data={"token": world.tokens["planner B"]})
        assert web.get(f"/scenarios/{world.ids['scenario']}").status_code == 404
        assert web.get(f"/runs/{world.ids['run']}").status_code == 404
        listed = web.get("/scenarios").text
        assert "Voorbeeldregio" not in listed
    with httpx.Client(base_url=world.server.base, timeout=60) as web:
        web.post("/login", data={"token": world.tokens["planner A"]})
        assert web.get(f"/scenarios/{world.ids['scenario']}").status_code == 200
        assert "Voorbeeldregio" in web.get("/scenarios").text


def test_the_matching_page_hides_another_organisations_pool(world: World) -> None:
    """B's matcher names A's pool in the web form: 'bestaat niet', no suggestions, no ids."""
    with world.api("matcher A") as api:
        child = next(
            c
            for c in (f"K{i:05d}" for i in range(30))
            if api.post(
                "/matching/suggestions", json={"pool_id": world.ids["pool"], "child_id": c}
            ).json()["candidates"]
            > 0
        )
    form = {"pool_id": str(world.ids["pool"]), "child_id": child, "k": "3"}
    with httpx.Client(base_url=world.server.base, timeout=60) as web:
        web.post("/login", data={"token": world.tokens["matcher B"]})
        page = web.post("/matching", data=form)
        assert page.status_code == 200
        assert f"Bestand {world.ids['pool']} bestaat niet." in page.text
        assert 'id="suggestions"' not in page.text
    with httpx.Client(base_url=world.server.base, timeout=60) as web:
        web.post("/login", data={"token": world.tokens["matcher A"]})
        assert 'id="suggestions"' in web.post("/matching", data=form).text


def test_the_web_upload_asks_a_token_of_two_organisations_which_one(world: World) -> None:
    with world.server.client(world.tokens["admin"]) as admin:
        both = {
            "role": "planner",
            "name": "web twee",
            "organisations": [*world.organisations.values()],
        }
        token = admin.post("/tokens", json=both).json()["token"]
    files = [("files", f) for _, f in model_files()]
    scenario = ("scenario", ("basis.yaml", BASIS.read_bytes()))
    with httpx.Client(base_url=world.server.base, timeout=120) as web:
        web.post("/login", data={"token": token})
        assert 'name="organisation_id"' in web.get("/scenarios").text
        refused = web.post("/scenarios/new", files=[*files, scenario])
        assert refused.status_code == 422 and "meer dan één organisatie" in refused.text
        chosen = {"organisation_id": str(world.organisations["B"])}
        made = web.post("/scenarios/new", files=[*files, scenario], data=chosen)
        assert made.status_code == 303, made.text[:300]
        scenario_id = made.headers["location"].rsplit("/", 1)[-1]
    with world.api("planner B") as b, world.api("planner A") as a:
        assert b.get(f"/scenarios/{scenario_id}").status_code == 200
        assert_problem(a.get(f"/scenarios/{scenario_id}"), 404)
