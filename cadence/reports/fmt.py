"""Number and label formatting shared by the dashboard, the note and the workbook (None/NaN -> '–')."""

from __future__ import annotations

import calendar
from typing import Any

import pandas as pd

from cadence.analytics.decision import NO_TOUCHES as NO_TOUCHES  # what a touch figure says without touches
from cadence.segments import Segments

DASH = "–"


def missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # lists, arrays: not a missing scalar
        return False


def num(v: Any, digits: int = 0) -> str:
    return DASH if missing(v) else f"{float(v):,.{digits}f}"


def pct(v: Any, digits: int = 1) -> str:
    """0.1386 -> '13.9%'."""
    return DASH if missing(v) else f"{100 * float(v):.{digits}f}%"


def points(v: Any, digits: int = 1, unit: str = " pts") -> str:
    """A difference already in percentage points, signed: 0.3 -> '+0.3 pts'."""
    return DASH if missing(v) else f"{float(v):+.{digits}f}{unit}"


def signed(v: Any, digits: int = 2) -> str:
    return DASH if missing(v) else f"{float(v):+.{digits}f}"


def hours(v: Any) -> str:
    """Hours, readable: 0.4 -> '24 min', 22.65 -> '22.7 h', 80 -> '3.3 d'."""
    if missing(v):
        return DASH
    h = float(v)
    if h < 1:
        return f"{h * 60:.0f} min"
    value, unit = (h, "h") if h < 48 else (h / 24, "d")
    return f"{value:.0f} {unit}" if abs(value - round(value)) < 0.05 else f"{value:.1f} {unit}"


def month_label(month: str, short: bool = False) -> str:
    """'2026-10' -> 'October 2026' (short: 'Oct 2026')."""
    year, mon = int(month[:4]), int(month[5:7])
    names = calendar.month_abbr if short else calendar.month_name
    return f"{names[mon]} {year}"


def segment_label(key: str) -> str:
    """'channel=inbound | company_size=SMB' -> 'Inbound · SMB'; 'all' -> 'All in-scope leads'."""
    return Segments.label(key)


def short_version(version: Any) -> str:
    return DASH if missing(version) else str(version)[:10]
