"""Conversion as a function of touch count: binned rates and the candidate curve shapes.

Every shape is fitted by least squares at the lead level (the method's regression of the 0/1 outcome,
generalised), which is weighted least squares on the CR per touch value with the leads as weights, and
compared by AIC = N·ln(RSS/N) + 2k, RSS being the lead-level residual sum of squares:

    flat       p = c                                          k = 1
    linear     p = b + m·x                                    k = 2
    plateau    p = b + m·min(x, c), breakpoint c on the grid  k = 3
    s          p = L / (1 + exp(−k·(x − x0)))                 k = 3
    quadratic  p = a + b·x + c·x²  (U / inverted U)           k = 3
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import optimize, stats


def rss(f: np.ndarray, s: np.ndarray, n: np.ndarray) -> float:
    """Lead-level residual sum of squares of the fitted CR f per touch value (s conversions of n leads)."""
    return float((s * (1 - f) ** 2 + (n - s) * f**2).sum())


def wls(design: np.ndarray, s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Least squares on the leads = weighted least squares of the CR per touch value (weights n)."""
    dw = design * n[:, None]
    return np.linalg.lstsq(design.T @ dw, dw.T @ (s / n), rcond=None)[0]


def _model(name: str, k: int, f: np.ndarray, s, n, params: dict, fitted) -> dict:
    total, r = n.sum(), rss(f, s, n)
    return {
        "shape": name,
        "k": k,
        "rss": r,
        "aic": total * math.log(r / total) + 2 * k,
        "params": params,
        "fitted": fitted,
    }


def fit_flat(x, s, n) -> dict:
    c = s.sum() / n.sum()
    return _model("flat", 1, np.full(len(x), c), s, n, {"c": c}, lambda v: np.full(len(np.atleast_1d(v)), c))


def fit_linear(x, s, n) -> dict:
    b, m = wls(np.column_stack([np.ones(len(x)), x]), s, n)
    return _model("linear", 2, b + m * x, s, n, {"b": b, "m": m}, lambda v: b + m * np.asarray(v, float))


@lru_cache(maxsize=16)
def _chi2_1(confidence: float) -> float:
    return float(stats.chi2.ppf(confidence, 1))


def fit_plateau(x, s, n, min_side: int = 1, confidence: float = 0.95) -> dict | None:
    """Breakpoint c profiled over the observed touch values with at least `min_side` leads above c and
    two distinct values at or below; c's interval holds the breakpoints whose profile is within the
    χ²(1) quantile of the best (N·ln(RSS_c / RSS_best) <= 3.84 at 95 %)."""
    grid = np.array([c for c in x[:-1] if n[x > c].sum() >= min_side and (x <= c).sum() >= 2])
    if not len(grid):
        return None
    # every breakpoint at once: weighted least squares of CR on z = min(x, c), one row per c
    z = np.minimum(x[None, :], grid[:, None])
    total, y_mean = n.sum(), s.sum() / n.sum()
    z_mean = (z * n).sum(axis=1) / total
    slopes = ((z - z_mean[:, None]) * (s - n * y_mean)).sum(axis=1) / (n * (z - z_mean[:, None]) ** 2).sum(axis=1)
    intercepts = y_mean - slopes * z_mean
    f = intercepts[:, None] + slopes[:, None] * z
    rss_c = (s * (1 - f) ** 2 + (n - s) * f**2).sum(axis=1)
    profile = [
        (float(r), int(c), float(b), float(m)) for r, c, b, m in zip(rss_c, grid, intercepts, slopes, strict=True)
    ]
    best, c, b, m = min(profile)
    limit = _chi2_1(confidence)
    inside = [pc for pr, pc, *_ in profile if n.sum() * math.log(pr / best) <= limit]
    return _model(
        "plateau",
        3,
        b + m * np.minimum(x, c),
        s,
        n,
        {"b": b, "m": m, "breakpoint": c, "breakpoint_ci_low": min(inside), "breakpoint_ci_high": max(inside)},
        lambda v: b + m * np.minimum(np.asarray(v, float), c),
    )


def _s_curve(theta, x):
    """theta = (logit L, log k, x0) -> (p, L, k, sigmoid); the transforms keep 0 < L < 1 and k > 0."""
    a, c, x0 = min(max(float(theta[0]), -30.0), 30.0), min(max(float(theta[1]), -10.0), 6.0), float(theta[2])
    ceiling, k = 1 / (1 + math.exp(-a)), math.exp(c)
    sig = 1 / (1 + np.exp(np.clip(-k * (np.asarray(x, float) - x0), -700, 700)))
    return ceiling * sig, ceiling, k, sig


def fit_s(x, s, n, start=None) -> dict:
    """Logistic in touches with a free ceiling L: Levenberg-Marquardt on (logit L, log k, x0) with the
    analytic Jacobian, from two starts (the lowest RSS is kept), or from `start` alone when given: an
    S-curve's (ceiling, k, x0), e.g. the full data's fit as the start of a resample's, which then stops at
    a relative tolerance of 1e-8 instead of 1e-12 (a resample only needs its 90 % point to a touch)."""
    w, y = np.sqrt(n), s / n

    def resid(theta):
        return w * (y - _s_curve(theta, x)[0])

    def jac(theta):
        p, ceiling, k, sig = _s_curve(theta, x)
        d = ceiling * sig * (1 - sig)
        return -w[:, None] * np.column_stack([p * (1 - ceiling), d * (x - theta[2]) * k, -d * k])

    top = min(max(y.max(), 0.02), 0.98)
    starts = [
        (math.log(top / (1 - top)), 0.0, float(np.median(x))),
        (math.log(top / (1 - top)), math.log(0.5), float(np.percentile(x, 75))),
    ]
    tol = 1e-12
    if start is not None:
        ceiling0, k0, x00 = (float(v) for v in start)
        if 0 < ceiling0 < 1 and k0 > 0 and math.isfinite(x00):
            starts, tol = [(math.log(ceiling0 / (1 - ceiling0)), math.log(k0), x00)], 1e-8
    best = min(
        (optimize.least_squares(resid, st, jac=jac, method="lm", xtol=tol, ftol=tol) for st in starts),
        key=lambda r: r.cost,
    )
    _, ceiling, k, _ = _s_curve(best.x, x)
    x0 = float(best.x[2])
    return _model(
        "s",
        3,
        _s_curve(best.x, x)[0],
        s,
        n,
        {"ceiling": ceiling, "k": k, "x0": x0, "x90": x0 + math.log(9) / k},
        lambda v: _s_curve(best.x, v)[0],
    )


def fit_quadratic(x, s, n) -> dict:
    a, b, c = wls(np.column_stack([np.ones(len(x)), x, x * x]), s, n)
    vertex = -b / (2 * c) if c != 0 else math.nan
    return _model(
        "quadratic",
        3,
        a + b * x + c * x * x,
        s,
        n,
        {"a": a, "b": b, "c": c, "vertex": vertex},
        lambda v: a + b * np.asarray(v, float) + c * np.asarray(v, float) ** 2,
    )
