"""The statistics of an A/B test on a binary KPI, as pure (mostly vectorised) functions.

Arm 1 is the control, arm 2 the treatment; lifts are treatment - control. References:
Wilson (1927) score interval; Newcombe (1998) hybrid score interval for a difference ("method 10");
Katz et al. (1978) log interval for a ratio; the pooled two-proportion z-test (= Pearson chi-squared
without continuity correction); Beta(1, 1) priors for the probability to beat (exact sum, Miller 2015);
Fleiss' sample size for two proportions with unequal allocation.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special, stats


def z_of(confidence: float) -> float:
    """Two-sided normal quantile: 1.96 for 0.95."""
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson(x, n, confidence: float = 0.95):
    """Wilson score interval of x successes out of n (NaN where n = 0)."""
    x, n, z = np.asarray(x, float), np.asarray(n, float), z_of(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def newcombe_diff(x1, n1, x2, n2, confidence: float = 0.95):
    """Interval of p2 - p1 from the two Wilson intervals (Newcombe's method 10)."""
    p1, p2 = np.asarray(x1, float) / n1, np.asarray(x2, float) / n2
    l1, u1 = wilson(x1, n1, confidence)
    l2, u2 = wilson(x2, n2, confidence)
    d = p2 - p1
    low = d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return low, high


def relative_lift(x1, n1, x2, n2, confidence: float = 0.95):
    """(p2 / p1 - 1, low, high): Katz log interval of the risk ratio (NaN when a count is 0)."""
    x1, x2, n1, n2 = (np.asarray(v, float) for v in (x1, x2, n1, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (x2 / n2) / (x1 / n1)
        se = np.sqrt(1 / x1 - 1 / n1 + 1 / x2 - 1 / n2)
        ok = (x1 > 0) & (x2 > 0)
        z = z_of(confidence)
        low, high = ratio * np.exp(-z * se), ratio * np.exp(z * se)
    nan = np.nan
    return np.where(ok, ratio - 1, nan), np.where(ok, low - 1, nan), np.where(ok, high - 1, nan)


def two_proportion_z(x1, n1, x2, n2):
    """(z, two-sided p) of the pooled z-test of p2 = p1 (z > 0: the treatment is higher)."""
    x1, x2, n1, n2 = (np.asarray(v, float) for v in (x1, x2, n1, n2))
    pooled = (x1 + x2) / (n1 + n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x2 / n2 - x1 / n1) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = np.where(np.isfinite(z), z, 0.0)
    return z, 2 * stats.norm.sf(np.abs(z))


def rate_ratio_p(x_t: int, n_t: int, x_c: int, n_c: int) -> float:
    """One-sided exact p-value of 'the treatment's event rate is higher than the control's', for rare events
    (complaints, unsubscribes): given the x_t + x_c events, x_t ~ Binomial(x_t + x_c, n_t / (n_t + n_c))
    when the rates are equal (the conditional test of two Poisson rates)."""
    if x_t + x_c == 0 or n_t + n_c == 0:
        return 1.0
    return float(stats.binomtest(int(x_t), int(x_t + x_c), n_t / (n_t + n_c), alternative="greater").pvalue)


def p_above(events: int, base: int, ceiling: float) -> float:
    """One-sided exact binomial p-value of 'the rate is above the ceiling' (1.0 without a base)."""
    if not base:
        return 1.0
    return float(stats.binom.sf(int(events) - 1, int(base), ceiling))


def prob_to_beat(x1: int, n1: int, x2: int, n2: int) -> float:
    """P(p2 > p1 | data) with independent Beta(1, 1) priors: the exact finite sum over the treatment's
    posterior alpha (Miller 2015), summed in log space."""
    a1, b1, a2, b2 = 1 + int(x1), 1 + int(n1) - int(x1), 1 + int(x2), 1 + int(n2) - int(x2)
    i = np.arange(a2)
    log_terms = special.betaln(a1 + i, b1 + b2) - np.log(b2 + i) - special.betaln(1 + i, b2) - special.betaln(a1, b1)
    return float(np.clip(np.exp(special.logsumexp(log_terms)), 0.0, 1.0))


def srm_test(observed, weights) -> tuple[float, float]:
    """Sample-ratio mismatch: (chi-squared, p) of the arm counts against the planned weights."""
    observed = np.asarray(observed, float)
    expected = observed.sum() * np.asarray(weights, float) / np.sum(weights)
    if observed.sum() == 0:
        return 0.0, 1.0
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    return chi2, float(stats.chi2.sf(chi2, len(observed) - 1))


def balance_p_value(table) -> float:
    """Independence of arm and stratum (rows: strata, columns: arms), Pearson chi-squared; strata or arms
    with no lead are left out; 1.0 when fewer than two of either remain."""
    t = np.asarray(table, float)
    t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0] if t.size else t
    if t.ndim != 2 or min(t.shape) < 2:
        return 1.0
    return float(stats.chi2_contingency(t, correction=False).pvalue)


def _n_total(p1: float, delta: float, alpha: float, power: float, w1: float, w2: float) -> float:
    """Leads over both arms (allocated w1 : w2) for a two-sided test of p1 vs p1 + delta."""
    p2 = p1 + delta
    bar = (w1 * p1 + w2 * p2) / (w1 + w2)
    w1, w2 = w1 / (w1 + w2), w2 / (w1 + w2)
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    spread = za * np.sqrt(bar * (1 - bar) * (1 / w1 + 1 / w2)) + zb * np.sqrt(p1 * (1 - p1) / w1 + p2 * (1 - p2) / w2)
    return float(spread**2 / delta**2)


def sample_size(p1: float, delta: float, alpha: float, power: float, w1: float = 0.5, w2: float = 0.5):
    """(control leads, treatment leads) needed to detect p1 -> p1 + delta (rounded up)."""
    total = _n_total(p1, delta, alpha, power, w1, w2)
    return int(np.ceil(total * w1 / (w1 + w2))), int(np.ceil(total * w2 / (w1 + w2)))


def reachable_mde(p1: float, n1: float, n2: float, alpha: float, power: float) -> float | None:
    """The smallest upward lift (absolute) detectable with n1 control and n2 treatment leads; None when
    even p2 = 1 is out of reach."""
    total, top = n1 + n2, 1 - p1 - 1e-9
    if total <= 0 or top <= 1e-6 or _n_total(p1, top, alpha, power, n1, n2) > total:
        return None
    return float(optimize.brentq(lambda d: _n_total(p1, d, alpha, power, n1, n2) - total, 1e-6, top, xtol=1e-7))
