"""The month's verdicts (analytics.verdicts) as the reports say them: every light, decision, threshold line,
experiment and summary sentence about a segment is read here, from its one stored verdict
(cadence.analytics.verdict), so the dashboard, the audit note and the workbook cannot disagree."""

from __future__ import annotations

import pandas as pd

from cadence.analytics.verdict import THRESHOLDS
from cadence.reports import fmt
from cadence.reports.gather import ReportData

NAMES = {"min_touches": "Minimum touches", "ttf_target_hours": "TTF target (h)", "max_touches_per_day":
         "Daily touch cap"}
#: Most summary sentences: the overall verdict, then the segments that need something done.
SUMMARY_MAX = 5


def table(data: ReportData) -> pd.DataFrame:
    return data.of("verdicts")


def get(data: ReportData, key: str) -> dict:
    """The verdict of one segment key ({} when the month has none)."""
    v = table(data)
    row = v[v["segment_key"] == key] if len(v) else v
    if row.empty:
        return {}
    return {k: (None if not isinstance(x, str) and pd.isna(x) else x) for k, x in row.iloc[0].to_dict().items()}


def threshold_lines(v: dict) -> list[str]:
    """'Minimum touches: 4 → 6 (recommended)', '… : 4 (keep)', '… : 4 (raise to 6 held: …)' per threshold."""
    out = []
    for name in THRESHOLDS:
        status = v.get(f"{name}_status")
        if not status or status == "not_available":
            continue
        cur, rec = fmt.num(v.get(f"{name}_current"), 0), fmt.num(v.get(f"{name}_recommended"), 0)
        if status == "recommended":
            out.append(f"{NAMES[name]}: {cur} → {rec} (recommended)")
        elif status == "held":
            out.append(f"{NAMES[name]}: {cur} ({v.get(f'{name}_basis')})")
        else:
            out.append(f"{NAMES[name]}: {cur} ({str(status).replace('_', ' ')})")
    return out


def evidence(v: dict) -> str:
    """The light's reason, the effect of touches and ΔCR, as the verdict stored them."""
    parts = [str(v.get("light_reason") or "")]
    if v.get("effect_summary") and str(v["effect_summary"]) not in parts[0]:
        parts.append(str(v["effect_summary"]))
    if not fmt.missing(v.get("delta_cr_points")):
        parts.append(f"ΔCR {fmt.points(v['delta_cr_points'])}")
    return "; ".join(p for p in parts if p)


def summary(data: ReportData) -> list[str]:
    """3-5 plain sentences: the overall verdict, then red segments, segments with a change to make or test,
    green ones; each sentence is a verdict's stored headline."""
    v = table(data)
    if v.empty:
        return []
    rank = {"red": 0, "green": 2, "amber": 3, "grey": 4}
    cells = v[v["segment_key"] != "all"].copy()
    cells["_rank"] = [rank.get(light, 5) - (1.5 if change else 0) for light, change
                      in zip(cells["light"], cells["change_threshold"].notna(), strict=True)]
    cells = cells.sort_values(["_rank", "leads"], ascending=[True, False])
    overall = v[v["segment_key"] == "all"]["headline"].tolist()
    return (overall + cells["headline"].tolist())[:SUMMARY_MAX]
