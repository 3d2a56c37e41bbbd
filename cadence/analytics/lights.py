"""The traffic-light table: gathers each segment's inputs (the method's r reading, the effect of touches,
ΔCR, complaints, heterogeneity), applies decision.decide, keeps all of them with the light's rule and reason."""

from __future__ import annotations

import math

import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.decision import (
    SEG,
    complaints_rising,
    decide,
    lower_tier,
    method_light,
    mixed_gains,
    weekly_breaches,
)
from cadence.analytics.effect import effect_of_touches
from cadence.analytics.intervals import diff_of_proportions
from cadence.analytics.sql import DIMS

OTHER = {"touches_in_window": "touches_before_conversion", "touches_before_conversion": "touches_in_window"}
SHORT = {"touches_in_window": "w", "touches_before_conversion": "b"}


def children(parent: dict, table: pd.DataFrame) -> pd.DataFrame:
    """Rows of `table` one dimension finer than `parent` and inside it."""
    dims = [] if parent["segment_level"] == "all" else parent["segment_level"].split("+")
    levels = {"+".join(d for d in DIMS if d in dims or d == extra) for extra in DIMS if extra not in dims}
    out = table[table["segment_level"].isin(levels)]
    for d in dims:
        out = out[out[d] == parent[d]]
    return out


def _segments(df: pd.DataFrame, population: str) -> pd.DataFrame:
    return df[(df["population"] == population) & (df["segment_level"] != "rep_id")]


def _effect_inputs(
    logit: pd.DataFrame, shapes: pd.DataFrame, cells: pd.DataFrame, minimums: pd.DataFrame, cfg: AnalysisConfig
):
    """Per segment key: its logistic fit, (touches, converted, leads) cells, curve shape and min_touches
    row on the effect X (threshold_x_measure) in the decision population."""

    def pick(df: pd.DataFrame) -> pd.DataFrame:
        if df.empty:
            return df
        return df[(df["population"] == cfg.population) & (df["x_measure"] == cfg.threshold_x_measure)]

    by_logit = {r["segment_key"]: r for r in pick(logit).to_dict("records")}
    by_shape = {r["segment_key"]: r for r in pick(shapes).to_dict("records")}
    mins = minimums[minimums["threshold"] == "min_touches"] if len(minimums) else minimums
    by_min = {r["segment_key"]: r for r in mins.to_dict("records")}
    sel = pick(cells)
    by_cells = dict(tuple(sel.groupby("segment_key")[["touches", "converted", "leads"]])) if len(sel) else {}
    empty = pd.DataFrame(columns=["touches", "converted", "leads"])
    return lambda key: (by_logit.get(key), by_cells.get(key, empty), by_shape.get(key), cfg, by_min.get(key))


def traffic_light(
    fits,
    checks,
    cluster_table,
    composition_table,
    moments,
    moments_prev,
    weeks,
    logit,
    shapes,
    cells,
    minimums,
    cfg: AnalysisConfig,
) -> pd.DataFrame:
    """One row per segment: the light, the rule that decided it and its reason, the effect of touches
    (marginal effect, touch bands, curve), the method's r reading (r of both readings, tiers, the light
    r alone gives), ΔCR with its interval, complaint rates and weekly breaches, heterogeneity flags, and the
    thresholds used. `weeks`: segment_key, iso_week, complaints, emails_delivered (may be empty);
    `logit`, `shapes`, `cells`, `minimums`: logistic_fits, curve_shapes, lead_cells and thresholds of the
    month."""
    pop, xm = cfg.population, cfg.x_measure
    effect_inputs = _effect_inputs(logit, shapes, cells, minimums, cfg)
    f = _segments(fits[fits["trim"] == "none"], pop).set_index(["segment_key", "x_measure"])
    chk = _segments(checks, pop).set_index("segment_key")
    cols = ["segment_key", "leads", "conversions", "emails_complained", "emails_delivered"]
    prev = moments_prev if len(moments_prev) else pd.DataFrame(columns=["population", "segment_level", *cols])

    def with_prev(population: str) -> pd.DataFrame:
        return _segments(moments, population).merge(
            _segments(prev, population)[cols], on="segment_key", how="left", suffixes=("", "_prev")
        )

    mom, everyone = with_prev(pop), with_prev("all").set_index("segment_key")
    simpson = (
        set(
            composition_table.loc[
                composition_table["is_simpson_warning"]
                & (composition_table["population"] == pop)
                & (composition_table["x_measure"] == xm),
                "segment_key",
            ]
        )
        if len(composition_table)
        else set()
    )
    excused = set(cfg.exception_flags) if pop == "standard" else set()
    odd = (
        cluster_table[cluster_table["is_cluster"] & ~cluster_table["attribute"].isin(excused)]
        if len(cluster_table)
        else cluster_table
    )
    rows = []
    for seg in mom.to_dict("records"):
        key = seg["segment_key"]
        main, other, c = f.loc[(key, xm)], f.loc[(key, OTHER[xm])], chk.loc[key]
        used = lower_tier(main["r_tier"], other["r_tier"])
        reading = xm if used == main["r_tier"] else OTHER[xm]
        has_prev = not pd.isna(seg["leads_prev"]) and seg["leads_prev"] > 0
        d = (
            diff_of_proportions(seg["conversions"], seg["leads"], seg["conversions_prev"], seg["leads_prev"], cfg.z)
            if has_prev
            else {"diff": math.nan, "ci_low": math.nan, "ci_high": math.nan}
        )
        e = everyone.loc[key]
        breaches = weekly_breaches(weeks[weeks["segment_key"] == key], cfg) if len(weeks) else []
        rising, note = complaints_rising(
            e["emails_complained"],
            e["emails_delivered"],
            0 if pd.isna(e["emails_complained_prev"]) else e["emails_complained_prev"],
            0 if pd.isna(e["emails_delivered_prev"]) else e["emails_delivered_prev"],
            cfg,
            breaches,
        )
        inputs = {
            **{k: seg[k] for k in SEG},
            "population": pop,
            "x_measure": xm,
            "leads": int(seg["leads"]),
            "touches": seg["sx_w"],  # touches in the window: 0 means none at all
            "r": main["r"],
            "r_ci_low": main["r_ci_low"],
            "r_ci_high": main["r_ci_high"],
            "r_p_value": main["r_p_value"],
            "slope": main["slope"],
            "r_tier": main["r_tier"],
            "r_other_reading": other["r"],
            "r_tier_other_reading": other["r_tier"],
            "r_tier_used": used,
            "r_used": main["r"] if reading == xm else other["r"],
            "r_reading_used": reading,
            "cr": seg["conversions"] / seg["leads"],
            "leads_prev": seg["leads_prev"],
            "cr_prev": seg["conversions_prev"] / seg["leads_prev"] if has_prev else math.nan,
            "delta_cr_points": 100 * d["diff"],
            "delta_cr_ci_low_points": 100 * d["ci_low"],
            "delta_cr_ci_high_points": 100 * d["ci_high"],
            "complaint_rate": e["emails_complained"] / e["emails_delivered"] if e["emails_delivered"] else math.nan,
            "complaint_rate_prev": (
                e["emails_complained_prev"] / e["emails_delivered_prev"]
                if not pd.isna(e["emails_delivered_prev"]) and e["emails_delivered_prev"]
                else math.nan
            ),
            "complaint_weeks_over_guardrail": len(breaches),
            "is_complaints_rising": rising,
            "complaints_note": note,
            "is_simpson_warning": key in simpson,
            "is_slope_sign_unstable": "sign" in (c[f"sensitivity_change_{SHORT[xm]}"], c["readings_disagreement"]),
            "is_unexplained_cluster": bool(len(odd) and (odd["segment_key"] == key).any()),
            "is_mixed_gains": mixed_gains(children(seg, mom), cfg),
            **effect_of_touches(*effect_inputs(key)),
        }
        inputs["method_light"], inputs["method_reason"] = method_light(inputs, cfg)
        light, rule, reason = decide(inputs, cfg)
        rows.append(
            {
                "light": light,
                "light_rule": rule,
                "reason": reason,
                **inputs,
                "r_green": cfg.r_green,
                "r_amber": cfg.r_amber,
                "delta_cr_points_green": cfg.delta_cr_points_green,
                "complaint_rise_ratio": cfg.complaint_rise_ratio,
            }
        )
    return pd.DataFrame(rows)
