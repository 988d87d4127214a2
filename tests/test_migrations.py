"""Database migrations: the tables the code uses are the tables the migrations make, and a
database of the previous release upgrades without losing anything, on SQLite and
PostgreSQL (when ``CAPACITEIT_TEST_DATABASE_URL`` is set).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.test_service import pg_url  # noqa: F401  (the PostgreSQL database fixture)

PREVIOUS = "0002"
"""The head of the previous release."""


def _alembic(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    from capaciteit.service.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _previous_release_with_data(url: str) -> dict[str, int]:
    """A database as the previous release left it, with a token, a region, a job."""
    from alembic import command

    command.upgrade(_alembic(url), PREVIOUS)
    engine = sa.create_engine(url)
    stamp = dt.datetime(2026, 11, 1, 12, 0)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO tokens (id, name, role, token_hash, created_at, revoked) "
                    "VALUES (7, 'oud', 'planner', :h, :t, false)"
                ),
                {"h": "a" * 64, "t": stamp},
            )
            conn.execute(
                sa.text("INSERT INTO token_organisations (token_id, organisation_id) VALUES (7, 1)")
            )
            conn.execute(
                sa.text(
                    "INSERT INTO regions (id, organisation_id, name, archive, summary, "
                    "created_at) VALUES (11, 1, 'Oude regio', :a, '{}', :t)"
                ),
                {"a": b"zip", "t": stamp},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO jobs (id, organisation_id, kind, params, status, progress, "
                    "message, attempts, cancel_requested, created_at) VALUES (13, 1, 'afbouw', "
                    "'{}', 'done', 1.0, 'klaar', 1, false, :t)"
                ),
                {"t": stamp},
            )
    finally:
        engine.dispose()
    return {"tokens": 1, "regions": 1, "jobs": 1}


def _upgraded_keeps_everything(url: str) -> None:
    from capaciteit.service.db import Base, migrate

    counts = _previous_release_with_data(url)
    migrate(url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            for table, count in counts.items():
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == count
            name = conn.execute(sa.text("SELECT name FROM regions WHERE id = 11")).scalar()
            assert name == "Oude regio"
            assert conn.execute(sa.text("SELECT count(*) FROM plan_versions")).scalar() == 0
            from alembic.autogenerate import compare_metadata
            from alembic.migration import MigrationContext

            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert not differences, differences
    finally:
        engine.dispose()


def test_sqlite_upgrades_from_the_previous_release(tmp_path: Path) -> None:
    _upgraded_keeps_everything(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
def test_postgres_upgrades_from_the_previous_release(pg_url: str) -> None:  # noqa: F811
    from capaciteit.service.config import ServiceSettings

    _upgraded_keeps_everything(ServiceSettings(database_url=pg_url).sqlalchemy_url)
