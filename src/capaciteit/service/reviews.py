"""Plan versions and their review: what an ontwikkeltafel does with an afbouwplan.

A region has any number of *proposals* and one *agreed* plan at a time. A planner turns a
finished afbouw run into a proposal, or edits cells of a version, which makes a new
proposal (the edited one stays as it was: versions never change, see
:class:`.db.PlanVersion`). Every version is checked when it is made, against the hard
rules of the afbouw model and its targets (:func:`capaciteit.plans.check.check_plan`): a
version that breaks a rule is refused with every problem listed; missed targets and needs
are kept with it and shown. Members comment on a version or on one of its cells and reply
to comments; they give their verdict (akkoord, or niet akkoord with a reason); the chair
(``voorzitter``) marks a proposal agreed, and the plan agreed before becomes
``superseded``. Every change is written to the audit log, which is the version's history.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from fastapi import HTTPException
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.archive import unpack_model
from capaciteit.io.scenario_files import load_scenario, scenario_next_to
from capaciteit.service.db import (
    AuditEntry,
    Job,
    PlanComment,
    PlanVerdict,
    PlanVersion,
    Realisation,
    Region,
    Scenario,
    Token,
    now,
)
from capaciteit.service.routes.common import audit_read
from capaciteit.service.security import Caller

if TYPE_CHECKING:
    from capaciteit.domain.scenario import Scenario as ScenarioModel
    from capaciteit.optimisation.afbouw import PlanData
    from capaciteit.plans.diff import PlanDiff

STATUS_NL = {"proposal": "voorstel", "agreed": "afgesproken", "superseded": "vorige afspraak"}
"""A version's status (an English id in the API) as a page names it."""
VERDICT_NL = {"akkoord": "akkoord", "niet_akkoord": "niet akkoord"}
ACTION_NL = {
    "plan.propose": "voorstel gemaakt",
    "plan.edit": "cellen gewijzigd (nieuwe versie)",
    "plan.comment": "commentaar",
    "plan.verdict": "oordeel",
    "plan.agree": "afgesproken",
    "plan.supersede": "vervangen door een nieuwe afspraak",
    "plan.realisation": "realisatie geüpload",
    "plan.report": "kwartaalrapport gestart",
}


def version_of(session: Session, version_id: int, who: Caller) -> PlanVersion:
    """Return a plan version the caller may see (404 otherwise, as if it did not exist)."""
    version = session.get(PlanVersion, version_id)
    if version is None or not who.sees(version.organisation_id):
        raise HTTPException(404, f"Planversie {version_id} bestaat niet.")
    audit_read(session, who, "plan", version.id, version.organisation_id)
    return version


_SCENARIOS: OrderedDict[int, ScenarioModel] = OrderedDict()
_SCENARIOS_KEPT = 16
_SCENARIOS_LOCK = threading.Lock()


def scenario_model(session: Session, scenario_id: int) -> ScenarioModel:
    """Load a stored scenario with its region model (kept: both never change once stored)."""
    with _SCENARIOS_LOCK:
        if scenario_id in _SCENARIOS:
            _SCENARIOS.move_to_end(scenario_id)
            return _SCENARIOS[scenario_id]
    scenario_row = session.get(Scenario, scenario_id)
    region = session.get(Region, scenario_row.region_id) if scenario_row else None
    if scenario_row is None or region is None:
        raise HTTPException(404, f"Scenario {scenario_id} bestaat niet.")
    with tempfile.TemporaryDirectory(prefix="capaciteit-plan-") as tmp:
        model_dir = unpack_model(region.archive, Path(tmp) / "model")
        scenario = load_scenario(scenario_next_to(scenario_row.text, model_dir, Path(tmp)))
    with _SCENARIOS_LOCK:
        _SCENARIOS[scenario_id] = scenario
        while len(_SCENARIOS) > _SCENARIOS_KEPT:
            _SCENARIOS.popitem(last=False)
    return scenario


def _plan_data(session: Session, scenario_id: int, need: list[dict[str, Any]]) -> PlanData:
    """Rebuild the afbouw model's data for a scenario (its rules, targets, costs)."""
    from capaciteit.optimisation.afbouw_plan import plan_data

    wanted = {(str(r["care_form"]), int(r["year"])): int(r["beds"]) for r in need}
    return plan_data(scenario_model(session, scenario_id), wanted)


def plan_data_of(session: Session, version: PlanVersion) -> PlanData:
    """Return the afbouw model's data a version was checked against."""
    return _plan_data(session, version.scenario_id, version.need)


def provider_and_form_names(session: Session, version: PlanVersion) -> dict[str, str]:
    """Return the names of the providers and care forms of a version's region, by code."""
    model = scenario_model(session, version.scenario_id).model
    names = {str(k): str(v) for k, v in model.care_forms["name"].items()}
    names |= {str(k): str(v) for k, v in model.providers["name"].items()}
    return names


def _check_json(data: PlanData, plan: pd.DataFrame) -> dict[str, Any]:
    """Check a plan and keep the result as JSON (rules broken, targets, need, cost)."""
    from capaciteit.plans.check import check_plan

    checked = check_plan(data, plan)
    return {
        "ok": checked.ok,
        "rules": [problem_json(p) for p in checked.rules],
        "targets": records(checked.targets),
        "need": records(checked.need),
        "recruitment": records(checked.recruitment),
        "cost_eur": {str(year): int(eur) for year, eur in checked.cost_eur.items()},
        # the ombouw rules (empty without a budget, ratio or ligduur target)
        "budget": records(checked.budget),
        "ratio": records(checked.ratio),
        "ligduur": records(checked.ligduur),
    }


def problem_json(problem: Problem) -> dict[str, Any]:
    """Return a problem as the API lists it."""
    return {
        "file": problem.file,
        "row": problem.row,
        "column": problem.column,
        "id": problem.id,
        "message": problem.message,
        "fix": problem.fix,
    }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the rows of a frame (its index as columns) as JSON-ready dicts."""
    out: list[dict[str, Any]] = []
    for row in frame.reset_index(drop=frame.index.names == [None]).to_dict(orient="records"):
        out.append({str(k): _plain(v) for k, v in row.items()})
    return out


def _plain(value: Any) -> Any:
    """Return a value JSON can hold (numpy scalars as Python numbers, NaN as None)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def plan_rows(plan: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the cells of a plan frame as stored (provider, care_form, year, beds, cost)."""
    frame = plan.reset_index()[["provider", "care_form", "year", "beds", "cost_eur"]]
    return [
        {
            "provider": str(r["provider"]),
            "care_form": str(r["care_form"]),
            "year": int(r["year"]),
            "beds": int(r["beds"]),
            "cost_eur": int(r["cost_eur"]),
        }
        for r in frame.to_dict(orient="records")
    ]


def frame_of(version: PlanVersion) -> pd.DataFrame:
    """Return the cells of a stored version as a plan frame."""
    from capaciteit.plans.table import plan_frame

    return plan_frame(version.plan)


def _audit(session: Session, who: Caller, action: str, version: PlanVersion, **detail: Any) -> None:
    session.add(
        AuditEntry(
            token_id=who.token_id,
            action=action,
            subject_ids=[],
            detail={"plan_version": version.id, "region_id": version.region_id, **detail},
        )
    )


def _next_number(session: Session, region_id: int) -> int:
    top = session.scalar(
        select(func.max(PlanVersion.number)).where(PlanVersion.region_id == region_id)
    )
    return int(top or 0) + 1


def propose_from_run(
    session: Session, run_id: int, title: str, note: str, who: Caller
) -> PlanVersion:
    """Turn a finished afbouw run into a proposal (checked; a broken rule refuses it)."""
    from capaciteit.plans.table import plan_frame

    job = session.get(Job, run_id)
    if job is None or job.kind != "afbouw" or not who.sees(job.organisation_id):
        raise HTTPException(404, f"Afbouwberekening {run_id} bestaat niet.")
    if job.status != "done" or not job.result or not job.result.get("plan"):
        raise HTTPException(409, f"Afbouwberekening {run_id} heeft (nog) geen plan.")
    scenario_id = int(job.params["scenario_id"])
    scenario = session.get(Scenario, scenario_id)
    if scenario is None:
        raise HTTPException(404, f"Scenario {scenario_id} bestaat niet.")
    need = list(job.result.get("need", []))
    plan = plan_frame(job.result["plan"])
    data = _plan_data(session, scenario_id, need)
    check = _check_json(data, plan)
    if not check["ok"]:
        raise InvalidInputError(
            f"Het plan van berekening {run_id}",
            [Problem(**p) for p in check["rules"]],
        )
    version = PlanVersion(
        organisation_id=job.organisation_id,
        region_id=scenario.region_id,
        scenario_id=scenario_id,
        number=_next_number(session, scenario.region_id),
        title=title,
        note=note,
        status="proposal",
        source_job_id=job.id,
        plan=plan_rows(plan),
        need=need,
        check=check,
        created_by=who.token_id,
        created_at=now(),
    )
    session.add(version)
    session.flush()
    _audit(session, who, "plan.propose", version, run_id=job.id, number=version.number)
    session.commit()
    return version


def edit(
    session: Session,
    version: PlanVersion,
    changes: Mapping[tuple[str, str, int], int],
    title: str,
    note: str,
    who: Caller,
) -> PlanVersion:
    """Make a new proposal from ``version`` with some cells changed, checked again.

    Unknown cells, the 0-meting year and broken hard rules refuse the edit with every
    problem listed; ``version`` itself is not touched.
    """
    from capaciteit.plans.check import edit_plan

    data = _plan_data(session, version.scenario_id, version.need)
    plan = edit_plan(frame_of(version), changes, data)
    check = _check_json(data, plan)
    if not check["ok"]:
        raise InvalidInputError("De gewijzigde cellen", [Problem(**p) for p in check["rules"]])
    new = PlanVersion(
        organisation_id=version.organisation_id,
        region_id=version.region_id,
        scenario_id=version.scenario_id,
        number=_next_number(session, version.region_id),
        title=title,
        note=note,
        status="proposal",
        source_job_id=version.source_job_id,
        parent_id=version.id,
        plan=plan_rows(plan),
        need=version.need,
        check=check,
        created_by=who.token_id,
        created_at=now(),
    )
    session.add(new)
    session.flush()
    cells = [
        {"provider": p, "care_form": f, "year": y, "beds": b} for (p, f, y), b in changes.items()
    ]
    _audit(session, who, "plan.edit", new, parent=version.id, cells=cells)
    session.commit()
    return new


def comment(
    session: Session,
    version: PlanVersion,
    text: str,
    cell: tuple[str, str, int] | None,
    reply_to: int | None,
    who: Caller,
) -> PlanComment:
    """Add a comment on a version, on one of its cells, or a reply to a comment."""
    if cell is not None:
        known = {(r["provider"], r["care_form"], int(r["year"])) for r in version.plan}
        if cell not in known:
            provider, form, year = cell
            raise InvalidInputError(
                "Het commentaar",
                [
                    Problem(
                        "commentaar",
                        f"het plan heeft geen cel {provider} × {form} × {year}.",
                        "Kies een aanbieder, zorgvorm en jaar uit het plan.",
                        id=f"{provider}/{form}/{year}",
                    )
                ],
            )
    if reply_to is not None:
        parent = session.get(PlanComment, reply_to)
        if parent is None or parent.version_id != version.id:
            raise HTTPException(404, f"Commentaar {reply_to} bestaat niet bij deze versie.")
        if cell is None and parent.provider is not None:
            cell = (str(parent.provider), str(parent.care_form), int(parent.year or 0))
    row = PlanComment(
        version_id=version.id,
        parent_id=reply_to,
        token_id=who.token_id,
        provider=cell[0] if cell else None,
        care_form=cell[1] if cell else None,
        year=cell[2] if cell else None,
        text=text,
        created_at=now(),
    )
    session.add(row)
    session.flush()
    _audit(session, who, "plan.comment", version, comment=row.id, reply_to=reply_to)
    session.commit()
    return row


def verdict(
    session: Session, version: PlanVersion, value: str, reason: str, who: Caller
) -> PlanVerdict:
    """Record a member's verdict on a proposal (niet akkoord needs a reason)."""
    if version.status != "proposal":
        raise HTTPException(
            409, f"Versie {version.number} is {STATUS_NL[version.status]}; geen voorstel meer."
        )
    if value == "niet_akkoord" and not reason.strip():
        raise InvalidInputError(
            "Het oordeel",
            [
                Problem(
                    "oordeel",
                    "'niet akkoord' zonder reden.",
                    "Schrijf waarom niet, zodat de planner het voorstel kan aanpassen.",
                    column="reason",
                )
            ],
        )
    row = PlanVerdict(
        version_id=version.id,
        token_id=who.token_id,
        verdict=value,
        reason=reason.strip(),
        created_at=now(),
    )
    session.add(row)
    session.flush()
    _audit(session, who, "plan.verdict", version, verdict=value)
    session.commit()
    return row


def agree(session: Session, version: PlanVersion, who: Caller) -> PlanVersion:
    """Mark a proposal as the region's agreed plan; the one agreed before is kept."""
    if version.status != "proposal":
        raise HTTPException(
            409, f"Versie {version.number} is {STATUS_NL[version.status]}; geen voorstel meer."
        )
    before = session.scalars(
        select(PlanVersion).where(
            PlanVersion.region_id == version.region_id, PlanVersion.status == "agreed"
        )
    ).all()
    for old in before:
        old.status = "superseded"
        _audit(session, who, "plan.supersede", old, by=version.id)
    version.status, version.agreed_by, version.agreed_at = "agreed", who.token_id, now()
    _audit(session, who, "plan.agree", version, replaces=[old.id for old in before])
    session.commit()
    return version


def agreed_of(session: Session, region_id: int) -> PlanVersion | None:
    """Return the agreed plan of a region, if any."""
    return session.scalar(
        select(PlanVersion).where(
            PlanVersion.region_id == region_id, PlanVersion.status == "agreed"
        )
    )


def names_of(session: Session, token_ids: set[int | None]) -> dict[int, tuple[str, str]]:
    """Return token names and roles by id: who a person is on pages and in the history."""
    ids = {t for t in token_ids if t is not None}
    if not ids:
        return {}
    rows = session.execute(select(Token.id, Token.name, Token.role).where(Token.id.in_(ids)))
    return {int(i): (str(n), str(r)) for i, n, r in rows}


def history(session: Session, version: PlanVersion) -> list[AuditEntry]:
    """Return what happened to a version, oldest first (from the audit log)."""
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.like("plan.%"))
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    return [e for e in entries if e.detail.get("plan_version") == version.id]


def comments_of(session: Session, version: PlanVersion) -> list[PlanComment]:
    """Return a version's comments, oldest first."""
    return list(
        session.scalars(
            select(PlanComment)
            .where(PlanComment.version_id == version.id)
            .order_by(PlanComment.created_at, PlanComment.id)
        ).all()
    )


def verdicts_of(session: Session, version: PlanVersion) -> list[PlanVerdict]:
    """Return a version's verdicts, oldest first (a member's last one counts)."""
    return list(
        session.scalars(
            select(PlanVerdict)
            .where(PlanVerdict.version_id == version.id)
            .order_by(PlanVerdict.created_at, PlanVerdict.id)
        ).all()
    )


def unanswered(session: Session, organisations: frozenset[int]) -> list[PlanComment]:
    """Return the comments on open proposals that nobody has answered, oldest first."""
    open_ids = session.scalars(
        select(PlanVersion.id).where(
            PlanVersion.status == "proposal", PlanVersion.organisation_id.in_(organisations)
        )
    ).all()
    if not open_ids:
        return []
    comments = session.scalars(
        select(PlanComment)
        .where(PlanComment.version_id.in_(open_ids))
        .order_by(PlanComment.created_at, PlanComment.id)
    ).all()
    answered = {c.parent_id for c in comments if c.parent_id is not None}
    return [c for c in comments if c.parent_id is None and c.id not in answered]


_DIFFS: OrderedDict[tuple[int, int], PlanDiff] = OrderedDict()
_DIFFS_KEPT = 64
_DIFFS_LOCK = threading.Lock()


def diff_of(
    session: Session, version_id: int, other_id: int, who: Caller
) -> tuple[PlanVersion, PlanVersion, PlanDiff]:
    """Compare two versions the caller may see (targets judged as the second is).

    Versions never change, so neither does their difference: it is kept (the 64 most
    recent pairs), and a page that shows it again only lays it out.
    """
    from capaciteit.plans.diff import diff_plans

    a = version_of(session, version_id, who)
    b = version_of(session, other_id, who)
    key = (a.id, b.id)
    with _DIFFS_LOCK:
        if key in _DIFFS:
            _DIFFS.move_to_end(key)
            return a, b, _DIFFS[key]
    found = diff_plans(frame_of(a), frame_of(b), plan_data_of(session, b))
    with _DIFFS_LOCK:
        _DIFFS[key] = found
        while len(_DIFFS) > _DIFFS_KEPT:
            _DIFFS.popitem(last=False)
    return a, b, found


def diff_workbook(
    session: Session, a: PlanVersion, b: PlanVersion, found: PlanDiff
) -> tuple[str, bytes]:
    """Write the differences as a workbook: its file name and content."""
    from capaciteit.plans.workbook import write_diff_workbook

    names = provider_and_form_names(session, b)
    with tempfile.TemporaryDirectory(prefix="capaciteit-diff-") as tmp:
        path = Path(tmp) / "verschillen.xlsx"
        write_diff_workbook(found, path, names, f"versie {a.number}", f"versie {b.number}")
        return f"verschillen-v{a.number}-v{b.number}.xlsx", path.read_bytes()


def diff_chart(session: Session, b: PlanVersion, found: PlanDiff) -> bytes:
    """Draw the differences (change in beds per care form and year) as a PNG."""
    from capaciteit.plans.workbook import diff_chart as draw

    with tempfile.TemporaryDirectory(prefix="capaciteit-diff-") as tmp:
        path = draw(found, Path(tmp) / "verschillen.png", provider_and_form_names(session, b))
        return path.read_bytes()


def plan_csv(version: PlanVersion) -> tuple[str, bytes]:
    """Write a version's cells as CSV (formula-like text quoted): file name and content."""
    from capaciteit.results.cells import write_csv

    frame = pd.DataFrame(
        version.plan, columns=["provider", "care_form", "year", "beds", "cost_eur"]
    )
    with tempfile.TemporaryDirectory(prefix="capaciteit-plan-") as tmp:
        path = write_csv(frame, Path(tmp) / "plan.csv")
        return f"plan-versie-{version.number}.csv", path.read_bytes()


XLSX_LIMIT_BYTES = 5_000_000
"""The largest realisation workbook taken (a region's quarter is a few hundred rows)."""


def plan_frame_for_realisation(version: PlanVersion, scenario: ScenarioModel) -> pd.DataFrame:
    """Return a version's cells as the realisation reader takes a plan (checked)."""
    from capaciteit.realisation.plan import read_plan

    with tempfile.TemporaryDirectory(prefix="capaciteit-plan-") as tmp:
        _, content = plan_csv(version)
        path = Path(tmp) / "plan.csv"
        path.write_bytes(content)
        return read_plan(path, scenario)


def realisation_template(session: Session, version: PlanVersion) -> tuple[str, bytes]:
    """Write the realisation template of a version's years: file name and content."""
    from capaciteit.realisation.template import write_template

    scenario = scenario_model(session, version.scenario_id)
    plan = plan_frame_for_realisation(version, scenario)
    with tempfile.TemporaryDirectory(prefix="capaciteit-template-") as tmp:
        path = write_template(scenario, plan, Path(tmp) / "realisatie.xlsx", [])
        return f"realisatie-sjabloon-versie-{version.number}.xlsx", path.read_bytes()


def add_realisation(
    session: Session, version: PlanVersion, name: str, content: bytes, who: Caller
) -> Realisation:
    """Check a filled-in realisation workbook against the model and store it.

    A refused workbook (every problem listed, with sheet, row, id and fix) stores nothing.
    """
    from capaciteit.realisation.reader import read_realisation

    safe = Path(name or "realisatie.xlsx").name[:200] or "realisatie.xlsx"
    if len(content) > XLSX_LIMIT_BYTES or not safe.lower().endswith(".xlsx"):
        raise InvalidInputError(
            "De realisatie",
            [
                Problem(
                    safe,
                    "is geen .xlsx-bestand van hoogstens 5 MB.",
                    "Vul het sjabloon van deze planversie in en upload dat.",
                )
            ],
        )
    scenario = scenario_model(session, version.scenario_id)
    with tempfile.TemporaryDirectory(prefix="capaciteit-realisatie-") as tmp:
        path = Path(tmp) / safe
        path.write_bytes(content)
        realised = read_realisation(path, scenario)
    quarters = sorted({str(q) for q in realised.index.get_level_values("quarter")})
    row = Realisation(
        organisation_id=version.organisation_id,
        version_id=version.id,
        name=safe,
        content=content,
        summary={"rows": len(realised), "quarters": quarters},
        created_by=who.token_id,
        created_at=now(),
    )
    session.add(row)
    session.flush()
    _audit(session, who, "plan.realisation", version, realisation=row.id, quarters=quarters)
    session.commit()
    return row


def realisations_of(session: Session, version: PlanVersion) -> list[Realisation]:
    """Return the realisation workbooks uploaded for a version, oldest first."""
    return list(
        session.scalars(
            select(Realisation)
            .where(Realisation.version_id == version.id)
            .order_by(Realisation.created_at, Realisation.id)
        ).all()
    )


def start_report(
    session: Session, version: PlanVersion, replications: int | None, who: Caller
) -> Job:
    """Queue the quarterly report of a version (its realisation must be uploaded first)."""
    from capaciteit.service import queue

    if not realisations_of(session, version):
        raise HTTPException(
            409, f"Versie {version.number} heeft nog geen realisatie; upload die eerst."
        )
    params: dict[str, Any] = {"plan_id": version.id, "scenario_id": version.scenario_id}
    if replications is not None:
        params["replications"] = replications
    job = queue.enqueue(session, "realisation", params, who.token_id, version.organisation_id)
    _audit(session, who, "plan.report", version, run_id=job.id)
    session.commit()
    return job
