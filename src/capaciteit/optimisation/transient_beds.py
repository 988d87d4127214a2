"""Minimal beds per year from where the region stands: a search by simulation.

Why not a formula
-----------------
Erlang's formulas give the beds a form needs *in steady state*: after the region has run
with the same instroom, stays and beds for many times the length of a stay. A region
starts instead from its 0-meting — beds occupied by young people who have been there for
years, waiting lists — and changes every year. Foster care stays last four to five years,
so the occupancy of pleegzorg moves towards its equilibrium over a decade, and a figure
for 2023 that ignores this overstates the need (or, when a waiting list builds up,
understates it later).

The search
----------
For every year in order, given the beds already decided for the earlier years, the
fewest beds per care form such that every norm of that year **holds on average** over the
replications (the mean on the right side of the norm; see :func:`capaciteit.core.stats.
meets`), and with one bed fewer it does not. Every figure comes with its 95% interval and a
verdict (met, missed, or not distinguishable from the norm), so a planner sees how sure
each side of the minimum is:

* Every replication is paused at 1 January of the year (:mod:`capaciteit.simulation.
  stepping`); a candidate is tried on forks of the paused runs, so every candidate sees the
  same young people, the same open stays and waiting lists and the same random numbers
  (common random numbers): a difference between two candidates is the beds, not the luck.
* All forms are searched together, because they are coupled: young people who wait in
  their bed for a place elsewhere (bed blocking) keep a crisis bed occupied when pleegzorg
  is full. A norm of a form is *owned* by that form (more of its own beds reach it), except
  the norm on the length of stays (crisis: at most 10% longer than 28 days), which only
  beds elsewhere can reach: it is owned by the form whose shortage blocks the most
  bed-days of that form that year. Each form's count is bracketed from the start value
  (the long-run figure in the first year, the previous year's minimum after that) by
  galloping steps and halving, all forms in the same simulations.
* The bracket is then made exact one form at a time: with every other form at its
  minimum, the form is tried with **one bed fewer**. If every norm still holds, it goes
  lower; otherwise that trial is the *evidence*: which norm one bed fewer fails, missed
  (the whole interval on the wrong side) or not provably met (the mean on the wrong side,
  the interval still containing the norm). Every minimum is reported with that evidence.

Deciding on the mean, not on the whole interval, keeps the answer the exact minimum up to
the noise (tested against an exact Markov chain) instead of adding a margin that grows
where a year has few requests (JeugdzorgPlus: a handful a year).

The same seed gives the same minimum on every executor: a replication's numbers depend
only on its own random stream and the beds.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from capaciteit.core import nl
from capaciteit.core.stats import Estimate, Verdict, meets, share, verdict
from capaciteit.domain.norms import OCCUPANCY, STAY, Norm
from capaciteit.simulation.spec import SimSpec
from capaciteit.simulation.stepping import Beds, LocalShards, Shards, Trial

Progress = Callable[[str], None]
MAX_JOINT_ROUNDS = 24
MAX_RAISE_ROUNDS = 12
MAX_EVIDENCE_PASSES = 4


def split_total(total: int, weights: np.ndarray) -> list[int]:
    """Spread ``total`` beds over providers in proportion to ``weights`` (largest remainder).

    The totals stay exact; ties go to the provider listed first; with no weight at all the
    beds are spread evenly.
    """
    w = np.asarray(weights, dtype="float64")
    if len(w) == 0:
        return []
    if w.sum() <= 0:
        w = np.ones(len(w))
    exact = w / w.sum() * int(total)
    base = np.floor(exact).astype("int64")
    remainder = int(total) - int(base.sum())
    order = np.argsort(-(exact - base), kind="stable")[:remainder]
    base[order] += 1
    return [int(v) for v in base]


@dataclass(frozen=True)
class Evaluation:
    """One candidate judged: per norm the estimate and verdict; mean blocking days.

    ``intrinsic`` holds, for stay norms, whether the stays *by themselves* (without waiting
    in the bed) are shown to meet the norm: if not, no number of beds can.
    """

    beds: tuple[int, ...]
    estimates: tuple[Estimate, ...]
    verdicts: tuple[Verdict, ...]
    intrinsic: tuple[Estimate | None, ...]
    blocking: np.ndarray


def judge(trial: Trial, norms: Sequence[Norm]) -> Evaluation:
    """Estimates (Wilson on the effective sample size) and verdicts of every norm."""
    estimates, verdicts, intrinsic = [], [], []
    for k, norm in enumerate(norms):
        trials = None if norm.family == OCCUPANCY else float(np.nansum(trial.trials[:, k]))
        est = share(trial.values[:, k], trials)
        estimates.append(est)
        verdicts.append(verdict(est, norm.kind, norm.target))
        intrinsic.append(share(trial.intrinsic[:, k], trials) if norm.family == STAY else None)
    return Evaluation(
        (),
        tuple(estimates),
        tuple(verdicts),
        tuple(intrinsic),
        trial.blocking.mean(axis=0),
    )


@dataclass(frozen=True)
class TransientResult:
    """The per-year minimal beds with their evidence.

    Attributes
    ----------
    beds
        Minimal beds per (care_form, year).
    levels
        Per (care_form, year, measure) at the minimum: ``beds``, ``kind``, ``target``,
        ``mean``, ``ci_low``, ``ci_high``, ``verdict`` (met / missed / undecided / no_data).
    evidence
        Per (care_form, year): ``minimal_beds``, ``reached`` (False: even the most beds
        tried leave a norm missed on average), the norm that one bed fewer fails
        (``evidence_care_form``, ``evidence_measure``, ``evidence_target``), its estimate
        at the minimum and with one bed fewer (``at_minimum_*``, ``at_one_fewer_*`` with
        ``mean``, ``ci_low``, ``ci_high``, ``verdict``) and ``why_not_one_fewer`` (Dutch).
    notes
        Dutch sentences: norms no number of beds of the form reaches that year.
    evaluations
        Candidates simulated (each in every replication).
    """

    beds: pd.Series
    levels: pd.DataFrame
    evidence: pd.DataFrame
    notes: list[str]
    evaluations: int
    replications: int
    time_s: float


class _YearSearch:
    """The search for one year (see the module docstring)."""

    def __init__(
        self,
        shards: Shards,
        forms: list[str],
        names: dict[str, str],
        norms: list[Norm],
        weights: dict[str, np.ndarray],
        caps: dict[str, int],
        year: int,
        all_forms: list[str] | None = None,
    ) -> None:
        self.shards = shards
        self.forms = forms
        # positions of the searched forms among the run's forms (blocking is per run form)
        self.position = [(all_forms or forms).index(f) for f in forms]
        self.all_forms = all_forms or forms
        self.names = names
        self.norms = norms
        self.weights = weights
        self.caps = caps
        self.year = year
        self.cache: dict[tuple[int, ...], Evaluation] = {}
        self.off: set[int] = set()  # norms no number of beds reaches this year
        self.notes: list[str] = []

    # ----------------------------------------------------------------- evaluation
    def run(self, vectors: Sequence[tuple[int, ...]]) -> list[Evaluation]:
        """Judge candidates (cached); the new ones are simulated together."""
        todo = [v for v in dict.fromkeys(vectors) if v not in self.cache]
        if todo:
            beds: list[Beds] = [
                {f: split_total(v[i], self.weights[f]) for i, f in enumerate(self.forms)}
                for v in todo
            ]
            for v, trial in zip(todo, self.shards.evaluate(beds, self.norms), strict=True):
                self.cache[v] = dataclasses.replace(judge(trial, self.norms), beds=v)
        return [self.cache[v] for v in vectors]

    def failing(self, e: Evaluation) -> list[tuple[int, int | None]]:
        """Norms not met on average, each with the form whose beds own it (None: no form)."""
        out: list[tuple[int, int | None]] = []
        for k, norm in enumerate(self.norms):
            if k in self.off or meets(e.estimates[k], norm.kind, norm.target):
                continue
            if norm.family != STAY:
                out.append((k, self.forms.index(norm.care_form)))
                continue
            by_themselves = e.intrinsic[k]
            if by_themselves is None or not meets(by_themselves, "max", norm.target):
                out.append((k, None))  # too long without any waiting: beds cannot help
                continue
            blocked = e.blocking[self.all_forms.index(norm.care_form)][self.position]
            out.append((k, int(np.argmax(blocked)) if blocked.sum() > 0 else None))
        return out

    def owners(self, e: Evaluation) -> set[int]:
        """Forms whose beds must grow for ``e``; norms no form owns are switched off."""
        owners = set()
        for k, owner in self.failing(e):
            if owner is None:
                self.switch_off(k, e)
            else:
                owners.add(owner)
        return owners

    def switch_off(self, k: int, e: Evaluation) -> None:
        """Leave a stay norm out for this year: the stays are too long by themselves."""
        self.off.add(k)
        norm = self.norms[k]
        est = e.intrinsic[k] or e.estimates[k]
        self.notes.append(
            f"{self.year}: {self.names[norm.care_form]} haalt de norm '{norm.describe()}' niet: "
            f"ook zonder te wachten op een plek elders is {_show(norm, est)}. Meer bedden "
            "lossen dit niet op; kort de verblijven in (los_change_pct) of herzie de norm."
        )

    def enough(self, e: Evaluation) -> bool:
        """Whether every norm still in play holds on average."""
        return not any(owner is not None for _, owner in self.failing(e))

    # ----------------------------------------------------------------- phases
    def bracket(self, start: list[int]) -> list[int]:
        """Joint phase: bracket every form's minimum in the same simulations."""
        n = len(self.forms)
        x = [min(max(0, v), self.caps[f]) for v, f in zip(start, self.forms, strict=True)]
        lo = [-1] * n
        hi: list[int | None] = [None] * n
        up = [max(1, math.ceil(0.02 * v)) for v in x]
        down = list(up)
        for _ in range(MAX_JOINT_ROUNDS):
            e = self.run([tuple(x)])[0]
            owners = self.owners(e)
            for i in range(n):
                known = hi[i]
                if i in owners:
                    lo[i] = max(lo[i], x[i])
                    if known is not None and known <= x[i]:  # the others went down: redo
                        hi[i] = None
                else:
                    hi[i] = x[i] if known is None else min(known, x[i])
                    if lo[i] >= x[i]:
                        lo[i] = -1
            busy = False
            for i, f in enumerate(self.forms):
                h = hi[i]
                if h is None:
                    if x[i] < self.caps[f]:
                        x[i] = min(self.caps[f], max(x[i], lo[i]) + up[i])
                        up[i] *= 2
                        busy = True
                elif h - lo[i] > 1:
                    busy = True
                    if lo[i] < 0:
                        x[i] = max(0, h - down[i])
                        down[i] *= 2
                    else:
                        x[i] = (lo[i] + h) // 2
                else:
                    x[i] = h
            if not busy:
                break
        return [h if h is not None else self.caps[f] for h, f in zip(hi, self.forms, strict=True)]

    def raise_until_met(self, x: list[int]) -> list[int]:
        """Raise the forms that own a missed norm until every norm holds on average."""
        step = [1] * len(x)
        for _ in range(MAX_RAISE_ROUNDS):
            e = self.run([tuple(x)])[0]
            owners = {i for i in self.owners(e) if x[i] < self.caps[self.forms[i]]}
            if not owners:
                break
            for i in owners:
                x[i] = min(self.caps[self.forms[i]], x[i] + step[i])
                step[i] *= 2
        return x

    def descend(self, i: int, x: list[int]) -> int:
        """Lowest beds of form ``i`` (the others fixed) that are enough; one fewer is not."""
        hi = x[i]  # shown enough
        lo = -1
        step = 1
        while hi - lo > 1:
            trial = max(lo + 1, hi - step) if lo < 0 else (lo + hi) // 2
            if lo < 0:
                step *= 2
            v = list(x)
            v[i] = trial
            if self.enough(self.run([tuple(v)])[0]):
                hi = trial
            else:
                lo = trial
        return hi

    def evidence(self, x: list[int]) -> list[int]:
        """Coordinate phase: each form with one bed fewer; go lower where that is enough."""
        for _ in range(MAX_EVIDENCE_PASSES):
            fewer = []
            for i in range(len(x)):
                if x[i] > 0:
                    v = list(x)
                    v[i] -= 1
                    fewer.append((i, tuple(v)))
            evals = self.run([v for _, v in fewer])
            lowered = False
            for (i, _), e in zip(fewer, evals, strict=True):
                if self.enough(e):
                    x[i] = self.descend(i, x)
                    lowered = True
            if not lowered:
                break
        return x


def transient_minimal_beds(
    spec: SimSpec,
    norms: list[Norm],
    start: dict[str, int],
    caps: dict[str, int],
    names: dict[str, str],
    replications: int,
    seed: int,
    shards: Callable[[SimSpec, Sequence[np.random.SeedSequence]], Shards] | None = None,
    off: dict[int, set[int]] | None = None,
    progress: Progress | None = None,
    searched: list[str] | None = None,
) -> TransientResult:
    """Search the minimal beds per care form and year (see the module docstring).

    ``searched`` limits the search to those forms (default: all); the others keep the
    spec's beds or places (ambulant care and housing are levers, not searched), and
    ``norms`` must then be norms of searched forms only.

    ``spec`` carries the scenario's beds, which weigh how a form's beds are spread over its
    providers (and the beds of a warm-up); ``start`` is the first year's start per form;
    ``caps`` the most beds tried per form; ``off`` per year index the norms left out before
    the search (stay norms shown unreachable by the analytic check).
    """
    say = progress or (lambda _: None)
    started = time.perf_counter()
    all_forms = [str(f) for f in spec.care_forms.index]
    forms = searched if searched is not None else all_forms
    seeds = np.random.SeedSequence(seed).spawn(replications)
    pool = (shards or LocalShards)(spec, seeds)
    capacity = spec.capacity
    level_rows: list[dict[str, object]] = []
    evidence_rows: list[dict[str, object]] = []
    beds: dict[tuple[str, int], int] = {}
    notes: list[str] = []
    evaluations = 0
    x = [int(start.get(f, 0)) for f in forms]
    try:
        for k, year in enumerate(spec.years):
            say(f"minimale bedden {year}: zoeken ({k + 1} van {len(spec.years)})")
            weights = {
                f: capacity.xs(f, level="care_form")[year].to_numpy(dtype="float64") for f in forms
            }
            search = _YearSearch(pool, forms, names, norms, weights, caps, year, all_forms)
            search.off |= (off or {}).get(k, set())
            x = search.bracket(x)
            x = search.raise_until_met(x)
            x = search.evidence(x)
            final = search.run([tuple(x)])[0]
            search.owners(final)  # notes for norms no beds reach, found at the end
            for i, f in enumerate(forms):
                beds[(f, year)] = x[i]
                evidence_rows.append(_evidence_row(search, x, i, final, year))
            for k_norm, norm in enumerate(norms):
                row = norm.judged_row(
                    year,
                    x[forms.index(norm.care_form)],
                    final.estimates[k_norm],
                    final.verdicts[k_norm],
                )
                level_rows.append({**row, "in_search": k_norm not in search.off})
            notes += search.notes
            evaluations += len(search.cache)
            say(f"minimale bedden {year}: vastgelegd")
            pool.commit({f: split_total(x[i], weights[f]) for i, f in enumerate(forms)})
    finally:
        pool.close()
    series = pd.Series(beds, dtype="int64", name="minimal_beds")
    series.index = series.index.set_names(["care_form", "year"])
    return TransientResult(
        beds=series.sort_index(),
        levels=pd.DataFrame(level_rows),
        evidence=pd.DataFrame(evidence_rows),
        notes=notes,
        evaluations=evaluations,
        replications=replications,
        time_s=time.perf_counter() - started,
    )


def _evidence_row(
    search: _YearSearch, x: list[int], i: int, final: Evaluation, year: int
) -> dict[str, object]:
    """Describe the minimum of form ``i`` and one bed fewer, in numbers and in Dutch."""
    f = search.forms[i]
    name = search.names[f]
    row: dict[str, object] = {"care_form": f, "year": year, "minimal_beds": x[i]}
    reached = not any(o == i for _, o in search.failing(final))
    row["reached"] = reached
    empty = {
        "evidence_norm": None,
        "evidence_care_form": None,
        "evidence_measure": None,
        "evidence_kind": None,
        "evidence_target": None,
        "at_minimum_mean": None,
        "at_minimum_ci_low": None,
        "at_minimum_ci_high": None,
        "at_minimum_verdict": None,
        "at_one_fewer_mean": None,
        "at_one_fewer_ci_low": None,
        "at_one_fewer_ci_high": None,
        "at_one_fewer_verdict": None,
    }
    row.update(empty)
    if not reached:
        failing = [k for k, o in search.failing(final) if o == i]
        k = failing[0]
        norm, est = search.norms[k], final.estimates[k]
        row.update(_numbers(norm, est, final.verdicts[k], None, None))
        row["evidence_norm"] = f"{search.names[norm.care_form]}: {norm.describe()}"
        row["why_not_one_fewer"] = (
            f"Ook met {nl.number(x[i])} plaatsen {name} haalt {search.names[norm.care_form]} "
            f"de norm '{norm.describe()}' gemiddeld niet ({_show(norm, est)}); er zijn tot "
            f"{nl.number(search.caps[f])} plaatsen geprobeerd."
        )
        return row
    if x[i] == 0:
        row["why_not_one_fewer"] = "Zonder plaatsen worden alle normen van dit jaar gehaald."
        return row
    v = list(x)
    v[i] -= 1
    fewer = search.run([tuple(v)])[0]
    failing = [k for k, owner in search.failing(fewer) if owner is not None]
    if not failing:  # the evidence passes ran out before this form settled
        row["why_not_one_fewer"] = (
            f"Ook met {nl.number(x[i] - 1)} plaatsen lijken alle normen gehaald; het zoeken "
            "stopte voordat dit jaar helemaal was uitgezocht."
        )
        return row
    # prefer a norm of the form itself, then the one furthest from being met
    failing.sort(
        key=lambda k: (
            search.norms[k].care_form != f,
            _distance(search.norms[k], fewer.estimates[k]),
        )
    )
    k = failing[0]
    norm = search.norms[k]
    row.update(
        _numbers(norm, final.estimates[k], final.verdicts[k], fewer.estimates[k], fewer.verdicts[k])
    )
    row["evidence_norm"] = f"{search.names[norm.care_form]}: {norm.describe()}"
    whose = "" if norm.care_form == f else f" van {search.names[norm.care_form]}"
    row["why_not_one_fewer"] = (
        f"Met {nl.number(x[i] - 1)} plaatsen wordt de norm '{norm.describe()}'{whose} "
        f"{_FEWER[fewer.verdicts[k]]}: {_show(norm, fewer.estimates[k])}. Met "
        f"{nl.number(x[i])} plaatsen: {_show(norm, final.estimates[k])}, "
        f"{_AT_MINIMUM[final.verdicts[k]]}."
    )
    return row


_FEWER = {
    "missed": "niet gehaald",
    "undecided": "gemiddeld niet gehaald (niet aantoonbaar: het interval omvat de norm)",
    "met": "gemiddeld niet gehaald",
    "no_data": "niet gemeten",
}
_AT_MINIMUM = {
    "met": "gehaald",
    "undecided": "gemiddeld gehaald (niet te onderscheiden van de norm)",
    "missed": "gemiddeld gehaald",
    "no_data": "geen aanvragen",
}


def _distance(norm: Norm, est: Estimate) -> float:
    """How far an estimate is from its norm (negative: on the wrong side)."""
    if math.isnan(est.mean):
        return math.inf
    return est.mean - norm.target if norm.kind == "min" else norm.target - est.mean


def _show(norm: Norm, est: Estimate) -> str:
    """Show an estimate as a Dutch percentage with its interval and what it measures."""
    span = nl.interval(est.low, est.high, "percent", 1)
    return f"{nl.percent(est.mean, 1)} {span} {norm.what()}".replace("  ", " ")


def _numbers(
    norm: Norm,
    at_min: Estimate,
    at_min_verdict: Verdict,
    fewer: Estimate | None,
    fewer_verdict: Verdict | None,
) -> dict[str, object]:
    return {
        "evidence_care_form": norm.care_form,
        "evidence_measure": norm.measure,
        "evidence_kind": norm.kind,
        "evidence_target": norm.target,
        "at_minimum_mean": at_min.mean,
        "at_minimum_ci_low": at_min.low,
        "at_minimum_ci_high": at_min.high,
        "at_minimum_verdict": at_min_verdict,
        "at_one_fewer_mean": None if fewer is None else fewer.mean,
        "at_one_fewer_ci_low": None if fewer is None else fewer.low,
        "at_one_fewer_ci_high": None if fewer is None else fewer.high,
        "at_one_fewer_verdict": fewer_verdict,
    }
