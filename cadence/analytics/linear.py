"""The method's linear reading, Y = m·X + b, from sufficient statistics.

From n and the sums of X, Y, X², XY, Y² (integers: exact in Python), the centred cross-products are
Sxx = n·ΣX² − (ΣX)², Sxy = n·ΣXY − ΣX·ΣY, Syy = n·ΣY² − (ΣY)² (n times the usual ones) and

    m = Sxy / Sxx          b = (ΣY − m·ΣX) / n          r = Sxy / √(Sxx·Syy)          R² = r²
    SE(m) = √(RSS / (n−2) / sxx)   with RSS = (Syy·Sxx − Sxy²) / (n·Sxx) and sxx = Sxx / n

r's p-value is the t-test with n − 2 degrees of freedom and its interval is Fisher's z (what
scipy.stats.pearsonr reports); m's interval uses Student's t. Spearman's ρ is Pearson's r of the
mid-ranks, which count tables give exactly.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import stats

NAN = math.nan


@lru_cache(maxsize=4096)
def _quantile(dist: str, q: float, df: int = 0) -> float:
    return float(stats.t.ppf(q, df) if dist == "t" else stats.norm.ppf(q))


def _int(v) -> int:
    return int(v) if not isinstance(v, int) else v


def fit_moments(n, sx, sy, sxx, sxy, syy, confidence: float = 0.95) -> dict[str, float]:
    """Least-squares line, Pearson r (p-value, Fisher interval), R² and standard errors."""
    n, sx, sy, sxx, sxy, syy = (_int(v) for v in (n, sx, sy, sxx, sxy, syy))
    out = dict.fromkeys(
        (
            "x_mean",
            "y_mean",
            "slope",
            "intercept",
            "r",
            "r2",
            "r_p_value",
            "r_ci_low",
            "r_ci_high",
            "slope_se",
            "slope_ci_low",
            "slope_ci_high",
            "intercept_se",
        ),
        NAN,
    )
    if n == 0:
        return out
    out.update(x_mean=sx / n, y_mean=sy / n)
    cxx, cxy, cyy = n * sxx - sx * sx, n * sxy - sx * sy, n * syy - sy * sy
    if n < 3 or cxx <= 0:
        return out
    slope = cxy / cxx
    out.update(slope=slope, intercept=(sy - slope * sx) / n)
    rss = (cyy * cxx - cxy * cxy) / (n * cxx)
    s2 = max(rss, 0.0) / (n - 2)
    out["slope_se"] = math.sqrt(s2 * n / cxx)
    out["intercept_se"] = math.sqrt(s2 * (1 / n + (sx / n) ** 2 * n / cxx))
    t = _quantile("t", 0.5 + confidence / 2, n - 2)
    out.update(slope_ci_low=slope - t * out["slope_se"], slope_ci_high=slope + t * out["slope_se"])
    if cyy > 0:
        r = max(-1.0, min(1.0, cxy / math.sqrt(cxx * cyy)))
        out.update(r=r, r2=r * r, r_p_value=correlation_p_value(r, n))
        out["r_ci_low"], out["r_ci_high"] = fisher_interval(r, n, confidence)
    return out


def correlation_p_value(r: float, n: int) -> float:
    """Two-sided p-value of H0: ρ = 0 (t = r·√((n−2)/(1−r²)), n − 2 degrees of freedom)."""
    if abs(r) >= 1:
        return 0.0
    t = r * math.sqrt((n - 2) / (1 - r * r))
    return float(2 * stats.t.sf(abs(t), n - 2))


def fisher_interval(r: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    if n <= 3 or abs(r) >= 1:
        return NAN, NAN
    z, half = math.atanh(r), _quantile("norm", 0.5 + confidence / 2) / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def moments_of_cells(x, y, w) -> tuple[int, ...]:
    """(n, ΣX, ΣY, ΣX², ΣXY, ΣY²) of count cells (value x, outcome y, w leads), in exact integers."""
    x, y, w = (np.asarray(a, dtype=object) for a in (x, y, w))
    return tuple(
        int(v) for v in (w.sum(), (w * x).sum(), (w * y).sum(), (w * x * x).sum(), (w * x * y).sum(), (w * y * y).sum())
    )


def trim_cutoff(x, w, share: float) -> int | None:
    """Largest X kept when the top `share` of leads by X is removed: the smallest x whose cumulative
    count reaches (1 − share)·n. Ties at the cutoff are kept, so at most `share` of the leads go."""
    x, w = np.asarray(x), np.asarray(w)
    if w.sum() == 0:
        return None
    values = np.unique(x)
    cum = np.array([w[x <= v].sum() for v in values])
    return int(values[np.argmax(cum >= (1 - share) * w.sum() - 1e-9)])


def _midranks(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    uniq = np.unique(values)
    counts = np.array([w[values == u].sum() for u in uniq], dtype=float)
    before = np.concatenate([[0.0], np.cumsum(counts)[:-1]])
    return (before + (counts + 1) / 2)[np.searchsorted(uniq, values)]


def spearman_of_cells(x, y, w) -> tuple[float, float]:
    """Spearman's ρ (Pearson r of mid-ranks, ties averaged) and its t-test p-value, from count cells."""
    x, y, w = np.asarray(x, float), np.asarray(y, float), np.asarray(w, float)
    n = w.sum()
    if n < 3:
        return NAN, NAN
    rx, ry = _midranks(x, w), _midranks(y, w)
    dx, dy = rx - (w * rx).sum() / n, ry - (w * ry).sum() / n
    den = math.sqrt((w * dx * dx).sum() * (w * dy * dy).sum())
    if den == 0:
        return NAN, NAN
    rho = float((w * dx * dy).sum() / den)
    return rho, correlation_p_value(rho, int(n))


def r_tier(r: float, r_green: float, r_amber: float) -> str | None:
    """The method's reading of r: high (>= r_green), medium (>= r_amber) or low (below, negative too)."""
    if r is None or math.isnan(r):
        return None
    return "high" if r >= r_green else "medium" if r >= r_amber else "low"
