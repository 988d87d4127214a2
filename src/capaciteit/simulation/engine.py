"""The SimPy flow simulation: young people moving through finite beds.

Concepts
--------
*Young person*
    A referral arrives from home (instroom), asks for a bed in a care form, stays for a
    sampled length of stay, and is then routed to the next care form (doorstroom) or out of
    care (uitstroom to a sink) — or ages out at the form's ``max_age_years``. A young person
    is a chain of SimPy events with callbacks (arrival, end of stay, end of a wait), not a
    SimPy process: a process per person costs about three more events per stay, and the
    simulation runs millions of stays.
*Bed pool*
    All beds of one care form in the region (:class:`BedPool`), spread over providers, with
    one regional waiting list. A free bed goes to the provider with the most free beds. The
    waiting list is served by priority, then first come first served.
*Waiting policy*
    What a young person does when the form is full: wait at home (``queue``), keep the
    current bed until a place frees (``block``: blocking after service), or wait at most
    ``max_wait_days`` and then be placed outside the region (``overflow``). A full waiting
    list (``max_queue_length``) sends newcomers outside the region at once.
*Stay*
    One request for a bed in one form, and what became of it. The run records nothing but
    stays (:data:`STAY_COLUMNS`): occupancy, waiting lists and blocked bed-days are all
    derived from them (:mod:`capaciteit.results`), so the outputs cannot disagree.
*Start*
    The run starts from the 0-meting: occupied beds, and (when known) waiting lists. Of an
    occupant nothing but the bed may be known; then the stay is drawn from the stationary
    state (a bed holds a stay picked in proportion to its length, at a uniform point of it).
    A backtest knows how long each occupant has been in the bed: the whole stay is then
    drawn from its family *given* that it lasted that long already. Children waiting at the
    start ask for their form before any referral arrives.

*Ambulant places and housing*
    Forms of kind ``ambulant`` and ``woonplek`` are pools of places like beds, with two
    differences. A referral that substitution sends to an ambulant form takes a place only
    if one is free at that moment; otherwise it asks for the form it was referred to after
    all (recorded as a ``diverted`` request of the ambulant form), so substitution is only
    as real as the ambulant capacity. After a substituted trajectory a share
    ``failure_share`` still asks for that form (from home). And nobody keeps an ambulant or
    housing place while waiting for the next form, nor keeps a bed to wait for ambulant
    care: only beds block. A young adult who ages out into full housing waits in the bed
    (the housing form's ``block`` policy), and the bed's own age limit no longer applies.

*Same moment*
    Freeing a bed can admit someone who frees a bed elsewhere, and so on (a blocked chain
    moving up). Admissions are put on a work list and handled one after the other at the
    same simulated time, so a long chain never nests calls.

Randomness comes from one :class:`numpy.random.SeedSequence` per replication, split into
separate streams per purpose (arrivals per form, length of stay per form, routing, ...), so
that two scenarios run with the same seed share their random numbers where they can (common
random numbers) and the same seed always gives the same stays, bit for bit.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import gc
import heapq
import math
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd
import simpy

from capaciteit._pandas import as_float
from capaciteit.domain.model import AMBULANT, OVERFLOW_SINK, SINKS, VERBLIJF, WOONPLEK
from capaciteit.simulation.spec import SimSpec

DAYS_PER_YEAR = 365.25
HOME = -1
INITIAL = -2
ADMITTED, OVERFLOW, WAITING, AGED_OUT, DIVERTED = 0, 1, 2, 3, 4
OUTCOMES = ("admitted", "overflow", "waiting", "aged_out", "diverted")
_EXPIRED_WAIT, _EXPIRED_AGE = -1, -2
_NAN = math.nan
STAY_COLUMNS = (
    "person",
    "sibling_group",
    "care_form",
    "provider",
    "waited_in",
    "requested_day",
    "start_day",
    "service_end_day",
    "end_day",
    "next",
    "outcome",
    "age_years",
)
_BUFFER = 2048
_Route = tuple[list[float], list[int]]


class _Counter:
    """``itertools.count`` as a plain object, so that a run's state can be copied."""

    __slots__ = ("value",)

    def __init__(self, start: int = 0) -> None:
        self.value = start

    def __iter__(self) -> _Counter:
        return self

    def __next__(self) -> int:
        value = self.value
        self.value += 1
        return value


class _Env(simpy.Environment):
    """A SimPy environment whose event counter can be copied (see :meth:`_Run.fork`)."""

    def __init__(self, initial_time: float) -> None:
        super().__init__(initial_time)
        self._eid = _Counter()  # type: ignore[assignment]


@functools.lru_cache(maxsize=256)
def weibull_shape(cv: float) -> float:
    """Return the shape ``k`` of the Weibull distribution with coefficient of variation ``cv``.

    A Weibull stay with shape ``k`` and scale ``s`` has mean ``s Γ(1+1/k)`` and

        cv² = Γ(1+2/k) / Γ(1+1/k)² − 1,

    which falls steadily from infinity to 0 as ``k`` grows (``k = 1`` is the exponential,
    cv 1; ``k = 2`` the Rayleigh, cv ≈ 0.5227). There is no closed form for ``k``: it is
    solved on ``log k`` (the root lies anywhere from 0.05 to 10⁵), with log-gamma so that
    large ``k`` (small cv) loses no digits.
    """
    from scipy.optimize import brentq  # only a Weibull family needs it

    if not _WEIBULL_CV[0] <= cv <= _WEIBULL_CV[1]:
        raise ValueError(
            f"no Weibull shape gives cv {cv} (from {_WEIBULL_CV[0]:g} to {_WEIBULL_CV[1]:g})"
        )
    target = 2.0 * math.log(cv)

    def excess(log_k: float) -> float:
        k = math.exp(log_k)
        cv2 = math.expm1(math.lgamma(1.0 + 2.0 / k) - 2.0 * math.lgamma(1.0 + 1.0 / k))
        return math.log(cv2) - target

    log_k = brentq(excess, math.log(0.05), math.log(1e5), xtol=1e-14)
    return math.exp(float(log_k))


# the cv a Weibull shape between 0.05 and 10⁵ can give (with room at both ends)
_WEIBULL_CV = (2e-5, 3e5)
# how long a 0-meting occupant stays who is past every observed stay (see _Sampler.longer)
_EPSILON_DAYS = 1e-6


class _Sampler:
    """Draws ``n`` values from a generator: uniform, or stays with mean 1 of a family."""

    __slots__ = ("distribution", "shape", "sigma", "sigma2", "unit", "weibull_k", "weibull_mean")

    def __init__(
        self, distribution: str, cv: float = 1.0, observed: np.ndarray | None = None
    ) -> None:
        self.distribution = distribution
        self.shape = 1.0 / (cv * cv) if cv > 0 else 1.0
        self.sigma2 = math.log1p(cv * cv)
        self.sigma = math.sqrt(self.sigma2)
        self.unit = observed / observed.mean() if observed is not None else None
        # numpy's Weibull has scale 1, so mean Γ(1+1/k): divided by it, the mean is 1
        self.weibull_k = weibull_shape(cv) if distribution == "weibull" else 1.0
        self.weibull_mean = math.gamma(1.0 + 1.0 / self.weibull_k)

    def __call__(self, rng: np.random.Generator, n: int) -> np.ndarray:
        d = self.distribution
        if d == "uniform":
            return rng.random(n)
        if d == "exponential":
            return rng.standard_exponential(n)
        if d == "gamma":
            return rng.standard_gamma(self.shape, n) / self.shape
        if d == "lognormal":
            return rng.lognormal(-self.sigma2 / 2, self.sigma, n)
        if d == "weibull":
            return rng.weibull(self.weibull_k, n) / self.weibull_mean
        assert self.unit is not None
        return rng.choice(self.unit, n)

    def unit_distribution(self) -> Any:
        """Return the family with mean 1 as a frozen :mod:`scipy.stats` distribution."""
        from scipy import stats  # only runs that start from given occupants need it

        d = self.distribution
        if d == "exponential":
            return stats.expon()
        if d == "gamma":
            return stats.gamma(a=self.shape, scale=1.0 / self.shape)
        if d == "lognormal":
            return stats.lognorm(s=self.sigma, scale=math.exp(-self.sigma2 / 2))
        if d == "weibull":
            return stats.weibull_min(c=self.weibull_k, scale=1.0 / self.weibull_mean)
        raise ValueError(f"no parametric family {d!r}")

    def longer(self, u: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
        """Draw whole stays (mean 1), each longer than its ``elapsed`` part (in mean units).

        ``u`` holds one uniform in (0, 1] per stay. By inverse survival sampling,
        ``X = S⁻¹(u S(e))`` has the law of ``X`` given ``X > e``: the survival ``S(X)`` of
        such a stay is uniform on ``(0, S(e))``. The empirical family picks uniformly among
        the observed stays longer than ``e``. Where no stay is that long (past every
        observed stay, or so far in the tail that ``S(e)`` is 0 in floating point) the
        result is NaN: the caller lets that stay end at once.
        """
        if self.distribution == "empirical":
            assert self.unit is not None
            ordered = np.sort(self.unit)
            first = np.searchsorted(ordered, elapsed, side="right")
            longer = len(ordered) - first
            pick = first + np.minimum(np.floor(u * longer).astype(np.int64), longer - 1)
            out = np.full(len(elapsed), np.nan)
            some = longer > 0
            out[some] = ordered[pick[some]]
            return out
        dist = self.unit_distribution()
        total = np.asarray(dist.isf(u * dist.sf(elapsed)), dtype=np.float64)
        # rounding can put X a hair below e when u is near 1; it cannot have been shorter
        total = np.maximum(total, elapsed)
        return np.where(np.isfinite(total), total, np.nan)


_UNIFORM = _Sampler("uniform")


def unit_stays(
    rng: np.random.Generator,
    distribution: str,
    cv: float,
    observed: np.ndarray | None,
    n: int,
) -> np.ndarray:
    """Draw ``n`` stays with mean 1 of a length-of-stay family, as the engine draws them.

    ``cv`` is ignored by the exponential and empirical families; ``observed`` holds the
    observed stays (days) of an empirical family.
    """
    return _Sampler(distribution, cv, observed)(rng, n)


class _Draws:
    """Buffered draws from one generator: one numpy call per ``_BUFFER`` values."""

    __slots__ = ("_buf", "_i", "_rng", "_sampler")

    def __init__(self, rng: np.random.Generator, sampler: _Sampler) -> None:
        self._rng = rng
        self._sampler = sampler
        self._buf: list[float] = []
        self._i = 0

    def next(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self._sampler(self._rng, _BUFFER).tolist()
            self._i = 0
        value = self._buf[self._i]
        self._i += 1
        return value

    def fork(self) -> _Draws:
        """Return an independent copy that continues with the same numbers."""
        copy = _Draws.__new__(_Draws)
        rng = np.random.Generator(type(self._rng.bit_generator)())
        rng.bit_generator.state = self._rng.bit_generator.state
        copy._rng, copy._sampler = rng, self._sampler
        # the buffer is replaced, never changed in place, so both may read it
        copy._buf, copy._i = self._buf, self._i
        return copy


class BedPool:
    """The beds of one care form across providers, with one regional waiting list.

    ``occupied`` may exceed ``capacity`` after beds are removed (afbouw): no one is sent
    away; the excess closes as young people leave.
    """

    __slots__ = ("capacity", "granted", "n_waiting", "occupied", "prefer", "queue", "seq", "slots")

    def __init__(
        self,
        slots: Sequence[int],
        capacity: Sequence[int],
        granted: deque[tuple[Any, int]],
        prefer: list[list[int]] | None = None,
    ) -> None:
        self.slots = list(slots)
        self.granted = granted
        self.capacity = list(capacity)
        self.occupied = [0] * len(self.slots)
        self.queue: list[list[Any]] = []
        self.seq = 0
        self.n_waiting = 0
        # a shared pool: per home region, its providers nearest first (else: most free beds)
        self.prefer = prefer

    def free_slot(self) -> int:
        """Index of the provider with the most free beds, or -1 when all are full."""
        best, best_free = -1, 0
        for i, cap in enumerate(self.capacity):
            free = cap - self.occupied[i]
            if free > best_free:
                best, best_free = i, free
        return best

    def slot_for(self, home: int) -> int:
        """Return the bed for someone from ``home``: the nearest free one, if ranked."""
        prefer = self.prefer
        if prefer is None or home < 0:
            return self.free_slot()
        capacity, occupied = self.capacity, self.occupied
        for i in prefer[home]:
            if capacity[i] > occupied[i]:
                return i
        return -1

    def free_places(self) -> int:
        """Beds free for a newcomer now: none while anyone waits."""
        if self.n_waiting:
            return 0
        return sum(max(0, c - o) for c, o in zip(self.capacity, self.occupied, strict=True))

    def take_now(self, home: int = -1) -> int:
        """Take a bed at once if one is free and nobody waits; -1 otherwise."""
        if self.n_waiting:
            return -1
        i = self.slot_for(home)
        if i >= 0:
            self.occupied[i] += 1
        return i

    def enqueue(self, priority: int, waiter: Any) -> list[Any]:
        """Put ``waiter`` on the waiting list; ``(waiter, slot)`` joins ``granted`` when served."""
        entry = [priority, self.seq, waiter, True]
        self.seq += 1
        heapq.heappush(self.queue, entry)
        self.n_waiting += 1
        return entry

    def cancel(self, entry: list[Any]) -> None:
        """Take a waiting entry off the list (lazily)."""
        if entry[3]:
            entry[3] = False
            self.n_waiting -= 1

    def release(self, slot: int) -> None:
        """Free a bed at ``slot`` and give free beds to the waiting list."""
        self.occupied[slot] -= 1
        if self.n_waiting:
            self.serve()

    def set_capacity(self, capacity: Sequence[int]) -> None:
        """Change the beds per provider (1 January) and serve the waiting list."""
        self.capacity = list(capacity)
        self.serve()

    def serve(self) -> None:
        """Give free beds to the waiting list, in priority then arrival order."""
        while self.n_waiting:
            i = self.free_slot()
            if i < 0:
                return
            entry = heapq.heappop(self.queue)
            while not entry[3]:
                entry = heapq.heappop(self.queue)
            if self.prefer is not None:
                i = self.slot_for(entry[2].home)
            entry[3] = False
            self.n_waiting -= 1
            self.occupied[i] += 1
            self.granted.append((entry[2], i))


class _Run:
    """One replication of a :class:`SimSpec`."""

    def __init__(self, spec: SimSpec, seed: np.random.SeedSequence) -> None:
        self.spec = spec
        forms = [str(f) for f in spec.care_forms.index]
        self.forms = forms
        self.form_index = {f: i for i, f in enumerate(forms)}
        self.sink_index = {s: len(forms) + i for i, s in enumerate(SINKS)}
        self.n_forms = len(forms)
        cf = spec.care_forms
        self.policy = [str(p) for p in cf["waiting_policy"]]
        self.max_wait = [float(x) if pd.notna(x) else math.inf for x in cf["max_wait_days"]]
        self.max_queue = [int(x) if pd.notna(x) else 1 << 62 for x in cf["max_queue_length"]]
        self.priority = [int(x) for x in cf["priority"]]
        self.age_out = [self._dest(str(s)) for s in cf["age_out_to"]]
        kinds = cf["kind"] if "kind" in cf.columns else pd.Series(VERBLIJF, index=cf.index)
        self.kind = [str(k) for k in kinds]
        failure = cf["failure_share"] if "failure_share" in cf.columns else kinds * 0
        self.failure = [float(x) if pd.notna(x) else 0.0 for x in failure]
        self.sib_share = [float(x) for x in cf["sibling_group_share"]]
        self.sib_size = [int(x) for x in cf["sibling_group_size"]]
        self.has_age = not spec.age_bands.empty
        self.max_age = [float(x) if self.has_age else math.inf for x in cf["max_age_years"]]
        self.years = spec.years
        self.year_bounds = [float(x) for x in spec.year_start_day.iloc[1:-1]]

        streams = _children(seed, 7)
        arrival_seeds = _children(streams[0], self.n_forms)
        los_seeds = _children(streams[1], self.n_forms)
        self.arrival_rngs = [np.random.default_rng(s) for s in arrival_seeds]
        self.route_u = _Draws(np.random.default_rng(streams[2]), _UNIFORM)
        self.subst_u = _Draws(np.random.default_rng(streams[3]), _UNIFORM)
        self.age_u = _Draws(np.random.default_rng(streams[4]), _UNIFORM)
        self.initial_rng = np.random.default_rng(streams[5])
        self.fail_u = _Draws(np.random.default_rng(streams[6]), _UNIFORM)

        form_mean: list[list[float]] = []
        self.los_draws: list[_Draws] = []
        self.los_samplers: list[_Sampler] = []
        for i, fid in enumerate(forms):
            observed = spec.los_observed.get(fid)
            dist = str(spec.los.at[fid, "distribution"])
            mean_days = as_float(spec.los.at[fid, "mean_days"])
            mean = (
                float(observed.mean())
                if dist == "empirical" and observed is not None
                else (mean_days)
            )
            cv_value = as_float(spec.los.at[fid, "cv"])
            cv = cv_value if not math.isnan(cv_value) else 1.0
            rng = np.random.default_rng(los_seeds[i])
            self.los_samplers.append(_Sampler(dist, cv, observed))
            self.los_draws.append(_Draws(rng, self.los_samplers[-1]))
            form_mean.append([mean * as_float(spec.los_factor.at[fid, y]) for y in self.years])

        # Housing is for young adults: its youngest age band (else 18) is its minimum age.
        # (without ages in the model there are no age rules at all)
        self.min_age = [0.0] * self.n_forms
        for i, fid in enumerate(forms):
            if self.kind[i] == WOONPLEK and self.has_age:
                bands = spec.age_bands[spec.age_bands["care_form"] == fid]
                self.min_age[i] = float(bands["age_min_years"].min()) if len(bands) else 18.0
        # Regions sharing pools (a national run): every young person has a home region;
        # a shared form's doorstroom goes back to the forms of that region.
        self.n_homes = len(spec.homes)
        self.form_home = (
            [int(h) for h in spec.form_home.reindex(forms).to_numpy()]
            if spec.form_home is not None
            else [-1] * self.n_forms
        )
        self.shared = [self.n_homes > 0 and h < 0 for h in self.form_home]
        self.routes: list[_Route] = []
        self.young_routes: list[_Route] = []
        self.home_routes: list[list[tuple[_Route, _Route]] | None] = []
        for f, fid in enumerate(forms):
            if self.shared[f]:
                per_home = spec.shared_routing.loc[fid]
                self.home_routes.append(
                    [self._routes(per_home.loc[h]) for h in range(self.n_homes)]
                )
                route = young = ([1.0 + 1e-12], [self.sink_index["thuis"]])  # never used
            else:
                self.home_routes.append(None)
                route, young = self._routes(spec.routing.loc[fid])
            self.routes.append(route)
            self.young_routes.append(young)

        self.subst: list[list[tuple[list[float], list[int]] | None]] = []
        for y in self.years:
            per_form: list[tuple[list[float], list[int]] | None] = [None] * self.n_forms
            if not spec.substitution.empty and y in spec.substitution.index.get_level_values(0):
                table = spec.substitution.loc[y]
                for src, group in table.groupby(level=0):
                    shares = group.droplevel(0)
                    cum = np.cumsum(shares.to_numpy(dtype="float64")).tolist()
                    dst = [self.form_index[str(t)] for t in shares.index]
                    per_form[self.form_index[str(src)]] = (cum, dst)
            self.subst.append(per_form)

        self.age_bands: list[tuple[list[float], list[tuple[float, float]]] | None] = []
        for fid in forms:
            bands = spec.age_bands[spec.age_bands["care_form"] == fid]
            if bands.empty:
                self.age_bands.append(None)
                continue
            cum = np.cumsum(bands["share"].to_numpy(dtype="float64")).tolist()
            cum[-1] = 1.0 + 1e-12
            spans = list(
                zip(
                    bands["age_min_years"].astype(float),
                    bands["age_max_years"].astype(float),
                    strict=True,
                )
            )
            self.age_bands.append((cum, spans))

        # Providers: one slot per (care_form, provider) pair in the capacity table.
        self.pair_index = list(spec.capacity.index)
        self.providers = sorted({str(p) for _, p in self.pair_index})
        self.provider_index = {p: i for i, p in enumerate(self.providers)}
        self.slot_provider: list[list[int]] = [[] for _ in forms]
        self.capacity_by_year: list[list[list[int]]] = [[] for _ in forms]
        self.initial_by_slot: list[list[int]] = [[] for _ in forms]
        cap_rows: list[list[int]] = spec.capacity[self.years].to_numpy(dtype=np.int64).tolist()
        initial = spec.initial_occupied.reindex(spec.capacity.index, fill_value=0)
        initial_rows: list[int] = initial.to_numpy(dtype=np.int64).tolist()
        for (form_id, provider), cap_row, occupied in zip(
            self.pair_index, cap_rows, initial_rows, strict=True
        ):
            i = self.form_index[str(form_id)]
            self.slot_provider[i].append(self.provider_index[str(provider)])
            self.capacity_by_year[i].append(cap_row)
            self.initial_by_slot[i].append(occupied)
        self.initial_homes: dict[int, list[int]] = {}
        for key, count in spec.initial_homes.items():
            fid, home = cast(tuple[str, int], key)
            form_homes = self.initial_homes.setdefault(self.form_index[str(fid)], [])
            form_homes.extend([int(home)] * int(count))

        # Mean stay per form, slot (provider) and year: a provider's own mean and levers.
        pair_factor = spec.los_pair_factor
        self.los_mean: list[list[list[float]]] = []
        for f, fid in enumerate(forms):
            per_slot = []
            for provider in self.slot_provider[f]:
                key = (fid, self.providers[provider])
                if not pair_factor.empty and key in pair_factor.index:
                    factors = [as_float(pair_factor.at[key, y]) for y in self.years]
                    per_slot.append([m * k for m, k in zip(form_mean[f], factors, strict=True)])
                else:
                    per_slot.append(form_mean[f])
            self.los_mean.append(per_slot)

        self.env = _Env(initial_time=-spec.warm_up_days)
        self.pending: deque[tuple[_Person, int]] = deque()
        self.pools = [
            BedPool(
                range(len(self.slot_provider[i])),
                [c[0] for c in self.capacity_by_year[i]],
                self.pending,
                self._nearest_first(i),
            )
            for i in range(self.n_forms)
        ]
        self.stays: list[list[Any]] = []
        self.home_priority = spec.home_priority
        self.arrival_times: list[float] = []
        self.arrival_forms: list[int] = []
        self.arrival_sizes: list[int] = []
        self.arrival_homes: list[int] = []
        self.next_arrival = 0
        self.person_ids = _Counter()
        self.group_ids = _Counter()
        self.started = False

    # ------------------------------------------------------------------ helpers
    def _dest(self, target: str) -> int:
        return self.form_index[target] if target in self.form_index else self.sink_index[target]

    def _routes(self, shares: pd.Series) -> tuple[_Route, _Route]:
        """Cumulative doorstroom shares and targets; and the same without housing.

        The second is for those too young for housing: the other ways out, in their
        proportions (home when housing is the only one).
        """
        targets = [self._dest(str(t)) for t in shares.index]
        cum = np.cumsum(shares.to_numpy(dtype="float64")).tolist()
        cum[-1] = 1.0 + 1e-12
        keep = [t >= self.n_forms or self.kind[t] != WOONPLEK for t in targets]
        young = shares.to_numpy(dtype="float64")[keep]
        if young.sum() > 0:
            young_cum = np.cumsum(young / young.sum()).tolist()
            young_cum[-1] = 1.0 + 1e-12
            young_targets = [t for t, k in zip(targets, keep, strict=True) if k]
        else:  # only housing: home
            young_cum, young_targets = [1.0 + 1e-12], [self.sink_index["thuis"]]
        return (cum, targets), (young_cum, young_targets)

    def _nearest_first(self, form: int) -> list[list[int]] | None:
        """Per home region, the slots of a shared ``form`` by travel time (ties: slot order).

        ``None`` (the most free beds first) for a region's own form or without travel times.
        """
        travel = self.spec.travel_minutes
        fid = self.forms[form]
        if not self.shared[form] or travel.empty or fid not in travel.index.get_level_values(0):
            return None
        minutes = travel.loc[fid]
        ranked = []
        for home in range(self.n_homes):
            times = [
                as_float(minutes.get((self.providers[p], home), math.inf))
                for p in self.slot_provider[form]
            ]
            ranked.append(sorted(range(len(times)), key=lambda s: (times[s], s)))
        return ranked

    def year_idx(self, t: float) -> int:
        return bisect.bisect_right(self.year_bounds, t)

    def sample_age(self, form: int) -> float:
        bands = self.age_bands[form]
        if bands is None:
            return 0.0
        cum, spans = bands
        lo, hi = spans[bisect.bisect_right(cum, self.age_u.next())]
        return lo + (hi - lo) * self.age_u.next()

    def ages_at_entry(self, form: int, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` ages at entry from ``form``'s age bands at once (0 without bands)."""
        bands = self.age_bands[form]
        if bands is None:
            return np.zeros(n)
        cum, spans = bands
        band = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(spans) - 1)
        lo = np.array([s[0] for s in spans])[band]
        hi = np.array([s[1] for s in spans])[band]
        ages: np.ndarray = lo + (hi - lo) * rng.random(n)
        return ages

    def sample_los(self, form: int, slot: int, year: int) -> float:
        return self.los_draws[form].next() * self.los_mean[form][slot][year]

    # ------------------------------------------------------------------ events
    def start_arrivals(self) -> None:
        """Draw all referrals and schedule the first.

        Referrals are Poisson per form with piecewise-constant rates. Each arrival schedules
        the next, so one arrival event is pending at a time.
        """
        times: list[np.ndarray] = []
        forms: list[np.ndarray] = []
        sizes: list[np.ndarray] = []
        homes: list[np.ndarray] = []
        segments = self.spec.arrival_segments
        for fid, seg in segments.groupby("care_form", sort=False):
            f = self.form_index[str(fid)]
            rng = self.arrival_rngs[f]
            share, size = self.sib_share[f], self.sib_size[f]
            per_event = 1.0 + share * (size - 1)
            # referrals to a shared form come from a region: its segments say which
            seg_homes = seg["home"] if "home" in seg.columns else [self.form_home[f]] * len(seg)
            for start, end, rate, home in zip(
                seg["start_day"], seg["end_day"], seg["children_per_day"], seg_homes, strict=True
            ):
                n = int(rng.poisson(rate / per_event * (end - start)))
                if n == 0:
                    continue
                times.append(np.sort(rng.uniform(start, end, n)))
                forms.append(np.full(n, f, dtype=np.int64))
                is_group = rng.random(n) < share if share > 0 else np.zeros(n, dtype=bool)
                sizes.append(np.where(is_group, size, 1))
                homes.append(np.full(n, self.form_home[f] if home < 0 else home, dtype=np.int64))
        if not times:
            return
        t_all = np.concatenate(times)
        order = np.argsort(t_all, kind="stable")
        self.arrival_times = t_all[order].tolist()
        self.arrival_forms = np.concatenate(forms)[order].tolist()
        self.arrival_sizes = np.concatenate(sizes)[order].tolist()
        self.arrival_homes = np.concatenate(homes)[order].tolist()
        self.next_arrival = 0
        self.env.timeout(self.arrival_times[0] - self.env.now).callbacks.append(self.arrive)

    def arrive(self, _: simpy.Event) -> None:
        """Let a referral (or a sibling group) arrive; schedule the next arrival."""
        i = self.next_arrival
        t, f, k = self.arrival_times[i], self.arrival_forms[i], self.arrival_sizes[i]
        referred_to = f
        subst = self.subst[self.year_idx(t)][f]
        if subst is not None:
            cum, dst = subst
            j = bisect.bisect_right(cum, self.subst_u.next())
            if j < len(dst):
                f = dst[j]
        group = next(self.group_ids) if k > 1 else -1
        now = self.env.now
        # siblings go together (samen, tenzij): ambulant care takes the group only if a
        # place is free for each of them, else they all go to the bed
        ambulant = f != referred_to and self.kind[f] == AMBULANT
        room = ambulant and self.pools[f].free_places() >= k
        for _child in range(k):
            # the child is the one referred; only the place changes (substitution)
            age = self.sample_age(referred_to)
            person = _Person(self, next(self.person_ids), group, now - age * DAYS_PER_YEAR)
            person.home = self.arrival_homes[i]
            if not ambulant:
                self.request(person, f)
            elif room:
                person.origin = referred_to
                self.request(person, f)
            else:
                self.divert(person, f, referred_to)
        self.next_arrival = i + 1
        if i + 1 < len(self.arrival_times):
            self.env.timeout(self.arrival_times[i + 1] - now).callbacks.append(self.arrive)
        self.drain()

    def divert(self, p: _Person, form: int, referred_to: int) -> None:
        """Record that ambulant ``form`` was full for ``p``, who asks for ``referred_to``."""
        now = self.env.now
        age = (now - p.t_birth) / DAYS_PER_YEAR
        rec = [
            p.id,
            p.group,
            form,
            -1,
            HOME,
            now,
            _NAN,
            _NAN,
            now,
            referred_to,
            DIVERTED,
            age,
            p.home,
        ]
        self.stays.append(rec)
        self.request(p, referred_to)

    def start_yearly_capacity(self) -> None:
        """Schedule each year's beds for 1 January.

        The first year's too: after a warm-up, and so that a search can give the first year
        other beds than the run started with.
        """
        for y, bound in enumerate([0.0, *self.year_bounds]):
            self.env.timeout(bound - self.env.now).callbacks.append(
                functools.partial(self.set_year_capacity, y)
            )

    def set_year_capacity(self, year: int, _: simpy.Event) -> None:
        """Set the beds of horizon year ``year`` (an index) and serve the waiting lists."""
        for f, pool in enumerate(self.pools):
            pool.set_capacity([c[year] for c in self.capacity_by_year[f]])
        self.drain()

    def drain(self) -> None:
        """Admit everyone who was given a bed at this moment, one after the other."""
        pending = self.pending
        while pending:
            person, slot = pending.popleft()
            self.admit(person, slot)

    def request(self, p: _Person, form: int) -> None:
        """``p`` asks for a bed in ``form`` (from home, or from the bed in ``p.held``)."""
        now = self.env.now
        pool = self.pools[form]
        held = p.held
        rec = [
            p.id,
            p.group,
            form,
            -1,
            p.held_form if held is not None else HOME,
            now,
            _NAN,
            _NAN,
            _NAN,
            -1,
            ADMITTED,
            (now - p.t_birth) / DAYS_PER_YEAR,
            p.home,
        ]
        self.stays.append(rec)
        p.rec = rec
        p.form = form
        slot = pool.take_now(p.home)
        if slot < 0 and held is not None and self.policy[form] == "queue":
            # Under `queue` the young person leaves the current bed to wait at home.
            # For a move within the same form that bed is now free: try again.
            self.leave(held, p.held_form, now, form)
            p.held, p.held_form = None, -1
            rec[4] = HOME
            slot = pool.take_now(p.home)
        if slot >= 0:
            self.admit(p, slot)
            return
        if p.held is not None and p.held_form == form:
            # A move within a full form (another foster family, say) happens in place: a
            # new stay in the same bed. Waiting for the own form in the own bed could
            # leave every bed held by someone waiting for it.
            self.move_in(p, p.held[3])
            return
        if p.held is not None and self.swap(p):
            return
        if pool.n_waiting >= self.max_queue[form] or self.max_wait[form] <= 0:
            self.give_up(p, OVERFLOW, self.sink_index[OVERFLOW_SINK])
            return
        prio = self.priority[p.held_form] if p.held is not None else self.home_priority
        entry = pool.enqueue(prio, p)
        # The wait ends early at max_wait_days (overflow), or when the young person reaches
        # the age limit of the form asked for, or of the form whose bed they keep.
        to_age = (self.max_age[form] - rec[11]) * DAYS_PER_YEAR
        age_out_to = self.age_out[form]
        if p.held is not None and self.kind[form] != WOONPLEK:
            # (a young adult waiting for housing is past the bed's age limit: that is why)
            to_held_limit = (self.max_age[p.held_form] - rec[11]) * DAYS_PER_YEAR
            if to_held_limit <= to_age:
                to_age, age_out_to = to_held_limit, self.age_out[p.held_form]
        limit = min(self.max_wait[form], to_age)
        if limit < math.inf:
            if to_age < self.max_wait[form]:
                reason, destination = AGED_OUT, age_out_to
            else:
                reason, destination = OVERFLOW, self.sink_index[OVERFLOW_SINK]
            timer = self.env.timeout(max(limit, 0.0))
            timer.callbacks.append(
                functools.partial(self.expire, p, pool, entry, reason, destination)
            )

    def move_in(self, p: _Person, slot: int) -> None:
        """End ``p``'s held stay and start its new stay in ``slot`` at once.

        The beds change hands without passing through the pool (a move in place or a swap),
        so no one on a waiting list can take them in between.
        """
        now = self.env.now
        held = p.held
        assert held is not None
        held[8] = now
        held[9] = p.form
        p.held, p.held_form = None, -1
        p.rec[3] = slot
        p.rec[6] = now
        self.start_stay(p, self.sample_los(p.form, slot, self.year_idx(now)))

    def swap(self, p: _Person) -> bool:
        """Swap beds with someone waiting for ``p``'s form in the form ``p`` wants.

        Returns whether that happened. Two young people who each keep a bed the other
        needs would otherwise wait for ever once both forms are full (gridlock); they swap
        at once instead.
        """
        own_form, want_form = p.held_form, p.form
        own_pool = self.pools[own_form]
        if self.policy[own_form] == "queue" or not own_pool.n_waiting:
            return False
        best: list[Any] | None = None
        for entry in own_pool.queue:
            other = entry[2]
            waits_here = entry[3] and other.held is not None and other.held_form == want_form
            if waits_here and (best is None or entry[:2] < best[:2]):
                best = entry
        if best is None:
            return False
        other = best[2]
        own_pool.cancel(best)
        assert p.held is not None
        assert other.held is not None
        own_slot, other_slot = p.held[3], other.held[3]
        self.move_in(p, other_slot)
        self.move_in(other, own_slot)
        return True

    def expire(
        self,
        p: _Person,
        pool: BedPool,
        entry: list[Any],
        reason: int,
        destination: int,
        _: simpy.Event,
    ) -> None:
        """End a wait at its limit, unless a bed was given meanwhile."""
        if entry[3]:
            pool.cancel(entry)
            self.give_up(p, reason, destination)
            self.drain()

    def give_up(self, p: _Person, outcome: int, destination: int) -> None:
        """End the request without a bed: placed outside the region, or aged out.

        Aged out into housing (``age_out_to`` a housing form), the young adult asks for it
        at once, from the bed they keep (if any) or from home.
        """
        now = self.env.now
        rec = p.rec
        rec[8] = now
        rec[9] = destination
        rec[10] = outcome
        if destination < self.n_forms:
            self.request(p, destination)
            return
        if p.held is not None:
            self.leave(p.held, p.held_form, now, destination)
            p.held, p.held_form = None, -1

    def admit(self, p: _Person, slot: int) -> None:
        """``p`` gets bed ``slot`` of ``p.form``; the stay ends at its length or age limit."""
        now = self.env.now
        form = p.form
        if p.held is not None:
            self.leave(p.held, p.held_form, now, form)
            p.held, p.held_form = None, -1
        rec = p.rec
        rec[3] = slot
        rec[6] = now
        self.start_stay(p, self.sample_los(form, slot, self.year_idx(now)))

    def start_stay(self, p: _Person, los: float, aged_out: bool | None = None) -> None:
        """Schedule the end of ``p``'s stay: its length, or earlier at the age limit.

        ``aged_out`` is given when the caller knows it (0-meting occupants, whose remaining
        stay was cut to the age limit already).
        """
        now = self.env.now
        to_max_age = (self.max_age[p.form] - (now - p.t_birth) / DAYS_PER_YEAR) * DAYS_PER_YEAR
        p.aged_out = to_max_age < los if aged_out is None else aged_out
        self.env.timeout(max(0.0, min(los, to_max_age))).callbacks.append(p.stay_over)

    def stay_over(self, p: _Person) -> None:
        """Route ``p`` at the end of a stay to the next form or out of care."""
        now = self.env.now
        rec, form = p.rec, p.form
        rec[7] = now
        origin, p.origin = p.origin, -1
        if p.aged_out:
            nxt = self.age_out[form]
        else:
            if origin >= 0 and self.fail_u.next() < self.failure[form]:
                nxt = origin  # the ambulant trajectory did not suffice: the bed after all
            else:
                per_home = self.home_routes[form]
                # a shared form sends everyone back to the forms of their own region
                route, young = (
                    (self.routes[form], self.young_routes[form])
                    if per_home is None
                    else per_home[p.home]
                )
                cum, targets = route
                nxt = targets[bisect.bisect_right(cum, self.route_u.next())]
                age = (now - p.t_birth) / DAYS_PER_YEAR
                if nxt < self.n_forms and age < self.min_age[nxt]:
                    # too young for housing: one of the other ways out, in their proportions
                    cum, targets = young
                    nxt = targets[bisect.bisect_right(cum, self.route_u.next())]
            if nxt < self.n_forms and (now - p.t_birth) / DAYS_PER_YEAR >= self.max_age[nxt]:
                nxt = self.age_out[form]
        if nxt >= self.n_forms:
            self.leave(rec, form, now, nxt)
        elif self.kind[form] != VERBLIJF or self.kind[nxt] == AMBULANT:
            # only beds block: leave the place and ask for the next form from home
            self.leave(rec, form, now, nxt)
            self.request(p, nxt)
        else:
            p.held, p.held_form = rec, form
            self.request(p, nxt)
        self.drain()

    def leave(self, rec: list[Any], form: int, now: float, nxt: int) -> None:
        """Free the bed of stay ``rec`` in ``form``; the young person goes to ``nxt``."""
        rec[8] = now
        rec[9] = nxt
        self.pools[form].release(rec[3])

    def initial_state(self) -> None:
        """Fill beds with the 0-meting's occupants, then put its waiting list on the lists.

        Occupants are the given ones (:attr:`SimSpec.initial_occupants`, a backtest from the
        actual state) or, without them, drawn from the stationary state
        (:meth:`stationary_occupants`). The waiting children come after them, so they get
        only the beds the occupants leave free.
        """
        if self.spec.initial_occupants is not None:
            self.given_occupants(self.spec.initial_occupants)
        else:
            self.stationary_occupants()
        if self.spec.initial_waiting is not None:
            self.initial_waiting_list(self.spec.initial_waiting)

    def given_occupants(self, occupants: pd.DataFrame) -> None:
        """Place the given occupants, each part-way through a stay of known elapsed time.

        What is known of an occupant is that the stay has lasted ``elapsed_days`` so far; its
        whole length is therefore drawn from the slot's family *given* that it is longer:
        ``P(X ≤ x | X > e)``. (The stationary draw of :meth:`stationary_occupants` picks
        stays in proportion to their length instead, which is right for an occupant of
        whom nothing is known, and wrong for one whose elapsed time is.) For the exponential
        the remaining stay is again exponential with the same mean, whatever has elapsed;
        for the other families a long elapsed time means a long (lognormal) or short
        (Weibull with ``k > 1``) rest. The mean is the slot's for a stay starting in the
        first year, levers included. The remaining stay is cut at the form's age limit, as
        for every stay. An occupant of an empirical family who has been in care longer than
        every observed stay leaves a moment (:data:`_EPSILON_DAYS`) after the start.

        Occupants are placed in the order given, one uniform of the initial stream each.
        """
        now = self.env.now
        slot_of: dict[tuple[str, str], tuple[int, int]] = {}
        for f in range(self.n_forms):
            for slot, provider in enumerate(self.slot_provider[f]):
                slot_of[(self.forms[f], self.providers[provider])] = (f, slot)
        where = [
            slot_of[(str(c), str(p))]
            for c, p in zip(occupants["care_form"], occupants["provider"], strict=True)
        ]
        form = np.array([f for f, _ in where], dtype=np.int64)
        mean = np.array([self.los_mean[f][slot][0] for f, slot in where], dtype=np.float64)
        elapsed = occupants["elapsed_days"].to_numpy(dtype=np.float64)
        age_now = occupants["age_years"].to_numpy(dtype=np.float64)
        u = 1.0 - self.initial_rng.random(len(occupants))  # in (0, 1]: S⁻¹(0) is infinite
        total = np.empty(len(occupants))
        for f in np.unique(form).tolist():
            of_form = form == f
            unit = self.los_samplers[f].longer(u[of_form], elapsed[of_form] / mean[of_form])
            total[of_form] = unit * mean[of_form]
        rest = np.where(np.isnan(total), _EPSILON_DAYS, total - elapsed)
        for k, (f, slot) in enumerate(where):
            to_limit = max(0.0, (self.max_age[f] - age_now[k]) * DAYS_PER_YEAR)
            aged_out = bool(rest[k] > to_limit)
            start = now - float(elapsed[k])
            p = _Person(self, next(self.person_ids), -1, now - float(age_now[k]) * DAYS_PER_YEAR)
            p.form = f
            p.home = self.form_home[f]
            entry_age = float(age_now[k]) - float(elapsed[k]) / DAYS_PER_YEAR
            p.rec = _occupant(p, f, slot, start, entry_age)
            self.stays.append(p.rec)
            self.pools[f].occupied[slot] += 1
            self.start_stay(p, min(float(rest[k]), to_limit), aged_out=aged_out)

    def initial_waiting_list(self, waiting: pd.Series) -> None:
        """Put the children waiting at the 0-meting on the waiting lists, form by form.

        Each asks for the form as a referral from home does (the same priority, waiting
        policy and limits), alone (no sibling group), with an age from the form's age bands;
        their request is dated at the start of the run (how long they waited before is not
        known). Forms go in the model's order, so the list order is the same every run.
        """
        rng = self.initial_rng
        now = self.env.now
        for f, fid in enumerate(self.forms):
            n = int(waiting.get(fid, 0))
            if n == 0:
                continue
            for a in self.ages_at_entry(f, rng, n).tolist():
                p = _Person(self, next(self.person_ids), -1, now - a * DAYS_PER_YEAR)
                p.home = self.form_home[f]
                self.request(p, f)
        self.drain()

    def stationary_occupants(self) -> None:
        """Fill beds with the 0-meting's occupants, part-way through their stays.

        In a stationary system a bed observed on a given day holds a stay picked with
        probability proportional to its length, at a uniform point of it. A stay's length is
        the sampled length of stay cut short by the age limit, so entry age and stay are
        drawn together, and the chosen occupant's age now plus what remains of the stay never
        passes the limit.
        """
        rng = self.initial_rng
        now = self.env.now
        for f in range(self.n_forms):
            count = sum(self.initial_by_slot[f])
            if count == 0:
                continue
            n = max(512, 8 * count)
            entry_age = self.ages_at_entry(f, rng, n)
            unit = np.array([self.los_draws[f].next() for _ in range(n)])
            # slots with the same mean stay share one length-biased draw (usually all)
            means = [m[0] for m in self.los_mean[f]]
            groups: dict[float, list[int]] = {}
            for slot, occupants in enumerate(self.initial_by_slot[f]):
                if occupants:
                    groups.setdefault(means[slot], []).append(slot)
            chosen: dict[int, list[tuple[int, float, np.ndarray, np.ndarray]]] = {}
            for mean, slots in groups.items():
                drawn = unit * mean
                stay = np.minimum(drawn, (self.max_age[f] - entry_age) * DAYS_PER_YEAR)
                cut = drawn > stay
                size = sum(self.initial_by_slot[f][s] for s in slots)
                pick = rng.choice(n, size=size, p=stay / stay.sum())
                elapsed = stay[pick] * rng.random(size)
                k = 0
                for slot in slots:
                    chosen[slot] = []
                    for _ in range(self.initial_by_slot[f][slot]):
                        chosen[slot].append((int(pick[k]), float(elapsed[k]), stay, cut))
                        k += 1
            pool = self.pools[f]
            # occupants of a shared form come from the regions in the given numbers
            # in a random order: the first provider does not hold the first region's only
            given = self.initial_homes.get(f, [])
            homes = iter(self.initial_rng.permutation(given).tolist() if given else [])
            for slot in range(len(self.initial_by_slot[f])):
                for j, done, stay, cut in chosen.get(slot, []):
                    age_now = float(entry_age[j]) + done / DAYS_PER_YEAR
                    p = _Person(self, next(self.person_ids), -1, now - age_now * DAYS_PER_YEAR)
                    p.form = f
                    p.home = next(homes, self.form_home[f])
                    start = now - done
                    p.rec = _occupant(p, f, slot, start, float(entry_age[j]))
                    self.stays.append(p.rec)
                    pool.occupied[slot] += 1
                    self.start_stay(p, float(stay[j]) - done, aged_out=bool(cut[j]))

    def start(self) -> None:
        """Fill the 0-meting's beds and schedule the referrals and the yearly beds (once)."""
        if not self.started:
            self.initial_state()
            self.start_arrivals()
            self.start_yearly_capacity()
            self.started = True

    def run_until(self, day: float) -> None:
        """Simulate up to ``day``; what happens at ``day`` itself (1 January's beds) waits.

        A run paused at the start of a year can be :meth:`fork`-ed and given other beds for
        that year before it goes on; running on in steps gives exactly the stays of one
        uninterrupted run.
        """
        self.start()
        if day > self.env.now:
            self.env.run(until=day)

    def run(self) -> list[list[Any]]:
        """Run the whole horizon; return every stay."""
        self.run_until(self.spec.end_day)
        return self.stays

    def fork(self) -> _Run:
        """Return an independent copy of this paused run, to go on with other beds.

        The copy shares what never changes during a run (the spec and what was derived
        from it, the referrals drawn at the start) and copies what does: the clock and its
        pending events, beds and waiting lists, the young people with their open stays, the
        counters, and every random stream in its current state, so the copy draws the same
        numbers as the original would (common random numbers). Ended stays are not copied:
        the copy's :attr:`stays` holds the open ones and those that start after the fork.

        Copying by hand is ~20x faster than ``copy.deepcopy`` and keeps SimPy's event order:
        pending events keep their time, priority and sequence number.
        """
        if self.pending:
            raise RuntimeError("fork() needs a paused run (nobody half-way admitted)")
        new = object.__new__(_Run)
        new.__dict__.update(self.__dict__)
        # every stay a young person can still change is open (no end yet)
        records = {id(r): list(r) for r in self.stays if r[8] != r[8]}
        ended: dict[int, list[Any]] = {}
        people: dict[int, _Person] = {}
        entries: dict[int, list[Any]] = {}
        pool_index = {id(pool): i for i, pool in enumerate(self.pools)}
        make = _Person.__new__

        def person(old: _Person) -> _Person:
            found = people.get(id(old))
            if found is None:
                found = people[id(old)] = make(_Person)
                found.run, found.id, found.group = new, old.id, old.group
                found.t_birth, found.form, found.aged_out = old.t_birth, old.form, old.aged_out
                found.rec = record(old.rec) if old.rec else []
                held = old.held
                found.held = None if held is None else record(held)
                found.held_form = old.held_form
                found.origin = old.origin
                found.home = old.home
            return found

        def record(old: list[Any]) -> list[Any]:
            # an ended stay is still reachable from a cancelled waiting-list entry
            found = records.get(id(old))
            if found is None:
                found = ended[id(old)] = ended.get(id(old)) or list(old)
            return found

        def entry(old: list[Any]) -> list[Any]:
            found = entries.get(id(old))
            if found is None:
                found = entries[id(old)] = [old[0], old[1], person(old[2]), old[3]]
            return found

        def callback(old: Any) -> Any:
            # the engine schedules four kinds of callback; a new kind must be added here
            # (tests/test_engine.py checks that forked runs go on exactly as the original)
            owner = getattr(old, "__self__", None)
            if type(owner) is _Person:
                return person(owner).stay_over
            if owner is self:
                return new.arrive
            if isinstance(old, functools.partial):
                if old.func.__name__ == "set_year_capacity":
                    return functools.partial(new.set_year_capacity, *old.args)
                if old.func.__name__ == "expire":
                    p, pool, e, reason, destination = old.args
                    return functools.partial(
                        new.expire,
                        person(p),
                        new.pools[pool_index[id(pool)]],
                        entry(e),
                        reason,
                        destination,
                    )
            raise TypeError(f"cannot fork a run with the callback {old!r}")

        new.pending = deque()
        new.pools = []
        for pool in self.pools:
            copy = BedPool.__new__(BedPool)
            copy.slots, copy.granted, copy.prefer = pool.slots, new.pending, pool.prefer
            copy.capacity, copy.occupied = list(pool.capacity), list(pool.occupied)
            copy.seq, copy.n_waiting = pool.seq, pool.n_waiting
            new.pools.append(copy)
        for pool, copy in zip(self.pools, new.pools, strict=True):
            copy.queue = [entry(e) for e in pool.queue]  # same order: still a heap
        assert isinstance(self.env._eid, _Counter)
        env = _Env(self.env.now)
        env._eid = _Counter(self.env._eid.value)
        queue = []
        append = queue.append
        new_event = object.__new__
        for item in self.env._queue:
            event = item[3]
            callbacks = event.callbacks
            if len(callbacks) == 1 and type(getattr(callbacks[0], "__self__", None)) is _Person:
                copied_callbacks = [person(callbacks[0].__self__).stay_over]  # the usual case
            elif _is_dead_timer(event):
                continue
            else:
                copied_callbacks = [callback(c) for c in callbacks]
            copied = new_event(type(event))
            copied.__dict__.update(event.__dict__)
            copied.env = env
            copied.callbacks = copied_callbacks
            append((item[0], item[1], item[2], copied))
        heapq.heapify(queue)  # dead timers left out; the order of the rest is unchanged
        env._queue = queue
        new.env = env
        new.stays = list(records.values())
        new.capacity_by_year = [[list(row) for row in form] for form in self.capacity_by_year]
        new.person_ids = _Counter(self.person_ids.value)
        new.group_ids = _Counter(self.group_ids.value)
        new.route_u, new.subst_u, new.age_u, new.fail_u = (
            self.route_u.fork(),
            self.subst_u.fork(),
            self.age_u.fork(),
            self.fail_u.fork(),
        )
        new.los_draws = [d.fork() for d in self.los_draws]
        return new

    def compact(self) -> None:
        """Forget ended stays, timers of waits that are over and cancelled list entries.

        A search keeps only what later years can still change; neither changes what happens
        next (a dead timer does nothing when it fires).
        """
        self.stays = [r for r in self.stays if r[8] != r[8]]
        queue = [item for item in self.env._queue if not _is_dead_timer(item[3])]
        heapq.heapify(queue)
        self.env._queue = queue
        for pool in self.pools:
            # entries taken off the list lazily; keys are unique, so the order stays
            pool.queue = [entry for entry in pool.queue if entry[3]]
            heapq.heapify(pool.queue)


def _is_dead_timer(event: simpy.Event) -> bool:
    """Whether ``event`` only ends a wait that already ended (a bed was given meanwhile)."""
    callbacks = event.callbacks
    if callbacks is None or len(callbacks) != 1:
        return False
    cb = callbacks[0]
    return isinstance(cb, functools.partial) and cb.func.__name__ == "expire" and not cb.args[2][3]


class _Person:
    """A young person's state between events; called by SimPy when a stay is over."""

    __slots__ = (
        "aged_out",
        "form",
        "group",
        "held",
        "held_form",
        "home",
        "id",
        "origin",
        "rec",
        "run",
        "t_birth",
    )

    def __init__(self, run: _Run, person_id: int, group: int, t_birth: float) -> None:
        self.run = run
        self.id = person_id
        self.group = group
        self.t_birth = t_birth
        self.form = -1
        self.rec: list[Any] = []
        self.held: list[Any] | None = None
        self.held_form = -1
        self.aged_out = False
        self.origin = -1  # the bed a substituted ambulant trajectory stands in for
        self.home = -1  # the home region (regions sharing pools), else -1

    def stay_over(self, _: simpy.Event) -> None:
        self.run.stay_over(self)


def _occupant(p: _Person, form: int, slot: int, start: float, entry_age: float) -> list[Any]:
    """Return the stay record of someone in a bed at the start (admitted at ``start``)."""
    no_end = _NAN
    return [
        p.id,
        -1,
        form,
        slot,
        INITIAL,
        start,
        start,
        no_end,
        no_end,
        -1,
        ADMITTED,
        entry_age,
        p.home,
    ]


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(categories))


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a run goes on.

    A run allocates many small objects and frees them by reference counting; the cyclic
    collector only costs time there (a quarter of the run), so it waits until the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _children(seed: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """Derive the first ``n`` children of ``seed``, as ``seed.spawn(n)`` does on a fresh seed.

    ``spawn`` counts the children it gave out, so a seed used twice would give a second run
    other streams; deriving them from the seed's key keeps the same seed the same run.
    """
    return [
        np.random.SeedSequence(
            seed.entropy, spawn_key=(*seed.spawn_key, i), pool_size=seed.pool_size
        )
        for i in range(n)
    ]


def simulate_stays(spec: SimSpec, seed: np.random.SeedSequence) -> pd.DataFrame:
    """Run one replication and return its stays (see :data:`STAY_COLUMNS`).

    Times are days from 1 January of the first horizon year. ``provider`` is empty for a
    request that was never admitted; ``end_day`` and ``next`` are empty for a young person
    still in the bed (or waiting) when the run ends; ``outcome`` is ``admitted``,
    ``overflow`` (placed outside the region), ``aged_out`` (reached the form's age limit
    while waiting) or ``waiting``.
    """
    run = _Run(spec, seed)
    with collector_paused():
        rows = run.run()
    forms = run.forms
    dests = [*forms, *SINKS]
    table = np.array(rows, dtype=np.float64).reshape(len(rows), len(STAY_COLUMNS) + 1)
    cols = table.T
    n = len(rows)
    form_codes = cols[2].astype(np.int64)
    slots = cols[3].astype(np.int64)
    provider_codes = np.full(n, -1, dtype=np.int64)
    for f in range(run.n_forms):
        mask = (form_codes == f) & (slots >= 0)
        if mask.any():
            provider_codes[mask] = np.asarray(run.slot_provider[f])[slots[mask]]
    waited = cols[4].astype(np.int64)
    waited_labels = ["initial", "home", *forms]
    next_codes = cols[9].astype(np.int64)
    start, end = cols[6], cols[8]
    outcome = np.where(np.isnan(start) & np.isnan(end), WAITING, cols[10].astype(np.int64))
    frame = pd.DataFrame(
        {
            "person": cols[0].astype(np.int64),
            "sibling_group": cols[1].astype(np.int64),
            "care_form": _categorical(form_codes, forms),
            "provider": _categorical(provider_codes, run.providers),
            "waited_in": _categorical(waited + 2, waited_labels),
            "requested_day": cols[5].copy(),
            "start_day": start.copy(),
            "service_end_day": cols[7].copy(),
            "end_day": end.copy(),
            "next": _categorical(next_codes, dests),
            "outcome": _categorical(outcome, list(OUTCOMES)),
            "age_years": cols[11].copy(),
        }
    )
    if run.n_homes:
        frame["home"] = _categorical(cols[12].astype(np.int64), list(spec.homes))
    return frame
