"""Hostile and heavy input: the service holds, and says what is wrong without leaking.

Each test here is a regression test of a failure an audit found (issue 12, F1-F8): it
failed before the fix. The database tests use real SQLite files and, where the machine's
server answers, PostgreSQL; the HTTP tests use the real app in a real server process.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from capaciteit.service.db import Job, JobFile, make_engine, migrate, now, session_factory


# --------------------------------------------------------------------------- F8: SQLite
def test_a_heartbeat_during_a_long_commit_does_not_deadlock(tmp_path: Path) -> None:
    """F8: a heartbeat's UPDATE, then a commit of result files, then the heartbeat's commit.

    With the process lock taken only around ``commit``, the result commit held that lock
    while waiting for SQLite's (held by the heartbeat's UPDATE), and the heartbeat waited
    for the process lock: both stuck until the busy timeout failed the job ("database is
    locked"). Now a writer takes the process lock before its first write.
    """
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    migrate(url)
    engine = make_engine(url, busy_timeout_s=5.0)
    sessions = session_factory(engine)
    with sessions() as session:
        job = Job(kind="simulate", params={}, status="running", claim="c", heartbeat_at=now())
        session.add(job)
        session.commit()
        job_id = job.id
    beat_wrote, finish_started = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    took: dict[str, float] = {}

    def heartbeat() -> None:
        started = time.perf_counter()
        try:
            with sessions() as session:
                session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=now()))
                beat_wrote.set()
                finish_started.wait(2.0)
                time.sleep(0.3)  # the result commit is under way
                session.commit()
        except BaseException as exc:
            errors.append(exc)
        took["heartbeat"] = time.perf_counter() - started

    def finish() -> None:
        beat_wrote.wait(2.0)
        started = time.perf_counter()
        try:
            with sessions() as session:
                for i in range(20):
                    session.add(
                        JobFile(job_id=job_id, name=f"f{i}", media_type="x", content=b"0" * 50_000)
                    )
                finish_started.set()
                session.commit()
        except BaseException as exc:
            errors.append(exc)
        took["finish"] = time.perf_counter() - started

    threads = [threading.Thread(target=heartbeat), threading.Thread(target=finish)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    engine.dispose()
    assert not errors, errors
    # the busy timeout is 5 s: a deadlock would end only there, with an error
    assert took["finish"] < 4.0 and took["heartbeat"] < 4.0, took
    with session_factory(make_engine(url))() as session:
        assert session.query(JobFile).filter(JobFile.job_id == job_id).count() == 20


def test_concurrent_writers_on_sqlite_all_commit(tmp_path: Path) -> None:
    """Eight threads writing heartbeats, progress and files at once: no 'database is locked'."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    migrate(url)
    engine = make_engine(url, busy_timeout_s=10.0)
    sessions = session_factory(engine)
    with sessions() as session:
        jobs = [Job(kind="simulate", params={}, status="running", claim="c") for _ in range(8)]
        session.add_all(jobs)
        session.commit()
        ids = [j.id for j in jobs]
    errors: list[BaseException] = []

    def work(job_id: int) -> None:
        try:
            for i in range(25):
                with sessions() as session:
                    session.execute(update(Job).where(Job.id == job_id).values(progress=i / 25))
                    session.add(JobFile(job_id=job_id, name=f"{i}", media_type="x", content=b"1"))
                    session.flush()
                    session.query(JobFile).filter(JobFile.job_id == job_id).count()
                    session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with sessions() as session:
        assert session.query(JobFile).count() == 8 * 25
    engine.dispose()


def test_sql_errors_never_show_their_parameters(tmp_path: Path) -> None:
    """F8: the failed commit printed the placed child ids (bound parameters) into the log."""
    from sqlalchemy.exc import SQLAlchemyError

    from capaciteit.service.db import AuditEntry

    url = f"sqlite:///{tmp_path / 'audit.db'}"
    migrate(url)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        session.add(AuditEntry(token_id=999_999, action="x", subject_ids=["K12345"], detail={}))
        with pytest.raises(SQLAlchemyError) as caught:
            session.commit()  # no token 999999: a foreign key error
    assert "K12345" not in str(caught.value)
    engine.dispose()
