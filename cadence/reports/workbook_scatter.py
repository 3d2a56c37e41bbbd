"""The workbook's lead sheet and its scatter sheet: the native Excel scatter chart of touches (X) against
conversion (Y, 0/1) with a linear trendline whose equation and R² Excel displays, the mean lines X̄ and
Ȳ as two extra series, the pipeline's fit next to the same fit recomputed by Excel formulas, and the
quadrant counts."""

from __future__ import annotations

import math

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.data_source import NumFmt
from openpyxl.chart.marker import Marker
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.chart.trendline import Trendline, TrendlineLabel
from openpyxl.drawing.line import LineProperties
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cadence.reports import fmt
from cadence.reports.gather import SEGMENT_LEVEL, ReportData
from cadence.reports.theme import BLUE, SLATE, TREND
from cadence.reports.xlsx_cells import (
    COUNT,
    DECIMAL,
    FIT,
    PERCENT,
    ROW_CM,
    as_text,
    fit_row_heights,
    font,
    plain,
    write_table,
)

#: Most lead rows a workbook holds; bigger months get a sample stratified by channel x company size.
MAX_LEAD_ROWS = 50_000
#: Lead rows a printout of the Leads sheet shows (its print area): one page, not hundreds
PRINTED_LEAD_ROWS = 30
POINT_COLOUR, TREND_COLOUR, MEAN_COLOUR = (c.lstrip("#").upper() for c in (BLUE, TREND, SLATE))


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
        + (f" A printout shows the first {PRINTED_LEAD_ROWS} (the print area); the sheet holds them all."
           if len(points) > PRINTED_LEAD_ROWS else "")
    )
    ws["A1"].font = font(italic=True)
    frame = points.rename(columns={"touches": "touches (X)", "converted": "converted (Y)"})
    write_table(ws, 2, 1, frame)
    ws.freeze_panes = "A3"
    cols = max(len(frame.columns), 1)  # the note spans the table, wrapped, so a printout shows all of it
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=cols)
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    width = sum(ws.column_dimensions[_col(j)].width or 8.43 for j in range(1, cols + 1))
    ws.row_dimensions[1].height = 14.5 * math.ceil(len(ws["A1"].value) / width) + 2
    ws.print_area = f"A1:{_col(max(len(frame.columns), 1))}{2 + min(len(frame), PRINTED_LEAD_ROWS)}"
    return ws


def scatter_sheet(wb: Workbook, data: ReportData, n_rows: int, x_col: int, y_col: int, x_max: float) -> Worksheet:
    """The fits (the pipeline's, and Excel's own on the Leads sheet) with the chart beside them (trendline
    with equation and R², the mean lines as two extra series), the quadrant counts below, then the chart's
    mean-line data."""
    ws = wb.create_sheet("Scatter", 0)
    fit = _fit_row(data)
    last = n_rows + 2
    x_mean = float(fit.get("x_mean", 0) or 0)
    y_mean = float(fit.get("y_mean", 0) or 0)
    ws["A1"] = f"Contacts vs conversion · {fmt.month_label(data.month)} · {data.cfg.population} population"
    ws["A1"].font = font(bold=True, size=13)
    rows = [
        ("Measure", "From the pipeline (all leads)", "Recomputed by Excel (sheet Leads)", None),
        ("Leads", fit.get("leads"), f"=COUNT(Leads!{_col(y_col)}3:{_col(y_col)}{last})", COUNT),
        ("Mean X (X̄)", x_mean, f"=AVERAGE(Leads!{_col(x_col)}3:{_col(x_col)}{last})", DECIMAL),
        ("Mean Y (Ȳ = CR)", y_mean, f"=AVERAGE(Leads!{_col(y_col)}3:{_col(y_col)}{last})", PERCENT),
        ("Slope m", fit.get("slope"), _xl("SLOPE", x_col, y_col, last), "0.0000"),
        ("Intercept b", fit.get("intercept"), _xl("INTERCEPT", x_col, y_col, last), FIT),
        ("r", fit.get("r"), _xl("CORREL", x_col, y_col, last), FIT),
        ("R²", fit.get("r2"), _xl("RSQ", x_col, y_col, last), FIT),
    ]
    if data.no_touches:  # X is 0 for every lead: the line and its r are not measurable (Excel says #DIV/0!)
        rows[4:] = [(name, fmt.NO_TOUCHES, formula, form) for name, _, formula, form in rows[4:]]
    for i, (name, value, formula, form) in enumerate(rows, start=3):
        ws.cell(i, 1, name).font = font(bold=True)
        cell = as_text(ws.cell(i, 2, None if fmt.missing(value) else plain(value)))
        excel = ws.cell(i, 3, formula)  # our own formula over the Leads sheet: a live formula, not text
        for c in (cell, excel):
            c.font, c.number_format = font(bold=i == 3), form or "General"
            c.alignment = Alignment(wrap_text=True, vertical="bottom", horizontal="right")
    for letter, width in (("A", 26), ("B", 16), ("C", 16), ("D", 3)):
        ws.column_dimensions[letter].width = width
    fit_row_heights(ws, [3], [2, 3])
    chart = _chart(wb, ws, data, last, x_col, y_col, x_max)
    ws.add_chart(chart, "E3")
    top = 3 + math.ceil(chart.height / ROW_CM) + 2  # below the chart
    ws.cell(top, 1, "Quadrant counts against (X̄, Ȳ) (Q1 high/high target, Q3 low/low priority)").font = font(
        bold=True)
    nxt = write_table(ws, top + 1, 1, _quadrants(data))
    ws.cell(nxt, 1, "Chart data: the mean lines X̄ and Ȳ (two points each)").font = font(bold=True)
    write_table(ws, nxt + 1, 1, pd.DataFrame({"line": ["X̄", "X̄", "Ȳ", "Ȳ"], "X": [x_mean, x_mean, 0, x_max],
                                               "Y": [0, 1, y_mean, y_mean]}))
    for k, start in enumerate((nxt + 2, nxt + 4), start=1):  # the series X̄ and Ȳ
        line = chart.series[k]
        line.xVal.numRef.f = f"'Scatter'!$B${start}:$B${start + 1}"
        line.yVal.numRef.f = f"'Scatter'!$C${start}:$C${start + 1}"
    return ws


def _chart(wb: Workbook, ws: Worksheet, data: ReportData, last: int, x_col: int, y_col: int,
           x_max: float) -> ScatterChart:
    """Markers only for the leads, with an explicit fill: LibreOffice draws no marker that has none."""
    chart = ScatterChart(scatterStyle="lineMarker")
    chart.title, chart.style, chart.height, chart.width = "Touches per lead vs converted (0/1)", 13, 10, 17
    chart.x_axis.title, chart.y_axis.title = "touches per lead (X)", "converted (Y)"
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.x_axis.axPos = "b"
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0, max(1, math.ceil(x_max))
    chart.y_axis.scaling.min, chart.y_axis.scaling.max, chart.y_axis.majorUnit = 0, 1.1, 0.2
    chart.x_axis.number_format = chart.y_axis.number_format = "General"
    chart.legend.position = "b"
    points = Series(
        Reference(wb["Leads"], min_col=y_col, min_row=3, max_row=last),
        Reference(wb["Leads"], min_col=x_col, min_row=3, max_row=last),
        title="leads",
    )
    points.marker = Marker(symbol="circle", size=5)
    points.marker.graphicalProperties = GraphicalProperties(solidFill=POINT_COLOUR)
    points.marker.graphicalProperties.line.solidFill = POINT_COLOUR
    points.graphicalProperties.line.noFill = True
    points.trendline = Trendline(trendlineType="linear", dispEq=True, dispRSqr=True,
                                 spPr=GraphicalProperties(ln=LineProperties(solidFill=TREND_COLOUR, w=22000)),
                                 trendlineLbl=TrendlineLabel(numFmt=NumFmt(formatCode="0.0000", sourceLinked=False)))
    chart.series.append(points)
    for title in ("X̄", "Ȳ"):  # their data, written below the quadrants, is set by the caller
        s = Series(Reference(ws, min_col=3, min_row=1, max_row=2), Reference(ws, min_col=2, min_row=1, max_row=2),
                   title=f"mean {title}")
        s.marker = Marker(symbol="none")
        s.graphicalProperties.line.solidFill = MEAN_COLOUR
        s.graphicalProperties.line.dashStyle = "dash"
        s.graphicalProperties.line.width = 19050
        chart.series.append(s)
    return chart


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
    if len(q):
        q = q.assign(segment_key=[fmt.segment_label(k) for k in q["segment_key"]])
    cols = ["segment_key", "leads", "x_mean", "cr"] + [f"{k}_q{i}" for i in range(1, 5) for k in ("leads", "share")]
    return (
        q[[c for c in cols if c in q.columns]].rename(columns={"segment_key": "Segment"})
        if len(q)
        else pd.DataFrame({"Segment": ["not available"]})
    )
