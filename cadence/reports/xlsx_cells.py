"""Writing tables into openpyxl sheets: a dark header row, plain values (numpy scalars unwrapped,
missing values as empty cells), percentages formatted, column widths from the content."""

from __future__ import annotations

import pandas as pd
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from cadence.reports import fmt

HEAD = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F2937")
PERCENT = {
    "CR",
    "CR low",
    "CR high",
    "Within TTF target",
    "Reply rate",
    "Complaint rate",
    "Unsubscribe rate",
    "Bounce rate",
    "Win rate",
    "share_q1",
    "share_q2",
    "share_q3",
    "share_q4",
    "Share",
}


def write_table(ws: Worksheet, top: int, left: int, df: pd.DataFrame) -> int:
    """Writes headers and rows at (top, left); returns the next free row."""
    for j, col in enumerate(df.columns):
        cell = ws.cell(top, left + j, str(col))
        cell.font, cell.fill = HEAD, HEAD_FILL
    for i, row in enumerate(df.itertuples(index=False), start=1):
        for j, value in enumerate(row):
            cell = as_text(ws.cell(top + i, left + j, None if fmt.missing(value) else plain(value)))
            if df.columns[j] in PERCENT:
                cell.number_format = "0.00%"
    for j, col in enumerate(df.columns):
        width = max([len(str(col))] + [len(str(v)) for v in df.iloc[:200, j]]) if len(df) else len(str(col))
        letter = get_column_letter(left + j)
        ws.column_dimensions[letter].width = max(ws.column_dimensions[letter].width or 0, min(width + 2, 60))
    return top + len(df) + 2


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
