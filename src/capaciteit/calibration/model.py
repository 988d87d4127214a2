"""What a calibration returns: the model tables, the estimates and the curves behind them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

ESTIMATE_COLUMNS = ("quantity", "care_form", "key", "estimate", "low", "high", "n", "note")
"""Columns of :attr:`Calibration.estimates`."""

QUANTITIES = {
    "instroom": "instroom (kinderen per jaar)",
    "seasonality": "seizoensfactor",
    "routing": "doorstroom (aandeel)",
    "los_mean": "gemiddelde verblijfsduur (dagen)",
    "los_cv": "variatiecoëfficiënt verblijfsduur",
    "los_provider_mean": "gemiddelde verblijfsduur bij aanbieder (dagen)",
    "age_share": "aandeel leeftijdsklasse",
    "occupied": "bezet op de peildatum",
    "beds": "bedden op de peildatum",
}
"""The quantities estimated, with their Dutch names (for the report)."""


@dataclass(frozen=True)
class Calibration:
    """A region model estimated from stay records.

    Attributes
    ----------
    tables
        The region model's tables as written to disk (``care_forms``, ``providers``,
        ``beds``, ``instroom``, ``seasonality``, ``los``, ``los_provider``, ``routing``,
        ``age``, ``costs``), each a plain frame with the columns of
        :data:`capaciteit.domain.model.TABLES`.
    estimates
        One row per estimated number (:data:`ESTIMATE_COLUMNS`): ``quantity`` (a key of
        :data:`QUANTITIES`), ``care_form``, ``key`` (the year, month, destination, provider
        or age band; ``""`` for the form itself), the point ``estimate``, the 95% interval
        ``low``-``high`` (NaN where there is none, e.g. a count on the peildatum), ``n`` the
        records it rests on, and a Dutch ``note`` ("te weinig verblijven …") or ``""``.
        A quantity that could not be estimated has a row with NaN estimate and a note.
    los_fits
        One row per care form and family (``exponential``, ``lognormal``, ``weibull``):
        ``care_form``, ``family``, ``aic``, ``mean_days``, ``cv``, ``chosen`` (bool),
        ``n`` stays, ``events`` ended stays.
    survival
        The Kaplan-Meier curve per care form: ``care_form``, ``days``, ``survival``,
        ``low``, ``high`` (95% band) and ``fitted`` (the chosen family's survival at
        ``days``).
    instroom_quarters
        Entries from home per care form and quarter: ``care_form``, ``quarter``
        (``2024-K1``), ``entries``, ``exposure_years`` (the part of the quarter observed).
    routing_counts
        ``from_care_form``, ``to``, ``count``, ``share``, ``low``, ``high``.
    window_start, extract_date, zero_date
        The observation window (stays are fully seen from ``window_start`` to
        ``extract_date``) and the peildatum of the 0-meting written in ``beds``.
    notes
        Dutch sentences for the report: assumptions made and what could not be estimated.
    """

    tables: dict[str, pd.DataFrame]
    estimates: pd.DataFrame
    los_fits: pd.DataFrame
    survival: pd.DataFrame
    instroom_quarters: pd.DataFrame
    routing_counts: pd.DataFrame
    window_start: dt.date
    extract_date: dt.date
    zero_date: dt.date
    notes: list[str] = field(default_factory=list)

    def estimate(self, quantity: str, care_form: str, key: str = "") -> pd.Series:
        """Return the estimate row of ``quantity`` for ``care_form`` (and ``key``)."""
        e = self.estimates
        rows = e[(e["quantity"] == quantity) & (e["care_form"] == care_form) & (e["key"] == key)]
        if rows.empty:
            raise KeyError((quantity, care_form, key))
        return rows.iloc[0]
