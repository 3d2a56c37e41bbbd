"""Time to first contact: CR per TTF band and the CR gap at each band edge (a candidate TTF target)."""

from __future__ import annotations

import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.intervals import diff_of_proportions, wilson
from cadence.analytics.sql import KEY_COLUMNS

SEGMENT = ["population", *KEY_COLUMNS]


def _band_counts(cells: pd.DataFrame, cfg: AnalysisConfig) -> pd.DataFrame:
    one = cells[cells["x_measure"] == cfg.x_measure]  # the leads are the same under both X readings
    one = one.assign(conv=one["leads"] * one["converted"])
    return one.groupby([*SEGMENT, "ttf_band"], as_index=False, sort=False)[["leads", "conv"]].sum()


def ttf_bands(cells: pd.DataFrame, moments: pd.DataFrame, cfg: AnalysisConfig) -> pd.DataFrame:
    """One row per population, segment and TTF band: leads, share of the segment's leads, CR and its
    Wilson interval; with the segment's median TTF, TTF target and share of leads within it."""
    counts = _band_counts(cells, cfg)
    counts["segment_leads"] = counts.groupby(SEGMENT, sort=False)["leads"].transform("sum")
    rows = []
    for rec in counts.to_dict("records"):
        low, high = wilson(rec["conv"], rec["leads"], cfg.z)
        rows.append(
            {
                **{k: rec[k] for k in SEGMENT},
                "ttf_band_index": int(rec["ttf_band"]),
                "ttf_band": cfg.ttf_bands[int(rec["ttf_band"])],
                "leads": int(rec["leads"]),
                "conversions": int(rec["conv"]),
                "share_of_leads": rec["leads"] / rec["segment_leads"],
                "cr": rec["conv"] / rec["leads"],
                "cr_ci_low": low,
                "cr_ci_high": high,
            }
        )
    seg = moments[
        [*SEGMENT, "ttf_median_hours", "ttf_target_hours", "ttf_target_hours_max", "leads_within_ttf_target", "leads"]
    ].rename(columns={"leads": "segment_leads"})
    seg["share_within_ttf_target"] = seg["leads_within_ttf_target"] / seg["segment_leads"]
    out = pd.DataFrame(rows).merge(seg, on=SEGMENT, how="left")
    return out.sort_values([*SEGMENT, "ttf_band_index"], ignore_index=True)


def ttf_gaps(cells: pd.DataFrame, cfg: AnalysisConfig) -> pd.DataFrame:
    """One row per population, segment and band edge e: CR of leads first contacted within e hours
    minus CR of the others (slower or never contacted), Newcombe interval and two-proportion z-test."""
    counts = _band_counts(cells, cfg)
    rows = []
    for keys, g in counts.groupby(SEGMENT, sort=False):
        for i, edge in enumerate(cfg.ttf_band_edges_hours):
            inside = g["ttf_band"].between(1, i + 1)
            n1, s1 = g.loc[inside, "leads"].sum(), g.loc[inside, "conv"].sum()
            n2, s2 = g.loc[~inside, "leads"].sum(), g.loc[~inside, "conv"].sum()
            d = diff_of_proportions(s1, n1, s2, n2, cfg.z)
            rows.append(
                {
                    **dict(zip(SEGMENT, keys, strict=True)),
                    "ttf_edge_hours": float(edge),
                    "leads_within": int(n1),
                    "cr_within": s1 / n1 if n1 else float("nan"),
                    "leads_beyond": int(n2),
                    "cr_beyond": s2 / n2 if n2 else float("nan"),
                    "cr_gap_points": 100 * d["diff"],
                    "cr_gap_ci_low_points": 100 * d["ci_low"],
                    "cr_gap_ci_high_points": 100 * d["ci_high"],
                    "z": d["z"],
                    "p_value": d["p_value"],
                }
            )
    return pd.DataFrame(rows)
