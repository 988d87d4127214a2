"""Pleegzorg matching: placement suggestions with reasons, and batch assignments.

:mod:`~capaciteit.matching.pool` holds children and families (read by
:mod:`capaciteit.io.pool_files`), :mod:`~capaciteit.matching.
rules` holds the hard rules, :mod:`~capaciteit.matching.scoring` the soft criteria,
:mod:`~capaciteit.matching.suggest` the top families for one child and
:mod:`~capaciteit.matching.batch` the optimal assignment of a waiting list (its candidate
pairs from :mod:`~capaciteit.matching.candidates`, its bound from
:mod:`~capaciteit.matching.relaxation`).
"""

from capaciteit.matching.batch import BatchResult, match_batch
from capaciteit.matching.pool import Children, Pool, build
from capaciteit.matching.scoring import MatchWeights
from capaciteit.matching.suggest import Explanation, Suggestions, explain, suggest
from capaciteit.matching.synthetic import synthetic_pool

__all__ = [
    "BatchResult",
    "Children",
    "Explanation",
    "MatchWeights",
    "Pool",
    "Suggestions",
    "build",
    "explain",
    "match_batch",
    "suggest",
    "synthetic_pool",
]
