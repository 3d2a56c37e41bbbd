"""Tables of linear fits and their robustness checks, from the moments and the count cells."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.linear import fit_moments, moments_of_cells, r_tier, spearman_of_cells, trim_cutoff
from cadence.analytics.sql import KEY_COLUMNS

MEASURES = {"touches_in_window": "w", "touches_before_conversion": "b"}
GROUP = ["population", "x_measure", *KEY_COLUMNS]


def collapse_ttf(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells summed over TTF bands: one row per (population, X reading, segment, touches, converted)."""
    return cells.groupby([*GROUP, "touches", "converted"], as_index=False, sort=False)["leads"].sum()


def _row(keys: dict, trim: str, sums: tuple, cutoff, removed: int, rho_p, cfg: AnalysisConfig) -> dict:
    n, sx, sy, sxx, sxy, syy = sums
    fit = fit_moments(n, sx, sy, sxx, sxy, syy, cfg.confidence)
    return {
        **keys,
        "trim": trim,
        "leads": n,
        "conversions": sy,
        "sum_x": sx,
        "sum_x2": sxx,
        "sum_xy": sxy,
        "trim_cutoff_touches": cutoff,
        "leads_removed": removed,
        **fit,
        "spearman_rho": rho_p[0],
        "spearman_p_value": rho_p[1],
        "r_tier": r_tier(fit["r"], cfg.r_green, cfg.r_amber),
        "has_min_n": n >= cfg.min_n,
    }


def linear_fits(moments: pd.DataFrame, cells: pd.DataFrame, cfg: AnalysisConfig) -> pd.DataFrame:
    """One row per population, X reading, segment and trim ('none' | 'top'): the fit on all leads
    (sums from DuckDB) and without the `trim_share` most extreme cadences (sums of the kept cells)."""
    by_group = {k: g for k, g in collapse_ttf(cells).groupby(GROUP, sort=False)}
    rows = []
    for rec in moments.to_dict("records"):
        for measure, s in MEASURES.items():
            keys = {"population": rec["population"], "x_measure": measure, **{k: rec[k] for k in KEY_COLUMNS}}
            g = by_group.get(tuple(keys[k] for k in GROUP))
            x, y, w = (
                (g[c].to_numpy() for c in ("touches", "converted", "leads"))
                if g is not None
                else (np.array([], int),) * 3
            )
            sums = (
                rec["leads"],
                rec[f"sx_{s}"],
                rec["conversions"],
                rec[f"sxx_{s}"],
                rec[f"sxy_{s}"],
                rec["conversions"],
            )
            rows.append(_row(keys, "none", sums, None, 0, spearman_of_cells(x, y, w), cfg))
            cut = trim_cutoff(x, w, cfg.trim_share) if len(w) else None
            keep = x <= cut if cut is not None else np.zeros(len(w), bool)
            kept = moments_of_cells(x[keep], y[keep], w[keep])
            rows.append(
                _row(
                    keys,
                    "top",
                    kept,
                    cut,
                    int(rec["leads"]) - kept[0],
                    spearman_of_cells(x[keep], y[keep], w[keep]),
                    cfg,
                )
            )
    return pd.DataFrame(rows)


def _sign(v: float) -> int:
    return 0 if v is None or math.isnan(v) else int(np.sign(v))


def _change(a: pd.Series, b: pd.Series) -> str | None:
    """'sign' when the slopes point opposite ways, else 'tier' when r's tier differs, else None."""
    if _sign(a["slope"]) * _sign(b["slope"]) < 0:
        return "sign"
    if a["r_tier"] is not None and b["r_tier"] is not None and a["r_tier"] != b["r_tier"]:
        return "tier"
    return None


def fit_checks(fits: pd.DataFrame) -> pd.DataFrame:
    """One row per population and segment: the two X readings side by side (post-conversion touches)
    and each reading with vs without its most extreme cadences (sensitivity), with the flags."""
    idx = fits.set_index([*GROUP, "trim"])
    rows = []
    for keys, _ in fits.groupby(["population", *KEY_COLUMNS], sort=False):
        pop, seg = keys[0], keys[1:]
        get = {(m, t): idx.loc[(pop, m, *seg, t)] for m in MEASURES for t in ("none", "top")}
        row = dict(zip(["population", *KEY_COLUMNS], keys, strict=True))
        for m, s in MEASURES.items():
            full, top = get[(m, "none")], get[(m, "top")]
            row.update(
                {
                    f"r_{s}": full["r"],
                    f"slope_{s}": full["slope"],
                    f"r_tier_{s}": full["r_tier"],
                    f"r_{s}_trimmed": top["r"],
                    f"slope_{s}_trimmed": top["slope"],
                    f"r_tier_{s}_trimmed": top["r_tier"],
                    f"sensitivity_change_{s}": _change(full, top),
                }
            )
        row["readings_disagreement"] = _change(
            get[("touches_in_window", "none")], get[("touches_before_conversion", "none")]
        )
        row["leads"] = int(get[("touches_in_window", "none")]["leads"])
        rows.append(row)
    out = pd.DataFrame(rows)
    out["is_readings_disagreement"] = out["readings_disagreement"].notna()
    out["is_sensitive_to_extremes"] = out["sensitivity_change_w"].notna() | out["sensitivity_change_b"].notna()
    return out
