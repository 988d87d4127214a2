"""Scenario files: which model, which years, which policy levers, how many replications.

A scenario is read from ``simulations/*.yaml`` (see :class:`ScenarioFile` for the keys) and
resolved against its region model into year-by-year tables keyed by ids
(:class:`Scenario`). Levers are step functions: a value given for a year holds from that
year on until the next year given for the same item.

``instroom_change_pct``
    per care form and year, the change of new referrals relative to the model's instroom of
    that year (``-10`` = 10% fewer).
``los_change_pct``
    per care form and year, the change of the mean length of stay of stays starting then.
``substitution``
    a share of the referrals to one form that is sent to another instead (e.g. 20% of the
    referrals to ``residentieel`` go to ``pleegzorg``), from that year on.
``bed_changes``
    beds added (positive) or removed (negative) at a provider for a care form on 1 January
    of a year; changes add up over the years.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from capaciteit.domain.model import RegionModel


class Horizon(BaseModel):
    """The years the scenario reports on (both inclusive)."""

    model_config = ConfigDict(extra="forbid")
    start_year: int = Field(ge=1900, le=2200)
    end_year: int = Field(ge=1900, le=2200)

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if self.end_year < self.start_year:
            raise ValueError("end_year must not be before start_year")
        if self.end_year - self.start_year > 50:
            raise ValueError("a horizon of more than 50 years is not supported")
        return self


class Substitution(BaseModel):
    """Send ``share`` of the referrals to ``from`` to ``to`` instead, from ``year`` on."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    year: int
    from_care_form: str = Field(alias="from")
    to: str
    share: float = Field(ge=0, le=1)


class BedChange(BaseModel):
    """Add (or with a negative number remove) beds at a provider from 1 January of ``year``."""

    model_config = ConfigDict(extra="forbid")
    year: int
    provider: str
    care_form: str
    change_beds: int


class Levers(BaseModel):
    """Policy levers per year; see the module docstring for their meaning."""

    model_config = ConfigDict(extra="forbid")
    instroom_change_pct: dict[str, dict[int, float]] = Field(default_factory=dict)
    los_change_pct: dict[str, dict[int, float]] = Field(default_factory=dict)
    substitution: list[Substitution] = Field(default_factory=list)
    bed_changes: list[BedChange] = Field(default_factory=list)


class ScenarioFile(BaseModel):
    """Schema of a scenario file in ``simulations/``."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    model: str = Field(min_length=1, description="model directory, relative to this file")
    horizon: Horizon
    replications: int = Field(default=20, ge=1, le=10_000)
    seed: int = Field(default=0, ge=0)
    warm_up_days: float = Field(default=365.0, ge=0, le=365 * 50)
    initial_state: Literal["occupied", "empty"] | None = None
    levers: Levers = Field(default_factory=Levers)


@dataclass(frozen=True)
class Scenario:
    """A scenario resolved against its model into per-year tables keyed by ids.

    Attributes
    ----------
    instroom
        Referrals per year after ``instroom_change_pct``: care_form x year.
    los_factor
        Multiplier of the mean length of stay for stays starting in a year: care_form x year.
    substitution
        ``share`` indexed by (year, from_care_form, to).
    capacity
        Beds per (care_form, provider) x year after bed changes.
    """

    name: str
    description: str
    path: Path | None
    model: RegionModel
    start_year: int
    end_year: int
    replications: int
    seed: int
    warm_up_days: float
    initial_state: Literal["occupied", "empty"]
    instroom: pd.DataFrame
    los_factor: pd.DataFrame
    substitution: pd.DataFrame
    capacity: pd.DataFrame

    @property
    def years(self) -> list[int]:
        """The horizon's years."""
        return list(range(self.start_year, self.end_year + 1))
