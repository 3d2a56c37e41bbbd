"""Decision rules on hand-made inputs: traffic light, complaints, clusters, Simpson's paradox, quadrants,
threshold recommendations, and the metadata renderers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cadence.analytics.clusters import clusters, composition
from cadence.analytics.config import analysis_config
from cadence.analytics.decision import (
    complaints_rising,
    decide,
    lower_tier,
    method_light,
    mixed_gains,
    weekly_breaches,
)
from cadence.analytics.quadrants import lead_quadrants, quadrant_lists, unit_quadrants
from cadence.analytics.recommend import current_threshold
from cadence.analytics.render import md_table, svg_scatter
from cadence.analytics.thresholds import daily_cap, min_touches, ttf_target
from cadence.scoping import parse_scoping_note

NOTE = parse_scoping_note({})
CFG = analysis_config(NOTE)
SEG = {
    "segment_level": "channel",
    "segment_key": "channel=inbound",
    "channel": "inbound",
    "company_size": "all",
    "funnel_phase": "all",
}


def _inputs(**over):
    base = {
        "leads": 1000,
        "r": 0.3,
        "r_used": 0.3,
        "r_tier_used": "high",
        "r_reading_used": "touches_in_window",
        "delta_cr_points": 2.5,
        "delta_cr_ci_low_points": 0.5,
        "delta_cr_ci_high_points": 4.5,
        "is_complaints_rising": False,
        "complaints_note": "",
        "is_simpson_warning": False,
        "is_slope_sign_unstable": False,
        "is_unexplained_cluster": False,
        "is_mixed_gains": False,
        "effect": "pays",
        "effect_summary": "touches pay: one more touch +1.0 points [+0.5, +1.5]",
    }
    out = {**base, **over}
    out["method_light"], out["method_reason"] = method_light(out, CFG)
    return out


@pytest.mark.parametrize(
    ("over", "light", "rule", "words"),
    [
        ({}, "green", "all_met", "touches pay"),
        ({"leads": 50}, "grey", "too_thin", "too thin: 50 leads"),
        ({"effect": "not_measurable", "effect_summary": "not measurable"}, "grey", "not_measurable", "not measurable"),
        ({"is_complaints_rising": True, "complaints_note": "x"}, "red", "complaints_rising", "complaints rising"),
        ({"effect": "hurts", "effect_summary": "more touches, lower CR"}, "red", "touches_hurt", "stop pushing"),
        ({"effect": "none", "effect_summary": "no worthwhile effect"}, "red", "touches_no_effect", "stop pushing"),
        ({"effect": "unclear", "effect_summary": "not established"}, "amber", "effect_unclear", "not established"),
        ({"effect": "small", "effect_summary": "touches add little"}, "amber", "effect_small", "add little"),
        ({"effect": "pays_to_optimum", "effect_summary": "up to the optimum"}, "amber", "optimum", "optimum"),
        ({"delta_cr_points": 1.0}, "amber", "gain_not_shown", "+1.0 points vs last month [+0.5, +4.5], < +2"),
        ({"delta_cr_ci_low_points": -0.5}, "amber", "gain_not_shown", "interval includes 0"),
        ({"delta_cr_points": math.nan}, "amber", "gain_not_shown", "no previous month"),
        ({"is_simpson_warning": True}, "amber", "heterogeneous", "heterogeneous: simpson_warning"),
        ({"is_mixed_gains": True}, "amber", "heterogeneous", "heterogeneous: mixed_gains"),
        # r alone never turns red a segment where touches pay; the reason says what r alone would say
        ({"r_tier_used": "low", "r_used": 0.04}, "green", "all_met", "r reading alone would say red (r ≈ 0"),
    ],
)
def test_traffic_light_rules(over, light, rule, words):
    got, why, reason = decide(_inputs(**over), CFG)
    assert (got, why) == (light, rule) and words in reason, reason


@pytest.mark.parametrize(
    ("over", "light", "words"),
    [
        ({}, "green", "r = 0.300 >= 0.25"),
        ({"leads": 50}, "grey", "too thin"),
        ({"r": math.nan}, "grey", "r undefined"),
        ({"is_complaints_rising": True, "complaints_note": "x"}, "red", "complaints rising"),
        ({"r_tier_used": "low", "r_used": 0.04}, "red", "r ≈ 0"),
        ({"r_tier_used": "medium", "r_used": 0.2}, "amber", "in [0.1, 0.25)"),
        ({"delta_cr_points": 1.0}, "amber", "CR +1.0 points < +2.0"),
        ({"is_simpson_warning": True}, "amber", "heterogeneous: simpson_warning"),
    ],
)
def test_the_methods_r_reading_is_kept_alongside(over, light, words):
    got, reason = method_light(_inputs(**over), CFG)
    assert got == light and words in reason


def test_the_lower_tier_of_the_two_readings_is_used():
    assert lower_tier("high", "medium") == "medium" and lower_tier(None, "low") == "low"
    assert lower_tier(None, None) is None


def test_complaints_rising_needs_a_significant_rise_or_a_breach():
    assert complaints_rising(30, 10_000, 10, 10_000, CFG)[0]  # 0.30 % vs 0.10 %: 3x and z > 1.96
    assert not complaints_rising(12, 10_000, 10, 10_000, CFG)[0]  # 1.2x: stable
    assert not complaints_rising(6, 1_000, 4, 1_000, CFG)[0]  # 1.5x but not significant
    assert complaints_rising(25, 10_000, 0, 0, CFG)[0]  # no previous month, over the 0.2 % guardrail
    weeks = pd.DataFrame({"iso_week": ["W42", "W39"], "complaints": [22, 5], "emails_delivered": [1885, 2059]})
    breaches = weekly_breaches(weeks, CFG)
    assert len(breaches) == 1 and breaches[0].startswith("W42")  # 5 of 2059 is noise around 0.2 %
    assert complaints_rising(22, 8000, 20, 8000, CFG, breaches)[0]


def test_mixed_gains_needs_significant_moves_both_ways():
    kids = pd.DataFrame(
        {
            "leads": [2000, 2000, 2000],
            "leads_prev": [2000, 2000, 2000],
            "conversions": [400, 200, 300],
            "conversions_prev": [300, 300, 300],
        }
    )
    assert mixed_gains(kids, CFG)
    assert not mixed_gains(kids.iloc[[0, 2]], CFG)


def _group(attr, flag, n, sx, sxx, sxy, conv, level="all", key="all"):
    return {
        "attribute": attr,
        "in_group": flag,
        "segment_level": level,
        "segment_key": key,
        "channel": "all",
        "company_size": "all",
        "funnel_phase": "all",
        "leads": n,
        "sx": sx,
        "sxx": sxx,
        "sxy": sxy,
        "conversions": conv,
    }


def test_a_vip_like_group_is_a_cluster_and_a_lookalike_is_not():
    rng = np.random.default_rng(0)
    x = rng.poisson(8, 2000)
    y = (rng.random(2000) < 0.02 + 0.01 * x).astype(int)
    rest = _group("is_vip", False, 2000, x.sum(), (x * x).sum(), (x * y).sum(), y.sum())
    vx = rng.integers(1, 4, 200)
    vip = _group("is_vip", True, 200, vx.sum(), (vx * vx).sum(), int((vx * 0.55).sum()), 110)
    hx = rng.poisson(8, 200)
    hy = (rng.random(200) < 0.02 + 0.01 * hx).astype(int)
    hot = _group("is_hot_lead", True, 200, hx.sum(), (hx * hx).sum(), (hx * hy).sum(), hy.sum())
    out = clusters(pd.DataFrame([rest, vip, {**rest, "attribute": "is_hot_lead"}, hot]), CFG).set_index("attribute")
    assert out.loc["is_vip", "is_cluster"] and out.loc["is_vip", "effect_size_d"] < -1.5
    assert not out.loc["is_hot_lead", "is_cluster"]
    assert "separate cluster" in out.loc["is_vip", "explanation"]


def test_simpson_warning_when_the_pooled_slope_opposes_the_segments():
    def fit(level, key, channel, slope, leads):
        return {
            "population": "standard",
            "x_measure": "touches_in_window",
            "trim": "none",
            "segment_level": level,
            "segment_key": key,
            "channel": channel,
            "company_size": "all",
            "funnel_phase": "all",
            "slope": slope,
            "leads": leads,
            "has_min_n": True,
        }

    fits = pd.DataFrame(
        [
            fit("all", "all", "all", -0.01, 3000),
            fit("channel", "channel=inbound", "inbound", 0.02, 1000),
            fit("channel", "channel=outbound", "outbound", 0.01, 1500),
            fit("channel", "channel=partner", "partner", -0.005, 500),
        ]
    )
    out = composition(fits, CFG)
    row = out[(out.segment_key == "all") & (out.split_dimension == "channel")].iloc[0]
    assert row.is_simpson_warning and row.subsegments_opposite == 2 and row.share_of_leads_opposite == 2500 / 3000


def test_lead_and_unit_quadrants():
    cells = pd.DataFrame(
        {
            "population": "all",
            "x_measure": "touches_in_window",
            "segment_level": "all",
            "segment_key": "all",
            "channel": "all",
            "company_size": "all",
            "funnel_phase": "all",
            "rep_id": "all",
            "touches": [2, 2, 8, 8],
            "ttf_band": [1, 3, 1, 3],
            "converted": [1, 0, 1, 0],
            "leads": [10, 40, 30, 20],
        }
    )
    q = lead_quadrants(cells, CFG).iloc[0]  # X̄ = (2·50 + 8·50) / 100 = 5
    assert q.x_mean == 5 and q.cr == 0.4
    assert (q.leads_q1, q.leads_q2, q.leads_q3, q.leads_q4) == (30, 10, 40, 20)
    assert q.share_q1_fast_ttf == 0.75  # among leads first contacted within 1 h (the largest edge <= 2 h)
    units = unit_quadrants(
        pd.DataFrame(
            {
                "partition_month": ["2026-09", "2026-10", "2026-10", "2026-09"],
                "unit_type": "rep",
                "unit_id": ["R1", "R1", "R2", "R2"],
                "leads": 100,
                "x_mean": [4, 4, 7, 7],
                "cr": [0.1, 0.1, 0.3, 0.3],
                "x_expected": 5.0,
                "cr_expected": 0.2,
            }
        )
    )
    assert list(units.quadrant) == ["Q3", "Q3", "Q1", "Q1"]
    lists = quadrant_lists(units).set_index("list_name")
    assert (
        lists.loc["coaching_priority", "unit_id"] == "R1" and lists.loc["coaching_priority", "months_in_quadrant"] == 2
    )
    assert lists.loc["model_to_imitate", "unit_id"] == "R2"


def test_current_thresholds_follow_the_first_matching_entry():
    smb = {"channel": "inbound", "company_size": "SMB", "funnel_phase": "all"}
    assert current_threshold(NOTE.values, smb, "min_touches") == 4
    assert current_threshold(NOTE.values, {**smb, "company_size": "Enterprise"}, "min_touches") == 8
    assert current_threshold(NOTE.values, {**smb, "company_size": "all"}, "ttf_target_hours") == 2


def test_min_touches_from_a_plateau_and_notes_when_none():
    x = np.arange(0, 13)
    leads = np.full(len(x), 400)
    conv = np.round(leads * (0.03 + 0.03 * np.minimum(x, 6))).astype(int)  # exact counts of a plateau from 6
    cells = pd.DataFrame({"touches": x, "converted": 1, "leads": conv})
    cells = pd.concat([cells, pd.DataFrame({"touches": x, "converted": 0, "leads": leads - conv})])
    shape = {
        "shape": "plateau",
        "leads": int(leads.sum()),
        "description": "plateau from 6 touches",
        "plateau_m": 0.03,
        "plateau_breakpoint": 6,
    }
    rec = min_touches(shape, cells, 4, CFG)
    assert rec["status"] == "recommended" and rec["recommended_value"] == 6 and rec["reading"] == "plateau_start"
    assert rec["stability"] >= CFG.threshold_min_agreement and rec["interval_low"] <= 6 <= rec["interval_high"]
    within = conv[x >= 6].sum() / leads[x >= 6].sum() - conv[x < 6].sum() / leads[x < 6].sum()
    assert rec["evidence_gap_points"] == pytest.approx(100 * within)
    linear = min_touches({**shape, "shape": "linear", "linear_m": 0.01, "description": "linear"}, cells, 4, CFG)
    assert linear["status"] == "keep_current" and "no saturation" in linear["note"]
    falling = min_touches({**shape, "plateau_m": -0.01}, cells, 4, CFG)
    assert falling["status"] == "keep_current" and "do not raise it" in falling["note"]
    thin = min_touches({**shape, "shape": "insufficient_data", "leads": 40}, cells, 4, CFG)
    assert thin["status"] == "too_thin" and thin["recommended_value"] is None


def test_ttf_target_and_daily_cap():
    gaps = pd.DataFrame(
        {
            "ttf_edge_hours": [1.0, 2.0, 24.0],
            "leads_within": [500, 900, 2500],
            "leads_beyond": [2500, 2100, 500],
            "cr_within": [0.28, 0.3, 0.2],
            "cr_beyond": [0.17, 0.15, 0.18],
            "cr_gap_points": [11.0, 15.0, 2.0],
            "cr_gap_ci_low_points": [7.0, 12.0, -1.5],
            "cr_gap_ci_high_points": [15.0, 18.0, 5.5],
            "z": [6.0, 9.0, 1.0],
        }
    )
    rec = ttf_target(gaps, 2, CFG)
    assert rec["status"] == "recommended" and rec["recommended_value"] == 2.0
    assert ttf_target(gaps.assign(cr_gap_ci_low_points=-1.0), 2, CFG)["status"] == "keep_current"
    per_day = pd.DataFrame(
        {
            "touches_per_day": [1, 2, 3, 4],
            "leads": [1000, 1000, 500, 300],
            "conversions": [100, 120, 60, 36],
            "emails_delivered": [3000, 3000, 1500, 900],
            "emails_opted_out_or_complained": [15, 15, 8, 30],
        }
    )
    cap = daily_cap(per_day, 3, CFG)
    assert cap["status"] == "recommended" and cap["recommended_value"] == 3
    calm = daily_cap(per_day.assign(emails_opted_out_or_complained=[15, 15, 8, 5]), 3, CFG)
    assert calm["status"] == "keep_current" and "needs human input" in calm["note"]


def test_renderers():
    assert md_table([{"a": 1.23456, "b": None}], ["a", "b"]) == "| a | b |\n|---|---|\n| 1.235 |  |"
    svg = svg_scatter(
        [{"touches_mean": 2, "cr": 0.1, "cr_ci_low": 0.05, "cr_ci_high": 0.15, "leads": 50}],
        0.02,
        0.05,
        3.0,
        0.12,
        "seg <1>",
        [(0, 0.05), (5, 0.2)],
    )
    assert svg.startswith("<svg") and svg.count("<circle") == 1 and "seg &lt;1&gt;" in svg and "Q3" in svg


def test_lower_tier_ignores_missing_tiers_from_dataframes():
    from cadence.analytics.decision import lower_tier

    assert lower_tier("high", float("nan")) == "high"
    assert lower_tier(None, "medium") == "medium"
    assert lower_tier("low", "high") == "low"
    assert lower_tier(float("nan"), None) is None


def test_a_segment_nobody_contacted_is_neither_on_target_nor_off():
    from cadence.analytics.diagnostic import ttf_on_target

    def seg(channel, median, target):
        return {
            "segment_level": "channel+company_size",
            "population": CFG.population,
            "channel": channel,
            "company_size": "SMB",
            "ttf_median_hours": median,
            "ttf_target_hours": target,
            "ttf_target_hours_max": target,
        }

    moments = pd.DataFrame([seg("inbound", 1.5, 2), seg("partner", math.nan, 2), seg("outbound", 30.0, 24)])
    status, answer = ttf_on_target({"moments": moments}, CFG, "w")
    assert answer.startswith("1 of 3 segments on target; off: outbound/SMB 30.0 h vs 24 h")
    assert answer.endswith("no lead contacted in: partner/SMB")


def test_no_touch_at_all_is_grey_and_says_not_measurable():
    light, rule, reason = decide(_inputs(touches=0, r=math.nan), CFG)
    assert (light, rule) == ("grey", "no_touches") and reason.startswith("not measurable: no touches")
    assert decide(_inputs(touches=5), CFG)[0] == "green"  # touches alone decide nothing
