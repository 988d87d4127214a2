"""The HTTP service as it runs: uvicorn in a subprocess, httpx over a real socket.

Every server here is ``python -m uvicorn --factory capaciteit.service.app:create_app`` (or
``capaciteit serve``) on a free port with its own database (a SQLite file in a temporary
folder, or a PostgreSQL database made for the run), started in its own process group so
that it and its job workers can be stopped, or killed with SIGKILL, together. Nothing is
shared between pytest-xdist workers: each worker starts its own servers. The first admin
token comes from ``capaciteit token create``, the others from ``POST /v1/tokens``.

- Routes: regions, scenarios, runs (to done, results, files, cancel), matching (pools,
  suggestions, explain, batch), tokens, the audit log, the body limit, problem+json errors.
- The access matrix: every route of ``app.openapi()`` against every role, no token, a bad
  token and a revoked one, from the table :data:`ACCESS` (a route missing from it fails).
- A crash: ``kill -9`` of the server and its workers while a run is running; the next server
  reruns it to the same KPIs as an uninterrupted run (``capaciteit simulate``).
- PostgreSQL (when ``CAPACITEIT_TEST_DATABASE_URL`` is set): a core subset on a database
  created for the run and dropped after it.
- A bounded schemathesis run over the OpenAPI schema: no server errors.

Bugs these tests found are fixed; their tests stay as regression tests (last section).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from capaciteit.matching import synthetic_pool
from tests.conftest import BASIS, EXAMPLE_MODEL

PYTHON = sys.executable
CLI = str(Path(sys.executable).with_name("capaciteit"))
ROLES = ("planner", "ontwikkeltafel", "voorzitter", "landelijk", "matcher", "admin")
FINAL = ("done", "failed", "cancelled")
PROBLEM_JSON = "application/problem+json"
MAX_REQUEST_BYTES = 2_000_000
"""Body limit of the shared server (a 1,000 x 5,000 matching pool is ~630 kB)."""
FUZZ_EXAMPLES = 1500
"""Examples of the schemathesis run, spread evenly over the operations."""
SQLITE_INT_MAX = 2**63 - 1
PG_INT_MAX = 2**31 - 1
"""Ids are ``Integer`` columns: 64 bits in SQLite, 32 bits (int4) in PostgreSQL."""
PG_ENV = "CAPACITEIT_TEST_DATABASE_URL"

# ---------------------------------------------------------------------------------------
# Who may call what: the access table (every route of the OpenAPI schema must be here)
# ---------------------------------------------------------------------------------------

OPEN = frozenset(
    {"planner", "ontwikkeltafel", "voorzitter", "landelijk", "matcher", "admin", "none"}
)
PLANNER = frozenset({"planner"})
READER = frozenset({"planner", "ontwikkeltafel", "voorzitter", "landelijk"})
MEMBER = frozenset({"planner", "ontwikkeltafel", "voorzitter"})
JUDGE = frozenset({"ontwikkeltafel", "voorzitter"})
CHAIR = frozenset({"voorzitter"})
MATCHER = frozenset({"matcher"})
ADMIN = frozenset({"admin"})

_DUMMY_CSV = b"a,b\n1,2\n"


@dataclass(frozen=True)
class Access:
    """The roles a route admits and a harmless request for it (dummy ids, valid shape)."""

    roles: frozenset[str]
    json: dict[str, Any] | None = None
    files: list[tuple[str, tuple[str, bytes]]] | None = None
    data: dict[str, str] | None = None


ACCESS: dict[tuple[str, str], Access] = {
    ("GET", "/v1/health"): Access(OPEN),
    ("GET", "/v1/tokens"): Access(ADMIN),
    ("POST", "/v1/tokens"): Access(ADMIN, json={"role": "ontwikkeltafel", "name": "matrix"}),
    ("DELETE", "/v1/tokens/{token_id}"): Access(ADMIN),
    ("GET", "/v1/audit"): Access(ADMIN),
    ("GET", "/v1/organisations"): Access(ADMIN),
    ("POST", "/v1/organisations"): Access(ADMIN, json={"name": "matrix", "kind": "region"}),
    ("GET", "/v1/regions"): Access(READER),
    ("POST", "/v1/regions"): Access(
        PLANNER, files=[("files", ("model.yaml", b"schema_version: 1\n"))]
    ),
    ("GET", "/v1/regions/{region_id}"): Access(READER),
    ("GET", "/v1/regions/{region_id}/availability"): Access(READER),
    ("GET", "/v1/scenarios"): Access(READER),
    ("POST", "/v1/scenarios"): Access(PLANNER, json={"region_id": 999_999, "text": "name: x"}),
    ("GET", "/v1/scenarios/{scenario_id}"): Access(READER),
    ("GET", "/v1/runs"): Access(READER),
    ("POST", "/v1/runs"): Access(PLANNER, json={"kind": "simulate", "scenario_id": 999_999}),
    ("GET", "/v1/runs/{run_id}"): Access(READER),
    ("POST", "/v1/runs/{run_id}/cancel"): Access(PLANNER),
    ("GET", "/v1/runs/{run_id}/result"): Access(READER),
    ("GET", "/v1/runs/{run_id}/files/{name}"): Access(READER),
    ("GET", "/v1/plans"): Access(READER),
    ("GET", "/v1/plans/overview"): Access(READER),
    ("POST", "/v1/plans"): Access(PLANNER, json={"run_id": 999_999, "title": "matrix"}),
    ("GET", "/v1/plans/{plan_id}"): Access(READER),
    ("POST", "/v1/plans/{plan_id}/edits"): Access(
        PLANNER,
        json={
            "title": "matrix",
            "changes": [{"provider": "P01", "care_form": "crisis", "year": 2025, "beds": 3}],
        },
    ),
    ("POST", "/v1/plans/{plan_id}/comments"): Access(MEMBER, json={"text": "matrix"}),
    ("POST", "/v1/plans/{plan_id}/verdicts"): Access(JUDGE, json={"verdict": "akkoord"}),
    ("POST", "/v1/plans/{plan_id}/agree"): Access(CHAIR),
    ("GET", "/v1/plans/{plan_id}/plan.csv"): Access(READER),
    ("GET", "/v1/plans/{plan_id}/diff/{other_id}"): Access(READER),
    ("GET", "/v1/plans/{plan_id}/diff/{other_id}/workbook"): Access(READER),
    ("GET", "/v1/plans/{plan_id}/realisation-template"): Access(READER),
    ("GET", "/v1/plans/{plan_id}/realisations"): Access(READER),
    ("POST", "/v1/plans/{plan_id}/realisations"): Access(
        PLANNER, files=[("file", ("realisatie.xlsx", b"PK\x03\x04"))]
    ),
    ("POST", "/v1/plans/{plan_id}/report"): Access(PLANNER, json={}),
    ("GET", "/v1/records"): Access(PLANNER),
    ("POST", "/v1/records"): Access(PLANNER, files=[("file", ("stays.csv", _DUMMY_CSV))]),
    ("GET", "/v1/records/{records_id}"): Access(PLANNER),
    ("GET", "/v1/calibrations"): Access(READER),
    ("POST", "/v1/calibrations"): Access(PLANNER, json={"records_id": 999_999}),
    ("GET", "/v1/calibrations/{job_id}"): Access(READER),
    ("POST", "/v1/calibrations/{job_id}/cancel"): Access(PLANNER),
    ("GET", "/v1/calibrations/{job_id}/result"): Access(READER),
    ("GET", "/v1/calibrations/{job_id}/files/{name}"): Access(READER),
    ("POST", "/v1/calibrations/{job_id}/region"): Access(PLANNER),
    ("GET", "/v1/backtests"): Access(READER),
    ("POST", "/v1/backtests"): Access(PLANNER, json={"records_id": 999_999, "cut": "2024-01-01"}),
    ("GET", "/v1/backtests/{job_id}"): Access(READER),
    ("POST", "/v1/backtests/{job_id}/cancel"): Access(PLANNER),
    ("GET", "/v1/backtests/{job_id}/result"): Access(READER),
    ("GET", "/v1/backtests/{job_id}/files/{name}"): Access(READER),
    ("GET", "/v1/matching/pools"): Access(MATCHER),
    ("POST", "/v1/matching/pools"): Access(
        MATCHER,
        files=[
            ("children", ("children.csv", _DUMMY_CSV)),
            ("placements", ("placements.csv", _DUMMY_CSV)),
        ],
        data={"name": "matrix"},
    ),
    ("GET", "/v1/matching/pools/{pool_id}/availability"): Access(MATCHER),
    ("POST", "/v1/matching/suggestions"): Access(
        MATCHER, json={"pool_id": 999_999, "child_id": "K1", "k": 3}
    ),
    ("POST", "/v1/matching/explain"): Access(
        MATCHER, json={"pool_id": 999_999, "child_id": "K1", "placement_id": "G1"}
    ),
    ("POST", "/v1/matching/batch"): Access(MATCHER, json={"pool_id": 999_999}),
    ("GET", "/v1/matching/batch/{job_id}"): Access(MATCHER),
    ("POST", "/v1/matching/batch/{job_id}/cancel"): Access(MATCHER),
    ("GET", "/v1/matching/batch/{job_id}/result"): Access(MATCHER),
    ("GET", "/v1/matching/batch/{job_id}/files/{name}"): Access(MATCHER),
}

# ---------------------------------------------------------------------------------------
# Servers in subprocesses
# ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(database_url: str, **settings: object) -> dict[str, str]:
    """The environment of a server or CLI call: ours, without inherited CAPACITEIT_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPACITEIT_")}
    env["CAPACITEIT_DATABASE_URL"] = database_url
    env["PYTHONUNBUFFERED"] = "1"
    for key, value in settings.items():
        env[f"CAPACITEIT_{key.upper()}"] = str(value)
    return env


@dataclass
class Server:
    """The service in its own process group: ``uvicorn --factory ...`` or ``capaciteit serve``."""

    database_url: str
    workdir: Path
    settings: dict[str, object] = field(default_factory=dict)
    cli: bool = False
    proc: subprocess.Popen[bytes] | None = None
    port: int = 0
    starts: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    def start(self, timeout: float = 90.0) -> Server:
        """Start on a free port and wait for ``/v1/health`` (retry if the port was taken)."""
        for _ in range(3):
            self.starts += 1
            self.port = free_port()
            with self.log_path.open("wb") as log:
                self.proc = subprocess.Popen(
                    self.command(),
                    env=service_env(self.database_url, **self.settings),
                    cwd=self.workdir,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_healthy(timeout):
                return self
            if "address already in use" not in self.log().lower():
                break
        raise AssertionError(f"the server did not start:\n{self.log()[-3000:]}")

    def command(self) -> list[str]:
        where = ["--host", "127.0.0.1", "--port", str(self.port)]
        if self.cli:
            return [CLI, "serve", *where]
        return [PYTHON, "-m", "uvicorn", "--factory", "capaciteit.service.app:create_app", *where]

    def _wait_healthy(self, timeout: float) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=2).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        return False

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL the server and its job workers (its whole process group)."""
        if self.proc is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        """Stop the server as an operator does (SIGTERM), then clean up its group."""
        if self.proc is None:
            return
        self.proc.terminate()
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=15)
        self.kill()

    def client(self, token: str | None = None, timeout: float = 60.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.base}/v1", headers=headers, timeout=timeout)


def make_token(database_url: str, role: str, name: str = "test") -> str:
    """Create a token in the database directly (migrating it first), as the CLI does."""
    from capaciteit.service.config import ServiceSettings
    from capaciteit.service.db import make_engine, migrate, session_factory
    from capaciteit.service.security import create_token

    url = ServiceSettings(database_url=database_url).sqlalchemy_url
    migrate(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            return create_token(session, role, name)  # type: ignore[arg-type]
    finally:
        engine.dispose()


def cli_token(database_url: str, role: str) -> str:
    """``capaciteit token create --role ROLE``: the token is the last line printed."""
    done = subprocess.run(
        [CLI, "token", "create", "--role", role, "--name", f"cli-{role}"],
        env=service_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", token), done.stdout
    return token


# ---------------------------------------------------------------------------------------
# Requests and answers
# ---------------------------------------------------------------------------------------


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The answer is RFC 9457 problem+json with ``status`` and no stack trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and isinstance(body["detail"], str)
    assert body["type"].startswith("https://")
    assert_no_traceback(response.text)
    return body


def assert_no_traceback(text: str) -> None:
    for marker in ("Traceback", 'File "', "site-packages", '.py", line'):
        assert marker not in text, f"{marker!r} in {text[:500]}"


def model_files(folder: Path = EXAMPLE_MODEL) -> list[tuple[str, tuple[str, bytes]]]:
    """The example region model as the multipart field ``files``."""
    return [("files", (p.name, p.read_bytes())) for p in sorted(folder.iterdir()) if p.is_file()]


def model_zip(folder: Path = EXAMPLE_MODEL, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.iterdir()):
            zf.write(p, prefix + p.name)
    return buffer.getvalue()


def pool_files(children: int, families: int, seed: int) -> tuple[bytes, bytes, list[str]]:
    kids, places = synthetic_pool(children, families, seed)
    return (
        kids.to_csv(index=False).encode(),
        places.to_csv(index=False).encode(),
        [str(c) for c in kids["child_id"]],
    )


def wait_job(
    client: httpx.Client,
    path: str,
    until: Callable[[dict[str, Any]], bool] = lambda job: job["status"] in FINAL,
    timeout: float = 120.0,
    every: float = 0.1,
) -> dict[str, Any]:
    """Poll a job until ``until`` holds; fail with its last state after ``timeout``."""
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(path)
        assert response.status_code == 200, response.text
        job = response.json()
        if until(job):
            return job
        time.sleep(every)
    raise AssertionError(f"{path} did not get there in {timeout} s: {job}")


def running_with_progress(job: dict[str, Any]) -> bool:
    assert job["status"] in ("queued", "running"), job
    return job["status"] == "running" and job["progress_pct"] > 0


# ---------------------------------------------------------------------------------------
# The shared server of this worker (SQLite) and what is uploaded to it
# ---------------------------------------------------------------------------------------


@dataclass
class Service:
    server: Server
    tokens: dict[str, str]
    token_ids: dict[str, int]

    def client(self, role: str | None) -> httpx.Client:
        return self.server.client(self.tokens[role] if role else None)


def once(service: Service, role: str | None, method: str, url: str, **kw: Any) -> httpx.Response:
    """One request on a connection of its own (uvicorn closes the connection after a 500)."""
    with service.client(role) as http:
        return http.request(method, url, **kw)


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One server per xdist worker: admin token from the CLI, the others over the API."""
    workdir = tmp_path_factory.mktemp("service")
    url = f"sqlite:///{workdir / 'service.db'}"
    admin = cli_token(url, "admin")
    server = Server(url, workdir, {"max_request_bytes": MAX_REQUEST_BYTES, "job_workers": 1})
    server.start()
    try:
        tokens, ids = {"admin": admin}, {}
        with server.client(admin) as http:
            for role in ("planner", "ontwikkeltafel", "voorzitter", "landelijk", "matcher"):
                response = http.post("/tokens", json={"role": role, "name": f"test {role}"})
                assert response.status_code == 201, response.text
                tokens[role], ids[role] = response.json()["token"], response.json()["id"]
            listed = {t["name"]: t for t in http.get("/tokens").json()}
            ids["admin"] = listed["cli-admin"]["id"]
        yield Service(server, tokens, ids)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def planner(service: Service) -> Iterator[httpx.Client]:
    with service.client("planner") as http:
        yield http


@pytest.fixture(scope="session")
def matcher(service: Service) -> Iterator[httpx.Client]:
    with service.client("matcher") as http:
        yield http


@pytest.fixture(scope="session")
def admin(service: Service) -> Iterator[httpx.Client]:
    with service.client("admin") as http:
        yield http


@pytest.fixture(scope="session")
def region_id(planner: httpx.Client) -> int:
    response = planner.post("/regions", files=model_files())
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture(scope="session")
def scenario_id(planner: httpx.Client, region_id: int) -> int:
    text = BASIS.read_text(encoding="utf-8")
    response = planner.post("/scenarios", json={"region_id": region_id, "text": text})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@dataclass(frozen=True)
class UploadedPool:
    id: int
    child_ids: list[str]
    placements_csv: bytes


@pytest.fixture(scope="session")
def pool(matcher: httpx.Client) -> UploadedPool:
    children, placements, ids = pool_files(60, 400, seed=7)
    response = matcher.post(
        "/matching/pools",
        files={
            "children": ("children.csv", children),
            "placements": ("placements.csv", placements),
        },
        data={"name": "test pool"},
    )
    assert response.status_code == 201, response.text
    return UploadedPool(int(response.json()["id"]), ids, placements)


# ---------------------------------------------------------------------------------------
# Health, tokens
# ---------------------------------------------------------------------------------------


def test_health_is_open_and_names_the_database(service: Service) -> None:
    with service.client(None) as http:
        response = http.get("/health")
    assert response.status_code == 200
    health = response.json()
    assert (health["status"], health["database"]) == ("ok", "sqlite")
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", health["version"])


def test_tokens_are_listed_without_secrets_and_revoked_ones_are_refused(
    service: Service, admin: httpx.Client
) -> None:
    created = admin.post("/tokens", json={"role": "planner", "name": "to revoke"})
    assert created.status_code == 201
    token, token_id = created.json()["token"], created.json()["id"]
    listed = admin.get("/tokens")
    assert listed.status_code == 200
    assert token not in listed.text
    assert all(set(t) == {"id", "name", "role", "created_at", "revoked"} for t in listed.json())
    with service.server.client(token) as http:
        assert http.get("/regions").status_code == 200
        revoked = admin.delete(f"/tokens/{token_id}")
        assert revoked.status_code == 200 and revoked.json()["revoked"] is True
        refused = http.get("/regions")
    assert assert_problem(refused, 401)["detail"] == "Het token is onbekend of ingetrokken."
    assert refused.headers["www-authenticate"] == "Bearer"
    assert_problem(admin.delete("/tokens/999999"), 404)
    invalid = admin.post("/tokens", json={"role": "superuser", "name": "x"})
    refused_role = assert_problem(invalid, 422)
    assert refused_role["problems"][0]["location"] == "body.role"
    assert refused_role["problems"][0]["message"].startswith("'role' moet een van 'planner'")
    assert refused_role["detail"] == "Het verzoek is ongeldig."


# ---------------------------------------------------------------------------------------
# Regions and scenarios
# ---------------------------------------------------------------------------------------


def test_upload_region_files_then_read_it_back(
    service: Service, planner: httpx.Client, region_id: int
) -> None:
    region = planner.get(f"/regions/{region_id}")
    assert region.status_code == 200
    summary = region.json()["summary"]
    assert summary["baseline_year"] == 2023
    assert set(summary["care_forms"]) == {
        "pleegzorg",
        "gezinshuis",
        "residentieel",
        "jeugdzorgplus",
        "crisis",
    }
    assert region_id in [r["id"] for r in planner.get("/regions").json()]
    beds = planner.get(f"/regions/{region_id}/availability")
    assert beds.status_code == 200
    p01 = next(r for r in beds.json() if (r["provider"], r["care_form"]) == ("P01", "pleegzorg"))
    assert p01 == {
        "provider": "P01",
        "care_form": "pleegzorg",
        "beds": 150,
        "occupied": 138,
        "free": 12,
    }
    with service.client("ontwikkeltafel") as reader:
        assert reader.get(f"/regions/{region_id}").json() == region.json()
    assert_problem(planner.get("/regions/999999"), 404)


@pytest.mark.parametrize("prefix", ["", "voorbeeldregio/"])
def test_upload_region_as_zip(planner: httpx.Client, prefix: str) -> None:
    response = planner.post("/regions", files=[("files", ("model.zip", model_zip(prefix=prefix)))])
    assert response.status_code == 201, response.text
    assert response.json()["summary"]["providers"][:2] == ["P01", "P02"]


def test_invalid_region_is_refused_with_every_problem(planner: httpx.Client) -> None:
    beds = b"provider,care_form,beds,occupied\nP01,pleegzorg,-3,0\n"
    files = [
        ("files", (name, beds if name == "beds.csv" else content))
        for _, (name, content) in model_files()
        if name != "routing.csv"
    ]
    before = len(planner.get("/regions").json())
    body = assert_problem(planner.post("/regions", files=files), 422)
    problems = body["problems"]
    negative = next(p for p in problems if p["file"] == "beds.csv")
    assert negative["row"] == 2 and negative["id"] == "P01" and negative["column"] == "beds"
    assert "-3" in negative["message"] and negative["fix"]
    missing = next(p for p in problems if p["file"] == "routing.csv")
    assert "ontbreekt" in missing["message"] and "routing.csv" in missing["fix"]
    assert body["title"] == "Invoer afgekeurd"
    assert body["detail"].startswith("Het regiomodel is ongeldig (")
    assert all(set(p) >= {"file", "row", "id", "message", "fix"} for p in problems)
    assert len(planner.get("/regions").json()) == before, "nothing is stored"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([("files", ("model.zip", b"PK\x03\x04 not a zip"))], "is geen zip-bestand"),
        ([("files", ("../model.yaml", b"schema_version: 1\n"))], "is geen gewone bestandsnaam"),
        ([("files", ("model.yaml", b"a: ["))], "is geen geldige YAML"),
    ],
)
def test_broken_region_uploads_are_422(
    planner: httpx.Client, files: list[tuple[str, tuple[str, bytes]]], message: str
) -> None:
    body = assert_problem(planner.post("/regions", files=files), 422)
    assert any(message in p["message"] for p in body["problems"]), body


def test_add_scenario_and_refuse_invalid_ones(
    planner: httpx.Client, region_id: int, scenario_id: int
) -> None:
    stored = planner.get(f"/scenarios/{scenario_id}")
    assert stored.status_code == 200
    assert stored.json()["region_id"] == region_id
    assert stored.json()["name"] == "Voorbeeldregio – basis (status quo)"
    assert scenario_id in [s["id"] for s in planner.get("/scenarios").json()]

    named = planner.post(
        "/scenarios",
        json={"region_id": region_id, "text": BASIS.read_text(encoding="utf-8"), "name": "eigen"},
    )
    assert named.status_code == 201 and named.json()["name"] == "eigen"

    broken = BASIS.read_text(encoding="utf-8").replace("end_year: 2030", "end_year: 2020")
    body = assert_problem(
        planner.post("/scenarios", json={"region_id": region_id, "text": broken}), 422
    )
    assert body["problems"] and all(p["fix"] for p in body["problems"])
    assert "/tmp" not in body["detail"]

    assert_problem(planner.post("/scenarios", json={"region_id": 999_999, "text": "name: x"}), 404)
    extra = planner.post("/scenarios", json={"region_id": region_id, "text": "x", "naam": "Jan"})
    assert assert_problem(extra, 422)["problems"][0] == {
        "location": "body.naam",
        "message": "'naam' is geen bekende sleutel.",
    }
    assert_problem(planner.get("/scenarios/999999"), 404)


# ---------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------


def test_simulate_run_to_done_then_result_and_files(
    service: Service, planner: httpx.Client, scenario_id: int
) -> None:
    started = planner.post(
        "/runs",
        json={"kind": "simulate", "scenario_id": scenario_id, "replications": 2, "seed": 11},
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] == "queued" and job["attempts"] == 0 and job["files"] == []
    assert job["params"] == {"scenario_id": scenario_id, "replications": 2, "seed": 11}

    done = wait_job(planner, f"/runs/{job['id']}")
    assert done["status"] == "done", done
    assert done["progress_pct"] == 100.0 and done["attempts"] == 1 and done["error"] is None
    assert {"summary.json", "kpis.csv", "stays.csv", "occupancy.png"} <= set(done["files"])

    result = planner.get(f"/runs/{job['id']}/result")
    assert result.status_code == 200
    summary = result.json()
    assert summary["replications"] == 2 and summary["seed"] == 11
    occupied = summary["kpis"]["pleegzorg"]["2023"]["occupied_beds"]
    assert occupied["ci_low"] <= occupied["mean"] <= occupied["ci_high"]
    # stored ids, never the worker's temporary folders; the file says the same as the API
    assert summary["scenario"]["scenario_id"] == job["params"]["scenario_id"]
    assert summary["scenario"]["file"] is None and summary["model"]["path"] is None
    assert "/tmp" not in json.dumps(summary)
    assert planner.get(f"/runs/{job['id']}/files/summary.json").json() == summary

    csv = planner.get(f"/runs/{job['id']}/files/kpis.csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="kpis.csv"' in csv.headers["content-disposition"]
    assert csv.text.splitlines()[0] == "care_form,year,kpi,mean,ci_low,ci_high,replications"
    png = planner.get(f"/runs/{job['id']}/files/occupancy.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert_problem(planner.get(f"/runs/{job['id']}/files/nothing.csv"), 404)

    with service.client("ontwikkeltafel") as reader:
        assert reader.get(f"/runs/{job['id']}/result").json() == summary
        assert reader.get("/runs").json()[0]["id"] >= job["id"]
        assert_problem(reader.post(f"/runs/{job['id']}/cancel"), 403)
    conflict = assert_problem(planner.post(f"/runs/{job['id']}/cancel"), 409)
    assert conflict["detail"] == f"Berekening {job['id']} is al klaar."
    assert_problem(planner.get("/runs/999999"), 404)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("simulate", {"replications": 3, "seed": 5}),
        ("beds", {"replications": 2}),
    ],
)
def test_the_command_line_and_the_service_write_the_same_files(
    planner: httpx.Client, scenario_id: int, tmp_path: Path, kind: str, options: dict[str, int]
) -> None:
    """One use case (capaciteit.pipelines) behind both: every table is the same, byte for
    byte, and the JSON summary is the same but for where the files were and when.
    """
    job = planner.post("/runs", json={"kind": kind, "scenario_id": scenario_id, **options})
    assert job.status_code == 202, job.text
    command = [PYTHON, "-m", "capaciteit", kind, str(BASIS), "--out", str(tmp_path / "cli")]
    command += [f"--{k}={v}" for k, v in options.items()] + ["--executor", "serial", "--quiet"]
    done = subprocess.run(
        command, env=service_env(f"sqlite:///{tmp_path / 'unused.db'}"), capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    run = wait_job(planner, f"/runs/{job.json()['id']}", timeout=300)
    assert run["status"] == "done", run
    written = sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert sorted(run["files"]) == written
    for name in written:
        mine = (tmp_path / "cli" / name).read_bytes()
        theirs = planner.get(f"/runs/{run['id']}/files/{name}").content
        if name.endswith(".csv"):
            assert theirs == mine, name
        elif name.endswith(".json"):
            a, b = json.loads(mine), json.loads(theirs)
            for where in (a, b):
                for key in ("generated_at", "scenario", "model", "executor"):
                    where.pop(key, None)
                where.get("search", {}).pop("time_s", None)
                if kind == "beds":
                    for row in where.get("iterations", []):
                        row.pop("solve_time_s", None)
                    where["solver"].pop("time_s", None)
            assert a == b, name


def test_cancel_a_queued_and_a_running_run(planner: httpx.Client, scenario_id: int) -> None:
    long_run = {"kind": "simulate", "scenario_id": scenario_id, "replications": 1000}
    running = planner.post("/runs", json=long_run).json()
    queued = planner.post("/runs", json=long_run).json()  # behind the other: one job worker

    cancelled = planner.post(f"/runs/{queued['id']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["finished_at"] is not None
    assert_problem(planner.post(f"/runs/{queued['id']}/cancel"), 409)

    wait_job(planner, f"/runs/{running['id']}", running_with_progress, timeout=60)
    requested = planner.post(f"/runs/{running['id']}/cancel")
    assert requested.status_code == 200
    assert requested.json()["message"] == "annuleren gevraagd"
    ended = wait_job(planner, f"/runs/{running['id']}", timeout=30)
    assert ended["status"] == "cancelled" and ended["files"] == []
    assert 0 < ended["progress_pct"] < 100
    assert (
        "is al geannuleerd"
        in assert_problem(planner.post(f"/runs/{running['id']}/cancel"), 409)["detail"]
    )
    assert_problem(planner.get(f"/runs/{running['id']}/result"), 409)
    # the cancelled queued run never ran
    assert planner.get(f"/runs/{queued['id']}").json()["attempts"] == 0


def test_stale_running_jobs_are_rerun_or_failed_never_left_running(
    service: Service, planner: httpx.Client, scenario_id: int
) -> None:
    """Jobs a dead worker left running (old heartbeat): rerun, or failed after 3 attempts."""
    from capaciteit.service.db import Job, make_engine, session_factory

    long_ago = dt.datetime(2000, 1, 1)
    params = {"scenario_id": scenario_id, "replications": 2, "seed": 5}
    engine = make_engine(service.server.database_url)
    try:
        with session_factory(engine)() as session:
            left = {
                attempts: Job(
                    kind="simulate",
                    params=params,
                    status="running",
                    attempts=attempts,
                    claim="a dead worker",
                    progress=0.4,
                    message="running",
                    started_at=long_ago,
                    heartbeat_at=long_ago,
                    organisation_id=1,  # 'standaard', where the planner's scenario is
                )
                for attempts in (1, 3)
            }
            session.add_all(left.values())
            session.commit()
            rerun, given_up = left[1].id, left[3].id
    finally:
        engine.dispose()
    failed = wait_job(planner, f"/runs/{given_up}", timeout=60)
    assert (failed["status"], failed["attempts"]) == ("failed", 3)
    assert failed["error"] == {"detail": "het werkproces stopte 3 keer (vastgelopen?)"}
    done = wait_job(planner, f"/runs/{rerun}", timeout=60)
    assert (done["status"], done["attempts"]) == ("done", 2)
    assert "summary.json" in done["files"]


def test_run_requests_are_checked(planner: httpx.Client, scenario_id: int) -> None:
    assert_problem(planner.post("/runs", json={"kind": "simulate", "scenario_id": 999_999}), 404)
    for body in (
        {"kind": "optimise", "scenario_id": scenario_id},
        {"kind": "simulate", "scenario_id": scenario_id, "replications": 1},
        {"kind": "simulate", "scenario_id": scenario_id, "seed": -1},
        {"kind": "simulate", "scenario_id": scenario_id, "executor": "dask://evil:8786"},
        # strict types: a boolean or a text is not a number
        {"kind": "simulate", "scenario_id": scenario_id, "seed": False},
        {"kind": "simulate", "scenario_id": scenario_id, "replications": "3"},
        {"kind": "simulate", "scenario_id": True},
    ):
        problems = assert_problem(planner.post("/runs", json=body), 422)["problems"]
        assert problems and all(p["location"].startswith("body.") for p in problems)


def test_times_carry_their_utc_offset(planner: httpx.Client, scenario_id: int) -> None:
    """Times are stored in UTC and written with the offset, as OpenAPI's date-time says."""
    import datetime as dt

    scenario = planner.get(f"/scenarios/{scenario_id}").json()
    run = planner.post("/runs", json={"kind": "simulate", "scenario_id": scenario_id})
    for stamp in (scenario["created_at"], run.json()["created_at"]):
        parsed = dt.datetime.fromisoformat(stamp)
        assert parsed.utcoffset() == dt.timedelta(0), stamp
        assert abs(dt.datetime.now(dt.UTC) - parsed) < dt.timedelta(hours=1)
    planner.post(f"/runs/{run.json()['id']}/cancel")


# ---------------------------------------------------------------------------------------
# Matching
# ---------------------------------------------------------------------------------------


def _suggest(matcher: httpx.Client, pool: UploadedPool) -> tuple[str, dict[str, Any]]:
    """The first child of the pool with at least one suggested family."""
    for child in pool.child_ids:
        response = matcher.post(
            "/matching/suggestions", json={"pool_id": pool.id, "child_id": child, "k": 3}
        )
        assert response.status_code == 200, response.text
        if response.json()["suggestions"]:
            return child, response.json()
    raise AssertionError("no child of the synthetic pool has a suggestion")


def test_matching_pool_upload_and_availability(matcher: httpx.Client, pool: UploadedPool) -> None:
    listed = {p["id"]: p for p in matcher.get("/matching/pools").json()}
    assert listed[pool.id]["summary"]["children"] == 60
    assert listed[pool.id]["name"] == "test pool"
    availability = matcher.get(f"/matching/pools/{pool.id}/availability")
    assert availability.status_code == 200
    rows = availability.json()
    assert rows and all(set(r) == {"type", "trede", "families", "free_places"} for r in rows)
    # recounted from the uploaded table: available families with a free place, per trede
    import pandas as pd

    table = pd.read_csv(io.BytesIO(pool.placements_csv), keep_default_na=False)
    expected: dict[tuple[str, str], list[int]] = {}
    for r in table.to_dict(orient="records"):
        for trede in str(r["tredes"]).split("|"):
            entry = expected.setdefault((str(r["type"]), trede), [0, 0])
            if int(r["available"]) == 1 and int(r["free_places"]) > 0:
                entry[0] += 1
                entry[1] += int(r["free_places"])
    got = {(r["type"], r["trede"]): [r["families"], r["free_places"]] for r in rows}
    assert got == expected
    assert_problem(matcher.get("/matching/pools/999999/availability"), 404)


def test_matching_pool_with_a_name_column_is_refused(matcher: httpx.Client) -> None:
    children, placements, _ = pool_files(5, 10, seed=1)
    lines = children.decode().splitlines()
    named = "\n".join([lines[0] + ",naam"] + [line + ",Jan" for line in lines[1:]]) + "\n"
    before = len(matcher.get("/matching/pools").json())
    response = matcher.post(
        "/matching/pools",
        files={
            "children": ("children.csv", named.encode()),
            "placements": ("placements.csv", placements),
        },
    )
    problems = assert_problem(response, 422)["problems"]
    naam = next(p for p in problems if p["column"] == "naam")
    assert naam["file"] == "children.csv" and naam["row"] == 1
    assert "persoonsgegevens" in naam["message"] and "Verwijder de kolom 'naam'" in naam["fix"]
    assert "Jan" not in response.text
    assert len(matcher.get("/matching/pools").json()) == before


def test_a_pool_may_be_uploaded_as_workbooks(matcher: httpx.Client) -> None:
    """The API takes .xlsx tables as the web form does (it said "save it as .xlsx" and then
    refused the workbook as no UTF-8 text); suggestions work on the stored workbooks.
    """
    kids, places = synthetic_pool(8, 30, seed=6)
    tables = {}
    for name, frame in (("children", kids), ("placements", places)):
        buffer = io.BytesIO()
        frame.to_excel(buffer, index=False)
        tables[name] = (f"{name}.xlsx", buffer.getvalue())
    made = matcher.post("/matching/pools", files=tables)
    assert made.status_code == 201, made.text
    assert made.json()["summary"]["children"] == 8
    child = str(kids["child_id"].iloc[0])
    body = {"pool_id": made.json()["id"], "child_id": child, "k": 3}
    answer = matcher.post("/matching/suggestions", json=body)
    assert answer.status_code == 200, answer.text


def test_suggestions_and_explain_are_audited(
    service: Service, matcher: httpx.Client, admin: httpx.Client, pool: UploadedPool
) -> None:
    child, answer = _suggest(matcher, pool)
    assert answer["child_id"] == child
    assert answer["candidates"] >= len(answer["suggestions"]) >= 1
    best = answer["suggestions"][0]
    assert best["rank"] == 1 and best["reasons"] and best["score"] > 0
    assert [s["rank"] for s in answer["suggestions"]] == list(
        range(1, len(answer["suggestions"]) + 1)
    )

    fits = matcher.post(
        "/matching/explain",
        json={"pool_id": pool.id, "child_id": child, "placement_id": best["placement_id"]},
    )
    assert fits.status_code == 200
    assert fits.json()["eligible"] is True and fits.json()["violations"] == []
    assert fits.json()["score"] == pytest.approx(best["score"])

    unknown = matcher.post(
        "/matching/suggestions", json={"pool_id": pool.id, "child_id": "K99999", "k": 3}
    )
    # a child that is not on the pool's waiting list does not exist there: 404
    assert "K99999" in assert_problem(unknown, 404)["detail"]
    assert_problem(
        matcher.post("/matching/suggestions", json={"pool_id": 999_999, "child_id": child}), 404
    )

    entries = admin.get("/audit", params={"limit": 1000}).json()
    asked = [e for e in entries if e["action"] == "suggestions" and e["subject_ids"][0] == child]
    assert asked, entries[:5]
    entry = asked[0]
    assert entry["token_id"] == service.token_ids["matcher"]
    assert entry["subject_ids"] == [child, *answer["siblings_placed_together"]]
    assert entry["detail"]["pool_id"] == pool.id
    assert best["placement_id"] in entry["detail"]["families"]
    explained = [e for e in entries if e["action"] == "explain" and e["subject_ids"] == [child]]
    assert explained and explained[0]["detail"]["family"] == best["placement_id"]
    assert explained[0]["token_id"] == service.token_ids["matcher"]


def test_batch_assignment_is_proven_optimal(
    service: Service, matcher: httpx.Client, admin: httpx.Client, pool: UploadedPool
) -> None:
    started = matcher.post("/matching/batch", json={"pool_id": pool.id, "time_limit_s": 30})
    assert started.status_code == 202, started.text
    job = wait_job(matcher, f"/matching/batch/{started.json()['id']}")
    assert job["status"] == "done", job
    assert {"assignment.csv", "match.json", "unplaced.csv"} <= set(job["files"])
    result = matcher.get(f"/matching/batch/{job['id']}/result").json()
    assert result["proven_optimal"] is True
    assert result["placed"] + result["unplaced"] == result["children"] == 60
    placed = {a["child_id"] for a in result["assignment"]}
    assert len(placed) == result["placed"]
    csv = matcher.get(f"/matching/batch/{job['id']}/files/assignment.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert_problem(matcher.post(f"/matching/batch/{job['id']}/cancel"), 409)
    # a batch is not a run, and a run is not a batch
    with service.client("planner") as http:
        assert_problem(http.get(f"/runs/{job['id']}"), 404)

    entries = admin.get("/audit", params={"limit": 1000}).json()
    read = next(
        e
        for e in entries
        if e["action"] == "match_batch_read" and e["detail"]["job_id"] == job["id"]
    )
    assert set(read["subject_ids"]) == placed
    assert read["token_id"] == service.token_ids["matcher"]


# ---------------------------------------------------------------------------------------
# Body limit, unknown routes, errors
# ---------------------------------------------------------------------------------------


def test_request_body_over_the_limit_is_413(planner: httpx.Client, matcher: httpx.Client) -> None:
    big = b"x" * (MAX_REQUEST_BYTES + 500_000)
    response = planner.post("/scenarios", content=big, headers={"content-type": "application/json"})
    detail = assert_problem(response, 413)["detail"]
    assert f"{MAX_REQUEST_BYTES:,}".replace(",", ".") in detail  # Dutch: 2.000.000
    response = planner.post("/regions", files=[("files", ("model.yaml", big))])
    assert_problem(response, 413)
    response = matcher.post(
        "/matching/pools",
        files={"children": ("children.csv", big), "placements": ("placements.csv", b"a\n")},
    )
    assert_problem(response, 413)


def test_unknown_route_and_wrong_method_are_problem_json(service: Service) -> None:
    with service.client("planner") as http:
        unknown = assert_problem(http.get("/nothing/here"), 404)
        assert (unknown["title"], unknown["detail"]) == ("Niet gevonden", "Niet gevonden.")
        assert_problem(http.get("/v2/regions"), 404)
        wrong = http.delete("/regions")
        assert_problem(wrong, 405)
        # Starlette names the methods of the first matching route only (POST), not GET too
        assert "POST" in wrong.headers["allow"]
        assert_problem(http.put("/runs/1/cancel"), 405)
        not_json = http.post("/runs", content=b"{", headers={"content-type": "application/json"})
        assert assert_problem(not_json, 422)["problems"]
        assert_problem(http.get("/regions/abc"), 422)


# Inputs that made the service fail with 500 (fixed, see the last section): whatever they
# answer, the answer must be problem+json without a stack trace or the input in it.
MARKER = "K31337-geheim"
SERVER_ERROR_TRIGGERS: dict[str, dict[str, Any]] = {
    "id above SQLite's INTEGER": {"method": "GET", "url": f"/regions/{SQLITE_INT_MAX + 1}"},
    "scenario that is not YAML": {
        "method": "POST",
        "url": "/scenarios",
        "json": {"region_id": 0, "text": f"{MARKER}: [unclosed"},
    },
    "file name too long": {
        "method": "POST",
        "url": "/regions",
        "files": [("files", (f"{MARKER}-{'x' * 300}.csv", b"a,b\n"))],
    },
}


@pytest.mark.parametrize("trigger", list(SERVER_ERROR_TRIGGERS))
def test_errors_never_carry_a_traceback(service: Service, region_id: int, trigger: str) -> None:
    request = dict(SERVER_ERROR_TRIGGERS[trigger])
    if "json" in request:
        request["json"] = {**request["json"], "region_id": region_id}
    response = once(service, "planner", **request)
    assert response.status_code >= 400
    assert_problem(response, response.status_code)
    assert MARKER not in response.text
    if response.status_code == 500:
        detail = response.json()["detail"]
        assert detail == "Interne fout; die is vastgelegd, zonder persoonsgegevens."


def test_openapi_schema_and_docs_are_served(service: Service, openapi: dict[str, Any]) -> None:
    with service.client(None) as http:
        served = http.get("/openapi.json")
        assert served.status_code == 200
        assert served.json()["paths"].keys() == openapi["paths"].keys()
        assert http.get("/docs").status_code == 200


# ---------------------------------------------------------------------------------------
# The access matrix
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The application built in this process (no workers), for its routes and schema."""
    from capaciteit.service.app import create_app
    from capaciteit.service.config import ServiceSettings

    url = f"sqlite:///{tmp_path_factory.mktemp('app') / 'app.db'}"
    built = create_app(ServiceSettings(database_url=url), start_workers=False)
    built.state.engine.dispose()
    return built


@pytest.fixture(scope="session")
def openapi(app: Any) -> dict[str, Any]:
    """``app.openapi()``: the routes the access matrix goes through."""
    schema: dict[str, Any] = app.openapi()
    return schema


def schema_routes(openapi: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete", "head", "options"}
    return {
        (method.upper(), path)
        for path, operations in openapi["paths"].items()
        for method in operations
        if method in methods
    }


def test_access_table_names_every_route_of_the_schema(openapi: dict[str, Any]) -> None:
    routes = schema_routes(openapi)
    missing = sorted(routes - ACCESS.keys())
    stale = sorted(ACCESS.keys() - routes)
    assert not missing, f"routes without a row in ACCESS (who may call them?): {missing}"
    assert not stale, f"rows in ACCESS for routes that no longer exist: {stale}"


def test_no_api_route_hides_from_the_schema(openapi: dict[str, Any]) -> None:
    """A /v1 route left out of the schema would escape the access matrix."""
    from fastapi.routing import APIRoute

    from capaciteit.service.app import API_ROUTERS

    routes = [r for router in API_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert sum(len(r.methods) for r in routes) == len(schema_routes(openapi))
    hidden = sorted(
        f"{method} /v1{route.path}"
        for route in routes
        if not route.include_in_schema
        for method in route.methods
    )
    assert not hidden, f"/v1 routes outside the OpenAPI schema: {hidden}"


def test_access_matrix(service: Service, admin: httpx.Client, openapi: dict[str, Any]) -> None:
    revoked = admin.post("/tokens", json={"role": "planner", "name": "revoked"}).json()
    assert admin.delete(f"/tokens/{revoked['id']}").status_code == 200
    callers: dict[str, str | None] = {role: service.tokens[role] for role in ROLES}
    callers |= {"none": None, "bad token": "not-a-token", "revoked token": revoked["token"]}

    wrong: list[str] = []
    for method, path in sorted(schema_routes(openapi)):
        access = ACCESS.get((method, path))
        assert access is not None, f"{method} {path} is not in ACCESS"
        url = re.sub(r"\{name\}", "nothing.csv", re.sub(r"\{\w+_id\}", "999999", path))
        url = url.removeprefix("/v1")
        for caller, token in callers.items():
            with service.server.client(token) as http:
                response = http.request(
                    method, url, json=access.json, files=access.files, data=access.data
                )
            status = response.status_code
            if access.roles is OPEN:
                ok = status not in (401, 403)
                expected = "not 401/403 (open)"
            elif caller in access.roles:
                ok = status not in (401, 403) and status < 500
                expected = "admitted: not 401/403/5xx"
            elif caller in ROLES:
                ok = status == 403 and response.headers["content-type"].startswith(PROBLEM_JSON)
                expected = "403 problem+json"
            else:
                ok = (
                    status == 401
                    and response.headers.get("www-authenticate") == "Bearer"
                    and response.headers["content-type"].startswith(PROBLEM_JSON)
                )
                expected = "401 problem+json with WWW-Authenticate: Bearer"
            if not ok:
                wrong.append(f"{method} {path} as {caller}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)


# ---------------------------------------------------------------------------------------
# kill -9 during a run
# ---------------------------------------------------------------------------------------


def _job_row(db: Path, job_id: int) -> tuple[str, int]:
    with closing(sqlite3.connect(db)) as conn:
        status, attempts = conn.execute(
            "SELECT status, attempts FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
    return str(status), int(attempts)


@pytest.mark.slow
def test_kill_9_during_a_run_reruns_it_to_the_same_result(tmp_path: Path) -> None:
    replications, seed = 40, 4242
    db = tmp_path / "crash.db"
    url = f"sqlite:///{db}"
    token = make_token(url, "planner")
    settings = {"stale_after_s": 3, "heartbeat_s": 0.5, "job_workers": 1}

    first = Server(url, tmp_path, settings).start()
    try:
        with first.client(token) as http:
            region = http.post("/regions", files=model_files()).json()["id"]
            text = BASIS.read_text(encoding="utf-8")
            scenario = http.post("/scenarios", json={"region_id": region, "text": text}).json()[
                "id"
            ]
            body = {
                "kind": "simulate",
                "scenario_id": scenario,
                "replications": replications,
                "seed": seed,
            }
            job_id = http.post("/runs", json=body).json()["id"]
            caught = wait_job(
                http, f"/runs/{job_id}", running_with_progress, timeout=60, every=0.05
            )
        assert caught["progress_pct"] < 95, f"the run is too short to be caught running: {caught}"
    finally:
        first.kill()  # the server and its job workers, with SIGKILL
    assert _job_row(db, job_id) == ("running", 1), "a killed worker leaves its job running"

    # the same run, uninterrupted, by the command line (serial, as the job workers run)
    command = [CLI, "simulate", str(BASIS), "--out", str(tmp_path / "reference")]
    command += ["--replications", str(replications), "--seed", str(seed)]
    command += ["--executor", "serial", "--quiet"]
    reference = subprocess.Popen(
        command,
        env=service_env(f"sqlite:///{tmp_path / 'unused.db'}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    second = Server(url, tmp_path, settings, cli=True).start()  # now as `capaciteit serve`
    try:
        with second.client(token) as http:
            job = wait_job(http, f"/runs/{job_id}", timeout=180, every=0.25)
            assert job["status"] == "done", job
            assert job["attempts"] >= 2 and job["progress_pct"] == 100.0
            result = http.get(f"/runs/{job_id}/result").json()
            assert [j["status"] for j in http.get("/runs").json() if j["status"] == "running"] == []
    finally:
        second.stop()
    _, stderr = reference.communicate(timeout=300)
    assert reference.returncode == 0, stderr
    expected = json.loads((tmp_path / "reference" / "summary.json").read_text(encoding="utf-8"))
    assert (result["replications"], result["seed"]) == (replications, seed)
    assert result["kpi_names"] == expected["kpi_names"]
    assert result["kpis"] == expected["kpis"]  # the KPI numbers, not times or paths
    assert _job_row(db, job_id) == ("done", job["attempts"])


# ---------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A database made for this run on the server of ``CAPACITEIT_TEST_DATABASE_URL``."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"{PG_ENV} is not set; set it to e.g. postgresql://postgres@127.0.0.1:5432/test "
            "to run the service tests against PostgreSQL (.ci/run does when one answers)"
        )
    import psycopg
    from psycopg import sql

    name = f"capaciteit_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urllib.parse.urlsplit(base)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.mark.postgres
def test_postgres_migrations_create_the_schema_once(pg_url: str) -> None:
    import psycopg

    from capaciteit.service.config import ServiceSettings
    from capaciteit.service.db import migrate

    url = ServiceSettings(database_url=pg_url).sqlalchemy_url
    assert url.startswith("postgresql+psycopg://")
    migrate(url)
    migrate(url)  # idempotent: a restart migrates again
    with psycopg.connect(pg_url) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
        heads = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    expected = {"tokens", "regions", "scenarios", "pools", "jobs", "job_files", "audit_log"}
    assert expected | {"alembic_version"} <= tables
    assert len(heads) == 1


@dataclass(frozen=True)
class PgService:
    server: Server
    admin_token: str


@pytest.fixture(scope="module")
def pg_service(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgService]:
    admin_token = make_token(pg_url, "admin", "pg admin")
    server = Server(pg_url, tmp_path_factory.mktemp("pg"), {"job_workers": 1}).start()
    try:
        yield PgService(server, admin_token)
    finally:
        server.stop()


@pytest.mark.postgres
def test_postgres_core_flow(pg_service: PgService) -> None:
    server = pg_service.server
    with server.client(None) as http:
        assert http.get("/health").json()["database"] == "postgresql"
    with server.client(pg_service.admin_token) as admin:
        tokens = {}
        for role in ("planner", "matcher"):
            created = admin.post("/tokens", json={"role": role, "name": f"pg {role}"})
            assert created.status_code == 201, created.text
            tokens[role] = created.json()
        spare = admin.post("/tokens", json={"role": "planner", "name": "pg spare"}).json()
        assert admin.delete(f"/tokens/{spare['id']}").json()["revoked"] is True
    with server.client(spare["token"]) as http:
        assert_problem(http.get("/regions"), 401)

    with server.client(tokens["planner"]["token"]) as planner:
        region = planner.post("/regions", files=model_files())
        assert region.status_code == 201, region.text
        text = BASIS.read_text(encoding="utf-8")
        scenario = planner.post("/scenarios", json={"region_id": region.json()["id"], "text": text})
        assert scenario.status_code == 201, scenario.text
        body = {"kind": "simulate", "scenario_id": scenario.json()["id"], "replications": 2}
        started = planner.post("/runs", json={**body, "seed": 3})
        assert started.status_code == 202, started.text
        job = wait_job(planner, f"/runs/{started.json()['id']}")
        assert job["status"] == "done", job
        assert planner.get(f"/runs/{job['id']}/result").json()["replications"] == 2
        csv = planner.get(f"/runs/{job['id']}/files/kpis.csv")
        assert csv.status_code == 200 and csv.text.startswith("care_form,year,kpi")
        assert_problem(planner.get(f"/regions/{PG_INT_MAX}"), 404)

    with server.client(tokens["matcher"]["token"]) as matcher:
        children, placements, ids = pool_files(40, 300, seed=5)
        uploaded = matcher.post(
            "/matching/pools",
            files={"children": ("c.csv", children), "placements": ("p.csv", placements)},
        )
        assert uploaded.status_code == 201, uploaded.text
        child, _ = _suggest(matcher, UploadedPool(uploaded.json()["id"], ids, placements))
    with server.client(pg_service.admin_token) as admin:
        entries = admin.get("/audit").json()
    assert any(
        e["action"] == "suggestions"
        and e["subject_ids"][0] == child
        and e["token_id"] == tokens["matcher"]["id"]
        for e in entries
    )


@pytest.mark.postgres
def test_postgres_ids_beyond_32_bits_are_not_found(pg_service: PgService) -> None:
    with pg_service.server.client(pg_service.admin_token) as http:
        response = http.get(f"/tokens/{PG_INT_MAX + 1}")
        assert response.status_code == 405  # (DELETE only) the route matched
        response = http.delete(f"/tokens/{PG_INT_MAX + 1}")
    assert response.status_code in (404, 422), response.text


# ---------------------------------------------------------------------------------------
# schemathesis
# ---------------------------------------------------------------------------------------


CONTENT_CHECKED = {
    ("POST", "/v1/regions"),
    ("POST", "/v1/scenarios"),
    ("POST", "/v1/matching/pools"),
    ("POST", "/v1/plans/{plan_id}/edits"),
    ("POST", "/v1/plans/{plan_id}/comments"),
    ("POST", "/v1/plans/{plan_id}/verdicts"),
    ("POST", "/v1/plans/{plan_id}/realisations"),
    ("POST", "/v1/records"),
    ("POST", "/v1/calibrations"),
    ("POST", "/v1/backtests"),
}
"""Routes whose content is checked against stored data: files or scenario text as a model,
scenario, pool or stay records; cells against the plan's cells and rules; a verdict
'niet akkoord' needs a reason; a calibration's or backtest's days against the stay records
and its 0-meting's rows each pair once. Content that fails is refused with 422 and every problem
listed, which no schema can say, so schema-valid requests may get 422 there."""


def test_schemathesis_finds_the_server_as_documented(tmp_path: Path) -> None:
    """Generated requests (valid and invalid) over every operation: no 5xx, and every
    status, media type and body as the OpenAPI document declares; invalid data refused.

    Ids of any size are sent (ids beyond the database's range were a 500 once, see
    ``test_ids_beyond_64_bits_are_not_found``).
    """
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from schemathesis.core.failures import Failure, FailureGroup

    # All of schemathesis's checks; a schema-valid request must be accepted (2xx) or
    # refused for its credentials or a missing object, except on CONTENT_CHECKED routes.
    names = "|".join(re.escape(f"{method} {path}") for method, path in sorted(CONTENT_CHECKED))
    config = schemathesis.config.SchemathesisConfig.from_str(
        f"""
[[operations]]
include-name-regex = '^({names})$'
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]
"""
    )

    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    tokens = {role: make_token(url, role) for role in ROLES}
    server = Server(url, tmp_path, {"job_workers": 0}).start()
    try:
        schema = schemathesis.openapi.from_url(f"{server.base}/v1/openapi.json", config=config)
        operations = [result.ok() for result in schema.get_all_operations()]
        per_operation = math.ceil(FUZZ_EXAMPLES / len(operations))
        counts = {"sent": 0}
        failures: list[str] = []

        def fuzz(operation: Any) -> None:
            roles = ACCESS[(operation.method.upper(), operation.path)].roles
            role = next((r for r in ROLES if r in roles), None)
            headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
            strategy = st.one_of(
                operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
                operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
            )

            @settings(
                max_examples=per_operation,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def one(case: Any) -> None:
                counts["sent"] += 1
                response = case.call(base_url=server.base, headers=headers, timeout=60)
                try:
                    case.validate_response(response, headers=headers)
                except (Failure, FailureGroup) as exc:
                    failures.append(
                        f"{response.status_code} {str(exc)[:300]} "
                        f"{case.as_curl_command(headers=headers)}"
                    )
                if response.status_code >= 400:
                    content_type = "".join(response.headers.get("content-type", []))
                    if not content_type.startswith(PROBLEM_JSON) or "Traceback" in response.text:
                        failures.append(
                            f"not problem+json: {case.as_curl_command(headers=headers)}"
                        )

            one()

        for operation in operations:
            fuzz(operation)
    finally:
        server.stop()
    assert not failures, "\n".join(failures[:20])
    assert counts["sent"] >= 1000, counts  # the issue asks for at least 1,000 cases


def test_schemathesis_command_line_all_phases_all_checks(tmp_path: Path) -> None:
    """``st run --checks all`` over every phase (examples, coverage, fuzzing, stateful).

    Each operation is called with a token of a role that may call it, and with the ids of
    real objects (a region, scenario, run, pool and batch made first), so that the checks
    reach the code behind the 404s. The coverage and stateful phases hold checks the
    generated cases above cannot: missing headers, unsupported methods and their
    ``Allow`` header, use after delete, object-level authorisation.
    """
    st = Path(sys.executable).with_name("st")
    if not st.exists():
        pytest.skip("schemathesis is not installed")
    url = f"sqlite:///{tmp_path / 'st.db'}"
    tokens = {role: make_token(url, role) for role in ROLES}
    server = Server(url, tmp_path, {"job_workers": 1}).start()
    try:
        ids: dict[str, int] = {}
        with server.client(tokens["planner"]) as planner:
            ids["region_id"] = planner.post("/regions", files=model_files()).json()["id"]
            text = BASIS.read_text(encoding="utf-8")
            body = {"region_id": ids["region_id"], "text": text}
            ids["scenario_id"] = planner.post("/scenarios", json=body).json()["id"]
            plan = {"kind": "afbouw", "scenario_id": ids["scenario_id"], "replications": 2}
            afbouw = planner.post("/runs", json=plan).json()["id"]
            assert wait_job(planner, f"/runs/{afbouw}", timeout=300)["status"] == "done"
            for key in ("plan_id", "other_id"):
                made = planner.post("/plans", json={"run_id": afbouw, "title": key})
                ids[key] = made.json()["id"]
            run = {"kind": "simulate", "scenario_id": ids["scenario_id"], "replications": 2}
            ids["run_id"] = planner.post("/runs", json=run).json()["id"]
        with server.client(tokens["admin"]) as admin:
            # revoking tokens at random would revoke the ones this run calls with
            spare = {"role": "ontwikkeltafel", "name": "te intrekken"}
            ids["token_id"] = admin.post("/tokens", json=spare).json()["id"]
        kids, places, _ = pool_files(10, 40, seed=3)
        with server.client(tokens["matcher"]) as matcher:
            upload = {"children": ("c.csv", kids), "placements": ("p.csv", places)}
            ids["pool_id"] = matcher.post("/matching/pools", files=upload).json()["id"]
            batch = matcher.post("/matching/batch", json={"pool_id": ids["pool_id"]})
            ids["job_id"] = batch.json()["id"]
        lines: list[str] = []
        for (method, path), access in ACCESS.items():
            role = next((r for r in ROLES if r in access.roles), None)
            if role is None:
                continue
            lines += [
                "[[operations]]",
                f'include-name = "{method} {path}"',
                f'headers = {{ Authorization = "Bearer {tokens[role]}" }}',
            ]
            if (method, path) in CONTENT_CHECKED:
                lines.append(
                    "checks.positive_data_acceptance.expected-statuses = "
                    '["2xx", "401", "403", "404", "409", "422"]'
                )
            named = [name for name in ids if "{" + name + "}" in path]
            if named:
                values = ", ".join(f"{name} = {ids[name]}" for name in named)
                lines.append(f"parameters = {{ {values} }}")
            lines.append("")
        config = tmp_path / "schemathesis.toml"
        config.write_text("\n".join(lines), encoding="utf-8")
        done = subprocess.run(
            [
                str(st),
                "--config-file",
                str(config),
                "run",
                f"{server.base}/v1/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                "40",
                "--seed",
                "1",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=tmp_path,  # its cache (.schemathesis/) stays out of the checkout
        )
    finally:
        server.stop()
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    generated = re.search(r"(\d+) generated", done.stdout)
    assert generated is not None, report
    assert int(generated.group(1)) >= 1000, report


# ---------------------------------------------------------------------------------------
# Bugs found by these tests, fixed: regression tests
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        pytest.param("GET", "/regions/{huge}", None, id="path"),
        pytest.param("POST", "/runs/{huge}/cancel", None, id="path-post"),
        pytest.param("POST", "/scenarios", {"region_id": "{huge}", "text": "name: x"}, id="body"),
    ],
)
def test_ids_beyond_64_bits_are_not_found(
    service: Service, method: str, url: str, body: dict[str, Any] | None
) -> None:
    huge = SQLITE_INT_MAX + 1
    first = once(service, "planner", "GET", f"/regions/{SQLITE_INT_MAX}")
    assert_problem(first, first.status_code)
    assert first.status_code in (404, 422), first.text
    if body is not None:
        body = {k: huge if v == "{huge}" else v for k, v in body.items()}
    response = once(service, "planner", method, url.format(huge=huge), json=body)
    assert response.status_code in (404, 422), response.text


def test_scenario_that_is_not_yaml_is_422(service: Service, region_id: int) -> None:
    body = {"region_id": region_id, "text": "name: [unclosed"}
    response = once(service, "planner", "POST", "/scenarios", json=body)
    problems = assert_problem(response, 422)["problems"]
    assert "YAML" in problems[0]["message"]


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(["x" * 300 + ".csv"], id="name-too-long"),
        pytest.param(["a", "a/b"], id="file-and-folder"),
    ],
)
def test_region_upload_with_unusable_file_names_is_422(service: Service, names: list[str]) -> None:
    files = [("files", (name, b"a,b\n1,2\n")) for name in names]
    assert_problem(once(service, "planner", "POST", "/regions", files=files), 422)


def test_region_with_a_model_yaml_that_is_not_utf8_is_422(service: Service) -> None:
    latin1 = "name: Voorbeeldregiö".encode("latin-1")  # as a Windows editor may save it
    files = [
        ("files", (name, content.replace(b"name: Voorbeeldregio", latin1)))
        for _, (name, content) in model_files()
    ]
    assert latin1 in dict(f for _, f in files)["model.yaml"]
    response = once(service, "planner", "POST", "/regions", files=files)
    assert assert_problem(response, 422)["problems"][0]["file"] == "model.yaml"


def test_region_problems_do_not_name_server_paths(planner: httpx.Client) -> None:
    body = assert_problem(
        planner.post("/regions", files=[("files", ("model.yaml", b"a: 1\n"))]), 422
    )
    assert "/tmp" not in body["detail"]


def test_streamed_body_over_the_limit_is_413(planner: httpx.Client) -> None:
    chunk = b"x" * 65536

    def stream() -> Iterator[bytes]:
        for _ in range(MAX_REQUEST_BYTES // len(chunk) + 10):
            yield chunk

    response = planner.post(
        "/scenarios", content=stream(), headers={"content-type": "application/json"}
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert_problem(response, 413)


def test_cancel_accepted_while_running_ends_cancelled(matcher: httpx.Client) -> None:
    children, placements, _ = pool_files(1000, 5000, seed=2)
    uploaded = matcher.post(
        "/matching/pools",
        files={
            "children": ("children.csv", children),
            "placements": ("placements.csv", placements),
        },
    )
    assert uploaded.status_code == 201, uploaded.text
    job = matcher.post("/matching/batch", json={"pool_id": uploaded.json()["id"]}).json()
    path = f"/matching/batch/{job['id']}"
    # 10 % is the batch's only progress report: from here on it is in the solver
    wait_job(matcher, path, lambda j: j["status"] in FINAL or j["progress_pct"] >= 10, every=0.02)
    cancel = matcher.post(f"{path}/cancel")
    if cancel.status_code == 409:
        pytest.skip("the batch finished before it could be cancelled")
    assert cancel.status_code == 200 and cancel.json()["message"] == "annuleren gevraagd"
    assert wait_job(matcher, path)["status"] == "cancelled"


def test_server_errors_leave_no_user_input_in_the_log(service: Service, region_id: int) -> None:
    marker = f"K{uuid.uuid4().hex[:8]}"
    body = {"region_id": region_id, "text": f"{marker}: [unclosed"}
    once(service, "planner", "POST", "/scenarios", json=body)
    files = [("files", (f"{marker}-{'x' * 300}.csv", b"a\n"))]
    once(service, "planner", "POST", "/regions", files=files)
    time.sleep(0.5)
    log = service.server.log()
    assert marker not in log
    assert "Traceback" not in log


def test_the_document_states_every_bound_in_json_schema(openapi: dict[str, Any]) -> None:
    """Bounds written as pydantic's ``ge``/``le`` are no JSON Schema: nobody would see them.

    Found by schemathesis: ids in lists and optional numbers carried ``"ge": 1`` instead of
    ``"minimum": 1``, so generated requests with negative ids were "valid" and refused.
    """
    found: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("integer", "number"):
                found.extend(f"{where}.{k}" for k in ("ge", "le", "gt", "lt") if k in node)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(openapi, "")
    assert not found, found


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"kind": "simulate", "scenario_id": 999_999.0}, 404, id="id-as-3.0"),
        pytest.param({"kind": "simulate", "scenario_id": 999_999.5}, 422, id="id-as-3.5"),
        pytest.param({"kind": "simulate", "scenario_id": False}, 422, id="id-as-false"),
        pytest.param({"kind": "simulate", "scenario_id": "999999"}, 422, id="id-as-text"),
        pytest.param({"kind": "simulate", "scenario_id": 1, "seed": 2**53}, 422, id="seed>2^53"),
    ],
)
def test_whole_numbers_as_json_schema_counts_them(
    service: Service, body: dict[str, Any], status: int
) -> None:
    """JSON Schema counts ``3.0`` as an integer, so the server takes it; ``false`` it does not.

    Found by schemathesis: ``"pool_id": 705.0`` was refused by the strict bodies. Seeds stop
    at 2^53 - 1, the largest integer every JSON reader keeps exactly (2^63 - 1 was written
    as a float, and schemathesis sent a larger "valid" seed).
    """
    response = once(service, "planner", "POST", "/runs", json=body)
    assert_problem(response, status)


def test_a_token_names_each_organisation_once(service: Service) -> None:
    """Found by schemathesis: ``"organisations": [1, 1]`` was a 500 (a unique key)."""
    body = {"role": "planner", "name": "dubbel", "organisations": [1, 1]}
    response = once(service, "admin", "POST", "/tokens", json=body)
    assert_problem(response, 422)


@pytest.mark.parametrize("child_id", ["a\x85b", "a\x1cb", "a\u3000b", "a b", "\ufeffab"])
def test_pseudonymous_ids_have_no_spaces_in_any_regex_dialect(
    service: Service, child_id: str
) -> None:
    """Found by schemathesis: "not a space" means other things to Python and JSON Schema."""
    body = {"pool_id": 1, "child_id": child_id, "k": 3}
    assert_problem(once(service, "matcher", "POST", "/matching/suggestions", json=body), 422)
    body["child_id"] = "Kïnd-1"
    assert_problem(once(service, "matcher", "POST", "/matching/suggestions", json=body), 404)


def test_a_running_job_says_how_long_it_still_needs() -> None:
    """Time left from the progress so far: elapsed × (1 − p) / p, in Dutch words."""
    from capaciteit.service.db import Job, now
    from capaciteit.service.routes.common import seconds_left, time_left_nl

    started = now() - dt.timedelta(seconds=120)
    job = Job(kind="afbouw", status="running", progress=0.25, started_at=started)
    left = seconds_left(job)
    assert left is not None and 355 <= left <= 365  # 120 s for a quarter: 360 s to go
    assert time_left_nl(job) == "nog ongeveer 6 minuten"
    job.progress = 0.9
    assert time_left_nl(job) == "nog minder dan een minuut"
    job.progress = 0.01  # too early to say
    assert seconds_left(job) is None and time_left_nl(job) == ""
    job.status, job.progress = "done", 1.0
    assert seconds_left(job) is None


def test_minimal_beds_and_afbouw_report_a_fraction_that_only_grows() -> None:
    """Found by users: minimal beds and afbouw runs stayed at 0% for minutes (their steps
    came as words only). The stage words now move the fraction, never back.
    """
    from capaciteit.pipelines import AFBOUW_STAGES, staged

    seen: list[float | None] = []
    say = staged(lambda fraction, _: seen.append(fraction), AFBOUW_STAGES)
    for message in (
        "minimale bedden 2024: zoeken (1 van 8)",
        "minimale bedden 2027: zoeken (4 van 8)",
        "minimale bedden 2027: vastgelegd",
        "behoefte op lange termijn: lange simulatie, ronde 1",
        "afbouwplan: optimaliseren",
        "minimale bedden 2024: zoeken (1 van 8)",  # a late word of an earlier stage
        "afbouwplan: simulatie van het plan",
    ):
        say(message)
    fractions = [f for f in seen if f is not None]
    assert len(fractions) == 7 and fractions == sorted(fractions)
    assert fractions[0] == 0.0 and 0.2 < fractions[1] < 0.3 and fractions[-1] == 0.8
