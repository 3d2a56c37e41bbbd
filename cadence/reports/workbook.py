"""The audit workbook (the method's "automated Excel"): lead-level points, a native scatter chart with its
linear trendline (equation and R² shown by Excel itself), the mean lines and quadrant counts, the KPI
table, the fits and traffic light per segment, the guardrails and the Q1/Q3 lists. Opens in Excel and
LibreOffice; values are plain numbers (formulas only in the 'recomputed by Excel' check column)."""

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment

from cadence.reports import fmt, trends_tables, verdicts, views
from cadence.reports.dash_ops import rule_status
from cadence.reports.gather import ReportData
from cadence.reports.workbook_scatter import MAX_LEAD_ROWS, PRINTED_LEAD_ROWS, leads_sheet, scatter_sheet
from cadence.reports.xlsx_cells import finish_workbook, fit_row_heights, font, write_table

KPI_COLUMNS = {
    "segment_level": "Level",
    "segment_key": "Segment",
    "leads": "Leads",
    "conversions": "Conversions",
    "conversion_rate": "CR",
    "conversion_rate_ci_low": "CR low",
    "conversion_rate_ci_high": "CR high",
    "touches_per_lead_median": "Touches median",
    "touches_per_lead_p25": "Touches p25",
    "touches_per_lead_p75": "Touches p75",
    "touches_per_lead_iqr": "Touches IQR",
    "ttf_median_hours": "TTF median (h)",
    "share_within_ttf_target": "Within TTF target",
    "reply_rate": "Reply rate",
    "complaint_rate": "Complaint rate",
    "unsubscribe_rate": "Unsubscribe rate",
    "bounce_rate": "Bounce rate",
    "win_rate": "Win rate",
}


def build_workbook(data: ReportData, points: pd.DataFrame, total: int, path: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    leads = leads_sheet(wb, points, total, data.cfg.x_measure)
    header = [c.value for c in leads[2]]
    x_max = float(points["touches"].max()) if len(points) else 1.0
    scatter_sheet(wb, data, len(points), header.index("touches (X)") + 1, header.index("converted (Y)") + 1, x_max)
    sheets(wb, data)
    finish_workbook(wb)
    wb.save(path)
    return path


def sheets(wb: Workbook, data: ReportData) -> None:
    """The tables: KPIs, fits and lights per segment, guardrails, lists and a README."""
    k = data.of("kpis")
    write_table(
        wb.create_sheet("KPIs"),
        1,
        1,
        k[[c for c in KPI_COLUMNS if c in k.columns]].rename(columns=KPI_COLUMNS)
        if len(k)
        else pd.DataFrame({"KPIs": ["not available"]}),
    )
    fits = data.of("fits")
    fits = fits[(fits["trim"] == "none") & (fits["x_measure"] == data.cfg.x_measure)] if len(fits) else fits
    lights = data.of("lights")
    table = (
        fits[
            [
                "segment_level",
                "segment_key",
                "leads",
                "x_mean",
                "y_mean",
                "slope",
                "intercept",
                "r",
                "r_ci_low",
                "r_ci_high",
                "r_p_value",
                "r2",
            ]
        ]
        if len(fits)
        else pd.DataFrame({"Fits": ["not available"]})
    )
    if len(fits) and len(lights):
        table = table.merge(lights[["segment_key", "light", "reason", "delta_cr_points"]], on="segment_key", how="left")
    write_table(wb.create_sheet("Fits"), 1, 1, table)
    write_table(wb.create_sheet("Verdicts"), 1, 1, _verdicts(data))
    write_table(wb.create_sheet("Trends"), 1, 1, trends_tables.sheet_frame(data))
    rules = pd.DataFrame(rule_status(data))
    ws = wb.create_sheet("Guardrails")
    nxt = write_table(
        ws,
        1,
        1,
        rules[["rule_id", "title", "severity", "breaches", "where", "detail", "action"]]
        if len(rules)
        else pd.DataFrame({"Guardrails": ["not available"]}),
    )
    weekly = data.of("weekly")
    if len(weekly):
        write_table(
            ws,
            nxt + 1,
            1,
            weekly[
                ["iso_week", "segment_key", "rule_id", "events", "base", "rate", "threshold", "p_value", "is_breach"]
            ].rename(columns={"rate": "Share"}),
        )
    lists = data.of("lists")
    write_table(
        wb.create_sheet("Lists"),
        1,
        1,
        lists[
            [
                "unit_type",
                "list_name",
                "rank",
                "unit_id",
                "months_observed",
                "months_in_quadrant",
                "mean_dx",
                "mean_dy",
                "leads",
            ]
        ]
        if len(lists)
        else pd.DataFrame({"Lists": ["not available"]}),
    )
    readme = wb.create_sheet("README", 0)
    readme.column_dimensions["A"].width = 120
    for i, line in enumerate(_readme(data), start=1):
        readme.cell(i, 1, line).alignment = Alignment(wrap_text=True, vertical="top")
    readme["A1"].font = font(bold=True, size=13)
    fit_row_heights(readme, range(1, readme.max_row + 1), [1])


VERDICT_COLUMNS = {"segment_key": "segment", "leads": "leads", "cr": "CR", "light": "light",
                   "light_reason": "why", "effect": "effect of touches", "decision": "decision",
                   "thresholds": "thresholds", "experiment": "experiment", "headline": "in one sentence"}


def _verdicts(data: ReportData) -> pd.DataFrame:
    """One row per segment: the verdict the dashboard and the note render (analytics.verdicts)."""
    v = verdicts.table(data)
    if v.empty:
        return pd.DataFrame({"Verdicts": ["not available"]})
    v = v.astype(object).where(v.notna(), None)
    v["thresholds"] = ["; ".join(verdicts.threshold_lines(r)) for r in v.to_dict("records")]
    v["segment_key"] = [fmt.segment_label(k) for k in v["segment_key"]]
    return v[list(VERDICT_COLUMNS)].rename(columns=VERDICT_COLUMNS)


def _readme(data: ReportData) -> list[str]:
    as_of = data.meta.get("data_as_of")
    return [
        f"Sales contact audit workbook · {fmt.month_label(data.month)}",
        f"Data as of {as_of:%Y-%m-%d %H:%M} UTC" if as_of else "Extraction date not available",
        f"Attribution window {data.note['attribution_window_days']} days; conversion = {data.note['conversion']}; "
        f"scoping note {data.meta.get('runs', {}).get('version') or data.cfg.version}",
        views.sources_statement(data) or "Every source provided.",
        "",
        "Sheets:",
        "Scatter: the scatter plot with its linear trendline (equation and R² on the chart), the mean "
        "lines X̄ and Ȳ and the quadrant counts; the fit from the pipeline next to the same fit recomputed by Excel.",
        "Leads: one row per lead (X = touches, Y = converted); a stratified sample when the month has more than "
        f"{MAX_LEAD_ROWS:,} leads (said on the sheet); a printout shows its first {PRINTED_LEAD_ROWS} rows.",
        "KPIs: the audit KPIs per segment (marts.kpi_segments_monthly).",
        "Fits: r, slope, intercept, R² and the traffic light per segment (analytics).",
        "Verdicts: per segment, the light and why, the effect of touches, the decision, the thresholds, the "
        "experiment and the one-sentence summary (analytics.verdicts: what the dashboard and the note say).",
        "Trends: CR, median TTF and median contacts per lead of the last months per segment, each with its 95% "
        "interval, and the change vs the previous month with its interval (does it exclude 0?).",
        "Guardrails: every rule's status this month, then the weekly rates per segment.",
        "Lists: recurring Q3 (coaching priority) and Q1 (models to imitate) accounts and reps.",
    ] + (
        ["", f"This month no lead had a touch: slope, r, R², quadrants and TTF are {fmt.NO_TOUCHES}."]
        if data.no_touches
        else []
    )
