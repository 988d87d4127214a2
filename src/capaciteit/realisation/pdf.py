"""The quarterly report as a PDF: an HTML page in Dutch, laid out on A4 by WeasyPrint.

The report is written as HTML from a Jinja2 template (``templates/kwartaalrapport.html``)
and turned into a PDF by WeasyPrint, which lays out HTML and CSS for paper (page size,
margins, running headers and page numbers come from CSS ``@page`` rules). The HTML is
kept next to the PDF: it is the same report, readable in a browser, and carries the fan
charts (PNG) inside it as ``data:`` URIs, so WeasyPrint never loads a file or an address.

Everything from an upload (provider codes, names) is escaped by Jinja2's autoescaping, so
text in a cell is shown as text, never run as markup.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from capaciteit import __version__
from capaciteit.core import nl
from capaciteit.domain.scenario import Scenario
from capaciteit.realisation.band import Band
from capaciteit.realisation.compare import FORM_LEVEL, PROVIDER_LEVEL, Tolerance, off_track
from capaciteit.realisation.quarters import Quarter, span_text
from capaciteit.realisation.workbook import headline, off_track_lines

TEMPLATE = "kwartaalrapport.html"


def _band(low: Any, high: Any) -> str:
    return f"{nl.number(int(low))}–{nl.number(int(high))}"


def report_context(
    scenario: Scenario,
    band: Band,
    comparison: pd.DataFrame,
    charts: dict[str, Path],
    *,
    sources: Sequence[str],
    plan_name: str,
    tolerance: Tolerance | None = None,
) -> dict[str, Any]:
    """Everything the HTML template shows, as Dutch text (numbers formatted)."""
    rule = tolerance or Tolerance()
    model = scenario.model
    names = {str(k): str(v) for k, v in model.care_forms["name"].items()}
    forms = comparison[comparison["level"] == FORM_LEVEL]
    quarters = sorted({Quarter.of(x) for x in forms["quarter"]})
    form_rows = [
        {
            "form": names.get(str(r["care_form"]), str(r["care_form"])),
            "quarter": r["quarter"],
            "beds": nl.number(r["beds"]),
            "planned_beds": nl.number(r["planned_beds"]),
            "occupied": nl.number(r["occupied"]),
            "occupied_band": _band(r["occupied_low"], r["occupied_high"]),
            "occupancy_rate": nl.percent(r["occupancy_rate"]),
            "admissions": nl.number(r["admissions"]),
            "admissions_band": _band(r["admissions_low"], r["admissions_high"]),
            "waiting": nl.number(r["waiting"]),
            "waiting_band": _band(r["waiting_low"], r["waiting_high"]),
            "on_track": bool(r["on_track"]),
            "verdict": r["verdict"],
            "reason": r["reason"],
        }
        for r in forms.to_dict(orient="records")
    ]
    providers = comparison[comparison["level"] == PROVIDER_LEVEL]
    provider_rows = [
        {
            "provider": r["provider"],
            "form": names.get(str(r["care_form"]), str(r["care_form"])),
            "quarter": r["quarter"],
            "beds": nl.number(r["beds"]),
            "planned_beds": nl.number(r["planned_beds"]),
            "difference": nl.signed(r["beds_difference"]),
            "occupied": nl.number(r["occupied"]),
            "reason": r["reason"],
        }
        for r in off_track(providers).to_dict(orient="records")
    ]
    return {
        "version": __version__,
        "made": dt.date.today().strftime("%d-%m-%Y"),
        "region": model.meta.name,
        "scenario": scenario.name,
        "quarter": quarters[-1].label if quarters else "",
        "span": span_text(quarters),
        "plan_name": plan_name,
        "sources": ", ".join(sources),
        "headline": headline(comparison, names),
        "all_on_track": bool(comparison["on_track"].all()),
        "off_lines": off_track_lines(comparison, names),
        "form_rows": form_rows,
        "provider_rows": provider_rows,
        "providers_checked": (
            f"{nl.plural(len(providers), 'rij', 'rijen')} per aanbieder, zorgvorm en kwartaal "
            f"vergeleken; {nl.number(len(provider_rows))} niet volgens plan. Alle rijen staan "
            "in de werkmap (werkblad 'per aanbieder')."
        ),
        "charts": [
            {"src": data_uri(path), "name": names.get(form, form)} for form, path in charts.items()
        ],
        "band_text": (
            f"95%-voorspellingsband uit {nl.number(band.replications)} gesimuleerde verlopen "
            f"(seed {band.seed}) van het scenario met de plaatsen van het plan."
        ),
        "rule": (
            f"Op koers: bezet, instroom en wachtlijst liggen binnen de band en {rule.describe()}."
        ),
        "method": (
            "Het model simuleert de regio vanaf de 0-meting met precies de plaatsen van het "
            f"afgesproken plan, {nl.number(band.replications)} keer met steeds ander toeval "
            "(aanmeldingen en verblijfsduren). Elk verloop geeft per zorgvorm en kwartaal het "
            "gemiddeld aantal bezette plaatsen, de instroom en de wachtlijst aan het eind van "
            "het kwartaal. De band loopt van 2,5% tot 97,5% van die verlopen: 95% van de "
            "kwartalen die het model bij dit plan voorspelt valt erbinnen. Het is een "
            "voorspellingsband voor één kwartaal, geen betrouwbaarheidsinterval van een "
            "gemiddelde. Een kwartaal buiten de band betekent dat de werkelijkheid afwijkt "
            "van wat het model bij het plan verwacht: door andere plaatsen, meer of minder "
            "aanmeldingen, of invoer van het model die bijgesteld moet worden. De realisatie "
            "is in hele getallen; een waarde telt als binnen de band als hij tussen de naar "
            "beneden afgeronde ondergrens en de naar boven afgeronde bovengrens ligt."
        ),
    }


def render_html(context: dict[str, Any]) -> str:
    """Fill the report template with ``context`` (autoescaped)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )
    return env.get_template(TEMPLATE).render(**context)


def write_pdf(html: str, path: Path) -> Path:
    """Lay ``html`` out on A4 with WeasyPrint and write the PDF to ``path``.

    The HTML is self-contained (charts as ``data:`` URIs): the layout loads nothing else,
    no file and no address from the network.
    """
    from weasyprint import HTML  # type: ignore[import-untyped]
    from weasyprint.urls import URLFetcher  # type: ignore[import-untyped]

    fetcher = URLFetcher(allowed_protocols=("data",))
    HTML(string=html, url_fetcher=fetcher).write_pdf(str(path))
    return path


def data_uri(path: Path) -> str:
    """Return a PNG as a ``data:`` URI, so that the HTML report carries its charts."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
