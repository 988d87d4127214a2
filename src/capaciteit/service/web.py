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

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    UploadFile,
)
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.core import nl
from capaciteit.core.stats import VERDICTS_NL
from capaciteit.errors import CapaciteitError, InvalidInputError, Problem
from capaciteit.matching import suggest
from capaciteit.service import queue, reviews, security, store
from capaciteit.service.db import (
    Job,
    JobFile,
    MatchingPool,
    Organisation,
    PlanVersion,
    Region,
    Scenario,
    Token,
)
from capaciteit.service.routes import common
from capaciteit.service.security import Caller, Id, Role, SessionDep, caller_of, hash_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
COOKIE = "capaciteit_token"
KINDS = {
    "simulate": "Simulatie",
    "beds": "Minimale bedden",
    "afbouw": "Afbouwplan",
    "realisation": "Kwartaalrapport",
}
RUN_KINDS = ("simulate", "beds", "afbouw")
"""Kinds a planner starts from a scenario page (a quarterly report starts from its plan)."""
STATUSES = {
    "queued": "in de wachtrij",
    "running": "bezig",
    "done": "klaar",
    "failed": "mislukt",
    "cancelled": "geannuleerd",
}
KPI_LABELS = {
    "occupied_beds": ("Bezet (gemiddeld)", "number", 1),
    "occupancy_rate": ("Bezettingsgraad", "percent", 0),
    "mean_wait_days": ("Gemiddelde wachttijd (dagen)", "number", 0),
    "placed_within_24h_share": ("Binnen 24 uur geplaatst", "percent", 0),
    "waiting_at_year_end": ("Wachtend op 31 december", "number", 1),
    "overflow_count": ("Buiten de regio geplaatst", "number", 1),
    "stays_over_max_share": ("Verblijf langer dan het maximum", "percent", 0),
}
"""KPIs on the cards: label, format and decimals (the beds are shown without interval)."""
VERDICT_CLASS = {"met": "ok", "missed": "bad", "undecided": "unsure", "no_data": "muted"}

router = APIRouter(include_in_schema=False)
READERS = security.READERS


class _SignInError(Exception):
    """The page needs a signed-in caller with another role (or any)."""


def _caller(request: Request, session: SessionDep) -> Caller | None:
    token = request.cookies.get(COOKIE)
    return caller_of(session, token) if token else None


WebCaller = Annotated[Caller | None, Depends(_caller)]


def need_role(who: Caller | None, *roles: Role) -> Caller:
    """Return the signed-in caller if its role may see the page (sign in, or 403)."""
    if who is None:
        raise _SignInError
    if who.role not in roles:
        raise HTTPException(403, f"Rol '{who.role}' heeft geen toegang tot deze pagina.")
    return who


def page(request: Request, name: str, title: str, who: Caller | None, **context: Any) -> Response:
    """Render a page of the site (Dutch words for statuses and kinds included)."""
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {"title": title, "who": who, "statuses": STATUSES, "kinds": KINDS, **context},
    )


def install(app: FastAPI) -> None:
    """Add the pages and the redirect to the sign-in page."""
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), "static")
    from capaciteit.service import web_plans

    app.include_router(router)
    app.include_router(web_plans.router)

    @app.exception_handler(_SignInError)
    async def sign_in(_: Request, __: _SignInError) -> Response:
        return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    """Show the sign-in page."""
    return page(request, "login.html", "Aanmelden", None)


@router.post("/login")
def login(request: Request, session: SessionDep, token: Annotated[str, Form()]) -> Response:
    """Check the token and keep it in a cookie."""
    row = session.scalar(select(Token).where(Token.token_hash == hash_token(token.strip())))
    if row is None or row.revoked:
        return page(
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
    who = need_role(who, *READERS)
    return page(request, "scenarios.html", "Scenario's", who, **_scenario_list(session, who))


def _scenario_list(session: Session, who: Caller) -> dict[str, Any]:
    mine = Region.organisation_id.in_(who.organisations)
    rows = session.scalars(
        select(Scenario)
        .join(Region, Region.id == Scenario.region_id)
        .where(mine)
        .order_by(Scenario.created_at, Scenario.id)
    ).all()
    regions = {r.id: r.name for r in session.scalars(select(Region).where(mine)).all()}
    counts: dict[int, int] = {}
    jobs = select(Job).where(Job.kind.in_(KINDS), Job.organisation_id.in_(who.organisations))
    for job in session.scalars(jobs).all():
        sid = int(job.params.get("scenario_id", 0))
        counts[sid] = counts.get(sid, 0) + 1
    organisations = session.scalars(
        select(Organisation)
        .where(Organisation.id.in_(who.organisations))
        .order_by(Organisation.name)
    ).all()
    return {
        "scenarios": rows,
        "regions": regions,
        "counts": counts,
        "organisations": organisations,
    }


@router.post("/scenarios/new", response_class=HTMLResponse)
def add_scenario(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    files: Annotated[list[UploadFile], File()],
    scenario: Annotated[UploadFile, File()],
    organisation_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Upload a region model and a scenario; show every problem when they are invalid."""
    who = need_role(who, "planner")
    # a plain def: validated in a worker thread, off the event loop
    content = [(f.filename or "upload", f.file.read()) for f in files]
    raw = scenario.file.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    try:
        if not text:
            raise InvalidInputError(
                "Het scenario",
                [
                    Problem(
                        scenario.filename or "scenario",
                        "is leeg of geen UTF-8-tekst.",
                        "Sla het scenario op als UTF-8 (platte tekst).",
                    )
                ],
            )
        try:
            owner = who.owner(organisation_id)
        except HTTPException as exc:
            problem = Problem(
                "organisatie", str(exc.detail), "Kies de organisatie in het formulier."
            )
            raise InvalidInputError("De upload", [problem]) from None
        region = store.add_region(session, content, owner)
        row = store.add_scenario(session, region, text, None)
    except InvalidInputError as exc:
        response = page(
            request,
            "scenarios.html",
            "Scenario's",
            who,
            error=f"{exc.what} is afgekeurd "
            f"({nl.plural(len(exc.problems), 'probleem', 'problemen')}).",
            problems=exc.problems,
            **_scenario_list(session, who),
        )
        response.status_code = 422
        return response
    return RedirectResponse(f"/scenarios/{row.id}", status_code=303)


def _scenario(session: Session, scenario_id: int, who: Caller) -> Scenario:
    return store.scenario_of(session, scenario_id, who)[0]


@router.get("/scenarios/{scenario_id}", response_class=HTMLResponse)
def scenario(request: Request, scenario_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Show a scenario, its runs, and (for planners) a form to start one."""
    who = need_role(who, *READERS)
    row, region = store.scenario_of(session, scenario_id, who)
    runs = [
        j
        for j in session.scalars(
            select(Job)
            .where(Job.kind.in_(KINDS), Job.organisation_id == region.organisation_id)
            .order_by(Job.created_at.desc(), Job.id.desc())
        ).all()
        if int(j.params.get("scenario_id", 0)) == scenario_id
    ]
    versions = session.scalars(
        select(PlanVersion)
        .where(PlanVersion.region_id == region.id)
        .order_by(PlanVersion.number.desc())
    ).all()
    return page(
        request,
        "scenario.html",
        row.name,
        who,
        scenario=row,
        region=region.name if region else "",
        runs=runs,
        versions=versions,
        version_status=reviews.STATUS_NL,
    )


@router.post("/scenarios/{scenario_id}/runs")
def start_run(
    scenario_id: Id,
    session: SessionDep,
    who: WebCaller,
    kind: Annotated[str, Form()],
    replications: Annotated[str, Form()] = "",
    reference_plan_id: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Start a run and show its page (an afbouw plan may plan close to a plan version)."""
    who = need_role(who, "planner")
    _, region = store.scenario_of(session, scenario_id, who)
    if kind not in RUN_KINDS:
        raise HTTPException(422, f"Onbekende soort berekening '{kind}'.")
    params: dict[str, Any] = {"scenario_id": scenario_id}
    if reference_plan_id.strip() and kind == "afbouw":
        if not reference_plan_id.strip().isdigit():
            raise HTTPException(422, "Referentieplan: kies een planversie.")
        reference = reviews.version_of(session, int(reference_plan_id), who)
        if reference.region_id != region.id:
            raise HTTPException(422, "Het referentieplan hoort bij een andere regio.")
        params["reference_plan_id"] = reference.id
    if replications.strip():
        if not replications.strip().isdigit() or not 2 <= int(replications) <= 1000:
            raise HTTPException(422, "Replicaties: een geheel getal van 2 tot 1000.")
        params["replications"] = int(replications)
    job = queue.enqueue(session, kind, params, who.token_id, region.organisation_id)
    return RedirectResponse(f"/runs/{job.id}", status_code=303)


def _plan_tables(result: dict[str, Any]) -> tuple[dict[tuple[str, str], dict[int, int]], list[int]]:
    providers: dict[tuple[str, str], dict[int, int]] = {}
    years: set[int] = set()
    for row in result.get("plan", []):
        key = (str(row["provider"]), str(row["care_form"]))
        providers.setdefault(key, {})[int(row["year"])] = int(row["beds"])
        years.add(int(row["year"]))
    return dict(sorted(providers.items())), sorted(years)


def _show(value: dict[str, float | None] | None, fmt: str, decimals: int) -> str:
    """Show a KPI's mean and 95% interval in Dutch formats; ``–`` when there is none."""
    if not value or value.get("mean") is None:
        return "–"
    mean = value["mean"]
    show = nl.percent if fmt == "percent" else nl.number
    text = show(mean, decimals)
    low, high = value.get("ci_low"), value.get("ci_high")
    if low is not None and high is not None and show(low, decimals) != show(high, decimals):
        text += f" [{show(low, decimals)} – {show(high, decimals)}]"
    return text


def _cards(result: dict[str, Any], year: int | None) -> dict[str, Any]:
    """Build the KPI cards of one year per care form, with every norm of the form judged.

    No NaN reaches the page and an input (the beds) has no interval; the years to pick from
    come with the target years marked.
    """
    kpis: dict[str, dict[str, dict[str, dict[str, float | None]]]] = result.get("kpis", {})
    names: dict[str, str] = result.get("care_form_names", {})
    years = sorted({int(y) for by_year in kpis.values() for y in by_year})
    if not years:
        return {"years": [], "year": None, "cards": {}, "targets": []}
    marked = [int(y) for y in result.get("target_years", [])]
    chosen = year if year in years else (marked[0] if marked else years[-1])
    norms = [n for n in result.get("norms", []) if int(n["year"]) == chosen]
    cards: dict[str, dict[str, Any]] = {}
    for form, by_year in kpis.items():
        k = by_year.get(str(chosen), {})
        beds = (k.get("capacity_beds") or {}).get("mean") or 0
        items: list[tuple[str, str]] = [("Bedden", nl.number(beds))]
        for kpi, (label, fmt, decimals) in KPI_LABELS.items():
            text = _show(k.get(kpi), fmt, decimals)
            if kpi == "occupancy_rate" and not beds:
                text = "geen bedden"
            elif kpi == "mean_wait_days" and text == "–":
                text = "geen opnames"
            elif text == "–":
                continue
            items.append((label, text))
        above = (k.get("over_capacity_beds") or {}).get("mean") or 0.0
        if above >= 0.05:
            items.append(("Boven capaciteit", f"{nl.number(above, 1)} jongeren"))
        judged = [
            {
                "norm": n["description"],
                "value": _show(n, "percent", 1) if n.get("mean") is not None else "–",
                "verdict": VERDICTS_NL.get(n["verdict"], n["verdict"]),
                "class": VERDICT_CLASS.get(n["verdict"], ""),
            }
            for n in norms
            if n["care_form"] == form
        ]
        cards[names.get(form, form)] = {"items": items, "norms": judged}
    targets = [t for t in result.get("bed_targets", []) if int(t["year"]) == chosen]
    return {"years": years, "year": chosen, "marked": marked, "cards": cards, "targets": targets}


def _beds_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Build the minimal-beds table for the page: numbers in Dutch, evidence in words."""
    rows = []
    names: dict[str, str] = result.get("care_form_names", {})
    order = {form: i for i, form in enumerate(names)}
    beds = sorted(
        result.get("beds", []), key=lambda r: (order.get(r["care_form"], len(order)), r["year"])
    )
    for row in beds:
        fewer = row.get("at_one_fewer_verdict")
        at_min = row.get("at_minimum_verdict")
        rows.append(
            {
                "form": names.get(row["care_form"], row["care_form"]),
                "year": row["year"],
                "baseline": nl.number(row.get("baseline_beds")),
                "current": nl.number(row.get("current_beds")),
                "minimal": nl.number(row.get("minimal_beds")),
                "long_run": nl.number(row.get("long_run_beds")),
                "norm": row.get("evidence_norm") or "–",
                "short": (row.get("minimal_beds") or 0) > (row.get("current_beds") or 0),
                "at_minimum": _evidence(row, "at_minimum", at_min),
                "one_fewer": _evidence(row, "at_one_fewer", fewer),
                "why": row.get("why_not_one_fewer") or "",
            }
        )
    return rows


def _evidence(row: dict[str, Any], prefix: str, verdict: str | None) -> dict[str, str]:
    value = {k: row.get(f"{prefix}_{k}") for k in ("mean", "ci_low", "ci_high")}
    if value["mean"] is None:
        return {"text": "–", "class": "muted"}
    return {
        "text": f"{_show(value, 'percent', 1)}: {VERDICTS_NL.get(verdict or '', '')}",
        "class": VERDICT_CLASS.get(verdict or "", ""),
    }


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run(
    request: Request,
    run_id: Id,
    session: SessionDep,
    who: WebCaller,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> Response:
    """Show a run: live progress, then KPI cards, minimal beds or the afbouw plan."""
    who = need_role(who, *READERS)
    job = common.get_job(session, run_id, tuple(KINDS), who)
    row = session.get(Scenario, int(job.params.get("scenario_id", 0)))
    files = sorted(session.scalars(select(JobFile.name).where(JobFile.job_id == job.id)).all())
    result = job.result or {}
    cards = _cards(result, year) if job.kind == "simulate" else {}
    beds = _beds_rows(result) if job.kind == "beds" else []
    providers, years = _plan_tables(result) if job.kind == "afbouw" else ({}, [])
    return page(
        request,
        "run.html",
        f"{KINDS[job.kind]} {job.id}",
        who,
        job=job,
        scenario_name=row.name if row else "",
        result=result,
        files=files,
        view=cards,
        beds=beds,
        providers=providers,
        years=years,
        refresh=2 if job.status in ("queued", "running") else None,
    )


@router.post("/runs/{run_id}/cancel")
def cancel_run(run_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Cancel a run."""
    who = need_role(who, "planner")
    common.cancel(session, common.get_job(session, run_id, tuple(KINDS), who))
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.get("/runs/{run_id}/files/{name:path}")
def run_file(run_id: Id, name: str, session: SessionDep, who: WebCaller) -> Response:
    """Send a result file (charts, CSV, the workbook)."""
    who = need_role(who, *READERS)
    return common.download(session, common.get_job(session, run_id, tuple(KINDS), who), name)


@router.get("/plans", response_class=HTMLResponse)
def plans(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    a: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    b: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Show the overview of plan versions, and two afbouw runs side by side."""
    from capaciteit.service.web_plans import overview_context

    who = need_role(who, *READERS)
    context = overview_context(session, who)
    done = context["runs"]
    sides: list[dict[str, Any] | None] = []
    for chosen in (a, b):
        job = next((j for j in done if j.id == chosen), None)
        if job is None:
            sides.append(None)
            continue
        providers, years = _plan_tables(job.result or {})
        sides.append({"job": job, "result": job.result, "providers": providers, "years": years})
    return page(
        request,
        "plans.html",
        "Afbouwplannen",
        who,
        plans=done,
        names=context["run_names"],
        a=sides[0],
        b=sides[1],
        **context,
    )


@router.get("/plans/compare")
def compare_versions(
    who: WebCaller,
    a: Annotated[int, Query(ge=1, le=2**31 - 1)],
    b: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> Response:
    """Go to the difference page of two versions (the form on the overview)."""
    need_role(who, *READERS)
    return RedirectResponse(f"/plans/{a}/diff/{b}", status_code=303)


@router.get("/matching", response_class=HTMLResponse)
def matching_form(request: Request, session: SessionDep, who: WebCaller) -> Response:
    """Show the form for suggestions for one child."""
    who = need_role(who, "matcher")
    pools = session.scalars(
        select(MatchingPool)
        .where(MatchingPool.organisation_id.in_(who.organisations))
        .order_by(MatchingPool.created_at.desc(), MatchingPool.id.desc())
    ).all()
    return page(request, "matching.html", "Matching: gezinnen voor een kind", who, pools=pools, k=5)


@router.post("/matching", response_class=HTMLResponse)
def matching(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    pool_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    child_id: Annotated[str, Form(max_length=100)],
    k: Annotated[int, Form(ge=1, le=20)] = 5,
) -> Response:
    """Suggestions for one child with their reasons (audit-logged)."""
    from capaciteit.service.routes.matching import _audit

    who = need_role(who, "matcher")
    pools = session.scalars(
        select(MatchingPool)
        .where(MatchingPool.organisation_id.in_(who.organisations))
        .order_by(MatchingPool.created_at.desc(), MatchingPool.id.desc())
    ).all()
    context: dict[str, Any] = {"pools": pools, "pool_id": pool_id, "child_id": child_id, "k": k}
    owned = session.get(MatchingPool, pool_id)
    visible = owned is not None and who.sees(owned.organisation_id)
    built = store.built_pool(session, pool_id) if visible else None
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
    return page(request, "matching.html", "Matching: gezinnen voor een kind", who, **context)
