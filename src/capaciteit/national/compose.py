"""One simulation for a group of regions that share pools.

Each region's scenario is compiled on its own (:func:`~capaciteit.simulation.spec.compile_spec`);
the group's :class:`~capaciteit.simulation.spec.SimSpec` puts them side by side. A region's
own forms are named ``region/form`` (``utrecht/pleegzorg``); a form the region buys in a
pool becomes the pool (``jzplus-midden``): its referrals arrive there with the region as
their home, its doorstroom from the region's forms goes there, and the pool's doorstroom
follows each young person's own region's routing back to that region's forms. The pool
has the beds, tariffs and occupants of ``pool_beds``; its waiting rules and stays are the
form's (the same in every member region, checked on reading).

Regions that share nothing form a group of one and run exactly as they would alone, with
their forms renamed.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from capaciteit._pandas import as_float
from capaciteit.domain.model import SINKS, VERBLIJF
from capaciteit.national.checks import SEPARATOR
from capaciteit.national.model import NationalModel
from capaciteit.simulation.spec import SimSpec, compile_spec


def qualified(region: str, form: str) -> str:
    """Return the id of ``region``'s own ``form`` in a group's simulation."""
    return f"{region}{SEPARATOR}{form}"


def split(form_id: str) -> tuple[str, str]:
    """``(region, form)`` of a group's form id; ``("", pool)`` for a pool."""
    region, _, form = form_id.rpartition(SEPARATOR)
    return region, form


@dataclass(frozen=True)
class Group:
    """Regions simulated together, the pools they share, and the simulation's spec."""

    index: int
    regions: tuple[str, ...]
    pools: tuple[str, ...]
    spec: SimSpec

    @property
    def key(self) -> int:
        """A number for the group's random streams that does not depend on its position.

        Derived from its first region's id, so that adding or moving another region in
        regions.csv leaves this group's random numbers as they were (common random numbers
        between variants of a national model).
        """
        return zlib.crc32(self.regions[0].encode("utf-8"))


def groups(model: NationalModel) -> list[Group]:
    """Every group of the national model, with its composed spec."""
    compiled = {r: compile_spec(model.scenarios[r]) for r in model.region_ids}
    out = []
    for i, regions in enumerate(model.groups()):
        pools = tuple(
            str(p)
            for p in model.pools.index
            if any((p, r) in model.pool_regions.index for r in regions)
        )
        out.append(Group(i, tuple(regions), pools, compose(model, regions, compiled)))
    return out


def compose(model: NationalModel, regions: list[str], compiled: dict[str, SimSpec]) -> SimSpec:
    """Compose the spec of ``regions`` (all members of their pools), pools shared."""
    home = {r: i for i, r in enumerate(regions)}
    parts = {r: _Region(r, home[r], compiled[r], model.pooled_forms(r)) for r in regions}
    pools = [
        str(p) for p in model.pools.index if any(p in parts[r].pooled.values() for r in regions)
    ]
    first = {p: _first_member(model, str(p), regions) for p in pools}
    base = compiled[regions[0]]

    care_forms = pd.concat([parts[r].own(parts[r].spec.care_forms) for r in regions])
    care_forms["age_out_to"] = [
        parts[split(str(f))[0]].rename(str(t)) for f, t in care_forms["age_out_to"].items()
    ]
    pool_rows = []
    for p in pools:
        region, form = first[p]
        row = compiled[region].care_forms.loc[[form]].copy()
        row.index = pd.Index([str(p)], name=row.index.name)
        row["name"] = str(model.pools.at[p, "name"])
        pool_rows.append(row)
    care_forms = pd.concat([care_forms, *pool_rows])
    if "kind" in care_forms.columns:
        care_forms["kind"] = care_forms["kind"].fillna(VERBLIJF)

    def with_pools(field: str) -> pd.DataFrame:
        """Return the own rows of a form-keyed table, and each pool's from its first member."""
        rows = [parts[r].own(getattr(compiled[r], field)) for r in regions]
        for p in pools:
            region, form = first[p]
            row = getattr(compiled[region], field).loc[[form]].copy()
            row.index = pd.Index([str(p)], name=row.index.name)
            rows.append(row)
        return pd.concat(rows)

    los, los_factor = with_pools("los"), with_pools("los_factor")
    routing, shared = _routing(parts, regions)
    capacity, occupied, costs = _beds(model, parts, regions, pools)
    ages = [parts[r].own_rows(parts[r].spec.age_bands) for r in regions]
    for p in pools:
        region, form = first[p]
        bands = compiled[region].age_bands
        bands = bands[bands["care_form"] == form].assign(care_form=str(p))
        ages.append(bands)
    observed = {}
    for r in regions:
        for form, values in parts[r].spec.los_observed.items():
            if form not in parts[r].pooled:
                observed[qualified(r, form)] = values
    for p in pools:
        region, form = first[p]
        if form in compiled[region].los_observed:
            observed[str(p)] = compiled[region].los_observed[form]

    form_home = pd.Series(
        [home[split(str(f))[0]] if split(str(f))[0] else -1 for f in care_forms.index],
        index=care_forms.index,
        dtype="int64",
    )
    waiting = [parts[r].own_series(parts[r].spec.initial_waiting) for r in regions]
    given = [w for w in waiting if w is not None]
    return dataclasses.replace(
        base,
        name=" + ".join(str(model.regions.at[r, "name"]) for r in regions),
        care_forms=care_forms,
        arrival_segments=pd.concat([parts[r].segments() for r in regions], ignore_index=True),
        los=los,
        los_observed=observed,
        los_factor=los_factor,
        routing=routing,
        substitution=pd.concat([parts[r].substitution() for r in regions]),
        capacity=capacity,
        initial_occupied=occupied,
        age_bands=pd.concat(ages, ignore_index=True),
        cost_per_bed_day=costs,
        los_pair_factor=_concat_or_empty(
            [parts[r].own(parts[r].spec.los_pair_factor) for r in regions]
        ),
        trajectory_price=pd.concat(
            [parts[r].own_series(parts[r].spec.trajectory_price) for r in regions]
        ),
        initial_occupants=None,
        initial_waiting=pd.concat(given) if given else None,
        homes=tuple(regions),
        form_home=form_home,
        shared_routing=shared,
        travel_minutes=_travel(model, pools, home),
        initial_homes=_initial_homes(model, pools, home),
    )


def _first_member(model: NationalModel, pool: str, regions: list[str]) -> tuple[str, str]:
    """Return the member region whose form describes the pool's stays and waiting rules."""
    form = str(model.pools.at[pool, "care_form"])
    members = [r for r in regions if (pool, r) in model.pool_regions.index]
    return members[0], form


def _concat_or_empty(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames) if frames else pd.DataFrame()


class _Region:
    """Renaming one region's compiled tables into the group's ids."""

    def __init__(self, region: str, home: int, spec: SimSpec, pooled: dict[str, str]) -> None:
        self.region = region
        self.home = home
        self.spec = spec
        self.pooled = pooled

    def rename(self, target: str) -> str:
        """Return the group id of a form (or a sink) of this region."""
        if target in SINKS:
            return target
        return self.pooled.get(target) or qualified(self.region, target)

    def own(self, table: pd.DataFrame) -> pd.DataFrame:
        """Rows of the region's own forms (level 0 of the index), renamed."""
        if table.empty:
            return table
        keep = ~table.index.get_level_values(0).isin(list(self.pooled))
        out = table[keep].copy()
        out.index = _renamed_index(out.index, 0, self.rename)
        return out

    def own_rows(self, table: pd.DataFrame) -> pd.DataFrame:
        """Rows of a table with a ``care_form`` column, of the region's own forms."""
        out = table[~table["care_form"].isin(list(self.pooled))].copy()
        out["care_form"] = [self.rename(str(f)) for f in out["care_form"]]
        return out

    def own_series(self, series: pd.Series | None) -> pd.Series | None:
        """Return a series keyed by form (level 0), of the region's own forms, renamed."""
        if series is None:
            return None
        if series.empty:
            return series
        keep = ~series.index.get_level_values(0).isin(list(self.pooled))
        out = series[keep].copy()
        out.index = _renamed_index(out.index, 0, self.rename)
        return out

    def segments(self) -> pd.DataFrame:
        """Return the referrals; those to a pooled form arrive at the pool from here."""
        segments = self.spec.arrival_segments.copy()
        pooled = segments["care_form"].isin(list(self.pooled))
        segments["home"] = [self.home if p else -1 for p in pooled]
        segments["care_form"] = [self.rename(str(f)) for f in segments["care_form"]]
        return segments

    def substitution(self) -> pd.Series:
        """Substitution levers (year, from, to) with the group's ids."""
        table = self.spec.substitution
        if table.empty:
            return table
        out = table.copy()
        out.index = _renamed_index(_renamed_index(out.index, 1, self.rename), 2, self.rename)
        return out


def _renamed_index(index: pd.Index, level: int, rename: Callable[[str], str]) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels(
            [rename(str(v)) for v in index.levels[level]], level=level, verify_integrity=False
        )
    return pd.Index([rename(str(v)) for v in index], name=index.name)


def _routing(parts: dict[str, _Region], regions: list[str]) -> tuple[pd.Series, pd.Series]:
    """Doorstroom of the regions' own forms; and out of each pool, per home region."""
    own, shared = [], []
    for r in regions:
        part = parts[r]
        routing = part.spec.routing
        sources = routing.index.get_level_values(0)
        mine = routing[~sources.isin(list(part.pooled))]
        renamed = pd.Series(
            mine.to_numpy(),
            index=pd.MultiIndex.from_tuples(
                [(part.rename(str(f)), part.rename(str(t))) for f, t in mine.index],
                names=routing.index.names,
            ),
        )
        own.append(renamed)
        for form, pool in part.pooled.items():
            out_of = routing.loc[form]
            shared.append(
                pd.Series(
                    out_of.to_numpy(),
                    index=pd.MultiIndex.from_tuples(
                        [(pool, part.home, part.rename(str(t))) for t in out_of.index],
                        names=["from_care_form", "home", "to"],
                    ),
                )
            )
    routing = pd.concat(own)
    routing.name = "share"
    return routing, (pd.concat(shared) if shared else pd.Series(dtype=float))


def _beds(
    model: NationalModel, parts: dict[str, _Region], regions: list[str], pools: list[str]
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Beds per year, occupants and tariffs of the regions' own forms and of the pools."""
    capacity = [parts[r].own(parts[r].spec.capacity) for r in regions]
    occupied = [parts[r].own_series(parts[r].spec.initial_occupied) for r in regions]
    costs = [parts[r].own_series(parts[r].spec.cost_per_bed_day) for r in regions]
    for p in pools:
        beds = model.pool_beds.loc[p]
        index = pd.MultiIndex.from_tuples(
            [(str(p), str(v)) for v in beds.index], names=["care_form", "provider"]
        )
        plan = model.pool_capacity.loc[p]
        capacity.append(
            pd.DataFrame(plan.to_numpy(dtype="int64"), index=index, columns=plan.columns)
        )
        occupied.append(pd.Series(beds["occupied"].to_numpy(dtype="int64"), index=index))
        costs.append(pd.Series(beds["cost_per_bed_day_eur"].to_numpy(dtype="float64"), index=index))
    out = pd.concat(capacity)
    out.index.names = ["care_form", "provider"]
    occ = pd.concat([o for o in occupied if o is not None]).astype("int64")
    occ.index.names = ["care_form", "provider"]
    cost = pd.concat([c for c in costs if c is not None]).astype("float64")
    cost.index.names = ["care_form", "provider"]
    cost.name = "cost_per_bed_day_eur"
    return out, occ, cost


def _travel(model: NationalModel, pools: list[str], home: dict[str, int]) -> pd.Series:
    """Minutes per (pool, provider, home) for the group's pools that have travel times."""
    if model.travel.empty:
        return pd.Series(dtype=float)
    rows = []
    for p in pools:
        for provider in model.pool_beds.loc[p].index:
            for region, h in home.items():
                key = (region, provider)
                if (p, region) in model.pool_regions.index and key in model.travel.index:
                    rows.append((p, str(provider), h, as_float(model.travel.at[key, "minutes"])))
    if not rows:
        return pd.Series(dtype=float)
    frame = pd.DataFrame(rows, columns=["care_form", "provider", "home", "minutes"])
    return frame.set_index(["care_form", "provider", "home"])["minutes"]


def _initial_homes(model: NationalModel, pools: list[str], home: dict[str, int]) -> pd.Series:
    """Young people per (pool, home) in the pool on the 0-meting."""
    rows = []
    for p in pools:
        members = model.pool_regions.loc[p]
        for region, count in members["occupied"].fillna(0).items():
            if int(count):
                rows.append((str(p), home[str(region)], int(count)))
    if not rows:
        return pd.Series(dtype="int64")
    frame = pd.DataFrame(rows, columns=["care_form", "home", "count"])
    return frame.set_index(["care_form", "home"])["count"]
