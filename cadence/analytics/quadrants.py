"""Quadrants against the means (the method's scatter plot), for leads and for reps and accounts.

Leads: X = touches, Y = converted (0/1). A lead is "high X" when its touches are at or above the segment's
mean X̄, "high Y" when converted (above Ȳ = CR whenever 0 < CR < 1). Q1 high/high, Q2 low X/high Y,
Q3 low/low, Q4 high X/low Y.
Reps and accounts: X̄ and CR of the unit's leads against what its mix of cell segments
predicts (the mean X and CR of those segments), so a rep is not judged on the segments it is given:
dx = X̄ − X̄ expected, dy = CR − CR expected; Q1 dx >= 0 and dy >= 0, Q2 dx < 0 and dy >= 0, Q3 both < 0,
Q4 dx >= 0 and dy < 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.fits import GROUP

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")


def lead_quadrants(cells: pd.DataFrame, cfg: AnalysisConfig) -> pd.DataFrame:
    """One row per population, X reading and segment: X̄, CR, leads and shares per quadrant, and the
    quadrant shares of the leads first contacted within the TTF target (largest band edge <= target)."""
    edges = [i for i, e in enumerate(cfg.ttf_band_edges_hours) if e <= cfg.ttf_target_hours]
    fast_band = edges[-1] + 1 if edges else None
    rows = []
    for keys, g in cells.groupby(GROUP, sort=False):
        n = g["leads"].to_numpy(float)
        x_mean, cr = float((g["touches"] * n).sum() / n.sum()), float((g["converted"] * n).sum() / n.sum())
        high_x, high_y = (g["touches"] >= x_mean).to_numpy(), (g["converted"] == 1).to_numpy()
        masks = {"Q1": high_x & high_y, "Q2": ~high_x & high_y, "Q3": ~high_x & ~high_y, "Q4": high_x & ~high_y}
        row = {**dict(zip(GROUP, keys, strict=True)), "leads": int(n.sum()), "x_mean": x_mean, "cr": cr}
        fast = (g["ttf_band"].between(1, fast_band)).to_numpy() if fast_band else np.zeros(len(g), bool)
        row["fast_ttf_edge_hours"] = cfg.ttf_band_edges_hours[fast_band - 1] if fast_band else None
        row["leads_fast_ttf"] = int(n[fast].sum())
        for q, m in masks.items():
            row[f"leads_{q.lower()}"] = int(n[m].sum())
            row[f"share_{q.lower()}"] = n[m].sum() / n.sum()
            row[f"share_{q.lower()}_fast_ttf"] = n[m & fast].sum() / n[fast].sum() if n[fast].sum() else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def unit_quadrants(units: pd.DataFrame) -> pd.DataFrame:
    """Adds dx, dy and the quadrant to rows of (partition_month, unit_type, unit_id, leads, x_mean, cr,
    x_expected, cr_expected)."""
    out = units.copy()
    out["dx"] = out["x_mean"] - out["x_expected"]
    out["dy"] = out["cr"] - out["cr_expected"]
    hx, hy = out["dx"] >= 0, out["dy"] >= 0
    out["quadrant"] = np.select([hx & hy, ~hx & hy, ~hx & ~hy], ["Q1", "Q2", "Q3"], "Q4")
    return out


def quadrant_lists(units: pd.DataFrame, size: int = 10, min_leads: int = 1, min_months: int = 1) -> pd.DataFrame:
    """Per unit type: the `size` units most often in Q3 (coaching priority) and in Q1 (models to imitate)
    over the months given; ties broken by the mean CR gap (worst first for Q3, best first for Q1). A unit
    is listed only when it is *recurring* on enough evidence: at least `min_months` months in the quadrant
    and `min_leads` leads over the months observed (analysis.list_min_months / list_min_leads): an
    account with 3 leads in Q3 once is chance, not a coaching priority."""
    months = units["partition_month"].nunique()
    frames = []
    for quadrant, name in (("Q3", "coaching_priority"), ("Q1", "model_to_imitate")):
        flagged = units.assign(hit=(units["quadrant"] == quadrant).astype(int))
        stats = flagged.groupby(["unit_type", "unit_id"], as_index=False).agg(
            months_observed=("partition_month", "nunique"),
            months_in_quadrant=("hit", "sum"),
            mean_dx=("dx", "mean"),
            mean_dy=("dy", "mean"),
            leads=("leads", "sum"),
        )
        recurring = (stats["months_in_quadrant"] >= max(min_months, 1)) & (stats["leads"] >= min_leads)
        stats = stats[recurring].sort_values(
            ["unit_type", "months_in_quadrant", "mean_dy", "unit_id"], ascending=[True, False, quadrant == "Q3", True]
        )
        top = stats.groupby("unit_type", sort=False).head(size).copy()
        top["rank"] = top.groupby("unit_type").cumcount() + 1
        frames.append(top.assign(list_name=name, quadrant=quadrant, months_in_lookback=months))
    out = pd.concat(frames, ignore_index=True)
    return out[
        [
            "unit_type",
            "list_name",
            "quadrant",
            "rank",
            "months_in_lookback",
            "unit_id",
            "months_observed",
            "months_in_quadrant",
            "mean_dx",
            "mean_dy",
            "leads",
        ]
    ]
