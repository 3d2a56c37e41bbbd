"""The traffic light per segment (the method's decision model), stored with every input it read.

    grey   fewer than min_n leads, or r undefined (no touch at all: "not measurable: no touches")
    red    complaints rising, or r below r_amber ("r ≈ 0", negative included)
    green  r >= r_green, CR up by >= delta_cr_points_green points vs the previous month, complaints
           stable, and no heterogeneity
    amber  otherwise (r between r_amber and r_green, gain too small or unknown, or heterogeneous)

r is read on the configured X; when the other reading (touches before conversion, free of post-conversion
touches) gives a lower tier, the lower tier is used: an r inflated by touches after the conversion must
not turn a segment green. Complaints are rising when a week of the month is significantly over the complaint
guardrail (marts.kpi_guardrails_weekly; exact binomial test against thresholds.complaint_rate_max,
Bonferroni over the month's weeks), when the month's complaint rate (complaints / delivered e-mails, all
in-scope leads) is complaint_rise_ratio times last month's and significantly higher (two-proportion z >=
the confidence quantile), or when it crosses the guardrail.
Heterogeneity: a Simpson warning, a slope sign that flips without the extreme cadences or between the
X readings, a cluster no exception rule covers, or sub-segments whose CR moved significantly in
opposite directions.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.intervals import diff_of_proportions
from cadence.analytics.sql import DIMS

SEG = ["segment_level", "segment_key", *DIMS]
TIERS = ("low", "medium", "high")
#: What a touch-based figure (r, slope, curve, quadrant, TTF) says when the leads had no touch at all
#: (CRM-only extracts): not zero, not "too thin", but not measurable.
NO_TOUCHES = "not measurable: no touches"


def weekly_breaches(weeks: pd.DataFrame, cfg: AnalysisConfig) -> list[str]:
    """Weeks (iso_week, complaints, emails_delivered) significantly over the complaint guardrail:
    P(X >= complaints | delivered, complaint_rate_max) < (1 − confidence) / number of weeks."""
    alpha = (1 - cfg.confidence) / max(len(weeks), 1)
    out = []
    for w in weeks.to_dict("records"):
        p = stats.binom.sf(w["complaints"] - 1, w["emails_delivered"], cfg.complaint_rate_max)
        if w["emails_delivered"] and p < alpha:
            out.append(
                f"{w['iso_week']}: {w['complaints']} complaints of {w['emails_delivered']} delivered "
                f"({w['complaints'] / w['emails_delivered']:.2%}, p = {p:.1g})"
            )
    return out


def complaints_rising(c1, d1, c0, d0, cfg: AnalysisConfig, breaches: list[str] = ()) -> tuple[bool, str]:
    """(rising?, why) from complaints c and delivered e-mails d of this (1) and the previous (0) month,
    and the weeks significantly over the guardrail."""
    if breaches:
        return True, f"over the {cfg.complaint_rate_max:.2%} guardrail in " + "; ".join(breaches)
    rate1 = c1 / d1 if d1 else 0.0
    if d0:
        rate0 = c0 / d0
        z = diff_of_proportions(c1, d1, c0, d0, cfg.z)["z"] if d1 else 0.0
        if rate1 > cfg.complaint_rise_ratio * rate0 and z >= cfg.z:
            return True, f"complaint rate {rate1:.3%} vs {rate0:.3%} last month (z = {z:.1f})"
        if rate1 > cfg.complaint_rate_max >= rate0:
            return True, f"complaint rate {rate1:.3%} crossed the {cfg.complaint_rate_max:.2%} guardrail"
        return False, f"complaint rate {rate1:.3%} vs {rate0:.3%} last month"
    if rate1 > cfg.complaint_rate_max:
        return True, f"complaint rate {rate1:.3%} above the {cfg.complaint_rate_max:.2%} guardrail"
    return False, f"complaint rate {rate1:.3%} (no previous month)"


def mixed_gains(children: pd.DataFrame, cfg: AnalysisConfig) -> bool:
    """Sub-segments (min_n leads both months) whose CR moved significantly up and others down."""
    ok = children[(children["leads"] >= cfg.min_n) & (children["leads_prev"] >= cfg.min_n)]
    ups = downs = 0
    for r in ok.to_dict("records"):
        d = diff_of_proportions(r["conversions"], r["leads"], r["conversions_prev"], r["leads_prev"], cfg.z)
        ups, downs = ups + (d["ci_low"] > 0), downs + (d["ci_high"] < 0)
    return ups > 0 and downs > 0


def decide(inputs: dict, cfg: AnalysisConfig) -> tuple[str, str]:
    """(light, reason) from one segment's inputs (see traffic_light for the keys)."""
    if inputs.get("touches") == 0:
        return "grey", f"{NO_TOUCHES} (no call, e-mail or meeting counted for these {inputs['leads']} leads)"
    if inputs["leads"] < cfg.min_n or inputs["r"] is None or math.isnan(inputs["r"]):
        return "grey", f"insufficient data: {inputs['leads']} leads (min {cfg.min_n}) or r undefined"
    tier = inputs["r_tier_used"]
    if inputs["is_complaints_rising"]:
        return "red", f"complaints rising: {inputs['complaints_note']}"
    if tier == "low":
        return "red", f"r ≈ 0: r = {inputs['r_used']:.3f} < {cfg.r_amber} ({inputs['r_reading_used']})"
    flags = [
        k.removeprefix("is_")
        for k in ("is_simpson_warning", "is_slope_sign_unstable", "is_unexplained_cluster", "is_mixed_gains")
        if inputs[k]
    ]
    delta = inputs["delta_cr_points"]
    if (
        tier == "high"
        and not flags
        and delta is not None
        and not math.isnan(delta)
        and delta >= cfg.delta_cr_points_green
    ):
        return "green", f"r = {inputs['r_used']:.3f} >= {cfg.r_green}, CR {delta:+.1f} points, complaints stable"
    why = []
    if tier == "medium":
        why.append(f"r = {inputs['r_used']:.3f} in [{cfg.r_amber}, {cfg.r_green}) ({inputs['r_reading_used']})")
    if delta is None or math.isnan(delta):
        why.append("no previous month to measure the CR gain")
    elif delta < cfg.delta_cr_points_green:
        why.append(f"CR {delta:+.1f} points < +{cfg.delta_cr_points_green}")
    if flags:
        why.append("heterogeneous: " + ", ".join(flags))
    return "amber", "; ".join(why)


def lower_tier(a: str | None, b: str | None) -> str | None:
    """The lower of two r tiers; a missing tier (None, or NaN once it went through a DataFrame) is ignored."""
    known = [t for t in (a, b) if isinstance(t, str) and t in TIERS]
    return min(known, key=TIERS.index) if known else None
