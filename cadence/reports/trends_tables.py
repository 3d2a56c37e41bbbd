"""The trends as tables: a short section of the audit note (per segment, each measure's months and its change
vs the previous month with the 95 % interval) and the workbook's "Trends" sheet (every figure per month and
segment). Same frame as the dashboard's trends (cadence.reports.trends)."""

from __future__ import annotations

import pandas as pd

from cadence.reports import fmt, trends, views
from cadence.reports.gather import ReportData


def _keys(data: ReportData) -> list[str]:
    return ["all"] + views.segment_keys(data)


def change_text(ch: trends.Change | None) -> str:
    """'▲ +1.2 pts [+0.3, +2.8] (CI excludes 0)' or 'no previous month'."""
    if ch is None:
        return "no previous month"
    return f"{ch.text().rsplit(' vs ', 1)[0]} {ch.interval()} ({ch.verdict()})"


def note_lines(data: ReportData, md_table) -> list[str]:
    """The note's '## Trends' section (a heading, a sentence, a table)."""
    df = data.frames.get("trends")
    if df is None or df.empty:
        return ["", "## Trends", "", "Not available this month."]
    months = sorted(df["partition_month"].unique())
    span = " → ".join(fmt.month_label(m, short=True).split()[0] for m in months)
    prev = fmt.month_label(data.previous, short=True).split()[0]
    rows = []
    for key in _keys(data):
        row = [fmt.segment_label(key)]
        for m in trends.MEASURES:
            values = {p[0]: p[1] for p in trends.series(df, key, m)}
            row += [" → ".join(m.value_text(values.get(month)) for month in months),
                    change_text(trends.change(df, key, data.month, m))]
        rows.append(row)
    headers = ["Segment"]
    for m in trends.MEASURES:
        headers += [f"{m.label}, {span}", f"Change vs {prev} [{trends.level(data.cfg)} CI]"]
    return [
        "",
        "## Trends",
        "",
        f"The last {len(months)} month(s) in the warehouse (at most {trends.TREND_MONTHS}). A change whose "
        f"{trends.level(data.cfg)} "
        "interval excludes 0 is more than the month's sampling noise (CR: Newcombe; medians: order statistics, "
        "MOVER).",
        "",
        md_table(headers, rows),
    ]


SHEET_COLUMNS = {
    "partition_month": "Month",
    "segment_key": "Segment",
    "leads": "Leads",
    "conversions": "Conversions",
    "conversion_rate": "CR",
    "cr_ci_low": "CR low",
    "cr_ci_high": "CR high",
    "cr_change": "CR change (pts)",
    "cr_change_low": "CR change low (pts)",
    "cr_change_high": "CR change high (pts)",
    "ttf_median_hours": "TTF median (h)",
    "ttf_ci_low": "TTF median low",
    "ttf_ci_high": "TTF median high",
    "ttf_change": "TTF change (h)",
    "ttf_change_low": "TTF change low (h)",
    "ttf_change_high": "TTF change high (h)",
    "touches_per_lead_median": "Touches median",
    "touches_ci_low": "Touches median low",
    "touches_ci_high": "Touches median high",
    "touches_change": "Touches change",
    "touches_change_low": "Touches change low",
    "touches_change_high": "Touches change high",
    "touches_per_lead_mean": "Touches mean",
}


def sheet_frame(data: ReportData) -> pd.DataFrame:
    """One row per month and segment (report month's segments, 'all' first), changes in display units and
    whether each change's interval excludes 0."""
    df = data.frames.get("trends")
    if df is None or df.empty:
        return pd.DataFrame({"Trends": ["not available"]})
    order = {k: i for i, k in enumerate(_keys(data))}
    df = df[df["segment_key"].isin(order)].copy()
    df["_order"] = df["segment_key"].map(order)
    df = df.sort_values(["_order", "partition_month"])
    for m in trends.MEASURES:
        for col in (f"{m.key}_change", f"{m.key}_change_low", f"{m.key}_change_high"):
            df[col] = df[col] * m.scale
    out = df[list(SHEET_COLUMNS)].rename(columns=SHEET_COLUMNS)
    for m in trends.MEASURES:
        low, high = df[f"{m.key}_change_low"], df[f"{m.key}_change_high"]
        name = {"cr": "CR", "ttf": "TTF", "touches": "Touches"}[m.key]
        flags = [None if pd.isna(lo) or pd.isna(hi) else bool(lo > 0 or hi < 0)
                 for lo, hi in zip(low, high, strict=True)]
        high_col = SHEET_COLUMNS[f"{m.key}_change_high"]
        out.insert(out.columns.get_loc(high_col) + 1, f"{name} change excludes 0", flags)
    return out.reset_index(drop=True)
