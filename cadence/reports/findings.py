"""What the audit note says, derived from the month's tables: the changes since last month, three lessons
from the data, the decision proposed per segment with its evidence, and the experiments to run next."""

from __future__ import annotations

from cadence.reports import fmt, views
from cadence.reports.dash_segments import threshold_lines
from cadence.reports.gather import SEGMENT_LEVEL, ReportData

DECISIONS = {
    "green": "Roll out widely: make the cadence below the segment's rule",
    "amber": "Re-segment and adjust the cadence; confirm with an A/B test before rolling out",
    "red": "Stop pushing volume: revise content and first-contact speed, then test again",
    "grey": "Keep current rules; collect more leads before deciding",
}
UNTOUCHED = "Keep current rules; the touches (calls, e-mails, meetings) are needed to decide"


def changes(data: ReportData) -> list[str]:
    """Beyond the KPI table: segments whose light changed, segments whose CR moved significantly."""
    out = []
    lights, before = data.of("lights"), data.of("lights", data.previous)
    was = dict(zip(before["segment_key"], before["light"], strict=True)) if len(before) else {}
    for r in lights.to_dict("records") if len(lights) else []:
        if (
            r["segment_level"] in ("all", SEGMENT_LEVEL)
            and was.get(r["segment_key"], r["light"]) != r["light"]
        ):
            out.append(
                f"{fmt.segment_label(r['segment_key'])}: light {was[r['segment_key']]} → {r['light']} ({r['reason']})"
            )
    for r in lights[lights["segment_level"] == SEGMENT_LEVEL].to_dict("records") if len(lights) else []:
        lo, hi = r.get("delta_cr_ci_low_points"), r.get("delta_cr_ci_high_points")
        if not (fmt.missing(lo) or fmt.missing(hi)) and (lo > 0 or hi < 0):
            out.append(
                f"{fmt.segment_label(r['segment_key'])}: CR {fmt.points(r['delta_cr_points'])} "
                f"[{fmt.signed(lo, 1)}, {fmt.signed(hi, 1)}], a significant change"
            )
    return out


def _slope_lesson(data: ReportData) -> str | None:
    if data.no_touches:
        return (
            f"**Contact frequency: {fmt.NO_TOUCHES}.** No call, e-mail or meeting counts as a touch this month "
            "(CRM-only extracts, or every touch excluded): r, slope, curve shapes, quadrants and time to first "
            "contact cannot be computed; only the CRM figures (leads, conversions) are reported."
        )
    seg = views.segment(data, "all")
    fits = data.of("fits")
    per = (
        fits[
            (fits["segment_level"] == SEGMENT_LEVEL)
            & (fits["x_measure"] == data.cfg.x_measure)
            & (fits["trim"] == "none")
        ]
        if len(fits)
        else fits
    )
    per = per.dropna(subset=["slope"]) if len(per) else per  # a segment without touches has no slope
    if not seg.fit or per.empty:
        return None
    hi, lo = per.loc[per["slope"].idxmax()], per.loc[per["slope"].idxmin()]
    return (
        f"**Contact frequency pays, unevenly.** Each extra touch adds {fmt.points(100 * seg.fit['slope'], 2)} of CR "
        f"overall (r {fmt.num(seg.fit['r'], 2)}, R² {fmt.num(seg.fit['r2'], 3)}: touches explain little of who "
        f"converts). Steepest in {fmt.segment_label(hi['segment_key'])} ({fmt.points(100 * hi['slope'], 2)} per "
        f"touch), flattest in {fmt.segment_label(lo['segment_key'])} ({fmt.points(100 * lo['slope'], 2)}, "
        f"p = {lo['r_p_value']:.2g})."
    )


def _ttf_lesson(data: ReportData) -> str | None:
    th = data.of("thresholds")
    row = th[(th["segment_key"] == "all") & (th["threshold"] == "ttf_target_hours")] if len(th) else th
    kpi = views.segment(data, "all").kpi
    if row.empty or not kpi or data.no_touches:
        return None
    r = row.iloc[0]
    gap = (
        f"{r['basis']} (gap {fmt.points(r['evidence_gap_points'])} [{fmt.signed(r['evidence_gap_ci_low_points'], 1)}, "
        f"{fmt.signed(r['evidence_gap_ci_high_points'], 1)}])"
        if not fmt.missing(r["evidence_gap_points"])
        else str(r["note"])
    )
    return (
        f"**Speed to first contact matters.** {gap}; yet only "
        f"{fmt.pct(kpi.get('share_within_ttf_target'), 0)} of leads are contacted within their target and the "
        f"median TTF is {fmt.hours(kpi.get('ttf_median_hours'))}."
    )


def _shape_lesson(data: ReportData) -> str | None:
    shapes = data.of("shapes")
    curved = (
        shapes[
            (shapes["segment_level"] == SEGMENT_LEVEL) & shapes["shape"].isin(["plateau", "s", "quadratic"])
        ]
        if len(shapes)
        else shapes
    )
    if curved.empty:
        return None
    items = "; ".join(f"{fmt.segment_label(r['segment_key'])}: {r['description']}" for r in curved.to_dict("records"))
    return f"**More is not always better.** The curve bends in some segments ({items}): set minimums at the bend."


def _cluster_lesson(data: ReportData) -> str | None:
    cl = data.of("clusters")
    cl = cl[cl["segment_level"] == "all"] if len(cl) else cl
    if cl.empty:
        return None
    r = cl.iloc[0]
    return (
        f"**A separate cluster.** {r['explanation']}. Keep these leads out of the cadence thresholds and "
        "treat them with their own rule."
    )


def _quadrant_lesson(data: ReportData) -> str | None:
    q = views.segment(data, "all").quadrant
    if not q or data.no_touches:
        return None
    return (
        f"**The improvement pool is Q3.** {fmt.pct(q['share_q3'], 0)} of leads got fewer touches than average and "
        f"did not convert; Q1 holds {fmt.pct(q['share_q1'], 0)}."
    )


def lessons(data: ReportData) -> list[str]:
    found = [f(data) for f in (_slope_lesson, _ttf_lesson, _shape_lesson, _cluster_lesson, _quadrant_lesson)]
    return [text for text in found if text][:3]


def decisions(data: ReportData) -> list[dict]:
    """Per segment: light, the decision it implies, the threshold changes proposed, and the evidence."""
    rows = []
    for key in ["all", *views.segment_keys(data)]:
        seg = views.segment(data, key)
        light = seg.light.get("light", "grey") if seg.light else "grey"
        f, untouched = seg.fit, views.no_touches(data, seg)
        evidence = [seg.light.get("reason", "")] if seg.light else []
        if untouched:
            if not any(fmt.NO_TOUCHES in e for e in evidence):  # the light's reason may say it already
                evidence.append(fmt.NO_TOUCHES)
        elif f:
            evidence.append(
                f"n {fmt.num(f['leads'])}, r {fmt.num(f['r'], 2)} [{fmt.num(f['r_ci_low'], 2)}, "
                f"{fmt.num(f['r_ci_high'], 2)}], slope {fmt.points(100 * f['slope'], 2)}/touch"
            )
        if seg.light and not fmt.missing(seg.light.get("delta_cr_points")):
            evidence.append(
                f"ΔCR {fmt.points(seg.light['delta_cr_points'])} "
                f"[{fmt.signed(seg.light['delta_cr_ci_low_points'], 1)}, "
                f"{fmt.signed(seg.light['delta_cr_ci_high_points'], 1)}]"
            )
        th = seg.thresholds
        proposed = (
            th[(th["status"] == "recommended") & (th["recommended_value"] != th["current_value"])] if len(th) else th
        )
        evidence += [str(n) for n in proposed["note"]] if len(proposed) else []
        rows.append(
            {
                "segment": fmt.segment_label(key),
                "key": key,
                "light": light,
                "decision": UNTOUCHED if untouched else DECISIONS.get(light, ""),
                "thresholds": threshold_lines(proposed) if len(proposed) else [],
                "evidence": "; ".join(e for e in evidence if e),
            }
        )
    return rows


def experiments_to_run(data: ReportData) -> list[str]:
    """Threshold changes the data recommends that no current experiment covers: each becomes an A/B test."""
    running = set(data.of("exp_designs")["segment"]) if len(data.of("exp_designs")) else set()
    out = []
    for d in decisions(data):
        if d["key"] == "all" or not d["thresholds"] or d["key"] in running:
            continue
        leads = views.segment(data, d["key"]).kpi.get("leads")
        out.append(
            f"{d['segment']}: test {', '.join(d['thresholds'])} against current practice, 2-4 weeks, "
            f"randomised by lead (about {fmt.num(leads)} leads a month; the method asks ≥ 200 per arm, "
            "the design asset sizes it for the lift sought)."
        )
    return out
