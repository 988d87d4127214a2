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
``provider_los_change_pct``
    per provider, care form and year, the change of that provider's mean length of stay
    (on top of ``los_change_pct``): a shorter trajectduur at one provider.
``bed_changes``
    beds added (positive) or removed (negative) at a provider for a care form on 1 January
    of a year; changes add up over the years. Ambulant and housing places change the same
    way.

A substitution to an ambulant form (kind ``ambulant``) is only as real as the ambulant
places behind it: a referral sent there that finds every place taken goes to the form it
was referred to after all (see :mod:`capaciteit.domain.model`).

``los_targets`` (top level) are ligduur targets: the mean length of stay of a care form, or
of one provider's part of it, at most ``max_mean_days`` from ``year`` on. They are judged
in simulations and minimal beds, and in afbouw plans they steer beds towards providers
with shorter stays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from capaciteit._pandas import as_float
from capaciteit.domain.model import RegionModel


class Horizon(BaseModel):
    """The years the scenario reports on (both inclusive)."""

    model_config = ConfigDict(extra="forbid")
    start_year: int = Field(ge=1900, le=2200)
    end_year: int = Field(ge=1900, le=2200)

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if self.end_year < self.start_year:
            raise ValueError("end_year mag niet vóór start_year liggen")
        if self.end_year - self.start_year > 50:
            raise ValueError("een horizon van meer dan 50 jaar kan niet")
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


class ProviderLosChange(BaseModel):
    """Change one provider's mean stay of a care form by ``change_pct`` from ``year`` on."""

    model_config = ConfigDict(extra="forbid")
    year: int
    provider: str
    care_form: str
    change_pct: float = Field(ge=-99, le=1000, allow_inf_nan=False)


class Levers(BaseModel):
    """Policy levers per year; see the module docstring for their meaning."""

    model_config = ConfigDict(extra="forbid")
    instroom_change_pct: dict[str, dict[int, float]] = Field(default_factory=dict)
    los_change_pct: dict[str, dict[int, float]] = Field(default_factory=dict)
    provider_los_change_pct: list[ProviderLosChange] = Field(default_factory=list)
    substitution: list[Substitution] = Field(default_factory=list)
    bed_changes: list[BedChange] = Field(default_factory=list)


class LosTargetIn(BaseModel):
    """Ligduur target: mean stay of ``care_form`` (at ``provider``) at most this, from ``year``."""

    model_config = ConfigDict(extra="forbid")
    care_form: str
    provider: str | None = None
    year: int
    max_mean_days: float = Field(gt=0, le=36_500, allow_inf_nan=False)
    label: str = ""


class ServiceLevelIn(BaseModel):
    """Service levels of one care form; every given target must hold in every year.

    ``placed_within_days`` with ``placed_share_min``: at least that share of requests gets a
    bed within that many days. ``refused_share_max``: at most that share is placed outside
    the region. ``stays_over_max_share_max``: at most that share of stays lasts longer than
    the form's ``max_stay_days``. ``max_occupancy``: mean occupied beds / beds at most this.
    Fields override the defaults one by one; that the placement pair is complete is checked
    after merging (:func:`capaciteit.io.scenario_files.resolve_scenario`).
    """

    model_config = ConfigDict(extra="forbid")
    placed_within_days: float | None = Field(default=None, gt=0, le=3650)
    placed_share_min: float | None = Field(default=None, gt=0, lt=1)
    refused_share_max: float | None = Field(default=None, gt=0, lt=1)
    stays_over_max_share_max: float | None = Field(default=None, gt=0, lt=1)
    max_occupancy: float | None = Field(default=None, gt=0, le=1)


DEFAULT_SERVICE_LEVELS: dict[str, dict[str, float]] = {
    "crisis": {
        "placed_within_days": 1,
        "placed_share_min": 0.95,
        "stays_over_max_share_max": 0.10,
    },
    "pleegzorg": {"placed_within_days": 28, "placed_share_min": 0.80},
    "gezinshuis": {"placed_within_days": 28, "placed_share_min": 0.80},
    "residentieel": {"placed_within_days": 14, "placed_share_min": 0.80},
    "jeugdzorgplus": {"refused_share_max": 0.05},
}
"""Defaults a planner would accept; other care forms default to 80% placed in 28 days."""
FALLBACK_SERVICE_LEVEL: dict[str, float] = {"placed_within_days": 28, "placed_share_min": 0.80}
KIND_SERVICE_LEVELS: dict[str, dict[str, float]] = {
    "woonplek": {"placed_within_days": 90, "placed_share_min": 0.80},
}
"""Defaults by kind: a young adult should have a housing place within three months."""
SERVICE_LEVEL_FIELDS = tuple(ServiceLevelIn.model_fields)


class OptimisationIn(BaseModel):
    """Settings of the minimal-beds search (all optional)."""

    model_config = ConfigDict(extra="forbid")
    replications: int | None = Field(
        default=None, ge=2, le=1000, description="replications per verification run"
    )
    max_iterations: int = Field(default=8, ge=1, le=50)
    time_limit_s: float = Field(default=20.0, gt=0, le=3600)
    budget_eur_per_year: float | None = Field(default=None, gt=0, le=1e15)


class TargetIn(BaseModel):
    """Beds of a group of care forms relative to the 0-meting, from ``year`` on."""

    model_config = ConfigDict(extra="forbid")
    care_forms: list[str] = Field(min_length=1)
    year: int
    max_share_of_0_meting: float | None = Field(default=None, ge=0)
    min_share_of_0_meting: float | None = Field(default=None, ge=0)
    label: str = ""

    @model_validator(mode="after")
    def _one_bound(self) -> TargetIn:
        if (self.max_share_of_0_meting is None) == (self.min_share_of_0_meting is None):
            raise ValueError("geef precies één van max_share_of_0_meting en min_share_of_0_meting")
        return self


DEFAULT_TARGETS: list[dict[str, object]] = [
    {
        "care_forms": ["residentieel"],
        "year": 2025,
        "max_share_of_0_meting": 0.70,
        "label": "30% minder residentieel in 2025",
    },
    {
        "care_forms": ["pleegzorg", "gezinshuis"],
        "year": 2025,
        "min_share_of_0_meting": 1.30,
        "label": "30% meer pleegzorg + gezinshuis in 2025",
    },
    {
        "care_forms": ["jeugdzorgplus"],
        "year": 2030,
        "max_share_of_0_meting": 0.0,
        "label": "JeugdzorgPlus naar nul in 2030",
    },
]
"""The regional targets; a target on forms a model does not have is left out."""


class PairIn(BaseModel):
    """A provider and care form."""

    model_config = ConfigDict(extra="forbid")
    provider: str
    care_form: str


class PinIn(PairIn):
    """An agreement: the provider has exactly ``beds`` beds of the form in ``year``."""

    year: int
    beds: int = Field(ge=0)


class MaxChangeIn(BaseModel):
    """Per provider and form, a year's change is at most max(beds, share x 0-meting)."""

    model_config = ConfigDict(extra="forbid")
    beds: int = Field(default=10, ge=0)
    share: float = Field(default=0.25, ge=0)


class WeightsIn(BaseModel):
    """Weights of the afbouw objective, in euros (per bed, or per bed-year for costs)."""

    model_config = ConfigDict(extra="forbid")
    opening_eur_per_bed: float = Field(default=10_000, ge=0)
    closing_eur_per_bed: float = Field(default=10_000, ge=0)
    fairness_eur_per_bed: float = Field(
        default=25_000, ge=0, description="per bed of deviation from proportional afbouw"
    )
    stability_eur_per_bed: float = Field(default=2_000, ge=0, description="per bed changed")


DEFAULT_REFERENCE_WEIGHT_EUR_PER_BED = 500_000.0
"""Per bed of deviation from the agreed plan, per year: above a year of the dearest bed in
the example region (JeugdzorgPlus, 650 a day = 237.250 a year), so cost alone does not move
an agreed bed; far below the target penalty, so needs and targets still come first."""
MAX_REFERENCE_WEIGHT_EUR_PER_BED = 1_000_000.0
"""Above this the agreement could outweigh a target over a 50-year horizon."""


class ReferenceIn(BaseModel):
    """Re-plan close to an agreed plan (a plan.csv of an earlier afbouw run).

    ``file``: the plan, relative to the scenario file; ``weight_eur_per_bed``: euros per
    bed by which a cell of a later year deviates from it; ``max_change_beds``: at most
    this many beds from the agreed plan per cell (a hard rule), or no limit.
    """

    model_config = ConfigDict(extra="forbid")
    file: str = Field(min_length=1, description="plan.csv of the agreed plan")
    weight_eur_per_bed: float = Field(
        default=DEFAULT_REFERENCE_WEIGHT_EUR_PER_BED,
        ge=0,
        le=MAX_REFERENCE_WEIGHT_EUR_PER_BED,
        allow_inf_nan=False,
        description="per bed of deviation from the agreed plan, per cell",
    )
    max_change_beds: int | None = Field(
        default=None, ge=0, le=100_000, strict=True, description="most beds from the agreement"
    )

    @field_validator("weight_eur_per_bed", mode="before")
    @classmethod
    def _no_bool(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("moet een bedrag in euro's zijn, geen true of false")
        return value


class BudgetIn(BaseModel):
    """The budget path of an afbouw plan: what beds and ambulant places may cost per year.

    ``neutral``: every year at most what the 0-meting's beds and places cost (the money of
    closed beds moves to ambulant places, none is added). ``eur_per_year``: a ceiling per
    year, holding from that year on until the next year given. Both may be given; the
    lower ceiling holds.
    """

    model_config = ConfigDict(extra="forbid")
    neutral: bool = False
    eur_per_year: dict[int, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _something(self) -> BudgetIn:
        if not self.neutral and not self.eur_per_year:
            raise ValueError("geef neutral: true of bedragen per jaar (eur_per_year)")
        for year, amount in self.eur_per_year.items():
            if not 0 < amount <= 1e13 or math.isnan(amount):
                raise ValueError(f"het budget voor {year} moet tussen 0 en 10^13 euro liggen")
        return self


class RatioTargetIn(BaseModel):
    """Ambulant places per verblijf bed at least ``min_ambulant_per_verblijf`` from ``year``."""

    model_config = ConfigDict(extra="forbid")
    year: int
    min_ambulant_per_verblijf: float = Field(gt=0, le=100, allow_inf_nan=False)
    label: str = ""


class AfbouwIn(BaseModel):
    """Settings of the afbouw plan (all optional)."""

    model_config = ConfigDict(extra="forbid")
    targets: list[TargetIn] | None = None
    max_change_per_year: MaxChangeIn = Field(default_factory=MaxChangeIn)
    min_group_size: dict[str, int] = Field(default_factory=dict)
    recruitment_per_year: dict[str, int] = Field(default_factory=dict)
    pinned: list[PinIn] = Field(default_factory=list)
    allow_new: list[PairIn] = Field(default_factory=list)
    need: str = Field(
        default="minimal_beds",
        description="minimal_beds (verified step), none, or a CSV (care_form, year, beds)",
    )
    weights: WeightsIn = Field(default_factory=WeightsIn)
    mode: Literal["weighted", "lexicographic"] = "weighted"
    end_year: int | None = Field(
        default=None, ge=1900, le=2200, description="last plan year; default the horizon's"
    )
    time_limit_s: float = Field(default=30.0, gt=0, le=3600)
    reference: ReferenceIn | None = None
    budget: BudgetIn | None = None
    ratio_targets: list[RatioTargetIn] = Field(default_factory=list)


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
    warm_up_days: float | None = Field(
        default=None,
        ge=0,
        le=365 * 50,
        description="default 0 when starting from the 0-meting occupancy, else 365",
    )
    initial_state: Literal["occupied", "empty"] | None = None
    levers: Levers = Field(default_factory=Levers)
    service_levels: dict[str, ServiceLevelIn] = Field(default_factory=dict)
    optimisation: OptimisationIn = Field(default_factory=OptimisationIn)
    afbouw: AfbouwIn = Field(default_factory=AfbouwIn)
    los_targets: list[LosTargetIn] = Field(default_factory=list)


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
    service_levels
        Targets per care form (columns of :class:`ServiceLevelIn`; NaN = no target).
    optimisation
        Settings of the minimal-beds search.
    afbouw
        Settings of the afbouw plan (validated against the model's ids).
    los_pair_factor
        Multiplier of a provider's mean stay against its form's, per (care_form, provider)
        and year: the provider's own mean (``los_provider``) over the form's, times the
        ``provider_los_change_pct`` lever. Pairs not listed have 1.
    los_targets
        Ligduur targets (validated against the model's ids).
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
    service_levels: pd.DataFrame
    optimisation: OptimisationIn
    afbouw: AfbouwIn
    los_pair_factor: pd.DataFrame = field(default_factory=pd.DataFrame)
    los_targets: list[LosTargetIn] = field(default_factory=list)

    @property
    def years(self) -> list[int]:
        """The horizon's years."""
        return list(range(self.start_year, self.end_year + 1))

    def mean_los_days(self, care_form: str, provider: str | None, year: int) -> float:
        """Mean stay of stays starting in ``year`` (at ``provider``), levers applied."""
        year = min(max(year, self.start_year), self.end_year)
        mean = self.model.form_mean_los_days(care_form) * as_float(
            self.los_factor.at[care_form, year]
        )
        pairs = self.los_pair_factor
        if provider is not None and not pairs.empty and (care_form, provider) in pairs.index:
            mean *= as_float(pairs.at[(care_form, provider), year])
        return mean
