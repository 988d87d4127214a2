"""Web pages for planners, ontwikkeltafels and matching coordinators (Dutch labels).

Server-rendered with Jinja2 in the same app as the API; every page is a plain HTML page
that works without JavaScript (a running job's page refreshes itself with a meta tag).
Sign-in takes a bearer token and keeps it in an HttpOnly, SameSite=Strict cookie; the
pages check the same roles as the API. Charts are the PNG files the runs write
(matplotlib), served from the database like every other result file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.errors import CapaciteitError, InvalidInputError, Problem
from capaciteit.matching import suggest
from capaciteit.service import jobs, store
from capaciteit.service.db import Job, JobFile, MatchingPool, Region, Scenario, Token
from capaciteit.service.routes import common
from capaciteit.service.security import Caller, Id, Role, SessionDep, hash_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
COOKIE = "capaciteit_token"
KINDS = {"simulate": "Simulatie", "beds": "Minimale bedden", "afbouw": "Afbouwplan"}
STATUSES = {
    "queued": "in de wachtrij",
    "running": "bezig",
    "done": "klaar",
    "failed": "mislukt",
    "cancelled": "geannuleerd",
}
KPI_LABELS = {
    "capacity_beds": "Bedden",
    "occupied_beds": "Bezet",
    "occupancy_rate": "Bezettingsgraad",
    "mean_wait_days": "Gemiddelde wachttijd (dagen)",
    "placed_within_24h_share": "Binnen 24 uur geplaatst",
    "waiting_at_year_end": "Wachtend eind van het jaar",
    "stays_over_max_share": "Verblijf langer dan maximum",
}

WHAT = {
    "The region model": "Het regiomodel",
    "The scenario": "Het scenario",
    "The region model upload": "De upload van het regiomodel",
    "upload": "De upload",
}

router = APIRouter(include_in_schema=False)


class _SignInError(Exception):
    """The page needs a signed-in caller with another role (or any)."""


def _caller(request: Request, session: SessionDep) -> Caller | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    row = session.scalar(select(Token).where(Token.token_hash == hash_token(token)))
    if row is None or row.revoked:
        return None
    return Caller(row.id, row.name, row.role)  # type: ignore[arg-type]


WebCaller = Annotated[Caller | None, Depends(_caller)]


def _need(who: Caller | None, *roles: Role) -> Caller:
    if who is None:
        raise _SignInError
    if who.role not in roles:
        raise HTTPException(403, f"Rol '{who.role}' heeft geen toegang tot deze pagina.")
    return who


def _page(request: Request, name: str, title: str, who: Caller | None, **context: Any) -> Response:
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {"title": title, "who": who, "statuses": STATUSES, "kinds": KINDS, **context},
    )


def install(app: FastAPI) -> None:
    """Add the pages and the redirect to the sign-in page."""
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), "static")
    app.include_router(router)

    @app.exception_handler(_SignInError)
    async def sign_in(_: Request, __: _SignInError) -> Response:
        return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """Show the sign-in page."""
    return _page(request, "login.html", "Aanmelden", None)


@router.post("/login")
def login(request: Request, session: SessionDep, token: Annotated[str, Form()]) -> Response:
    """Check the token and keep it in a cookie."""
    row = session.scalar(select(Token).where(Token.token_hash == hash_token(token.strip())))
    if row is None or row.revoked:
        return _page(
            request, "login.html", "Aanmelden", None, error="Onbekend of ingetrokken token."
        )
    target = "/matching" if row.role == "matcher" else "/scenarios"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout() -> Response:
    """Forget the token."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def home(who: WebCaller) -> Response:
    """Send each role to its first page."""
    if who is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/matching" if who.role == "matcher" else "/scenarios", 303)


@router.get("/scenarios", response_class=HTMLResponse)
def scenarios(request: Request, session: SessionDep, who: WebCaller) -> Response:
    """Every scenario with its region and number of runs."""
    who = _need(who, "planner", "ontwikkeltafel")
    return _page(request, "scenarios.html", "Scenario's", who, **_scenario_list(session))


def _scenario_list(session: Session) -> dict[str, Any]:
    rows = session.scalars(select(Scenario).order_by(Scenario.id)).all()
    regions = {r.id: r.name for r in session.scalars(select(Region)).all()}
    counts: dict[int, int] = {}
    for job in session.scalars(select(Job).where(Job.kind.in_(KINDS))).all():
        sid = int(job.params.get("scenario_id", 0))
        counts[sid] = counts.get(sid, 0) + 1
    return {"scenarios": rows, "regions": regions, "counts": counts}


@router.post("/scenarios/new", response_class=HTMLResponse)
async def add_scenario(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    files: Annotated[list[UploadFile], File()],
    scenario: Annotated[UploadFile, File()],
) -> Response:
    """Upload a region model and a scenario; show every problem when they are invalid."""
    who = _need(who, "planner")
    content = [(f.filename or "upload", await f.read()) for f in files]
    raw = await scenario.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    try:
        if not text:
            raise InvalidInputError(
                "The scenario",
                [
                    Problem(
                        scenario.filename or "scenario", "is empty or not UTF-8.", "Save as UTF-8."
                    )
                ],
            )
        region = store.add_region(session, content)
        row = store.add_scenario(session, region, text, None)
    except InvalidInputError as exc:
        response = _page(
            request,
            "scenarios.html",
            "Scenario's",
            who,
            error=f"{WHAT.get(exc.what, exc.what)} is afgekeurd ({len(exc.problems)} "
            f"{'probleem' if len(exc.problems) == 1 else 'problemen'}).",
            problems=exc.problems,
            **_scenario_list(session),
        )
        response.status_code = 422
        return response
    return RedirectResponse(f"/scenarios/{row.id}", status_code=303)


def _scenario(session: Session, scenario_id: int) -> Scenario:
    row = session.get(Scenario, scenario_id)
    if row is None:
        raise HTTPException(404, f"Scenario {scenario_id} bestaat niet.")
    return row


@router.get("/scenarios/{scenario_id}", response_class=HTMLResponse)
def scenario(request: Request, scenario_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Show a scenario, its runs, and (for planners) a form to start one."""
    who = _need(who, "planner", "ontwikkeltafel")
    row = _scenario(session, scenario_id)
    region = session.get(Region, row.region_id)
    runs = [
        j
        for j in session.scalars(
            select(Job).where(Job.kind.in_(KINDS)).order_by(Job.id.desc())
        ).all()
        if int(j.params.get("scenario_id", 0)) == scenario_id
    ]
    return _page(
        request,
        "scenario.html",
        row.name,
        who,
        scenario=row,
        region=region.name if region else "",
        runs=runs,
    )


@router.post("/scenarios/{scenario_id}/runs")
def start_run(
    scenario_id: Id,
    session: SessionDep,
    who: WebCaller,
    kind: Annotated[str, Form()],
    replications: Annotated[str, Form()] = "",
) -> Response:
    """Start a run and show its page."""
    who = _need(who, "planner")
    _scenario(session, scenario_id)
    if kind not in KINDS:
        raise HTTPException(422, f"Onbekende soort berekening '{kind}'.")
    params: dict[str, Any] = {"scenario_id": scenario_id}
    if replications.strip():
        if not replications.strip().isdigit() or not 2 <= int(replications) <= 1000:
            raise HTTPException(422, "Replicaties: een geheel getal van 2 tot 1000.")
        params["replications"] = int(replications)
    job = jobs.enqueue(session, kind, params, who.token_id)
    return RedirectResponse(f"/runs/{job.id}", status_code=303)


def _plan_tables(result: dict[str, Any]) -> tuple[dict[tuple[str, str], dict[int, int]], list[int]]:
    providers: dict[tuple[str, str], dict[int, int]] = {}
    years: set[int] = set()
    for row in result.get("plan", []):
        key = (str(row["provider"]), str(row["care_form"]))
        providers.setdefault(key, {})[int(row["year"])] = int(row["beds"])
        years.add(int(row["year"]))
    return dict(sorted(providers.items())), sorted(years)


def _cards(result: dict[str, Any]) -> tuple[int | None, dict[str, list[tuple[str, str]]]]:
    kpis: dict[str, dict[str, dict[str, dict[str, float | None]]]] = result.get("kpis", {})
    names: dict[str, str] = result.get("care_form_names", {})
    year: int | None = None
    cards: dict[str, list[tuple[str, str]]] = {}
    for form, by_year in kpis.items():
        last = max(by_year, key=int)
        year = int(last)
        items = []
        for kpi, label in KPI_LABELS.items():
            v = by_year[last].get(kpi)
            if not v or v.get("mean") is None:
                continue
            share = kpi.endswith(("_share", "_rate"))
            fmt = "{:.1%}" if share else "{:.1f}"
            text = fmt.format(v["mean"])
            if v.get("ci_low") is not None and v.get("ci_high") is not None:
                text += f" [{fmt.format(v['ci_low'])} – {fmt.format(v['ci_high'])}]"
            items.append((label, text))
        cards[names.get(form, form)] = items
    return year, cards


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(request: Request, run_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Show a run: live progress, then KPI cards, minimal beds or the afbouw plan."""
    who = _need(who, "planner", "ontwikkeltafel")
    job = common.get_job(session, run_id, tuple(KINDS))
    row = session.get(Scenario, int(job.params.get("scenario_id", 0)))
    files = sorted(session.scalars(select(JobFile.name).where(JobFile.job_id == job.id)).all())
    result = job.result or {}
    year, cards = _cards(result) if job.kind == "simulate" else (None, {})
    providers, years = _plan_tables(result) if job.kind == "afbouw" else ({}, [])
    return _page(
        request,
        "run.html",
        f"{KINDS[job.kind]} {job.id}",
        who,
        job=job,
        scenario_name=row.name if row else "",
        result=result,
        files=files,
        year=year,
        cards=cards,
        providers=providers,
        years=years,
        refresh=2 if job.status in ("queued", "running") else None,
    )


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Cancel a run."""
    _need(who, "planner")
    common.cancel(session, common.get_job(session, run_id, tuple(KINDS)))
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/runs/{run_id}/files/{name:path}")
def run_file(run_id: Id, name: str, session: SessionDep, who: WebCaller) -> Response:
    """Send a result file (charts, CSV, the workbook)."""
    _need(who, "planner", "ontwikkeltafel")
    return common.download(session, common.get_job(session, run_id, tuple(KINDS)), name)


@router.get("/plans", response_class=HTMLResponse)
def plans(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    a: int | None = None,
    b: int | None = None,
) -> Response:
    """Two afbouw plans side by side."""
    who = _need(who, "planner", "ontwikkeltafel")
    done = session.scalars(
        select(Job).where(Job.kind == "afbouw", Job.status == "done").order_by(Job.id.desc())
    ).all()
    names = {}
    for j in done:
        row = session.get(Scenario, int(j.params.get("scenario_id", 0)))
        names[j.id] = row.name if row else f"plan {j.id}"
    sides: list[dict[str, Any] | None] = []
    for chosen in (a, b):
        job = next((j for j in done if j.id == chosen), None)
        if job is None:
            sides.append(None)
            continue
        providers, years = _plan_tables(job.result or {})
        sides.append({"job": job, "result": job.result, "providers": providers, "years": years})
    return _page(
        request,
        "plans.html",
        "Afbouwplannen naast elkaar",
        who,
        plans=done,
        names=names,
        a=sides[0],
        b=sides[1],
    )


@router.get("/matching", response_class=HTMLResponse)
def matching_form(request: Request, session: SessionDep, who: WebCaller) -> Response:
    """Show the form for suggestions for one child."""
    who = _need(who, "matcher")
    pools = session.scalars(select(MatchingPool).order_by(MatchingPool.id.desc())).all()
    return _page(
        request, "matching.html", "Matching: gezinnen voor een kind", who, pools=pools, k=5
    )


@router.post("/matching", response_class=HTMLResponse)
def matching(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    pool_id: Annotated[int, Form()],
    child_id: Annotated[str, Form(max_length=100)],
    k: Annotated[int, Form(ge=1, le=20)] = 5,
) -> Response:
    """Suggestions for one child with their reasons (audit-logged)."""
    from capaciteit.service.routes.matching import _audit

    who = _need(who, "matcher")
    pools = session.scalars(select(MatchingPool).order_by(MatchingPool.id.desc())).all()
    context: dict[str, Any] = {"pools": pools, "pool_id": pool_id, "child_id": child_id, "k": k}
    built = store.built_pool(session, pool_id)
    if built is None:
        context["error"] = f"Bestand {pool_id} bestaat niet."
    else:
        try:
            result = suggest(built[0], built[1], child_id.strip(), k)
        except CapaciteitError as exc:
            problems = getattr(exc, "problems", [])
            context["error"] = problems[0].message if problems else str(exc)
        else:
            context["result"] = result
            _audit(
                session,
                who,
                "suggestions",
                [result.child_id, *result.siblings],
                pool_id=pool_id,
                families=list(result.table["placement_id"]),
                via="web",
            )
    return _page(request, "matching.html", "Matching: gezinnen voor een kind", who, **context)
