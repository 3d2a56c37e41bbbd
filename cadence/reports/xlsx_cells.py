"""Writing tables into openpyxl sheets and making every sheet readable and printable.

``write_table``: a dark header row with readable labels (``lead_id`` -> "Lead", ``r2`` -> "R²"), plain values
(numpy scalars unwrapped, missing values as empty cells), a number format per column (rates as percentages,
counts with thousands separators, fits to three decimals: no float artefacts such as 0.133645345813833),
column widths from the formatted content, long texts wrapped.
``finish_workbook``: for every sheet (whatever its builder), a print set-up: A4 landscape, fitted to one
page wide, the header row repeated on each page, a print area that covers the cells and the charts (a sheet
may set a smaller one, kept), the sheet name and page number in the footer."""

from __future__ import annotations

import math
import re

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.worksheet import Worksheet

from cadence.reports import fmt


def font(**style) -> Font:
    """A font of the workbook's family (a Font without a name is drawn in a serif by LibreOffice)."""
    return Font(name="Calibri", **style)


HEAD = font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F2937")
HEAD_ALIGN = Alignment(wrap_text=True, vertical="center")
HEAD_ALIGN_NUMBER = Alignment(wrap_text=True, vertical="center", horizontal="right")  # over its numbers
WRAP, TOP = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
MAX_WIDTH = 45  # characters; longer texts wrap
LINE_PT = 14.5  # the height of one line of 11 pt text
HEAD_WIDTH = 16  # a header longer than its values wraps at about this width

#: column -> header, for the names the warehouse uses; any other snake_case name reads "Like this"
HEADERS = {
    "segment_level": "Level", "segment_key": "Segment", "segment": "Segment", "leads": "Leads",
    "x_mean": "Mean touches (X̄)", "y_mean": "CR (Ȳ)", "cr": "CR", "slope": "Slope", "intercept": "Intercept",
    "r": "r", "r_ci_low": "r low", "r_ci_high": "r high", "r_p_value": "p-value of r", "r2": "R²",
    "light": "Light", "reason": "Why", "delta_cr_points": "ΔCR (points)",
    "rule_id": "Rule", "iso_week": "ISO week", "p_value": "p-value", "is_breach": "Breach",
    "unit_type": "Unit", "list_name": "List", "unit_id": "ID", "mean_dx": "Mean ΔX (touches)",
    "mean_dy": "Mean ΔY (CR)", "lead_id": "Lead", "rep_id": "Rep", "account_id": "Account",
    "ttf_hours": "TTF (h)", "partition_month": "Month",
    **{f"leads_q{i}": f"Q{i} leads" for i in range(1, 5)}, **{f"share_q{i}": f"Q{i} share" for i in range(1, 5)},
}

PERCENT, PERCENT_FINE = "0.0%", "0.00%"
COUNT, DECIMAL, FIT, HOURS = "#,##0", "#,##0.00", "0.000", "#,##0.0"
P_VALUE = '[<0.001]"<0.001";0.000'
#: header (after labelling) -> number format; other numeric columns: COUNT when whole, else DECIMAL
FORMATS = {
    **dict.fromkeys(("CR", "CR low", "CR high", "CR (Ȳ)", "Within TTF target", "Reply rate", "Win rate",
                     "Mean ΔY (CR)", *(f"Q{i} share" for i in range(1, 5))), PERCENT),
    **dict.fromkeys(("Complaint rate", "Unsubscribe rate", "Bounce rate", "Share", "Threshold"), PERCENT_FINE),
    **dict.fromkeys(("Slope", "Intercept", "r", "r low", "r high", "R²"), FIT),
    **dict.fromkeys(("p-value", "p-value of r"), P_VALUE),
    **dict.fromkeys(("TTF (h)", "TTF median (h)", "ΔCR (points)", "Mean touches (X̄)", "Mean ΔX (touches)"), HOURS),
}


def header_label(name) -> str:
    """The header a reader sees: the known names from HEADERS, other snake_case names in words."""
    text = str(name)
    if text in HEADERS:
        return HEADERS[text]
    if re.fullmatch(r"[a-z0-9_ ]+", text) and text[:1].isalpha():
        return (text[0].upper() + text[1:]).replace("_", " ")
    return text


def number_format(label: str, values: pd.Series) -> str | None:
    """The number format of a column (None for text)."""
    if label in FORMATS:
        return FORMATS[label]
    if re.search(r"\b(rate|share)\b", label.lower()) and pd.api.types.is_float_dtype(values):
        return PERCENT
    numbers = pd.to_numeric(values.dropna(), errors="coerce") if values.dtype == object else values.dropna()
    if values.dtype == bool or len(numbers) == 0 or numbers.isna().any() or numbers.dtype == bool:
        return None
    if not pd.api.types.is_numeric_dtype(numbers):
        return None
    return COUNT if (numbers == numbers.round()).all() else DECIMAL


def display(value, form: str | None) -> str:
    """About what the cell shows under ``form`` (for column widths)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or form is None or math.isnan(value):
        return str(value)
    if "%" in form:
        return f"{value:.{form.count('0') - 1}%}"
    if form == P_VALUE:
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    decimals = len(form.split(".")[1]) if "." in form else 0
    return f"{value:,.{decimals}f}"


def write_table(ws: Worksheet, top: int, left: int, df: pd.DataFrame) -> int:
    """Writes headers and rows at (top, left); returns the next free row."""
    labels = [header_label(c) for c in df.columns]
    forms = [number_format(label, df.iloc[:, j]) for j, label in enumerate(labels)]
    for j, label in enumerate(labels):
        cell = ws.cell(top, left + j, label)
        cell.font, cell.fill, cell.alignment = HEAD, HEAD_FILL, HEAD_ALIGN_NUMBER if forms[j] else HEAD_ALIGN
    sample = df.iloc[:500]
    widths = []
    for j, label in enumerate(labels):
        shown = [len(display(plain(v), forms[j])) for v in sample.iloc[:, j] if not fmt.missing(v)]
        widths.append(max([min(len(label), HEAD_WIDTH), *shown]) + 2)
    wraps = [widths[j] > MAX_WIDTH and not forms[j] for j in range(len(labels))]
    for i, row in enumerate(df.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            cell = as_text(ws.cell(top + i, left + j, None if fmt.missing(value) else plain(value)))
            if forms[j]:
                cell.number_format = forms[j]
            if any(wraps):  # rows of several lines: every cell at the top
                cell.alignment = WRAP if wraps[j] else TOP
    for j, width in enumerate(widths):
        letter = get_column_letter(left + j)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, min(width, MAX_WIDTH))
    wrapped = [left + j for j, w in enumerate(wraps) if w]
    fit_row_heights(ws, [top], range(left, left + len(labels)))
    if wrapped:
        fit_row_heights(ws, range(top + 1, top + len(df) + 1), wrapped)
    return top + len(df) + 2


def fit_row_heights(ws: Worksheet, rows, columns) -> None:
    """Rows tall enough for their wrapped texts: Excel and LibreOffice keep the stored height (one line)."""
    for row in rows:
        lines = 1
        for col in columns:
            cell = ws.cell(row, col)
            if isinstance(cell.value, str) and cell.alignment.wrap_text:
                width = (ws.column_dimensions[get_column_letter(col)].width or 8.43) - 1
                per_line = max(1.0, width * 1.05)  # a width counts digits; a text averages narrower letters
                lines = max(lines, sum(math.ceil(max(len(part), 1) / per_line) for part in cell.value.split("\n")))
        if lines > 1:
            ws.row_dimensions[row].height = max(ws.row_dimensions[row].height or 0, LINE_PT * lines + 2)


def as_text(cell):
    """A text that starts like a formula (`=`, `+`, `-`, `@`: a rep id `=HYPERLINK(...)` from an export) stays
    text: Excel and LibreOffice would otherwise run it (formula injection)."""
    if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"
    return cell


def plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


# ---------------------------------------------------------------- printing

CM_PER_CHAR = 0.19  # a column of width w (characters of the default font) is about 0.19 w + 0.13 cm wide
ROW_CM = 0.53  # the default row height, 15 pt


def finish_workbook(wb: Workbook) -> None:
    """The print set-up of every sheet (call once all sheets are written)."""
    for ws in wb.worksheets:
        print_setup(ws)


def print_setup(ws: Worksheet) -> None:
    """A4 landscape, one page wide (as many tall as needed), the table's header row repeated on every page,
    a print area over the used cells and the charts (unless the sheet set its own), gridlines on the tables,
    the sheet name and page number in the footer."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom, ws.page_margins.footer = 0.5, 0.7, 0.3
    ws.oddFooter.center.text = "&A · page &P of &N"
    heads = _header_rows(ws)
    if heads and heads[0] <= 3:  # a sheet of tables
        ws.print_options.gridLines = True
        if len(heads) == 1:  # one table: its header on every page, and kept in view
            ws.print_title_rows = f"{heads[0]}:{heads[0]}"
            if ws.freeze_panes is None and ws.max_row > 30:
                ws.freeze_panes = f"A{heads[0] + 1}"
    if not ws.print_area:
        rows, cols = _used(ws)
        ws.print_area = f"A1:{get_column_letter(cols)}{rows}"


def _header_rows(ws: Worksheet) -> list[int]:
    """The rows of the table headers write_table wrote from column A."""
    return [cell.row for (cell,) in ws.iter_rows(min_col=1, max_col=1)
            if cell.value is not None and cell.fill is not None and cell.fill.fgColor.rgb == HEAD_FILL.fgColor.rgb]


def _used(ws: Worksheet) -> tuple[int, int]:
    """Last row and column holding a value or covered by a chart."""
    rows, cols = ws.max_row, ws.max_column
    for chart in ws._charts:
        if isinstance(chart.anchor, str):  # "H3" until the workbook is saved
            letters, row = coordinate_from_string(chart.anchor)
            col, row = column_index_from_string(letters) - 1, row - 1
        else:
            col, row = chart.anchor._from.col, chart.anchor._from.row
        width = 0.0
        while width < chart.width:
            col += 1
            width += CM_PER_CHAR * (ws.column_dimensions[get_column_letter(col)].width or 8.43) + 0.13
        cols = max(cols, col)
        rows = max(rows, row + math.ceil(chart.height / ROW_CM) + 1)
    return rows, cols
