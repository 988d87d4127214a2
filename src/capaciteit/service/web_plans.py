"""Web pages of the ontwikkeltafel: plan versions, their review, and differences.

The overview (``/plans``) shows each region's agreed plan, the open proposals and the
comments nobody has answered; a planner makes a proposal from an afbouw run there. A
version's page shows its cells, its check against the rules and targets, the comments
(on the plan or one cell, with replies), the verdicts and the history, with the forms each
role may use: comment (members), verdict (ontwikkeltafel and chair), agree (chair), edit
cells (planner). A difference page compares two versions cell by cell, with totals, the
targets met in each, a chart and the workbook. Every form works without JavaScript; the
rules are :mod:`capaciteit.service.reviews`'s, the same as the API's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.core import nl
from capaciteit.errors import InvalidInputError, Problem
from capaciteit.service import reviews
from capaciteit.service.db import Job, PlanVersion, Region, Scenario
from capaciteit.service.security import MEMBERS, READERS, Caller, Id, SessionDep
from capaciteit.service.web import WebCaller, need_role, page

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROLE_NL = {
    "planner": "planner",
    "ontwikkeltafel": "lid ontwikkeltafel",
    "voorzitter": "voorzitter",
    "landelijk": "landelijk",
}


def _versions(session: Session, who: Caller) -> list[PlanVersion]:
    return list(
        session.scalars(
            select(PlanVersion)
            .where(PlanVersion.organisation_id.in_(who.organisations))
            .order_by(PlanVersion.region_id, PlanVersion.number.desc())
        ).all()
    )


def _region_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Region.id, Region.name).where(Region.id.in_(ids)))
    return {int(i): str(n) for i, n in rows}


def overview_context(session: Session, who: Caller) -> dict[str, Any]:
    """Gather the overview: versions per region, open work, runs to propose from."""
    versions = _versions(session, who)
    waiting = reviews.unanswered(session, who.organisations)
    names = reviews.names_of(
        session, {v.created_by for v in versions} | {c.token_id for c in waiting}
    )
    runs = session.scalars(
        select(Job)
        .where(
            Job.kind == "afbouw",
            Job.status == "done",
            Job.organisation_id.in_(who.organisations),
        )
        .order_by(Job.created_at.desc(), Job.id.desc())
    ).all()
    scenario_names = {
        int(i): str(n)
        for i, n in session.execute(
            select(Scenario.id, Scenario.name).where(
                Scenario.id.in_({int(j.params.get("scenario_id", 0)) for j in runs})
            )
        )
    }
    numbers = {v.id: v.number for v in versions}
    return {
        "versions": versions,
        "regions": _region_names(session, {v.region_id for v in versions}),
        "authors": {k: v[0] for k, v in names.items()},
        "waiting": waiting,
        "numbers": numbers,
        "runs": runs,
        "run_names": {
            j.id: scenario_names.get(int(j.params.get("scenario_id", 0)), f"plan {j.id}")
            for j in runs
        },
        "status_nl": reviews.STATUS_NL,
        "money": nl.euro,
    }


@router.post("/plans", response_class=HTMLResponse)
def propose(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    run_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Make a proposal of an afbouw run and show it."""
    who = need_role(who, "planner")
    try:
        version = reviews.propose_from_run(session, run_id, title, note, who)
    except InvalidInputError as error:
        return _refused(request, who, "Voorstel niet gemaakt", error)
    return RedirectResponse(f"/plans/{version.id}", status_code=303)


def _refused(request: Request, who: Caller, title: str, error: InvalidInputError) -> Response:
    response = page(request, "refused.html", title, who, error=error)
    response.status_code = 422
    return response


def _grid(version: PlanVersion) -> tuple[dict[tuple[str, str], dict[int, int]], list[int]]:
    cells: dict[tuple[str, str], dict[int, int]] = {}
    years: set[int] = set()
    for row in version.plan:
        key = (str(row["provider"]), str(row["care_form"]))
        cells.setdefault(key, {})[int(row["year"])] = int(row["beds"])
        years.add(int(row["year"]))
    return dict(sorted(cells.items(), key=lambda kv: (kv[0][1], kv[0][0]))), sorted(years)


@router.get("/plans/{plan_id}", response_class=HTMLResponse)
def version_page(request: Request, plan_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Show a plan version with its check, comments, verdicts, history and forms."""
    who = need_role(who, *READERS)
    version = reviews.version_of(session, plan_id, who)
    return _version_page(request, session, who, version)


def _version_page(
    request: Request,
    session: Session,
    who: Caller,
    version: PlanVersion,
    error: InvalidInputError | None = None,
) -> Response:
    comments = reviews.comments_of(session, version)
    verdicts = reviews.verdicts_of(session, version)
    history = reviews.history(session, version)
    people = reviews.names_of(
        session,
        {version.created_by, version.agreed_by}
        | {c.token_id for c in comments}
        | {v.token_id for v in verdicts}
        | {h.token_id for h in history},
    )
    grid, years = _grid(version)
    names = reviews.provider_and_form_names(session, version)
    siblings = [v for v in _versions(session, who) if v.region_id == version.region_id]
    agreed = next((v for v in siblings if v.status == "agreed"), None)
    on_cell = {(c.provider, c.care_form, c.year) for c in comments if c.provider is not None}
    replies: dict[int, list[Any]] = {}
    for c in comments:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    last_verdict: dict[int | None, Any] = {}
    for v in verdicts:
        last_verdict[v.token_id] = v
    reports = [
        j
        for j in session.scalars(
            select(Job)
            .where(Job.kind == "realisation", Job.organisation_id == version.organisation_id)
            .order_by(Job.created_at.desc(), Job.id.desc())
        ).all()
        if int(j.params.get("plan_id", 0)) == version.id
    ]
    response = page(
        request,
        "plan_version.html",
        f"Afbouwplan versie {version.number}: {version.title}",
        who,
        version=version,
        grid=grid,
        years=years,
        names=names,
        comments=[c for c in comments if c.parent_id is None],
        replies=replies,
        on_cell=on_cell,
        verdicts=list(last_verdict.values()),
        history=history,
        people=people,
        role_nl=ROLE_NL,
        status_nl=reviews.STATUS_NL,
        verdict_nl=reviews.VERDICT_NL,
        action_nl=reviews.ACTION_NL,
        siblings=siblings,
        agreed=agreed,
        members=MEMBERS,
        realisations=reviews.realisations_of(session, version),
        reports=reports,
        money=nl.euro,
        number=nl.number,
        error=error,
    )
    if error is not None:
        response.status_code = 422
    return response


def _cell(provider: str, care_form: str, year: str) -> tuple[str, str, int] | None:
    if not provider and not care_form and not year:
        return None
    if not year.strip().isdigit():
        raise InvalidInputError(
            "Het commentaar",
            [Problem("commentaar", "het jaar van de cel ontbreekt.", "Kies een jaar.")],
        )
    return provider.strip(), care_form.strip(), int(year)


@router.post("/plans/{plan_id}/comments", response_class=HTMLResponse)
def add_comment(
    request: Request,
    plan_id: Id,
    session: SessionDep,
    who: WebCaller,
    text: Annotated[str, Form(min_length=1, max_length=5000)],
    provider: Annotated[str, Form(max_length=100)] = "",
    care_form: Annotated[str, Form(max_length=100)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
    reply_to: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Comment on the plan, on one cell, or reply."""
    who = need_role(who, *MEMBERS)
    version = reviews.version_of(session, plan_id, who)
    try:
        reviews.comment(session, version, text, _cell(provider, care_form, year), reply_to, who)
    except InvalidInputError as error:
        return _version_page(request, session, who, version, error)
    return RedirectResponse(f"/plans/{plan_id}#commentaar", status_code=303)


@router.post("/plans/{plan_id}/verdicts", response_class=HTMLResponse)
def add_verdict(
    request: Request,
    plan_id: Id,
    session: SessionDep,
    who: WebCaller,
    verdict: Annotated[str, Form(pattern="^(akkoord|niet_akkoord)$")],
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Give a verdict on a proposal."""
    who = need_role(who, "ontwikkeltafel", "voorzitter")
    version = reviews.version_of(session, plan_id, who)
    try:
        reviews.verdict(session, version, verdict, reason, who)
    except InvalidInputError as error:
        return _version_page(request, session, who, version, error)
    return RedirectResponse(f"/plans/{plan_id}#oordelen", status_code=303)


@router.post("/plans/{plan_id}/agree")
def agree(plan_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Mark a proposal as the agreed plan (the chair)."""
    who = need_role(who, "voorzitter")
    reviews.agree(session, reviews.version_of(session, plan_id, who), who)
    return RedirectResponse(f"/plans/{plan_id}", status_code=303)


def parse_changes(text: str) -> dict[tuple[str, str, int], int]:
    """Read edited cells, one per line: ``aanbieder zorgvorm jaar plaatsen``.

    Commas, semicolons and tabs separate as well as spaces (a line copied from a
    spreadsheet works). Every unreadable line is listed.
    """
    changes: dict[tuple[str, str, int], int] = {}
    problems: list[Problem] = []
    lines = [line for line in text.replace("\r", "").split("\n") if line.strip()]
    if len(lines) > 5000:
        lines = lines[:5001]
        problems.append(
            Problem("wijzigingen", "meer dan 5.000 regels.", "Wijzig minder cellen per keer.")
        )
    for number, line in enumerate(lines[:5000], start=1):
        parts = line.replace(",", " ").replace(";", " ").replace("\t", " ").split()
        if len(parts) != 4 or not parts[2].isdigit() or not parts[3].isdigit():
            problems.append(
                Problem(
                    "wijzigingen",
                    "deze regel is niet te lezen als 'aanbieder zorgvorm jaar plaatsen'.",
                    "Schrijf bijvoorbeeld: P01 residentieel 2026 12",
                    row=number,
                )
            )
            continue
        key = (parts[0], parts[1], int(parts[2]))
        if key in changes:
            problems.append(
                Problem(
                    "wijzigingen",
                    "deze cel staat er twee keer in.",
                    "Noem elke cel één keer.",
                    row=number,
                    id=f"{key[0]}/{key[1]}/{key[2]}",
                )
            )
        changes[key] = int(parts[3])
    if not changes and not problems:
        problems.append(
            Problem("wijzigingen", "er is geen cel gewijzigd.", "Schrijf minstens één regel.")
        )
    if problems:
        raise InvalidInputError("De wijzigingen", problems)
    return changes


@router.post("/plans/{plan_id}/edits", response_class=HTMLResponse)
def edit(
    request: Request,
    plan_id: Id,
    session: SessionDep,
    who: WebCaller,
    changes: Annotated[str, Form(min_length=1, max_length=200_000)],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Change cells: a new proposal (this version stays as it is)."""
    who = need_role(who, "planner")
    version = reviews.version_of(session, plan_id, who)
    try:
        new = reviews.edit(session, version, parse_changes(changes), title, note, who)
    except InvalidInputError as error:
        return _version_page(request, session, who, version, error)
    return RedirectResponse(f"/plans/{new.id}", status_code=303)


@router.get("/plans/{plan_id}/plan.csv")
def plan_csv(plan_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Send a version's cells as CSV."""
    who = need_role(who, *READERS)
    filename, content = reviews.plan_csv(reviews.version_of(session, plan_id, who))
    return Response(
        content,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/plans/{plan_id}/diff/{other_id}", response_class=HTMLResponse)
def diff_page(
    request: Request, plan_id: Id, other_id: Id, session: SessionDep, who: WebCaller
) -> Response:
    """Show what changes from one version to another."""
    who = need_role(who, *READERS)
    a, b, found = reviews.diff_of(session, plan_id, other_id, who)
    changed = found.cells[found.cells["changed"]]
    return page(
        request,
        "plan_diff.html",
        f"Versie {a.number} en versie {b.number} vergeleken",
        who,
        a=a,
        b=b,
        cells=reviews.records(changed),
        totals=reviews.records(found.totals[found.totals["change_beds"] != 0]),
        targets=reviews.records(found.targets),
        changed=int(found.changed_cells),
        names=reviews.provider_and_form_names(session, b),
        money=nl.euro,
        number=nl.number,
        status_nl=reviews.STATUS_NL,
    )


@router.get("/plans/{plan_id}/diff/{other_id}/chart.png")
def diff_chart(plan_id: Id, other_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Send the chart of the differences (change in beds per care form and year)."""
    who = need_role(who, *READERS)
    _, b, found = reviews.diff_of(session, plan_id, other_id, who)
    return Response(reviews.diff_chart(session, b, found), media_type="image/png")


@router.get("/plans/{plan_id}/diff/{other_id}/workbook")
def diff_workbook(plan_id: Id, other_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Send the differences as a workbook."""
    who = need_role(who, *READERS)
    a, b, found = reviews.diff_of(session, plan_id, other_id, who)
    filename, content = reviews.diff_workbook(session, a, b, found)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/plans/{plan_id}/realisation-template")
def realisation_template(plan_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Send the realisation workbook providers fill in each quarter."""
    who = need_role(who, *READERS)
    filename, content = reviews.realisation_template(
        session, reviews.version_of(session, plan_id, who)
    )
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/plans/{plan_id}/realisations", response_class=HTMLResponse)
def upload_realisation(
    request: Request,
    plan_id: Id,
    session: SessionDep,
    who: WebCaller,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Upload a filled-in realisation workbook (refused with every problem listed)."""
    who = need_role(who, "planner")
    version = reviews.version_of(session, plan_id, who)
    content = file.file.read(reviews.XLSX_LIMIT_BYTES + 1)
    try:
        reviews.add_realisation(session, version, file.filename or "", content, who)
    except InvalidInputError as error:
        return _version_page(request, session, who, version, error)
    return RedirectResponse(f"/plans/{plan_id}#realisatie", status_code=303)


@router.post("/plans/{plan_id}/report")
def start_report(
    plan_id: Id,
    session: SessionDep,
    who: WebCaller,
    replications: Annotated[int | None, Form(ge=20, le=1000)] = None,
) -> Response:
    """Start the quarterly report and show its progress."""
    who = need_role(who, "planner")
    job = reviews.start_report(
        session, reviews.version_of(session, plan_id, who), replications, who
    )
    return RedirectResponse(f"/runs/{job.id}", status_code=303)
