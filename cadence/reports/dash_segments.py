"""Level 2: one card per segment (facts, light and reason, recommended thresholds, the three pictures on
shared axes), then the funnel by stage, the KPIs by entry phase and the top outliers of the cycle."""

from __future__ import annotations

from cadence.reports import charts, fmt, trends, verdicts, views
from cadence.reports.dash_overview import fit_caption, ttf_caption
from cadence.reports.gather import ReportData
from cadence.reports.html import Raw, card, dl, esc, light_chip, section, table
from cadence.scoping import FUNNEL_PHASES
from cadence.segments import DIMS

CHART_SIZE = (336, 240)
def _delta_cr(data: ReportData, seg: views.Segment) -> str:
    """'▲ +1.2 pts [+0.3, +2.8]': the change vs the previous month with its 95 % interval (trends)."""
    ch = trends.change(data.frames.get("trends"), seg.key, data.month, trends.BY_KEY["cr"])
    return fmt.DASH if ch is None else f"{ch.text().rsplit(' vs ', 1)[0]} {ch.interval()}"


def _facts(data: ReportData, seg: views.Segment) -> str:
    k, f, q = seg.kpi, seg.fit, seg.quadrant
    trimmed = seg.fit_trimmed.get("r") if seg.fit_trimmed else None
    untouched = views.no_touches(data, seg)

    def touch(text: str) -> str:  # a figure that rests on touches: not a zero, not "too thin"
        return fmt.NO_TOUCHES if untouched else text

    items = [
        ("Leads (in scope)", fmt.num(k.get("leads"))),
        (
            "Conversion rate",
            f"{fmt.pct(k.get('conversion_rate'))} [{fmt.pct(k.get('conversion_rate_ci_low'))}, "
            f"{fmt.pct(k.get('conversion_rate_ci_high'))}]",
        ),
        ("Δ CR vs last month", _delta_cr(data, seg)),
        ("Median TTF", touch(fmt.hours(k.get("ttf_median_hours")))),
        ("Within TTF target", touch(fmt.pct(k.get("share_within_ttf_target"), 0))),
        (
            "Median contacts (IQR)",
            f"{fmt.num(k.get('touches_per_lead_median'), 1)} ({fmt.num(k.get('touches_per_lead_iqr'), 0)})",
        ),
        ("r (without top 1 %)", touch(f"{fmt.num(f.get('r'), 2)} ({fmt.num(trimmed, 2)})")),
        (
            "Slope · R²",
            touch(f"{fmt.points(100 * f['slope'], 2, '')} pts/touch · {fmt.num(f['r2'], 3)}" if f else fmt.DASH),
        ),
        ("Leads in Q1 · Q3", touch(f"{fmt.pct(q.get('share_q1'), 0)} · {fmt.pct(q.get('share_q3'), 0)}")),
    ]
    v = verdicts.get(data, seg.key)  # light, reason, decision and thresholds: the segment's one verdict
    reason = esc(v.get("light_reason") or "traffic light not available")
    decision = f'<div class="decision"><b>{esc(v["decision"])}</b></div>' if v else ""
    th = "".join(f"<li>{esc(t)}</li>" for t in verdicts.threshold_lines(v)) or "<li>not available</li>"
    return (
        f'<div class="facts" data-segment="{esc(seg.key)}" data-light="{esc(v.get("light", ""))}">'
        f'<h3>{esc(fmt.segment_label(seg.key))} {light_chip(v.get("light"))}</h3>'
        f'<div class="reason">{reason}</div>{decision}{dl(items)}'
        f'<div class="sub" style="margin-top:6px">Thresholds</div><ul class="th">{th}</ul></div>'
    )


def segment_cards(data: ReportData, ax: views.Axes) -> str:
    parts = []
    for key in views.segment_keys(data):
        seg = views.segment(data, key)
        c = views.charts_of(data, seg, ax, CHART_SIZE)
        shape = seg.shape.get("description", "") if seg.shape else ""
        untouched = views.no_touches(data, seg)
        minis = "".join(
            f'<div class="mini"><div class="mt">{esc(t)}</div><div class="mc">{esc(cap)}</div>{c[k]}</div>'
            for k, t, cap in (
                ("contacts", "Contacts vs conversion", fit_caption(seg, untouched)),
                ("ttf", "Time to first contact vs conversion", ttf_caption(seg, untouched)),
                ("curve", "Conversion by touch count", shape or "95% intervals"),
            )
        )
        parts.append(f'<div class="card seg" id="seg-{esc(views.chart_name(key))}">{_facts(data, seg)}{minis}</div>')
    return "".join(parts) or '<p class="na">No segment: not available.</p>'


def _funnel(data: ReportData) -> str:
    f = data.of("funnel")
    if f.empty:
        return '<p class="na">Funnel stages: not available.</p>'
    overall = f[f["segment_level"] == "all"].sort_values("stage_order")
    stages = [
        {
            "stage": r.funnel_stage,
            "leads": int(r.leads_reached),
            "conv": None if r.stage_order == 1 else r.conversion_from_previous_stage,
        }
        for r in overall.itertuples()
    ]
    chart = charts.funnel_chart(stages, "funnel-all", "Leads reaching each stage", 420)
    dim = DIMS[0]  # the first segment dimension (channel by default)
    by_channel = f[f["segment_level"] == dim].pivot_table(
        index=dim, columns="funnel_stage", values="conversion_from_previous_stage", aggfunc="first"
    )
    cols = [s for s in ("SQL", "opportunity", "won") if s in by_channel.columns]
    rows = [{dim: ch, **{s: by_channel.loc[ch, s] for s in cols}} for ch in by_channel.index]
    tbl = table(
        rows,
        [(dim.replace("_", " ").capitalize(), lambda r: r[dim], "")]
        + [(f"→ {s}", lambda r, s=s: fmt.pct(r[s], 0), "n") for s in cols],
    )
    by = dim.replace("_", " ")
    return f"{chart}<div class='sub' style='margin:6px 0'>Conversion from the previous stage, by {by}</div>{tbl}"


def _phases(data: ReportData) -> str:
    k = data.of("kpis")
    order = {p: i for i, p in enumerate(FUNNEL_PHASES)}
    rows = k[k["segment_level"] == "funnel_phase"].to_dict("records") if len(k) else []
    rows = sorted(rows, key=lambda r: order.get(r["funnel_phase"], 9))
    lights = data.of("lights").set_index("segment_key")["light"].to_dict() if len(data.of("lights")) else {}
    return table(
        rows,
        [
            ("Entry phase", lambda r: r["funnel_phase"], ""),
            ("Leads", lambda r: fmt.num(r["leads"]), "n"),
            ("CR", lambda r: fmt.pct(r["conversion_rate"]), "n"),
            ("TTF (median)", lambda r: fmt.hours(r["ttf_median_hours"]), "n"),
            ("Contacts", lambda r: fmt.num(r["touches_per_lead_median"], 1), "n"),
            ("Win rate", lambda r: fmt.pct(r["win_rate"], 0), "n"),
            ("Light", lambda r: light_chip(lights.get(r["segment_key"])), ""),
        ],
    )


def _outliers(data: ReportData) -> str:
    o = data.of("outliers")
    return table(
        o.to_dict("records"),
        [
            ("#", lambda r: r["outlier_rank"], "n"),
            ("Lead", lambda r: r["entity_id"], ""),
            ("Segment", lambda r: r["population"], ""),
            ("Metric", lambda r: r["metric"], ""),
            ("Value", lambda r: fmt.num(r["value"]), "n"),
            ("Typical", lambda r: fmt.num(r["typical_value"]), "n"),
            ("Class", lambda r: r["outlier_class"], ""),
            ("Action", lambda r: r["action"], ""),
        ],
        "no outlier flagged" if "cleaning.outliers_top5" not in data.unavailable else "not available",
    )


def level2(data: ReportData, ax: views.Axes) -> Raw:
    funnel = card("Funnel by stage", _funnel(data), "all in-scope leads")
    phases = card("KPIs by entry phase", _phases(data), "funnel phase at lead creation")
    outliers = card("Top outliers of the cycle", _outliers(data), "classified: error, exceptional, opportunity, risk")
    stages = f'<div class="row c2">{funnel}{phases}</div><div style="margin-top:12px">{outliers}</div>'
    sub = (
        f"Each row: one {' × '.join(d.replace('_', ' ') for d in DIMS)} segment. Axes are shared across segments; "
        f"touches beyond {ax.x_max:g} (the top 1 %) are not drawn."
    )
    return section("level2", "Segments and stages", segment_cards(data, ax) + stages, "Level 2", sub)
