"""Matching results as files: CSV for spreadsheets, JSON for systems.

``write_batch`` writes ``assignment.csv`` (one row per placed child with its family, score,
points per criterion and reasons), ``unplaced.csv`` (each child without a family, with the
reason) and ``match.json`` (solver status, optimality, counts and both tables).
``write_suggestions`` writes ``suggestions.csv`` and ``suggestions.json`` for one child.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from capaciteit import __version__
from capaciteit.matching.batch import BatchResult
from capaciteit.matching.scoring import MatchWeights
from capaciteit.matching.suggest import Suggestions
from capaciteit.results.cells import write_csv
from capaciteit.results.jsonable import clean, records


def batch_summary(result: BatchResult) -> dict[str, Any]:
    """Return the status, optimality and counts of a batch assignment."""
    return {
        "status": result.status,
        "proven_optimal": result.status == "optimal",
        "objective": clean(result.objective),
        "bound": clean(result.bound),
        "gap": clean(result.gap),
        "time_s": round(result.time_s, 3),
        "children": result.children,
        "sibling_units": result.units,
        "candidate_pairs": result.candidate_pairs,
        "placed": result.placed,
        "max_placed": result.max_placed,
        "unplaced": len(result.unplaced),
        "solution_from": result.source,
    }


def batch_json(result: BatchResult, weights: MatchWeights) -> dict[str, Any]:
    """Return the whole batch result as one JSON object."""
    return {
        "capaciteit_version": __version__,
        **batch_summary(result),
        "weights": weights.model_dump(),
        "assignment": records(result.assignment),
        "unplaced_children": records(result.unplaced),
    }


def suggestions_json(result: Suggestions) -> dict[str, Any]:
    """Return the suggestions for one child as one JSON object."""
    return {
        "capaciteit_version": __version__,
        "child_id": result.child_id,
        "siblings_placed_together": result.siblings,
        "candidates": result.candidates,
        "excluded_by_rule": result.excluded,
        "summary": result.summary(),
        "suggestions": [
            {**row, "reasons": row["reasons"].split("; ") if row["reasons"] else []}
            for row in records(result.table)
        ],
    }


def write_batch(result: BatchResult, weights: MatchWeights, out: Path) -> dict[str, Path]:
    """Write the batch files into ``out``; return them by name."""
    files = {
        "assignment": out / "assignment.csv",
        "unplaced": out / "unplaced.csv",
        "json": out / "match.json",
    }
    write_csv(result.assignment, files["assignment"])
    write_csv(result.unplaced, files["unplaced"])
    text = json.dumps(batch_json(result, weights), indent=2, ensure_ascii=False)
    files["json"].write_text(text, encoding="utf-8")
    return files


def write_suggestions(result: Suggestions, out: Path) -> dict[str, Path]:
    """Write the suggestion files into ``out``; return them by name."""
    files = {"csv": out / "suggestions.csv", "json": out / "suggestions.json"}
    write_csv(result.table, files["csv"])
    text = json.dumps(suggestions_json(result), indent=2, ensure_ascii=False)
    files["json"].write_text(text, encoding="utf-8")
    return files
