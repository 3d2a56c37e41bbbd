"""The columns of every analytics table, with their SQL types: the store creates each table from here.

Declared, not inferred from the month's frame, because a frame can be empty (a first month with no
cluster, no composition warning, no logistic fit thick enough): an empty frame has no columns to infer
from, and a table created from one month's values would freeze that month's accidents (an integer edge,
a column that was all NULL). Rates, means and shares are DOUBLE (never the 32-bit FLOAT). Besides these,
every table holds `partition_month` first and `scoping_note_version` last.
"""

from __future__ import annotations

from cadence.segments import CUBE

V, D, B, N, F = "varchar", "double", "bigint", "integer", "boolean"

_DIMS = {d: V for d in CUBE}  # the segment dimensions, then funnel_phase
SEG = {"segment_level": V, "segment_key": V, **_DIMS}  # segments without reps
KEY = {**SEG, "rep_id": V}  # segments and reps
GROUP = {"population": V, "x_measure": V, **KEY}  # population, X reading, segment
_CI = {"cr": D, "cr_ci_low": D, "cr_ci_high": D}
_SHAPE_PARAMS = {
    "flat": ("c",),
    "linear": ("b", "m"),
    "s": ("ceiling", "k", "x0", "x90"),
    "quadratic": ("a", "b", "c", "vertex"),
    "plateau": ("b", "m", "breakpoint", "breakpoint_ci_low", "breakpoint_ci_high"),
}
_GAP = {"evidence_gap_points": D, "evidence_gap_ci_low_points": D, "evidence_gap_ci_high_points": D}


def _reading(s: str) -> dict[str, str]:
    """fit_checks' columns of one X reading (w: touches in window, b: before conversion)."""
    return {
        f"r_{s}": D,
        f"slope_{s}": D,
        f"r_tier_{s}": V,
        f"r_{s}_trimmed": D,
        f"slope_{s}_trimmed": D,
        f"r_tier_{s}_trimmed": V,
        f"sensitivity_change_{s}": V,
    }


COLUMNS: dict[str, dict[str, str]] = {
    "segment_moments": {
        "population": V,
        **KEY,
        "leads": B,
        "conversions": B,
        **{f"{m}_{s}": B for s in ("w", "b") for m in ("sx", "sxx", "sxy")},
        "leads_within_ttf_target": B,
        "leads_not_contacted": B,
        "ttf_median_hours": D,
        "ttf_target_hours": D,
        "ttf_target_hours_max": D,
        "emails_delivered": B,
        "emails_complained": B,
        "emails_unsubscribed": B,
        "emails_replied": B,
        "meetings_held": B,
    },
    "lead_cells": {**GROUP, "touches": B, "ttf_band": N, "converted": N, "leads": B},
    "scoping_notes": {
        "note_json": V,
        "note_source": V,
        "marts_scoping_note_version": V,
        "leads_in_scope": B,
        "leads_window_incomplete": B,
        "leads_analysed": B,
    },
    "linear_fits": {
        **GROUP,
        "trim": V,
        "leads": B,
        "conversions": B,
        "sum_x": B,
        "sum_x2": B,
        "sum_xy": B,
        "trim_cutoff_touches": D,
        "leads_removed": B,
        **dict.fromkeys(("x_mean", "y_mean", "slope", "intercept", "r", "r2", "r_p_value", "r_ci_low"), D),
        **dict.fromkeys(("r_ci_high", "slope_se", "slope_ci_low", "slope_ci_high", "intercept_se"), D),
        "spearman_rho": D,
        "spearman_p_value": D,
        "r_tier": V,
        "has_min_n": F,
    },
    "fit_checks": {
        "population": V,
        **KEY,
        **_reading("w"),
        **_reading("b"),
        "readings_disagreement": V,
        "leads": B,
        "is_readings_disagreement": F,
        "is_sensitive_to_extremes": F,
    },
    "logistic_fits": {
        **GROUP,
        "leads": B,
        "conversions": B,
        "cells": B,
        "ttf_bands_left_out": V,
        "leads_left_out": B,
        "status": V,
        "iterations": B,
        "ttf_reference_band": V,
        **{f"touch_{k}": D for k in ("coefficient", "std_error", "p_value", "odds_ratio", "ci_low", "ci_high")},
        **{f"ame_touch{k}": D for k in ("", "_std_error", "_ci_low", "_ci_high")},
        "loglik": D,
        "aic": D,
    },
    "logistic_terms": {
        **GROUP,
        "ttf_reference_band": V,
        "term": V,
        **dict.fromkeys(("estimate", "std_error", "z", "p_value", "ci_low", "ci_high", "odds_ratio"), D),
    },
    "touch_curve_bins": {
        **GROUP,
        "touches_low": B,
        "touches_high": B,
        "label": V,
        "touches_mean": D,
        "leads": B,
        "conversions": B,
        **_CI,
        "shape": V,
        "cr_fitted": D,
    },
    "curve_shapes": {
        **GROUP,
        "leads": B,
        "touch_values": B,
        "shape": V,
        "description": V,
        **{
            col: D
            for shape, params in _SHAPE_PARAMS.items()
            for col in (f"aic_{shape}", *(f"{shape}_{p}" for p in params))
        },
    },
    "ttf_bands": {
        "population": V,
        **KEY,
        "ttf_band_index": B,
        "ttf_band": V,
        "leads": B,
        "conversions": B,
        "share_of_leads": D,
        **_CI,
        "ttf_median_hours": D,
        "ttf_target_hours": D,
        "ttf_target_hours_max": D,
        "leads_within_ttf_target": B,
        "segment_leads": B,
        "share_within_ttf_target": D,
    },
    "ttf_gaps": {
        "population": V,
        **KEY,
        "ttf_edge_hours": D,
        "leads_within": B,
        "cr_within": D,
        "leads_beyond": B,
        "cr_beyond": D,
        "cr_gap_points": D,
        "cr_gap_ci_low_points": D,
        "cr_gap_ci_high_points": D,
        "z": D,
        "p_value": D,
    },
    "lead_quadrants": {
        **GROUP,
        "leads": B,
        "x_mean": D,
        "cr": D,
        "fast_ttf_edge_hours": D,
        "leads_fast_ttf": B,
        **{
            col: kind
            for q in ("q1", "q2", "q3", "q4")
            for col, kind in ((f"leads_{q}", B), (f"share_{q}", D), (f"share_{q}_fast_ttf", D))
        },
    },
    "unit_quadrants": {
        "unit_type": V,
        "unit_id": V,
        "leads": B,
        **dict.fromkeys(("x_mean", "cr", "x_expected", "cr_expected", "dx", "dy"), D),
        "quadrant": V,
    },
    "quadrant_lists": {
        "unit_type": V,
        "list_name": V,
        "quadrant": V,
        "rank": B,
        "months_in_lookback": B,
        "unit_id": V,
        "months_observed": B,
        "months_in_quadrant": B,
        "mean_dx": D,
        "mean_dy": D,
        "leads": B,
    },
    "clusters": {
        "attribute": V,
        **SEG,
        "leads": B,
        "share": D,
        "x_mean": D,
        "cr": D,
        "rest_leads": B,
        "rest_x_mean": D,
        "rest_cr": D,
        "effect_size_d": D,
        "cr_predicted_by_rest_line": D,
        "z_off_line": D,
        "is_cluster": F,
        "explanation": V,
    },
    "composition": {
        "population": V,
        "x_measure": V,
        **SEG,
        "split_dimension": V,
        "pooled_slope": D,
        "pooled_leads": B,
        "subsegments": B,
        "subsegments_opposite": B,
        "share_of_leads_opposite": D,
        "within_slope_weighted_mean": D,
        "is_simpson_warning": F,
    },
    "traffic_light": {
        "light": V,
        "reason": V,
        **SEG,
        "population": V,
        "x_measure": V,
        "leads": B,
        "touches": B,
        **dict.fromkeys(("r", "r_ci_low", "r_ci_high", "r_p_value", "slope"), D),
        "r_tier": V,
        "r_other_reading": D,
        "r_tier_other_reading": V,
        "r_tier_used": V,
        "r_used": D,
        "r_reading_used": V,
        "cr": D,
        "leads_prev": D,
        "cr_prev": D,
        "delta_cr_points": D,
        "delta_cr_ci_low_points": D,
        "delta_cr_ci_high_points": D,
        "complaint_rate": D,
        "complaint_rate_prev": D,
        "complaint_weeks_over_guardrail": B,
        "is_complaints_rising": F,
        "complaints_note": V,
        **dict.fromkeys(("is_simpson_warning", "is_slope_sign_unstable", "is_unexplained_cluster"), F),
        "is_mixed_gains": F,
        **dict.fromkeys(("r_green", "r_amber", "delta_cr_points_green", "complaint_rise_ratio"), D),
    },
    "thresholds": {
        **SEG,
        "population": V,
        "threshold": V,
        "status": V,
        "current_value": D,
        "recommended_value": D,
        "x_measure": V,
        "leads": B,
        "interval_low": D,
        "interval_high": D,
        **_GAP,
        "basis": V,
        "note": V,
    },
    "diagnostic": {"question_no": B, "question": V, "status": V, "answer": V, "evidence_table": V},
}
