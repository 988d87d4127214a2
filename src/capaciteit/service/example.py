"""The example region's ontwikkeltafel in a service database, for ``make demo``.

``capaciteit voorbeeld-dienst`` fills a (new) database with the whole cycle of the example
region, so that ``capaciteit serve`` shows it in the web pages: the region model and its
transformatie scenario; the afbouw run that became the agreed plan (comments on the plan
and on a cell, a reply, two verdicts, agreed by the chair); a re-plan close to the agreed
plan as an open proposal with an unanswered comment; the two quarters of synthetic
realisation (``models/voorbeeldregio-realisatie/``) uploaded against the agreed plan; and
the quarterly report queued, so that the server's workers make it on start. Every step goes
through the same functions as the API (:mod:`capaciteit.service.reviews`,
:mod:`capaciteit.service.store`), with named people, so the history reads as a real one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from capaciteit.errors import InvalidInputError, Problem
from capaciteit.service import reviews, store
from capaciteit.service.db import (
    Job,
    JobFile,
    Token,
    make_engine,
    migrate,
    now,
    session_factory,
)
from capaciteit.service.queue import MEDIA
from capaciteit.service.security import (
    Caller,
    Role,
    create_token,
    hash_token,
    organisation_named,
)

ORGANISATION = "Voorbeeldregio"
PEOPLE: dict[str, tuple[Role, str]] = {
    "planner": ("planner", "Petra Planner (regio)"),
    "olga": ("ontwikkeltafel", "Olga Ouwehand (aanbieder P01)"),
    "otto": ("ontwikkeltafel", "Otto Oosterhuis (gemeente)"),
    "vera": ("voorzitter", "Vera Vos (voorzitter)"),
    "mees": ("matcher", "Mees Meijer (matching)"),
}
"""Who sits at the example's table: key, role and the name the pages show."""


@dataclass(frozen=True)
class ExampleService:
    """What was made: the tokens by person, and the ids to open in the pages."""

    tokens: dict[str, str]
    names: dict[str, str]
    agreed_id: int
    proposal_id: int
    report_job_id: int


def _caller(session: Session, token: str, organisation: int) -> Caller:
    row = session.scalar(select(Token).where(Token.token_hash == hash_token(token)))
    assert row is not None
    return Caller(row.id, row.name, row.role, frozenset({organisation}))  # type: ignore[arg-type]


def _run_from_folder(
    session: Session, folder: Path, scenario_id: int, organisation: int, who: Caller
) -> Job:
    """Store an afbouw run the command line made (``plan.json`` and its files) as done."""
    result = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    result["scenario"] = {**result.get("scenario", {}), "file": None, "scenario_id": scenario_id}
    job = Job(
        organisation_id=organisation,
        kind="afbouw",
        params={"scenario_id": scenario_id},
        status="done",
        progress=1.0,
        message="klaar",
        attempts=1,
        created_by=who.token_id,
        created_at=now(),
        started_at=now(),
        finished_at=now(),
        result=result,
    )
    session.add(job)
    session.flush()
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        session.add(
            JobFile(
                job_id=job.id,
                name=path.name,
                media_type=MEDIA.get(path.suffix, "application/octet-stream"),
                content=path.read_bytes(),
            )
        )
    session.commit()
    return job


def input_problems(
    model_dir: Path,
    scenario_file: Path,
    agreed_run: Path,
    replan_run: Path,
    realisation: list[Path],
) -> list[Problem]:
    """List what is missing among the inputs of :func:`seed_example` (nothing is made then)."""
    problems: list[Problem] = []
    if not (model_dir / "model.yaml").is_file():
        problems.append(
            Problem(
                str(model_dir),
                "is geen regiomodel (model.yaml ontbreekt).",
                "Geef de map van het regiomodel met --model, of start in de projectmap.",
            )
        )
    if not scenario_file.is_file():
        problems.append(
            Problem(str(scenario_file), "bestaat niet.", "Geef het scenario met --scenario.")
        )
    for option, folder in (("--afspraak", agreed_run), ("--herplan", replan_run)):
        if not (folder / "plan.json").is_file():
            problems.append(
                Problem(
                    str(folder),
                    "bevat geen plan.json van 'capaciteit afbouw'.",
                    f"Geef met {option} de uitvoermap van een afbouwberekening.",
                )
            )
    for path in realisation:
        if not path.is_file() or path.suffix.lower() != ".xlsx":
            problems.append(
                Problem(
                    str(path),
                    "is geen bestaand .xlsx-bestand.",
                    "Geef met --realisatie een ingevuld realisatiesjabloon.",
                )
            )
    return problems


def seed_example(
    database_url: str,
    *,
    model_dir: Path,
    scenario_file: Path,
    agreed_run: Path,
    replan_run: Path,
    realisation: list[Path],
) -> ExampleService:
    """Fill the database at ``database_url`` with the example's ontwikkeltafel cycle.

    ``agreed_run`` and ``replan_run`` are the output folders of ``capaciteit afbouw`` (the
    plan, and a re-plan with the agreed plan as reference); ``realisation`` the filled-in
    quarterly workbooks. Missing inputs are refused, every one listed, before anything is
    made (:class:`~capaciteit.errors.InvalidInputError`).
    """
    problems = input_problems(model_dir, scenario_file, agreed_run, replan_run, realisation)
    if problems:
        raise InvalidInputError("De invoer van het voorbeeld", problems)
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with session_factory(engine)() as session:
            organisation = organisation_named(session, ORGANISATION)
            tokens = {
                key: create_token(session, role, name, [organisation])
                for key, (role, name) in PEOPLE.items()
            }
            who = {key: _caller(session, token, organisation) for key, token in tokens.items()}
            files = [(p.name, p.read_bytes()) for p in sorted(model_dir.iterdir()) if p.is_file()]
            region = store.add_region(session, files, organisation)
            text = scenario_file.read_text(encoding="utf-8")
            scenario = store.add_scenario(session, region, text, None)
            first = _run_from_folder(session, agreed_run, scenario.id, organisation, who["planner"])
            second = _run_from_folder(
                session, replan_run, scenario.id, organisation, who["planner"]
            )

            agreed = reviews.propose_from_run(
                session,
                first.id,
                "Afbouwplan 2024–2030 (sprint 1)",
                "Het plan uit de afbouwberekening van de transformatie, zonder handwerk.",
                who["planner"],
            )
            cell = next(
                (r["provider"], r["care_form"], int(r["year"]))
                for r in agreed.plan
                if r["care_form"] == "residentieel" and int(r["year"]) == 2025
            )
            question = reviews.comment(
                session,
                agreed,
                "P05 bouwt in 2025 sneller af dan we hadden gedacht; is er genoeg "
                "gezinshuiscapaciteit om die jongeren op te vangen?",
                cell,
                None,
                who["olga"],
            )
            reviews.comment(
                session,
                agreed,
                "Ja: de behoefte aan gezinshuisplaatsen is meegenomen en P03 en P08 groeien mee.",
                None,
                question.id,
                who["planner"],
            )
            reviews.comment(
                session,
                agreed,
                "De kosten per jaar passen binnen de begroting.",
                None,
                None,
                who["otto"],
            )
            reviews.verdict(session, agreed, "akkoord", "", who["olga"])
            reviews.verdict(session, agreed, "akkoord", "", who["otto"])
            reviews.agree(session, agreed, who["vera"])

            proposal = reviews.propose_from_run(
                session,
                second.id,
                "Sprint 2: opnieuw gepland dicht bij de afspraak",
                "Na de nieuwe behoefteberekening; alleen wat moet veranderen, verandert.",
                who["planner"],
            )
            changed = next(
                (
                    (c["provider"], c["care_form"], int(c["year"]))
                    for c in second.result.get("changes", [])  # type: ignore[union-attr]
                ),
                None,
            )
            reviews.comment(
                session,
                proposal,
                "Waarom verandert deze cel ten opzichte van de afspraak?"
                if changed
                else "Wat verandert er ten opzichte van de afspraak?",
                changed,
                None,
                who["otto"],
            )
            reviews.verdict(
                session,
                proposal,
                "niet_akkoord",
                "Eerst de toelichting bij de gewijzigde cellen bespreken.",
                who["otto"],
            )

            for path in realisation:
                reviews.add_realisation(
                    session, agreed, path.name, path.read_bytes(), who["planner"]
                )
            report = reviews.start_report(session, agreed, 50, who["planner"])
            return ExampleService(
                tokens=tokens,
                names={key: name for key, (_, name) in PEOPLE.items()},
                agreed_id=agreed.id,
                proposal_id=proposal.id,
                report_job_id=report.id,
            )
    finally:
        engine.dispose()
