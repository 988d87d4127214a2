"""Matching: a whole waiting list assigned, or suggestions for one child, written to files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from capaciteit.core import nl
from capaciteit.matching import BatchResult, Children, MatchWeights, Pool, Suggestions
from capaciteit.pipelines import Progress, quiet


@dataclass(frozen=True)
class Assigned:
    """A batch assignment and the files written."""

    result: BatchResult
    files: dict[str, Path]


@dataclass(frozen=True)
class Suggested:
    """Suggestions for one child and the files written."""

    result: Suggestions
    files: dict[str, Path]


def assign(
    children: Children,
    pool: Pool,
    out: Path,
    *,
    weights: MatchWeights | None = None,
    time_limit_s: float = 30.0,
    progress: Progress = quiet,
) -> Assigned:
    """Assign the whole waiting list to families (best assignment); write it to ``out``."""
    from capaciteit.matching import match_batch
    from capaciteit.results.matching import write_batch

    chosen = weights or MatchWeights()
    progress(
        0.1,
        f"toewijzing: {nl.plural(len(children.frame), 'kind', 'kinderen')}, "
        f"{nl.plural(len(pool), 'gezin', 'gezinnen')}",
    )
    result = match_batch(children, pool, chosen, time_limit_s)
    return Assigned(result, write_batch(result, chosen, out))


def suggest_for(
    children: Children,
    pool: Pool,
    child_id: str,
    out: Path,
    *,
    top: int = 5,
    weights: MatchWeights | None = None,
) -> Suggested:
    """Suggest the best families for one child with their reasons; write them to ``out``."""
    from capaciteit.matching import suggest
    from capaciteit.results.matching import write_suggestions

    result = suggest(children, pool, child_id, top, weights or MatchWeights())
    return Suggested(result, write_suggestions(result, out))
