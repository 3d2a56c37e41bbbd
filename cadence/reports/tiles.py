"""Level 1: the eight summary KPIs of the method, each with its month-over-month change.

A change is coloured only where a direction is good by definition (faster first contact, higher CR, more
leads in Q1, fewer complaints); the regression's r, slope and R² and the touch count are shown neutral:
steering on them alone would invite Goodhart's law. In a month without touches the tiles that rest on
them (TTF, r, slope, R², Q1) say "not measurable: no touches" instead of a number.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cadence.reports import fmt, trends
from cadence.reports.gather import ReportData


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    unit: str
    sub: str
    delta: str  # "▲ +0.3 pts vs Sep 2026", or "no previous month"
    tone: str  # good | bad | flat
    current: float | None
    previous: float | None
    ci: str = ""  # "CI excludes 0" / "CI includes 0": the change's 95 % interval (cadence.reports.trends)
    ci_interval: str = ""  # the interval itself: "[+0.3, +2.8] pts"


#: Tiles computed from touches: the median TTF (time to the first one), the fit, the quadrants.
TOUCH_TILES = {"ttf", "r", "slope", "r2", "q1"}


def _row(df: pd.DataFrame, month: str, **match) -> dict:
    if df.empty:
        return {}
    rows = df[df["partition_month"] == month]
    for col, val in match.items():
        rows = rows[rows[col] == val]
    return rows.iloc[0].to_dict() if len(rows) else {}


def _delta(cur, prev, scale: float, digits: int, unit: str, better: int, prev_label: str) -> tuple[str, str]:
    """better: +1 higher is good, -1 lower is good, 0 neutral."""
    if fmt.missing(cur) or fmt.missing(prev):
        return "no previous month", "flat"
    diff = (float(cur) - float(prev)) * scale
    if round(diff, digits) == 0:
        return f"= same as {prev_label}", "flat"
    arrow = "▲" if diff > 0 else "▼"
    tone = "flat" if better == 0 else ("good" if diff * better > 0 else "bad")
    return f"{arrow} {diff:+.{digits}f}{unit} vs {prev_label}", tone


def compute_tiles(data: ReportData) -> list[Tile]:
    m, p, label = data.month, data.previous, fmt.month_label(data.previous, short=True).split()[0]
    k, kp = _row(data.kpis, m, segment_level="all"), _row(data.kpis, p, segment_level="all")
    fit_match = {"segment_level": "all", "x_measure": data.cfg.x_measure, "trim": "none"}
    f, fp = _row(data.fits, m, **fit_match), _row(data.fits, p, **fit_match)
    q, qp = _row(data.quadrants, m, segment_level="all"), _row(data.quadrants, p, segment_level="all")
    cfg = data.cfg

    def tile(key, label_, cur, prev, value, unit, sub, scale, digits, d_unit, better):
        if data.no_touches and key in TOUCH_TILES:
            return Tile(key, label_, fmt.DASH, "", "", fmt.NO_TOUCHES, "flat", None, None)
        delta, tone = _delta(cur, prev, scale, digits, d_unit, better, label)
        return Tile(
            key,
            label_,
            value,
            unit,
            sub if not fmt.missing(cur) else "not available",
            delta,
            tone,
            None if fmt.missing(cur) else float(cur),
            None if fmt.missing(prev) else float(prev),
        )

    ttf = k.get("ttf_median_hours")
    return trends.with_change_intervals(data, [
        tile(
            "ttf",
            "Median TTF",
            ttf,
            kp.get("ttf_median_hours"),
            fmt.hours(ttf),
            "",
            f"{fmt.pct(k.get('share_within_ttf_target'), 0)} within target",
            1,
            1,
            " h",
            -1,
        ),
        tile(
            "touches",
            "Contacts / lead",
            k.get("touches_per_lead_median"),
            kp.get("touches_per_lead_median"),
            fmt.num(k.get("touches_per_lead_median"), 1),
            "",
            f"median · IQR {fmt.num(k.get('touches_per_lead_p25'), 0)}–{fmt.num(k.get('touches_per_lead_p75'), 0)}",
            1,
            1,
            "",
            0,
        ),
        tile(
            "cr",
            "Conversion rate",
            k.get("conversion_rate"),
            kp.get("conversion_rate"),
            fmt.pct(k.get("conversion_rate")),
            "",
            f"CI {fmt.pct(k.get('conversion_rate_ci_low'))}–{fmt.pct(k.get('conversion_rate_ci_high'))}",
            100,
            1,
            " pts",
            1,
        ),
        tile(
            "r",
            "Correlation r",
            f.get("r"),
            fp.get("r"),
            fmt.num(f.get("r"), 2),
            "",
            f"CI {fmt.num(f.get('r_ci_low'), 2)} to {fmt.num(f.get('r_ci_high'), 2)}",
            1,
            2,
            "",
            0,
        ),
        tile(
            "slope",
            "Slope m",
            f.get("slope"),
            fp.get("slope"),
            fmt.signed(100 * f.get("slope", float("nan")), 2),
            "pts",
            f"per touch · b = {fmt.pct(f.get('intercept'))}",
            100,
            2,
            " pts",
            0,
        ),
        tile("r2", "R²", f.get("r2"), fp.get("r2"), fmt.num(f.get("r2"), 3), "", "variance explained", 1, 3, "", 0),
        tile(
            "q1",
            "Leads in Q1",
            q.get("share_q1"),
            qp.get("share_q1"),
            fmt.pct(q.get("share_q1")),
            "",
            f"Q3 (priority) {fmt.pct(q.get('share_q3'), 0)}",
            100,
            1,
            " pts",
            1,
        ),
        tile(
            "complaints",
            "Complaint rate",
            k.get("complaint_rate"),
            kp.get("complaint_rate"),
            fmt.pct(k.get("complaint_rate"), 2),
            "",
            f"guardrail {fmt.pct(cfg.complaint_rate_max, 2)}",
            100,
            2,
            " pts",
            -1,
        ),
    ])
