"""Keep the README's model format tables generated from the loader's own declarations.

``python -m capaciteit.docs README.md`` rewrites the part of the README between the markers
``<!-- tables:start -->`` and ``<!-- tables:end -->``; a test checks they are in sync, so
the documentation cannot drift from what the loader accepts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from capaciteit.domain.model import TABLES
from capaciteit.domain.records import RECORDS
from capaciteit.io.tables import TableSpec, columns_doc
from capaciteit.matching.pool import CHILDREN, PC4, PLACEMENTS
from capaciteit.national.model import TABLES as NATIONAL_TABLES
from capaciteit.national.model import NationalScenarioFile, PoolAfbouwIn

START, END = "<!-- tables:start -->", "<!-- tables:end -->"


def tables_markdown() -> str:
    """Markdown: one section per table with its columns (region model, then matching)."""
    parts = []
    matching: list[TableSpec] = [CHILDREN, PLACEMENTS, PC4]
    national = list(NATIONAL_TABLES.values())
    for spec in [*TABLES.values(), *matching, RECORDS, *national]:
        if spec is RECORDS:
            parts.append(
                "#### Stay records (`capaciteit calibrate`, `capaciteit backtest`)\n\nOne row "
                "per stay, CSV or xlsx, any file name. Dates as `2024-03-01` or `1-3-2024`. "
                "Columns that look like names, BSN, birth dates or addresses are refused, and "
                "so is a client id that is a BSN.\n"
            )
            parts.append("| column | required | unit | meaning |\n|---|---|---|---|")
            for name, required, unit, description in columns_doc(spec):
                parts.append(f"| `{name}` | {required} | {unit} | {description} |")
            parts.append("")
            continue
        if spec is national[0]:
            parts.append(
                "#### National model (`capaciteit national`)\n\nA folder with `national.yaml` "
                "(`schema_version`, `name`, `baseline_year`, `synthetic`, `description`) and "
                "these tables; each region names a region model folder.\n"
            )
        if spec is CHILDREN:
            parts.append(
                "#### Matching input (`capaciteit match`)\n\nTags in one cell are separated "
                "by `|` (`lvb|trauma`). Columns that look like names, BSN, birth dates or "
                "addresses are refused.\n"
            )
        need = "required" if spec.required else "optional"
        parts.append(f"#### `{spec.name}.csv` ({need})\n\n{spec.description}\n")
        parts.append("| column | required | unit | meaning |\n|---|---|---|---|")
        for name, required, unit, description in columns_doc(spec):
            choices = spec.column(name).choices
            extra = f" ({' / '.join(choices)})" if choices else ""
            parts.append(f"| `{name}` | {required} | {unit} | {description}{extra} |")
        parts.append("")
    parts.append(
        "#### National scenario files (`simulations/nederland-*.yaml`)\n\n"
        "Keys of a national scenario (`capaciteit national simulate|afbouw`); `pool_afbouw` "
        "holds the settings of the pools' afbouw.\n"
    )
    parts.append("| key | default | meaning |\n|---|---|---|")
    for prefix, model in (("", NationalScenarioFile), ("pool_afbouw.", PoolAfbouwIn)):
        for name, field in model.model_fields.items():
            if name == "pool_afbouw":
                continue
            default = (
                "required"
                if field.is_required()
                else _default(field.get_default(call_default_factory=True))
            )
            parts.append(
                f"| `{prefix}{name}` | {default} | {field.description or _MEANING.get(name, '')} |"
            )
    parts.append("")
    return "\n".join(parts).strip() + "\n"


_MEANING = {
    "schema_version": "1",
    "name": "name shown in reports",
    "description": "what the scenario is",
    "horizon": "`{start_year, end_year}`",
    "replications": "replications of every group of regions",
    "seed": "one seed for every task (its group and replication give each its own stream)",
    "max_change_beds": "most places a provider changes in a year",
    "target_occupancy": "a provider is planned at most this full",
    "small_scale_from": "from this year a provider keeps at most its `max_beds`",
    "time_limit_s": "solver time per pool (s)",
}


def _default(value: object) -> str:
    """Return a default as the README shows it."""
    if value in (None, {}, [], ""):
        return "none"
    if hasattr(value, "model_dump"):
        return "no levers"
    return f"`{value}`"


def update(readme: Path) -> bool:
    """Rewrite the generated part of ``readme``; return whether it changed."""
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{tables_markdown()}{END}{tail}"
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    changed = update(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
    print("README tables updated" if changed else "README tables already up to date")
