"""Use cases: one function each, called alike by the command line and the service's jobs.

A use case runs the stages of the flow in order (model files -> validate -> simulate ->
optimise -> report) and writes its result files, like PyPSA's ``n.optimize()`` checks,
builds, solves and assigns in one call. The command line only parses options and renders;
a job only finds its inputs in the database and stores what was written. So the same
scenario gives the same files either way.

Progress is reported as ``progress(fraction, message)``: ``fraction`` in [0, 1] when the
share of the work done is known, ``None`` when only the step is; ``message`` is Dutch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

Progress = Callable[[float | None, str], None]
"""``progress(fraction, message)``: how far a use case is (see the module docstring)."""


def quiet(fraction: float | None, message: str) -> None:
    """Report nothing (the default progress)."""
    del fraction, message


_OF = re.compile(r"\((\d+) van (\d+)\)")


def staged(progress: Progress, stages: Sequence[tuple[str, float, float]]) -> Callable[[str], None]:
    """Turn the stage messages of the optimisation into a fraction of the work done.

    The optimisation reports its steps in words ("minimale bedden 2026: zoeken (4 van 8)",
    "afbouwplan: optimaliseren"). Each stage is a message prefix with the share of the work
    at which it starts and ends (measured on the example region); within a stage, "(k van
    n)" moves the fraction to (k − 1)/n of the way. The fraction never goes back, so a
    page's per cent and time left only move forward.
    """
    done = [0.0]

    def say(message: str) -> None:
        for prefix, start, end in stages:
            if message.startswith(prefix):
                found = _OF.search(message)
                part = (int(found.group(1)) - 1) / int(found.group(2)) if found else 0.0
                done[0] = max(done[0], start + (end - start) * min(max(part, 0.0), 1.0))
                break
        progress(done[0], message)

    return say


BEDS_STAGES = (
    ("minimale bedden", 0.0, 0.8),
    ("behoefte op lange termijn", 0.8, 0.98),
)
"""Where minimal beds spend their time: the search per year, then the long-run need."""
AFBOUW_STAGES = (
    ("minimale bedden", 0.0, 0.6),
    ("behoefte op lange termijn", 0.6, 0.75),
    ("afbouwplan: optimaliseren", 0.75, 0.8),
    ("afbouwplan: simulatie van het plan", 0.8, 0.98),
)
"""Where an afbouw plan spends its time (with the need from minimal beds)."""
