"""The dashboard's trends: per cell segment (and all leads), CR with its interval, median TTF and median
contacts per lead over the last months the warehouse holds (small multiples: one y range per measure),
each with its change against the previous month (▲▼, the change's 95 % interval, whether it excludes 0)."""

from __future__ import annotations

from cadence import segments
from cadence.reports import fmt, theme, trend_chart, trends, views
from cadence.reports.gather import ReportData
from cadence.reports.html import Raw, esc, section

CHART_SIZE = (360, 118)
CSS = f"""
.trends{{display:grid;grid-template-columns:170px repeat(3,minmax(0,1fr));gap:6px 14px;align-items:start}}
.trends .th{{font-size:12.5px;font-weight:650;color:{theme.MUTED};padding-bottom:2px;
  border-bottom:1px solid {theme.LINE}}}
.trends .seg-name{{font-size:12.5px;font-weight:650;padding-top:10px}} .trends .seg-name .sub{{font-weight:400}}
.trends .chg{{font-size:12px;display:flex;flex-wrap:wrap;gap:0 8px;margin:-2px 0 8px 44px}}
.trends .chg .ci,.tile .ci{{color:{theme.MUTED}}} .trends .chg .ci.x{{color:{theme.INK};font-weight:600}}
.tile .ci{{font-size:11px;white-space:nowrap;overflow:hidden}}
svg .spark{{fill:none;stroke:{theme.BLUE};stroke-width:1.8}} svg .tp{{fill:{theme.BLUE}}}
svg .tp.last{{fill:{theme.TREND}}}
"""


def _ticks(measure: trends.Measure):
    if measure.key == "cr":
        return lambda v: f"{100 * v:.0f}%"
    return (lambda v: f"{v:g} h") if measure.key == "ttf" else (lambda v: f"{v:g}")


def change_html(ch: trends.Change | None) -> str:
    """'▲ +1.2 pts vs Aug  [+0.3, +2.8] CI excludes 0', toned only when beyond noise; or 'no previous month'."""
    if ch is None:
        return '<div class="chg"><span class="d flat">no previous month</span></div>'
    sig = " x" if ch.excludes_zero else ""
    return (f'<div class="chg" data-change="{esc(ch.measure.key)}"><span class="d {esc(ch.tone)}">{esc(ch.text())}'
            f'</span><span class="ci{sig}">{esc(ch.interval())} {esc(ch.verdict())}</span></div>')


def trends_section(data: ReportData) -> Raw:
    df = data.frames.get("trends")
    if df is None or "trends" in data.unavailable:
        return section("trends", "Trends", '<p class="na">Trends: not available.</p>')
    months = sorted(df["partition_month"].unique()) if len(df) else [data.month]
    keys = ["all"] + views.segment_keys(data)
    cells = ['<div class="th">Segment</div>']
    lvl = trends.level(data.cfg)
    cells += [f'<div class="th">{esc(m.label)}{f" ({lvl} interval)" if m.key == "cr" else ""}</div>'
              for m in trends.MEASURES]
    ranges = {}
    for m in trends.MEASURES:
        pts = [p for k in keys for p in trends.series(df, k, m)]
        ranges[m.key] = trend_chart.y_range([v for p in pts for v in (p[1], p[3])])
    for key in keys:
        leads = df[(df["segment_key"] == key) & (df["partition_month"] == data.month)]["leads"]
        n = f'<div class="sub">{fmt.num(leads.iloc[0])} leads in {esc(fmt.month_label(data.month, short=True))}' \
            "</div>" if len(leads) else ""
        href = "#level1" if key == "all" else f"#seg-{esc(views.chart_name(key))}"
        cells.append(f'<div class="seg-name"><a href="{href}">{esc(fmt.segment_label(key))}</a>{n}</div>')
        for m in trends.MEASURES:
            name = f"trend-{m.key}-{segments.ACTIVE.slug(key)}"
            svg = trend_chart.spark_chart(months, trends.series(df, key, m), *ranges[m.key], _ticks(m), m.value_text,
                                          name, f"{m.label}, {fmt.segment_label(key)}, by month", *CHART_SIZE)
            cells.append(f"<div>{svg}{change_html(trends.change(df, key, data.month, m))}</div>")
    span = f"{fmt.month_label(months[0], short=True)} – {fmt.month_label(months[-1], short=True)}"
    sub = (
        f"{len(months)} month{'s' if len(months) > 1 else ''} ({span}), the last {trends.TREND_MONTHS} at most. "
        f"Dots: the month's value with its {lvl} interval (CR: Wilson; medians: order statistics); one y scale per "
        f"column. Under each chart: the change vs the previous month and its {lvl} interval (MOVER; for CR, Newcombe)"
        "; coloured only when the interval excludes 0."
        + ("" if len(months) > 1 else " Only one month in the warehouse: run earlier months to see trends.")
    )
    return section("trends", "Trends", f'<div class="card"><div class="trends">{"".join(cells)}</div></div>', "",
                   sub)
