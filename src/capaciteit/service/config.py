"""Service settings from the environment (``CAPACITEIT_*``), via pydantic-settings.

The database is an embedded SQLite file by default (no set-up); PostgreSQL through
``CAPACITEIT_DATABASE_URL=postgresql://user@host:5432/db``. There is no default secret:
bearer tokens are created with ``capaciteit token create --role ROLE`` and stored hashed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from capaciteit.errors import InvalidInputError, Problem
from capaciteit.io.pydantic_nl import ENVIRONMENT, env_problem

WHAT = "De configuratie van de service (CAPACITEIT_*)"
"""``InvalidInputError.what`` of refused service settings."""


class ServiceSettings(BaseSettings):
    """Settings of the HTTP service and its job workers."""

    model_config = SettingsConfigDict(env_prefix="CAPACITEIT_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///capaciteit.db", description="SQLAlchemy URL (SQLite or PostgreSQL)"
    )
    mode: Literal["development", "production"] = Field(
        default="development",
        description="production needs every deployment choice set explicitly (the database)",
    )
    job_workers: int = Field(default=1, ge=0, le=16, description="job worker processes")
    heartbeat_s: float = Field(default=2.0, gt=0, description="job heartbeat interval")
    stale_after_s: float = Field(
        default=10.0, gt=0, description="a running job without heartbeat this long is rerun"
    )
    max_attempts: int = Field(default=3, ge=1, description="runs of a job before it fails")
    max_request_bytes: int = Field(
        default=20_000_000, ge=1000, description="largest request body accepted"
    )

    @property
    def sqlalchemy_url(self) -> str:
        """Return the URL with the psycopg 3 driver for PostgreSQL."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    def sqlite_path(self) -> Path | None:
        """Return the database file of a SQLite URL (None for other databases)."""
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None


def service_settings(**overrides: object) -> ServiceSettings:
    """Read the settings; a bad value is refused with what to fix."""
    try:
        settings = ServiceSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [env_problem(err) for err in exc.errors()]
        raise InvalidInputError(WHAT, problems) from None
    if settings.mode == "production" and "database_url" not in settings.model_fields_set:
        raise InvalidInputError(
            WHAT,
            [
                Problem(
                    ENVIRONMENT,
                    "CAPACITEIT_MODE=production zonder CAPACITEIT_DATABASE_URL: in productie is "
                    "er geen standaarddatabase.",
                    "Zet CAPACITEIT_DATABASE_URL (bijvoorbeeld "
                    "postgresql://user@host:5432/capaciteit).",
                )
            ],
        )
    return settings
