"""The express diagnostic: the method's 10 questions, answered from the month's tables where the data can
answer, and marked "needs human input" where it cannot (status: answered | partial | needs_human_input).
In a month without a single touch (CRM-only extracts) the questions that rest on touches are
`not_measurable` ("not measurable: no touches"), rather than answered from zeros and empty fits.
Lists are per cell segment (the crossing of the note's dimensions) of the decision population; each answer
names its table."""

from __future__ import annotations

import math

import pandas as pd

from cadence.analytics.config import AnalysisConfig
from cadence.analytics.decision import NO_TOUCHES
from cadence.analytics.linear import fit_moments
from cadence.segments import CELL_LEVEL, DIMS

LEVEL = CELL_LEVEL
HUMAN = "Needs human input: "


def _seg(df: pd.DataFrame, cfg: AnalysisConfig, population: str | None = None) -> pd.DataFrame:
    if df.empty:
        return df
    out = df[df["segment_level"] == LEVEL]
    out = out[out["population"] == (population or cfg.population)] if "population" in out.columns else out
    # segments in a fixed order: the same month gives the same text, byte for byte (the engine's group-by
    # order is not stable from run to run)
    return out.sort_values("segment_key", kind="stable") if "segment_key" in out.columns else out


def _name(row) -> str:
    return "/".join(str(row[d]) for d in DIMS)


def _rows(df: pd.DataFrame) -> list[dict]:
    return df.to_dict("records")


def ttf_on_target(t, cfg, s):
    m = _seg(t["moments"], cfg)
    timed = m[m["ttf_median_hours"].notna()] if len(m) else m  # a segment nobody contacted has no TTF
    off = [
        f"{_name(r)} {r['ttf_median_hours']:.1f} h vs {r['ttf_target_hours']:g} h"
        for r in _rows(timed)
        if r["ttf_median_hours"] > r["ttf_target_hours_max"]
    ]
    silent = [_name(r) for r in _rows(m) if pd.isna(r["ttf_median_hours"])]
    text = f"{len(timed) - len(off)} of {len(m)} segments on target"
    text += f"; off: {'; '.join(off)}" if off else ""
    text += f"; no lead contacted in: {', '.join(silent)}" if silent else ""
    return "answered", text


def slope_stable(t, cfg, s):
    prev, verdicts = _seg(t["moments_prev"], cfg), []
    for r in _rows(_seg(t["moments"], cfg)):
        now = fit_moments(r["leads"], r[f"sx_{s}"], r["conversions"], r[f"sxx_{s}"], r[f"sxy_{s}"], r["conversions"])
        sig = "significant" if now["r_p_value"] < 1 - cfg.confidence else "not significant"
        p = _rows(prev[prev["segment_key"] == r["segment_key"]]) if len(prev) else []
        if not p:
            verdicts.append(f"{_name(r)}: {sig}, stability unknown (no previous month)")
            continue
        b = fit_moments(
            p[0]["leads"], p[0][f"sx_{s}"], p[0]["conversions"], p[0][f"sxx_{s}"], p[0][f"sxy_{s}"], p[0]["conversions"]
        )
        same = now["slope"] * b["slope"] > 0 and abs(now["slope"] - b["slope"]) <= cfg.z * math.hypot(
            now["slope_se"], b["slope_se"]
        )
        verdicts.append(
            f"{_name(r)}: {sig} ({100 * now['slope']:+.2f} pts/touch), {'stable' if same else 'changed'} vs last month"
        )
    return "answered", "; ".join(verdicts)


def shapes(t, cfg, s):
    sh = _seg(t["curve_shapes"], cfg)
    sh = sh[sh["x_measure"] == cfg.threshold_x_measure]
    return "answered", "; ".join(f"{_name(r)}: {r['description']}" for r in _rows(sh))


def quadrants_moved(t, cfg, s):
    q, qp = _seg(t["quadrants"], cfg), _seg(t["quadrants_prev"], cfg)
    out = []
    for r in _rows(q[q["x_measure"] == cfg.x_measure]):
        p = qp[(qp["segment_key"] == r["segment_key"]) & (qp["x_measure"] == cfg.x_measure)] if len(qp) else qp
        move = f" ({100 * (r['share_q1'] - p['share_q1'].iloc[0]):+.1f} pts)" if len(p) else ""
        out.append(f"{_name(r)} Q1 {r['share_q1']:.0%}{move}, Q3 {r['share_q3']:.0%}")
    return "partial", "; ".join(out) + f". {HUMAN}which changes were deployed, and when."


def clusters_where(t, cfg, s):
    cl = t["clusters"][t["clusters"]["is_cluster"] & (t["clusters"]["segment_level"] == LEVEL)]
    found = "; ".join(f"{_name(r)}: {r['explanation']}" for r in _rows(cl)) or "no separate cluster found"
    return "partial", f"{found}. {HUMAN}sector is not in the data."


def outliers(t, cfg, s):
    moved = [
        f"{_name(r)} ({r[f'sensitivity_change_{s}']})"
        for r in _rows(_seg(t["fit_checks"], cfg))
        if pd.notna(r[f"sensitivity_change_{s}"])
    ]
    top = (
        "; ".join(
            f"{o['entity_id']} {o['metric']} = {o['value']:g} ({o['outlier_class']}, score {o['score']:g})"
            for o in _rows(t["outliers"])
        )
        or "cleaning.outliers_top5 not built"
    )
    share = f"{cfg.trim_share:.0%}"
    first = (
        f"without the top {share} cadences r changes in: {', '.join(moved)}"
        if moved
        else f"no segment changes tier or sign without the top {share} cadences"
    )
    return "partial", f"{first}. Top 5 outliers: {top}. {HUMAN}confirm each classification."


def touch_quality(t, cfg, s):
    def per_touch(df):
        a = df[(df["segment_level"] == "all") & (df["population"] == "all")].iloc[0]
        return a["emails_replied"] / max(a[f"sx_{s}"], 1), a["meetings_held"] / max(a[f"sx_{s}"], 1)

    rq, mq = per_touch(t["moments"])
    text = f"replies per touch {rq:.3f}, meetings per touch {mq:.3f}"
    if t["moments_prev"].empty:
        return "partial", text + " (no previous month to compare)"
    rq0, mq0 = per_touch(t["moments_prev"])
    return (
        "answered",
        text + f" (last month {rq0:.3f} and {mq0:.3f}: {'better' if rq + mq > rq0 + mq0 else 'not better'})",
    )


def guardrails(t, cfg, s):
    segments = _rows(_seg(t["moments"], cfg, "all"))
    if not sum(r["emails_delivered"] for r in segments):
        return "not_measurable", "not measurable: no e-mail delivered"
    over = []
    for r in segments:
        c, u = (
            r[k] / r["emails_delivered"] if r["emails_delivered"] else 0
            for k in ("emails_complained", "emails_unsubscribed")
        )
        if c > cfg.complaint_rate_max or u > cfg.unsubscribe_rate_max:
            over.append(f"{_name(r)} complaints {c:.3%}, unsubscribes {u:.3%}")
    head = f"over the guardrail this month: {'; '.join(over)}" if over else "every segment under its guardrails"
    return "answered", (
        f"{head} (complaints {cfg.complaint_rate_max:.2%}, unsubscribes {cfg.unsubscribe_rate_max:.2%}"
        " of delivered e-mails; weekly detail in marts.kpi_guardrails_weekly)"
    )


def scripts(t, cfg, s):
    return (
        "needs_human_input",
        "The data holds no script or content: compare the scripts of the Q1 and Q3 reps listed in quadrant_lists.",
    )


def learned(t, cfg, s):
    tl, th = _seg(t["traffic_light"], cfg), t["thresholds"]
    th = th[(th["segment_level"] == LEVEL) & (th["status"] == "recommended")]
    lights = "; ".join(
        f"{c}: {', '.join(_name(r) for r in _rows(tl[tl['light'] == c]))}"
        for c in ("green", "amber", "red", "grey")
        if (tl["light"] == c).any()
    )
    recs = (
        "; ".join(
            f"{_name(r)} {r['threshold']} {r['recommended_value']:g} (now {r['current_value']:g})" for r in _rows(th)
        )
        or "none"
    )
    return "partial", f"{lights}. Recommended: {recs}. {HUMAN}operational feasibility, and the A/B test to confirm."


def no_touches(moments: pd.DataFrame) -> bool:
    """True when no lead of the month had a touch in its window (the 'all' segment's sum of X is 0)."""
    row = moments[(moments["segment_level"] == "all") & (moments["population"] == "all")] if len(moments) else moments
    return bool(len(row)) and row.iloc[0]["sx_w"] == 0


QUESTIONS = (
    ("Median TTF on target?", ttf_on_target, "segment_moments, ttf_bands"),
    ("Slope significant and stable per segment?", slope_stable, "linear_fits"),
    ("Linear, S or U shape (optimum)?", shapes, "curve_shapes"),
    ("Did the quadrants move after the changes?", quadrants_moved, "lead_quadrants"),
    ("Where are the clusters (channel, size, sector)?", clusters_where, "clusters"),
    ("Do outliers explain or mask the effect?", outliers, "fit_checks, cleaning.outliers_top5"),
    ("Does touch quality (replies, meetings per touch) improve?", touch_quality, "segment_moments"),
    ("Are complaints/unsubscribes under their guardrail?", guardrails, "segment_moments"),
    ("Do scripts differ between Q1 and Q3?", scripts, "quadrant_lists"),
    ("What did we learn that is actionable?", learned, "traffic_light, thresholds"),
)
#: Questions whose answer rests on touches (TTF is the time to the first one; complaints come from e-mails).
TOUCH_BASED = {1, 2, 3, 4, 5, 6, 7, 8}


def diagnostic(t: dict[str, pd.DataFrame], cfg: AnalysisConfig) -> pd.DataFrame:
    """t: moments, moments_prev, curve_shapes, clusters, fit_checks, outliers, quadrants, quadrants_prev,
    traffic_light, thresholds (this month's frames; *_prev and outliers may be empty)."""
    s = "w" if cfg.x_measure == "touches_in_window" else "b"
    silent = no_touches(t["moments"])
    rows = [
        (i, q, *(("not_measurable", NO_TOUCHES) if silent and i in TOUCH_BASED else answer(t, cfg, s)), table)
        for i, (q, answer, table) in enumerate(QUESTIONS, start=1)
    ]
    return pd.DataFrame(rows, columns=["question_no", "question", "status", "answer", "evidence_table"])
