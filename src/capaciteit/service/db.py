"""Persistence: SQLAlchemy 2 tables, the engine, and migrations with Alembic.

Everything the service knows lives here, so that a restart (or a kill -9) loses nothing:
tokens (hashed), region models (the uploaded files as a zip), scenarios, matching pools,
stay records (as uploaded), jobs with their state, progress and heartbeat, result files,
and the audit log of matching requests. ``migrate`` brings any database to the newest
schema (``alembic upgrade head``).
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def now() -> dt.datetime:
    """Return the current time in UTC (naive, as stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Base of the service's tables."""


def new_id() -> int:
    """Draw a random id in 1 .. 2^31 - 1, so that ids cannot be guessed or enumerated.

    (Sequential ids told anyone the number of regions and runs, and where to look.)
    """
    return secrets.randbelow(2**31 - 1) + 1


DEFAULT_ORGANISATION = "standaard"
"""The organisation of a token created without any (and of data from before tenancy)."""


class Organisation(Base):
    """A region (jeugdregio) or a matching organisation: the owner of its data."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="region")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class TokenOrganisation(Base):
    """Which organisations a token may see (given by an admin)."""

    __tablename__ = "token_organisations"
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)


class Token(Base):
    """A bearer token: only its SHA-256 is stored."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    revoked: Mapped[bool] = mapped_column(default=False)


class Region(Base):
    """An uploaded region model (the files as a zip archive)."""

    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    archive: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class Scenario(Base):
    """A scenario file for a region."""

    __tablename__ = "scenarios"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class MatchingPool(Base):
    """A waiting list and family pool (pseudonymous tables) for matching."""

    __tablename__ = "pools"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    children_csv: Mapped[bytes] = mapped_column(LargeBinary)
    placements_csv: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class StayRecordsUpload(Base):
    """Stay records (pseudonymous, one row per stay) a planner uploaded, as they came.

    The rows never leave the service: the API shows ``summary`` (stays, care forms, extract
    date) and calibration and backtest jobs read ``content``.
    """

    __tablename__ = "stay_records"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class Job(Base):
    """A background run: its request, state, progress, heartbeat and result."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True, default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class JobFile(Base):
    """A result file of a job (CSV, xlsx, PNG, JSON)."""

    __tablename__ = "job_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)


PLAN_STATUSES = ("proposal", "agreed", "superseded")
"""A plan version is a proposal, the agreed plan of its region, or a plan agreed before."""


class PlanVersion(Base):
    """One version of a region's afbouwplan: beds per provider, care form and year.

    Its cells (``plan``) and their check never change once it is stored: an edit makes a
    new version with this one as ``parent_id``. Only ``status`` moves, when the chair
    agrees a proposal (and the agreed plan before it becomes ``superseded``).
    """

    __tablename__ = "plan_versions"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True, default="proposal")
    source_job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"), nullable=True)
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    need: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    check: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)
    agreed_by: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), nullable=True)
    agreed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    __table_args__ = (
        UniqueConstraint("region_id", "number", name="uq_plan_versions_region_number"),
    )


class PlanComment(Base):
    """A comment on a plan version, or on one of its cells, or a reply to a comment."""

    __tablename__ = "plan_comments"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan_comments.id"), nullable=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), nullable=True)
    provider: Mapped[str | None] = mapped_column(String(100), nullable=True)
    care_form: Mapped[str | None] = mapped_column(String(100), nullable=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class PlanVerdict(Base):
    """A member's verdict on a proposal: akkoord, or niet akkoord with a reason."""

    __tablename__ = "plan_verdicts"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), nullable=True)
    verdict: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


class Realisation(Base):
    """A provider's filled-in realisation workbook (quarterly actuals) for a plan version."""

    __tablename__ = "realisations"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=now)


FROZEN = ("plan", "need", "check", "region_id", "scenario_id", "number", "parent_id")
"""Columns of a plan version that never change after it is stored."""


@event.listens_for(PlanVersion, "before_update")
def _frozen(mapper: Any, connection: Any, target: PlanVersion) -> None:
    """Refuse any change to a stored version's cells (an edit is a new version)."""
    from sqlalchemy import inspect

    state = inspect(target)
    changed = [name for name in FROZEN if state.attrs[name].history.has_changes()]
    if changed:
        raise ValueError(f"plan version {target.id} is immutable; changed: {changed}")


class AuditEntry(Base):
    """Who asked for which matching, when (pseudonymous ids only)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=now, index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(50))
    subject_ids: Mapped[list[str]] = mapped_column(JSON)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "ALTER", "DROP")
_SQLITE_WRITES = threading.Lock()
_HOLDS = "capaciteit_holds_write_lock"
"""Key in a pooled connection's ``info``: its transaction holds ``_SQLITE_WRITES``."""


def _release_write_lock(info: dict[Any, Any]) -> None:
    if info.pop(_HOLDS, False):
        _SQLITE_WRITES.release()


def make_engine(url: str, busy_timeout_s: float = 30.0) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and one writer discipline.

    Bound parameters are never part of an error message (they can hold child ids).

    SQLite lets one connection write at a time. Within a process, a connection takes
    ``_SQLITE_WRITES`` *before* its transaction's first write and keeps it until it goes
    back to the pool at the end of the transaction, so the lock order is always the same:
    this lock, then SQLite's. (Taking it only around ``commit`` deadlocked: a heartbeat's
    UPDATE held SQLite's lock while waiting for this one, which a commit held while waiting
    for SQLite's, until the busy timeout failed the job.) Queuing on a lock instead of
    SQLite's busy handler (which sleeps in growing steps up to 100 ms) also keeps the 95th
    percentile of suggestions (each writes an audit entry) low under load. pysqlite begins
    a transaction at its first write, so a transaction never writes on an old snapshot.
    Between processes, SQLite's busy timeout queues the writers.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL sync survives a crash of the process (kill -9), which is the
            # promise here; only a power loss can drop the last commits
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "before_cursor_execute")
        def _one_writer(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            info = conn.info
            if info.get(_HOLDS) or not statement.lstrip()[:7].upper().startswith(_WRITES):
                return
            if not _SQLITE_WRITES.acquire(timeout=busy_timeout_s):
                raise sqlite3.OperationalError("database is locked (waited for another writer)")
            info[_HOLDS] = True

        @event.listens_for(engine, "checkin")
        def _returned(dbapi_connection: Any, record: Any) -> None:
            _release_write_lock(record.info)

        @event.listens_for(engine, "invalidate")
        def _dropped(dbapi_connection: Any, record: Any, *_: Any) -> None:
            _release_write_lock(record.info)

        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


class _Session(Session):
    """The service's sessions (their SQLite writes queue as :func:`make_engine` says)."""


def session_factory(engine: Engine) -> sessionmaker[Any]:
    """Return a session factory whose sessions keep loaded values after commit."""
    return sessionmaker(engine, class_=_Session, expire_on_commit=False)


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")
