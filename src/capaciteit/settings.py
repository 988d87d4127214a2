"""Settings from the environment (``CAPACITEIT_*``), via pydantic-settings."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from capaciteit.errors import InvalidInputError
from capaciteit.io.pydantic_nl import env_problem


class Settings(BaseSettings):
    """Process-wide settings; every field can be set as ``CAPACITEIT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CAPACITEIT_", extra="ignore")

    executor: str = Field(
        default="processes",
        description="serial, processes, or dask://HOST:PORT for a Dask scheduler",
    )
    workers: int | None = Field(
        default=None, ge=1, description="local worker processes (default: number of CPUs)"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings, read once; a bad value is refused with what to fix."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = [env_problem(err) for err in exc.errors()]
        raise InvalidInputError("De configuratie (CAPACITEIT_*)", problems) from None
