"""Curve shapes, logistic regression and proportion intervals on hand-made data with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from cadence.analytics.config import analysis_config
from cadence.analytics.curves import fit_plateau, fit_s
from cadence.analytics.intervals import diff_of_proportions, wilson
from cadence.analytics.logistic import average_marginal_effect, irls, term_rows
from cadence.analytics.shapes import bins, predict, select_shape

CFG = analysis_config()
X = np.arange(0, 21, dtype=float)
N = np.full(len(X), 2000.0)  # 42,000 leads: the expected counts are (almost) the curve itself


def _exact(p):
    return np.round(N * p)


@pytest.mark.parametrize(
    ("truth", "shape"),
    [
        (0.03 + 0.03 * np.minimum(X, 6), "plateau"),
        (0.01 + 0.35 / (1 + np.exp(-0.9 * (X - 8))), "s"),
        (0.05 + 0.04 * X - 0.0022 * X**2, "quadratic"),
        (0.05 + 0.01 * X, "linear"),
        (np.full(len(X), 0.1), "flat"),
    ],
)
def test_each_planted_shape_is_chosen(truth, shape):
    chosen, models = select_shape(X, _exact(truth), N, CFG)
    assert chosen["shape"] == shape, {m["shape"]: round(m["aic"], 1) for m in models}


def test_shape_parameters_are_recovered():
    plateau = fit_plateau(X, _exact(0.03 + 0.03 * np.minimum(X, 6)), N)
    assert plateau["params"]["breakpoint"] == 6
    assert plateau["params"]["breakpoint_ci_low"] <= 6 <= plateau["params"]["breakpoint_ci_high"]
    assert plateau["params"]["m"] == pytest.approx(0.03, abs=1e-3)
    s = fit_s(X, _exact(0.35 / (1 + np.exp(-0.9 * (X - 8)))), N)["params"]
    assert (s["x0"], s["k"], s["ceiling"]) == pytest.approx((8, 0.9, 0.35), rel=0.02)
    chosen, _ = select_shape(X, _exact(0.05 + 0.04 * X - 0.0022 * X**2), N, CFG)
    assert chosen["params"]["vertex"] == pytest.approx(0.04 / (2 * 0.0022), abs=0.2)


def test_predict_rebuilds_the_curve_from_stored_parameters():
    chosen, _ = select_shape(X, _exact(0.03 + 0.03 * np.minimum(X, 6)), N, CFG)
    row = {"shape": "plateau", **{f"plateau_{k}": v for k, v in chosen["params"].items()}}
    assert predict(row, X) == pytest.approx(chosen["fitted"](X), abs=1e-12)


def test_thin_data_gets_no_shape():
    chosen, models = select_shape(X[:3], np.array([1, 2, 3]), np.array([10, 10, 10]), CFG)
    assert chosen is None and models == []


def test_bins_merge_until_min_leads_with_wilson_intervals():
    out = bins(np.array([0, 1, 2, 3, 9]), np.array([1, 5, 2, 1, 0]), np.array([10, 10, 5, 5, 2]), min_leads=10)
    assert [b["label"] for b in out] == ["0", "1", "2-9"]  # the short tail joins the last full bin
    assert out[2]["leads"] == 12 and out[2]["conversions"] == 3
    assert (out[1]["cr_ci_low"], out[1]["cr_ci_high"]) == pytest.approx(wilson(5, 10), abs=1e-12)


def test_wilson_and_newcombe_known_values():
    # Newcombe (1998), example (a): 56/70 vs 48/80 -> 0.2000, 95 % interval [0.0524, 0.3339] (method 10)
    d = diff_of_proportions(56, 70, 48, 80)
    assert d["diff"] == pytest.approx(0.2)
    assert (d["ci_low"], d["ci_high"]) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_logistic_2x2_matches_the_closed_form():
    # one binary regressor: β1 = log odds ratio, SE = √(1/a + 1/b + 1/c + 1/d)
    design = np.array([[1.0, 0.0], [1.0, 1.0]])
    s, n = np.array([20.0, 45.0]), np.array([100.0, 100.0])
    fit = irls(design, s, n)
    assert fit["converged"]
    assert fit["beta"][1] == pytest.approx(math.log((45 / 55) / (20 / 80)), abs=1e-10)
    assert term_rows(fit, ["intercept", "x"])[1]["std_error"] == pytest.approx(
        math.sqrt(1 / 20 + 1 / 80 + 1 / 45 + 1 / 55), abs=1e-10
    )


def test_logistic_matches_a_direct_likelihood_maximisation():
    rng = np.random.default_rng(4)
    touches = np.repeat(np.arange(12.0), 3)
    band = np.tile([0.0, 1.0, 2.0], 12)
    n = rng.integers(50, 200, len(touches)).astype(float)
    p = 1 / (1 + np.exp(-(-2.5 + 0.15 * touches + 0.4 * (band == 1) - 0.3 * (band == 2))))
    s = rng.binomial(n.astype(int), p).astype(float)
    design = np.column_stack([np.ones(len(n)), touches, band == 1, band == 2]).astype(float)
    fit = irls(design, s, n)

    def nll(beta):
        eta = design @ beta
        return -(s * eta - n * np.logaddexp(0, eta)).sum()

    direct = optimize.minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-10})
    assert fit["beta"] == pytest.approx(direct.x, abs=1e-5)
    ame, se = average_marginal_effect(fit, design, n)
    q = fit["p"] * (1 - fit["p"])
    assert ame == pytest.approx((n * fit["beta"][1] * q).sum() / n.sum(), abs=1e-12)

    def ame_of(beta):  # numeric gradient check of the delta method
        pp = 1 / (1 + np.exp(-(design @ beta)))
        return (n * beta[1] * pp * (1 - pp)).sum() / n.sum()

    grad = optimize.approx_fprime(fit["beta"], ame_of, 1e-7)
    assert se == pytest.approx(math.sqrt(grad @ fit["cov"] @ grad), rel=1e-4)
