"""What one simulation run needs, compiled from a scenario: the :class:`SimSpec`.

The spec is the boundary between the domain (files, levers, validation) and the engine: it
holds plain numbers in tables keyed by ids, so that later steps (the minimal-beds search, the
afbouw verification) can change capacities with :meth:`SimSpec.with_capacity` and simulate
again without touching files. Time is measured in days from 1 January of the first horizon
year; the warm-up runs before that, at negative times, with the first year's parameters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit._pandas import as_float
from capaciteit.domain.model import SINKS
from capaciteit.domain.scenario import Scenario


@dataclass(frozen=True)
class SimSpec:
    """Inputs of the simulation, keyed by care form, provider and year.

    Attributes
    ----------
    care_forms
        The model's care form table (policy, max wait, priority, age rule, siblings, ...).
    year_start_day
        Day on which each year starts, for every horizon year and the year after the end.
    arrival_segments
        Piecewise-constant referral rates: ``care_form``, ``start_day``, ``end_day``,
        ``children_per_day`` (monthly pieces, seasonality included, levers applied).
    los
        ``distribution``, ``mean_days``, ``cv`` per care form.
    los_observed
        Observed stays per care form with an empirical distribution.
    los_factor
        Multiplier of the mean length of stay for stays starting in a year.
    trajectory_price
        Price per trajectory per ``(care_form, provider)`` where a form is priced that way
        (NaN otherwise): such a form costs the price per admission, whatever the levers
        do to the trajectory's length.
    los_pair_factor
        Multiplier of a provider's mean stay against its form's, per
        ``(care_form, provider)`` and year (its own ``los_provider`` mean and the
        ``provider_los_change_pct`` lever); pairs not listed have 1.
    routing
        Doorstroom shares indexed by ``(from_care_form, to)``.
    substitution
        Shares of referrals redirected, indexed by ``(year, from_care_form, to)``.
    capacity
        Beds per ``(care_form, provider)`` and year.
    initial_occupied
        Occupied beds per ``(care_form, provider)`` at the start of the run (may be empty).
    age_bands
        Age at entry per care form: ``care_form``, ``age_min_years``, ``age_max_years``,
        ``share``. Empty means no age rule.
    cost_per_bed_day
        Tariff per ``(care_form, provider)``.
    initial_occupants
        The young people in a bed at the start, one row each, when they are known (a
        backtest starts from the actual state): ``care_form``, ``provider``,
        ``elapsed_days`` (time spent in the current stay so far, >= 0) and ``age_years``
        (age now). The engine draws each one's whole stay from the form's family given
        that it lasted ``elapsed_days`` already. They win over :attr:`initial_occupied`,
        which is set to their count per pair. ``None``: occupants drawn from the stationary
        state, :attr:`initial_occupied` of them per pair.
    initial_waiting
        Children on the waiting list at the start per care form (index ``care_form``):
        they ask for the form at the start like referrals from home. ``None``: nobody.
    homes
        Regions sharing pools (a national run, :mod:`capaciteit.national`): their ids.
        Empty for one region, and then the next four fields are unused.
    form_home
        Per care form, the index in :attr:`homes` of the region it belongs to, or -1 for a
        form shared by several regions (a pool). Every young person has a home region:
        the region of the form they were referred to (``arrival_segments`` has a column
        ``home`` for referrals to a shared form).
    shared_routing
        Doorstroom out of a shared form per home region, indexed by
        ``(from_care_form, home, to)``: back to the forms of the young person's own region.
    travel_minutes
        Travel time per ``(care_form, provider, home)`` of a shared form: a young person
        gets the nearest provider with a free bed. Without it, the most free beds first.
    initial_homes
        Occupants of a shared form at the start per ``(care_form, home)``; they sum to the
        form's :attr:`initial_occupied`.
    """

    name: str
    care_forms: pd.DataFrame
    home_priority: int
    start_year: int
    end_year: int
    warm_up_days: float
    year_start_day: pd.Series
    arrival_segments: pd.DataFrame
    los: pd.DataFrame
    los_observed: dict[str, np.ndarray]
    los_factor: pd.DataFrame
    routing: pd.Series
    substitution: pd.Series
    capacity: pd.DataFrame
    initial_occupied: pd.Series
    age_bands: pd.DataFrame
    cost_per_bed_day: pd.Series
    los_pair_factor: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)
    trajectory_price: pd.Series = dataclasses.field(default_factory=lambda: pd.Series(dtype=float))
    initial_occupants: pd.DataFrame | None = None
    initial_waiting: pd.Series | None = None
    homes: tuple[str, ...] = ()
    form_home: pd.Series | None = None
    shared_routing: pd.Series = dataclasses.field(default_factory=lambda: pd.Series(dtype=float))
    travel_minutes: pd.Series = dataclasses.field(default_factory=lambda: pd.Series(dtype=float))
    initial_homes: pd.Series = dataclasses.field(default_factory=lambda: pd.Series(dtype="int64"))

    def __post_init__(self) -> None:
        # Wrong occupants or waiting lists are a programming error (the calibration checks
        # the user's records before): refused here, before any run.
        if self.initial_occupants is not None:
            occupants = _checked_occupants(self.initial_occupants, self.capacity.index)
            counts = occupants.groupby(["care_form", "provider"]).size()
            occupied = counts.reindex(self.capacity.index, fill_value=0).astype("int64")
            object.__setattr__(self, "initial_occupants", occupants)
            object.__setattr__(self, "initial_occupied", occupied)
        if self.initial_waiting is not None:
            waiting = self.initial_waiting
            unknown = waiting.index.difference(self.care_forms.index)
            if len(unknown):
                raise ValueError(f"initial_waiting: care forms not in the model {list(unknown)}")
            values = waiting.to_numpy(dtype="float64")
            if (values < 0).any() or (values != np.round(values)).any():
                raise ValueError("initial_waiting: counts must be whole numbers >= 0")
            object.__setattr__(self, "initial_waiting", waiting.astype("int64"))
        if self.homes:
            _check_homes(self)

    @property
    def years(self) -> list[int]:
        """The horizon's years."""
        return list(range(self.start_year, self.end_year + 1))

    @property
    def end_day(self) -> float:
        """The day the run ends (1 January after the last horizon year)."""
        return float(self.year_start_day.iloc[-1])

    @property
    def sinks(self) -> tuple[str, ...]:
        """Destinations outside the modelled beds."""
        return SINKS

    def with_capacity(self, capacity: pd.DataFrame) -> SimSpec:
        """Return a copy with other beds per ``(care_form, provider)`` and year.

        Pairs absent from ``capacity`` have no beds. Costs of new pairs must already be in
        :attr:`cost_per_bed_day`.
        """
        capacity = capacity.reindex(columns=self.years).fillna(0).astype("int64")
        if self.initial_occupants is not None:
            # Given occupants of a pair without beds stay (with 0 beds): the excess closes
            # as they leave, as above a bed cut. (Drawn occupants of such a pair are dropped.)
            gone = _pairs_outside(self.initial_occupants, capacity.index)
            if gone:
                index = pd.MultiIndex.from_tuples(gone, names=capacity.index.names)
                closed = pd.DataFrame(0, index=index, columns=capacity.columns, dtype="int64")
                capacity = pd.concat([capacity, closed])
        missing = capacity.index.difference(self.cost_per_bed_day.index)
        if len(missing):
            raise ValueError(f"no cost per bed-day for {list(missing)}")
        # Occupants above the new beds stay: the excess closes as they leave.
        occupied = self.initial_occupied.reindex(capacity.index, fill_value=0).astype("int64")
        return dataclasses.replace(self, capacity=capacity, initial_occupied=occupied)


def _checked_occupants(occupants: pd.DataFrame, pairs: pd.Index) -> pd.DataFrame:
    """Return ``occupants`` with plain columns, or raise a ValueError that says what is wrong."""
    columns = ["care_form", "provider", "elapsed_days", "age_years"]
    absent = [c for c in columns if c not in occupants.columns]
    if absent:
        raise ValueError(f"initial_occupants: columns {absent} are missing")
    out = pd.DataFrame(
        {
            "care_form": occupants["care_form"].astype(str).to_numpy(),
            "provider": occupants["provider"].astype(str).to_numpy(),
            "elapsed_days": occupants["elapsed_days"].to_numpy(dtype="float64"),
            "age_years": occupants["age_years"].to_numpy(dtype="float64"),
        }
    )
    elapsed, age = out["elapsed_days"].to_numpy(), out["age_years"].to_numpy()
    if not (np.isfinite(elapsed) & (elapsed >= 0)).all():
        raise ValueError("initial_occupants: elapsed_days must be finite and >= 0")
    if not np.isfinite(age).all():
        raise ValueError("initial_occupants: age_years must be finite")
    unknown = _pairs_outside(out, pairs)
    if unknown:
        raise ValueError(
            f"initial_occupants: (care_form, provider) pairs without a row in capacity {unknown}"
        )
    return out


def _check_homes(spec: SimSpec) -> None:
    """Raise a ValueError when the regions' shared forms are not described completely."""
    if (
        spec.form_home is None
        or spec.form_home.index.symmetric_difference(spec.care_forms.index).size
    ):
        raise ValueError("form_home: one home (or -1) per care form is needed")
    if spec.initial_occupants is not None:
        raise ValueError("initial_occupants: not supported for regions sharing pools")
    shared = [str(f) for f, h in spec.form_home.items() if h < 0]
    routed = {(str(key[0]), int(key[1])) for key in spec.shared_routing.index}
    missing = [(f, h) for f in shared for h in range(len(spec.homes)) if (f, h) not in routed]
    if missing:
        raise ValueError(f"shared_routing: no doorstroom for (form, home) {missing}")
    occupied = spec.initial_occupied.groupby(level=0).sum()
    given = (
        spec.initial_homes.groupby(level=0).sum()
        if len(spec.initial_homes)
        else pd.Series(dtype="int64")
    )
    for fid in shared:
        if int(given.get(fid, 0)) != int(occupied.get(fid, 0)):
            raise ValueError(
                f"initial_homes: {given.get(fid, 0)} occupants of {fid}, "
                f"beds hold {occupied.get(fid, 0)}"
            )


def _pairs_outside(occupants: pd.DataFrame, pairs: pd.Index) -> list[tuple[str, str]]:
    """Return the ``(care_form, provider)`` pairs of ``occupants`` not in ``pairs``, in order."""
    known = set(pairs)
    held = zip(occupants["care_form"].astype(str), occupants["provider"].astype(str), strict=True)
    return [pair for pair in dict.fromkeys(held) if pair not in known]


def _day(year: int, start_year: int) -> float:
    return float((dt.date(year, 1, 1) - dt.date(start_year, 1, 1)).days)


def compile_spec(scenario: Scenario) -> SimSpec:
    """Compile a resolved :class:`Scenario` into a :class:`SimSpec`."""
    model = scenario.model
    start, end = scenario.start_year, scenario.end_year
    years = scenario.years
    year_start = pd.Series(
        [_day(y, start) for y in [*years, end + 1]], index=[*years, end + 1], dtype="float64"
    )
    year_start.index.name = "year"

    season = model.seasonality["factor"] if not model.seasonality.empty else None
    t0 = -scenario.warm_up_days
    first_month = dt.date(start, 1, 1) - dt.timedelta(days=int(np.ceil(scenario.warm_up_days)))
    month_starts: list[tuple[float, int, int]] = []
    y, m = first_month.year, first_month.month
    while True:
        day = _day_of(dt.date(y, m, 1), start)
        if day >= year_start.iloc[-1]:
            break
        month_starts.append((day, y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    rows = []
    for i, (day, cal_year, month) in enumerate(month_starts):
        seg_start = max(day, t0)
        seg_end = month_starts[i + 1][0] if i + 1 < len(month_starts) else year_start.iloc[-1]
        if seg_end <= seg_start:
            continue
        eff_year = min(max(cal_year, start), end)
        days_in_year = 366.0 if _leap(cal_year) else 365.0
        for fid in model.care_form_ids:
            annual = as_float(scenario.instroom.at[fid, eff_year])
            factor = 1.0
            if season is not None and (fid, month) in season.index:
                factor = float(season.loc[(fid, month)])
            rows.append((fid, seg_start, seg_end, annual * factor / days_in_year))
    segments = pd.DataFrame(rows, columns=["care_form", "start_day", "end_day", "children_per_day"])

    capacity = scenario.capacity
    costs = pd.Series(
        [model.cost_per_bed_day(f, p) for f, p in capacity.index],
        index=capacity.index,
        dtype="float64",
        name="cost_per_bed_day_eur",
    )
    if scenario.initial_state == "occupied":
        occ = model.beds["occupied"].swaplevel().sort_index().astype("int64")
        occ.index.names = ["care_form", "provider"]
        # Occupants above a first-year bed cut stay: the excess closes as they leave.
        occupied = occ.reindex(capacity.index, fill_value=0).astype("int64")
    else:
        occupied = pd.Series(0, index=capacity.index, dtype="int64")
    waiting = None
    if scenario.initial_state == "occupied" and "waiting" in model.beds.columns:
        # the 0-meting's waiting lists are per provider; the engine has one list per form
        per_form = model.beds["waiting"].fillna(0).groupby(level="care_form").sum()
        per_form = per_form.reindex(model.care_form_ids, fill_value=0).astype("int64")
        # only when someone waits, so that older models give the same runs as before
        waiting = per_form if (per_form > 0).any() else None
    observed = {
        str(fid): group["los_days"].to_numpy(dtype="float64")
        for fid, group in model.los_observed.groupby("care_form")
    }
    return SimSpec(
        name=scenario.name,
        care_forms=model.care_forms,
        home_priority=model.meta.home_priority,
        start_year=start,
        end_year=end,
        warm_up_days=scenario.warm_up_days,
        year_start_day=year_start,
        arrival_segments=segments,
        los=model.los,
        los_observed=observed,
        los_factor=scenario.los_factor,
        routing=model.routing["share"],
        substitution=scenario.substitution["share"],
        capacity=capacity,
        initial_occupied=occupied,
        age_bands=model.age,
        cost_per_bed_day=costs,
        los_pair_factor=scenario.los_pair_factor,
        trajectory_price=pd.Series(
            [model.trajectory_price(f, p) for f, p in capacity.index],
            index=capacity.index,
            dtype="float64",
        ),
        initial_waiting=waiting,
    )


def _day_of(date: dt.date, start_year: int) -> float:
    return float((date - dt.date(start_year, 1, 1)).days)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
