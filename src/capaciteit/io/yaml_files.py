"""Reading YAML files into pydantic models, with every error turned into a Problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from capaciteit.errors import Problem

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path, problems: list[Problem]) -> dict[str, Any] | None:
    """Return the mapping in ``path``, or ``None`` with a problem when it is not one."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(Problem(path.name, f"cannot be read ({exc}).", "Check the path."))
        return None
    except UnicodeDecodeError:
        problems.append(
            Problem(path.name, "is not UTF-8 text.", "Save the file as UTF-8 (plain text).")
        )
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problems.append(
            Problem(
                path.name,
                f"is not valid YAML ({getattr(exc, 'problem', exc)}).",
                "Fix the YAML syntax (indentation, colons, quotes).",
                row=row,
            )
        )
        return None
    if not isinstance(data, dict):
        problems.append(
            Problem(path.name, "does not contain a mapping of keys.", "Write it as 'key: value'.")
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
            kind = err["type"]
            if kind == "extra_forbidden":
                fix = f"Remove '{loc}'; allowed keys are described in the README."
            elif kind == "missing":
                fix = f"Add '{loc}'."
            else:
                fix = f"Correct '{loc}' ({err['msg'].lower()})."
            problems.append(Problem(fname, f"'{loc}': {err['msg']}.", fix, column=loc or None))
        return None
