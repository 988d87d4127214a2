"""Reading YAML files into pydantic models, with every error turned into a Problem."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from capaciteit.errors import Problem
from capaciteit.io.pydantic_nl import dutch_error

M = TypeVar("M", bound=BaseModel)

MAX_YAML_BYTES = 1_000_000
"""The largest YAML file read (a scenario or model.yaml is a few kB)."""
MAX_YAML_DEPTH = 32
"""The deepest nesting of lists and mappings (a scenario needs five levels)."""


class LimitError(yaml.YAMLError):
    """A YAML text beyond the limits (too deep, an alias); its message is Dutch."""


class _LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases and with at most ``MAX_YAML_DEPTH`` levels.

    PyYAML composes nested nodes recursively: 10,000 levels end in a ``RecursionError``;
    aliases let a small text expand into a huge structure ("billion laughs").
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise LimitError("er staat een verwijzing (*alias) in; die worden niet gebruikt")
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise LimitError(f"het is dieper genest dan {MAX_YAML_DEPTH} niveaus")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml_text(text: str) -> Any:
    """Parse ``text`` like ``yaml.safe_load``, within the limits above (else ``LimitError``)."""
    if len(text.encode("utf-8", errors="replace")) > MAX_YAML_BYTES:
        raise LimitError(f"het is groter dan {MAX_YAML_BYTES // 1_000_000} MB")
    loader = _LimitedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


_UNREADABLE = {
    errno.ENOENT: "bestaat niet",
    errno.EACCES: "mag niet worden gelezen (geen leesrechten)",
    errno.EPERM: "mag niet worden gelezen (geen leesrechten)",
    errno.EISDIR: "is een map, geen bestand",
}
"""Dutch reasons a file cannot be read, by ``errno``."""

_YAML_PROBLEMS = (
    ("mapping values are not allowed", "een dubbele punt staat op een plek waar dat niet kan"),
    ("could not find expected ':'", "er ontbreekt een dubbele punt na een sleutel"),
    ("cannot start any token", "er staat een teken dat niet kan, bijvoorbeeld een tab"),
    ("expected <block end>", "de inspringing klopt niet"),
    ("did not find expected key", "de inspringing klopt niet of er ontbreekt een sleutel"),
    ("expected ',' or ']'", "een lijst met [ is niet gesloten met ]"),
    ("expected ',' or '}'", "een verzameling met { is niet gesloten met }"),
    ("expected the node content", "er ontbreekt een waarde, bijvoorbeeld na [ of {"),
    ("end of stream", "het bestand houdt op midden in een waarde (haakje of aanhalingsteken open)"),
    ("found undefined alias", "er staat een * op een plek waar dat niet kan"),
    ("found duplicate", "een sleutel of anker staat er twee keer in"),
)
"""PyYAML's (English) problems -> what is wrong, in Dutch."""


def _yaml_problem(text: str) -> str:
    for english, dutch in _YAML_PROBLEMS:
        if english in text:
            return f": {dutch}"
    return ""


def read_yaml(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """Return the mapping in ``path``, or ``None`` with a problem when it is not one."""
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise LimitError(f"het is groter dan {MAX_YAML_BYTES // 1_000_000} MB")
        data = load_yaml_text(path.read_text(encoding="utf-8"))
    except LimitError as exc:
        problems.append(
            Problem(
                path.name,
                f"is te groot of te ingewikkeld: {exc}.",
                "Schrijf het bestand zoals de voorbeelden in simulations/ en models/.",
            )
        )
        return None
    except OSError as exc:
        reason = _UNREADABLE.get(exc.errno or 0, "kan niet worden gelezen")
        problems.append(Problem(path.name, f"{reason}.", "Controleer het pad en het bestand."))
        return None
    except UnicodeDecodeError:
        problems.append(
            Problem(
                path.name,
                "is geen UTF-8-tekst.",
                "Sla het bestand op als UTF-8 (platte tekst).",
            )
        )
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problems.append(
            Problem(
                path.name,
                f"is geen geldige YAML{_yaml_problem(str(getattr(exc, 'problem', '') or ''))}.",
                "Verbeter de YAML-opmaak (inspringing met spaties, dubbele punten, "
                "aanhalingstekens).",
                row=row,
            )
        )
        return None
    if not isinstance(data, dict):
        problems.append(
            Problem(
                path.name,
                "bevat geen sleutels met waarden.",
                "Schrijf elke regel als 'sleutel: waarde', bijvoorbeeld 'name: Voorbeeldregio'.",
            )
        )
        return None
    return data


def parse_yaml_model(
    cls: type[M], data: dict[str, Any], fname: str, problems: list[Problem]
) -> M | None:
    """Validate ``data`` as ``cls``; every validation error becomes a problem."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            message, fix = dutch_error(err)
            problems.append(Problem(fname, message, fix, column=loc or None))
        return None
