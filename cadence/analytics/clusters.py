"""Separate groups (clusters) and composition effects (Simpson's paradox).

Cluster rule, per segment and candidate lead flag (VIP, dispute, hot lead...): the flagged leads form a
separate cluster when (1) they are at least `cluster_min_leads` and at most half of the segment, (2) their
mean X lies at least `cluster_min_effect_size` pooled standard deviations from the others' (Cohen's d),
and (3) their CR lies at least `cluster_min_z` binomial standard errors off the others' regression line
at their mean X. Such a group follows another law than the segment's line: it is reported, and kept out
of the fit when it is an exception of the scoping note (the `standard` population).

Composition: for a pooled segment and a dimension that splits it (e.g. all leads split by channel), the
warning fires when the pooled slope's sign is opposite to the slopes of the majority (by leads) of the
sub-segments with at least `min_n` leads.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.linear import fit_moments
from cadence.analytics.sql import DIMS

SEG = ["segment_level", "segment_key", *DIMS]


def _moments(rec: dict) -> tuple[float, float, float]:
    n = rec["leads"]
    mean = rec["sx"] / n
    var = (rec["sxx"] - n * mean * mean) / (n - 1) if n > 1 else math.nan
    return n, mean, var


def clusters(stats: pd.DataFrame, cfg: AnalysisConfig) -> pd.DataFrame:
    """One row per segment and candidate flag (flagged leads vs the others), with the verdict."""
    rows = []
    for keys, g in stats.groupby(["attribute", *SEG], sort=False):
        by = {bool(r["in_group"]): r for r in g.to_dict("records")}
        if True not in by or False not in by:
            continue
        grp, rest = by[True], by[False]
        (n1, m1, v1), (n0, m0, v0) = _moments(grp), _moments(rest)
        pooled = math.sqrt(((n1 - 1) * v1 + (n0 - 1) * v0) / (n1 + n0 - 2)) if n1 + n0 > 2 else math.nan
        d = (m1 - m0) / pooled if pooled and pooled > 0 else math.nan
        line = fit_moments(n0, rest["sx"], rest["conversions"], rest["sxx"], rest["sxy"], rest["conversions"])
        pred = line["intercept"] + line["slope"] * m1 if not math.isnan(line["slope"]) else rest["conversions"] / n0
        p = min(max(pred, 0.001), 0.999)
        cr = grp["conversions"] / n1
        z = (cr - p) / math.sqrt(p * (1 - p) / n1)
        share = n1 / (n1 + n0)
        is_cluster = bool(
            n1 >= cfg.cluster_min_leads
            and share <= 0.5
            and abs(d) >= cfg.cluster_min_effect_size
            and abs(z) >= cfg.cluster_min_z
        )
        flag = keys[0]
        rows.append(
            {
                **dict(zip(["attribute", *SEG], keys, strict=True)),
                "leads": int(n1),
                "share": share,
                "x_mean": m1,
                "cr": cr,
                "rest_leads": int(n0),
                "rest_x_mean": m0,
                "rest_cr": rest["conversions"] / n0,
                "effect_size_d": d,
                "cr_predicted_by_rest_line": pred,
                "z_off_line": z,
                "is_cluster": is_cluster,
                "explanation": (
                    f"{flag} leads: {n1} ({share:.1%}), {m1:.1f} touches vs {m0:.1f} for the others "
                    f"(d = {d:.2f}); CR {cr:.1%} vs {pred:.1%} on the others' line (z = {z:.1f})"
                    f" -> {'a separate cluster' if is_cluster else 'not a separate cluster'}"
                ),
            }
        )
    return pd.DataFrame(rows)


def composition(fits: pd.DataFrame, cfg: AnalysisConfig) -> pd.DataFrame:
    """One row per population, X reading, pooled segment and splitting dimension: the pooled slope,
    the sub-segment slopes (with min_n leads) and the Simpson warning."""
    full = fits[(fits["trim"] == "none") & (fits["segment_level"] != "rep_id")]
    rows = []
    for (pop, measure), f in full.groupby(["population", "x_measure"], sort=False):
        by_level = {lvl: g for lvl, g in f.groupby("segment_level")}
        for parent in f.to_dict("records"):
            dims = [] if parent["segment_level"] == "all" else parent["segment_level"].split("+")
            for dim in (d for d in DIMS if d not in dims):
                level = "+".join(d for d in DIMS if d in dims or d == dim)
                kids = by_level.get(level, f.iloc[:0])
                for d in dims:
                    kids = kids[kids[d] == parent[d]]
                kids = kids[kids["has_min_n"] & kids["slope"].notna()]
                if len(kids) < 2 or math.isnan(parent["slope"]):
                    continue
                sign = np.sign(parent["slope"])
                opposite = kids[np.sign(kids["slope"]) == -sign]
                share = opposite["leads"].sum() / kids["leads"].sum()
                rows.append(
                    {
                        "population": pop,
                        "x_measure": measure,
                        **{k: parent[k] for k in SEG},
                        "split_dimension": dim,
                        "pooled_slope": parent["slope"],
                        "pooled_leads": parent["leads"],
                        "subsegments": len(kids),
                        "subsegments_opposite": len(opposite),
                        "share_of_leads_opposite": share,
                        "within_slope_weighted_mean": float(
                            (kids["slope"] * kids["leads"]).sum() / kids["leads"].sum()
                        ),
                        "is_simpson_warning": bool(share > 0.5 and sign != 0),
                    }
                )
    return pd.DataFrame(rows)
