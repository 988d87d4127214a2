"""The national (or landsdeel) model: region models and the pools they share.

A national model is a folder (``models/nederland/``) with ``national.yaml`` and tables:

*Regions* (``regions.csv``)
    One row per jeugdregio: the region model folder it uses, a ``scale`` (a region without
    its own data can use a reference model scaled to its youth population: referrals,
    beds, occupants and waiting lists are multiplied by it), its inhabitants (a cost key)
    and optionally a scenario file whose levers apply to the region.
*Pools* (``pools.csv``, ``pool_regions.csv``, ``pool_beds.csv``)
    A care form bought together by several regions: the providers' beds
    (``pool_beds``), the regions that use it with their young people in it on the
    0-meting (``pool_regions``), and the cost key that splits its costs: by ``use``
    (bed-days of each region's young people), by ``inhabitants``, or ``fixed`` shares.
    A region in a pool has no beds of that form of its own: its referrals and its
    doorstroom to the form go to the pool, where young people of all member regions
    wait on one list, and leave it back to the forms of their own region.
*Travel* (``travel.csv``)
    Minutes from each region to each provider of its pools. A young person gets the
    nearest provider with a free bed; without travel times, the provider with most free
    beds.
*Planned pool beds* (``pool_capacity.csv``, optional)
    Beds per pool, provider and year from that year on (an afbouw plan of the pool);
    without it the 0-meting's beds hold every year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from capaciteit.core.tables import Column, TableSpec
from capaciteit.domain.scenario import Horizon, Levers, Scenario

COST_KEYS = ("use", "inhabitants", "fixed")
"""How a pool's costs are split over its regions (the verdeelsleutel)."""

REGIONS = TableSpec(
    "regions",
    description="One row per region (jeugdregio) of the national model.",
    key=("region",),
    columns=(
        Column("region", "id", description="region id, e.g. holland-rijnland"),
        Column("name", "str", description="Dutch name shown in reports"),
        Column("model", "str", description="region model folder, relative to this folder"),
        Column(
            "scale",
            "float",
            required=False,
            default=1.0,
            min=0,
            min_exclusive=True,
            max=1000,
            description="multiplies the model's referrals, beds, occupants and waiting",
        ),
        Column("inhabitants", "int", min=0, description="inhabitants (cost key)"),
        Column("youth_0_17", "int", required=False, min=0, description="inhabitants aged 0-17"),
        Column("landsdeel", "str", required=False, default="", description="landsdeel"),
        Column(
            "scenario",
            "str",
            required=False,
            default="",
            description="scenario file whose levers apply to the region (else status quo)",
        ),
        Column("source", "str", required=False, default="", description="source of the figures"),
    ),
)

POOLS = TableSpec(
    "pools",
    description="Care forms bought together by several regions (bovenregionaal).",
    key=("pool",),
    columns=(
        Column("pool", "id", description="pool id"),
        Column("name", "str", description="Dutch name shown in reports"),
        Column("care_form", "id", description="the care form the regions share"),
        Column(
            "cost_key",
            "str",
            choices=COST_KEYS,
            description="use (bed-days), inhabitants or fixed (shares in pool_regions)",
        ),
    ),
)

POOL_REGIONS = TableSpec(
    "pool_regions",
    description="The regions that use a pool.",
    key=("pool", "region"),
    columns=(
        Column("pool", "id", description="pool id"),
        Column("region", "id", description="region id"),
        Column(
            "fixed_share",
            "float",
            required=False,
            min=0,
            max=1,
            description="cost key fixed: the region's share of the costs",
        ),
        Column(
            "occupied",
            "int",
            required=False,
            default=0,
            min=0,
            description="young people of the region in the pool on the 0-meting",
        ),
    ),
)

POOL_BEDS = TableSpec(
    "pool_beds",
    description="The beds of each pool per provider on the 0-meting.",
    key=("pool", "provider"),
    columns=(
        Column("pool", "id", description="pool id"),
        Column("provider", "id", description="provider (location) id"),
        Column("name", "str", required=False, default="", description="provider name"),
        Column("beds", "int", min=0, unit="beds", description="beds on the 0-meting"),
        Column("occupied", "int", min=0, unit="beds", description="occupied on the 0-meting"),
        Column("cost_per_bed_day_eur", "float", min=0, unit="EUR", description="tariff"),
        Column(
            "max_beds",
            "int",
            required=False,
            min=0,
            unit="beds",
            description="afbouw: the most small-scale places the provider can keep",
        ),
        Column(
            "min_beds_open",
            "int",
            required=False,
            default=0,
            min=0,
            unit="beds",
            description="afbouw: the fewest places of a provider that stays open",
        ),
    ),
)

TRAVEL = TableSpec(
    "travel",
    description="Travel time from each region to the providers of its pools.",
    key=("region", "provider"),
    required=False,
    columns=(
        Column("region", "id", description="region id"),
        Column("provider", "id", description="provider id (pool_beds)"),
        Column("minutes", "float", min=0, max=24 * 60, unit="minutes", description="by car"),
    ),
)

POOL_CAPACITY = TableSpec(
    "pool_capacity",
    description="Planned beds of a pool per provider from a year on (an afbouw plan).",
    key=("pool", "provider", "year"),
    required=False,
    columns=(
        Column("pool", "id", description="pool id"),
        Column("provider", "id", description="provider id (pool_beds)"),
        Column("year", "int", min=2000, max=2100, description="from this year on"),
        Column("beds", "int", min=0, unit="beds", description="beds from that year"),
    ),
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec for spec in (REGIONS, POOLS, POOL_REGIONS, POOL_BEDS, TRAVEL, POOL_CAPACITY)
}


def pooled_by_region(
    pools: Iterable[object],
    forms: Iterable[object],
    member_pools: Iterable[object],
    member_regions: Iterable[object],
) -> dict[str, dict[str, str]]:
    """Per region: the care forms it buys in a pool, and the pool.

    ``pools``/``forms``: each pool and its care form; ``member_pools``/``member_regions``:
    the rows of ``pool_regions``. Pools that are not declared are left out.
    """
    form_of = {str(p): str(f) for p, f in zip(pools, forms, strict=True)}
    out: dict[str, dict[str, str]] = {}
    for pool, region in zip(member_pools, member_regions, strict=True):
        if str(pool) in form_of:
            out.setdefault(str(region), {})[form_of[str(pool)]] = str(pool)
    return out


@dataclass(frozen=True)
class NationalModel:
    """A validated national model with each region's scenario resolved.

    Attributes
    ----------
    regions
        Indexed by ``region`` (file order): name, model, scale, inhabitants, ...
    scenarios
        Per region, its scenario resolved against its (scaled) model over the national
        horizon: its own beds, referrals, levers. Pooled forms keep their referrals and
        routing here; their beds are the pool's.
    pools
        Indexed by ``pool``: name, care_form, cost_key.
    pool_regions
        Indexed by ``(pool, region)``: fixed_share, occupied.
    pool_beds
        Indexed by ``(pool, provider)``: name, beds, occupied, cost_per_bed_day_eur,
        max_beds, min_beds_open.
    pool_capacity
        Beds per ``(pool, provider)`` and horizon year (the plan, else the 0-meting).
    travel
        ``minutes`` indexed by ``(region, provider)``; may be empty.
    notes
        What a reader of the results must know about the input (Dutch), e.g. a pool the
        planned beds do not name, which keeps its 0-meting.
    """

    name: str
    description: str
    synthetic: bool
    path: Path
    start_year: int
    end_year: int
    regions: pd.DataFrame
    scenarios: dict[str, Scenario]
    pools: pd.DataFrame
    pool_regions: pd.DataFrame
    pool_beds: pd.DataFrame
    pool_capacity: pd.DataFrame
    travel: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def years(self) -> list[int]:
        """The horizon's years."""
        return list(range(self.start_year, self.end_year + 1))

    @property
    def region_ids(self) -> list[str]:
        """Region ids in file order."""
        return [str(r) for r in self.regions.index]

    def pooled_forms(self, region: str) -> dict[str, str]:
        """Care form -> pool for the forms ``region`` buys in a pool."""
        pools = self.pool_regions.index.to_frame(index=False)
        forms = self.pools["care_form"]
        return pooled_by_region(forms.index, forms, pools["pool"], pools["region"]).get(region, {})

    def groups(self) -> list[list[str]]:
        """Regions linked by shared pools (directly or through others), in file order.

        Each group is simulated as one system; a region in no pool is a group of its own.
        """
        parent = {r: r for r in self.region_ids}

        def find(r: str) -> str:
            while parent[r] != r:
                parent[r] = parent[parent[r]]
                r = parent[r]
            return r

        for _, members in self.pool_regions.groupby(level="pool", sort=False):
            regions = [str(r) for r in members.index.get_level_values("region")]
            for other in regions[1:]:
                parent[find(other)] = find(regions[0])
        groups: dict[str, list[str]] = {}
        for r in self.region_ids:
            groups.setdefault(find(r), []).append(r)
        return list(groups.values())


@dataclass(frozen=True)
class NationalScenario:
    """A national scenario: the national model over its horizon, replications and seed."""

    name: str
    description: str
    path: Path | None
    model: NationalModel
    replications: int
    seed: int
    pool_afbouw: PoolAfbouwIn


class NationalFile(BaseModel):
    """Schema of ``national.yaml``."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1]
    name: str = Field(min_length=1)
    baseline_year: int = Field(ge=1900, le=2200)
    synthetic: bool = False
    description: str = ""


class PoolAfbouwIn(BaseModel):
    """Settings of the afbouw of the shared pools (``pool_afbouw`` in a national scenario)."""

    model_config = ConfigDict(extra="forbid")
    max_refused_share: float = Field(
        default=0.05, gt=0, lt=1, description="at most this share placed elsewhere"
    )
    ceiling_share_of_baseline: dict[int, float] = Field(
        default_factory=dict,
        description="the agreed path towards zero: at most this share of the pool's "
        "0-meting beds in a year, e.g. {2030: 0.15}",
    )
    max_change_beds: int = Field(default=4, ge=0, le=1000)
    target_occupancy: float = Field(default=0.85, gt=0, le=1)
    small_scale_from: int = Field(default=2025, ge=1900, le=2200)
    time_limit_s: float = Field(default=30.0, gt=0, le=3600)
    max_rounds: int = Field(
        default=3,
        ge=1,
        le=10,
        description="plan, simulate, and add beds where the simulation misses the norm: "
        "at most this many plans",
    )

    @field_validator("ceiling_share_of_baseline")
    @classmethod
    def _shares(cls, value: dict[int, float]) -> dict[int, float]:
        for year, share in value.items():
            if not 0 <= share <= 1:
                raise ValueError(f"het plafond van {year} is geen aandeel tussen 0 en 1")
        return value


class NationalScenarioFile(BaseModel):
    """Schema of a national scenario file in ``simulations/`` (``national:`` a folder)."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1]
    name: str = Field(min_length=1)
    description: str = ""
    national: str = Field(min_length=1, description="national model folder, relative")
    horizon: Horizon
    replications: int = Field(default=20, ge=1, le=2_000)
    seed: int = Field(default=0, ge=0)
    pool_plan: str | None = Field(
        default=None,
        description="planned pool beds (pool_capacity.csv of an afbouw), relative; "
        "replaces the model's pool_capacity",
    )
    pool_afbouw: PoolAfbouwIn = Field(default_factory=PoolAfbouwIn)
    region_levers: Levers = Field(
        default_factory=Levers,
        description="levers for every region without a scenario file of its own",
    )
