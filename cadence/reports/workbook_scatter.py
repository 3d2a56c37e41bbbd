"""The workbook's lead sheet and its scatter sheet: the native Excel scatter chart of touches (X) against
conversion (Y, 0/1) with a linear trendline whose equation and R² Excel displays, the mean lines X̄ and
Ȳ as two extra series, the pipeline's fit next to the same fit recomputed by Excel formulas, and the
quadrant counts."""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.marker import Marker
from openpyxl.chart.trendline import Trendline
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cadence.reports import fmt
from cadence.reports.gather import SEGMENT_LEVEL, ReportData
from cadence.reports.xlsx_cells import as_text, plain, write_table

#: Most lead rows a workbook holds; bigger months get a sample stratified by channel x company size.
MAX_LEAD_ROWS = 50_000


def leads_sheet(wb: Workbook, points: pd.DataFrame, total: int, x_label: str) -> Worksheet:
    ws = wb.create_sheet("Leads")
    sampled = len(points) < total
    ws["A1"] = (
        f"Lead-level points: {len(points):,} of {total:,} leads"
        + (
            f" (a sample stratified by channel x company size, capped at {MAX_LEAD_ROWS:,} rows; "
            "the statistics on the other sheets use all leads)"
            if sampled
            else " (every lead)"
        )
        + f". X = {x_label}, Y = converted (1) or not (0)."
    )
    ws["A1"].font = Font(italic=True)
    frame = points.rename(columns={"touches": "touches (X)", "converted": "converted (Y)"})
    write_table(ws, 2, 1, frame)
    ws.freeze_panes = "A3"
    return ws


def scatter_sheet(wb: Workbook, data: ReportData, n_rows: int, x_col: int, y_col: int, x_max: float) -> Worksheet:
    """The chart (trendline with equation and R²), the mean lines as two extra series, fits and quadrants."""
    ws = wb.create_sheet("Scatter", 0)
    fit = _fit_row(data)
    last = n_rows + 2
    x_mean = float(fit.get("x_mean", 0) or 0)
    y_mean = float(fit.get("y_mean", 0) or 0)
    ws["A1"] = f"Contacts vs conversion · {fmt.month_label(data.month)} · {data.cfg.population} population"
    ws["A1"].font = Font(bold=True, size=13)
    rows = [
        ("Measure", "From the pipeline (all leads)", "Recomputed by Excel (sheet Leads)"),
        ("Leads", fit.get("leads"), f"=COUNT(Leads!{_col(y_col)}3:{_col(y_col)}{last})"),
        ("Mean X (X̄)", x_mean, f"=AVERAGE(Leads!{_col(x_col)}3:{_col(x_col)}{last})"),
        ("Mean Y (Ȳ = CR)", y_mean, f"=AVERAGE(Leads!{_col(y_col)}3:{_col(y_col)}{last})"),
        ("Slope m", fit.get("slope"), _xl("SLOPE", x_col, y_col, last)),
        ("Intercept b", fit.get("intercept"), _xl("INTERCEPT", x_col, y_col, last)),
        ("r", fit.get("r"), _xl("CORREL", x_col, y_col, last)),
        ("R²", fit.get("r2"), _xl("RSQ", x_col, y_col, last)),
    ]
    if data.no_touches:  # X is 0 for every lead: the line and its r are not measurable (Excel says #DIV/0!)
        rows[4:] = [(name, fmt.NO_TOUCHES, formula) for name, _, formula in rows[4:]]
    for i, row in enumerate(rows, start=3):
        for j, value in enumerate(row, start=1):
            as_text(ws.cell(i, j, None if fmt.missing(value) else plain(value))).font = Font(bold=i == 3)
    ws["E3"], ws["F3"] = "Mean lines", ""
    for i, (x, y) in enumerate([(x_mean, 0), (x_mean, 1), (0, y_mean), (x_max, y_mean)], start=4):
        ws.cell(i, 5, x), ws.cell(i, 6, y)
    chart = ScatterChart()
    chart.title, chart.style, chart.height, chart.width = "Touches per lead vs converted (0/1)", 13, 11, 20
    chart.x_axis.title, chart.y_axis.title = "touches per lead (X)", "converted (Y)"
    chart.x_axis.delete = chart.y_axis.delete = False
    points = Series(
        Reference(wb["Leads"], min_col=y_col, min_row=3, max_row=last),
        Reference(wb["Leads"], min_col=x_col, min_row=3, max_row=last),
        title="leads",
    )
    points.marker = Marker(symbol="circle", size=3)
    points.graphicalProperties.line.noFill = True
    points.trendline = Trendline(trendlineType="linear", dispEq=True, dispRSqr=True)
    chart.series.append(points)
    for rows_, title in (((4, 5), "X̄"), ((6, 7), "Ȳ")):
        s = Series(
            Reference(ws, min_col=6, min_row=rows_[0], max_row=rows_[1]),
            Reference(ws, min_col=5, min_row=rows_[0], max_row=rows_[1]),
            title=f"mean {title}",
        )
        s.marker = Marker(symbol="none")
        s.graphicalProperties.line.dashStyle = "dash"
        chart.series.append(s)
    ws.add_chart(chart, "H3")
    quad = _quadrants(data)
    write_table(ws, 13, 1, quad)
    ws["A12"] = "Quadrant counts against (X̄, Ȳ) (Q1 high/high target, Q3 low/low priority)"
    ws["A12"].font = Font(bold=True)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 34
    return ws


def _col(index: int) -> str:
    return get_column_letter(index)


def _xl(fn: str, x_col: int, y_col: int, last: int) -> str:
    y, x = f"Leads!{_col(y_col)}3:{_col(y_col)}{last}", f"Leads!{_col(x_col)}3:{_col(x_col)}{last}"
    return f"={fn}({y},{x})" if fn != "CORREL" else f"=CORREL({x},{y})"


def _fit_row(data: ReportData) -> dict:
    f = data.of("fits")
    f = f[(f["segment_key"] == "all") & (f["x_measure"] == data.cfg.x_measure) & (f["trim"] == "none")] if len(f) else f
    return f.iloc[0].to_dict() if len(f) else {}


def _quadrants(data: ReportData) -> pd.DataFrame:
    if data.no_touches:
        return pd.DataFrame({"Segment": [f"quadrants {fmt.NO_TOUCHES}"]})
    q = data.of("quadrants")
    q = q[q["segment_level"].isin(["all", SEGMENT_LEVEL])] if len(q) else q
    cols = ["segment_key", "leads", "x_mean", "cr"] + [f"{k}_q{i}" for i in range(1, 5) for k in ("leads", "share")]
    return (
        q[[c for c in cols if c in q.columns]].rename(columns={"segment_key": "Segment"})
        if len(q)
        else pd.DataFrame({"Segment": ["not available"]})
    )
