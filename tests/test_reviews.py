"""An ontwikkeltafel's review of afbouwplannen, over the real HTTP API.

A planner runs the afbouw plan of the example scenario and proposes it; two ontwikkeltafel
members comment (on the whole plan and on one cell, with a reply) and give verdicts; the
chair agrees it; the planner edits cells (a new proposal: the agreed version stays as it
was) and re-plans against the agreed plan; the chair agrees the new one and the first
becomes the previous agreement. Every number the API shows about differences is
recomputed here from the two versions' cells; every refusal lists its problems.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from tests.conftest import BASIS
from tests.test_service import Server, assert_problem, cli_token, model_files, wait_job


@dataclass
class Table:
    server: Server
    tokens: dict[str, str]
    ids: dict[str, int]

    def api(self, who: str) -> httpx.Client:
        return self.server.client(self.tokens[who])


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Table]:
    workdir = tmp_path_factory.mktemp("reviews")
    url = f"sqlite:///{workdir / 'service.db'}"
    admin = cli_token(url, "admin")
    server = Server(url, workdir, {"job_workers": 1}).start()
    try:
        tokens = {"admin": admin}
        people = {
            "planner": ("planner", "Petra Planner"),
            "lid 1": ("ontwikkeltafel", "Olga (aanbieder P01)"),
            "lid 2": ("ontwikkeltafel", "Otto (gemeente)"),
            "voorzitter": ("voorzitter", "Vera Voorzitter"),
            "landelijk": ("landelijk", "Landelijk monitor"),
        }
        with server.client(admin) as http:
            for key, (role, name) in people.items():
                made = http.post("/tokens", json={"role": role, "name": name})
                assert made.status_code == 201, made.text
                tokens[key] = made.json()["token"]
        ids: dict[str, int] = {}
        with server.client(tokens["planner"]) as planner:
            ids["region"] = planner.post("/regions", files=model_files()).json()["id"]
            text = BASIS.read_text(encoding="utf-8")
            made = planner.post("/scenarios", json={"region_id": ids["region"], "text": text})
            ids["scenario"] = made.json()["id"]
            run = {"kind": "afbouw", "scenario_id": ids["scenario"], "replications": 2}
            ids["run"] = planner.post("/runs", json=run).json()["id"]
            done = wait_job(planner, f"/runs/{ids['run']}", timeout=300)
            assert done["status"] == "done", done
        yield Table(server, tokens, ids)
    finally:
        server.stop()


def _cells(version: dict[str, Any]) -> dict[tuple[str, str, int], tuple[int, int]]:
    return {
        (r["provider"], r["care_form"], int(r["year"])): (int(r["beds"]), int(r["cost_eur"]))
        for r in version["plan"]
    }


def _editable(version: dict[str, Any]) -> tuple[str, str, int, int]:
    """A cell in a later year whose beds can move by one without breaking a rule."""
    first = min(int(r["year"]) for r in version["plan"])
    rows = sorted(
        (r for r in version["plan"] if int(r["year"]) == first + 3 and int(r["beds"]) > 10),
        key=lambda r: (r["care_form"], r["provider"]),
    )
    row = rows[0]
    return row["provider"], row["care_form"], int(row["year"]), int(row["beds"])


def test_the_whole_review(table: Table) -> None:
    ids = table.ids
    with table.api("planner") as planner:
        refused = planner.post("/plans", json={"run_id": 123_456_789, "title": "x"})
        assert_problem(refused, 404)
        made = planner.post("/plans", json={"run_id": ids["run"], "title": "Sprint 1"})
        assert made.status_code == 201, made.text
        first = made.json()
    assert first["status"] == "proposal" and first["number"] == 1
    assert first["created_by"] == "Petra Planner"
    assert first["check"]["ok"] is True and first["check"]["rules"] == []
    with table.api("planner") as planner:
        result = planner.get(f"/runs/{ids['run']}/result").json()
    # the proposal holds exactly the run's plan
    assert _cells(first) == {
        (r["provider"], r["care_form"], int(r["year"])): (int(r["beds"]), int(r["cost_eur"]))
        for r in result["plan"]
    }

    # two members comment: on the plan, on one cell, and a reply
    provider, form, year, beds = _editable(first)
    with table.api("lid 1") as member:
        whole = member.post(f"/plans/{first['id']}/comments", json={"text": "Graag toelichting."})
        assert whole.status_code == 201, whole.text
        cell = {"provider": provider, "care_form": form, "year": year}
        on_cell = member.post(
            f"/plans/{first['id']}/comments", json={"text": "Te snel?", "cell": cell}
        )
        assert on_cell.status_code == 201 and on_cell.json()["cell"] == cell
        nowhere = {"provider": "P99", "care_form": form, "year": year}
        assert_problem(
            member.post(f"/plans/{first['id']}/comments", json={"text": "x", "cell": nowhere}),
            422,
        )
    with table.api("landelijk") as national:
        waiting = national.get("/plans/overview").json()
    assert [p["id"] for p in waiting["open_proposals"]] == [first["id"]]
    assert len(waiting["unanswered_comments"]) == 2
    with table.api("planner") as planner:
        reply = planner.post(
            f"/plans/{first['id']}/comments",
            json={"text": "De behoefte daalt.", "reply_to": on_cell.json()["id"]},
        )
        assert reply.status_code == 201 and reply.json()["cell"] == cell
        waiting = planner.get("/plans/overview").json()
    assert [c["id"] for c in waiting["unanswered_comments"]] == [whole.json()["id"]]

    # verdicts: niet akkoord needs a reason; a planner gives none; the chair agrees
    with table.api("lid 2") as member:
        body = assert_problem(
            member.post(f"/plans/{first['id']}/verdicts", json={"verdict": "niet_akkoord"}), 422
        )
        assert body["problems"][0]["column"] == "reason"
        against = {"verdict": "niet_akkoord", "reason": "P01 sluit te snel."}
        assert member.post(f"/plans/{first['id']}/verdicts", json=against).status_code == 201
    with table.api("lid 1") as member:
        ok = member.post(f"/plans/{first['id']}/verdicts", json={"verdict": "akkoord"})
        assert ok.status_code == 201 and ok.json()["author"] == "Olga (aanbieder P01)"
    with table.api("planner") as planner:
        assert_problem(
            planner.post(f"/plans/{first['id']}/verdicts", json={"verdict": "akkoord"}), 403
        )
        assert_problem(planner.post(f"/plans/{first['id']}/agree"), 403)
    with table.api("voorzitter") as chair:
        agreed = chair.post(f"/plans/{first['id']}/agree")
        assert agreed.status_code == 200, agreed.text
        assert agreed.json()["status"] == "agreed"
        assert_problem(chair.post(f"/plans/{first['id']}/agree"), 409)
    with table.api("lid 2") as member:
        late = member.post(f"/plans/{first['id']}/verdicts", json={"verdict": "akkoord"})
        assert_problem(late, 409)

    # an edit is a new proposal; a broken rule refuses it with every problem listed
    with table.api("planner") as planner:
        unknown = {
            "title": "onbekend",
            "changes": [
                {"provider": "P99", "care_form": form, "year": year, "beds": 1},
                {"provider": provider, "care_form": form, "year": 2023, "beds": beds},
            ],
        }
        problems = assert_problem(planner.post(f"/plans/{first['id']}/edits", json=unknown), 422)
        assert len(problems["problems"]) == 2, problems
        too_fast = {
            "title": "te snel",
            "changes": [
                {"provider": provider, "care_form": form, "year": year, "beds": beds + 10_000}
            ],
        }
        problems = assert_problem(planner.post(f"/plans/{first['id']}/edits", json=too_fast), 422)
        assert any(p["id"] and provider in p["id"] for p in problems["problems"]), problems
        assert len(planner.get("/plans").json()) == 1  # nothing stored from a refused edit
        good = {
            "title": "Sprint 2: P01 een plaats meer",
            "note": "na commentaar van Olga",
            "changes": [{"provider": provider, "care_form": form, "year": year, "beds": beds + 1}],
        }
        edited = planner.post(f"/plans/{first['id']}/edits", json=good)
        assert edited.status_code == 201, edited.text
        second = edited.json()
        again = planner.get(f"/plans/{first['id']}").json()
    assert second["parent_id"] == first["id"] and second["number"] == 2
    assert second["status"] == "proposal"
    assert again["plan"] == first["plan"] and again["status"] == "agreed"  # untouched
    expected = dict(_cells(first))
    expected[(provider, form, year)] = (beds + 1, expected[(provider, form, year)][1])
    assert {k: v[0] for k, v in _cells(second).items()} == {k: v[0] for k, v in expected.items()}

    # the difference, recomputed here from the two versions' cells
    with table.api("lid 2") as member:
        diff = member.get(f"/plans/{first['id']}/diff/{second['id']}").json()
        workbook = member.get(f"/plans/{first['id']}/diff/{second['id']}/workbook")
    a, b = _cells(first), _cells(second)
    changed = {k for k in a.keys() | b.keys() if a.get(k, (0, 0))[0] != b.get(k, (0, 0))[0]}
    assert diff["changed_cells"] == len(changed) == 1
    (row,) = diff["cells"]
    assert (row["provider"], row["care_form"], int(row["year"])) == (provider, form, year)
    assert row["change_beds"] == 1
    assert row["change_eur"] == b[(provider, form, year)][1] - a[(provider, form, year)][1]
    assert row["change_eur"] > 0
    totals = {(t["care_form"], int(t["year"])): t for t in diff["totals"]}
    for (f, y), t in totals.items():
        assert t["change_beds"] == sum(
            b.get(k, (0, 0))[0] - a.get(k, (0, 0))[0]
            for k in a.keys() | b.keys()
            if k[1:] == (f, y)
        )
    assert workbook.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content))["Verschillen"]
    assert any(
        provider in str(c.value) or "Verschil" in str(c.value) for r in sheet.iter_rows() for c in r
    )

    # the chair agrees the second; the first is kept as the previous agreement
    with table.api("voorzitter") as chair:
        assert chair.post(f"/plans/{second['id']}/agree").json()["status"] == "agreed"
        listed = {p["id"]: p["status"] for p in chair.get("/plans").json()}
        history = chair.get(f"/plans/{first['id']}").json()["history"]
    assert listed == {first["id"]: "superseded", second["id"]: "agreed"}
    actions = [h["action"] for h in history]
    assert actions[0] == "plan.propose" and "plan.agree" in actions
    assert actions[-1] == "plan.supersede"
    assert {h["who"] for h in history} >= {"Petra Planner", "Vera Voorzitter"}


def _agreed(table: Table) -> dict[str, Any]:
    """The agreed plan of the region: made here when this test runs first (xdist)."""
    with table.api("planner") as planner:
        found = [p for p in planner.get("/plans").json() if p["status"] == "agreed"]
        if found:
            return found[0]
        made = planner.post("/plans", json={"run_id": table.ids["run"], "title": "afspraak"})
        assert made.status_code == 201, made.text
    with table.api("voorzitter") as chair:
        agreed: dict[str, Any] = chair.post(f"/plans/{made.json()['id']}/agree").json()
    return agreed


def test_a_stored_version_cannot_be_altered(table: Table, tmp_path: Path) -> None:
    """Versions are immutable in the database itself, not only by the API."""
    from sqlalchemy.orm import Session

    from capaciteit.service.db import PlanVersion, make_engine

    with table.api("planner") as planner:
        made = planner.post("/plans", json={"run_id": table.ids["run"], "title": "vast"})
        assert made.status_code == 201, made.text
    engine = make_engine(table.server.database_url)
    try:
        with Session(engine) as session:
            version = session.get(PlanVersion, made.json()["id"])
            assert version is not None
            version.plan = [{**version.plan[0], "beds": 999}, *version.plan[1:]]
            with pytest.raises(ValueError, match="immutable"):
                session.commit()
    finally:
        engine.dispose()
    with table.api("planner") as planner:
        assert planner.get(f"/plans/{made.json()['id']}").json()["plan"] == made.json()["plan"]


def test_re_plan_against_the_agreed_plan(table: Table) -> None:
    """An afbouw run with the agreed plan as reference lists what changed and why."""
    agreed = _agreed(table)
    with table.api("planner") as planner:
        run = {
            "kind": "afbouw",
            "scenario_id": table.ids["scenario"],
            "replications": 2,
            "reference_plan_id": agreed["id"],
        }
        started = planner.post("/runs", json=run)
        assert started.status_code == 202, started.text
        done = wait_job(planner, f"/runs/{started.json()['id']}", timeout=300)
        assert done["status"] == "done", done
        result = planner.get(f"/runs/{started.json()['id']}/result").json()
        wrong = {**run, "kind": "simulate"}
        assert_problem(planner.post("/runs", json=wrong), 422)
    reference = {
        (r["provider"], r["care_form"], int(r["year"])): int(r["beds"])
        for r in planner_plan(table, agreed["id"])
    }
    replanned = {
        (r["provider"], r["care_form"], int(r["year"])): int(r["beds"]) for r in result["plan"]
    }
    changed = {k for k in replanned if replanned[k] != reference.get(k, 0)}
    assert {(c["provider"], c["care_form"], int(c["year"])) for c in result["changes"]} == changed
    assert all(c["reason"] for c in result["changes"])


def planner_plan(table: Table, version_id: int) -> list[dict[str, Any]]:
    with table.api("planner") as planner:
        rows: list[dict[str, Any]] = planner.get(f"/plans/{version_id}").json()["plan"]
    return rows


REALISATION = Path(__file__).resolve().parents[1] / "models" / "voorbeeldregio-realisatie"


def test_realisation_against_the_agreed_plan(table: Table) -> None:
    """Two quarters of the example's realisation: refused junk first, then the report."""
    agreed = _agreed(table)
    with table.api("planner") as planner:
        base = f"/plans/{agreed['id']}"
        template = planner.get(f"{base}/realisation-template")
        assert template.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(template.content)).worksheets[0]
        assert sheet.max_row > 1
        assert_problem(planner.post(f"{base}/report", json={}), 409)  # nothing uploaded
        # a workbook with a negative number of places: every problem, nothing stored
        broken = openpyxl.load_workbook(REALISATION / "realisatie-2024-K1.xlsx")
        ws = broken.worksheets[0]
        header = [str(c.value) for c in ws[1]]
        column = header.index("plaatsen") + 1
        ws.cell(row=2, column=column, value=-4)
        buffer = io.BytesIO()
        broken.save(buffer)
        refused = planner.post(
            f"{base}/realisations", files={"file": ("kapot.xlsx", buffer.getvalue())}
        )
        problems = assert_problem(refused, 422)["problems"]
        assert any(p["row"] == 2 for p in problems), problems
        assert planner.get(f"{base}/realisations").json() == []
        for quarter in ("2024-K1", "2024-K2"):
            path = REALISATION / f"realisatie-{quarter}.xlsx"
            made = planner.post(
                f"{base}/realisations", files={"file": (path.name, path.read_bytes())}
            )
            assert made.status_code == 201, made.text
            assert made.json()["quarters"] == [quarter]
        started = planner.post(f"{base}/report", json={"replications": 20})
        assert started.status_code == 202, started.text
        done = wait_job(planner, f"/runs/{started.json()['id']}", timeout=600)
        assert done["status"] == "done", done
        assert {"realisation.pdf", "realisation.xlsx"} <= set(done["files"])
        result = planner.get(f"/runs/{started.json()['id']}/result").json()
        pdf = planner.get(f"/runs/{started.json()['id']}/files/realisation.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert result["headline"]
    quarters = {row["quarter"] for row in result["comparison"]}
    assert quarters >= {"2024-K1", "2024-K2"}
    off = [row for row in result["comparison"] if not row["on_track"]]
    assert len(off) == len(result["off_track"]) or result["off_track"]


def test_the_example_table_for_make_demo(tmp_path: Path) -> None:
    """``capaciteit voorbeeld-dienst``: the cycle ``make demo`` shows, served as it is made.

    (Two replications instead of the scenarios' own, to keep the test short.)
    """
    import subprocess
    import sys

    from tests.conftest import ROOT, TRANSFORMATIE

    cli = str(Path(sys.executable).with_name("capaciteit"))
    runs = {"afspraak": TRANSFORMATIE, "herplan": ROOT / "simulations/voorbeeldregio-sprint2.yaml"}
    for name, scenario in runs.items():
        done = subprocess.run(
            [cli, "afbouw", str(scenario), "-o", str(tmp_path / name), "--replications", "2", "-q"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    database = tmp_path / "dienst.db"
    seeded = subprocess.run(
        [
            cli,
            "voorbeeld-dienst",
            "--database",
            str(database),
            "--afspraak",
            str(tmp_path / "afspraak"),
            "--herplan",
            str(tmp_path / "herplan"),
            "--realisatie",
            str(REALISATION / "realisatie-2024-K1.xlsx"),
            "--realisatie",
            str(REALISATION / "realisatie-2024-K2.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    assert seeded.returncode == 0, seeded.stderr
    tokens = dict(re.findall(r"│ (Petra|Vera)[^│]*│[^│]*│ (\S+) +│", seeded.stdout))
    assert set(tokens) == {"Petra", "Vera"}, seeded.stdout
    server = Server(f"sqlite:///{database}", tmp_path, {"job_workers": 1}).start()
    try:
        with server.client(tokens["Petra"]) as planner:
            versions = {p["status"]: p for p in planner.get("/plans").json()}
            assert set(versions) == {"agreed", "proposal"}
            overview = planner.get("/plans/overview").json()
            assert len(overview["unanswered_comments"]) == 1
            agreed = planner.get(f"/plans/{versions['agreed']['id']}").json()
            assert [v["verdict"] for v in agreed["verdicts"]] == ["akkoord", "akkoord"]
            assert {"who": "Vera Vos (voorzitter)", "action": "plan.agree"} in [
                {"who": h["who"], "action": h["action"]} for h in agreed["history"]
            ]
            diff = planner.get(
                f"/plans/{versions['agreed']['id']}/diff/{versions['proposal']['id']}"
            ).json()
            assert diff["changed_cells"] > 0  # sprint 2 needs more residential places
            reports = [r for r in planner.get("/runs").json() if r["kind"] == "realisation"]
            assert len(reports) == 1
            report = wait_job(planner, f"/runs/{reports[0]['id']}", timeout=300)
            assert report["status"] == "done", report
            result = planner.get(f"/runs/{reports[0]['id']}/result").json()
    finally:
        server.stop()
    assert any("Residentiële jeugdhulp, 2024-K2" in line for line in result["off_track"])


def test_the_example_table_refuses_missing_inputs_without_a_traceback(tmp_path: Path) -> None:
    """Found in review: a wrong folder gave a FileNotFoundError traceback and a half-made
    database; now every missing input is listed in Dutch and nothing is made.
    """
    import subprocess
    import sys

    cli = str(Path(sys.executable).with_name("capaciteit"))
    database = tmp_path / "dienst.db"
    done = subprocess.run(
        [
            cli,
            "voorbeeld-dienst",
            *("--database", str(database), "--model", str(tmp_path)),
            *("--afspraak", str(tmp_path / "geen"), "--herplan", str(tmp_path / "geen")),
            *("--realisatie", str(tmp_path / "k1.xlsx")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    text = done.stdout + done.stderr
    assert "Traceback" not in text
    assert "model.yaml ontbreekt" in text and "plan.json" in text and ".xlsx" in text
    assert not database.exists()


def test_a_proposal_with_ombouw_is_judged_on_budget_ratio_and_ligduur(tmp_path: Path) -> None:
    """The transformation's plan: its version keeps the ombouw verdicts and shows them."""
    import yaml

    from tests.test_transformation import OMBOUW, OMBOUW_MODEL

    url = f"sqlite:///{tmp_path / 'service.db'}"
    admin = cli_token(url, "admin")
    server = Server(url, tmp_path, {"job_workers": 1}).start()
    try:
        with server.client(admin) as http:
            made = http.post("/tokens", json={"role": "planner", "name": "Petra Planner"})
            token = made.json()["token"]
        data = yaml.safe_load(OMBOUW.read_text(encoding="utf-8"))
        data["afbouw"]["need"] = "none"  # the plan's rules only: fast
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
        with server.client(token) as planner:
            region = planner.post("/regions", files=model_files(OMBOUW_MODEL)).json()["id"]
            scenario = planner.post("/scenarios", json={"region_id": region, "text": text})
            assert scenario.status_code == 201, scenario.text
            run = {"kind": "afbouw", "scenario_id": scenario.json()["id"], "replications": 2}
            run_id = planner.post("/runs", json=run).json()["id"]
            done = wait_job(planner, f"/runs/{run_id}", timeout=300)
            assert done["status"] == "done", done
            made = planner.post("/plans", json={"run_id": run_id, "title": "Ombouw"})
            assert made.status_code == 201, made.text
            version = made.json()
            check = version["check"]
            cells = {key: beds for key, (beds, _) in _cells(version).items()}
        with httpx.Client(base_url=server.base, timeout=60) as web:
            assert web.post("/login", data={"token": token}).status_code == 303
            page = web.get(f"/plans/{version['id']}")
    finally:
        server.stop()
    # recount every verdict from the version's own cells
    kinds = {"ambulant_gezin": "ambulant", "ambulant_spoed": "ambulant"}
    for r in check["ratio"]:
        places = sum(b for (_, f, y), b in cells.items() if y == r["year"] and f in kinds)
        beds = sum(b for (_, f, y), b in cells.items() if y == r["year"] and f not in kinds)
        assert (r["ambulant_places"], r["verblijf_beds"]) == (places, beds)
        assert r["met"] == (places * 10 >= beds)  # 1 place per 10 beds
    assert {b["year"] for b in check["budget"]} == set(range(2024, 2031))
    for b in check["budget"]:
        assert b["over_eur"] == max(0, b["spend_eur"] - b["budget_eur"])
        assert b["spend_eur"] == check["cost_eur"][str(b["year"])]
    assert check["ligduur"] and all(r["care_form"] == "residentieel" for r in check["ligduur"])
    assert page.status_code == 200
    for caption in ("Budget per jaar", "Ambulante plekken per bed", "Gemiddelde ligduur"):
        assert caption in page.text
