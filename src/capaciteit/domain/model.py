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

In every policy the waiting list is served by ``priority`` of the form the young person is
in while waiting (lower first; waiting at home counts as ``home_priority`` from
``model.yaml``), first come first served within a priority. This is how crisis gets
priority: children blocking a crisis bed move on first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from capaciteit.core.tables import Column, TableSpec

STANDARD_CARE_FORMS = ("pleegzorg", "gezinshuis", "residentieel", "jeugdzorgplus", "crisis")
SINKS = ("thuis", "ambulant", "zelfstandig", "wlz", "buiten_regio")
OVERFLOW_SINK = "buiten_regio"
WAITING_POLICIES = ("queue", "block", "overflow")
LOS_DISTRIBUTIONS = ("exponential", "lognormal", "gamma", "empirical")
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
                    description="where young people go when they reach max_age_years",
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
                    description="exponential, lognormal, gamma or empirical",
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
                    description="coefficient of variation (lognormal, gamma)",
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
            description="Cost per bed-day per care form; a provider row overrides the form.",
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
                    min=0,
                    unit="EUR/day",
                    description="tariff per bed-day",
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
        The 0-meting, indexed by ``(provider, care_form)``: ``beds`` and ``occupied``.
    instroom
        ``arrivals_per_year`` indexed by ``(care_form, year)``.
    seasonality
        ``factor`` indexed by ``(care_form, month)``; empty when the model has none.
    los
        Indexed by ``care_form``: ``distribution``, ``mean_days``, ``cv``.
    los_observed
        Observed stays (``care_form``, ``los_days``) for empirical distributions.
    routing
        ``share`` indexed by ``(from_care_form, to)``.
    age
        Age bands at entry per care form; empty when the model has none (no age rule).
    costs
        ``cost_per_bed_day_eur`` indexed by ``(care_form, provider)``; provider ``""`` is
        the form's default. Use :meth:`cost_per_bed_day`.
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

    def cost_per_bed_day(self, care_form: str, provider: str) -> float | None:
        """Tariff per bed-day of ``care_form`` at ``provider`` (its own row or the default)."""
        cost = self.costs["cost_per_bed_day_eur"]
        for key in ((care_form, provider), (care_form, "")):
            if key in cost.index:
                return float(cost.loc[key])
        return None
