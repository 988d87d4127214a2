"""Web pages for planners, ontwikkeltafels and matching coordinators (Dutch labels).

Server-rendered with Jinja2 in the same app as the API; every page is a plain HTML page
that works without JavaScript (a running job's page refreshes itself with a meta tag).
Sign-in takes a bearer token and keeps it in an HttpOnly, SameSite=Strict cookie; the
pages check the same roles as the API. Charts are the PNG files the runs write
(matplotlib), served from the database like every other result file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
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
from capaciteit.core.privacy import HIDDEN, personal, redact
from capaciteit.core.stats import VERDICTS_NL
from capaciteit.errors import CapaciteitError, InvalidInputError, Problem, figure
from capaciteit.matching import Children, MatchWeights, Pool, Suggestions, suggest
from capaciteit.matching.pool import CHILDREN, NEEDS, PERSPECTIVES, PLACEMENTS, TREDES
from capaciteit.matching.scoring import CRITERIA, haversine_km
from capaciteit.results.kpi_names import KPI_NAMES_NL
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
from capaciteit.service.routes import matching as matching_routes
from capaciteit.service.schemas import BatchIn
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
    kpi: (KPI_NAMES_NL[kpi], fmt, decimals)
    for kpi, fmt, decimals in (
        ("occupied_beds", "number", 1),
        ("occupancy_rate", "percent", 0),
        ("mean_wait_days", "number", 0),
        ("placed_within_24h_share", "percent", 0),
        ("waiting_at_year_end", "number", 1),
        ("overflow_count", "number", 1),
        ("stays_over_max_share", "percent", 0),
    )
}
"""KPIs on the cards: label, format and decimals (the beds are shown without interval)."""
KIND_KPI_LABELS = {
    "ambulant": {"diverted_count": ("Vol: toch naar een bed", "number", 1)},
    "woonplek": {"waiting_in_bed_mean": ("18+ wachtend in een bed", "number", 1)},
}
"""Extra KPIs on the cards of ambulant and housing forms."""
TRANSFORMATION_LABELS = {
    "verblijf_beds": ("Bedden (verblijf)", "number", 0),
    "ambulant_places": ("Ambulante plekken", "number", 0),
    "ambulant_per_verblijf_places": ("Ambulante plekken per bed", "number", 2),
    "ambulant_per_verblijf_in_care": ("In zorg: ambulant per jongere in een bed", "number", 2),
    "ambulant_started": ("Ambulante trajecten gestart", "number", 0),
    "diverted_count": ("Ambulant vol: toch naar een bed", "number", 1),
    "housing_waiting_in_bed": ("18+ wachtend op een woonplek, in een bed", "number", 1),
    "housing_waiting_at_home": ("18+ wachtend op een woonplek, thuis", "number", 1),
    "housing_blocked_bed_days": ("Beddagen bezet door 18+ die wachten", "number", 0),
    "verblijf_cost_eur": ("Kosten bedden", "euro", 0),
    "ambulant_cost_eur": ("Kosten ambulante zorg", "euro", 0),
}
"""The transformation figures of a year (ombouw and 18+) on a simulation's page."""
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


def page(
    request: Request,
    name: str,
    title: str,
    who: Caller | None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Render a page of the site (Dutch words for statuses and kinds included)."""
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {"title": title, "who": who, "statuses": STATUSES, "kinds": KINDS, **context},
        status_code=status_code,
    )


def upload_owner(who: Caller, organisation_id: int | None) -> int:
    """Choose the organisation an upload is for; a token of several must name it in the form."""
    try:
        return who.owner(organisation_id)
    except HTTPException as exc:
        problem = Problem("organisatie", str(exc.detail), "Kies de organisatie in het formulier.")
        raise InvalidInputError("De upload", [problem]) from None


def install(app: FastAPI) -> None:
    """Add the pages and the redirect to the sign-in page."""
    from fastapi.staticfiles import StaticFiles

    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), "static")
    from capaciteit.service import web_calibration, web_plans, web_runs

    app.include_router(router)
    app.include_router(web_plans.router)
    app.include_router(web_runs.router)
    app.include_router(web_calibration.router)

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
    organisations = _organisations(session, who)
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
        region = store.add_region(session, content, upload_owner(who, organisation_id))
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
        chosen = reference_plan_id.strip()
        if not chosen.isdigit() or not 1 <= int(chosen) <= 2**31 - 1:
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


def show_kpi(value: dict[str, float | None] | None, fmt: str, decimals: int) -> str:
    """Show a KPI's mean and 95% interval in Dutch formats; ``–`` when there is none."""
    if not value or value.get("mean") is None:
        return "–"
    mean = value["mean"]
    show = {"percent": nl.percent, "euro": nl.euro}.get(fmt, nl.number)
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
    kinds: dict[str, str] = result.get("care_form_kinds", {})
    years = sorted({int(y) for by_year in kpis.values() for y in by_year})
    if not years:
        return {
            "years": [],
            "year": None,
            "cards": {},
            "targets": [],
            "transformation": [],
            "ligduur": [],
        }
    marked = [int(y) for y in result.get("target_years", [])]
    chosen = year if year in years else (marked[0] if marked else years[-1])
    norms = [n for n in result.get("norms", []) if int(n["year"]) == chosen]
    cards: dict[str, dict[str, Any]] = {}
    for form, by_year in kpis.items():
        k = by_year.get(str(chosen), {})
        beds = (k.get("capacity_beds") or {}).get("mean") or 0
        kind = kinds.get(form, "verblijf")
        items: list[tuple[str, str]] = [
            ("Bedden" if kind == "verblijf" else "Plekken", nl.number(beds))
        ]
        for kpi, (label, fmt, decimals) in {**KPI_LABELS, **KIND_KPI_LABELS.get(kind, {})}.items():
            text = show_kpi(k.get(kpi), fmt, decimals)
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
                "value": show_kpi(n, "percent", 1) if n.get("mean") is not None else "–",
                "verdict": VERDICTS_NL.get(n["verdict"], n["verdict"]),
                "class": VERDICT_CLASS.get(n["verdict"], ""),
            }
            for n in norms
            if n["care_form"] == form
        ]
        cards[names.get(form, form)] = {"items": items, "norms": judged}
    targets = [t for t in result.get("bed_targets", []) if int(t["year"]) == chosen]
    figures = result.get("transformation", {}).get(str(chosen), {})
    transformation = [
        (label, show_kpi(figures.get(key), fmt, decimals))
        for key, (label, fmt, decimals) in TRANSFORMATION_LABELS.items()
        if key in figures
    ]
    ligduur = [
        {
            "target": t["target"],
            "value": show_kpi(t, "number", 0),
            "verdict": VERDICTS_NL.get(t["verdict"], t["verdict"]),
            "class": VERDICT_CLASS.get(t["verdict"], ""),
        }
        for t in result.get("los_targets", [])
        if int(t["year"]) == chosen
    ]
    return {
        "years": years,
        "year": chosen,
        "marked": marked,
        "cards": cards,
        "targets": targets,
        "transformation": transformation,
        "ligduur": ligduur,
    }


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
        "text": f"{show_kpi(value, 'percent', 1)}: {VERDICTS_NL.get(verdict or '', '')}",
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
        time_left=common.time_left_nl(job),
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
    runs_diff = _runs_diff(sides[0], sides[1])
    return page(
        request,
        "plans.html",
        "Afbouwplannen",
        who,
        plans=done,
        names=context["run_names"],
        a=sides[0],
        b=sides[1],
        runs_diff=runs_diff,
        number=nl.number,
        **context,
    )


def _runs_diff(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Compare the plans of two afbouw runs: changed cells and totals (as for versions)."""
    from capaciteit.plans.diff import diff_plans
    from capaciteit.plans.table import plan_frame

    if a is None or b is None or not a["result"].get("plan") or not b["result"].get("plan"):
        return None
    found = diff_plans(plan_frame(a["result"]["plan"]), plan_frame(b["result"]["plan"]))
    return {
        "changed": int(found.changed_cells),
        "cells": reviews.records(found.cells[found.cells["changed"]]),
        "totals": reviews.records(found.totals[found.totals["change_beds"] != 0]),
    }


@router.get("/plans/compare")
def compare_versions(
    who: WebCaller,
    a: Annotated[int, Query(ge=1, le=2**31 - 1)],
    b: Annotated[int, Query(ge=1, le=2**31 - 1)],
) -> Response:
    """Go to the difference page of two versions (the form on the overview)."""
    need_role(who, *READERS)
    return RedirectResponse(f"/plans/{a}/diff/{b}", status_code=303)


# --- Matching: pools, suggestions for one child, batch assignments (the matcher role) ---

MATCHING_TITLE = "Matching"
CRITERIA_NL = {
    "network": "eigen netwerkgezin",
    "home_distance": "dicht bij huis",
    "school_distance": "dicht bij school",
    "experience": "ervaring met de zorgbehoeften",
    "perspective": "biedt het perspectief",
    "identity": "passende identiteit",
    "own_region": "in de eigen regio",
    "children_in_family": "weinig andere kinderen in het gezin",
}
"""The soft criteria of :mod:`capaciteit.matching.scoring`, as a matcher reads them."""
if set(CRITERIA_NL) != set(CRITERIA):  # a new criterion needs its words here
    raise RuntimeError("CRITERIA_NL does not name every matching criterion")
BATCH_FILES = {
    "assignment.csv": "toewijzing per kind (CSV)",
    "unplaced.csv": "niet geplaatste kinderen met de reden (CSV)",
    "match.json": "alles, voor andere systemen (JSON)",
}
"""The files of a batch assignment (:mod:`capaciteit.results.matching`), described."""
BATCHES_LISTED = 20
"""The newest batch assignments listed on the matching page."""


def _file_help() -> list[dict[str, Any]]:
    """Describe the two tables of a pool from their specifications (columns in sync)."""
    out = []
    for spec, what in (
        (CHILDREN, "kind op de wachtlijst"),
        (PLACEMENTS, "pleeggezin of gezinshuis"),
    ):
        out.append(
            {
                "file": f"{spec.name}.csv of {spec.name}.xlsx",
                "row": what,
                "required": [c.name for c in spec.columns if c.required],
                "optional": [c.name for c in spec.columns if not c.required],
            }
        )
    return out


FILE_HELP = _file_help()
FILE_VOCABULARY = {"tredes": TREDES, "needs": NEEDS, "perspective": PERSPECTIVES}
"""The values a pool's tag columns take (from :mod:`capaciteit.matching.pool`)."""


def _pools(session: Session, who: Caller) -> list[Any]:
    """List the caller's pools, newest first (counts only, not the stored tables)."""
    return list(
        session.execute(
            select(
                MatchingPool.id, MatchingPool.name, MatchingPool.summary, MatchingPool.created_at
            )
            .where(MatchingPool.organisation_id.in_(who.organisations))
            .order_by(MatchingPool.created_at.desc(), MatchingPool.id.desc())
        ).all()
    )


def _batches(session: Session, who: Caller) -> list[Any]:
    """List the caller's newest batch assignments (their state, not their results)."""
    return list(
        session.execute(
            select(Job.id, Job.params, Job.status, Job.progress, Job.created_at)
            .where(Job.kind.in_(matching_routes.KINDS), Job.organisation_id.in_(who.organisations))
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(BATCHES_LISTED)
        ).all()
    )


def _organisations(session: Session, who: Caller) -> list[Organisation]:
    """Return the organisations a caller may upload for, by name (asked when several)."""
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.id.in_(who.organisations))
            .order_by(Organisation.name)
        ).all()
    )


def _matching_context(session: Session, who: Caller) -> dict[str, Any]:
    """Gather what the matching page shows besides a result: pools, batches, the forms."""
    pools = _pools(session, who)
    organisations = _organisations(session, who)
    return {
        "pools": pools,
        "pool_names": {p.id: p.name for p in pools},
        "batches": _batches(session, who),
        "organisations": organisations,
        "file_help": FILE_HELP,
        "vocabulary": FILE_VOCABULARY,
        "k": 5,
        "time_limit": 30,
        "number": nl.number,
    }


def _weights_legend(weights: MatchWeights) -> dict[str, Any]:
    """Name the criteria, their weights, the most points possible and the distance scale."""
    return {
        "criteria": [(CRITERIA_NL[c], figure(getattr(weights, c), 1)) for c in CRITERIA],
        "total": figure(sum(getattr(weights, c) for c in CRITERIA), 1),
        "scale": figure(weights.distance_scale_km, 1),
    }


def _score_parts(row: Mapping[Any, Any], weights: MatchWeights) -> list[str]:
    """Name the criteria that gave points, as ``dicht bij huis 14,2 van 20``."""
    return [
        f"{CRITERIA_NL[c]} {nl.number(row[c], 1)} van {figure(getattr(weights, c), 1)}"
        for c in CRITERIA
        if row.get(c) and float(row[c]) > 0
    ]


def _nearest_km(
    children: Children, pool: Pool, members: list[str], family: str
) -> tuple[float | None, float | None]:
    """Great-circle km from a family to the nearest home and school of ``members``.

    The same distance as the reasons and the scores (:func:`~capaciteit.matching.scoring.
    haversine_km`); ``None`` when a location is not known.
    """
    at = int(pool.frame.index.get_indexer(pd.Index([family]))[0])
    known = [m for m in members if m in children.frame.index]
    if at < 0 or not known or np.isnan(pool.location[at]).any():
        return None, None
    positions = [children.position(m) for m in known]
    out: list[float | None] = []
    for points in (children.home[positions], children.school[positions]):
        points = points[~np.isnan(points).any(axis=1)]
        out.append(float(haversine_km(pool.location[at], points).min()) if len(points) else None)
    return out[0], out[1]


def _distance(km: float | None, weights: MatchWeights) -> dict[str, Any]:
    """Show a distance in Dutch, flagged *ver weg* from where it earns no points any more."""
    if km is None:
        return {"text": "onbekend", "far": False}
    far = km >= weights.distance_scale_km
    text = f"{nl.number(km, 1)} km"
    return {"text": f"ver weg: {text}" if far else text, "far": far}


def _suggestion_rows(
    children: Children, pool: Pool, result: Suggestions, weights: MatchWeights
) -> list[dict[str, Any]]:
    """Build the suggestion rows: distances (nearest of the unit, as the reasons) and scores."""
    members = [result.child_id, *result.siblings]
    rows = []
    for r in result.table.to_dict(orient="records"):
        home, school = _nearest_km(children, pool, members, str(r["placement_id"]))
        rows.append(
            {
                "rank": int(r["rank"]),
                "family": str(r["placement_id"]),
                "home": _distance(home, weights),
                "school": _distance(school, weights),
                "score": nl.number(r["score"], 1),
                "parts": _score_parts(r, weights),
                "reasons": str(r["reasons"]),
            }
        )
    return rows


def _together(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Per sibling unit (its first child's id), the children of the unit in ``rows``."""
    units: dict[str, list[str]] = {}
    for r in rows:
        units.setdefault(str(r.get("unit") or r["child_id"]), []).append(str(r["child_id"]))
    return units


def _gap_text(gap: float | None) -> str:
    """Show the gap as a Dutch percentage that never reads as 0 when it is not."""
    if gap is None:
        return "onbekend"
    if 0 < gap < 0.0001:
        return "minder dan 0,01%"
    return nl.percent(gap, 2)


def _batch_view(result: dict[str, Any], built: tuple[Children, Pool] | None) -> dict[str, Any]:
    """Build what a finished batch page shows: counts, optimality, tables with distances."""
    weights = MatchWeights.model_validate(result.get("weights") or {})
    assigned: list[dict[str, Any]] = list(result.get("assignment") or [])
    unplaced: list[dict[str, Any]] = list(result.get("unplaced_children") or [])
    units = _together(assigned) | _together(unplaced)
    rows: list[dict[str, Any]] = []
    for a in assigned:
        child, family = str(a["child_id"]), str(a["placement_id"])
        home, school = _nearest_km(*built, [child], family) if built else (None, None)
        rows.append(
            {
                "child": child,
                "with": [c for c in units.get(str(a.get("unit") or child), []) if c != child],
                "family": family,
                "home": _distance(home, weights),
                "school": _distance(school, weights),
                "score": nl.number(a.get("score"), 1),
                "parts": _score_parts(a, weights),
                "reasons": str(a.get("reasons") or ""),
            }
        )
    left = [
        {
            "child": str(u["child_id"]),
            "with": [
                c for c in units.get(str(u.get("unit") or u["child_id"]), []) if c != u["child_id"]
            ],
            "reason": str(u.get("reason") or ""),
        }
        for u in unplaced
    ]
    placed, children = int(result.get("placed", len(rows))), int(result.get("children", 0))
    most = result.get("max_placed")
    return {
        "placed": nl.number(placed),
        "children": nl.number(children),
        "placed_count": placed,
        "max_placed": None if most is None else nl.number(most),
        "max_reached": most is not None and int(most) == placed,
        "fewer": None if most is None else nl.number(int(most) - placed),
        "proven": bool(result.get("proven_optimal")),
        "gap": _gap_text(result.get("gap")),
        "time": nl.number(result.get("time_s"), 1),
        "pairs": nl.number(result.get("candidate_pairs")),
        "units": nl.number(result.get("sibling_units")),
        "legend": _weights_legend(weights),
        "rows": rows,
        "unplaced": left,
        "left": nl.number(len(left)),
        "far": len([r for r in rows if r["home"]["far"]]),
    }


def _matching_page(
    request: Request, session: Session, who: Caller, status: int = 200, **context: Any
) -> Response:
    """Render the matching page: its lists and forms, with ``context`` (a result) on top."""
    response = page(
        request,
        "matching.html",
        MATCHING_TITLE,
        who,
        **(_matching_context(session, who) | context),
    )
    response.status_code = status
    return response


@router.get("/matching", response_class=HTMLResponse)
def matching_form(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    added: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Show the matcher's page: suggestions, the pools to assign, the upload form.

    Without a pool the page says what to upload first. ``added`` names a pool just
    uploaded (shown with its counts and chosen in the forms when it is the caller's).
    """
    who = need_role(who, "matcher")
    context = _matching_context(session, who)
    new = next((p for p in context["pools"] if p.id == added), None)
    context |= {"added": new, "pool_id": new.id if new is not None else None}
    return page(request, "matching.html", MATCHING_TITLE, who, **context)


@router.post("/matching/pools", response_class=HTMLResponse)
def upload_matching_pool(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    children: Annotated[UploadFile, File()],
    placements: Annotated[UploadFile, File()],
    name: Annotated[str, Form(max_length=200)] = "",
    organisation_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Upload a waiting list and its families (CSV or xlsx) with the API's checks.

    :func:`capaciteit.service.store.add_pool` checks them as ``POST /v1/matching/pools``
    does (an .xlsx table too); a refused upload stores nothing and lists every problem,
    without a value that looks personal.
    """
    who = need_role(who, "matcher")
    # a plain def: validated in a worker thread, off the event loop
    kids, places = children.file.read(), placements.file.read()
    try:
        owner = upload_owner(who, organisation_id)
        row = store.add_pool(session, name.strip() or "pool", kids, places, owner)
    except InvalidInputError as exc:
        refused = {"what": exc.what, "problems": [redact(p) for p in exc.problems]}
        return _matching_page(request, session, who, 422, refused=refused)
    matching_routes._audit(
        session, who, "pool_upload", [], pool_id=row.id, children=row.summary["children"], via="web"
    )
    return RedirectResponse(f"/matching?added={row.id}", status_code=303)


@router.post("/matching", response_class=HTMLResponse)
def matching(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    pool_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    child_id: Annotated[str, Form(max_length=100)],
    k: Annotated[int, Form(ge=1, le=20)] = 5,
) -> Response:
    """Suggestions for one child: distances, the score's make-up and reasons (audited).

    A family from where closeness earns no points any more is flagged *ver weg*. An id
    that looks like a BSN, a name or a date is not looked up and not shown back.
    """
    who = need_role(who, "matcher")
    context: dict[str, Any] = {"pool_id": pool_id, "child_id": child_id.strip(), "k": k}
    owned = session.get(MatchingPool, pool_id)
    visible = owned is not None and who.sees(owned.organisation_id)
    built = store.built_pool(session, pool_id) if visible else None
    if personal(child_id):
        context["child_id"] = ""
        context["error"] = (
            f"Het kind {HIDDEN} lijkt een BSN, naam of datum; zoek met het pseudonieme "
            "child_id uit de wachtlijst."
        )
    elif built is None:
        context["error"] = f"Bestand {pool_id} bestaat niet."
    else:
        weights = MatchWeights()
        try:
            result = suggest(built[0], built[1], child_id.strip(), k, weights)
        except CapaciteitError as exc:
            problems = getattr(exc, "problems", [])
            context["error"] = problems[0].message if problems else str(exc)
        else:
            context |= {
                "result": result,
                "rows": _suggestion_rows(built[0], built[1], result, weights),
                "legend": _weights_legend(weights),
            }
            matching_routes._audit(
                session,
                who,
                "suggestions",
                [result.child_id, *result.siblings],
                pool_id=pool_id,
                families=list(result.table["placement_id"]),
                via="web",
            )
    return _matching_page(request, session, who, **context)


@router.post("/matching/pools/{pool_id}/batch")
def start_matching_batch(
    pool_id: Id,
    session: SessionDep,
    who: WebCaller,
    time_limit_s: Annotated[int, Form(ge=1, le=600)] = 30,
) -> Response:
    """Start the batch assignment of a pool: the API's job (``POST /v1/matching/batch``)."""
    who = need_role(who, "matcher")
    body = BatchIn.model_validate({"pool_id": pool_id, "time_limit_s": float(time_limit_s)})
    job = matching_routes.start_batch(body, session, who)
    return RedirectResponse(f"/matching/batch/{job.id}", status_code=303)


@router.get("/matching/batch/{job_id}", response_class=HTMLResponse)
def matching_batch(request: Request, job_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Show a batch assignment: live progress, then the counts, optimality and tables.

    Read as the API reads it (another organisation's job is 404); showing the children of
    a finished assignment is audit-logged like ``GET /v1/matching/batch/{id}/result``.
    """
    who = need_role(who, "matcher")
    job = common.get_job(session, job_id, matching_routes.KINDS, who)
    pool_id = int(job.params.get("pool_id", 0))
    pool_name = session.scalar(select(MatchingPool.name).where(MatchingPool.id == pool_id))
    files = sorted(session.scalars(select(JobFile.name).where(JobFile.job_id == job.id)).all())
    view = None
    if job.status == "done" and job.result:
        view = _batch_view(job.result, store.built_pool(session, pool_id))
        shown = [r["child"] for r in view["rows"]]
        matching_routes._audit(session, who, "match_batch_read", shown, job_id=job.id, via="web")
    return page(
        request,
        "matching_batch.html",
        f"Toewijzing {job.id}",
        who,
        job=job,
        pool_name=pool_name or "",
        time_limit=nl.number(job.params.get("time_limit_s", 30.0)),
        files=[(f, BATCH_FILES.get(f, "")) for f in files],
        view=view,
        refresh=2 if job.status in ("queued", "running") else None,
    )


@router.post("/matching/batch/{job_id}/cancel")
def cancel_matching_batch(job_id: Id, session: SessionDep, who: WebCaller) -> Response:
    """Cancel a batch assignment (one that has already ended just shows its page)."""
    who = need_role(who, "matcher")
    job = common.get_job(session, job_id, matching_routes.KINDS, who)
    if job.status in ("queued", "running"):
        common.cancel(session, job)
    return RedirectResponse(f"/matching/batch/{job_id}", status_code=303)


@router.get("/matching/batch/{job_id}/files/{name:path}")
def matching_batch_file(job_id: Id, name: str, session: SessionDep, who: WebCaller) -> Response:
    """Send a result file of a batch assignment, as the API does (audit-logged)."""
    who = need_role(who, "matcher")
    return matching_routes.batch_file(job_id, name, session, who)
