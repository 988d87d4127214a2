"""Dutch number formats and small phrases for everything a person reads.

Code, field names and logs are English; what a planner, an ontwikkeltafel or a matching
coordinator reads (CLI messages, web pages, workbooks, charts, explanations) is Dutch, with
Dutch number formats: a point groups thousands and a comma marks decimals (``1.234,5``),
percentages have no space (``70%``), amounts in euros read ``€ 1.234.567``.

The functions never show ``nan``: a missing number reads as ``–`` (or the ``missing`` text
given), so no NaN reaches a person.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

MISSING = "–"


def _finite(value: float | int | None) -> bool:
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def number(value: float | int | None, decimals: int = 0, missing: str = MISSING) -> str:
    """``1234.5`` -> ``1.234,5`` (with ``decimals`` decimals); ``None``/NaN -> ``missing``."""
    if not _finite(value):
        return missing
    assert value is not None
    rounded = round(float(value), decimals)
    if rounded == 0:
        rounded = 0.0  # no "-0"
    text = f"{rounded:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def signed(value: float | int | None, decimals: int = 0, missing: str = MISSING) -> str:
    """Format like ``number`` with a sign: ``+3``, ``-2``, ``0``."""
    if not _finite(value):
        return missing
    assert value is not None
    text = number(value, decimals)
    if round(float(value), decimals) > 0:
        return "+" + text
    return text


def percent(value: float | None, decimals: int = 0, missing: str = MISSING) -> str:
    """Format a share as a percentage: ``0.7`` -> ``70%``, ``0.955`` with 1 decimal -> ``95,5%``."""
    if not _finite(value):
        return missing
    assert value is not None
    return number(100.0 * float(value), decimals) + "%"


def euro(value: float | int | None, decimals: int = 0, missing: str = MISSING) -> str:
    """Format an amount in euros: ``1234567`` -> ``€ 1.234.567``; negative -> ``-€ 1.234``."""
    if not _finite(value):
        return missing
    assert value is not None
    text = number(abs(float(value)), decimals)
    return ("-€ " if round(float(value), decimals) < 0 else "€ ") + text


def interval(
    low: float | None,
    high: float | None,
    fmt: str = "number",
    decimals: int = 0,
) -> str:
    """Format an interval as ``[a – b]`` (``number`` or ``percent``); empty if unknown."""
    if not (_finite(low) and _finite(high)):
        return ""
    show = percent if fmt == "percent" else number
    return f"[{show(low, decimals)} – {show(high, decimals)}]"


def join(items: Iterable[str], last: str = "en") -> str:
    """Join words as ``a``, ``a en b``, ``a, b en c`` (``last`` may be ``of``)."""
    parts = [str(i) for i in items]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {last} " + parts[-1]


def plural(count: int, one: str, many: str) -> str:
    """``1 probleem``, ``3 problemen`` (the count in Dutch format)."""
    return f"{number(count)} {one if count == 1 else many}"


def years(values: Iterable[int]) -> str:
    """Years as a short text: ``2023``, ``2023–2025`` (consecutive) or ``2023, 2025 en 2027``."""
    ys = sorted(set(int(y) for y in values))
    if not ys:
        return ""
    if len(ys) > 1 and ys[-1] - ys[0] == len(ys) - 1:
        return f"{ys[0]}–{ys[-1]}"
    return join(str(y) for y in ys)


MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def date(day: dt.date) -> str:
    """Write ``day`` as Dutch text: ``1 maart 2024``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
