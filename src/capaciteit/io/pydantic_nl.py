"""Pydantic's validation errors in Dutch, for everything a person reads.

Pydantic's own messages are English (``Input should be greater than or equal to 1``).
:func:`dutch_error` turns one error of ``ValidationError.errors()`` into a Dutch message and
fix from the error's ``type`` and ``ctx``; every place where a ``ValidationError`` becomes a
:class:`~capaciteit.errors.Problem` (scenario and model YAML, settings, request bodies)
uses it. Key names, ids and literal values stay as the user must type them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from capaciteit.core import nl
from capaciteit.errors import Problem, limit

_INTEGER = {"int_parsing", "int_type", "int_from_float", "int_parsing_size"}
_NUMBER = {"float_parsing", "float_type", "decimal_parsing", "decimal_type"}
_BOOL = {"bool_parsing", "bool_type"}
_MAPPING = {"dict_type", "model_type", "model_attributes_type", "mapping_type"}
_LIST = {"list_type", "tuple_type", "set_type", "iterable_type"}
_CHOICE = {"literal_error", "enum"}
_OWN = {"value_error", "assertion_error"}


def _value(value: Any) -> str:
    """Show a bound from ``ctx`` as a person reads it (years and small counts ungrouped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return limit(value)
    return str(value)


def _choices(expected: str) -> list[str]:
    """Split pydantic's ``ctx['expected']``: ``'a', 'b' or 'c'`` -> ``'a'``, ``'b'``, ``'c'``."""
    head, _, last = expected.rpartition(" or ")
    parts = [p.strip() for p in head.split(",")] if head else []
    return [p for p in [*parts, last.strip()] if p]


def _own_text(err: Mapping[str, Any]) -> str:
    """Return the text of one of our own validators (a ``ValueError`` in Dutch)."""
    error = (err.get("ctx") or {}).get("error")
    if error is not None:
        return str(error).rstrip(".")
    return str(err.get("msg", "")).removeprefix("Value error, ").rstrip(".")


def dutch_error(err: Mapping[str, Any], name: str | None = None) -> tuple[str, str]:
    """Return the Dutch ``(message, fix)`` for one pydantic error.

    Parameters
    ----------
    err
        One item of ``ValidationError.errors()`` (``type``, ``loc``, ``msg``, ``ctx``).
    name
        How the message names the value, e.g. ``"'replications'"`` or
        ``"CAPACITEIT_WORKERS"``; by default the quoted ``loc`` (``'horizon.end_year'``).

    The message is a sentence such as ``'replications' moet minstens 1 zijn.``; the fix
    says what to change. An error type without its own text still says where and that the
    value is not valid.
    """
    kind = str(err.get("type", ""))
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    if name is None:
        loc = ".".join(str(x) for x in err.get("loc", ()))
        name = f"'{loc}'" if loc else "de invoer"

    def bound(key: str) -> str:
        return _value(ctx.get(key, "?"))

    if kind == "missing":
        return f"{name} ontbreekt.", f"Voeg {name} toe."
    if kind == "extra_forbidden":
        return (
            f"{name} is geen bekende sleutel.",
            f"Verwijder {name} of verbeter de spelling; de toegestane sleutels staan in de README.",
        )
    if kind in _INTEGER:
        return f"{name} moet een geheel getal zijn.", f"Schrijf {name} als geheel getal."
    if kind in _NUMBER:
        return (
            f"{name} moet een getal zijn.",
            f"Schrijf {name} als getal, met een punt als decimaalteken (bijvoorbeeld 0.5).",
        )
    if kind == "finite_number":
        return f"{name} moet een eindig getal zijn.", f"Schrijf {name} als gewoon getal."
    if kind in _BOOL:
        return f"{name} moet true of false zijn.", f"Schrijf {name} als true of false."
    if kind == "string_type":
        return f"{name} moet tekst zijn.", f"Schrijf {name} als tekst."
    if kind == "string_too_short":
        if int(ctx.get("min_length", 1)) <= 1:
            return f"{name} is leeg.", f"Vul {name} in."
        least = nl.plural(int(ctx["min_length"]), "teken", "tekens")
        return f"{name} moet minstens {least} hebben.", f"Maak {name} langer."
    if kind == "string_too_long":
        most = nl.plural(int(ctx.get("max_length", 0)), "teken", "tekens")
        return f"{name} mag hoogstens {most} hebben.", f"Maak {name} korter."
    if kind == "too_short":
        least = nl.plural(int(ctx.get("min_length", 1)), "waarde", "waarden")
        return f"{name} moet minstens {least} bevatten.", f"Vul {name} aan tot {least}."
    if kind == "too_long":
        most = nl.plural(int(ctx.get("max_length", 0)), "waarde", "waarden")
        return f"{name} mag hoogstens {most} bevatten.", f"Haal waarden weg uit {name}."
    if kind == "greater_than_equal":
        return (
            f"{name} moet minstens {bound('ge')} zijn.",
            f"Geef {name} een waarde van minstens {bound('ge')}.",
        )
    if kind == "greater_than":
        return (
            f"{name} moet groter dan {bound('gt')} zijn.",
            f"Geef {name} een waarde groter dan {bound('gt')}.",
        )
    if kind == "less_than_equal":
        return (
            f"{name} mag hoogstens {bound('le')} zijn.",
            f"Geef {name} een waarde van hoogstens {bound('le')}.",
        )
    if kind == "less_than":
        return (
            f"{name} moet kleiner dan {bound('lt')} zijn.",
            f"Geef {name} een waarde kleiner dan {bound('lt')}.",
        )
    if kind in _CHOICE:
        options = _choices(str(ctx.get("expected", "")))
        if len(options) == 1:
            return f"{name} moet {options[0]} zijn.", f"Zet {name} op {options[0]}."
        return (
            f"{name} moet een van {nl.join(options, 'of')} zijn.",
            f"Kies voor {name} een van: {', '.join(options)}.",
        )
    if kind in _MAPPING:
        return (
            f"{name} moet bestaan uit sleutels met waarden.",
            f"Schrijf {name} als 'sleutel: waarde', elke sleutel op een eigen regel.",
        )
    if kind in _LIST:
        return (
            f"{name} moet een lijst zijn.",
            f"Schrijf {name} als lijst: elke waarde op een eigen regel na '- ', of [a, b].",
        )
    if kind == "json_invalid":
        return f"{name} is geen geldige JSON.", "Stuur geldige JSON."
    if kind in _OWN:
        return f"{name}: {_own_text(err)}.", f"Pas {name} aan."
    return (
        f"{name} heeft geen geldige waarde.",
        f"Verbeter {name}; de toegestane waarden staan in de README.",
    )


ENVIRONMENT = "omgevingsvariabelen"
"""The ``file`` of a problem with an environment variable."""


def env_problem(err: Mapping[str, Any]) -> Problem:
    """Describe a bad ``CAPACITEIT_*`` environment variable (pydantic-settings) as a problem."""
    variable = "CAPACITEIT_" + "_".join(str(x) for x in err.get("loc", ())).upper()
    message, fix = dutch_error(err, variable)
    return Problem(ENVIRONMENT, message, f"{fix} Of verwijder de variabele.")
