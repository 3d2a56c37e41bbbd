"""The top of the page: title bar, the reading levels (anchors), and level 1: the eight KPI tiles, the
method's three pictures for all leads, the traffic light per segment and the guardrail status."""

from __future__ import annotations

from cadence.reports import fmt, theme, verdicts, views
from cadence.reports.gather import DOTS_OVERALL, DOTS_PER_SEGMENT, ReportData
from cadence.reports.html import Raw, card, esc, section
from cadence.reports.tiles import Tile, compute_tiles
from cadence.segments import ACTIVE

NAV = (
    ("level1", "1 · Strategic", True),
    ("trends", "Trends", False),
    ("level2", "2 · Segments & stages", True),
    ("level3", "3 · Reps & accounts", True),
    ("guardrails", "Guardrails", False),
    ("experiments", "Experiments", False),
    ("diagnostic", "Express diagnostic", False),
    ("meta", "Meta & glossary", False),
)
CHART_SIZE = (306, 280)


def header(data: ReportData) -> Raw:
    runs, meta = data.meta.get("runs", {}), data.meta
    as_of = meta.get("data_as_of")
    bits = [
        f"data as of {as_of:%d %b %Y %H:%M} UTC" if as_of else "data as of: not available",
        f"attribution window {data.note['attribution_window_days']} days",
        f"conversion = {data.note['conversion']}",
        f"scoping note {fmt.short_version(runs.get('version'))}",
    ]
    sources = views.sources_statement(data)
    links = "".join(f'<a class="{"level" if lvl else ""}" href="#{i}">{esc(t)}</a>' for i, t, lvl in NAV)
    return Raw(
        f'<header class="top"><h1>Cadence · Sales contact audit</h1>'
        f'<span class="month">{esc(fmt.month_label(data.month))}</span>'
        f'<div class="meta">{esc(" · ".join(bits))}</div></header>'
        + (f'<div class="sources" data-sources>{esc(sources)}</div>' if sources else "")
        + f'<nav class="levels">{links}</nav>'
    )


def tile_html(t: Tile) -> str:
    unit = f"<small>{esc(t.unit)}</small>" if t.unit else ""
    return (
        f'<div class="tile" data-kpi="{esc(t.key)}"><div class="k">{esc(t.label)}</div>'
        f'<div class="v">{esc(t.value)}{unit}</div><div class="s">{esc(t.sub)}</div>'
        f'<div class="d {esc(t.tone)}">{esc(t.delta)}</div>'
        + (f'<div class="ci" title="interval of the change: {esc(t.ci_interval)}">{esc(t.ci)}</div>' if t.ci else "")
        + "</div>"
    )


def _light_matrix(data: ReportData) -> str:
    lights, verdict = data.of("lights"), verdicts.table(data)
    if verdict.empty:
        return '<p class="na">Traffic light: not available.</p>'
    # rows: the values of every dimension but the last (crossed); columns: the last dimension's values
    keys = views.segment_keys(data)
    parts = [ACTIVE.parse(k) for k in keys]
    *row_dims, col_dim = ACTIVE.dims
    columns = list(dict.fromkeys(p[col_dim] for p in parts))
    row_labels = list(dict.fromkeys(tuple(p[d] for d in row_dims) for p in parts))
    cells = ['<div class="hd"></div>'] + [f'<div class="hd">{esc(s)}</div>' for s in columns]
    for labels in row_labels:
        cells.append(f'<div class="rh">{esc(" · ".join(v[:1].upper() + v[1:] for v in labels) or col_dim)}</div>')
        for value in columns:
            key = ACTIVE.key({**dict(zip(row_dims, labels, strict=True)), col_dim: value})
            v = verdicts.get(data, key)  # the light, its reason and ΔCR: the segment's verdict
            if not v:
                cells.append('<div class="cell na">–</div>')
                continue
            method = lights[lights["segment_key"] == key]
            r_used = method.iloc[0]["r_used"] if len(method) else None  # the method's r, shown, not deciding
            tone = v["light"] if v["light"] in ("green", "amber", "red") else "grey"
            cells.append(
                f'<a class="cell {tone}" href="#seg-{esc(views.chart_name(key))}" title="{esc(v["light_reason"])}" '
                f'data-segment="{esc(key)}" data-light="{esc(v["light"])}">'
                f"<b>{esc(v['light'])}</b><br>r {fmt.num(r_used, 2)}<br>"
                f"{fmt.points(v['delta_cr_points'])}</a>"
            )
    style = f"grid-template-columns:70px repeat({max(len(columns), 1)},minmax(0,1fr))"
    return f'<div class="lights" style="{style}">{"".join(cells)}</div>'


def _guardrail_status(data: ReportData) -> str:
    b, weekly = data.of("breaches"), data.of("weekly")
    if "guardrails.breaches" in data.unavailable:
        return '<p class="na">Guardrails: not available.</p>'
    by_sev = b["severity"].value_counts().to_dict() if len(b) else {}
    checks = f"{int(weekly['is_breach'].sum())} of {len(weekly)}" if len(weekly) else "–"
    lines = [
        ("Critical breaches", by_sev.get("critical", 0), "red" if by_sev.get("critical") else "green"),
        ("High", by_sev.get("high", 0), "amber" if by_sev.get("high") else "green"),
        ("Medium", by_sev.get("medium", 0), "grey"),
        ("Weekly rate checks breached", checks, "grey"),
    ]
    rows = "".join(f'<div><span>{esc(k)}</span><span class="chip {tone}">{esc(v)}</span></div>' for k, v, tone in lines)
    return f'<div class="status">{rows}<a href="#guardrails">All guardrails →</a></div>'


def fit_caption(seg: views.Segment, untouched: bool = False) -> str:
    f = seg.fit
    if untouched:
        return fmt.NO_TOUCHES
    if not f:
        return "fit not available"
    return f"r {fmt.num(f['r'], 2)} · m {fmt.points(100 * f['slope'], 2, '')} pts/touch · R² {fmt.num(f['r2'], 3)}"


def ttf_caption(seg: views.Segment, untouched: bool = False) -> str:
    t = seg.ttf
    if untouched:
        return fmt.NO_TOUCHES
    if not t or fmt.missing(t.get("slope")):
        return "fit not available"
    return f"r {fmt.num(t['r'], 2)} · {fmt.points(100 * t['slope'], 1)} per 10× TTF · R² {fmt.num(t['r2'], 3)}"


def summary(data: ReportData) -> str:
    """What to do this month, in 3-5 sentences: the verdicts' headlines, before any statistic."""
    lines = verdicts.summary(data)
    if not lines:
        return ""
    items = "".join(f"<li>{esc(line)}</li>" for line in lines)
    return card("This month", f'<ul class="summary">{items}</ul>',
                "one sentence per segment verdict: light, what touches do, conversion, the change to make or test")


def level1(data: ReportData, ax: views.Axes) -> Raw:
    tiles = "".join(tile_html(t) for t in compute_tiles(data))
    seg = views.segment(data, "all")
    c = views.charts_of(data, seg, ax, CHART_SIZE)
    shape = seg.shape.get("description", "") if seg.shape else ""
    untouched = views.no_touches(data, seg)
    row = "".join(
        [
            card("Contacts vs conversion", c["contacts"], fit_caption(seg, untouched), "chart-card"),
            card("Time to first contact vs conversion", c["ttf"], ttf_caption(seg, untouched), "chart-card"),
            card("Conversion by touch count", c["curve"], shape or "95% intervals", "chart-card"),
            card(
                "Traffic light per segment",
                _light_matrix(data) + _guardrail_status(data),
                "r · CR change vs last month",
                "chart-card",
            ),
        ]
    )
    kpi = seg.kpi
    pop = data.meta.get("population_leads")
    sub = (
        f"All in-scope leads ({fmt.num(kpi.get('leads'))}) compared with {fmt.month_label(data.previous)}. "
        f"r, slope, R², Q1 and the plots use the '{data.cfg.population}' population "
        f"({fmt.num(pop)} leads{', exception flags excluded' if data.cfg.population == 'standard' else ''})."
    )
    return section(
        "level1",
        "Strategic KPIs",
        summary(data) + f'<div class="tiles">{tiles}</div><div class="row c4">{row}</div>' + legend(data),
        "Level 1",
        sub,
    )


def legend(data: ReportData) -> str:
    items = [
        (theme.BLUE, "converted", ""),
        (theme.SLATE, "not converted", ""),
        (theme.TREND, "least-squares line", "line"),
        (theme.MUTED, "mean lines X̄, Ȳ (quadrants)", "line"),
        (theme.TEAL, "TTF target", "line"),
        (theme.PURPLE, "chosen curve shape", "line"),
    ]
    keys = "".join(f'<i class="{cls}" style="background:{color}"></i>{esc(text)}' for color, text, cls in items)
    dots = (
        f"dots: a fixed sample (≤ {DOTS_OVERALL:,} overall, ≤ {DOTS_PER_SEGMENT:,} per segment); "
        "statistics use all leads"
    )
    return f'<div class="legend">{keys} · {esc(dots)} · <a href="#how-to-read">how to read</a></div>'
