"""One verdict per segment and month: the single source of every sentence, colour and number a person
reads about a segment (dashboard, audit note, workbook, summary). Nothing rendered decides anything.

A verdict joins the segment's traffic light (``traffic_light``: the light, its rule and reason, the effect
of one more touch) with its threshold rows (``thresholds``) and settles what they could say differently:

- **the change**: the recommended threshold changes the light allows. A red light (touches do not pay, or
  complaints are rising) or an effect that ``hurts`` never carries a change that *raises* contact volume
  (more touches, a higher daily cap); such a recommendation is kept in the table as ``held`` with why.
  The primary change (min touches, else TTF target, else daily cap) is the one the decision and the
  experiment are about.
- **the decision**: one sentence from the light and whether there is a change to make.
- **the experiment**: the primary change, in its direction, as an A/B test, proposed only where the
  segment reaches the per-arm sample within ``experiment_max_weeks`` weeks at its monthly volume; else
  how many weeks it would take.
- **the headline**: the plain sentence the summary on top of the dashboard and the note quotes.
"""

from __future__ import annotations

import math

import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.effect import PAYING
from cadence.experiments.stats import sample_size
from cadence.segments import CELL_LEVEL, CUBE, Segments

THRESHOLDS = ("min_touches", "ttf_target_hours", "max_touches_per_day")
NAMES = {"min_touches": "minimum touches", "ttf_target_hours": "TTF target", "max_touches_per_day": "daily touch cap"}
#: Changes that push contact volume up: never with a red light or an effect that hurts.
RAISES_VOLUME = {"min_touches": 1, "max_touches_per_day": 1, "ttf_target_hours": 0}
DECISIONS = {
    ("green", True): "Roll out the change below across the segment",
    ("green", False): "Keep the cadence: touches pay and conversion is up; no threshold to change",
    ("amber", True): "Test the change below with an A/B test before rolling it out",
    ("amber", False): "Keep the current rules; re-segment or collect more leads before changing them",
    ("red", True): "Stop pushing volume; test the change below",
    ("red", False): "Stop pushing volume: revise content and first-contact speed, then test again",
    ("grey", False): "Keep the current rules: too few leads to decide",
    ("grey", True): "Keep the current rules: too few leads to decide",
}
UNTOUCHED = "Keep the current rules: the touches (calls, e-mails, meetings) are needed to decide"
DAYS_PER_MONTH = 30.4


def _num(v) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v) else float(v)


def _fmt(name: str, v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:g} h" if name == "ttf_target_hours" else f"{v:g}"


def _threshold_state(row: dict, light: str, effect: str) -> tuple[str, float | None, str]:
    """(status, value to change to or None, why) of one threshold row under the segment's light."""
    status = str(row.get("status") or "not_available")
    cur, rec = _num(row.get("current_value")), _num(row.get("recommended_value"))
    if status != "recommended" or rec is None or cur is None or rec == cur:
        return status if status != "recommended" else "keep", None, str(row.get("note") or "")
    raises = RAISES_VOLUME[row["threshold"]] and rec > cur
    if raises and (light == "red" or effect == "hurts"):
        why = "more contact volume goes against the light" if light == "red" else "more touches go with lower CR"
        return "held", None, f"{NAMES[row['threshold']]} {_fmt(row['threshold'], cur)} → " \
                             f"{_fmt(row['threshold'], rec)} held: {why}"
    return "recommended", rec, str(row.get("note") or "")


def experiment_plan(cr: float | None, leads: int, cfg: AnalysisConfig) -> tuple[int | None, float | None]:
    """(leads per arm, weeks needed at the segment's monthly volume) to detect +experiment_mde_points on
    its CR; the rule of thumb (experiment_min_per_arm) is the floor."""
    if cr is None or leads <= 0:
        return None, None
    delta = cfg.experiment_mde_points / 100
    p1 = min(max(cr, 0.005), 0.99 - delta)
    n = max(max(sample_size(p1, delta, 1 - cfg.confidence, cfg.experiment_power)), cfg.experiment_min_per_arm)
    per_week = leads / (DAYS_PER_MONTH / 7)
    return int(n), math.ceil(10 * 2 * n / per_week) / 10


def verdicts(lights: pd.DataFrame, thresholds: pd.DataFrame, cfg: AnalysisConfig) -> pd.DataFrame:
    """One row per segment of ``lights`` at the levels the reports show ('all' and the cells)."""
    rows = []
    keep = lights[lights["segment_level"].isin(["all", CELL_LEVEL])] if len(lights) else lights
    for light_row in keep.to_dict("records"):
        key = light_row["segment_key"]
        light, effect = str(light_row.get("light") or "grey"), str(light_row.get("effect") or "not_measurable")
        th = thresholds[thresholds["segment_key"] == key] if len(thresholds) else thresholds
        out = {c: light_row.get(c) for c in ("segment_level", "segment_key", *CUBE, "population")}
        leads = int(light_row.get("leads") or 0)
        cr = _num(light_row.get("cr"))
        out.update(leads=leads, cr=cr, light=light, light_rule=light_row.get("light_rule"),
                   light_reason=light_row.get("reason"), effect=effect,
                   effect_summary=light_row.get("effect_summary"), method_light=light_row.get("method_light"),
                   delta_cr_points=_num(light_row.get("delta_cr_points")))
        changes, held = [], []
        for name in THRESHOLDS:
            r = th[th["threshold"] == name]
            row = r.iloc[0].to_dict() if len(r) else {"threshold": name, "status": "not_available"}
            status, to, why = _threshold_state(row, light, effect)
            cur = _num(row.get("current_value"))
            out[f"{name}_current"], out[f"{name}_recommended"], out[f"{name}_status"] = cur, to, status
            out[f"{name}_basis"] = why
            if to is not None:
                changes.append((name, cur, to))
            elif status == "held":
                held.append(why)
        untouched = leads > 0 and not light_row.get("touches")  # no touch at all: nothing to decide on
        primary = changes[0] if changes and not untouched else None
        out["change_threshold"] = primary[0] if primary else None
        out["change_from"] = primary[1] if primary else None
        out["change_to"] = primary[2] if primary else None
        out["change_direction"] = (None if not primary else "raise" if primary[2] > primary[1] else "lower")
        out["held_changes"] = "; ".join(held) or None
        # the experiment: the primary change, in its direction, where the segment can run it in time
        n, weeks = experiment_plan(cr, leads, cfg)
        label = Segments.label(key)
        if primary is None or key == "all" or light == "grey":
            status, text = "none", None
        elif weeks is not None and weeks <= cfg.experiment_max_weeks:
            status = "proposed"
            text = (f"A/B test {NAMES[primary[0]]} {_fmt(primary[0], primary[1])} → {_fmt(primary[0], primary[2])} "
                    f"against current practice: {n:,} leads per arm, about {max(2.0, weeks):g} weeks at "
                    f"{leads:,} leads a month (to detect +{cfg.experiment_mde_points:g} points of CR)")
        else:
            status = "too_slow"
            text = (f"Not testable within {cfg.experiment_max_weeks} weeks: {NAMES[primary[0]]} "
                    f"{_fmt(primary[0], primary[1])} → {_fmt(primary[0], primary[2])} needs {n:,} leads per arm, "
                    f"{weeks_text(weeks)} at {leads:,} leads a month" if n else
                    f"Not testable: no baseline conversion rate for {label}")
        out.update(experiment_status=status, experiment=text, experiment_leads_per_arm=n,
                   experiment_weeks=weeks if status != "none" else None)
        tone = light if light in ("green", "amber", "red") else "grey"
        if untouched:
            out["decision"] = UNTOUCHED
        elif status == "too_slow" and tone in ("amber", "red"):
            out["decision"] = (f"{'Stop pushing volume; t' if tone == 'red' else 'T'}ry the change below on part "
                               f"of the segment and re-read it next month: an A/B test would take "
                               f"{weeks_text(weeks)} at this volume")
        elif tone == "amber" and not primary and effect in PAYING:
            out["decision"] = "Keep the current rules: touches pay here, but the gain is not confirmed yet"
        else:
            out["decision"] = DECISIONS[(tone, bool(primary))]
        out["headline"] = headline(out)
        rows.append(out)
    return pd.DataFrame(rows)


def weeks_text(weeks: float) -> str:
    """'3 weeks', '12.5 weeks', 'over a year' (a test nobody would run)."""
    return "over a year" if weeks > 52 else f"about {weeks:g} weeks"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f} %"


def headline(v: dict) -> str:
    """The verdict in one plain sentence (the summary quotes it as is)."""
    parts = [f"{Segments.label(v['segment_key'])}: {v['light']}"]
    effect = v["effect"]
    if effect in PAYING:
        parts.append("touches pay" + (" up to an optimum" if effect == "pays_to_optimum" else ""))
    elif effect == "hurts":
        parts.append("more touches go with lower CR")
    elif effect in ("none", "small"):
        parts.append("more touches do not move CR")
    elif effect == "unclear":
        parts.append("the effect of touches is not established at this size")
    parts.append(f"CR {_pct(v['cr'])} on {v['leads']:,} leads")
    if v["change_threshold"]:
        change = (f"{NAMES[v['change_threshold']]} {_fmt(v['change_threshold'], v['change_from'])} → "
                  f"{_fmt(v['change_threshold'], v['change_to'])}")
        if v["experiment_status"] == "proposed":
            parts.append(f"test {change} ({v['experiment_leads_per_arm']:,} leads per arm)")
        elif v["light"] == "green":
            parts.append(f"set {change}")
        elif v["experiment_status"] == "too_slow":
            parts.append(f"try {change} on part of the segment (an A/B test would take "
                         f"{weeks_text(v['experiment_weeks'])})")
        else:
            parts.append(f"consider {change}")
    elif v["light"] in ("green", "amber") and v["min_touches_current"] is not None:
        parts.append(f"keep {NAMES['min_touches']} at {_fmt('min_touches', v['min_touches_current'])}")
    return "; ".join(parts) + "."
