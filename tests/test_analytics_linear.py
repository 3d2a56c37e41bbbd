"""The method's linear reading from sufficient statistics: known answers by hand, and scipy on the same
leads to 1e-9 (Pearson r, its p-value and Fisher interval, slope, intercept, their standard errors,
Spearman's ρ from count cells)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cadence.analytics.linear import (
    fit_moments,
    moments_of_cells,
    r_tier,
    spearman_of_cells,
    trim_cutoff,
)


def _moments(x, y):
    x, y = np.asarray(x, dtype=object), np.asarray(y, dtype=object)
    return len(x), int(x.sum()), int(y.sum()), int((x * x).sum()), int((x * y).sum()), int((y * y).sum())


def _cells(x, y):
    pairs, counts = np.unique(np.column_stack([x, y]), axis=0, return_counts=True)
    return pairs[:, 0], pairs[:, 1], counts


def test_known_answer_by_hand():
    # x̄ = 3, ȳ = 0.6, Sxy = 3, Sxx = 10, Syy = 1.2: m = 0.3, b = -0.3, r = 3 / √12
    fit = fit_moments(*_moments([1, 2, 3, 4, 5], [0, 0, 1, 1, 1]))
    assert fit["slope"] == pytest.approx(0.3, abs=1e-12)
    assert fit["intercept"] == pytest.approx(-0.3, abs=1e-12)
    assert fit["r"] == pytest.approx(3 / math.sqrt(12), abs=1e-12)
    assert fit["r2"] == pytest.approx(0.75, abs=1e-12)
    assert (fit["x_mean"], fit["y_mean"]) == (3, 0.6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_scipy_to_1e_9(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    x = rng.poisson(rng.gamma(2.5, 2.4, n))
    y = (rng.random(n) < np.minimum(0.03 + 0.03 * np.minimum(x, 6), 0.9)).astype(int)
    fit = fit_moments(*_moments(x, y))
    lr, pr = stats.linregress(x, y), stats.pearsonr(x, y)
    ci = pr.confidence_interval(0.95)
    assert fit["slope"] == pytest.approx(lr.slope, abs=1e-9)
    assert fit["intercept"] == pytest.approx(lr.intercept, abs=1e-9)
    assert fit["r"] == pytest.approx(pr.statistic, abs=1e-9)
    assert fit["r_p_value"] == pytest.approx(pr.pvalue, abs=1e-9)
    assert (fit["r_ci_low"], fit["r_ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)
    assert fit["slope_se"] == pytest.approx(lr.stderr, abs=1e-9)
    assert fit["intercept_se"] == pytest.approx(lr.intercept_stderr, abs=1e-9)
    t = stats.t.ppf(0.975, n - 2)
    assert fit["slope_ci_low"] == pytest.approx(lr.slope - t * lr.stderr, abs=1e-9)
    rho, p = spearman_of_cells(*_cells(x, y))
    sp = stats.spearmanr(x, y)
    assert rho == pytest.approx(sp.statistic, abs=1e-9) and p == pytest.approx(sp.pvalue, abs=1e-9)
    assert moments_of_cells(*_cells(x, y)) == _moments(x, y)


def test_exact_integer_sums_survive_a_million_leads():
    # sums of squares of a million leads: Python integers, no cancellation in n·ΣX² − (ΣX)²
    n, x = 1_000_000, 7
    fit = fit_moments(n, n * x, n // 2, n * x * x, n * x // 2, n // 2)
    assert math.isnan(fit["slope"]) and fit["x_mean"] == 7  # every lead at 7 touches: no slope


def test_degenerate_inputs_give_nan_not_errors():
    assert math.isnan(fit_moments(0, 0, 0, 0, 0, 0)["r"])
    assert math.isnan(fit_moments(*_moments([1, 2], [0, 1]))["r"])  # n < 3
    flat_y = fit_moments(*_moments([1, 2, 3, 4], [0, 0, 0, 0]))
    assert flat_y["slope"] == 0 and math.isnan(flat_y["r"])  # no conversion: line defined, r not
    assert spearman_of_cells([1, 1], [0, 1], [5, 5]) == (pytest.approx(math.nan, nan_ok=True),) * 2


def test_trim_removes_at_most_the_share_and_keeps_ties():
    x, w = np.array([1, 2, 3, 10]), np.array([50, 30, 19, 1])
    assert trim_cutoff(x, w, 0.01) == 3  # the single lead at 10 touches is the top 1 %
    assert trim_cutoff(x, w, 0.0) == 10
    # ties at the cutoff are kept: 10 leads at 5 touches, trimming 5 % removes none of them
    assert trim_cutoff(np.array([1, 5]), np.array([90, 10]), 0.05) == 5


def test_r_tiers_follow_the_method():
    assert [r_tier(r, 0.25, 0.10) for r in (0.3, 0.25, 0.2, 0.1, 0.05, -0.4)] == [
        "high",
        "high",
        "medium",
        "medium",
        "low",
        "low",
    ]
    assert r_tier(math.nan, 0.25, 0.10) is None
