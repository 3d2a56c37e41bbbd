"""Logistic regression of conversion on touches and TTF band, on grouped binomial counts (IRLS).

logit P(converted) = β0 + β1·touches + Σ γ_band·[TTF band], one row per (touches, TTF band) cell with
s conversions out of n leads. Newton-Raphson / IRLS: W = n·p(1−p), β ← β + (XᵀWX)⁻¹ Xᵀ(s − n·p);
Cov(β) = (XᵀWX)⁻¹ at the optimum. The average marginal effect of one more touch is
AME = Σ n·β1·p(1−p) / N, with its delta-method standard error.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.fits import GROUP


def _expit(eta: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(eta, -700, 700)))


def irls(design: np.ndarray, s: np.ndarray, n: np.ndarray, max_iter: int = 50, tol: float = 1e-10) -> dict:
    """Maximum-likelihood logistic fit of s successes out of n trials per row of `design`."""
    design, s, n = (np.asarray(a, float) for a in (design, s, n))
    beta = np.zeros(design.shape[1])
    total = s.sum() / n.sum()
    if 0 < total < 1:
        beta[0] = math.log(total / (1 - total))
    converged, it = False, 0
    for it in range(1, max_iter + 1):  # noqa: B007 (the count is reported)
        p = _expit(design @ beta)
        w = n * p * (1 - p)
        info = design.T @ (design * w[:, None])
        try:
            step = np.linalg.solve(info, design.T @ (s - n * p))
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            converged = True
            break
    p = _expit(design @ beta)
    info = design.T @ (design * (n * p * (1 - p))[:, None])
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.full(info.shape, np.nan)
    separated = bool(np.any(np.abs(beta) > 25))
    ll = float(np.sum(s * np.log(np.clip(p, 1e-300, 1)) + (n - s) * np.log(np.clip(1 - p, 1e-300, 1))))
    return {
        "beta": beta,
        "cov": cov,
        "p": p,
        "converged": converged and not separated,
        "iterations": it,
        "loglik": ll,
        "aic": 2 * design.shape[1] - 2 * ll,
    }


def average_marginal_effect(fit: dict, design: np.ndarray, n: np.ndarray, term: int = 1) -> tuple[float, float]:
    """(AME of `term`, its delta-method SE): mean over leads of β_term·p(1−p); gradient
    ∂AME/∂β = Σ n·[e_term·p(1−p) + β_term·p(1−p)(1−2p)·x] / N."""
    beta, p, n = fit["beta"], fit["p"], np.asarray(n, float)
    q = p * (1 - p)
    ame = float((n * beta[term] * q).sum() / n.sum())
    grad = (design * (n * beta[term] * q * (1 - 2 * p))[:, None]).sum(axis=0) / n.sum()
    grad[term] += (n * q).sum() / n.sum()
    return ame, float(math.sqrt(max(grad @ fit["cov"] @ grad, 0.0)))


def term_rows(fit: dict, names: list[str], confidence: float = 0.95) -> list[dict]:
    """One dict per coefficient: estimate, SE, Wald z and p-value, interval and odds ratio."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    rows = []
    for i, name in enumerate(names):
        est, se = float(fit["beta"][i]), float(math.sqrt(fit["cov"][i, i])) if fit["cov"][i, i] >= 0 else math.nan
        wald = est / se if se > 0 else math.nan
        rows.append(
            {
                "term": name,
                "estimate": est,
                "std_error": se,
                "z": wald,
                "p_value": float(2 * stats.norm.sf(abs(wald))) if not math.isnan(wald) else math.nan,
                "ci_low": est - z * se,
                "ci_high": est + z * se,
                "odds_ratio": math.exp(min(est, 700)),
            }
        )
    return rows


def logistic_tables(cells: pd.DataFrame, cfg: AnalysisConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fits: one row per population, X reading and segment with the touch effect and AME; terms: one
    row per coefficient). The reference TTF band is the slowest contacted band (else the largest); bands
    without variation in the outcome (complete separation) are left out and named."""
    labels = cfg.ttf_bands
    fits, terms = [], []
    cells = cells.assign(conv=cells["leads"] * cells["converted"])
    cells = cells.groupby([*GROUP, "touches", "ttf_band"], as_index=False, sort=False)[["leads", "conv"]].sum()
    for keys, t in cells.groupby(GROUP, sort=False):
        key = dict(zip(GROUP, keys, strict=True))
        band, n_all, s_all = (t[c].to_numpy() for c in ("ttf_band", "leads", "conv"))
        band_n = np.bincount(band, weights=n_all, minlength=len(labels))
        band_s = np.bincount(band, weights=s_all, minlength=len(labels))
        # a band where no lead (or every lead) converted has an infinite log-odds: left out, and listed
        separated = [b for b in range(len(labels)) if band_n[b] > 0 and band_s[b] in (0, band_n[b])]
        keep = ~np.isin(band, separated)
        t, n, s = t[keep], n_all[keep].astype(float), s_all[keep].astype(float)
        row = {
            **key,
            "leads": int(n.sum()),
            "conversions": int(s.sum()),
            "cells": len(t),
            "ttf_bands_left_out": ", ".join(labels[b] for b in separated) or None,
            "leads_left_out": int(band_n[separated].sum()),
        }
        if n.sum() < cfg.min_n or s.sum() in (0, n.sum()):
            fits.append({**row, "status": "too_thin"})
            continue
        present = [b for b in range(len(labels)) if band_n[b] > 0 and b not in separated]
        ref = len(labels) - 1 if len(labels) - 1 in present else max(present, key=lambda b: band_n[b])
        bands = [b for b in present if b != ref]
        design = np.column_stack(
            [np.ones(len(t)), t["touches"].to_numpy(float)] + [(t["ttf_band"] == b).to_numpy(float) for b in bands]
        )
        fit = irls(design, s, n)
        ame, ame_se = average_marginal_effect(fit, design, n)
        names = ["intercept", "touches"] + [f"ttf_{labels[b]}" for b in bands]
        rows = term_rows(fit, names, cfg.confidence)
        touch = rows[1]
        fits.append(
            {
                **row,
                "status": "converged" if fit["converged"] else "not_converged",
                "iterations": fit["iterations"],
                "ttf_reference_band": labels[ref],
                "touch_coefficient": touch["estimate"],
                "touch_std_error": touch["std_error"],
                "touch_p_value": touch["p_value"],
                "touch_odds_ratio": touch["odds_ratio"],
                "touch_ci_low": touch["ci_low"],
                "touch_ci_high": touch["ci_high"],
                "ame_touch": ame,
                "ame_touch_std_error": ame_se,
                "ame_touch_ci_low": ame - cfg.z * ame_se,
                "ame_touch_ci_high": ame + cfg.z * ame_se,
                "loglik": fit["loglik"],
                "aic": fit["aic"],
            }
        )
        terms += [{**key, "ttf_reference_band": labels[ref], **r} for r in rows]
    return pd.DataFrame(fits), pd.DataFrame(terms)
