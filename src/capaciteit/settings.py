"""Settings from the environment (``CAPACITEIT_*``), via pydantic-settings."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from capaciteit.errors import InvalidInputError, Problem


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
        problems = [
            Problem(
                "environment",
                f"CAPACITEIT_{'_'.join(str(x) for x in err['loc']).upper()}: {err['msg']}.",
                "Correct or unset the variable.",
            )
            for err in exc.errors()
        ]
        raise InvalidInputError("The CAPACITEIT_* settings", problems) from None
