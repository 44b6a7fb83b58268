"""The rate-ratio test: is one Poisson rate higher than another, given the exposures?

Conditional on the total count n = k1 + k0, and if both rates were equal, k1 follows a
binomial law with n trials and p = e1 / (e1 + e0) (exposure shares). The one-sided
p-value is P(X >= k1). Exact, in plain math (log space, so large counts do not underflow).
"""

from __future__ import annotations

import math


def _log_pmf(k: int, n: int, log_p: float, log_q: float) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * log_p + (n - k) * log_q)


def binomial_upper_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [_log_pmf(i, n, log_p, log_q) for i in range(k, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


def rate_ratio_p(k1: int, e1: float, k0: int, e0: float) -> float:
    """One-sided p-value that rate 1 (k1 events over exposure e1) exceeds rate 0."""
    if e1 <= 0 or e0 <= 0:
        return 1.0
    return binomial_upper_tail(k1, k1 + k0, e1 / (e1 + e0))
