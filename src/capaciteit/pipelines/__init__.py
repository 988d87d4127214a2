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

from collections.abc import Callable

Progress = Callable[[float | None, str], None]
"""``progress(fraction, message)``: how far a use case is (see the module docstring)."""


def quiet(fraction: float | None, message: str) -> None:
    """Report nothing (the default progress)."""
    del fraction, message
