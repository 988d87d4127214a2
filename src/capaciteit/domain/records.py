"""Stay records: one row per stay of a young person in a care form, as regions register them.

Every start and stop of care is registered per client, provider and product (the iJw
start- and stop-zorg messages, or a provider's export). A region's extract of them is the
data a region model is calibrated from (:mod:`capaciteit.calibration`): instroom, routing,
lengths of stay, ages and the occupants on a peildatum all follow from these rows.

A row is one stay: a pseudonymous client id, the provider, the care form, the start date,
the end date (empty while the stay goes on at the extract date) and where the young person
went after it (``next``: another care form, which makes the next stay doorstroom, or a
sink such as ``thuis`` or ``zelfstandig``), the age at the start and optionally the date of
the referral (verwijzing), from which waiting is measured. Names, BSN, birth dates and
addresses are refused (:mod:`capaciteit.core.privacy`).
"""

from __future__ import annotations

from capaciteit.core.tables import Column, TableSpec

DATE_COLUMNS = ("start_date", "end_date", "referral_date")
"""Columns holding a date: ``2024-03-01`` or ``01-03-2024`` (or an Excel date)."""

RECORDS = TableSpec(
    "stays",
    description="Stay records: one row per stay (start, end, where to after), for "
    "`capaciteit calibrate` and `capaciteit backtest`.",
    key=(),
    columns=(
        Column("client_id", "id", description="pseudonymous client id (no name, no BSN)"),
        Column("provider", "id", description="provider code"),
        Column("care_form", "id", description="care form of the stay"),
        Column("start_date", "str", description="first day of the stay (2024-03-01)"),
        Column(
            "end_date",
            "str",
            required=False,
            default="",
            description="day the stay ended; empty while it goes on at the extract date",
        ),
        Column(
            "next",
            "id",
            required=False,
            default="",
            description="where the young person went: a care form (doorstroom) or a sink "
            "(thuis, zelfstandig, ...); empty while the stay goes on",
        ),
        Column(
            "age_at_start_years",
            "float",
            min=0,
            max=30,
            unit="years",
            description="age at the start of the stay",
        ),
        Column(
            "referral_date",
            "str",
            required=False,
            default="",
            description="day of the referral (verwijzing), for waiting times",
        ),
    ),
)
"""The stay records table (CSV or xlsx; any file name)."""
