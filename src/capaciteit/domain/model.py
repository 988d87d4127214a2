"""The region model: care forms, providers, the 0-meting and the flows between forms.

A :class:`RegionModel` is a set of pandas tables keyed by stable ids (care form ids such as
``pleegzorg``, provider codes such as ``P01``), never by list positions. The tables are the
ones in ``models/<region>/`` after validation; :data:`TABLES` declares their columns, which
also produces the format tables in the README.

Waiting policies (column ``waiting_policy`` of ``care_forms``) say what happens to a young
person who needs a place in a form that is full:

``queue``
    wait at home on the regional waiting list; someone moving on from another form leaves
    that bed and waits at home (this makes an open network a Jackson network).
``block``
    wait in the current placement (bed blocking after service); someone without a
    placement (a new referral) waits at home. Served first come, first served.
``overflow``
    wait like ``block`` for at most ``max_wait_days``, then be placed outside the region
    (``buiten_regio``). ``max_wait_days = 0`` refuses at once (a loss system).

Kinds of care form (column ``kind``): the transformation moves care "van verblijf naar
ambulant" and needs somewhere for young adults to go, so not every form is a bed.

``verblijf``
    a bed (the default): pleegzorg, gezinshuis, residentieel, JeugdzorgPlus, crisis.
``ambulant``
    a place in an ambulant programme (caseload, e.g. intensive family treatment): a
    substitution lever sends a share of the referrals to a verblijf form here *when a place
    is free*; when it is full the referral goes to the verblijf form after all. After the
    trajectory a share ``failure_share`` of those substituted still needs the verblijf form
    they were referred to (they ask for it from home); the rest follow the routing.
``woonplek``
    18+ housing (Wmo, begeleid wonen, kamertraining) with places: a young person who ages
    out (``age_out_to``) or is routed there and finds it full keeps the bed they are in
    (waiting policy ``block``), counted as blocked bed-days of that bed.

Ambulant and housing places never block: their clients leave the place when the
trajectory ends and ask for a next form, if any, from home.

In every policy the waiting list is served by ``priority`` of the form the young person is
in while waiting (lower first; waiting at home counts as ``home_priority`` from
``model.yaml``), first come first served within a priority. This is how crisis gets
priority: children blocking a crisis bed move on first.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capaciteit._pandas import as_float
from capaciteit.core.tables import Column, TableSpec

STANDARD_CARE_FORMS = ("pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus", "crisis")
SINKS = ("thuis", "ambulant", "zelfstandig", "wlz", "buiten_regio")
KINDS = ("verblijf", "ambulant", "woonplek")
VERBLIJF, AMBULANT, WOONPLEK = KINDS
OVERFLOW_SINK = "buiten_regio"
WAITING_POLICIES = ("queue", "block", "overflow")
LOS_DISTRIBUTIONS = ("exponential", "lognormal", "gamma", "weibull", "empirical")
FUNDING = ("occupancy", "availability")

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "care_forms",
            description="One row per care form (verblijfsvorm) and how its waiting list works.",
            key=("care_form",),
            columns=(
                Column("care_form", "id", description="care form id, e.g. pleegzorg"),
                Column("name", "str", description="Dutch name shown in reports"),
                Column(
                    "kind",
                    "str",
                    required=False,
                    default="verblijf",
                    choices=KINDS,
                    description="verblijf (a bed), ambulant (a caseload place) or woonplek (18+)",
                ),
                Column(
                    "failure_share",
                    "float",
                    required=False,
                    min=0,
                    max=1,
                    description="ambulant only: share of substituted trajectories still "
                    "needing the verblijf form afterwards",
                ),
                Column(
                    "waiting_policy",
                    "str",
                    choices=WAITING_POLICIES,
                    description="queue (wait at home), block (wait in current bed) or overflow",
                ),
                Column(
                    "max_wait_days",
                    "float",
                    required=False,
                    min=0,
                    unit="days",
                    description="overflow only: longest wait before buiten_regio",
                ),
                Column(
                    "max_queue_length",
                    "int",
                    required=False,
                    min=0,
                    description="waiting list size; newcomers beyond it go buiten_regio",
                ),
                Column(
                    "priority",
                    "int",
                    required=False,
                    default=1,
                    min=0,
                    description="priority on waiting lists of those in this form (lower first)",
                ),
                Column(
                    "max_age_years",
                    "float",
                    required=False,
                    default=18.0,
                    min=0,
                    min_exclusive=True,
                    unit="years",
                    description="uitstroom at this age (18; pleegzorg may continue to 21)",
                ),
                Column(
                    "age_out_to",
                    "id",
                    required=False,
                    default="zelfstandig",
                    description="where young people go at max_age_years: a sink or a woonplek",
                ),
                Column(
                    "max_stay_days",
                    "float",
                    required=False,
                    min=0,
                    min_exclusive=True,
                    unit="days",
                    description="norm for the stay (crisis: 28); longer stays are counted",
                ),
                Column(
                    "funding",
                    "str",
                    required=False,
                    default="occupancy",
                    choices=FUNDING,
                    description="occupancy (pay per occupied bed-day) or availability",
                ),
                Column(
                    "sibling_group_share",
                    "float",
                    required=False,
                    default=0.0,
                    min=0,
                    max=1,
                    description="share of arrivals that are a sibling group",
                ),
                Column(
                    "sibling_group_size",
                    "int",
                    required=False,
                    default=2,
                    min=2,
                    description="children in a sibling group",
                ),
            ),
        ),
        TableSpec(
            "providers",
            description="Providers (aanbieders) by code.",
            key=("provider",),
            columns=(
                Column("provider", "id", description="provider code, e.g. P01"),
                Column("name", "str", description="provider name"),
            ),
        ),
        TableSpec(
            "beds",
            description="The 0-meting: beds per provider and care form in the baseline year.",
            key=("provider", "care_form"),
            columns=(
                Column("provider", "id", description="provider code"),
                Column("care_form", "id", description="care form id"),
                Column("beds", "int", min=0, unit="beds", description="beds (places) contracted"),
                Column(
                    "occupied",
                    "int",
                    required=False,
                    min=0,
                    unit="beds",
                    description="occupied on the day of the 0-meting (initial state)",
                ),
                Column(
                    "waiting",
                    "int",
                    required=False,
                    default=0,
                    min=0,
                    unit="children",
                    description="children on this provider's waiting list for this form at "
                    "the 0-meting",
                ),
            ),
        ),
        TableSpec(
            "instroom",
            description="New referrals per care form per year.",
            key=("care_form", "year"),
            columns=(
                Column("care_form", "id", description="care form id"),
                Column("year", "int", min=1900, max=2200, description="calendar year"),
                Column(
                    "arrivals_per_year",
                    "float",
                    min=0,
                    unit="children/year",
                    description="new referrals (children) in that year",
                ),
            ),
        ),
        TableSpec(
            "seasonality",
            required=False,
            description="Optional monthly factors on instroom (mean 1 per care form).",
            key=("care_form", "month"),
            columns=(
                Column("care_form", "id", description="care form id"),
                Column("month", "int", min=1, max=12, description="month 1-12"),
                Column("factor", "float", min=0, description="rate factor; mean 1 over months"),
            ),
        ),
        TableSpec(
            "los",
            description="Length of stay (verblijfsduur) per care form.",
            key=("care_form",),
            columns=(
                Column("care_form", "id", description="care form id"),
                Column(
                    "distribution",
                    "str",
                    choices=LOS_DISTRIBUTIONS,
                    description="exponential, lognormal, gamma, weibull or empirical",
                ),
                Column(
                    "mean_days",
                    "float",
                    required=False,
                    min=0,
                    min_exclusive=True,
                    unit="days",
                    description="mean stay (not for empirical)",
                ),
                Column(
                    "cv",
                    "float",
                    required=False,
                    min=0,
                    min_exclusive=True,
                    description="coefficient of variation (lognormal, gamma, weibull)",
                ),
            ),
        ),
        TableSpec(
            "los_observed",
            required=False,
            description="Observed stays for empirical length-of-stay distributions.",
            key=(),
            columns=(
                Column("care_form", "id", description="care form id"),
                Column(
                    "los_days",
                    "float",
                    min=0,
                    min_exclusive=True,
                    unit="days",
                    description="one observed stay",
                ),
            ),
        ),
        TableSpec(
            "los_provider",
            required=False,
            description="Optional mean length of stay per provider, overriding the form's mean "
            "(same distribution and cv).",
            key=("provider", "care_form"),
            columns=(
                Column("provider", "id", description="provider code"),
                Column("care_form", "id", description="care form id"),
                Column(
                    "mean_days",
                    "float",
                    min=0,
                    min_exclusive=True,
                    unit="days",
                    description="mean stay at this provider (trajectduur)",
                ),
            ),
        ),
        TableSpec(
            "routing",
            description="Doorstroom: where young people go after a stay (shares sum to 1).",
            key=("from_care_form", "to"),
            columns=(
                Column("from_care_form", "id", description="care form the stay was in"),
                Column("to", "id", description="next care form or sink (thuis, ambulant, ...)"),
                Column("share", "float", min=0, max=1, description="share of stays going there"),
            ),
        ),
        TableSpec(
            "age",
            required=False,
            description="Optional age at entry per care form (uniform within a band).",
            key=("care_form", "age_min_years"),
            columns=(
                Column("care_form", "id", description="care form id"),
                Column("age_min_years", "float", min=0, unit="years", description="band start"),
                Column("age_max_years", "float", min=0, unit="years", description="band end"),
                Column("share", "float", min=0, max=1, description="share of entries in band"),
            ),
        ),
        TableSpec(
            "costs",
            description="Cost per bed-day (or per trajectory) per care form; a provider row "
            "overrides the form.",
            key=("care_form", "provider"),
            columns=(
                Column("care_form", "id", description="care form id"),
                Column(
                    "provider",
                    "id",
                    required=False,
                    default="",
                    description="provider code, empty for all",
                ),
                Column(
                    "cost_per_bed_day_eur",
                    "float",
                    required=False,
                    min=0,
                    unit="EUR/day",
                    description="tariff per bed-day (per place-day for ambulant care)",
                ),
                Column(
                    "cost_per_trajectory_eur",
                    "float",
                    required=False,
                    min=0,
                    unit="EUR",
                    description="instead of a day tariff: price of one trajectory (ambulant)",
                ),
            ),
        ),
    )
}


@dataclass(frozen=True)
class ModelMeta:
    """Contents of ``model.yaml``."""

    name: str
    baseline_year: int
    schema_version: int
    synthetic: bool
    description: str
    home_priority: int
    path: Path


@dataclass(frozen=True)
class RegionModel:
    """A validated region model; every table is keyed by ids.

    Attributes
    ----------
    care_forms
        Indexed by ``care_form``.
    providers
        Indexed by ``provider``.
    beds
        The 0-meting, indexed by ``(provider, care_form)``: ``beds``, ``occupied`` and
        ``waiting`` (children on the provider's waiting list, 0 when not given).
    instroom
        ``arrivals_per_year`` indexed by ``(care_form, year)``.
    seasonality
        ``factor`` indexed by ``(care_form, month)``; empty when the model has none.
    los
        Indexed by ``care_form``: ``distribution``, ``mean_days``, ``cv``.
    los_observed
        Observed stays (``care_form``, ``los_days``) for empirical distributions.
    los_provider
        ``mean_days`` indexed by ``(provider, care_form)``: a provider's own mean stay;
        empty when the model has none. Use :meth:`mean_los_days`.
    routing
        ``share`` indexed by ``(from_care_form, to)``.
    age
        Age bands at entry per care form; empty when the model has none (no age rule).
    costs
        ``cost_per_bed_day_eur`` or ``cost_per_trajectory_eur`` indexed by
        ``(care_form, provider)``; provider ``""`` is the form's default. Use
        :meth:`cost_per_bed_day`.
    """

    meta: ModelMeta
    care_forms: pd.DataFrame
    providers: pd.DataFrame
    beds: pd.DataFrame
    instroom: pd.DataFrame
    seasonality: pd.DataFrame
    los: pd.DataFrame
    los_observed: pd.DataFrame
    routing: pd.DataFrame
    age: pd.DataFrame
    costs: pd.DataFrame
    los_provider: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)

    @property
    def care_form_ids(self) -> list[str]:
        """Care form ids in file order."""
        return [str(x) for x in self.care_forms.index]

    @property
    def provider_ids(self) -> list[str]:
        """Provider codes in file order."""
        return [str(x) for x in self.providers.index]

    def sinks(self) -> tuple[str, ...]:
        """Destinations that leave the modelled beds."""
        return SINKS

    def baseline_beds(self) -> pd.Series:
        """Beds in the 0-meting per care form (summed over providers)."""
        beds = self.beds["beds"].groupby(level="care_form").sum()
        return beds.reindex(self.care_forms.index, fill_value=0).astype("int64")

    def kind_of(self, care_form: str) -> str:
        """Return the kind of ``care_form``: ``verblijf``, ``ambulant`` or ``woonplek``."""
        if "kind" not in self.care_forms.columns:
            return VERBLIJF
        return str(self.care_forms.at[care_form, "kind"])

    def forms_of_kind(self, *kinds: str) -> list[str]:
        """Care form ids of the given kinds, in file order."""
        return [f for f in self.care_form_ids if self.kind_of(f) in kinds]

    def form_mean_los_days(self, care_form: str) -> float:
        """Return the form's mean stay (observed mean for an empirical distribution)."""
        if str(self.los.at[care_form, "distribution"]) == "empirical":
            observed = self.los_observed.loc[self.los_observed["care_form"] == care_form]
            return float(observed["los_days"].mean())
        return as_float(self.los.at[care_form, "mean_days"])

    def mean_los_days(self, care_form: str, provider: str | None = None) -> float:
        """Mean stay of ``care_form`` at ``provider`` (its los_provider row, else the form's)."""
        table = self.los_provider
        if provider is not None and not table.empty and (provider, care_form) in table.index:
            return as_float(table.at[(provider, care_form), "mean_days"])
        return self.form_mean_los_days(care_form)

    def trajectory_price(self, care_form: str, provider: str) -> float | None:
        """Price per trajectory of ``care_form`` at ``provider``, if priced that way."""
        for key in ((care_form, provider), (care_form, "")):
            if key not in self.costs.index:
                continue
            if not math.isnan(as_float(self.costs.at[key, "cost_per_bed_day_eur"])):
                return None
            if "cost_per_trajectory_eur" in self.costs.columns:
                price = as_float(self.costs.at[key, "cost_per_trajectory_eur"])
                return None if math.isnan(price) else price
            return None
        return None

    def cost_per_bed_day(self, care_form: str, provider: str) -> float | None:
        """Tariff per bed-day of ``care_form`` at ``provider`` (its own row or the default).

        A price per trajectory is spread over the trajectory's mean length at that
        provider, so a place-day costs the same on average.
        """
        for key in ((care_form, provider), (care_form, "")):
            if key not in self.costs.index:
                continue
            day = as_float(self.costs.at[key, "cost_per_bed_day_eur"])
            if not math.isnan(day):
                return day
            if "cost_per_trajectory_eur" in self.costs.columns:
                trajectory = as_float(self.costs.at[key, "cost_per_trajectory_eur"])
                if not math.isnan(trajectory):
                    return trajectory / self.mean_los_days(care_form, provider or None)
            return math.nan
        return None
