"""What the audit note says, derived from the month's tables: the changes since last month, three lessons
from the data, the decision proposed per segment with its evidence, and the experiments to run next. The
decisions, experiments and every claim about whether touches pay come from the segment verdicts
(analytics.verdicts, through cadence.reports.verdicts), never from a statistic read here on its own."""

from __future__ import annotations

from cadence.analytics.effect import PAYING
from cadence.reports import fmt, verdicts, views
from cadence.reports.gather import SEGMENT_LEVEL, ReportData


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
    effect = verdicts.get(data, "all").get("effect")
    fit = (f"r {fmt.num(seg.fit['r'], 2)}, R² {fmt.num(seg.fit['r2'], 3)}, slope "
           f"{fmt.points(100 * seg.fit['slope'], 2)} per touch")
    spread = (f"Steepest in {fmt.segment_label(hi['segment_key'])} ({fmt.points(100 * hi['slope'], 2)} per touch), "
              f"flattest in {fmt.segment_label(lo['segment_key'])} ({fmt.points(100 * lo['slope'], 2)}).")
    summary = verdicts.get(data, "all").get("effect_summary") or ""
    if effect in PAYING:
        head = "Contact frequency pays" + (" up to an optimum" if effect == "pays_to_optimum" else "")
        return f"**{head}.** {summary} ({fit}: r stays small on a 0/1 outcome). {spread}"
    if effect == "hurts":
        return f"**More touches go with lower conversion.** {summary} ({fit}). {spread}"
    return (f"**Contact frequency does not clearly move conversion at this size.** {summary} ({fit}). "
            f"{spread}")


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
    share = kpi.get("share_within_ttf_target")
    within = (f"yet only {fmt.pct(share, 0)} of leads are contacted within their target"
              if not fmt.missing(share) and share < 0.9 else f"{fmt.pct(share, 0)} of leads are contacted within "
              "their target")
    return (
        f"**Speed to first contact.** {gap}; {within} and the median TTF is "
        f"{fmt.hours(kpi.get('ttf_median_hours'))}."
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
    # a bend is a lesson only where the segment's verdict says touches pay (up to the bend)
    keys = curved["segment_key"] if len(curved) else []
    paying = {k for k in keys if verdicts.get(data, k).get("effect") in PAYING}
    curved = curved[curved["segment_key"].isin(paying)] if len(curved) else curved
    if curved.empty:
        return None
    items = "; ".join(f"{fmt.segment_label(r['segment_key'])}: {r['description']}" for r in curved.to_dict("records"))
    return (f"**More is not always better.** The curve bends in some segments ({items}): the minimums in the "
            "decisions below sit at the bend where its location is stable.")


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
    """Per segment ('all', then the cells): its verdict's light, decision, threshold lines and evidence."""
    rows = []
    for key in ["all", *views.segment_keys(data)]:
        v = verdicts.get(data, key)
        if not v:
            continue
        rows.append(
            {
                "segment": fmt.segment_label(key),
                "key": key,
                "light": v["light"],
                "decision": v["decision"],
                "thresholds": [line for line in verdicts.threshold_lines(v) if "→" in line or "held" in line],
                "evidence": verdicts.evidence(v),
            }
        )
    return rows


def experiments_to_run(data: ReportData) -> list[str]:
    """The verdicts' experiments (the primary change, in its direction) that no current experiment covers:
    proposed where the segment reaches the sample in time, else how long it would take."""
    running = set(data.of("exp_designs")["segment"]) if len(data.of("exp_designs")) else set()
    out = []
    for key in views.segment_keys(data):
        v = verdicts.get(data, key)
        if v.get("experiment") and key not in running:  # get() gives None for a stored NULL
            out.append(f"{fmt.segment_label(key)}: {v['experiment']}.")
    return out
