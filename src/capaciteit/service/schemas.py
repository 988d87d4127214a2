"""Request (``*In``) and response (``*Public``) bodies of the API.

Requests forbid unknown fields, so that nothing else (a child's name, say) can slip in.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from capaciteit.matching import MatchWeights
from capaciteit.service.security import Role


def _utc(value: dt.datetime) -> dt.datetime:
    """Mark a stored time (naive, UTC) as UTC, so that it is written with its offset."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


UtcTime = Annotated[dt.datetime, AfterValidator(_utc)]
"""A time in UTC, written with its offset (``2026-12-06T06:12:32Z``)."""


ID_PATTERN = r"^[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$"
"""A pseudonymous id: no spaces, no control characters. Spelled out rather than ``\\S``,
whose meaning differs between the regex dialects of pydantic, Python and JSON Schema."""


def _whole(value: object) -> object:
    """Take ``3.0`` as the integer 3: JSON Schema counts it as an integer, so must we."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Whole = Annotated[int, BeforeValidator(_whole)]
"""An integer in a strict body: ``3`` and ``3.0`` are taken, ``3.5``, ``"3"`` and ``false`` not."""
# the bounds come before the validator: behind it pydantic would write them as "ge"/"le",
# which JSON Schema does not know, and the document would not state them
ObjectId = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_whole)]
"""The id of a stored object (1 to 2^31 - 1)."""


def _distinct(values: list[int]) -> list[int]:
    """Refuse a list that names something twice (the schema says ``uniqueItems``)."""
    if len(set(values)) != len(values):
        raise ValueError("each organisation once")
    return values


Organisations = Annotated[
    list[ObjectId],
    Field(max_length=100, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_distinct),
]
"""Ids of organisations, each once, at most 100."""


class In(BaseModel):
    """Base of request bodies: unknown fields are refused, and types are strict.

    Strict: ``"seed": false`` or ``"replications": "3"`` are refused, not taken as numbers.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


class TokenIn(In):
    """A new token for a role, seeing some organisations (default: ``standaard``)."""

    role: Role
    name: str = Field(min_length=1, max_length=100, description="who or what uses it")
    organisations: Organisations | None = Field(
        default=None, description="ids of the organisations it may see, each once"
    )


class OrganisationIn(In):
    """A new organisation: a region (jeugdregio) or a matching organisation."""

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["region", "matching"] = "region"


class OrganisationPublic(BaseModel):
    """An organisation."""

    id: int
    name: str
    kind: str
    created_at: UtcTime


class TokenPublic(BaseModel):
    """A token as listed (never the secret)."""

    id: int
    name: str
    role: str
    created_at: UtcTime
    revoked: bool


class TokenCreated(TokenPublic):
    """A new token, with its secret (shown once)."""

    token: str = Field(description="the bearer token; shown once, stored hashed")


class RegionPublic(BaseModel):
    """A stored region model."""

    id: int
    name: str
    summary: dict[str, Any]
    created_at: UtcTime


class ScenarioIn(In):
    """A scenario file for a stored region model."""

    region_id: ObjectId
    text: str = Field(min_length=1, max_length=1_000_000, description="the scenario YAML")
    name: str | None = Field(default=None, max_length=200)


class ScenarioPublic(BaseModel):
    """A stored scenario."""

    id: int
    region_id: ObjectId
    name: str
    text: str
    created_at: UtcTime


class RunIn(In):
    """A run of a scenario."""

    kind: Literal["simulate", "beds", "afbouw"]
    scenario_id: ObjectId
    replications: Annotated[int, Field(ge=2, le=1000), BeforeValidator(_whole)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**53 - 1), BeforeValidator(_whole)] | None = None
    reference_plan_id: ObjectId | None = Field(
        default=None,
        description="afbouw only: plan close to this plan version (e.g. the agreed plan)",
    )


class JobPublic(BaseModel):
    """A background run with its state and result files."""

    id: int
    kind: str
    params: dict[str, Any]
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress_pct: float
    message: str
    attempts: int
    created_at: UtcTime
    started_at: UtcTime | None
    finished_at: UtcTime | None
    error: dict[str, Any] | None
    files: list[str]
    seconds_left: float | None = Field(
        default=None, description="estimated seconds a running job still needs"
    )


class PoolPublic(BaseModel):
    """A stored matching pool (counts only)."""

    id: int
    name: str
    summary: dict[str, Any]
    created_at: UtcTime


class SuggestionsIn(In):
    """A request for the best families for one child."""

    pool_id: ObjectId
    child_id: str = Field(min_length=1, max_length=100, pattern=ID_PATTERN)
    k: Whole = Field(default=5, ge=1, le=50)
    weights: MatchWeights | None = None


class SuggestionPublic(BaseModel):
    """One suggested family."""

    rank: int
    placement_id: str
    score: float
    points: dict[str, float]
    reasons: list[str]


class SuggestionsPublic(BaseModel):
    """The best families for one child."""

    child_id: str
    siblings_placed_together: list[str]
    candidates: int
    excluded_by_rule: dict[str, int]
    summary: str
    suggestions: list[SuggestionPublic]


class ExplainIn(In):
    """Why a family can or cannot take a child."""

    pool_id: ObjectId
    child_id: str = Field(min_length=1, max_length=100, pattern=ID_PATTERN)
    placement_id: str = Field(min_length=1, max_length=100, pattern=ID_PATTERN)


class ExplainPublic(BaseModel):
    """The hard rules a family fails for a child, or its fit."""

    child_id: str
    placement_id: str
    eligible: bool
    violations: list[str]
    reasons: list[str]
    score: float | None


class BatchIn(In):
    """A batch assignment of a pool's waiting list."""

    pool_id: ObjectId
    weights: MatchWeights | None = None
    time_limit_s: float = Field(default=30.0, gt=0, le=600)


class Health(BaseModel):
    """The service's health."""

    status: Literal["ok"]
    version: str
    database: str


class AuditPublic(BaseModel):
    """One audit entry: who asked for which matching (pseudonymous ids only), when."""

    at: UtcTime
    token_id: int | None
    action: str
    subject_ids: list[str]
    detail: dict[str, Any]


Code = Annotated[str, Field(min_length=1, max_length=100, pattern=ID_PATTERN)]
"""A provider or care form code as the region model writes it."""
Year = Annotated[int, Field(ge=1900, le=2200), BeforeValidator(_whole)]


class PlanFromRunIn(In):
    """Turn a finished afbouw run into a proposal."""

    run_id: ObjectId
    title: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=5000)


class CellIn(In):
    """One cell of a plan: a provider's beds of a care form in a year."""

    provider: Code
    care_form: Code
    year: Year


class CellChangeIn(CellIn):
    """New beds for one cell."""

    beds: Annotated[int, Field(ge=0, le=100_000), BeforeValidator(_whole)]


class PlanEditIn(In):
    """Edited cells of a plan version: a new proposal, checked again."""

    changes: list[CellChangeIn] = Field(min_length=1, max_length=5000)
    title: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=5000)


class CommentIn(In):
    """A comment on a plan version, on one of its cells, or a reply."""

    text: str = Field(min_length=1, max_length=5000)
    cell: CellIn | None = None
    reply_to: ObjectId | None = None


class VerdictIn(In):
    """A member's verdict on a proposal; ``niet_akkoord`` needs a reason."""

    verdict: Literal["akkoord", "niet_akkoord"]
    reason: str = Field(default="", max_length=5000)


class PlanSummaryPublic(BaseModel):
    """A plan version as listed."""

    id: int
    region_id: int
    scenario_id: int
    number: int
    title: str
    status: Literal["proposal", "agreed", "superseded"]
    parent_id: int | None
    source_job_id: int | None
    created_by: str
    created_at: UtcTime
    agreed_at: UtcTime | None
    cost_eur: dict[str, int] = Field(description="planned cost per year (euros)")
    targets_met: int
    targets_judged: int


class CommentPublic(BaseModel):
    """A comment with who wrote it."""

    id: int
    reply_to: int | None
    author: str
    role: str
    cell: dict[str, Any] | None
    text: str
    created_at: UtcTime


class VerdictPublic(BaseModel):
    """A verdict with who gave it."""

    id: int
    author: str
    role: str
    verdict: Literal["akkoord", "niet_akkoord"]
    reason: str
    created_at: UtcTime


class HistoryPublic(BaseModel):
    """One change to a plan version: who did what, when."""

    at: UtcTime
    who: str
    action: str
    detail: dict[str, Any]


class PlanPublic(PlanSummaryPublic):
    """A plan version with its cells, check, comments, verdicts and history."""

    note: str
    plan: list[dict[str, Any]]
    check: dict[str, Any]
    comments: list[CommentPublic]
    verdicts: list[VerdictPublic]
    history: list[HistoryPublic]


class PlanDiffPublic(BaseModel):
    """Two plan versions compared: changed cells, totals per form and year, targets."""

    a: int
    b: int
    changed_cells: int
    cells: list[dict[str, Any]]
    totals: list[dict[str, Any]]
    targets: list[dict[str, Any]]


class OverviewPublic(BaseModel):
    """What waits for the ontwikkeltafel: open proposals and unanswered comments."""

    open_proposals: list[PlanSummaryPublic]
    unanswered_comments: list[dict[str, Any]]


class RealisationPublic(BaseModel):
    """An uploaded realisation workbook: which quarters, how many rows."""

    id: int
    plan_id: int
    name: str
    rows: int
    quarters: list[str]
    created_at: UtcTime


class ReportIn(In):
    """A quarterly report of a plan version's realisation."""

    replications: Annotated[int, Field(ge=20, le=1000), BeforeValidator(_whole)] | None = Field(
        default=None, description="replications of the simulated band (default 200)"
    )


FIRST_YEAR, LAST_YEAR = 1990, 2199
"""Dates in requests fall in these years (stay records start in 1990 or later)."""
_YEARS = r"(199[0-9]|2[01][0-9][0-9])"


def _iso_day(value: object) -> object:
    """Take a day only as JSON Schema's ``full-date`` writes it (``2024-03-01``).

    The request body is parsed to Python first, where a strict date takes no text; the
    lax one takes more than ``full-date`` (a number of seconds, a time of 00:00).
    """
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return value
    raise ValueError("schrijf een datum als 2024-03-01")


def _day_in_range(day: dt.date) -> dt.date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"een datum tussen {FIRST_YEAR} en {LAST_YEAR} is nodig")
    return day


def _new_year(day: dt.date) -> dt.date:
    if (day.month, day.day) != (1, 1):
        raise ValueError("de knip is 1 januari van een jaar (bijvoorbeeld 2024-01-01)")
    return day


# the range as a pattern too, so that the document states it (JSON Schema has no bounds
# for dates); the validator checks the same
Day = Annotated[
    dt.date,
    Field(strict=False, json_schema_extra={"pattern": f"^{_YEARS}-"}),
    BeforeValidator(_iso_day),
    AfterValidator(_day_in_range),
]
"""A day (``2024-03-01``) in the years :data:`FIRST_YEAR` to :data:`LAST_YEAR`."""
NewYear = Annotated[
    dt.date,
    Field(strict=False, json_schema_extra={"pattern": f"^{_YEARS}-01-01$"}),
    BeforeValidator(_iso_day),
    AfterValidator(_day_in_range),
    AfterValidator(_new_year),
]
"""1 January of a year (``2024-01-01``): where a backtest cuts the records."""


class RecordsPublic(BaseModel):
    """Uploaded stay records: what they hold, never a row of them."""

    id: int
    name: str = Field(description="the file name as stored")
    stays: int = Field(description="stays (rows) in the file")
    care_forms: list[str] = Field(description="care forms with at least one stay")
    extract_date: dt.date = Field(description="the latest date in the records")
    first_start: dt.date | None = Field(
        default=None,
        description="the earliest start date (null for records uploaded before it was kept)",
    )
    created_at: UtcTime = Field(description="when they were uploaded")


MAX_BEDS_ROWS = 10_000
"""Rows of a 0-meting in a request (a region has a few hundred provider-form pairs)."""


class BedsIn(In):
    """One row of a 0-meting: the beds of a provider for a care form on the peildatum."""

    provider: Code = Field(description="provider code")
    care_form: Code = Field(description="care form id")
    beds: Annotated[int, Field(ge=0, le=100_000), BeforeValidator(_whole)] = Field(
        description="beds (places) contracted"
    )


def _each_pair_once(rows: list[BedsIn]) -> list[BedsIn]:
    """Refuse a 0-meting that gives a provider and care form twice, naming them."""
    seen: set[tuple[str, str]] = set()
    twice: list[str] = []
    for row in rows:
        pair = (row.provider, row.care_form)
        if pair in seen and f"{row.provider}/{row.care_form}" not in twice:
            twice.append(f"{row.provider}/{row.care_form}")
        seen.add(pair)
    if twice:
        raise ValueError(f"elke aanbieder en zorgvorm één keer; dubbel: {', '.join(twice)}")
    return rows


Beds = Annotated[list[BedsIn], Field(max_length=MAX_BEDS_ROWS), AfterValidator(_each_pair_once)]
"""A 0-meting: beds per provider and care form, each pair once."""
_BEDS_DESCRIPTION = (
    "the 0-meting {day}: beds per provider and care form, each pair once, as in the "
    "beds.csv of `capaciteit intake` (default: the highest occupancy in the year before); "
    "the occupants are counted from the records"
)


class CalibrationIn(In):
    """A calibration of a region model from stored stay records."""

    records_id: ObjectId
    base_region_id: ObjectId | None = Field(
        default=None,
        description="a region model of the organisation whose care forms, waiting policies, "
        "tariffs and names the calibrated model keeps",
    )
    window_start: Day | None = Field(
        default=None,
        description="first day of the window in which every stay is in the records "
        "(default: the first of the month of the earliest end date)",
    )
    zero_date: Day | None = Field(
        default=None, description="the peildatum of the 0-meting (default: the extract date)"
    )
    extract_date: Day | None = Field(
        default=None, description="the day of the extract (default: the latest date in it)"
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="name of the calibrated model (no control characters)",
    )
    beds: Beds | None = Field(
        default=None, description=_BEDS_DESCRIPTION.format(day="on the peildatum")
    )


class BacktestIn(In):
    """A backtest: calibrate on the records before ``cut``, compare the quarters after it."""

    records_id: ObjectId
    cut: NewYear = Field(description="1 January: calibration before, comparison after")
    quarters: Annotated[int, Field(ge=4, le=8), BeforeValidator(_whole)] = Field(
        default=8, description="quarters after the cut that are compared"
    )
    replications: Annotated[int, Field(ge=20, le=500), BeforeValidator(_whole)] = Field(
        default=100,
        description="replications of the simulated band (at most 500 on this shared service; "
        "the command line `capaciteit backtest` allows up to 2000)",
    )
    seed: Annotated[int, Field(ge=0, le=2**53 - 1), BeforeValidator(_whole)] = 1
    base_region_id: ObjectId | None = Field(
        default=None, description="a region model of the organisation (as for a calibration)"
    )
    window_start: Day | None = None
    extract_date: Day | None = None
    beds: Beds | None = Field(default=None, description=_BEDS_DESCRIPTION.format(day="at the cut"))
