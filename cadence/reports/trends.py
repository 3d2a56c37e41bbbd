"""Trends: the last months of each cell segment (and 'all'), read from the marts in one SQL query, and their
month-over-month changes with an interval.

Per month and segment (the report month and the months before it that the warehouse holds, at most
``TREND_MONTHS``), three measures, each with an interval at the note's confidence (95 % by default):

- **CR** = conversions / leads (``marts.kpi_segments_monthly``), Wilson score interval.
- **Median TTF** (hours to the first contact) and **median contacts per lead** (touches in the window), the
  mart's medians, with the distribution-free interval of a median: the order statistics of ranks
  ``floor((n - z√n) / 2)`` and ``ceil(1 + (n + z√n) / 2)`` of the month's in-scope leads
  (``marts.fct_lead_cadence``; the quantile test's interval, Conover, *Practical Nonparametric Statistics*).
  Too few leads for those ranks (fewer than 8 at 95 %): no interval.

The change against the **previous calendar month** (none when that month is not in the warehouse) has the
MOVER interval (Zou & Donner, 2008) built from the two months' intervals::

    d = a1 - a2,   low = d - sqrt((a1 - l1)² + (u2 - a2)²),   high = d + sqrt((u1 - a1)² + (a2 - l2)²)

For CR this is Newcombe's hybrid score interval, the same as the traffic light's ΔCR
(cadence.analytics.intervals.diff_of_proportions). A change whose interval excludes 0 is more than the
month's sampling noise. Python receives a few rows per month and segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import duckdb
import pandas as pd

from cadence.reports import fmt
from cadence.reports.trends_sql import TRENDS_SQL
from cadence.segments import CELL_LEVEL

TREND_MONTHS = 6


def level(cfg) -> str:
    """The intervals' confidence as the reports write it: '95%'."""
    return f"{100 * cfg.confidence:g}%"


def read_trends(con: duckdb.DuckDBPyConnection, month: str, z: float, months: int = TREND_MONTHS) -> pd.DataFrame:
    """One row per month (the last `months` up to `month`) and segment ('all' and every cell)."""
    return con.execute(TRENDS_SQL, {"month": month, "months": months, "cell_level": CELL_LEVEL, "z": z}).df()


@dataclass(frozen=True)
class Measure:
    key: str  # the column prefix of its change: cr | ttf | touches
    label: str
    column: str
    scale: float  # value -> display unit of the change (CR: points)
    digits: int
    unit: str  # of the change
    better: int  # +1 higher is good, -1 lower is good, 0 neutral (contacts: steering on them invites Goodhart)

    def value_text(self, v) -> str:
        return {"cr": fmt.pct, "ttf": fmt.hours}.get(self.key, lambda x: fmt.num(x, 1))(v)


MEASURES = (
    Measure("cr", "Conversion rate", "conversion_rate", 100, 1, " pts", 1),
    Measure("ttf", "Median TTF", "ttf_median_hours", 1, 1, " h", -1),
    Measure("touches", "Contacts / lead (median)", "touches_per_lead_median", 1, 1, "", 0),
)
BY_KEY = {m.key: m for m in MEASURES}


@dataclass(frozen=True)
class Change:
    """A measure's change against the previous month, in display units, with its interval."""

    measure: Measure
    previous_month: str
    change: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool | None:
        """True: the interval lies on one side of 0; None: no interval."""
        if fmt.missing(self.low) or fmt.missing(self.high):
            return None
        return self.low > 0 or self.high < 0

    @property
    def arrow(self) -> str:
        return "=" if round(self.change, self.measure.digits) == 0 else ("▲" if self.change > 0 else "▼")

    @property
    def tone(self) -> str:
        """good / bad only for a change beyond noise in a direction that is good by definition, else flat."""
        if not self.excludes_zero or self.measure.better == 0:
            return "flat"
        return "good" if self.change * self.measure.better > 0 else "bad"

    def text(self) -> str:
        """'▲ +1.2 pts vs Aug'."""
        label = fmt.month_label(self.previous_month, short=True).split()[0]
        if self.arrow == "=":
            return f"= same as {label}"
        return f"{self.arrow} {self.change:+.{self.measure.digits}f}{self.measure.unit} vs {label}"

    def interval(self) -> str:
        """'[+0.3, +2.8]' or '–'."""
        if self.excludes_zero is None:
            return fmt.DASH
        d = self.measure.digits
        return f"[{self.low:+.{d}f}, {self.high:+.{d}f}]"

    def verdict(self) -> str:
        return {True: "CI excludes 0", False: "CI includes 0", None: "no interval"}[self.excludes_zero]


def change(trends: pd.DataFrame, key: str, month: str, measure: Measure) -> Change | None:
    """The measure's change of `month` against the month before, or None (no previous month, no value)."""
    if trends is None or trends.empty:
        return None
    rows = trends[(trends["segment_key"] == key) & (trends["partition_month"] == month)]
    if rows.empty or not bool(rows.iloc[0]["has_previous"]):
        return None
    r = rows.iloc[0]
    if fmt.missing(r[f"{measure.key}_change"]):
        return None
    s = measure.scale
    low, high = r[f"{measure.key}_change_low"], r[f"{measure.key}_change_high"]
    return Change(measure, r["previous_month"], s * float(r[f"{measure.key}_change"]),
                  math.nan if fmt.missing(low) else s * float(low), math.nan if fmt.missing(high) else s * float(high))


def series(trends: pd.DataFrame, key: str, measure: Measure) -> list[tuple[str, float, float, float]]:
    """(month, value, low, high) of one segment, oldest first; months without the segment left out."""
    if trends is None or trends.empty:
        return []
    rows = trends[trends["segment_key"] == key].sort_values("partition_month")
    low, high = f"{measure.key}_ci_low", f"{measure.key}_ci_high"
    return [(r["partition_month"], r[measure.column], r[low], r[high]) for r in rows.to_dict("records")]


def gather_trends(con: duckdb.DuckDBPyConnection, month: str, z: float) -> tuple[pd.DataFrame, str | None]:
    """The report's trends frame, or an empty one and why (the marts are missing or changed)."""
    try:
        return read_trends(con, month, z), None
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        return pd.DataFrame(columns=["partition_month", "segment_key"]), str(exc).splitlines()[0]


def with_change_intervals(data, tiles: list) -> list:
    """The KPI tiles of CR, median TTF and median contacts with their change's interval (all leads), toned
    like the trends (good / bad only when the interval excludes 0)."""
    out = []
    for t in tiles:
        ch = change(data.frames.get("trends"), "all", data.month, BY_KEY[t.key]) if t.key in BY_KEY else None
        if ch is not None and ch.excludes_zero is not None:
            # coloured only beyond noise, as in the trends: a red arrow on sampling noise would send people hunting
            t = replace(t, tone=ch.tone, ci=ch.verdict(), ci_interval=f"{ch.interval()}{ch.measure.unit}")
        out.append(t)
    return out
