"""Norm measures of one replication over a window of time, from its stays.

One definition serves every stage: the KPIs of a simulation, the service levels of the
minimal-beds search (which measures a year on a forked run) and of an afbouw plan. The
input is a :class:`StayColumns` (plain numpy arrays, from the engine's raw records or from
a stays table); the output, per :class:`~capaciteit.domain.norms.Norm`, is the measure's
value and the number of yes/no outcomes behind it (requests or stays decided in the window,
``nan`` / 0 when there were none). See :mod:`capaciteit.domain.norms` for what each
measure counts.

Occupancy over a window is a time-average of ``min(occupied, beds)``: the occupied beds
step up at every admission and down at every departure, so the sorted admission and
departure times give the exact average (no sampling). What lies above the beds (young
people who stayed when beds were cut) is reported on its own as ``over_capacity_beds``,
so an occupancy rate never exceeds 100%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from capaciteit.domain.norms import OCCUPANCY, PLACED, REFUSED, STAY, Norm

# raw record columns of the engine (see capaciteit.simulation.engine.STAY_COLUMNS)
_FORM, _WAITED_IN, _REQUESTED, _START, _SERVICE_END, _END, _OUTCOME = 2, 4, 5, 6, 7, 8, 10
_INITIAL, _OVERFLOW, _DIVERTED = -2, 1, 4


@dataclass(frozen=True)
class StayColumns:
    """The columns of stays the measures need, as numpy arrays (one entry per stay).

    ``form`` holds care form positions (in the spec's order), ``waited_in`` the position of
    the form whose bed a request waits in (-1: at home, -2: a 0-meting occupant),
    ``initial`` marks 0-meting occupants (stays, not requests), ``refused`` requests placed
    outside the region.
    """

    form: np.ndarray
    waited_in: np.ndarray
    initial: np.ndarray
    requested: np.ndarray
    start: np.ndarray
    service_end: np.ndarray
    end: np.ndarray
    refused: np.ndarray
    diverted: np.ndarray | None = None
    """Attempts at a full ambulant form that went to the bed (not requests of the form)."""

    def requests(self) -> np.ndarray:
        """Which records are requests of their form (not 0-meting occupants or diversions)."""
        req = ~self.initial
        return req if self.diverted is None else req & ~self.diverted

    @staticmethod
    def from_records(records: Sequence[list[Any]]) -> StayColumns:
        """From the engine's raw records (lists in :data:`STAY_COLUMNS` order)."""
        if not records:
            empty = np.zeros(0)
            ints = empty.astype(np.int64)
            flags = empty.astype(bool)
            return StayColumns(ints, ints, flags, empty, empty, empty, empty, flags)
        table = np.array(records, dtype=np.float64)
        return StayColumns(
            form=table[:, _FORM].astype(np.int64),
            waited_in=table[:, _WAITED_IN].astype(np.int64),
            initial=table[:, _WAITED_IN] == _INITIAL,
            requested=table[:, _REQUESTED],
            start=table[:, _START],
            service_end=table[:, _SERVICE_END],
            end=table[:, _END],
            refused=table[:, _OUTCOME] == _OVERFLOW,
            diverted=table[:, _OUTCOME] == _DIVERTED,
        )

    @staticmethod
    def from_frame(stays: pd.DataFrame, forms: Sequence[str]) -> StayColumns:
        """From a stays table (:func:`capaciteit.simulation.engine.simulate_stays`)."""
        position = {f: i for i, f in enumerate(forms)}
        codes = np.array([position[str(c)] for c in stays["care_form"].cat.categories], np.int64)
        waited = {"initial": -2, "home": -1, **position}
        waited_codes = np.array(
            [waited[str(c)] for c in stays["waited_in"].cat.categories], dtype=np.int64
        )
        return StayColumns(
            form=codes[stays["care_form"].cat.codes.to_numpy()],
            waited_in=waited_codes[stays["waited_in"].cat.codes.to_numpy()],
            initial=(stays["waited_in"] == "initial").to_numpy(),
            requested=stays["requested_day"].to_numpy(dtype="float64"),
            start=stays["start_day"].to_numpy(dtype="float64"),
            service_end=stays["service_end_day"].to_numpy(dtype="float64"),
            end=stays["end_day"].to_numpy(dtype="float64"),
            refused=(stays["outcome"] == "overflow").to_numpy(),
            diverted=(stays["outcome"] == "diverted").to_numpy(),
        )

    def of_form(self, f: int) -> StayColumns:
        """Only the stays of care form position ``f``."""
        m = self.form == f
        return StayColumns(
            self.form[m],
            self.waited_in[m],
            self.initial[m],
            self.requested[m],
            self.start[m],
            self.service_end[m],
            self.end[m],
            self.refused[m],
            None if self.diverted is None else self.diverted[m],
        )


def placed_within(s: StayColumns, days: float, a: float, b: float) -> tuple[float, int]:
    """Share of requests decided in ``[a, b)`` that got a bed within ``days`` days."""
    req = s.requests()
    admitted = ~np.isnan(s.start)
    resolved = np.where(admitted, s.start, s.end)  # nan while waiting
    decided = np.fmin(resolved, s.requested + days)
    inside = req & (decided >= a) & (decided < b)
    n = int(inside.sum())
    if n == 0:
        return math.nan, 0
    ok = admitted & (s.start - s.requested <= days)
    return float(ok[inside].mean()), n


def refused(s: StayColumns, a: float, b: float) -> tuple[float, int]:
    """Share of requests resolved in ``[a, b)`` that were placed outside the region."""
    resolved = np.where(np.isnan(s.start), s.end, s.start)
    inside = s.requests() & (resolved >= a) & (resolved < b)
    n = int(inside.sum())
    if n == 0:
        return math.nan, 0
    return float(s.refused[inside].mean()), n


def stays_over(
    s: StayColumns, max_days: float, a: float, b: float, by_themselves: bool = False
) -> tuple[float, int]:
    """Share of stays decided in ``[a, b)`` that lasted longer than ``max_days``.

    ``by_themselves``: the stays without the time spent waiting in the bed for a place
    elsewhere (what no number of beds elsewhere can shorten).
    """
    admitted = ~np.isnan(s.start)
    end = s.service_end if by_themselves else s.end
    decided = np.fmin(end, s.start + max_days)
    inside = admitted & (decided >= a) & (decided < b)
    n = int(inside.sum())
    if n == 0:
        return math.nan, 0
    within = end - s.start <= max_days  # False while still in the bed (nan)
    return float((~within)[inside].mean()), n


def occupancy(s: StayColumns, beds: float, a: float, b: float) -> tuple[float, float, float]:
    """Time-averages over ``[a, b)``: occupied beds, ``min(occupied, beds) / beds``, above beds.

    The rate is ``nan`` when there are no beds.
    """
    admitted = ~np.isnan(s.start)
    start = s.start[admitted]
    end = np.where(np.isnan(s.end[admitted]), np.inf, s.end[admitted])
    keep = (start < b) & (end > a)
    start, end = np.maximum(start[keep], a), np.minimum(end[keep], b)
    if len(start) == 0:
        return 0.0, (0.0 if beds > 0 else math.nan), 0.0
    times = np.concatenate([start, end])
    steps = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(steps[order])
    durations = np.diff(np.append(times, b))
    span = b - a
    occupied = float((level * durations).sum() / span)
    above = float((np.maximum(level - beds, 0.0) * durations).sum() / span)
    in_beds = float((np.minimum(level, beds) * durations).sum() / span)
    rate = min(1.0, in_beds / beds) if beds > 0 else math.nan
    return occupied, rate, above


def measure_norms(
    s: StayColumns,
    norms: Sequence[Norm],
    forms: Sequence[str],
    window: tuple[float, float],
    beds: dict[str, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Measure every norm over ``window``.

    Returns per norm the measure, the number of outcomes behind it, and for stay norms the
    share of stays too long by themselves (``nan`` for other norms). ``beds`` gives each
    care form's beds in the window (for occupancy).
    """
    a, b = window
    position = {f: i for i, f in enumerate(forms)}
    per_form: dict[str, StayColumns] = {}
    values = np.full(len(norms), math.nan)
    trials = np.zeros(len(norms))
    intrinsic = np.full(len(norms), math.nan)
    for k, norm in enumerate(norms):
        if norm.care_form not in per_form:
            per_form[norm.care_form] = s.of_form(position[norm.care_form])
        sf = per_form[norm.care_form]
        if norm.family == PLACED:
            values[k], trials[k] = placed_within(sf, norm.days, a, b)
        elif norm.family == REFUSED:
            values[k], trials[k] = refused(sf, a, b)
        elif norm.family == STAY:
            values[k], trials[k] = stays_over(sf, norm.days, a, b)
            intrinsic[k], _ = stays_over(sf, norm.days, a, b, by_themselves=True)
        elif norm.family == OCCUPANCY:
            _, values[k], _ = occupancy(sf, beds.get(norm.care_form, 0.0), a, b)
            trials[k] = 0  # a time-average, not yes/no outcomes
    return values, trials, intrinsic


def blocking_days(s: StayColumns, n_forms: int, a: float, b: float) -> np.ndarray:
    """Days within ``[a, b)`` young people spent in a bed of one form waiting for another.

    Entry ``[u, d]``: waiting in a bed of form ``u`` for a place in form ``d`` (bed
    blocking). This says which form's shortage keeps another form's beds occupied.
    """
    out = np.zeros((n_forms, n_forms))
    blocked = s.waited_in >= 0
    if not blocked.any():
        return out
    resolved = np.where(np.isnan(s.start), s.end, s.start)[blocked]
    begin = np.maximum(s.requested[blocked], a)
    finish = np.minimum(np.where(np.isnan(resolved), np.inf, resolved), b)
    days = np.maximum(finish - begin, 0.0)
    np.add.at(out, (s.waited_in[blocked], s.form[blocked]), days)
    return out
