"""Forked and stepped runs go on exactly as the original (common random numbers).

The minimal-beds search pauses every replication at 1 January, tries beds on forks of the
paused runs, and then goes on with the chosen beds (:mod:`capaciteit.simulation.stepping`).
That is only sound if a paused, compacted or forked run produces exactly the records one
uninterrupted run produces, and if a fork's beds change nothing before the fork. Records
are compared per young person and request, field by field (bit for bit).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capaciteit.domain.norms import norms_of
from capaciteit.io.scenario_files import load_scenario
from capaciteit.simulation.engine import HOME, _Run
from capaciteit.simulation.judge import norm_values
from capaciteit.simulation.measures import StayColumns, blocking_days
from capaciteit.simulation.replications import replication_seeds, run_replications
from capaciteit.simulation.spec import SimSpec, compile_spec
from capaciteit.simulation.stepping import Shard
from tests.conftest import TRANSFORMATIE
from tests.test_bounds import load_case, scenarios

# raw record fields (capaciteit.simulation.engine.STAY_COLUMNS)
PERSON, GROUP, FORM, SLOT, WAITED_IN, REQUESTED, START, SERVICE_END, END = range(9)
AGE = 11
Key = tuple[int, float, int]
Record = tuple[Any, ...]

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def plain(rec: list[Any]) -> Record:
    """A record as a tuple in which NaN compares equal (None)."""
    return tuple(None if isinstance(x, float) and math.isnan(x) else x for x in rec)


def key(rec: list[Any]) -> Key:
    """A young person's request: who, when, for which form."""
    return (int(rec[PERSON]), float(rec[REQUESTED]), int(rec[FORM]))


def by_key(records: list[list[Any]]) -> dict[Key, Record]:
    out = {key(r): plain(r) for r in records}
    assert len(out) == len(records), "two records of one request"
    return out


def is_open(rec: list[Any]) -> bool:
    return math.isnan(rec[END])


def full_run(spec: SimSpec, seed: np.random.SeedSequence) -> list[list[Any]]:
    return _Run(spec, seed).run()


def bounds_of(spec: SimSpec) -> list[float]:
    return [float(x) for x in spec.year_start_day]


def spec_of(case: dict[str, Any], tmp: Path) -> tuple[Any, SimSpec]:
    scenario = load_case(case, tmp)
    return scenario, compile_spec(scenario)


def snapshot(run: _Run) -> tuple[Any, ...]:
    """What a run is at a pause: its clock, records, pending events, beds and streams."""
    return (
        run.env.now,
        [plain(r) for r in run.stays],
        sorted((item[0], item[1], item[2]) for item in run.env._queue),
        [(list(p.capacity), list(p.occupied), p.n_waiting, len(p.queue)) for p in run.pools],
        [[list(row) for row in form] for form in run.capacity_by_year],
        (run.route_u._i, run.subst_u._i, run.age_u._i, [d._i for d in run.los_draws]),
        (run.person_ids.value, run.group_ids.value, run.next_arrival),
    )


# --------------------------------------------------------------------------- (a) steps
def check_stepped(spec: SimSpec, seed: np.random.SeedSequence) -> None:
    full = by_key(full_run(spec, seed))
    run = _Run(spec, seed)
    produced: dict[Key, Record] = {}
    for bound in bounds_of(spec):
        run.run_until(bound)
        for rec in run.stays:
            if not is_open(rec):
                assert key(rec) not in produced, "a record ended twice"
                produced[key(rec)] = plain(rec)
        run.compact()
        assert all(is_open(r) for r in run.stays)
    assert run.env.now == spec.end_day
    still_open = by_key(run.stays)
    assert still_open == {k: r for k, r in full.items() if r[END] is None}
    assert not set(still_open) & set(produced)
    assert {**produced, **still_open} == full


@SETTINGS
@given(case=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_a_run_in_yearly_steps_is_one_run(
    case: dict[str, Any], seed: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _, spec = spec_of(case, tmp_path_factory.mktemp("steps"))
    check_stepped(spec, np.random.SeedSequence(seed))


# --------------------------------------------------------------------------- (b) a fork
def check_fork(spec: SimSpec, seed: np.random.SeedSequence, year: int, compact: bool) -> None:
    bounds = bounds_of(spec)
    a, b = bounds[year], bounds[year + 1]
    original = _Run(spec, seed)
    original.run_until(a)
    if compact:
        original.compact()
    before = snapshot(original)
    fork = original.fork()
    fork.run_until(b)
    assert snapshot(original) == before, "running the fork changed the original"
    original.run_until(b)
    # the fork holds the stays open at the fork and those that began after it
    expected = {
        key(r): plain(r) for r in original.stays if is_open(r) or r[END] >= a or r[REQUESTED] >= a
    }
    assert by_key(fork.stays) == expected
    assert [plain(r) for r in fork.stays] == [
        plain(r) for r in original.stays if key(r) in expected
    ]
    # and both go on to the end as one uninterrupted run
    fork.run_until(spec.end_day)
    original.run_until(spec.end_day)
    full = by_key(full_run(spec, seed))
    assert by_key(original.stays) == {k: r for k, r in full.items() if k in by_key(original.stays)}
    if not compact:
        assert by_key(original.stays) == full
    forked = by_key(fork.stays)
    assert forked == {k: r for k, r in full.items() if k in forked}
    assert set(forked) == {k for k, r in full.items() if r[END] is None or r[END] >= a}


@SETTINGS
@given(
    case=scenarios(),
    seed=st.integers(0, 2**32 - 1),
    year=st.integers(0, 2),
    compact=st.booleans(),
)
def test_a_fork_goes_on_as_the_original(
    case: dict[str, Any],
    seed: int,
    year: int,
    compact: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _, spec = spec_of(case, tmp_path_factory.mktemp("fork"))
    check_fork(spec, np.random.SeedSequence(seed), year, compact)


# --------------------------------------------------------------------------- (c) other beds
def history_before(rec: list[Any], a: float) -> Record:
    """What was decided about a request before ``a``."""

    def before(x: float) -> float | None:
        return x if not math.isnan(x) and x < a else None

    start = before(rec[START])
    return (
        rec[PERSON],
        rec[GROUP],
        rec[FORM],
        rec[WAITED_IN],
        rec[REQUESTED],
        rec[AGE],
        start,
        rec[SLOT] if start is not None else None,
        before(rec[SERVICE_END]),
        before(rec[END]),
    )


def referrals(records: list[list[Any]], first_new_person: int) -> set[Record]:
    """Requests of young people who arrived after the fork: their first request each."""
    first: dict[int, list[Any]] = {}
    for r in records:
        if r[PERSON] >= first_new_person and (
            r[PERSON] not in first or r[REQUESTED] < first[r[PERSON]][REQUESTED]
        ):
            first[r[PERSON]] = r
    return {(r[PERSON], r[GROUP], r[FORM], r[REQUESTED], r[AGE]) for r in first.values()}


def check_other_beds(
    spec: SimSpec, seed: np.random.SeedSequence, year: int, beds: list[list[int]]
) -> tuple[bool, bool]:
    """Fork at 1 January of ``year`` with ``beds`` per form and slot; return whether the
    forks differ from the original, and whether some form got no beds.
    """
    bounds = bounds_of(spec)
    a, b = bounds[year], bounds[year + 1]
    original = _Run(spec, seed)
    original.run_until(a)
    before = snapshot(original)
    forks = [original.fork(), original.fork()]
    for fork in forks:
        for f, slots in enumerate(beds):
            for slot, value in enumerate(slots):
                fork.capacity_by_year[f][slot][year] = value
        fork.run_until(spec.end_day)
    assert snapshot(original) == before, "a fork's beds reached the original"
    first_new_person = original.person_ids.value
    original.run_until(spec.end_day)
    one, two = ([plain(r) for r in fork.stays] for fork in forks)
    assert one == two, "two forks with the same beds differ"
    fork = forks[0]
    # nothing before the fork changes: the requests open at the fork have the same past
    open_at_fork = [r for r in original.stays if r[REQUESTED] < a and (is_open(r) or r[END] >= a)]
    assert sorted(history_before(r, a) for r in fork.stays if r[REQUESTED] < a) == sorted(
        history_before(r, a) for r in open_at_fork
    )
    # every fork record changes only at or after the fork
    open_map = {key(o): o for o in open_at_fork}
    for r in fork.stays:
        for field in (START, SERVICE_END, END):
            t = r[field]
            if not math.isnan(t) and t < a:
                assert key(r) in open_map and open_map[key(r)][field] == t
    # common random numbers: the same young people are referred after the fork
    assert referrals(fork.stays, first_new_person) == referrals(original.stays, first_new_person)
    # the beds were used: a form without beds admits nobody from home that year
    closed = [f for f, slots in enumerate(beds) if sum(slots) == 0]
    for r in fork.stays:
        if r[FORM] in closed and r[WAITED_IN] == HOME and not math.isnan(r[START]):
            assert not a <= r[START] < b, r
    same_beds = [plain(r) for r in original.stays if is_open(r) or r[END] >= a or r[REQUESTED] >= a]
    return one != same_beds, bool(closed)


@st.composite
def beds_for(draw: st.DrawFn, spec: SimSpec) -> list[list[int]]:
    forms = [str(f) for f in spec.care_forms.index]
    slots = [
        sum(1 for f, _ in spec.capacity.index if str(f) == fid) for fid in forms
    ]  # slots per form, in the spec's provider order
    return [[draw(st.integers(0, 5)) for _ in range(n)] for n in slots]


@SETTINGS
@given(case=scenarios(), seed=st.integers(0, 2**32 - 1), year=st.integers(0, 2), data=st.data())
def test_a_fork_with_other_beds_differs_only_from_the_fork_on(
    case: dict[str, Any],
    seed: int,
    year: int,
    data: st.DataObject,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _, spec = spec_of(case, tmp_path_factory.mktemp("beds"))
    beds = data.draw(beds_for(spec))
    check_other_beds(spec, np.random.SeedSequence(seed), year, beds)


# --------------------------------------------------------------------------- (d) the search
def own_beds(spec: SimSpec, year: int) -> dict[str, list[int]]:
    """The scenario's beds of ``year`` per form, per slot in the spec's provider order."""
    out: dict[str, list[int]] = {}
    for (fid, _), value in zip(spec.capacity.index, spec.capacity[year], strict=True):
        out.setdefault(str(fid), []).append(int(value))
    return out


def check_shard(scenario: Any, spec: SimSpec, seed: int, replications: int) -> None:
    norms = norms_of(scenario)
    result = run_replications(spec, replications, seed)
    values, trials, _ = norm_values(result, norms)
    forms = [str(f) for f in spec.care_forms.index]
    bounds = bounds_of(spec)
    with_stays = set(result.stays["replication"].unique().tolist())
    occupancy_norm = np.array([n.family == "occupancy_rate" for n in norms], dtype=bool)
    shard = Shard(spec, replication_seeds(seed, replications))
    for k, year in enumerate(spec.years):
        beds = own_beds(spec, year)
        (trial,) = shard.evaluate([beds], norms)
        for r in range(replications):
            compare = np.ones(len(norms), dtype=bool)
            if r not in with_stays:
                # judge.norm_values leaves a replication without stays at NaN, also its
                # occupancy (a known bug: tests/test_bounds.py, xfail)
                compare = ~occupancy_norm
            np.testing.assert_allclose(
                trial.values[r, compare],
                values[r, k, compare],
                rtol=1e-12,
                atol=1e-12,
                err_msg=f"replication {r}, {year}",
            )
            np.testing.assert_array_equal(trial.trials[r], trials[r, k])
            stays = result.stays[result.stays["replication"] == r]
            cols = StayColumns.from_frame(stays, forms)
            np.testing.assert_allclose(
                trial.blocking[r],
                blocking_days(cols, len(forms), bounds[k], bounds[k + 1]),
                rtol=1e-12,
                atol=1e-9,
            )
        shard.commit(beds)
    assert shard.year == len(spec.years)
    # the runs stepped through the horizon hold what the ordinary run left open
    for r, run in enumerate(shard.runs):
        stays = result.stays[result.stays["replication"] == r]
        still = stays[stays["end_day"].isna()]
        assert sorted(key(rec) for rec in run.stays) == sorted(
            zip(
                still["person"].tolist(),
                still["requested_day"].tolist(),
                [forms.index(str(f)) for f in still["care_form"]],
                strict=True,
            )
        )


@SETTINGS
@given(case=scenarios(), replications=st.integers(2, 3))
def test_the_search_measures_what_the_simulation_judges(
    case: dict[str, Any], replications: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    scenario, spec = spec_of(case, tmp_path_factory.mktemp("shard"))
    check_shard(scenario, spec, scenario.seed, replications)


# --------------------------------------------------------------------------- the example
@pytest.fixture(scope="module")
def example() -> tuple[Any, SimSpec]:
    scenario = load_scenario(TRANSFORMATIE)
    return scenario, compile_spec(scenario)


def test_the_example_region_in_steps_and_forks(example: tuple[Any, SimSpec]) -> None:
    _, spec = example
    seed = replication_seeds(20230101, 1)[0]
    check_stepped(spec, seed)
    check_fork(spec, seed, 2, compact=True)
    # closing residentieel in 2025 changes that year and later, and nothing before
    forms = [str(f) for f in spec.care_forms.index]
    beds = [own_beds(spec, 2025)[f] for f in forms]
    beds[forms.index("residentieel")] = [0] * len(beds[forms.index("residentieel")])
    differs, closed = check_other_beds(spec, seed, 2, beds)
    assert differs and closed


def test_the_example_region_search_measures_what_the_simulation_judges(
    example: tuple[Any, SimSpec],
) -> None:
    scenario, spec = example
    check_shard(scenario, spec, 5, 2)
