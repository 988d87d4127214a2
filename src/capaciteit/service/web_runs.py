"""Two simulation runs side by side: every KPI per care form in a year, and the difference.

Planners compare scenarios ("what if ambulant care lowers instroom by 10%?") year by year:
for a chosen year (2025 and 2030 marked) each care form's KPIs of run A and run B with
their 95% intervals, the difference B − A, and whether that difference stands out of the
noise (the two intervals do not overlap) or not; the cost per year; every norm judged in
each run; what each run misses, first. Any two finished simulation runs of the caller's
organisations can be compared, also of different scenarios or regions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.core import nl
from capaciteit.core.stats import VERDICTS_NL
from capaciteit.service.db import Job, Scenario
from capaciteit.service.routes import common
from capaciteit.service.security import READERS, Caller, SessionDep
from capaciteit.service.web import (
    KPI_LABELS,
    VERDICT_CLASS,
    WebCaller,
    need_role,
    page,
    show_kpi,
)

router = APIRouter(include_in_schema=False)
ROWS = {"capacity_beds": ("Bedden", "number", 0), **KPI_LABELS, "cost_eur": ("Kosten", "euro", 0)}
"""The KPIs compared, with their Dutch label, format and decimals."""


def _done_runs(session: Session, who: Caller) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(
                Job.kind == "simulate",
                Job.status == "done",
                Job.organisation_id.in_(who.organisations),
            )
            .order_by(Job.created_at.desc(), Job.id.desc())
        ).all()
    )


def _value(kpis: dict[str, Any], form: str, year: int, kpi: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = kpis.get(form, {}).get(str(year), {}).get(kpi)
    return found


def _difference(
    a: dict[str, Any] | None,
    b: dict[str, Any] | None,
    fmt: str,
    decimals: int,
    exact: bool = False,
) -> dict[str, str]:
    """B − A in the KPI's format, and whether it stands out of the noise.

    ``exact``: an input (the beds), whose difference is what it is. Otherwise a difference
    stands out when both 95% intervals are known and do not overlap; without both
    intervals it is not judged ("onzeker").
    """
    if not a or not b or a.get("mean") is None or b.get("mean") is None:
        return {"text": "–", "class": "muted"}
    change = float(b["mean"]) - float(a["mean"])
    if fmt == "percent":
        text = f"{'+' if change > 0 else ''}{nl.number(100 * change, max(decimals, 1))} procentpunt"
    elif fmt == "euro":
        text = ("+" if change > 0 else "") + nl.euro(change)
    else:
        text = f"{'+' if change > 0 else ''}{nl.number(change, max(decimals, 1))}"
    intervals = [a.get("ci_low"), a.get("ci_high"), b.get("ci_low"), b.get("ci_high")]
    if abs(change) < 1e-9:
        return {"text": "gelijk", "class": "muted"}
    if exact:
        return {"text": text, "class": ""}
    if None in intervals:
        return {"text": text + " (onzeker)", "class": "muted"}
    a_low, a_high, b_low, b_high = (float(v) for v in intervals)  # type: ignore[arg-type]
    apart = b_low > a_high or a_low > b_high
    return {
        "text": text + ("" if apart else " (binnen de ruis)"),
        "class": "" if apart else "muted",
    }


def _show(value: dict[str, Any] | None, fmt: str, decimals: int) -> str:
    if fmt == "euro":
        return nl.euro(float(value["mean"])) if value and value.get("mean") is not None else "–"
    return show_kpi(value, fmt, decimals)


def comparison(a: dict[str, Any], b: dict[str, Any], year: int) -> list[dict[str, Any]]:
    """Per care form both runs have, the KPI rows of ``year``: A, B and the difference."""
    names: dict[str, str] = {**b.get("care_form_names", {}), **a.get("care_form_names", {})}
    kpis_a, kpis_b = a.get("kpis", {}), b.get("kpis", {})
    forms = [f for f in names if f in kpis_a or f in kpis_b]
    out = []
    for form in forms:
        rows = []
        for kpi, (label, fmt, decimals) in ROWS.items():
            va, vb = _value(kpis_a, form, year, kpi), _value(kpis_b, form, year, kpi)
            if va is None and vb is None:
                continue
            rows.append(
                {
                    "label": label,
                    "a": _show(va, fmt, decimals),
                    "b": _show(vb, fmt, decimals),
                    "difference": _difference(va, vb, fmt, decimals, kpi == "capacity_beds"),
                }
            )
        norms = {
            side: [
                {
                    "norm": n["description"],
                    "verdict": VERDICTS_NL.get(n["verdict"], n["verdict"]),
                    "class": VERDICT_CLASS.get(n["verdict"], ""),
                }
                for n in run.get("norms", [])
                if n["care_form"] == form and int(n["year"]) == year
            ]
            for side, run in (("a", a), ("b", b))
        }
        out.append({"form": names.get(form, form), "rows": rows, "norms": norms})
    return out


def _cost(run: dict[str, Any], year: int) -> float:
    return sum(
        float((by_year.get(str(year), {}).get("cost_eur") or {}).get("mean") or 0.0)
        for by_year in run.get("kpis", {}).values()
    )


@router.get("/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    session: SessionDep,
    who: WebCaller,
    a: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    b: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> Response:
    """Show two simulation runs side by side for one year (or the form to pick them)."""
    who = need_role(who, *READERS)
    runs = _done_runs(session, who)
    names = {
        int(i): str(n)
        for i, n in session.execute(
            select(Scenario.id, Scenario.name).where(
                Scenario.id.in_({int(j.params.get("scenario_id", 0)) for j in runs})
            )
        )
    }
    labels = {j.id: f"{j.id} – {names.get(int(j.params.get('scenario_id', 0)), '')}" for j in runs}
    context: dict[str, Any] = {"runs": runs, "labels": labels, "a_id": a, "b_id": b}
    if a is not None and b is not None:
        job_a = common.get_job(session, a, ("simulate",), who)
        job_b = common.get_job(session, b, ("simulate",), who)
        result_a, result_b = common.result(job_a), common.result(job_b)
        years = sorted(
            {int(y) for r in (result_a, result_b) for f in r.get("kpis", {}).values() for y in f}
        )
        marked = sorted({int(y) for r in (result_a, result_b) for y in r.get("target_years", [])})
        chosen = year if year in years else (marked[0] if marked else years[-1])
        cost_a, cost_b = _cost(result_a, chosen), _cost(result_b, chosen)
        context |= {
            "job_a": job_a,
            "job_b": job_b,
            "missed_a": result_a.get("missed") or "",
            "missed_b": result_b.get("missed") or "",
            "years": years,
            "marked": marked,
            "year": chosen,
            "forms": comparison(result_a, result_b, chosen),
            "cost_a": nl.euro(cost_a),
            "cost_b": nl.euro(cost_b),
            "cost_change": ("+" if cost_b > cost_a else "") + nl.euro(cost_b - cost_a),
        }
    return page(request, "compare.html", "Twee simulaties vergelijken", who, **context)
