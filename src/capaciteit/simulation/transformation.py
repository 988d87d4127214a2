"""The transformation in figures: ambulant against verblijf, 18+ housing, blocked beds.

The regions steer on "de verhouding ambulant/bed", on young adults who cannot move on
("18+ wachtend op woonplek") and on the beds they block. These figures add up the KPIs of
the care forms by kind (:mod:`capaciteit.domain.model`) per replication and year, and split
blocked bed-days by the bed's provider and the form the young person waits for, so each
gets a mean and a 95% interval across replications like every KPI.

Per replication and year (:data:`TRANSFORMATION_COLUMNS`):

``verblijf_beds``, ``ambulant_places``, ``housing_places``
    beds and places that year (inputs: no interval).
``ambulant_per_verblijf_places``
    ambulant places per verblijf bed (an input).
``verblijf_occupied``, ``ambulant_in_care``
    time-average occupied beds and ambulant places in use.
``ambulant_per_verblijf_in_care``
    young people in ambulant care per young person in a bed (time-averages).
``ambulant_started``, ``verblijf_admissions``
    ambulant trajectories started and admissions to a bed that year.
``diverted_count``
    referrals substitution sent to ambulant care that found it full and went to a bed.
``housing_waiting_in_bed``, ``housing_waiting_at_home``
    time-average number of young adults waiting for a housing place, in a bed
    ("18+ wachtend op woonplek") or at home.
``housing_blocked_bed_days``
    bed-days of beds kept by young adults waiting for housing.
``verblijf_cost_eur``, ``ambulant_cost_eur``
    what the beds and the ambulant places cost that year.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from capaciteit.core.intervals import area
from capaciteit.core.stats import at_least
from capaciteit.domain.model import AMBULANT, VERBLIJF, WOONPLEK
from capaciteit.simulation.spec import SimSpec

TRANSFORMATION_COLUMNS = (
    "verblijf_beds",
    "ambulant_places",
    "housing_places",
    "ambulant_per_verblijf_places",
    "verblijf_occupied",
    "ambulant_in_care",
    "ambulant_per_verblijf_in_care",
    "ambulant_started",
    "verblijf_admissions",
    "diverted_count",
    "housing_waiting_in_bed",
    "housing_waiting_at_home",
    "housing_blocked_bed_days",
    "verblijf_cost_eur",
    "ambulant_cost_eur",
)
INPUTS = frozenset(
    {"verblijf_beds", "ambulant_places", "housing_places", "ambulant_per_verblijf_places"}
)
BLOCKING_COLUMNS = ("replication", "care_form", "provider", "waiting_for", "year", "blocked_days")
STILL_WAITING = "(onbekend)"
"""``waiting_for`` when no request was made as the stay ended (cannot happen in a run)."""


def kinds(spec: SimSpec) -> dict[str, str]:
    """Care form id -> kind (``verblijf`` for models without the column)."""
    cf = spec.care_forms
    if "kind" not in cf.columns:
        return {str(f): VERBLIJF for f in cf.index}
    return {str(f): str(k) for f, k in cf["kind"].items()}


def has_transformation(spec: SimSpec) -> bool:
    """Whether the model has ambulant or housing forms (else these figures say nothing)."""
    return any(k != VERBLIJF for k in kinds(spec).values())


def blocking_per_replication(spec: SimSpec, stays: pd.DataFrame) -> pd.DataFrame:
    """Blocked bed-days per replication, bed (form, provider), form waited for, and year.

    A stay blocks its bed from the end of its service until it leaves the bed. While
    blocking, the young person may ask for more than one form in turn (a foster child
    waiting for a gezinshuis turns 18 and then waits for housing): each request made from
    that bed owns the time from when it was made until the next one or the bed is left.
    """
    bounds = spec.year_start_day.to_numpy(dtype="float64")
    blocked = stays[stays["start_day"].notna() & stays["service_end_day"].notna()]
    blocked = blocked[
        (blocked["end_day"].isna()) | (blocked["end_day"] > blocked["service_end_day"])
    ]
    if blocked.empty:
        return pd.DataFrame(columns=list(BLOCKING_COLUMNS))
    beds = pd.DataFrame(
        {
            "stay": np.arange(len(blocked)),
            "replication": blocked["replication"].to_numpy(),
            "person": blocked["person"].to_numpy(),
            "care_form": blocked["care_form"].astype(str).to_numpy(),
            "provider": blocked["provider"].astype(str).to_numpy(),
            "from": blocked["service_end_day"].to_numpy(dtype="float64"),
            "to": blocked["end_day"].fillna(np.inf).to_numpy(dtype="float64"),
        }
    )
    asked = stays.loc[
        stays["waited_in"].isin(list(spec.care_forms.index)),
        ["replication", "person", "waited_in", "requested_day", "care_form"],
    ]
    asked = pd.DataFrame(
        {
            "replication": asked["replication"].to_numpy(),
            "person": asked["person"].to_numpy(),
            "held": asked["waited_in"].astype(str).to_numpy(),
            "at": asked["requested_day"].to_numpy(dtype="float64"),
            "waiting_for": asked["care_form"].astype(str).to_numpy(),
        }
    )
    segments = beds.merge(
        asked,
        left_on=["replication", "person", "care_form"],
        right_on=["replication", "person", "held"],
        how="left",
    )
    inside = (segments["at"] >= segments["from"] - 1e-9) & (segments["at"] <= segments["to"])
    segments = segments[inside].sort_values(["stay", "at"], kind="stable")
    # each request owns the time until the next request from the same bed, or the end
    following = segments.groupby("stay")["at"].shift(-1)
    segments = segments.assign(
        begin=np.maximum(segments["at"].to_numpy(), segments["from"].to_numpy()),
        until=following.fillna(segments["to"]).to_numpy(),
    )
    unmatched = beds[~beds["stay"].isin(segments["stay"])]
    if len(unmatched):  # no request from the bed recorded (should not happen): say so
        segments = pd.concat(
            [
                segments,
                unmatched.assign(
                    waiting_for=STILL_WAITING, begin=unmatched["from"], until=unmatched["to"]
                ),
            ],
            ignore_index=True,
        )
    rows = []
    keys = ["replication", "care_form", "provider", "waiting_for"]
    for key, group in segments.groupby(keys, sort=True):
        days = np.diff(area(group["begin"].to_numpy(), group["until"].to_numpy(), bounds))
        days = np.maximum(days, 0.0)
        for k, year in enumerate(spec.years):
            if days[k] > 0:
                rows.append((*key, year, float(days[k])))
    return pd.DataFrame(rows, columns=list(BLOCKING_COLUMNS))


def summarise_blocking(per_replication: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Mean and 95% interval of blocked bed-days per bed, form waited for and year.

    A replication without blocking for a combination counts as 0 days (not as missing).
    """
    columns = ["care_form", "provider", "waiting_for", "year", "mean", "ci_low", "ci_high"]
    if per_replication.empty:
        return pd.DataFrame(columns=columns)
    keys = ["care_form", "provider", "waiting_for", "year"]
    table = per_replication.pivot_table(
        index=keys, columns="replication", values="blocked_days", aggfunc="sum", fill_value=0.0
    ).reindex(columns=range(replications), fill_value=0.0)
    rows = []
    for key, values in zip(table.index, table.to_numpy(dtype="float64"), strict=True):
        est = at_least(values, 0.0)
        rows.append((*key, est.mean, est.low, est.high))
    return pd.DataFrame(rows, columns=columns)


def transformation_per_replication(
    spec: SimSpec, kpis: pd.DataFrame, blocking: pd.DataFrame
) -> pd.DataFrame:
    """Return the figures of the module docstring per (replication, year).

    ``kpis`` is the per-replication KPI table (index replication, care_form, year) and
    ``blocking`` :func:`blocking_per_replication`'s table of the same run.
    """
    kind = kinds(spec)
    by_kind = {k: [f for f, v in kind.items() if v == k] for k in (VERBLIJF, AMBULANT, WOONPLEK)}
    frame = kpis.reset_index()
    frame["kind"] = frame["care_form"].astype(str).map(kind)
    grouped = frame.groupby(["replication", "year", "kind"])[
        [
            "capacity_beds",
            "occupied_beds",
            "admissions",
            "diverted_count",
            "waiting_mean",
            "waiting_in_bed_mean",
            "cost_eur",
        ]
    ].sum()

    def part(k: str, column: str) -> pd.Series:
        if not by_kind[k]:
            index = grouped.reset_index().set_index(["replication", "year"]).index.unique()
            return pd.Series(0.0, index=index)
        return grouped.xs(k, level="kind")[column].astype("float64")

    beds, places = part(VERBLIJF, "capacity_beds"), part(AMBULANT, "capacity_beds")
    occupied, in_care = part(VERBLIJF, "occupied_beds"), part(AMBULANT, "occupied_beds")
    housing_blocked = pd.Series(0.0, index=beds.index)
    if not blocking.empty and by_kind[WOONPLEK]:
        waits = blocking[blocking["waiting_for"].isin(by_kind[WOONPLEK])]
        summed = waits.groupby(["replication", "year"])["blocked_days"].sum()
        housing_blocked = summed.reindex(beds.index, fill_value=0.0)
    in_bed = part(WOONPLEK, "waiting_in_bed_mean")
    out = pd.DataFrame(
        {
            "verblijf_beds": beds,
            "ambulant_places": places,
            "housing_places": part(WOONPLEK, "capacity_beds"),
            "ambulant_per_verblijf_places": (places / beds).where(beds > 0, math.nan),
            "verblijf_occupied": occupied,
            "ambulant_in_care": in_care,
            "ambulant_per_verblijf_in_care": (in_care / occupied).where(occupied > 0, math.nan),
            "ambulant_started": part(AMBULANT, "admissions"),
            "verblijf_admissions": part(VERBLIJF, "admissions"),
            "diverted_count": part(AMBULANT, "diverted_count"),
            "housing_waiting_in_bed": in_bed,
            "housing_waiting_at_home": part(WOONPLEK, "waiting_mean") - in_bed,
            "housing_blocked_bed_days": housing_blocked,
            "verblijf_cost_eur": part(VERBLIJF, "cost_eur"),
            "ambulant_cost_eur": part(AMBULANT, "cost_eur"),
        }
    )
    return out[list(TRANSFORMATION_COLUMNS)]


def summarise_transformation(per_replication: pd.DataFrame) -> pd.DataFrame:
    """Long table: year, kpi, mean, ci_low, ci_high (no interval on inputs)."""
    rows = []
    for year, group in per_replication.groupby(level="year"):
        for kpi in TRANSFORMATION_COLUMNS:
            values = group[kpi].to_numpy(dtype="float64")
            est = at_least(values, 0.0)
            low, high = (math.nan, math.nan) if kpi in INPUTS else (est.low, est.high)
            rows.append(
                {
                    "year": int(str(year)),
                    "kpi": kpi,
                    "mean": est.mean,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows, columns=["year", "kpi", "mean", "ci_low", "ci_high"])
