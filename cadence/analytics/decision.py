"""The traffic light per segment, stored with every input it read and the reason it gives.

The method's reading is r (tiers r_amber / r_green of the scoping note); it is kept and shown
(`method_light`, `method_reason`), but r of a 0/1 outcome is small by construction when CR is low, so the
light is decided by statistics suited to a binary outcome at the segment's size (effect.py): the effect
of one more touch and the CR gap between touch bands with their intervals, and the curve's plateau or
optimum (`effect`), then ΔCR vs the previous month with its interval, complaints and heterogeneity:

    grey   fewer than min_n leads, no touch at all ("not measurable: no touches"), or no effect statistic
    red    complaints rising; or touches do not pay: an interval lies below 0 (`hurts`), or both intervals
           include 0 and stay below effect_min_points per touch (`none`, the method's "r ≈ 0" at this size)
    green  touches pay (an interval above 0 reaching effect_min_points, or a rising curve with a plateau),
           CR up by >= delta_cr_points_green points vs the previous month with its interval above 0,
           complaints stable, nothing heterogeneous
    amber  otherwise: touches pay but the month's gain is not shown, touches pay up to an optimum (adjust
           the cadence), the effect is small or not established at this size, or heterogeneous

r alone never makes a segment red: red needs complaints or an effect whose intervals exclude a
worthwhile gain. Complaints are rising when a week of the month is significantly over the complaint
guardrail (marts.kpi_guardrails_weekly; exact binomial test against thresholds.complaint_rate_max,
Bonferroni over the month's weeks), when the month's complaint rate (complaints / delivered e-mails, all
in-scope leads) is complaint_rise_ratio times last month's and significantly higher (two-proportion z >=
the confidence quantile), or when it crosses the guardrail.
Heterogeneity: a Simpson warning, a slope sign that flips without the extreme cadences or between the
X readings, a cluster no exception rule covers, or sub-segments whose CR moved significantly in
opposite directions.

The method's reading (`method_light`): red when complaints rise or r < r_amber, green when r >= r_green
with CR up by delta_cr_points_green and nothing heterogeneous, amber otherwise. r is read on the
configured X; when the other reading gives a lower tier the lower one is used (an r inflated by touches
after the conversion must not look better).
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


HETEROGENEITY = ("is_simpson_warning", "is_slope_sign_unstable", "is_unexplained_cluster", "is_mixed_gains")


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _flags(inputs: dict) -> list[str]:
    return [k.removeprefix("is_") for k in HETEROGENEITY if inputs[k]]


def _grey(inputs: dict, cfg: AnalysisConfig) -> tuple[str, str] | None:
    """(rule, reason) when the segment cannot be judged, else None."""
    if inputs.get("touches") == 0:
        return "no_touches", f"{NO_TOUCHES} (no call, e-mail or meeting counted for these {inputs['leads']} leads)"
    if inputs["leads"] < cfg.min_n:
        return "too_thin", f"too thin: {inputs['leads']} leads (min {cfg.min_n})"
    return None


def method_light(inputs: dict, cfg: AnalysisConfig) -> tuple[str, str]:
    """(light, reason) by the method's r tiers alone: the reading the scoping note's r_amber / r_green
    describe, shown next to the light."""
    grey = _grey(inputs, cfg)
    if grey:
        return "grey", grey[1]
    if _missing(inputs["r"]):
        return "grey", "r undefined"
    tier = inputs["r_tier_used"]
    if inputs["is_complaints_rising"]:
        return "red", f"complaints rising: {inputs['complaints_note']}"
    if tier == "low":
        return "red", f"r ≈ 0: r = {inputs['r_used']:.3f} < {cfg.r_amber} ({inputs['r_reading_used']})"
    flags, delta = _flags(inputs), inputs["delta_cr_points"]
    if tier == "high" and not flags and not _missing(delta) and delta >= cfg.delta_cr_points_green:
        return "green", f"r = {inputs['r_used']:.3f} >= {cfg.r_green}, CR {delta:+.1f} points, complaints stable"
    why = []
    if tier == "medium":
        why.append(f"r = {inputs['r_used']:.3f} in [{cfg.r_amber}, {cfg.r_green}) ({inputs['r_reading_used']})")
    if _missing(delta):
        why.append("no previous month to measure the CR gain")
    elif delta < cfg.delta_cr_points_green:
        why.append(f"CR {delta:+.1f} points < +{cfg.delta_cr_points_green}")
    if flags:
        why.append("heterogeneous: " + ", ".join(flags))
    return "amber", "; ".join(why)


def _gain(inputs: dict, cfg: AnalysisConfig) -> tuple[bool, str]:
    """(CR gain vs last month shown?, what to say)."""
    delta, low, high = (inputs[k] for k in ("delta_cr_points", "delta_cr_ci_low_points", "delta_cr_ci_high_points"))
    if _missing(delta):
        return False, "no previous month to measure the CR gain"
    text = f"CR {delta:+.1f} points vs last month [{low:+.1f}, {high:+.1f}]"
    if delta >= cfg.delta_cr_points_green and low > 0:
        return True, text
    if delta < cfg.delta_cr_points_green:
        return False, f"{text}, < +{cfg.delta_cr_points_green:g}"
    return False, f"{text}, interval includes 0"


def decide(inputs: dict, cfg: AnalysisConfig) -> tuple[str, str, str]:
    """(light, rule, reason) from one segment's inputs (see lights.traffic_light for the keys). `rule`
    names what decided: no_touches | too_thin | not_measurable | complaints_rising | touches_hurt |
    touches_no_effect | all_met | effect_unclear | effect_small | optimum | gain_not_shown | heterogeneous.
    When the method's r reading (`method_light`) gives another light, the reason says so."""
    light, rule, reason = _decide(inputs, cfg)
    method = inputs.get("method_light")
    if light != "grey" and method not in (None, "grey", light):
        reason += f"; the method's r reading alone would say {method} ({inputs['method_reason']})"
    return light, rule, reason


def _decide(inputs: dict, cfg: AnalysisConfig) -> tuple[str, str, str]:
    grey = _grey(inputs, cfg)
    if grey:
        return ("grey", *grey)
    effect, summary = inputs["effect"], inputs["effect_summary"]
    if effect == "not_measurable":
        return "grey", "not_measurable", summary
    if inputs["is_complaints_rising"]:
        return "red", "complaints_rising", f"complaints rising: {inputs['complaints_note']}; {summary}"
    if effect in ("hurts", "none"):
        rule = "touches_hurt" if effect == "hurts" else "touches_no_effect"
        return "red", rule, f"{summary}: stop pushing volume"
    gained, gain_text = _gain(inputs, cfg)
    flags = _flags(inputs)
    if effect == "pays" and gained and not flags:
        return "green", "all_met", f"{summary}; {gain_text}; complaints stable"
    why = [summary]
    rule = {"unclear": "effect_unclear", "small": "effect_small", "pays_to_optimum": "optimum"}.get(effect)
    if not gained:
        why.append(gain_text)
        rule = rule or "gain_not_shown"
    if flags:
        why.append("heterogeneous: " + ", ".join(flags))
        rule = rule or "heterogeneous"
    return "amber", rule or "gain_not_shown", "; ".join(why)


def lower_tier(a: str | None, b: str | None) -> str | None:
    """The lower of two r tiers; a missing tier (None, or NaN once it went through a DataFrame) is ignored."""
    known = [t for t in (a, b) if isinstance(t, str) and t in TIERS]
    return min(known, key=TIERS.index) if known else None
