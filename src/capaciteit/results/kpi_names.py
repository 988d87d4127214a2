"""The Dutch names of the KPIs, one set for every page, workbook and table a person reads."""

from __future__ import annotations

KPI_NAMES_NL = {
    "capacity_beds": "Bedden",
    "occupied_beds": "Bezet (gemiddeld)",
    "occupancy_rate": "Bezettingsgraad",
    "requests": "Aanvragen",
    "admissions": "Opnames",
    "mean_wait_days": "Gemiddelde wachttijd (dagen)",
    "placed_within_24h_share": "Binnen 24 uur geplaatst",
    "waiting_at_year_end": "Wachtend op 31 december",
    "overflow_count": "Buiten de regio geplaatst",
    "refused_share": "Aandeel buiten de regio geplaatst",
    "stays_over_max_share": "Verblijf langer dan het maximum",
    "cost_eur": "Kosten",
}
"""KPI id -> its name in Dutch (see :mod:`capaciteit.simulation.kpis` for the meanings)."""
