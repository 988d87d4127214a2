"""What every solve reports, whichever stage or solver: its status.

``optimal``: proven optimal (gap 0); ``feasible``: a solution, not proven optimal (the
time limit was reached; its gap says how far it may be from the optimum); ``infeasible``:
proven that no solution exists; ``timeout``: the time limit was reached without any
solution; ``invalid``: the model could not be solved as given.
"""

from __future__ import annotations

from typing import Literal

Status = Literal["optimal", "feasible", "infeasible", "timeout", "invalid"]
