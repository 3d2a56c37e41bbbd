"""The A/B statistics, checked against scipy, published values and simulation (binomial data, many seeds).

Nothing here runs the pipeline: each check is either an independent computation of the same quantity
(scipy, a closed formula written here, Monte Carlo) or a frequency property over many simulated
experiments (false-positive rate of an A/A test, power at the computed sample size, interval coverage).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from scipy.stats.contingency import relative_risk

from cadence.experiments import stats
from cadence.experiments.sequential import obrien_fleming_bounds

CASES = [(10, 100, 18, 100), (120, 1000, 151, 1000), (3, 40, 0, 35), (480, 4000, 560, 3900), (1, 7, 6, 9)]


@pytest.mark.parametrize("x1,n1,x2,n2", CASES)
def test_wilson_and_z_test_match_scipy(x1, n1, x2, n2):
    for x, n in ((x1, n1), (x2, n2)):
        ref = sps.binomtest(x, n).proportion_ci(0.95, method="wilson")
        assert np.allclose(stats.wilson(x, n), (ref.low, ref.high), atol=1e-12)
    _, p = stats.two_proportion_z(x1, n1, x2, n2)
    ref = sps.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False).pvalue
    assert p == pytest.approx(ref, rel=1e-9)


def test_newcombe_interval_matches_the_published_examples():
    # Newcombe (1998), Statistics in Medicine 17:873, table II, method 10: 56/70 - 48/80 and 9/10 - 3/10.
    assert np.allclose(stats.newcombe_diff(48, 80, 56, 70), (0.0524, 0.3339), atol=5e-5)
    assert np.allclose(stats.newcombe_diff(3, 10, 9, 10), (0.1705, 0.8090), atol=5e-5)


@pytest.mark.parametrize("x1,n1,x2,n2", [c for c in CASES if c[0] and c[2]])
def test_relative_lift_interval_is_scipys_katz_interval(x1, n1, x2, n2):
    ref = relative_risk(x2, n2, x1, n1)
    ci = ref.confidence_interval(0.95)
    rel, low, high = stats.relative_lift(x1, n1, x2, n2)
    assert np.allclose((rel + 1, low + 1, high + 1), (ref.relative_risk, ci.low, ci.high), rtol=1e-9)


@pytest.mark.parametrize("x1,n1,x2,n2", [(120, 1000, 151, 1000), (30, 200, 22, 210), (5, 60, 9, 55)])
def test_probability_to_beat_matches_monte_carlo(x1, n1, x2, n2):
    rng = np.random.default_rng(7)
    draws = 400_000
    mc = np.mean(rng.beta(1 + x2, 1 + n2 - x2, draws) > rng.beta(1 + x1, 1 + n1 - x1, draws))
    assert stats.prob_to_beat(x1, n1, x2, n2) == pytest.approx(mc, abs=0.004)


def test_srm_test_is_pearsons_goodness_of_fit_and_flags_a_dropped_share():
    chi2, p = stats.srm_test([1282, 939], [0.5, 0.5])
    ref = sps.chisquare([1282, 939], [1110.5, 1110.5])
    assert (chi2, p) == pytest.approx((ref.statistic, ref.pvalue))
    assert p < 0.001
    assert stats.srm_test([1000, 1040], [0.5, 0.5])[1] > 0.3
    assert stats.srm_test([700, 300], [0.7, 0.3])[1] == pytest.approx(1.0)


def test_the_guardrail_rate_test_is_exact_and_rarely_alarms_without_harm():
    # x_t events of x_t + x_c, each on the treatment's side with probability n_t / (n_t + n_c) if no harm
    assert stats.rate_ratio_p(11, 2964, 1, 2733) == pytest.approx(sps.binom.sf(10, 12, 2964 / 5697))
    assert stats.rate_ratio_p(0, 100, 0, 100) == 1.0
    ceiling = sps.binomtest(15, 1000, 0.002, alternative="greater").pvalue
    assert stats.p_above(15, 1000, 0.002) == pytest.approx(ceiling) and stats.p_above(1, 300, 0.002) > 0.4
    rng = np.random.default_rng(3)
    seeds, base = 20_000, 3000
    x_t, x_c = rng.binomial(base, 0.002, seeds), rng.binomial(base, 0.002, seeds)
    p = np.array([stats.rate_ratio_p(a, base, b, base) for a, b in zip(x_t, x_c, strict=True)])
    assert np.mean(p < 0.001) <= 0.001 + 3.5 * np.sqrt(0.001 / seeds)  # exact test: at most alpha
    harmed = rng.binomial(base, 0.01, 2000)  # a 5x complaint rate is caught within one week, mostly
    caught = np.mean([stats.rate_ratio_p(a, base, b, base) < 0.001 for a, b in zip(harmed, x_c[:2000], strict=True)])
    assert caught > 0.75  # about 83 % with 3,000 e-mails a week per arm


def test_sample_size_is_fleiss_formula_and_reaches_the_nominal_power_by_simulation():
    p1, delta, alpha, power = 0.10, 0.03, 0.05, 0.80
    n1, n2 = stats.sample_size(p1, delta, alpha, power)
    p2, bar = p1 + delta, p1 + delta / 2
    za, zb = sps.norm.ppf(1 - alpha / 2), sps.norm.ppf(power)
    closed = (za * np.sqrt(2 * bar * (1 - bar)) + zb * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / delta**2
    assert n1 == n2 == int(np.ceil(closed)) == 1774
    rng = np.random.default_rng(2026)
    sims = 20_000
    x1, x2 = rng.binomial(n1, p1, sims), rng.binomial(n2, p2, sims)
    _, p = stats.two_proportion_z(x1, n1, x2, n2)
    assert np.mean(p < alpha) == pytest.approx(power, abs=0.015)
    # the rule of thumb of 200 per arm has little power for 3 points on a 10 % baseline
    x1, x2 = rng.binomial(200, p1, sims), rng.binomial(200, p2, sims)
    assert np.mean(stats.two_proportion_z(x1, 200, x2, 200)[1] < alpha) < 0.2


def test_reachable_mde_inverts_the_sample_size_and_unequal_allocation_costs_leads():
    mde = stats.reachable_mde(0.10, 1774, 1774, 0.05, 0.80)
    assert mde == pytest.approx(0.03, abs=2e-5)
    assert stats.reachable_mde(0.10, 10, 10, 0.05, 0.8) is not None
    assert stats.reachable_mde(0.99, 5, 5, 0.05, 0.8) is None
    balanced = sum(stats.sample_size(0.2, 0.05, 0.05, 0.8))
    assert sum(stats.sample_size(0.2, 0.05, 0.05, 0.8, 0.8, 0.2)) > 1.5 * balanced


def test_obrien_fleming_boundaries_match_the_published_table():
    # Lan-DeMets O'Brien-Fleming spending, two-sided 0.05, equally spaced looks (ldbounds / gsDesign sfLDOF).
    assert np.allclose(
        obrien_fleming_bounds([0.2, 0.4, 0.6, 0.8, 1.0]), [4.8769, 3.3569, 2.6803, 2.2898, 2.0310], atol=2e-3
    )
    assert np.allclose(obrien_fleming_bounds([0.25, 0.5, 0.75, 1.0]), [4.3326, 2.9631, 2.3590, 2.0141], atol=2e-3)
    assert obrien_fleming_bounds([1.0]) == [pytest.approx(1.959964, abs=1e-5)]
    with pytest.raises(ValueError, match="increase"):
        obrien_fleming_bounds([0.5, 0.4])


def _weekly_aa(seeds: int, n_week: int, p: float, lift: float = 0.0):
    """Cumulative (x1, n1, x2, n2) at 4 weekly looks of `seeds` simulated experiments."""
    rng = np.random.default_rng(seeds)
    x1 = rng.binomial(n_week, p, (seeds, 4)).cumsum(axis=1)
    x2 = rng.binomial(n_week, p + lift, (seeds, 4)).cumsum(axis=1)
    n = n_week * np.arange(1, 5)
    return x1, n, x2, n


def test_aa_tests_stay_quiet_at_the_nominal_rate_and_sequential_looks_do_not_inflate_it():
    seeds = 4000
    x1, n, x2, _ = _weekly_aa(seeds, 250, 0.12)
    z, p = stats.two_proportion_z(x1, n, x2, n)
    sd = np.sqrt(0.05 * 0.95 / seeds)
    final = p[:, -1] < 0.05
    assert abs(final.mean() - 0.05) < 3.5 * sd  # fixed horizon: 5 % of A/A tests "significant"
    low, high = stats.newcombe_diff(x1[:, -1], n[-1], x2[:, -1], n[-1])
    assert abs(((low > 0) | (high < 0)).mean() - 0.05) < 3.5 * sd  # intervals exclude 0 as often
    bounds = np.array(obrien_fleming_bounds([0.25, 0.5, 0.75, 1.0]))
    sequential = (np.abs(z) >= bounds).any(axis=1)
    assert abs(sequential.mean() - 0.05) < 3.5 * sd  # weekly looks with alpha spending: still 5 %
    peeking = (p < 0.05).any(axis=1)
    assert peeking.mean() > 0.09  # stopping at the first p < 0.05 of four looks: about 12 %


def test_a_planted_three_point_lift_is_recovered_without_bias_with_nominal_coverage():
    seeds = 4000
    x1, n, x2, _ = _weekly_aa(seeds, 900, 0.10, lift=0.03)
    est = (x2[:, -1] - x1[:, -1]) / n[-1]
    low, high = stats.newcombe_diff(x1[:, -1], n[-1], x2[:, -1], n[-1])
    assert est.mean() == pytest.approx(0.03, abs=0.001)
    coverage = ((low <= 0.03) & (high >= 0.03)).mean()
    assert abs(coverage - 0.95) < 3.5 * np.sqrt(0.95 * 0.05 / seeds)
    assert (low > 0).mean() > 0.9  # 3,600 leads per arm: power above 90 %
