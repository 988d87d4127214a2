"""What the calibration and backtest pages show: their result JSON as Dutch rows.

:func:`calibration_view` and :func:`backtest_view` turn a job's result
(``calibration.json``, ``backtest.json``) into the plain values a template prints: names
instead of ids, Dutch numbers with their interval and count, "–" where there is no number
(never NaN), and the quarters outside the band with the side they fall on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from capaciteit.calibration.labels import DESTINATION_NL, family_nl
from capaciteit.core import nl
from capaciteit.realisation.band import MEASURES_NL


def day(text: str | None) -> dt.date | None:
    """Read an ISO date of a result JSON (``None`` when there is none)."""
    return dt.date.fromisoformat(text) if text else None


def downloads(files: list[str], described: dict[str, str]) -> list[tuple[str, str]]:
    """List the files to download: the described ones first, with what they are."""
    first = [(name, what) for name, what in described.items() if name in files]
    rest = [(name, "") for name in sorted(files) if name not in described]
    return first + rest


def _value(value: float | None, fmt: str, decimals: int) -> str:
    return nl.percent(value, decimals) if fmt == "percent" else nl.number(value, decimals)


def _row(label: str, estimate: dict[str, Any] | None, fmt: str, decimals: int) -> dict[str, str]:
    """Show one estimate: value, 95% interval, the records it rests on, note; ``–`` if none."""
    if estimate is None:
        return {"label": label, "value": "–", "interval": "–", "n": "–", "note": ""}
    return {
        "label": label,
        "value": _value(estimate.get("estimate"), fmt, decimals),
        "interval": nl.interval(estimate.get("low"), estimate.get("high"), fmt, decimals) or "–",
        "n": nl.number(estimate.get("n")),
        "note": str(estimate.get("note") or ""),
    }


def _total(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Add up a count on the peildatum (occupied, beds) over the providers."""
    if not rows:
        return None
    known = [r["estimate"] for r in rows if r.get("estimate") is not None]
    notes = sorted({str(r.get("note") or "") for r in rows} - {""})
    return {
        "estimate": sum(known) if known else None,
        "n": sum(int(r.get("n") or 0) for r in rows),
        "note": "; ".join(notes),
    }


def _instroom(rows: list[dict[str, Any]]) -> tuple[str, dict[str, Any] | None]:
    """Pick the instroom the model takes: all years', or the last year's when they differ.

    The calibration writes one rate over all years unless the years differ beyond chance;
    then its ``alle jaren`` row says so and each year has its own, the last for later years.
    """
    pooled = next((r for r in rows if r["key"] == "alle jaren"), None)
    years = sorted((r for r in rows if r["key"] != "alle jaren"), key=lambda r: str(r["key"]))
    if pooled is not None and (not pooled.get("note") or not years):
        return "Instroom per jaar (alle jaren)", pooled
    if years:
        return f"Instroom per jaar ({years[-1]['key']}, het laatste jaar)", years[-1]
    return "Instroom per jaar", None


def _family(stay: dict[str, Any] | None, family: str | None) -> dict[str, Any] | None:
    """Name the distribution of the mean stay in its note (``verdeling: Weibull ...``)."""
    if stay is None or family is None:
        return stay
    note = str(stay.get("note") or "")
    said = note if family in note else "; ".join(t for t in (family, note) if t)
    return {**stay, "note": f"verdeling: {said}"}


def calibration_view(result: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Show the calibration's window, and per care form its main estimates, in Dutch."""
    estimates: list[dict[str, Any]] = list(result.get("estimates") or [])
    window = result.get("records") or {}
    forms = list(names) + sorted({str(e["care_form"]) for e in estimates} - set(names))
    chosen = {
        str(f["care_form"]): family_nl(str(f["family"]))
        for f in result.get("los_fits") or []
        if f.get("chosen")
    }
    tables = []
    for form in forms:

        def of(quantity: str, form: str = form) -> list[dict[str, Any]]:
            return [e for e in estimates if e["quantity"] == quantity and e["care_form"] == form]

        label, instroom = _instroom(of("instroom"))
        stay = next(iter(of("los_mean")), None)
        rows = [
            _row(label, instroom, "number", 1),
            _row("Gemiddelde verblijfsduur (dagen)", _family(stay, chosen.get(form)), "number", 0),
        ]
        for r in of("routing"):
            to = str(r["key"])
            where = names.get(to) or DESTINATION_NL.get(to, to)
            rows.append(_row(f"Doorstroom naar {where}", r, "percent", 1))
        rows.append(_row("Bezet op de peildatum", _total(of("occupied")), "number", 0))
        rows.append(_row("Bedden op de peildatum", _total(of("beds")), "number", 0))
        tables.append({"form": form, "name": names.get(form, form), "rows": rows})
    start, end, zero = (day(window.get(k)) for k in ("window_start", "extract_date", "zero_date"))
    return {
        "stays": nl.number(window.get("stays")),
        "file": window.get("file") or "",
        "start": nl.date(start) if start else "–",
        "end": nl.date(end) if end else "–",
        "zero": nl.date(zero) if zero else "–",
        "forms": tables,
        "notes": list(result.get("notes") or []),
    }


def _outside_side(cell: dict[str, Any]) -> str:
    return "boven de band" if float(cell["realised"]) > float(cell["high"]) else "onder de band"


def backtest_view(result: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Show the coverage per measure and care form and the quarters outside the band."""
    cells = [c for c in result.get("cells") or [] if c.get("realised") is not None]
    given = {str(c["measure"]): c for c in result.get("coverage") or []}
    coverage = []
    for measure in [*MEASURES_NL, "alle"]:  # every measure, '–' where none was compared
        c = given.get(measure, {})
        count, inside = int(c.get("cells") or 0), int(c.get("inside") or 0)
        coverage.append(
            {
                "measure": MEASURES_NL.get(measure, "alles samen"),
                "all": measure not in MEASURES_NL,
                "inside": f"{nl.number(inside)} van {nl.number(count)}" if count else "–",
                "share": nl.percent(c.get("coverage")) if count else "–",
                "mape": nl.percent(c.get("mape"), 1) if count else "–",
            }
        )
    forms = list(names) + sorted({str(c["care_form"]) for c in cells} - set(names))
    per_form = []
    for form in forms:
        counts = []
        for measure in MEASURES_NL:
            mine = [c for c in cells if c["care_form"] == form and c["measure"] == measure]
            inside = sum(1 for c in mine if c.get("inside"))
            counts.append(f"{nl.number(inside)} van {nl.number(len(mine))}" if mine else "–")
        if any(text != "–" for text in counts):
            per_form.append({"name": names.get(form, form), "counts": counts})
    outside = [
        {
            "form": names.get(str(c["care_form"]), str(c["care_form"])),
            "quarter": str(c["quarter"]),
            "measure": MEASURES_NL.get(str(c["measure"]), str(c["measure"])),
            "predicted": nl.number(c.get("predicted"), 1),
            "band": nl.interval(c.get("low"), c.get("high"), "number", 1) or "–",
            "realised": nl.number(c.get("realised"), 1),
            "side": _outside_side(c),
        }
        for c in cells
        if not c.get("inside")
    ]
    cut = day(result.get("cut"))
    quarters = list(result.get("quarters") or [])
    return {
        "cut": nl.date(cut) if cut else "–",
        "quarters": nl.number(len(quarters)),
        "first": quarters[0] if quarters else "–",
        "last": quarters[-1] if quarters else "–",
        "replications": nl.number(result.get("replications")),
        "seed": result.get("seed"),
        "occupants": nl.number(result.get("occupants_at_cut")),
        "waiting": nl.number(result.get("waiting_at_cut")),
        "compared": len(cells),
        "coverage": coverage,
        "per_form": per_form,
        "measures": list(MEASURES_NL.values()),
        "outside": outside,
        "charts": [(f"backtest_{form}.png", names.get(form, form)) for form in forms],
    }
