"""The SimPy flow simulation: young people moving through finite beds.

Concepts
--------
*Young person*
    A SimPy process (:meth:`_Run.journey`). A referral arrives from home (instroom), asks
    for a bed in a care form, stays for a sampled length of stay, and is then routed to the
    next care form (doorstroom) or out of care (uitstroom to a sink) — or ages out at the
    form's ``max_age_years``.
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

Randomness comes from one :class:`numpy.random.SeedSequence` per replication, split into
separate streams per purpose (arrivals per form, length of stay per form, routing, ...), so
that two scenarios run with the same seed share their random numbers where they can (common
random numbers) and the same seed always gives the same stays, bit for bit.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Callable, Generator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import simpy

from capaciteit._pandas import as_float
from capaciteit.domain.model import OVERFLOW_SINK, SINKS
from capaciteit.simulation.spec import SimSpec

DAYS_PER_YEAR = 365.25
HOME = -1
INITIAL = -2
ADMITTED, OVERFLOW, WAITING, AGED_OUT = 0, 1, 2, 3
OUTCOMES = ("admitted", "overflow", "waiting", "aged_out")
_EXPIRED_WAIT, _EXPIRED_AGE = -1, -2
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


class _Draws:
    """Buffered draws from one generator: one numpy call per ``_BUFFER`` values."""

    __slots__ = ("_buf", "_draw", "_i")

    def __init__(self, draw: Callable[[int], np.ndarray]) -> None:
        self._draw = draw
        self._buf: list[float] = []
        self._i = 0

    def next(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self._draw(_BUFFER).tolist()
            self._i = 0
        value = self._buf[self._i]
        self._i += 1
        return value


def _unit_los_draw(
    rng: np.random.Generator, distribution: str, cv: float, observed: np.ndarray | None
) -> Callable[[int], np.ndarray]:
    """Return a sampler of stays with mean 1 (multiplied by the mean later)."""
    if distribution == "exponential":
        return rng.standard_exponential
    if distribution == "gamma":
        shape = 1.0 / (cv * cv)
        return lambda n: rng.standard_gamma(shape, n) / shape
    if distribution == "lognormal":
        sigma2 = math.log1p(cv * cv)
        sigma = math.sqrt(sigma2)
        return lambda n: rng.lognormal(-sigma2 / 2, sigma, n)
    assert observed is not None
    unit = observed / observed.mean()
    return lambda n: rng.choice(unit, n)


class BedPool:
    """The beds of one care form across providers, with one regional waiting list.

    ``occupied`` may exceed ``capacity`` after beds are removed (afbouw): no one is sent
    away; the excess closes as young people leave.
    """

    __slots__ = ("capacity", "n_waiting", "occupied", "queue", "seq", "slots")

    def __init__(self, slots: Sequence[int], capacity: Sequence[int]) -> None:
        self.slots = list(slots)
        self.capacity = list(capacity)
        self.occupied = [0] * len(self.slots)
        self.queue: list[list[Any]] = []
        self.seq = itertools.count()
        self.n_waiting = 0

    def free_slot(self) -> int:
        """Index of the provider with the most free beds, or -1 when all are full."""
        best, best_free = -1, 0
        for i, cap in enumerate(self.capacity):
            free = cap - self.occupied[i]
            if free > best_free:
                best, best_free = i, free
        return best

    def take_now(self) -> int:
        """Take a bed at once if one is free and nobody waits; -1 otherwise."""
        if self.n_waiting:
            return -1
        i = self.free_slot()
        if i >= 0:
            self.occupied[i] += 1
        return i

    def enqueue(self, priority: int, event: simpy.Event) -> list[Any]:
        """Put ``event`` on the waiting list; it succeeds with the slot index when served."""
        entry = [priority, next(self.seq), event, True]
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
            entry[3] = False
            self.n_waiting -= 1
            self.occupied[i] += 1
            entry[2].succeed(i)


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
        self.age_out = [self.sink_index[str(s)] for s in cf["age_out_to"]]
        self.sib_share = [float(x) for x in cf["sibling_group_share"]]
        self.sib_size = [int(x) for x in cf["sibling_group_size"]]
        self.has_age = not spec.age_bands.empty
        self.max_age = [float(x) if self.has_age else math.inf for x in cf["max_age_years"]]
        self.years = spec.years
        self.year_bounds = [float(x) for x in spec.year_start_day.iloc[1:-1]]

        streams = seed.spawn(6)
        arrival_seeds = streams[0].spawn(self.n_forms)
        los_seeds = streams[1].spawn(self.n_forms)
        self.arrival_rngs = [np.random.default_rng(s) for s in arrival_seeds]
        self.route_u = _Draws(np.random.default_rng(streams[2]).random)
        self.subst_u = _Draws(np.random.default_rng(streams[3]).random)
        age_rng = np.random.default_rng(streams[4])
        self.age_u = _Draws(age_rng.random)
        self.initial_rng = np.random.default_rng(streams[5])

        self.los_mean: list[list[float]] = []
        self.los_draws: list[_Draws] = []
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
            self.los_draws.append(_Draws(_unit_los_draw(rng, dist, cv, observed)))
            self.los_mean.append([mean * as_float(spec.los_factor.at[fid, y]) for y in self.years])

        self.routes: list[tuple[list[float], list[int]]] = []
        for fid in forms:
            shares = spec.routing.loc[fid]
            targets = [self._dest(str(t)) for t in shares.index]
            cum = np.cumsum(shares.to_numpy(dtype="float64")).tolist()
            cum[-1] = 1.0 + 1e-12
            self.routes.append((cum, targets))

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

        self.env = simpy.Environment(initial_time=-spec.warm_up_days)
        self.pools = [
            BedPool(range(len(self.slot_provider[i])), [c[0] for c in self.capacity_by_year[i]])
            for i in range(self.n_forms)
        ]
        self.stays: list[list[Any]] = []
        self.person_ids = itertools.count()
        self.group_ids = itertools.count()

    # ------------------------------------------------------------------ helpers
    def _dest(self, target: str) -> int:
        return self.form_index[target] if target in self.form_index else self.sink_index[target]

    def year_idx(self, t: float) -> int:
        return bisect.bisect_right(self.year_bounds, t)

    def sample_age(self, form: int) -> float:
        bands = self.age_bands[form]
        if bands is None:
            return 0.0
        cum, spans = bands
        lo, hi = spans[bisect.bisect_right(cum, self.age_u.next())]
        return lo + (hi - lo) * self.age_u.next()

    def sample_los(self, form: int, year: int) -> float:
        return self.los_draws[form].next() * self.los_mean[form][year]

    # ------------------------------------------------------------------ processes
    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        """Generate all referrals: Poisson per form, piecewise-constant rates."""
        times: list[np.ndarray] = []
        forms: list[np.ndarray] = []
        sizes: list[np.ndarray] = []
        for fid, seg in self.spec.arrival_segments.groupby("care_form", sort=False):
            f = self.form_index[str(fid)]
            rng = self.arrival_rngs[f]
            share, size = self.sib_share[f], self.sib_size[f]
            per_event = 1.0 + share * (size - 1)
            for start, end, rate in zip(
                seg["start_day"], seg["end_day"], seg["children_per_day"], strict=True
            ):
                n = int(rng.poisson(rate / per_event * (end - start)))
                if n == 0:
                    continue
                times.append(np.sort(rng.uniform(start, end, n)))
                forms.append(np.full(n, f, dtype=np.int64))
                is_group = rng.random(n) < share if share > 0 else np.zeros(n, dtype=bool)
                sizes.append(np.where(is_group, size, 1))
        if not times:
            return
        t_all = np.concatenate(times)
        order = np.argsort(t_all, kind="stable")
        t_sorted: list[float] = t_all[order].tolist()
        f_sorted: list[int] = np.concatenate(forms)[order].tolist()
        s_sorted: list[int] = np.concatenate(sizes)[order].tolist()
        env = self.env
        for t, f, k in zip(t_sorted, f_sorted, s_sorted, strict=True):
            yield env.timeout(t - env.now)
            year = self.year_idx(t)
            subst = self.subst[year][f]
            if subst is not None:
                cum, dst = subst
                j = bisect.bisect_right(cum, self.subst_u.next())
                if j < len(dst):
                    f = dst[j]
            group = next(self.group_ids) if k > 1 else -1
            for _ in range(k):
                env.process(self.journey(f, self.sample_age(f), group))

    def yearly_capacity(self) -> Generator[simpy.Event, Any, None]:
        """Set each year's beds on 1 January."""
        for y, bound in enumerate(self.year_bounds, start=1):
            yield self.env.timeout(bound - self.env.now)
            for f, pool in enumerate(self.pools):
                pool.set_capacity([c[y] for c in self.capacity_by_year[f]])

    def journey(
        self,
        form: int,
        age: float,
        group: int,
        slot: int = -1,
        remaining_days: float = 0.0,
        elapsed_days: float = 0.0,
    ) -> Generator[simpy.Event, Any, None]:
        """One young person, from referral (or an initial bed) until they leave care.

        An initial occupant starts in ``slot`` of ``form``, ``elapsed_days`` into a stay
        that has ``remaining_days`` to go.
        """
        env = self.env
        person = next(self.person_ids)
        t_birth = env.now - age * DAYS_PER_YEAR
        stays = self.stays
        held: list[Any] | None = None  # the stay whose bed is kept while waiting
        held_form = -1
        if slot >= 0:
            start = env.now - elapsed_days
            rec = [
                person,
                group,
                form,
                slot,
                INITIAL,
                start,
                start,
                None,
                None,
                None,
                ADMITTED,
                age - elapsed_days / DAYS_PER_YEAR,
            ]
            stays.append(rec)
            los = remaining_days
        else:
            rec = None
            los = 0.0
        while True:
            if rec is None:
                # ask for a bed in `form`
                pool = self.pools[form]
                now = env.now
                waited_in = held_form if held is not None else HOME
                rec = [
                    person,
                    group,
                    form,
                    -1,
                    waited_in,
                    now,
                    None,
                    None,
                    None,
                    None,
                    ADMITTED,
                    (now - t_birth) / DAYS_PER_YEAR,
                ]
                stays.append(rec)
                slot = pool.take_now()
                if slot < 0 and held is not None and self.policy[form] == "queue":
                    # Under `queue` the young person leaves the current bed to wait at home.
                    # For a move within the same form that bed is now free: try again.
                    self._leave(held, held_form, now, form)
                    held, held_form = None, -1
                    rec[4] = HOME
                    slot = pool.take_now()
                if slot < 0:
                    if pool.n_waiting >= self.max_queue[form] or self.max_wait[form] <= 0:
                        slot = -1
                    else:
                        prio = (
                            self.priority[held_form]
                            if held is not None
                            else (self.spec.home_priority)
                        )
                        event = env.event()
                        entry = pool.enqueue(prio, event)
                        # The wait ends early at max_wait_days (overflow) or when the young
                        # person reaches the form's age limit (aged out), whichever is first.
                        to_age = (self.max_age[form] - as_float(rec[11])) * DAYS_PER_YEAR
                        limit = min(self.max_wait[form], to_age)
                        if limit < math.inf:
                            timer = env.timeout(max(limit, 0.0))
                            reason = (
                                _EXPIRED_AGE if to_age < self.max_wait[form] else (_EXPIRED_WAIT)
                            )
                            timer.callbacks.append(_expiry_callback(pool, entry, event, reason))
                        slot = yield event
                    if slot == _EXPIRED_AGE:
                        now = env.now
                        rec[8] = now
                        rec[9] = self.age_out[form]
                        rec[10] = AGED_OUT
                        if held is not None:
                            self._leave(held, held_form, now, self.age_out[form])
                        return
                    if slot < 0:
                        # buiten_regio: refused or waited too long
                        now = env.now
                        rec[8] = now
                        rec[9] = self.sink_index[OVERFLOW_SINK]
                        rec[10] = OVERFLOW
                        if held is not None:
                            self._leave(held, held_form, now, self.sink_index[OVERFLOW_SINK])
                        return
                now = env.now
                if held is not None:
                    self._leave(held, held_form, now, form)
                    held, held_form = None, -1
                rec[3] = slot
                rec[6] = now
                los = self.sample_los(form, self.year_idx(now))
            # in a bed of `form` at `slot`
            now = env.now
            age_now = (now - t_birth) / DAYS_PER_YEAR
            to_max_age = (self.max_age[form] - age_now) * DAYS_PER_YEAR
            aged_out = to_max_age < los
            yield env.timeout(max(0.0, min(los, to_max_age)))
            now = env.now
            rec[7] = now
            if aged_out:
                nxt = self.age_out[form]
            else:
                cum, targets = self.routes[form]
                nxt = targets[bisect.bisect_right(cum, self.route_u.next())]
                if nxt < self.n_forms and (now - t_birth) / DAYS_PER_YEAR >= self.max_age[nxt]:
                    nxt = self.age_out[form]
            if nxt >= self.n_forms:
                self._leave(rec, form, now, nxt)
                return
            held, held_form = rec, form
            form = nxt
            rec = None

    def _leave(self, rec: list[Any], form: int, now: float, nxt: int) -> None:
        rec[8] = now
        rec[9] = nxt
        self.pools[form].release(rec[3])

    def initial_state(self) -> None:
        """Fill beds with the 0-meting's occupants, part-way through their stays.

        In a stationary system a bed observed on a given day holds a stay picked with
        probability proportional to its length, at a uniform point of it. A stay's length is
        the sampled length of stay cut short by the age limit, so entry age and stay are
        drawn together, and the chosen occupant's age now plus what remains of the stay never
        passes the limit.
        """
        rng = self.initial_rng
        for f in range(self.n_forms):
            count = sum(self.initial_by_slot[f])
            if count == 0:
                continue
            n = max(512, 8 * count)
            entry_age = np.zeros(n)
            bands = self.age_bands[f]
            if bands is not None:
                cum, spans = bands
                band = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), len(spans) - 1)
                lo = np.array([s[0] for s in spans])[band]
                hi = np.array([s[1] for s in spans])[band]
                entry_age = lo + (hi - lo) * rng.random(n)
            stay = np.array([self.los_draws[f].next() for _ in range(n)]) * self.los_mean[f][0]
            stay = np.minimum(stay, (self.max_age[f] - entry_age) * DAYS_PER_YEAR)
            pick = rng.choice(n, size=count, p=stay / stay.sum())
            elapsed = stay[pick] * rng.random(count)
            k = 0
            pool = self.pools[f]
            for slot, occupants in enumerate(self.initial_by_slot[f]):
                for _ in range(occupants):
                    j = int(pick[k])
                    age = float(entry_age[j]) + float(elapsed[k]) / DAYS_PER_YEAR
                    pool.occupied[slot] += 1
                    self.env.process(
                        self.journey(
                            f,
                            age,
                            -1,
                            slot,
                            remaining_days=float(stay[j] - elapsed[k]),
                            elapsed_days=float(elapsed[k]),
                        )
                    )
                    k += 1

    def run(self) -> list[list[Any]]:
        self.initial_state()
        self.env.process(self.arrivals())
        self.env.process(self.yearly_capacity())
        self.env.run(until=self.spec.end_day)
        return self.stays


def _expiry_callback(
    pool: BedPool, entry: list[Any], event: simpy.Event, reason: int
) -> Callable[[simpy.Event], None]:
    def on_timeout(_: simpy.Event) -> None:
        if not event.triggered:
            pool.cancel(entry)
            event.succeed(reason)

    return on_timeout


def _categorical(codes: np.ndarray, categories: list[str]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(categories))


def simulate_stays(spec: SimSpec, seed: np.random.SeedSequence) -> pd.DataFrame:
    """Run one replication and return its stays (see :data:`STAY_COLUMNS`).

    Times are days from 1 January of the first horizon year. ``provider`` is empty for a
    request that was never admitted; ``end_day`` and ``next`` are empty for a young person
    still in the bed (or waiting) when the run ends; ``outcome`` is ``admitted``,
    ``overflow`` (placed outside the region), ``aged_out`` (reached the form's age limit
    while waiting) or ``waiting``.
    """
    run = _Run(spec, seed)
    rows = run.run()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if n else [()] * len(STAY_COLUMNS)
    forms = run.forms
    dests = [*forms, *SINKS]
    slot_provider = run.slot_provider

    def num(values: tuple[Any, ...]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype="float64")

    form_codes = np.array(cols[2], dtype=np.int64)
    slots = np.array(cols[3], dtype=np.int64)
    provider_codes = np.full(n, -1, dtype=np.int64)
    for f in range(run.n_forms):
        mask = (form_codes == f) & (slots >= 0)
        if mask.any():
            provider_codes[mask] = np.asarray(slot_provider[f])[slots[mask]]
    waited = np.array(cols[4], dtype=np.int64)
    waited_labels = ["initial", "home", *forms]
    next_codes = np.array([-1 if v is None else v for v in cols[9]], dtype=np.int64)
    outcome = np.array(cols[10], dtype=np.int64)
    end = num(cols[8])
    start = num(cols[6])
    outcome = np.where(np.isnan(start) & np.isnan(end), WAITING, outcome)
    frame = pd.DataFrame(
        {
            "person": np.array(cols[0], dtype=np.int64),
            "sibling_group": np.array(cols[1], dtype=np.int64),
            "care_form": _categorical(form_codes, forms),
            "provider": _categorical(provider_codes, run.providers),
            "waited_in": _categorical(waited + 2, waited_labels),
            "requested_day": num(cols[5]),
            "start_day": start,
            "service_end_day": num(cols[7]),
            "end_day": end,
            "next": _categorical(next_codes, dests),
            "outcome": _categorical(outcome, list(OUTCOMES)),
            "age_years": num(cols[11]),
        }
    )
    return frame
