"""Closed-form queueing results used as analytic starts and bounds.

One care form with ``c`` beds, Poisson requests at ``lam`` per day and a mean occupancy of
``t`` days per stay (offered load ``a = lam * t``) is an M/G/c/c loss system or an M/M/c
waiting system:

* Erlang B (loss): the share refused, ``B(c, a)``, by the stable recursion
  ``B0 = 1, Bk = a B(k-1) / (k + a B(k-1))``. It holds for any distribution of the stay.
* Erlang C (waiting, exponential stays): the chance to wait ``C = B / (1 - rho (1 - B))``
  and the waiting time tail ``P(W > w) = C exp(-(c/t - lam) w)``.

The functions return the smallest ``c`` meeting a target by stepping ``c`` up from the
stability bound; every function is monotone in its arguments, which the minimal-beds model
relies on.
"""

from __future__ import annotations

import math

MAX_BEDS = 100_000


def erlang_b(c: int, a: float) -> float:
    """Erlang B: the share of requests refused with ``c`` beds and offered load ``a``."""
    if a <= 0:
        return 0.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang C: the chance that a request waits (1 when ``c <= a``: the list grows)."""
    if a <= 0:
        return 0.0
    if c <= a:
        return 1.0
    b = erlang_b(c, a)
    rho = a / c
    return b / (1.0 - rho * (1.0 - b))


def wait_within(c: int, lam: float, t: float, within_days: float) -> float:
    """``P(W <= within_days)`` in M/M/c with ``lam`` per day and mean stay ``t`` days."""
    a = lam * t
    if a <= 0:
        return 1.0
    if c <= a:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c / t - lam) * within_days)


def mean_wait(c: int, lam: float, t: float) -> float:
    """Mean wait in M/M/c (``inf`` when ``c <= a``)."""
    a = lam * t
    if a <= 0:
        return 0.0
    if c <= a:
        return math.inf
    return erlang_c(c, a) / (c / t - lam)


def min_beds_refusal(a: float, max_refused: float) -> int:
    """Fewest beds with Erlang B refusal at most ``max_refused``."""
    if a <= 0:
        return 0
    b, c = 1.0, 0
    while b > max_refused:
        c += 1
        b = a * b / (c + a * b)
        if c > MAX_BEDS:
            raise ValueError("no bed count up to 100,000 meets the refusal target")
    return c


def min_beds_wait(lam: float, t: float, within_days: float, min_share: float) -> int:
    """Fewest beds with ``P(W <= within_days) >= min_share`` in M/M/c."""
    a = lam * t
    if a <= 0:
        return 0
    c = max(1, math.floor(a) + 1)
    while wait_within(c, lam, t, within_days) < min_share:
        c += 1
        if c > MAX_BEDS:
            raise ValueError("no bed count up to 100,000 meets the waiting target")
    return c


def min_beds_occupancy(a: float, max_occupancy: float) -> int:
    """Fewest beds with mean occupancy ``a / c`` at most ``max_occupancy``."""
    if a <= 0:
        return 0
    return math.ceil(a / max_occupancy - 1e-12)
