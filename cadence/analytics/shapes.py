"""Choosing the curve shape per segment, and the tables of touch-count bins and shapes.

Rule: with at least `min_n_shape` leads and four distinct touch values, fit every shape; start from flat;
take the straight line when it lowers AIC by more than 2 (about the 5 % test of the slope); then take the
best curved shape (plateau, S, quadratic) only when it lowers AIC by more than `shape_aic_margin` below
the better of flat and line. The large margin is deliberate: a breakpoint searched on a grid, or a free
S-curve, fits noise well enough that plain AIC sees curves in straight-line data (docs/analytics.md).
The bar is measured from the better of the two simple shapes (not from the one chosen), so it moves
continuously with the data: a line that just passes or just fails its test no longer shifts it by 2.
An optimum (a quadratic whose top lies inside the data) must also beat the best saturating shape
(plateau or S) by more than 2: a curve that merely flattens is fitted by a parabola too, whose top then
lands at the end of the flat part; read as an optimum it put "4 -> 12" on a plateau from 6.

`reading` turns a chosen shape into the touch count a threshold rests on: the start of the plateau (the
plateau's breakpoint, or the S-curve's point of 90 % of its ceiling, rounded), the optimum of an
inverted U, or none (flat, straight, falling, U, or a bend outside the data).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.curves import fit_flat, fit_linear, fit_plateau, fit_quadratic, fit_s
from cadence.analytics.decision import NO_TOUCHES
from cadence.analytics.fits import GROUP
from cadence.analytics.intervals import wilson

SHAPES = ("flat", "linear", "plateau", "s", "quadratic")


def _quantile(x, n, q: float) -> float:
    return float(x[np.searchsorted(np.cumsum(n), q * n.sum())])


def describe(model: dict, x, n) -> str:
    """The reading a manager gets, e.g. 'plateau from 6 touches' or 'inverted U: optimum at 9 touches'."""
    p, shape = model["params"], model["shape"]
    if shape == "flat":
        return f"flat: CR {100 * p['c']:.1f} %, no curve beats a flat line at this size"
    if shape == "linear":
        return f"linear: {100 * p['m']:+.2f} CR points per touch"
    if shape == "plateau":
        if p["m"] <= 0:
            return f"falling: CR {100 * p['m']:+.2f} points per touch up to {p['breakpoint']:g} touches, flat beyond"
        return f"plateau from {p['breakpoint']:g} touches (CR rises {100 * p['m']:+.2f} points per touch before)"
    if shape == "s":
        edge = "" if p["x90"] <= _quantile(x, n, 0.95) else " (beyond the data: still rising)"
        return (
            f"S-shape: steepest at {p['x0']:.1f} touches, 90 % of the {100 * p['ceiling']:.0f} % ceiling "
            f"at {p['x90']:.1f}{edge}"
        )
    inside = _quantile(x, n, 0.05) <= p["vertex"] <= _quantile(x, n, 0.95)
    if inside:
        return f"{'inverted U: optimum' if p['c'] < 0 else 'U: minimum'} at {p['vertex']:.1f} touches"
    return f"curved ({'flattening' if p['c'] < 0 else 'steepening'}), no optimum within the data"


def why_no_shape(x, s, n, cfg: AnalysisConfig) -> str:
    """The reason select_shape gave no shape, as a manager reads it."""
    if not np.any(np.asarray(x) > 0):
        return NO_TOUCHES
    if n.sum() < cfg.min_n_shape:
        return f"too thin to choose a shape ({int(n.sum())} leads < {cfg.min_n_shape})"
    if len(x) < 4:
        return f"too few distinct touch counts to choose a shape ({len(x)} < 4)"
    return "no shape: every lead or none converted"


def _has_optimum(model: dict, x, n) -> bool:
    """An inverted U whose top lies within the 5th-95th percentiles of X."""
    p = model["params"]
    if model["shape"] != "quadratic" or not p["c"] < 0:
        return False
    return _quantile(x, n, 0.05) <= p["vertex"] <= _quantile(x, n, 0.95)


def select_shape(x, s, n, cfg: AnalysisConfig, s_start=None) -> tuple[dict | None, list[dict]]:
    """(chosen model or None when too thin, every fitted model). `s_start`: an extra starting point of
    the S-curve fit (a resample starts from the full data's fit)."""
    x, s, n = (np.asarray(a, float) for a in (x, s, n))
    if n.sum() < cfg.min_n_shape or len(x) < 4 or s.sum() == 0 or s.sum() == n.sum():
        return None, []
    models = [
        m
        for m in (
            fit_flat(x, s, n),
            fit_linear(x, s, n),
            fit_s(x, s, n, s_start),
            fit_quadratic(x, s, n),
            fit_plateau(x, s, n, cfg.min_bin_leads, cfg.confidence),
        )
        if m is not None
    ]
    flat, line = models[0], models[1]
    chosen = flat if line["aic"] >= flat["aic"] - 2 else line
    bar = min(flat["aic"], line["aic"]) - cfg.shape_aic_margin
    curved = [m for m in models[2:] if m["aic"] < bar]
    if curved:
        best = min(curved, key=lambda m: m["aic"])
        saturating = [m for m in curved if m["shape"] in ("plateau", "s")]
        if _has_optimum(best, x, n) and saturating:
            flattening = min(saturating, key=lambda m: m["aic"])
            best = best if best["aic"] < flattening["aic"] - 2 else flattening
        chosen = best
    return chosen, models


def model_row(model: dict) -> dict:
    """A fitted model as curve_shapes stores it: shape and '<shape>_<parameter>' columns."""
    return {"shape": model["shape"], **{f"{model['shape']}_{k}": v for k, v in model["params"].items()}}


def reading(row: dict, x, n) -> tuple[str | None, int | None, str]:
    """(kind, touches, why) of a curve_shapes row (or model_row) over the touch values x with n leads:
    ('plateau_start', c, ...) for a rising plateau from c or an S-curve reaching 90 % of its ceiling at c
    (rounded) within the data; ('optimum', v, ...) for an inverted U whose top v lies within the 5th-95th
    percentiles of X; (None, None, why) otherwise."""
    x, n, kind = np.asarray(x, float), np.asarray(n, float), row["shape"]
    if kind == "plateau":
        if row["plateau_m"] > 0:
            return "plateau_start", int(row["plateau_breakpoint"]), "start of the plateau"
        return None, None, "CR falls with touches"
    if kind == "s":
        if row["s_x90"] <= _quantile(x, n, 0.95):
            return "plateau_start", int(math.floor(row["s_x90"] + 0.5)), "90 % of the S-curve's ceiling"
        return None, None, "CR still rises at the edge of the data (S-curve's 90 % point beyond it)"
    if kind == "quadratic":
        top = {"shape": "quadratic", "params": {"c": row["quadratic_c"], "vertex": row["quadratic_vertex"]}}
        if _has_optimum(top, x, n):
            return "optimum", int(math.floor(row["quadratic_vertex"] + 0.5)), "optimum of the inverted U"
        if row["quadratic_c"] > 0 and _quantile(x, n, 0.05) <= row["quadratic_vertex"] <= _quantile(x, n, 0.95):
            return None, None, "U-shape: CR dips in the middle of the cadences, no optimum to aim at"
        return None, None, "CR bends but has no optimum within the data"
    if kind == "linear":
        if row["linear_m"] > 0:
            return None, None, "CR still rises across the data: no saturation seen"
        return None, None, "CR falls with touches"
    if kind == "flat":
        return None, None, "no curve beats a flat line at this size: no bend to set a minimum from"
    return None, None, "no curve"


def bins(x, s, n, min_leads: int, z: float = 1.959963984540054) -> list[dict]:
    """Adjacent touch values merged from the lowest up until each bin holds `min_leads` leads (a short
    last bin joins the previous one), with the bin's CR and Wilson interval."""
    groups, cur = [], []
    for i in range(len(x)):
        cur.append(i)
        if n[cur].sum() >= min_leads:
            groups.append(cur)
            cur = []
    if cur:
        groups[-1:] = [groups[-1] + cur] if groups else [cur]
    out = []
    for g in groups:
        lo, hi, nn, ss = int(x[g[0]]), int(x[g[-1]]), int(n[g].sum()), int(s[g].sum())
        low, high = wilson(ss, nn, z)
        out.append(
            {
                "touches_low": lo,
                "touches_high": hi,
                "label": str(lo) if lo == hi else f"{lo}-{hi}",
                "touches_mean": float((x[g] * n[g]).sum() / nn),
                "leads": nn,
                "conversions": ss,
                "cr": ss / nn,
                "cr_ci_low": low,
                "cr_ci_high": high,
            }
        )
    return out


def touch_curves(cells: pd.DataFrame, cfg: AnalysisConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(bins: one row per group and touch bin, with the chosen shape's fitted CR; shapes: one row per
    group (population, X reading, segment) with every shape's AIC and parameters and the choice)."""
    cells = cells.assign(conv=cells["leads"] * cells["converted"])
    per_touch = cells.groupby([*GROUP, "touches"], as_index=False)[["leads", "conv"]].sum()  # sorted by touches
    bin_rows, shape_rows = [], []
    for keys, g in per_touch.groupby(GROUP, sort=False):
        key = dict(zip(GROUP, keys, strict=True))
        x, s, n = (g[c].to_numpy(float) for c in ("touches", "conv", "leads"))
        chosen, models = select_shape(x, s, n, cfg)
        row = {
            **key,
            "leads": int(n.sum()),
            "touch_values": len(x),
            "shape": chosen["shape"] if chosen else "insufficient_data",
            "description": describe(chosen, x, n) if chosen else why_no_shape(x, s, n, cfg),
        }
        for m in models:
            row[f"aic_{m['shape']}"] = m["aic"]
            row.update({f"{m['shape']}_{k}": v for k, v in m["params"].items()})
        shape_rows.append(row)
        for b in bins(x, s, n, cfg.min_bin_leads, cfg.z):
            fitted = chosen["fitted"]([b["touches_mean"]])[0] if chosen else math.nan
            bin_rows.append({**key, **b, "shape": row["shape"], "cr_fitted": float(fitted)})
    return pd.DataFrame(bin_rows), pd.DataFrame(shape_rows)


def predict(shape: dict, x) -> np.ndarray:
    """The CR a curve_shapes row's chosen shape predicts at touch counts x (from its stored parameters)."""
    x, p = np.asarray(x, float), shape
    kind = p["shape"]
    if kind == "flat":
        return np.full(len(x), p["flat_c"])
    if kind == "linear":
        return p["linear_b"] + p["linear_m"] * x
    if kind == "plateau":
        return p["plateau_b"] + p["plateau_m"] * np.minimum(x, p["plateau_breakpoint"])
    if kind == "s":
        return p["s_ceiling"] / (1 + np.exp(-p["s_k"] * (x - p["s_x0"])))
    if kind == "quadratic":
        return p["quadratic_a"] + p["quadratic_b"] * x + p["quadratic_c"] * x * x
    return np.full(len(x), math.nan)
