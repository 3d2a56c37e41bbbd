"""Intervals and tests for proportions (conversion rates), from counts only."""

from __future__ import annotations

import math

from scipy import stats


def wilson(successes: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of successes / n; (nan, nan) when n = 0."""
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return (centre - half) / denom, (centre + half) / denom


def diff_of_proportions(s1: float, n1: float, s2: float, n2: float, z: float = 1.959963984540054) -> dict[str, float]:
    """p1 - p2 with Newcombe's hybrid score interval (from the two Wilson intervals) and the pooled
    two-proportion z statistic with its two-sided p-value. NaN where a group is empty."""
    if n1 <= 0 or n2 <= 0:
        return {"diff": math.nan, "ci_low": math.nan, "ci_high": math.nan, "z": math.nan, "p_value": math.nan}
    p1, p2 = s1 / n1, s2 / n2
    l1, u1 = wilson(s1, n1, z)
    l2, u2 = wilson(s2, n2, z)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    pooled = (s1 + s2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    zstat = d / se if se > 0 else (0.0 if d == 0 else math.copysign(math.inf, d))
    return {"diff": d, "ci_low": low, "ci_high": high, "z": zstat, "p_value": float(2 * stats.norm.sf(abs(zstat)))}
